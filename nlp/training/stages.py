"""``journeylens train-stages``: learn a stage head and save it next to the taxonomy.

Two sources, usable together: labelled utterances (``--labels``) and unlabelled transcripts of your own
(``--unlabelled``, self-training: the few-shot classifier labels them, utterances labelled with posterior
confidence ≥ ``min_confidence`` become training rows). The labels file is CSV (or JSONL) with one labelled
utterance per row: ``text`` and ``stage`` (a stage id of the taxonomy, or ``other``), optionally
``transcript_id`` and ``turn_index`` (then the rate at which stages switch between consecutive utterances is
learnt too). The head is a logistic regression over the classifier's tf-idf
features, trained on the labelled rows plus the taxonomy's own texts; it is saved as
``<taxonomy>.stages.safetensors`` (weights) and ``<taxonomy>.stages.json`` (vocabulary, classes, training
summary) beside the taxonomy file, where ``journey_classifier: fewshot`` picks it up.

``adapt`` is the same self-training without a file: the few-shot classifier labels the contacts it is about to
classify, learns a head from its confident labels and classifies them again (``journeylens analyze --adapt``).
"""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nlp.schema.taxonomy import Taxonomy, TaxonomyError, load_taxonomy
from nlp.steps.stages.fewshot import OTHER, FewShotJourneyClassifier
from nlp.steps.stages.heads import fit_head, save_head

REQUIRED = ("text", "stage")
ADAPT_MIN_CONFIDENCE = 0.8
ADAPT_MIN_UTTERANCES = 1000


@dataclass
class TrainReport:
    taxonomy: str
    weights: Path
    metadata: Path
    labelled: int
    self_trained: int
    per_stage: dict[str, int]
    switch_prob: float | None
    holdout_accuracy: float | None
    unreadable: int = 0  # unlabelled records that could not be read (not trained on)


def read_labels(path: Path) -> list[dict]:
    """Rows of a labels file; errors name the file, the row and what is missing."""
    if not path.is_file():
        raise ValueError(f"{path}: no such labels file")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        rows = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as error:
                        raise ValueError(f"{path}:{number}: not valid JSON: {error.msg}") from error
    else:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        if rows and any(c not in rows[0] for c in REQUIRED):
            raise ValueError(f"{path}: needs the columns {', '.join(REQUIRED)}; found {', '.join(rows[0])}")
    for number, row in enumerate(rows, 2):
        if not str(row.get("text") or "").strip() or not str(row.get("stage") or "").strip():
            raise ValueError(f"{path}: row {number} has an empty text or stage: fill it in or remove the row")
    if not rows:
        raise ValueError(f"{path}: no labelled rows")
    return rows


def train_stages(taxonomy_name: str, labels_path: Path | None = None, *, unlabelled: list[Path] | None = None,
                 min_confidence: float = 0.8, holdout: float = 0.2, seed: int = 0, c: float = 4.0,
                 reader_options=None) -> TrainReport:
    """Train, report accuracy on a held-out share of the labelled rows (per utterance), train on all and save;
    ``reader_options`` (``nlp.readers.ReaderOptions``) say how to read the unlabelled transcripts."""
    taxonomy = load_taxonomy(taxonomy_name)
    if taxonomy.source is None:
        raise TaxonomyError(f"taxonomy {taxonomy_name!r} has no file to save the model next to")
    if labels_path is None and not unlabelled:
        raise ValueError("give labelled utterances (--labels), unlabelled transcripts (--unlabelled) or both")
    rows = read_labels(labels_path) if labels_path is not None else []
    unknown = sorted({str(r["stage"]).strip() for r in rows} - set(taxonomy.stage_ids) - {"other"})
    if unknown:
        raise ValueError(f"{labels_path}: stages {unknown} are not in taxonomy {taxonomy.name!r} "
                         f"({', '.join(taxonomy.stage_ids)}); fix the labels or the taxonomy")
    texts = [str(r["text"]).strip() for r in rows]
    labels = [str(r["stage"]).strip() for r in rows]
    sequences = _sequences(rows)
    accuracy = _holdout_accuracy(taxonomy, texts, labels, holdout, seed, c) if holdout > 0 and rows else None
    pseudo = unreadable = 0
    if unlabelled:
        extra_texts, extra_labels, extra_sequences, unreadable = pseudo_label(taxonomy_name, unlabelled,
                                                                              min_confidence,
                                                                              reader_options=reader_options)
        texts, labels, pseudo = texts + extra_texts, labels + extra_labels, len(extra_texts)
        sequences = sequences or extra_sequences
        if pseudo == 0:
            raise ValueError(f"no utterance of {', '.join(map(str, unlabelled))} reached confidence "
                             f"{min_confidence}: add examples and keywords to the taxonomy first")
    head = fit_head(taxonomy, texts, labels, sequences=sequences, c=c)
    head.meta.update(labels_file=labels_path.name if labels_path else None, self_trained_utterances=pseudo,
                     min_confidence=min_confidence if unlabelled else None)
    weights, metadata = save_head(head, taxonomy.source)
    return TrainReport(taxonomy=taxonomy.name, weights=weights, metadata=metadata, labelled=len(rows),
                       self_trained=pseudo, per_stage=head.meta["per_stage"], switch_prob=head.switch_prob,
                       holdout_accuracy=accuracy, unreadable=unreadable)


def pseudo_label(taxonomy_name: str, paths: list[Path], min_confidence: float, batch_size: int = 256,
                 reader_options=None) -> tuple[list[str], list[str], list[list[str]], int]:
    """``confident_labels`` of the transcripts in ``paths``, cut into utterances as the pipeline does, and the
    number of records that could not be read; streamed in batches, so only the confident utterances are kept."""
    from nlp.config import PipelineConfig
    from nlp.pipeline import Pipeline
    from nlp.readers import iter_records

    pipeline = Pipeline(PipelineConfig())
    classifier = FewShotJourneyClassifier(load_taxonomy(taxonomy_name))
    texts: list[str] = []
    labels: list[str] = []
    sequences: list[list[str]] = []
    batch: list[list[tuple[str, str]]] = []
    unreadable = 0

    def keep_confident() -> None:
        more_texts, more_labels, more_sequences = confident_labels(classifier, batch, min_confidence, batch_size)
        texts.extend(more_texts)
        labels.extend(more_labels)
        sequences.extend(more_sequences)
        batch.clear()

    for record in iter_records(paths, reader_options):
        if record.transcript is None:
            unreadable += 1
            continue
        batch.append([(u.speaker, u.text) for u in pipeline.prepare(record.transcript, taxonomy_name).utterances])
        if len(batch) >= batch_size:
            keep_confident()
    if batch:
        keep_confident()
    return texts, labels, sequences, unreadable


def confident_labels(classifier: FewShotJourneyClassifier, sequences: Sequence[Sequence[tuple[str, str]]],
                     min_confidence: float, batch_size: int = 256) -> tuple[list[str], list[str], list[list[str]]]:
    """Self-training rows: the utterances of ``sequences`` (contacts as ``(speaker, text)`` pairs) that the
    classifier labels with a stage at posterior ≥ ``min_confidence``, and every contact's label sequence (for
    the switch rate)."""
    texts: list[str] = []
    labels: list[str] = []
    label_sequences: list[list[str]] = []
    for start in range(0, len(sequences), batch_size):
        batch = sequences[start:start + batch_size]
        for turns, (predicted, confidence) in zip(batch, classifier.label_sequences(batch), strict=True):
            label_sequences.append(predicted)
            for (_, text), label, sure in zip(turns, predicted, confidence, strict=True):
                if label != OTHER and sure >= min_confidence:
                    texts.append(text)
                    labels.append(label)
    return texts, labels, label_sequences


@dataclass
class Adaptation:
    """What ``adapt`` did: the adapted classifier (None when it declined) and why."""

    classifier: FewShotJourneyClassifier | None
    contacts: int
    confident_utterances: int
    reason: str


def adapt(classifier: FewShotJourneyClassifier, sequences: Sequence[Sequence[tuple[str, str]]], *,
          min_confidence: float = ADAPT_MIN_CONFIDENCE, min_utterances: int = ADAPT_MIN_UTTERANCES) -> Adaptation:
    """Self-train a head on the unlabelled contacts about to be classified (no labels needed) and return the
    classifier with it. Declines with fewer than ``min_utterances`` confidently labelled utterances: on
    MultiWOZ, adapting to 100+ dialogues (~1,300+ such utterances) raised turn F1 every time and boundary F1 in
    9 of 10 draws, adapting to 50 or fewer helped as often as it hurt (``eval_stages.py --datasets
    adapt_study``). A classifier that already has a trained head (labelled data) is kept as it is."""
    if classifier.head is not None:
        return Adaptation(None, len(sequences), 0, "the classifier already has a trained head")
    texts, labels, label_sequences = confident_labels(classifier, sequences, min_confidence)
    if len(texts) < min_utterances or len(set(labels)) < 2:
        return Adaptation(None, len(sequences), len(texts),
                          f"{len(texts)} confidently labelled utterances in {len(set(labels))} stages; adapting "
                          f"needs {min_utterances} in at least two")
    head = classifier.fit_head(texts, labels, label_sequences)
    head.meta.update(self_trained_utterances=len(texts), min_confidence=min_confidence, adapted=True)
    return Adaptation(classifier.with_head(head), len(sequences), len(texts), "adapted")


def _sequences(rows: list[dict]) -> list[list[str]]:
    """Stage label sequences per transcript, in turn order, when the rows say which transcript they belong to."""
    if not rows or "transcript_id" not in rows[0]:
        return []
    grouped: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for position, row in enumerate(rows):
        key = str(row.get("transcript_id") or "")
        if key:
            try:
                order = float(row.get("turn_index", position))
            except (TypeError, ValueError):
                order = position
            grouped[key].append((order, str(row["stage"]).strip()))
    return [[stage for _, stage in sorted(items)] for items in grouped.values()]


def _holdout_accuracy(taxonomy: Taxonomy, texts: list[str], labels: list[str], share: float, seed: int,
                      c: float) -> float | None:
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    n_test = int(len(order) * share)
    if n_test < 5 or len(set(labels)) < 2:
        return None
    test, train = order[:n_test], order[n_test:]
    head = fit_head(taxonomy, [texts[i] for i in train], [labels[i] for i in train], c=c)
    probabilities = head.probabilities([texts[i] for i in test])
    predicted = [head.classes[j] for j in probabilities.argmax(axis=1)]
    return round(sum(p == labels[i] for p, i in zip(predicted, test, strict=True)) / n_test, 4)
