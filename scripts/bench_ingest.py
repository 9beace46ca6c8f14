"""Benchmark bulk ingestion: transcripts/s and peak memory of `journeylens score` on generated archives.

For each archive size (default 10k and 100k transcripts from scripts/generate_demo.py) it runs, in one
session and each as a separate process:
  - read-only: parse and validate every record, nothing else (the baseline: the cost of reading),
  - score with 1 worker, and with 2 workers, into a fresh DuckDB file,
and reports wall time, transcripts/s, utterances/s, peak RSS of the whole process tree (sampled every 0.1 s),
the peak RSS of the main process (reader and store writer) and of the largest worker process on its own,
and the ratios against the read-only baseline. Results go to stdout as a Markdown table and to --json.

    python scripts/bench_ingest.py --sizes 10000 100000 --json bench/ingest.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_demo import generate  # noqa: E402

READ_ONLY = (
    "import sys; from nlp.readers import iter_records\n"
    "n = sum(1 for r in iter_records([sys.argv[1]]) if r.transcript is not None)\n"
    "print(n)\n"
)


def write_archive(path: Path, n: int, seed: int) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for transcript, _ in generate(n, seed=seed):
            handle.write(json.dumps(transcript, ensure_ascii=False) + "\n")


def run_measured(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) summed over the process tree, sampled every 0.1 s."""
    seconds, peak, _ = run_measured_detail(command)
    return seconds, peak


def run_measured_detail(command: list[str]) -> tuple[float, int, dict[str, int]]:
    """As ``run_measured``, plus each process's own peak RSS (bytes): ``main`` (the command's process: the reader
    and, in a bulk run, the store writer) and ``largest_child`` (with ``--workers 2``, the larger of the worker
    processes' peaks; 0 when the command starts no child)."""
    started = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, main_peak, child_peaks = 0, 0, {}
    while process.poll() is None:
        try:
            children = process.children(recursive=True)
            sizes = {p.pid: p.memory_info().rss for p in children if p.is_running()}
            main_rss = process.memory_info().rss
            peak = max(peak, main_rss + sum(sizes.values()))
            main_peak = max(main_peak, main_rss)
            for pid, rss in sizes.items():
                child_peaks[pid] = max(child_peaks.get(pid, 0), rss)
        except psutil.Error:
            pass
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{command} failed: {process.stderr.read().decode()[-2000:]}")
    return elapsed, peak, {"main": main_peak, "largest_child": max(child_peaks.values(), default=0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            archive = Path(tmp) / f"archive_{size}.jsonl.gz"
            write_archive(archive, size, args.seed)
            read_s, read_rss = run_measured([sys.executable, "-c", READ_ONLY, str(archive)])
            row = {"transcripts": size, "archive_mb": round(archive.stat().st_size / 2**20, 1),
                   "read_only_s": round(read_s, 1), "read_only_rss_mb": round(read_rss / 2**20)}
            for workers in (1, 2):
                db = Path(tmp) / f"bench_{size}_{workers}.duckdb"
                seconds, rss, each = run_measured_detail([sys.executable, "-m", "nlp.cli", "score", str(archive),
                                                          "--db", str(db), "--workers", str(workers)])
                with duckdb.connect(str(db), read_only=True) as con:
                    stored, utterances = con.execute(
                        "SELECT (SELECT count(*) FROM transcripts), (SELECT count(*) FROM utterances)"
                    ).fetchone()
                assert stored == size, f"stored {stored} of {size} transcripts"
                row[f"w{workers}_s"] = round(seconds, 1)
                row[f"w{workers}_transcripts_per_s"] = round(size / seconds, 1)
                row[f"w{workers}_utterances_per_s"] = round(utterances / seconds)
                row[f"w{workers}_peak_rss_mb"] = round(rss / 2**20)
                row[f"w{workers}_main_process_peak_rss_mb"] = round(each["main"] / 2**20)
                row[f"w{workers}_largest_worker_peak_rss_mb"] = round(each["largest_child"] / 2**20)
                row[f"w{workers}_vs_read_only"] = round(seconds / read_s, 2)
                row["utterances"] = utterances
            row["speedup_2_vs_1_workers"] = round(row["w1_s"] / row["w2_s"], 2)
            results.append(row)
            print(json.dumps(row), flush=True)
    print_table(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


def print_table(results: list[dict]) -> None:
    columns = list(results[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in results:
        print("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")


if __name__ == "__main__":
    main()
