"""Identifiers shared by the pipeline (which stores them) and analytics (which looks them up).

An id that holds PII (a phone number used as customer id) is stored as ``pii-`` and a hash of its folded form
(``nlp/steps/redact.py`` decides whether it holds PII). Analytics must compute the same token to find a
journey by the raw number, without importing the pipeline's steps: both take the token from here.
"""

from __future__ import annotations

import hashlib
import re

_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0x00A0: 0x20}
_HAN_DIGITS = str.maketrans("〇零幺一二三四五六七八九", "001123456789")
_HAN_DIGIT_RUN = re.compile("[〇零幺一二三四五六七八九]{3,}")


def fold(text: str) -> str:
    """The view that patterns match: same length as ``text``, full-width folded, Chinese digit runs as digits."""
    view = text.translate(_FULL_WIDTH)
    return _HAN_DIGIT_RUN.sub(lambda m: m.group().translate(_HAN_DIGITS), view)


def pii_token(identifier: str) -> str:
    """The stored form of an id that holds PII: the same token for the same id, full-width or not."""
    return "pii-" + hashlib.sha256(fold(identifier).encode("utf-8")).hexdigest()[:16]
