"""Training commands: ``train-stages``, ``train-emotion``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from nlp.cli.common import (
    ColumnOpt,
    EncodingOpt,
    FormatOpt,
    GuessSpeakersOpt,
    SpeakerMapOpt,
    _print_table,
    _reader_options,
    app,
    out,
)


@app.command("train-stages")
def train_stages_command(
    taxonomy: Annotated[str, typer.Option(help="Taxonomy file or built-in name; the model is saved next to it.")],
    labels: Annotated[Path | None, typer.Option(help="CSV or JSONL with text and stage (optional "
                                                      "transcript_id, turn_index).")] = None,
    unlabelled: Annotated[list[Path] | None, typer.Option(help="Unlabelled transcripts to self-train on "
                                                               "(repeatable).")] = None,
    min_confidence: Annotated[float, typer.Option(min=0.5, max=1.0, help="Self-training keeps utterances "
                                                                         "labelled at least this sure.")] = 0.8,
    holdout: Annotated[float, typer.Option(min=0.0, max=0.9, help="Share of labelled rows held out to report "
                                                                   "accuracy before the final fit.")] = 0.2,
    format: FormatOpt = None,
    column: ColumnOpt = None,
    speaker_map: SpeakerMapOpt = None,
    encoding: EncodingOpt = None,
    guess_speakers: GuessSpeakersOpt = False,
) -> None:
    """Train the stage head of the fewshot classifier from labelled utterances and/or unlabelled transcripts."""
    from nlp.schema.taxonomy import TaxonomyError
    from nlp.training.stages import train_stages

    options = _reader_options(format, column, speaker_map, encoding, guess_speakers)  # for --unlabelled
    try:
        report = train_stages(taxonomy, labels, unlabelled=unlabelled, min_confidence=min_confidence,
                              holdout=holdout, reader_options=options)
    except TaxonomyError as error:
        raise typer.BadParameter(str(error), param_hint="--taxonomy") from error
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--labels") from error
    table = Table(title=f"stage model · {report.taxonomy}", show_header=False)
    table.add_row("labelled utterances", f"{report.labelled:,}")
    table.add_row("self-trained utterances", f"{report.self_trained:,}")
    if report.unreadable:
        table.add_row("unreadable unlabelled records (skipped)", f"{report.unreadable:,}")
    for stage, count in report.per_stage.items():
        table.add_row(f"  {stage}", f"{count:,}")
    table.add_row("held-out accuracy (per utterance)",
                  "—" if report.holdout_accuracy is None else f"{report.holdout_accuracy:.3f}")
    table.add_row("stage switch probability", "—" if report.switch_prob is None else f"{report.switch_prob:.4f}")
    _print_table(table)
    out.print(f"saved {report.weights} and {report.metadata}")


@app.command("train-emotion")
def train_emotion_command(
    labels: Annotated[Path, typer.Argument(help="CSV, TSV or JSONL with one labelled text per row.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model directory to write (use it as "
                                                                "`emotion_scorer: fast:DIR`).")],
    text_column: Annotated[str, typer.Option(help="Column (CSV) or key (JSONL) holding the text.")] = "text",
    label_column: Annotated[str, typer.Option(help="Column or key holding the label.")] = "label",
    label_map: Annotated[Path | None, typer.Option(help="YAML mapping your labels to ours (好评: positive, "
                                                        "差评: negative, 投诉: anger …).")] = None,
    base: Annotated[Path | None, typer.Option(help="n-gram model to start from (default models/emotion-fast).")]
    = None,
    folds: Annotated[int, typer.Option(min=2, max=10, help="k of the k-fold comparison.")] = 5,
    epochs: Annotated[int, typer.Option(min=1, max=100, help="Passes over the rows per fit.")] = 8,
) -> None:
    """Tune the fast emotion model on your labelled utterances; print k-fold macro-F1 of the shipped and the tuned
    model on your labels, and write a model directory for `emotion_scorer: fast:DIR`."""
    from nlp.training.emotion_user import LabelFileError, read_label_file, read_label_map, train_user_model

    try:
        mapping = read_label_map(label_map) if label_map else None
    except (LabelFileError, OSError) as error:
        raise typer.BadParameter(str(error), param_hint="--label-map") from error
    try:
        rows = read_label_file(labels, text_column, label_column, mapping)
    except (LabelFileError, OSError, UnicodeDecodeError) as error:
        raise typer.BadParameter(str(error), param_hint="LABELS") from error
    report = train_user_model(rows, output, base=base, folds=folds, epochs=epochs)
    table = Table(title=f"emotion model · {labels.name}", show_header=False)
    table.add_row("labelled rows", f"{report.rows:,}")
    for label, count in sorted(report.per_label.items()):
        table.add_row(f"  {label}", f"{count:,}")
    table.add_row(f"{report.folds}-fold macro-F1, shipped model", f"{report.shipped_macro_f1:.4f}")
    table.add_row(f"{report.folds}-fold macro-F1, tuned model", f"{report.tuned_macro_f1:.4f}")
    table.add_row("seconds", f"{report.seconds:.1f}")
    _print_table(table)
    out.print(f"saved {report.output} — use it with `emotion_scorer: fast:{report.output}` or "
              f"`score-text --scorer fast:{report.output}`")
