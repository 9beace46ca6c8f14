"""The encoder journey classifier: stages and issue types from sentence vectors, smoothed over the contact.

Character n-grams cannot tell that "帮我推荐一个住的地方" is about a hotel; a multilingual sentence encoder
(multilingual-e5-small, nlp/steps/encoder.py) can. Per level of the taxonomy (stages, issue types):

- every category's texts (name, English name, description, each keyword, each example) are embedded once as
  ``passage: `` (e5's convention for the documents being searched), utterances as ``query: ``;
- an utterance's score for a category is a mix of its best cosine to one of the category's texts and its cosine
  to the category's centroid; how much it says at all is how far that (or ``other_score``) is above its cosine to
  the nearest *generic* utterance ("谢谢", "Is there anything else?", ``models/stages/generic_utterances.txt``):
  what every stage shares says nothing about a stage;
- keyword hits (the few-shot classifier's ``KeywordEvidence``) add ``keyword_weight`` where a keyword occurs.

Scores become a likelihood per stage and ``other`` exactly as in the few-shot classifier (the same ``StageHMM``,
entry factors and switch costs), with one addition for utterances that fit *no* stage: ``other`` competes in the
per-utterance softmax with a fixed score ``other_score``, so an utterance that says something specific (far
from the generic utterances) but close to none of the taxonomy's texts leans to ``other`` instead of being
forced into the nearest stage. The confidence is the posterior of the chosen state.

Every utterance is embedded once per batch (``classify_many``): stage and issue heads read the same vectors
(``TextVectors`` memo, nlp/steps/stages/embedding.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.special import expit

from nlp.schema.taxonomy import Category, Taxonomy
from nlp.steps.stages.embedding import TextVectors, shared_vectors
from nlp.steps.stages.fewshot import (
    _CONTEXT_SPEAKERS,
    FewShotJourneyClassifier,
    FewShotSettings,
    KeywordEvidence,
    generic_utterances,
)
from nlp.steps.stages.heads import TrainedHead, VectorHead, fit_vector_head


@dataclass(frozen=True)
class EncoderSettings(FewShotSettings):
    """The few-shot settings, rescaled for cosine similarities of e5 vectors (docs/stages.md says how they were
    chosen: on the MultiWOZ and CrossWOZ *pool* dialogues, never the evaluated ones)."""

    example_weight: float = 0.5
    centroid_weight: float = 0.5
    keyword_weight: float = 0.1
    temperature: float = 0.005
    evidence_center: float = 0.06
    evidence_slope: float = 150.0
    other_score: float | None = None  # ``other``'s score in the utterance softmax; None: ``self_fit`` of the taxonomy
    other_quantile: float = 0.25  # ``self_fit``: this quantile of the taxonomy texts' cosine to their own stage
    generic_weight: float = 1.0
    issue_min_evidence: float = 0.0
    taxonomy_prefix: str = "query"  # e5 prefix of the taxonomy's texts: "query" (symmetric) measured better


class DenseCategoryScorer:
    """Cosine evidence for one level of a taxonomy; ``evidence`` has the interface of ``CategoryScorer``."""

    def __init__(self, categories: Sequence[tuple[str, Category]], ids: Sequence[str], settings: EncoderSettings,
                 vectors: TextVectors, generic: Sequence[str] = ()) -> None:
        self.ids = list(ids)
        self.settings = settings
        self.vectors = vectors
        column = {c: i for i, c in enumerate(self.ids)}
        texts, owners = [], []
        for category_id, category in categories:
            for text in dict.fromkeys(category.texts()):
                texts.append(text)
                owners.append(column[category_id])
        self._owners = np.asarray(owners)
        passages = vectors(texts, settings.taxonomy_prefix) if texts else np.zeros((0, 1), dtype=np.float32)
        self._passages = passages
        centroids = np.zeros((len(self.ids), passages.shape[1]), dtype=np.float32)
        for k in range(len(self.ids)):
            if (self._owners == k).any():
                mean = passages[self._owners == k].mean(axis=0)
                centroids[k] = mean / (np.linalg.norm(mean) or 1.0)
        self._centroids = centroids
        self._generic = vectors(list(generic), settings.taxonomy_prefix) if generic else None
        self.self_fit = self._self_fit(settings.other_quantile)
        self._keywords = KeywordEvidence(categories, self.ids)

    def _self_fit(self, quantile: float) -> float:
        """How well the taxonomy's own texts fit their own category, on the scale of ``similarities`` (each text's
        best cosine to another text of it and its cosine to the centroid of the others, mixed; the ``quantile``
        over texts): the level an utterance must reach to belong. It follows the language and the encoder's
        cosine scale (e5's Chinese cosines run higher than its English ones)."""
        s = self.settings
        cosine = self._passages @ self._passages.T
        np.fill_diagonal(cosine, -1.0)
        fits = []
        for i, k in enumerate(self._owners.tolist()):
            others = np.flatnonzero((self._owners == k) & (np.arange(len(self._owners)) != i))
            if len(others):
                centroid = self._passages[others].mean(axis=0)
                centroid /= np.linalg.norm(centroid) or 1.0
                fits.append(s.example_weight * cosine[i, others].max()
                            + s.centroid_weight * float(self._passages[i] @ centroid))
        return float(np.quantile(fits, quantile)) if fits else 0.0

    def similarities(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(texts, categories) mixed cosine (best text, centroid) and, per text, the best generic cosine."""
        s = self.settings
        q = self.vectors(list(texts), "query")
        cosine = q @ self._passages.T
        best = np.full((len(texts), len(self.ids)), -1.0, dtype=np.float32)
        for k in range(len(self.ids)):
            mine = self._owners == k
            if mine.any():
                best[:, k] = cosine[:, mine].max(axis=1)
        mixed = s.example_weight * best + s.centroid_weight * (q @ self._centroids.T)
        generic = (q @ self._generic.T).max(axis=1) if self._generic is not None else np.zeros(len(texts))
        return mixed, generic

    def evidence(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(texts, categories) mixed cosine plus keyword evidence, and per text the best generic cosine."""
        if not len(texts):
            return np.zeros((0, len(self.ids))), np.zeros(0)
        mixed, generic = self.similarities(texts)
        keyword = 1.0 - np.exp(-self._keywords.scores(texts) / 2.5)
        return mixed + self.settings.keyword_weight * keyword, generic

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Evidence above the generic level: > 0 where a category fits better than "谢谢" does."""
        scores, generic = self.evidence(texts)
        return scores - self.settings.generic_weight * generic[:, None]


class EncoderJourneyClassifier(FewShotJourneyClassifier):
    """``journey_classifier: encoder``: the few-shot classifier's sequence model over e5 similarities."""

    name = "encoder"
    version = "1"

    def __init__(self, taxonomy: Taxonomy, settings: EncoderSettings | None = None,
                 vectors: TextVectors | None = None, head: TrainedHead | VectorHead | None = None) -> None:
        super().__init__(taxonomy, settings or EncoderSettings(), head=head)  # type: ignore[arg-type]
        self.vectors = vectors or shared_vectors()

    def with_head(self, head: TrainedHead | VectorHead) -> EncoderJourneyClassifier:  # type: ignore[override]
        """The same classifier, same vectors, with ``head`` (``adapt``)."""
        return type(self)(self.taxonomy, self.settings, vectors=self.vectors, head=head)  # type: ignore[arg-type]

    def fit_head(self, texts: Sequence[str], labels: Sequence[str],  # type: ignore[override]
                 sequences: Sequence[Sequence[str]] = ()) -> VectorHead:
        """A logistic regression over this classifier's own sentence vectors (``adapt``): on the MultiWOZ and
        CrossWOZ subsamples it labelled turns better than the few-shot n-gram head did (docs/stages.md)."""
        return fit_vector_head(self.taxonomy, texts, labels, self.vectors, sequences)

    @cached_property
    def _stages(self) -> DenseCategoryScorer:  # type: ignore[override]
        return DenseCategoryScorer([(s.id, s) for s in self.taxonomy.stages], self.stage_ids,
                                   self.settings, self.vectors, generic_utterances())  # type: ignore[arg-type]

    @cached_property
    def _issues(self) -> DenseCategoryScorer | None:  # type: ignore[override]
        if not self.taxonomy.issue_types:
            return None
        pairs = [(i.id, c) for i in self.taxonomy.issue_types for c in (i, *i.subtypes)]
        return DenseCategoryScorer(pairs, [i.id for i in self.taxonomy.issue_types], self.settings,  # type: ignore[arg-type]
                                   self.vectors, generic_utterances())

    def emissions(self, texts: Sequence[str], speakers: Sequence[str]) -> np.ndarray:
        """(utterances, stages + other) likelihoods: informative utterances spread over stages and ``other``
        by a softmax in which ``other`` has the fixed score ``other_score``."""
        s: EncoderSettings = self.settings  # type: ignore[assignment]
        n, k = len(texts), len(self.stage_ids)
        if n == 0:
            return np.zeros((0, k + 1))
        scores, generic = self._stages.evidence(texts)
        other = s.other_score if s.other_score is not None else self._stages.self_fit
        logits = np.concatenate([scores, np.full((n, 1), other)], axis=1) / s.temperature
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        best = np.maximum(scores.max(axis=1), other) - s.generic_weight * generic
        informative = s.max_informative * expit(s.evidence_slope * (best - s.evidence_center))
        if self.head is not None:
            probabilities, informative = self._blend_head(texts, probabilities, informative)
            probabilities /= probabilities.sum(axis=1, keepdims=True)
        out = (1.0 - informative)[:, None] + informative[:, None] * (k + 1) * probabilities
        if s.context_weight != 1.0:
            context = np.isin(np.asarray(speakers), _CONTEXT_SPEAKERS)
            out[context] = out[context] ** s.context_weight
        return out

    def entry(self, emissions: np.ndarray) -> np.ndarray:
        """Per utterance and state, the factor on switching into it: 1 for the state the utterance favours most,
        falling to ``entry_floor`` for states it favours least; an utterance that favours none (all
        likelihoods equal: "谢谢") gives every stage the floor, so a topic starts where it is mentioned."""
        s = self.settings
        k = len(self.stage_ids)
        out = np.ones_like(emissions)
        if len(emissions):
            top, low = emissions.max(axis=1, keepdims=True), emissions.min(axis=1, keepdims=True)
            share = (emissions[:, :k] - low) / (top - low + 0.05 * top)
            out[:, :k] = s.entry_floor + (s.entry_gain - s.entry_floor) * share ** s.entry_power
        return out
