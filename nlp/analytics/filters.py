"""Which contacts an analysis looks at, and how it breaks them down: one filter object for every report.

Filters become a parameterised SQL ``WHERE`` over the ``transcripts`` table (alias ``t``); ``by`` names a
column (channel, business_line, language, taxonomy), ``category`` or any metadata field (persona, city, …) to
break a ranking or trend down by.

``category`` (docs/categories.md) reads the store's ``categories`` table: the filter keeps the contacts that matched
the category; the breakdown puts a contact in the group of every category it matched (so groups overlap and add
up to more than the contacts), and a contact that matched none in the group ``NO_CATEGORY``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

COLUMNS = ("channel", "business_line", "language", "taxonomy")
CATEGORY = "category"  # the breakdown by stored category (not a metadata field of that name)
NO_CATEGORY = "(none)"
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2200, 12, 31)  # the years a transcript may carry
_FIELD = re.compile(r"(?!\d)\w{1,64}")  # any language's letters (人群), digits, _; fullmatch: no trailing newline


class Filters(BaseModel):
    """Contacts to include. Dates are local business days (inclusive) in the analytics time zone."""

    model_config = ConfigDict(extra="forbid")

    date_from: date | None = Field(default=None, ge=FIRST_DAY, le=LAST_DAY)
    date_to: date | None = Field(default=None, ge=FIRST_DAY, le=LAST_DAY)
    business_line: str | None = None
    channel: str | None = None
    taxonomy: str | None = None
    category: str | None = Field(default=None, max_length=64)  # contacts that matched this category id
    metadata: dict[str, str] = Field(default_factory=dict)

    def where(self, timezone: str) -> tuple[str, dict]:
        """A SQL condition on alias ``t`` and its named parameters (``$f0``, ``$f1`` …)."""
        clauses, params = ["TRUE"], {}

        def param(value) -> str:
            name = f"f{len(params)}"
            params[name] = value
            return f"${name}"

        zone = ZoneInfo(timezone)
        if self.date_from:
            clauses.append(f"t.started_at >= {param(_utc(datetime.combine(self.date_from, time(), zone)))}")
        if self.date_to:
            end = datetime.combine(self.date_to + timedelta(days=1), time(), zone)
            clauses.append(f"t.started_at < {param(_utc(end))}")
        for column in ("business_line", "channel", "taxonomy"):
            value = getattr(self, column)
            if value is not None:
                clauses.append(f"t.{column} = {param(value)}")
        if self.category is not None:
            clauses.append(f"t.transcript_id IN (SELECT transcript_id FROM categories WHERE category_id = "
                           f"{param(self.category)})")
        for key, value in self.metadata.items():
            clauses.append(f"{field_sql(key)} = {param(value)}")
        return " AND ".join(clauses), params


def field_sql(name: str) -> str:
    """SQL for a breakdown field: a transcripts column or a metadata key."""
    if name in COLUMNS:
        return f"t.{name}"
    if name == CATEGORY:  # one row per matched category: unnest in the select list repeats the contact
        return ("unnest(coalesce((SELECT list(DISTINCT c.category_id ORDER BY c.category_id) FROM categories c "
                f"WHERE c.transcript_id = t.transcript_id), ['{NO_CATEGORY}']))")
    if not _FIELD.fullmatch(name):
        raise ValueError(f"invalid field name {name!r}: up to 64 letters, digits and _, not starting with a digit")
    return f"json_extract_string(t.metadata, '$.{name}')"


def _utc(moment: datetime) -> datetime:
    """Stored timestamps are naive UTC."""
    return moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
