"""A second, plain-Python evaluation of categories, written from docs/categories.md and independent of the SQL
compiler: the property test checks that the compiled query implements the documented semantics."""

from __future__ import annotations

import re

from nlp.categories import CategorySet
from nlp.categories.model import Condition
from nlp.schema.document import AnalyzedTranscript
from nlp.steps.normalize import normalize_text

_SEPARATOR_RANGES = [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E),
                     (0xA0, 0xBF), (0x2000, 0x206F), (0x3000, 0x303F), (0xFE30, 0xFE4F), (0xFF01, 0xFF0F),
                     (0xFF1A, 0xFF20), (0xFF3B, 0xFF40), (0xFF5B, 0xFF65)]


def _separator(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in _SEPARATOR_RANGES)


def tokens(text: str) -> list[str]:
    """Runs of ASCII letters/digits, or one other non-separator character, of the lower-cased text."""
    out, run = [], ""
    for ch in text.lower():
        if ch.isascii() and (ch.isdigit() or "a" <= ch <= "z"):
            run += ch
            continue
        if run:
            out.append(run)
            run = ""
        if not _separator(ch):
            out.append(ch)
    if run:
        out.append(run)
    return out


def _starts(haystack: list[str], needle: list[str]) -> list[int]:
    return [i for i in range(len(haystack) - len(needle) + 1) if haystack[i:i + len(needle)] == needle]


class _Contact:
    def __init__(self, doc: AnalyzedTranscript) -> None:
        self.doc, self.u = doc, doc.utterances
        self.toks = [tokens(u.text) for u in self.u]
        self.gap = []
        for i, u in enumerate(self.u):
            prev = self.u[i - 1] if i else None
            ok = u.sentence_index == 0 and prev is not None and u.start_ms is not None and prev.end_ms is not None
            self.gap.append(u.start_ms - prev.end_ms if ok else None)

    def share(self, speaker: str) -> float | None:
        turns = [u for u in self.u if u.sentence_index == 0 and u.start_ms is not None and u.end_ms is not None]
        total = sum(u.end_ms - u.start_ms for u in turns)
        if not turns or total == 0:
            return None
        return sum(u.end_ms - u.start_ms for u in turns if u.speaker == speaker) / total

    def row(self, c: Condition, i: int) -> bool:
        u, op = self.u[i], c.operator
        if op == "all":
            return all(self.row(x, i) for x in c.all)
        if op == "any":
            return any(self.row(x, i) for x in c.any)
        if op == "not_":
            return not self.row(c.not_, i)
        if op in ("speaker", "sentiment", "emotion", "emotion_coarse", "stage", "issue_type", "service_step",
                  "language"):
            return getattr(u, op) in getattr(c, op)
        if op in ("channel", "business_line"):
            return getattr(self.doc.transcript, op) in getattr(c, op)
        if op in ("sentiment_score", "emotion_confidence", "stage_confidence"):
            return _within(getattr(u, op), getattr(c, op))
        if op == "metadata":
            meta = self.doc.transcript.metadata
            return all(isinstance(meta.get(k), str) and meta[k] in v for k, v in c.metadata.items())
        if op == "phrases":
            wanted = [tokens(normalize_text(p)) for p in c.phrases.phrases]
            found = [bool(_starts(self.toks[i], w)) for w in wanted]
            if c.phrases.any is not None:
                return any(found)
            if not all(found) or c.phrases.near is None:
                return all(found)
            (a, b), n = wanted, c.phrases.near
            return any((j >= p + len(a) and j - p - len(a) <= n) or (p >= j + len(b) and p - j - len(b) <= n)
                       for p in _starts(self.toks[i], a) for j in _starts(self.toks[i], b))
        if op == "regex":
            return re.search(c.regex, u.text) is not None
        if op == "position":
            p, n = c.position, len(self.u)
            if p.first is not None:
                return i < p.first
            if p.last is not None:
                return i >= n - p.last
            return 4 * i < n if p.quarter == "first" else 4 * (n - 1 - i) < n
        if op == "silence_before":
            return self.gap[i] is not None and _within(self.gap[i] / 1000.0, c.silence_before)
        if op == "interrupts":
            return self.gap[i] is not None and self.gap[i] < 0 and self.u[i - 1].speaker != u.speaker
        if op == "talk_share":
            share = self.share(c.talk_share.speaker)
            return share is not None and _within(share, c.talk_share)
        if op == "repeated":
            inner = c.repeated.when
            return self.row(inner, i) and sum(self.row(inner, k) for k in range(len(self.u))) >= c.repeated.times
        raise AssertionError(op)

    def contact(self, c: Condition) -> bool:
        op = c.operator
        if op == "all":
            return all(self.contact(x) for x in c.all)
        if op == "any":
            return any(self.contact(x) for x in c.any)
        if op == "not_":
            return not self.contact(c.not_)
        inner = c.utterance if op == "utterance" else c
        return any(self.row(inner, i) for i in range(len(self.u)))

    def evidence(self, c: Condition, i: int) -> bool:
        op = c.operator
        if op in ("all", "any"):
            return any(self.evidence(x, i) for x in (c.all or c.any))
        if op == "not_":
            return False
        if op == "utterance":
            return self.row(c.utterance, i)
        return op in ("phrases", "regex", "repeated", "silence_before", "interrupts") and self.row(c, i)


def _within(value: float | None, bounds) -> bool:
    if value is None:
        return False
    return (bounds.min is None or value >= bounds.min) and (bounds.max is None or value <= bounds.max)


def reference_matches(docs: list[AnalyzedTranscript], categories: CategorySet) -> set[tuple]:
    found = set()
    for doc in docs:
        contact = _Contact(doc)
        tid = doc.transcript.id
        for category in categories.categories:
            if category.level == "utterance":
                found |= {(tid, category.id, "utterance", i, u.text) for i, u in enumerate(doc.utterances)
                          if contact.row(category.when, i)}
                continue
            if not doc.utterances or not contact.contact(category.when):
                continue
            shown = {(tid, category.id, "contact", i, u.text) for i, u in enumerate(doc.utterances)
                     if contact.evidence(category.when, i)}
            found |= shown or {(tid, category.id, "contact", None, None)}
    return found
