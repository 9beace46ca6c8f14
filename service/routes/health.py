"""Liveness, readiness and metrics (no API key: meant for the orchestrator and Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.deps import RuntimeDep
from service.problems import ProblemError
from service.routes import problems
from service.schemas.health import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> Health:
    """The process answers."""
    return Health(status="ok")


@router.get("/readyz", responses=problems(503))
async def readyz(runtime: RuntimeDep) -> Readiness:
    """The store is open and the models are loaded in the inference workers (503 while none is running, or while a
    worker has stopped answering)."""
    if not runtime.ready or runtime.pool is None or not runtime.pool.alive:
        raise ProblemError(503, "not-ready", "the models are loading", headers={"Retry-After": "1"})
    if runtime.pool.stalled:
        raise ProblemError(503, "inference-stalled", f"{runtime.pool.stalled} inference worker(s) stopped answering; "
                           "being replaced", headers={"Retry-After": "5"})
    return Readiness(status="ready", inference_workers=runtime.pool.alive, fingerprint=runtime.pipeline.fingerprint)


@router.get("/metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus text format."""
    return Response(runtime.metrics.render(), media_type=runtime.metrics.content_type)
