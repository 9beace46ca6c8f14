"""Errors as RFC 9457 problem details (``application/problem+json``), never with a stack trace.

Problems this service defines have a ``urn:journeylens:problem:<name>`` type (listed in docs/service.md); plain
HTTP errors (404, 405) use ``about:blank`` with the status phrase as title, as the RFC recommends. Every
problem carries the request id, which is also in the ``X-Request-ID`` header and in the server log.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from nlp.steps.redact import Redactor, map_strings
from service.logs import request_id_var

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:journeylens:problem:"
_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}  # RFC 9110 names
_redact = Redactor()


def status_title(status: int) -> str:
    return _TITLES.get(status) or HTTPStatus(status).phrase


class ProblemError(Exception):
    """Raise to answer with a problem; ``name`` becomes the type ``urn:journeylens:problem:<name>``."""

    def __init__(self, status: int, name: str, detail: str, title: str | None = None,
                 headers: dict[str, str] | None = None, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.status, self.name, self.detail = status, name, detail
        self.title = title or status_title(status)
        self.headers = headers or {}
        self.errors = errors


def problem_body(status: int, title: str, detail: str | None, type_: str = "about:blank",
                 instance: str | None = None, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The problem, PII redacted from what may quote the request: the path, the detail, the errors."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = _redact(detail)
    if instance:
        body["instance"] = _redact(instance)
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    if errors is not None:
        body["errors"] = map_strings(errors, _redact)
    return body


def problem_response(status: int, title: str, detail: str | None, type_: str = "about:blank",
                     instance: str | None = None, headers: dict[str, str] | None = None,
                     errors: list[dict[str, Any]] | None = None) -> Response:
    return JSONResponse(problem_body(status, title, detail, type_, instance, errors), status_code=status,
                        headers=headers, media_type=PROBLEM_JSON)


async def _on_problem(request: Request, error: Exception) -> Response:
    assert isinstance(error, ProblemError)
    return problem_response(error.status, error.title, error.detail, TYPE_PREFIX + error.name, request.url.path,
                            error.headers, error.errors)


# FastAPI answers 400 with this detail when parsing the body raised anything but a JSON syntax error (e.g. a
# RecursionError on a body nested thousands deep): that is a body we cannot process, like invalid JSON (422).
_UNPARSEABLE_BODY = "There was an error parsing the body"


async def _on_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400 and error.detail == _UNPARSEABLE_BODY:
        return problem_response(422, status_title(422), "the body cannot be parsed (is it nested too deeply?)",
                                TYPE_PREFIX + "validation", request.url.path)
    title = status_title(error.status_code)
    detail = error.detail if isinstance(error.detail, str) and error.detail != title else None
    if error.status_code == 404 and detail is None:
        detail = f"nothing at {request.method} {request.url.path}"
    headers = dict(error.headers) if error.headers else None
    return problem_response(error.status_code, title, detail, instance=request.url.path, headers=headers)


def _where(loc: list[str]) -> str:
    inside = loc[1:] if len(loc) > 1 and loc[0] in ("body", "query", "path", "header") else loc
    return ".".join(inside) or "request"


async def _on_validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    # The offending input is not echoed back: it may be large and may hold personal data.
    errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
              for e in error.errors()]
    if errors and errors[0]["type"] == "json_invalid":
        detail = f"the body is not valid JSON (near character {errors[0]['loc'][-1]})"
    else:
        detail = "the request is not valid: " + "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in errors[:5])
    return problem_response(422, status_title(422), detail,
                            TYPE_PREFIX + "validation", request.url.path, errors=errors)


def install(app: FastAPI) -> None:
    """Answer every error the application raises with a problem."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
