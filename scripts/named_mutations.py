#!/usr/bin/env python3
"""The bugs users fear, planted one at a time: each named mutation must make at least one test fail.

Issue 16 named the small deliberate bugs that once passed every test (a pipeline failure dropped instead of
quarantined, the batch write without its transaction, PII stored verbatim, pain components set to zero, …). This
script applies each to a copy of the project (``--workdir``; the work tree is never modified), runs the tests that
are meant to catch it, and prints whether they did and which test failed. Exit status 1 if any mutation is not
caught. mutmut (``scripts/mutation.py``) measures the tests at large; this keeps these particular promises pinned.

    python scripts/named_mutations.py            # all (about 4 minutes on 2 cores: Chromium, Spark, servers)
    python scripts/named_mutations.py 3 5        # by number
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPY = ["nlp", "service", "tests", "models", "data", "pyproject.toml"]

# (what the bug is, file, the code as it is, the bug, the tests meant to catch it)
MUTATIONS: list[tuple[str, str, str, str, list[str]]] = [
 ("pipeline failure dropped, not quarantined", "nlp/ingest/run.py",
  "    return list(zip(kept, results, strict=True)), [rejection_for(item, stage, error) for item, error in culprits]",
  "    return list(zip(kept, results, strict=True)), []",
  ["tests/test_bulk.py", "-k", "poison or rows_cannot_be_built or pipeline"]),
 ("batch write without its transaction", "nlp/store.py",
  '        self.con.execute("BEGIN TRANSACTION")', '        pass',
  ["tests/test_bulk.py", "-k", "killed_inside or kill"]),
 ("order_id stored verbatim", "nlp/pipeline.py",
  '            "order_id": pseudonymize(transcript.order_id),', '            "order_id": transcript.order_id,',
  ["tests/test_pii_scan.py"]),
 ("speaker_label stored verbatim", "nlp/pipeline.py",
  '                "speaker_label": clean(turn.speaker_label) if turn.speaker_label else None,',
  '                "speaker_label": turn.speaker_label,',
  ["tests/test_pii_scan.py"]),
 ("Spark quarantine raw unredacted", "nlp/ingest/spark.py",
  "    entries = [quarantine_entry(r, run_id, redactor, at) for r in rejections]",
  "    entries = [{**quarantine_entry(r, run_id, redactor, at), 'raw': r.raw} for r in rejections]",
  ["tests/test_pii_scan.py", "tests/test_spark_engine.py", "-k", "quarantine or file_written"]),
 ("long_wait component zero", "nlp/analytics/contacts.py",
  '"long_wait": (facts["max_wait_s"] >= facts["channel"]', '"long_wait": 0 * (facts["max_wait_s"] >= facts["channel"]',
  ["tests/test_analytics.py", "-k", "hand or pain"]),
 ("transfer component zero", "nlp/analytics/contacts.py",
  '        "transfer": (facts["n_agents"] - 1).clip(lower=0, upper=1).astype(float),',
  '        "transfer": (facts["n_agents"] * 0).astype(float),',
  ["tests/test_analytics.py", "-k", "hand or pain"]),
 ("promise fallback deadline ignored", "nlp/analytics/promises.py",
  "WHEN next_started > coalesce(fallback, deadline)", "WHEN next_started > deadline",
  ["tests/test_analytics.py", "-k", "fallback"]),
 ("robust-z constant changed", "nlp/analytics/trends.py",
  "    return 0.6745 * (values - median) / mad", "    return 0.675 * (values - median) / mad",
  ["tests/test_analytics.py", "tests/test_alerts.py", "-k", "robust"]),
 ("买家 mapped to agent", "nlp/schema/speakers.py",
  '        "客服", "坐席", "座席",', '        "客服", "坐席", "座席", "买家",',
  ["tests/test_speakers.py"]),
 ("quadrant x and y swapped on the dashboard", "nlp/analytics/charts/charts.js",
  "x: rows.map((p) => p.share), y: rows.map((p) => p.pain),",
  "x: rows.map((p) => p.pain), y: rows.map((p) => p.share),",
  ["tests/test_dashboard.py", "-k", "quadrant"]),
 ("API key compared on its first 24 characters", "service/keys.py",
  'hashlib.sha256(key.encode("utf-8"))', 'hashlib.sha256(key[:24].encode("utf-8"))',
  ["tests/test_service_security.py", "-k", "last_character"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("numbers", nargs="*", type=int, help="mutations to run (default: all)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/journeylens-named-mutations"))
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.duckdb", "*.duckdb.wal")
    for name in COPY:
        source = ROOT / name
        (shutil.copytree(source, args.workdir / name, ignore=ignore) if source.is_dir()
         else shutil.copy2(source, args.workdir / name))
    env = {**os.environ, "PYTHONPATH": str(args.workdir)}
    missed = []
    for number, (name, path, old, new, tests) in enumerate(MUTATIONS, 1):
        if args.numbers and number not in args.numbers:
            continue
        file = args.workdir / path
        original = file.read_text(encoding="utf-8")
        if original.count(old) != 1:
            raise SystemExit(f"{number}. {name}: {path} no longer holds the code this mutation changes; update it")
        file.write_text(original.replace(old, new), encoding="utf-8")
        try:
            started = time.monotonic()
            done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                                  cwd=args.workdir, env=env, capture_output=True, text=True, timeout=1800)
            failed = [line.split(" - ")[0].removeprefix("FAILED ") for line in done.stdout.splitlines()
                      if line.startswith("FAILED")]
            caught = done.returncode == 1 and bool(failed)
            if not caught:
                missed.append(number)
            print(f"{number:2d}. {name}: {'caught by ' + ', '.join(failed) if caught else 'NOT CAUGHT'}"
                  f" ({time.monotonic() - started:.0f} s)", flush=True)
        finally:
            file.write_text(original, encoding="utf-8")
    print(f"{'all caught' if not missed else f'not caught: {missed}'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
