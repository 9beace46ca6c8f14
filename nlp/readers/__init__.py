"""Transcript readers: files and folders in, one ``Record`` per record read out.

Every record read yields exactly one ``Record``: a validated ``Transcript`` or a readable reason. Nothing is
skipped silently: unsupported files, empty files, files that break while being read, dangling links, link loops,
links to folders (not followed: they can loop), FIFOs and devices (never opened: they could block) and folders
that cannot be listed each yield a rejected record. Hidden files and folders (``.name``) are left out.
``Record.position`` counts the raw (on-disk, compressed) bytes consumed across all inputs, so a progress bar
can run against ``total_bytes(paths)``.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
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

FORMATS = (
    "jsonl", "json", "csv", "parquet", "text", "vtt", "srt", "contact_lens", "transcribe", "connect_chat", "ccai",
)

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

LINKED_FOLDER = "a link to a folder: not followed, as links can loop; pass the folder itself to read it"

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
    "transcribe": partial(read_json, shape="contact_lens"),
    "connect_chat": partial(read_json, shape="connect_chat"),
    "ccai": partial(read_json, shape="ccai"),
}


def iter_records(
    paths: Iterable[str | Path], options: ReaderOptions | None = None, roots: Iterable[str | Path] | None = None
) -> Iterator[Record]:
    """Read every file under ``paths`` (files or folders, folders recursively in sorted order).

    A file found in a folder that names no id of its own gets its path relative to that folder as its id
    (``Source.default_id``); ``roots`` names those folders when ``paths`` is already a list of files (as
    ``list_inputs`` returns it)."""
    options = options or ReaderOptions()
    _check_options(options)
    folders = [Path(root) for root in _as_list(roots) if Path(root).is_dir()] if roots is not None else []
    position = 0
    for file, problem, root in _inputs(paths):
        if problem is not None:
            yield replace(rejected(str(file), "file", problem, None), position=position)
            continue
        root = max((folder for folder in folders if folder in file.parents), key=lambda f: len(f.parts),
                   default=root)
        source = Source(file, options.encoding, root)
        for record, consumed in _read_file(source, options):
            yield replace(record, position=position + consumed)
        position += source.size


def list_inputs(paths: Iterable[str | Path] | str | Path) -> list[Path]:
    """The files ``iter_records`` reads, in its order; paths it cannot read (missing, a link loop, a FIFO, a
    folder that cannot be listed) stay in the list: reading one yields its rejection."""
    return [file for file, _, _ in _inputs(paths)]


def total_bytes(paths: Iterable[str | Path]) -> int:
    """The on-disk size of every file ``iter_records`` reads: the final ``Record.position``."""
    return sum(file.stat().st_size for file, problem, _ in _inputs(paths) if problem is None)


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


def _inputs(paths: Iterable[str | Path] | str | Path) -> Iterator[tuple[Path, str | None, Path | None]]:
    """Each input file with why it cannot be read (None for a regular file) and the folder given that it was
    found in (None for a file given itself), folders walked in sorted order."""
    for path in map(Path, _as_list(paths)):
        if path.is_dir():
            yield from ((file, problem, path) for file, problem in _walk(path))
        else:
            yield path, _not_a_regular_file(path), None


def _walk(folder: Path) -> Iterator[tuple[Path, str | None]]:
    """Every non-hidden entry under ``folder``, sorted by path; links to folders are reported, not followed."""
    found: list[tuple[Path, str | None]] = []

    def unlistable(error: OSError) -> None:
        reason = f"cannot list this folder: {error.strerror}; check its permissions"
        found.append((Path(error.filename or folder), reason))

    for parent, subfolders, names in os.walk(folder, onerror=unlistable):
        linked = [name for name in subfolders if Path(parent, name).is_symlink() and not name.startswith(".")]
        found.extend((Path(parent, name), LINKED_FOLDER) for name in linked)
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name not in linked]
        found.extend((Path(parent, name), None) for name in names if not name.startswith("."))
    for path, problem in sorted(found, key=lambda item: item[0]):
        yield path, problem or _not_a_regular_file(path)


def _not_a_regular_file(path: Path) -> str | None:
    """Why ``path`` is not a regular file that can be opened without blocking, or None when it is one."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        if not path.is_symlink():
            if error.errno in (errno.ENOENT, errno.ENOTDIR):
                return "no such file or folder; check the path"
            return f"cannot read this file: {error.strerror}"
        if error.errno == errno.ELOOP:
            return "a link loop: this symbolic link leads back to itself; fix or remove it"
        return f"a dangling link: its target {os.readlink(path)} does not exist; fix or remove it"
    if stat.S_ISREG(mode):
        return None
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return f"not a regular file ({kind}); only regular files are read"


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
