"""Commands that read the store: ``summary``, ``rank``, ``trend``, ``journey``, ``impact``, ``kpi``,
``service-journey``, ``report``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from nlp.analytics.journeys import find_journey
from nlp.analytics.kpis import kpi_report, load_kpis
from nlp.analytics.rankings import rank_stages
from nlp.analytics.report import FORMATS as REPORT_FORMATS
from nlp.analytics.report import report_tables, write_report
from nlp.analytics.service_journey import service_journey
from nlp.analytics.trends import impact as impact_of_change
from nlp.analytics.trends import stage_trend
from nlp.cli.common import (
    ByOpt,
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
    _database_errors,
    _filters,
    _open_analytics,
    _print_stage_table,
    _print_table,
    _save,
    _show,
    app,
    console,
    out,
)
from nlp.resources import models_dir
from nlp.store import Store, vendor_agreement


@app.command()
def summary(db: Annotated[Path, typer.Option(help="DuckDB file to read.")] = Path("journeylens.duckdb")) -> None:
    """Print the stage-level table of a scored database."""
    if not db.is_file():
        raise typer.BadParameter(f"{db} does not exist", param_hint="--db")
    with _database_errors(db):
        _print_stage_table(db)
        _print_vendor_agreement(db)


def _print_vendor_agreement(db: Path) -> None:
    """Our sentiment beside the source platform's (Contact Lens, Transcribe, CCAI), when the inputs carried one."""
    with Store(db, read_only=True) as store:
        rows = vendor_agreement(store.con)
    if not rows:
        return
    table = Table(title="sentiment · theirs (source platform) vs ours, per utterance")
    for column in ("theirs", "utterances", "ours positive", "ours neutral", "ours negative", "% agree"):
        table.add_column(column, justify="left" if column == "theirs" else "right")
    for row in rows:
        table.add_row(row["vendor_sentiment"], f"{row['utterances']:,}", f"{row['positive']:,}", f"{row['neutral']:,}",
                      f"{row['negative']:,}", f"{100 * row['agree'] / row['utterances']:.1f}")
    _print_table(table)
    total, agree = sum(r["utterances"] for r in rows), sum(r["agree"] for r in rows)
    out.print(f"agreement: {agree:,} of {total:,} scored utterances ({100 * agree / total:.1f}%) carry the same "
              "label as the source platform gave their turn")


@app.command()
def rank(db: DbOpt = Path("journeylens.duckdb"), settings: SettingsOpt = None, output: OutputOpt = None,
         date_from: FromOpt = None, date_to: ToOpt = None, business_line: LineOpt = None,
         channel: ChannelOpt = None, taxonomy: TaxonomyOpt = None, where: WhereOpt = None, by: ByOpt = None,
         category: CategoryOpt = None,
         evidence: Annotated[int, typer.Option(min=0, help="Evidence utterances per stage.")] = 3) -> None:
    """Rank journey stages by pain, with volume, NEV, the frequency × pain quadrant and evidence."""
    store, config = _open_analytics(db, settings)
    with store:
        table = rank_stages(store.con, config, _filters(date_from, date_to, business_line, channel, taxonomy,
                                                        where, category), by=by, evidence=evidence)
    for (name, group), rows in table.groupby(["taxonomy", "group"], dropna=False, sort=False):
        rows = rows.assign(nev_ci=[f"{lo:+.0f}…{hi:+.0f}" for lo, hi in zip(rows["nev_low"], rows["nev_high"],
                                                                              strict=True)],
                           flag=np.where(rows["reliable"], "", "few data"))
        title = f"stages by pain · {name}" + ("" if pd.isna(group) else f" · {by}={group}")
        _show(rows, title, {"pain_rank": "#", "stage_name": "stage", "contacts": "contacts",
                            "share_pct": "% contacts", "pain": "pain", "nev": "NEV", "nev_ci": "NEV 95% CI",
                            "unresolved_pct": "% unresolved", "repeat_pct": "% repeat",
                            "top_issue_types": "top issue types", "recommendation": "quadrant", "flag": ""})
        if evidence:
            for row in rows.dropna(subset=["pain_rank"]).head(3).itertuples():
                for item in row.evidence if isinstance(row.evidence, list) else []:
                    out.print(f"  {row.stage_name} · {item['emotion']}: “{item['text']}” ({item['transcript_id']})")
    _save({"rankings": table}, output)


@app.command()
def trend(db: DbOpt = Path("journeylens.duckdb"), settings: SettingsOpt = None, output: OutputOpt = None,
          stage: Annotated[str | None, typer.Option(help="Only this stage id.")] = None,
          period: Annotated[str, typer.Option(help="day or week.")] = "week",
          date_from: FromOpt = None, date_to: ToOpt = None, business_line: LineOpt = None,
          channel: ChannelOpt = None, taxonomy: TaxonomyOpt = None, where: WhereOpt = None, by: ByOpt = None,
          category: CategoryOpt = None) -> None:
    """Volume, NEV and pain per stage over time, with anomalies flagged."""
    store, config = _open_analytics(db, settings)
    with store:
        try:
            table = stage_trend(store.con, config, _filters(date_from, date_to, business_line, channel, taxonomy,
                                                            where, category), stage=stage, period=period, by=by)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--period") from error
    table["period_start"] = table["period"].dt.date.astype(str)
    table["flag"] = np.where(table["anomaly"], "anomaly", "")
    for (name, group, stage_id), rows in table.groupby(["taxonomy", "group", "stage"], dropna=False, sort=False):
        title = f"{name} · {stage_id} by {period}" + ("" if pd.isna(group) else f" · {by}={group}")
        _show(rows, title, {"period_start": period, "contacts": "contacts", "nev": "NEV", "pain": "pain",
                            "ces": "CES", "repeat_rate": "% repeat", "flag": ""})
    _save({"trend": table.drop(columns=["period_start", "flag"])}, output)


@app.command()
def journey(key: Annotated[str, typer.Argument(help="An order id or customer id.")],
            db: DbOpt = Path("journeylens.duckdb"), settings: SettingsOpt = None, output: OutputOpt = None) -> None:
    """The customer-view journey of one order or customer: contacts, paths, promises kept and broken."""
    store, config = _open_analytics(db, settings)
    with store:
        found = find_journey(store.con, config, key)
    if found is None:
        console.print(f"[red]no contact names order or customer {key!r}")
        raise typer.Exit(1)
    summary = found.summary
    span = "no start times" if summary["span_days"] is None else f"over {summary['span_days']} days"
    out.print(f"journey {key}: {summary['contacts']} contacts {span} "
              f"({', '.join(summary['channels'])}); promises {summary['promises']}, broken "
              f"{summary['promises_broken']}, kept {summary['promises_kept']}; third parties: "
              f"{', '.join(summary['third_parties']) or 'none'}; resolved at end: {summary['resolved_at_end']}")
    contacts = found.contacts.assign(when=found.contacts["started_local"].astype(str),
                                     path=found.contacts["service_path"].map(" → ".join),
                                     stage_path=found.contacts["stages"].map(" → ".join))
    _show(contacts, "contacts", {"when": "started", "transcript_id": "contact", "channel": "channel",
                                 "stage_path": "stages", "path": "service path", "pain": "pain",
                                 "broken_promises": "broken promises chased"})
    promises = found.promises.assign(due=found.promises["deadline"].astype(str))
    _show(promises, "promises", {"transcript_id": "made in", "speaker_label": "by", "text": "promise",
                                 "due": "due", "status": "status", "next_id": "judged by"})
    _save({"summary": pd.DataFrame([summary]), "contacts": found.contacts, "promises": found.promises}, output)


@app.command()
def impact(change_date: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="First day of the change.")],
           db: DbOpt = Path("journeylens.duckdb"), settings: SettingsOpt = None, output: OutputOpt = None,
           window_days: Annotated[int | None, typer.Option(min=1, help="Days compared on each side.")] = None,
           business_line: LineOpt = None, channel: ChannelOpt = None, taxonomy: TaxonomyOpt = None,
           where: WhereOpt = None, by: ByOpt = None, category: CategoryOpt = None,
           show_all: Annotated[bool, typer.Option("--all", help="Print unchanged stages too.")] = False) -> None:
    """Before/after effect of a change on NEV, pain, CES and repeat contacts per stage."""
    store, config = _open_analytics(db, settings)
    with store:
        table = impact_of_change(store.con, config, change_date.date(),
                                 _filters(None, None, business_line, channel, taxonomy, where, category),
                                 window_days, by)
    shown = table if show_all else table[table["changed"] | (table["stage"] == "all")]
    shown = shown.assign(ci=[f"{lo:+.1f}…{hi:+.1f}" for lo, hi in zip(shown["low"], shown["high"], strict=True)])
    _show(shown, f"impact of the change on {change_date.date()}",
          {"taxonomy": "taxonomy", "stage": "stage", "metric": "metric", "contacts_before": "n before",
           "contacts_after": "n after", "before": "before", "after": "after", "difference": "Δ", "ci": "Δ CI",
           "effect_size": "effect size", "direction": "verdict"})
    _save({"impact": table}, output)


@app.command()
def kpi(db: DbOpt = Path("journeylens.duckdb"), settings: SettingsOpt = None, output: OutputOpt = None,
        kpis: Annotated[list[str] | None, typer.Option(help="KPI file or built-in name (default: all built-in).")]
        = None, date_from: FromOpt = None, date_to: ToOpt = None, channel: ChannelOpt = None,
        where: WhereOpt = None) -> None:
    """Touchpoint KPIs against customer expectation and industry benchmark, per owner."""
    store, config = _open_analytics(db, settings)
    names = kpis or sorted(p.stem for p in (models_dir() / "kpis").glob("*.yaml"))
    reports = []
    with store:
        for name in names:
            try:
                definition = load_kpis(name)
            except ValueError as error:
                raise typer.BadParameter(str(error), param_hint="--kpis") from error
            filters = _filters(date_from, date_to, None, channel, definition.taxonomy, where)
            reports.append(kpi_report(store.con, config, definition, filters).assign(taxonomy=definition.taxonomy))
    report = pd.concat(reports, ignore_index=True)
    for owner, rows in report.groupby("owner", sort=True):
        _show(rows, f"KPIs · {owner}", {"taxonomy": "taxonomy", "name": "indicator", "stage": "stage",
                                        "value": "current", "expectation": "expectation",
                                        "benchmark": "benchmark", "contacts": "contacts", "status": "status"})
    _save({"kpis": report}, output)


@app.command("service-journey")
def service_journey_command(db: DbOpt = Path("journeylens.duckdb"), settings: SettingsOpt = None,
                            output: OutputOpt = None, date_from: FromOpt = None, date_to: ToOpt = None,
                            business_line: LineOpt = None, channel: ChannelOpt = None, taxonomy: TaxonomyOpt = None,
                            where: WhereOpt = None, by: ByOpt = None, category: CategoryOpt = None) -> None:
    """Channel paths, hand-offs, repeat contacts and first-contact resolution per stage and channel."""
    store, config = _open_analytics(db, settings)
    with store:
        tables = service_journey(store.con, config, _filters(date_from, date_to, business_line, channel, taxonomy,
                                                             where, category), by=by)
    _show(tables["paths"], "most frequent service paths", {"taxonomy": "taxonomy", "path": "path",
                                                           "contacts": "contacts"})
    _show(tables["by_stage_channel"], "per stage and channel",
          {"taxonomy": "taxonomy", "stage": "stage", "channel": "channel", "contacts": "contacts",
           "bot_handoff_pct": "% bot→human", "transfer_pct": "% transfer", "escalation_pct": "% escalated",
           "repeat_contact_pct": "% repeat", "fcr_pct": "% FCR"})
    _save(tables, output)


@app.command()
def report(output: Annotated[Path, typer.Option(help="report.html (one self-contained page) or report.xlsx.")],
           db: DbOpt = Path("journeylens.duckdb"), settings: SettingsOpt = None, date_from: FromOpt = None,
           date_to: ToOpt = None, business_line: LineOpt = None, channel: ChannelOpt = None,
           taxonomy: TaxonomyOpt = None, where: WhereOpt = None, by: ByOpt = None, category: CategoryOpt = None,
           period: Annotated[str, typer.Option(help="Trend periods: day or week.")] = "week") -> None:
    """The dashboard's charts in one offline HTML file, or its tables (rankings, quadrant, trends, evidence) in
    an Excel workbook."""
    if output.suffix not in REPORT_FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(REPORT_FORMATS)}", param_hint="--output")
    if period not in ("day", "week"):
        raise typer.BadParameter("day or week", param_hint="--period")
    store, config = _open_analytics(db, settings)
    filters = _filters(date_from, date_to, business_line, channel, taxonomy, where, category)
    with store:
        tables = report_tables(store.con, config, filters, by=by, period=period)
    out.print(f"wrote {write_report(tables, output, source=db.name, filters=filters, by=by)}")
