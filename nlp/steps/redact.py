"""PII redaction: typed placeholders replace personal data before anything is stored or logged.

Kinds, matched in this order so that a longer, more specific number is claimed first:
``<EMAIL>`` (also a Chinese name of up to four characters as the local part, so a word glued to the name may go
with it; a Chinese domain; spaces around the ``@``); ``<ID>`` an
18-digit mainland resident ID (birth date checked); ``<CARD>`` a 13–19 digit bank card number that passes the
Luhn check (spaces or dashes between groups allowed); ``<PHONE>`` a mainland mobile number (optionally +86) or a
landline with area code. A separator (space, dash, dot, comma, full-width comma) may stand between any two
digits of an ID, and between the groups people and speech recognisers use for a phone number (``138 1234 5678``,
``1381 234 5678``, ``138.1234.5678``, ``010 6234 5678``, ``1 3 8 1 2 3 4 5 6 7 8``) or a card (4-4-4-4). Digits
glued to other digits never match, so order numbers are left alone unless they have the exact shape of one of
the kinds; ids such as ``CX-20260801-000007`` are not read as a card or a phone number.

Matching runs on a *view* of the text as long as the text itself: full-width characters folded to ASCII and
runs of three or more Chinese digits (一三八, 幺, 〇, 零) turned into digits, so ``１３８…`` and
``一三八一二三四五六七八`` are found; each match's span is then replaced in the original text.

Every pattern runs in linear time in the length of the text: a match of unbounded length (an e-mail's local
part, a domain) can only start where its run of characters starts (a look-behind rejects every other start at
once), every other match is bounded in length. ``tests/test_redact.py`` times adversarial input against
ordinary text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from nlp.ids import fold, pii_token

KINDS = ("email", "id", "card", "phone")

_CANDIDATE = re.compile("[0-9@]")

_SEP = r"[ \-.,]"  # one separator between two digits of an ID or phone number (the full-width comma is folded)
_HAN = "\u4e00-\u9fff"
_TLD = "[A-Za-z]{2,}|中国|中國|公司|网络|網絡|在线|商城|香港|台湾|台灣|澳门|新加坡"
_EMAIL = re.compile(
    rf"(?:(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+|[{_HAN}]{{1,4}}) ?@ ?"  # local part: an ASCII run or a name
    rf"[A-Za-z0-9\-{_HAN}]+(?:\.[A-Za-z0-9\-{_HAN}]+)*\.(?:{_TLD})"
)
_ID = re.compile(rf"(?<![0-9])[1-9](?:{_SEP}?[0-9]){{16}}{_SEP}?[0-9Xx](?![0-9])")
_ID_DIGITS = re.compile(r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]")
_CARD = re.compile(  # 13–19 digits, or in the groups cards are printed in: 4-4-4-4(-3), 4-6-5
    r"(?<![0-9])(?:[0-9]{13,19}|[0-9]{4}(?:[ \-][0-9]{4}){2,3}(?:[ \-][0-9]{1,3})?"
    r"|[0-9]{4}[ \-][0-9]{6}[ \-][0-9]{4,5})(?![0-9])"
)
_PHONE = re.compile(
    rf"(?<![0-9])(?:(?:\+?86{_SEP}?)?(?:"  # mobile, optionally +86:
    rf"1[3-9][0-9](?:{_SEP}?[0-9]{{4}}){{2}}"  # 13812345678, 138 1234 5678
    rf"|1[3-9][0-9]{{2}}{_SEP}[0-9]{{3}}{_SEP}[0-9]{{4}}"  # 1381 234 5678
    rf"|1(?P<sep>{_SEP})[3-9](?:(?P=sep)[0-9]){{9}})"  # 1 3 8 1 2 3 4 5 6 7 8, as spoken
    rf"|(?:\(0[0-9]{{2,3}}\)|0[0-9]{{2,3}}){_SEP}?[2-9][0-9]{{2,3}}{_SEP}?[0-9]{{4}}"  # landline: 010 6234 5678
    r")(?![0-9])"
)
_NOT_DIGIT = re.compile(r"[^0-9Xx]")
_MOBILE_WITH_COUNTRY_CODE = re.compile(r"861[3-9]\d{9}")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, d in enumerate(int(c) for c in reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _is_id(number: str) -> bool:
    return _ID_DIGITS.fullmatch(_NOT_DIGIT.sub("", number)) is not None


def _is_card(number: str) -> bool:
    """Luhn-valid and not a phone number with +86 (that one is left for the phone kind)."""
    digits = _NOT_DIGIT.sub("", number)
    return not _MOBILE_WITH_COUNTRY_CODE.fullmatch(digits) and _luhn_ok(digits)


_Step = tuple[re.Pattern[str], str, Callable[[str], bool] | None]
_STEPS: dict[str, _Step] = {
    "email": (_EMAIL, "<EMAIL>", None), "id": (_ID, "<ID>", _is_id), "card": (_CARD, "<CARD>", _is_card),
    "phone": (_PHONE, "<PHONE>", None),
}


def _replace(text: str, view: str, step: _Step) -> tuple[str, str]:
    """Replace the step's matches in the view by its placeholder, at the same spans in the text."""
    pattern, placeholder, accept = step
    text_parts, view_parts, end = [], [], 0
    for match in pattern.finditer(view):
        if accept is not None and not accept(match.group()):
            continue
        text_parts += [text[end:match.start()], placeholder]
        view_parts += [view[end:match.start()], placeholder]
        end = match.end()
    if not text_parts:
        return text, view
    return "".join([*text_parts, text[end:]]), "".join([*view_parts, view[end:]])


_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _decode_pii_escape(match: re.Match) -> str:
    char = chr(int(match[1], 16))
    return char if char.isalnum() or char in "@.+-_" else match[0]


@dataclass(frozen=True)
class Redactor:
    """Replace the configured PII kinds in text. ``Redactor(kinds=())`` redacts nothing."""

    kinds: tuple[str, ...] = KINDS

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown PII kinds {sorted(unknown)}; choose from {list(KINDS)}")

    def _steps(self) -> Iterable[_Step]:
        return [_STEPS[k] for k in KINDS if k in self.kinds]

    def raw(self, text: str) -> str:
        """Redact a raw record as read, which may spell PII in JSON ``\\uXXXX`` escapes ("\\u0031\\u0033…" for
        13…): escapes of the characters PII is written with (letters, digits, ``@ . + - _``, full-width forms) are
        decoded first so that they are matched; other escapes (quotes, control characters, surrogates) stay escaped."""
        return self(_ESCAPE.sub(_decode_pii_escape, text))

    def __call__(self, text: str) -> str:
        view = fold(text)
        if not _CANDIDATE.search(view):
            return text
        for step in self._steps():
            text, view = _replace(text, view, step)
        return text

    def pseudonymize(self, identifier: str | None) -> str | None:
        """An id that holds PII (a phone number as customer id, in a file name) becomes ``pii-`` and a hash of its
        folded form, so the same id always gets the same token (full-width or not) and contacts still link;
        other ids are kept as they are."""
        if identifier is None or self(identifier) == identifier:
            return identifier
        return pii_token(identifier)


def map_strings(value: Any, clean: Callable[[str], str], keys: Callable[[str], str] | None = None) -> Any:
    """``value`` (JSON-like) with ``clean`` applied to every string in it, and ``keys`` (default ``clean``) to
    every dictionary key."""
    keys = keys or clean
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {keys(k) if isinstance(k, str) else k: map_strings(v, clean, keys) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [map_strings(v, clean, keys) for v in value]
    return value
