"""Schemas of the analyze routes (``service.routes.analyze``): the analysis of one contact."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from nlp.schema.transcript import Transcript
from service.schemas.common import Timestamp
from service.schemas.records import PromiseResult, SegmentResult, UtteranceResult

__all__ = ["AnalyzeBatchRequest", "AnalyzeBatchResponse", "AnalyzeResult", "ContactSummary", "EmotionTrend",
           "PainSignals", "PromiseResult", "SegmentResult", "UtteranceResult"]


class EmotionTrend(BaseModel):
    """Mean customer sentiment_score of the first and of the last third of the customer utterances."""

    start: float | None = None
    end: float | None = None
    change: float | None = Field(default=None, description="end − start")
    direction: Literal["improving", "worsening", "steady"] | None = None


class PainSignals(BaseModel):
    """Signs of a painful contact that are visible in the transcript itself."""

    negative_at_end: bool = Field(description="The last scored customer utterance is negative.")
    negative_share: float | None = Field(default=None, description="Share of customer utterances that are negative.")
    handoffs: int = Field(description="Times the service step changes between consecutive utterances.")
    escalated: bool = Field(description="The contact reached the escalation step.")
    stage_switches: int = Field(description="Times the journey stage changes (segments − 1).")
    most_negative_stage: str | None = Field(
        default=None, description="Stage of the segment with the lowest customer sentiment, when below 0."
    )


class ContactSummary(BaseModel):
    """The contact as a whole."""

    nev: float | None = Field(
        default=None, description="Net emotional value of the customer utterances, −100..100 (docs/analytics.md): "
                                  "the service's emotion weights, as in the rankings."
    )
    n_customer_utterances: int
    n_positive: int
    n_negative: int
    dominant_emotion: str | None = None
    emotions: dict[str, int] = Field(description="Customer utterances per fine emotion.")
    stages: list[str] = Field(description="Stages in the order the contact visits them.")
    emotion_trend: EmotionTrend
    pain_signals: PainSignals


class AnalyzeResult(BaseModel):
    """One analyzed transcript."""

    id: str
    language: str
    taxonomy: str
    channel: str | None = None
    started_at: Timestamp | None = None
    business_line: str | None = None
    customer_id: str | None = Field(default=None, description="Pseudonymized (pii-…) when it was itself PII.")
    order_id: str | None = None
    summary: ContactSummary
    segments: list[SegmentResult]
    utterances: list[UtteranceResult]
    promises: list[PromiseResult] = Field(default_factory=list)


class AnalyzeBatchRequest(BaseModel):
    transcripts: list[Transcript] = Field(min_length=1, description="At most `max_batch_transcripts` (default 100).")


class AnalyzeBatchResponse(BaseModel):
    results: list[AnalyzeResult]
