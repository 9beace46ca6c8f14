"""Trained stage heads: a logistic regression over the few-shot features, learnt from labelled or self-labelled
utterances (``journeylens train-stages``, ``analyze --adapt``), and its files next to the taxonomy
(``<taxonomy>.stages.safetensors`` + ``.json``). The few-shot classifier (fewshot.py) blends its probabilities
with the taxonomy similarities."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from nlp.schema.taxonomy import Taxonomy
from nlp.steps.stages.features import Featurizer

OTHER = "other"


@dataclass
class TrainedHead:
    """A logistic-regression head over ``Featurizer`` features, trained by ``train_stage_model``."""

    classes: list[str]
    vocabulary: list[str]
    coef: np.ndarray  # (classes, vocabulary)
    intercept: np.ndarray  # (classes,)
    prior: np.ndarray  # class frequencies in training
    switch_prob: float | None = None
    meta: dict = field(default_factory=dict)

    @cached_property
    def featurizer(self) -> Featurizer:
        return Featurizer(self.vocabulary)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        logits = self.featurizer.transform(texts) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.coef.tobytes() + json.dumps(self.classes).encode()).hexdigest()[:12]


# -- trained heads: files next to the taxonomy -------------------------------------------------------------
def head_paths(taxonomy_file: Path) -> tuple[Path, Path]:
    """Where ``train-stages`` saves the model of a taxonomy file: ``<name>.stages.safetensors`` and ``.json``."""
    stem = taxonomy_file.with_suffix("")
    return stem.with_name(stem.name + ".stages.safetensors"), stem.with_name(stem.name + ".stages.json")


def save_head(head: TrainedHead, taxonomy_file: Path) -> tuple[Path, Path]:
    from safetensors.numpy import save_file

    weights_path, meta_path = head_paths(taxonomy_file)
    tensors = {"coef": head.coef, "intercept": head.intercept, "prior": head.prior}
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}, str(weights_path))
    meta = {"format": "journeylens-stage-head/1", "classes": head.classes, "vocabulary": head.vocabulary,
            "switch_prob": head.switch_prob, **head.meta}
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return weights_path, meta_path


def load_head(taxonomy_file: Path) -> TrainedHead | None:
    """The trained head saved next to ``taxonomy_file``, or None when there is none."""
    weights_path, meta_path = head_paths(taxonomy_file)
    if not (weights_path.is_file() and meta_path.is_file()):
        return None
    from safetensors.numpy import load_file

    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != "journeylens-stage-head/1":
        raise ValueError(f"{meta_path}: not a journeylens stage model (format {meta.get('format')!r})")
    tensors = load_file(str(weights_path))
    extra = {k: v for k, v in meta.items() if k not in ("format", "classes", "vocabulary", "switch_prob")}
    return TrainedHead(classes=meta["classes"], vocabulary=meta["vocabulary"], coef=tensors["coef"],
                       intercept=tensors["intercept"], prior=tensors["prior"], switch_prob=meta.get("switch_prob"),
                       meta=extra)


def estimate_switch_prob(sequences: Sequence[Sequence[str]]) -> float | None:
    """Share of adjacent labelled utterances whose stage changes, smoothed; None without sequences."""
    pairs = sum(max(len(s) - 1, 0) for s in sequences)
    if pairs == 0:
        return None
    switches = sum(a != b for s in sequences for a, b in zip(s, s[1:], strict=False))
    return min(max((switches + 1) / (pairs + 2), 0.002), 0.3)


def fit_head(taxonomy: Taxonomy, texts: Sequence[str], labels: Sequence[str],
             sequences: Sequence[Sequence[str]] = (), c: float = 4.0) -> TrainedHead:
    """Logistic regression on tf-idf features of labelled utterances plus the taxonomy's own texts."""
    from sklearn.linear_model import LogisticRegression

    allowed = set(taxonomy.stage_ids) | {OTHER}
    unknown = sorted({label for label in labels if label not in allowed})
    if unknown:
        raise ValueError(f"labels {unknown} are not stages of taxonomy {taxonomy.name!r}")
    train_texts = list(texts)
    train_labels = list(labels)
    for stage in taxonomy.stages:
        for text in stage.texts():
            train_texts.append(text)
            train_labels.append(stage.id)
    classes = [s for s in [*taxonomy.stage_ids, OTHER] if s in set(train_labels)]
    if len(classes) < 2:
        raise ValueError("need labelled utterances of at least two stages")
    featurizer = Featurizer.fit(train_texts, min_count=1)
    x = featurizer.transform(train_texts)
    y = np.asarray([classes.index(label) for label in train_labels])
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    model.fit(x, y)
    coef = model.coef_ if len(classes) > 2 else np.vstack([-model.coef_[0], model.coef_[0]]) / 2
    intercept = model.intercept_ if len(classes) > 2 else np.array([-model.intercept_[0], model.intercept_[0]]) / 2
    return TrainedHead(classes=classes, vocabulary=featurizer.vocabulary, coef=coef.astype(np.float32),
                       intercept=intercept.astype(np.float32),
                       prior=np.full(len(classes), 1.0 / len(classes)),  # class_weight="balanced"
                       switch_prob=estimate_switch_prob(sequences),
                       meta={"taxonomy": taxonomy.name, "n_labelled": len(labels), "C": c,
                             "per_stage": {cl: int(sum(1 for label in labels if label == cl)) for cl in classes}})
