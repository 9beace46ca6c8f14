"""Google CCAI Insights conversations, in either of their two JSON shapes.

* Upload format: ``{"conversation_info": {...}, "entries": [{"text", "role", "user_id", "start_timestamp_usec"}]}``;
  ``conversation_info`` gives the id (``conversation_id`` or ``id``), ``categories`` (their ``display_name``s, as
  ``metadata["vendor_categories"]``) and any other fields (kept in metadata).
* Conversation resource: ``name``, ``startTime``, ``medium``, ``languageCode`` and
  ``transcript.transcriptSegments[{text, segmentParticipant.role, messageTime, sentiment, confidence}]``.

Speakers: END_USER/CUSTOMER → customer, HUMAN_AGENT/AGENT → agent, AUTOMATED_AGENT → bot (through the
shared synonym table, so ``speaker_map`` can override). Id: the last part of ``name``, else the file's path.
Vendor sentiment: a segment's ``sentiment.score`` (-1..1) is kept as turn ``metadata["vendor_sentiment_score"]``
and as a label in ``metadata["vendor_sentiment"]``: positive above 0.25, negative below -0.25, else neutral
(Google's Natural Language guidance for "clearly" positive or negative).
Times: each turn's ``start_ms`` is relative to the earliest entry; ``ts`` is the absolute time when the
timestamps are epoch-based (2000–2200). ``medium`` PHONE_CALL → call, CHAT → chat.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from nlp.readers.common import dig, keep_present, language_from_code

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_YEAR_2000_USEC = 946_684_800_000_000
_YEAR_2200_USEC = 7_258_118_400_000_000  # later "epoch" times are corrupt (and overflow datetime)


def is_ccai(data: Any) -> bool:
    """Either the upload format (``entries``) or a conversation resource (transcript segments)."""
    segments = dig(data, "transcript", "transcriptSegments")
    return isinstance(data, dict) and (isinstance(data.get("entries"), list) or isinstance(segments, list))


def ccai_transcript(data: dict[str, Any], default_id: str) -> dict[str, Any]:
    """The canonical transcript dict for one CCAI conversation."""
    if isinstance(data.get("entries"), list):
        return _from_entries(data["entries"], default_id, data.get("conversation_info"))
    return _from_conversation(data, default_id)


VENDOR_SENTIMENT_THRESHOLD = 0.25


def vendor_sentiment(score: Any) -> str | None:
    """A CCAI sentiment score (-1..1) as positive, negative or neutral; None when there is none."""
    if not isinstance(score, int | float) or isinstance(score, bool):
        return None
    return "positive" if score > VENDOR_SENTIMENT_THRESHOLD else (
        "negative" if score < -VENDOR_SENTIMENT_THRESHOLD else "neutral")


def _from_entries(entries: list[Any], default_id: str, info: Any = None) -> dict[str, Any]:
    info = info if isinstance(info, dict) else {}
    categories = [
        category.get("display_name") if isinstance(category, dict) else category
        for category in info.get("categories") or [] if category
    ]
    other = {key: value for key, value in info.items() if key not in ("conversation_id", "id", "categories")}
    timed = [
        (_as_int(entry.get("start_timestamp_usec")), _entry_turn(entry))
        if isinstance(entry, dict)
        else (None, entry)
        for entry in entries
    ]
    turns = _timed_turns(timed)
    own_id = info.get("conversation_id") or info.get("id")
    return {
        "id": str(own_id) if own_id else default_id,
        "started_at": turns[0].get("ts") if turns and isinstance(turns[0], dict) else None,
        "metadata": {"source_format": "ccai", **keep_present({"vendor_categories": categories or None}), **other},
        "turns": turns,
    }


def _entry_turn(entry: dict[str, Any]) -> dict[str, Any]:
    metadata = keep_present({"user_id": entry.get("user_id")})
    return keep_present({"speaker": entry.get("role"), "text": entry.get("text"), "metadata": metadata})


def _from_conversation(data: dict[str, Any], default_id: str) -> dict[str, Any]:
    timed = [
        (_usec(segment.get("messageTime")), _segment_turn(segment))
        if isinstance(segment, dict)
        else (None, segment)
        for segment in dig(data, "transcript", "transcriptSegments") or []
    ]
    name = data.get("name")
    language_code = data.get("languageCode")
    metadata = {
        "source_format": "ccai",
        "conversation_name": name,
        "language_code": language_code,
        "agent_id": data.get("agentId"),
        "duration": data.get("duration"),
        "labels": data.get("labels") or None,
    }
    return keep_present(
        {
            "id": name.rsplit("/", 1)[-1] if isinstance(name, str) and name.strip() else default_id,
            "channel": data.get("medium"),
            "started_at": data.get("startTime"),
            "language": language_from_code(language_code) or "auto",
            "metadata": keep_present(metadata),
            "turns": _timed_turns(timed),
        }
    )


def _segment_turn(segment: dict[str, Any]) -> dict[str, Any]:
    sentiment = segment.get("sentiment")
    score = dig(sentiment, "score")
    if isinstance(sentiment, dict) and score is None:
        score = 0.0  # protobuf JSON leaves out a zero score
    metadata = keep_present({
        "sentiment": sentiment, "confidence": segment.get("confidence"),
        "vendor_sentiment": vendor_sentiment(score) if isinstance(sentiment, dict) else None,
        "vendor_sentiment_score": score if vendor_sentiment(score) else None,
    })
    speaker = dig(segment, "segmentParticipant", "role")
    return keep_present({"speaker": speaker, "text": segment.get("text"), "metadata": metadata})


def _timed_turns(timed: list[tuple[Any, Any]]) -> list[Any]:
    """Set ``start_ms`` relative to the earliest timed turn and ``ts`` for epoch-based times."""
    first = min((usec for usec, _ in timed if usec is not None), default=0)
    turns = []
    for usec, turn in timed:
        if usec is not None and isinstance(turn, dict):
            turn = {**turn, "start_ms": (usec - first) // 1000}
            if _YEAR_2000_USEC <= usec < _YEAR_2200_USEC:
                turn["ts"] = _EPOCH + timedelta(microseconds=usec)
        turns.append(turn)
    return turns


def _as_int(value: Any) -> int | None:
    """Protobuf JSON writes int64 as a string; accept both."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _usec(timestamp: Any) -> int | None:
    """An RFC 3339 time ("2026-10-01T02:00:05.250Z") as microseconds since the epoch; None if unreadable."""
    if not isinstance(timestamp, str):
        return None
    try:
        moment = datetime.fromisoformat(timestamp)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (moment - _EPOCH) // timedelta(microseconds=1)
    except (ValueError, OverflowError):  # OverflowError: a time at the calendar's edge shifted by its zone
        return None
