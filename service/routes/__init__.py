"""The API's routes, one module per resource."""

from __future__ import annotations

from typing import Any

from service.problems import PROBLEM_JSON
from service.schemas.common import Problem

_DESCRIPTIONS = {
    400: "Bad request", 401: "No or invalid API key", 403: "The API key may not do this", 404: "Not found",
    413: "Request body too large", 422: "Invalid request", 429: "Rate limit of the API key exceeded",
    500: "The service failed", 503: "Not ready (models loading)", 504: "Timed out",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem answers."""
    return {
        status: {"model": Problem, "description": _DESCRIPTIONS[status], "content": {PROBLEM_JSON: {}}}
        for status in statuses
    }


V1_PROBLEMS = (400, 401, 413, 429, 500, 504)
