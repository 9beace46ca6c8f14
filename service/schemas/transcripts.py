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


class TranscriptCategory(BaseModel):
    """A category the stored contact matched (the store's ``categories`` table), with its evidence utterances."""

    id: str
    name: str = Field(description="The configured category's name; its id when no configured file defines it.")
    level: Literal["utterance", "contact"]
    utterance_indexes: list[int] = Field(
        description="``utterances[].index`` of each utterance that matched (the evidence), ascending; empty for a "
                    "contact-level match that no utterance shows (a metadata or talk-share condition).")
    turn_indexes: list[int] = Field(description="The distinct ``turn_index`` of those utterances, ascending.")


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
    categories: list[TranscriptCategory] = Field(
        default_factory=list, description="The categories the contact matched, in the order of the configured "
                                          "definitions, then stored ids without one (by id).")
