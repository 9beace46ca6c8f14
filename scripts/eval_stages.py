#!/usr/bin/env python3
"""Evaluate journey-stage classification: per-turn macro-F1 and segment-boundary F1, with a baseline alongside.

Datasets (each run against the same baseline: keyword match on the stage *names* carrying the last stage
forward, ``other`` before the first match; and against the taxonomy-keyword classifier ``keyword``):

- ``multiwoz``: MultiWOZ 2.1 dev turns (../shared/data/dialogue_en). Taxonomy = the five domains (attraction,
  hotel, restaurant, taxi, train) with a one-line description, a few keywords and 5 examples each, drawn from
  the *pool* dialogues (30 % of dialogues by hash of the id); scores are on the other 70 %. A turn's gold label
  is its act domain; ``Booking``-only turns keep the previous turn's domain; turns without a domain act
  (greetings, thanks) are not scored (and carry the previous domain for boundaries). A turn with two domains
  counts as right if the prediction is either. Supervised: 200 labelled pool turns per domain train a head.
- ``demo``: the generated demo archive against its planted per-turn stages, through the full pipeline.
- ``zh_dev``: our small hand-written Chinese dev set (tests/fixtures/stages/zh_dev.jsonl), built-in taxonomies;
  it was used when choosing the classifier's settings.
- ``zh_holdout``: twelve more hand-written Chinese contacts with one or two stage changes each
  (tests/fixtures/stages/zh_holdout.jsonl), written after the settings were fixed and never used to choose them.

Every dataset also runs ``fewshot_adapted`` (``analyze --adapt``): the few-shot classifier self-trained on the
unlabelled contacts it then labels, or plain few-shot where ``adapt`` declines (too few contacts).

``--datasets adapt_study`` (not in the default run) reports how ``adapt``'s thresholds were chosen (see
``adapt_study``); ``--datasets reason`` (not in the default run) how often the contact's reason stage (its first
non-``other`` segment's stage, what the analytics count) is the planted one on the first 600 demo contacts.

Not in the default run, because the ``encoder`` classifier embeds only ~20-40 texts/s on 2 cores (vectors are
cached under ~/.cache/journeylens/emb, outside the repository; ``--subsample`` dialogues per dataset, default 150):

- ``multiwoz_compare`` / ``crosswoz``: every classifier, ``encoder`` included, on the same seeded subsample of the
  evaluated MultiWOZ dev / CrossWOZ val (Chinese) dialogues; calibration; ``out_of_taxonomy``: the same dialogues
  against a taxonomy without some domains (how often their turns come out ``other``);
- ``banking77``: issue types, the 77 intents with 5 examples each, accuracy on 10 other texts per intent;
- ``discover``: ``journeylens discover`` on the subsamples' customer turns, NMI / ARI against the gold domains, and
  the drafted taxonomy used unedited (per-turn macro-F1 after mapping each drafted stage to its majority domain);
  NMI without the previous-turn context, and a supervised ceiling; ``discover_study``: the same with a fixed
  number of topics (6, 8, 10, 12), with and without the context;
- ``pipeline_speed``: transcripts/s of the whole pipeline with ``keyword`` and with ``encoder``, same run;
  ``encoder_speed``: texts/s of the e5 encoder itself; ``one_pass_speed``: with ``encoder`` classifier and
  ``encoder`` emotion scorer, v2 reading the shared vectors against v2 with an encoder of its own (two passes).

Clause stages (docs/stages.md, Clause stages; not in the default run): ``multi_domain``: MultiWOZ dev and CrossWOZ
val customer turns with two or more gold domains as sets, with and without clause stages, per classifier (the
encoder on ``--subsample`` dialogues); ``single_topic``: what they cost on the one-stage-per-turn sets (zh dev,
zh held-out, demo); ``reviews``: our hand-labelled multi-topic reviews through the whole pipeline;
``clause_thresholds``: how the clause thresholds were chosen (pool dialogues, first 400 demo contacts).

Boundaries: positions where the (carried) label changes between consecutive turns; F1 with exact position
(``tol0``) and within one turn (``tol1``). Speed: utterances/s of the classifier alone, single process.

    python scripts/eval_stages.py --json bench/eval_stages.json
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp.schema.taxonomy import Stage, Taxonomy, load_taxonomy  # noqa: E402
from nlp.steps.stages.fewshot import FewShotJourneyClassifier, FewShotSettings  # noqa: E402
from nlp.steps.stages.heads import fit_head  # noqa: E402
from nlp.training.stages import adapt, confident_labels  # noqa: E402

SHARED_DATA = ROOT.parent / "shared" / "data"
if not SHARED_DATA.is_dir():
    SHARED_DATA = Path("/work/shared/data")
MULTIWOZ = SHARED_DATA / "dialogue_en" / "multiwoz21_turns.dev.jsonl"
CROSSWOZ = SHARED_DATA / "dialogue_zh" / "crosswoz_turns.val.jsonl"
BANKING77 = SHARED_DATA / "intent_en" / "banking77.train.csv"
ZH_DOMAINS = ("attraction", "restaurant", "hotel", "metro", "taxi")
ZH_DEV = ROOT / "tests" / "fixtures" / "stages" / "zh_dev.jsonl"
ZH_HOLDOUT = ROOT / "tests" / "fixtures" / "stages" / "zh_holdout.jsonl"
DEMO = ROOT / "data" / "demo"
DEMO_TAXONOMY = {"food_delivery": "food_delivery", "hotel": "hotel_stay", "ecommerce": "ecommerce"}
DOMAINS = ("attraction", "hotel", "restaurant", "taxi", "train")
OTHER = "other"

# What a user would write for the MultiWOZ domains: a description and a handful of keywords, nothing tuned.
MULTIWOZ_STAGES = {
    "attraction": ("places to visit in town: museums, colleges, parks, theatres, entrance fees",
                   ["attraction", "museum", "college", "park", "theatre", "architecture", "entrance fee",
                    "sightseeing", "visit", "nightclub", "cinema", "pool"]),
    "hotel": ("a place to stay: hotels and guesthouses, stars, parking, wifi, booking rooms",
              ["hotel", "guesthouse", "guest house", "stay", "room", "stars", "parking", "wifi", "nights",
               "check in"]),
    "restaurant": ("a place to eat: cuisine, price range, area, booking a table",
                   ["restaurant", "food", "eat", "cuisine", "dinner", "lunch", "table", "dine", "chinese",
                    "italian", "indian"]),
    "taxi": ("a taxi between two places: pick-up time, destination, car type, contact number",
             ["taxi", "cab", "car", "pick up", "picked up", "driver", "contact number"]),
    "train": ("a train journey: departure and arrival stations, times, days, tickets",
              ["train", "depart", "arrive", "leave", "station", "ticket", "travel time", "railway"]),
}

# The same for CrossWOZ (Beijing trip planning), in Chinese, as a Chinese team would write it.
CROSSWOZ_STAGES = {
    "attraction": ("景点", "游览北京的景点：门票、游玩时间、评分、开放时间、周边",
                   ["景点", "门票", "游玩", "公园", "博物馆", "故宫", "参观"]),
    "restaurant": ("餐馆", "找地方吃饭：菜系、推荐菜、人均消费、营业时间",
                   ["餐馆", "餐厅", "吃饭", "推荐菜", "人均消费", "菜", "饭店"]),
    "hotel": ("酒店", "找地方住：酒店类型、价格、评分、设施（wifi、停车、早餐）",
              ["酒店", "住宿", "入住", "宾馆", "房间", "房费", "设施"]),
    "metro": ("地铁", "坐地铁：出发地和目的地附近的地铁站", ["地铁", "地铁站", "站"]),
    "taxi": ("出租车", "打车：出发地、目的地、车型和车牌", ["出租车", "打车", "车型", "车牌"]),
}


# -- metrics ----------------------------------------------------------------------------------------------
def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    """Macro-F1 over the ``labels`` that occur in ``gold`` (a stage no turn has is not scored)."""
    from sklearn.metrics import f1_score

    seen = set(gold)
    present = [label for label in labels if label in seen]
    if not present:
        return 0.0
    return float(f1_score(gold, pred, labels=present, average="macro", zero_division=0))


def boundaries(labels: Sequence[str]) -> list[int]:
    return [i for i in range(1, len(labels)) if labels[i] != labels[i - 1]]


def boundary_counts(gold: Sequence[str], pred: Sequence[str], tolerance: int) -> tuple[int, int, int]:
    """(matched, predicted, gold) boundaries; each gold boundary matches at most one predicted one."""
    g, p = boundaries(gold), boundaries(pred)
    used: set[int] = set()
    matched = 0
    for b in p:
        hit = next((x for x in g if abs(x - b) <= tolerance and x not in used), None)
        if hit is not None:
            used.add(hit)
            matched += 1
    return matched, len(p), len(g)


def f1(matched: int, predicted: int, gold: int) -> float:
    if predicted == 0 and gold == 0:
        return 1.0
    precision = matched / predicted if predicted else 0.0
    recall = matched / gold if gold else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def score_dataset(contacts: list[dict], predictions: list[list[str]], labels: Sequence[str]) -> dict:
    """``contacts``: dicts with ``gold`` (per turn: a label, a set of labels, or None) and ``carried``."""
    gold_flat, pred_flat = [], []
    counts = {0: [0, 0, 0], 1: [0, 0, 0]}
    for contact, pred in zip(contacts, predictions, strict=True):
        for g, p in zip(contact["gold"], pred, strict=True):
            if g is None:
                continue
            if isinstance(g, frozenset):
                g = p if p in g else sorted(g)[0]
            gold_flat.append(g)
            pred_flat.append(p)
        for tolerance in counts:
            for i, v in enumerate(boundary_counts(contact["carried"], pred, tolerance)):
                counts[tolerance][i] += v
    return {"turn_macro_f1": round(macro_f1(gold_flat, pred_flat, labels), 4),
            "turn_accuracy": round(sum(g == p for g, p in zip(gold_flat, pred_flat, strict=True))
                                   / max(len(gold_flat), 1), 4),
            "boundary_f1_tol0": round(f1(*counts[0]), 4), "boundary_f1_tol1": round(f1(*counts[1]), 4),
            "gold_boundaries": counts[0][2], "predicted_boundaries": counts[0][1], "scored_turns": len(gold_flat)}


# -- classifiers ------------------------------------------------------------------------------------------
Predictor = Callable[[Taxonomy, list[list[tuple[str, str]]]], list[list[str]]]


def stage_name_baseline(taxonomy: Taxonomy, sequences: list[list[tuple[str, str]]]) -> list[list[str]]:
    """Keyword match on the stage names (name, English name), carrying the last stage forward."""
    terms = []
    for stage in taxonomy.stages:
        for name in (stage.name, stage.name_en or ""):
            if name.strip():
                term = name.strip().lower()
                pattern = re.escape(term) if not term.isascii() else rf"(?<![a-z]){re.escape(term)}(?![a-z])"
                terms.append((re.compile(pattern), len(term), stage.id))
    out = []
    for sequence in sequences:
        current, labels = OTHER, []
        for _, text in sequence:
            lowered = text.lower()
            found = [(m.start(), -length, stage) for pattern, length, stage in terms
                     for m in [pattern.search(lowered)] if m]
            if found:
                current = min(found)[2]
            labels.append(current)
        out.append(labels)
    return out


def keyword_classifier(taxonomy: Taxonomy, sequences: list[list[tuple[str, str]]]) -> list[list[str]]:
    """The existing keyword classifier (taxonomy keywords, carry forward, backfill), one label per turn."""
    from nlp.steps.stages.keyword import KeywordJourneyClassifier

    classifier = KeywordJourneyClassifier(taxonomy)
    return [_via_doc(classifier, sequence) for sequence in sequences]


def _via_doc(classifier, sequence: list[tuple[str, str]]) -> list[str]:
    doc = _turn_doc(sequence)
    classifier.classify(doc)
    return [u.stage or OTHER for u in doc.utterances]


def _turn_doc(sequence: list[tuple[str, str]], channel: str | None = None, language: str = "zh"):
    """A transcript analysed as one utterance per turn (the unit of the planted labels)."""
    from nlp.schema.document import AnalyzedTranscript, Utterance
    from nlp.schema.transcript import Transcript

    transcript = Transcript(id="x", channel=channel, turns=[{"speaker": "customer", "text": "x"}])
    return AnalyzedTranscript(transcript, language, "x", [
        Utterance(turn_index=i, sentence_index=0, speaker=s, text=t, language=language, tokens=(), char_start=0,
                  char_end=len(t))
        for i, (s, t) in enumerate(sequence)])


def issue_type_accuracy(grouped: dict[str, list[dict]]) -> dict:
    """Per-turn issue-type accuracy (doubt / defect / blockage) against the demo's planted issue types."""
    from nlp.steps.registry import load_journey_classifier

    out = {}
    for spec in ("keyword", "fewshot-untrained"):
        right = total = 0
        for name, contacts in grouped.items():
            classifier = load_journey_classifier(load_taxonomy(name), spec)
            for contact in contacts:
                doc = _turn_doc(contact["turns"], contact.get("channel"))
                classifier.classify(doc)
                right += sum(u.issue_type == g for u, g in zip(doc.utterances, contact["issues"], strict=True))
                total += len(doc.utterances)
        out[spec] = round(right / max(total, 1), 4)
    return out


def self_trained_head(taxonomy: Taxonomy, pool: list[list[tuple[str, str]]], min_confidence: float = 0.8):
    """Self-training as ``train-stages --unlabelled`` does it: few-shot labels on unlabelled pool contacts, the
    confident ones train a head."""
    texts, labels, sequences = confident_labels(FewShotJourneyClassifier(taxonomy), pool, min_confidence)
    return fit_head(taxonomy, texts, labels, sequences=sequences)


def adapted_classifier(taxonomy: Taxonomy, sequences: list[list[tuple[str, str]]],
                       plain: FewShotJourneyClassifier | None = None) -> FewShotJourneyClassifier:
    """``analyze --adapt``: ``plain`` (default: the few-shot classifier) self-trained on the very contacts it will
    label (no labels); ``plain`` itself where ``adapt`` declines (too few contacts)."""
    plain = plain or FewShotJourneyClassifier(taxonomy)
    adaptation = adapt(plain, sequences)
    print(f"  adapt {taxonomy.name} ({plain.name}): {adaptation.reason} ({adaptation.contacts} contacts, "
          f"{adaptation.confident_utterances} confident utterances)", file=sys.stderr, flush=True)
    return adaptation.classifier or plain


def adapted(taxonomy: Taxonomy, sequences: list[list[tuple[str, str]]]) -> list[list[str]]:
    return [labels for labels, _ in adapted_classifier(taxonomy, sequences).label_sequences(sequences)]


def encoder_adapted(taxonomy: Taxonomy, sequences: list[list[tuple[str, str]]]) -> list[list[str]]:
    """``analyze --classifier encoder --adapt``: the encoder classifier self-trained on the contacts it labels."""
    from nlp.steps.stages.semantic import EncoderJourneyClassifier

    classifier = adapted_classifier(taxonomy, sequences, EncoderJourneyClassifier(taxonomy, vectors=text_vectors()))
    return [labels for labels, _ in classifier.label_sequences(sequences)]


def calibration(classifier: FewShotJourneyClassifier, contacts: list[dict], bins: int = 10) -> dict:
    """How well ``stage_confidence`` says how often the stage is right, over the scored turns: expected
    calibration error (``bins`` equal-width bins) and the turns at confidence ≥ 0.9."""
    confidence, right = [], []
    for contact, (labels, sure) in zip(contacts, classifier.label_sequences([c["turns"] for c in contacts]),
                                       strict=True):
        for g, label, c in zip(contact["gold"], labels, sure, strict=True):
            if g is not None:
                confidence.append(c)
                right.append(label in g if isinstance(g, frozenset) else label == g)
    conf, hit = np.asarray(confidence), np.asarray(right, dtype=float)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    ece = sum(abs(conf[which == b].mean() - hit[which == b].mean()) * (which == b).mean()
              for b in range(bins) if (which == b).any())
    high = conf >= 0.9
    return {"ece": round(float(ece), 4), "turns": len(conf), "share_at_0.9": round(float(high.mean()), 4),
            "mean_confidence_at_0.9": round(float(conf[high].mean()), 4) if high.any() else None,
            "right_at_0.9": round(float(hit[high].mean()), 4) if high.any() else None}


def supervised_head(taxonomy: Taxonomy, pool: list[dict], per_stage: int = 200, seed: int = 0):
    """A head from up to ``per_stage`` gold-labelled pool turns per stage."""
    rng = random.Random(seed)
    by_stage: dict[str, list[str]] = defaultdict(list)
    for contact in pool:
        for (_, text), g in zip(contact["turns"], contact["gold"], strict=True):
            if isinstance(g, str) and g != OTHER:
                by_stage[g].append(text)
    texts, labels = [], []
    for stage in sorted(by_stage):
        chosen = rng.sample(by_stage[stage], min(per_stage, len(by_stage[stage])))
        texts += chosen
        labels += [stage] * len(chosen)
    return fit_head(taxonomy, texts, labels, sequences=[c["carried"] for c in pool])


def fewshot(settings: FewShotSettings | None = None, head=None) -> Predictor:
    def predict(taxonomy: Taxonomy, sequences: list[list[tuple[str, str]]]) -> list[list[str]]:
        classifier = FewShotJourneyClassifier(taxonomy, settings, head=head)
        return [labels for labels, _ in classifier.label_sequences(sequences)]

    return predict


# -- MultiWOZ ---------------------------------------------------------------------------------------------
def _in_pool(dialogue_id: str) -> bool:
    return int(hashlib.sha1(dialogue_id.encode()).hexdigest(), 16) % 10 < 3


def load_multiwoz(path: Path = MULTIWOZ, domains: Sequence[str] = DOMAINS) -> tuple[list[dict], list[dict]]:
    """(pool contacts, evaluation contacts); each has ``turns`` [(speaker, text)], ``gold`` and ``carried``.
    Also reads CrossWOZ (same row format; ``domains=ZH_DOMAINS``)."""
    dialogues: dict[str, list[dict]] = defaultdict(list)
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            dialogues[row["dialogue_id"]].append(row)
    pool, evaluation = [], []
    for dialogue_id in sorted(dialogues):
        rows = sorted(dialogues[dialogue_id], key=lambda r: r["turn"])
        turns, gold = [], []
        previous: str | frozenset | None = None
        for row in rows:
            acts = {a.lower() for a in row["act_domains"]}
            found = frozenset(acts & set(domains))
            if found:
                label: str | frozenset | None = next(iter(found)) if len(found) == 1 else found
            elif "booking" in acts and previous is not None:
                label = previous
            else:
                label = None
            if label is not None:
                previous = label
            turns.append(("customer" if row["role"] == "usr" else "agent", row["text"]))
            gold.append(label)
        contact = {"id": dialogue_id, "turns": turns, "gold": gold, "carried": _carry(gold)}
        (pool if _in_pool(dialogue_id) else evaluation).append(contact)
    return pool, evaluation


def _carry(gold: list) -> list[str]:
    """One label per turn for boundaries: multi-domain turns resolved towards their neighbours, gaps carried."""
    resolved: list[str | None] = []
    for i, g in enumerate(gold):
        if isinstance(g, frozenset):
            previous = next((x for x in reversed(resolved) if x is not None), None)
            following = next((x for x in gold[i + 1:] if isinstance(x, str)), None)
            g = previous if previous in g else following if following in g else sorted(g)[0]
        resolved.append(g)
    first = next((x for x in resolved if x is not None), OTHER)
    out, current = [], first
    for g in resolved:
        current = g if g is not None else current
        out.append(current)
    return out


def subsample(contacts: list[dict], n: int | None, seed: int = 0) -> list[dict]:
    """``n`` contacts drawn with a fixed seed (all of them when ``n`` is None or larger), in their order."""
    if n is None or n >= len(contacts):
        return contacts
    chosen = set(random.Random(seed).sample(range(len(contacts)), n))
    return [c for i, c in enumerate(contacts) if i in chosen]


def crosswoz_taxonomy(pool: list[dict], n_examples: int = 5, seed: int = 0,
                      without: Sequence[str] = ()) -> Taxonomy:
    """CrossWOZ's domains as stages (Chinese names, descriptions, keywords) with ``n_examples`` single-domain
    pool customer turns of 8+ characters each as examples."""
    rng = random.Random(seed)
    candidates: dict[str, list[str]] = defaultdict(list)
    for contact in pool:
        for (speaker, text), g in zip(contact["turns"], contact["gold"], strict=True):
            if isinstance(g, str) and speaker == "customer" and len(text) >= 8:
                candidates[g].append(text)
    stages = [Stage(id=domain, name=name, phase="in_sale", description=description, keywords=words,
                    examples=rng.sample(sorted(candidates[domain]), n_examples))
              for domain, (name, description, words) in CROSSWOZ_STAGES.items()]  # same examples whatever is left out
    stages = [stage for stage in stages if stage.id not in without]
    return Taxonomy(name="crosswoz_domains", language="zh", stages=stages, issue_types=[])


def multiwoz_taxonomy(pool: list[dict], n_examples: int = 5, seed: int = 0, keywords: bool = True,
                      without: Sequence[str] = ()) -> Taxonomy:
    """The domains as stages, with ``n_examples`` single-domain pool turns of 5+ words each as examples."""
    rng = random.Random(seed)
    candidates: dict[str, list[str]] = defaultdict(list)
    for contact in pool:
        for (_, text), g in zip(contact["turns"], contact["gold"], strict=True):
            if isinstance(g, str) and len(text.split()) >= 5:
                candidates[g].append(text)
    stages = []
    for domain in DOMAINS:
        description, words = MULTIWOZ_STAGES[domain]
        examples = rng.sample(candidates[domain], n_examples)  # drawn for every domain: the same whatever is left out
        if domain not in without:
            stages.append(Stage(id=domain, name=domain, phase="in_sale", description=description,
                                keywords=words if keywords else [], examples=examples))
    return Taxonomy(name="multiwoz_domains", language="en", stages=stages,
                    issue_types=[])


# -- Chinese dev set and demo -----------------------------------------------------------------------------
def load_zh_dev(path: Path = ZH_DEV) -> dict[str, list[dict]]:
    """Contacts of a Chinese dev set (``zh_dev`` or ``zh_holdout``), grouped by taxonomy."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            gold = [t["stage"] for t in record["turns"]]
            grouped[record["taxonomy"]].append({"id": record["id"], "gold": gold, "carried": gold,
                                                "turns": [(t["speaker"], t["text"]) for t in record["turns"]]})
    return dict(grouped)


def load_demo(limit: int | None = None) -> dict[str, list[dict]]:
    """Demo contacts by taxonomy, turns as (speaker, text), gold = planted per-turn stages."""
    with gzip.open(DEMO / "truth.jsonl.gz", "rt", encoding="utf-8") as handle:
        truth = {t["id"]: t for t in map(json.loads, handle)}
    grouped: dict[str, list[dict]] = defaultdict(list)
    with gzip.open(DEMO / "archive.jsonl.gz", "rt", encoding="utf-8") as handle:
        for n, line in enumerate(handle):
            if limit is not None and n >= limit:
                break
            record = json.loads(line)
            gold = [t["stage"] for t in truth[record["id"]]["turns"]]
            grouped[DEMO_TAXONOMY[record["business_line"]]].append({
                "id": record["id"], "gold": gold, "carried": gold, "channel": record.get("channel"),
                "issues": [t["issue_type"] for t in truth[record["id"]]["turns"]],
                "turns": [(t["speaker"], t["text"]) for t in record["turns"]]})
    return dict(grouped)


def run_grouped(grouped: dict[str, list[dict]], predictor: Predictor) -> dict:
    """Scores per taxonomy and pooled over all (macro over every taxonomy's stages)."""
    per: dict[str, dict] = {}
    all_gold, all_pred, all_contacts = [], [], []
    started = time.perf_counter()
    n_turns = 0
    for name, contacts in sorted(grouped.items()):
        taxonomy = load_taxonomy(name)
        predictions = predictor(taxonomy, [c["turns"] for c in contacts])
        per[name] = score_dataset(contacts, predictions, taxonomy.stage_ids)
        n_turns += sum(len(c["turns"]) for c in contacts)
        for contact, pred in zip(contacts, predictions, strict=True):
            all_contacts.append({"gold": [f"{name}/{g}" for g in contact["gold"]],
                                 "carried": [f"{name}/{g}" for g in contact["carried"]]})
            all_pred.append([f"{name}/{p}" for p in pred])
            all_gold.extend(f"{name}/{s}" for s in taxonomy.stage_ids)
    seconds = time.perf_counter() - started
    pooled = score_dataset(all_contacts, all_pred, sorted(set(all_gold)))
    return {"pooled": pooled, "per_taxonomy": per, "turns_per_s": round(n_turns / seconds)}


# -- the encoder classifier, banking77, discover (subsampled: the encoder embeds ~20-40 texts/s on 2 cores) --------
EMB_CACHE = Path.home() / ".cache" / "journeylens" / "emb"
_VECTORS = None


def text_vectors():
    """One ``TextVectors`` for the whole run, persisted under ``EMB_CACHE`` (outside the repository), so the
    evaluation texts are embedded once across runs. Speed is measured separately, without the cache."""
    global _VECTORS
    if _VECTORS is None:
        from nlp.steps.stages.embedding import TextVectors, set_shared_vectors

        _VECTORS = TextVectors(cache_dir=EMB_CACHE)
        set_shared_vectors(_VECTORS)
    return _VECTORS


def encoder(settings=None) -> Predictor:
    def predict(taxonomy: Taxonomy, sequences: list[list[tuple[str, str]]]) -> list[list[str]]:
        from nlp.steps.stages.semantic import EncoderJourneyClassifier

        classifier = EncoderJourneyClassifier(taxonomy, settings, vectors=text_vectors())
        return [labels for labels, _ in classifier.label_sequences(sequences)]

    return predict


def _dialogues(name: str) -> tuple[list[dict], list[dict], Callable[..., Taxonomy], Sequence[str]]:
    if name == "crosswoz":
        pool, evaluation = load_multiwoz(CROSSWOZ, ZH_DOMAINS)
        return pool, evaluation, crosswoz_taxonomy, ZH_DOMAINS
    pool, evaluation = load_multiwoz()
    return pool, evaluation, multiwoz_taxonomy, DOMAINS


def compare_classifiers(name: str, n_dialogues: int = 150, without: Sequence[str] = ()) -> dict:
    """Every classifier on the same ``n_dialogues`` evaluated dialogues (seeded subsample) of ``multiwoz`` or
    ``crosswoz``: per-turn macro-F1, boundary F1, turns/s (the encoder's from cached vectors: its encoder speed
    is ``encoder_speed``); the encoder's calibration; and, against a taxonomy ``without`` some domains, how
    often their turns come out ``other`` (``out_of_taxonomy``)."""
    from nlp.steps.stages.semantic import EncoderJourneyClassifier, EncoderSettings

    pool, evaluation, make_taxonomy, domains = _dialogues(name)
    chosen = subsample(evaluation, n_dialogues)
    taxonomy = make_taxonomy(pool)
    sequences = [c["turns"] for c in chosen]
    results: dict = {"dialogues": len(chosen), "turns": sum(len(s) for s in sequences),
                     "subsample": f"{len(chosen)} of {len(evaluation)} evaluated dialogues, seed 0"}
    text_vectors()([t for s in sequences for _, t in s], "query")  # embed once, outside the timings
    runs = {"baseline_stage_names": stage_name_baseline, "keyword": keyword_classifier, "fewshot": fewshot(),
            "fewshot_adapted": adapted, "encoder": encoder(), "encoder_adapted": encoder_adapted,
            "encoder_no_keywords_no_other": encoder(EncoderSettings(keyword_weight=0.0, other_score=0.0))}
    for run, predictor in runs.items():
        started = time.perf_counter()
        predictions = predictor(taxonomy, sequences)
        seconds = time.perf_counter() - started
        results[run] = {**score_dataset(chosen, predictions, domains), "turns_per_s": round(results["turns"] / seconds)}
    results["calibration"] = {"fewshot": calibration(FewShotJourneyClassifier(taxonomy), chosen),
                              "encoder": calibration(EncoderJourneyClassifier(taxonomy, vectors=text_vectors()),
                                                     chosen)}
    if without:
        results["out_of_taxonomy"] = out_of_taxonomy(chosen, make_taxonomy(pool, without=without), without)
    return results


# -- several stages per turn (clause stages) -----------------------------------------------------------------
def turn_stages(classifier, sequences: list[list[tuple[str, str]]], language: str,
                clauses: bool) -> list[list[list[tuple[str, int]]]]:
    """Per contact and turn, the (stage, characters) of its utterances: one per turn, or with ``clauses`` the
    pieces the clause step (nlp/steps/clauses.py) cut multi-stage customer turns into."""
    from nlp.steps.clauses import split_clauses

    docs = [_turn_doc(sequence, language=language) for sequence in sequences]
    _classify(classifier, docs)
    if clauses:
        split_clauses(docs, classifier)
    out = []
    for doc, sequence in zip(docs, sequences, strict=True):
        turns: list[list[tuple[str, int]]] = [[] for _ in sequence]
        for u in doc.utterances:
            turns[u.turn_index].append((u.stage or OTHER, len(u.text)))
        out.append(turns)
    return out


def set_scores(pairs: list[tuple[frozenset, set]]) -> dict:
    """Per-turn set precision / recall / F1 of predicted stage sets against gold domain sets, averaged over the
    turns; ``exact``: share of turns whose set is the gold set."""
    if not pairs:
        return {"turns": 0}
    p = [len(g & s) / len(s) for g, s in pairs]
    r = [len(g & s) / len(g) for g, s in pairs]
    f = [2 * a * b / (a + b) if a + b else 0.0 for a, b in zip(p, r, strict=True)]
    return {"turns": len(pairs), "precision": round(float(np.mean(p)), 4), "recall": round(float(np.mean(r)), 4),
            "f1": round(float(np.mean(f)), 4), "exact": round(float(np.mean([g == s for g, s in pairs])), 4),
            "mean_predicted_stages": round(float(np.mean([len(s) for _, s in pairs])), 4)}


REVIEWS = ROOT / "tests" / "fixtures" / "stages" / "multi_topic_reviews.jsonl"


def multi_topic_reviews() -> dict:
    """Our 15 hand-written multi-topic reviews and 4 single-topic ones (tests/fixtures/stages/
    multi_topic_reviews.jsonl, Chinese and English, labelled by us) through the whole pipeline: set precision /
    recall / F1 of the stages found per review, and how many clause stages got the labelled sentiment."""
    from nlp.config import PipelineConfig
    from nlp.pipeline import Pipeline
    from nlp.schema.transcript import Transcript

    items = [json.loads(line) for line in REVIEWS.read_text(encoding="utf-8").splitlines() if line.strip()]
    transcripts = [Transcript.model_validate({"id": i["id"], "language": i["language"],
                                              "turns": [{"speaker": "customer", "text": i["text"]}]}) for i in items]
    out: dict = {}
    for spec in ("keyword", "fewshot"):
        for clauses in (False, True):
            pipeline = Pipeline(PipelineConfig(journey_classifier=spec, clause_stages=clauses, categories=[]))
            docs = pipeline.analyze(transcripts, [i["taxonomy"] for i in items])
            pairs, sentiments, topics = [], 0, 0
            for item, doc in zip(items, docs, strict=True):
                pairs.append((frozenset(t[1] for t in item["topics"]), {u.stage for u in doc.utterances}))
                for _, stage, sentiment in item["topics"]:
                    topics += 1
                    sentiments += any(u.stage == stage and u.sentiment == sentiment for u in doc.utterances)
            out[f"{spec}{'_clauses' if clauses else ''}"] = {
                "multi_topic": set_scores([p for p in pairs if len(p[0]) > 1]),
                "single_topic": set_scores([p for p in pairs if len(p[0]) == 1]),
                "topics_with_their_sentiment": f"{sentiments} / {topics}"}
    return out


MULTI_DOMAIN_RUNS = ("keyword", "fewshot", "fewshot_adapted", "encoder")


def _multi_domain_classifier(run: str, taxonomy: Taxonomy, contacts: list[dict]):
    from nlp.steps.stages.keyword import KeywordJourneyClassifier
    from nlp.steps.stages.semantic import EncoderJourneyClassifier

    if run == "keyword":
        return KeywordJourneyClassifier(taxonomy)
    if run == "fewshot":
        return FewShotJourneyClassifier(taxonomy)
    if run == "fewshot_adapted":
        return adapted_classifier(taxonomy, [c["turns"] for c in contacts])
    return EncoderJourneyClassifier(taxonomy, vectors=text_vectors())


def multi_domain_scores(classifier, contacts: list[dict], language: str, domains: Sequence[str],
                        clauses: bool) -> dict:
    """``set_scores`` of the multi-domain and of the single-domain customer turns, the per-turn ``single_label``
    scores and how many turns were cut, for one classifier with or without clause stages."""
    stages = turn_stages(classifier, [c["turns"] for c in contacts], language, clauses)
    multi, single, labels, cut = [], [], [], 0
    for contact, turns in zip(contacts, stages, strict=True):
        labels.append([max(pieces, key=lambda p: p[1])[0] for pieces in turns])
        for (speaker, _), g, pieces in zip(contact["turns"], contact["gold"], turns, strict=True):
            cut += len(pieces) > 1
            if speaker != "customer" or g is None:
                continue
            predicted = {stage for stage, _ in pieces}
            if isinstance(g, frozenset):
                multi.append((g, predicted))
            else:
                single.append((frozenset([g]), predicted))
    return {"multi_domain_turns": set_scores(multi), "single_domain_customer_turns": set_scores(single),
            "single_label": score_dataset(contacts, labels, domains), "turns_cut": cut}


def clause_threshold_study(thresholds: Sequence[float] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95),
                           demo_contacts: int = 400) -> dict:
    """How the clause thresholds (``clause_min_share`` of ``keyword`` and of ``fewshot``) were chosen:
    ``multi_domain_scores`` on the *pool* dialogues of MultiWOZ and CrossWOZ (never the evaluated ones) and the
    per-turn scores on the first ``demo_contacts`` demo contacts, at each threshold."""
    from dataclasses import replace

    demo = load_demo(demo_contacts)
    out: dict = {}
    for run in ("keyword", "fewshot"):
        for threshold in (None, *thresholds):
            def make(taxonomy: Taxonomy, contacts: list[dict], threshold: float | None = threshold, run: str = run):
                classifier = _multi_domain_classifier(run, taxonomy, contacts)
                if threshold is not None and run == "keyword":
                    classifier.clause_min_share = threshold
                elif threshold is not None:
                    classifier.settings = replace(classifier.settings, clause_min_share=threshold)
                return classifier

            row: dict = {}
            for name, language in (("multiwoz", "en"), ("crosswoz", "zh")):
                pool, _, make_taxonomy, domains = _dialogues(name)
                taxonomy = make_taxonomy(pool)
                r = multi_domain_scores(make(taxonomy, pool), pool, language, domains, threshold is not None)
                row[name] = {"multi_f1": r["multi_domain_turns"]["f1"],
                             "single_precision": r["single_domain_customer_turns"]["precision"],
                             "turn_macro_f1": r["single_label"]["turn_macro_f1"],
                             "boundary_f1_tol0": r["single_label"]["boundary_f1_tol0"], "turns_cut": r["turns_cut"]}
            row["demo"] = _single_topic(demo, run, threshold is not None, make)
            out[f"{run}.{'off' if threshold is None else threshold}"] = row
            print(f"  clause thresholds {run} {threshold}: {row}", file=sys.stderr, flush=True)
    return out


def _single_topic(grouped: dict[str, list[dict]], run: str, clauses: bool, make=None) -> dict:
    """Per-turn scores (a cut turn's label: its longest piece's stage), pooled over the taxonomies, and how many
    customer turns were given more than one stage."""
    totals = {"turns_cut": 0, "customer_turns": 0, "customer_turns_several_stages": 0}
    contacts, predictions, labels = [], [], []
    for taxonomy_name, group in sorted(grouped.items()):
        taxonomy = load_taxonomy(taxonomy_name)
        labels += [f"{taxonomy_name}/{stage}" for stage in taxonomy.stage_ids]
        classifier = (make or (lambda t, c: _multi_domain_classifier(run, t, c)))(taxonomy, group)
        stages = turn_stages(classifier, [c["turns"] for c in group], "zh", clauses)
        for contact, turns in zip(group, stages, strict=True):
            contacts.append({key: [f"{taxonomy_name}/{g}" for g in contact[key]] for key in ("gold", "carried")})
            predictions.append([f"{taxonomy_name}/{max(p, key=lambda x: x[1])[0]}" for p in turns])
            for (speaker, _), pieces in zip(contact["turns"], turns, strict=True):
                totals["turns_cut"] += len(pieces) > 1
                if speaker == "customer":
                    totals["customer_turns"] += 1
                    totals["customer_turns_several_stages"] += len({p for p, _ in pieces}) > 1
    return {**score_dataset(contacts, predictions, labels), **totals}


def single_topic_sets(demo_limit: int | None = None) -> dict:
    """What clause stages cost where every turn has one gold stage: the Chinese dev and held-out sets and the demo
    archive (its planted per-turn stages), ``keyword`` and ``fewshot`` (``_single_topic``)."""
    out: dict = {}
    for name, grouped in (("zh_dev", load_zh_dev()), ("zh_holdout", load_zh_dev(ZH_HOLDOUT)),
                          ("demo", load_demo(demo_limit))):
        for run in ("keyword", "fewshot"):
            for clauses in (False, True):
                key = f"{name}.{run}{'_clauses' if clauses else ''}"
                out[key] = _single_topic(grouped, run, clauses)
                print(f"  single_topic {key}: {out[key]}", file=sys.stderr, flush=True)
    return out


def multi_domain(n_encoder: int = 150, runs: Sequence[str] = MULTI_DOMAIN_RUNS) -> dict:
    """Several stages per turn: MultiWOZ dev and CrossWOZ val customer turns whose act domains name two or more
    domains, scored as sets (``set_scores``) with and without clause stages, per classifier; beside them the
    single-domain customer turns as sets (how often clause stages split a one-topic turn) and the usual per-turn
    macro-F1 / boundary F1 (``single_label``: a turn's label is the stage of its longest piece). Evaluated
    dialogues only (the pool gives the taxonomy's examples); ``encoder`` on the seeded ``n_encoder`` subsample."""
    out: dict = {}
    for name, language in (("multiwoz", "en"), ("crosswoz", "zh")):
        pool, evaluation, make_taxonomy, domains = _dialogues(name)
        taxonomy = make_taxonomy(pool)
        sampled = subsample(evaluation, n_encoder)
        results: dict = {"dialogues": len(evaluation), "encoder_dialogues": len(sampled)}
        for run in runs:
            contacts = sampled if run == "encoder" else evaluation
            classifier = _multi_domain_classifier(run, taxonomy, contacts)
            for clauses in (False, True):
                key = f"{run}{'_clauses' if clauses else ''}"
                results[key] = multi_domain_scores(classifier, contacts, language, domains, clauses)
                print(f"  multi_domain {name} {key}: {results[key]['multi_domain_turns']}", file=sys.stderr,
                      flush=True)
        out[name] = results
    return out


def out_of_taxonomy(contacts: list[dict], taxonomy: Taxonomy, without: Sequence[str], settings=None) -> dict:
    """Turns of the domains the taxonomy lacks: share labelled ``other`` (should be high); turns of its own
    domains: share labelled ``other`` (should be low) and macro-F1 over its stages."""
    out = {"taxonomy_without": list(without)}
    for run, predictor in (("keyword", keyword_classifier), ("fewshot", fewshot()), ("encoder", encoder(settings))):
        predictions = predictor(taxonomy, [c["turns"] for c in contacts])
        missing = kept = missing_other = kept_other = 0
        gold_kept, pred_kept = [], []
        for contact, pred in zip(contacts, predictions, strict=True):
            for g, p in zip(contact["gold"], pred, strict=True):
                if not isinstance(g, str):
                    continue
                if g in without:
                    missing += 1
                    missing_other += p == OTHER
                else:
                    kept += 1
                    kept_other += p == OTHER
                    gold_kept.append(g)
                    pred_kept.append(p)
        out[run] = {"other_on_missing_domain_turns": round(missing_other / max(missing, 1), 4),
                    "other_on_taxonomy_domain_turns": round(kept_other / max(kept, 1), 4),
                    "macro_f1_taxonomy_domains": round(macro_f1(gold_kept, pred_kept, taxonomy.stage_ids), 4),
                    "missing_domain_turns": missing, "taxonomy_domain_turns": kept}
    return out


def encoder_speed(n_texts: int = 256) -> dict:
    """Texts/s of the e5 encoder itself (no cache), on ``n_texts`` MultiWOZ and CrossWOZ turns, batch 64."""
    from nlp.steps.stages.embedding import TextVectors

    texts = []
    for path, domains in ((MULTIWOZ, DOMAINS), (CROSSWOZ, ZH_DOMAINS)):
        _, evaluation = load_multiwoz(path, domains)
        texts += [t for c in subsample(evaluation, 40, seed=1) for _, t in c["turns"]][: n_texts // 2]
    vectors = TextVectors()
    vectors(["warm up"], "query")
    started, cpu = time.perf_counter(), time.process_time()
    vectors(texts, "query")
    seconds = time.perf_counter() - started
    return {"texts": len(texts), "texts_per_s": round(len(texts) / seconds, 1),
            "texts_per_cpu_s": round(len(texts) / (time.process_time() - cpu), 1), "load_average": os.getloadavg()}


def pipeline_speed(n_contacts: int = 20) -> dict:
    """Transcripts/s of the whole pipeline (redaction, sentences, classifier, default emotion scorer, segments) with
    ``keyword`` and with ``encoder`` (a fresh, uncached ``TextVectors``: every utterance through e5), same run, on
    the first ``n_contacts`` demo contacts; the encoder loaded beforehand (its load is not counted)."""
    from nlp.config import PipelineConfig
    from nlp.pipeline import Pipeline
    from nlp.readers import iter_records
    from nlp.steps.stages.embedding import TextVectors, set_shared_vectors

    transcripts = [r.transcript for r, _ in zip(iter_records([DEMO / "archive.jsonl.gz"]), range(n_contacts),
                                                strict=False) if r.transcript is not None]
    out: dict = {"contacts": len(transcripts), "turns": sum(len(t.turns) for t in transcripts),
                 "emotion_scorer": PipelineConfig().emotion_scorer}
    vectors = TextVectors()
    vectors(["warm up"], "query")
    set_shared_vectors(vectors)
    try:
        for spec in ("keyword", "encoder"):
            pipeline = Pipeline(PipelineConfig(journey_classifier=spec))
            pipeline.analyze(transcripts[:1])  # taxonomy texts embedded, lazy parts built
            started = time.perf_counter()
            docs = pipeline.analyze(transcripts[1:])
            seconds = time.perf_counter() - started
            utterances = sum(len(d.utterances) for d in docs)
            out[spec] = {"transcripts_per_s": round((len(transcripts) - 1) / seconds, 2),
                         "utterances_per_s": round(utterances / seconds, 1)}
    finally:
        set_shared_vectors(_VECTORS)
    out["encoder_vs_keyword"] = round(out["encoder"]["transcripts_per_s"] / out["keyword"]["transcripts_per_s"], 4)
    out["load_average"] = os.getloadavg()
    return out


def one_pass_speed(n_contacts: int = 40, rounds: int = 3) -> dict:
    """Transcripts/s of the pipeline with ``journey_classifier: encoder`` and ``emotion_scorer: encoder``, the v2
    scorer reading the shared ``TextVectors`` (one e5 pass per utterance, 128 tokens) against it with an encoder of
    its own (a second pass over the scored utterances, 64 tokens: the behaviour before), each round a fresh,
    uncached ``TextVectors`` and both encoders loaded beforehand; one torch thread; best of ``rounds``."""
    import torch

    from nlp.config import PipelineConfig
    from nlp.pipeline import Pipeline
    from nlp.readers import iter_records
    from nlp.steps.emotion.e5 import EncoderEmotionScorer
    from nlp.steps.encoder import Encoder
    from nlp.steps.stages.embedding import TextVectors, set_shared_vectors

    torch.set_num_threads(1)
    transcripts = [r.transcript for r, _ in zip(iter_records([DEMO / "archive.jsonl.gz"]), range(n_contacts),
                                                strict=False) if r.transcript is not None]
    own = Encoder.load()
    shared_encoder = Encoder.load()
    out: dict = {"contacts": len(transcripts), "turns": sum(len(t.turns) for t in transcripts), "torch_threads": 1}
    try:
        for _ in range(rounds):
            for mode in ("separate", "shared"):
                vectors = TextVectors(lambda texts, kind: shared_encoder.encode(texts, kind=kind, max_length=128))
                set_shared_vectors(vectors)
                pipeline = Pipeline(PipelineConfig(journey_classifier="encoder", emotion_scorer="encoder"))
                pipeline.emotion_scorer = EncoderEmotionScorer(threads=1, encoder=own if mode == "separate" else None)
                pipeline.analyze(transcripts[:1])  # taxonomy texts embedded, lazy parts built
                started = time.perf_counter()
                docs = pipeline.analyze(transcripts[1:])
                seconds = time.perf_counter() - started
                scored = sum(u.sentiment is not None for d in docs for u in d.utterances)
                row = out.setdefault(mode, {"rounds": [], "utterances": sum(len(d.utterances) for d in docs),
                                            "scored_utterances": scored,
                                            "texts_through_shared_encoder": vectors.encoded,
                                            "texts_through_own_encoder": scored if mode == "separate" else 0})
                row["rounds"].append(round((len(transcripts) - 1) / seconds, 2))
                row["transcripts_per_s"] = max(row["rounds"])
    finally:
        set_shared_vectors(_VECTORS)
    out["shared_vs_separate"] = round(out["shared"]["transcripts_per_s"] / out["separate"]["transcripts_per_s"], 3)
    out["load_average"] = os.getloadavg()
    return out


def banking77(per_intent: int = 5, test_per_intent: int = 10, seed: int = 0) -> dict:
    """Issue types: banking77's 77 intents, each with ``per_intent`` example texts (and its name), as issue types
    of a taxonomy; accuracy on ``test_per_intent`` other texts per intent (seeded), per classifier's scorer."""
    import csv

    from nlp.schema.taxonomy import IssueType
    from nlp.steps.stages.fewshot import CategoryScorer
    from nlp.steps.stages.keyword import KeywordMatcher
    from nlp.steps.stages.semantic import DenseCategoryScorer, EncoderSettings

    by_intent: dict[str, list[str]] = defaultdict(list)
    with BANKING77.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_intent[row["category"]].append(row["text"])
    rng = random.Random(seed)
    issues, tests = [], []
    for intent in sorted(by_intent):
        texts = rng.sample(by_intent[intent], per_intent + test_per_intent)
        intent_id = re.sub(r"[^a-z0-9_]", "", intent.lower())
        issues.append(IssueType(id=intent_id, name=intent.replace("_", " "), examples=texts[:per_intent]))
        tests += [(t, intent_id) for t in texts[per_intent:]]
    pairs = [(i.id, i) for i in issues]
    ids = [i.id for i in issues]
    texts = [t for t, _ in tests]
    gold = [g for _, g in tests]
    matcher = KeywordMatcher(pairs)
    keyword = [max(sc, key=sc.get) if (sc := matcher.scores(t)) else None for t in texts]
    out = {"intents": len(ids), "examples_per_intent": per_intent, "test_texts": len(texts)}
    started = time.perf_counter()
    sparse_scores = CategoryScorer(pairs, ids, FewShotSettings()).scores(texts)
    fewshot_s = time.perf_counter() - started
    text_vectors()(texts, "query")
    started = time.perf_counter()
    dense_scores = DenseCategoryScorer(pairs, ids, EncoderSettings(), text_vectors()).scores(texts)
    encoder_s = time.perf_counter() - started
    for run, predicted, seconds in (("keyword", keyword, None),
                                    ("fewshot", [ids[i] for i in sparse_scores.argmax(axis=1)], fewshot_s),
                                    ("encoder", [ids[i] for i in dense_scores.argmax(axis=1)], encoder_s)):
        out[run] = {"accuracy": round(sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold), 4),
                    "macro_f1": round(macro_f1(gold, [p or OTHER for p in predicted], ids), 4)}
        if seconds is not None:
            out[run]["texts_per_s_cached_vectors" if run == "encoder" else "texts_per_s"] = round(len(texts) / seconds)
    return out


def evaluate_discover(name: str, n_dialogues: int = 150, max_topics: int = 12, min_topics: int | None = None,
                      context_weight: float = 0.3, baselines: bool = True) -> dict:
    """``discover`` on the customer turns (single gold domain) of the same subsample as ``compare_classifiers``,
    each with the customer's previous turn as its context, as ``discover`` samples them: NMI and ARI of the
    clusters with the gold domains, and the drafted taxonomy used unedited by the encoder classifier on the same
    dialogues, per-turn macro-F1 after mapping each drafted stage to its majority domain. Beside it: NMI without
    the context, and what a *supervised* linear model on the same vectors reaches (5-fold cross-validated
    logistic regression on the gold domains: how much of the domain single vectors carry at all); ``baselines``
    False leaves those two out (``discover_study``)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    from sklearn.model_selection import cross_val_predict

    from nlp.discover import _with_context, cluster, customer_texts, discover
    from nlp.schema.transcript import Transcript

    pool, evaluation, _, domains = _dialogues(name)
    chosen = subsample(evaluation, n_dialogues)
    gold_of = {text: g for contact in chosen
               for (speaker, text), g in zip(contact["turns"], contact["gold"], strict=True)
               if speaker == "customer" and isinstance(g, str)}
    transcripts = [Transcript(id=str(i), turns=[{"speaker": s, "text": t} for s, t in contact["turns"]])
                   for i, contact in enumerate(chosen)]
    texts, contexts, _ = customer_texts(transcripts, max_utterances=100_000)
    kept_texts = [(t, c) for t, c in zip(texts, contexts, strict=True) if t in gold_of]
    texts, contexts = [t for t, _ in kept_texts], [c for _, c in kept_texts]
    gold = [gold_of[t] for t in texts]
    started = time.perf_counter()
    result = discover(texts, max_topics=max_topics, vectors=text_vectors(), contexts=contexts,
                      context_weight=context_weight, min_topics=min_topics)
    seconds = time.perf_counter() - started
    kept = result.labels >= 0
    labels = result.labels[kept]
    gold_kept = [g for g, k in zip(gold, kept.tolist(), strict=True) if k]
    majority = {}
    for i, topic in enumerate(result.topics):
        members = [g for g, label in zip(gold_kept, labels.tolist(), strict=True) if label == i]
        majority[topic.id] = max(set(members), key=members.count)
    draft = result.taxonomy(f"{name}_draft")
    predictions = encoder()(draft, [c["turns"] for c in chosen])
    mapped = [[majority.get(p, OTHER) for p in pred] for pred in predictions]
    scored = score_dataset(chosen, mapped, domains)
    out = {"utterances": len(texts), "with_context": sum(bool(c) for c in contexts), "topics": len(result.topics),
           "noise": result.noise,
           "nmi": round(float(normalized_mutual_info_score(gold_kept, labels)), 4),
           "ari": round(float(adjusted_rand_score(gold_kept, labels)), 4),
           "draft_turn_macro_f1_majority_mapped": scored["turn_macro_f1"]}
    if not baselines:
        return out
    alone = text_vectors()(result.texts, "query")
    alone_labels = cluster(alone, max_topics, min_topics=min_topics)
    alone_kept = alone_labels >= 0

    def ceiling(x: np.ndarray) -> float:
        predicted = cross_val_predict(LogisticRegression(C=10, max_iter=2000), x, gold, cv=5)
        return round(float(normalized_mutual_info_score(gold, predicted)), 4)

    return {**out, "nmi_without_context": round(float(normalized_mutual_info_score(
                [g for g, k in zip(gold, alone_kept.tolist(), strict=True) if k], alone_labels[alone_kept])), 4),
            "supervised_nmi_ceiling": {
                "with_context": ceiling(_with_context(alone, contexts, text_vectors(), context_weight)),
                "without_context": ceiling(alone)},
            "seconds_cached_vectors": round(seconds, 1),
            "draft_boundary_f1_tol0": scored["boundary_f1_tol0"],
            "topic_names": {t.id: [t.name, majority[t.id], t.size] for t in result.topics}}


def discover_study(topics: Sequence[int] = (6, 8, 10, 12), weights: Sequence[float] = (0.0, 0.3)) -> dict:
    """``discover`` with a fixed number of topics (``--topics``) and each context weight: NMI and the draft's
    majority-mapped turn macro-F1, so that the context's effect is not confounded with the silhouette's choice of
    the number of topics."""
    return {name: {f"topics_{k}": {f"context_{w}": evaluate_discover(name, min_topics=k, max_topics=k,
                                                                      context_weight=w, baselines=False)
                                   for w in weights} for k in topics}
            for name in ("crosswoz", "multiwoz")}


# -- main -------------------------------------------------------------------------------------------------
def evaluate_multiwoz(settings: FewShotSettings | None = None) -> dict:
    pool, evaluation = load_multiwoz()
    taxonomy = multiwoz_taxonomy(pool)
    bare = multiwoz_taxonomy(pool, keywords=False)
    sequences = [c["turns"] for c in evaluation]
    results = {"dialogues": len(evaluation), "turns": sum(len(s) for s in sequences)}
    runs = {"baseline_stage_names": stage_name_baseline, "keyword": keyword_classifier,
            "fewshot": fewshot(settings), "fewshot_names_examples_only": None, "fewshot_adapted": adapted,
            "fewshot_self_trained_on_pool": fewshot(settings, self_trained_head(taxonomy, [c["turns"] for c in pool])),
            "supervised_200": fewshot(settings, supervised_head(taxonomy, pool))}
    for name, predictor in runs.items():
        use = bare if name == "fewshot_names_examples_only" else taxonomy
        predictor = predictor or fewshot(settings)
        started = time.perf_counter()
        predictions = predictor(use, sequences)
        seconds = time.perf_counter() - started
        results[name] = {**score_dataset(evaluation, predictions, DOMAINS),
                         "turns_per_s": round(results["turns"] / seconds)}
    results["calibration"] = {"fewshot": calibration(FewShotJourneyClassifier(taxonomy, settings), evaluation),
                              "fewshot_adapted": calibration(adapted_classifier(taxonomy, sequences), evaluation)}
    return results


def evaluate_demo(grouped: dict[str, list[dict]], plain) -> dict:
    """All contacts with the taxonomy-only classifiers; then, on the 70 % not in the pool, the same plus a
    self-trained head (unlabelled pool contacts) and a supervised head (200 gold turns per stage of the pool)."""
    results = {"all_contacts": {run: run_grouped(grouped, predictor) for run, predictor in plain}}
    pools = {name: [c for c in contacts if _in_pool(c["id"])] for name, contacts in grouped.items()}
    held_out = {name: [c for c in contacts if not _in_pool(c["id"])] for name, contacts in grouped.items()}
    heads = {name: (self_trained_head(load_taxonomy(name), [c["turns"] for c in pools[name]]),
                    supervised_head(load_taxonomy(name), pools[name]))
             for name in grouped if pools[name]}

    def with_head(index: int) -> Predictor:
        def predict(taxonomy: Taxonomy, sequences: list[list[tuple[str, str]]]) -> list[list[str]]:
            head = heads.get(taxonomy.name, (None, None))[index]
            return fewshot(None, head)(taxonomy, sequences)
        return predict

    runs = (*plain, ("fewshot_self_trained_on_pool", with_head(0)), ("supervised_200", with_head(1)))
    held = {name: contacts for name, contacts in held_out.items() if contacts}
    results["held_out_70pct"] = {run: run_grouped(held, predictor) for run, predictor in runs}
    results["issue_type_accuracy_all_contacts"] = issue_type_accuracy(grouped)
    results["calibration_all_contacts"] = {
        name: {"fewshot": calibration(FewShotJourneyClassifier(load_taxonomy(name)), contacts),
               "fewshot_adapted": calibration(adapted_classifier(load_taxonomy(name), [c["turns"] for c in contacts]),
                                              contacts)}
        for name, contacts in sorted(grouped.items())}
    return results


def adapt_study(draws: int = 5, sizes: Sequence[int] = (25, 50, 100, 200),
                confidences: Sequence[float] = (0.7, 0.8, 0.9, 0.95)) -> dict:
    """How ``adapt``'s two settings were chosen:

    - ``min_utterances``: on random sets of ``sizes`` evaluated MultiWOZ dialogues (``draws`` each, seeded), the
      change adapting brings to turn macro-F1 and boundary F1 against plain few-shot on the same set, and how many
      confidently labelled utterances the set had (adapting forced on, whatever the count);
    - ``min_confidence``: boundary F1 of the adapted classifier on the pool dialogues and the first 400 demo
      contacts for each of ``confidences``."""
    pool, evaluation = load_multiwoz()
    taxonomy = multiwoz_taxonomy(pool)
    rng = random.Random(7)
    by_size = {}
    for size in sizes:
        rows = []
        for _ in range(draws):
            chosen = rng.sample(evaluation, size)
            sequences = [c["turns"] for c in chosen]
            plain = score_dataset(chosen, fewshot()(taxonomy, sequences), DOMAINS)
            adaptation = adapt(FewShotJourneyClassifier(taxonomy), sequences, min_utterances=0)
            tuned = score_dataset(chosen, [labels for labels, _ in adaptation.classifier.label_sequences(sequences)],
                                  DOMAINS)
            rows.append({"confident_utterances": adaptation.confident_utterances,
                         "turn_f1_change": round(tuned["turn_macro_f1"] - plain["turn_macro_f1"], 4),
                         "boundary_f1_change": round(tuned["boundary_f1_tol0"] - plain["boundary_f1_tol0"], 4)})
        by_size[size] = rows
    demo = load_demo(400)
    by_confidence = {}
    for confidence in confidences:
        def predict(t: Taxonomy, sequences: list[list[tuple[str, str]]], confidence: float = confidence):
            adaptation = adapt(FewShotJourneyClassifier(t), sequences, min_confidence=confidence)
            classifier = adaptation.classifier or FewShotJourneyClassifier(t)
            return [labels for labels, _ in classifier.label_sequences(sequences)]

        on_pool = score_dataset(pool, predict(taxonomy, [c["turns"] for c in pool]), DOMAINS)
        on_demo = run_grouped(demo, predict)["pooled"]
        by_confidence[confidence] = {"multiwoz_pool": [on_pool["turn_macro_f1"], on_pool["boundary_f1_tol0"]],
                                     "demo_first_400": [on_demo["turn_macro_f1"], on_demo["boundary_f1_tol0"]]}
    return {"dialogues_per_draw": by_size, "min_confidence": by_confidence}


def reason_stage_accuracy(n_contacts: int = 600) -> dict:
    """How often the contact's *reason stage* equals the planted one, per business line, over the first
    ``n_contacts`` demo contacts scored by ``journeylens score``'s own code (``score_archive`` into a DuckDB file)
    and read back by the one definition of the reason stage (``nlp/analytics/contacts.py``: the first segment that
    is not ``other`` and not a praised clause), for the ``keyword`` and the ``fewshot`` classifier. The planted
    reason is the first planted segment that is not ``other``."""
    import tempfile

    import duckdb

    from nlp.analytics.contacts import contact_facts
    from nlp.analytics.settings import AnalyticsSettings
    from nlp.config import PipelineConfig
    from nlp.ingest.local import score_archive

    with gzip.open(DEMO / "truth.jsonl.gz", "rt", encoding="utf-8") as handle:
        truth = {t["id"]: t for t in map(json.loads, handle)}
    out: dict = {}
    with tempfile.TemporaryDirectory() as work, gzip.open(DEMO / "archive.jsonl.gz", "rt", encoding="utf-8") as archive:
        head = Path(work) / "first.jsonl"
        head.write_text("".join(line for line, _ in zip(archive, range(n_contacts), strict=False)), encoding="utf-8")
        for spec in ("keyword", "fewshot"):
            db = Path(work) / f"{spec}.duckdb"
            summary = score_archive([head], db, PipelineConfig(journey_classifier=spec))
            out["contacts"] = summary.counts.scored
            with duckdb.connect(str(db), read_only=True) as con:
                facts = contact_facts(con, AnalyticsSettings())
            right: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for tid, stage in zip(facts["transcript_id"], facts["stage"], strict=True):
                planted = next((s["stage"] for s in truth[tid]["segments"] if s["stage"] != OTHER), OTHER)
                line = truth[tid]["business_line"]
                right[line][0] += stage == planted
                right[line][1] += 1
            out[spec] = {line: {"right": r, "contacts": n, "accuracy": round(r / n, 4)}
                         for line, (r, n) in sorted(right.items())}
    return out


def _classify(classifier, docs: list) -> None:
    if hasattr(classifier, "classify_many"):
        classifier.classify_many(docs)
    else:
        for doc in docs:
            classifier.classify(doc)


def measure_speed(n_contacts: int = 1200) -> dict:
    """Utterances/s of each classifier on demo contacts cut into utterances by the pipeline (bulk, one
    process), and of the whole pipeline (classifier + emotion + segments). Wall-clock rates depend on what else
    runs on the machine; the ``per_cpu_s`` rates divide by the CPU time this process used, so on a shared machine
    they are the ones to compare (one worker process per core: two cores give about twice the per-CPU rate)."""
    from nlp.config import PipelineConfig
    from nlp.pipeline import Pipeline
    from nlp.readers import iter_records
    from nlp.steps.registry import load_journey_classifier

    transcripts = [r.transcript for r, _ in zip(iter_records([DEMO / "archive.jsonl.gz"]), range(n_contacts),
                                                strict=False) if r.transcript is not None]
    out = {"contacts": len(transcripts), "torch_threads": os.environ.get("OMP_NUM_THREADS"),
           "emotion_scorer": PipelineConfig().emotion_scorer}
    for spec in ("keyword", "fewshot-untrained"):
        pipeline = Pipeline(PipelineConfig(journey_classifier=spec))
        docs = [pipeline.prepare(t) for t in transcripts]
        n = sum(len(d.utterances) for d in docs)
        by_taxonomy: dict[str, list] = defaultdict(list)
        for doc in docs:
            by_taxonomy[doc.taxonomy].append(doc)
        classifiers = {name: load_journey_classifier(load_taxonomy(name), spec) for name in by_taxonomy}
        for name, group in by_taxonomy.items():  # build lazily-created parts outside the timing
            _classify(classifiers[name], group[:1])
        started, cpu_started = time.perf_counter(), time.process_time()
        for name, group in by_taxonomy.items():
            _classify(classifiers[name], group)
        classify_s, classify_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        started, cpu_started = time.perf_counter(), time.process_time()
        pipeline.analyze(transcripts)
        pipeline_s, pipeline_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        out[spec] = {"utterances": n, "classifier_utt_per_s": round(n / classify_s),
                     "classifier_utt_per_cpu_s": round(n / classify_cpu),
                     "pipeline_utt_per_s": round(n / pipeline_s), "pipeline_utt_per_cpu_s": round(n / pipeline_cpu)}
    out["load_average"] = os.getloadavg()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["multiwoz", "zh_dev", "zh_holdout", "demo", "speed"])
    parser.add_argument("--demo-limit", type=int, help="only the first N demo contacts")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--subsample", type=int, default=150, help="dialogues per dataset for the encoder "
                        "comparisons (crosswoz, multiwoz_compare, discover)")
    parser.add_argument("--multi-domain-classifiers", nargs="+", choices=MULTI_DOMAIN_RUNS, default=MULTI_DOMAIN_RUNS,
                        help="classifiers of --datasets multi_domain (encoder: on --subsample dialogues)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results: dict = {}
    if "multiwoz" in args.datasets:
        results["multiwoz"] = evaluate_multiwoz()
        print(json.dumps({"multiwoz": results["multiwoz"]}, indent=1), flush=True)
    plain = (("baseline_stage_names", stage_name_baseline), ("keyword", keyword_classifier), ("fewshot", fewshot()),
             ("fewshot_adapted", adapted))
    if "zh_dev" in args.datasets:
        grouped = load_zh_dev()
        results["zh_dev"] = {run: run_grouped(grouped, predictor)
                             for run, predictor in (*plain, ("encoder", encoder()))}
        print(json.dumps({"zh_dev": results["zh_dev"]}, indent=1, ensure_ascii=False), flush=True)
    if "zh_holdout" in args.datasets:
        grouped = load_zh_dev(ZH_HOLDOUT)
        results["zh_holdout"] = {run: run_grouped(grouped, predictor)
                                 for run, predictor in (*plain, ("encoder", encoder()))}
        print(json.dumps({"zh_holdout": results["zh_holdout"]}, indent=1, ensure_ascii=False), flush=True)
    if "demo" in args.datasets:
        results["demo"] = evaluate_demo(load_demo(args.demo_limit), plain)
        print(json.dumps({"demo": results["demo"]}, indent=1, ensure_ascii=False), flush=True)
    if "adapt_study" in args.datasets:
        results["adapt_study"] = adapt_study()
        print(json.dumps({"adapt_study": results["adapt_study"]}, indent=1), flush=True)
    if "reason" in args.datasets:
        results["reason"] = reason_stage_accuracy()
        print(json.dumps({"reason": results["reason"]}, indent=1), flush=True)
    for name, without in (("multiwoz_compare", ("taxi", "attraction")), ("crosswoz", ("restaurant",))):
        if name in args.datasets:
            dataset = "multiwoz" if name == "multiwoz_compare" else "crosswoz"
            results[name] = compare_classifiers(dataset, args.subsample, without)
            print(json.dumps({name: results[name]}, indent=1), flush=True)
    if "banking77" in args.datasets:
        results["banking77"] = banking77()
        print(json.dumps({"banking77": results["banking77"]}, indent=1), flush=True)
    if "discover" in args.datasets:
        results["discover"] = {name: evaluate_discover(name, args.subsample) for name in ("crosswoz", "multiwoz")}
        print(json.dumps({"discover": results["discover"]}, indent=1, ensure_ascii=False), flush=True)
    if "discover_study" in args.datasets:
        results["discover_study"] = discover_study()
        print(json.dumps({"discover_study": results["discover_study"]}, indent=1), flush=True)
    if "multi_domain" in args.datasets:
        results["multi_domain"] = multi_domain(args.subsample, args.multi_domain_classifiers)
        print(json.dumps({"multi_domain": results["multi_domain"]}, indent=1), flush=True)
    if "reviews" in args.datasets:
        results["reviews"] = multi_topic_reviews()
        print(json.dumps({"reviews": results["reviews"]}, indent=1), flush=True)
    if "single_topic" in args.datasets:
        results["single_topic"] = single_topic_sets(args.demo_limit)
        print(json.dumps({"single_topic": results["single_topic"]}, indent=1), flush=True)
    if "clause_thresholds" in args.datasets:
        results["clause_thresholds"] = clause_threshold_study()
        print(json.dumps({"clause_thresholds": results["clause_thresholds"]}, indent=1), flush=True)
    if "pipeline_speed" in args.datasets:
        results["pipeline_speed"] = pipeline_speed()
        print(json.dumps({"pipeline_speed": results["pipeline_speed"]}, indent=1), flush=True)
    if "one_pass_speed" in args.datasets:
        results["one_pass_speed"] = one_pass_speed()
        print(json.dumps({"one_pass_speed": results["one_pass_speed"]}, indent=1), flush=True)
    if "encoder_speed" in args.datasets:
        results["encoder_speed"] = encoder_speed()
        print(json.dumps({"encoder_speed": results["encoder_speed"]}, indent=1), flush=True)
    if "speed" in args.datasets:
        results["speed"] = measure_speed()
        print(json.dumps({"speed": results["speed"]}, indent=1), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
