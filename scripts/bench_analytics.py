#!/usr/bin/env python3
"""Time the analytics on a store of about a million utterances.

Takes a scored DuckDB file (default: the demo, scored first if missing), copies its transcripts, utterances,
segments and promises ``--copies`` times under new transcript, order and customer ids into a fresh file (real
scored rows, so the distributions are those of the pipeline's output), then times, each ``--repeat`` times in
one process: a baseline scan (customer utterances counted per stage and sentiment), ``rank``, ``trend``,
``impact`` and ``journey``. Reports the median seconds and the ratio to the baseline.

    python scripts/bench_analytics.py --copies 20 --json bench/analytics.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from nlp.analytics.journeys import find_journey
from nlp.analytics.rankings import rank_stages
from nlp.analytics.settings import AnalyticsSettings
from nlp.analytics.trends import impact, stage_trend
from nlp.store import Store

ID_COLUMNS = {"transcripts": ("transcript_id", "order_id", "customer_id")}


def replicate(source: Path, target: Path, copies: int) -> None:
    Store(target).close()  # the schema
    with duckdb.connect(str(target)) as con:
        con.execute(f"ATTACH '{source}' AS src (READ_ONLY)")
        con.execute("CREATE TEMP TABLE k AS SELECT range AS k FROM range($n)", {"n": copies})
        for table in ("transcripts", "utterances", "segments", "promises"):
            columns = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'src' "
                "AND table_name = $t ORDER BY ordinal_position", {"t": table}).fetchall()]
            select = ", ".join(f"{c} || '~' || k.k AS {c}" if c in ("transcript_id", "order_id", "customer_id")
                               else c for c in columns)
            con.execute(f"INSERT INTO {table} BY NAME SELECT {select} FROM src.{table}, k")


def timed(function, repeat: int) -> float:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=Path("journeylens-demo.duckdb"))
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not args.source.is_file():
        subprocess.run([sys.executable, "-m", "nlp.cli", "demo", "--db", str(args.source)], check=True,
                       stdout=subprocess.DEVNULL)
    settings = AnalyticsSettings()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "big.duckdb"
        replicate(args.source, db, args.copies)
        with duckdb.connect(str(db), read_only=True) as con:
            utterances, transcripts = con.execute(
                "SELECT (SELECT count(*) FROM utterances), (SELECT count(*) FROM transcripts)").fetchall()[0]
            key = con.execute("SELECT order_id FROM transcripts WHERE order_id LIKE '614652615571~%' "
                              "LIMIT 1").fetchall()[0][0]
            baseline = timed(lambda: con.execute(
                "SELECT stage, sentiment, count(*) FROM utterances WHERE speaker = 'customer' GROUP BY ALL").df(),
                args.repeat)
            results = {"utterances": utterances, "transcripts": transcripts, "baseline_scan_s": round(baseline, 3)}
            for name, function in {
                "rank": lambda: rank_stages(con, settings),
                "trend_week": lambda: stage_trend(con, settings),
                "impact": lambda: impact(con, settings, date(2026, 9, 15)),
                "journey": lambda: find_journey(con, settings, key),
            }.items():
                seconds = timed(function, args.repeat)
                results[f"{name}_s"] = round(seconds, 3)
                results[f"{name}_vs_baseline"] = round(seconds / baseline, 1)
    text = json.dumps(results, indent=1)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text)


if __name__ == "__main__":
    main()
