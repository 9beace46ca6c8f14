"""The ``journeylens`` command line: thin typed wrappers over ``nlp`` functions."""

from __future__ import annotations

import codecs
import logging
import time
from pathlib import Path
from typing import Annotated

import jieba
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from nlp.bulk import RunSummary, score_archive
from nlp.config import load_config
from nlp.readers import FORMATS, ReaderOptions, total_bytes
from nlp.resources import PROJECT_ROOT
from nlp.stage_summary import stage_summary
from nlp.store import TABLES, Store

app = typer.Typer(help="Customer-journey emotion analytics for contact-centre transcripts.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()

DEMO_ARCHIVE = PROJECT_ROOT / "data" / "demo" / "archive.jsonl.gz"


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    pairs = {}
    for value in values or []:
        key, sep, target = value.partition("=")
        if not sep or not key or not target:
            raise typer.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint=option)
        pairs[key.strip()] = target.strip()
    return pairs


def _run_with_progress(paths: list[Path], db: Path, **kwargs) -> RunSummary:
    total = total_bytes(paths)
    started = time.monotonic()
    columns = (
        TextColumn("[bold]scoring"), BarColumn(), TaskProgressColumn(),
        TextColumn("{task.fields[done]:,} transcripts · {task.fields[rate]:,.0f}/s"), TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("score", total=max(total, 1), done=0, rate=0.0)

        def update(position: int, counts) -> None:
            done = counts.scored + counts.skipped + counts.quarantined
            bar.update(task, completed=position, done=done, rate=done / max(time.monotonic() - started, 1e-6))

        return score_archive(paths, db, progress=update, **kwargs)


def _print_summary(summary: RunSummary) -> None:
    counts = summary.counts
    table = Table(title=f"run {summary.run_id}", show_header=False)
    for label, value in (("read", counts.read), ("scored", counts.scored),
                         ("quarantined", counts.quarantined), ("skipped (already scored)", counts.skipped)):
        table.add_row(label, f"{value:,}")
    out.print(table)
    if not counts.reconciles:
        console.print("[red]counts do not reconcile: read ≠ scored + quarantined + skipped")
    if counts.quarantined:
        reasons = ", ".join(f"{n} × {r}" for r, n in sorted(counts.reasons.items(), key=lambda x: -x[1]))
        console.print(f"[yellow]{counts.quarantined} record(s) quarantined in {summary.quarantine_path}: {reasons}")
    out.print(f"database: {summary.db_path}")


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
        out.print(table)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    jieba.setLogLevel(logging.WARNING)


@app.command()
def score(
    paths: Annotated[list[Path], typer.Argument(help="Transcript files or folders (read recursively).")],
    db: Annotated[Path, typer.Option(help="DuckDB file to write.")] = Path("journeylens.duckdb"),
    workers: Annotated[int, typer.Option(min=1, help="Worker processes for scoring.")] = 1,
    format: Annotated[str | None, typer.Option(help=f"Force an input format: {', '.join(FORMATS)}.")] = None,
    column: Annotated[list[str] | None, typer.Option(help="CSV/Parquet column FIELD=COLUMN, repeatable.")] = None,
    speaker_map: Annotated[list[str] | None, typer.Option(help="Speaker label mapping LABEL=ROLE, repeatable.")] = None,
    encoding: Annotated[str | None, typer.Option(help="Force a text encoding, e.g. big5 (default: detect).")] = None,
    config: Annotated[Path | None, typer.Option(help="Pipeline configuration YAML.")] = None,
    no_redact: Annotated[bool, typer.Option("--no-redact", help="Store text without PII redaction.")] = False,
    strict: Annotated[bool, typer.Option(help="Exit with status 1 if any record was quarantined.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Transcripts per scoring batch.")] = 64,
) -> None:
    """Score transcript archives into a DuckDB file, resumably; unreadable records go to quarantine."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise typer.BadParameter(f"not found: {', '.join(missing)}", param_hint="PATHS")
    if format is not None and format not in FORMATS:
        raise typer.BadParameter(f"unknown format {format!r}; choose from {', '.join(FORMATS)}", param_hint="--format")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError as error:
            raise typer.BadParameter(f"unknown encoding {encoding!r}", param_hint="--encoding") from error
    try:
        pipeline_config = load_config(config)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--config") from error
    if no_redact:
        pipeline_config.redact = []
    options = ReaderOptions(format=format, columns=_pairs(column, "--column"),
                            speaker_map=_pairs(speaker_map, "--speaker-map"), encoding=encoding)
    summary = _run_with_progress(paths, db, config=pipeline_config, reader_options=options, workers=workers,
                                 batch_size=batch_size)
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
    _print_summary(_run_with_progress([DEMO_ARCHIVE], db, workers=workers))
    _print_stage_table(db)


@app.command()
def summary(db: Annotated[Path, typer.Option(help="DuckDB file to read.")] = Path("journeylens.duckdb")) -> None:
    """Print the stage-level table of a scored database."""
    if not db.is_file():
        raise typer.BadParameter(f"{db} does not exist", param_hint="--db")
    _print_stage_table(db)


@app.command()
def export(
    table: Annotated[str, typer.Argument(help=f"Table to export: {', '.join(TABLES)}.")],
    output: Annotated[Path, typer.Option(help="Parquet file to write.")],
    db: Annotated[Path, typer.Option(help="DuckDB file to read.")] = Path("journeylens.duckdb"),
) -> None:
    """Export one table of the store to Parquet."""
    if not db.is_file():
        raise typer.BadParameter(f"{db} does not exist", param_hint="--db")
    with Store(db, read_only=True) as store:
        try:
            path = store.export_parquet(table, output)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="TABLE") from error
    out.print(f"wrote {path}")


if __name__ == "__main__":
    app()
