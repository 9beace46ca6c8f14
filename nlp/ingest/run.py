"""What every ingest path shares: records into batches, a batch analysed with isolation, one redacted quarantine
record and file name, and one summary with the run's counts.

The four paths (``score`` into DuckDB: ``nlp.ingest.local``; ``score --engine spark``: ``nlp.ingest.spark``;
``analyze`` to JSON lines: ``nlp.ingest.to_jsonl``; ``score-text``: ``nlp.ingest.score_text``) differ in what they
read and where the results go, not in how they account for records:

- every record read ends counted once: ``read = scored + quarantined + skipped + replaced`` (``scored``: analysed
  and stored or written; only ``score`` skips or replaces), and ``repaired`` counts the records kept after a repair;
- a batch the analysis fails on is retried one record at a time (:func:`isolate`), so only the culprits are
  quarantined and the rest of the batch is kept;
- a quarantined record is written redacted, as one JSON object (:func:`quarantine_entry`: ``run_id, at, source,
  location, reason, raw``), to ``OUTPUT.quarantine.jsonl`` (:func:`quarantine_path_for`; Spark writes the same
  records as the Parquet table ``OUTPUT/quarantine/``); the summary groups them by :func:`reason_group` of the
  redacted reason, so no PII reaches the file, the counts or what the command prints.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from nlp.readers import Record
from nlp.readers.common import reason_group
from nlp.schema.transcript import WARNINGS, Transcript
from nlp.steps.redact import Redactor
from nlp.store import RunCounts, content_hash

if TYPE_CHECKING:
    from nlp.pipeline import Pipeline
    from nlp.schema.document import AnalyzedTranscript

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S", bound="RunSummary")
QUARANTINE_SUFFIX = ".quarantine.jsonl"
QUARANTINE_FIELDS = ("run_id", "at", "source", "location", "reason", "raw")


# -- what is read ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pending:
    """A transcript waiting to be scored, with where it came from."""

    transcript: Transcript
    source: str
    location: str
    content_hash: str

    @property
    def raw(self) -> str | None:
        """The transcript as JSON, for the quarantine."""
        return transcript_json(self.transcript)


@dataclass(frozen=True)
class Rejection:
    """A record for the quarantine. Lone surrogates (a truncated emoji's ``\\ud83d``, undecodable bytes) are
    escaped, so that it can always be written as UTF-8."""

    source: str
    location: str
    reason: str
    raw: str | None

    def __post_init__(self) -> None:
        for name in (f.name for f in fields(self)):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, value.encode("utf-8", "backslashreplace").decode("utf-8"))

    def redacted(self, redactor: Redactor) -> Rejection:
        """The rejection as every quarantine writes it: a file name, a location (a CSV header), a reason (quoting a
        value) or the raw record can each hold PII."""
        return Rejection(redactor(self.source), redactor(self.location), redactor(self.reason),
                         redactor.raw(self.raw) if self.raw is not None else None)


class Traceable(Protocol):
    """Anything a batch holds: where it came from and what to quarantine when it fails."""

    source: str
    location: str

    @property
    def raw(self) -> str | None: ...


def rejection_for(item: Traceable, stage: str, error: Exception) -> Rejection:
    """Why a readable item failed at ``stage`` ("pipeline error", "scoring error" …), with the item as read."""
    return Rejection(item.source, item.location, f"{stage}: {type(error).__name__}: {error}", item.raw)


def transcript_json(transcript: Transcript | None) -> str | None:
    if transcript is None:
        return None
    try:
        return transcript.model_dump_json()
    except ValueError:  # lone surrogates: json dumps them (Rejection escapes them); nested too deep: nothing
        try:
            return json.dumps(transcript.model_dump(mode="json"), ensure_ascii=False, default=str)
        except (ValueError, RecursionError):
            return None


def pending_or_rejection(record: Record) -> Pending | Rejection:
    """A read record ready for scoring, or why it is not: unreadable, or its content cannot be hashed (lone
    surrogates, nesting deeper than the serialiser allows)."""
    if record.transcript is None:
        return Rejection(record.source, record.location, record.reason or "unreadable", record.raw)
    try:
        return Pending(record.transcript, record.source, record.location, content_hash(record.transcript))
    except (ValueError, RecursionError) as error:
        return Rejection(record.source, record.location, f"unserialisable transcript: {type(error).__name__}: "
                         f"{error}", transcript_json(record.transcript))


def is_repaired(transcript: Transcript) -> bool:
    """Kept after a repair while reading (a time that cannot be read dropped, a broken character replaced)."""
    return bool(transcript.metadata.get(WARNINGS))


def batch_records(records: Iterable[Any], size: int,
                  prepare: Callable[[Any], T | Rejection] = pending_or_rejection,
                  ) -> Iterator[tuple[list[T], list[Rejection], Any]]:
    """Group what ``prepare`` makes of each record into batches of ``size``, passing its rejections along:
    (items, rejections, the last record read, None before the first). The last batch may be empty."""
    items: list[T] = []
    rejected: list[Rejection] = []
    last = None
    for last in records:
        item = prepare(last)
        (rejected if isinstance(item, Rejection) else items).append(item)
        if len(items) >= size or len(rejected) >= size:
            yield items, rejected, last
            items, rejected = [], []
    yield items, rejected, last


# -- analysing with isolation ------------------------------------------------------------------------------------
def isolate(items: Sequence[T], work: Callable[[Sequence[T]], R]) -> tuple[R, list[T], list[tuple[T, Exception]]]:
    """``work(items)``, and if that raises, ``work`` on each item alone to find the culprits and then on the rest
    together: (result, the items it covers, the culprits with their errors). One bad record never sinks a batch."""
    try:
        return work(items), list(items), []
    except Exception:  # noqa: BLE001 - isolate the failing items below
        culprits: list[tuple[T, Exception]] = []
        for item in items:
            try:
                work([item])
            except Exception as error:  # noqa: BLE001 - reported by the caller, never lost
                culprits.append((item, error))
        failed = {id(item) for item, _ in culprits}
        rest = [item for item in items if id(item) not in failed]
        return work(rest), rest, culprits


def analyze_isolated(items: Sequence[T], work: Callable[[Sequence[T]], Sequence[R]], stage: str,
                     ) -> tuple[list[tuple[T, R]], list[Rejection]]:
    """``work`` (one result per item) over a batch with :func:`isolate`: each kept item with its result, and a
    rejection for each item ``work`` fails on (``stage`` names the step in its reason)."""
    results, kept, culprits = isolate(items, work)
    return list(zip(kept, results, strict=True)), [rejection_for(item, stage, error) for item, error in culprits]


def analyze_transcripts(pipeline: Pipeline, batch: Sequence[Pending], taxonomy: str | None = None
                        ) -> tuple[list[tuple[Pending, AnalyzedTranscript]], list[Rejection]]:
    """Analyze a batch (``taxonomy`` overriding each business line's) with isolation; the transcripts the pipeline
    fails on are rejected, the others kept."""
    return analyze_isolated(batch, lambda part: pipeline.analyze([p.transcript for p in part],
                                                                 [taxonomy] * len(part)), "pipeline error")


# -- the quarantine ----------------------------------------------------------------------------------------------
def quarantine_path_for(output: Path) -> Path:
    """Where a run writing ``output`` (a database, a JSONL or CSV file) quarantines: ``OUTPUT.quarantine.jsonl``
    beside it (``cx.duckdb`` → ``cx.duckdb.quarantine.jsonl``)."""
    return output.with_name(output.name + QUARANTINE_SUFFIX)


def legacy_quarantine_path_for(db_path: Path) -> Path:
    """The name ``score`` gave its quarantine before the paths shared one rule (``cx.duckdb`` →
    ``cx.quarantine.jsonl``): still one of the store's own files, never read as input."""
    return db_path.with_name(db_path.stem + QUARANTINE_SUFFIX)


def quarantine_entry(rejection: Rejection, run_id: str, redactor: Redactor, at: str | None = None) -> dict:
    """The one quarantine record every path writes, redacted: ``run_id, at, source, location, reason, raw``."""
    safe = rejection.redacted(redactor)
    return {"run_id": run_id, "at": at or now(), "source": safe.source, "location": safe.location,
            "reason": safe.reason, "raw": safe.raw}


def entry_reason_group(entry: dict) -> str:
    """What the summary counts a quarantine record under: its redacted reason, grouped (``reason_group``)."""
    return reason_group(entry["reason"], entry["location"])


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


class Quarantine:
    """Append rejected records, redacted, to a JSONL file; created only when something is rejected. ``fresh``:
    a stale file from an earlier run is removed first (``analyze``, ``score-text``; ``score`` appends, each
    record carrying its run id)."""

    def __init__(self, path: Path, run_id: str, redactor: Redactor, *, fresh: bool = False) -> None:
        self.path, self.run_id, self.redactor = path, run_id, redactor
        self._handle = None
        if fresh:
            path.unlink(missing_ok=True)

    def add(self, rejection: Rejection) -> dict:
        """Write the rejection; returns the redacted entry written."""
        if self._handle is None:
            self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        entry = quarantine_entry(rejection, self.run_id, self.redactor)
        self._handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return entry

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


# -- counts ------------------------------------------------------------------------------------------------------
@dataclass
class RunSummary:
    """What a run did: its counts (``read = scored + quarantined + skipped + replaced``; ``reasons``: quarantined
    records by redacted reason group), the output it wrote and its quarantine (None when nothing was)."""

    run_id: str
    output: Path  # the database, the JSONL or CSV file, or the Parquet folder written
    quarantine_path: Path | None
    counts: RunCounts = field(default_factory=RunCounts)
    own_files: tuple[Path, ...] = ()  # inputs that are the run's own files, not read

    @property
    def reasons(self) -> list[tuple[str, int]]:
        """The reason groups, most frequent first."""
        return Counter(self.counts.reasons).most_common()


class RunLedger:
    """Counts a run's records as they are read, kept or quarantined (to ``quarantine``), so every path counts
    and quarantines alike; ``close`` settles the reason groups into ``counts``."""

    def __init__(self, quarantine: Quarantine, counts: RunCounts | None = None) -> None:
        self.quarantine = quarantine
        self.counts = counts or RunCounts()
        self._reasons: Counter[str] = Counter(self.counts.reasons)

    def read(self, items: Sequence[Any], rejected: Sequence[Rejection] = ()) -> None:
        """A batch read: its items (transcripts are checked for repairs) and its rejections, quarantined."""
        self.counts.read += len(items) + len(rejected)
        self.counts.repaired += sum(isinstance(p, Pending) and is_repaired(p.transcript) for p in items)
        self.reject(*rejected)

    def reject(self, *rejections: Rejection) -> None:
        for rejection in rejections:
            entry = self.quarantine.add(rejection)
            self.counts.quarantined += 1
            self._reasons[entry_reason_group(entry)] += 1
        if rejections:
            self.counts.reasons = dict(self._reasons)

    def close(self) -> RunCounts:
        self.counts.reasons = dict(self._reasons)
        self.quarantine.close()
        return self.counts

    def summary(self, output: Path, own_files: tuple[Path, ...] = (), kind: type[S] = RunSummary, **extra: Any
                ) -> S:
        """The run's summary (``kind``: a ``RunSummary`` with a path's own ``extra`` fields); the quarantine path
        only when something was quarantined (so far: a summary made before the run ends sets it again then)."""
        return kind(self.quarantine.run_id, output, self.quarantine_path, self.counts, own_files, **extra)

    @property
    def quarantine_path(self) -> Path | None:
        """The quarantine file, when something was quarantined."""
        return self.quarantine.path if self.counts.quarantined else None
