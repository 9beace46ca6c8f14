"""The object that flows through the pipeline: a transcript cut into utterances, then labelled and scored.

Each step fills its own fields: ``segment`` creates the utterances, the journey classifier sets stage, issue
type and service step, the emotion scorer sets the emotion fields, and topical segmentation sets
``segment_index`` and builds the segments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from nlp.schema.transcript import Transcript

if TYPE_CHECKING:
    from nlp.categories import CategoryMatch


@dataclass
class Utterance:
    """One sentence of one turn, with everything later steps learn about it."""

    turn_index: int
    sentence_index: int
    speaker: str
    text: str
    language: str
    tokens: tuple[str, ...]
    start_ms: int | None = None
    end_ms: int | None = None
    ts: datetime | None = None
    speaker_label: str | None = None
    stage: str | None = None
    stage_confidence: float | None = None
    issue_type: str | None = None
    service_step: str | None = None
    sentiment: str | None = None
    sentiment_score: float | None = None
    emotion: str | None = None
    emotion_coarse: str | None = None
    emotion_confidence: float | None = None
    segment_index: int | None = None
    categories: list[str] = field(default_factory=list)  # ids of the utterance-level categories it matched


@dataclass
class Segment:
    """Contiguous utterances about the same journey stage."""

    segment_index: int
    stage: str
    issue_type: str | None
    first_turn: int
    last_turn: int
    n_utterances: int
    n_customer_utterances: int
    sentiment_mean: float | None


@dataclass
class Promise:
    """A time-bound commitment made to the customer (times are time-zone aware)."""

    turn_index: int
    speaker: str
    speaker_label: str | None
    text: str
    made_at: datetime
    deadline: datetime
    fallback: datetime | None = None  # a later deadline the same turn allowed for ("要是没货，那就后天")


@dataclass
class AnalyzedTranscript:
    """A transcript with its utterances and segments; ``taxonomy`` names the journey it was classified in."""

    transcript: Transcript
    language: str
    taxonomy: str
    utterances: list[Utterance] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    promises: list[Promise] = field(default_factory=list)
    categories: list[CategoryMatch] = field(default_factory=list)
