"""The command line's shared parts: the typer app, its consoles, table printing, options several commands take."""

from __future__ import annotations

import codecs
import logging
import os
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
from rich.table import Table

from nlp.analytics.export import write_tables
from nlp.analytics.filters import Filters, field_sql
from nlp.analytics.settings import AnalyticsSettings, load_analytics_settings
from nlp.analytics.stage_summary import stage_summary
from nlp.readers import FORMATS, ReaderOptions
from nlp.store import Store

app = typer.Typer(help="Customer-journey emotion analytics for contact-centre transcripts.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()


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
ConfigOpt = Annotated[Path | None, typer.Option(help="Pipeline configuration YAML.")]


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


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    jieba.setLogLevel(logging.WARNING)


def _filters(date_from: datetime | None, date_to: datetime | None, business_line: str | None, channel: str | None,
             taxonomy: str | None, where: list[str] | None, category: str | None = None) -> Filters:
    metadata = _pairs(where, "--where")
    for name in metadata:
        _field(name, "--where")
    try:
        return Filters(date_from=date_from.date() if date_from else None, date_to=date_to.date() if date_to else None,
                       business_line=business_line, channel=channel, taxonomy=taxonomy, metadata=metadata,
                       category=category)
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
        config = load_analytics_settings(settings)
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
                                           help="Break down by a column, category (each category a contact "
                                                "matched) or metadata field (persona, city…).")]
CategoryOpt = Annotated[str | None, typer.Option(help="Only contacts that matched this stored category id "
                                                      "(journeylens categorize).")]


def _print_stage_table(db: Path) -> None:
    with Store(db, read_only=True) as store:
        frame = stage_summary(store.con)
    for taxonomy, rows in frame.groupby("taxonomy", sort=False):
        table = Table(title=f"journey stages · {taxonomy}")
        for column in ("stage", "contacts", "% contacts", "customer utt.", "% neg", "% pos", "NEV", "top emotion"):
            table.add_column(column, justify="left" if column in ("stage", "top emotion") else "right")
        for row in rows.itertuples():
            table.add_row(f"{row.stage_name} ({row.stage})", f"{row.contacts:,}", f"{row.pct_contacts:.1f}",
                          f"{row.customer_utterances:,}", f"{row.pct_negative:.1f}", f"{row.pct_positive:.1f}",
                          "—" if pd.isna(row.nev) else f"{row.nev:+.1f}", str(row.top_emotion or "—"))
        _print_table(table)



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
