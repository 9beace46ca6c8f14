"""Scoring components behind two small interfaces, so trained models can replace the defaults.

- ``EmotionScorer.score(utterances) -> list[EmotionScore]``: one score per utterance, called with a batch.
- ``JourneyClassifier.classify(doc)``: sets stage, issue type and service step on a transcript's utterances;
  ``named_stages(texts)`` says which stage each text names on its own, with sufficient evidence by the
  classifier's own measure (the clause step, nlp/steps/clauses.py, asks it about the clauses of long customer
  turns), and ``assign_issue_types`` decides issue types again after stages changed.

Both carry ``name`` and ``version``; these go into the run log and into the fingerprint that decides whether
a stored transcript must be scored again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from nlp.schema.document import AnalyzedTranscript, Utterance
from nlp.schema.taxonomy import Taxonomy
from nlp.steps.emotion.labels import EmotionScore


class EmotionScorer(Protocol):
    name: str
    version: str

    def score(self, utterances: Sequence[Utterance]) -> list[EmotionScore]: ...


class JourneyClassifier(Protocol):
    name: str
    version: str

    def classify(self, doc: AnalyzedTranscript) -> None: ...

    def named_stages(self, texts: Sequence[str]) -> list[tuple[str | None, float]]: ...

    def assign_issue_types(self, utterances: Sequence[Utterance]) -> None: ...


def load_emotion_scorer(spec: str) -> EmotionScorer:
    """The scorer named by ``spec``:

    - ``fast``: the distilled n-gram model ``models/emotion-fast`` (no encoder; thousands of texts/s), English
      sentiment averaged with VADER's; ``fast:DIR``: a directory in its format, e.g. one written by
      ``journeylens train-emotion``, used alone;
    - ``encoder``: v2, ``models/emotion-v2``: frozen e5 vectors + head averaged with an n-gram model (loads the
      470 MB encoder; ~10–100 texts/s on CPU); ``encoder:DIR``: a directory in its format;
    - ``lexicon``: the lexicon baseline;
    - ``transformer``: the shipped models ``models/emotion-zh`` and ``models/emotion-en``, routed by language;
    - ``transformer:PATH``: any Hugging Face sequence-classification model directory (or a hub id when online)
      for every language; its ``id2label`` must name sentiments or emotions (nlp/steps/emotion/transformer.py).
    """
    name, _, path = spec.partition(":")
    if name == "fast":
        from nlp.steps.emotion.ngram import NgramEmotionScorer

        return NgramEmotionScorer(path.strip() or None)
    if name == "encoder":
        from nlp.steps.emotion.e5 import EncoderEmotionScorer

        return EncoderEmotionScorer(path.strip() or None)
    if spec == "lexicon":
        from nlp.steps.emotion.lexicon import LexiconEmotionScorer

        return LexiconEmotionScorer()
    if spec == "transformer" or spec.startswith("transformer:"):
        from nlp.steps.emotion.transformer import TransformerEmotionScorer

        source = spec.partition(":")[2].strip() or None
        return TransformerEmotionScorer(source)
    raise ValueError(f"unknown emotion scorer {spec!r}: available: {', '.join(EMOTION_SCORERS)}")


EMOTION_SCORERS = ("fast", "fast:DIR", "encoder", "encoder:DIR", "lexicon", "transformer", "transformer:PATH")


JOURNEY_CLASSIFIERS = ("keyword", "fewshot", "fewshot-untrained", "encoder")


def load_journey_classifier(taxonomy: Taxonomy, spec: str = "keyword",
                            sentence_encoder: str | None = None) -> JourneyClassifier:
    """The classifier named by ``spec`` for ``taxonomy``.

    - ``keyword``: taxonomy keywords, carried forward (nlp/steps/stages/keyword.py);
    - ``fewshot``: similarity to the taxonomy's texts, keywords and a stage sequence model, plus the head that
      ``journeylens train-stages`` saved next to the taxonomy file when there is one (docs/stages.md);
    - ``fewshot-untrained``: ``fewshot`` without a trained head even when one is saved;
    - ``encoder``: the same sequence model over multilingual-e5 sentence similarities to the taxonomy's texts
      (nlp/steps/stages/semantic.py): generalises across wordings, ~100× slower than ``fewshot`` on CPU;
      ``sentence_encoder`` (a Hugging Face encoder directory) replaces e5.
    """
    if spec == "keyword":
        from nlp.steps.stages.keyword import KeywordJourneyClassifier

        return KeywordJourneyClassifier(taxonomy)
    if spec in ("fewshot", "fewshot-untrained"):
        from nlp.steps.stages.fewshot import FewShotJourneyClassifier
        from nlp.steps.stages.heads import load_head

        head = load_head(taxonomy.source) if spec == "fewshot" and taxonomy.source is not None else None
        return FewShotJourneyClassifier(taxonomy, head=head)
    if spec == "encoder":
        from nlp.steps.stages.embedding import shared_vectors
        from nlp.steps.stages.semantic import EncoderJourneyClassifier

        return EncoderJourneyClassifier(taxonomy, vectors=shared_vectors(sentence_encoder))
    raise ValueError(f"unknown journey classifier {spec!r}: available: {', '.join(JOURNEY_CLASSIFIERS)}")
