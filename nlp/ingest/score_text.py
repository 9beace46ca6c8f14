"""``journeylens score-text``: score a column of texts in a CSV or JSONL file, streaming, in batches.

Every readable row is written to the output with ``sentiment, sentiment_score, emotion, emotion_coarse,
emotion_confidence`` added (existing columns of those names are replaced). Rows that cannot be read, decoded or
scored go to a quarantine file instead (``OUTPUT.quarantine.jsonl``), as every ingest path writes it
(``nlp.ingest.run``: source, line, reason, raw row); ``read == scored (written) + quarantined``. PII is replaced
in everything written, output rows, quarantine and the reasons printed alike (values and column names), as the
pipeline's ``redact`` kinds say. The input's encoding is
sniffed as the transcript readers sniff it (UTF-8, GB18030/GBK, …; ``nlp.readers.source``), and a row with bytes
that do not decode is quarantined rather than scored as garbage. The output format follows the output's
extension (``.csv``/``.tsv`` or ``.jsonl``/``.ndjson``), the input's likewise. Texts are normalized as in the
pipeline (width folding, traditional → simplified) before scoring.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlp.ingest.run import (
    Quarantine,
    Rejection,
    RunLedger,
    RunSummary,
    analyze_isolated,
    batch_records,
    new_run_id,
    quarantine_path_for,
)
from nlp.readers.source import Source
from nlp.readers.tabular import CSV_FIELD_LIMIT
from nlp.steps.normalize import normalize_text
from nlp.steps.redact import Redactor, map_strings
from nlp.steps.registry import EmotionScorer, load_emotion_scorer
from nlp.steps.sentences import Segmenter, detect_language

SCORE_COLUMNS = ("sentiment", "sentiment_score", "emotion", "emotion_coarse", "emotion_confidence")
_CSV_SUFFIXES = {".csv": ",", ".tsv": "\t"}
_JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
csv.field_size_limit(CSV_FIELD_LIMIT)


@dataclass
class ScoreTextSummary(RunSummary):
    """The run's counts (``counts.scored``: rows scored and written) and what only ``score-text`` tells."""

    languages: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def rows_read(self) -> int:
        return self.counts.read

    @property
    def rows_written(self) -> int:
        return self.counts.scored

    @property
    def rows_quarantined(self) -> int:
        return self.counts.quarantined


@dataclass
class _Text:
    """A readable row's text, ready to score."""

    source: str
    location: str
    record: dict[str, Any]
    text: str
    language: str

    @property
    def raw(self) -> str:
        """The row as read, for the quarantine."""
        return json.dumps(self.record, ensure_ascii=False)


@dataclass
class _Row:
    line: int
    record: dict[str, Any] | None  # None: unreadable
    raw: str | None  # the line as read, for unreadable rows
    reason: str | None = None


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _CSV_SUFFIXES:
        return suffix
    if suffix in _JSONL_SUFFIXES:
        return ".jsonl"
    raise ValueError(f"{path}: unknown format {suffix!r}: use .csv, .tsv, .jsonl or .ndjson")


def _read_csv(handle: io.TextIOBase, delimiter: str) -> Iterator[_Row]:
    reader = csv.reader(handle, delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    for values in reader:
        line = reader.line_num
        if not values:
            continue
        if len(values) != len(header):
            yield _Row(line, None, delimiter.join(values), f"expected {len(header)} fields, found {len(values)}")
            continue
        yield _Row(line, dict(zip(header, values, strict=True)), None)


def _read_jsonl(handle: io.TextIOBase) -> Iterator[_Row]:
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            yield _Row(line, None, text.rstrip("\n"), f"invalid JSON: {error.msg}")
            continue
        except RecursionError:
            yield _Row(line, None, text.rstrip("\n"), "invalid JSON: nested too deeply")
            continue
        if not isinstance(record, dict):
            yield _Row(line, None, text.rstrip("\n"), "not a JSON object")
            continue
        yield _Row(line, record, None)


class _Writer:
    def __init__(self, path: Path, fmt: str) -> None:
        self.handle = open(path, "w", encoding="utf-8", newline="")
        self.fmt = fmt
        self.csv: csv.DictWriter | None = None

    def write(self, record: dict[str, Any]) -> None:
        if self.fmt == ".jsonl":
            self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            return
        if self.csv is None:
            fields = [k for k in record if k not in SCORE_COLUMNS] + list(SCORE_COLUMNS)
            self.csv = csv.DictWriter(self.handle, fieldnames=fields, delimiter=_CSV_SUFFIXES[self.fmt],
                                      extrasaction="ignore")
            self.csv.writeheader()
        self.csv.writerow({k: _cell(v) for k, v in record.items()})

    def close(self) -> None:
        self.handle.close()


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def score_texts(scorer: EmotionScorer, texts: list[str], languages: list[str], segmenter: Segmenter) -> list:
    """One ``EmotionScore`` per text, each scored as one customer utterance (``score-text``, ``discover``)."""
    batch = getattr(scorer, "score_texts", None)
    if batch is not None:
        return batch(texts, languages)
    from nlp.schema.document import Utterance

    utterances = [Utterance(turn_index=0, sentence_index=0, speaker="customer", text=t, language=lang,
                            tokens=segmenter.tokens(t, lang)) for t, lang in zip(texts, languages, strict=True)]
    return scorer.score(utterances)


def score_text_file(
    input_path: Path,
    output_path: Path,
    text_column: str = "text",
    language: str = "auto",
    scorer: str | EmotionScorer | None = None,
    batch_size: int = 256,
    quarantine_path: Path | None = None,
    to_simplified: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
    redactor: Redactor | None = None,
) -> ScoreTextSummary:
    """Score ``input_path`` into ``output_path``; ``on_progress(bytes_read, rows_read)`` after every batch.
    ``scorer`` None: the default pipeline configuration's ``emotion_scorer``, the one ``journeylens score`` uses;
    ``redactor`` (default: the default configuration's) redacts the output, the quarantine and the reasons."""
    import time

    from nlp.config import PipelineConfig

    if language not in ("zh", "en", "auto"):
        raise ValueError(f"language must be zh, en or auto, not {language!r}")
    in_format, out_format = file_format(input_path), file_format(output_path)
    if input_path.resolve() == output_path.resolve():
        raise ValueError("the output must not overwrite the input")
    defaults = PipelineConfig()
    scorer = scorer or defaults.emotion_scorer
    model = load_emotion_scorer(scorer) if isinstance(scorer, str) else scorer
    redact = redactor or Redactor(tuple(defaults.redact))
    # never leave a stale quarantine from an earlier run
    ledger = RunLedger(Quarantine(quarantine_path or quarantine_path_for(output_path), new_run_id(), redact,
                                  fresh=True))
    summary = ledger.summary(output_path, kind=ScoreTextSummary)
    segmenter = Segmenter()
    started = time.perf_counter()
    encoding = Source(input_path).encoding
    binary = open(input_path, "rb")
    # Undecodable bytes become lone surrogates, so that the row holding them is quarantined, not the whole file.
    handle = io.TextIOWrapper(binary, encoding=encoding, errors="surrogateescape", newline="")
    rows = _read_jsonl(handle) if in_format == ".jsonl" else _read_csv(handle, _CSV_SUFFIXES[in_format])
    writer = _Writer(output_path, out_format)
    source = str(input_path)

    def prepare(row: _Row) -> _Text | Rejection:
        text, reason = _text_of(row, text_column, encoding)
        if text is None:
            raw = row.raw if row.raw is not None else json.dumps(row.record, ensure_ascii=False)
            return Rejection(source, f"line {row.line}", reason, raw)
        text = normalize_text(text, to_simplified=to_simplified)
        return _Text(source, f"line {row.line}", row.record, text,
                     language if language != "auto" else detect_language(text))

    def score(part: Sequence[_Text]) -> list:
        return score_texts(model, [t.text for t in part], [t.language for t in part], segmenter)

    try:
        for batch, rejected, _ in batch_records(rows, batch_size, prepare):
            ledger.read(batch, rejected)
            kept, failures = analyze_isolated(batch, score, "scoring error") if batch else ([], [])
            ledger.reject(*failures)
            for item, result in kept:
                item.record.update(sentiment=result.sentiment, sentiment_score=result.sentiment_score,
                                   emotion=result.emotion, emotion_coarse=result.emotion_coarse,
                                   emotion_confidence=result.emotion_confidence)
                writer.write(map_strings(item.record, redact))
                summary.counts.scored += 1
                summary.languages[item.language] += 1
            if on_progress:
                on_progress(binary.tell(), summary.counts.read)
    finally:
        writer.close()
        handle.close()
        ledger.close()
    summary.quarantine_path = ledger.quarantine_path
    summary.seconds = time.perf_counter() - started
    return summary


def _text_of(row: _Row, text_column: str, encoding: str) -> tuple[str | None, str]:
    """The row's text to score, or None and why there is none."""
    if row.record is None:
        return None, row.reason or "unreadable"
    value = row.record.get(text_column)
    if text_column not in row.record:
        return None, f"no column {text_column!r}"
    if not isinstance(value, str):
        return None, f"{text_column!r} is not text"
    if not value.strip():
        return None, f"{text_column!r} is empty"
    if not _is_unicode(row.record):
        return None, f"undecodable text: bytes that are not {encoding}, or a lone surrogate"
    return value, ""


def _is_unicode(record: dict[str, Any]) -> bool:
    """Whether the row can be written as UTF-8: no lone surrogates (undecodable bytes, a truncated emoji)."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
