"""Bulk scoring: stream records from an archive through the pipeline into the store.

Memory stays flat in archive size: records are read lazily, grouped in batches, and at most
``2 × workers`` batches are in flight. Worker processes each load the pipeline once and exit when the main process
dies; the main process is the only writer to DuckDB and writes each batch in one transaction.

Nothing is lost: every record read ends in exactly one of four places, so ``read = scored + quarantined + skipped +
replaced``:

- **scored**: analysed and stored by this run, and still the stored version of its id when the run ends;
- **skipped**: when it was read, a record with the same id, content and fingerprint was already stored (by an
  earlier run or earlier in this one) or on its way to the store in this run, so it was not analysed again;
- **replaced**: a later record of this run with the same id and other content took its place, stored or still on
  its way (overlapping exports: the last one read wins);
- **quarantined**: it could not be read or validated, or hashing, analysing or converting it to rows failed; it
  goes to ``<db>.quarantine.jsonl`` next to the database with source, location, reason and the redacted raw record
  (``nlp.ingest.run``, shared by every ingest path). When the last record of an id is quarantined, the version
  stored before it stays.

The store's own files (the database, its write-ahead log and temporary folder, the quarantine) are never read as
input, even when the database lies inside an input folder.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from nlp.config import PipelineConfig
from nlp.ingest.run import (
    Pending,
    Quarantine,
    Rejection,
    RunLedger,
    RunSummary,
    analyze_transcripts,
    batch_records,
    isolate,
    legacy_quarantine_path_for,
    quarantine_path_for,
    rejection_for,
)
from nlp.pipeline import Pipeline
from nlp.readers import ReaderOptions, iter_records, list_inputs
from nlp.schema.document import AnalyzedTranscript
from nlp.store import RunCounts, ScoredRecord, Store, rows_for

ProgressCallback = Callable[[int, RunCounts], None]
WRITER_MEMORY_LIMIT = "256MB"  # DuckDB's buffer in the writing process: only appends, so memory stays flat
PARENT_POLL_SECONDS = 1.0  # how often a worker checks that the main process is alive
log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What a worker sends back: rows ready for the store and the transcripts it could not analyze."""

    ids: list[str]
    tables: tuple[pa.Table, ...]  # transcripts, utterances, segments, promises
    failures: list[Rejection] = field(default_factory=list)


# -- worker side -----------------------------------------------------------------------------------------
_worker_pipeline: Pipeline | None = None


def _init_worker(config: PipelineConfig, parent_pid: int) -> None:
    global _worker_pipeline
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), name="parent-watchdog", daemon=True).start()
    _worker_pipeline = Pipeline(config)


def _exit_with_parent(parent_pid: int) -> None:
    """A killed main process (``kill -9``) cannot shut its pool down: its workers notice they were orphaned
    (re-parented) and exit instead of computing for nobody."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


def analyze_batch(pipeline: Pipeline, batch: Sequence[Pending], run_id: str) -> BatchResult:
    """Analyze a batch into store rows (source and location redacted); transcripts the pipeline fails on, or whose
    rows cannot be built, come back as failures."""
    analyzed, failures = analyze_transcripts(pipeline, batch)
    redact = pipeline.redactor

    def rows(part: Sequence[tuple[Pending, AnalyzedTranscript]]) -> tuple[pa.Table, ...]:
        return rows_for([ScoredRecord(doc, redact(p.source), redact(p.location), p.content_hash) for p, doc in part],
                        run_id, pipeline.fingerprint)

    tables, kept, culprits = isolate(analyzed, rows)
    failures += [rejection_for(p, "row conversion error", e) for (p, _), e in culprits]
    return BatchResult([doc.transcript.id for _, doc in kept], tables, failures)  # the ids as stored


def _analyze_in_worker(batch: Sequence[Pending], run_id: str) -> BatchResult:
    assert _worker_pipeline is not None, "worker initializer did not run"
    return analyze_batch(_worker_pipeline, batch, run_id)


# -- main side -------------------------------------------------------------------------------------------
def archive_inputs(paths: Sequence[str | Path], db_path: Path) -> tuple[list[Path], list[Path]]:
    """The files under ``paths`` to read, and the store's own files found among them (not to be read)."""
    db = db_path.resolve()
    own: list[Path] = []
    files: list[Path] = []
    for file in list_inputs(paths):
        resolved = file.resolve()
        is_own = (resolved in (quarantine_path_for(db), legacy_quarantine_path_for(db))
                  or db.with_name(db.name + ".tmp") in resolved.parents
                  or resolved.parent == db.parent and (resolved.name == db.name
                                                       or resolved.name.startswith(db.name + ".")))
        (own if is_own else files).append(file)
    return files, own


def score_archive(
    paths: Sequence[str | Path],
    db_path: str | Path,
    config: PipelineConfig | None = None,
    reader_options: ReaderOptions | None = None,
    workers: int = 1,
    batch_size: int = 64,
    progress: ProgressCallback | None = None,
) -> RunSummary:
    """Score every transcript under ``paths`` into the DuckDB file ``db_path``; see the module docstring."""
    config = config or PipelineConfig()
    pipeline = Pipeline(config)
    db_path = Path(db_path)
    files, own_files = archive_inputs(paths, db_path)
    if own_files:
        log.warning("not reading the store's own files: %s", ", ".join(map(str, own_files)))
    position = 0
    with Store(db_path, memory_limit=WRITER_MEMORY_LIMIT) as store:
        run_id = store.start_run("score", [pipeline.redactor(str(p)) for p in paths], pipeline.model_versions,
                                 pipeline.fingerprint)
        ledger = RunLedger(Quarantine(quarantine_path_for(db_path), run_id, pipeline.redactor))
        counts = ledger.counts
        unwritten: dict[str, Pending] = {}  # per id, the last record of this run sent for analysis and not yet written
        stored_id = pipeline.redactor.pseudonymize  # ids are compared as the store holds them

        def to_analyze(batch: list[Pending]) -> list[Pending]:
            """The batch's records that need analysing, one per id; counts the skipped and the replaced."""
            latest: dict[str, Pending] = {}
            for pending in batch:
                tid = stored_id(pending.transcript.id)
                earlier = latest.get(tid) or unwritten.get(tid)
                if earlier is not None and earlier.content_hash == pending.content_hash:
                    counts.skipped += 1
                    continue
                if latest.pop(tid, None) is not None:
                    counts.replaced += 1
                latest[tid] = pending
            # Ids still on their way to the store are not looked up there: it holds an older version.
            fresh = [(tid, p) for tid, p in latest.items() if tid not in unwritten]
            done = store.unchanged(((tid, p.content_hash) for tid, p in fresh), pipeline.fingerprint)
            counts.skipped += len(done)
            todo = {tid: p for tid, p in latest.items() if tid not in done}
            unwritten.update(todo)
            return list(todo.values())

        def write(sent: list[Pending], result: BatchResult) -> None:
            ledger.reject(*result.failures)
            replaced = store.stored_by_run(result.ids, run_id)  # batches are written in reading order
            store.write_tables(result.tables, result.ids)
            counts.scored += len(result.ids) - len(replaced)
            counts.replaced += len(replaced)
            for pending in sent:
                if unwritten.get(stored_id(pending.transcript.id)) is pending:
                    del unwritten[stored_id(pending.transcript.id)]
            ledger.quarantine.flush()

        status = "interrupted"
        executor = _executor(config, workers)
        in_flight: deque[tuple[list[Pending], Future[BatchResult]]] = deque()
        try:
            records = iter_records(files, reader_options, roots=paths)
            for batch, rejected, last in batch_records(records, batch_size):
                position = last.position if last is not None else position
                ledger.read(batch, rejected)
                todo = to_analyze(batch)
                if todo and executor is None:
                    write(todo, analyze_batch(pipeline, todo, run_id))
                elif todo:
                    in_flight.append((todo, executor.submit(_analyze_in_worker, todo, run_id)))
                    while len(in_flight) > 2 * workers:
                        sent, future = in_flight.popleft()
                        write(sent, future.result())
                if progress:
                    progress(position, counts)
            while in_flight:
                sent, future = in_flight.popleft()
                write(sent, future.result())
            status = "completed"
        finally:
            if executor is not None:
                executor.shutdown(wait=status == "completed", cancel_futures=True)
            ledger.close()
            store.finish_run(run_id, counts, status)
    if progress:
        progress(position, counts)
    return ledger.summary(db_path, tuple(own_files))


def _executor(config: PipelineConfig, workers: int) -> ProcessPoolExecutor | None:
    if workers <= 1:
        return None
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(config, os.getpid()))
