"""WebVTT (``.vtt``) and SubRip (``.srt``) files from speech recognition: one file is one transcript.

Id: the file stem. Each cue is one turn; its timing gives ``start_ms``/``end_ms``. The speaker comes from a
``<v Speaker Name>`` voice tag, else from a leading ``Name: `` / ``客服：`` in the cue text; a cue with
neither continues the previous cue's speaker.

Speaker labels that are a role (客服, Customer, ...) or a key of ``speaker_map`` get that role. Diarised
labels that say nothing about the role ("Speaker 1", "spk_0", "SPEAKER_00") are not rejected: following the
common contact-centre convention that the agent opens the call, the first such label to speak becomes
``agent`` and every other one ``customer`` (all of them ``customer`` when another label already names the
agent). The original label stays in ``speaker_label`` and the transcript gets
``metadata["speaker_roles_guessed"] = True``; pass a speaker map to set the roles instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from nlp.readers.common import ReaderOptions, Record, rejected, resolve_role, split_speaker_prefix, validate
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
        if label is None and (split := split_speaker_prefix(body, options.speaker_map, anonymous=True)):
            label, body = split
        if label is None and not turns:
            reason = (
                f"cue {number} ({caption.start}) has no speaker: start a speaker's cues with a <v Name> "
                "voice tag or with 'Name: '"
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
    guessed = _guess_roles(turns, options.speaker_map)
    data = {"id": source.default_id, "metadata": {"speaker_roles_guessed": True} if guessed else {}, "turns": turns}
    yield validate(data, source.name, "file", text, options.speaker_map)


def _guess_roles(turns: list[dict[str, Any]], speaker_map: dict[str, str]) -> bool:
    """Set each turn's speaker: its label's role, or the agent-speaks-first guess; True if any was guessed."""
    known = {turn["speaker_label"]: resolve_role(turn["speaker_label"], speaker_map) for turn in turns}
    agent_known = "agent" in known.values()
    guesses: dict[str, str] = {}
    for turn in turns:
        label = turn["speaker_label"]
        if known[label] is not None:
            turn["speaker"] = label
            del turn["speaker_label"]  # validate() keeps it where it differs from the role
        else:
            turn["speaker"] = guesses.setdefault(label, "customer" if guesses or agent_known else "agent")
    return bool(guesses)
