"""WebVTT (``.vtt``) and SubRip (``.srt``) files from speech recognition: one file is one transcript.

Id: the file stem. Each cue is one turn; its timing gives ``start_ms``/``end_ms``. The speaker comes from a
``<v Speaker Name>`` voice tag, else from a leading ``Name: `` / ``客服：`` in the cue text; a cue with
neither continues the previous cue's speaker.

Diarising tools (WhisperX, pyannote pipelines) write the label in brackets: ``[SPEAKER_01]: text``; the label is
read without its brackets, so ``--speaker-map SPEAKER_01=agent`` (or ``[SPEAKER_01]=agent``) matches it.

Speaker labels that are a role (客服, Customer, ...) or a key of ``speaker_map`` get that role. Diarised labels
that say nothing about the role ("Speaker 1", "spk_0", "SPEAKER_00") are not guessed unless asked
(``ReaderOptions.guess_speakers``, ``--guess-speakers``): without it the file is rejected with a hint naming the
labels. With it, the agent is the anonymous label whose cues greet and offer help most ("您好", "请问有什么可以帮您",
"thank you for calling", "how can I help" ...) net of customer phrases ("我想", "退款", "my order" ...); when no label
greets or offers help, the first to speak. Every other anonymous label is a customer (all of them when another
label already names the agent). The original label stays in ``speaker_label``; the transcript gets
``metadata["speaker_roles_guessed"] = True`` and ``metadata["speaker_guess"]``, a sentence saying how.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from nlp.readers.common import (
    ReaderOptions,
    Record,
    is_anonymous_speaker,
    rejected,
    resolve_role,
    split_speaker_prefix,
    validate,
)
from nlp.readers.source import Source

FORMAT_NAMES = {"vtt": "WebVTT", "srt": "SRT"}


def read_subtitles(source: Source, options: ReaderOptions, kind: str) -> Iterator[Record]:
    """Read a ``kind`` ("vtt" or "srt") file as one transcript."""
    text = source.read_text()
    try:
        captions = webvtt.WebVTT.from_buffer(text.lstrip().splitlines(), format=kind).captions
    except (MalformedFileError, MalformedCaptionError) as error:
        reason = f"not a valid {FORMAT_NAMES[kind]} file: {error}; check the file or pass --format"
        yield rejected(source.name, "file", reason, text)
        return
    if not captions:
        yield rejected(source.name, "file", f"no cues found in this {FORMAT_NAMES[kind]} file", text)
        return
    turns: list[dict[str, Any]] = []
    for number, caption in enumerate(captions, start=1):
        label, body = caption.voice, caption.text.strip()
        if label is None and (split := _bracketed_label(body, options.speaker_map)):
            label, body = split
        if label is None and (split := split_speaker_prefix(body, options.speaker_map, anonymous=True)):
            label, body = split
        if label is None and not turns:
            reason = (
                f"cue {number} ({caption.start}) has no speaker: start a speaker's cues with a <v Name> "
                "voice tag, with 'Name: ' or with '[SPEAKER_00]: '"
            )
            yield rejected(source.name, "file", reason, text)
            return
        label = label.strip() if label is not None else turns[-1]["speaker_label"]
        turns.append(
            {
                "speaker_label": label,
                "text": body,
                "start_ms": caption.start_time.in_milliseconds(),
                "end_ms": caption.end_time.in_milliseconds(),
            }
        )
    labels = {turn["speaker_label"] for turn in turns}
    anonymous = sorted(label for label in labels if resolve_role(label, options.speaker_map) is None)
    if anonymous and not options.guess_speakers:
        shown = ", ".join(anonymous[:4]) + (" …" if len(anonymous) > 4 else "")
        reason = (
            f"speakers {shown} name no role: give their roles with --speaker-map {anonymous[0]}=agent (repeatable), "
            "or pass --guess-speakers to tell agent from customer by what they say"
        )
        yield rejected(source.name, "file", reason, text)
        return
    guess = _guess_roles(turns, options.speaker_map)
    metadata = {"speaker_roles_guessed": True, "speaker_guess": guess} if guess else {}
    data = {"id": source.default_id, "metadata": metadata, "turns": turns}
    yield validate(data, source.name, "file", text, options.speaker_map)


# What an agent says when opening or serving (greets, names the service, offers help), and what a customer says.
AGENT_CUES = (
    "您好", "你好", "这里是", "请问有什么可以帮", "有什么可以帮", "很高兴为您服务", "为您服务", "感谢您的来电",
    "感谢来电", "为您", "帮您", "工号", "thank you for calling", "thanks for calling", "how can i help",
    "how may i help", "how can i assist", "welcome to", "my name is", "help you", "assist you",
)
CUSTOMER_CUES = (
    "我想", "我要", "我的订单", "我的", "投诉", "退款", "为什么", "怎么还", "i want", "i'd like", "i would like",
    "my order", "my account", "i need", "refund", "why",
)
_BRACKETED = re.compile(r"\[(?P<label>[^\[\]]{1,40})\]\s*[:：]?\s*(?P<text>.*)", re.DOTALL)


def _bracketed_label(body: str, speaker_map: dict[str, str]) -> tuple[str, str] | None:
    """``[SPEAKER_01]: text`` → ``("SPEAKER_01", "text")`` when the bracketed label is a speaker (anonymous, a
    role or mapped), so a bracketed sound tag such as ``[Music]`` stays text."""
    match = _BRACKETED.fullmatch(body)
    if match is None:
        return None
    label = match["label"].strip()
    if resolve_role(label, speaker_map) is None and not is_anonymous_speaker(label):
        return None
    return label, match["text"].strip()


def _guess_roles(turns: list[dict[str, Any]], speaker_map: dict[str, str]) -> str | None:
    """Set each turn's speaker: its label's role, or the guess; how the guess was made, or None if none was."""
    known = {turn["speaker_label"]: resolve_role(turn["speaker_label"], speaker_map) for turn in turns}
    anonymous = list(dict.fromkeys(label for label, role in known.items() if role is None))  # in speaking order
    if not anonymous:
        for turn in turns:
            turn["speaker"] = turn.pop("speaker_label")  # validate() keeps the label where it differs from the role
        return None
    if "agent" in known.values():
        agent, how = None, "another label names the agent, so every anonymous label is taken as a customer"
    else:
        scores = {label: _cue_score(turns, label) for label in anonymous}
        best = max(anonymous, key=lambda label: scores[label][0])  # max keeps the first to speak on a tie
        if scores[best][0] > 0:
            agent = best
            how = (f"{best} taken as the agent: it greets or offers help most ({', '.join(scores[best][1][:4])}); "
                   "the other anonymous labels as customers")
        else:
            agent = anonymous[0]
            how = (f"no anonymous label greets or offers help; {agent}, the first to speak, taken as the agent and "
                   "the others as customers")
    for turn in turns:
        label = turn["speaker_label"]
        if known[label] is not None:
            turn["speaker"] = turn.pop("speaker_label")
        else:
            turn["speaker"] = "agent" if label == agent else "customer"
    return f"guessed from what they say (--guess-speakers): {how}"


def _cue_score(turns: list[dict[str, Any]], label: str) -> tuple[int, list[str]]:
    """Agent phrases minus customer phrases in ``label``'s cues, and the agent phrases found."""
    text = " ".join(turn["text"] for turn in turns if turn["speaker_label"] == label).lower()
    found = [cue for cue in AGENT_CUES if cue in text]
    return len(found) - sum(cue in text for cue in CUSTOMER_CUES), found
