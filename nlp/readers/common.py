"""What every reader shares: the ``Record`` it yields, its options, and the one validation path.

Readers only turn a source's shape into a plain dict in canonical shape; :func:`validate` resolves speaker
labels, normalises language codes and runs the pydantic model, so every format reports problems the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from nlp.schema.speakers import normalize_speaker, speaker_prefixes
from nlp.schema.transcript import Transcript, describe_validation_error

RAW_LIMIT = 2000


@dataclass(frozen=True)
class Record:
    """One record read from a source: a validated transcript, or the reason it was rejected."""

    source: str
    location: str
    position: int
    transcript: Transcript | None
    reason: str | None
    raw: str | None


@dataclass
class ReaderOptions:
    """How to read inputs; the defaults detect everything."""

    format: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    speaker_map: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    guess_speakers: bool = False  # subtitles: anonymous speakers' roles from what they say (see subtitles.py)


def rejected(source: str, location: str, reason: str, raw: str | None) -> Record:
    """A record that could not become a transcript; ``position`` is filled in by ``iter_records``.

    Surrogates a JSON source smuggled into ``reason`` or ``raw`` are shown as ``\\ud800`` escapes, so the
    quarantine can still be written as UTF-8.
    """
    raw = None if raw is None else _encodable(raw[:RAW_LIMIT])
    return Record(source, location, 0, None, _encodable(reason), raw)


_NUMBERED = re.compile(r"\b(line|row|item|cue|turns\.|column|position|char)(\s*)\d+", re.IGNORECASE)
_QUOTED = re.compile(r"\(got [^)]*\)|\bb'[^']*'|\bb\"[^\"]*\"")
REASON_GROUP_LIMIT = 240  # a whole sentence; only runaway reasons (a long value quoted) are cut


def reason_group(reason: str, location: str | None = None) -> str:
    """What a quarantine summary groups a rejection by: its reason, not where it happened. The location prefix
    ("line 3: ", "item 2: ") is dropped, numbers in places, the value got and undecodable bytes are blanked, so one
    kind of problem counts once: ``"line 7: invalid JSON: Expecting value (column 1); …"`` → ``"invalid JSON:
    Expecting value (column N); …"``."""
    text = reason.strip()
    if location and text.startswith(f"{location}: "):
        text = text[len(location) + 2:]
    text = _QUOTED.sub("…", _NUMBERED.sub(lambda m: f"{m[1]}{m[2]}N", text))
    return text if len(text) <= REASON_GROUP_LIMIT else text[: REASON_GROUP_LIMIT - 1] + "…"


def _encodable(text: str) -> str:
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode("utf-8")


def resolve_role(label: str, speaker_map: Mapping[str, str]) -> str | None:
    """The canonical role for a source's speaker label: ``speaker_map`` first, then the synonym table."""
    key = _bare(label)
    mapped = next((role for name, role in speaker_map.items() if _bare(name) == key), None)
    return normalize_speaker(mapped if mapped is not None else key)


def _bare(label: str) -> str:
    """A label as compared with the speaker map: case and surrounding space and brackets ignored."""
    return label.strip().strip("[]").strip().lower()


def is_anonymous_speaker(label: str) -> bool:
    """A diarisation label that says nothing about the role: "Speaker 1", "spk_0", "SPEAKER_00", "说话人1"."""
    return re.fullmatch(_ANONYMOUS_SPEAKER, label.strip(), re.IGNORECASE) is not None


def language_from_code(code: Any) -> str | None:
    """``zh-CN``/``zh_TW``/``zh`` → ``zh``, ``en-US`` → ``en``, ``auto`` → ``auto``; anything else → None."""
    if not isinstance(code, str):
        return None
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return base if base in ("zh", "en", "auto") else None


def validate(
    data: dict[str, Any], source: str, location: str, raw: str | None, speaker_map: Mapping[str, str]
) -> Record:
    """Resolve speakers and language, then validate ``data`` as a ``Transcript``; the one path to a Record."""
    named = with_record_id(data, None)  # an id alias (conversation_id, ...) when the record has no id
    data = named if named["id"] is not None else dict(data)
    turns = data.get("turns")
    if isinstance(turns, list):
        data["turns"] = [_resolve_turn_speaker(turn, speaker_map) for turn in turns]
    language = language_from_code(data.get("language"))
    if language is not None:
        data["language"] = language
    try:
        transcript = Transcript.model_validate(data)
    except ValidationError as error:
        return rejected(source, location, f"{location}: {describe_validation_error(error)}", raw)
    return Record(source, location, 0, transcript, None, None)


def _resolve_turn_speaker(turn: Any, speaker_map: Mapping[str, str]) -> Any:
    if not isinstance(turn, dict) or not isinstance(turn.get("speaker"), str):
        return turn
    label = turn["speaker"]
    role = resolve_role(label, speaker_map)
    if role is None:
        return turn  # the model rejects it with a message listing the roles
    resolved = {**turn, "speaker": role}
    if label.strip().lower() != role and not turn.get("speaker_label"):
        resolved["speaker_label"] = label.strip()
    return resolved


# A generic diarisation label such as "Speaker 1", "spk_0", "SPEAKER_00", "说话人1", "Guest-2".
_ANONYMOUS_SPEAKER = r"(?:speaker|spk|guest|participant|说话人|发言人|讲话人|角色)[ _\-]?[0-9０-９]+"


@lru_cache(maxsize=32)
def _prefix_pattern(extra_labels: tuple[str, ...], anonymous: bool) -> re.Pattern[str]:
    names = sorted({*speaker_prefixes(), *extra_labels}, key=len, reverse=True)
    known = "|".join(re.escape(name) for name in names)
    label = rf"(?:{known})(?:[ _\-#]?[0-9０-９]+)?"
    if anonymous:
        label = rf"{_ANONYMOUS_SPEAKER}|{label}"
    return re.compile(rf"\s*(?P<label>{label})\s*[:：]\s*(?P<text>.*)", re.IGNORECASE | re.DOTALL)


def split_speaker_prefix(
    text: str, speaker_map: Mapping[str, str], *, anonymous: bool = False
) -> tuple[str, str] | None:
    """Split ``"客服01：您好"`` into ``("客服01", "您好")``; None when the text does not start with a speaker.

    Recognised labels are the role synonyms, the keys of ``speaker_map`` and, with ``anonymous``, generic
    diarisation labels such as "Speaker 1" or "spk_0" (whose roles the caller must then work out).
    """
    match = _prefix_pattern(tuple(sorted(speaker_map)), anonymous).fullmatch(text)
    if match is None:
        return None
    return match["label"], match["text"].strip()


# Fields a team's own per-call JSON uses for the record's id, tried in order when it has no ``id``.
ID_ALIASES = ("conversation_id", "conversationId", "call_id", "callId", "contact_id", "contactId", "session_id")


def with_record_id(data: dict[str, Any], default_id: str) -> dict[str, Any]:
    """``data`` with its id: its own ``id``, else the first id alias it carries, else ``default_id`` (the path)."""
    if not is_missing(data.get("id")):
        return data
    own = next((data[name] for name in ID_ALIASES if not is_missing(data.get(name))), None)
    return {**data, "id": own if own is not None else default_id}


def keep_present(values: Mapping[str, Any]) -> dict[str, Any]:
    """The items whose value is present (see ``is_missing``), so absent source fields stay absent."""
    return {key: value for key, value in values.items() if not is_missing(value)}


def is_missing(value: Any) -> bool:
    """None, NaN, or an empty or blank string: what a table cell or JSON field holds when it has no value."""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value  # NaN
    return isinstance(value, str) and not value.strip()


def dig(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...``, or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data
