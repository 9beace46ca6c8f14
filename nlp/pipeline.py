"""The pipeline: normalize → redact → segment → classify → clause stages → score emotion → topical segments →
promises → categories.

One ``Pipeline`` object is used by every ingest path (``nlp/ingest/``), the CLI and the API, so every entry
point produces the same rows. ``analyze`` takes a batch of transcripts so the emotion scorer sees one large batch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from nlp import __version__
from nlp.categories import CategorySet, categorize_documents, load_category_set
from nlp.config import PipelineConfig
from nlp.schema.document import AnalyzedTranscript, Utterance
from nlp.schema.taxonomy import load_taxonomy
from nlp.schema.transcript import Transcript
from nlp.steps.clauses import split_clauses
from nlp.steps.normalize import normalize_text
from nlp.steps.promises import detect_promises
from nlp.steps.redact import Redactor, map_strings
from nlp.steps.registry import EmotionScorer, JourneyClassifier, load_emotion_scorer, load_journey_classifier
from nlp.steps.segments import build_segments
from nlp.steps.sentences import Segmenter, detect_language


class Pipeline:
    """Analyze transcripts end to end with the components named in a ``PipelineConfig``."""

    def __init__(self, config: PipelineConfig | None = None) -> None:
        self.config = config or PipelineConfig()
        self.redactor = Redactor(tuple(self.config.redact))
        self.segmenter = Segmenter(max_chars=self.config.max_sentence_chars)
        self._classifiers: dict[str, JourneyClassifier] = {}

    @cached_property
    def emotion_scorer(self) -> EmotionScorer:
        return load_emotion_scorer(self.config.emotion_scorer)

    def classifier(self, taxonomy: str) -> JourneyClassifier:
        if taxonomy not in self._classifiers:
            self._classifiers[taxonomy] = load_journey_classifier(
                load_taxonomy(taxonomy), self.config.journey_classifier, self.config.sentence_encoder
            )
        return self._classifiers[taxonomy]

    def use_classifier(self, taxonomy: str, classifier: JourneyClassifier) -> None:
        """Classify ``taxonomy``'s transcripts with ``classifier`` from now on (e.g. one adapted to the input)."""
        self._classifiers[taxonomy] = classifier

    @cached_property
    def model_versions(self) -> dict[str, Any]:
        """What produced the scores: component names and versions and a hash of each taxonomy used."""
        taxonomies = {self.config.default_taxonomy, *self.config.taxonomies.values()}
        classifier = self.classifier(self.config.default_taxonomy)
        return {
            "journeylens": __version__,
            "emotion_scorer": f"{self.emotion_scorer.name}:{self.emotion_scorer.version}",
            "journey_classifier": f"{classifier.name}:{classifier.version}",
            "taxonomies": {name: _digest(load_taxonomy(name).model_dump_json())[:12] for name in sorted(taxonomies)},
        }

    @cached_property
    def fingerprint(self) -> str:
        """Changes whenever the configuration or any model changes; stored with every scored transcript."""
        config = self.config.model_dump(exclude={"categories"})  # re-run over a store by `journeylens categorize`
        return _digest(json.dumps([config, self.model_versions], sort_keys=True))

    @cached_property
    def categories(self) -> CategorySet:
        """The categories every contact is evaluated against (``config.categories``, merged in order)."""
        return load_category_set(self.config.categories)

    def redact_transcript(self, transcript: Transcript) -> Transcript:
        """The copy of ``transcript`` that is safe to store: text normalized, PII replaced in turns, speaker labels
        and metadata (keys redacted but not normalized: a CSV header can hold a phone number), ids that hold PII
        pseudonymised."""
        clean = self.redact_text
        turns = [
            turn.model_copy(update={
                "text": clean(turn.text),
                "speaker_label": clean(turn.speaker_label) if turn.speaker_label else None,
                "metadata": map_strings(turn.metadata, clean, keys=self.redactor),
            })
            for turn in transcript.turns
        ]
        pseudonymize = self.redactor.pseudonymize
        return transcript.model_copy(update={
            "id": pseudonymize(transcript.id),
            "turns": turns,
            "customer_id": pseudonymize(transcript.customer_id),
            "order_id": pseudonymize(transcript.order_id),
            "metadata": map_strings(transcript.metadata, clean, keys=self.redactor),
        })

    def redact_text(self, text: str) -> str:
        """Normalized, then PII replaced."""
        return self.redactor(normalize_text(text, to_simplified=self.config.to_simplified))

    def analyze(
        self, transcripts: Sequence[Transcript], taxonomies: Sequence[str | None] | None = None
    ) -> list[AnalyzedTranscript]:
        """Analyze a batch; ``taxonomies`` may name, per transcript, a taxonomy overriding the business line's."""
        overrides = taxonomies if taxonomies is not None else [None] * len(transcripts)
        docs = [self.prepare(t, taxonomy) for t, taxonomy in zip(transcripts, overrides, strict=True)]
        by_taxonomy: dict[str, list[AnalyzedTranscript]] = {}
        for doc in docs:
            by_taxonomy.setdefault(doc.taxonomy, []).append(doc)
        for taxonomy, group in by_taxonomy.items():
            classifier = self.classifier(taxonomy)
            classify_many = getattr(classifier, "classify_many", None)
            if classify_many is not None:  # one pass over the whole batch's utterances
                classify_many(group)
            else:
                for doc in group:
                    classifier.classify(doc)
            if self.config.clause_stages:
                split_clauses(group, classifier, self.segmenter)
        to_score = [u for doc in docs for u in doc.utterances if u.speaker in self.config.score_speakers]
        for utterance, score in zip(to_score, self.emotion_scorer.score(to_score), strict=True):
            utterance.sentiment = score.sentiment
            utterance.sentiment_score = score.sentiment_score
            utterance.emotion = score.emotion
            utterance.emotion_coarse = score.emotion_coarse
            utterance.emotion_confidence = score.emotion_confidence
        for doc in docs:
            build_segments(doc)
            doc.promises = detect_promises(doc, self.config.timezone, self.config.promise_vague_hours)
        categorize_documents(docs, self.categories)
        return docs

    def prepare(self, transcript: Transcript, taxonomy: str | None = None) -> AnalyzedTranscript:
        """Redact, normalise and cut a transcript into utterances (nothing classified or scored yet)."""
        transcript = self.redact_transcript(transcript)
        language = transcript.language
        if language == "auto":
            language = detect_language("".join(t.text for t in transcript.turns))
        doc = AnalyzedTranscript(transcript, language, taxonomy or self.config.taxonomy_for(transcript.business_line))
        for turn_index, turn in enumerate(transcript.turns):
            cursor = 0
            for sentence_index, sentence in enumerate(self.segmenter.split(turn.text, language)):
                start = turn.text.find(sentence.text, cursor)  # -1: the splitter dropped a character inside
                cursor = start + len(sentence.text) if start >= 0 else cursor
                doc.utterances.append(Utterance(
                    turn_index=turn_index, sentence_index=sentence_index, speaker=turn.speaker,
                    text=sentence.text, language=language, tokens=sentence.tokens,
                    start_ms=turn.start_ms, end_ms=turn.end_ms, ts=turn.ts, speaker_label=turn.speaker_label,
                    char_start=start if start >= 0 else None, char_end=cursor if start >= 0 else None,
                ))
        return doc


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
