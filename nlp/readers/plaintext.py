"""Plain-text transcripts (``.txt``): one file is one transcript.

Optional header lines at the top, ``# key: value``, set id, channel, started_at, customer_id, order_id,
business_line and language; other keys go to metadata. The id defaults to the file stem. Each turn line is an
optional timestamp (``[00:01:02]`` → start_ms; ``[2026-10-01 10:00:00]`` or any other time ``nlp.schema.timestamps``
reads → ts; the brackets may be left out when a space follows), a speaker prefix (a role synonym such as 客服,
客户, Agent, Customer, optionally numbered as in 客服01, or a label from ``speaker_map``) with ``：`` or ``:``,
then the text. A line without a prefix continues the previous turn (joined with a newline); text before the
first turn is kept in ``metadata["preamble"]``.

Exports label bot and system messages too: ``FAQ``, ``DM`` (bot answers) → bot and ``RULE`` (rule/system notices)
→ system, as in Meituan's customer-service export (``--speaker-map`` overrides). A masked line, a role label
followed by asterisks and no separator (``用户************``), is a turn of that role, not a continuation. A line
that starts with another upper-case label (``XYZ: …``) is not guessed: it is left out, counted per label in
``metadata["unknown_speaker_lines"]`` and named in a warning, so its text is never scored as someone else's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from nlp.readers.common import ReaderOptions, Record, rejected, resolve_role, split_speaker_prefix, validate
from nlp.readers.source import Source
from nlp.schema.timestamps import read_time
from nlp.schema.transcript import WARNINGS

TRANSCRIPT_FIELDS = ("id", "channel", "started_at", "customer_id", "order_id", "business_line", "language")
NO_TURNS = (
    "no turns found: expected lines like '客服：您好' or '[00:01:02] Customer: hi', whose speaker is a role "
    "(客户, 客服, 机器人, customer, agent, ...) or a label given in the speaker map"
)

_HEADER = re.compile(r"#\s*(?P<key>\w+)\s*[:：]\s*(?P<value>.*)")
_BRACKETED_STAMP = re.compile(r"\s*\[\s*(?P<stamp>[^\]]+?)\s*\]\s*(?P<rest>.*)", re.DOTALL)
_BARE_STAMP = re.compile(r"\s*(?P<stamp>\d{4}-\d{1,2}-\d{1,2}[ T][\d:.]+|[\d:.,]+)\s+(?P<rest>.*)", re.DOTALL)
# Bot and system labels of Chinese customer-service exports (Meituan: FAQ/DM answers, RULE notices).
EXPORT_LABELS = {"FAQ": "bot", "DM": "bot", "RULE": "system"}
_UNKNOWN_LABEL = re.compile(r"\s*(?P<label>[A-Z][A-Z0-9_]{1,15})\s*[:：]")
_MASKED = re.compile(r"\s*(?P<label>\S+?)\s*(?P<text>\*{3,})\s*")
_CLOCK = re.compile(r"(?:(?P<h>\d{1,2}):)?(?P<m>\d{1,2}):(?P<s>\d{2})(?:[.,](?P<frac>\d{1,3}))?")


def read_text(source: Source, options: ReaderOptions) -> Iterator[Record]:
    """The whole file as one transcript."""
    text = source.read_text()
    fields: dict[str, Any] = {"id": source.default_id}
    metadata: dict[str, Any] = {}
    preamble: list[str] = []
    turns: list[dict[str, Any]] = []
    speaker_map = {**EXPORT_LABELS, **options.speaker_map}
    unknown: Counter[str] = Counter()
    for line in text.splitlines():
        if not line.strip():
            continue
        header = _HEADER.fullmatch(line.strip()) if not turns else None
        turn = _turn(line, speaker_map)
        if header:
            key, value = header["key"].lower(), header["value"].strip()
            (fields if key in TRANSCRIPT_FIELDS else metadata)[key] = value
        elif turn is not None:
            turns.append(turn)
        elif label := _unknown_label(line):
            unknown[label] += 1
        elif turns:
            previous = turns[-1]
            previous["text"] = f"{previous['text']}\n{line.strip()}" if previous["text"] else line.strip()
        else:
            preamble.append(line.strip())
    if not turns:
        yield rejected(source.name, "file", NO_TURNS, text)
        return
    if preamble:
        metadata["preamble"] = "\n".join(preamble)
    if unknown:
        metadata["unknown_speaker_lines"] = dict(unknown)
        labels = ", ".join(f"{label} ({count})" for label, count in unknown.most_common())
        metadata[WARNINGS] = [
            f"{unknown.total()} line(s) with an unknown speaker label left out: {labels}; map them with "
            "--speaker-map LABEL=ROLE"
        ]
    data = {**fields, "metadata": metadata, "turns": turns}
    yield validate(data, source.name, "file", text, speaker_map)


def _turn(line: str, speaker_map: dict[str, str]) -> dict[str, Any] | None:
    """A turn from ``[timestamp] speaker: text``, or None when the line has no speaker prefix."""
    timing: dict[str, Any] = {}
    rest = line
    stamped = _BRACKETED_STAMP.fullmatch(line) or _BARE_STAMP.fullmatch(line)
    if stamped and (parsed := _timing(stamped["stamp"])):
        timing, rest = parsed, stamped["rest"]
    split = split_speaker_prefix(rest, speaker_map)
    if split is None and (masked := _MASKED.fullmatch(rest)) and resolve_role(masked["label"], speaker_map):
        split = masked["label"], masked["text"]
    if split is None:
        return None
    label, text = split
    return {"speaker": label, "text": text, **timing}


def _unknown_label(line: str) -> str | None:
    """The label of a line that starts like a speaker's (``XYZ: …``) but names no known role."""
    stamped = _BRACKETED_STAMP.fullmatch(line)
    match = _UNKNOWN_LABEL.match(stamped["rest"] if stamped else line)
    return match["label"] if match else None


def _timing(stamp: str) -> dict[str, Any] | None:
    """``01:02`` / ``00:01:02.5`` → ``{"start_ms": ...}``; ``2026-10-01 10:00:00`` → ``{"ts": ...}``; else None."""
    if clock := _CLOCK.fullmatch(stamp):
        hours, minutes, seconds = int(clock["h"] or 0), int(clock["m"]), int(clock["s"])
        millis = int((clock["frac"] or "0").ljust(3, "0"))
        return {"start_ms": ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis}
    try:
        return {"ts": read_time(stamp)}
    except ValueError:
        return None
