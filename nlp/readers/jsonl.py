"""Canonical JSON Lines (one transcript object per line) and ``.json`` documents, whose shape is sniffed.

A ``.json`` file may hold an Amazon Connect Contact Lens analysis, an Amazon Transcribe Call Analytics result, an
Amazon Connect chat transcript, a Google CCAI Insights conversation, one
canonical transcript object (its id is ``id``, else ``conversation_id``/``call_id``/``contact_id``, else the file's
path relative to the folder read, without extension) or a list of canonical transcript objects.
Ids are text: one written as a number keeps the digits as written (``1e999`` stays "1e999", not "inf").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from nlp.readers.ccai import ccai_transcript, is_ccai
from nlp.readers.common import ReaderOptions, Record, dig, rejected, validate, with_record_id
from nlp.readers.contact_lens import (
    connect_chat_transcript,
    contact_lens_transcript,
    is_connect_chat,
    is_contact_lens,
)
from nlp.readers.source import Source, describe_decode_error

PLATFORM_SHAPES = {
    "connect_chat": (is_connect_chat, connect_chat_transcript, "an object whose Transcript entries have AbsoluteTime"),
    "contact_lens": (
        is_contact_lens, contact_lens_transcript, "an object with the list Transcript, and Participants or JobName"
    ),
    "ccai": (is_ccai, ccai_transcript, "an object with entries, or with transcript.transcriptSegments"),
}
EXPECTED_JSON = (
    "expected an Amazon Connect Contact Lens analysis (lists Transcript and Participants), an Amazon Transcribe "
    "Call Analytics result (Transcript, JobName), an Amazon Connect chat transcript (Transcript entries with "
    "AbsoluteTime), a Google CCAI "
    "Insights conversation (entries, or transcript.transcriptSegments), a transcript object (id, turns) "
    "or a list of transcript objects"
)
ID_FIELDS = ("id", "customer_id", "order_id")
TOO_DEEP = "JSON nested too deeply to read (Python's parser stops near 1000 levels); flatten it"


def read_jsonl(source: Source, options: ReaderOptions) -> Iterator[Record]:
    """One record per non-blank line, streamed."""
    for number, line in source.lines():
        location = f"line {number}"
        try:
            text = source.decode(line)
        except UnicodeDecodeError as error:
            reason = f"{location}: {describe_decode_error(error, source.encoding)}"
            yield rejected(source.name, location, reason, source.decode_leniently(line).strip())
            continue
        text = text.strip()
        if not text:
            continue
        try:
            data = load_json(text)
        except json.JSONDecodeError as error:
            reason = (
                f"{location}: invalid JSON: {error.msg} (column {error.colno}); "
                "each line must be one complete JSON object"
            )
            yield rejected(source.name, location, reason, text)
            continue
        except RecursionError:
            yield rejected(source.name, location, f"{location}: {TOO_DEEP}", text)
            continue
        if not isinstance(data, dict):
            reason = f"{location}: expected a JSON object (one transcript per line), found {_json_type(data)}"
            yield rejected(source.name, location, reason, text)
            continue
        yield validate(data, source.name, location, text, options.speaker_map)


def read_json(source: Source, options: ReaderOptions, shape: str | None = None) -> Iterator[Record]:
    """A whole JSON document; ``shape`` ("contact_lens" or "ccai") forces how it is read."""
    text = source.read_text()
    try:
        data = load_json(text)
    except json.JSONDecodeError as error:
        reason = f"line {error.lineno}: invalid JSON: {error.msg} (column {error.colno}); fix or re-export it"
        yield rejected(source.name, "file", reason, text)
        return
    except RecursionError:
        yield rejected(source.name, "file", TOO_DEEP, text)
        return
    speaker_map = options.speaker_map
    shape = shape or next((name for name, (matches, _, _) in PLATFORM_SHAPES.items() if matches(data)), None)
    if shape is not None:
        matches, convert, expected = PLATFORM_SHAPES[shape]
        if matches(data):
            yield validate(convert(data, source.default_id), source.name, "file", text, speaker_map)
        else:
            yield rejected(source.name, "file", f"not a {shape} file: expected {expected}", text)
    elif isinstance(data, dict) and "turns" in data:
        yield validate(with_record_id(data, source.default_id), source.name, "file", text, speaker_map)
    elif isinstance(data, list):
        yield from _read_items(data, source, options)
    else:
        found = f"keys {', '.join(sorted(data))}" if isinstance(data, dict) else _json_type(data)
        yield rejected(source.name, "file", f"unrecognised JSON: {EXPECTED_JSON}; found {found}", text)


def load_json(text: str) -> Any:
    """``json.loads``, except that ids written as non-integer numbers keep their text, as written.

    The usual parse is kept; only a document with such an id is parsed again with floats as text, for the ids.
    """
    data = json.loads(text)
    if any(isinstance(dig(item, key), float) for item in _objects(data) for key in ID_FIELDS):
        as_written = json.loads(text, parse_float=str)
        for item, written in zip(_objects(data), _objects(as_written), strict=True):
            item.update({key: written[key] for key in ID_FIELDS if isinstance(item.get(key), float)})
    return data


def _objects(data: Any) -> list[dict[str, Any]]:
    """The transcript objects of a parsed document: itself, or the objects of a top-level list."""
    if isinstance(data, dict):
        return [data]
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _read_items(items: list[Any], source: Source, options: ReaderOptions) -> Iterator[Record]:
    for number, item in enumerate(items, start=1):
        location = f"item {number}"
        raw = json.dumps(item, ensure_ascii=False)
        if isinstance(item, dict):
            yield validate(item, source.name, location, raw, options.speaker_map)
        else:
            reason = f"{location}: expected a transcript object, found {_json_type(item)}"
            yield rejected(source.name, location, reason, raw)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number"}
    return names.get(type(value), "a number" if isinstance(value, float) else "null")
