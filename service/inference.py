"""Inference off the event loop: ``workers`` processes, each with its own ``Pipeline``, fed micro-batches.

The pipeline is pure-Python CPU work. Run in a thread of the server it would hold the GIL while the event loop
waits for it (every hand-back costs up to the 5 ms switch interval, on every request), so it runs in spawned
processes instead, as ``journeylens score --workers`` does: each loads the pipeline once and serves every
batch sent to it. Batches go there, pickled, over a socket pair per worker that the event loop itself writes
and reads; results come back already serialized to JSON. A worker that dies fails only the batches it held and
is replaced on its own (a ``ProcessPoolExecutor`` marks itself broken and fails everything in flight). The HTTP
process stays the only one that owns the DuckDB file, the API keys and the rate limits.

``MicroBatcher`` gathers concurrent requests into one ``Pipeline.analyze`` call: up to two batches per worker
are in flight (one computing, the next already queued there, so the worker never idles while the event loop
answers the previous batch), and a new batch takes every waiting transcript up to ``max_size``, waiting at most
``max_wait_s`` (default 0) for more.

This module is the server side (the pool and the batcher, on the event loop); what runs inside each worker
process, and the frames both sides exchange, is ``service/inference_worker.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import pickle
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nlp.config import PipelineConfig
from service.inference_worker import HEADER, Job, Outcome, UnsendableBatch, frame, worker_main

__all__ = ["AnalysisError", "InferencePool", "Job", "MicroBatcher", "Outcome", "UnsendableBatch"]

log = logging.getLogger("journeylens.inference")

BATCHES_IN_FLIGHT_PER_WORKER = 2
WORKER_START_TIMEOUT_S = 60.0


class AnalysisError(RuntimeError):
    """Inference could not run: a worker stopped, or the service is stopping."""


class _Worker:
    """One inference process and the socket to it; each answer names the batch it answers."""

    def __init__(self, initargs: tuple) -> None:
        parent, child = socket.socketpair()
        self.process = multiprocessing.get_context("spawn").Process(
            target=worker_main, args=(child, *initargs), name="journeylens-inference", daemon=True)
        self.process.start()
        child.close()
        self._socket = parent
        self.pending: dict[int, tuple[asyncio.Future, float]] = {}  # batch id -> (future, monotonic time sent)
        self._next_id = itertools.count(1)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> str:
        self.reader, self.writer = await asyncio.open_connection(sock=self._socket)
        return (await self.receive())[1]

    async def receive(self) -> tuple[int, Any]:
        assert self.reader is not None
        size, batch_id = HEADER.unpack(await self.reader.readexactly(HEADER.size))
        return batch_id, pickle.loads(await self.reader.readexactly(size))

    def send(self, jobs: Sequence[Job]) -> asyncio.Future:
        """Frame and send a batch; framing fails (``UnsendableBatch``) before anything is sent or awaited."""
        assert self.writer is not None
        batch_id = next(self._next_id)
        try:
            framed = frame(batch_id, list(jobs))
        except (pickle.PickleError, RecursionError, MemoryError, TypeError, AttributeError) as error:
            raise UnsendableBatch(type(error).__name__) from error
        future = asyncio.get_running_loop().create_future()
        self.pending[batch_id] = (future, time.monotonic())
        self.writer.write(framed)  # buffered by the transport: never blocks the event loop
        return future

    def settle(self, batch_id: int, answer: Any) -> None:
        """Hand an answer to the batch it names; an answer to no batch we sent means the worker is confused."""
        entry = self.pending.pop(batch_id, None)
        if entry is None:
            raise ProtocolError(f"an inference worker answered batch {batch_id}, which it was not sent")
        future, _ = entry
        if future.done():
            return
        if isinstance(answer, BaseException):
            future.set_exception(answer)
        else:
            future.set_result(answer)

    def oldest_pending_s(self) -> float:
        """How long the oldest batch still unanswered has been waiting (0 when none)."""
        if not self.pending:
            return 0.0
        return time.monotonic() - min(sent for _, sent in self.pending.values())

    def fail_pending(self, error: Exception) -> None:
        for future, _ in self.pending.values():
            if not future.done():
                future.set_exception(error)
        self.pending.clear()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()  # the worker reads end-of-file and exits
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        else:
            self._socket.close()
        await asyncio.to_thread(self.process.join, 5)
        if self.process.is_alive():
            self.process.kill()


class ProtocolError(RuntimeError):
    """A worker answered out of protocol; it is replaced."""


class InferencePool:
    """``workers`` processes fed over socket pairs that the event loop itself reads (no helper threads).

    A worker that holds a batch longer than ``stall_after_s`` is stalled (stuck, stopped, or starved): the pool
    reports it (``stalled``, which makes ``/readyz`` fail) and replaces it, failing only the batches it held.
    """

    def __init__(self, config: PipelineConfig, workers: int, fingerprint: str, log_level: str = "info",
                 stall_after_s: float = 120.0, emotion_weights: Mapping[str, float] | None = None) -> None:
        self.workers = workers
        self.fingerprint = fingerprint
        self.stall_after_s = stall_after_s
        self._initargs = (config, log_level, dict(emotion_weights) if emotion_weights is not None else None)
        self._live: list[_Worker] = []
        self._available = asyncio.Event()
        self._readers: set[asyncio.Task] = set()
        self._watchdog: asyncio.Task | None = None
        self._closing = False

    @property
    def alive(self) -> int:
        """Workers ready to take batches."""
        return len(self._live)

    @property
    def busy(self) -> int:
        """Workers holding at least one unanswered batch."""
        return sum(bool(worker.pending) for worker in self._live)

    @property
    def stalled(self) -> int:
        """Workers holding a batch for longer than ``stall_after_s``."""
        return sum(worker.oldest_pending_s() > self.stall_after_s for worker in self._live)

    async def start(self) -> None:
        """Start and warm every worker; returns when all of them have loaded the models."""
        await asyncio.gather(*(self._add_worker() for _ in range(self.workers)))
        self._watchdog = asyncio.create_task(self._replace_stalled(), name="inference-watchdog")

    async def _add_worker(self) -> None:
        worker = _Worker(self._initargs)
        try:
            fingerprint = await worker.connect()
        except (OSError, asyncio.IncompleteReadError) as error:
            await worker.close()
            raise RuntimeError(f"an inference worker failed to start (exit code {worker.process.exitcode})") from error
        if fingerprint != self.fingerprint:
            await worker.close()
            raise RuntimeError("an inference worker loaded different models than the server")
        self._live.append(worker)
        self._available.set()
        task = asyncio.create_task(self._read_answers(worker), name="inference-answers")
        self._readers.add(task)
        task.add_done_callback(self._readers.discard)

    async def _read_answers(self, worker: _Worker) -> None:
        try:
            while True:
                worker.settle(*await worker.receive())
        except (OSError, asyncio.IncompleteReadError):
            pass  # end of file: handled below
        except ProtocolError:
            log.exception("an inference worker broke the protocol; replacing it")
            worker.process.kill()
        # The worker is gone (killed, out of memory, or stopped): fail what it held, start a new one.
        if worker in self._live:
            self._live.remove(worker)
        if not self._live:
            self._available.clear()
        worker.fail_pending(AnalysisError("an inference worker stopped"))
        await worker.close()
        if not self._closing:
            log.error("an inference worker died; starting a new one")
            try:
                await self._add_worker()
            except RuntimeError:
                log.exception("could not start a new inference worker")

    async def _replace_stalled(self) -> None:
        """Kill workers that hold a batch past ``stall_after_s``; their reader fails those batches and starts a
        replacement."""
        while True:
            await asyncio.sleep(min(5.0, self.stall_after_s / 4))
            for worker in list(self._live):
                if worker.oldest_pending_s() > self.stall_after_s and worker.process.is_alive():
                    log.error("an inference worker held a batch for %.0f s; replacing it", worker.oldest_pending_s())
                    worker.process.kill()

    async def run(self, jobs: Sequence[Job]) -> tuple[list[Outcome], float]:
        if not self._live:  # a replacement is starting: wait for it rather than fail the request
            try:
                await asyncio.wait_for(self._available.wait(), WORKER_START_TIMEOUT_S)
            except TimeoutError:
                raise AnalysisError("no inference worker is running") from None
        worker = min(self._live, key=lambda w: len(w.pending))
        return await worker.send(jobs)

    async def shutdown(self) -> None:
        self._closing = True
        tasks = [*self._readers, *([self._watchdog] if self._watchdog else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*(worker.close() for worker in self._live))
        self._live.clear()


class MicroBatcher:
    """Gather concurrent jobs into micro-batches, at most two per inference worker in flight."""

    def __init__(self, pool: InferencePool, max_size: int, max_wait_s: float,
                 on_batch: Callable[[int, float], None] | None = None) -> None:
        self.pool = pool
        self.max_size = max_size
        self.max_wait_s = max_wait_s
        self.on_batch = on_batch
        self.queue: asyncio.Queue[tuple[Job, asyncio.Future[Outcome]]] = asyncio.Queue()
        # Two batches in flight per worker: while one computes, the next is already waiting in the worker's queue,
        # so the worker never idles while the event loop answers the previous batch's requests.
        self._slots = asyncio.Semaphore(pool.workers * BATCHES_IN_FLIGHT_PER_WORKER)
        self._task: asyncio.Task | None = None
        self._running: set[asyncio.Task] = set()

    @property
    def depth(self) -> int:
        return self.queue.qsize()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="micro-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        while not self.queue.empty():
            _, future = self.queue.get_nowait()
            if not future.done():
                future.set_exception(AnalysisError("the service is shutting down"))

    async def analyze(self, jobs: Sequence[Job]) -> list[Outcome]:
        """Queue the jobs and wait for their outcomes (in order)."""
        loop = asyncio.get_running_loop()
        futures = []
        for job in jobs:
            future: asyncio.Future[Outcome] = loop.create_future()
            self.queue.put_nowait((job, future))
            futures.append(future)
        try:
            return list(await asyncio.gather(*futures))
        except BaseException:
            for future in futures:
                future.cancel()  # a timed-out request's jobs are dropped before they reach the model
            raise

    async def _next_batch(self) -> list[tuple[Job, asyncio.Future[Outcome]]]:
        batch = []
        deadline: float | None = None
        loop = asyncio.get_running_loop()
        while len(batch) < self.max_size:
            if self.queue.empty() and batch:
                if deadline is None:
                    deadline = loop.time() + self.max_wait_s
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self.queue.get(), remaining)
                except TimeoutError:
                    break
            else:
                item = await self.queue.get()
            if not item[1].done():  # cancelled: its request is gone
                batch.append(item)
        return batch

    async def _loop(self) -> None:
        while True:
            await self._slots.acquire()
            try:
                batch = await self._next_batch()
            except BaseException:
                self._slots.release()
                raise
            task = asyncio.create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[tuple[Job, asyncio.Future[Outcome]]]) -> None:
        try:
            await self._settle(batch)
        finally:
            self._slots.release()

    async def _settle(self, batch: list[tuple[Job, asyncio.Future[Outcome]]]) -> None:
        """Run a batch and give each request its own outcome; a batch that cannot be serialized is retried job by
        job, so only the transcript that cannot be is refused."""
        try:
            outcomes, seconds = await self.pool.run([job for job, _ in batch])
        except UnsendableBatch as error:
            if len(batch) > 1:
                for item in batch:
                    await self._settle([item])
                return
            outcomes, seconds = [Outcome(error=str(error), unprocessable=True)], 0.0
        except Exception as error:  # noqa: BLE001 - e.g. a crashed worker process: fail these requests only
            for _, future in batch:
                if not future.done():
                    future.set_exception(AnalysisError(f"inference failed: {type(error).__name__}"))
            return
        if self.on_batch is not None:
            self.on_batch(len(batch), seconds)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)
