"""Text normalisation: traditional → simplified Chinese, full-width → half-width, whitespace.

Chinese punctuation (，。！？) is kept as it is: it carries sentence boundaries and the models were trained on
it. Only full-width ASCII letters, digits and the ideographic space are folded. Emoji are untouched.
"""

from __future__ import annotations

import re
from functools import lru_cache

import opencc

# Full-width ASCII letters/digits and a few symbols that are typed by accident in Chinese IMEs.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if chr(cp) not in "，。！？；：（）【】「」"}
_FULLWIDTH[0x3000] = 0x20  # ideographic space
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_NEWLINES = re.compile(r"\s*\n\s*")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalize_text(text: str, *, to_simplified: bool = True) -> str:
    """Return ``text`` simplified, width-folded and with collapsed whitespace (newlines kept as one)."""
    text = _ZERO_WIDTH.sub("", text).translate(_FULLWIDTH)
    if to_simplified and not text.isascii():
        text = _t2s().convert(text)
    text = _SPACES.sub(" ", text)
    return _NEWLINES.sub("\n", text).strip()
