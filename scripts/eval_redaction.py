#!/usr/bin/env python3
"""Recall and false positives of PII redaction (``nlp.steps.redact``).

Recall: every PII form the redactor claims (classic ones, and spaced, dotted, full-width, spoken or Chinese
forms) is generated ``--per-form`` times with random digits inside zh and en sentences; a case counts as found
when neither the planted string nor its digits (nor an e-mail's local part) are left and a placeholder is.
False positives: in the bundled demo archive's turns (normalised as the pipeline does), every order id, amount,
date and time is counted before and after redaction; the share left intact is reported, and likewise for the
``id``, ``customer_id`` and ``order_id`` fields (an id the pipeline would pseudonymise is a false positive).
The same share is reported for generated lookalikes the demo lacks (random order ids of 8–20 digits, contact ids
with a date, amounts with thousands separators, dates and times in several notations): random digits have the
shape of a phone number or pass the Luhn check by chance, so these show what the shapes alone cost.

    python scripts/eval_redaction.py [--archive data/demo/archive.jsonl.gz] [--per-form 200] [--seed 7]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from nlp.steps.normalize import normalize_text
from nlp.steps.redact import Redactor, fold

ROOT = Path(__file__).resolve().parents[1]
CONTEXTS = ("我的联系方式是{}，麻烦尽快处理。", "好的，{}。", "My contact is {}, thanks.", "{}")
_HAN = "〇一二三四五六七八九"
_FULL = "０１２３４５６７８９"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + _digits(rng, 9)


def _groups(number: str, sizes: tuple[int, ...], sep: str) -> str:
    parts, start = [], 0
    for size in sizes:
        parts.append(number[start:start + size])
        start += size
    return sep.join(parts)


def _resident_id(rng: random.Random) -> str:
    """A well-formed ID: area, birth date, sequence and the ISO 7064 MOD 11-2 check character."""
    body = f"{rng.randint(110000, 659999)}{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body += _digits(rng, 3)
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def _card(rng: random.Random) -> str:
    """A 16-digit number that passes the Luhn check."""
    body = rng.choice(("6222", "6217", "4111", "5500")) + _digits(rng, 11)
    total = 0
    for i, d in enumerate(int(c) for c in reversed(body)):
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def _spoken(number: str, one: str = "一", zero: str = "〇") -> str:
    return number.translate(str.maketrans("0123456789", zero + _HAN[1:])).replace("一", one)


FORMS: dict[str, Callable[[random.Random], str]] = {
    "mobile 13812345678": _mobile,
    "mobile 138-1234-5678": lambda rng: _groups(_mobile(rng), (3, 4, 4), "-"),
    "mobile +86 138 1234 5678": lambda rng: "+86 " + _groups(_mobile(rng), (3, 4, 4), " "),
    "mobile 1381 234 5678": lambda rng: _groups(_mobile(rng), (4, 3, 4), " "),
    "mobile 138.1234.5678": lambda rng: _groups(_mobile(rng), (3, 4, 4), "."),
    "mobile 138，1234，5678": lambda rng: _groups(_mobile(rng), (3, 4, 4), "，"),
    "mobile 1 3 8 1 2 … (spoken)": lambda rng: " ".join(_mobile(rng)),
    "mobile full-width": lambda rng: _mobile(rng).translate(str.maketrans("0123456789", _FULL)),
    "mobile 一三八… (〇)": lambda rng: _spoken(_mobile(rng)),
    "mobile 幺三八… (零)": lambda rng: _spoken(_mobile(rng), one="幺", zero="零"),
    "landline 010-62345678": lambda rng: "0" + _digits(rng, 2) + "-" + rng.choice("2345678") + _digits(rng, 7),
    "landline 010 6234 5678": lambda rng: "0" + _digits(rng, 2) + " " + _groups(
        rng.choice("2345678") + _digits(rng, 7), (4, 4), " "),
    "landline (0755)2345678": lambda rng: "(0" + _digits(rng, 3) + ")" + rng.choice("2345678") + _digits(rng, 6),
    "ID 18 digits": _resident_id,
    "ID 110101 19900307 123X": lambda rng: _groups(_resident_id(rng), (6, 8, 4), " "),
    "ID 1101 0119 9003 0712 3X": lambda rng: _groups(_resident_id(rng), (4, 4, 4, 4, 2), " "),
    "card 16 digits": _card,
    "card 6222 0212 3456 7894": lambda rng: _groups(_card(rng), (4, 4, 4, 4), " "),
    "card 4111-1111-1111-1111": lambda rng: _groups(_card(rng), (4, 4, 4, 4), "-"),
    "email zhang.san@example.com": lambda rng: f"{rng.choice(('zhang.san', 'li_si', 'wang+cs'))}{_digits(rng, 2)}"
                                               f"@{rng.choice(('example.com', 'qq.com', 'mail.example.com.cn'))}",
    "email 张三@example.com": lambda rng: f"{rng.choice('张李王赵')}{rng.choice('三四伟芳娜')}@example.com",
    "email info@例子.中国": lambda rng: f"{rng.choice(('info', 'kefu', 'a1'))}@{rng.choice(('例子', '客服'))}.中国",
    "email zhang.san @ example.com": lambda rng: f"zhang.san{_digits(rng, 2)} @ example.com",
}


def _leftovers(pii: str) -> list[str]:
    """What must not survive: the string, its digits (numbers) or its local part (e-mail addresses)."""
    if "@" in pii:
        return [pii, pii.split("@")[0].strip()]
    return [pii, re.sub(r"[^0-9Xx]", "", fold(pii))]


def recall(redact: Redactor, per_form: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    found: dict[str, float] = {}
    for name, make in FORMS.items():
        hits = 0
        for i in range(per_form):
            pii = make(rng)
            text = normalize_text(CONTEXTS[i % len(CONTEXTS)].format(pii))
            redacted = redact(text)
            hits += "<" in redacted and not any(left in redacted for left in _leftovers(normalize_text(pii)))
        found[name] = hits / per_form
    return found


ORDINARY = {
    "order ids": re.compile(r"(?:订单号是?|订单编号|order number|order)\s*[:：]?\s*(\d{6,})", re.IGNORECASE),
    "amounts": re.compile(r"[¥$]\s?\d+(?:\.\d+)?|\d+(?:\.\d+)?\s?(?:元|块|yuan|RMB)"),
    "dates and times": re.compile(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\d{1,2}月\d{1,2}[日号]|\d{1,2}:\d{2}"
                                  r"|\d{1,2}点(?:\d{1,2}分|半)?"),
}


LOOKALIKES: dict[str, Callable[[random.Random], str]] = {
    "order id, 8-20 random digits": lambda rng: rng.choice("123456789") + _digits(rng, rng.randint(7, 19)),
    "contact id CX-20261001-000123": lambda rng: f"CX-2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}-"
                                                 f"{_digits(rng, rng.randint(4, 8))}",
    "amount ¥1,234,567.89": lambda rng: f"¥{rng.randint(1000, 99_999_999):,}.{rng.randint(0, 99):02d}",
    "amount 1 380.50 元": lambda rng: f"{rng.randint(1000, 999_999):,}.{rng.randint(0, 99):02d} 元".replace(",", " "),
    "date 2026-10-01 / 2026.10.01": lambda rng: f"2026{rng.choice('-./')}{rng.randint(1, 12):02d}"
                                                f"{rng.choice('-./')}{rng.randint(1, 28):02d}",
    "date and time 2026-10-01 13:45:10": lambda rng: f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                                                     f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
                                                     f"{rng.randint(0, 59):02d}",
    "prices 13.80 / 12.50 / 19.90": lambda rng: " / ".join(f"{rng.randint(1, 99)}.{rng.randint(0, 99):02d}"
                                                           for _ in range(3)),
}


def lookalikes_kept(redact: Redactor, per_form: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    kept = {}
    for name, make in LOOKALIKES.items():
        texts = [CONTEXTS[i % len(CONTEXTS)].format(make(rng)) for i in range(per_form)]
        kept[name] = sum(redact(text) == text for text in texts) / per_form
    return kept


def false_positives(redact: Redactor, archive: Path) -> dict[str, tuple[int, int]]:
    """Per kind of ordinary number: (occurrences in the archive's turns, occurrences left after redaction)."""
    seen: Counter[str] = Counter()
    kept: Counter[str] = Counter()
    with gzip.open(archive, "rt", encoding="utf-8") as handle:
        for line in handle:
            transcript = json.loads(line)
            for field in ("id", "customer_id", "order_id"):
                if transcript.get(field):
                    seen[f"{field} field"] += 1
                    kept[f"{field} field"] += redact.pseudonymize(transcript[field]) == transcript[field]
            for turn in transcript["turns"]:
                text = normalize_text(turn["text"])
                redacted = redact(text)
                for kind, pattern in ORDINARY.items():
                    before, after = Counter(pattern.findall(text)), Counter(pattern.findall(redacted))
                    seen[kind] += sum(before.values())
                    kept[kind] += sum(min(n, after[number]) for number, n in before.items())
    return {kind: (seen[kind], kept[kind]) for kind in seen}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", type=Path, default=ROOT / "data" / "demo" / "archive.jsonl.gz")
    parser.add_argument("--per-form", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    redact = Redactor()

    found = recall(redact, args.per_form, args.seed)
    print(f"recall on {len(FORMS)} PII forms × {args.per_form} generated cases (seed {args.seed})")
    for name, share in found.items():
        print(f"  {name:32s} {share:7.1%}")
    print(f"  {'all forms':32s} {sum(found.values()) / len(found):7.1%}")

    print(f"\nordinary numbers left intact in {args.archive.name}")
    totals = [0, 0]
    for kind, (seen, kept) in false_positives(redact, args.archive).items():
        print(f"  {kind:32s} {kept:,} / {seen:,} = {kept / seen:7.2%}")
        totals = [totals[0] + seen, totals[1] + kept]
    print(f"  {'all':32s} {totals[1]:,} / {totals[0]:,} = {totals[1] / totals[0]:7.2%} "
          f"(false-positive rate {1 - totals[1] / totals[0]:.2%})")

    print(f"\ngenerated lookalikes left intact ({args.per_form} each)")
    for name, share in lookalikes_kept(redact, args.per_form, args.seed).items():
        print(f"  {name:32s} {share:7.1%}")


if __name__ == "__main__":
    main()
