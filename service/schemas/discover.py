"""Schemas of ``GET /v1/discover`` (``service.routes.discover``; the method in docs/stages.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.schemas.analytics import AppliedFilters


class TopicCoverage(BaseModel):
    """How the compared taxonomy's encoder classifier labels the topic's utterances."""

    best_stage: str | None = Field(description="The stage that takes most of them (None: only other).")
    best_stage_share: float = Field(description="Share of the topic's utterances it takes (0..1).")
    other_share: float = Field(description="Share it calls other (0..1).")


class DiscoveredTopic(BaseModel):
    """A cluster of customer utterances: what customers talk about, how they feel and how much it hurts."""

    id: str = Field(description="topic_01 …, in size order; the stage id in the draft taxonomy.")
    name: str = Field(description="Its two most distinctive terms.")
    terms: list[str] = Field(description="Most distinctive terms first (class-based TF-IDF).")
    size: int = Field(description="Sampled utterances in the topic.")
    share: float = Field(description="size / sampled (0..1).")
    nev: float | None = Field(default=None, description="Net Emotional Value (−100..100) of its utterances' stored "
                                                        "emotions; None when none was scored.")
    pain: float | None = Field(default=None, description="Mean pain index (0..100) of the contacts its utterances "
                                                         "come from.")
    contacts: int | None = Field(default=None, description="How many contacts its utterances come from.")
    examples: list[str] = Field(description="Up to 5 utterances nearest its centre, PII redacted.")
    coverage: TopicCoverage | None = Field(default=None, description="With emerging=true.")
    emerging: bool = Field(description="The compared taxonomy covers it badly (other ≥ 50 % or no stage ≥ 50 %).")


class DiscoverResponse(BaseModel):
    """Topics of a sample of the stored customer utterances, and the draft taxonomy they make."""

    filters: AppliedFilters
    language: str = Field(description="zh or en: the language asked for, else detected from the sample.")
    max_topics: int
    sample: int = Field(description="The sample size asked for.")
    sampled: int = Field(description="Distinct customer utterances sampled (at most sample).")
    seen: int = Field(description="Distinct customer utterances (of at least 4 characters) of the contacts selected.")
    noise: int = Field(description="Sampled utterances in clusters under 1 % of the sample (no topic); the topics' "
                                   "sizes add up to sampled − noise.")
    compared_with: str | None = Field(default=None, description="The taxonomy the topics were compared against "
                                                                "(emerging=true).")
    emerging: list[str] = Field(description="Ids of the emerging topics.")
    topics: list[DiscoveredTopic]
    taxonomy_yaml: str = Field(description="The draft taxonomy (also GET /v1/discover/taxonomy.yaml): loadable "
                                           "unedited by --taxonomy; the figures per topic are comments.")


class DiscoverPending(BaseModel):
    """The discovery is still computing: ask again with the same parameters after ``retry_after_s``."""

    status: str = Field(default="computing", description="computing")
    retry_after_s: int = Field(description="Seconds to wait before asking again (also the Retry-After header).")
