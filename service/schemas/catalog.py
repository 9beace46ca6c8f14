"""Schemas of the catalog routes (``service.routes.catalog``): taxonomies and models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class CategoryInfo(BaseModel):
    id: str
    name: str
    name_en: str | None = None
    description: str = ""


class StageInfo(CategoryInfo):
    phase: str
    parent: str | None = None


class TaxonomyInfo(BaseModel):
    name: str = Field(description="Pass as `taxonomy` to the analyze and ingestion routes.")
    title: str = Field(description="The taxonomy's own name.")
    language: str
    description: str
    default: bool = Field(description="Used when no business line maps to another taxonomy.")
    business_lines: list[str] = Field(description="Business lines mapped to this taxonomy by the configuration.")
    stages: list[StageInfo]
    issue_types: list[CategoryInfo]
    service_steps: list[CategoryInfo]


class TaxonomyList(BaseModel):
    taxonomies: list[TaxonomyInfo]


class ModelInfo(BaseModel):
    role: Literal["emotion_scorer", "journey_classifier"]
    name: str
    version: str
    card: dict[str, Any] | None = Field(
        default=None, description="The model card (metrics) of a trained model; the built-in lexicon and keyword "
                                  "components have none."
    )


class ModelsResponse(BaseModel):
    journeylens: str
    fingerprint: str = Field(description="Changes whenever a model, taxonomy or the configuration changes.")
    models: list[ModelInfo]
    taxonomies: dict[str, str] = Field(description="Taxonomy name → digest of its content.")
    configuration: dict[str, Any]
