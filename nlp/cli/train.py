"""Training commands: ``train-stages``."""

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
