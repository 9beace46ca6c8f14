"""Bulk scoring into a real DuckDB file: counts reconcile, nothing is lost, runs resume and are idempotent."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from nlp.config import PipelineConfig
from nlp.ingest.local import score_archive
from nlp.ingest.run import quarantine_path_for
from nlp.pipeline import Pipeline
from nlp.store import Store

PHONE, ID_NUMBER, CARD, EMAIL = "13912345678", "11010519491231002X", "6222021234567894", "li.lei@example.com"


def transcript(i: int, text: str = "骑手怎么还没到？我要投诉！", **fields) -> dict:
    return {
        "id": f"c{i:04d}", "channel": "chat", "business_line": "food_delivery", "started_at": "2026-10-01T12:00:00",
        "turns": [{"speaker": "customer", "text": text}, {"speaker": "agent", "text": "您好，我帮您联系骑手"},
                  {"speaker": "customer", "text": "好的，谢谢"}],
        **fields,
    }


def write_jsonl(path: Path, records: list[dict | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    folder = tmp_path / "archive"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", [transcript(i) for i in range(30)])
    write_jsonl(folder / "b.jsonl", [transcript(i) for i in range(30, 50)])
    return folder


def test_counts_reconcile_on_a_folder_with_broken_files(tmp_path: Path, archive: Path) -> None:
    write_jsonl(archive / "broken.jsonl", [
        transcript(100),
        '{"id": "c0101", "turns": [',  # truncated JSON
        '["not", "an", "object"]',
        {"id": "c0102", "turns": []},  # no turns
        {"id": "c0103", "turns": [{"speaker": "martian", "text": "hi"}]},
        transcript(104),
    ])
    (archive / "notes.docx").write_bytes(b"PK\x03\x04")
    db = tmp_path / "cx.duckdb"
    summary = score_archive([archive], db, batch_size=7)
    counts = summary.counts
    assert (counts.read, counts.scored, counts.quarantined, counts.skipped) == (57, 52, 5, 0)
    assert counts.reconciles
    quarantined = [json.loads(line) for line in quarantine_path_for(db).read_text(encoding="utf-8").splitlines()]
    assert [(Path(q["source"]).name, q["location"]) for q in quarantined] == [
        ("broken.jsonl", "line 2"), ("broken.jsonl", "line 3"), ("broken.jsonl", "line 4"),
        ("broken.jsonl", "line 5"), ("notes.docx", "file")]
    assert all(q["reason"] and q["run_id"] == summary.run_id for q in quarantined)
    assert "martian" in quarantined[3]["reason"]
    assert rows(db, "SELECT count(*), count(DISTINCT transcript_id) FROM transcripts") == [(52, 52)]
    assert rows(db, "SELECT status, n_read, n_scored, n_quarantined, n_skipped FROM runs") == [
        ("completed", 57, 52, 5, 0)]


def test_rerun_is_idempotent_and_rescores_only_what_changed(tmp_path: Path, archive: Path) -> None:
    db = tmp_path / "cx.duckdb"
    first = score_archive([archive], db).counts
    again = score_archive([archive], db).counts
    assert (first.scored, again.scored, again.skipped) == (50, 0, 50)
    write_jsonl(archive / "b.jsonl", [transcript(30, text="饭洒了，太失望了")] + [transcript(i) for i in range(31, 50)])
    changed = score_archive([archive], db).counts
    assert (changed.scored, changed.skipped) == (1, 49)
    assert rows(db, "SELECT emotion FROM utterances WHERE transcript_id = 'c0030' AND utterance_index = 0") == [
        ("disappointment",)]
    new_models = score_archive([archive], db, config=PipelineConfig(to_simplified=False)).counts
    assert (new_models.scored, new_models.skipped) == (50, 0)
    assert rows(db, "SELECT count(*) FROM transcripts") == [(50,)]
    assert rows(db, "SELECT count(*) FROM (SELECT DISTINCT transcript_id, utterance_index FROM utterances)") == \
        rows(db, "SELECT count(*) FROM utterances")


def test_duplicate_ids_in_one_run_are_stored_once(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "dup.jsonl", [transcript(1), transcript(2), transcript(1)])
    counts = score_archive([path], tmp_path / "cx.duckdb", batch_size=1).counts
    assert (counts.read, counts.scored, counts.skipped) == (3, 2, 1)
    assert rows(tmp_path / "cx.duckdb", "SELECT count(*) FROM transcripts") == [(2,)]


def test_what_is_stored_in_one_run_reads_back_as_analysed(tmp_path: Path) -> None:
    """Stored by ``score_archive`` in the test process and read back: the transcript's metadata (Chinese kept as
    text, not escaped), its times and counts, the run and when it was scored, its promise with its deadline and the
    vendor's issue words (named for the store's mutation selection: ``in_one_run``)."""
    record = {"id": "m1", "channel": "chat", "started_at": "2026-09-01T10:00:00+08:00", "customer_id": "会员A",
              "order_id": "O-9", "business_line": "food_delivery", "metadata": {"城市": "杭州", "csat": 2},
              "turns": [{"speaker": "customer", "text": "骑手怎么还没到，我要投诉",
                         "metadata": {"vendor_issues": ["骑手怎么还没到"]}},
                        {"speaker": "agent", "text": "我们会在24小时内给您回电"},
                        {"speaker": "customer", "text": "好的谢谢"}]}
    path = write_jsonl(tmp_path / "one.jsonl", [record])
    db = tmp_path / "cx.duckdb"
    summary = score_archive([path], db)
    with duckdb.connect(str(db), read_only=True) as con:
        (metadata, started, scored_at, run_id, n_turns, n_utterances, n_segments, raw) = con.execute(
            "SELECT metadata, started_at, scored_at, run_id, n_turns, n_utterances, n_segments, metadata::VARCHAR "
            "FROM transcripts").fetchone()
        promise = con.execute("SELECT text, turn_index, deadline FROM promises").fetchall()
        issues = con.execute("SELECT vendor_issues FROM utterances WHERE vendor_issues IS NOT NULL").fetchall()
        utterances = con.execute("SELECT count(*) FROM utterances").fetchone()[0]
    assert json.loads(metadata)["城市"] == "杭州" and "杭州" in raw and json.loads(metadata)["csat"] == 2
    assert started == datetime(2026, 9, 1, 2, 0) and run_id == summary.run_id
    assert scored_at is not None and abs(scored_at - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=10)
    assert (n_turns, n_utterances) == (3, utterances) and n_segments >= 1
    assert [(text, turn) for text, turn, _ in promise] == [("我们会在24小时内给您回电", 1)]
    assert promise[0][2] == datetime(2026, 9, 2, 2, 0)  # 24 hours after the contact started, UTC
    assert issues == [('["骑手怎么还没到"]',)]


KILL_AFTER_THREE_BATCHES = textwrap.dedent("""
    import os, signal, sys
    from nlp.ingest.local import score_archive
    calls = 0
    def progress(position, counts):
        global calls
        calls += 1
        if calls == 3:
            os.kill(os.getpid(), signal.SIGKILL)
    score_archive([sys.argv[1]], sys.argv[2], batch_size=10, progress=progress)
""")


def test_a_killed_run_resumes_without_loss_or_duplicates(tmp_path: Path, archive: Path) -> None:
    db = tmp_path / "cx.duckdb"
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_THREE_BATCHES, str(archive), str(db)])
    assert killed.returncode == -9
    assert rows(db, "SELECT status FROM runs") == [("running",)]
    stored_before = rows(db, "SELECT count(*) FROM transcripts")[0][0]
    assert 0 < stored_before < 50
    resumed = score_archive([archive], db, batch_size=10).counts
    assert (resumed.skipped, resumed.scored) == (stored_before, 50 - stored_before)
    assert rows(db, "SELECT count(*), count(DISTINCT transcript_id) FROM transcripts") == [(50, 50)]
    assert rows(db, "SELECT status FROM runs ORDER BY started_at") == [("interrupted",), ("completed",)]


KILL_WITH_TWO_WORKERS = textwrap.dedent("""
    import multiprocessing, os, signal, sys
    from nlp.ingest.local import score_archive
    def progress(position, counts):
        if counts.read >= 20:
            print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
    score_archive([sys.argv[1]], sys.argv[2], workers=2, batch_size=5, progress=progress)
""")


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_killing_a_run_with_workers_ends_them_and_the_next_run_marks_it_interrupted(tmp_path: Path,
                                                                                      archive: Path) -> None:
    db = tmp_path / "cx.duckdb"
    killed = subprocess.run([sys.executable, "-c", KILL_WITH_TWO_WORKERS, str(archive), str(db)],
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    workers = [int(pid) for pid in killed.stdout.split()]
    assert workers
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(alive(pid) for pid in workers), "orphaned workers still running"
    assert rows(db, "SELECT status FROM runs") == [("running",)]
    score_archive([archive], db)
    assert rows(db, "SELECT status FROM runs ORDER BY started_at") == [("interrupted",), ("completed",)]


def test_a_database_inside_the_input_folder_is_not_read(tmp_path: Path, archive: Path) -> None:
    write_jsonl(archive / "bad.jsonl", ["{oops"])
    write_jsonl(archive / "cx.quarantine.jsonl", ["{oops"])  # the quarantine's name before it was cx.duckdb.…
    db = archive / "cx.duckdb"
    first = score_archive([archive], db).counts
    assert (first.read, first.scored, first.quarantined) == (51, 50, 1)
    done = subprocess.run([sys.executable, "-m", "nlp.cli", "score", str(archive), "--db", str(db)],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "300"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert rows(db, "SELECT n_read, n_scored, n_quarantined, n_skipped FROM runs ORDER BY started_at DESC "
                    "LIMIT 1") == [(51, 0, 1, 50)]
    assert "not read (the store's own files)" in done.stderr and "cx.duckdb.quarantine.jsonl" in done.stderr
    assert "cx.quarantine.jsonl" in done.stderr


def test_two_workers_store_the_same_rows_as_one(tmp_path: Path, archive: Path) -> None:
    one, two = tmp_path / "one.duckdb", tmp_path / "two.duckdb"
    score_archive([archive], one, workers=1, batch_size=8)
    score_archive([archive], two, workers=2, batch_size=8)
    query = ("SELECT transcript_id, utterance_index, text, stage, issue_type, service_step, sentiment, "
             "sentiment_score, emotion, segment_index FROM utterances ORDER BY ALL")
    assert rows(one, query) == rows(two, query)
    assert len(rows(one, query)) > 100


def test_planted_pii_never_reaches_the_store_quarantine_or_logs(tmp_path: Path) -> None:
    pii = f"我电话{PHONE}，身份证{ID_NUMBER}，卡号{CARD}，邮箱{EMAIL}"
    path = write_jsonl(tmp_path / "pii.jsonl", [
        transcript(1, text=pii, customer_id=PHONE, metadata={"contact": EMAIL}),
        '{"id": "c0002", "turns": [{"speaker": "customer", "text": "' + pii + '"}',  # broken: quarantined
        '{"id": "c0003", "turns": [{"text": "' + json_escaped(pii) + '"}',  # broken, PII spelled in \\u escapes
    ])
    db = tmp_path / "cx.duckdb"
    result = subprocess.run([sys.executable, "-m", "nlp.cli", "-v", "score", str(path), "--db", str(db)],
                            capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    stored = rows(db, "SELECT text FROM utterances WHERE transcript_id = 'c0001' AND utterance_index = 0")[0][0]
    assert stored == "我电话<PHONE>，身份证<ID>，卡号<CARD>，邮箱<EMAIL>"
    with duckdb.connect(str(db), read_only=True) as con:
        dump = json.dumps([con.execute(f"SELECT * FROM {t}").fetchall() for t in ("transcripts", "utterances",
                                                                              "segments", "runs")],
                          default=str, ensure_ascii=False)
    quarantine = quarantine_path_for(db).read_text(encoding="utf-8")
    files = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("cx."))
    for value in (PHONE, ID_NUMBER, CARD, EMAIL):
        for where in (dump, quarantine, result.stdout, result.stderr):
            assert value not in where
        assert value.encode() not in files
    assert "<PHONE>" in quarantine
    escaped = [json.loads(line)["raw"] for line in quarantine.splitlines() if "c0003" in line]
    # letters and digits decoded (so the PII in them is matched), the full-width commas left escaped
    assert escaped == ['{"id": "c0003", "turns": [{"text": "我电话<PHONE>\\uff0c身份证<ID>\\uff0c卡号<CARD>'
                       '\\uff0c邮箱<EMAIL>"}']


def json_escaped(text: str) -> str:
    """``text`` with every character written as a JSON ``\\uXXXX`` escape, as some exporters write non-ASCII."""
    return "".join(f"\\u{ord(char):04x}" for char in text)


def test_cli_strict_exit_code_and_parquet_export(tmp_path: Path, archive: Path) -> None:
    write_jsonl(archive / "bad.jsonl", ["{oops"])
    db = tmp_path / "cx.duckdb"
    cli = [sys.executable, "-m", "nlp.cli"]
    lenient = subprocess.run([*cli, "score", str(archive), "--db", str(db)], capture_output=True, text=True)
    assert lenient.returncode == 0
    assert printed_counts(lenient.stdout) == {"read": 51, "scored": 50, "quarantined": 1,
                                              "skipped (already scored)": 0,
                                              "replaced (a later record had the same id)": 0}
    strict = subprocess.run([*cli, "score", str(archive), "--db", str(db), "--strict"], capture_output=True,
                            text=True)
    assert strict.returncode == 1
    missing = subprocess.run([*cli, "score", str(tmp_path / "nope"), "--db", str(db)], capture_output=True,
                             text=True)
    assert missing.returncode == 2 and "not found" in missing.stderr
    out = tmp_path / "utterances.parquet"
    exported = subprocess.run([*cli, "export", "utterances", "--db", str(db), "--output", str(out)],
                              capture_output=True, text=True)
    assert exported.returncode == 0, exported.stderr
    assert duckdb.sql(f"SELECT count(*) FROM '{out}'").fetchall() == rows(db, "SELECT count(*) FROM utterances")


def printed_counts(stdout: str) -> dict[str, int]:
    """The rows of the run table ``journeylens score`` prints: label -> count."""
    return {label.strip(): int(value.replace(",", ""))
            for label, value in re.findall(r"^[│|] ([a-z() ]+?)\s+[│|] ([\d,]+)\s+[│|]$", stdout, re.MULTILINE)}


def stored_tables(db: Path) -> dict[str, list[tuple]]:
    """Every stored row of the four transcript tables, sorted, without what differs between runs (run id, time)."""
    return {name: rows(db, f"SELECT {columns} FROM {name} ORDER BY ALL") for name, columns in (
        ("transcripts", "* EXCLUDE (run_id, scored_at)"), ("utterances", "*"), ("segments", "*"), ("promises", "*"))}


# The CLI, with Store.write_tables wrapped (test-side only) so that the process SIGKILLs itself inside the second
# batch's write, right after the transcripts table's INSERT and before the other tables'.
KILL_INSIDE_THE_SECOND_WRITE = textwrap.dedent("""
    import os, signal, sys
    import nlp.store

    class KillAfterTranscriptsInsert:
        def __init__(self, con):
            self.con = con
        def execute(self, sql, *args):
            result = self.con.execute(sql, *args)
            if sql.startswith("INSERT INTO transcripts"):
                os.kill(os.getpid(), signal.SIGKILL)
            return result
        def __getattr__(self, name):
            return getattr(self.con, name)

    real_write_tables = nlp.store.Store.write_tables
    writes = 0
    def write_tables(self, tables, ids):
        global writes
        writes += 1
        if writes == 2:
            self.con = KillAfterTranscriptsInsert(self.con)
        return real_write_tables(self, tables, ids)
    nlp.store.Store.write_tables = write_tables

    sys.argv = ["journeylens", "score", *sys.argv[1:]]
    from nlp.cli import app
    app()
""")

MIXED_TEXTS = ("骑手怎么还没到？我要投诉！", "饭洒了，太失望了", "我的退款什么时候到账？")


def test_a_run_killed_inside_a_batch_write_leaves_only_whole_transcripts(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "calls.jsonl", [
        transcript(i, text=MIXED_TEXTS[i % 3], turns=[
            {"speaker": "customer", "text": MIXED_TEXTS[i % 3]},
            {"speaker": "agent", "text": "我们会在24小时内给您回电"},
            {"speaker": "customer", "text": "好的，谢谢"}]) for i in range(12)])
    db = tmp_path / "cx.duckdb"
    killed = subprocess.run([sys.executable, "-c", KILL_INSIDE_THE_SECOND_WRITE, str(path), "--db", str(db),
                             "--batch-size", "5"], capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]

    # the second batch's transaction never committed: the first batch, whole, and nothing of the second
    assert rows(db, "SELECT status FROM runs") == [("running",)]
    assert rows(db, "SELECT transcript_id FROM transcripts ORDER BY 1") == [(f"c{i:04d}",) for i in range(5)]
    assert rows(db, """
        SELECT t.transcript_id FROM transcripts t
        WHERE t.n_utterances <> (SELECT count(*) FROM utterances u WHERE u.transcript_id = t.transcript_id)
           OR t.n_segments <> (SELECT count(*) FROM segments s WHERE s.transcript_id = t.transcript_id)
           OR t.n_utterances = 0""") == []
    assert rows(db, "SELECT count(*) FROM utterances ANTI JOIN transcripts USING (transcript_id)") == [(0,)]
    assert rows(db, "SELECT count(*) FROM promises ANTI JOIN transcripts USING (transcript_id)") == [(0,)]

    # the rerun scores exactly the rest, and the store equals one of an uninterrupted run
    resumed = score_archive([path], db, batch_size=5).counts
    assert (resumed.read, resumed.scored, resumed.skipped, resumed.quarantined) == (12, 7, 5, 0)
    uninterrupted = tmp_path / "uninterrupted.duckdb"
    score_archive([path], uninterrupted, batch_size=5)
    expected = stored_tables(uninterrupted)
    assert len(expected["transcripts"]) == 12 and len(expected["utterances"]) >= 36
    assert len(expected["promises"]) == 12
    assert stored_tables(db) == expected


# The CLI with the pipeline's topical-segment step (test-side wrapper) raising on one transcript.
FAIL_ON_C0007 = textwrap.dedent("""
    import sys
    import nlp.pipeline

    real_build_segments = nlp.pipeline.build_segments
    def build_segments(doc):
        if doc.transcript.id == "c0007":
            raise RuntimeError("segments exploded on c0007")
        return real_build_segments(doc)
    nlp.pipeline.build_segments = build_segments

    sys.argv = ["journeylens", "score", *sys.argv[1:]]
    from nlp.cli import app
    app()
""")


def test_a_transcript_the_pipeline_fails_on_is_quarantined_and_the_rest_stored(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "calls.jsonl", [transcript(i) for i in range(12)])
    db = tmp_path / "cx.duckdb"
    done = subprocess.run([sys.executable, "-c", FAIL_ON_C0007, str(path), "--db", str(db), "--batch-size", "5"],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert printed_counts(done.stdout) == {"read": 12, "scored": 11, "quarantined": 1, "skipped (already scored)": 0,
                                           "replaced (a later record had the same id)": 0}
    assert "1 record(s) quarantined" in done.stderr and "1 × pipeline error" in done.stderr
    [entry] = [json.loads(line) for line in quarantine_path_for(db).read_text(encoding="utf-8").splitlines()]
    assert (Path(entry["source"]).name, entry["location"]) == ("calls.jsonl", "line 8")
    assert entry["reason"] == "pipeline error: RuntimeError: segments exploded on c0007"
    assert json.loads(entry["raw"])["id"] == "c0007"
    assert rows(db, "SELECT transcript_id FROM transcripts ORDER BY 1") == [
        (f"c{i:04d}",) for i in range(12) if i != 7]
    assert rows(db, "SELECT status, n_read, n_scored, n_quarantined, n_skipped FROM runs") == [
        ("completed", 12, 11, 1, 0)]


def overlapping_exports(folder: Path) -> Path:
    """day1 holds c1…c10, day2 an identical c1 and c8…c20, with c8…c10 changed since day1."""
    folder.mkdir()
    write_jsonl(folder / "day1.jsonl", [transcript(i) for i in range(1, 11)])
    write_jsonl(folder / "day2.jsonl", [transcript(1)] + [transcript(i, text="饭洒了，太失望了") for i in range(8, 11)]
                + [transcript(i) for i in range(11, 21)])
    return folder


@pytest.mark.parametrize(("workers", "batch_size"), [(1, 64), (1, 3), (2, 2)],
                         ids=["within-one-batch", "across-batches", "in-flight-in-two-workers"])
def test_duplicate_ids_across_overlapping_exports_last_read_wins(tmp_path: Path, workers: int,
                                                                 batch_size: int) -> None:
    archive, db = overlapping_exports(tmp_path / "exports"), tmp_path / "cx.duckdb"
    done = subprocess.run([sys.executable, "-m", "nlp.cli", "score", str(archive), "--db", str(db), "--workers",
                           str(workers), "--batch-size", str(batch_size)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "replaced (a later record had the same id) │ 3" in done.stdout
    assert rows(db, "SELECT status, n_read, n_scored, n_quarantined, n_skipped, n_replaced FROM runs") == [
        ("completed", 24, 20, 0, 1, 3)]
    assert rows(db, "SELECT count(*), count(DISTINCT transcript_id) FROM transcripts") == [(20, 20)]
    assert rows(db, "SELECT transcript_id, emotion FROM utterances WHERE utterance_index = 0 AND transcript_id "
                    "IN ('c0007', 'c0008', 'c0010') ORDER BY 1") == [
        ("c0007", "frustration"), ("c0008", "disappointment"), ("c0010", "disappointment")]
    again = score_archive([archive], db, workers=workers, batch_size=batch_size).counts
    assert again.reconciles and again.read == 24 and again.quarantined == 0
    assert rows(db, "SELECT count(*) FROM utterances WHERE utterance_index = 0 AND emotion = 'disappointment'") == [
        (3,)]


def nested(depth: int) -> dict:
    value: dict = {"k": "v"}
    for _ in range(depth):
        value = {"x": value}
    return value


POISON = [  # records that once broke hashing, analysis or storing: surrogates are now repaired, deep metadata refused
    '{"id": "p1", "turns": [{"speaker": "customer", "text": "ab\\ud800cd"}]}',  # a lone surrogate: a truncated emoji
    '{"id": "p2", "metadata": {"note": "x\\udc80"}, "turns": [{"speaker": "customer", "text": "hi"}]}',
    json.dumps({"id": "p3", "metadata": nested(300), "turns": [{"speaker": "customer", "text": "hi"}]}),
]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nlp.cli", *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "COLUMNS": "200"})


def test_poison_records_are_quarantined_by_score_and_analyze_and_the_rest_is_kept(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "poison.jsonl", [transcript(1), *POISON, transcript(2)])
    db = tmp_path / "cx.duckdb"
    for _ in range(2):  # the rerun skips the good ones and quarantines the poison again
        done = cli("score", str(path), "--db", str(db))
        assert done.returncode == 0, done.stderr[-3000:]
    assert rows(db, "SELECT status, n_read, n_scored, n_quarantined, n_skipped, n_replaced FROM runs "
                    "ORDER BY started_at") == [("completed", 5, 4, 1, 0, 0), ("completed", 5, 0, 1, 4, 0)]
    assert rows(db, "SELECT transcript_id FROM transcripts ORDER BY 1") == [("c0001",), ("c0002",), ("p1",), ("p2",)]
    assert rows(db, "SELECT text FROM utterances WHERE transcript_id = 'p1'") == [("ab\ufffdcd",)]
    quarantined = [json.loads(line) for line in quarantine_path_for(db).read_text(encoding="utf-8").splitlines()]
    assert [q["location"] for q in quarantined] == ["line 4"] * 2
    assert all("nested deeper than 32 levels" in q["reason"] for q in quarantined)
    output = tmp_path / "out.jsonl"
    analyzed = cli("analyze", str(path), "--output", str(output))
    assert analyzed.returncode == 0, analyzed.stderr[-3000:]
    assert "read 5 · analysed 4 transcripts" in analyzed.stdout and "quarantined 1" in analyzed.stdout
    assert {json.loads(line)["transcript_id"] for line in output.read_text(encoding="utf-8").splitlines()} == {
        "c0001", "c0002", "p1", "p2"}


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that takes any bytes as a name")
def test_a_record_whose_rows_cannot_be_built_is_quarantined_and_its_batch_stored(tmp_path: Path) -> None:
    """A file name that is not UTF-8 reaches Python as a lone surrogate: pyarrow cannot store it as the source."""
    folder = tmp_path / "in"
    folder.mkdir()
    write_jsonl(folder / "good.jsonl", [transcript(1)])
    write_jsonl(Path(os.fsdecode(os.fsencode(folder) + b"/day\xff.jsonl")), [transcript(2)])
    db = tmp_path / "cx.duckdb"
    counts = score_archive([folder], db).counts
    assert (counts.read, counts.scored, counts.quarantined) == (2, 1, 1)
    assert rows(db, "SELECT transcript_id FROM transcripts") == [("c0001",)]
    [entry] = [json.loads(line) for line in quarantine_path_for(db).read_text(encoding="utf-8").splitlines()]
    assert entry["source"].endswith("day\\udcff.jsonl") and entry["location"] == "line 1"
    assert entry["reason"].startswith("row conversion error: UnicodeEncodeError: 'utf-8' codec can't encode")
    raw = json.loads(entry["raw"])  # the transcript as read, to fix and score again
    assert (raw["id"], [turn["text"] for turn in raw["turns"]]) == (
        "c0002", [turn["text"] for turn in transcript(2)["turns"]])


def test_a_line_of_brackets_is_quarantined_end_to_end(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "poison.jsonl", [transcript(1), *POISON, "[" * 100_000, transcript(2)])
    db = tmp_path / "cx.duckdb"
    done = cli("score", str(path), "--db", str(db))
    assert done.returncode == 0, done.stderr[-3000:]
    assert rows(db, "SELECT n_read, n_scored, n_quarantined FROM runs") == [(6, 4, 2)]  # p3 and the brackets


def test_records_kept_after_a_repair_are_counted_and_say_what_was_repaired(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "calls.jsonl", [transcript(1, started_at="soon"), transcript(2),
                                                  json.dumps(transcript(3, text="ab\ud83d"))])  # \\ud83d escape
    db = tmp_path / "cx.duckdb"
    done = cli("score", str(path), "--db", str(db))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 record(s) kept after a repair" in done.stdout + done.stderr
    assert rows(db, "SELECT n_read, n_scored, n_repaired FROM runs") == [(3, 3, 2)]
    assert rows(db, "SELECT transcript_id, started_at IS NULL, json_array_length(metadata, '$.warnings') "
                    "FROM transcripts ORDER BY 1") == [("c0001", True, 1), ("c0002", False, None), ("c0003", False, 1)]


# The CLI tests above score in a subprocess; these check the same promises in the test process, where a change to
# the ingest code is seen by every test that runs it (mutation testing: scripts/mutation.py bulk).
def test_counts_reconcile_and_a_quarantined_record_is_written_redacted_with_place_and_reason(tmp_path: Path) -> None:
    pii = f"我电话{PHONE}，邮箱{EMAIL}"
    path = write_jsonl(tmp_path / f"回拨{PHONE}.jsonl", [
        transcript(1), '{"id": "c0002", "turns": [{"speaker": "customer", "text": "' + pii + '"}', transcript(3),
        '{"id": "c0004" "turns": []}'])  # the same kind of problem, in another batch
    db = tmp_path / "cx.duckdb"
    summary = score_archive([path], db, batch_size=2)
    assert (summary.counts.read, summary.counts.scored, summary.counts.quarantined) == (4, 2, 2)
    reason = "invalid JSON: Expecting ',' delimiter (column N); each line must be one complete JSON object"
    assert summary.reasons == [(reason, 2)] and summary.counts.reasons == {reason: 2}
    assert summary.quarantine_path == quarantine_path_for(db)
    text = quarantine_path_for(db).read_text(encoding="utf-8")
    assert "我电话<PHONE>，邮箱<EMAIL>" in text  # readable as written, not \\u escapes
    entry, other = [json.loads(line) for line in text.splitlines()]
    assert (other["location"], other["raw"]) == ("line 4", '{"id": "c0004" "turns": []}')
    assert entry == {
        "run_id": summary.run_id, "at": entry["at"], "source": str(tmp_path / "回拨<PHONE>.jsonl"),
        "location": "line 2", "reason": "line 2: " + reason.replace("column N", "column 97"),
        "raw": '{"id": "c0002", "turns": [{"speaker": "customer", "text": "我电话<PHONE>，邮箱<EMAIL>"}'}
    assert abs(datetime.now(UTC) - datetime.fromisoformat(entry["at"])) < timedelta(minutes=10)  # when, in UTC
    assert rows(db, "SELECT inputs FROM runs") == [(json.dumps([str(tmp_path / "回拨<PHONE>.jsonl")],
                                                              ensure_ascii=False),)]
    again = score_archive([path], db, batch_size=2)  # score appends: the first run's entries stay
    entries = [json.loads(line) for line in quarantine_path_for(db).read_text(encoding="utf-8").splitlines()]
    assert [(e["run_id"], e["location"]) for e in entries] == [
        (summary.run_id, "line 2"), (summary.run_id, "line 4"), (again.run_id, "line 2"), (again.run_id, "line 4")]
    assert rows(db, "SELECT run_id FROM runs ORDER BY started_at") == [(summary.run_id,), (again.run_id,)]


def test_counts_reconcile_with_records_kept_after_a_repair(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "calls.jsonl", [transcript(1, started_at="soon"), transcript(2),
                                                  json.dumps(transcript(3, text="ab\ud83d"))])
    db = tmp_path / "cx.duckdb"
    counts = score_archive([path], db, batch_size=1).counts
    assert (counts.read, counts.scored, counts.repaired, counts.quarantined) == (3, 3, 2, 0)
    assert rows(db, "SELECT n_read, n_scored, n_repaired FROM runs") == [(3, 3, 2)]
    [(command, versions, fingerprint)] = rows(db, "SELECT command, model_versions, fingerprint FROM runs")
    pipeline = Pipeline(PipelineConfig())  # what produced the scores, kept with the run
    assert (command, json.loads(versions), fingerprint) == ("score", pipeline.model_versions, pipeline.fingerprint)
    again = score_archive([path], db).counts  # skipped records are counted as repaired again: they were read again
    assert (again.read, again.skipped, again.repaired) == (3, 3, 2)


@pytest.mark.parametrize("batch_size", [64, 3, 1], ids=["one-batch", "batches-of-3", "batches-of-1"])
def test_counts_reconcile_in_one_run_over_overlapping_exports(tmp_path: Path, batch_size: int) -> None:
    """The in-process twin of the CLI test above: day2 repeats c1 unchanged (skipped) and c8…c10 changed (the
    day1 records replaced), in one batch or across batches."""
    archive, db = overlapping_exports(tmp_path / "exports"), tmp_path / "cx.duckdb"
    counts = score_archive([archive], db, batch_size=batch_size).counts
    assert (counts.read, counts.scored, counts.skipped, counts.replaced, counts.quarantined) == (24, 20, 1, 3, 0)
    assert rows(db, "SELECT n_read, n_scored, n_skipped, n_replaced FROM runs") == [(24, 20, 1, 3)]
    assert rows(db, "SELECT transcript_id, emotion FROM utterances WHERE utterance_index = 0 AND transcript_id "
                    "IN ('c0001', 'c0007', 'c0008', 'c0010') ORDER BY 1") == [
        ("c0001", "frustration"), ("c0007", "frustration"), ("c0008", "disappointment"), ("c0010", "disappointment")]


def test_counts_reconcile_batch_by_batch_in_the_progress_reports(tmp_path: Path) -> None:
    """A batch is what one transaction writes and what progress reports: ``batch_size`` records, not one more."""
    path = write_jsonl(tmp_path / "calls.jsonl", [transcript(i) for i in range(5)])
    reads: list[tuple[int, int]] = []
    score_archive([path], tmp_path / "cx.duckdb", batch_size=2,
                  progress=lambda position, counts: reads.append((counts.read, counts.scored)))
    assert reads == [(2, 2), (4, 4), (5, 5), (5, 5)]
    broken = write_jsonl(tmp_path / "broken.jsonl", ["{oops"] * 3)  # rejections make batches of the same size
    reads.clear()
    score_archive([broken], tmp_path / "cx.duckdb", batch_size=2,
                  progress=lambda position, counts: reads.append((counts.read, counts.quarantined)))
    assert reads == [(2, 2), (3, 3), (3, 3)]


def test_counts_reconcile_on_an_input_without_records(tmp_path: Path) -> None:
    """A folder with nothing to read yet (an export still to come) is a completed run of nothing."""
    db = tmp_path / "cx.duckdb"
    (tmp_path / "exports").mkdir()
    summary = score_archive([tmp_path / "exports"], db)
    assert (summary.counts.read, summary.counts.scored, summary.quarantine_path) == (0, 0, None)
    assert rows(db, "SELECT status, n_read, n_scored FROM runs") == [("completed", 0, 0)]


def test_the_store_own_files_inside_the_input_folder_are_never_read(tmp_path: Path, archive: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    db = archive / "cx.duckdb"
    own = [archive / "cx.duckdb.quarantine.jsonl", archive / "cx.quarantine.jsonl",  # today's and the old name
           archive / "cx.duckdb.wal", archive / "cx.duckdb.tmp" / "spill.jsonl"]  # DuckDB's log, its temp folder
    (archive / "cx.duckdb.tmp").mkdir()
    for path in own:
        write_jsonl(path, ["{oops"])
    with caplog.at_level(logging.WARNING, logger="nlp.ingest.local"):
        summary = score_archive([archive], db)
    assert sorted(summary.own_files) == sorted(own)
    [warning] = [r.getMessage() for r in caplog.records if r.name == "nlp.ingest.local"]
    prefix = "not reading the store's own files: "
    assert warning.startswith(prefix) and sorted(warning[len(prefix):].split(", ")) == sorted(map(str, own))
    assert (summary.counts.read, summary.counts.scored, summary.counts.quarantined) == (50, 50, 0)


def test_rerun_is_idempotent_after_a_batch_write_that_failed_midway(tmp_path: Path) -> None:
    """``write_tables`` deletes a re-scored transcript's rows and inserts the new ones in one transaction: when an
    insert fails after the transcripts table's, the old version is still there, whole, and the store still writes."""
    db = tmp_path / "cx.duckdb"
    score_archive([write_jsonl(tmp_path / "calls.jsonl", [transcript(1), transcript(2)])], db)
    with Store(db) as store:
        def stored() -> list[list[tuple]]:
            return [store.con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()
                    for name in ("transcripts", "utterances", "segments", "promises")]

        before = stored()
        transcripts = store.con.sql("SELECT * FROM transcripts WHERE transcript_id = 'c0001'").to_arrow_table()
        utterances = store.con.sql("SELECT * FROM utterances WHERE transcript_id = 'c0001'").to_arrow_table()
        broken = utterances.set_column(utterances.schema.get_field_index("utterance_index"), "utterance_index",
                                       pa.array(["not a number"] * utterances.num_rows))
        empty = pa.table({})
        with pytest.raises(duckdb.ConversionException):
            store.write_tables((transcripts, broken, empty, empty, empty), ["c0001"])
        assert stored() == before
        store.write_tables((transcripts, utterances, empty, empty, empty), ["c0001"])  # the store still writes
        assert stored()[:2] == before[:2]


def test_export_writes_every_row_of_a_table_to_any_path(tmp_path: Path) -> None:
    db = tmp_path / "cx.duckdb"
    score_archive([write_jsonl(tmp_path / "calls.jsonl", [transcript(1), transcript(2)])], db)
    out = tmp_path / "it's a folder" / "utterances.parquet"  # a quote in the path, a folder to create
    with Store(db) as store:
        assert store.export_parquet("utterances", out) == out
        with pytest.raises(ValueError, match="unknown table 'utterance'"):
            store.export_parquet("utterance", tmp_path / "x.parquet")
    exported = duckdb.sql(f"SELECT * FROM read_parquet('{str(out).replace(chr(39), chr(39) * 2)}') ORDER BY ALL")
    assert exported.fetchall() == rows(db, "SELECT * FROM utterances ORDER BY ALL") != []
