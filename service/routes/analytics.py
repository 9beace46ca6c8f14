"""Journey analytics over the store: stage ranking, quadrant, service and process touchpoints, trends,
customer-view journeys, impact, KPIs.

Every route reads the DuckDB store through its own cursor and runs in the thread pool (the computations are
pandas and SQL, seconds on a million utterances), so the event loop keeps serving the real-time routes. The
contact facts they start from are shared between requests with the same filters while the store is unchanged
(``service/facts_cache.py``): the dashboard's ranking, trend, touchpoints and impact compute them once.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query, Request

from nlp.analytics.filters import FIRST_DAY, LAST_DAY, Filters, field_sql
from nlp.analytics.journeys import find_journey
from nlp.analytics.kpis import kpi_report, load_kpis
from nlp.analytics.rankings import rank_stages
from nlp.analytics.settings import PAIN_COMPONENTS
from nlp.analytics.touchpoints import touchpoints
from nlp.analytics.trends import impact as impact_of_change
from nlp.analytics.trends import stage_trend
from nlp.resources import models_dir
from service.deps import Reader, ReadKey, RuntimeDep
from service.facts_cache import FactsCache
from service.problems import ProblemError
from service.routes import V1_PROBLEMS, problems
from service.schemas.analytics import (
    AppliedFilters,
    ImpactResponse,
    JourneyResponse,
    KpiResponse,
    QuadrantResponse,
    RankingResponse,
    TouchpointResponse,
    TrendResponse,
)

router = APIRouter(prefix="/v1", tags=["analytics"], responses=problems(*V1_PROBLEMS, 422))


def contact_filters(
    runtime: RuntimeDep,
    date_from: Annotated[date | None, Query(alias="from", ge=FIRST_DAY, le=LAST_DAY,
                                            description="First local day (YYYY-MM-DD).")] = None,
    date_to: Annotated[date | None, Query(alias="to", ge=FIRST_DAY, le=LAST_DAY,
                                          description="Last local day (YYYY-MM-DD), inclusive.")] = None,
    business_line: Annotated[str | None, Query(max_length=200)] = None,
    channel: Annotated[str | None, Query(max_length=50, description="chat, call, email or ticket.")] = None,
    taxonomy: Annotated[str | None, Query(max_length=200, description="Only contacts of this taxonomy.")] = None,
    where: Annotated[list[str] | None, Query(max_length=20, description="Metadata filters FIELD=VALUE, repeatable "
                                                                          "(persona=学生).")] = None,
    by: Annotated[str | None, Query(max_length=64, description="Break down by channel, business_line, language, "
                                                                 "taxonomy, category or a metadata field.")] = None,
    category: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z][a-z0-9_]*$",
                                          description="Only contacts that matched this category id.")] = None,
) -> AppliedFilters:
    """The filter query parameters shared by every analytics route, validated."""
    metadata = {}
    for pair in where or []:
        field, sep, value = pair.partition("=")
        if not sep or not field:
            raise ProblemError(422, "invalid-filter", "each where must be FIELD=VALUE")
        metadata[field] = value
    try:
        for name in [*metadata, *([by] if by else [])]:
            field_sql(name)
    except ValueError as error:
        raise ProblemError(422, "invalid-filter", str(error)) from error
    if date_from and date_to and date_from > date_to:
        raise ProblemError(422, "invalid-filter", f"from={date_from} is after to={date_to}")
    return AppliedFilters(date_from=date_from, date_to=date_to, business_line=business_line, channel=channel,
                          taxonomy=taxonomy, category=category, metadata=metadata, by=by,
                          timezone=runtime.analytics.timezone)


ContactFilters = Annotated[AppliedFilters, Depends(contact_filters)]


def facts_cache(request: Request) -> FactsCache:
    return request.app.state.facts_cache


Facts = Annotated[FactsCache, Depends(facts_cache)]


def _filters(applied: AppliedFilters) -> Filters:
    return Filters(**applied.model_dump(exclude={"by", "timezone"}))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values: NaN/NA → None, timestamps → datetimes."""
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for row in rows:
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                row[key] = value.to_pydatetime()
            elif isinstance(value, float) and math.isnan(value):
                row[key] = None
    return rows


def _facts(cache: FactsCache, reader, runtime, applied: AppliedFilters) -> pd.DataFrame:
    return cache.get(reader, runtime.analytics, _filters(applied), applied.by)


def _ranking(reader, runtime, applied: AppliedFilters, evidence: int, cache: FactsCache) -> list[dict[str, Any]]:
    table = rank_stages(reader, runtime.analytics, _filters(applied), by=applied.by, evidence=evidence,
                        facts=_facts(cache, reader, runtime, applied))
    rows = _records(table)
    for row in rows:
        row["pain_components"] = {c: row.pop(f"pain_{c}") for c in PAIN_COMPONENTS}
        row["group"] = None if row["group"] is None else str(row["group"])
        row.setdefault("evidence", [])
    return rows


@router.get("/stages/ranking")
def stages_ranking(_key: ReadKey, reader: Reader, runtime: RuntimeDep, applied: ContactFilters, cache: Facts,
                   evidence: Annotated[int, Query(ge=0, le=20, description="Evidence utterances per stage.")] = 3,
                   ) -> RankingResponse:
    """Stages by pain, most painful first within each taxonomy (and breakdown group): problem frequency, share,
    NEV with its 95 % interval, pain and its components, CES, repeat and escalation rates, top issue types, the
    frequency × pain quadrant with its recommendation, and evidence utterances."""
    return RankingResponse(filters=applied, stages=_ranking(reader, runtime, applied, evidence, cache))


@router.get("/quadrant")
def frequency_pain_quadrant(_key: ReadKey, reader: Reader, runtime: RuntimeDep, applied: ContactFilters,
                            cache: Facts) -> QuadrantResponse:
    """One point per stage: problem frequency (share of contacts) against pain, split at the taxonomy's medians,
    with the recommendation: reduce occurrence, improve resolution, both, or monitor."""
    return QuadrantResponse(filters=applied, points=_ranking(reader, runtime, applied, evidence=0, cache=cache))


@router.get("/touchpoints")
def journey_touchpoints(_key: ReadKey, reader: Reader, runtime: RuntimeDep, applied: ContactFilters, cache: Facts,
                        level: Annotated[str, Query(pattern="^(service|process)$", description="service: per "
                                                    "service step; process: per stage × issue type × step.")]
                        = "service",
                        stage: Annotated[str | None, Query(max_length=200, description="Process level: only this "
                                                                                       "reason stage.")] = None,
                        ) -> TouchpointResponse:
    """The service journey (contacts, pain and NEV per service step: bot, IVR, agents, escalation …) or the
    process level (the same per reason stage and issue type), in the taxonomy's step order."""
    table = touchpoints(reader, runtime.analytics, _filters(applied), level=level, by=applied.by, stage=stage,
                        facts=_facts(cache, reader, runtime, applied))
    rows = _records(table)
    for row in rows:
        row["group"] = None if row["group"] is None else str(row["group"])
    return TouchpointResponse(filters=applied, level=level, stage=stage if level == "process" else None,
                              touchpoints=rows)


@router.get("/stages/{stage}/trend", responses=problems(404))
def stage_trend_route(stage: Annotated[str, Path(max_length=200)], _key: ReadKey, reader: Reader,
                      runtime: RuntimeDep, applied: ContactFilters, cache: Facts,
                      period: Annotated[str, Query(pattern="^(day|week)$")] = "week") -> TrendResponse:
    """Volume, NEV, pain, CES and repeat rate of one stage per day or week, with anomalies flagged."""
    table = stage_trend(reader, runtime.analytics, _filters(applied), stage=stage, period=period, by=applied.by,
                        facts=_facts(cache, reader, runtime, applied))
    if table.empty:
        known = reader.execute("SELECT count(*) FROM segments WHERE stage = $s", {"s": stage}).fetchall()[0][0]
        if not known:
            raise ProblemError(404, "stage-not-found", "no stored contact has this stage")
    table["period"] = table["period"].dt.date
    points = _records(table)
    for point in points:
        point["group"] = None if point["group"] is None else str(point["group"])
    return TrendResponse(filters=applied, stage=stage, period=period, points=points)


@router.get("/journeys/{key}", responses=problems(404))
def customer_journey(key: Annotated[str, Path(max_length=200, description="An order id or customer id.")],
                     _key: ReadKey, reader: Reader, runtime: RuntimeDep) -> JourneyResponse:
    """The customer-view journey of an order or customer: every contact across channels and days, its service
    path and third parties, and the promises made along the way, kept or broken."""
    found = find_journey(reader, runtime.analytics, key)
    if found is None:
        raise ProblemError(404, "journey-not-found", "no stored contact names this order or customer id")
    contacts = found.contacts.assign(started_at=found.contacts["started_local"])
    return JourneyResponse(timezone=runtime.analytics.timezone, summary=found.summary,
                           contacts=_records(contacts), promises=_records(found.promises))


@router.get("/impact")
def change_impact(_key: ReadKey, reader: Reader, runtime: RuntimeDep, applied: ContactFilters, cache: Facts,
                  change_date: Annotated[date, Query(ge=FIRST_DAY, le=LAST_DAY,
                                                     description="First local day of the change.")],
                  window_days: Annotated[int | None, Query(ge=1, le=3660)] = None) -> ImpactResponse:
    """Before/after effect of a change per stage on NEV, pain, CES and repeat contacts, with bootstrap intervals
    (Bonferroni over the stages) and effect sizes; ``changed`` marks the differences that count."""
    table = impact_of_change(reader, runtime.analytics, change_date, _filters(applied), window_days, applied.by,
                             facts=None if window_days else _facts(cache, reader, runtime, applied))
    rows = _records(table)
    for row in rows:
        row["group"] = None if row["group"] is None else str(row["group"])
    return ImpactResponse(filters=applied, change_date=change_date, window_days=window_days, rows=rows)


@router.get("/kpis", responses=problems(404))
def touchpoint_kpis(_key: ReadKey, reader: Reader, runtime: RuntimeDep, applied: ContactFilters,
                    kpis: Annotated[str | None, Query(max_length=200, description="A built-in KPI set; default "
                                                                                  "all.")] = None) -> KpiResponse:
    """Touchpoint KPIs against customer expectation and industry benchmark, each with its owner."""
    builtin = sorted(p.stem for p in (models_dir() / "kpis").glob("*.yaml"))
    if kpis is not None and kpis not in builtin:
        raise ProblemError(404, "kpis-not-found", f"unknown KPI set: choose from {builtin}")
    rows = []
    for name in [kpis] if kpis else builtin:
        definition = load_kpis(name)
        if applied.taxonomy and applied.taxonomy != definition.taxonomy:
            continue
        filters = _filters(applied).model_copy(update={"taxonomy": definition.taxonomy})
        report = kpi_report(reader, runtime.analytics, definition, filters)
        rows += [{**row, "kpis": name, "taxonomy": definition.taxonomy} for row in _records(report)]
    return KpiResponse(filters=applied, kpis=rows)
