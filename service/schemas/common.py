"""What every routes module's schemas share: the problem document and timestamps that always carry an offset."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field


def _as_utc_when_naive(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# Times without a zone are UTC, as the store keeps them (``nlp.store``); answers always carry the offset.
Timestamp = Annotated[datetime, AfterValidator(_as_utc_when_naive)]


class Problem(BaseModel):
    """An error, as RFC 9457 ``application/problem+json``."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="The request path.")
    request_id: str | None = None
    errors: list[dict[str, Any]] | None = Field(default=None, description="Field errors of a 422.")
