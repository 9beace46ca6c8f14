"""Bulk scoring: stream records from an archive through the pipeline into the store.

Memory stays flat in archive size: records are read lazily, grouped in batches, and at most
``2 × workers`` batches are in flight. Worker processes each load the pipeline once; the main process is the
only writer to DuckDB and writes each batch in one transaction. Every record read ends in exactly one of
three places: scored (stored), skipped (already stored with the same content and fingerprint), or
quarantined (a JSONL file next to the database, with source, location, reason and the redacted raw record).
"""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from nlp.config import PipelineConfig
from nlp.document import AnalyzedTranscript
from nlp.pipeline import Pipeline
from nlp.readers import ReaderOptions, Record, iter_records
from nlp.redact import Redactor
from nlp.store import RunCounts, ScoredRecord, Store, content_hash, rows_for
from nlp.transcript import Transcript

ProgressCallback = Callable[[int, RunCounts], None]
WRITER_MEMORY_LIMIT = "256MB"  # DuckDB's buffer in the writing process: only appends, so memory stays flat


@dataclass(frozen=True)
class Pending:
    """A transcript waiting to be scored, with where it came from."""

    transcript: Transcript
    source: str
    location: str
    content_hash: str


@dataclass(frozen=True)
class Rejection:
    source: str
    location: str
    reason: str
    raw: str | None

    def redacted(self, redactor: Redactor) -> Rejection:
        """The rejection as every quarantine writes it: a file name, a location (a CSV header), a reason (quoting a
        value) or the raw record can each hold PII."""
        return Rejection(redactor(self.source), redactor(self.location), redactor(self.reason),
                         redactor(self.raw) if self.raw is not None else None)


@dataclass
class BatchResult:
    """What a worker sends back: rows ready for the store and the transcripts it could not analyze."""

    ids: list[str]
    tables: tuple[pa.Table, pa.Table, pa.Table]
    failures: list[Rejection] = field(default_factory=list)


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    counts: RunCounts
    quarantine_path: Path
    db_path: Path


class Quarantine:
    """Append rejected records, redacted, to a JSONL file; created only when something is rejected."""

    def __init__(self, path: Path, run_id: str, redactor: Redactor) -> None:
        self.path, self.run_id, self.redactor = path, run_id, redactor
        self._handle = None

    def add(self, rejection: Rejection) -> None:
        if self._handle is None:
            self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        safe = rejection.redacted(self.redactor)
        entry = {"run_id": self.run_id, "at": datetime.now(UTC).isoformat(timespec="seconds"), "source": safe.source,
                 "location": safe.location, "reason": safe.reason, "raw": safe.raw}
        self._handle.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def quarantine_path_for(db_path: Path) -> Path:
    return db_path.with_name(db_path.stem + ".quarantine.jsonl")


# -- worker side -----------------------------------------------------------------------------------------
_worker_pipeline: Pipeline | None = None


def _init_worker(config: PipelineConfig) -> None:
    global _worker_pipeline
    _worker_pipeline = Pipeline(config)


def analyze_isolated(pipeline: Pipeline, batch: Sequence[Pending], taxonomy: str | None = None
                     ) -> tuple[list[tuple[Pending, AnalyzedTranscript]], list[Rejection]]:
    """Analyze a batch (``taxonomy`` overriding each business line's); if the batch fails, analyze one by one so
    only the culprits are rejected."""
    try:
        docs = pipeline.analyze([p.transcript for p in batch], [taxonomy] * len(batch))
        return list(zip(batch, docs, strict=True)), []
    except Exception:  # noqa: BLE001 - isolate the failing transcripts below
        kept, failures = [], []
        for pending in batch:
            try:
                kept.append((pending, pipeline.analyze([pending.transcript], [taxonomy])[0]))
            except Exception as error:  # noqa: BLE001 - reported in the quarantine, never lost
                failures.append(Rejection(pending.source, pending.location,
                                          f"pipeline error: {type(error).__name__}: {error}",
                                          pending.transcript.model_dump_json()))
        return kept, failures


def analyze_batch(pipeline: Pipeline, batch: Sequence[Pending], run_id: str) -> BatchResult:
    """Analyze a batch into store rows; transcripts the pipeline fails on come back as failures."""
    kept, failures = analyze_isolated(pipeline, batch)
    redact = pipeline.redactor
    records = [ScoredRecord(doc, redact(p.source), redact(p.location), p.content_hash) for p, doc in kept]
    return BatchResult([r.doc.transcript.id for r in records], rows_for(records, run_id, pipeline.fingerprint),
                       failures)


def _analyze_in_worker(batch: Sequence[Pending], run_id: str) -> BatchResult:
    assert _worker_pipeline is not None, "worker initializer did not run"
    return analyze_batch(_worker_pipeline, batch, run_id)


# -- main side -------------------------------------------------------------------------------------------
def batch_records(records: Iterable[Record], size: int) -> Iterator[tuple[list[Pending], list[Rejection], int]]:
    """Group records into batches of transcripts, passing rejections and the read position along."""
    pending: list[Pending] = []
    rejected: list[Rejection] = []
    position = 0
    for record in records:
        position = record.position
        if record.transcript is None:
            rejected.append(Rejection(record.source, record.location, record.reason or "unreadable", record.raw))
        else:
            pending.append(Pending(record.transcript, record.source, record.location,
                                   content_hash(record.transcript)))
        if len(pending) >= size or len(rejected) >= size:
            yield pending, rejected, position
            pending, rejected = [], []
    yield pending, rejected, position


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
    counts = RunCounts()
    reasons: Counter[str] = Counter()
    position = 0
    with Store(db_path, memory_limit=WRITER_MEMORY_LIMIT) as store:
        run_id = store.start_run("score", [pipeline.redactor(str(p)) for p in paths], pipeline.model_versions,
                                 pipeline.fingerprint)
        quarantine = Quarantine(quarantine_path_for(db_path), run_id, pipeline.redactor)

        def reject(rejection: Rejection) -> None:
            quarantine.add(rejection)
            counts.quarantined += 1
            reasons[rejection.reason.split(":")[0]] += 1

        def write(result: BatchResult) -> None:
            for failure in result.failures:
                reject(failure)
            duplicates = store.unchanged(_keys(result), pipeline.fingerprint)  # repeated within this run
            tables = result.tables
            if duplicates:
                tables = tuple(_without(t, duplicates) for t in tables)  # type: ignore[assignment]
            store.write_tables(tables, [i for i in result.ids if i not in duplicates])
            counts.scored += len(result.ids) - len(duplicates)
            counts.skipped += len(duplicates)
            quarantine.flush()

        status = "interrupted"
        executor = _executor(config, workers)
        in_flight: deque[Future[BatchResult]] = deque()
        try:
            for batch, rejected, position in batch_records(iter_records(paths, reader_options), batch_size):
                counts.read += len(batch) + len(rejected)
                for rejection in rejected:
                    reject(rejection)
                keys = [(pipeline.redactor.pseudonymize(p.transcript.id), p.content_hash) for p in batch]  # as stored
                done = store.unchanged(keys, pipeline.fingerprint)
                counts.skipped += len(done)
                todo = [p for p, (stored_id, _) in zip(batch, keys, strict=True) if stored_id not in done]
                if todo and executor is None:
                    write(analyze_batch(pipeline, todo, run_id))
                elif todo:
                    in_flight.append(executor.submit(_analyze_in_worker, todo, run_id))
                    while len(in_flight) > 2 * workers:
                        write(in_flight.popleft().result())
                if progress:
                    progress(position, counts)
            while in_flight:
                write(in_flight.popleft().result())
            status = "completed"
        finally:
            if executor is not None:
                executor.shutdown(wait=status == "completed", cancel_futures=True)
            counts.reasons = dict(reasons)
            quarantine.close()
            store.finish_run(run_id, counts, status)
    if progress:
        progress(position, counts)
    return RunSummary(run_id, counts, quarantine.path, db_path)


def _executor(config: PipelineConfig, workers: int) -> ProcessPoolExecutor | None:
    if workers <= 1:
        return None
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(config,))


def _keys(result: BatchResult) -> list[tuple[str, str]]:
    transcripts = result.tables[0]
    if transcripts.num_rows == 0:
        return []
    return list(zip(transcripts["transcript_id"].to_pylist(), transcripts["content_hash"].to_pylist(), strict=True))


def _without(table: pa.Table, ids: set[str]) -> pa.Table:
    if table.num_rows == 0:
        return table
    return table.filter(pc.invert(pc.is_in(table["transcript_id"], pa.array(sorted(ids)))))
