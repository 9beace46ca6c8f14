"""Planted truth for the category engine: contacts built so that each operator has contacts that must match and
near misses that must not, with the truth recorded by the generator itself (not by the engine)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from nlp.schema.document import AnalyzedTranscript, Utterance
from nlp.schema.transcript import Transcript

# One category per operator; every phrase here is used by exactly one scenario below.
PLANTED_CATEGORIES = """
categories:
  - id: phrase_refund
    name: phrase
    when: {phrases: [投訴, Refund]}            # traditional and upper case in the rule, simplified/lower in text
  - id: near_cancel_order
    name: near
    when: {phrases: {all: [cancel, order], near: 2}}
  - id: regex_order_number
    name: regex
    when: {regex: 'order #[0-9]{6}\\b'}
  - id: speaker_third_party
    name: speaker
    when: {speaker: third_party}
  - id: very_negative
    name: sentiment
    when: {all: [{sentiment: negative}, {sentiment_score: {max: -0.5}}]}
  - id: confident_anger
    name: emotion and confidence
    when: {all: [{emotion: anger}, {emotion_confidence: {min: 0.9}}]}
  - id: refund_stage
    name: stage
    when: {all: [{stage: refund}, {issue_type: defect}]}
  - id: thanks_at_the_end
    name: position
    when: {all: [{position: {quarter: last}}, {phrases: [thanks a lot]}]}
  - id: first_two_greeting
    name: position first
    when: {all: [{position: {first: 2}}, {phrases: [早上好]}]}
  - id: says_hurry_three_times
    name: repetition
    level: contact
    when: {repeated: {times: 3, when: {all: [{speaker: customer}, {phrases: [hurry]}]}}}
  - id: long_silence
    name: silence
    when: {silence_before: {min: 10}}
  - id: interruption
    name: interruption
    when: {interrupts: true}
  - id: agent_talks_most
    name: talk share
    level: contact
    when: {talk_share: {speaker: agent, min: 0.7}}
  - id: gold_calls
    name: metadata and channel
    level: contact
    when: {all: [{channel: call}, {metadata: {tier: gold}}]}
  - id: delivery_unresolved
    name: all / any / not
    level: contact
    when:
      all:
        - any: [{phrases: [外卖]}, {phrases: [delivery]}]
        - not: {phrases: [满意]}
  - id: same_utterance
    name: utterance grouping
    level: contact
    when: {utterance: {all: [{speaker: customer}, {phrases: [broken]}]}}
"""

UTTERANCE_LEVEL = {"phrase_refund", "near_cancel_order", "regex_order_number", "speaker_third_party", "very_negative",
                   "confident_anger", "refund_stage", "thanks_at_the_end", "first_two_greeting", "long_silence",
                   "interruption"}

FILLER = [("customer", "好的"), ("agent", "请稍等"), ("customer", "ok"), ("agent", "还有别的问题吗"),
          ("customer", "嗯"), ("agent", "one moment please")]


@dataclass
class Spec:
    speaker: str
    text: str
    planted: str | None = None  # the utterance-level category this utterance must match
    gap_before: int | None = None  # ms of silence before it (negative: it overlaps the previous turn)
    duration: int = 2000
    fields: dict = field(default_factory=dict)


def _scenarios() -> dict[str, tuple]:
    """category -> (positive blocks, negative blocks); each block is a list of Specs kept together."""
    S = Spec
    return {
        "phrase_refund": ([[S("customer", "我要投诉你们", "phrase_refund")], [S("customer", "I want a refund.",
                                                                             "phrase_refund")]],
                          [[S("customer", "投资失败")], [S("customer", "it was refunded")], [S("customer", "诉讼")]]),
        "near_cancel_order": ([[S("customer", "please cancel my order", "near_cancel_order")],
                               [S("customer", "the order, cancel it", "near_cancel_order")]],
                              [[S("customer", "cancel the whole big order")], [S("customer", "cancel it")],
                               [S("customer", "cancelled my order")]]),
        "regex_order_number": ([[S("customer", "it is order #123456 ok", "regex_order_number")]],
                               [[S("customer", "order #12345")], [S("customer", "order #1234567")]]),
        "speaker_third_party": ([[S("third_party", "我是他家人", "speaker_third_party")]],
                                [[S("agent", "我是他家人")]]),
        "very_negative": ([[S("customer", "太差了", "very_negative",
                              fields={"sentiment": "negative", "sentiment_score": -0.8})]],
                          [[S("customer", "有点差", fields={"sentiment": "negative", "sentiment_score": -0.3})],
                           [S("customer", "挺好", fields={"sentiment": "positive", "sentiment_score": 0.9})]]),
        "confident_anger": ([[S("customer", "气死了", "confident_anger",
                                fields={"emotion": "anger", "emotion_confidence": 0.95})]],
                            [[S("customer", "气死了", fields={"emotion": "anger", "emotion_confidence": 0.6})],
                             [S("customer", "伤心", fields={"emotion": "sadness", "emotion_confidence": 0.99})]]),
        "refund_stage": ([[S("customer", "钱呢", "refund_stage", fields={"stage": "refund", "issue_type": "defect"})]],
                         [[S("customer", "钱呢", fields={"stage": "refund", "issue_type": "doubt"})],
                          [S("customer", "钱呢", fields={"stage": "delivery", "issue_type": "defect"})]]),
        "says_hurry_three_times": ([[S("customer", "hurry"), S("agent", "ok"), S("customer", "hurry up"),
                                     S("customer", "please hurry")]],
                                   [[S("customer", "hurry"), S("agent", "hurry"), S("customer", "hurry up")]]),
        "delivery_unresolved": ([[S("customer", "外卖还没到")], [S("customer", "where is my delivery")]],
                                [[S("customer", "外卖到了，很满意")]]),
        "same_utterance": ([[S("customer", "the screen is broken")]],
                           [[S("agent", "is it broken"), S("customer", "yes")]]),
    }


@dataclass
class Planted:
    docs: list[AnalyzedTranscript]
    contacts: dict[str, set[str]]  # category -> transcript ids that must match
    utterances: dict[str, set[tuple[str, int]]]  # utterance-level category -> (transcript id, index) that must


def planted_archive(n_contacts: int = 300, seed: int = 7) -> Planted:
    """Contacts mixing random scenarios (positive or near miss) with filler; some are timed, some carry a
    position, metadata or talk-time scenario."""
    rng = random.Random(seed)
    scenarios = _scenarios()
    docs, contacts, utterances = [], {}, {}
    for n in range(n_contacts):
        tid = f"c{n:04d}"
        blocks: list[list[Spec]] = [[Spec(*rng.choice(FILLER))] for _ in range(rng.randint(1, 4))]
        hits: set[str] = set()
        for category in rng.sample(sorted(scenarios), rng.randint(0, 3)):
            positives, negatives = scenarios[category]
            if rng.random() < 0.5:
                blocks.append(list(rng.choice(positives)))
                hits.add(category)
            else:
                blocks.append(list(rng.choice(negatives)))
        rng.shuffle(blocks)
        specs = [s for block in blocks for s in block]
        timed = rng.random() < 0.45
        if timed:
            specs = _timed(specs, rng)
        # position: thanks in the last quarter (must) or at the start of a long contact (must not)
        roll = rng.random()
        if roll < 0.2:
            specs.append(Spec("customer", "thanks a lot", "thanks_at_the_end"))
        elif roll < 0.4:
            specs = [Spec("customer", "thanks a lot"), *specs, *[Spec(*rng.choice(FILLER)) for _ in range(8)]]
        roll = rng.random()
        if roll < 0.15:
            specs.insert(rng.randint(0, 1), Spec("customer", "早上好", "first_two_greeting"))
        elif roll < 0.3:
            specs = [Spec(*FILLER[0]), Spec(*FILLER[1]), Spec("customer", "早上好"), *specs]
        if timed and sum(s.duration for s in specs if s.speaker == "agent") >= 0.7 * sum(s.duration for s in specs):
            hits.add("agent_talks_most")
        channel, tier = rng.choice(["call", "chat"]), rng.choice(["gold", "silver", None])
        if channel == "call" and tier == "gold":
            hits.add("gold_calls")
        doc = _doc(tid, specs, channel, tier, timed)
        for index, spec in enumerate(specs):
            if spec.planted:
                utterances.setdefault(spec.planted, set()).add((tid, index))
                hits.add(spec.planted)
        for category in hits:
            contacts.setdefault(category, set()).add(tid)
        docs.append(doc)
    return Planted(docs, contacts, utterances)


def _timed(specs: list[Spec], rng: random.Random) -> list[Spec]:
    """Add one silence, interruption or talk-time case (must or must not match) to a contact that gets times."""
    case = rng.choice(["silence", "short_silence", "interrupt", "overlap_same_speaker", "agent_long", "even"])
    if case == "silence":
        specs.append(Spec("agent", "让您久等了", "long_silence", gap_before=12_000))
    elif case == "short_silence":
        specs.append(Spec("agent", "让您久等了", gap_before=5_000))
    elif case == "interrupt":
        specs += [Spec("agent", "您听我说"), Spec("customer", "不用说了", "interruption", gap_before=-800)]
    elif case == "overlap_same_speaker":
        specs += [Spec("customer", "我说"), Spec("customer", "还有", gap_before=-800)]
    elif case == "agent_long":
        specs = [*specs, Spec("agent", "详细说明一下流程", duration=60_000)]
    return specs


def _doc(tid: str, specs: list[Spec], channel: str, tier: str | None, timed: bool) -> AnalyzedTranscript:
    turns, clock = [], 0
    for spec in specs:
        start = clock + (spec.gap_before if spec.gap_before is not None else 1000)
        turns.append({"speaker": spec.speaker, "text": spec.text,
                      **({"start_ms": max(start, 0), "end_ms": max(start, 0) + spec.duration} if timed else {})})
        clock = max(start, 0) + spec.duration
    transcript = Transcript(id=tid, channel=channel, metadata={"tier": tier} if tier else {}, turns=turns)
    doc = AnalyzedTranscript(transcript, "zh", "food_delivery")
    for index, (spec, turn) in enumerate(zip(specs, transcript.turns, strict=True)):
        defaults = {"stage": "browse", "issue_type": None, "emotion": "neutral", "emotion_confidence": 0.5,
                    "sentiment": "neutral" if spec.speaker == "customer" else None,
                    "sentiment_score": 0.0 if spec.speaker == "customer" else None}
        doc.utterances.append(Utterance(
            turn_index=index, sentence_index=0, speaker=spec.speaker, text=spec.text, language="zh", tokens=(),
            start_ms=turn.start_ms, end_ms=turn.end_ms, **{**defaults, **spec.fields}))
    return doc
