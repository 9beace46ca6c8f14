"""Transcript readers: files and folders in, one ``Record`` per record read out.

Every record read yields exactly one ``Record``: a validated ``Transcript`` or a readable reason. Nothing is
skipped silently: unsupported files, empty files and files that break while being read each yield a rejected
record. ``Record.position`` counts the raw (on-disk, compressed) bytes consumed across all inputs, so a
progress bar can run against ``total_bytes(paths)``.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

from nlp.readers.common import ReaderOptions, Record, rejected
from nlp.readers.jsonl import read_json, read_jsonl
from nlp.readers.plaintext import read_text
from nlp.readers.source import READ_ERRORS, Source, UndecodableText
from nlp.readers.subtitles import read_subtitles
from nlp.readers.tabular import read_csv, read_parquet

__all__ = ["FORMATS", "ReaderOptions", "Record", "iter_records", "list_inputs", "total_bytes"]

FORMATS = ("jsonl", "json", "csv", "parquet", "text", "vtt", "srt", "contact_lens", "ccai")

EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".txt": "text",
    ".vtt": "vtt",
    ".srt": "srt",
}

Reader = Callable[[Source, ReaderOptions], Iterator[Record]]
READERS: dict[str, Reader] = {
    "jsonl": read_jsonl,
    "json": read_json,
    "csv": read_csv,
    "parquet": read_parquet,
    "text": read_text,
    "vtt": partial(read_subtitles, kind="vtt"),
    "srt": partial(read_subtitles, kind="srt"),
    "contact_lens": partial(read_json, shape="contact_lens"),
    "ccai": partial(read_json, shape="ccai"),
}


def iter_records(paths: Iterable[str | Path], options: ReaderOptions | None = None) -> Iterator[Record]:
    """Read every file under ``paths`` (files or folders, folders recursively in sorted order)."""
    options = options or ReaderOptions()
    _check_options(options)
    position = 0
    for file in list_inputs(paths):
        if not file.exists():
            missing = rejected(str(file), "file", "no such file or folder; check the path", None)
            yield replace(missing, position=position)
            continue
        source = Source(file, options.encoding)
        for record, consumed in _read_file(source, options):
            yield replace(record, position=position + consumed)
        position += source.size


def list_inputs(paths: Iterable[str | Path] | str | Path) -> list[Path]:
    """The files ``iter_records`` reads, in its order; a missing path stays in the list (reading it yields its
    rejection)."""
    return [file for path in _as_list(paths)
            for file in (_files(Path(path)) if Path(path).exists() else [Path(path)])]


def total_bytes(paths: Iterable[str | Path]) -> int:
    """The on-disk size of every file ``iter_records`` visits: the final ``Record.position``."""
    return sum(file.stat().st_size for file in list_inputs(paths) if file.exists())


def _as_list(paths: Iterable[str | Path] | str | Path) -> list[str | Path]:
    """One path given on its own is a list of one (a bare string must not be read letter by letter)."""
    return [paths] if isinstance(paths, str | Path) else list(paths)


def _check_options(options: ReaderOptions) -> None:
    if options.format is not None and options.format not in FORMATS:
        raise ValueError(f"unknown format {options.format!r}; use one of {', '.join(FORMATS)}")
    if options.encoding is not None:
        try:
            codecs.lookup(options.encoding)
        except LookupError as error:
            raise ValueError(f"unknown encoding {options.encoding!r}") from error


def _files(path: Path) -> Iterator[Path]:
    """The file itself, or every non-hidden file under the folder, sorted by path."""
    if not path.is_dir():
        yield path
        return
    found = []
    for folder, subfolders, names in os.walk(path):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        files = (Path(folder, name) for name in names if not name.startswith("."))
        found.extend(file for file in files if file.is_file())
    yield from sorted(found)


def _read_file(source: Source, options: ReaderOptions) -> Iterator[tuple[Record, int]]:
    """Each record of one file with the raw bytes consumed when it was read; the last one gets the file size.

    Records are held back by one so the last can be given the whole file size, even when the reader stopped
    before the end (trailing blank lines, gzip buffering).
    """
    file_format = options.format or _format_by_extension(source)
    if file_format is None:
        suffix = Path(source.inner_name).suffix or "(no extension)"
        supported = ", ".join(EXTENSIONS)
        reason = f"unsupported file type '{suffix}'; supported: {supported} (also as .gz), or pass --format"
        yield rejected(source.name, "file", reason, None), source.size
        return
    held: tuple[Record, int] | None = None
    try:
        for record in READERS[file_format](source, options):
            if held is not None:
                yield held
            held = (record, source.consumed())
    except READ_ERRORS as error:
        if held is not None:
            yield held
        reason = str(error)
        if not isinstance(error, UndecodableText):
            read_before = "" if held is None else "; the records before this point were read"
            reason = f"cannot read this file as {file_format}: {error}{read_before}; repair or re-export it"
        held = (rejected(source.name, "file", reason, None), 0)
    if held is None:
        reason = "the file is empty" if source.size == 0 else "no records found: only blank lines or a header"
        held = (rejected(source.name, "file", reason, ""), 0)
    yield held[0], source.size


def _format_by_extension(source: Source) -> str | None:
    return EXTENSIONS.get(Path(source.inner_name).suffix.lower())
