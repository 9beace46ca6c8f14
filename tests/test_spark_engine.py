"""The Spark engine in local mode against the local engine: same archive, identical rows, same quarantine."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from nlp.ingest.run import quarantine_path_for

pytest.importorskip("pyspark")

ROOT = Path(__file__).resolve().parents[1]
PHONE = "13912345678"
KEYS = {"transcripts": "transcript_id", "utterances": "transcript_id, utterance_index",
        "segments": "transcript_id, segment_index", "promises": "transcript_id, promise_index",
        "categories": "transcript_id, category_id, utterance_index"}
UNSTABLE = {"transcripts": ("run_id", "scored_at"), "categories": ("categorized_at",)}  # when, not what


def cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "nlp.cli", *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 demo transcripts in two gzip parts, a per-turn CSV export and a file of broken records."""
    folder = tmp_path_factory.mktemp("spark") / "archive"
    folder.mkdir()
    with gzip.open(ROOT / "data" / "demo" / "archive.jsonl.gz", "rt", encoding="utf-8") as demo:
        lines = [next(demo) for _ in range(300)]
    for part, chunk in enumerate((lines[:180], lines[180:])):
        with gzip.open(folder / f"part-{part}.jsonl.gz", "wt", encoding="utf-8") as handle:
            handle.writelines(chunk)
    (folder / "export.csv").write_text(
        "id,speaker,text,started_at\n"
        f"csv-1,客户,骑手一直没到，电话{PHONE}打不通,2026-10-02T08:00:00+08:00\n"
        "csv-1,客服,非常抱歉，马上为您催单,2026-10-02T08:00:00+08:00\n", encoding="utf-8")
    (folder / "broken.jsonl").write_text(
        '{"id": "b1", "turns": [\n["not an object"]\n{"id": "b2", "turns": []}\n'
        f'{{"id": "b3", "turns": [{{"speaker": "customer", "text": "我的手机{PHONE}"}}]}}\n', encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def both(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The archive scored by the local engine and by Spark (local[2], set as a cluster would set it: through a
    Spark setting, not --master), the latter imported into DuckDB."""
    work = tmp_path_factory.mktemp("engines")
    local, parquet, imported = work / "local.duckdb", work / "parquet", work / "spark.duckdb"
    cli("score", str(archive), "--db", str(local))
    done = cli("score", str(archive), "--engine", "spark", "--spark-conf", "spark.master=local[2]",
               "--spark-conf", "spark.sql.shuffle.partitions=4", "--output", str(parquet))
    assert "quarantined" in done.stdout
    cli("import-parquet", str(parquet), "--db", str(imported))
    return local, parquet, imported


def table(db: Path, name: str) -> pd.DataFrame:
    dropped = f" EXCLUDE ({', '.join(UNSTABLE[name])})" if name in UNSTABLE else ""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(f"SELECT *{dropped} FROM {name} ORDER BY {KEYS[name]}").df()


@pytest.mark.parametrize("name", list(KEYS))
def test_spark_and_local_engines_store_identical_rows(both, name: str) -> None:
    local, _, imported = both
    expected, actual = table(local, name), table(imported, name)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(actual, expected)


def test_quarantine_and_counts_reconcile_like_the_local_engine(both) -> None:
    local, parquet, _ = both
    run = json.loads((parquet / "_journeylens_run.json").read_text())
    with duckdb.connect(str(local), read_only=True) as con:
        n_read, n_scored, n_quarantined, n_repaired = con.execute(
            "SELECT n_read, n_scored, n_quarantined, n_repaired FROM runs").fetchone()
        fingerprint = con.execute("SELECT any_value(fingerprint) FROM transcripts").fetchone()[0]
    assert run["counts"] == {"read": n_read, "scored": n_scored, "quarantined": n_quarantined, "skipped": 0,
                             "replaced": 0, "repaired": n_repaired}
    assert (n_read, n_scored, n_quarantined) == (305, 302, 3)
    assert run["fingerprint"] == fingerprint
    assert run["master"] == "local[2]"
    expected = sorted((Path(q["source"]).name, q["location"], q["reason"]) for q in map(
        json.loads, quarantine_path_for(local).read_text(encoding="utf-8").splitlines()))
    spark = pd.read_parquet(parquet / "quarantine")
    assert sorted(zip(spark["source"].map(lambda s: Path(s).name), spark["location"], spark["reason"],
                      strict=True)) == expected
    assert PHONE not in spark.to_json(force_ascii=False)


def test_tables_are_partitioned_by_day_and_reimport_changes_nothing(both, tmp_path: Path) -> None:
    _, parquet, imported = both
    days = sorted(p.name for p in (parquet / "utterances").iterdir() if p.is_dir())
    assert "day=__HIVE_DEFAULT_PARTITION__" in days  # transcripts without a start time
    assert len(days) > 10 and all(re.fullmatch(r"day=2026-\d\d-\d\d", d) for d in days[:-1])
    for path in parquet.rglob("*.parquet"):
        assert PHONE.encode() not in path.read_bytes()
    copy = tmp_path / "again.duckdb"
    shutil.copy(imported, copy)
    cli("import-parquet", str(parquet), "--db", str(copy))
    for name in KEYS:
        pd.testing.assert_frame_equal(table(copy, name), table(imported, name))
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs WHERE command = 'import-parquet'").fetchone()[0] == 2


def test_a_folder_named_with_pii_is_stored_and_printed_redacted(both, tmp_path: Path) -> None:
    _, parquet, _ = both
    named = tmp_path / f"export-{PHONE}"
    shutil.copytree(parquet, named)
    db = tmp_path / "named.duckdb"
    done = cli("import-parquet", str(named), "--db", str(db))
    assert PHONE not in done.stdout + done.stderr and "export-<PHONE>" in done.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        inputs = con.execute("SELECT inputs FROM runs WHERE command = 'import-parquet'").fetchone()[0]
    assert PHONE not in str(inputs) and "export-<PHONE>" in str(inputs)
    refused = subprocess.run([sys.executable, "-m", "nlp.cli", "import-parquet", str(tmp_path / f"x-{PHONE}"),
                              "--db", str(db)], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "COLUMNS": "300"})
    assert refused.returncode == 2 and PHONE not in refused.stdout + refused.stderr


def test_import_refuses_a_folder_that_is_not_spark_output(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "nlp.cli", "import-parquet", str(tmp_path), "--db",
                           str(tmp_path / "x.duckdb")], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "300"})
    assert done.returncode == 2 and "no _journeylens_run.json" in done.stderr


def test_duplicate_ids_last_read_wins_as_in_the_local_engine(tmp_path: Path) -> None:
    """day1 holds c1…c10, day2 an identical c1 and c8…c20, with c8…c10 changed since day1."""
    def contact(i: int, text: str = "骑手怎么还没到？我要投诉！") -> str:
        return json.dumps({"id": f"c{i:04d}", "started_at": "2026-10-01T12:00:00",
                           "turns": [{"speaker": "customer", "text": text}]}, ensure_ascii=False) + "\n"

    archive = tmp_path / "exports"
    archive.mkdir()
    (archive / "day1.jsonl").write_text("".join(contact(i) for i in range(1, 11)), encoding="utf-8")
    (archive / "day2.jsonl").write_text(contact(1) + "".join(contact(i, "饭洒了，太失望了") for i in range(8, 11))
                                        + "".join(contact(i) for i in range(11, 21)), encoding="utf-8")
    parquet, imported = tmp_path / "parquet", tmp_path / "spark.duckdb"
    cli("score", str(archive), "--engine", "spark", "--master", "local[2]", "--output", str(parquet))
    run = json.loads((parquet / "_journeylens_run.json").read_text())
    assert run["counts"] == {"read": 24, "scored": 20, "quarantined": 0, "skipped": 1, "replaced": 3,
                             "repaired": 0}
    cli("import-parquet", str(parquet), "--db", str(imported))
    with duckdb.connect(str(imported), read_only=True) as con:
        stored = con.execute("SELECT transcript_id, text FROM utterances WHERE utterance_index = 0 AND transcript_id "
                             "IN ('c0007', 'c0008') ORDER BY 1").fetchall()
    assert stored == [("c0007", "骑手怎么还没到？"), ("c0008", "饭洒了，太失望了")]
