"""Trained stage heads: a logistic regression over the few-shot features, learnt from labelled or self-labelled
utterances (``journeylens train-stages``, ``analyze --adapt``), and its files next to the taxonomy
(``<taxonomy>.stages.safetensors`` + ``.json``). The few-shot classifier (fewshot.py) blends its probabilities
with the taxonomy similarities. The encoder classifier's ``--adapt`` head (``VectorHead``) is the same regression
over its own sentence vectors, kept in memory for the run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from nlp.schema.taxonomy import Taxonomy
from nlp.steps.stages.embedding import TextVectors
from nlp.steps.stages.features import Featurizer

OTHER = "other"


class _LinearHead:
    """What both heads share: class probabilities of a linear layer over the head's ``features`` and a digest of
    its weights (the adapted classifier's version)."""

    classes: list[str]
    coef: np.ndarray
    intercept: np.ndarray

    def features(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        logits = self.features(texts) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.coef.tobytes() + json.dumps(self.classes).encode()).hexdigest()[:12]


@dataclass
class TrainedHead(_LinearHead):
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

    def features(self, texts: Sequence[str]) -> np.ndarray:
        return self.featurizer.transform(texts)


@dataclass
class VectorHead(_LinearHead):
    """A logistic-regression head over sentence vectors (``TextVectors``, ``query: ``), trained by
    ``fit_vector_head``; the interface of ``TrainedHead`` that the classifiers read."""

    classes: list[str]
    coef: np.ndarray  # (classes, dim)
    intercept: np.ndarray  # (classes,)
    prior: np.ndarray
    vectors: TextVectors = field(repr=False)
    switch_prob: float | None = None
    meta: dict = field(default_factory=dict)

    def features(self, texts: Sequence[str]) -> np.ndarray:
        return self.vectors(list(texts), "query")


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


def _training_rows(taxonomy: Taxonomy, texts: Sequence[str], labels: Sequence[str]) -> tuple[list[str], list[str],
                                                                                               list[str]]:
    """The labelled utterances plus the taxonomy's own texts, and the classes present, in taxonomy order."""
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
    return train_texts, train_labels, classes


def _regression(x, labels: Sequence[str], classes: list[str], c: float) -> tuple[np.ndarray, np.ndarray]:
    """(coef, intercept) of a class-balanced logistic regression, two rows even for two classes."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    model.fit(x, np.asarray([classes.index(label) for label in labels]))
    coef = model.coef_ if len(classes) > 2 else np.vstack([-model.coef_[0], model.coef_[0]]) / 2
    intercept = model.intercept_ if len(classes) > 2 else np.array([-model.intercept_[0], model.intercept_[0]]) / 2
    return coef.astype(np.float32), intercept.astype(np.float32)


def _meta(taxonomy: Taxonomy, labels: Sequence[str], classes: list[str], c: float) -> dict:
    return {"taxonomy": taxonomy.name, "n_labelled": len(labels), "C": c,
            "per_stage": {cl: int(sum(1 for label in labels if label == cl)) for cl in classes}}


def fit_head(taxonomy: Taxonomy, texts: Sequence[str], labels: Sequence[str],
             sequences: Sequence[Sequence[str]] = (), c: float = 4.0) -> TrainedHead:
    """Logistic regression on tf-idf features of labelled utterances plus the taxonomy's own texts."""
    train_texts, train_labels, classes = _training_rows(taxonomy, texts, labels)
    featurizer = Featurizer.fit(train_texts, min_count=1)
    coef, intercept = _regression(featurizer.transform(train_texts), train_labels, classes, c)
    return TrainedHead(classes=classes, vocabulary=featurizer.vocabulary, coef=coef, intercept=intercept,
                       prior=np.full(len(classes), 1.0 / len(classes)),  # class_weight="balanced"
                       switch_prob=estimate_switch_prob(sequences), meta=_meta(taxonomy, labels, classes, c))


def fit_vector_head(taxonomy: Taxonomy, texts: Sequence[str], labels: Sequence[str], vectors: TextVectors,
                    sequences: Sequence[Sequence[str]] = (), c: float = 1.0) -> VectorHead:
    """Logistic regression on the sentence vectors of labelled utterances plus the taxonomy's own texts (the
    encoder classifier's ``--adapt``; C = 1, scikit-learn's default, not tuned)."""
    train_texts, train_labels, classes = _training_rows(taxonomy, texts, labels)
    coef, intercept = _regression(vectors(train_texts, "query"), train_labels, classes, c)
    return VectorHead(classes=classes, coef=coef, intercept=intercept, prior=np.full(len(classes), 1.0 / len(classes)),
                      vectors=vectors, switch_prob=estimate_switch_prob(sequences),
                      meta=_meta(taxonomy, labels, classes, c))
