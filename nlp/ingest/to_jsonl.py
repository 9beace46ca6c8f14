"""``journeylens analyze``: transcripts in, one JSON line per utterance out, without a database.

Each line carries the ids, speaker (and the source's label), times, our labels, and beside them what the source
platform said (Contact Lens, Transcribe Call Analytics, CCAI): ``vendor_sentiment`` of the turn, ``vendor_issues``
(the turn's words it marked as the issue) and ``vendor_categories`` (the contact's categories).

The same ``Pipeline`` as the bulk scorer (redaction, segmentation, journey classifier, emotion, topical
segments); ``taxonomy`` overrides the business line's taxonomy for every transcript. Nothing is lost: as
in ``nlp.ingest.local``, a record that cannot be read or analysed goes, redacted and with its reason, to the
quarantine file ``OUTPUT.quarantine.jsonl``, and ``read == analysed + quarantined`` (``nlp.ingest.run``, shared by
every ingest path).

With ``adapt`` (the ``fewshot`` classifiers only) the input is read twice: the first pass self-trains a stage head
per taxonomy on the input's own utterances (``nlp.training.stages.adapt``, no labels), the second
analyses with it.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from nlp.config import PipelineConfig
from nlp.ingest.run import (
    Quarantine,
    RunLedger,
    RunSummary,
    analyze_transcripts,
    batch_records,
    new_run_id,
    quarantine_path_for,
)
from nlp.pipeline import Pipeline
from nlp.readers import ReaderOptions, iter_records
from nlp.schema.document import AnalyzedTranscript
from nlp.schema.fields import row
from nlp.schema.taxonomy import load_taxonomy
from nlp.store import vendor_issues, vendor_sentiment


@dataclass
class AnalyzeSummary(RunSummary):
    """The run's counts (``counts.scored``: transcripts analysed and written) and what only ``analyze`` tells."""

    utterances: int = 0
    adaptations: dict = field(default_factory=dict)  # taxonomy -> stage_training.Adaptation
    duplicate_ids: Counter = field(default_factory=Counter)  # id -> times it was read after the first
    unknown_speaker_lines: Counter = field(default_factory=Counter)  # label -> lines left out (text reader)


def utterance_rows(doc: AnalyzedTranscript) -> Iterator[dict]:
    """The output rows of one analysed transcript, in utterance order."""
    theirs = doc.transcript.metadata.get("vendor_categories") or None  # the platform's own, beside ours
    for u in doc.utterances:
        fields = {name: value.isoformat() if isinstance(value, datetime) else value
                  for name, value in row(u, "jsonl").items()}  # the Utterance fields (nlp.schema.fields)
        yield {"transcript_id": doc.transcript.id, **fields,
               "vendor_sentiment": vendor_sentiment(doc.transcript, u.turn_index),
               "vendor_issues": vendor_issues(doc.transcript, u.turn_index), "vendor_categories": theirs}


def analyze_files(paths: list[Path], output: Path, *, taxonomy: str | None = None,
                  config: PipelineConfig | None = None, reader_options: ReaderOptions | None = None,
                  batch_size: int = 64, adapt: bool = False) -> AnalyzeSummary:
    """Read transcripts from ``paths`` (any supported format) and write ``output`` as JSON lines."""
    if taxonomy is not None:
        load_taxonomy(taxonomy)  # fail before reading anything
    pipeline = Pipeline(config)
    if adapt and not pipeline.config.journey_classifier.startswith("fewshot"):
        raise ValueError(f"adapting needs a fewshot classifier, not {pipeline.config.journey_classifier!r}")
    adaptations = adapt_to_input(pipeline, paths, taxonomy, reader_options) if adapt else {}
    # never leave a stale quarantine from an earlier run
    ledger = RunLedger(Quarantine(quarantine_path_for(output), new_run_id(), pipeline.redactor, fresh=True))
    summary = ledger.summary(output, kind=AnalyzeSummary, adaptations=adaptations)
    output.parent.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()  # ids written: a second transcript with one of them is written too, and counted
    try:
        with output.open("w", encoding="utf-8") as handle:
            for batch, rejected, _ in batch_records(iter_records(paths, reader_options), batch_size):
                ledger.read(batch, rejected)
                kept, failures = analyze_transcripts(pipeline, batch, taxonomy) if batch else ([], [])
                ledger.reject(*failures)
                for _, doc in kept:
                    if doc.transcript.id in seen:
                        summary.duplicate_ids[doc.transcript.id] += 1
                    seen.add(doc.transcript.id)
                    left_out = doc.transcript.metadata.get("unknown_speaker_lines")
                    if isinstance(left_out, dict):
                        summary.unknown_speaker_lines.update(left_out)
                    summary.counts.scored += 1
                    for row in utterance_rows(doc):
                        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                        summary.utterances += 1
    finally:
        ledger.close()
    summary.quarantine_path = ledger.quarantine_path
    return summary


def adapt_to_input(pipeline: Pipeline, paths: list[Path], taxonomy: str | None,
                   reader_options: ReaderOptions | None, max_contacts: int = 20_000) -> dict:
    """First pass of ``adapt``: the utterances of up to ``max_contacts`` readable transcripts per taxonomy, then
    ``stage_training.adapt`` per taxonomy; an adapted classifier replaces the pipeline's. Returns the
    ``Adaptation`` of each taxonomy."""
    from nlp.training.stages import adapt

    sequences: dict[str, list[list[tuple[str, str]]]] = defaultdict(list)
    for record in iter_records(paths, reader_options):
        if record.transcript is None:
            continue
        try:
            doc = pipeline.prepare(record.transcript, taxonomy)
        except Exception:  # noqa: BLE001 - the second pass quarantines it with its reason
            continue
        if len(sequences[doc.taxonomy]) < max_contacts:
            sequences[doc.taxonomy].append([(u.speaker, u.text) for u in doc.utterances])
    results = {}
    for name, contacts in sequences.items():
        results[name] = adapt(pipeline.classifier(name), contacts)
        if results[name].classifier is not None:
            pipeline.use_classifier(name, results[name].classifier)
    return results
