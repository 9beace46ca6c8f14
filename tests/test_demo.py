"""The bundled demo: the archive is what the generator makes, and `journeylens demo` scores it end to end."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import duckdb

from nlp.resources import PROJECT_ROOT

DEMO = PROJECT_ROOT / "data" / "demo"
GENERATOR = PROJECT_ROOT / "scripts" / "generate_demo.py"
REDACTED_KINDS = {"phone", "email", "id", "card"}  # the truth also lists a street address, which is not redacted


def test_generator_reproduces_the_bundled_archive_byte_for_byte(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(GENERATOR), "--n", "2400", "--seed", "7", "--out", str(tmp_path)],
                   check=True, capture_output=True)
    for name in ("archive.jsonl.gz", "truth.jsonl.gz"):
        assert (tmp_path / name).read_bytes() == (DEMO / name).read_bytes(), name


def test_generator_streams_plain_jsonl_and_another_seed_differs() -> None:
    def first_lines(seed: int) -> list[str]:
        done = subprocess.run([sys.executable, str(GENERATOR), "--n", "20", "--seed", str(seed), "--out", "-"],
                              check=True, capture_output=True, text=True)
        return done.stdout.splitlines()

    seven = first_lines(7)
    assert len(seven) == 20 and all(json.loads(line)["turns"] for line in seven)
    assert seven == first_lines(7)
    assert seven != first_lines(8)


def test_demo_scores_every_contact_and_prints_the_stage_tables(demo_run) -> None:
    done, db = demo_run
    assert "2,400" in done.stdout and "quarantined" in done.stdout
    for title in ("journey stages · food_delivery", "journey stages · hotel_stay"):
        assert title in done.stdout
    for stage in ("配送 (delivery)", "退款售后 (refund)", "入住 (check_in)"):
        assert stage in done.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM transcripts").fetchall() == [(2400,)]
        customer, scored = con.execute(
            "SELECT count(*), count(sentiment) FROM utterances WHERE speaker = 'customer'").fetchall()[0]
    assert customer > 10_000 and scored == customer


def test_demo_store_holds_no_planted_pii(demo_run) -> None:
    _, db = demo_run
    with gzip.open(DEMO / "truth.jsonl.gz", "rt", encoding="utf-8") as handle:
        values = {pii["value"] for line in handle for pii in json.loads(line)["pii"] if pii["kind"] in REDACTED_KINDS}
    assert len(values) > 400
    with duckdb.connect(str(db), read_only=True) as con:
        texts = " ".join(text for (text,) in con.execute("SELECT text FROM utterances").fetchall())
    leaked = sorted(value for value in values if value in texts)
    assert leaked == []
