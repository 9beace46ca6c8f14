"""The performance record: every engine and its baselines in one run, written into docs/performance.md.

One command, one session, ratios against baselines measured in the same run (the machine is noisy):

- **throughput** on a generated archive of ``--throughput-size`` transcripts (default 100k): the local engine
  with 1 and 2 workers and the Spark engine in local mode (``local[2]``, JVM start included), each a separate
  process, with the default configuration (lexicon emotion): wall time, transcripts/s, utterances/s, peak RSS of
  the process tree; Spark's time over the local engine's (2 workers); and the local engine (2 workers) with our
  transformer emotion models (``emotion_scorer: transformer``) on the first ``--transformer-size`` transcripts;
- **baselines** on the utterances of the same archive (its first ``--sample`` turns, every speaker): snownlp's
  sentiment (``SnowNLP(text).sentiments``, one text at a time, as its users call it) and a plain unbatched
  ``transformers`` text-classification pipeline of our own shipped emotion model, one text at a time; the
  engines' utterances/s over each, and the same counting only the customer utterances the engine scored for
  emotion (it does much more per utterance: reading, cleaning, redaction, segmentation, stage classification,
  emotion, storage);
- **memory** at each of ``--sizes`` (default 10k, 100k, 1M): peak RSS of the local engine (2 workers), to show
  that memory stays flat in archive size.

    python scripts/bench_all.py                       # the full record (about two hours on 2 cores)
    python scripts/bench_all.py --sizes 2000 --throughput-size 2000 --no-write   # a smoke run

Results go to stdout, to ``--json`` and (unless ``--no-write``) into docs/performance.md between the
``bench_all`` markers. snownlp comes with the ``bench`` extra (``pip install -e .[bench]``); a missing baseline is
reported as such, never guessed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import run_measured, write_archive  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench_all:begin -->", "<!-- bench_all:end -->"


def stored_counts(db: Path) -> tuple[int, int, int]:
    """Transcripts, utterances and customer utterances (the ones scored for emotion) in a store."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT (SELECT count(*) FROM transcripts), (SELECT count(*) FROM utterances), "
                           "(SELECT count(*) FROM utterances WHERE speaker = 'customer')").fetchone()


def local_engine(archive: Path, work: Path, workers: int, scorer: str = "lexicon") -> dict:
    """``journeylens score`` on ``archive`` with ``emotion_scorer: scorer`` (lexicon: the default before
    2026-12-01, kept so runs stay comparable; the default is now fast)."""
    db = work / f"local_{archive.stem}_{workers}_{scorer}.duckdb"
    config = work / f"{scorer}.yaml"
    config.write_text(f"emotion_scorer: {scorer}\n", encoding="utf-8")
    seconds, rss = run_measured([sys.executable, "-m", "nlp.cli", "score", str(archive), "--db", str(db),
                                 "--workers", str(workers), "--config", str(config)])
    transcripts, utterances, customer = stored_counts(db)
    db.unlink()
    return {"engine": f"local, {workers} worker{'s' if workers > 1 else ''}, {scorer} emotion", "seconds": seconds,
            "transcripts": transcripts, "utterances": utterances, "customer_utterances": customer,
            "peak_rss_mb": rss / 2**20}


def spark_engine(archive: Path, work: Path) -> dict:
    output, db = work / "spark_out", work / "spark.duckdb"
    seconds, rss = run_measured([sys.executable, "-m", "nlp.cli", "score", str(archive), "--engine", "spark",
                                 "--master", "local[2]", "--output", str(output)])
    run_measured([sys.executable, "-m", "nlp.cli", "import-parquet", str(output), "--db", str(db)])
    transcripts, utterances, customer = stored_counts(db)
    return {"engine": "spark local[2], lexicon emotion", "seconds": seconds, "transcripts": transcripts,
            "utterances": utterances, "customer_utterances": customer, "peak_rss_mb": rss / 2**20}


def archive_utterances(archive: Path, limit: int) -> list[str]:
    """The first ``limit`` turns' text of the archive, every speaker, as the baselines would be given them."""
    texts: list[str] = []
    with gzip.open(archive, "rt", encoding="utf-8") as handle:
        for line in handle:
            texts += [t["text"] for t in json.loads(line)["turns"]]
            if len(texts) >= limit:
                break
    return texts[:limit]


def snownlp_rate(texts: list[str]) -> dict:
    try:
        from snownlp import SnowNLP
    except ImportError:
        return {"baseline": "snownlp", "error": "snownlp is not installed (pip install -e .[bench])"}
    started = time.perf_counter()
    for text in texts:
        SnowNLP(text).sentiments  # noqa: B018 - the computation is the property access
    return {"baseline": "snownlp sentiment, one text at a time", "texts": len(texts),
            "seconds": time.perf_counter() - started}


def transformers_rate(texts: list[str], model: Path) -> dict:
    if not (model / "config.json").is_file():
        return {"baseline": "transformers pipeline", "error": f"no model at {model}"}
    import torch
    from transformers import pipeline

    torch.set_num_threads(2)
    classify = pipeline("text-classification", model=str(model), tokenizer=str(model), device=-1)
    limit = {"truncation": True, "max_length": classify.model.config.max_position_embeddings}
    classify(texts[0], **limit)  # load and warm up outside the timing
    started = time.perf_counter()
    for text in texts:
        classify(text, **limit)
    return {"baseline": f"transformers pipeline of {model.name}, unbatched", "texts": len(texts),
            "seconds": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--throughput-size", type=int, default=100_000)
    parser.add_argument("--transformer-size", type=int, default=10_000,
                        help="transcripts scored with the transformer emotion models")
    parser.add_argument("--sample", type=int, default=5_000, help="utterances given to each baseline")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "emotion-zh")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "bench_all.json")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args()
    record: dict = {"date": datetime.now(UTC).date().isoformat(),
                    "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                    "throughput": [], "baselines": [], "memory": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        archives: dict[int, Path] = {}

        def archive(size: int) -> Path:
            if size not in archives:
                archives[size] = work / f"archive_{size}.jsonl.gz"
                write_archive(archives[size], size, args.seed)
            return archives[size]

        main_archive = archive(args.throughput_size)
        runs = (lambda: local_engine(main_archive, work, 1), lambda: local_engine(main_archive, work, 2),
                lambda: spark_engine(main_archive, work),
                lambda: local_engine(archive(args.transformer_size), work, 2, scorer="transformer"))
        for measure in runs:
            run = measure()
            run["transcripts_per_s"] = run["transcripts"] / run["seconds"]
            run["utterances_per_s"] = run["utterances"] / run["seconds"]
            run["customer_utterances_per_s"] = run["customer_utterances"] / run["seconds"]
            record["throughput"].append(run)
            print(json.dumps(run), flush=True)
        texts = archive_utterances(main_archive, args.sample)
        for baseline in (snownlp_rate(texts), transformers_rate(texts, args.model)):
            if "seconds" in baseline:
                baseline["texts_per_s"] = baseline["texts"] / baseline["seconds"]
            record["baselines"].append(baseline)
            print(json.dumps(baseline), flush=True)
        for size in args.sizes:
            run = local_engine(archive(size), work, 2) if size != args.throughput_size else record["throughput"][1]
            record["memory"].append({"transcripts": size, "peak_rss_mb": run["peak_rss_mb"],
                                     "seconds": run["seconds"]})
            print(json.dumps(record["memory"][-1]), flush=True)
            if size in archives and size != args.throughput_size:
                archives.pop(size).unlink()
    record["ratios"] = ratios(record)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=1, ensure_ascii=False))
    section = render(record, " ".join(sys.argv[1:]))
    print(section)
    if not args.no_write:
        text = DOC.read_text(encoding="utf-8")
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        DOC.write_text(f"{head}{BEGIN}\n{section}\n{END}{tail}", encoding="utf-8")


def ratios(record: dict) -> dict:
    local1, local2, spark, transformer = record["throughput"]
    out = {"spark_time_over_local_2_workers": spark["seconds"] / local2["seconds"],
           "local_2_workers_speedup_over_1": local1["seconds"] / local2["seconds"]}
    for engine in (local2, transformer):
        for baseline in record["baselines"]:
            if "texts_per_s" in baseline:
                name = f"{engine['engine']}: utterances/s over {baseline['baseline']}"
                out[name] = engine["utterances_per_s"] / baseline["texts_per_s"]
                customer = engine["customer_utterances_per_s"] / baseline["texts_per_s"]
                out[f"{name} (customer utterances only)"] = customer
    rss = [m["peak_rss_mb"] for m in record["memory"]]
    out["peak_rss_largest_over_smallest"] = rss[-1] / rss[0]
    return out


def render(record: dict, arguments: str) -> str:
    command = f"python scripts/bench_all.py {arguments}".strip()
    lines = [f"Measured {record['date']} on {record['machine']} by `{command}`.", "",
             "| engine | transcripts | utterances (customer) | seconds | transcripts/s | utterances/s | "
             "customer utterances/s | peak RSS MB |",
             "|---|---|---|---|---|---|---|---|"]
    for r in record["throughput"]:
        lines.append(f"| {r['engine']} | {r['transcripts']:,} | {r['utterances']:,} ({r['customer_utterances']:,}) | "
                     f"{r['seconds']:.1f} | {r['transcripts_per_s']:.1f} | {r['utterances_per_s']:,.0f} | "
                     f"{r['customer_utterances_per_s']:,.0f} | {r['peak_rss_mb']:,.0f} |")
    lines += ["", "| baseline (the archive's first utterances) | texts | seconds | texts/s |", "|---|---|---|---|"]
    for b in record["baselines"]:
        if "error" in b:
            lines.append(f"| {b['baseline']} | — | — | not measured: {b['error']} |")
        else:
            lines.append(f"| {b['baseline']} | {b['texts']:,} | {b['seconds']:.1f} | {b['texts_per_s']:,.0f} |")
    lines += ["", "| archive (local engine, 2 workers) | seconds | peak RSS MB |", "|---|---|---|"]
    lines += [f"| {m['transcripts']:,} transcripts | {m['seconds']:.1f} | {m['peak_rss_mb']:,.0f} |"
              for m in record["memory"]]
    lines += ["", "| ratio (same run) | value |", "|---|---|"]
    lines += [f"| {name.replace('_', ' ')} | {value:.2f}× |" for name, value in record["ratios"].items()]
    lines += ["", "The engines read, clean, redact, segment and classify every utterance (agent turns included) and "
              "score the customer ones for emotion; the baselines score every utterance they are given (a sample "
              "of the same archive's turns, every speaker). The ratios \"customer utterances only\" count just "
              "the utterances the engine scored for emotion: the stricter comparison."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
