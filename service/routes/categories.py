"""Categories and agent QA over the store: each category's contacts and rate in a filtered window, per reason
stage and over time; agent QA scorecards per contact, agent, team and week (docs/categories.md).

The filters are those of the analytics routes (``category`` among them), computed from the same cached contact
facts, so a category's count here is the number of contacts ``?category=ID`` selects there.
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from nlp.analytics.category_stats import category_by_stage, category_summary, category_trend
from nlp.analytics.export import write_tables
from nlp.analytics.qa import qa_tables
from nlp.categories import CategoryFileError, load_category_set
from nlp.categories.qa import LoadedScorecard, builtin_scorecards, load_scorecard
from service.deps import Reader, ReadKey, RuntimeDep
from service.problems import ProblemError
from service.routes import V1_PROBLEMS, problems
from service.routes.analytics import ContactFilters, Facts, _facts, _filters, _records
from service.schemas.categories import CategoriesResponse, CategoryTrendResponse, QaResponse

router = APIRouter(prefix="/v1", tags=["categories"], responses=problems(*V1_PROBLEMS, 422))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@lru_cache(maxsize=4)
def configured_categories(names: tuple[str, ...]) -> tuple:
    """The configured categories' definitions (names, levels, owners); none when a file cannot be read."""
    try:
        return load_category_set(names).categories
    except CategoryFileError:
        return ()


@lru_cache(maxsize=4)
def _scorecard(name: str) -> LoadedScorecard:
    return load_scorecard(name)


def _ungrouped(applied):
    """The facts are per contact here: a breakdown does not apply."""
    return applied.model_copy(update={"by": None})


@router.get("/categories")
def categories(_key: ReadKey, reader: Reader, runtime: RuntimeDep, applied: ContactFilters,
               cache: Facts) -> CategoriesResponse:
    """Every configured or stored category with the contacts of the filtered window that matched it and their
    share, and per reason stage the contacts of each category and their share of the stage's contacts."""
    facts = _facts(cache, reader, runtime, _ungrouped(applied))
    summary = category_summary(reader, facts, configured_categories(tuple(runtime.config.categories)))
    return CategoriesResponse(filters=applied, contacts=int(facts["transcript_id"].nunique()),
                              categories=_records(summary), by_stage=_records(category_by_stage(reader, facts)))


@router.get("/categories/{category_id}/trend", responses=problems(404))
def category_trend_route(category_id: Annotated[str, Path(max_length=64, pattern=r"^[a-z][a-z0-9_]*$")],
                         _key: ReadKey, reader: Reader, runtime: RuntimeDep, applied: ContactFilters, cache: Facts,
                         period: Annotated[str, Query(pattern="^(day|week)$")] = "week") -> CategoryTrendResponse:
    """A category's contacts and rate (% of the period's contacts) per local day or week."""
    definitions = {d.id: d for d in configured_categories(tuple(runtime.config.categories))}
    stored = reader.execute("SELECT count(*) FROM categories WHERE category_id = $c", {"c": category_id}).fetchall()
    if category_id not in definitions and not stored[0][0]:
        raise ProblemError(404, "category-not-found", "no category with this id is configured or stored")
    facts = _facts(cache, reader, runtime, _ungrouped(applied))
    table = category_trend(reader, facts, category_id, period)
    name = definitions[category_id].name if category_id in definitions else category_id
    return CategoryTrendResponse(filters=applied, category_id=category_id, name=name, period=period,
                                 points=_records(table))


def _qa(reader, runtime, applied, scorecard: str):
    if scorecard not in builtin_scorecards():
        raise ProblemError(404, "scorecard-not-found", f"unknown scorecard: choose from {sorted(builtin_scorecards())}")
    loaded = _scorecard(scorecard)
    return loaded, qa_tables(reader, runtime.analytics, loaded, _filters(applied))


ScorecardParam = Annotated[str, Query(max_length=200, description="A built-in scorecard.")]


@router.get("/qa", responses=problems(404))
def agent_qa(_key: ReadKey, reader: Reader, runtime: RuntimeDep, applied: ContactFilters,
             scorecard: ScorecardParam = "contact_centre",
             limit: Annotated[int, Query(ge=0, le=5000, description="Contacts listed, lowest score first.")] = 100,
             ) -> QaResponse:
    """Agent QA: every contact with an agent utterance scored 0–100 on the scorecard (weighted items over the
    agent's turns, n/a items left out, 0 on an auto-fail), with the evidence per item; the mean per agent
    (``metadata.agent_id``), team (``metadata.team``) and agent and week; each item's pass rate."""
    loaded, tables = _qa(reader, runtime, applied, scorecard)
    items = [item.id for item in loaded.scorecard.items]

    def groups(name: str) -> list[dict]:
        rows = _records(tables[name])
        for row in rows:
            row["item_pct"] = {i: row.pop(f"{i}_pct") for i in items}
        return rows

    contacts = tables["contacts"].sort_values(["score", "transcript_id"], na_position="last").head(limit)
    rows = _records(contacts)
    for row in rows:
        row["items"] = {i: row.pop(i) for i in items}
        row["auto_fail"] = [a for a in (row["auto_fail"] or "").split(", ") if a]
    card = loaded.scorecard
    return QaResponse(filters=applied, scorecard={"id": card.id, "name": card.name, "description": card.description},
                      contacts_total=len(tables["contacts"]), items=_records(tables["items"]),
                      agents=groups("agents"), teams=groups("teams"), weeks=groups("weeks"), contacts=rows)


@router.get("/qa/export.xlsx", responses={**problems(404), 200: {"content": {XLSX: {}}}},
            response_class=Response)
def agent_qa_export(_key: ReadKey, reader: Reader, runtime: RuntimeDep, applied: ContactFilters,
                    scorecard: ScorecardParam = "contact_centre") -> Response:
    """The QA tables (contacts with their evidence, agents, teams, weeks, items) as an Excel workbook, one sheet
    each: what ``journeylens qa --output qa.xlsx`` writes."""
    _, tables = _qa(reader, runtime, applied, scorecard)
    with tempfile.TemporaryDirectory() as folder:
        path = FilePath(folder) / "qa.xlsx"
        write_tables(tables, path)
        content = path.read_bytes()
    return Response(content, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="qa-{scorecard}.xlsx"'})
