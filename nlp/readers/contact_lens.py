"""Amazon Connect Contact Lens analysis files (one contact per JSON file).

Speakers: each ``Transcript`` segment's ``ParticipantId`` is looked up in ``Participants`` and its
``ParticipantRole`` (AGENT, CUSTOMER, ...) becomes the speaker. Id: ``CustomerMetadata.ContactId``, else the
file stem. Times: ``BeginOffsetMillis``/``EndOffsetMillis`` → ``start_ms``/``end_ms``. ``Channel`` VOICE →
call, CHAT → chat (default call); ``LanguageCode`` zh-CN → zh, en-US → en. Per-segment ``Sentiment`` and
``IssuesDetected`` go to turn metadata; the conversation's sentiment, talk time, non-talk time, interruptions,
duration and matched categories go to transcript metadata.
"""

from __future__ import annotations

from typing import Any

from nlp.readers.common import dig, keep_present, language_from_code


def is_contact_lens(data: Any) -> bool:
    """Contact Lens output always carries both ``Transcript`` and ``Participants``."""
    return isinstance(dig(data, "Transcript"), list) and isinstance(dig(data, "Participants"), list)


def contact_lens_transcript(data: dict[str, Any], default_id: str) -> dict[str, Any]:
    """The canonical transcript dict for one Contact Lens analysis."""
    roles = {
        str(participant.get("ParticipantId")): participant.get("ParticipantRole")
        for participant in data["Participants"]
        if isinstance(participant, dict)
    }
    turns = [_turn(segment, roles) for segment in data["Transcript"]]
    characteristics = data.get("ConversationCharacteristics")
    language_code = data.get("LanguageCode")
    return {
        "id": dig(data, "CustomerMetadata", "ContactId") or default_id,
        "channel": data.get("Channel") or "call",
        "language": language_from_code(language_code) or "auto",
        "metadata": keep_present(
            {
                "source_format": "contact_lens",
                "language_code": language_code,
                "overall_sentiment": dig(characteristics, "Sentiment", "OverallSentiment"),
                "sentiment_by_quarter": dig(characteristics, "Sentiment", "SentimentByPeriod", "QUARTER"),
                "talk_time_ms": _talk_time(characteristics),
                "non_talk_time_ms": dig(characteristics, "NonTalkTime", "TotalTimeMillis"),
                "interruptions": dig(characteristics, "Interruptions", "TotalCount"),
                "duration_ms": dig(characteristics, "TotalConversationDurationMillis"),
                "categories": dig(data, "Categories", "MatchedCategories") or None,
            }
        ),
        "turns": turns,
    }


def _turn(segment: Any, roles: dict[str, Any]) -> Any:
    if not isinstance(segment, dict):
        return segment  # the model rejects it, naming the turn
    participant = str(segment.get("ParticipantId"))
    role = roles.get(participant) or participant
    metadata = {
        "sentiment": segment.get("Sentiment"),
        "issues_detected": segment.get("IssuesDetected") or None,
        "participant_id": participant if participant.lower() != str(role).lower() else None,
    }
    return keep_present(
        {
            "speaker": role,
            "text": segment.get("Content"),
            "start_ms": segment.get("BeginOffsetMillis"),
            "end_ms": segment.get("EndOffsetMillis"),
            "metadata": keep_present(metadata),
        }
    )


def _talk_time(characteristics: Any) -> dict[str, Any] | None:
    by_participant = dig(characteristics, "TalkTime", "DetailsByParticipant")
    if not isinstance(by_participant, dict):
        return None
    return {role: dig(details, "TotalTimeMillis") for role, details in by_participant.items()} or None
