"""The outermost middleware on its own: a slow handler times out as a 504 problem, a crash is a 500 problem with
no trace, and both still carry the request id."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from service.metrics import Metrics
from service.middleware import RequestContext


async def slow(scope, receive, send) -> None:
    await asyncio.sleep(5)


async def crash(scope, receive, send) -> None:
    raise RuntimeError("secret detail: 13912345678")


def call(app, path: str = "/v1/analyze") -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=RequestContext(app, Metrics(), timeout_s=0.2))
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            return await client.post(path, headers={"X-Request-ID": "req-1"})

    return asyncio.run(go())


def test_a_slow_request_gets_a_504_problem() -> None:
    response = call(slow)
    assert response.status_code == 504
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:journeylens:problem:timeout"
    assert response.json()["request_id"] == response.headers["x-request-id"] == "req-1"


def test_a_crash_gets_a_500_problem_without_internals(caplog: pytest.LogCaptureFixture) -> None:
    response = call(crash)
    assert response.status_code == 500
    assert response.json()["type"] == "urn:journeylens:problem:internal"
    assert "secret" not in response.text and "Traceback" not in response.text
    assert any(r.name == "journeylens.error" for r in caplog.records)  # the log keeps the (redacted) trace
