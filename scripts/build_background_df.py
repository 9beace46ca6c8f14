#!/usr/bin/env python3
"""Build the background document-frequency table that weights stage-classifier features (idf).

Counts, per feature of ``nlp.steps.stages.features.text_features``, how many texts contain it, over public
Chinese review, Weibo and TV-dialogue texts and English emotion and banking-intent texts from ``../shared/data``
(licences in models/stages/README.md). None of the stage evaluation sets (MultiWOZ, the demo archive, the
Chinese dev set) is read. Features seen in fewer than ``--min-df`` texts are dropped.

    python scripts/build_background_df.py --data ../shared/data --out models/stages/background_df.tsv.gz
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nlp.steps.normalize import normalize_text  # noqa: E402
from nlp.steps.stages.features import BackgroundIdf, text_features  # noqa: E402

SOURCES = {  # file -> text column
    "sentiment_zh/waimai_10k.train.csv": "text",
    "sentiment_zh/chnsenticorp_htl.train.csv": "text",
    "sentiment_zh/online_shopping_10_cats.train.csv": "text",
    "emotion_zh/cped.dev.csv": "Utterance",
    "emotion_zh/smp2020_ewect.train.jsonl": "text",
    "emotion_en/goemotions.train.csv": "text",
    "intent_en/banking77.train.csv": "text",
}


def iter_texts(data: Path):
    for name, column in SOURCES.items():
        path = data / name
        if name.endswith(".jsonl"):
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    yield json.loads(line)[column]
        else:
            with path.open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    yield row[column]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("models/stages/background_df.tsv.gz"))
    parser.add_argument("--min-df", type=int, default=3)
    args = parser.parse_args()
    df: Counter = Counter()
    n_docs = 0
    for text in iter_texts(args.data):
        df.update(set(text_features(normalize_text(text, to_simplified=True))))
        n_docs += 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    BackgroundIdf.write(args.out, df, n_docs, min_df=args.min_df)
    kept = sum(1 for c in df.values() if c >= args.min_df)
    print(f"{n_docs} texts, {len(df)} features, {kept} kept (df >= {args.min_df}) -> {args.out}")


if __name__ == "__main__":
    main()
