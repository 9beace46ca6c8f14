#!/usr/bin/env python3
"""Throughput of the bulk ``score`` pipeline on the demo archive with each emotion scorer (lexicon, fast, …).

Runs ``nlp.ingest.local.score_archive`` (the code behind ``journeylens score``) on data/demo/archive.jsonl.gz into a
fresh DuckDB file per scorer and prints utterances/s (all utterances stored, and the customer ones that were scored for
emotion) and transcripts/s; model loading is included in the time, as a user running ``score`` would see it.

    python scripts/bench_emotion_pipeline.py --scorers lexicon fast transformer --workers 1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp.config import PipelineConfig  # noqa: E402
from nlp.ingest.local import score_archive  # noqa: E402
from nlp.store import Store  # noqa: E402


def measure(archive: Path, scorer: str, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        started = time.perf_counter()
        summary = score_archive([archive], db, config=PipelineConfig(emotion_scorer=scorer), workers=workers)
        seconds = time.perf_counter() - started
        with Store(db, read_only=True) as store:
            total, customer = store.con.execute(
                "SELECT count(*), count(*) FILTER (WHERE sentiment IS NOT NULL) FROM utterances").fetchone()
    return {"scorer": scorer, "workers": workers, "transcripts": summary.counts.scored, "utterances": total,
            "scored_utterances": customer, "seconds": round(seconds, 1),
            "utterances_per_s": round(total / seconds, 1), "scored_utterances_per_s": round(customer / seconds, 1),
            "transcripts_per_s": round(summary.counts.scored / seconds, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, default=ROOT / "data" / "demo" / "archive.jsonl.gz")
    parser.add_argument("--scorers", nargs="+", default=["lexicon", "fast", "transformer"])
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    for scorer in args.scorers:
        print(json.dumps(measure(args.archive, scorer, args.workers)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
