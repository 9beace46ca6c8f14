"""Running categories: over a batch of analysed transcripts (in the pipeline) or over a store (retroactively).

Both run the query of ``nlp.categories.sql``: the pipeline registers the batch's rows, shaped like the stored
``utterances`` and ``transcripts`` tables, in an in-memory DuckDB; ``categorize_store`` runs it over the stored
tables, so a new definition runs over history without re-scoring anything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import duckdb
import pyarrow as pa

from nlp.categories.model import CategorySet
from nlp.categories.sql import RESULT_COLUMNS, categorize_sql
from nlp.schema.document import AnalyzedTranscript


@dataclass(frozen=True)
class CategoryMatch:
    """A category a contact matched, with one utterance that is evidence for it (None: a contact-level match
    that no single utterance shows, e.g. ``not`` or a metadata condition)."""

    category_id: str
    level: str
    utterance_index: int | None
    evidence: str | None


_QUERIES: dict[tuple, str] = {}


def _query(categories: CategorySet, utterances: str, transcripts: str) -> str:
    """The compiled query, cached by the definitions' digests (compiling tokenizes every phrase)."""
    key = (tuple(c.digest for c in categories.categories), utterances, transcripts)
    if key not in _QUERIES:
        if len(_QUERIES) > 32:
            _QUERIES.clear()
        _QUERIES[key] = categorize_sql(categories, utterances, transcripts)
    return _QUERIES[key]


@lru_cache(maxsize=1)
def _memory() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(config={"threads": 1})


def batch_frames(docs: Sequence[AnalyzedTranscript]) -> tuple[pa.Table, pa.Table]:
    """The batch's rows as the store would hold them (the columns the query reads), without writing anything."""
    u_cols: dict[str, list] = {name: [] for name in (
        "transcript_id", "utterance_index", "sentence_index", "speaker", "text", "language", "stage",
        "stage_confidence", "issue_type", "service_step", "sentiment", "sentiment_score", "emotion",
        "emotion_coarse", "emotion_confidence", "start_ms", "end_ms")}
    t_cols: dict[str, list] = {"transcript_id": [], "channel": [], "business_line": [], "metadata": []}
    for doc in docs:
        t = doc.transcript
        t_cols["transcript_id"].append(t.id)
        t_cols["channel"].append(t.channel)
        t_cols["business_line"].append(t.business_line)
        t_cols["metadata"].append(json.dumps(t.metadata, ensure_ascii=False, default=str))
        for index, u in enumerate(doc.utterances):
            u_cols["transcript_id"].append(t.id)
            u_cols["utterance_index"].append(index)
            for name in list(u_cols)[2:]:
                u_cols[name].append(getattr(u, name))
    types = {"utterance_index": pa.int32(), "sentence_index": pa.int32(), "start_ms": pa.int64(),
             "end_ms": pa.int64(), "stage_confidence": pa.float64(), "sentiment_score": pa.float64(),
             "emotion_confidence": pa.float64()}
    utterances = pa.table({k: pa.array(v, type=types.get(k, pa.string())) for k, v in u_cols.items()})
    transcripts = pa.table({k: pa.array(v, type=pa.string()) for k, v in t_cols.items()})
    return utterances, transcripts


def categorize_documents(docs: Sequence[AnalyzedTranscript], categories: CategorySet) -> None:
    """Set ``doc.categories`` (every match with its evidence) and each utterance's ``categories`` (the ids of the
    utterance-level categories it matched), in the order of the category set."""
    for doc in docs:
        doc.categories = []
        for u in doc.utterances:
            u.categories = []
    if not categories or not docs:
        return
    utterances, transcripts = batch_frames(docs)
    if utterances.num_rows == 0:
        return
    cursor = _memory().cursor()
    try:
        cursor.register("_batch_utterances", utterances)
        cursor.register("_batch_transcripts", transcripts)
        rows = cursor.execute(_query(categories, "_batch_utterances", "_batch_transcripts")).fetchall()
    finally:
        cursor.close()
    order = {cid: k for k, cid in enumerate(categories.ids)}
    by_id = {doc.transcript.id: doc for doc in docs}
    rows.sort(key=lambda r: (order[r[1]], -1 if r[3] is None else r[3]))
    for transcript_id, category_id, level, index, evidence in rows:
        doc = by_id[transcript_id]
        doc.categories.append(CategoryMatch(category_id, level, index, evidence))
        if level == "utterance":
            doc.utterances[index].categories.append(category_id)


def category_rows(transcript_id: str, matches: Sequence[CategoryMatch], categorized_at: datetime) -> list[dict]:
    """The stored ``categories`` rows of one contact."""
    return [{"transcript_id": transcript_id, "category_id": m.category_id, "level": m.level,
             "utterance_index": m.utterance_index, "evidence": m.evidence, "categorized_at": categorized_at}
            for m in matches]


def categorize_store(con: duckdb.DuckDBPyConnection, categories: CategorySet) -> dict[str, int]:
    """Re-evaluate ``categories`` over every stored contact, replacing their earlier rows (other categories are
    left as they are), in one transaction. Returns the number of contacts each category matched."""
    query = _query(categories, "utterances", "transcripts")
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM categories WHERE category_id IN (SELECT unnest(?))", [categories.ids])
        con.execute(f"INSERT INTO categories ({', '.join(RESULT_COLUMNS)}, categorized_at) "
                    f"SELECT *, ?::TIMESTAMP FROM ({query})", [now])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    counts = dict(con.execute("SELECT category_id, count(DISTINCT transcript_id) FROM categories "
                              "WHERE category_id IN (SELECT unnest(?)) GROUP BY ALL", [categories.ids]).fetchall())
    return {cid: counts.get(cid, 0) for cid in categories.ids}
