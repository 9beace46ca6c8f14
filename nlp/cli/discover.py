"""``journeylens discover``: cluster an archive's customer utterances into a draft taxonomy (nlp/discover), with
each topic's NEV and, from a scored store (``--db``), its contacts' pain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from nlp.cli.common import (
    ColumnOpt,
    ConfigOpt,
    EncodingOpt,
    FormatOpt,
    SettingsOpt,
    SpeakerMapOpt,
    _open_analytics,
    _print_table,
    _reader_options,
    app,
    console,
    out,
)


@app.command()
def discover(
    output: Annotated[Path, typer.Option(help="Draft taxonomy YAML to write (usable as --taxonomy unedited).")],
    paths: Annotated[list[Path] | None, typer.Argument(help="Transcript files or folders (read recursively); "
                                                            "or --db.")] = None,
    taxonomy: Annotated[str | None, typer.Option(help="An existing taxonomy (file or built-in name): report the "
                                                      "topics it covers badly (emerging topics).")] = None,
    language: Annotated[str | None, typer.Option(help="zh or en (default: detected from the utterances).")] = None,
    max_topics: Annotated[int, typer.Option(help="At most this many topics (the number is chosen by "
                                                 "silhouette, from half of it).")] = 12,
    topics: Annotated[int | None, typer.Option(help="Exactly this many clusters (before those under 1 % of the "
                                                    "sample are dropped); overrides --max-topics.")] = None,
    max_utterances: Annotated[int, typer.Option(help="Sample at most this many customer utterances "
                                                     "(uniformly, over the whole archive).")] = 3000,
    report: Annotated[Path | None, typer.Option(help="Also write the topics (sizes, terms, examples, coverage) "
                                                     "as JSON here.")] = None,
    db: Annotated[Path | None, typer.Option(help="Discover from this scored store instead of files: its stored "
                                                 "emotions, and each topic's contacts' pain.")] = None,
    config: ConfigOpt = None,
    settings: SettingsOpt = None,
    format: FormatOpt = None,
    column: ColumnOpt = None,
    speaker_map: SpeakerMapOpt = None,
    encoding: EncodingOpt = None,
) -> None:
    """What are customers contacting us about? Cluster customer utterances (e5 vectors, agglomerative clustering),
    name each cluster (c-TF-IDF terms), pick 5 examples, and write a draft taxonomy YAML. Each topic's NEV comes
    from the configured emotion scorer (files) or the stored emotions (--db), its pain from the store (--db)."""
    from nlp.analytics.settings import load_analytics_settings
    from nlp.config import load_config
    from nlp.discover import discover_paths, discover_store
    from nlp.schema.taxonomy import TaxonomyError, load_taxonomy
    from nlp.steps.stages.embedding import shared_vectors

    paths = paths or []
    if bool(paths) == (db is not None):
        raise typer.BadParameter("give transcript files or folders, or --db (not both)", param_hint="PATHS")
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise typer.BadParameter(f"not found: {', '.join(missing)}", param_hint="PATHS")
    if language not in (None, "zh", "en"):
        raise typer.BadParameter("zh or en", param_hint="--language")
    if not 2 <= max_topics <= 200:
        raise typer.BadParameter("between 2 and 200", param_hint="--max-topics")
    if topics is not None and not 2 <= topics <= 200:
        raise typer.BadParameter("between 2 and 200", param_hint="--topics")
    if topics is not None:
        max_topics = topics
    existing = None
    if taxonomy is not None:
        try:
            existing = load_taxonomy(taxonomy)
        except TaxonomyError as error:
            raise typer.BadParameter(str(error), param_hint="--taxonomy") from error
    progress = lambda message: console.print(f"[dim]{message}", highlight=False)  # noqa: E731
    try:
        pipeline_config = load_config(config)
        common = {"max_utterances": max_utterances, "language": language, "max_topics": max_topics,
                  "min_topics": topics, "taxonomy": existing, "progress": progress,
                  "vectors": shared_vectors(pipeline_config.sentence_encoder)}
        if db is not None:
            store, analytics = _open_analytics(db, settings)
            with store:
                result = discover_store(store.con, analytics, **common)
        else:
            options = _reader_options(format, column, speaker_map, encoding, False)
            weights = load_analytics_settings(settings).emotion_weights
            result = discover_paths(paths, options, emotion_scorer=pipeline_config.emotion_scorer, weights=weights,
                                    **common)
    except ValueError as error:
        console.print(f"[red]{error}", highlight=False)
        raise typer.Exit(1) from error
    output.write_text(result.to_yaml(output.stem), encoding="utf-8")
    table = Table(title=f"{len(result.topics)} topics from {result.sampled:,} sampled customer utterances "
                        f"({result.seen:,} seen; {result.noise:,} in clusters too small to keep)")
    for name in ("id", "name", "size", "share", "NEV", "pain", "keywords", "example"):
        table.add_column(name)
    if existing is not None:
        table.add_column("covered by")
    for topic in result.topics:
        row = [topic.id, topic.name, f"{topic.size:,}", f"{topic.share:.1%}",
               "—" if topic.nev is None else f"{topic.nev:+.1f}", "—" if topic.pain is None else f"{topic.pain:.1f}",
               ", ".join(topic.terms[:4]),
               topic.examples[0] if topic.examples else ""]
        if topic.coverage is not None:
            row.append(f"{topic.coverage['best_stage'] or '-'} {topic.coverage['best_stage_share']:.0%}, "
                       f"other {topic.coverage['other_share']:.0%}")
        table.add_row(*row)
    _print_table(table)
    if existing is not None:
        out.print(f"emerging topics (covered badly by {existing.name}): "
                  + (", ".join(f"{t.id} {t.name}" for t in result.emerging) or "none"))
    if report is not None:
        report.write_text(json.dumps(result.report(), ensure_ascii=False, indent=1), encoding="utf-8")
    out.print(f"wrote {output} ({len(result.topics)} stages)")
