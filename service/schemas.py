"""Request and response schemas of the HTTP API, all in one module.

The request body of the analyze and ingestion routes is the canonical ``nlp.schema.transcript.Transcript`` itself, so
the API validates exactly as the file readers do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from nlp.schema.transcript import Transcript

Sentiment = Literal["negative", "neutral", "positive"]


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


class UtteranceResult(BaseModel):
    """One sentence of the contact with its journey labels and (customer utterances) its emotion."""

    index: int
    turn_index: int
    sentence_index: int
    speaker: str
    text: str = Field(description="Normalized and PII-redacted.")
    start_ms: int | None = None
    end_ms: int | None = None
    ts: Timestamp | None = None
    segment_index: int | None = None
    stage: str | None = None
    stage_confidence: float | None = None
    issue_type: str | None = None
    service_step: str | None = None
    sentiment: Sentiment | None = None
    sentiment_score: float | None = Field(default=None, description="In [-1, 1].")
    emotion: str | None = None
    emotion_coarse: str | None = None
    emotion_confidence: float | None = None


class SegmentResult(BaseModel):
    """Contiguous utterances about one journey stage."""

    segment_index: int
    stage: str
    stage_name: str
    issue_type: str | None = None
    first_turn: int
    last_turn: int
    n_utterances: int
    n_customer_utterances: int
    sentiment_mean: float | None = Field(default=None, description="Mean customer sentiment_score.")
    nev: float | None = Field(default=None, description="Net emotional value of the segment's customer utterances.")
    dominant_emotion: str | None = Field(default=None, description="Most frequent non-neutral customer emotion.")


class PromiseResult(BaseModel):
    """A time-bound commitment made to the customer ("退款明天中午之前一定到账"), with its deadline."""

    turn_index: int
    speaker: str
    speaker_label: str | None = None
    text: str
    made_at: Timestamp
    deadline: Timestamp
    fallback: Timestamp | None = Field(default=None, description="A later deadline the same turn allowed for.")


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
        default=None, description="Net emotional value: % positive − % negative customer utterances (−100..100)."
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


class CategoryInfo(BaseModel):
    id: str
    name: str
    name_en: str | None = None
    description: str = ""


class StageInfo(CategoryInfo):
    phase: str
    parent: str | None = None


class TaxonomyInfo(BaseModel):
    name: str = Field(description="Pass as `taxonomy` to the analyze and ingestion routes.")
    title: str = Field(description="The taxonomy's own name.")
    language: str
    description: str
    default: bool = Field(description="Used when no business line maps to another taxonomy.")
    business_lines: list[str] = Field(description="Business lines mapped to this taxonomy by the configuration.")
    stages: list[StageInfo]
    issue_types: list[CategoryInfo]
    service_steps: list[CategoryInfo]


class TaxonomyList(BaseModel):
    taxonomies: list[TaxonomyInfo]


class ModelInfo(BaseModel):
    role: Literal["emotion_scorer", "journey_classifier"]
    name: str
    version: str
    card: dict[str, Any] | None = Field(
        default=None, description="The model card (metrics) of a trained model; the built-in lexicon and keyword "
                                  "components have none."
    )


class ModelsResponse(BaseModel):
    journeylens: str
    fingerprint: str = Field(description="Changes whenever a model, taxonomy or the configuration changes.")
    models: list[ModelInfo]
    taxonomies: dict[str, str] = Field(description="Taxonomy name → digest of its content.")
    configuration: dict[str, Any]


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    inference_workers: int
    fingerprint: str


# -- analytics (nlp.analytics; formulas in docs/analytics.md) ----------------------------------------------
class AppliedFilters(BaseModel):
    """The contacts an answer covers. Dates are local days in the analytics time zone."""

    date_from: date | None = None
    date_to: date | None = None
    business_line: str | None = None
    channel: str | None = None
    taxonomy: str | None = None
    category: str | None = Field(default=None, description="Only contacts that matched this category id.")
    metadata: dict[str, str] = Field(default_factory=dict)
    by: str | None = Field(default=None, description="The breakdown field; rows carry its value in `group`.")
    timezone: str


class Evidence(BaseModel):
    """A customer utterance that says what hurts at the stage, from one of its most painful contacts."""

    transcript_id: str
    turn_index: int
    text: str
    emotion: str | None = None


class StageRow(BaseModel):
    """One stage (of one taxonomy and breakdown group): frequency, emotion and pain."""

    taxonomy: str
    group: str | None = None
    stage: str
    stage_name: str
    phase: str | None = None
    journey_order: int | None = None
    owner: str | None = None
    pain_rank: int | None = Field(default=None, description="1 = most painful; `other` is never ranked.")
    contacts: int = Field(description="Contacts whose reason for contact is this stage (problem frequency).")
    share_pct: float
    pain: float | None = Field(default=None, description="Pain index 0..100, mean over the stage's contacts.")
    pain_low: float | None = None
    pain_high: float | None = None
    pain_components: dict[str, float | None] = Field(description="Mean of each pain component (0..1).")
    nev: float | None = Field(default=None, description="Net emotional value −100..100 of customer utterances.")
    nev_low: float | None = None
    nev_high: float | None = None
    nev_contacts: int | None = None
    customer_utterances: int | None = None
    ces: float | None = Field(default=None, description="Customer-effort proxy 1..7.")
    unresolved_pct: float | None = None
    repeat_pct: float | None = None
    escalation_pct: float | None = None
    fcr_pct: float | None = None
    broken_promises: int | None = None
    csat: float | None = None
    top_issue_types: str | None = None
    reliable: bool = Field(description="False below the minimum sample sizes: show the numbers as unreliable.")
    share_median: float | None = Field(default=None, description="The taxonomy's median share (quadrant split).")
    pain_median: float | None = Field(default=None, description="The taxonomy's median pain (quadrant split).")
    frequency: str = Field(description="high / low against the taxonomy's median share (— for other).")
    pain_level: str = Field(description="high / low against the taxonomy's median pain (— for other).")
    recommendation: str
    evidence: list[Evidence] = Field(default_factory=list)


class RankingResponse(BaseModel):
    filters: AppliedFilters
    stages: list[StageRow]


class QuadrantPoint(BaseModel):
    """A stage placed by problem frequency (x) and pain (y), split at the taxonomy's medians."""

    taxonomy: str
    group: str | None = None
    stage: str
    stage_name: str
    contacts: int
    share_pct: float
    pain: float | None = None
    share_median: float | None = None
    pain_median: float | None = None
    frequency: str
    pain_level: str
    recommendation: str
    reliable: bool


class QuadrantResponse(BaseModel):
    filters: AppliedFilters
    points: list[QuadrantPoint]


class TrendPoint(BaseModel):
    """One stage in one period."""

    taxonomy: str
    group: str | None = None
    stage: str
    period: date = Field(description="First local day of the day or ISO week.")
    contacts: int
    utterances: int
    nev: float | None = None
    pain: float | None = None
    ces: float | None = None
    repeat_rate: float | None = None
    z_contacts: float | None = None
    z_nev: float | None = None
    z_pain: float | None = None
    anomaly: bool = Field(description="A robust z-score of volume, NEV or pain beyond the threshold.")


class TrendResponse(BaseModel):
    filters: AppliedFilters
    stage: str
    period: Literal["day", "week"]
    points: list[TrendPoint]


class TouchpointRow(BaseModel):
    """One service step (service level) or one stage × issue type × service step (process level)."""

    taxonomy: str
    group: str | None = None
    level: Literal["service", "process"]
    stage: str | None = Field(default=None, description="The reason stage (process level).")
    issue_type: str | None = Field(default=None, description="The reason issue type (process level).")
    service_step: str
    step_name: str
    step_order: int | None = Field(default=None, description="Position of the step in the taxonomy.")
    contacts: int = Field(description="Contacts with any utterance at the step.")
    share_pct: float = Field(description="Of the contacts of the taxonomy (and stage × issue type).")
    pain: float | None = Field(default=None, description="Mean pain 0..100 of those contacts.")
    customer_utterances: int
    nev: float | None = Field(default=None, description="NEV of the customer utterances said at the step.")
    nev_low: float | None = None
    nev_high: float | None = None
    reliable: bool


class TouchpointResponse(BaseModel):
    filters: AppliedFilters
    level: Literal["service", "process"]
    stage: str | None = None
    touchpoints: list[TouchpointRow]


class ImpactRow(BaseModel):
    """Before vs after a change for one stage (or ``all``) and metric."""

    taxonomy: str
    group: str | None = None
    stage: str
    metric: str
    contacts_before: int
    contacts_after: int
    before: float | None = None
    after: float | None = None
    difference: float | None = None
    low: float | None = Field(default=None, description="Lower end of the Bonferroni-corrected bootstrap CI.")
    high: float | None = None
    effect_size: float | None = None
    changed: bool
    direction: str


class ImpactResponse(BaseModel):
    filters: AppliedFilters
    change_date: date
    window_days: int | None = Field(default=None, description="Days compared on each side; none = all.")
    rows: list[ImpactRow]


class KpiRow(BaseModel):
    """A touchpoint KPI against customer expectation and industry benchmark, with its owner."""

    kpis: str = Field(description="The KPI file it comes from.")
    taxonomy: str
    id: str
    name: str
    stage: str
    measure: str
    better: str
    expectation: float | None = None
    benchmark: float | None = None
    owner: str
    contacts: int
    value: float | None = None
    status: str


class KpiResponse(BaseModel):
    filters: AppliedFilters
    kpis: list[KpiRow]


class JourneyContact(BaseModel):
    """One contact of a customer-view journey."""

    transcript_id: str
    started_at: datetime | None = Field(default=None, description="Local time in the analytics time zone.")
    channel: str | None = None
    business_line: str | None = None
    taxonomy: str | None = None
    order_id: str | None = None
    customer_id: str | None = None
    stage: str | None = Field(default=None, description="The reason for contact.")
    issue_type: str | None = None
    stages: list[str] = Field(default_factory=list)
    service_path: list[str] = Field(default_factory=list)
    third_parties: list[str] = Field(default_factory=list)
    pain: float | None = None
    ces: float | None = None
    start_score: float | None = None
    end_score: float | None = None
    resolved: bool | None = None
    repeat_contact: bool | None = None
    broken_promises: int = Field(description="Broken promises this contact chases.")
    csat: float | None = None


class JourneyPromise(BaseModel):
    """A promise made to the customer and whether it was kept."""

    transcript_id: str
    turn_index: int
    speaker: str | None = None
    speaker_label: str | None = None
    text: str
    made_at: datetime | None = None
    deadline: datetime | None = None
    fallback: datetime | None = None
    status: str = Field(description="kept, broken or open.")
    next_id: str | None = Field(default=None, description="The next contact, which judged the promise.")


class JourneySummary(BaseModel):
    key: str
    contacts: int
    orders: list[str]
    customers: list[str]
    first_contact: datetime | None = Field(default=None, description="None when no contact has a start time.")
    last_contact: datetime | None = None
    span_days: float | None = None
    channels: list[str]
    stages: list[str]
    third_party_handoffs: int
    third_parties: list[str]
    promises: int
    promises_broken: int
    promises_kept: int
    mean_pain: float | None = None
    resolved_at_end: bool
    last_csat: float | None = None


class JourneyResponse(BaseModel):
    timezone: str
    summary: JourneySummary
    contacts: list[JourneyContact]
    promises: list[JourneyPromise]
