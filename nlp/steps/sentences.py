"""Segmentation: a turn's text → sentences (utterances) → tokens.

Chinese sentences end at 。！？；… (and their ASCII forms) or a newline. Long unpunctuated speech-recognition
text is cut at pauses (spaces), then before discourse markers (然后, 但是, 所以 …), then at a token boundary
once a piece reaches ``max_chars``. Chinese tokens come from jieba with the domain dictionary shipped in
``models/lexicon/userdict_zh.txt``; English sentences and tokens come from a blank spaCy pipeline with a
sentencizer (no model download).
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
