"""The inference worker: a spawned process that owns a ``Pipeline`` and answers framed micro-batches.

Split from ``service/inference.py`` along the process boundary: everything here runs inside the worker process
(and the wire format both sides share: a frame is a header, payload length and batch id, then a pickled payload);
``inference.py`` is the server side, the pool of these processes and the micro-batcher on the event loop. The
worker side imports no asyncio and touches nothing the HTTP process owns (DuckDB, keys, limits).
"""

from __future__ import annotations

import logging
import pickle
import signal
import socket
import struct
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from nlp.analytics.settings import AnalyticsSettings
from nlp.config import PipelineConfig
from nlp.pipeline import Pipeline
from nlp.schema.document import AnalyzedTranscript
from nlp.schema.transcript import Transcript
from service.analysis import analysis_result
from service.logs import setup_logging

log = logging.getLogger("journeylens.inference")


@dataclass(frozen=True)
class Job:
    """One transcript to analyze; ``keep_doc`` returns the analyzed document too (for the store)."""

    transcript: Transcript
    taxonomy: str | None = None
    keep_doc: bool = False


@dataclass
class Outcome:
    """What a worker sends back for one job: the ``AnalyzeResult`` already serialized to JSON (forwarding bytes
    costs the HTTP process nothing, unpickling the pydantic objects cost it 0.6 ms per transcript), the analyzed
    document when it is to be stored, or the name of the error."""

    json: bytes | None = None
    doc: AnalyzedTranscript | None = None
    error: str | None = None
    unprocessable: bool = False  # the transcript itself cannot be processed (a client error, not ours)


_pipeline: Pipeline | None = None
_emotion_weights: Mapping[str, float] = {}  # the service's analytics settings: NEV of each answer

_WARM_UP = Transcript(id="warm-up", business_line="food_delivery", turns=[
    {"speaker": "customer", "text": "骑手怎么还没到？我都等了一个小时了"},
    {"speaker": "agent", "text": "您好，马上帮您联系骑手"},
    {"speaker": "customer", "text": "OK thanks, that was fast"},
])


def init_worker(config: PipelineConfig, log_level: str = "info",
                emotion_weights: Mapping[str, float] | None = None) -> None:
    """Give this worker process its pipeline (and the NEV emotion weights) and load every model it uses."""
    global _pipeline, _emotion_weights
    _emotion_weights = dict(emotion_weights if emotion_weights is not None else AnalyticsSettings().emotion_weights)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group; the server stops us
    setup_logging(log_level)
    _pipeline = Pipeline(config)
    _pipeline.analyze([_WARM_UP])
    _pipeline.fingerprint  # noqa: B018 - computed now, not under load


def run_jobs(jobs: Sequence[Job]) -> tuple[list[Outcome], float]:
    """Analyze a micro-batch in one pipeline call; if it fails, one by one so only the culprit fails."""
    assert _pipeline is not None, "init_worker did not run"
    started = time.perf_counter()
    try:
        docs = _pipeline.analyze([j.transcript for j in jobs], [j.taxonomy for j in jobs])
        outcomes = [_outcome(job, doc) for job, doc in zip(jobs, docs, strict=True)]
    except Exception:  # noqa: BLE001 - isolated below
        outcomes = []
        for job in jobs:
            try:
                outcomes.append(_outcome(job, _pipeline.analyze([job.transcript], [job.taxonomy])[0]))
            except Exception as error:  # noqa: BLE001 - reported to that request only
                outcomes.append(Outcome(error=type(error).__name__))
    return outcomes, time.perf_counter() - started


def _outcome(job: Job, doc: AnalyzedTranscript) -> Outcome:
    answer = analysis_result(doc, _emotion_weights)
    return Outcome(json=answer.model_dump_json().encode(), doc=doc if job.keep_doc else None)


# -- the wire format -------------------------------------------------------------------------------------------
# A frame is a header (payload length, batch id) and a pickled payload. Answers carry the id of the batch they
# answer, so a batch that fails anywhere (before it is sent, in the worker, on the way back) can never shift
# another batch's answer onto the wrong callers.
HEADER = struct.Struct("!IQ")


class UnsendableBatch(Exception):
    """A batch could not be framed (or unframed by the worker): something in its transcripts cannot be
    serialized. The batch was never analyzed; each job may be retried alone to find the culprit."""


def frame(batch_id: int, message: object) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(payload), batch_id) + payload


def _answer(batch_id: int, jobs_payload: bytes) -> bytes:
    """The worker's framed answer to one batch; a batch it cannot unpickle, or whose answer it cannot pickle,
    is answered with ``UnsendableBatch`` under the same id."""
    try:
        jobs = pickle.loads(jobs_payload)  # trusted: our own server process
        return frame(batch_id, run_jobs(jobs))
    except (pickle.PickleError, RecursionError, MemoryError, TypeError, AttributeError) as error:
        log.error("a batch could not be (un)serialized", extra={"error_type": type(error).__name__})
        return frame(batch_id, UnsendableBatch(type(error).__name__))


def worker_main(sock: socket.socket, config: PipelineConfig, log_level: str,
                emotion_weights: Mapping[str, float] | None = None) -> None:
    """An inference process: load the pipeline, then answer framed batches until the server hangs up."""
    init_worker(config, log_level, emotion_weights)
    assert _pipeline is not None
    with sock, sock.makefile("rb") as incoming:
        sock.sendall(frame(0, _pipeline.fingerprint))
        while header := incoming.read(HEADER.size):
            if len(header) < HEADER.size:
                return
            size, batch_id = HEADER.unpack(header)
            sock.sendall(_answer(batch_id, incoming.read(size)))
