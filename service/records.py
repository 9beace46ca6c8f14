"""Read one stored transcript back as the API shows it: metadata, utterances, segments, the summary and the
categories it matched with their evidence utterances."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import duckdb

from nlp.schema.document import Promise, Segment, Utterance
from nlp.schema.fields import fields_for
from service.analysis import contact_summary, segment_results, stage_names
from service.schemas.records import PromiseResult, UtteranceResult
from service.schemas.transcripts import StoredTranscript, TranscriptCategory

# the stored columns of each record that the API shows (nlp.schema.fields)
_UTTERANCE_FIELDS = tuple(f.name for f in fields_for(Utterance, "api"))
_SEGMENT_FIELDS = tuple(f.name for f in fields_for(Segment, "store"))
_PROMISE_FIELDS = tuple(f.name for f in fields_for(Promise, "api"))


def _rows(con: duckdb.DuckDBPyConnection, sql: str, transcript_id: str) -> list[dict]:
    cursor = con.execute(sql, [transcript_id])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def stored_categories(con: duckdb.DuckDBPyConnection, transcript_id: str, utterances: Sequence[UtteranceResult],
                      names: Mapping[str, str]) -> list[TranscriptCategory]:
    """The categories stored for ``transcript_id`` (one row per evidence utterance, NULL when none shows the
    match), each with its evidence utterances and their turns; ``names``: the configured categories' names by id,
    in their order (stored ids without a definition follow, by id, named by their id)."""
    turn_of = {u.index: u.turn_index for u in utterances}
    found: dict[str, tuple[str, set[int]]] = {}
    for category_id, level, index in con.execute(
            "SELECT category_id, level, utterance_index FROM categories WHERE transcript_id = ?",
            [transcript_id]).fetchall():
        _, indexes = found.setdefault(category_id, (level, set()))
        if index is not None:
            indexes.add(index)
    order = {category_id: i for i, category_id in enumerate(names)}
    return [
        TranscriptCategory(id=category_id, name=names.get(category_id, category_id), level=level,
                           utterance_indexes=sorted(indexes),
                           turn_indexes=sorted({turn_of[i] for i in indexes if turn_of.get(i) is not None}))
        for category_id, (level, indexes) in sorted(found.items(), key=lambda kv: (order.get(kv[0], len(order)),
                                                                                    kv[0]))
    ]


def stored_transcript(con: duckdb.DuckDBPyConnection, transcript_id: str, weights: Mapping[str, float],
                      category_names: Mapping[str, str] | None = None) -> StoredTranscript | None:
    """The stored transcript ``transcript_id``, or None when there is none; ``weights``: the emotion weights of
    NEV (the service's analytics settings); ``category_names``: the configured categories' names by id, in
    their order."""
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
        promises=promises, categories=stored_categories(con, transcript_id, utterances, category_names or {}),
    )
