"""The canonical transcript: what every reader produces and every later step consumes.

One transcript is one contact (a chat, a call, an e-mail thread, a ticket). Only ``id`` and each turn's
``speaker`` and ``text`` are required; everything else is optional. Fields a source carries that the
canonical model does not name are kept in ``metadata`` rather than dropped.

Every reader and the API build this model, so what it repairs it repairs everywhere. What was repaired or
dropped on the way in is listed, one sentence each, in ``metadata["warnings"]``: a time that cannot be read
(``nlp.schema.timestamps``) is dropped rather than losing the transcript, and an unpaired surrogate in text becomes
U+FFFD. Any channel is accepted; a synonym maps to its canonical name (``nlp.schema.channels``), the source's value
kept in ``metadata["channel_original"]``.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from nlp.schema.channels import is_synonym, normalize_channel
from nlp.schema.speakers import normalize_speaker
from nlp.schema.timestamps import read_time

Speaker = Literal["customer", "agent", "bot", "ivr", "system", "third_party"]
Language = Literal["zh", "en", "auto"]
MAX_ID_CHARS = 512  # an id is a key, not content: a longer one is corrupt (and would not fit a URL or a header)
MAX_OFFSET_MS = 2**53  # larger offsets are corrupt data (and would overflow the store's BIGINT columns)
MAX_METADATA_DEPTH = 32  # deeper metadata is corrupt data (and would overflow recursive steps such as redaction)
WARNINGS = "warnings"  # metadata key: what was repaired or dropped while reading, one sentence each
# Python strings can hold surrogate code points (JSON's "\ud800" escape, as a truncated emoji leaves), which
# cannot be encoded as UTF-8 and would break the store and every JSON output.
_SURROGATE = re.compile("[\ud800-\udfff]")


Timestamp = Annotated[datetime | None, BeforeValidator(read_time)]


def _shallow(metadata: dict[str, Any]) -> dict[str, Any]:
    """Refuse metadata nested deeper than ``MAX_METADATA_DEPTH`` (walked level by level, never recursively)."""
    level: list[Any] = [metadata]
    for _ in range(MAX_METADATA_DEPTH):
        level = [child for value in level for child in (value.values() if isinstance(value, dict) else value)
                 if isinstance(child, dict | list)]
        if not level:
            return metadata
    raise ValueError(f"nested deeper than {MAX_METADATA_DEPTH} levels; flatten it")


Metadata = Annotated[dict[str, Any], AfterValidator(_shallow)]


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return not value.isascii() and _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_surrogate(key) or _has_surrogate(item) for key, item in value.items())
    return isinstance(value, list) and any(_has_surrogate(item) for item in value)


def _without_surrogates(value: Any) -> Any:
    """``value`` with every surrogate in its strings (keys too) replaced by U+FFFD; depth is already bounded."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_without_surrogates(key): _without_surrogates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    return value


def _with_warnings(metadata: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """A copy of ``metadata`` with ``warnings`` appended to ``metadata["warnings"]``."""
    earlier = metadata.get(WARNINGS)
    earlier = [] if earlier is None else earlier if isinstance(earlier, list) else [earlier]
    return {**metadata, WARNINGS: [*earlier, *warnings]}


def _time_or_warning(value: Any, where: str, warnings: list[str]) -> datetime | None:
    try:
        return read_time(value)
    except ValueError as error:
        warnings.append(f"{where}: {error}; dropped")
        return None


def _fold_unknown_fields(data: Any, known: set[str]) -> Any:
    """Move keys the model does not name into ``metadata`` so nothing a source carried is lost."""
    if not isinstance(data, dict):
        return data
    extra = {k: v for k, v in data.items() if k not in known}
    if not extra:
        return data
    kept = {k: v for k, v in data.items() if k in known}
    metadata = kept.get("metadata") or {}
    if isinstance(metadata, dict):
        kept["metadata"] = {**metadata, **extra}
    return kept  # metadata that is not an object is rejected; the extra fields would only add noise to that


class Turn(BaseModel):
    """One speaker turn as the source recorded it."""

    model_config = ConfigDict(extra="forbid")

    speaker: Speaker
    text: str
    start_ms: int | None = Field(default=None, ge=0, le=MAX_OFFSET_MS)
    end_ms: int | None = Field(default=None, ge=0, le=MAX_OFFSET_MS)
    ts: Timestamp = None
    speaker_label: str | None = None  # the source's own name for the speaker, e.g. "Speaker 2", "客服小王"
    metadata: Metadata = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _fold(cls, data: Any) -> Any:
        return _fold_unknown_fields(data, set(cls.model_fields))

    @field_validator("speaker", mode="before")
    @classmethod
    def _speaker(cls, value: Any) -> Any:
        if isinstance(value, str):
            role = normalize_speaker(value)
            if role is None:
                raise ValueError(  # names no input: the API's problems never echo it (the quarantine shows it)
                    "unknown speaker: use customer, agent, bot, ivr, system or third_party "
                    "(or a synonym such as 客户, 客服, 坐席, 机器人, caller)"
                )
            return role
        return value

    @model_validator(mode="after")
    def _times_ordered(self) -> Turn:
        if self.start_ms is not None and self.end_ms is not None and self.end_ms < self.start_ms:
            raise ValueError(f"end_ms {self.end_ms} is before start_ms {self.start_ms}")
        return self


class Transcript(BaseModel):
    """One contact: metadata plus its turns in order."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    channel: str | None = None
    started_at: Timestamp = None
    customer_id: str | None = None
    order_id: str | None = None
    business_line: str | None = None
    language: Language = "auto"
    metadata: Metadata = Field(default_factory=dict)
    turns: list[Turn] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, data: Any) -> Any:
        """Fold unknown fields into metadata, read the times (an unreadable one is dropped with a warning) and
        map a channel synonym to its canonical name, keeping the source's value."""
        if not isinstance(data, dict):
            return data
        data = dict(_fold_unknown_fields(data, set(cls.model_fields)))
        warnings: list[str] = []
        if "started_at" in data:
            data["started_at"] = _time_or_warning(data["started_at"], "started_at", warnings)
        if isinstance(data.get("turns"), list):
            data["turns"] = [
                {**turn, "ts": _time_or_warning(turn["ts"], f"turns.{index}.ts", warnings)}
                if isinstance(turn, dict) and "ts" in turn else turn
                for index, turn in enumerate(data["turns"])
            ]
        notes: dict[str, Any] = {}
        channel = data.get("channel")
        if isinstance(channel, str):
            data["channel"] = normalize_channel(channel)
            if is_synonym(channel):
                notes["channel_original"] = channel
        metadata = data.get("metadata") or {}
        if (notes or warnings) and isinstance(metadata, dict):
            metadata = {**metadata, **notes}
            data["metadata"] = _with_warnings(metadata, warnings) if warnings else metadata
        return data

    @field_validator("id", "customer_id", "order_id", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"the number {value} is not an id; write ids as text")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(int(value)) if float(value).is_integer() else str(value)
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise ValueError("holds an unpaired surrogate (a truncated emoji?); ids must be exact, fix the source")
            return value.strip() or None
        return value

    @model_validator(mode="after")
    def _replace_surrogates(self) -> Transcript:
        """Text with an unpaired surrogate keeps its transcript: the surrogate becomes U+FFFD, with a warning."""
        repaired = []
        turn_text = "".join(f"{turn.text}{turn.speaker_label or ''}" for turn in self.turns)
        screened = self.turns if _has_surrogate(turn_text) or any(turn.metadata for turn in self.turns) else []
        for index, turn in enumerate(screened):  # one regex pass over all text skips this loop in the usual case
            fields = {name: getattr(turn, name) for name in ("text", "speaker_label", "metadata")}
            broken = {name: value for name, value in fields.items() if _has_surrogate(value)}
            if broken:
                self.turns[index] = turn.model_copy(update=_without_surrogates(broken))
                repaired += [f"turns.{index}.{name}" for name in broken]
        for name in ("channel", "business_line", "metadata"):
            if _has_surrogate(getattr(self, name)):
                setattr(self, name, _without_surrogates(getattr(self, name)))
                repaired.append(name)
        if repaired:
            warning = f"{', '.join(repaired)}: unpaired surrogate (a truncated emoji?) replaced with U+FFFD"
            self.metadata = _with_warnings(self.metadata, [warning])
        return self


def describe_validation_error(error: ValidationError) -> str:
    """Turn pydantic's error list into one readable sentence naming each offending field, and the unknown speaker
    label as read (for the quarantine, which is redacted; the API's problems use the messages alone)."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "record"
        value = item.get("input")
        unknown_label = item["loc"][-1:] == ("speaker",) and isinstance(value, str) and len(value) <= 60
        shown = f" (got {value!r})" if unknown_label else ""
        parts.append(f"{where}: {item['msg']}{shown}")
    return "; ".join(parts)
