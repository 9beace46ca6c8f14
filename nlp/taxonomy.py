"""Journey taxonomies: the stages, issue types and service steps of one business, read from YAML.

A taxonomy is the user's own description of their journey (see ``models/taxonomies/`` for the built-in ones).
Loading validates it and names the file and the offending entry on error.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nlp.resources import models_dir
from nlp.transcript import describe_validation_error

Phase = Literal["pre_sale", "in_sale", "after_sale"]


class Category(BaseModel):
    """A labelled class of a taxonomy level: an id, names, a description, keywords and example utterances."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    name_en: str | None = None
    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    owner: str | None = None


class Stage(Category):
    phase: Phase
    parent: str | None = None


class IssueType(Category):
    subtypes: list[Category] = Field(default_factory=list)


class Taxonomy(BaseModel):
    """One business's journey: stages in journey order, issue types, service steps."""

    model_config = ConfigDict(extra="forbid")

    name: str
    language: Literal["zh", "en"] = "zh"
    description: str = ""
    stages: list[Stage] = Field(min_length=1)
    issue_types: list[IssueType] = Field(default_factory=list)
    service_steps: list[Category] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> Taxonomy:
        for level in ("stages", "issue_types", "service_steps"):
            ids = [c.id for c in getattr(self, level)]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"{level}: duplicate ids {duplicates}")
        stage_ids = {s.id for s in self.stages}
        for stage in self.stages:
            if stage.parent and stage.parent not in stage_ids:
                raise ValueError(f"stage {stage.id!r}: parent {stage.parent!r} is not a stage id")
        return self


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
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Taxonomy.model_validate(data)
    except yaml.YAMLError as error:
        raise TaxonomyError(f"{path}: not valid YAML: {error}") from error
    except ValidationError as error:
        raise TaxonomyError(f"{path}: {describe_validation_error(error)}") from error
