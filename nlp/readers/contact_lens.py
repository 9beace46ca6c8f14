"""Amazon's contact-centre JSON, one contact per file, in three shapes.

* **Contact Lens analysis** (``CustomerMetadata``, ``Participants``, ``Transcript``), voice or chat, raw or
  redacted. Id: ``CustomerMetadata.ContactId``.
* **Amazon Transcribe Call Analytics** output (``JobName``, ``Transcript``, no ``CustomerMetadata``); Contact
  Lens voice analysis is built on it and shares its fields. Id: ``JobName``.
* **Amazon Connect chat transcript** (the chat export without analysis: ``Version`` 2019-08-26, ``ContactId``,
  ``Transcript`` entries with ``AbsoluteTime``, ``Type`` MESSAGE/EVENT/ATTACHMENT). Id: ``ContactId``.

Without those ids the id is the file's path (``Source.default_id``). Speakers: each entry's own
``ParticipantRole`` (AGENT, CUSTOMER, SYSTEM, CUSTOM_BOT, SUPERVISOR), else the role its ``ParticipantId`` has in
``Participants`` (redacted files can leave the participant list without roles); an entry with neither is
rejected naming the participant id. Entries without text (participant joined/left, chat ended, typing, read
receipts) are events, not turns: they are listed in ``metadata["events"]`` with their type, role and time.
Times: ``BeginOffsetMillis``/``EndOffsetMillis`` → ``start_ms``/``end_ms``; a chat transcript's ``AbsoluteTime``
→ ``ts``, and ``start_ms`` relative to its first entry. ``Channel`` VOICE → call, CHAT → chat (default call,
chat for chat transcripts); ``LanguageCode`` zh-CN → zh, en-US → en.

The vendor's analytics are kept: per-entry ``Sentiment`` as turn ``metadata["vendor_sentiment"]`` (lower case:
positive, negative, neutral, mixed; the source's value in ``metadata["sentiment"]``) and ``IssuesDetected`` as
``metadata["issues_detected"]`` (the words they mark as ``metadata["vendor_issues"]``); the conversation's
sentiment, talk time, non-talk time, interruptions, duration and matched categories go to transcript metadata
(``categories`` also as ``vendor_categories``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nlp.readers.common import dig, keep_present, language_from_code
from nlp.schema.timestamps import read_time

VENDOR_SENTIMENTS = ("positive", "negative", "neutral", "mixed")


def is_contact_lens(data: Any) -> bool:
    """Contact Lens analysis or Transcribe Call Analytics: a ``Transcript`` list with ``Participants`` or a
    ``JobName``, and not a chat transcript."""
    return (
        isinstance(dig(data, "Transcript"), list)
        and (isinstance(dig(data, "Participants"), list) or isinstance(dig(data, "JobName"), str))
        and not is_connect_chat(data)
    )


def is_connect_chat(data: Any) -> bool:
    """An Amazon Connect chat transcript: entries timed by ``AbsoluteTime``, no analysis job behind it."""
    entries = dig(data, "Transcript")
    analysis = ("CustomerMetadata", "JobName", "JobStatus", "ConversationCharacteristics")
    if not isinstance(entries, list) or any(dig(data, key) is not None for key in analysis):
        return False
    return any(isinstance(entry, dict) and "AbsoluteTime" in entry for entry in entries)


def contact_lens_transcript(data: dict[str, Any], default_id: str) -> dict[str, Any]:
    """The canonical transcript dict for one Contact Lens analysis or Transcribe Call Analytics job."""
    roles = _participant_roles(data)
    events: list[dict[str, Any]] = []
    turns = []
    for segment in data["Transcript"]:
        if _is_event(segment):
            events.append(_event(segment, roles))
        else:
            turns.append(_turn(segment, roles))
    characteristics = data.get("ConversationCharacteristics")
    language_code = data.get("LanguageCode")
    contact_id = dig(data, "CustomerMetadata", "ContactId")
    job = data.get("JobName")
    categories = dig(data, "Categories", "MatchedCategories") or None
    return {
        "id": contact_id or job or default_id,
        "channel": data.get("Channel") or "call",
        "language": language_from_code(language_code) or "auto",
        "metadata": keep_present(
            {
                "source_format": "contact_lens" if contact_id or not job else "transcribe_call_analytics",
                "language_code": language_code,
                "redacted": dig(data, "ContentMetadata", "Output") == "Redacted" or None,
                "overall_sentiment": dig(characteristics, "Sentiment", "OverallSentiment"),
                "sentiment_by_quarter": dig(characteristics, "Sentiment", "SentimentByPeriod", "QUARTER"),
                "talk_time_ms": _talk_time(characteristics),
                "non_talk_time_ms": dig(characteristics, "NonTalkTime", "TotalTimeMillis"),
                "interruptions": dig(characteristics, "Interruptions", "TotalCount"),
                "duration_ms": dig(characteristics, "TotalConversationDurationMillis"),
                "categories": categories,
                "vendor_categories": categories,
                "events": events or None,
            }
        ),
        "turns": turns,
    }


def connect_chat_transcript(data: dict[str, Any], default_id: str) -> dict[str, Any]:
    """The canonical transcript dict for one Amazon Connect chat transcript."""
    roles = _participant_roles(data)
    events: list[dict[str, Any]] = []
    turns = []
    first = next((t for t in map(_absolute, data["Transcript"]) if t is not None), None)
    for entry in data["Transcript"]:
        moment = _absolute(entry)
        timing = {} if moment is None else {"ts": moment, "start_ms": _millis(moment, first)}
        if _is_event(entry):
            events.append({**_event(entry, roles), **({"ts": entry.get("AbsoluteTime")} if timing else {})})
            continue
        turn = _turn(entry, roles)
        turns.append({**turn, **timing} if isinstance(turn, dict) else turn)
    return {
        "id": data.get("ContactId") or data.get("InitialContactId") or default_id,
        "channel": "chat",
        "started_at": first,
        "metadata": keep_present(
            {
                "source_format": "connect_chat",
                "initial_contact_id": data.get("InitialContactId"),
                "instance_id": data.get("InstanceId"),
                "events": events or None,
            }
        ),
        "turns": turns,
    }


def vendor_sentiment(label: Any) -> str | None:
    """``POSITIVE`` → ``positive``; None for anything that is not one of Amazon's four labels."""
    value = label.strip().lower() if isinstance(label, str) else None
    return value if value in VENDOR_SENTIMENTS else None


def _participant_roles(data: dict[str, Any]) -> dict[str, Any]:
    participants = data.get("Participants")
    return {
        str(participant.get("ParticipantId")): participant.get("ParticipantRole")
        for participant in participants if isinstance(participants, list)
        if isinstance(participant, dict) and participant.get("ParticipantRole")
    }


def _is_event(segment: Any) -> bool:
    """An entry that carries no text: a chat event (joined, left, ended, typing, read receipt) or attachment."""
    if not isinstance(segment, dict):
        return False
    kind = str(segment.get("Type") or "").upper()
    return kind in ("EVENT", "ATTACHMENT") or ("Content" not in segment and "ContentType" in segment)


def _event(segment: dict[str, Any], roles: dict[str, Any]) -> dict[str, Any]:
    participant = segment.get("ParticipantId")
    return keep_present(
        {
            "type": segment.get("ContentType") or segment.get("Type"),
            "role": segment.get("ParticipantRole") or roles.get(str(participant)),
            "offset_ms": segment.get("BeginOffsetMillis"),
        }
    )


def _turn(segment: Any, roles: dict[str, Any]) -> Any:
    if not isinstance(segment, dict):
        return segment  # the model rejects it, naming the turn
    participant = segment.get("ParticipantId")
    participant = None if participant is None else str(participant)
    role = segment.get("ParticipantRole") or roles.get(str(participant)) or participant
    metadata = {
        "sentiment": segment.get("Sentiment"),
        "vendor_sentiment": vendor_sentiment(segment.get("Sentiment")),
        "issues_detected": segment.get("IssuesDetected") or None,
        "vendor_issues": _issue_phrases(segment) or None,
        "participant_id": participant if participant and participant.lower() != str(role).lower() else None,
        "display_name": segment.get("DisplayName"),
    }
    return keep_present(
        {
            "speaker": role,
            "text": segment.get("Content"),
            "start_ms": segment.get("BeginOffsetMillis"),
            "end_ms": segment.get("EndOffsetMillis"),
            "ts": segment.get("AbsoluteTime"),
            "metadata": keep_present(metadata),
        }
    )


def _issue_phrases(segment: dict[str, Any]) -> list[str]:
    """The words of the turn that the platform marked as the issue (``IssuesDetected[].CharacterOffsets``:
    ``Begin``/``End`` in Transcribe, ``BeginOffsetChar``/``EndOffsetChar`` in Contact Lens)."""
    content, issues = segment.get("Content"), segment.get("IssuesDetected")
    if not isinstance(content, str) or not isinstance(issues, list):
        return []
    phrases = []
    for issue in issues:
        offsets = dig(issue, "CharacterOffsets")
        begin = dig(offsets, "Begin") if dig(offsets, "Begin") is not None else dig(offsets, "BeginOffsetChar")
        end = dig(offsets, "End") if dig(offsets, "End") is not None else dig(offsets, "EndOffsetChar")
        if isinstance(begin, int) and isinstance(end, int) and 0 <= begin < end:
            phrases.append(content[begin:end])
    return phrases


def _absolute(entry: Any) -> datetime | None:
    try:
        return read_time(entry.get("AbsoluteTime")) if isinstance(entry, dict) else None
    except ValueError:
        return None


def _millis(moment: datetime, first: datetime | None) -> int:
    return max(0, int((moment - first).total_seconds() * 1000)) if first is not None else 0


def _talk_time(characteristics: Any) -> dict[str, Any] | None:
    by_participant = dig(characteristics, "TalkTime", "DetailsByParticipant")
    if not isinstance(by_participant, dict):
        return None
    return {role: dig(details, "TotalTimeMillis") for role, details in by_participant.items()} or None
