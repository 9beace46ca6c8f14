"""Commands that read transcripts and run the pipeline: ``score``, ``demo``, ``score-text``, ``analyze``,
``export``, ``import-parquet``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from nlp.cli.common import (
    BuiltinCategoriesOpt,
    CategoriesOpt,
    ColumnOpt,
    ConfigOpt,
    EncodingOpt,
    FormatOpt,
    GuessSpeakersOpt,
    SpeakerMapOpt,
    _category_names,
    _database_errors,
    _pairs,
    _print_stage_table,
    _print_table,
    _reader_options,
    app,
    console,
    out,
)
from nlp.config import load_config
from nlp.ingest.local import archive_inputs, score_archive
from nlp.ingest.run import RunSummary
from nlp.readers import total_bytes
from nlp.resources import demo_archive
from nlp.steps.redact import Redactor
from nlp.store import TABLES, Store


def _run_with_progress(paths: list[Path], db: Path, **kwargs) -> RunSummary:
    total = total_bytes(archive_inputs(paths, db)[0])
    started = time.monotonic()
    columns = (
        TextColumn("[bold]scoring"), BarColumn(), TaskProgressColumn(),
        TextColumn("{task.fields[done]:,} transcripts · {task.fields[rate]:,.0f}/s"), TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("score", total=max(total, 1), done=0, rate=0.0)

        def update(position: int, counts) -> None:
            done = counts.scored + counts.skipped + counts.quarantined + counts.replaced
            bar.update(task, completed=position, done=done, rate=done / max(time.monotonic() - started, 1e-6))

        return score_archive(paths, db, progress=update, **kwargs)


def _print_summary(summary: RunSummary) -> None:
    counts = summary.counts
    table = Table(title=f"run {summary.run_id}", show_header=False)
    for label, value in (("read", counts.read), ("scored", counts.scored),
                         ("quarantined", counts.quarantined), ("skipped (already scored)", counts.skipped),
                         ("replaced (a later record had the same id)", counts.replaced)):
        table.add_row(label, f"{value:,}")
    _print_table(table)
    if not counts.reconciles:
        console.print("[red]counts do not reconcile: read ≠ scored + quarantined + skipped + replaced")
    if counts.repaired:
        console.print(f"[yellow]{counts.repaired:,} record(s) kept after a repair (an unreadable time dropped, a "
                      "broken character replaced): each lists what in metadata.warnings")
    if summary.own_files:
        console.print(f"[yellow]not read (the store's own files): {', '.join(map(str, summary.own_files))}")
    if counts.quarantined:
        reasons = ", ".join(f"{n} × {r}" for r, n in summary.reasons)
        console.print(f"[yellow]{counts.quarantined} record(s) quarantined in {summary.quarantine_path}: {reasons}")
    out.print(f"{'database' if summary.output.suffix == '.duckdb' else 'written to'}: {summary.output}")


@app.command()
def score(
    paths: Annotated[list[Path], typer.Argument(help="Transcript files or folders (read recursively).")],
    db: Annotated[Path, typer.Option(help="DuckDB file to write.")] = Path("journeylens.duckdb"),
    workers: Annotated[int, typer.Option(min=1, help="Worker processes for scoring.")] = 1,
    format: FormatOpt = None,
    column: ColumnOpt = None,
    speaker_map: SpeakerMapOpt = None,
    encoding: EncodingOpt = None,
    guess_speakers: GuessSpeakersOpt = False,
    config: ConfigOpt = None,
    no_redact: Annotated[bool, typer.Option("--no-redact", help="Store text without PII redaction.")] = False,
    strict: Annotated[bool, typer.Option(help="Exit with status 1 if any record was quarantined.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Transcripts per scoring batch.")] = 64,
    engine: Annotated[str, typer.Option(help="local (DuckDB file) or spark (Parquet folder, see docs/scale.md).")]
    = "local",
    master: Annotated[str | None, typer.Option(help="Spark master: local[*], spark://host:7077, yarn … (default: "
                                                    "spark-submit's or spark-defaults.conf's, else local[*]).")] = None,
    output: Annotated[Path | None, typer.Option(help="Spark engine: Parquet folder to write (replaced).")] = None,
    partitions: Annotated[int | None, typer.Option(min=1, help="Spark engine: scoring partitions.")] = None,
    spark_conf: Annotated[list[str] | None, typer.Option(help="Spark engine: a Spark setting KEY=VALUE, "
                                                              "repeatable.")] = None,
) -> None:
    """Score transcript archives into a DuckDB file, resumably (or with Spark into Parquet tables); unreadable
    records go to quarantine."""
    if engine not in ("local", "spark"):
        raise typer.BadParameter("choose local or spark", param_hint="--engine")
    if engine == "spark" and output is None:
        raise typer.BadParameter("the spark engine writes Parquet tables to a folder: give --output DIR",
                                 param_hint="--output")
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise typer.BadParameter(f"not found: {', '.join(missing)}", param_hint="PATHS")
    options = _reader_options(format, column, speaker_map, encoding, guess_speakers)
    try:
        pipeline_config = load_config(config)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--config") from error
    if no_redact:
        pipeline_config.redact = []
    if engine == "spark":
        from nlp.ingest.spark import score_on_spark  # pyspark is imported only when asked for

        summary = score_on_spark(paths, output, pipeline_config, options, master=master, partitions=partitions,
                                 batch_size=batch_size, spark_conf=_pairs(spark_conf, "--spark-conf"))
    else:
        with _database_errors(db):
            summary = _run_with_progress(paths, db, config=pipeline_config, reader_options=options,
                                         workers=workers, batch_size=batch_size)
    _print_summary(summary)
    if strict and summary.counts.quarantined:
        raise typer.Exit(1)


@app.command()
def demo(
    db: Annotated[Path, typer.Option(help="DuckDB file to write.")] = Path("journeylens-demo.duckdb"),
    workers: Annotated[int, typer.Option(min=1, help="Worker processes for scoring.")] = 1,
) -> None:
    """Score the bundled demo archive and print the stage-level table."""
    archive = demo_archive()
    if not archive.is_file():
        raise typer.BadParameter(f"{archive} is missing: run scripts/generate_demo.py --out data/demo/")
    with _database_errors(db):
        _print_summary(_run_with_progress([archive], db, workers=workers))
        _print_stage_table(db)


@app.command("score-text")
def score_text(
    input: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV, TSV or JSONL file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file (.csv, .tsv or .jsonl).")],
    text_column: Annotated[str, typer.Option(help="Column (CSV) or key (JSONL) holding the text.")] = "text",
    lang: Annotated[str, typer.Option(help="zh, en, or auto (per row).")] = "auto",
    scorer: Annotated[str | None, typer.Option(help="fast, fast:DIR, encoder, encoder:DIR, transformer, "
                                                    "transformer:PATH (any HF model dir) or lexicon (default: "
                                                    "emotion_scorer of --config, as `score` uses).")]
    = None,
    config: Annotated[Path | None, typer.Option(help="Pipeline configuration (YAML), as for `score`.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Texts per model batch.")] = 256,
    quarantine: Annotated[Path | None, typer.Option(help="Bad rows (default: OUTPUT.quarantine.jsonl).")] = None,
) -> None:
    """Add sentiment, sentiment_score, emotion, emotion_coarse and emotion_confidence to every row of a file."""
    from nlp.ingest.score_text import score_text_file

    try:
        pipeline_config = load_config(config)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--config") from error
    columns = (TextColumn("[bold]scoring"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[rows]:,} rows"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("score", total=input.stat().st_size or 1, rows=0)
        try:
            done = score_text_file(input, output, text_column, lang, scorer or pipeline_config.emotion_scorer,
                                   batch_size, quarantine, to_simplified=pipeline_config.to_simplified,
                                   on_progress=lambda read, rows: progress.update(task, completed=read, rows=rows),
                                   redactor=Redactor(tuple(pipeline_config.redact)))
        except (ValueError, FileNotFoundError) as error:
            raise typer.BadParameter(str(error)) from error
    counts = done.counts
    console.print(f"read {counts.read:,} rows · wrote {counts.scored:,} to {output} · "
                  f"quarantined {counts.quarantined:,}"
                  + (f" to {done.quarantine_path}" if done.quarantine_path else "")
                  + f" · {counts.scored / max(done.seconds, 1e-9):,.0f} rows/s")
    for reason, count in done.reasons:
        console.print(f"  {count:,} × {reason}")


@app.command()
def export(
    table: Annotated[str, typer.Argument(help=f"Table to export: {', '.join(TABLES)}.")],
    output: Annotated[Path, typer.Option(help="Parquet file to write.")],
    db: Annotated[Path, typer.Option(help="DuckDB file to read.")] = Path("journeylens.duckdb"),
) -> None:
    """Export one table of the store to Parquet."""
    if not db.is_file():
        raise typer.BadParameter(f"{db} does not exist", param_hint="--db")
    with _database_errors(db), Store(db, read_only=True) as store:
        try:
            path = store.export_parquet(table, output)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="TABLE") from error
    out.print(f"wrote {path}")


@app.command("import-parquet")
def import_parquet_command(
    folder: Annotated[Path, typer.Argument(help="Output folder of `journeylens score --engine spark`.")],
    db: Annotated[Path, typer.Option(help="DuckDB file to load into (created if missing).")] = Path(
        "journeylens.duckdb"),
) -> None:
    """Load Parquet tables written by the Spark engine into a DuckDB store for the analytics, API and dashboard."""
    from nlp.ingest.spark import import_parquet

    try:
        with _database_errors(db):
            counts = import_parquet(folder, db)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="FOLDER") from error
    out.print(f"imported {counts.scored:,} transcripts from {Redactor()(str(folder))} into {db}")


@app.command()
def analyze(
    paths: Annotated[list[Path], typer.Argument(help="Transcript files or folders (read recursively).")],
    output: Annotated[Path, typer.Option(help="JSON lines to write, one per utterance.")],
    taxonomy: Annotated[str | None, typer.Option(help="Taxonomy file or built-in name (default: per business "
                                                      "line, from the configuration).")] = None,
    classifier: Annotated[str | None, typer.Option(help="Journey classifier: keyword, fewshot, fewshot-untrained "
                                                        "or encoder (default: configuration).")] = None,
    format: FormatOpt = None,
    column: ColumnOpt = None,
    speaker_map: SpeakerMapOpt = None,
    encoding: EncodingOpt = None,
    guess_speakers: GuessSpeakersOpt = False,
    config: ConfigOpt = None,
    adapt: Annotated[bool, typer.Option(help="fewshot or encoder: read the input twice and self-train the stage "
                                             "model on it first (needs about 100+ contacts; no labels).")] = False,
    strict: Annotated[bool, typer.Option(help="Exit with status 1 if any record was quarantined.")] = False,
    categories: CategoriesOpt = None,
    builtin_categories: BuiltinCategoriesOpt = True,
) -> None:
    """Label every utterance with stage, issue type, service step, segment, emotion and categories; write JSON
    lines. Exits with status 1 when nothing could be analysed (and, with --strict, when anything was quarantined)."""
    from nlp.ingest.to_jsonl import analyze_files
    from nlp.schema.taxonomy import TaxonomyError, load_taxonomy
    from nlp.steps.registry import JOURNEY_CLASSIFIERS

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise typer.BadParameter(f"not found: {', '.join(missing)}", param_hint="PATHS")
    options = _reader_options(format, column, speaker_map, encoding, guess_speakers)
    if classifier is not None and classifier not in JOURNEY_CLASSIFIERS:
        raise typer.BadParameter(f"choose from {', '.join(JOURNEY_CLASSIFIERS)}", param_hint="--classifier")
    try:
        pipeline_config = load_config(config)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--config") from error
    if classifier is not None:
        pipeline_config.journey_classifier = classifier
    pipeline_config.categories = _category_names(pipeline_config.categories, categories, builtin_categories)
    if taxonomy is not None:
        try:
            load_taxonomy(taxonomy)
        except TaxonomyError as error:
            raise typer.BadParameter(str(error), param_hint="--taxonomy") from error
    if adapt and not pipeline_config.journey_classifier.startswith(("fewshot", "encoder")):
        raise typer.BadParameter(f"--adapt needs --classifier fewshot or encoder (the configuration says "
                                 f"{pipeline_config.journey_classifier!r})", param_hint="--adapt")
    summary = analyze_files(paths, output, taxonomy=taxonomy, config=pipeline_config,
                            reader_options=options, adapt=adapt)
    for name, adaptation in summary.adaptations.items():
        out.print(f"{name}: " + (f"adapted to {adaptation.contacts:,} contacts "
                                 f"({adaptation.confident_utterances:,} confidently labelled utterances)"
                                 if adaptation.classifier is not None else f"not adapted: {adaptation.reason}"))
    counts = summary.counts
    out.print(f"read {counts.read:,} · analysed {counts.scored:,} transcripts, {summary.utterances:,} "
              f"utterances → {output} · quarantined {counts.quarantined:,}"
              + (f" to {summary.quarantine_path}" if summary.quarantine_path else ""))
    for reason, count in summary.reasons:
        console.print(f"  [yellow]{count:,} × {reason}", highlight=False, soft_wrap=True)
    if summary.unknown_speaker_lines:
        labels = ", ".join(f"{n:,} × {label}" for label, n in summary.unknown_speaker_lines.most_common(10))
        console.print(f"[yellow]{summary.unknown_speaker_lines.total():,} line(s) with an unknown speaker label left "
                      f"out: {labels}; map them with --speaker-map LABEL=ROLE", highlight=False, soft_wrap=True)
    if summary.duplicate_ids:
        repeated = ", ".join(list(summary.duplicate_ids)[:5]) + (" …" if len(summary.duplicate_ids) > 5 else "")
        console.print(f"[yellow]{sum(summary.duplicate_ids.values()):,} transcript(s) share an id with an earlier one "
                      f"(both written): {repeated}", highlight=False, soft_wrap=True)
    if counts.read and not counts.scored:
        console.print("[red]nothing could be analysed: every record was quarantined", highlight=False)
        raise typer.Exit(1)
    if not counts.read:
        console.print("[red]nothing to analyse: no records found", highlight=False)
        raise typer.Exit(1)
    if strict and counts.quarantined:
        raise typer.Exit(1)
