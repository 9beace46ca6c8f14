"""Read one stored transcript back as the API shows it: metadata, utterances, segments and the summary."""

from __future__ import annotations

import json
from collections.abc import Mapping

import duckdb

from nlp.schema.document import Promise, Segment, Utterance
from nlp.schema.fields import fields_for
from service.analysis import contact_summary, segment_results, stage_names
from service.schemas.records import PromiseResult, UtteranceResult
from service.schemas.transcripts import StoredTranscript

# the stored columns of each record that the API shows (nlp.schema.fields)
_UTTERANCE_FIELDS = tuple(f.name for f in fields_for(Utterance, "api"))
_SEGMENT_FIELDS = tuple(f.name for f in fields_for(Segment, "store"))
_PROMISE_FIELDS = tuple(f.name for f in fields_for(Promise, "api"))


def _rows(con: duckdb.DuckDBPyConnection, sql: str, transcript_id: str) -> list[dict]:
    cursor = con.execute(sql, [transcript_id])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def stored_transcript(con: duckdb.DuckDBPyConnection, transcript_id: str,
                      weights: Mapping[str, float]) -> StoredTranscript | None:
    """The stored transcript ``transcript_id``, or None when there is none; ``weights``: the emotion weights of
    NEV (the service's analytics settings)."""
    found = _rows(con, "SELECT * FROM transcripts WHERE transcript_id = ?", transcript_id)
    if not found:
        return None
    t = found[0]
    utterances = [
        UtteranceResult(index=row["utterance_index"], **{f: row.get(f) for f in _UTTERANCE_FIELDS})
        for row in _rows(con, "SELECT * FROM utterances WHERE transcript_id = ? ORDER BY utterance_index",
                         transcript_id)
    ]
    segments = [
        Segment(**{f: row[f] for f in _SEGMENT_FIELDS})
        for row in _rows(con, "SELECT * FROM segments WHERE transcript_id = ? ORDER BY segment_index", transcript_id)
    ]
    promises = [PromiseResult(**{f: row.get(f) for f in _PROMISE_FIELDS})
                for row in _rows(con, "SELECT * FROM promises WHERE transcript_id = ? ORDER BY promise_index",
                                 transcript_id)]
    segment_views = segment_results(segments, utterances, stage_names(t["taxonomy"]), weights)
    return StoredTranscript(
        id=t["transcript_id"], channel=t["channel"], started_at=t["started_at"], customer_id=t["customer_id"],
        order_id=t["order_id"], business_line=t["business_line"], language=t["language"], taxonomy=t["taxonomy"],
        metadata=json.loads(t["metadata"]) if t["metadata"] else {}, n_turns=t["n_turns"], source=t["source"],
        run_id=t["run_id"], fingerprint=t["fingerprint"], scored_at=t["scored_at"],
        summary=contact_summary(utterances, segment_views, weights), segments=segment_views, utterances=utterances,
        promises=promises,
    )
