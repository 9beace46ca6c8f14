"""Load benchmark of the HTTP API: POST /v1/analyze with realistic 20-turn Chinese transcripts.

This process is the client (httpx, asyncio); the server is a separate `journeylens serve` process (started
here on a free port and a temporary database, or an existing one with --url and --api-key). For each
concurrency level (default 1, 8 and 32) the client keeps that many requests in flight for --seconds after a
short warm-up, and reports throughput, p50 / p95 / p99 latency and the error count (any answer but 200, or a
failed request). Before the server starts it measures the in-process pipeline (`Pipeline.analyze` on the same
transcripts, already validated, in micro-batches of the server's size and one at a time), so the HTTP overhead
is visible as the ratio of the two.

Transcripts come from scripts/generate_demo.py: each is cut to 20 turns, and a shorter one is continued with
the turns of the next generated contact (a customer raising a second issue), so every request has 20 turns.

    python scripts/bench_api.py --seconds 60 --json bench/api.json
    python scripts/bench_api.py --seconds 30 --workers 2 --batch-max-size 16
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root: tests/support/server.py
from generate_demo import generate  # noqa: E402

from nlp.pipeline import Pipeline  # noqa: E402
from nlp.schema.transcript import Transcript  # noqa: E402
from service.keys import KeyStore  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

TURNS = 20
WARM_UP_S = 3.0


def transcripts(n: int, seed: int) -> list[dict]:
    """``n`` generated contacts of exactly 20 turns each."""
    generated = [t for t, _ in generate(n + 50, seed=seed)]
    result = []
    for i, transcript in enumerate(generated[:n]):
        turns = list(transcript["turns"])
        following = i + 1
        while len(turns) < TURNS:
            turns.extend(generated[following % len(generated)]["turns"])
            following += 1
        result.append({**transcript, "id": f"bench-{i:05d}", "turns": turns[:TURNS]})
    return result


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def in_process(pool: list[dict], seconds: float, batch_size: int) -> float:
    """Transcripts per second of ``Pipeline.analyze`` on validated transcripts, in batches of ``batch_size``."""
    pipeline = Pipeline()
    docs = [Transcript.model_validate(t) for t in pool]
    pipeline.analyze(docs[:batch_size])
    done, position, started = 0, 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        batch = [docs[(position + k) % len(docs)] for k in range(batch_size)]
        pipeline.analyze(batch)
        done += batch_size
        position += batch_size
    return done / (time.perf_counter() - started)


async def load(url: str, key: str, bodies: list[bytes], concurrency: int, seconds: float) -> dict:
    """Keep ``concurrency`` requests in flight for ``seconds``; latencies of the answers after the warm-up."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = 0
    headers = {"X-API-Key": key, "content-type": "application/json"}
    warm_until = time.perf_counter() + WARM_UP_S
    measure_until = warm_until + seconds

    async def user() -> None:
        # One client (one keep-alive connection) per simulated caller: one httpx pool shared by 32 callers caps
        # the client near 250 requests/s even against /healthz, so it would measure httpx instead of the server.
        nonlocal counter
        async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as client:
            while (now := time.perf_counter()) < measure_until:
                body = bodies[counter % len(bodies)]
                counter += 1
                try:
                    response = await client.post("/v1/analyze", content=body)
                    outcome = None if response.status_code == 200 else str(response.status_code)
                except httpx.HTTPError as error:
                    outcome = type(error).__name__
                if now >= warm_until:
                    if outcome is None:
                        latencies.append(time.perf_counter() - now)
                    else:
                        errors[outcome] = errors.get(outcome, 0) + 1

    await asyncio.gather(*(user() for _ in range(concurrency)))
    latencies.sort()
    return {
        "concurrency": concurrency, "seconds": seconds, "requests": len(latencies) + sum(errors.values()),
        "errors": sum(errors.values()), "error_kinds": errors,
        "throughput": round(len(latencies) / seconds, 1),
        "p50_ms": round(1000 * percentile(latencies, 50), 1), "p95_ms": round(1000 * percentile(latencies, 95), 1),
        "p99_ms": round(1000 * percentile(latencies, 99), 1),
    }


def batch_stats(url: str) -> tuple[float, float, float]:
    """(micro-batches, transcripts in them, inference seconds) so far, from the server's /metrics."""
    text = httpx.get(f"{url}/metrics", timeout=10).text

    def value(name: str) -> float:
        found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    return (value("journeylens_inference_batch_size_count"), value("journeylens_inference_batch_size_sum"),
            value("journeylens_inference_seconds_sum"))


def run(args: argparse.Namespace) -> dict:
    pool = transcripts(args.transcripts, args.seed)
    bodies = [json.dumps(t, ensure_ascii=False).encode("utf-8") for t in pool]
    report: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "server": {"workers": args.workers, "batch_max_size": args.batch_max_size,
                   "batch_max_wait_ms": args.batch_max_wait_ms, "url": args.url or "started by the benchmark"},
        "transcripts": {"count": len(pool), "turns": TURNS,
                        "mean_body_bytes": round(sum(map(len, bodies)) / len(bodies))},
    }
    print(f"in-process pipeline for {args.in_process_seconds:g} s per batch size …", file=sys.stderr)
    batched = in_process(pool, args.in_process_seconds, args.batch_max_size)
    single = in_process(pool, args.in_process_seconds, 1)
    report["in_process"] = {f"batch_{args.batch_max_size}": round(batched, 1), "batch_1": round(single, 1)}
    baseline = max(batched, single)

    with tempfile.TemporaryDirectory() as folder:
        if args.url:
            url, key, server = args.url, args.api_key, None
        else:
            _, key = KeyStore(Path(folder) / "bench.keys.json").create("bench")
            server = ServerProcess(Path(folder) / "bench.duckdb", Path(folder) / "server.log", {
                "workers": args.workers, "batch_max_size": args.batch_max_size,
                "batch_max_wait_ms": args.batch_max_wait_ms, "rate_limit_per_second": 0,
            })
            server.start()
            url = server.url
        try:
            levels = []
            for concurrency in args.concurrency:
                print(f"concurrency {concurrency} for {args.seconds:g} s …", file=sys.stderr)
                before = batch_stats(url)
                level = asyncio.run(load(url, key, bodies, concurrency, args.seconds))
                after = batch_stats(url)
                batches, items, infer_s = (a - b for a, b in zip(after, before, strict=True))
                level["mean_batch_size"] = round(items / batches, 1) if batches else None
                # Worker-seconds spent in Pipeline.analyze per second (1.0 = one worker busy all the time).
                level["inference_busy"] = round(infer_s / (args.seconds + WARM_UP_S), 2)
                level["vs_in_process"] = round(level["throughput"] / baseline, 2)
                levels.append(level)
            report["http"] = levels
        finally:
            if server is not None:
                server.stop()
    return report


def markdown(report: dict) -> str:
    rates = ", ".join(f"{name.replace('_', ' ')}: {rate} transcripts/s" for name, rate in report["in_process"].items())
    lines = [
        f"in-process Pipeline.analyze: {rates}",
        "",
        "| concurrency | requests | errors | throughput (/s) | p50 ms | p95 ms | p99 ms | mean batch | vs in-process |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for level in report["http"]:
        lines.append(f"| {level['concurrency']} | {level['requests']} | {level['errors']} | {level['throughput']} | "
                     f"{level['p50_ms']} | {level['p95_ms']} | {level['p99_ms']} | {level['mean_batch_size']} | "
                     f"{level['vs_in_process']:.0%} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--workers", type=int, default=1, help="server inference workers")
    parser.add_argument("--batch-max-size", type=int, default=32)
    parser.add_argument("--batch-max-wait-ms", type=float, default=0.0)
    parser.add_argument("--in-process-seconds", type=float, default=15.0)
    parser.add_argument("--transcripts", type=int, default=400, help="distinct transcripts to cycle through")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--url", help="an already running server (default: start one)")
    parser.add_argument("--api-key", help="key for --url")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.url and not args.api_key:
        parser.error("--url needs --api-key")
    report = run(args)
    print(markdown(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
