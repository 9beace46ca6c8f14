"""Category definitions: a YAML file of categories, each a condition tree over a contact's utterances.

A category file looks like::

    categories:
      - id: complaint_threat
        name: 投诉威胁 / complaint threat
        description: The customer threatens to complain to a regulator, the press or a review site.
        owner: customer-care
        level: utterance                 # utterance (default) or contact
        when:
          all:
            - speaker: customer
            - phrases: [投诉, 12315, report you]

A condition is a mapping with exactly one key: ``all`` / ``any`` (lists of conditions), ``not`` (one condition),
``utterance`` (contact level: one utterance matches the whole sub-condition) or one of the operators in
``OPERATORS``. docs/categories.md describes each. Loading validates everything, including that every regex is
accepted by the linear-time engine (RE2, the one DuckDB evaluates it with), and names the file, the line and
what to change on error.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nlp.steps.normalize import normalize_text

# A token is a maximal run of ASCII letters/digits (after lower-casing) or one other character that is not a
# separator (one Chinese character). Separators: whitespace, ASCII punctuation and symbols, Latin-1 punctuation,
# general punctuation, CJK punctuation and full-width punctuation, as explicit ranges: RE2 builds a small automaton
# from them (the Unicode classes \pP\pS made phrase matching fifty times slower). Phrases and ``near`` count in
# these tokens; the same patterns tokenize phrases at load time and utterances in SQL, so both sides agree.
_SEPARATORS = (r"\s!-/:-@\[-`{-~\x{a0}-\x{bf}\x{2000}-\x{206f}\x{3000}-\x{303f}\x{fe30}-\x{fe4f}\x{ff01}-\x{ff0f}"
               r"\x{ff1a}-\x{ff20}\x{ff3b}-\x{ff40}\x{ff5b}-\x{ff65}")
SEPARATOR_CLASS = f"[{_SEPARATORS}]"
TOKEN_PATTERN = f"[a-z0-9]+|[^a-z0-9{_SEPARATORS}]"


class CategoryFileError(ValueError):
    """A category file that cannot be used: the message names the file, the entry, its line and the fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _one_or_many(value: object) -> object:
    """``speaker: customer`` and ``speaker: [customer, agent]`` both mean a list of allowed values."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list):
        return [str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in value]
    return value


class Range(_Strict):
    """Inclusive bounds; at least one is given."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}: swap them")
        return self


class Phrases(_Strict):
    """Phrases matched on tokens (see ``TOKEN_PATTERN``) after traditional→simplified and case folding."""

    any: list[str] | None = None
    all: list[str] | None = None
    near: int | None = Field(default=None, ge=0, le=50)

    @field_validator("any", "all", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return _one_or_many(value)

    @model_validator(mode="after")
    def _shape(self) -> Phrases:
        if (self.any is None) == (self.all is None):
            raise ValueError("give either any: [...] (one of the phrases) or all: [...] (every phrase)")
        phrases = self.any if self.any is not None else self.all
        if not phrases:
            raise ValueError("the phrase list is empty: add at least one phrase")
        if any(not str(p).strip() for p in phrases):
            raise ValueError("a phrase is empty: remove it")
        if self.near is not None and (self.all is None or len(self.all) != 2):
            raise ValueError("near: N needs all: [A, B] with exactly two phrases (A within N tokens of B)")
        return self

    @property
    def phrases(self) -> list[str]:
        return list(self.any if self.any is not None else self.all or [])


class Repeated(_Strict):
    """``when`` matched by at least ``times`` utterances of the contact ("the customer says it N times")."""

    times: int = Field(ge=2)
    when: Condition

    @model_validator(mode="after")
    def _flat(self) -> Repeated:
        if _uses(self.when, "repeated"):
            raise ValueError("repeated: inside repeated: is not supported: count one condition")
        return self


class TalkShare(_Strict):
    """The share of the contact's talk time (turn durations) taken by ``speaker``; needs start/end times."""

    speaker: str
    min: float | None = Field(default=None, ge=0, le=1)
    max: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _bounded(self) -> TalkShare:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both (a share between 0 and 1)")
        return self


class Position(_Strict):
    """Where in the contact: the first or last N utterances, or the first or last quarter of its utterances."""

    first: int | None = Field(default=None, ge=1)
    last: int | None = Field(default=None, ge=1)
    quarter: Literal["first", "last"] | None = None

    @model_validator(mode="after")
    def _one(self) -> Position:
        if sum(v is not None for v in (self.first, self.last, self.quarter)) != 1:
            raise ValueError("give exactly one of first: N, last: N or quarter: first|last")
        return self


class Condition(_Strict):
    """One node of a condition tree: exactly one field is set (the operator), the others are None."""

    all: list[Condition] | None = Field(default=None, min_length=1)
    any: list[Condition] | None = Field(default=None, min_length=1)
    not_: Condition | None = Field(default=None, alias="not")
    utterance: Condition | None = None
    phrases: Phrases | None = None
    regex: str | None = Field(default=None, min_length=1)
    speaker: list[str] | None = None
    sentiment: list[str] | None = None
    sentiment_score: Range | None = None
    emotion: list[str] | None = None
    emotion_coarse: list[str] | None = None
    emotion_confidence: Range | None = None
    stage: list[str] | None = None
    stage_confidence: Range | None = None
    issue_type: list[str] | None = None
    service_step: list[str] | None = None
    language: list[str] | None = None
    position: Position | None = None
    repeated: Repeated | None = None
    silence_before: Range | None = None
    interrupts: bool | None = None
    talk_share: TalkShare | None = None
    channel: list[str] | None = None
    business_line: list[str] | None = None
    metadata: dict[str, list[str]] | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("speaker", "sentiment", "emotion", "emotion_coarse", "stage", "issue_type", "service_step",
                     "language", "channel", "business_line", mode="before")
    @classmethod
    def _values(cls, value: object) -> object:
        return _one_or_many(value)

    @field_validator("phrases", mode="before")
    @classmethod
    def _phrase_list(cls, value: object) -> object:
        """``phrases: [a, b]`` is short for ``phrases: {any: [a, b]}``."""
        return {"any": value} if isinstance(value, list | str) else value

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata(cls, value: object) -> object:
        if isinstance(value, dict):
            return {str(k): _one_or_many(v) for k, v in value.items()}
        return value

    @field_validator("regex")
    @classmethod
    def _linear_time(cls, value: str) -> str:
        check_regex(value)
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            keys = ", ".join("not" if g == "not_" else g for g in given) or "nothing"
            raise ValueError(f"a condition has exactly one operator, got {keys}: split it with all: or any:")
        if self.interrupts is False:
            raise ValueError("interrupts: false never selects anything: use not: {interrupts: true}")
        return self

    @property
    def operator(self) -> str:
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)


Repeated.model_rebuild()


class CategoryDefinition(_Strict):
    """A named condition, evaluated per utterance (``level: utterance``) or per contact."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    description: str = ""
    owner: str | None = None
    level: Literal["utterance", "contact"] = "utterance"
    when: Condition

    @property
    def digest(self) -> str:
        """Changes whenever the definition does."""
        text = json.dumps(self.model_dump(mode="json", by_alias=True, exclude_none=True), sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _uses(condition: Condition, operator: str) -> bool:
    if condition.operator == operator:
        return True
    children = condition.all or condition.any or []
    for child in (*children, condition.not_, condition.repeated.when if condition.repeated else None):
        if child is not None and _uses(child, operator):
            return True
    return False


class CategoryFile(_Strict):
    categories: list[CategoryDefinition] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CategoryFile:
        for at, category in enumerate(self.categories):
            if category.level == "utterance" and _uses(category.when, "utterance"):
                raise ValueError(f"categories.{at}.when: utterance: groups the conditions one utterance must meet in a "
                                 "contact-level category: set level: contact, or drop utterance: (in a level: "
                                 "utterance category every condition already applies to one utterance)")
        ids = [c.id for c in self.categories]
        for at, category_id in enumerate(ids):
            if category_id in ids[:at]:
                raise ValueError(f"categories.{at}.id: duplicate id {category_id!r}: give each category its own id")
        return self


@dataclass(frozen=True)
class CategorySet:
    """The categories in force, in order; later files replace earlier categories with the same id."""

    categories: tuple[CategoryDefinition, ...]
    sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.categories)

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.categories]

    def merged(self, other: CategorySet) -> CategorySet:
        """This set with ``other``'s categories added; one with an id already here replaces it in place."""
        replacing = {c.id: c for c in other.categories}
        kept = [replacing.pop(c.id, c) for c in self.categories]
        return CategorySet((*kept, *replacing.values()), (*self.sources, *other.sources))


# -- regex ---------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _regex_checker() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def check_regex(pattern: str) -> None:
    """Refuse a pattern the linear-time engine (RE2, used by DuckDB's ``regexp_matches``) does not accept:
    backreferences and lookarounds, the features that make matching backtrack, are among them."""
    try:
        _regex_checker().cursor().execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
    except duckdb.Error as error:
        reason = str(error).split("Error: ", 1)[-1]
        raise ValueError(f"regex {pattern!r} is refused by the linear-time engine (RE2): {reason}; backreferences "
                         "and lookarounds are not supported, rewrite it without them") from None


def phrase_tokens(phrase: str) -> list[str]:
    """The tokens of ``phrase`` after the normalisation stored text went through (traditional→simplified,
    full-width folding) and case folding, cut with ``TOKEN_PATTERN`` by DuckDB itself."""
    return list(tokenize_phrases((phrase,))[0])


_TOKENS: dict[str, tuple[str, ...]] = {}


def tokenize_phrases(phrases: tuple[str, ...]) -> list[tuple[str, ...]]:
    """``phrase_tokens`` of many phrases in one query (a pack has hundreds), remembered."""
    missing = sorted({p for p in phrases if p not in _TOKENS})
    if missing:
        texts = [normalize_text(p, to_simplified=True) for p in missing]
        rows = _regex_checker().cursor().execute(
            "SELECT regexp_extract_all(lower(t), ?) FROM unnest(?) WITH ORDINALITY AS x(t, i) ORDER BY i",
            [TOKEN_PATTERN, texts]).fetchall()
        _TOKENS.update((p, tuple(r[0])) for p, r in zip(missing, rows, strict=True))
    return [_TOKENS[p] for p in phrases]
