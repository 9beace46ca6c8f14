"""Files published by others (issue 20): each format read end to end, through ``analyze`` and into the store.

The fixtures under ``fixtures/readers/vendor`` are made from the vendors' published examples; their sources and
licences are listed in the README beside them.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from nlp.analyze import analyze_files
from nlp.bulk import score_archive
from nlp.readers import ReaderOptions, iter_records

VENDOR = Path(__file__).parent / "fixtures" / "readers" / "vendor"


def analyzed(tmp_path: Path, *paths: Path, **options) -> list[dict]:
    output = tmp_path / "out.jsonl"
    analyze_files(list(paths), output, reader_options=ReaderOptions(**options))
    return [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]


def stored(tmp_path: Path, *paths: Path, batch_size: int = 64, **options) -> tuple[object, list[dict]]:
    db = tmp_path / "cx.duckdb"
    summary = score_archive(list(paths), db, reader_options=ReaderOptions(**options), batch_size=batch_size)
    con = duckdb.connect(str(db), read_only=True)
    try:
        frame = con.sql("SELECT * FROM utterances ORDER BY transcript_id, utterance_index").df()
    finally:
        con.close()
    return summary.counts, frame.to_dict("records")


def test_per_call_folders_reusing_a_file_name_keep_one_transcript_per_call(tmp_path):
    folder = VENDOR / "percall"
    records = list(iter_records([folder]))
    assert [r.reason for r in records] == [None, None]
    assert [r.transcript.id for r in records] == ["c-20251228-7f3a", "2025-12-28/call-9b21/transcription"]
    counts, rows = stored(tmp_path, folder, batch_size=1)
    assert (counts.read, counts.scored, counts.replaced, counts.quarantined) == (2, 2, 0, 0)
    assert len({row["transcript_id"] for row in rows}) == 2
    lines = analyzed(tmp_path, folder)
    assert {line["transcript_id"] for line in lines} == {"c-20251228-7f3a", "2025-12-28/call-9b21/transcription"}


def test_the_same_file_listed_by_bulk_gets_the_same_relative_id(tmp_path):
    from nlp.readers import list_inputs

    folder = VENDOR / "percall"
    files = list_inputs([folder])
    assert [r.transcript.id for r in iter_records(files, roots=[folder])][1] == "2025-12-28/call-9b21/transcription"
    assert [r.transcript.id for r in iter_records(files)][1] == "transcription"  # no folder given: the stem
