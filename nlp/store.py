"""The store: an embedded DuckDB file with transcripts, utterances, segments and a run log.

Each batch is written in one transaction, so a killed run leaves only whole transcripts behind and a re-run
picks up where it stopped. A transcript is stored once per id; it is scored again only when its content or
the pipeline's fingerprint (models, taxonomy, configuration) changed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from nlp.schema.document import AnalyzedTranscript, Promise, Segment, Utterance
from nlp.schema.fields import columns_sql, row
from nlp.schema.transcript import Transcript

TABLES = ("transcripts", "utterances", "segments", "promises", "categories", "runs")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, command VARCHAR, inputs JSON, started_at TIMESTAMP, finished_at TIMESTAMP,
    status VARCHAR, model_versions JSON, fingerprint VARCHAR,
    n_read BIGINT, n_scored BIGINT, n_quarantined BIGINT, n_skipped BIGINT
);
CREATE TABLE IF NOT EXISTS transcripts (
    transcript_id VARCHAR PRIMARY KEY, content_hash VARCHAR, fingerprint VARCHAR, run_id VARCHAR,
    source VARCHAR, location VARCHAR, channel VARCHAR, started_at TIMESTAMP, customer_id VARCHAR,
    order_id VARCHAR, business_line VARCHAR, language VARCHAR, taxonomy VARCHAR, metadata JSON,
    n_turns INTEGER, n_utterances INTEGER, n_segments INTEGER, scored_at TIMESTAMP
);
{records}
-- categories each contact matched (nlp.categories), one row per evidence utterance (NULL: none shows it)
CREATE TABLE IF NOT EXISTS categories (
    transcript_id VARCHAR, category_id VARCHAR, level VARCHAR, utterance_index INTEGER, evidence VARCHAR,
    categorized_at TIMESTAMP
);
-- columns added after 0.1.0 (those of the records: above); a changed pipeline version rescores the older rows
ALTER TABLE utterances ADD COLUMN IF NOT EXISTS vendor_sentiment VARCHAR;
ALTER TABLE utterances ADD COLUMN IF NOT EXISTS vendor_issues JSON;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS n_replaced BIGINT;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS n_repaired BIGINT;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS host VARCHAR;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS pid BIGINT;
"""

# The tables of the records (nlp.schema.document): their key columns, then one column per stored field of the
# record, in field order. A field added to a record is added to existing files too (ADD COLUMN IF NOT EXISTS).
RECORD_TABLES: dict[str, tuple[type, tuple[tuple[str, str], ...]]] = {
    "utterances": (Utterance, (("transcript_id", "VARCHAR"), ("utterance_index", "INTEGER"))),
    "segments": (Segment, (("transcript_id", "VARCHAR"),)),
    "promises": (Promise, (("transcript_id", "VARCHAR"), ("promise_index", "INTEGER"))),
}


def record_tables_sql() -> str:
    """CREATE TABLE (and ADD COLUMN, for files made before a field existed) of each record table."""
    statements = []
    for table, (record, keys) in RECORD_TABLES.items():
        columns = [*keys, *columns_sql(record)]
        statements.append(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(f'{n} {t}' for n, t in columns)});")
        statements.extend(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {n} {t};" for n, t in columns_sql(record))
    return "\n".join(statements)


_SCHEMA = _SCHEMA.format(records=record_tables_sql())


VENDOR_SENTIMENT = "vendor_sentiment"  # turn metadata key: the source platform's own sentiment label for the turn


def vendor_sentiment(transcript: Transcript, turn_index: int) -> str | None:
    """The sentiment the source platform gave a turn (Contact Lens, Transcribe, CCAI: positive, negative, neutral,
    mixed), as the readers keep it in turn metadata; None when the source gave none."""
    value = transcript.turns[turn_index].metadata.get(VENDOR_SENTIMENT)
    return value if isinstance(value, str) else None


def vendor_issues(transcript: Transcript, turn_index: int) -> list[str] | None:
    """The words of a turn the source platform marked as the customer's issue (Contact Lens, Transcribe)."""
    value = transcript.turns[turn_index].metadata.get("vendor_issues")
    return [str(item) for item in value] if isinstance(value, list) and value else None


def content_hash(transcript: Transcript) -> str:
    """A digest of the transcript as read, before any cleaning: a changed export gets scored again."""
    return hashlib.sha256(transcript.model_dump_json().encode("utf-8")).hexdigest()[:32]


@dataclass
class RunCounts:
    """What a run did with every record it read: read == scored + quarantined + skipped + replaced (the meaning of
    each count: ``nlp.ingest.local``)."""

    read: int = 0
    scored: int = 0
    quarantined: int = 0
    skipped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    replaced: int = field(default=0, kw_only=True)
    repaired: int = field(default=0, kw_only=True)  # of those read, kept after a repair (metadata["warnings"])

    @property
    def reconciles(self) -> bool:
        return self.read == self.scored + self.quarantined + self.skipped + self.replaced


@dataclass(frozen=True)
class ScoredRecord:
    """An analyzed transcript with where it came from and the digest of what was read."""

    doc: AnalyzedTranscript
    source: str
    location: str
    content_hash: str


class Store:
    """A DuckDB file holding scored transcripts. Use as a context manager."""

    def __init__(self, path: str | Path, read_only: bool = False, memory_limit: str | None = None) -> None:
        """``memory_limit`` caps DuckDB's buffer (e.g. ``"256MB"``); without it DuckDB may cache the growing file
        up to 80% of RAM, so a long bulk write grows with the archive."""
        self.path = Path(path)
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        config = {"memory_limit": memory_limit} if memory_limit else {}
        self.con = duckdb.connect(str(self.path), read_only=read_only, config=config)
        if not read_only:
            self.con.execute(_SCHEMA)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    # -- runs ----------------------------------------------------------------------------------------------
    def start_run(self, command: str, inputs: Sequence[str], model_versions: dict, fingerprint: str) -> str:
        """Log a new run as ``running`` (with this process's host and pid); earlier runs still marked ``running``
        whose process is gone become ``interrupted`` first."""
        self.interrupt_stale_runs()
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
        self.con.execute(
            "INSERT INTO runs (run_id, command, inputs, started_at, status, model_versions, fingerprint, n_read, "
            "n_scored, n_quarantined, n_skipped, n_replaced, n_repaired, host, pid) "
            "VALUES (?, ?, ?, ?, 'running', ?, ?, 0, 0, 0, 0, 0, 0, ?, ?)",
            [run_id, command, json.dumps(list(inputs), ensure_ascii=False), _now(),
             json.dumps(model_versions), fingerprint, socket.gethostname(), os.getpid()],
        )
        return run_id

    def interrupt_stale_runs(self) -> None:
        """Mark ``running`` runs of other processes ``interrupted``: DuckDB lets one process at a time open the file
        for writing and this one has, so no other process can still be running one (a killed run never got to
        mark itself)."""
        self.con.execute(
            "UPDATE runs SET status = 'interrupted' WHERE status = 'running' "
            "AND (host IS DISTINCT FROM ? OR pid IS DISTINCT FROM ?)",
            [socket.gethostname(), os.getpid()],
        )

    def finish_run(self, run_id: str, counts: RunCounts, status: str) -> None:
        self.con.execute(
            "UPDATE runs SET finished_at = ?, status = ?, n_read = ?, n_scored = ?, n_quarantined = ?, "
            "n_skipped = ?, n_replaced = ?, n_repaired = ? WHERE run_id = ?",
            [_now(), status, counts.read, counts.scored, counts.quarantined, counts.skipped, counts.replaced,
             counts.repaired, run_id],
        )

    # -- transcripts ---------------------------------------------------------------------------------------
    def unchanged(self, keys: Iterable[tuple[str, str]], fingerprint: str) -> set[str]:
        """Of the (id, content hash) pairs, the ids already stored with that content and fingerprint."""
        keys = list(keys)
        if not keys:
            return set()
        self.con.register("_keys", pa.table({"transcript_id": [k[0] for k in keys],
                                             "content_hash": [k[1] for k in keys]}))
        try:
            rows = self.con.execute(
                "SELECT t.transcript_id FROM transcripts t JOIN _keys k USING (transcript_id, content_hash) "
                "WHERE t.fingerprint = ?",
                [fingerprint],
            ).fetchall()
        finally:
            self.con.unregister("_keys")
        return {r[0] for r in rows}

    def stored_by_run(self, ids: Sequence[str], run_id: str) -> set[str]:
        """Of ``ids``, those a record of run ``run_id`` has already stored."""
        if not ids:
            return set()
        self.con.register("_ids", pa.table({"transcript_id": list(ids)}))
        try:
            rows = self.con.execute("SELECT transcript_id FROM transcripts WHERE run_id = ? AND transcript_id IN "
                                    "(SELECT transcript_id FROM _ids)", [run_id]).fetchall()
        finally:
            self.con.unregister("_ids")
        return {r[0] for r in rows}

    def write_tables(self, tables: Sequence[pa.Table], ids: Sequence[str]) -> None:
        """Replace the rows of transcripts ``ids`` with ``tables`` (transcripts, utterances, segments, promises,
        categories), atomically."""
        if not ids:
            return
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.register("_ids", pa.table({"transcript_id": list(ids)}))
            stored = self.con.execute("SELECT count(*) FROM transcripts WHERE transcript_id IN "
                                      "(SELECT transcript_id FROM _ids)").fetchall()[0][0]
            # Deleting scans the big tables, so only when some transcripts are re-scored: a fresh archive never
            # pays for it, and the write time stays flat as the file grows.
            for name in ("utterances", "segments", "promises", "categories", "transcripts") if stored else ():
                self.con.execute(f"DELETE FROM {name} WHERE transcript_id IN (SELECT transcript_id FROM _ids)")
            for name, table in zip(("transcripts", "utterances", "segments", "promises", "categories"), tables,
                                   strict=True):
                if table.num_rows:
                    self.con.register("_rows", table)
                    self.con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _rows")
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        finally:
            for name in ("_ids", "_rows"):
                self.con.unregister(name)

    def export_parquet(self, table: str, path: str | Path) -> Path:
        """Write one table to a Parquet file."""
        if table not in TABLES:
            raise ValueError(f"unknown table {table!r}: choose from {list(TABLES)}")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con.execute(f"COPY {table} TO '{_sql_string(str(path))}' (FORMAT parquet)")
        return path


@functools.cache
def table_schemas() -> dict[str, pa.Schema]:
    """The Arrow schema of each stored table, from the DDL, so that every writer produces the same types."""
    con = duckdb.connect()
    try:
        con.execute(_SCHEMA)
        return {name: con.sql(f"SELECT * FROM {name} LIMIT 0").to_arrow_table().schema for name in TABLES}
    finally:
        con.close()


def rows_for(records: Sequence[ScoredRecord], run_id: str, fingerprint: str) -> tuple[pa.Table, ...]:
    """Arrow tables (transcripts, utterances, segments, promises, categories) for analyzed transcripts, for
    ``write_tables``."""
    scored_at = _now()
    transcripts, utterances, segments, promises, categories = [], [], [], [], []
    for record in records:
        doc, t = record.doc, record.doc.transcript
        transcripts.append({
            "transcript_id": t.id, "content_hash": record.content_hash, "fingerprint": fingerprint,
            "run_id": run_id, "source": record.source, "location": record.location, "channel": t.channel,
            "started_at": t.started_at, "customer_id": t.customer_id, "order_id": t.order_id,
            "business_line": t.business_line, "language": doc.language, "taxonomy": doc.taxonomy,
            "metadata": json.dumps(t.metadata, ensure_ascii=False, default=str), "n_turns": len(t.turns),
            "n_utterances": len(doc.utterances), "n_segments": len(doc.segments), "scored_at": scored_at,
        })
        for index, u in enumerate(doc.utterances):
            issues = vendor_issues(t, u.turn_index)
            utterances.append({"transcript_id": t.id, "utterance_index": index, **row(u, "store"),
                               VENDOR_SENTIMENT: vendor_sentiment(t, u.turn_index),
                               "vendor_issues": json.dumps(issues, ensure_ascii=False) if issues else None})
        segments.extend({"transcript_id": t.id, **row(s, "store")} for s in doc.segments)
        promises.extend({"transcript_id": t.id, "promise_index": i, **row(p, "store")}
                        for i, p in enumerate(doc.promises))
        categories.extend({"transcript_id": t.id, **asdict(m), "categorized_at": scored_at} for m in doc.categories)
    schemas = (None, None, None, None, table_schemas()["categories"])  # the DDL's types (columns all None, too)
    return tuple(_table(rows, schema) for rows, schema in zip(
        (transcripts, utterances, segments, promises, categories), schemas, strict=True))


def _table(rows: list[dict], schema: pa.Schema | None = None) -> pa.Table:
    if not rows:
        return pa.table({})
    if schema is not None:  # columns that may be all None keep their type
        return pa.Table.from_pylist(rows, schema=schema)
    columns = {key: [r[key] for r in rows] for key in rows[0]}
    return pa.table({k: _array(v) for k, v in columns.items()})


def _array(values: list) -> pa.Array:
    if all(v is None for v in values):
        return pa.array(values, type=pa.string())
    if any(isinstance(v, datetime) for v in values):
        # Timestamps are stored as UTC without zone; naive ones are taken as already UTC.
        values = [v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) and v.tzinfo else v
                  for v in values]
        return pa.array(values, type=pa.timestamp("us"))
    return pa.array(values)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _sql_string(text: str) -> str:
    return text.replace("'", "''")


def vendor_agreement(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Our sentiment against the source platform's, per vendor label: for each label the platform gave (the
    utterances of a turn share its label), how many scored utterances we called positive, neutral and negative,
    and the share where we agree. "mixed" has no counterpart among ours, so it agrees with nothing. Empty when
    no stored utterance carries a vendor sentiment."""
    rows = con.execute("""
        SELECT vendor_sentiment, count(*) AS utterances,
               count(*) FILTER (WHERE sentiment = 'positive') AS positive,
               count(*) FILTER (WHERE sentiment = 'neutral') AS neutral,
               count(*) FILTER (WHERE sentiment = 'negative') AS negative,
               count(*) FILTER (WHERE sentiment = vendor_sentiment) AS agree
        FROM utterances WHERE vendor_sentiment IS NOT NULL AND sentiment IS NOT NULL
        GROUP BY vendor_sentiment ORDER BY utterances DESC, vendor_sentiment
    """).fetchall()
    names = ("vendor_sentiment", "utterances", "positive", "neutral", "negative", "agree")
    return [dict(zip(names, row, strict=True)) for row in rows]
