"""Promise detection: time-bound commitments made to the customer, with their deadlines.

A promise is a commitment by an agent, bot or third party with a time in it ("24小时内给您回电", "明天给您送过去",
"退款明天中午之前一定到账", "稍后联系您", "we will call you back within 24 hours"). Its deadline is read from
the time expression relative to when it was said, in the contact's own time zone (the business time zone
when the transcript's times carry none). Promise sentences of one turn are one promise (a fallback such as
"要是没货，那就后天" sets ``fallback``); promises of one contact due the same day are one promise (an agent
repeating the installer's word). Whether a later contact shows a promise broken is analytics
(``nlp.analytics.promises``): it needs the other contacts of the journey.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from nlp.schema.document import AnalyzedTranscript, Promise

_NUM = r"(\d+|[一二两三四五六七八九十半]+)"
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ACTION = (r"给您|帮您|为您|替您|联系您|通知您|回电|回复|答复|回访|到账|退回|退还|送到|送过去|送来|送货|上门|处理|"
           r"确认|发放|发到|补发|安排|跟进|催|(?i:call you|get back|email you|refund|deliver|arrive|send|contact you)")
_COMMIT = re.compile(rf"(会|将|一定|保证|肯定|马上|尽快|稍后|负责|(?i:we will|we'll|i will|i'll|will be))|{_ACTION}")
_ACTION_RE = re.compile(_ACTION)
_RELATIVE = [  # (pattern, unit) for "within N units"
    (re.compile(rf"{_NUM}\s*(个)?(半)?\s*(小时|钟头)(之内|以内|内)"), "hours"),
    (re.compile(rf"{_NUM}\s*分钟(之内|以内|内)"), "minutes"),
    (re.compile(rf"{_NUM}\s*(个)?(工作日|天)(之内|以内|内)"), "days"),
    (re.compile(r"(?i)within\s+(\d+)\s+(business\s+)?(hours?|minutes?|days?)"), "english"),
]
_PARTS = [(re.compile(r"上午|早上|早晨|明早|中午|十二点|12点|午饭前"), 12),
          (re.compile(r"下午|傍晚|六点|6点"), 18), (re.compile(r"今晚|晚上|明晚|tonight|evening"), 22)]
_DAYS = [(re.compile(r"后天|(?i:day after tomorrow)"), 2), (re.compile(r"明天|明日|明早|明晚|(?i:tomorrow)"), 1),
         (re.compile(r"今天(之内|以内|内|会|就|一定|晚上|下午|中午|下班)|今日内|今晚|当天|(?i:today|tonight)"), 0)]
_VAGUE = re.compile(r"稍后|尽快|晚点|回头|待会|(?i:shortly|as soon as possible|later today)")
_CALLBACK = re.compile(r"联系您|给您回|回电|回复您|通知您|答复|回访|(?i:call you|get back to you|contact you|email)")
_QUESTION = re.compile(r"[?？]\s*$|^请问|吗[?？。]?\s*$")
_PAST = re.compile(r"是(今天|昨天|前天|刚才).{0,10}的|已经到账")


def _number(text: str) -> float:
    if text.isdigit():
        return float(text)
    if text == "半":
        return 0.5
    if text.startswith("十"):
        return 10 + _CN_DIGITS.get(text[1:], 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(ones, 0)
    return float(_CN_DIGITS.get(text, 1))


def deadline(text: str, said_at: datetime, vague_hours: float) -> datetime | None:
    """When a commitment in ``text`` said at local time ``said_at`` falls due, or None if it is not one."""
    if _QUESTION.search(text) or _PAST.search(text) or not _COMMIT.search(text):
        return None
    for pattern, unit in _RELATIVE:
        match = pattern.search(text)
        if not match:
            continue
        if unit == "english":
            amount, unit = float(match.group(1)), match.group(3).rstrip("s") + "s"
        else:
            amount = _number(match.group(1)) + (0.5 if unit == "hours" and match.group(3) else 0)
        return said_at + timedelta(**{unit: amount})
    for pattern, days in _DAYS:
        if pattern.search(text) and _ACTION_RE.search(text):
            day = said_at.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=days)
            hour = next((h for part, h in _PARTS if part.search(text) and ("前" in text or "before" in text)), None)
            due = day + (timedelta(hours=hour) if hour else timedelta(hours=23, minutes=59))
            return due if due > said_at else said_at + timedelta(hours=vague_hours)
    if _VAGUE.search(text) and _CALLBACK.search(text):
        return said_at + timedelta(hours=vague_hours)
    return None


SPEAKERS = frozenset({"agent", "bot", "third_party"})


def detect_promises(doc: AnalyzedTranscript, timezone: str, vague_hours: float = 4.0) -> list[Promise]:
    """The promises of one analyzed transcript; times in the returned promises are time-zone aware."""
    started = doc.transcript.started_at
    zone = started.tzinfo if started and started.tzinfo else ZoneInfo(timezone)
    by_turn: dict[int, Promise] = {}
    for utterance in doc.utterances:
        if utterance.speaker not in SPEAKERS:
            continue
        said_at = utterance.ts or (started + timedelta(milliseconds=utterance.start_ms or 0) if started else None)
        if said_at is None:
            continue
        said_at = said_at.replace(tzinfo=zone) if said_at.tzinfo is None else said_at.astimezone(zone)
        due = deadline(utterance.text, said_at, vague_hours)
        if due is None:
            continue
        promise = by_turn.get(utterance.turn_index)
        if promise is None:
            by_turn[utterance.turn_index] = Promise(utterance.turn_index, utterance.speaker, utterance.speaker_label,
                                                    utterance.text, said_at, due)
        else:
            promise.text += utterance.text
            promise.fallback = max(promise.fallback or promise.deadline, due)
            promise.deadline = min(promise.deadline, due)
    by_day: dict[object, Promise] = {}
    for promise in by_turn.values():
        first = by_day.setdefault(promise.deadline.date(), promise)
        if first is not promise:
            first.deadline = min(first.deadline, promise.deadline)
            if promise.fallback:
                first.fallback = max(first.fallback or first.deadline, promise.fallback)
    return list(by_day.values())
