"""Journey taxonomies: the stages, issue types and service steps of one business, read from YAML.

A taxonomy is the user's own description of their journey (see ``models/taxonomies/`` for the built-in ones and
docs/stages.md for the format). Three levels: ``stages`` (customer-journey level, in journey order, each with a
phase and optionally a parent stage), ``issue_types`` (doubt / defect / blockage and finer subtypes) and
``service_steps`` (bot, IVR, agents, escalation…). Any category may name an ``owner`` (who improves it) and its
``process_steps`` (the service process main flow for it). Loading validates the file and names the file, the
entry, its line and what to do on error.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from nlp.resources import models_dir
from nlp.yaml_files import parse_model

Phase = Literal["pre_sale", "in_sale", "after_sale"]


class Category(BaseModel):
    """A labelled class of a taxonomy level: an id, names, a description, keywords and example utterances."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    name_en: str | None = None
    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    owner: str | None = None
    process_steps: list[str] = Field(default_factory=list)

    @field_validator("keywords", "examples", "process_steps", mode="before")
    @classmethod
    def _numbers_as_text(cls, value: object) -> object:
        """YAML reads ``618`` as a number; a keyword or example is text either way."""
        if isinstance(value, list):
            return [str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in value]
        return value

    @model_validator(mode="after")
    def _no_blank_entries(self) -> Category:
        for field in ("keywords", "examples", "process_steps"):
            if any(not str(v).strip() for v in getattr(self, field)):
                raise ValueError(f"{self.id}: {field} has an empty entry: remove it")
        if self.id == "other":
            raise ValueError("'other' is reserved for text that fits no category: choose another id")
        return self

    def texts(self) -> list[str]:
        """Everything that describes this category in words: names, description, keywords, examples."""
        return [t for t in (self.name, self.name_en or "", self.description, *self.keywords, *self.examples) if t]


class Stage(Category):
    phase: Phase
    parent: str | None = None


class IssueSubtype(Category):
    """A finer issue type under one of the top three; ``stages`` names the stages it belongs to (empty: any)."""

    stages: list[str] = Field(default_factory=list)


class IssueType(Category):
    subtypes: list[IssueSubtype] = Field(default_factory=list)


class Taxonomy(BaseModel):
    """One business's journey: stages in journey order, issue types, service steps."""

    model_config = ConfigDict(extra="forbid")

    name: str
    language: Literal["zh", "en"] = "zh"
    description: str = ""
    stages: list[Stage] = Field(min_length=1)
    issue_types: list[IssueType] = Field(default_factory=list)
    service_steps: list[Category] = Field(default_factory=list)
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The file this taxonomy was read from (trained stage models are saved next to it)."""
        return self._source

    @model_validator(mode="after")
    def _consistent(self) -> Taxonomy:
        """Cross-entry rules; each message starts with the path of the entry at fault (for its line number)."""
        for level in ("stages", "issue_types", "service_steps"):
            ids = [c.id for c in getattr(self, level)]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                at = ids.index(duplicates[0], ids.index(duplicates[0]) + 1)
                raise ValueError(f"{level}.{at}.id: duplicate ids {duplicates}: give each entry its own id")
        seen_ids = {i.id for i in self.issue_types}
        for i, issue in enumerate(self.issue_types):
            for j, sub in enumerate(issue.subtypes):
                if sub.id in seen_ids:
                    raise ValueError(f"issue_types.{i}.subtypes.{j}.id: subtype id {sub.id!r} is used twice: "
                                     "give each subtype its own id")
                seen_ids.add(sub.id)
        parents = {s.id: s.parent for s in self.stages}
        for i, issue in enumerate(self.issue_types):
            for j, sub in enumerate(issue.subtypes):
                unknown = sorted(set(sub.stages) - set(parents))
                if unknown:
                    raise ValueError(f"issue_types.{i}.subtypes.{j}.stages: issue subtype {sub.id!r}: stages "
                                     f"{unknown} are not stage ids")
        for i, stage in enumerate(self.stages):
            if stage.parent is None:
                continue
            if stage.parent not in parents:
                raise ValueError(f"stages.{i}.parent: stage {stage.id!r}: parent {stage.parent!r} is not a stage id")
            seen, current = {stage.id}, stage.parent
            while current is not None:
                if current in seen:
                    raise ValueError(f"stages.{i}.parent: stage {stage.id!r}: parent stages form a cycle through "
                                     f"{current!r}")
                seen.add(current)
                current = parents[current]
        return self

    @property
    def stage_ids(self) -> list[str]:
        return [s.id for s in self.stages]




class TaxonomyError(ValueError):
    """A taxonomy file that cannot be used, with the file and the reason."""


def builtin_taxonomies() -> dict[str, Path]:
    """Built-in taxonomy names → files."""
    return {p.stem: p for p in sorted((models_dir() / "taxonomies").glob("*.yaml"))}


@lru_cache(maxsize=32)
def load_taxonomy(name_or_path: str) -> Taxonomy:
    """Load a built-in taxonomy by name (``food_delivery``) or a YAML file by path."""
    builtin = builtin_taxonomies()
    path = builtin.get(name_or_path) or Path(name_or_path)
    if not path.is_file():
        raise TaxonomyError(
            f"taxonomy {name_or_path!r} not found: give a YAML file or one of {sorted(builtin)}"
        )
    taxonomy = parse_taxonomy(path.read_text(encoding="utf-8"), str(path))
    taxonomy._source = path.resolve()
    return taxonomy


def parse_taxonomy(text: str, source: str = "<taxonomy>") -> Taxonomy:
    """Validate taxonomy YAML ``text``; errors name ``source``, the field, its line and what is wrong."""
    return parse_model(text, source, Taxonomy, TaxonomyError,
                       "a mapping with name, stages, issue_types and service_steps",
                       roots=("stages", "issue_types", "service_steps"), whole="taxonomy")

