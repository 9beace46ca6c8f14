"""Agent QA scorecards: weighted items, each a condition over the agent's turns, and auto-fail items.

A scorecard file (docs/categories.md, "Agent QA scorecards")::

    id: contact_centre
    name: 坐席质检 / agent QA
    items:
      - id: greeting
        name: 开场问候 / greeting
        weight: 10
        when:                                   # the category language, over agent utterances
          all:
            - position: {first: 3}
            - phrases: [您好, hello]
      - id: empathy
        name: 共情 / empathy
        weight: 15
        category: agent_empathy                 # or a built-in category's condition
        applies_if:                             # optional: otherwise not applicable (n/a) to the contact
          all: [{speaker: customer}, {sentiment: negative}]
    auto_fail:                                  # any of these said by the agent: the score is 0
      - id: abuse
        name: 辱骂客户 / abusive language
        when: {phrases: [闭嘴, shut up]}

Per contact with at least one agent utterance: an item is **passed** when an agent utterance meets its condition,
**n/a** when it has ``applies_if`` and no utterance of the contact (any speaker) meets that, **failed** otherwise.
The score is 100 × Σ weight(passed) / Σ weight(passed or failed) (None when every item is n/a), and 0 when an
auto-fail item matched. Each item carries its evidence: the agent utterances that met it. The agent is
``metadata.agent_id``, or else the speaker label of the contact's first agent utterance (客服小张); the team is
``metadata.team``.

The items are compiled to utterance-level categories and evaluated by the same SQL as ``journeylens categorize``
(``nlp.categories.sql``), over the store's contacts a filter selects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nlp.categories.load import load_category_set
from nlp.categories.model import (
    CategoryDefinition,
    CategoryFileError,
    CategorySet,
    Condition,
    phrase_tokens,
)
from nlp.categories.sql import categorize_sql
from nlp.resources import models_dir
from nlp.yaml_files import describe, line_numbers, read_mapping

PASS, FAIL, NOT_APPLICABLE = "pass", "fail", "n/a"
DEFAULT_SCORECARD = "contact_centre"
_ID = r"^[a-z][a-z0-9_]*$"
_AGENT = Condition(speaker=["agent"])


class ScorecardFileError(CategoryFileError):
    """A scorecard that cannot be used: the message names the file, the entry, its line and the fix."""


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    description: str = ""
    when: Condition | None = None
    category: str | None = Field(default=None, pattern=_ID)

    @model_validator(mode="after")
    def _one_condition(self) -> _Rule:
        if (self.when is None) == (self.category is None):
            raise ValueError("give exactly one of when: (a condition) or category: (a built-in category id)")
        return self


class ScorecardItem(_Rule):
    weight: float = Field(gt=0, le=1000)
    applies_if: Condition | None = None


class AutoFail(_Rule):
    pass


class Scorecard(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    description: str = ""
    items: list[ScorecardItem] = Field(min_length=1)
    auto_fail: list[AutoFail] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Scorecard:
        seen: set[str] = set()
        for key, rules in (("items", self.items), ("auto_fail", self.auto_fail)):
            for at, rule in enumerate(rules):
                if rule.id in seen:
                    raise ValueError(f"{key}.{at}.id: duplicate id {rule.id!r}: give each item its own id")
                seen.add(rule.id)
        return self

    @property
    def total_weight(self) -> float:
        return sum(item.weight for item in self.items)


@dataclass(frozen=True)
class LoadedScorecard:
    """A validated scorecard, its items' conditions resolved (``category:`` replaced by the category's tree)."""

    scorecard: Scorecard
    source: str
    conditions: dict[str, Condition]  # rule id → the condition an agent utterance must meet

    def category_set(self) -> CategorySet:
        """Utterance-level categories: ``pass__ID`` and ``fail__ID`` over agent turns, ``applies__ID`` over all."""
        found = []
        for rule in (*self.scorecard.items, *self.scorecard.auto_fail):
            prefix = "fail" if isinstance(rule, AutoFail) else "pass"
            found.append(CategoryDefinition(id=f"{prefix}__{rule.id}", name=rule.name,
                                            when=Condition(all=[_AGENT, self.conditions[rule.id]])))
        for item in self.scorecard.items:
            if item.applies_if is not None:
                found.append(CategoryDefinition(id=f"applies__{item.id}", name=item.name, when=item.applies_if))
        return CategorySet(tuple(found), (self.source,))


def builtin_scorecards() -> dict[str, Path]:
    """Built-in scorecard names → files (``models/scorecards/``)."""
    return {p.stem: p for p in sorted((models_dir() / "scorecards").glob("*.yaml"))}


def parse_scorecard(text: str, source: str = "<scorecard>", categories: CategorySet | None = None) -> LoadedScorecard:
    """Validate scorecard YAML ``text``; ``category:`` items name a category of ``categories`` (default: the
    built-in packs). Errors name ``source``, the entry, its line and what to change."""
    data = read_mapping(text, source, ScorecardFileError, "a mapping with id:, name: and a list under items:")
    try:
        scorecard = Scorecard.model_validate(data)
    except ValidationError as error:
        raise ScorecardFileError(f"{source}: {describe(error, text, ('items', 'auto_fail'), renamed={'not_': 'not'})}"
                                 ) from error
    if categories is None:
        from nlp.categories import DEFAULT_PACKS

        categories = load_category_set(DEFAULT_PACKS)
    known = {c.id: c for c in categories.categories}
    lines, conditions, problems = line_numbers(text), {}, []
    for key, rules in (("items", scorecard.items), ("auto_fail", scorecard.auto_fail)):
        for at, rule in enumerate(rules):
            if rule.when is not None:
                conditions[rule.id] = rule.when
                continue
            category = known.get(rule.category or "")
            line = lines.get((key, str(at), "category"))
            where = f"{key}.{at}.category"
            if category is None:
                problems.append(f"{where}: unknown category {rule.category!r}: use one of {sorted(known)} or write "
                                f"the condition under when:" + (f" (line {line})" if line else ""))
            elif category.level != "utterance":
                problems.append(f"{where}: {rule.category!r} is a contact-level category; an item needs an "
                                f"utterance-level one (the agent says it)" + (f" (line {line})" if line else ""))
            else:
                conditions[rule.id] = category.when
    if problems:
        raise ScorecardFileError(f"{source}: {'; '.join(problems)}")
    for key, rules in (("items", scorecard.items), ("auto_fail", scorecard.auto_fail)):
        for at, rule in enumerate(rules):
            for name in ("when", "applies_if"):
                condition = getattr(rule, name, None)
                if condition is not None and _has_utterance(condition):
                    line = lines.get((key, str(at), name))
                    problems.append(f"{key}.{at}.{name}: utterance: groups conditions of a contact-level category; an "
                                    "item is evaluated per utterance already: drop utterance:"
                                    + (f" (line {line})" if line else ""))
                for path, phrase in _empty_phrases(condition, (key, str(at), name)) if condition else ():
                    line = next((lines[path[:n]] for n in range(len(path), 0, -1) if path[:n] in lines), None)
                    problems.append(f"{'.'.join(path)}: phrase {phrase!r} has no letters, digits or characters to "
                                    "match: remove it" + (f" (line {line})" if line else ""))
    if problems:
        raise ScorecardFileError(f"{source}: {'; '.join(problems)}")
    return LoadedScorecard(scorecard, source, conditions)


def _has_utterance(c: Condition) -> bool:
    children = [*(c.all or []), *(c.any or []), c.not_, c.repeated.when if c.repeated else None]
    return c.utterance is not None or any(child is not None and _has_utterance(child) for child in children)


def _empty_phrases(c: Condition, path: tuple[str, ...]):
    """(path, phrase) of every phrase that keeps no token after normalisation (``"!!"`` would match nothing)."""
    if c.phrases is not None:
        key = "any" if c.phrases.any is not None else "all"
        for index, phrase in enumerate(c.phrases.phrases):
            if not phrase_tokens(phrase):
                yield (*path, "phrases", key, str(index)), phrase
    for key, children in (("all", c.all), ("any", c.any)):
        for index, child in enumerate(children or []):
            yield from _empty_phrases(child, (*path, key, str(index)))
    for key, child in (("not", c.not_), ("utterance", c.utterance)):
        if child is not None:
            yield from _empty_phrases(child, (*path, key))
    if c.repeated is not None:
        yield from _empty_phrases(c.repeated.when, (*path, "repeated", "when"))


def load_scorecard(name_or_path: str | Path | None = None, categories: CategorySet | None = None) -> LoadedScorecard:
    """A built-in scorecard by name (default ``contact_centre``) or a scorecard YAML file by path."""
    name_or_path = name_or_path or DEFAULT_SCORECARD
    cards = builtin_scorecards()
    path = cards.get(str(name_or_path)) or Path(name_or_path)
    if not path.is_file():
        raise ScorecardFileError(f"scorecard {str(name_or_path)!r} not found: give a YAML file or one of "
                                 f"{sorted(cards)}")
    return parse_scorecard(path.read_text(encoding="utf-8"), str(path), categories)


# -- scoring -----------------------------------------------------------------------------------------------------
@dataclass
class ItemResult:
    status: str  # pass, fail or n/a
    evidence: list[dict] = field(default_factory=list)  # {"utterance_index", "text"} of the agent's utterances


@dataclass
class ContactScore:
    transcript_id: str
    started_at: object
    agent_id: str | None
    team: str | None
    channel: str | None
    score: float | None
    items: dict[str, ItemResult]
    auto_fail: dict[str, list[dict]]  # auto-fail id → evidence, only those that matched


_CONTACTS = """
SELECT t.transcript_id, t.started_at, coalesce(json_extract_string(t.metadata, '$.agent_id'), a.label) AS agent_id,
       json_extract_string(t.metadata, '$.team') AS team, t.channel
FROM transcripts t
JOIN (SELECT transcript_id, arg_min(speaker_label, utterance_index) AS label  -- contacts with an agent utterance
      FROM utterances WHERE speaker = 'agent' GROUP BY 1) a USING (transcript_id)
WHERE {where}
ORDER BY t.started_at, t.transcript_id
"""


def score_contacts(con: duckdb.DuckDBPyConnection, loaded: LoadedScorecard, where: str = "TRUE",
                   params: dict | None = None) -> list[ContactScore]:
    """The score of every stored contact with an agent utterance that ``where`` (a condition on ``transcripts t``
    with named ``params``, as ``Filters.where`` makes) selects."""
    params = params or {}
    contacts = con.execute(_CONTACTS.format(where=where), params).fetchall()
    if not contacts:
        return []
    utterances = "utterances" if where == "TRUE" else (  # the filter halves the speed: only when there is one
        f"(SELECT * FROM utterances WHERE transcript_id IN (SELECT t.transcript_id FROM transcripts t WHERE {where}))")
    rows = con.execute(categorize_sql(loaded.category_set(), utterances), params).fetchall()
    hits: dict[tuple[str, str], list[dict]] = {}
    for transcript_id, category_id, _level, index, text in rows:
        hits.setdefault((transcript_id, category_id), []).append({"utterance_index": index, "text": text})
    for evidence in hits.values():
        evidence.sort(key=lambda item: item["utterance_index"])
    card = loaded.scorecard
    scores = []
    for transcript_id, started_at, agent_id, team, channel in contacts:
        items, earned, possible = {}, 0.0, 0.0
        for item in card.items:
            if item.applies_if is not None and (transcript_id, f"applies__{item.id}") not in hits:
                items[item.id] = ItemResult(NOT_APPLICABLE)
                continue
            evidence = hits.get((transcript_id, f"pass__{item.id}"), [])
            items[item.id] = ItemResult(PASS if evidence else FAIL, evidence)
            possible += item.weight
            earned += item.weight if evidence else 0.0
        failed = {rule.id: hits[(transcript_id, f"fail__{rule.id}")] for rule in card.auto_fail
                  if (transcript_id, f"fail__{rule.id}") in hits}
        score = 0.0 if failed else (100 * earned / possible if possible else None)
        scores.append(ContactScore(transcript_id, started_at, agent_id, team, channel, score, items, failed))
    return scores
