"""``journeylens analyze``: transcripts in, one JSON line per utterance out, without a database.

The same ``Pipeline`` as the bulk scorer (redaction, segmentation, journey classifier, emotion, topical
segments); ``taxonomy`` overrides the business line's taxonomy for every transcript.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from nlp.config import PipelineConfig
from nlp.document import AnalyzedTranscript
from nlp.pipeline import Pipeline
from nlp.readers import ReaderOptions, iter_records
from nlp.taxonomy import load_taxonomy
from nlp.transcript import Transcript

FIELDS = ("transcript_id", "turn_index", "speaker", "text", "segment_index", "stage", "stage_confidence",
          "issue_type", "service_step", "sentiment", "sentiment_score", "emotion", "emotion_coarse")


@dataclass
class AnalyzeSummary:
    transcripts: int = 0
    utterances: int = 0
    rejected: list[str] = field(default_factory=list)


def utterance_rows(doc: AnalyzedTranscript) -> Iterator[dict]:
    """The output rows of one analysed transcript, in utterance order."""
    for u in doc.utterances:
        yield {"transcript_id": doc.transcript.id, "turn_index": u.turn_index, "speaker": u.speaker, "text": u.text,
               "segment_index": u.segment_index, "stage": u.stage, "stage_confidence": u.stage_confidence,
               "issue_type": u.issue_type, "service_step": u.service_step, "sentiment": u.sentiment,
               "sentiment_score": u.sentiment_score, "emotion": u.emotion, "emotion_coarse": u.emotion_coarse}


def analyze_transcripts(transcripts: Iterable[Transcript], out: IO[str], *, taxonomy: str | None = None,
                        config: PipelineConfig | None = None, batch_size: int = 64) -> AnalyzeSummary:
    """Analyse ``transcripts`` in batches and write one JSON line per utterance to ``out``."""
    if taxonomy is not None:
        load_taxonomy(taxonomy)  # fail before reading anything
    pipeline = Pipeline(config)
    summary = AnalyzeSummary()
    batch: list[Transcript] = []

    def flush() -> None:
        for doc in pipeline.analyze(batch, [taxonomy] * len(batch)):
            summary.transcripts += 1
            for row in utterance_rows(doc):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                summary.utterances += 1
        batch.clear()

    for transcript in transcripts:
        batch.append(transcript)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return summary


def analyze_files(paths: list[Path], output: Path, *, taxonomy: str | None = None,
                  config: PipelineConfig | None = None, reader_options: ReaderOptions | None = None) -> AnalyzeSummary:
    """Read transcripts from ``paths`` (any supported format) and write ``output`` as JSON lines."""
    rejected: list[str] = []

    def transcripts() -> Iterator[Transcript]:
        for record in iter_records(paths, reader_options):
            if record.transcript is None:
                rejected.append(f"{record.source}:{record.location}: {record.reason}")
            else:
                yield record.transcript

    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as handle:
        summary = analyze_transcripts(transcripts(), handle, taxonomy=taxonomy, config=config)
    summary.rejected = rejected
    return summary
