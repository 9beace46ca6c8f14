"""Segmentation: a turn's text → sentences (utterances) → tokens.

Chinese sentences end at 。！？；… (and their ASCII forms) or a newline. Long unpunctuated speech-recognition
text is cut at pauses (spaces), then before discourse markers (然后, 但是, 所以 …), then at a token boundary
once a piece reaches ``max_chars``. ``clause_spans`` cuts a long sentence further into clauses (the journey-stage
step uses it where one sentence names several stages: nlp/steps/clauses.py). Chinese tokens come from jieba with
the domain dictionary shipped in ``models/lexicon/userdict_zh.txt``; English sentences and tokens come from a
blank spaCy pipeline with a sentencizer (no model download).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import jieba
import spacy

from nlp.resources import model_path

_ZH_SENTENCE_END = re.compile(r"(?<=[。！？；!?;…~～])(?![。！？；!?;…~～”’」』）)])|\n+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_DISCOURSE_MARKERS = frozenset(
    {"然后", "但是", "可是", "不过", "所以", "而且", "还有", "另外", "结果", "因为", "就是说", "那么", "那个", "其实"}
)


# Clause boundaries: after a Chinese comma, semicolon, enumeration comma or sentence end; before a contrast or
# addition marker; in English after a sentence end or ";", before "but", "and also", "also", "however".
_ZH_CLAUSE_END = re.compile(r"[，,；;、。！？!?…~～]+|\n+")
_ZH_CLAUSE_START = re.compile("但是|不过|可是|而且|另外|还有")
_EN_CLAUSE_END = re.compile(r"[.!?;]+(?=\s)|;|\n+")
_EN_CLAUSE_START = re.compile(r"(?<=\s)(?:but|and also|also|however)\b", re.IGNORECASE)
_CONTENT_ZH = re.compile(r"[\u3400-\u9fff\uf900-\ufaffA-Za-z0-9]")
_WORD = re.compile(r"[A-Za-z0-9']+")
CLAUSE_MIN = {"zh": 4, "en": 3}  # content characters (zh) / words (en) a clause needs to stand alone
CLAUSE_MIN_SENTENCE = {"zh": 10, "en": 8}  # … and a text to be cut at all: short utterances stay whole


def _content(text: str, language: str) -> int:
    return len(_CONTENT_ZH.findall(text)) if language == "zh" else len(_WORD.findall(text))


def clause_spans(text: str, language: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the clauses of ``text``; the whole text when it is short or no cut leaves
    two pieces long enough to carry content. A short piece joins a neighbour: the clause before it when it ends
    with punctuation ("退款到账了，谢谢，" ends a thought), else the clause after it ("I" before "also need a
    train"), and the first piece always the next one."""
    language = "zh" if language == "zh" else "en"
    whole = [(0, len(text))]
    if _content(text, language) < CLAUSE_MIN_SENTENCE[language]:
        return whole
    ends, starts = (_ZH_CLAUSE_END, _ZH_CLAUSE_START) if language == "zh" else (_EN_CLAUSE_END, _EN_CLAUSE_START)
    cuts = sorted({m.end() for m in ends.finditer(text)} | {m.start() for m in starts.finditer(text)} - {0})
    merged: list[list[int]] = []
    carry: int | None = None  # start of short pieces waiting for the next clause
    for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True):
        piece = text[start:end]
        if not piece.strip():
            continue
        start, end = start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())
        if carry is not None:
            start, carry = carry, None
        if _content(text[start:end], language) >= CLAUSE_MIN[language]:
            merged.append([start, end])
        elif merged and not text[end - 1].isalnum():
            merged[-1][1] = end
        else:
            carry = start
    if carry is not None and merged:
        merged[-1][1] = len(text.rstrip())
    return [(start, end) for start, end in merged] if len(merged) > 1 else whole


def detect_language(text: str) -> str:
    """``zh`` when Chinese characters make up at least a fifth of the letters, else ``en``."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return "zh" if cjk and cjk * 5 >= cjk + latin / 4 else "en"


@dataclass(frozen=True)
class Sentence:
    """One utterance: a sentence of a turn with its tokens."""

    text: str
    tokens: tuple[str, ...]


SPACY_CHUNK_CHARS = 100_000  # spaCy refuses texts over its max_length (1,000,000): long turns go in pieces


def _chunks(text: str, size: int = SPACY_CHUNK_CHARS) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, cut after whitespace where there is some."""
    pieces = []
    while len(text) > size:
        cut = max(text.rfind(" ", 0, size), text.rfind("\n", 0, size)) + 1 or size
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text]


class Segmenter:
    """Split turn text into sentences and tokens, Chinese with jieba, English with spaCy."""

    def __init__(self, max_chars: int = 40, min_chars: int = 8) -> None:
        self.max_chars = max_chars
        self.min_chars = min_chars

    @cached_property
    def _jieba(self) -> jieba.Tokenizer:
        tokenizer = jieba.Tokenizer()
        tokenizer.load_userdict(str(model_path("lexicon", "userdict_zh.txt")))
        return tokenizer

    @cached_property
    def _spacy(self) -> spacy.language.Language:
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        return nlp

    def tokens(self, text: str, language: str) -> tuple[str, ...]:
        if language == "zh":
            return tuple(t for t in self._jieba.cut(text) if t.strip())
        return tuple(t.lower_ for chunk in _chunks(text) for t in self._spacy.make_doc(chunk) if not t.is_space)

    def split(self, text: str, language: str) -> list[Sentence]:
        """Sentences of ``text`` with their tokens; empty text gives no sentence."""
        if language == "zh":
            return [s for piece in _ZH_SENTENCE_END.split(text) for s in self._split_zh_piece(piece.strip())]
        return [
            Sentence(sent.text.strip(), tuple(t.lower_ for t in sent if not t.is_space))
            for chunk in _chunks(text)
            for sent in self._spacy(chunk).sents
            if sent.text.strip()
        ]

    def _split_zh_piece(self, piece: str) -> list[Sentence]:
        if not piece:
            return []
        if len(piece) <= self.max_chars:
            return [Sentence(piece, self.tokens(piece, "zh"))]
        if " " in piece:  # speech recognition marks pauses with spaces
            return [s for part in piece.split(" ") for s in self._split_zh_piece(part.strip())]
        sentences: list[Sentence] = []
        current: list[str] = []
        length = 0
        for token in self.tokens(piece, "zh"):
            at_marker = token in _DISCOURSE_MARKERS and length >= self.min_chars
            if current and (at_marker or length + len(token) > self.max_chars):
                sentences.append(Sentence("".join(current), tuple(current)))
                current, length = [], 0
            current.append(token)
            length += len(token)
        if current:
            sentences.append(Sentence("".join(current), tuple(current)))
        return sentences
