"""Agent QA scorecards (issue 21 part 5): scores worked out by hand on small stores, the built-in Chinese and
English scorecard, bad scorecard files, and ``journeylens qa`` on a real DuckDB file."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from nlp.analytics.filters import Filters
from nlp.analytics.qa import qa_tables
from nlp.analytics.settings import AnalyticsSettings
from nlp.categories.qa import ScorecardFileError, load_scorecard, parse_scorecard
from nlp.store import Store
from tests.qa_fixtures import BUILTIN_CONTACTS, CARD, CONTACTS, write_store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_store(tmp_path_factory.mktemp("qa") / "qa.duckdb", CONTACTS + BUILTIN_CONTACTS, categories=True)


def _tables(path: Path, card=None, filters: Filters | None = None) -> dict:
    with Store(path, read_only=True) as opened:
        return qa_tables(opened.con, AnalyticsSettings(), card or parse_scorecard(CARD, "card.yaml"), filters)


def test_scores_match_the_hand_computed_ones(store: Path) -> None:
    tables = _tables(store, filters=Filters(metadata={}, date_to=date(2026, 8, 16)))
    contacts = tables["contacts"].set_index("transcript_id")
    # The bot-only contact c5 has no agent utterance: not scored. zh and en are scored too (filtered out below).
    assert "c5" not in contacts.index
    got = {tid: (row.greet, row.verify, row.empathy, row.close, row.score, row.auto_fail)
           for tid, row in contacts.loc[["c1", "c2", "c3", "c4", "c6"]].iterrows()}
    # weights: greet 10, verify 20, empathy 30 (applies only when the customer said something negative), close 40
    assert got == {
        # 您好 first (greet) · 后四位 (verify) · no negative customer utterance (empathy n/a) · 再见 last (close)
        "c1": ("pass", "pass", "n/a", "pass", 100 * (10 + 20 + 40) / (10 + 20 + 40), ""),  # 100.0
        # 你好 first · no verification · 太慢了 is negative and the agent shows no empathy · last agent line 嗯
        "c2": ("pass", "fail", "fail", "fail", 100 * 10 / (10 + 20 + 30 + 40), ""),  # 10.0
        # Hello is the third utterance (not among the first 2) · I understand after a negative · Goodbye last
        "c3": ("fail", "fail", "pass", "pass", 100 * (30 + 40) / (10 + 20 + 30 + 40), ""),  # 70.0
        # 您好 · 再见, but 你闭嘴 auto-fails the contact
        "c4": ("pass", "fail", "fail", "pass", 0.0, "abuse"),
        # 嗯 … 嗯嗯: nothing passes; empathy n/a (the customer's 好 is neutral)
        "c6": ("fail", "fail", "n/a", "fail", 100 * 0 / (10 + 20 + 40), ""),  # 0.0
    }
    assert got["c1"][4] == 100.0 and got["c2"][4] == 10.0 and got["c3"][4] == 70.0
    assert contacts.loc["c1", "evidence"] == {
        "greet": [{"utterance_index": 0, "text": "您好，请问有什么可以帮您"}],
        "verify": [{"utterance_index": 2, "text": "请提供手机后四位"}],
        "close": [{"utterance_index": 3, "text": "好的，再见"}]}
    assert contacts.loc["c4", "evidence"]["abuse"] == [{"utterance_index": 2, "text": "你闭嘴"}]
    assert contacts.loc["c1", "week"] == date(2026, 8, 3) and contacts.loc["c3", "week"] == date(2026, 8, 10)

    agents = tables["agents"].set_index("agent_id")
    # a1: c1 and c2 → (100 + 10) / 2 = 55; verify passed in 1 of 2; empathy applied once (c2) and failed
    assert agents.loc["a1", ["contacts", "score", "score_min", "auto_fails"]].tolist() == [2, 55.0, 10.0, 0]
    assert agents.loc["a1", ["greet_pct", "verify_pct", "empathy_pct", "close_pct"]].tolist() == [100, 50, 0, 50]
    # a2: c3 and c4 → (70 + 0) / 2 = 35, one auto-fail; greet 1 of 2, empathy 1 of 2 (both applied), close 2 of 2
    assert agents.loc["a2", ["contacts", "score", "score_min", "auto_fails"]].tolist() == [2, 35.0, 0.0, 1]
    assert agents.loc["a2", ["greet_pct", "verify_pct", "empathy_pct", "close_pct"]].tolist() == [50, 0, 50, 100]
    assert agents.loc["a3", "team"] is None or agents.loc["a3", "team"] != agents.loc["a3", "team"]  # no team
    teams = tables["teams"].set_index("team")
    assert teams.loc["t1", "score"] == 55.0 and teams.loc["t2", "score"] == 35.0
    weeks = tables["weeks"]
    assert weeks[["week", "agent_id", "contacts", "score"]].values.tolist() == [
        [date(2026, 8, 3), "a1", 2, 55.0], [date(2026, 8, 10), "a2", 2, 35.0], [date(2026, 8, 10), "a3", 1, 0.0]]
    items = tables["items"].set_index("item")
    # greet passed in c1, c2, c4 of 5 scored contacts; empathy applied to c2, c3, c4 and passed in c3
    assert items.loc["greet", ["applicable", "matched"]].tolist() == [5, 3]
    assert items.loc["empathy", ["applicable", "matched"]].tolist() == [3, 1]
    assert items.loc["abuse", ["kind", "matched"]].tolist() == ["auto_fail", 1]


def test_filters_select_the_contacts_scored(store: Path) -> None:
    tables = _tables(store, filters=Filters(date_from=date(2026, 8, 10), metadata={"team": "t2"}))
    assert sorted(tables["contacts"]["transcript_id"]) == ["c3", "c4"]
    tables = _tables(store, filters=Filters(category="identity_verification"))
    assert sorted(tables["contacts"]["transcript_id"]) == ["c1", "zh"]


def test_builtin_scorecard_in_chinese_and_english(store: Path) -> None:
    card = load_scorecard()
    assert [(i.id, i.weight) for i in card.scorecard.items] == [
        ("greeting", 10), ("identity_verification", 20), ("empathy", 15), ("resolution_stated", 25),
        ("promise_with_time", 15), ("closing", 15)]
    contacts = _tables(store, card)["contacts"].set_index("transcript_id")
    items = ["greeting", "identity_verification", "empathy", "resolution_stated", "promise_with_time", "closing"]
    # zh: 您好 · 后四位 · 理解您 after 太慢了 · 已经为您 · 跟进 … 明天下午 · 还有什么可以帮您 among the last three
    assert contacts.loc["zh", items].tolist() == ["pass"] * 6
    assert contacts.loc["zh", "score"] == 100.0
    # en: "Thank you for calling" · no verification · nobody upset (n/a) · nothing done · "I'll get back to you"
    # with no time · "Have a nice day" last
    assert contacts.loc["en", items].tolist() == ["pass", "fail", "n/a", "fail", "fail", "pass"]
    assert contacts.loc["en", "score"] == 100 * (10 + 15) / (10 + 20 + 25 + 15 + 15)  # 29.41…
    assert contacts.loc["en", "evidence"]["closing"] == [{"utterance_index": 4, "text": "Have a nice day."}]
    # c4's 你闭嘴 is in the built-in abusive-language list too
    assert contacts.loc["c4", ["score", "auto_fail"]].tolist() == [0.0, "abusive_language"]


@pytest.mark.parametrize(("text", "expected"), [
    ("id: x\nname: X\nitems:\n  - id: a\n    name: A\n    weight: 0\n    when: {speaker: agent}\n",
     ["items.0.weight: Input should be greater than 0", "(line 6)"]),
    ("id: x\nname: X\nitems:\n  - id: a\n    name: A\n    weight: 5\n    when: {phrases: [x]}\n    category: "
     "agent_empathy\n", ["items.0: give exactly one of when: (a condition) or category:", "(line 4)"]),
    ("id: x\nname: X\nitems:\n  - id: a\n    name: A\n    weight: 5\n    category: agent_empathi\n",
     ["items.0.category: unknown category 'agent_empathi'", "(line 7)"]),
    ("id: x\nname: X\nitems:\n  - id: a\n    name: A\n    weight: 5\n    when:\n      regex: '(a)\\1'\n",
     ["items.0.when.regex: regex '(a)\\\\1' is refused by the linear-time engine (RE2)", "(line 8)"]),
    ("id: x\nname: X\nitems:\n  - id: a\n    name: A\n    weight: 5\n    when: {phrases: [ok, '!!']}\n",
     ["items.0.when.phrases.any.1: phrase '!!' has no letters", "(line 7)"]),
    ("id: x\nname: X\nitems:\n  - id: a\n    name: A\n    weight: 5\n    when: {speaker: agent}\nauto_fail:\n"
     "  - id: a\n    name: B\n    when: {phrases: [x]}\n", ["auto_fail.0.id: duplicate id 'a'", "(line 9)"]),
    ("id: x\nname: X\nitems:\n  - id: a\n    name: A\n    weight: 5\n    when: {speaker: agent}\n    aplies_if: "
     "{speaker: customer}\n", ["items.0.aplies_if: Extra inputs are not permitted", "(line 8)"]),
    ("id: x\nname: X\nitems:\n  - id: a\n    name: A\n    weight: 5\n    when: {speaker: agent}\n    applies_if:\n"
     "      utterance: {speaker: customer}\n", ["items.0.applies_if: utterance: groups conditions", "(line 8)"]),
    ("- just a list\n", ["expected a mapping with id:, name: and a list under items:"]),
])
def test_bad_scorecard_files_name_file_line_and_fix(text: str, expected: list[str]) -> None:
    with pytest.raises(ScorecardFileError) as error:
        parse_scorecard(text, "card.yaml")
    message = str(error.value)
    assert message.startswith("card.yaml: ")
    for part in expected:
        assert part in message, message


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nlp.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env={"PYTHONPATH": str(ROOT), "COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def test_qa_command_on_a_duckdb_file(store: Path, tmp_path: Path) -> None:
    card = tmp_path / "card.yaml"
    card.write_text(CARD, encoding="utf-8")
    done = _cli("qa", "--db", str(store), "--scorecard", str(card), "--output", str(tmp_path / "qa.xlsx"),
                "--to", "2026-08-16")
    assert done.returncode == 0, done.stderr
    assert "QA per agent" in done.stdout and "QA per team" in done.stdout
    book = openpyxl.load_workbook(tmp_path / "qa.xlsx", read_only=True)
    assert book.sheetnames == ["contacts", "agents", "teams", "weeks", "items"]
    rows = list(book["agents"].values)
    header = rows[0]
    agents = {row[header.index("agent_id")]: row for row in rows[1:]}
    assert agents["a1"][header.index("score")] == 55.0 and agents["a2"][header.index("score")] == 35.0
    contacts = list(book["contacts"].values)
    c4 = next(row for row in contacts[1:] if row[0] == "c4")
    evidence = json.loads(c4[contacts[0].index("evidence")])
    assert evidence["abuse"] == [{"utterance_index": 2, "text": "你闭嘴"}]

    done = _cli("qa", "--db", str(store), "--output", str(tmp_path / "qa.json"), "--where", "agent_id=e1")
    assert done.returncode == 0, done.stderr
    written = json.loads((tmp_path / "qa.json").read_text(encoding="utf-8"))
    # JSON (pandas) keeps 10 decimals
    assert [(c["transcript_id"], c["score"]) for c in written["contacts"]] == [("en", round(100 * 25 / 85, 10))]

    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nname: X\nitems:\n  - id: a\n    name: A\n    weight: 5\n    category: nope\n",
                   encoding="utf-8")
    done = _cli("qa", "--db", str(store), "--scorecard", str(bad))
    assert done.returncode == 2 and "bad.yaml" in done.stderr and "line 7" in done.stderr


def test_an_empty_window_exports_a_workbook_with_every_sheet(store: Path, tmp_path: Path) -> None:
    """No contact in the window: the workbook still opens, one (empty) sheet per table (openpyxl refuses a
    workbook without sheets, which once made /v1/qa/export.xlsx answer 500 on an empty store)."""
    from nlp.analytics.export import write_tables

    tables = _tables(store, filters=Filters(date_to=date(2000, 1, 1)))
    assert tables["contacts"].empty and tables["agents"].empty
    path = tmp_path / "empty.xlsx"
    write_tables(tables, path)
    assert openpyxl.load_workbook(path).sheetnames == ["contacts", "agents", "teams", "weeks", "items"]


def test_control_characters_in_stored_text_do_not_break_the_workbook(tmp_path: Path) -> None:
    """Text a client stored may hold control characters a worksheet cannot (openpyxl raised, and
    /v1/qa/export.xlsx answered 500; found by the schemathesis run): they are written as U+FFFD, the rest kept."""
    import pandas as pd

    from nlp.analytics.export import write_tables

    path = tmp_path / "ctrl.xlsx"
    write_tables({"contacts": pd.DataFrame({"id": ["a\x13b"], "evidence": [[{"text": "投诉\x00了"}]], "n": [1]})},
                 path)
    sheet = openpyxl.load_workbook(path)["contacts"]
    assert [c.value for c in sheet[2]] == ["a\ufffdb", '[{"text": "投诉\\u0000了"}]', 1]  # JSON escapes its own
