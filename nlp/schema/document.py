"""The object that flows through the pipeline: a transcript cut into utterances, then labelled and scored.

Each step fills its own fields: ``segment`` creates the utterances, the journey classifier sets stage, issue
type and service step, the emotion scorer sets the emotion fields, and topical segmentation sets
``segment_index`` and builds the segments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from nlp.schema.fields import record_field
from nlp.schema.transcript import Transcript

if TYPE_CHECKING:
    from nlp.categories import CategoryMatch

Sentiment = Literal["negative", "neutral", "positive"]


@dataclass
class Utterance:
    """One sentence of one turn (or a clause of it, when a long customer sentence names several stages:
    nlp/steps/clauses.py), with everything later steps learn about it.

    The single description of an utterance: the store's ``utterances`` columns (in this order), the API's
    ``UtteranceResult`` and the ``journeylens analyze`` lines follow these fields (``nlp.schema.fields``)."""

    turn_index: int = record_field(description="Position of the turn in the transcript (0-based).")
    sentence_index: int = record_field(description="Position of the utterance (a sentence, or a clause of one that "
                                                   "names another stage) in its turn (0-based).", omit=("jsonl",))
    speaker: str = record_field(description="customer, agent, bot, ivr or third_party.")
    speaker_label: str | None = record_field(default=None, kw_only=True, omit=("api",),
                                             description="The source's own name of the speaker.")
    text: str = record_field(description="Normalized and PII-redacted.")
    language: str = record_field(omit=("api", "jsonl"))
    tokens: tuple[str, ...] = record_field(omit=("store", "api", "jsonl"))
    start_ms: int | None = record_field(default=None, sql="BIGINT")
    end_ms: int | None = record_field(default=None, sql="BIGINT")
    ts: datetime | None = None
    segment_index: int | None = None
    stage: str | None = None
    stage_confidence: float | None = None
    issue_type: str | None = None
    service_step: str | None = None
    sentiment: Sentiment | None = None
    sentiment_score: float | None = record_field(default=None, description="In [-1, 1].")
    emotion: str | None = None
    emotion_coarse: str | None = None
    emotion_confidence: float | None = record_field(default=None, omit=("jsonl",))
    # ids of the utterance-level categories it matched (the store keeps them in its categories table)
    categories: list[str] = record_field(default_factory=list, omit=("store", "api"))
    char_start: int | None = record_field(default=None, description="Where the utterance starts in its turn's "
                                                                     "text (character offset).")
    char_end: int | None = record_field(default=None, description="Where it ends in its turn's text (exclusive).")


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
    sentiment_mean: float | None = record_field(description="Mean customer sentiment_score.")
    start_char: int | None = record_field(default=None, description="Where the segment starts in the text of its "
                                                                    "first turn (character offset; > 0 when it "
                                                                    "starts mid-turn, at a clause).")
    end_char: int | None = record_field(default=None, description="Where it ends in the text of its last turn "
                                                                  "(exclusive).")


@dataclass
class Promise:
    """A time-bound commitment made to the customer (times are time-zone aware)."""

    turn_index: int
    speaker: str
    speaker_label: str | None
    text: str
    made_at: datetime
    deadline: datetime
    # a later deadline the same turn allowed for ("要是没货，那就后天")
    fallback: datetime | None = record_field(default=None, description="A later deadline the same turn allowed for.")


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
