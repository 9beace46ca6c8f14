"""The analyst's rules: ``categorize`` (retroactively, in SQL over the store), ``alerts`` and ``qa`` (agent
scorecards)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from nlp.cli.common import (
    BuiltinCategoriesOpt,
    CategoriesOpt,
    CategoryOpt,
    ChannelOpt,
    DbOpt,
    FromOpt,
    LineOpt,
    OutputOpt,
    SettingsOpt,
    TaxonomyOpt,
    ToOpt,
    WhereOpt,
    _category_names,
    _database_errors,
    _filters,
    _open_analytics,
    _save,
    _show,
    app,
    console,
    out,
)
from nlp.config import load_config
from nlp.store import Store


@app.command()
def categorize(
    db: Annotated[Path, typer.Option(help="DuckDB store to categorize.")] = Path("journeylens.duckdb"),
    categories: CategoriesOpt = None,
    builtin_categories: BuiltinCategoriesOpt = True,
    config: Annotated[Path | None, typer.Option(help="Pipeline configuration YAML (its categories: list).")] = None,
) -> None:
    """Evaluate categories over every stored contact in SQL, without re-scoring: a new or changed definition runs
    over history. Rows of the categories evaluated are replaced; other categories are left as they are."""
    from nlp.categories import categorize_store, load_category_set

    try:
        configured = load_config(config).categories
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--config") from error
    names = _category_names(configured, categories, builtin_categories)
    if not names:
        raise typer.BadParameter("no categories: give --categories FILE or keep the built-in packs",
                                 param_hint="--categories")
    if not db.is_file():
        raise typer.BadParameter(f"{db} does not exist: score an archive first (journeylens score …)",
                                 param_hint="--db")
    category_set = load_category_set(names)
    started = time.perf_counter()
    with _database_errors(db), Store(db) as store:
        counts = categorize_store(store.con, category_set)
        n_contacts = store.con.execute("SELECT count(*) FROM transcripts").fetchall()[0][0]
    table = Table(title=f"categories · {db} · {n_contacts:,} contacts · {time.perf_counter() - started:.1f} s")
    for column in ("category", "level", "contacts", "share"):
        table.add_column(column)
    for category in category_set.categories:
        n = counts[category.id]
        table.add_row(category.id, category.level, f"{n:,}", f"{n / n_contacts:.1%}" if n_contacts else "—")
    out.print(table)


@app.command()
def alerts(
    alerts_file: Annotated[Path, typer.Option("--alerts", help="Alert definitions YAML (docs/categories.md).")],
    db: DbOpt = Path("journeylens.duckdb"),
    settings: SettingsOpt = None,
    at: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Evaluate the period holding this local "
                                                                          "day (default: the latest).")] = None,
    output: Annotated[Path | None, typer.Option(help="Also write the results as JSON.")] = None,
    webhook: Annotated[bool, typer.Option("--webhook/--no-webhook", help="POST what fired to the file's "
                                                                          "webhook, if it has one.")] = True,
) -> None:
    """Evaluate alert conditions on the latest day or week; print what fired with its evidence. Exit status 3
    when anything fired."""
    import json

    from nlp.analytics.alerts import AlertFileError, evaluate_alerts, load_alerts, post_webhook

    try:
        definitions = load_alerts(alerts_file)
    except AlertFileError as error:
        raise typer.BadParameter(str(error), param_hint="--alerts") from error
    store, config = _open_analytics(db, settings)
    with store:
        try:
            results = evaluate_alerts(store.con, definitions, config, at.date() if at else None)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--db") from error
    table = Table(title=f"alerts · {db}")
    for column in ("alert", "period", "value", "contacts", "status", "why"):
        table.add_column(column)
    for r in results:
        value = "—" if r.value is None else f"{r.value:,.2f}"
        status = f"[red]{r.status}[/red]" if r.fired else r.status
        table.add_row(r.alert.id, f"{r.alert.period} {r.period_start or '—'}", value, f"{r.contacts:,}", status,
                      "; ".join(r.reasons))
    out.print(table)
    fired = [r for r in results if r.fired]
    for r in fired:
        for item in r.evidence:
            out.print(f"  {r.alert.id}: " + " · ".join(f"{k}={v}" for k, v in item.items() if v is not None),
                      highlight=False)
    payload = {"fired": [r.as_json() for r in fired]}
    if output is not None:
        output.write_text(json.dumps({"results": [r.as_json() for r in results]}, ensure_ascii=False, indent=1),
                          encoding="utf-8")
    if fired and webhook and definitions.webhook is not None:
        try:
            delivered, message = post_webhook(definitions.webhook, payload)
        except AlertFileError as error:
            delivered, message = False, str(error)
        console.print(("webhook " if delivered else "[red]webhook[/red] ") + message, highlight=False)
    if fired:
        raise typer.Exit(3)


@app.command()
def qa(
    db: DbOpt = Path("journeylens.duckdb"),
    scorecard: Annotated[str | None, typer.Option(help="Scorecard YAML or built-in name (default: contact_centre; "
                                                       "docs/categories.md).")] = None,
    settings: SettingsOpt = None, output: OutputOpt = None, date_from: FromOpt = None, date_to: ToOpt = None,
    business_line: LineOpt = None, channel: ChannelOpt = None, taxonomy: TaxonomyOpt = None,
    where: WhereOpt = None, category: CategoryOpt = None,
) -> None:
    """Agent QA: score every contact on a scorecard (weighted items over the agent's turns, auto-fail items), per
    agent (metadata.agent_id), team (metadata.team) and week, with the evidence per item."""
    from nlp.analytics.qa import qa_tables
    from nlp.categories.qa import ScorecardFileError, load_scorecard

    try:
        loaded = load_scorecard(scorecard)
    except ScorecardFileError as error:
        raise typer.BadParameter(str(error), param_hint="--scorecard") from error
    filters = _filters(date_from, date_to, business_line, channel, taxonomy, where, category)
    store, config = _open_analytics(db, settings)
    with store:
        tables = qa_tables(store.con, config, loaded, filters)
    card = loaded.scorecard
    items = {f"{item.id}_pct": f"{item.id} %" for item in card.items}
    out.print(f"scorecard {card.id} · {len(tables['contacts']):,} contacts with an agent · items "
              + ", ".join(f"{item.id} ({item.weight:g})" for item in card.items)
              + (f" · auto-fail: {', '.join(rule.id for rule in card.auto_fail)}" if card.auto_fail else ""),
              highlight=False)
    columns = {"contacts": "contacts", "scored": "scored", "score": "score", "score_min": "min",
               "auto_fails": "auto-fails", **items}
    _show(tables["agents"], "QA per agent", {"agent_id": "agent", "team": "team", **columns})
    if tables["teams"]["team"].notna().any():
        _show(tables["teams"], "QA per team", {"team": "team", **columns})
    _show(tables["items"], "items", {"item": "item", "kind": "kind", "weight": "weight", "applicable": "applicable",
                                     "matched": "matched", "matched_pct": "%"})
    _save(tables, output)
