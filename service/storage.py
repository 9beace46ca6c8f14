"""The store behind the service: one writer thread owns the DuckDB connection; readers get their own cursors.

DuckDB lets one process write a database file, and its connection object is not safe to share between threads.
So every write goes through a queue to a single thread that drains it and writes whole groups of transcripts
in one transaction (``Store.write_tables``, as ``journeylens score`` does). Writes are idempotent on the
transcript id: a transcript stored with the same content hash and pipeline fingerprint is left alone
(``unchanged``), a changed one replaces the old rows (``updated``). Because one thread decides this in queue
order, concurrent posts of the same transcript store it exactly once and never lose one. Reads use their own
cursors of the same database, which see every committed write.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa

from nlp.store import RunCounts, ScoredRecord, Store, rows_for

log = logging.getLogger("journeylens.storage")

WriteStatus = Literal["created", "updated", "unchanged"]


class StorageError(RuntimeError):
    """The database could not be opened or written."""


@dataclass
class _Write:
    record: ScoredRecord
    future: asyncio.Future[WriteStatus]
    loop: asyncio.AbstractEventLoop


_STOP = object()


def _locked_message(path: Path, error: Exception) -> str:
    return (f"cannot open {path} for writing ({error}); DuckDB allows one writing process per file: is a "
            "`journeylens score` or another `journeylens serve` using it?")


def check_writable(path: Path) -> None:
    """Fail now, with a readable message, when the store cannot be opened for writing (e.g. another process
    holds it), rather than from inside the server's start-up."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        duckdb.connect(str(path)).close()
    except (duckdb.Error, OSError) as error:
        raise StorageError(_locked_message(path, error)) from error


class Database:
    """A DuckDB store file for the service: ``write`` from the event loop, ``reader()`` from any thread."""

    def __init__(self, path: Path, model_versions: dict, fingerprint: str, write_batch_max: int = 64) -> None:
        try:
            self.store = Store(path)
        except duckdb.Error as error:
            raise StorageError(_locked_message(path, error)) from error
        self.path = path
        self.fingerprint = fingerprint
        self.write_batch_max = write_batch_max
        self.run_id = self.store.start_run("serve", [], model_versions, fingerprint)
        self._reader_root = self.store.con.cursor()  # used only to make per-thread cursors
        self._cursor_lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._counts = RunCounts()
        self._reasons: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, name="duckdb-writer", daemon=True)
        self._thread.start()

    # -- writing -------------------------------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return self._queue.qsize()

    async def write(self, record: ScoredRecord) -> WriteStatus:
        """Store an analyzed transcript; returns once it is committed (or found unchanged)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[WriteStatus] = loop.create_future()
        self._queue.put(_Write(record, future, loop))
        return await asyncio.shield(future)  # a timed-out request does not cancel a write already queued

    def count(self, outcome: Literal["unchanged", "failed"], reason: str = "") -> None:
        """Count a posted transcript that never reached the writer (found unchanged, or failed analysis)."""
        with self._counts_lock:
            self._counts.read += 1
            if outcome == "unchanged":
                self._counts.skipped += 1
            else:
                self._counts.quarantined += 1
                self._reasons[reason] += 1

    def _drain(self) -> None:
        stopping = False
        while not stopping:
            items = [self._queue.get()]
            while len(items) < self.write_batch_max:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in items:
                stopping = True
                items = [i for i in items if i is not _STOP]
            if items:
                self._write_group(items)

    def _write_group(self, items: Sequence[_Write]) -> None:
        try:
            stored = self._stored_versions(self.store.con, {i.record.doc.transcript.id for i in items})
            statuses: list[WriteStatus] = []
            final: dict[str, ScoredRecord] = {}
            for item in items:  # queue order decides between concurrent posts of one id
                transcript_id = item.record.doc.transcript.id
                version = (item.record.content_hash, self.fingerprint)
                previous = stored.get(transcript_id)
                if previous == version:
                    statuses.append("unchanged")
                    continue
                statuses.append("updated" if previous else "created")
                stored[transcript_id] = version
                final[transcript_id] = item.record
            if final:
                self.store.write_tables(rows_for(list(final.values()), self.run_id, self.fingerprint), list(final))
        except Exception as error:  # noqa: BLE001 - isolated below: only the culprit's request fails
            if len(items) > 1:
                for item in items:
                    self._write_group([item])
                return
            log.error("write failed: %s", type(error).__name__, exc_info=True)
            with self._counts_lock:
                self._counts.read += 1
                self._counts.quarantined += 1
                self._reasons["store error"] += 1
            _resolve(items[0], error=StorageError(f"the store could not be written ({type(error).__name__})"))
            return
        with self._counts_lock:
            self._counts.read += len(items)
            self._counts.scored += sum(s != "unchanged" for s in statuses)
            self._counts.skipped += sum(s == "unchanged" for s in statuses)
        for item, status in zip(items, statuses, strict=True):
            _resolve(item, status=status)

    @staticmethod
    def _stored_versions(con: duckdb.DuckDBPyConnection, ids: set[str]) -> dict[str, tuple[str, str]]:
        if not ids:
            return {}
        con.register("_lookup", pa.table({"transcript_id": sorted(ids)}))
        try:
            rows = con.execute(
                "SELECT transcript_id, content_hash, fingerprint FROM transcripts "
                "WHERE transcript_id IN (SELECT transcript_id FROM _lookup)"
            ).fetchall()
        finally:
            con.unregister("_lookup")
        return {r[0]: (r[1], r[2]) for r in rows}

    # -- reading -------------------------------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor for one thread's reads (DuckDB connections must not be shared between threads); close it."""
        with self._cursor_lock:
            return self._reader_root.cursor()

    def unchanged(self, transcript_id: str, content_hash: str) -> bool:
        """Whether this content is already stored under this id by the current pipeline (call from a thread)."""
        with self.cursor() as cursor:
            stored = self._stored_versions(cursor, {transcript_id})
        return stored.get(transcript_id) == (content_hash, self.fingerprint)

    # -- lifecycle -----------------------------------------------------------------------------------------
    def close(self) -> None:
        """Write what is queued, record the run's counts and close the file."""
        self._queue.put(_STOP)
        self._thread.join()
        with self._counts_lock:
            self._counts.reasons = dict(self._reasons)
            counts = self._counts
        try:
            self.store.finish_run(self.run_id, counts, "completed")
        finally:
            self._reader_root.close()
            self.store.close()

    def counts(self) -> RunCounts:
        with self._counts_lock:
            return RunCounts(self._counts.read, self._counts.scored, self._counts.quarantined, self._counts.skipped,
                             dict(self._reasons))


def _resolve(item: _Write, status: WriteStatus | None = None, error: Exception | None = None) -> None:
    def settle() -> None:
        if item.future.done():
            return
        if error is not None:
            item.future.set_exception(error)
        else:
            item.future.set_result(status)  # type: ignore[arg-type]

    try:
        item.loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the event loop is closed: nobody is waiting any more
        pass
