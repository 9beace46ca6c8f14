"""The FastAPI application: ``create_app(settings)`` wires runtime, middleware, error handling and routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from nlp import __version__
from service import problems
from service.config import Settings
from service.facts_cache import FactsCache, StoreCache
from service.middleware import ApiKeyGate, BodyLimit, RequestContext
from service.routes import analytics, analyze, catalog, categories, dashboard, discover, health, transcripts
from service.runtime import Runtime

log = logging.getLogger("journeylens.service")

DESCRIPTION = """
Classify and score contact-centre transcripts (Chinese first, English too) by customer-journey stage and
emotion; store them; read them back.

Every `/v1` route needs an `X-API-Key` header (`journeylens keys create --name NAME`). Errors are RFC 9457
`application/problem+json`. See docs/service.md.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        dashboard.prepare_assets()  # gzip plotly.js before the first browser asks for it
        if not runtime.keys.entries():
            log.warning("no API keys yet: every /v1 request will get 401; create one with "
                        "`journeylens keys create --name NAME`", extra={"keys_file": str(runtime.keys.path)})
        log.info("serving", extra={"db": str(settings.db), "inference_workers": settings.workers})
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPIOffline(  # Swagger UI's script and styles served from the package: /docs works offline
        title="journeylens", version=__version__, description=DESCRIPTION, lifespan=lifespan,
        docs_url="/docs" if settings.docs else None, redoc_url=None, static_url="/docs-assets",
        openapi_url="/openapi.json" if settings.docs else None,
    )
    app.state.runtime = runtime
    app.state.facts_cache = FactsCache()
    app.state.discover_cache = StoreCache(max_entries=4)  # GET /v1/discover's answers
    problems.install(app)
    for module in (analyze, transcripts, analytics, categories, discover, catalog, health, dashboard):
        app.include_router(module.router)

    # add_middleware wraps: the last added is the outermost.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(ApiKeyGate, keys=runtime.keys, limiter=runtime.limiter)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["X-API-Key", "Content-Type", "X-Request-ID"],
                           expose_headers=["X-Request-ID", "Retry-After", "Location"])
    app.add_middleware(RequestContext, metrics=runtime.metrics, timeout_s=settings.request_timeout_s)
    return app
