"""Dependencies of the routes: the runtime, API-key authentication with per-key rate limits, the store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import duckdb
from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyHeader

from service.keys import ApiKey
from service.problems import ProblemError
from service.runtime import Runtime

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="An API key from `journeylens keys create --name NAME`.")


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def require_key(request: Request, key: Annotated[str | None, Security(api_key_header)] = None) -> ApiKey:
    """The caller's API key, authenticated (401) and rate limited (429) by ``service.middleware.ApiKeyGate``
    before the body is read; declared here so that OpenAPI shows the security scheme."""
    entry = getattr(request.state, "api_key", None)
    if key is None or entry is None:
        raise ProblemError(401, "unauthorized", "send an API key in the X-API-Key header",
                           headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'})
    return entry


async def require_write_key(key: Annotated[ApiKey, Depends(require_key)]) -> ApiKey:
    """A key allowed to store data; read-only keys get 403."""
    if key.read_only:
        raise ProblemError(403, "read-only-key", f"the API key {key.name!r} is read-only; it cannot store transcripts")
    return key


async def taxonomy_param(
    runtime: RuntimeDep,
    taxonomy: Annotated[str | None, Query(description="A taxonomy name from GET /v1/taxonomies, overriding the "
                                                      "one the transcript's business line maps to.")] = None,
) -> str | None:
    return runtime.check_taxonomy(taxonomy)


def get_reader(runtime: RuntimeDep) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read cursor on the store for this request (it sees every committed write)."""
    assert runtime.db is not None
    cursor = runtime.db.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


ReadKey = Annotated[ApiKey, Depends(require_key)]
WriteKey = Annotated[ApiKey, Depends(require_write_key)]
Taxonomy = Annotated[str | None, Depends(taxonomy_param)]
Reader = Annotated[duckdb.DuckDBPyConnection, Depends(get_reader)]
