#!/usr/bin/env python3
"""Time ``GET /v1/discover`` on a real server over a scored store: cold (first call after start: encoder load,
sampling, embedding, clustering, naming) and warm (the same call again: served from the cache), and the cold call
after an ingest changed the store (the encoder is loaded and the texts' vectors are remembered by then).

Takes a scored DuckDB file (default: the demo, scored first if missing), copies it, starts ``journeylens serve``
on the copy with 1 inference worker (waiting for a discovery rather than answering 202, so one request is one
measurement), and asks with ``--sample`` utterances and ``--max-topics``.

    python scripts/bench_discover.py --sample 2000 --json bench/discover.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root: tests/support/server.py

import httpx  # noqa: E402

from service.keys import KeyStore  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402


def timed(client: httpx.Client, params: dict) -> tuple[float, dict]:
    started = time.perf_counter()
    response = client.get("/v1/discover", params=params)
    seconds = time.perf_counter() - started
    response.raise_for_status()
    assert response.status_code == 200, response.text
    return seconds, response.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=Path("journeylens-demo.duckdb"))
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--max-topics", type=int, default=12)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not args.source.is_file():
        subprocess.run([sys.executable, "-m", "nlp.cli", "demo", "--db", str(args.source)], check=True,
                       stdout=subprocess.DEVNULL)
    params = {"sample": args.sample, "max_topics": args.max_topics}
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.duckdb"
        shutil.copy(args.source, db)
        _, key = KeyStore(Path(folder) / "bench.keys.json").create("bench")
        # one request per measurement: the server waits for the computation instead of answering 202
        settings = {"workers": 1, "rate_limit_per_second": 0, "request_timeout_s": 900, "discover_wait_s": 890}
        with ServerProcess(db, Path(folder) / "server.log", settings) as server, \
                httpx.Client(base_url=server.url, timeout=900, headers={"X-API-Key": key}) as client:
            cold, body = timed(client, params)
            warm, _ = timed(client, params)
            turns = [{"speaker": "customer", "text": "骑手把餐送错地址了，怎么办"},
                     {"speaker": "agent", "text": "马上为您处理"}]
            transcript = {"id": "bench-discover-1", "channel": "chat", "turns": turns}
            client.post("/v1/transcripts", json=transcript).raise_for_status()
            after_ingest, _ = timed(client, params)
    results = {"sample": args.sample, "max_topics": args.max_topics, "sampled": body["sampled"],
               "seen": body["seen"], "topics": len(body["topics"]), "cold_s": round(cold, 2),
               "warm_s": round(warm, 3), "after_ingest_s": round(after_ingest, 2)}
    text = json.dumps(results, indent=1)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text)


if __name__ == "__main__":
    main()
