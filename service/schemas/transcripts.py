"""Schemas of the transcript routes (``service.routes.transcripts``): storing and reading back."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from service.schemas.analyze import AnalyzeResult, ContactSummary
from service.schemas.common import Timestamp
from service.schemas.records import PromiseResult, SegmentResult, UtteranceResult


class IngestResult(BaseModel):
    """What storing a transcript did. ``analysis`` is present when it was scored by this request."""

    id: str
    status: Literal["created", "updated", "unchanged"]
    location: str = Field(description="Where to read it back.")
    analysis: AnalyzeResult | None = None


class StoredTranscript(BaseModel):
    """A transcript as stored: its metadata, scored utterances, segments and the contact summary."""

    id: str
    channel: str | None = None
    started_at: Timestamp | None = None
    customer_id: str | None = None
    order_id: str | None = None
    business_line: str | None = None
    language: str | None = None
    taxonomy: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    n_turns: int | None = None
    source: str | None = None
    run_id: str | None = None
    fingerprint: str | None = None
    scored_at: Timestamp | None = None
    summary: ContactSummary
    segments: list[SegmentResult]
    utterances: list[UtteranceResult]
    promises: list[PromiseResult] = Field(default_factory=list)
