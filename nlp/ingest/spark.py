"""Bulk scoring on Apache Spark: the local engine's readers, pipeline and row builder, distributed.

Two Arrow stages (``mapInArrow``), so Python objects never pass through the JVM row by row:

1. **read**: one task per input file runs ``nlp.readers.iter_records`` on it, exactly as ``journeylens score``
   does, and emits each record as (source, location, content hash, transcript JSON) or as a rejection, with its
   place in reading order; of the records sharing an id, the last one read is scored, and the others count as
   skipped or replaced as in ``nlp.ingest.local`` (skipped: the same content as the record before it);
2. **score**: the records, spread over ``partitions``, are scored in batches by ``nlp.ingest.local.analyze_batch``
   with one ``Pipeline`` per Python worker process (loaded on its first batch, reused by every later task),
   and come out as the store's four tables plus the quarantine, each row tagged with its table.

Each table is then written as Parquet under ``OUTPUT/<table>/``, partitioned by the local-engine-independent
UTC start day of its transcript (``day=YYYY-MM-DD``; ``__HIVE_DEFAULT_PARTITION__`` when a transcript has no
start time); rejected records go to ``OUTPUT/quarantine/`` as the record every ingest path quarantines
(``nlp.ingest.run.quarantine_entry``: redacted, with the reason), and the run's counts (``read, scored,
quarantined, skipped, replaced, repaired``; reasons grouped as the local engine groups them), model versions and
fingerprint to ``OUTPUT/_journeylens_run.json``. ``import_parquet`` loads such a folder into a
DuckDB store, where the analytics, the API and the dashboard use it unchanged.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from nlp.config import PipelineConfig
from nlp.ingest.local import analyze_batch
from nlp.ingest.run import (
    QUARANTINE_FIELDS,
    Pending,
    Rejection,
    RunSummary,
    batch_records,
    entry_reason_group,
    is_repaired,
    now,
    pending_or_rejection,
    quarantine_entry,
)
from nlp.pipeline import Pipeline
from nlp.readers import ReaderOptions, iter_records, list_inputs
from nlp.schema.transcript import Transcript
from nlp.steps.redact import Redactor
from nlp.store import RunCounts, Store, table_schemas

TABLES = ("transcripts", "utterances", "segments", "promises", "categories")
RUN_FILE = "_journeylens_run.json"
QUARANTINE = pa.schema([(name, pa.string()) for name in QUARANTINE_FIELDS])  # nlp.ingest.run.quarantine_entry
_TAGS = ("table", "day", "reason_group")  # the scored rows' columns beside the one struct per table
_READ = pa.schema([("file_index", pa.int64()), ("record_index", pa.int64()), ("source", pa.string()),
                   ("location", pa.string()), ("transcript_id", pa.string()), ("content_hash", pa.string()),
                   ("transcript", pa.string()), ("reason", pa.string()), ("raw", pa.string()),
                   ("repaired", pa.bool_())])


def score_on_spark(paths: Sequence[str | Path], output: str | Path, config: PipelineConfig | None = None,
                   reader_options: ReaderOptions | None = None, master: str | None = None,
                   partitions: int | None = None, batch_size: int = 64, spark_conf: dict[str, str] | None = None,
                   ) -> RunSummary:
    """Score every transcript under ``paths`` with Spark into Parquet tables under ``output`` (replaced)."""
    from pyspark.sql import SparkSession, functions
    from pyspark.sql.pandas.types import from_arrow_schema
    from pyspark.storagelevel import StorageLevel

    config, options = config or PipelineConfig(), reader_options or ReaderOptions()
    output = Path(output)
    pipeline = Pipeline(config)
    run_id, started = str(uuid.uuid4()), datetime.now(UTC)
    builder = SparkSession.builder.appName("journeylens score")
    if master is not None:  # else spark-submit's --master or spark-defaults.conf decide (local[*] without either)
        builder = builder.master(master)
    if master is None or master.startswith("local"):  # local workers run this interpreter (clusters: PYSPARK_PYTHON)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in {"spark.sql.session.timeZone": "UTC", **(spark_conf or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    master = spark.sparkContext.master
    try:
        files = [str(f) for f in list_inputs(paths)]
        read_fn = _reader(options, [str(p) for p in paths])
        read = (spark.createDataFrame(list(enumerate(files)), "file_index long, path string")
                .repartition(max(1, len(files))).mapInArrow(read_fn, from_arrow_schema(_READ)))
        records = _with_outcome(read).persist(StorageLevel.DISK_ONLY)
        outcomes, n_repaired = {}, 0
        for outcome, repaired, n in records.groupBy("outcome", "repaired").count().collect():
            outcomes[outcome] = outcomes.get(outcome, 0) + n
            n_repaired += n if repaired else 0
        n_read = sum(outcomes.values())
        parts = partitions or spark.sparkContext.defaultParallelism
        schema = _scored_schema()
        scored = (records.where(functions.col("outcome") == "score").repartition(parts)
                  .mapInArrow(_scorer(config, run_id, batch_size), from_arrow_schema(schema))
                  .persist(StorageLevel.DISK_ONLY))
        for table in TABLES:
            (scored.where(functions.col("table") == table).select(f"{table}.*", "day")
             .write.mode("overwrite").partitionBy("day").parquet(str(output / table)))
        (scored.where(functions.col("table") == "quarantine").select("quarantine.*")
         .write.mode("overwrite").parquet(str(output / "quarantine")))
        per_table = dict(scored.groupBy("table").count().collect())
        reasons = dict(scored.where(functions.col("table") == "quarantine").groupBy("reason_group").count().collect())
        records.unpersist()
        scored.unpersist()
    finally:
        spark.stop()
    counts = RunCounts(read=n_read, scored=per_table.get("transcripts", 0),
                       quarantined=per_table.get("quarantine", 0), skipped=outcomes.get("skipped", 0),
                       replaced=outcomes.get("replaced", 0), repaired=n_repaired, reasons=reasons)
    if not counts.reconciles:
        raise RuntimeError(f"counts do not reconcile: {counts}")
    (output / RUN_FILE).write_text(json.dumps({
        "run_id": run_id, "command": "score --engine spark", "inputs": [pipeline.redactor(str(p)) for p in paths],
        "master": master,
        "started_at": started.isoformat(), "finished_at": datetime.now(UTC).isoformat(),
        "model_versions": pipeline.model_versions, "fingerprint": pipeline.fingerprint,
        "counts": {"read": counts.read, "scored": counts.scored, "quarantined": counts.quarantined,
                   "skipped": counts.skipped, "replaced": counts.replaced, "repaired": counts.repaired},
    }, ensure_ascii=False, indent=1))
    return RunSummary(run_id, output, output / "quarantine" if counts.quarantined else None, counts)


def import_parquet(folder: str | Path, db_path: str | Path) -> RunCounts:
    """Load the Parquet tables written by ``score_on_spark`` into a DuckDB store, replacing transcripts with
    the same ids (importing twice changes nothing). The folder's name is stored and reported redacted, as every
    input path is: file names can hold a phone number or an order id."""
    folder = Path(folder)
    shown = Redactor()(str(folder))
    run_file = folder / RUN_FILE
    if not run_file.is_file():
        raise ValueError(f"{shown} is not the output of `journeylens score --engine spark` (no {RUN_FILE})")
    run = json.loads(run_file.read_text())
    with Store(db_path) as store:
        import_id = store.start_run("import-parquet", [shown], run["model_versions"], run["fingerprint"])
        con = store.con
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"CREATE TEMP TABLE _ids AS SELECT transcript_id FROM {_scan(folder, 'transcripts')}")
            for table in ("utterances", "segments", "promises", "categories", "transcripts"):
                con.execute(f"DELETE FROM {table} WHERE transcript_id IN (SELECT transcript_id FROM _ids)")
            for table in TABLES:
                if any((folder / table).rglob("*.parquet")):  # Spark writes no file for a table with no rows
                    con.execute(f"INSERT INTO {table} BY NAME SELECT * EXCLUDE (day) FROM {_scan(folder, table)}")
            n_scored = con.execute("SELECT count(*) FROM _ids").fetchall()[0][0]
            con.execute("DROP TABLE _ids")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        counts = RunCounts(read=n_scored, scored=n_scored)
        store.finish_run(import_id, counts, "completed")
    return counts


def _scan(folder: Path, table: str) -> str:
    pattern = str(folder / table / "**" / "*.parquet").replace("'", "''")
    return f"read_parquet('{pattern}', hive_partitioning = true, union_by_name = true)"


# -- the two stages (run in Spark's Python workers) ------------------------------------------------------------
def _with_outcome(records):
    """``records`` with ``outcome``: ``score`` (the last record read of its id, and every rejection), ``skipped``
    (the same content as the record of its id read just before) or ``replaced`` (a later record took its place)."""
    from pyspark.sql import Window, functions

    col = functions.col
    order = Window.partitionBy("transcript_id").orderBy("file_index", "record_index")
    repeated = functions.coalesce(functions.lag("content_hash").over(order) == col("content_hash"),
                                  functions.lit(False))
    place = functions.struct("file_index", "record_index")
    last_kept = functions.max(functions.when(~col("repeated"), place)).over(Window.partitionBy("transcript_id"))
    return (records.withColumn("repeated", repeated)
            .withColumn("outcome", functions.when(col("transcript").isNull(), "score")
                        .when(col("repeated"), "skipped")
                        .when(place == last_kept, "score").otherwise("replaced"))
            .drop("repeated"))


def _reader(options: ReaderOptions, roots: list[str]):
    """Read each file as ``journeylens score`` does: ``roots`` (the folders given) make the ids of files that name
    none their paths relative to the folder they were found in."""
    def read(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for file_index, path in zip(batch.column("file_index").to_pylist(), batch.column("path").to_pylist(),
                                        strict=True):
                rows = []
                for record_index, record in enumerate(iter_records([path], options, roots=roots)):
                    item = pending_or_rejection(record)
                    row = {"file_index": file_index, "record_index": record_index, "source": item.source,
                           "location": item.location}
                    if isinstance(item, Pending):
                        row.update(transcript_id=item.transcript.id, content_hash=item.content_hash,
                                   transcript=item.transcript.model_dump_json(),
                                   repaired=is_repaired(item.transcript))
                    else:
                        row.update(reason=item.reason, raw=item.raw)
                    rows.append(row)
                    if len(rows) >= 1024:
                        yield pa.RecordBatch.from_pylist(rows, schema=_READ)
                        rows = []
                if rows:
                    yield pa.RecordBatch.from_pylist(rows, schema=_READ)
    return read


_worker_pipeline: tuple[PipelineConfig, Pipeline] | None = None


def _pipeline(config: PipelineConfig) -> Pipeline:
    """One pipeline per Python worker process, kept for every later task of the same run."""
    global _worker_pipeline
    if _worker_pipeline is None or _worker_pipeline[0] != config:
        _worker_pipeline = (config, Pipeline(config))
    return _worker_pipeline[1]


def _scorer(config: PipelineConfig, run_id: str, batch_size: int):
    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        pipeline = _pipeline(config)
        schema = _scored_schema()
        rows = (row for batch in batches for row in batch.to_pylist())
        for pending, rejections, _ in batch_records(rows, batch_size, _from_read_row):
            if pending:
                result = analyze_batch(pipeline, pending, run_id)
                rejections += result.failures
                yield from _tagged(result.tables, schema)
            if rejections:
                yield _quarantine_batch(rejections, run_id, pipeline.redactor, schema)
    return score


def _from_read_row(row: dict) -> Pending | Rejection:
    """A row of the read stage as it was read: a transcript to score, or a rejection."""
    if row["transcript"] is None:
        return Rejection(row["source"], row["location"], row["reason"], row["raw"])
    return Pending(Transcript.model_validate_json(row["transcript"]), row["source"], row["location"],
                   row["content_hash"])


def _scored_schema() -> pa.Schema:
    """One row per stored row of any table: ``table``, ``day``, ``reason_group`` (quarantine rows) and one struct
    column per table."""
    schemas = table_schemas()
    return pa.schema([("table", pa.string()), ("day", pa.date32()), ("reason_group", pa.string()),
                      *((name, pa.struct(list(schemas[name]))) for name in TABLES),
                      ("quarantine", pa.struct(list(QUARANTINE)))])


def _tagged(tables: Sequence[pa.Table], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    transcripts = tables[0]
    if transcripts.num_rows == 0:
        return
    days = dict(zip(transcripts["transcript_id"].to_pylist(),
                    pc.cast(transcripts["started_at"], pa.timestamp("us")).to_pylist(), strict=True))
    for name, table in zip(TABLES, tables, strict=True):
        if table.num_rows == 0:
            continue
        struct_type = schema.field(name).type
        table = table.select([f.name for f in struct_type]).cast(pa.schema(list(struct_type)))
        starts = [days[i] for i in table["transcript_id"].to_pylist()]
        yield _one_table_batch(schema, name, pa.StructArray.from_arrays(
            [c.combine_chunks() for c in table.columns], fields=list(struct_type)),
            pa.array([s.date() if s else None for s in starts], pa.date32()))


def _quarantine_batch(rejections: list[Rejection], run_id: str, redactor: Redactor,
                      schema: pa.Schema) -> pa.RecordBatch:
    """The rejections as quarantine rows (``nlp.ingest.run.quarantine_entry``, redacted), each with the reason
    group the run's summary counts it under."""
    at = now()
    entries = [quarantine_entry(r, run_id, redactor, at) for r in rejections]
    column = pa.StructArray.from_arrays([pa.array([e[f.name] for e in entries], f.type) for f in QUARANTINE],
                                        fields=list(QUARANTINE))
    return _one_table_batch(schema, "quarantine", column, pa.nulls(len(entries), pa.date32()),
                            pa.array([entry_reason_group(e) for e in entries], pa.string()))


def _one_table_batch(schema: pa.Schema, name: str, column: pa.StructArray, days: pa.Array,
                     groups: pa.Array | None = None) -> pa.RecordBatch:
    n = len(column)
    structs = [column if f.name == name else pa.nulls(n, f.type) for f in schema if f.name not in _TAGS]
    return pa.RecordBatch.from_arrays([pa.array([name] * n, pa.string()), days,
                                       groups if groups is not None else pa.nulls(n, pa.string()), *structs],
                                      schema=schema)
