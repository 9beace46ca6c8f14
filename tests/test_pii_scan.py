"""No planted PII survives anywhere journeylens writes.

Every PII form the redactor knows is planted in turn text, transcript ids, file names, metadata keys and
values, CSV headers, order and customer ids (full-width too), speaker labels, turn metadata and in broken
records that are quarantined. The real CLI then scores, analyses, scores texts and writes reports, and every
file it wrote (every text column of every DuckDB table, the unzipped workbook, the HTML page, JSON lines and
quarantine files) and everything it printed is searched for each planted string and its digits.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import unquote

import duckdb
import pytest

from nlp.analytics.journeys import find_journey
from nlp.analytics.settings import AnalyticsSettings
from nlp.pipeline import Pipeline
from nlp.schema.transcript import Transcript
from nlp.steps.redact import Redactor, fold

ROOT = Path(__file__).resolve().parents[1]
PHONE = "13812345678"
PII_FORMS = [
    PHONE, "138-1234-5678", "+86 139 1234 5678", "1381 234 5678", "138.1234.5678", "138，1234，5678",
    "１３８１２３４５６７８", "一三八一二三四五六七八", "幺三八幺二三四五六七八", "1 3 8 1 2 3 4 5 6 7 8",
    "010-62345678", "010 6234 5678", "(0755)23456789",
    "11010519491231002X", "110101 19900307 123X", "1101 0119 9003 0712 3X",
    "6222 0212 3456 7894", "4111-1111-1111-1111",
    "zhang.san+cs@example.com.cn", "张三@example.com", "info@例子.中国", "zhang.san @ example.com",
]


def needles() -> set[str]:
    """Each planted form and, for numbers, its digits alone (as a store or a spreadsheet might write them)."""
    found = set(PII_FORMS)
    for form in PII_FORMS:
        digits = re.sub(r"[^0-9Xx]", "", fold(form))
        if len(digits) >= 8:
            found.add(digits)
    return found


def plant(folder: Path) -> dict[str, Path]:
    """Input files holding every PII form in every place a transcript, a file or a broken record can hold it."""
    archive = folder / "archive"
    archive.mkdir()
    turns = [{"speaker": "customer", "text": f"我的联系方式是 {form} ，麻烦尽快处理，订单号3040389220374355"}
             for form in PII_FORMS]
    transcript = {
        "id": f"call-{PHONE}", "channel": "call", "started_at": "2026-10-01T10:00:00+08:00",
        "customer_id": "１３８１２３４５６７８", "order_id": f"{PHONE}-01", "business_line": "food_delivery",
        "metadata": {f"回拨{PHONE}": "是", "备注": "邮箱 zhang.san @ example.com", "contacts": ["010 6234 5678"]},
        "turns": [{"speaker": "agent", "text": "您好，请问有什么可以帮您？", "speaker_label": f"客服{PHONE}",
                   "metadata": {"工号": "1101 0119 9003 0712 3X"}}, *turns],
    }
    second = {**transcript, "id": "CX-20261002-000001", "customer_id": PHONE, "order_id": "3040389220374355",
              "started_at": "2026-10-02T10:00:00+08:00", "turns": transcript["turns"][:3]}
    broken = [
        f'{{"id": "{PHONE}", "turns": [',  # invalid JSON
        json.dumps({"id": "138.1234.5678", "turns": [{"speaker": PHONE, "text": "张三@example.com"}]},
                   ensure_ascii=False),  # unknown speaker: the reason quotes it
        json.dumps({"id": "110101 19900307 123X", "turns": []}, ensure_ascii=False),  # no turns
    ]
    lines = [json.dumps(t, ensure_ascii=False) for t in (transcript, second)] + broken
    (archive / "contacts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (archive / f"{PHONE}_20261001.txt").write_text(
        "# customer_id: 一三八一二三四五六七八\n客服：您好\n"
        "客户：我的身份证 110101 19900307 123X，卡号6222 0212 3456 7894\n",
        encoding="utf-8")
    with (archive / "table.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "speaker", "text", f"回拨{PHONE}"])
        writer.writerow(["csv-1", "customer", "电话 138，1234，5678 打不通", "info@例子.中国"])
        writer.writerow(["csv-1", "agent", "好的，我记下了", "info@例子.中国"])
    named = folder / f"call-{PHONE}"
    named.mkdir()
    (named / "１３８１２３４５６７８.txt").write_text("客户：我的手机 1381 234 5678\n", encoding="utf-8")
    texts = folder / "texts.csv"
    with texts.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", f"回拨{PHONE}"])
        for form in PII_FORMS:
            writer.writerow([f"太慢了，我的电话是 {form}，气死我了", form])
        writer.writerow(["", PHONE])  # empty text: quarantined
        handle.write(f"{PHONE},a,b\n")  # wrong field count: quarantined
    return {"archive": archive, "named": named, "texts": texts}


def cli(*args: str) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "200",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "nlp.cli", "-v", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout + done.stderr


def _unescaped(text: str) -> str:
    """JSON embedded in HTML may write non-ASCII as \\uXXXX."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def written_text(path: Path) -> str:
    """What a file holds, as text: every value of every DuckDB table, every part of a workbook, else the bytes."""
    if path.suffix == ".duckdb":
        with duckdb.connect(str(path), read_only=True) as con:
            tables = [name for (name,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
            return "\n".join(json.dumps(con.execute(f'SELECT * FROM "{name}"').fetchall(), ensure_ascii=False,
                                        default=str) for name in tables)
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as workbook:
            return "\n".join(workbook.read(name).decode("utf-8", "replace") for name in workbook.namelist())
    return _unescaped(path.read_bytes().decode("utf-8", "replace"))


def leaks(text: str) -> set[str]:
    return {needle for needle in needles() if needle in text}


@pytest.fixture(scope="module")
def cli_outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    inputs = plant(tmp_path_factory.mktemp("inputs"))
    out = tmp_path_factory.mktemp("outputs")
    db = out / "store.duckdb"
    printed = {
        "score": cli("score", str(inputs["archive"]), str(inputs["named"]), "--db", str(db)),
        "analyze": cli("analyze", str(inputs["archive"]), str(inputs["named"]), "--output", str(out / "utt.jsonl")),
        "score-text": cli("score-text", str(inputs["texts"]), "--output", str(out / "scored.csv"),
                          "--scorer", "lexicon"),
        "report html": cli("report", "--db", str(db), "--output", str(out / "report.html")),
        "report xlsx": cli("report", "--db", str(db), "--output", str(out / "report.xlsx")),
    }
    return out, printed


def test_the_planted_forms_are_all_pii() -> None:
    redact = Redactor()
    assert [form for form in PII_FORMS if redact(form) == form] == []


def test_no_file_written_holds_pii(cli_outputs) -> None:
    out, _ = cli_outputs
    written = sorted(p for p in out.rglob("*") if p.is_file() and not p.name.endswith(".wal"))
    names = {p.name for p in written}
    assert {"store.duckdb", "store.duckdb.quarantine.jsonl", "utt.jsonl", "utt.jsonl.quarantine.jsonl", "scored.csv",
            "scored.csv.quarantine.jsonl", "report.html", "report.xlsx"} <= names
    found = {p.name: sorted(leaks(written_text(p))) for p in written}
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_nothing_printed_holds_pii(cli_outputs) -> None:
    _, printed = cli_outputs
    found = {command: sorted(leaks(text)) for command, text in printed.items()}
    assert {command: hits for command, hits in found.items() if hits} == {}


def test_every_record_is_stored_or_quarantined(cli_outputs) -> None:
    out, _ = cli_outputs
    with duckdb.connect(str(out / "store.duckdb"), read_only=True) as con:
        ids = {i for (i,) in con.execute("SELECT transcript_id FROM transcripts").fetchall()}
    quarantined = (out / "store.duckdb.quarantine.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(ids) == 5 and len(quarantined) == 3
    assert "CX-20261002-000001" in ids and "csv-1" in ids  # ids without PII are kept


def test_pii_ids_link_contacts_and_are_found_by_any_width(cli_outputs) -> None:
    out, _ = cli_outputs
    token = Redactor().pseudonymize(PHONE)
    with duckdb.connect(str(out / "store.duckdb"), read_only=True) as con:
        customers = con.execute("SELECT transcript_id, customer_id FROM transcripts "
                                "WHERE transcript_id IN ('CX-20261002-000001', $call)",
                                {"call": Redactor().pseudonymize(f"call-{PHONE}")}).fetchall()
        assert len(customers) == 2 and {c for _, c in customers} == {token}  # full-width and half-width link
        for key in (PHONE, "１３８１２３４５６７８"):
            journey = find_journey(con, AnalyticsSettings(), key)
            # the full-width, half-width and Chinese-digit customer ids are one customer
            assert journey is not None and journey.summary["contacts"] == 3 and journey.key == token


def test_the_pipeline_makes_every_field_safe() -> None:
    transcript = Transcript.model_validate({
        "id": f"{PHONE}_20261001", "customer_id": "１３８１２３４５６７８", "order_id": PHONE,
        "metadata": {f"回拨{PHONE}": {"备注": "zhang.san @ example.com"}},
        "turns": [{"speaker": "agent", "text": "您好", "speaker_label": f"客服{PHONE}",
                   "metadata": {"id": "110101 19900307 123X"}}],
    })
    safe = Pipeline().redact_transcript(transcript).model_dump_json()
    assert leaks(safe) == set()
    stored = Pipeline().redact_transcript(transcript)
    assert stored.customer_id == stored.order_id == Redactor().pseudonymize(PHONE)
    assert stored.id.startswith("pii-") and stored.metadata == {"回拨<PHONE>": {"备注": "<EMAIL>"}}


def test_api_answers_headers_and_logs_hold_no_pii(tmp_path: Path) -> None:
    import httpx

    from service.keys import KeyStore
    from tests.support.server import ServerProcess

    keys = KeyStore(tmp_path / "cx.keys.json")
    _, key = keys.create("platform")
    transcript = {
        "id": "call-１３８１２３４５６７８", "channel": "chat", "business_line": "food_delivery",
        "started_at": "2026-10-01T10:00:00+08:00",
        "customer_id": "１３８１２３４５６７８", "order_id": f"{PHONE}-02", "metadata": {f"回拨{PHONE}": "是"},
        "turns": [{"speaker": "customer", "text": f"我的联系方式是 {form} ，谢谢", "speaker_label": f"客户{PHONE}"}
                  for form in PII_FORMS],
    }
    settings = {"rate_limit_per_second": 1000, "rate_limit_burst": 1000, "log_level": "debug"}
    with ServerProcess(tmp_path / "cx.duckdb", tmp_path / "server.log", settings) as server, \
            httpx.Client(base_url=server.url, timeout=60, headers={"X-API-Key": key}) as client:
        created = client.post("/v1/transcripts", json=transcript)
        assert created.status_code == 201, created.text
        location = created.headers["location"]
        assert location == f"/v1/transcripts/{Redactor().pseudonymize(transcript['id'])}"
        answers = {
            "ingest": created.text + unquote(location),
            "analyze": client.post("/v1/analyze", json={**transcript, "id": PHONE}).text,
            "read back": client.get(location).text,
            "read by the raw id": client.get(f"/v1/transcripts/call-{PHONE}").text,
            "journey by a full-width id": client.get("/v1/journeys/１３８１２３４５６７８").text,
            "not found": client.get(f"/v1/transcripts/no-such-{PHONE}").text,
            "no journey": client.get("/v1/journeys/010-62345678").text,
            "invalid": client.post("/v1/transcripts", json={**transcript, "turns": [{"speaker": PHONE}]}).text,
        }
        assert json.loads(answers["read by the raw id"])["n_turns"] == len(PII_FORMS)
        assert json.loads(answers["journey by a full-width id"])["summary"]["contacts"] == 1
    answers["log"] = (tmp_path / "server.log").read_text(encoding="utf-8")
    found = {name: sorted(leaks(_unescaped(text))) for name, text in answers.items()}
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_every_quarantine_writer_redacts_all_fields(tmp_path: Path) -> None:
    from nlp.ingest.run import Quarantine, Rejection
    from nlp.ingest.spark import _quarantine_batch, _scored_schema

    rejection = Rejection(f"calls/{PHONE}_20261001.txt", f"column 回拨{PHONE}",
                          "unknown speaker '１３８１２３４５６７８'", json.dumps({"id": "138.1234.5678"}))
    quarantine = Quarantine(tmp_path / "q.jsonl", "run", Redactor())
    quarantine.add(rejection)
    quarantine.close()
    spark_rows = _quarantine_batch([rejection], "run", Redactor(), _scored_schema()).column("quarantine")
    written = {"local": (tmp_path / "q.jsonl").read_text(encoding="utf-8"), "spark": str(spark_rows.to_pylist())}
    assert {name: sorted(leaks(text)) for name, text in written.items()} == {"local": [], "spark": []}


def test_log_lines_redact_messages_and_structured_fields() -> None:
    import logging

    from service.logs import JsonFormatter

    record = logging.LogRecord("journeylens.access", logging.INFO, __file__, 1, "GET %s",
                               ("/v1/journeys/１３８１２３４５６７８",), None)
    record.path = f"/v1/transcripts/call-{PHONE}"
    record.context = {"customer": "１３８１２３４５６７８", "ids": [f"{PHONE}_20261001"]}
    assert leaks(JsonFormatter().format(record)) == set()
