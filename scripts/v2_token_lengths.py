#!/usr/bin/env python3
"""Why v2 can read the shared 128-token vectors: how many texts exceed its head's 64 tokens, and what changes.

The emotion v2 head was trained on 64-token e5 vectors; in the pipeline it reads the 128-token ``TextVectors`` of
the stage heads (one pass per utterance). A text of ≤ 64 tokens has the same vectors at either length, so only
longer texts can change. Per dev set of ``scripts/eval_emotion.py`` (same capped rows): texts over 64 tokens and
v2 predictions (sentiment or coarse emotion) that differ between the two cached vector sets (both must be filled:
run eval_emotion.py before and after); and the longest pipeline utterance of the first demo contacts.

    python scripts/v2_token_lengths.py --json bench/v2_token_lengths.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
import emotion_data as data  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    from transformers import AutoTokenizer

    from nlp.config import PipelineConfig
    from nlp.pipeline import Pipeline
    from nlp.readers import iter_records
    from nlp.steps.e5_conversion import ensure_e5_directory
    from nlp.steps.emotion.e5 import EncoderEmotionModel
    from nlp.steps.emotion.ngram import decide
    from nlp.training.emotion import EmbeddingCache

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cap", type=int, default=500)
    parser.add_argument("--demo-contacts", type=int, default=400)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    directory = ensure_e5_directory()
    tokenizer = AutoTokenizer.from_pretrained(directory)

    def lengths(texts: list[str]) -> list[int]:
        return [len(ids) for ids in tokenizer([f"query: {t}" for t in texts])["input_ids"]]

    model = EncoderEmotionModel(ROOT / "models" / "emotion-v2", encoder=object())  # vectors come from the caches
    short, long = (EmbeddingCache.for_encoder(directory, n, False) for n in (64, 128))
    out: dict = {"cap": args.cap, "sets": {}}
    for name, (_lang, texts, _gold, _kind) in data.capped_eval_sets(args.cap).items():
        if name.endswith("+context"):
            continue
        before = decide(*model.probabilities(texts, vectors=short.vectors(texts)))
        after = decide(*model.probabilities(texts, vectors=long.vectors(texts)))
        out["sets"][name] = {"rows": len(texts), "over_64_tokens": sum(n > 64 for n in lengths(texts)),
                             "changed": sum((a.sentiment, a.emotion_coarse) != (b.sentiment, b.emotion_coarse)
                                            for a, b in zip(before, after, strict=True))}
        print(name, out["sets"][name], flush=True)
    pipeline = Pipeline(PipelineConfig(journey_classifier="keyword"))
    texts = [u.text for r, _ in zip(iter_records([ROOT / "data" / "demo" / "archive.jsonl.gz"]),
                                    range(args.demo_contacts), strict=False) if r.transcript is not None
             for u in pipeline.prepare(r.transcript).utterances]
    n = lengths(texts)
    out["demo"] = {"contacts": args.demo_contacts, "utterances": len(n), "over_64_tokens": sum(k > 64 for k in n),
                   "max_tokens": max(n)}
    print("demo", out["demo"], flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
