"""The fast emotion scorer (``emotion_scorer: fast``): a hashed char/word n-gram linear model, no encoder at run time.

One linear layer maps hashed n-gram features to 12 logits: 3 sentiments (negative, neutral, positive) and the 9
fine emotions of ``FINE_EMOTIONS``. Features (``NgramFeaturizer``): the text NFKC-normalised and lower-cased, its
character 1–3-grams (Chinese and everything else) plus word 1–2-grams of Latin-letter words (English), hashed into
``n_features`` buckets (scikit-learn's ``HashingVectorizer``, MurmurHash3, no vocabulary to ship), counts → log(1 +
count) × idf, L2-normalised. One temperature per group, fitted on held-out training rows, makes the softmax
probabilities calibrated. ``models/emotion-fast`` is distilled from the v2 scorer (``nlp/steps/emotion/e5.py``);
``journeylens train-emotion`` writes directories in the same format.

English sentiment of the shipped model is blended with VADER: the n-gram student is weak on English sentiment
(TweetEval sentiment dev macro-F1 0.444, below VADER's 0.539), so for English texts its sentiment probabilities are
averaged 50/50 with VADER's polarity as a distribution (``vader_sentiment``), and the fine emotions lean the way
the blend moved positive vs negative (``follow_sentiment``). Measured
by ``scripts/eval_emotion.py`` (docs/emotion.md): 0.576 on TweetEval sentiment, above both parts, and the
share of factual MultiWOZ requests scored neutral unchanged. Chinese texts never see VADER. Routing the English
texts to the transformer model instead would score English emotions better but reads ~50 texts/s on 2 cores.
A user's ``fast:DIR`` model is its own: no blend (it may have been tuned on the user's English labels).

A model directory holds ``config.json`` (``format``: ``journeylens-emotion-ngram-1``, the featurizer settings,
temperatures, version) and ``model.safetensors`` (``weight`` n_features × 12 fp16, ``bias`` 12, ``idf``
n_features). No pickle.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from functools import cache, cached_property
from pathlib import Path

import numpy as np
import torch

from nlp.resources import models_dir
from nlp.schema.document import Utterance
from nlp.steps.emotion.labels import (
    COARSE_EMOTIONS,
    FINE_EMOTIONS,
    FINE_TO_COARSE,
    NEGATIVE_EMOTIONS,
    POSITIVE_EMOTIONS,
    EmotionScore,
)
from nlp.steps.sentences import detect_language

FORMAT = "journeylens-emotion-ngram-1"
SENTIMENTS = ("negative", "neutral", "positive")
N_OUTPUTS = 3 + len(FINE_EMOTIONS)
COARSE_GROUPS = [[FINE_EMOTIONS.index(f) for f in FINE_EMOTIONS if FINE_TO_COARSE[f] == c] for c in COARSE_EMOTIONS]


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower().strip()


class NgramFeaturizer:
    """Hashed char n-grams of every text plus word n-grams of Latin words, log-count × idf, L2-normalised."""

    WORD_PATTERN = r"(?u)\b[a-z][a-z']+\b"

    def __init__(self, n_features: int = 2 ** 18, char_ngrams: Sequence[int] = (1, 3),
                 word_ngrams: Sequence[int] = (1, 2)) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self.n_features = int(n_features)
        self.char_ngrams, self.word_ngrams = tuple(char_ngrams), tuple(word_ngrams)
        common = dict(n_features=self.n_features, alternate_sign=False, norm=None, lowercase=False,
                      dtype=np.float32)
        self._char = HashingVectorizer(analyzer="char", ngram_range=self.char_ngrams, **common)
        self._word = HashingVectorizer(analyzer="word", ngram_range=self.word_ngrams,
                                       token_pattern=self.WORD_PATTERN, **common)

    @property
    def settings(self) -> dict:
        return {"n_features": self.n_features, "char_ngrams": list(self.char_ngrams),
                "word_ngrams": list(self.word_ngrams)}

    def counts(self, texts: Sequence[str]):
        texts = [normalise(t) for t in texts]
        return (self._char.transform(texts) + self._word.transform(texts)).tocsr()

    def transform(self, texts: Sequence[str], idf: np.ndarray):
        x = self.counts(texts)
        x.sum_duplicates()
        x.data = (np.log1p(x.data) * idf[x.indices]).astype(np.float32)
        squares = np.add.reduceat(x.data ** 2, x.indptr[:-1]) if x.nnz else np.zeros(x.shape[0], np.float32)
        lengths = np.diff(x.indptr)
        norms = np.where(lengths > 0, np.sqrt(squares), 1.0).astype(np.float32)
        norms[norms == 0] = 1
        x.data /= np.repeat(norms, lengths)
        return x

    def fit_idf(self, texts: Sequence[str]) -> np.ndarray:
        x = self.counts(texts)
        df = np.bincount(x.indices, minlength=self.n_features).astype(np.float64)
        return (np.log((1 + x.shape[0]) / (1 + df)) + 1).astype(np.float32)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


def sharpen(p: torch.Tensor, temperature: float) -> torch.Tensor:
    """Probabilities raised to 1/T and renormalised (temperature scaling of log-probabilities)."""
    return torch.softmax(p.clamp_min(1e-12).log() / temperature, -1)


def coarse_probabilities(fine: torch.Tensor) -> torch.Tensor:
    return torch.stack([fine[:, g].sum(-1) for g in COARSE_GROUPS], -1)


def decide(sentiment: torch.Tensor, fine: torch.Tensor) -> list[EmotionScore]:
    """EmotionScores from sentiment (n×3) and fine-emotion (n×9) probabilities: sentiment = argmax, score =
    P(positive) − P(negative), coarse = argmax of the coarse sums, fine = the likeliest fine emotion inside it."""
    from nlp.steps.emotion.transformer import decide as transformer_decide

    return transformer_decide(sentiment, fine)


class NgramModel:
    """A model directory in the n-gram format: ``probabilities(texts)`` → (sentiment n×3, fine n×9)."""

    def __init__(self, directory: str | Path) -> None:
        from safetensors.numpy import load_file

        self.directory = Path(directory)
        config_path = self.directory / "config.json"
        if not config_path.exists():
            raise FileNotFoundError(f"{config_path} missing: not an n-gram emotion model directory")
        self.config = json.loads(config_path.read_text(encoding="utf-8"))
        if self.config.get("format") != FORMAT:
            raise ValueError(f"{self.directory}: format {self.config.get('format')!r} is not {FORMAT!r}")
        tensors = load_file(str(self.directory / "model.safetensors"))
        self.featurizer = NgramFeaturizer(**self.config["features"])
        self.weight = tensors["weight"].astype(np.float32)  # n_features × 12
        self.bias = tensors["bias"].astype(np.float32)
        self.idf = tensors["idf"].astype(np.float32)
        if self.weight.shape != (self.featurizer.n_features, N_OUTPUTS):
            raise ValueError(f"{self.directory}: weight shape {self.weight.shape} does not fit the features")
        temperatures = self.config.get("temperatures", {})
        self.t_sentiment = float(temperatures.get("sentiment", 1.0))
        self.t_emotion = float(temperatures.get("emotion", 1.0))
        self.version = str(self.config.get("version", "1"))

    def logits(self, texts: Sequence[str]) -> torch.Tensor:
        if not len(texts):
            return torch.zeros(0, N_OUTPUTS)
        x = self.featurizer.transform(texts, self.idf)
        return torch.from_numpy(np.asarray(x @ self.weight) + self.bias)

    def probabilities(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        if not len(texts):
            return torch.zeros(0, 3), torch.zeros(0, len(FINE_EMOTIONS))
        logits = np.asarray(self.featurizer.transform(texts, self.idf) @ self.weight) + self.bias
        # numpy, not torch: on the bulk pipeline's small batches torch's per-call overhead dominated (9 ms/call)
        return (torch.from_numpy(_softmax(logits[:, :3] / self.t_sentiment)),
                torch.from_numpy(_softmax(logits[:, 3:] / self.t_emotion)))

    @cached_property
    def metrics(self) -> dict | None:
        path = self.directory / "metrics.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def shipped_fast_dir() -> Path:
    return models_dir() / "emotion-fast"


@cache
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_sentiment(texts: Sequence[str]) -> torch.Tensor:
    """VADER's compound polarity c ∈ [−1, 1] of each text as a sentiment distribution (n×3): P(negative) =
    max(−c, 0), P(neutral) = 1 − |c|, P(positive) = max(c, 0), so P(positive) − P(negative) = c."""
    analyzer = _vader()
    c = torch.tensor([analyzer.polarity_scores(t)["compound"] for t in texts], dtype=torch.float32)
    return torch.stack([(-c).clamp_min(0), 1 - c.abs(), c.clamp_min(0)], -1)


def is_english(texts: Sequence[str], languages: Sequence[str] | None) -> list[bool]:
    """Per text: English? ``languages`` as the pipeline gives them (zh / en; anything else is detected)."""
    if languages is None:
        languages = ["auto"] * len(texts)
    return [(language if language in ("zh", "en") else detect_language(text or "")) == "en"
            for text, language in zip(texts, languages, strict=True)]


# the sentiment each fine emotion belongs to (index into SENTIMENTS): negative, neutral (also confusion, surprise)
# or positive
_FINE_POLARITY = torch.tensor([0 if e in NEGATIVE_EMOTIONS else 2 if e in POSITIVE_EMOTIONS else 1
                               for e in FINE_EMOTIONS])


def follow_sentiment(fine: torch.Tensor, own: torch.Tensor, blended: torch.Tensor) -> torch.Tensor:
    """Fine-emotion probabilities moved with what VADER's blend said about positive vs negative: each negative
    (positive) emotion's probability × P_blended(negative) / P_own(negative) (positive alike), the neutral ones
    unchanged, renormalised; so the emotions lean the way the blended sentiment does ("I am not happy at all": the
    model reads happy words, VADER the negation). Unchanged where the blend changed nothing. Measured on the
    English dev sets (docs/emotion.md): better on TweetEval emotion, GoEmotions and DailyDialog than the model's own
    emotions; moving the neutral ones too was worse on two of the three."""
    ratio = blended / own.clamp_min(1e-6)
    ratio[:, 1] = 1.0
    moved = fine * ratio[:, _FINE_POLARITY]
    return moved / moved.sum(dim=1, keepdim=True).clamp_min(1e-12)


class NgramEmotionScorer:
    """EmotionScorer over one n-gram model directory (default ``models/emotion-fast``), every language; with the
    shipped model (or ``english_vader=True``) English sentiment is averaged with VADER's (module docstring)."""

    name = "fast"

    def __init__(self, source: str | Path | None = None, batch_size: int = 4096,
                 english_vader: bool | None = None) -> None:
        self.source = Path(source) if source else shipped_fast_dir()
        self.model = NgramModel(self.source)
        self.batch_size = batch_size
        self.english_vader = source is None if english_vader is None else english_vader
        version = self.model.version if source is None else f"custom:{self.source.name}:{self.model.version}"
        self.version = f"{version}+en-vader-emotions" if self.english_vader else version

    def probabilities(self, texts: Sequence[str], languages: Sequence[str] | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sentiment (n×3) and fine-emotion (n×9) probabilities; English rows' sentiment blended with VADER's
        when ``english_vader`` (``languages``: zh / en per text, anything else or None: detected)."""
        parts = [self.model.probabilities(texts[i:i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        if not parts:
            return torch.zeros(0, 3), torch.zeros(0, len(FINE_EMOTIONS))
        sentiment, fine = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
        if self.english_vader:
            english = [i for i, yes in enumerate(is_english(texts, languages)) if yes]
            if english:
                own = sentiment[english]
                blended = (own + vader_sentiment([texts[i] for i in english])) / 2
                sentiment[english] = blended
                fine[english] = follow_sentiment(fine[english], own, blended)
        return sentiment, fine

    def score_texts(self, texts: Sequence[str], languages: Sequence[str] | None = None) -> list[EmotionScore]:
        """Scores for ``texts``; ``languages`` (zh / en / auto per text) says which are English."""
        texts = [t if t and t.strip() else "。" for t in texts]
        return decide(*self.probabilities(texts, languages))

    def score(self, utterances: Sequence[Utterance]) -> list[EmotionScore]:
        return self.score_texts([u.text for u in utterances], [u.language for u in utterances])

    @property
    def card(self) -> dict | None:
        return {self.source.name: self.model.metrics} if self.model.metrics else None
