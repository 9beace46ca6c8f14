"""Opening one input file: transparent gzip, encoding sniffing and counting the raw bytes consumed.

Encodings are sniffed, not guessed per line: a byte-order mark means UTF-8 with BOM; text that is valid UTF-8
is UTF-8; text that is valid GB18030 (a superset of GBK and GB2312) is GB18030. When a sample has a few bad
lines, the encoding most of its non-ASCII lines decode with wins, so one broken line is rejected on its own
instead of flipping the whole file to another encoding. charset-normalizer is asked only when neither fits.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

from charset_normalizer import from_bytes

SAMPLE_BYTES = 64 * 1024

# What reading a damaged file can raise; iter_records turns these into a rejected record for the file.
READ_ERRORS = (OSError, EOFError, ValueError, RecursionError, zlib.error, csv.Error)


def sniff_encoding(sample: bytes, complete: bool) -> str:
    """The encoding of ``sample``; ``complete`` says it is the whole file (else it may end mid-character)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        if _decodes(sample, encoding, complete):
            return encoding
    lines = sample.splitlines()
    if not complete:
        lines = lines[:-1]
    non_ascii = [line for line in lines if not line.isascii()]
    for encoding in ("utf-8", "gb18030"):
        if 2 * sum(_decodes(line, encoding, True) for line in non_ascii) >= len(non_ascii) > 0:
            return encoding
    best = from_bytes(sample).best()
    return best.encoding if best is not None else "utf-8"


def _decodes(data: bytes, encoding: str, complete: bool) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def describe_decode_error(error: UnicodeDecodeError, encoding: str) -> str:
    """Why bytes did not decode, and what to do about it."""
    bad = error.object[error.start : error.end]
    return (
        f"cannot decode bytes {bad!r} as {encoding}; fix the bytes, or pass --encoding if the file uses "
        "another encoding"
    )


class UndecodableText(ValueError):
    """A one-document file has bytes that do not decode; the message names the line."""


class Source:
    """One input file. Readers get its lines or text; ``consumed()`` says how many raw bytes are read."""

    def __init__(self, path: Path, encoding: str | None = None, root: Path | None = None) -> None:
        self.path = path
        self.root = root
        self.name = str(path)
        self.size = path.stat().st_size
        self.gzipped = path.name.lower().endswith(".gz")
        self._forced_encoding = encoding
        self._raw: BinaryIO | None = None
        self._consumed = 0

    @property
    def inner_name(self) -> str:
        """The file name without a ``.gz`` suffix: ``calls.jsonl.gz`` → ``calls.jsonl``."""
        return self.path.name[:-3] if self.gzipped else self.path.name

    @property
    def stem(self) -> str:
        """The default transcript id for one-transcript-per-file formats: ``call_01.vtt.gz`` → ``call_01``."""
        return Path(self.inner_name).stem

    @property
    def default_id(self) -> str:
        """The id of a one-transcript file whose record names none: its path relative to the input folder it was
        found in, without the extension (``calls/2025-12-28/c1/transcription.json`` read from ``calls`` →
        ``2025-12-28/c1/transcription``), so per-call folders that reuse a file name keep distinct ids; the stem
        for a file given on its own."""
        if self.root is None:
            return self.stem
        try:
            parent = self.path.parent.relative_to(self.root)
        except ValueError:
            return self.stem
        return (parent / self.stem).as_posix() if parent.parts else self.stem

    @contextmanager
    def open(self, track: bool = True) -> Iterator[BinaryIO]:
        """The decompressed byte stream; with ``track``, ``consumed()`` follows the raw file's offset."""
        with open(self.path, "rb") as raw:
            self._raw = raw if track else None
            try:
                if self.gzipped:
                    with gzip.GzipFile(fileobj=raw) as stream:
                        yield stream
                else:
                    yield raw
            finally:
                self.consumed()
                self._raw = None

    def consumed(self) -> int:
        """Raw (compressed, on-disk) bytes of this file read so far; never decreases."""
        if self._raw is not None:
            self._consumed = max(self._consumed, min(self._raw.tell(), self.size))
        return self._consumed

    def report_progress(self, fraction: float) -> None:
        """For readers that cannot follow the raw offset (Parquet): the share of the file done."""
        self._consumed = max(self._consumed, min(self.size, int(self.size * fraction)))

    @cached_property
    def encoding(self) -> str:
        """The forced encoding, or the one sniffed from the first 64 KiB (this read is not counted)."""
        if self._forced_encoding:
            return self._forced_encoding
        with (
            open(self.path, "rb") as raw,
            gzip.GzipFile(fileobj=raw) if self.gzipped else nullcontext(raw) as stream,
        ):
            sample = stream.read(SAMPLE_BYTES + 1)
        return sniff_encoding(sample[:SAMPLE_BYTES], complete=len(sample) <= SAMPLE_BYTES)

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """``(line number, raw bytes)`` for each line, streamed."""
        with self.open() as stream:
            yield from enumerate(stream, start=1)

    def decode(self, data: bytes) -> str:
        """Decode one line with the file's encoding; raises ``UnicodeDecodeError``."""
        return data.decode(self.encoding)

    def decode_leniently(self, data: bytes) -> str:
        """Decode for showing in ``Record.raw``: undecodable bytes appear as ``\\xff`` escapes."""
        return data.decode(self.encoding, errors="backslashreplace")

    def read_text(self) -> str:
        """The whole decoded file, for formats where one file is one document; sniffs the whole file.

        Raises ``UndecodableText`` naming the line of the first undecodable bytes.
        """
        with self.open() as stream:
            data = stream.read()
        encoding = self._forced_encoding or sniff_encoding(data, complete=True)
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            raise UndecodableText(f"line {line}: {describe_decode_error(error, encoding)}") from error
