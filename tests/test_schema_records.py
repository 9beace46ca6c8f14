"""One record shape: the store's columns, the API's models and the JSON lines follow the dataclasses of
``nlp.schema.document``, so a field added there appears everywhere, and no copy can drift."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

import nlp.store
from nlp.ingest.to_jsonl import utterance_rows
from nlp.schema.document import AnalyzedTranscript, Promise, Segment, Utterance
from nlp.schema.fields import columns_sql, fields_for, record_field
from nlp.schema.transcript import Transcript
from nlp.store import RECORD_TABLES, ScoredRecord, Store, record_tables_sql, rows_for, table_schemas
from service.schemas.records import PromiseResult, SegmentResult, UtteranceResult, record_model

API_MODELS = {Utterance: (UtteranceResult, {"index"}), Segment: (SegmentResult, {"stage_name", "nev",
                                                                                 "dominant_emotion"}),
              Promise: (PromiseResult, set())}


def _names(record: type, output: str) -> list[str]:
    return [f.name for f in fields_for(record, output)]  # type: ignore[arg-type]


@pytest.mark.parametrize("table", list(RECORD_TABLES))
def test_store_columns_are_the_record_fields(table: str) -> None:
    record, keys = RECORD_TABLES[table]
    stored = list(table_schemas()[table].names)
    vendor = ["vendor_sentiment", "vendor_issues"] if table == "utterances" else []  # from the transcript's turns
    assert stored == [name for name, _ in keys] + _names(record, "store") + vendor


def test_store_columns_keep_the_names_and_order_of_existing_files() -> None:
    assert list(table_schemas()["utterances"].names) == [
        "transcript_id", "utterance_index", "turn_index", "sentence_index", "speaker", "speaker_label", "text",
        "language", "start_ms", "end_ms", "ts", "segment_index", "stage", "stage_confidence", "issue_type",
        "service_step", "sentiment", "sentiment_score", "emotion", "emotion_coarse", "emotion_confidence",
        "char_start", "char_end", "vendor_sentiment", "vendor_issues"]
    assert dict(columns_sql(Utterance))["start_ms"] == "BIGINT" and dict(columns_sql(Promise))["made_at"] == "TIMESTAMP"


@pytest.mark.parametrize("record", list(API_MODELS))
def test_api_models_are_the_record_fields(record: type) -> None:
    model, extra = API_MODELS[record]
    assert set(model.model_fields) - extra == set(_names(record, "api"))
    assert [n for n in model.model_fields if n not in extra] == _names(record, "api")  # same order
    for f in fields_for(record, "api"):
        if f.metadata.get("description"):
            assert model.model_fields[f.name].description == f.metadata["description"]


def test_the_api_leaves_out_only_what_the_record_says() -> None:
    assert set(_names(Utterance, "store")) - set(_names(Utterance, "api")) == {"speaker_label", "language"}
    assert "tokens" not in _names(Utterance, "store") + _names(Utterance, "api") + _names(Utterance, "jsonl")


@dataclasses.dataclass
class MoodUtterance(Utterance):
    """Utterance with one more field, as one edit in schema/ would add it."""

    mood: str | None = record_field(default=None, description="How the customer sounded.")


def _doc() -> AnalyzedTranscript:
    transcript = Transcript.model_validate({"id": "t1", "turns": [{"speaker": "customer", "text": "太慢了"}]})
    utterance = MoodUtterance(turn_index=0, sentence_index=0, speaker="customer", text="太慢了", language="zh",
                              tokens=("太", "慢"), ts=datetime(2026, 9, 1, 2, tzinfo=UTC), mood="grumpy")
    return AnalyzedTranscript(transcript, "zh", "food_delivery", utterances=[utterance])


def test_a_new_utterance_field_reaches_store_api_and_jsonl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the store: an existing file (today's DDL) gains the column, and rows carry it
    path = tmp_path / "old.duckdb"
    with Store(path):
        pass
    monkeypatch.setitem(RECORD_TABLES, "utterances", (MoodUtterance, RECORD_TABLES["utterances"][1]))
    monkeypatch.setattr(nlp.store, "_SCHEMA", nlp.store._SCHEMA.replace(
        nlp.store._SCHEMA[nlp.store._SCHEMA.index("CREATE TABLE IF NOT EXISTS utterances"):
                          nlp.store._SCHEMA.index("-- categories")], record_tables_sql() + "\n"))
    doc = _doc()
    with Store(path) as store:
        store.write_tables(rows_for([ScoredRecord(doc, "test", "memory", "hash")], "run", "fp"), ["t1"])
        assert store.con.execute("SELECT mood FROM utterances").fetchall() == [("grumpy",)]
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT column_name FROM (DESCRIBE utterances)").fetchall()[-1] == ("mood",)
    # the API
    model = record_model(MoodUtterance, "MoodUtteranceResult", "test", leading={"index": (int, ...)})
    assert list(model.model_fields)[-1] == "mood"
    assert model.model_fields["mood"].description == "How the customer sounded."
    answer = model(index=0, **{f: getattr(doc.utterances[0], f) for f in model.model_fields if f != "index"})
    assert json.loads(answer.model_dump_json())["mood"] == "grumpy"
    # the JSON lines
    (line,) = utterance_rows(doc)
    assert line["mood"] == "grumpy" and line["ts"] == "2026-09-01T02:00:00+00:00"


def test_jsonl_rows_are_the_record_fields() -> None:
    doc = _doc()
    doc.utterances = [Utterance(**{f.name: getattr(doc.utterances[0], f.name) for f in dataclasses.fields(Utterance)})]
    (line,) = utterance_rows(doc)
    assert list(line) == ["transcript_id", *_names(Utterance, "jsonl"), "vendor_sentiment", "vendor_issues",
                          "vendor_categories"]
