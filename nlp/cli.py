"""The ``journeylens`` command line: thin typed wrappers over ``nlp`` functions."""

from __future__ import annotations

import codecs
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import duckdb
import jieba
import numpy as np
import pandas as pd
import typer
from pydantic import ValidationError
from rich.cells import cell_len
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from nlp.analytics.export import write_tables
from nlp.analytics.filters import Filters, field_sql
from nlp.analytics.journeys import find_journey
from nlp.analytics.kpis import kpi_report, load_kpis
from nlp.analytics.rankings import rank_stages
from nlp.analytics.report import FORMATS as REPORT_FORMATS
from nlp.analytics.report import report_tables, write_report
from nlp.analytics.service_journey import service_journey
from nlp.analytics.settings import AnalyticsSettings, load_settings
from nlp.analytics.trends import impact as impact_of_change
from nlp.analytics.trends import stage_trend
from nlp.bulk import RunSummary, archive_inputs, score_archive
from nlp.config import load_config
from nlp.readers import FORMATS, ReaderOptions, total_bytes
from nlp.redact import Redactor
from nlp.resources import PROJECT_ROOT, models_dir
from nlp.stage_summary import stage_summary
from nlp.store import TABLES, Store, vendor_agreement

app = typer.Typer(help="Customer-journey emotion analytics for contact-centre transcripts.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()

DEMO_ARCHIVE = PROJECT_ROOT / "data" / "demo" / "archive.jsonl.gz"


FOLD_WIDTH = 12  # the narrowest a table column is folded to before a table gives way to 'column: value' lines


def _print_table(table: Table) -> None:
    """Print a table so that no value is cut: as tab-separated lines (a title line starting with '#', a header,
    the rows) when stdout is not a terminal and no width is given (COLUMNS), as a table whose cells fold long
    values when it fits the width, else one 'column: value' line per cell, a blank line between rows."""
    headers = [str(column.header) for column in table.columns]
    rows = [[str(cell) for cell in cells] for cells in zip(*(column._cells for column in table.columns), strict=True)]
    if not out.is_terminal and not os.environ.get("COLUMNS"):
        lines = [f"# {table.title}"] if table.title else []
        lines += ["\t".join(headers)] if table.show_header else []
        lines += ["\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in row) for row in rows]
        out.file.write("\n".join(lines) + "\n")  # not through rich, which would expand the tabs
        return
    for column in table.columns:
        column.overflow = "fold"
    # The table fits when every column can show its widest value, or at least FOLD_WIDTH characters of it (longer
    # values fold onto more lines within their cell); borders and padding take 3 characters a column, plus one.
    natural = [max(cell_len(text) for text in [header, *(row[index] for row in rows)])
               for index, header in enumerate(headers)]
    if sum(min(width, FOLD_WIDTH) for width in natural) + 3 * len(headers) + 1 <= out.width:
        out.print(table)
        return
    if table.title:
        out.print(str(table.title), markup=False, highlight=False, soft_wrap=True)
    for row in rows:
        lines = [f"{header}: {cell}" for header, cell in zip(headers, row, strict=True)] if table.show_header else [
            ": ".join(row)]
        out.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)
        if table.show_header:
            out.print()


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    pairs = {}
    for value in values or []:
        key, sep, target = value.partition("=")
        if not sep or not key or not target:
            raise typer.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint=option)
        pairs[key.strip()] = target.strip()
    return pairs


# The reader options, in one place: every command that reads transcripts takes all of them, the same way.
FormatOpt = Annotated[str | None, typer.Option(help=f"Force an input format: {', '.join(FORMATS)}.")]
ColumnOpt = Annotated[list[str] | None, typer.Option(help="CSV/Parquet column FIELD=COLUMN, repeatable.")]
SpeakerMapOpt = Annotated[list[str] | None, typer.Option(
    help="Speaker label mapping LABEL=ROLE, repeatable (SPEAKER_01=agent also matches [SPEAKER_01]).")]
EncodingOpt = Annotated[str | None, typer.Option(help="Force a text encoding, e.g. big5 (default: detect).")]
GuessSpeakersOpt = Annotated[bool, typer.Option(
    "--guess-speakers", help="Subtitles with anonymous speakers (SPEAKER_00, spk_1): tell agent from customer by "
                             "what they say (who greets and offers help); the transcript records how.")]


def _reader_options(format: str | None, column: list[str] | None, speaker_map: list[str] | None,
                    encoding: str | None, guess_speakers: bool) -> ReaderOptions:
    """The checked ``ReaderOptions`` of a command's reader options."""
    if format is not None and format not in FORMATS:
        raise typer.BadParameter(f"unknown format {format!r}; choose from {', '.join(FORMATS)}", param_hint="--format")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError as error:
            raise typer.BadParameter(f"unknown encoding {encoding!r}", param_hint="--encoding") from error
    return ReaderOptions(format=format, columns=_pairs(column, "--column"),
                         speaker_map=_pairs(speaker_map, "--speaker-map"), encoding=encoding,
                         guess_speakers=guess_speakers)


def _run_with_progress(paths: list[Path], db: Path, **kwargs) -> RunSummary:
    total = total_bytes(archive_inputs(paths, db)[0])
    started = time.monotonic()
    columns = (
        TextColumn("[bold]scoring"), BarColumn(), TaskProgressColumn(),
        TextColumn("{task.fields[done]:,} transcripts · {task.fields[rate]:,.0f}/s"), TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("score", total=max(total, 1), done=0, rate=0.0)

        def update(position: int, counts) -> None:
            done = counts.scored + counts.skipped + counts.quarantined + counts.replaced
            bar.update(task, completed=position, done=done, rate=done / max(time.monotonic() - started, 1e-6))

        return score_archive(paths, db, progress=update, **kwargs)


def _print_summary(summary: RunSummary) -> None:
    counts = summary.counts
    table = Table(title=f"run {summary.run_id}", show_header=False)
    for label, value in (("read", counts.read), ("scored", counts.scored),
                         ("quarantined", counts.quarantined), ("skipped (already scored)", counts.skipped),
                         ("replaced (a later record had the same id)", counts.replaced)):
        table.add_row(label, f"{value:,}")
    _print_table(table)
    if not counts.reconciles:
        console.print("[red]counts do not reconcile: read ≠ scored + quarantined + skipped + replaced")
    if counts.repaired:
        console.print(f"[yellow]{counts.repaired:,} record(s) kept after a repair (an unreadable time dropped, a "
                      "broken character replaced): each lists what in metadata.warnings")
    if summary.own_files:
        console.print(f"[yellow]not read (the store's own files): {', '.join(map(str, summary.own_files))}")
    if counts.quarantined:
        reasons = ", ".join(f"{n} × {r}" for r, n in sorted(counts.reasons.items(), key=lambda x: -x[1]))
        console.print(f"[yellow]{counts.quarantined} record(s) quarantined in {summary.quarantine_path}: {reasons}")
    out.print(f"{'database' if summary.db_path.suffix == '.duckdb' else 'written to'}: {summary.db_path}")


def _print_stage_table(db: Path) -> None:
    with Store(db, read_only=True) as store:
        frame = stage_summary(store.con)
    for taxonomy, rows in frame.groupby("taxonomy", sort=False):
        table = Table(title=f"journey stages · {taxonomy}")
        for column in ("stage", "contacts", "% contacts", "customer utt.", "% neg", "% pos", "net", "top emotion"):
            table.add_column(column, justify="left" if column in ("stage", "top emotion") else "right")
        for row in rows.itertuples():
            table.add_row(f"{row.stage_name} ({row.stage})", f"{row.contacts:,}", f"{row.pct_contacts:.1f}",
                          f"{row.customer_utterances:,}", f"{row.pct_negative:.1f}", f"{row.pct_positive:.1f}",
                          f"{row.net_sentiment:+.1f}", str(row.top_emotion or "—"))
        _print_table(table)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    jieba.setLogLevel(logging.WARNING)


@app.command()
def score(
    paths: Annotated[list[Path], typer.Argument(help="Transcript files or folders (read recursively).")],
    db: Annotated[Path, typer.Option(help="DuckDB file to write.")] = Path("journeylens.duckdb"),
    workers: Annotated[int, typer.Option(min=1, help="Worker processes for scoring.")] = 1,
    format: FormatOpt = None,
    column: ColumnOpt = None,
    speaker_map: SpeakerMapOpt = None,
    encoding: EncodingOpt = None,
    guess_speakers: GuessSpeakersOpt = False,
    config: Annotated[Path | None, typer.Option(help="Pipeline configuration YAML.")] = None,
    no_redact: Annotated[bool, typer.Option("--no-redact", help="Store text without PII redaction.")] = False,
    strict: Annotated[bool, typer.Option(help="Exit with status 1 if any record was quarantined.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Transcripts per scoring batch.")] = 64,
    engine: Annotated[str, typer.Option(help="local (DuckDB file) or spark (Parquet folder, see docs/scale.md).")]
    = "local",
    master: Annotated[str | None, typer.Option(help="Spark master: local[*], spark://host:7077, yarn … (default: "
                                                    "spark-submit's or spark-defaults.conf's, else local[*]).")] = None,
    output: Annotated[Path | None, typer.Option(help="Spark engine: Parquet folder to write (replaced).")] = None,
    partitions: Annotated[int | None, typer.Option(min=1, help="Spark engine: scoring partitions.")] = None,
    spark_conf: Annotated[list[str] | None, typer.Option(help="Spark engine: a Spark setting KEY=VALUE, "
                                                              "repeatable.")] = None,
) -> None:
    """Score transcript archives into a DuckDB file, resumably (or with Spark into Parquet tables); unreadable
    records go to quarantine."""
    if engine not in ("local", "spark"):
        raise typer.BadParameter("choose local or spark", param_hint="--engine")
    if engine == "spark" and output is None:
        raise typer.BadParameter("the spark engine writes Parquet tables to a folder: give --output DIR",
                                 param_hint="--output")
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise typer.BadParameter(f"not found: {', '.join(missing)}", param_hint="PATHS")
    options = _reader_options(format, column, speaker_map, encoding, guess_speakers)
    try:
        pipeline_config = load_config(config)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--config") from error
    if no_redact:
        pipeline_config.redact = []
    if engine == "spark":
        from nlp.spark_engine import score_on_spark  # pyspark is imported only when asked for

        summary = score_on_spark(paths, output, pipeline_config, options, master=master, partitions=partitions,
                                 batch_size=batch_size, spark_conf=_pairs(spark_conf, "--spark-conf"))
    else:
        with _database_errors(db):
            summary = _run_with_progress(paths, db, config=pipeline_config, reader_options=options,
                                         workers=workers, batch_size=batch_size)
    _print_summary(summary)
    if strict and summary.counts.quarantined:
        raise typer.Exit(1)


@app.command()
def demo(
    db: Annotated[Path, typer.Option(help="DuckDB file to write.")] = Path("journeylens-demo.duckdb"),
    workers: Annotated[int, typer.Option(min=1, help="Worker processes for scoring.")] = 1,
) -> None:
    """Score the bundled demo archive and print the stage-level table."""
    if not DEMO_ARCHIVE.is_file():
        raise typer.BadParameter(f"{DEMO_ARCHIVE} is missing: run scripts/generate_demo.py --out data/demo/")
    with _database_errors(db):
        _print_summary(_run_with_progress([DEMO_ARCHIVE], db, workers=workers))
        _print_stage_table(db)


@app.command("score-text")
def score_text(
    input: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV, TSV or JSONL file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file (.csv, .tsv or .jsonl).")],
    text_column: Annotated[str, typer.Option(help="Column (CSV) or key (JSONL) holding the text.")] = "text",
    lang: Annotated[str, typer.Option(help="zh, en, or auto (per row).")] = "auto",
    scorer: Annotated[str | None, typer.Option(help="transformer, transformer:PATH (any HF model dir) or lexicon "
                                                    "(default: emotion_scorer of --config, as `score` uses).")]
    = None,
    config: Annotated[Path | None, typer.Option(help="Pipeline configuration (YAML), as for `score`.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Texts per model batch.")] = 256,
    quarantine: Annotated[Path | None, typer.Option(help="Bad rows (default: OUTPUT.quarantine.jsonl).")] = None,
) -> None:
    """Add sentiment, sentiment_score, emotion, emotion_coarse and emotion_confidence to every row of a file."""
    from nlp.score_text import score_text_file

    try:
        pipeline_config = load_config(config)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--config") from error
    columns = (TextColumn("[bold]scoring"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[rows]:,} rows"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("score", total=input.stat().st_size or 1, rows=0)
        try:
            done = score_text_file(input, output, text_column, lang, scorer or pipeline_config.emotion_scorer,
                                   batch_size, quarantine, to_simplified=pipeline_config.to_simplified,
                                   on_progress=lambda read, rows: progress.update(task, completed=read, rows=rows),
                                   redactor=Redactor(tuple(pipeline_config.redact)))
        except (ValueError, FileNotFoundError) as error:
            raise typer.BadParameter(str(error)) from error
    console.print(f"read {done.rows_read:,} rows · wrote {done.rows_written:,} to {output} · "
                  f"quarantined {done.rows_quarantined:,}" + (f" to {done.quarantine}" if done.quarantine else "")
                  + f" · {done.rows_written / max(done.seconds, 1e-9):,.0f} rows/s")
    for reason, count in done.reasons.most_common():
        console.print(f"  {count:,} × {reason}")


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


def _filters(date_from: datetime | None, date_to: datetime | None, business_line: str | None, channel: str | None,
             taxonomy: str | None, where: list[str] | None) -> Filters:
    metadata = _pairs(where, "--where")
    for name in metadata:
        _field(name, "--where")
    try:
        return Filters(date_from=date_from.date() if date_from else None, date_to=date_to.date() if date_to else None,
                       business_line=business_line, channel=channel, taxonomy=taxonomy, metadata=metadata)
    except ValidationError as error:
        raise typer.BadParameter(error.errors()[0]["msg"], param_hint="--from/--to") from error


def _field(name: str | None, option: str) -> str | None:
    """A column or metadata field name for ``--by``/``--where``, checked before any query runs."""
    if name is not None:
        try:
            field_sql(name)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint=option) from error
    return name


def _open_analytics(db: Path, settings: Path | None) -> tuple[Store, AnalyticsSettings]:
    if not db.is_file():
        raise typer.BadParameter(f"{db} does not exist: score an archive first (journeylens score …)",
                                 param_hint="--db")
    try:
        config = load_settings(settings)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--settings") from error
    with _database_errors(db):
        return Store(db, read_only=True), config


@contextmanager
def _database_errors(db: Path) -> Iterator[None]:
    """A database another process holds (DuckDB allows one writer, or readers only) or cannot open: one line on
    stderr and exit status 1, not a traceback."""
    try:
        yield
    except duckdb.IOException as error:
        reason = str(error).split(". See also")[0].removeprefix("IO Error: ")
        console.print(f"[red]error:[/red] cannot open {db}: {reason}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from error


def _show(frame: pd.DataFrame, title: str, columns: dict[str, str]) -> None:
    """Print the ``columns`` (name → header) of ``frame`` as a rich table; numbers rounded."""
    table = Table(title=title)
    for header in columns.values():
        table.add_column(header)
    for row in frame[list(columns)].itertuples(index=False):
        table.add_row(*("—" if v is None or (isinstance(v, float) and np.isnan(v)) else
                        f"{v:,.1f}" if isinstance(v, float) else str(v) for v in row))
    _print_table(table)


def _save(tables: dict[str, pd.DataFrame], output: Path | None) -> None:
    if output is None:
        return
    try:
        for path in write_tables(tables, output):
            out.print(f"wrote {path}")
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--output") from error


DbOpt = Annotated[Path, typer.Option(help="DuckDB file to read.")]
SettingsOpt = Annotated[Path | None, typer.Option(help="Analytics settings YAML (weights, thresholds).")]
OutputOpt = Annotated[Path | None, typer.Option(help="Also write the tables: .csv, .json or .xlsx.")]
FromOpt = Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First local day.")]
ToOpt = Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last local day.")]
LineOpt = Annotated[str | None, typer.Option(help="Only this business line.")]
ChannelOpt = Annotated[str | None, typer.Option(help="Only this channel: chat, call, email, ticket.")]
TaxonomyOpt = Annotated[str | None, typer.Option(help="Only contacts classified with this taxonomy.")]
WhereOpt = Annotated[list[str] | None, typer.Option(help="Metadata filter FIELD=VALUE (e.g. persona=学生).")]
ByOpt = Annotated[str | None, typer.Option(callback=lambda value: _field(value, "--by"),
                                           help="Break down by a column or metadata field (persona, city…).")]


@app.command()
def rank(db: DbOpt = Path("journeylens.duckdb"), settings: SettingsOpt = None, output: OutputOpt = None,
         date_from: FromOpt = None, date_to: ToOpt = None, business_line: LineOpt = None,
         channel: ChannelOpt = None, taxonomy: TaxonomyOpt = None, where: WhereOpt = None, by: ByOpt = None,
         evidence: Annotated[int, typer.Option(min=0, help="Evidence utterances per stage.")] = 3) -> None:
    """Rank journey stages by pain, with volume, NEV, the frequency × pain quadrant and evidence."""
    store, config = _open_analytics(db, settings)
    with store:
        table = rank_stages(store.con, config, _filters(date_from, date_to, business_line, channel, taxonomy,
                                                        where), by=by, evidence=evidence)
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
          channel: ChannelOpt = None, taxonomy: TaxonomyOpt = None, where: WhereOpt = None, by: ByOpt = None) -> None:
    """Volume, NEV and pain per stage over time, with anomalies flagged."""
    store, config = _open_analytics(db, settings)
    with store:
        try:
            table = stage_trend(store.con, config, _filters(date_from, date_to, business_line, channel, taxonomy,
                                                            where), stage=stage, period=period, by=by)
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
           where: WhereOpt = None, by: ByOpt = None,
           show_all: Annotated[bool, typer.Option("--all", help="Print unchanged stages too.")] = False) -> None:
    """Before/after effect of a change on NEV, pain, CES and repeat contacts per stage."""
    store, config = _open_analytics(db, settings)
    with store:
        table = impact_of_change(store.con, config, change_date.date(),
                                 _filters(None, None, business_line, channel, taxonomy, where), window_days, by)
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
                            where: WhereOpt = None, by: ByOpt = None) -> None:
    """Channel paths, hand-offs, repeat contacts and first-contact resolution per stage and channel."""
    store, config = _open_analytics(db, settings)
    with store:
        tables = service_journey(store.con, config, _filters(date_from, date_to, business_line, channel, taxonomy,
                                                             where), by=by)
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
           taxonomy: TaxonomyOpt = None, where: WhereOpt = None, by: ByOpt = None,
           period: Annotated[str, typer.Option(help="Trend periods: day or week.")] = "week") -> None:
    """The dashboard's charts in one offline HTML file, or its tables (rankings, quadrant, trends, evidence) in
    an Excel workbook."""
    if output.suffix not in REPORT_FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(REPORT_FORMATS)}", param_hint="--output")
    if period not in ("day", "week"):
        raise typer.BadParameter("day or week", param_hint="--period")
    store, config = _open_analytics(db, settings)
    filters = _filters(date_from, date_to, business_line, channel, taxonomy, where)
    with store:
        tables = report_tables(store.con, config, filters, by=by, period=period)
    out.print(f"wrote {write_report(tables, output, source=db.name, filters=filters, by=by)}")


@app.command()
def export(
    table: Annotated[str, typer.Argument(help=f"Table to export: {', '.join(TABLES)}.")],
    output: Annotated[Path, typer.Option(help="Parquet file to write.")],
    db: Annotated[Path, typer.Option(help="DuckDB file to read.")] = Path("journeylens.duckdb"),
) -> None:
    """Export one table of the store to Parquet."""
    if not db.is_file():
        raise typer.BadParameter(f"{db} does not exist", param_hint="--db")
    with _database_errors(db), Store(db, read_only=True) as store:
        try:
            path = store.export_parquet(table, output)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="TABLE") from error
    out.print(f"wrote {path}")


@app.command("import-parquet")
def import_parquet_command(
    folder: Annotated[Path, typer.Argument(help="Output folder of `journeylens score --engine spark`.")],
    db: Annotated[Path, typer.Option(help="DuckDB file to load into (created if missing).")] = Path(
        "journeylens.duckdb"),
) -> None:
    """Load Parquet tables written by the Spark engine into a DuckDB store for the analytics, API and dashboard."""
    from nlp.spark_engine import import_parquet

    try:
        with _database_errors(db):
            counts = import_parquet(folder, db)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="FOLDER") from error
    out.print(f"imported {counts.scored:,} transcripts from {folder} into {db}")


@app.command()
def analyze(
    paths: Annotated[list[Path], typer.Argument(help="Transcript files or folders (read recursively).")],
    output: Annotated[Path, typer.Option(help="JSON lines to write, one per utterance.")],
    taxonomy: Annotated[str | None, typer.Option(help="Taxonomy file or built-in name (default: per business "
                                                      "line, from the configuration).")] = None,
    classifier: Annotated[str | None, typer.Option(help="Journey classifier: keyword, fewshot or "
                                                        "fewshot-untrained (default: configuration).")] = None,
    format: FormatOpt = None,
    column: ColumnOpt = None,
    speaker_map: SpeakerMapOpt = None,
    encoding: EncodingOpt = None,
    guess_speakers: GuessSpeakersOpt = False,
    config: Annotated[Path | None, typer.Option(help="Pipeline configuration YAML.")] = None,
    adapt: Annotated[bool, typer.Option(help="fewshot only: read the input twice and self-train the stage model "
                                             "on it first (needs about 100+ contacts; no labels).")] = False,
    strict: Annotated[bool, typer.Option(help="Exit with status 1 if any record was quarantined.")] = False,
    categories: CategoriesOpt = None,
    builtin_categories: BuiltinCategoriesOpt = True,
) -> None:
    """Label every utterance with stage, issue type, service step, segment, emotion and categories; write JSON
    lines. Exits with status 1 when nothing could be analysed (and, with --strict, when anything was quarantined)."""
    from nlp.analyze import analyze_files
    from nlp.scoring import JOURNEY_CLASSIFIERS
    from nlp.taxonomy import TaxonomyError, load_taxonomy

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise typer.BadParameter(f"not found: {', '.join(missing)}", param_hint="PATHS")
    options = _reader_options(format, column, speaker_map, encoding, guess_speakers)
    if classifier is not None and classifier not in JOURNEY_CLASSIFIERS:
        raise typer.BadParameter(f"choose from {', '.join(JOURNEY_CLASSIFIERS)}", param_hint="--classifier")
    try:
        pipeline_config = load_config(config)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--config") from error
    if classifier is not None:
        pipeline_config.journey_classifier = classifier
    pipeline_config.categories = _category_names(pipeline_config.categories, categories, builtin_categories)
    if taxonomy is not None:
        try:
            load_taxonomy(taxonomy)
        except TaxonomyError as error:
            raise typer.BadParameter(str(error), param_hint="--taxonomy") from error
    if adapt and not pipeline_config.journey_classifier.startswith("fewshot"):
        raise typer.BadParameter(f"--adapt needs --classifier fewshot (the configuration says "
                                 f"{pipeline_config.journey_classifier!r})", param_hint="--adapt")
    summary = analyze_files(paths, output, taxonomy=taxonomy, config=pipeline_config,
                            reader_options=options, adapt=adapt)
    for name, adaptation in summary.adaptations.items():
        out.print(f"{name}: " + (f"adapted to {adaptation.contacts:,} contacts "
                                 f"({adaptation.confident_utterances:,} confidently labelled utterances)"
                                 if adaptation.classifier is not None else f"not adapted: {adaptation.reason}"))
    out.print(f"read {summary.read:,} · analysed {summary.transcripts:,} transcripts, {summary.utterances:,} "
              f"utterances → {output} · quarantined {summary.quarantined:,}"
              + (f" to {summary.quarantine}" if summary.quarantine else ""))
    for reason, count in summary.reasons.most_common():
        console.print(f"  [yellow]{count:,} × {reason}", highlight=False, soft_wrap=True)
    if summary.unknown_speaker_lines:
        labels = ", ".join(f"{n:,} × {label}" for label, n in summary.unknown_speaker_lines.most_common(10))
        console.print(f"[yellow]{summary.unknown_speaker_lines.total():,} line(s) with an unknown speaker label left "
                      f"out: {labels}; map them with --speaker-map LABEL=ROLE", highlight=False, soft_wrap=True)
    if summary.duplicate_ids:
        repeated = ", ".join(list(summary.duplicate_ids)[:5]) + (" …" if len(summary.duplicate_ids) > 5 else "")
        console.print(f"[yellow]{sum(summary.duplicate_ids.values()):,} transcript(s) share an id with an earlier one "
                      f"(both written): {repeated}", highlight=False, soft_wrap=True)
    if summary.read and not summary.transcripts:
        console.print("[red]nothing could be analysed: every record was quarantined", highlight=False)
        raise typer.Exit(1)
    if not summary.read:
        console.print("[red]nothing to analyse: no records found", highlight=False)
        raise typer.Exit(1)
    if strict and summary.quarantined:
        raise typer.Exit(1)


@app.command("train-stages")
def train_stages_command(
    taxonomy: Annotated[str, typer.Option(help="Taxonomy file or built-in name; the model is saved next to it.")],
    labels: Annotated[Path | None, typer.Option(help="CSV or JSONL with text and stage (optional "
                                                      "transcript_id, turn_index).")] = None,
    unlabelled: Annotated[list[Path] | None, typer.Option(help="Unlabelled transcripts to self-train on "
                                                               "(repeatable).")] = None,
    min_confidence: Annotated[float, typer.Option(min=0.5, max=1.0, help="Self-training keeps utterances "
                                                                         "labelled at least this sure.")] = 0.8,
    holdout: Annotated[float, typer.Option(min=0.0, max=0.9, help="Share of labelled rows held out to report "
                                                                   "accuracy before the final fit.")] = 0.2,
    format: FormatOpt = None,
    column: ColumnOpt = None,
    speaker_map: SpeakerMapOpt = None,
    encoding: EncodingOpt = None,
    guess_speakers: GuessSpeakersOpt = False,
) -> None:
    """Train the stage head of the fewshot classifier from labelled utterances and/or unlabelled transcripts."""
    from nlp.scoring.stage_training import train_stages
    from nlp.taxonomy import TaxonomyError

    options = _reader_options(format, column, speaker_map, encoding, guess_speakers)  # for --unlabelled
    try:
        report = train_stages(taxonomy, labels, unlabelled=unlabelled, min_confidence=min_confidence,
                              holdout=holdout, reader_options=options)
    except TaxonomyError as error:
        raise typer.BadParameter(str(error), param_hint="--taxonomy") from error
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--labels") from error
    table = Table(title=f"stage model · {report.taxonomy}", show_header=False)
    table.add_row("labelled utterances", f"{report.labelled:,}")
    table.add_row("self-trained utterances", f"{report.self_trained:,}")
    if report.unreadable:
        table.add_row("unreadable unlabelled records (skipped)", f"{report.unreadable:,}")
    for stage, count in report.per_stage.items():
        table.add_row(f"  {stage}", f"{count:,}")
    table.add_row("held-out accuracy (per utterance)",
                  "—" if report.holdout_accuracy is None else f"{report.holdout_accuracy:.3f}")
    table.add_row("stage switch probability", "—" if report.switch_prob is None else f"{report.switch_prob:.4f}")
    _print_table(table)
    out.print(f"saved {report.weights} and {report.metadata}")


# -- the HTTP service: `journeylens serve` and `journeylens keys` (service modules are imported inside the commands,
# so the scoring commands never load the web stack) ----------------------------------------------------------------
def _service_settings(settings_file: Path | None, **overrides):
    from pydantic import ValidationError

    from service.config import load_settings

    try:
        return load_settings(settings_file, **overrides)
    except (ValueError, ValidationError) as error:
        raise typer.BadParameter(str(error)) from error


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Inference worker processes (default 1).")] = None,
    db: Annotated[Path | None, typer.Option(help="DuckDB file to store into (default journeylens.duckdb).")] = None,
    settings_file: Annotated[Path | None, typer.Option(help="Service settings file (YAML, TOML or JSON).")] = None,
) -> None:
    """Run the HTTP API (docs/service.md). Settings also come from JOURNEYLENS_* variables."""
    from service.server import serve as run_server
    from service.storage import StorageError

    service_settings = _service_settings(settings_file, host=host, port=port, workers=workers, db=db)
    try:
        run_server(service_settings)
    except (StorageError, ValueError) as error:  # a locked database, an unusable pipeline configuration
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from error


keys_app = typer.Typer(help="API keys of the HTTP service (stored hashed next to the database).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

_KeysDb = Annotated[Path | None, typer.Option(help="The service's DuckDB file; keys live next to it.")]
_KeysFile = Annotated[Path | None, typer.Option(help="The key file (default: <db>.keys.json).")]
_KeysSettings = Annotated[Path | None, typer.Option("--settings-file", help="The service's settings file.")]


def _key_store(db: Path | None, keys_file: Path | None, settings: Path | None):
    from service.keys import KeyStore

    return KeyStore(_service_settings(settings, db=db, keys_file=keys_file).keys_file)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who uses the key, e.g. platform.")],
    read_only: Annotated[bool, typer.Option("--read-only", help="May read and analyze, not store.")] = False,
    rate_limit: Annotated[float | None, typer.Option(min=0, help="Requests/s for this key (default: settings)")] = None,
    burst: Annotated[int | None, typer.Option(min=1, help="Burst size for this key (default: settings).")] = None,
    db: _KeysDb = None, keys_file: _KeysFile = None, settings: _KeysSettings = None,
) -> None:
    """Create an API key and print it once on stdout; only its SHA-256 digest is stored."""
    store = _key_store(db, keys_file, settings)
    try:
        entry, secret = store.create(name, read_only=read_only, rate_limit_per_second=rate_limit,
                                     rate_limit_burst=burst)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    console.print(f"created key {entry.key_id} '{entry.name}'{' (read-only)' if read_only else ''} in {store.path}; "
                  "it is shown only this once:")
    typer.echo(secret)


@keys_app.command("list")
def keys_list(db: _KeysDb = None, keys_file: _KeysFile = None, settings: _KeysSettings = None) -> None:
    """List the API keys (never the secrets)."""
    store = _key_store(db, keys_file, settings)
    table = Table(title=f"API keys · {store.path}")
    for column in ("id", "name", "access", "rate limit", "created"):
        table.add_column(column)
    for key in store.entries():
        limit = f"{key.rate_limit_per_second:g}/s" if key.rate_limit_per_second is not None else "default"
        table.add_row(key.key_id, key.name, "read-only" if key.read_only else "read-write", limit, key.created_at)
    _print_table(table)


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="Key id or name.")],
    db: _KeysDb = None, keys_file: _KeysFile = None, settings: _KeysSettings = None,
) -> None:
    """Revoke API keys by id or name; a running server stops accepting them within a second."""
    removed = _key_store(db, keys_file, settings).revoke(key)
    if not removed:
        raise typer.BadParameter(f"no key has the id or name {key!r}", param_hint="KEY")
    console.print(f"revoked {', '.join(f'{k.key_id} ({k.name})' for k in removed)}")


# -- categories (docs/categories.md) ---------------------------------------------------------------------------
CategoriesOpt = Annotated[list[str] | None, typer.Option(
    "--categories", help="Category file or built-in pack (repeatable); its categories are added, replacing "
                         "those with the same id.")]
BuiltinCategoriesOpt = Annotated[bool, typer.Option(
    "--builtin-categories/--no-builtin-categories", help="Start from the configured packs (default: the built-in "
                                                         "contact_centre) or from none.")]


def _category_names(configured: list[str], extra: list[str] | None, builtin: bool) -> list[str]:
    """The packs and files to evaluate, validated now so that a bad file fails before anything is read."""
    from nlp.categories import CategoryFileError, load_category_set

    names = [*(configured if builtin else []), *(extra or [])]
    try:
        load_category_set(names)
    except CategoryFileError as error:
        raise typer.BadParameter(str(error), param_hint="--categories") from error
    return names


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


if __name__ == "__main__":
    app()
