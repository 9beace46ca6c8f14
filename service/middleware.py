"""Plain ASGI middleware (cheap enough for every request), outermost first:

1. ``RequestContext``: request id (``X-Request-ID`` in and out), timeout (504), any unhandled error as a 500
   problem without a trace, security headers (``Cache-Control: no-store`` unless the route set its own, as the
   dashboard's assets do), one JSON access-log line and the request metrics;
2. CORS, only when origins are configured;
3. ``ApiKeyGate``: every ``/v1`` request needs a valid ``X-API-Key`` (401) within its rate limit (429), checked
   before the body is read;
4. ``BodyLimit``: bodies over ``max_body_bytes`` get 413 without being read further.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.keys import KeyStore
from service.logs import request_id_var
from service.metrics import Metrics
from service.problems import TYPE_PREFIX, problem_response
from service.ratelimit import RateLimiter, retry_after

access_log = logging.getLogger("journeylens.access")
error_log = logging.getLogger("journeylens.error")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


async def _send_problem(scope: Scope, receive: Receive, send: Send, status: int, name: str | None, title: str,
                        detail: str, headers: dict[str, str] | None = None) -> None:
    response = problem_response(status, title, detail, TYPE_PREFIX + name if name else "about:blank",
                                scope.get("path"), headers)
    await response(scope, receive, send)


class RequestContext:
    def __init__(self, app: ASGIApp, metrics: Metrics, timeout_s: float) -> None:
        self.app, self.metrics, self.timeout_s = app, metrics, timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "started": False}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"], state["started"] = message["status"], True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}  # a route's own Cache-Control stands
                message["headers"] = [*headers, (b"x-request-id", request_id.encode()),
                                      *(h for h in _SECURITY_HEADERS if h[0] not in present)]
            await send(message)

        try:
            async with asyncio.timeout(self.timeout_s):
                await self.app(scope, receive, send_with_headers)
        except TimeoutError:
            if not state["started"]:
                await _send_problem(scope, receive, send_with_headers, 504, "timeout", "Gateway Timeout",
                                    f"the request took longer than {self.timeout_s:g} s")
        except Exception:  # noqa: BLE001 - the client gets a problem, the log gets the (redacted) trace
            error_log.exception("unhandled error", extra={"path": scope.get("path")})
            if not state["started"]:
                await _send_problem(scope, receive, send_with_headers, 500, "internal", "Internal Server Error",
                                    "the service failed on this request; quote the request id when reporting it")
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe_request(scope["method"], template, state["status"], seconds)
            key = scope.get("state", {}).get("api_key")
            access_log.info("%s %s %s", scope["method"], scope["path"], state["status"], extra={
                "method": scope["method"], "path": scope["path"], "route": template, "status": state["status"],
                "duration_ms": round(seconds * 1000, 2), "key": key.name if key is not None else None,
            })
            request_id_var.reset(token)


class ApiKeyGate:
    """Authenticate ``/v1`` requests and apply the key's rate limit; the key goes to ``request.state.api_key``."""

    def __init__(self, app: ASGIApp, keys: KeyStore, limiter: RateLimiter, prefix: str = "/v1") -> None:
        self.app, self.keys, self.limiter, self.prefix = app, keys, limiter, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.app(scope, receive, send)
            return
        challenge = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}
        presented = _header(scope, b"x-api-key")
        if not presented:
            await _send_problem(scope, receive, send, 401, "unauthorized", "Unauthorized",
                                "send an API key in the X-API-Key header", challenge)
            return
        entry = self.keys.lookup(presented)
        if entry is None:
            await _send_problem(scope, receive, send, 401, "unauthorized", "Unauthorized",
                                "the API key is not valid", challenge)
            return
        scope.setdefault("state", {})["api_key"] = entry
        wait = self.limiter.acquire(entry.key_id, entry.rate_limit_per_second, entry.rate_limit_burst)
        if wait > 0:
            await _send_problem(scope, receive, send, 429, "rate-limited", "Too Many Requests",
                                f"too many requests for this API key; retry in {wait:.2f} s",
                                {"Retry-After": retry_after(wait)})
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """413 for a request body over ``max_bytes``, by its Content-Length or, when chunked, as it arrives."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        detail = f"the request body is larger than {self.max_bytes:,} bytes"
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                await _send_problem(scope, receive, send, 400, "bad-request", "Bad Request", "invalid Content-Length")
                return
            if too_large:
                await _send_problem(scope, receive, send, 413, "body-too-large", "Content Too Large", detail)
                return
            await self.app(scope, receive, send)
            return
        # No length given (chunked): read the body here, stopping as soon as it is too large.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _send_problem(scope, receive, send, 413, "body-too-large", "Content Too Large", detail)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
