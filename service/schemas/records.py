"""The API's shape of the records of ``nlp.schema.document``, derived from the dataclasses themselves.

``record_model`` builds a pydantic model from the fields a record gives the API (``nlp.schema.fields``): the same
names, order, types and descriptions; ``X | None`` fields default to None; times carry their offset
(``Timestamp``). A field added to ``Utterance`` appears in ``UtteranceResult`` without an edit here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, create_model

from nlp.schema.document import Promise, Segment, Utterance
from nlp.schema.fields import description, field_type, fields_for, without_none
from service.schemas.common import Timestamp

FieldSpec = tuple[Any, Any]  # (type, default or FieldInfo), as pydantic's create_model takes them


def _api_type(annotation: Any) -> tuple[Any, bool]:
    inner, optional = without_none(annotation)
    if inner is datetime:
        inner = Timestamp
    return (inner | None if optional else inner), optional


def api_fields(record: type) -> dict[str, FieldSpec]:
    """The pydantic field of each field of dataclass ``record`` that the API carries, in order."""
    specs: dict[str, FieldSpec] = {}
    for f in fields_for(record, "api"):
        annotation, optional = _api_type(field_type(record, f))
        if f.default is not dataclasses.MISSING:
            default = Field(default=f.default, description=description(f))
        elif f.default_factory is not dataclasses.MISSING:
            default = Field(default_factory=f.default_factory, description=description(f))
        elif optional:
            default = Field(default=None, description=description(f))
        else:
            default = Field(description=description(f))
        specs[f.name] = (annotation, default)
    return specs


def record_model(record: type, name: str, doc: str, *, leading: Mapping[str, FieldSpec] | None = None,
                 after: Mapping[str, Mapping[str, FieldSpec]] | None = None,
                 trailing: Mapping[str, FieldSpec] | None = None) -> type[BaseModel]:
    """A response model named ``name`` with the record's API fields, plus ``leading`` fields before them,
    ``after[field]`` right after that field and ``trailing`` ones at the end."""
    specs: dict[str, FieldSpec] = dict(leading or {})
    for field_name, spec in api_fields(record).items():
        specs[field_name] = spec
        specs.update((after or {}).get(field_name, {}))
    specs.update(trailing or {})
    model = create_model(name, __doc__=doc, __module__=__name__, **specs)  # type: ignore[call-overload]
    return model


UtteranceResult = record_model(
    Utterance, "UtteranceResult", "One sentence of the contact with its journey labels and (customer utterances) "
                                  "its emotion.",
    leading={"index": (int, Field(description="Position of the utterance in the contact (0-based)."))})

SegmentResult = record_model(
    Segment, "SegmentResult", "Contiguous utterances about one journey stage.",
    after={"stage": {"stage_name": (str, ...)}},
    trailing={
        "nev": (float | None, Field(default=None, description="Net emotional value of the segment's customer "
                                                               "utterances (docs/analytics.md).")),
        "dominant_emotion": (str | None, Field(default=None,
                                               description="Most frequent non-neutral customer emotion.")),
    })

PromiseResult = record_model(
    Promise, "PromiseResult", 'A time-bound commitment made to the customer ("退款明天中午之前一定到账"), with its '
                              "deadline.")
