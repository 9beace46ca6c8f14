"""PII redaction: typed placeholders replace personal data before anything is stored or logged.

Kinds, matched in this order so that a longer, more specific number is claimed first:
``<EMAIL>``; ``<ID>`` an 18-digit mainland resident ID (birth date checked); ``<CARD>`` a 13–19 digit bank card
number that passes the Luhn check (spaces or dashes between groups allowed); ``<PHONE>`` a mainland mobile
number (optionally +86) or a landline with area code. Digits glued to other digits never match, so order
numbers are left alone unless they have the exact shape of one of the kinds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

KINDS = ("email", "id", "card", "phone")

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_ID = re.compile(r"(?<![0-9])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9])")
_CARD = re.compile(r"(?<![0-9])\d(?:[ \-]?\d){12,18}(?![0-9])")
_PHONE = re.compile(
    r"(?<![0-9])(?:"
    r"(?:\+?86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}"  # mobile: 138 1234 5678, +86-13812345678
    r"|(?:\(0\d{2,3}\)|0\d{2,3})[ \-]?[2-9]\d{6,7}"  # landline: 010-62345678, (0755)2345678, 02123456789
    r")(?![0-9])"
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, d in enumerate(int(c) for c in reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


_MOBILE_WITH_COUNTRY_CODE = re.compile(r"861[3-9]\d{9}")


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    if _MOBILE_WITH_COUNTRY_CODE.fullmatch(digits) or not _luhn_ok(digits):
        return match.group()  # a phone number with +86, or not a card: left for the next kind
    return "<CARD>"


@dataclass(frozen=True)
class Redactor:
    """Replace the configured PII kinds in text. ``Redactor(kinds=())`` redacts nothing."""

    kinds: tuple[str, ...] = KINDS

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown PII kinds {sorted(unknown)}; choose from {list(KINDS)}")

    def _steps(self) -> Iterable[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]]:
        table = {"email": (_EMAIL, "<EMAIL>"), "id": (_ID, "<ID>"), "card": (_CARD, _card),
                 "phone": (_PHONE, "<PHONE>")}
        return [table[k] for k in KINDS if k in self.kinds]

    def __call__(self, text: str) -> str:
        if not any(c.isdigit() or c == "@" for c in text):
            return text
        for pattern, replacement in self._steps():
            text = pattern.sub(replacement, text)
        return text
