"""The few-shot journey classifier: stages from a taxonomy's own words, smoothed over the contact.

Per utterance, three kinds of evidence for each stage:

- **similarity** of the utterance's tf-idf vector (``text_features``: Chinese character n-grams, English stems)
  to the stage's texts — the best-matching single text (an example, a keyword, the name, the description)
  and the stage's centroid; utterances that every stage shares ("谢谢", "Is there anything else?", "what is
  the phone number?", ``models/stages/generic_utterances.txt``) count for little: an example is weighted by how
  unlike them it is, and an utterance's evidence is reduced by its similarity to them;
- **keywords**: the stage's keywords and names found with spaCy's ``PhraseMatcher`` (character tokens for
  Chinese, so 骑手 matches inside 骑手怎么还没到; whole words for English);
- with a **trained head** (``journeylens train-stages``, or ``adapt`` in ``stage_training``), a logistic
  regression on the same features, learnt from labelled or self-labelled utterances; its probabilities are
  multiplied with a flattened copy of the similarity ones (``head_blend``), so the taxonomy still counts.

The evidence becomes a per-stage likelihood: an utterance either says something about a stage (probability
``p_informative``, rising with its best score) or not, in which case every stage explains it equally. The
``StageHMM`` then labels the contact as a whole: context carries a stage over utterances without evidence (a
customer's "还没到" after the agent asked about the rider), a switch needs evidence, a contact without any
evidence is ``other``, and each label's confidence is its posterior probability.

Issue types (doubt / defect / blockage) are scored the same way per utterance and decided per segment from the
customer's utterances. Service steps follow speaker and channel as in the keyword classifier.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import spacy
from scipy import sparse
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from nlp.resources import models_dir
from nlp.schema.document import AnalyzedTranscript, Utterance
from nlp.schema.taxonomy import Category, Taxonomy
from nlp.steps.stages.features import Featurizer, stem
from nlp.steps.stages.heads import TrainedHead, fit_head
from nlp.steps.stages.keyword import KeywordJourneyClassifier
from nlp.steps.stages.sequence import StageHMM

OTHER = "other"
_MATCH_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[a-z0-9]+(?:'[a-z]+)?")
_CONTEXT_SPEAKERS = ("agent", "bot", "ivr", "system", "third_party")
GENERIC_UTTERANCES = "generic_utterances.txt"


@dataclass(frozen=True)
class FewShotSettings:
    """Hyper-parameters; defaults from small grids on the MultiWOZ pool dialogues (never the evaluated ones), the
    Chinese dev set and the first 400 demo contacts (docs/stages.md)."""

    example_weight: float = 0.6
    centroid_weight: float = 0.4
    keyword_weight: float = 0.35
    temperature: float = 0.05
    evidence_center: float = 0.06
    evidence_slope: float = 15.0
    max_informative: float = 0.97
    other_likelihood: float = 0.02
    switch_prob: float = 0.03
    context_switch_factor: float = 0.1  # entering a stage on an agent/bot/system utterance: this × switch_prob
    other_start: float = 0.5
    context_weight: float = 1.0  # exponent on the likelihoods of agent, bot, IVR and system utterances
    issue_min_evidence: float = 0.5
    generic_weight: float = 0.3  # stage evidence minus this × similarity to a generic utterance ("thank you")
    entry_floor: float = 0.1  # switching into a stage on an utterance without evidence for it: this × the cost
    entry_gain: float = 1.0  # … and this × the cost on the stage the utterance favours most
    entry_power: float = 3.0  # how sharply the entry factor falls with the stage's share of the evidence
    head_blend: float = 0.3  # with a trained head: its probabilities × the taxonomy similarities ** this
    clause_min_share: float = 0.9  # a clause names a stage with this share of its own likelihoods (clause stages)


def match_tokens(text: str) -> list[str]:
    """Tokens for keyword matching: single characters for Chinese, lower-cased stemmed words for everything else
    (so the keyword "museum" matches "museums")."""
    return [stem(token) if token.isascii() else token for token in _MATCH_TOKEN.findall(text.lower())]


def generic_utterances() -> list[str]:
    """The shipped utterances that carry no stage (``models/stages/generic_utterances.txt``); none if missing."""
    path = models_dir() / "stages" / GENERIC_UTTERANCES
    if not path.is_file():
        return []
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


class KeywordEvidence:
    """Matched keyword length per category, found with spaCy's PhraseMatcher over ``match_tokens``."""

    def __init__(self, categories: Sequence[tuple[str, Category]], ids: Sequence[str]) -> None:
        self._vocab = spacy.blank("xx").vocab
        self._matcher = PhraseMatcher(self._vocab)
        self._column = {category_id: i for i, category_id in enumerate(ids)}
        self.n = len(ids)
        owner: dict[str, str] = {}
        for category_id, category in categories:
            for term in (*category.keywords, category.name, category.name_en or ""):
                words = match_tokens(term)
                key = " ".join(words)
                if words and (len(words) > 1 or len(words[0]) > 1) and key not in owner:
                    owner[key] = category_id
        for key, category_id in owner.items():
            self._matcher.add(category_id, [Doc(self._vocab, words=key.split(" "))])

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.n), dtype=np.float32)
        strings = self._vocab.strings
        for row, text in enumerate(texts):
            words = match_tokens(text)
            if not words:
                continue
            doc = Doc(self._vocab, words=words)
            spans = filter_spans([Span(doc, s, e, label=strings[m]) for m, s, e in self._matcher(doc)])
            for span in spans:
                length = sum(len(t.text) if not t.text.isascii() else 3 for t in span)
                out[row, self._column[span.label_]] += length
        return out


class CategoryScorer:
    """Similarity and keyword evidence for one level of a taxonomy (stages or issue types)."""

    def __init__(self, categories: Sequence[tuple[str, Category]], ids: Sequence[str],
                 settings: FewShotSettings, generic: Sequence[str] = ()) -> None:
        self.ids = list(ids)
        self.settings = settings
        texts: list[str] = []
        owners: list[int] = []
        column = {c: i for i, c in enumerate(self.ids)}
        for category_id, category in categories:
            for text in category.texts():
                texts.append(text)
                owners.append(column[category_id])
        self.featurizer = Featurizer.fit(texts)
        self._examples = self.featurizer.transform(texts).T.tocsr()  # (vocabulary, texts)
        self._owners = np.asarray(owners)
        centroids = np.zeros((len(self.featurizer.vocabulary), len(self.ids)), dtype=np.float32)
        dense = self._examples.toarray()
        for k in range(len(self.ids)):
            columns = dense[:, self._owners == k]
            if columns.size:
                centroid = columns.sum(axis=1)
                centroids[:, k] = centroid / (np.linalg.norm(centroid) or 1.0)
        self._centroids = centroids
        self._generic = self.featurizer.transform(list(generic)).T.tocsr() if generic else None
        if self._generic is not None:  # an example that is mostly a generic utterance says little about its stage
            specific = 1.0 - np.clip((self._examples.T @ self._generic).toarray().max(axis=1), 0.0, 1.0)
            self._examples = (self._examples @ sparse.diags(specific.astype(np.float32))).tocsr()
        self._keywords = KeywordEvidence(categories, self.ids)
        order = np.argsort(self._owners, kind="stable")
        self._order = order
        sorted_owners = self._owners[order]
        self._starts = np.searchsorted(sorted_owners, np.arange(len(self.ids)))
        self._present = np.isin(np.arange(len(self.ids)), sorted_owners)

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """(texts, categories) evidence scores, roughly 0 (nothing) to 1 (an example said again)."""
        return self.evidence(texts)[0]

    def evidence(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``scores`` and, per text, its best similarity to a generic utterance (0 without generic ones)."""
        s = self.settings
        x = self.featurizer.transform(texts)
        if self._generic is not None and len(texts):
            generic = (x @ self._generic).toarray().max(axis=1)
        else:
            generic = np.zeros(len(texts))
        similarity = (x @ self._examples).toarray()[:, self._order] if len(texts) else np.zeros((0, 0))
        best = np.zeros((len(texts), len(self.ids)), dtype=np.float32)
        if similarity.size:
            reduced = np.maximum.reduceat(similarity, self._starts[self._present], axis=1)
            best[:, self._present] = reduced
        centroid = np.asarray(x @ self._centroids)
        keyword = 1.0 - np.exp(-self._keywords.scores(texts) / 2.5)
        return s.example_weight * best + s.centroid_weight * centroid + s.keyword_weight * keyword, generic


class FewShotJourneyClassifier:
    """Stage, issue type and service step for every utterance, from the taxonomy (and a trained head if any)."""

    name = "fewshot"
    version = "1"

    def __init__(self, taxonomy: Taxonomy, settings: FewShotSettings | None = None,
                 head: TrainedHead | None = None) -> None:
        self.taxonomy = taxonomy
        self.settings = settings or FewShotSettings()
        self.head = head
        if head is not None:
            unknown = sorted(set(head.classes) - set(taxonomy.stage_ids) - {OTHER})
            if unknown:
                raise ValueError(f"trained stage model has classes {unknown} that taxonomy "
                                 f"{taxonomy.name!r} does not define: train it again with this taxonomy")
            self.version = f"1+head:{head.digest}"
        self.stage_ids = [s.id for s in taxonomy.stages]
        self.states = [*self.stage_ids, OTHER]
        switch = head.switch_prob if head is not None and head.switch_prob else self.settings.switch_prob
        self.hmm = StageHMM(len(self.states), switch_prob=switch, other_start=self.settings.other_start,
                            context_switch_factor=self.settings.context_switch_factor)
        self._keyword = KeywordJourneyClassifier(taxonomy)

    def with_head(self, head: TrainedHead) -> FewShotJourneyClassifier:
        """The same classifier with ``head`` (``adapt``)."""
        return type(self)(self.taxonomy, self.settings, head=head)

    def fit_head(self, texts: Sequence[str], labels: Sequence[str],
                 sequences: Sequence[Sequence[str]] = ()) -> TrainedHead:
        """A head of this classifier's kind trained on labelled utterances (``adapt``): over n-gram features."""
        return fit_head(self.taxonomy, texts, labels, sequences=sequences)

    @cached_property
    def _stages(self) -> CategoryScorer:
        generic = generic_utterances() if self.settings.generic_weight > 0 else []
        return CategoryScorer([(s.id, s) for s in self.taxonomy.stages], self.stage_ids, self.settings, generic)

    @cached_property
    def _issues(self) -> CategoryScorer | None:
        if not self.taxonomy.issue_types:
            return None
        pairs = [(i.id, c) for i in self.taxonomy.issue_types for c in (i, *i.subtypes)]
        return CategoryScorer(pairs, [i.id for i in self.taxonomy.issue_types], self.settings)

    # -- per-utterance evidence ---------------------------------------------------------------------------
    def emissions(self, texts: Sequence[str], speakers: Sequence[str]) -> np.ndarray:
        """(utterances, stages + other) likelihoods for the sequence model."""
        s = self.settings
        n, k = len(texts), len(self.stage_ids)
        if n == 0:
            return np.zeros((0, k + 1))
        scores, generic = self._stages.evidence(texts)
        best = scores.max(axis=1) - s.generic_weight * generic
        informative = s.max_informative / (1.0 + np.exp(-s.evidence_slope * (best - s.evidence_center)))
        logits = scores / s.temperature
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        if self.head is not None:
            probabilities, informative = self._blend_head(texts, probabilities, informative)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        out = np.empty((n, k + 1))
        out[:, :k] = (1.0 - informative)[:, None] + informative[:, None] * k * probabilities
        out[:, k] = (1.0 - informative) + informative * k * s.other_likelihood
        if s.context_weight != 1.0:
            context = np.isin(np.asarray(speakers), _CONTEXT_SPEAKERS)
            out[context] = out[context] ** s.context_weight
        return out

    def entry(self, emissions: np.ndarray) -> np.ndarray:
        """Per utterance and state, the factor on switching into it: 1 for the state the utterance favours
        most, ``entry_floor`` for states it gives no more evidence than the rest; ``other`` is always 1."""
        s = self.settings
        k = len(self.stage_ids)
        out = np.ones_like(emissions)
        if len(emissions):
            share = emissions[:, :k] / emissions.max(axis=1, keepdims=True)
            out[:, :k] = s.entry_floor + (s.entry_gain - s.entry_floor) * share ** s.entry_power
        return out

    def _blend_head(self, texts: Sequence[str], probabilities: np.ndarray,
                    informative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The trained head blended into the similarity probabilities (unnormalised): theirs ** ``head_blend`` ×
        the head's, and an utterance is informative at least as far as the head is sure of it. Columns after the
        stages (the encoder classifier's ``other``) get a flat head share."""
        k = len(self.stage_ids)
        head = self._head_probabilities(texts)
        sure = (head.max(axis=1) * k - 1.0) / max(k - 1, 1)  # 0 when flat, 1 when certain
        informative = np.maximum(informative, self.settings.max_informative * np.clip(sure, 0.0, 1.0))
        extra = probabilities.shape[1] - k
        if extra:
            head = np.concatenate([head, np.full((len(head), extra), 1.0 / k)], axis=1)
        return probabilities ** self.settings.head_blend * head, informative

    def _head_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        head = self.head
        assert head is not None
        p = head.probabilities(texts) / np.clip(head.prior, 1e-6, None)
        out = np.full((len(texts), len(self.stage_ids)), 1e-6)
        for j, c in enumerate(head.classes):
            if c != OTHER:
                out[:, self.stage_ids.index(c)] = p[:, j]
        return out / out.sum(axis=1, keepdims=True)

    # -- contacts -------------------------------------------------------------------------------------------
    def label_sequences(self, sequences: Sequence[Sequence[tuple[str, str]]]) -> list[tuple[list[str], list[float]]]:
        """Stage labels and confidences for each contact, given as ``(speaker, text)`` pairs."""
        flat = [pair for sequence in sequences for pair in sequence]
        emissions = self.emissions([t for _, t in flat], [s for s, _ in flat])
        out, start = [], 0
        for sequence in sequences:
            part = emissions[start:start + len(sequence)]
            start += len(sequence)
            customer = np.asarray([speaker not in _CONTEXT_SPEAKERS for speaker, _ in sequence], dtype=bool)
            path, confidence = self.hmm.decode(part, customer, self.entry(part))
            out.append(([self.states[i] for i in path], [round(float(c), 4) for c in confidence]))
        return out

    def classify(self, doc: AnalyzedTranscript) -> None:
        """Set ``stage``, ``stage_confidence``, ``issue_type`` and ``service_step`` on each utterance."""
        self.classify_many([doc])

    def classify_many(self, docs: Sequence[AnalyzedTranscript]) -> None:
        """``classify`` for a batch: the utterance evidence is computed in one pass."""
        sequences = [[(u.speaker, u.text) for u in doc.utterances] for doc in docs]
        labelled = self.label_sequences(sequences)
        for doc, (labels, confidences) in zip(docs, labelled, strict=True):
            for utterance, label, confidence in zip(doc.utterances, labels, confidences, strict=True):
                utterance.stage, utterance.stage_confidence = label, confidence
            self.assign_issue_types(doc.utterances)
            self._keyword.assign_service_steps(doc.utterances, doc.transcript.channel or "chat")

    def named_stages(self, texts: Sequence[str]) -> list[tuple[str | None, float]]:
        """Per text on its own (a customer's, no context), the state with the largest share of its likelihoods
        and that share (near 1 where the text clearly names one stage, ``1 / (stages + 1)`` where it says
        nothing); None instead of the state below ``clause_min_share`` or where it is ``other``."""
        if not len(texts):
            return []
        likelihoods = self.emissions(texts, ["customer"] * len(texts))
        share = likelihoods / likelihoods.sum(axis=1, keepdims=True)
        out: list[tuple[str | None, float]] = []
        for i, j in enumerate(share.argmax(axis=1).tolist()):
            named = self.states[j] != OTHER and share[i, j] >= self.settings.clause_min_share
            out.append((self.states[j] if named else None, round(float(share[i, j]), 4)))
        return out

    def assign_issue_types(self, utterances: Sequence[Utterance]) -> None:
        """One issue type per run of a stage: the type with most evidence over its customer utterances."""
        scorer = self._issues
        if scorer is None or not utterances:
            return
        texts = [u.text for u in utterances]
        scores = scorer.scores(texts)
        weights = np.asarray([1.0 if u.speaker == "customer" else 0.25 for u in utterances])
        start = 0
        for end in range(1, len(utterances) + 1):
            if end < len(utterances) and utterances[end].stage == utterances[start].stage:
                continue
            total = (scores[start:end] * weights[start:end, None]).sum(axis=0)
            best = int(total.argmax())
            issue = scorer.ids[best] if total[best] >= self.settings.issue_min_evidence else None
            for utterance in utterances[start:end]:
                utterance.issue_type = issue
            start = end
