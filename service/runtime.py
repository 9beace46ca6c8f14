"""What a running service holds: settings, the pipeline, inference workers, the store, keys, limits, metrics.

Routes get it through ``service.deps`` and call its two operations, ``analyze`` and ``ingest``; everything
else they need (taxonomies, models, stored transcripts) is a plain library call.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from urllib.parse import quote

import anyio

from nlp.analytics.settings import AnalyticsSettings, load_analytics_settings
from nlp.config import PipelineConfig, load_config
from nlp.pipeline import Pipeline
from nlp.schema.taxonomy import builtin_taxonomies
from nlp.schema.transcript import Transcript
from nlp.store import ScoredRecord, content_hash
from service.config import Settings
from service.inference import AnalysisError, InferencePool, Job, MicroBatcher, Outcome
from service.keys import KeyStore
from service.metrics import Metrics
from service.problems import ProblemError
from service.ratelimit import RateLimiter
from service.schemas.analyze import AnalyzeResult
from service.schemas.transcripts import IngestResult
from service.storage import Database, StorageError

log = logging.getLogger("journeylens.service")

API_SOURCE = "api"


def transcript_location(transcript_id: str) -> str:
    """The URL path of a stored transcript. Ids are opaque strings: every character is percent-encoded, the dots
    of the ids ``.`` and ``..`` too (clients would otherwise resolve them as path segments)."""
    quoted = quote(transcript_id, safe="")
    return f"/v1/transcripts/{quoted.replace('.', '%2E') if quoted in ('.', '..') else quoted}"


class Runtime:
    """The service's state between start-up and shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config: PipelineConfig = load_config(settings.pipeline_config)
        self.pipeline = Pipeline(self.config)
        self.analytics: AnalyticsSettings = load_analytics_settings(settings.analytics_settings)
        self.metrics = Metrics()
        assert settings.keys_file is not None
        self.keys = KeyStore(settings.keys_file)
        self.limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
        self._taxonomy_names = sorted({*builtin_taxonomies(), self.config.default_taxonomy,
                                       *self.config.taxonomies.values()})
        self.ready = False
        self.db: Database | None = None
        self.pool: InferencePool | None = None
        self.batcher: MicroBatcher | None = None
        self._loading: asyncio.Task | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the store (fails fast when another process holds it) and load the models in the background."""
        versions, fingerprint = self.pipeline.model_versions, self.pipeline.fingerprint
        self.db = Database(self.settings.db, versions, fingerprint, self.settings.write_batch_max)
        self.pool = InferencePool(self.config, self.settings.workers, fingerprint, self.settings.log_level,
                                  self.settings.worker_stall_s, emotion_weights=self.analytics.emotion_weights)
        self.batcher = MicroBatcher(self.pool, self.settings.batch_max_size, self.settings.batch_max_wait_ms / 1000,
                                    on_batch=self.metrics.observe_batch)
        self.metrics.watch_queue("inference", lambda: self.batcher.depth if self.batcher else 0)
        self.metrics.busy_workers.set_function(lambda: self.pool.busy if self.pool else 0)
        self.metrics.watch_queue("store_writes", lambda: self.db.depth if self.db else 0)
        self.batcher.start()
        self._loading = asyncio.create_task(self._load_models())

    async def _load_models(self) -> None:
        assert self.pool is not None
        try:
            await self.pool.start()
        except Exception:
            log.exception("loading the models failed; /readyz stays 503")
            return
        self.ready = True
        log.info("models loaded", extra={"inference_workers": self.pool.workers,
                                          "fingerprint": self.pipeline.fingerprint})

    async def stop(self) -> None:
        if self._loading is not None:
            self._loading.cancel()
        if self.batcher is not None:
            await self.batcher.stop()
        if self.pool is not None:
            await self.pool.shutdown()
        if self.db is not None:
            await anyio.to_thread.run_sync(self.db.close)

    # -- taxonomies ----------------------------------------------------------------------------------------
    def taxonomy_names(self) -> list[str]:
        """The taxonomies a request may name: the built-in ones and those the configuration maps to."""
        return list(self._taxonomy_names)

    def check_taxonomy(self, name: str | None) -> str | None:
        if name is not None and name not in self._taxonomy_names:
            raise ProblemError(422, "unknown-taxonomy", f"unknown taxonomy: choose from {self.taxonomy_names()} "
                                                        "(GET /v1/taxonomies)")  # problems never echo input
        return name

    # -- operations ----------------------------------------------------------------------------------------
    def _require_ready(self) -> None:
        if not self.ready:
            raise ProblemError(503, "not-ready", "the models are still loading; retry shortly",
                               headers={"Retry-After": "1"})

    async def _run(self, jobs: list[Job]) -> list[Outcome]:
        self._require_ready()
        assert self.batcher is not None
        try:
            outcomes = await self.batcher.analyze(jobs)
        except AnalysisError as error:  # the worker process died or the service is stopping: transient
            raise ProblemError(503, "inference-unavailable", f"{error}; retry shortly",
                               headers={"Retry-After": "1"}) from error
        # Problems name a transcript by its position, never by its id: an id may hold personal data.
        for position, (job, outcome) in enumerate(zip(jobs, outcomes, strict=True)):
            if outcome.unprocessable:
                self.metrics.transcripts.labels("refused").inc()
                raise ProblemError(422, "unprocessable-transcript",
                                   f"transcript {position} of the request cannot be processed ({outcome.error}); "
                                   "check for deeply nested metadata")
            if outcome.error is not None:
                self.metrics.transcripts.labels("failed").inc()
                transcript_id = self.pipeline.redactor.pseudonymize(job.transcript.id)
                log.error("analysis failed", extra={"error_type": outcome.error, "transcript_id": transcript_id})
                raise ProblemError(500, "analysis-failed",
                                   f"the pipeline failed on transcript {position} of the request ({outcome.error})")
        self.metrics.transcripts.labels("analyzed").inc(len(jobs))
        return outcomes

    async def analyze(self, transcripts: list[Transcript], taxonomy: str | None = None) -> list[bytes]:
        """The ``AnalyzeResult`` of each transcript, as JSON."""
        outcomes = await self._run([Job(t, taxonomy) for t in transcripts])
        return [o.json for o in outcomes]  # type: ignore[misc]

    async def ingest(self, transcript: Transcript, taxonomy: str | None, request_id: str) -> IngestResult:
        """Score and store one transcript, idempotently on its id (see ``service.storage``)."""
        self._require_ready()
        assert self.db is not None
        digest = content_hash(transcript)
        if taxonomy is not None:  # the same content classified in another taxonomy is another version
            digest = hashlib.sha256(f"{digest}|{taxonomy}".encode()).hexdigest()[:32]
        stored_id = self.pipeline.redactor.pseudonymize(transcript.id)  # the id the pipeline stores it under
        location = transcript_location(stored_id)
        if await anyio.to_thread.run_sync(self.db.unchanged, stored_id, digest):
            self.db.count("unchanged")
            self.metrics.transcripts.labels("unchanged").inc()
            return IngestResult(id=stored_id, status="unchanged", location=location)
        try:
            outcome = (await self._run([Job(transcript, taxonomy, keep_doc=True)]))[0]
        except ProblemError as problem:
            if problem.status == 500:
                self.db.count("failed", "pipeline error")
            raise
        assert outcome.doc is not None
        record = ScoredRecord(outcome.doc, API_SOURCE, f"request {request_id}", digest)
        try:
            status = await self.db.write(record)
        except StorageError as error:
            raise ProblemError(500, "store-failed", str(error)) from error
        self.metrics.transcripts.labels(status).inc()
        analysis = AnalyzeResult.model_validate_json(outcome.json)  # type: ignore[arg-type]
        return IngestResult(id=stored_id, status=status, location=location, analysis=analysis)
