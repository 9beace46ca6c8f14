"""``--category`` and ``--by category`` for rank, trend, impact and report (issue 21 part 3), on a real DuckDB
file: the small QA store (tests/qa_fixtures.py) with the built-in category pack run over it, where

* identity_verification: c1 (3 Aug) and zh (7 Sep),
* agent_empathy: c3 (10 Aug) and zh,
* promise_without_time: c2 (3 Aug) and en (7 Sep),
* escalation_request: c5 (10 Aug),
* none: c4 and c6 (10 Aug).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from nlp.analytics.filters import Filters, field_sql
from tests.qa_fixtures import BUILTIN_CONTACTS, CONTACTS, write_store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_store(tmp_path_factory.mktemp("filters") / "store.duckdb", CONTACTS + BUILTIN_CONTACTS,
                       categories=True)


def _cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "nlp.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env={"PYTHONPATH": str(ROOT), "COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_filter_is_a_condition_on_the_stored_categories() -> None:
    where, params = Filters(category="churn_threat").where("Asia/Shanghai")
    assert "SELECT transcript_id FROM categories WHERE category_id = $f0" in where and params == {"f0": "churn_threat"}
    assert field_sql("category").startswith("unnest(")


def test_rank_and_trend_filter_and_break_down_by_category(store: Path, tmp_path: Path) -> None:
    _cli("rank", "--db", str(store), "--category", "identity_verification", "--output", str(tmp_path / "r.json"))
    rows = _json(tmp_path / "r.json")["rankings"]
    assert sum(r["contacts"] for r in rows) == 2  # c1 and zh

    _cli("trend", "--db", str(store), "--by", "category", "--output", str(tmp_path / "t.json"))
    contacts: dict[tuple[str, str], int] = {}
    for row in _json(tmp_path / "t.json")["trend"]:
        key = (row["group"], row["period"][:10])
        contacts[key] = contacts.get(key, 0) + row["contacts"]
    # a contact counts once in each category it matched (zh in two), and contacts that matched none in (none)
    assert contacts == {
        ("identity_verification", "2026-08-03"): 1, ("identity_verification", "2026-09-07"): 1,
        ("agent_empathy", "2026-08-10"): 1, ("agent_empathy", "2026-09-07"): 1,
        ("promise_without_time", "2026-08-03"): 1, ("promise_without_time", "2026-09-07"): 1,
        ("escalation_request", "2026-08-10"): 1, ("(none)", "2026-08-10"): 2}
    done = _cli("trend", "--db", str(store), "--category", "agent_empathy", "--period", "day")
    assert "2026-08-10" in done.stdout and "2026-09-07" in done.stdout and "2026-08-03" not in done.stdout


def test_impact_and_report_filter_by_category(store: Path, tmp_path: Path) -> None:
    _cli("impact", "--db", str(store), "--change-date", "2026-08-10", "--category", "promise_without_time",
         "--all", "--output", str(tmp_path / "i.json"))
    everything = [r for r in _json(tmp_path / "i.json")["impact"] if r["stage"] == "all" and r["metric"] == "pain"]
    assert [(r["contacts_before"], r["contacts_after"]) for r in everything] == [(1, 1)]  # c2 before, en after

    _cli("report", "--db", str(store), "--category", "identity_verification", "--by", "category",
         "--output", str(tmp_path / "report.xlsx"))
    book = openpyxl.load_workbook(tmp_path / "report.xlsx", read_only=True)
    sheet = list(book["rankings"].values)
    header = sheet[0]
    groups: dict[str, int] = {}
    for row in sheet[1:]:
        groups[row[header.index("group")]] = groups.get(row[header.index("group")], 0) + row[header.index("contacts")]
    # the contacts with identity_verification (c1, zh), broken down by every category they matched
    assert groups == {"identity_verification": 2, "agent_empathy": 1}
