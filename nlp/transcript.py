"""The canonical transcript: what every reader produces and every later step consumes.

One transcript is one contact (a chat, a call, an e-mail thread, a ticket). Only ``id`` and each turn's
``speaker`` and ``text`` are required; everything else is optional. Fields a source carries that the
canonical model does not name are kept in ``metadata`` rather than dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nlp.speakers import normalize_speaker

Speaker = Literal["customer", "agent", "bot", "ivr", "system", "third_party"]
Channel = Literal["chat", "call", "email", "ticket"]
Language = Literal["zh", "en", "auto"]
MAX_OFFSET_MS = 2**53  # larger offsets are corrupt data (and would overflow the store's BIGINT columns)
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200  # a time outside is corrupt data (and may overflow zone conversions)


def _plausible_time(value: datetime | None) -> datetime | None:
    if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"{value.isoformat()} is outside the years {EARLIEST_YEAR}–{LATEST_YEAR}")
    return value


def _fold_unknown_fields(data: Any, known: set[str]) -> Any:
    """Move keys the model does not name into ``metadata`` so nothing a source carried is lost."""
    if not isinstance(data, dict):
        return data
    extra = {k: v for k, v in data.items() if k not in known}
    if not extra:
        return data
    kept = {k: v for k, v in data.items() if k in known}
    metadata = dict(kept.get("metadata") or {})
    metadata.update(extra)
    kept["metadata"] = metadata
    return kept


class Turn(BaseModel):
    """One speaker turn as the source recorded it."""

    model_config = ConfigDict(extra="forbid")

    speaker: Speaker
    text: str
    start_ms: int | None = Field(default=None, ge=0, le=MAX_OFFSET_MS)
    end_ms: int | None = Field(default=None, ge=0, le=MAX_OFFSET_MS)
    ts: Annotated[datetime | None, AfterValidator(_plausible_time)] = None
    speaker_label: str | None = None  # the source's own name for the speaker, e.g. "Speaker 2", "客服小王"
    metadata: dict[str, Any] = Field(default_factory=dict)

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
                raise ValueError(
                    f"unknown speaker {value!r}: use customer, agent, bot, ivr, system or third_party "
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

    id: str = Field(min_length=1)
    channel: Channel | None = None
    started_at: Annotated[datetime | None, AfterValidator(_plausible_time)] = None
    customer_id: str | None = None
    order_id: str | None = None
    business_line: str | None = None
    language: Language = "auto"
    metadata: dict[str, Any] = Field(default_factory=dict)
    turns: list[Turn] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _fold(cls, data: Any) -> Any:
        return _fold_unknown_fields(data, set(cls.model_fields))

    @field_validator("id", "customer_id", "order_id", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(int(value)) if float(value).is_integer() else str(value)
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("channel", mode="before")
    @classmethod
    def _channel(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return {"voice": "call", "phone": "call", "phone_call": "call", "im": "chat", "mail": "email"}.get(
                value, value
            ) or None
        return value


def describe_validation_error(error: ValidationError) -> str:
    """Turn pydantic's error list into one readable sentence naming each offending field."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "record"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)
