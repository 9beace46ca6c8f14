"""CSV/TSV and Parquet: one row per turn, rows of one transcript contiguous.

Columns are found by name, case-insensitively (``options.columns`` overrides, canonical field → column):
id = transcript_id | conversation_id | contact_id | id; speaker = speaker | role | participant;
text = text | content | utterance | message; optional start_ms, end_ms, ts | timestamp (per turn) and channel,
started_at, customer_id, order_id, business_line, language (per transcript, from its first row). Any other
column goes to transcript metadata, from the first row.

Rows stream and contiguous rows with the same id form one transcript. An id that re-appears after other ids
is rejected (the file must be sorted by id). A row without an id, speaker or text rejects its whole
transcript, naming the row; so does a cell over ``CSV_FIELD_LIMIT`` (the rows around it are still read). Row
numbers are what a spreadsheet shows: in a CSV the header is row 1; Parquet has no header, so its first row is
row 1.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq

from nlp.readers.common import ReaderOptions, Record, is_missing, keep_present, rejected, validate
from nlp.readers.source import Source, describe_decode_error

TRANSCRIPT_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("transcript_id", "conversation_id", "contact_id", "id"),
    "channel": ("channel",),
    "started_at": ("started_at",),
    "customer_id": ("customer_id",),
    "order_id": ("order_id",),
    "business_line": ("business_line",),
    "language": ("language",),
}
TURN_COLUMNS: dict[str, tuple[str, ...]] = {
    "speaker": ("speaker", "role", "participant"),
    "text": ("text", "content", "utterance", "message"),
    "start_ms": ("start_ms",),
    "end_ms": ("end_ms",),
    "ts": ("ts", "timestamp"),
}
REQUIRED = ("id", "speaker", "text")
DELIMITERS = (",", "\t", ";", "|")
PARQUET_BATCH_ROWS = 1024
# The largest CSV cell read (the csv module's default, 128 KiB, is less than a long e-mail); score-text uses it too.
CSV_FIELD_LIMIT = 10 * 1024 * 1024


@dataclass(frozen=True)
class Row:
    """One table row: its user-facing number, column → value, raw text, and a defect that rejects it."""

    number: int
    values: dict[str, Any]
    raw: str
    defect: str | None = None


def read_csv(source: Source, options: ReaderOptions) -> Iterator[Record]:
    """Stream a CSV/TSV file; the delimiter is whichever of , tab ; | the header line uses most."""
    raw_lines: list[str] = []
    defects: list[str] = []

    def decoded_lines() -> Iterator[str]:
        for number, line in source.lines():
            try:
                text = source.decode(line)
            except UnicodeDecodeError as error:
                defects.append(f"line {number}: {describe_decode_error(error, source.encoding)}")
                text = source.decode_leniently(line)
            raw_lines.append(text)
            yield text

    lines = decoded_lines()
    first_line = next(lines, None)
    if first_line is None:
        return
    delimiter = max(DELIMITERS, key=lambda candidate: (first_line.count(candidate), candidate == ","))
    csv.field_size_limit(CSV_FIELD_LIMIT)  # process-wide: set it for every file, whatever else changed it
    reader = csv.reader(itertools.chain([first_line], lines), delimiter=delimiter)
    header = [cell.strip().lstrip("\ufeff") for cell in next(reader)]
    raw_lines.clear()
    defects.clear()

    def rows() -> Iterator[Row]:
        for number in itertools.count(2):
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                cells = _cells_before_error(lines, raw_lines, delimiter)
                defects.append(f"cannot read it as CSV: {error}")
            raw = "".join(raw_lines)
            raw_lines.clear()
            defect = "; ".join(defects) or None
            defects.clear()
            if len(cells) > len(header):
                defect = (
                    f"it has {len(cells)} cells but the header has {len(header)}; "
                    f"quote text that contains {delimiter!r}"
                )
            if defect or any(cell.strip() for cell in cells):
                yield Row(number, dict(zip(header, cells, strict=False)), raw, defect)

    yield from read_rows(source, header, rows(), options)


def _cells_before_error(lines: Iterator[str], raw_lines: list[str], delimiter: str) -> list[str]:
    """After the csv module gave up on a row: skip the rest of its quoted cell and read the cells before it.

    The csv module drops the rest of the line it failed on; while the row's quotes are unbalanced the cell goes
    on over the next lines, which are skipped so they are not read as rows. The cells before the failing one are
    read from the row's start (the id usually comes first, so the row still rejects its own transcript).
    """
    quotes = sum(line.count('"') for line in raw_lines)
    while quotes % 2 and (line := next(lines, None)) is not None:
        quotes += line.count('"')
    start = "".join(raw_lines)[: CSV_FIELD_LIMIT - 1]
    cells = next(csv.reader([start], delimiter=delimiter), [])
    return cells[:-1]  # the last one is the failing cell, cut short


def read_parquet(source: Source, options: ReaderOptions) -> Iterator[Record]:
    """Stream a Parquet file batch by batch; progress is the share of rows read."""
    with source.open(track=False) as stream:
        parquet = pq.ParquetFile(stream)
        total_rows = max(parquet.metadata.num_rows, 1)

        def rows() -> Iterator[Row]:
            number = 0
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
                for values in batch.to_pylist():
                    number += 1
                    yield Row(number, values, json.dumps(values, ensure_ascii=False, default=str) + "\n")
                source.report_progress(number / total_rows)

        yield from read_rows(source, parquet.schema_arrow.names, rows(), options)


def read_rows(
    source: Source, header: list[str], rows: Iterator[Row], options: ReaderOptions
) -> Iterator[Record]:
    """Group contiguous rows by id and validate each group as one transcript."""
    columns, problem = resolve_columns(header, options.columns)
    if problem is not None:
        yield rejected(source.name, "file", problem, ", ".join(header))
        return
    first_seen: dict[str, str] = {}
    group: list[Row] = []
    for row in rows:
        if group and _id(row, columns) != _id(group[0], columns):
            yield _transcript(group, columns, first_seen, source, options)
            group = []
        group.append(row)
    if group:
        yield _transcript(group, columns, first_seen, source, options)


def resolve_columns(header: list[str], overrides: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """Canonical field → column name, or a reason naming the missing column and the ``--column`` option."""
    aliases = {**TRANSCRIPT_COLUMNS, **TURN_COLUMNS}
    unknown = sorted(set(overrides) - set(aliases))
    if unknown:
        return {}, f"unknown field(s) {', '.join(unknown)} in --column; fields are {', '.join(aliases)}"
    by_lower = {name.strip().lower(): name for name in header}
    shown_header = ", ".join(header)
    columns: dict[str, str] = {}
    for field, names in aliases.items():
        wanted = [name.strip().lower() for name in ((overrides[field],) if field in overrides else names)]
        column = next((by_lower[name] for name in wanted if name in by_lower), None)
        if column is not None:
            columns[field] = column
        elif field in overrides:
            return {}, (
                f"column {overrides[field]!r} given for {field} is not in the header ({shown_header}); "
                f"fix --column {field}=COLUMN"
            )
        elif field in REQUIRED:
            return {}, (
                f"no {field} column: expected one of {', '.join(names)} in the header ({shown_header}); "
                f"name yours with --column {field}=COLUMN"
            )
    return columns, None


def _transcript(
    group: list[Row],
    columns: dict[str, str],
    first_seen: dict[str, str],
    source: Source,
    options: ReaderOptions,
) -> Record:
    first, last = group[0].number, group[-1].number
    location = f"row {first}" if first == last else f"rows {first}-{last}"
    raw = "".join(row.raw for row in group)
    transcript_id = _id(group[0], columns)
    if transcript_id in first_seen:
        reason = (
            f"{location}: rows of transcript {transcript_id!r} are not contiguous (it already appeared at "
            f"{first_seen[transcript_id]}); sort the file by the {columns['id']!r} column so each "
            "transcript's rows are together"
        )
        return rejected(source.name, location, reason, raw)
    if transcript_id:
        first_seen[transcript_id] = location
    for row in group:
        if row.defect:
            return rejected(source.name, location, f"{location}: row {row.number}: {row.defect}", raw)
        missing = [field for field in REQUIRED if is_missing(row.values.get(columns[field]))]
        if missing:
            names = " and ".join(f"{field} (column {columns[field]!r})" for field in missing)
            reason = f"{location}: row {row.number} has no {names}; every row needs an id, speaker and text"
            return rejected(source.name, location, reason, raw)
    mapped = set(columns.values())
    head = group[0].values
    data = _fields(head, columns, TRANSCRIPT_COLUMNS)
    data["metadata"] = keep_present({name: value for name, value in head.items() if name not in mapped})
    data["turns"] = [_fields(row.values, columns, TURN_COLUMNS) for row in group]
    return validate(data, source.name, location, raw, options.speaker_map)


def _fields(values: dict[str, Any], columns: dict[str, str], fields: dict[str, Any]) -> dict[str, Any]:
    """The present values of ``fields``, keyed by canonical field name."""
    return keep_present({field: values.get(column) for field, column in columns.items() if field in fields})


def _id(row: Row, columns: dict[str, str]) -> str:
    value = row.values.get(columns["id"])
    return "" if value is None else str(value).strip()
