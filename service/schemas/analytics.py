"""Schemas of the analytics routes (``service.routes.analytics``; formulas in docs/analytics.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field


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
