"""Users' own emotion labels (``journeylens train-emotion``): reading their label file and label map, and tuning
the fast n-gram model on them with a k-fold report.

Apart from ``nlp/training/emotion.py`` because this is the user-facing side, with its own error type and messages
(every error names the file and line) and its own caller (``nlp/cli/train.py``); it reuses that module's losses,
head training, temperatures and n-gram saving, while the public-data runs (``scripts/emotion_v2.py``) never need
label files.
"""

from __future__ import annotations

import csv
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from nlp.steps.emotion.labels import COARSE_EMOTIONS, FINE_EMOTIONS, FINE_TO_COARSE
from nlp.steps.emotion.ngram import N_OUTPUTS, SENTIMENTS, NgramModel
from nlp.training.emotion import (
    NEG_FINE,
    POS_FINE,
    TrainingExample,
    fit_head,
    fit_temperatures,
    head_logits,
    load_ngram_head,
    save_ngram,
    split_probabilities,
)


class LabelFileError(ValueError):
    """A label file or label map that cannot be used; the message names the file and line."""


_SENTIMENT_ALIASES = {"negative": "negative", "neg": "negative", "neutral": "neutral", "neu": "neutral",
                      "positive": "positive", "pos": "positive", "负面": "negative", "中性": "neutral",
                      "正面": "positive",
                      "消极": "negative", "积极": "positive"}
_COARSE_ALIASES = {"joy": "joy", "sadness": "sadness", "fear": "fear", "happy": "joy", "sad": "sadness",
                   "angry": "anger", "happiness": "joy"}


def allowed_sets(name: str) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None] | None:
    """(allowed sentiments, allowed fine emotions) of one of our label names (a sentiment, a fine emotion or a
    coarse emotion), or None when the name is not ours."""
    key = name.strip().lower()
    if key in _SENTIMENT_ALIASES:
        s = _SENTIMENT_ALIASES[key]
        return (s,), None
    if key in FINE_EMOTIONS:
        polarity = "negative" if key in NEG_FINE else "positive" if key in POS_FINE else \
            "neutral" if key == "neutral" else None
        return ((polarity,) if polarity else None), (key,)
    coarse = _COARSE_ALIASES.get(key, key)
    if coarse in COARSE_EMOTIONS:
        fine = tuple(f for f in FINE_EMOTIONS if FINE_TO_COARSE[f] == coarse)
        polarity = {"anger": "negative", "sadness": "negative", "fear": "negative", "joy": "positive",
                    "neutral": "neutral"}.get(coarse)
        return ((polarity,) if polarity else None), fine
    return None


OUR_LABELS = tuple(dict.fromkeys((*SENTIMENTS, *FINE_EMOTIONS, *COARSE_EMOTIONS)))


def read_label_map(path: Path) -> dict[str, str]:
    """``user label: our label`` pairs from a YAML mapping; errors carry the line."""
    from nlp.yaml_files import line_numbers, read_mapping

    text = path.read_text(encoding="utf-8")
    mapping = read_mapping(text, str(path), LabelFileError, "a mapping of your labels to ours (label: positive)")
    lines = line_numbers(text)
    out = {}
    for key, value in mapping.items():
        if not isinstance(value, str | int) or allowed_sets(str(value)) is None:
            raise LabelFileError(f"{path}:{lines.get((str(key),), '?')}: {key!r} maps to {value!r}, not one of "
                                 f"{', '.join(OUR_LABELS)}")
        out[str(key).strip()] = str(value)
    return out


@dataclass
class LabelledRows:
    texts: list[str]
    labels: list[str]  # the user's label per row
    classes: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...] | None]]  # user label -> allowed sets
    lines: list[int] = field(default_factory=list)


def read_label_file(path: Path, text_column: str = "text", label_column: str = "label",
                    label_map: dict[str, str] | None = None) -> LabelledRows:
    """Rows of a CSV/TSV (or JSONL) label file; every problem is reported with its line number."""
    path = Path(path)
    if not path.exists():
        raise LabelFileError(f"{path}: no such file")
    rows: list[tuple[int, dict]] = []
    if path.suffix.lower() in (".jsonl", ".json"):
        with open(path, encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as error:
                        raise LabelFileError(f"{path}:{number}: not valid JSON: {error.msg}") from None
                    if not isinstance(record, dict):
                        raise LabelFileError(f"{path}:{number}: expected a JSON object per line")
                    rows.append((number, record))
    else:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            sample = handle.read(4096)
            handle.seek(0)
            delimiter = "\t" if path.suffix.lower() == ".tsv" or sample.count("\t") > sample.count(",") else ","
            reader = csv.DictReader(handle, delimiter=delimiter)
            missing = [c for c in (text_column, label_column) if c not in (reader.fieldnames or [])]
            if missing:
                raise LabelFileError(f"{path}:1: column(s) {', '.join(missing)} missing; the header has "
                                     f"{', '.join(reader.fieldnames or []) or 'nothing'}")
            for record in reader:
                rows.append((reader.line_num, record))
    label_map = label_map or {}
    texts, labels, lines, classes, errors = [], [], [], {}, []
    for number, record in rows:
        text, label = record.get(text_column), record.get(label_column)
        if text is None or label is None:
            errors.append(f"{path}:{number}: missing {text_column if text is None else label_column}")
            continue
        text, label = str(text).strip(), str(label).strip()
        if not text:
            errors.append(f"{path}:{number}: empty text")
            continue
        if not label:
            errors.append(f"{path}:{number}: empty label")
            continue
        ours = label_map.get(label, label)
        sets = allowed_sets(ours)
        if sets is None:
            errors.append(f"{path}:{number}: label {label!r} is not one of ours ({', '.join(OUR_LABELS)}); map it "
                          "with --label-map")
            continue
        classes[label] = sets
        texts.append(text)
        labels.append(label)
        lines.append(number)
    if errors:
        shown = errors[:20] + ([f"… and {len(errors) - 20} more"] if len(errors) > 20 else [])
        raise LabelFileError("\n".join(shown))
    if len(classes) < 2:
        raise LabelFileError(f"{path}: needs at least two different labels, found {sorted(classes) or 'none'}")
    return LabelledRows(texts, labels, classes, lines)


def label_scores(sentiment: torch.Tensor, fine: torch.Tensor, classes: dict) -> torch.Tensor:
    """n × len(classes): each user label's probability under the model (its allowed sentiment mass when the
    label names sentiments, else its allowed fine-emotion mass)."""
    columns = []
    for s_set, f_set in classes.values():
        if f_set is None:
            columns.append(sentiment[:, [SENTIMENTS.index(s) for s in s_set]].sum(-1))
        else:
            columns.append(fine[:, [FINE_EMOTIONS.index(f) for f in f_set]].sum(-1))
    return torch.stack(columns, -1)


@dataclass
class UserTrainingReport:
    rows: int
    folds: int
    shipped_macro_f1: float
    tuned_macro_f1: float
    per_label: dict[str, int]
    seconds: float
    output: Path
    temperatures: dict


def _examples(rows: LabelledRows, indices: Sequence[int]) -> list[TrainingExample]:
    return [TrainingExample(rows.texts[i], *rows.classes[rows.labels[i]], source="user") for i in indices]


def _macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, labels=list(labels), average="macro", zero_division=0))


def train_user_model(rows: LabelledRows, output: Path, base: Path | None = None, folds: int = 5,
                     epochs: int = 8, lr: float = 0.01, anchor: float = 1e-4, seed: int = 13,
                     log: Callable[[str], None] | None = None) -> UserTrainingReport:
    """Fine-tune the fast n-gram model (``base``, default ``models/emotion-fast``) on a user's labelled rows.

    k-fold (stratified by label, ``folds``): the shipped model and a model tuned on the other folds score each
    fold; macro-F1 over the user's labels of both is reported. Temperatures are fitted on the out-of-fold
    probabilities of the tuned models; the final model is tuned on all rows and written to ``output`` in the
    n-gram format (``emotion_scorer: fast:DIR``)."""
    from nlp.steps.emotion.ngram import shipped_fast_dir

    started = time.perf_counter()
    model = NgramModel(base or shipped_fast_dir())
    init = load_ngram_head(model)
    x = model.featurizer.transform(rows.texts, model.idf)
    names = list(rows.classes)
    n = len(rows.texts)
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(rows.labels):
        by_label.setdefault(label, []).append(i)
    fold_of = [0] * n
    folds = max(2, min(folds, min(len(v) for v in by_label.values()), n))
    for indices in by_label.values():
        indices = indices[:]
        rng.shuffle(indices)
        for k, i in enumerate(indices):
            fold_of[i] = k % folds
    shipped_s, shipped_f = model.probabilities(rows.texts)
    shipped_pred = [names[i] for i in label_scores(shipped_s, shipped_f, rows.classes).argmax(-1).tolist()]
    oof_logits = torch.zeros(n, N_OUTPUTS)
    for k in range(folds):
        train_idx = [i for i in range(n) if fold_of[i] != k]
        test_idx = [i for i in range(n) if fold_of[i] == k]
        head = fit_head(x[train_idx], _examples(rows, train_idx), epochs=epochs, lr=lr, batch_size=32, seed=seed,
                        init=init, anchor=anchor)
        oof_logits[test_idx] = head_logits(head, x[test_idx])
        if log:
            log(f"fold {k + 1}/{folds}: trained on {len(train_idx)} rows")
    oof_s, oof_f = split_probabilities(oof_logits, model.t_sentiment, model.t_emotion)
    tuned_pred = [names[i] for i in label_scores(oof_s, oof_f, rows.classes).argmax(-1).tolist()]
    temperatures = fit_temperatures(oof_s, oof_f, _examples(rows, range(n)))
    head = fit_head(x, _examples(rows, range(n)), epochs=epochs, lr=lr, batch_size=32, seed=seed, init=init,
                    anchor=anchor)
    t = {g: round(model.t_sentiment if g == "sentiment" else model.t_emotion, 4) for g in ("sentiment", "emotion")}
    for group in t:  # temperatures of the tuned model = base temperature × what the out-of-fold fit adds
        if temperatures.get(group, {}).get("rows_fit"):
            t[group] = round(t[group] * temperatures[group]["temperature"], 4)
    report = UserTrainingReport(
        rows=n, folds=folds, shipped_macro_f1=round(_macro_f1(rows.labels, shipped_pred, names), 4),
        tuned_macro_f1=round(_macro_f1(rows.labels, tuned_pred, names), 4),
        per_label=dict(Counter(rows.labels)), seconds=0.0, output=Path(output), temperatures=t)
    save_ngram(Path(output), model.featurizer, model.idf, head, t,
               version=f"user-{time.strftime('%Y%m%d')}",
               extra={"base": str(base or "models/emotion-fast"), "base_version": model.version,
                      "user_labels": {k: {"sentiment": list(s or ()), "emotion": list(f or ())}
                                      for k, (s, f) in rows.classes.items()},
                      "kfold": {"folds": folds, "shipped_macro_f1": report.shipped_macro_f1,
                                "tuned_macro_f1": report.tuned_macro_f1, "rows": n}})
    report.seconds = round(time.perf_counter() - started, 1)
    return report

