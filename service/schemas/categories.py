"""Response models of the category and agent QA routes (``service/routes/categories.py``)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from service.schemas.analytics import AppliedFilters


class CategoryStat(BaseModel):
    """A category and the contacts of the filtered window that matched it."""

    category_id: str
    name: str
    level: str
    owner: str | None = None
    description: str = ""
    contacts: int = Field(description="Contacts of the window that matched the category.")
    rate_pct: float | None = Field(description="Their share of the window's contacts, in %.")
    evidence: int = Field(description="Stored evidence rows (matching utterances) of those contacts.")


class CategoryStageStat(BaseModel):
    """A category's contacts among those whose reason stage is ``stage``."""

    taxonomy: str | None
    stage: str
    category_id: str
    contacts: int
    stage_contacts: int
    rate_pct: float


class CategoriesResponse(BaseModel):
    filters: AppliedFilters
    contacts: int = Field(description="Contacts in the filtered window.")
    categories: list[CategoryStat]
    by_stage: list[CategoryStageStat]


class CategoryTrendPoint(BaseModel):
    period: date = Field(description="First local day of the day or week (Monday).")
    contacts: int
    matched: int
    rate_pct: float


class CategoryTrendResponse(BaseModel):
    filters: AppliedFilters
    category_id: str
    name: str
    period: str
    points: list[CategoryTrendPoint]


class QaItem(BaseModel):
    """A scorecard item (or auto-fail item) and, over the window, the contacts it applied to and matched."""

    item: str
    kind: str = Field(description="item or auto_fail")
    name: str
    weight: float | None
    applicable: int
    matched: int
    matched_pct: float | None


class QaGroup(BaseModel):
    """Scores of one agent, team, or agent and week."""

    agent_id: str | None = None
    team: str | None = None
    week: date | None = None
    contacts: int
    scored: int = Field(description="Contacts with a score (some item applied).")
    score: float | None = Field(description="Mean score, 0–100.")
    score_min: float | None
    auto_fails: int
    item_pct: dict[str, float | None] = Field(description="Per item: % of the contacts it applied to that passed.")


class QaEvidence(BaseModel):
    utterance_index: int
    text: str


class QaContact(BaseModel):
    transcript_id: str
    started_local: datetime | None
    week: date | None
    agent_id: str
    team: str | None
    channel: str | None
    score: float | None
    auto_fail: list[str]
    items: dict[str, str] = Field(description="Item id → pass, fail or n/a.")
    evidence: dict[str, list[QaEvidence]] = Field(description="Item or auto-fail id → the agent's utterances.")


class QaScorecard(BaseModel):
    id: str
    name: str
    description: str


class QaResponse(BaseModel):
    filters: AppliedFilters
    scorecard: QaScorecard
    contacts_total: int = Field(description="Contacts with an agent utterance in the window.")
    items: list[QaItem]
    agents: list[QaGroup]
    teams: list[QaGroup]
    weeks: list[QaGroup]
    contacts: list[QaContact] = Field(description="The lowest-scoring contacts first, up to `limit`.")
