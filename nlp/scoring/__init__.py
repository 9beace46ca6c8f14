"""Scoring components behind two small interfaces, so trained models can replace the defaults.

- ``EmotionScorer.score(utterances) -> list[EmotionScore]``: one score per utterance, called with a batch.
- ``JourneyClassifier.classify(doc)``: sets stage, issue type and service step on a transcript's utterances.

Both carry ``name`` and ``version``; these go into the run log and into the fingerprint that decides whether
a stored transcript must be scored again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from nlp.document import AnalyzedTranscript, Utterance
from nlp.scoring.emotions import EmotionScore
from nlp.taxonomy import Taxonomy


class EmotionScorer(Protocol):
    name: str
    version: str

    def score(self, utterances: Sequence[Utterance]) -> list[EmotionScore]: ...


class JourneyClassifier(Protocol):
    name: str
    version: str

    def classify(self, doc: AnalyzedTranscript) -> None: ...


def load_emotion_scorer(spec: str) -> EmotionScorer:
    """The scorer named by ``spec``: ``lexicon`` (the built-in default)."""
    if spec == "lexicon":
        from nlp.scoring.lexicon_emotion import LexiconEmotionScorer

        return LexiconEmotionScorer()
    raise ValueError(f"unknown emotion scorer {spec!r}: available: lexicon")


def load_journey_classifier(taxonomy: Taxonomy, spec: str = "keyword") -> JourneyClassifier:
    """The classifier named by ``spec`` for ``taxonomy``: ``keyword`` (the built-in default)."""
    if spec == "keyword":
        from nlp.scoring.keyword_journey import KeywordJourneyClassifier

        return KeywordJourneyClassifier(taxonomy)
    raise ValueError(f"unknown journey classifier {spec!r}: available: keyword")
