"""Reading the times real exports write: the one parser behind a transcript's ``started_at`` and a turn's ``ts``.

Read: ISO 8601 as ``datetime.fromisoformat`` reads it (``2024-03-01T12:00:00.000+08:00``, ``+0800``, ``Z``,
``20240301``); a date with ``-``, ``/`` or ``.``
and a time after a space or ``T``, with an optional zone after it (``2015-02-24 11:35:52 -0800``,
``2024/03/01 12:00``, ``2024-03-01 09:00 PM UTC``); Chinese dates (``2024年3月1日 12:00``,
``2024年3月1日 12时30分``, ``12点30分15秒``); and epoch seconds (10 digits) or milliseconds (13 digits), as
numbers or digit strings. Nothing else is guessed: day/month order (``03/01/2024``), relative times, words and
numbers of other lengths are refused rather than read as some other moment. A time without a zone stays naive, as
the source wrote it: no zone is guessed here. Epoch times are UTC.
"""

from __future__ import annotations

import math
import re
import reprlib
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

EARLIEST_YEAR, LATEST_YEAR = 1900, 2200  # a time outside is corrupt data (and may overflow zone conversions)
EPOCH_SECONDS = (10**9, 10**10)  # 2001-09-09 .. 2286-11-20: ten-digit numbers
EPOCH_MILLISECONDS = (10**12, 10**13)  # the same span in thirteen-digit milliseconds
EXPECTED = (
    "expected ISO 8601 (2024-03-01T12:00:00+08:00), 2024/03/01 12:00, 2024年3月1日 12时30分, "
    "or epoch seconds (10 digits) or milliseconds (13 digits)"
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DATE_TIME = re.compile(
    r"""
    (?P<year>\d{4}) [-/.年] (?P<month>\d{1,2}) [-/.月] (?P<day>\d{1,2}) [日号]?
    (?:
        (?:T\s*|\s+|(?<=[日号]))
        (?P<hour>\d{1,2}) [:时時点點] (?P<minute>\d{1,2})
        (?: [:分] (?P<second>\d{1,2}) (?:[.,](?P<fraction>\d{1,9}))? 秒? | 分 )?
        (?:\s*(?P<half>[AP]M))?
        (?:\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?))?
    )?
    """,
    re.VERBOSE | re.IGNORECASE,
)
_EPOCH_DIGITS = re.compile(r"\d{10}(?:\.\d+)?|\d{13}")


def read_time(value: Any) -> datetime | None:
    """The moment ``value`` names; None for a missing or blank value; ``ValueError`` saying why it is unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = _from_epoch(value)
    elif isinstance(value, str):
        moment = _from_text(value.strip())
    else:
        raise ValueError(f"cannot read a time from {type(value).__name__} {reprlib.repr(value)}; {EXPECTED}")
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(f"{moment.isoformat()} is outside the years {EARLIEST_YEAR}–{LATEST_YEAR}")
    return moment


def _from_text(text: str) -> datetime:
    if _EPOCH_DIGITS.fullmatch(text):
        return _from_epoch(float(text) if "." in text else int(text))
    try:
        return datetime.fromisoformat(text)  # the common case, and fast
    except ValueError:
        pass
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"cannot read the time {reprlib.repr(text)}; {EXPECTED}")
    hour = int(match["hour"] or 0)
    if match["half"]:
        if not 1 <= hour <= 12:
            raise ValueError(f"cannot read the time {text!r}: hour {hour} with {match['half'].upper()}")
        hour = hour % 12 + (12 if match["half"].upper() == "PM" else 0)
    try:
        return datetime(
            int(match["year"]), int(match["month"]), int(match["day"]), hour, int(match["minute"] or 0),
            int(match["second"] or 0), int((match["fraction"] or "0")[:6].ljust(6, "0")), _zone(match["zone"]),
        )
    except ValueError as error:
        raise ValueError(f"cannot read the time {text!r}: {error}") from error


@lru_cache(maxsize=64)
def _zone(zone: str | None) -> timezone | None:
    """``Z``/``UTC``/``GMT`` → UTC, ``+0800``/``+08:00``/``+08`` → that offset, None → naive."""
    if zone is None:
        return None
    if zone.upper() in ("Z", "UTC", "GMT"):
        return UTC
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return timezone(-offset if zone[0] == "-" else offset)  # raises ValueError beyond ±24 h


def _from_epoch(number: float) -> datetime:
    if not math.isfinite(number):
        raise ValueError(f"cannot read a time from the number {number}; {EXPECTED}")
    if EPOCH_SECONDS[0] <= number < EPOCH_SECONDS[1]:
        return _EPOCH + timedelta(seconds=number)
    if EPOCH_MILLISECONDS[0] <= number < EPOCH_MILLISECONDS[1]:
        return _EPOCH + timedelta(milliseconds=number)
    raise ValueError(f"cannot read a time from the number {number}: {EXPECTED}")
