"""Where each field of a record goes: the one description that the store, the API and the JSONL output follow.

The records of ``nlp.schema.document`` (``Utterance``, ``Segment``, ``Promise``) declare their fields once, with
``record_field`` for anything beyond a plain field: a description, an SQL type other than the one its annotation
implies, and the outputs it is left out of (``store``: the DuckDB tables of ``nlp.store``; ``api``: the response
models of ``service.schemas``; ``jsonl``: ``journeylens analyze`` lines). Every other field goes everywhere, so
adding a field to ``Utterance`` is one edit here in ``schema/``: the store column (``columns_sql``, also added to
existing files), the API schema and the JSON lines follow.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import types
import typing
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

Output = Literal["store", "api", "jsonl"]
OUTPUTS: tuple[Output, ...] = ("store", "api", "jsonl")

_SQL_TYPES: dict[type, str] = {bool: "BOOLEAN", int: "INTEGER", float: "DOUBLE", str: "VARCHAR",
                               datetime: "TIMESTAMP"}


def record_field(default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING,
                 description: str | None = None, sql: str | None = None, omit: Iterable[Output] = (),
                 kw_only: bool | Any = dataclasses.MISSING) -> Any:
    """A dataclass field with its description, its SQL type (default: from the annotation) and the outputs it
    is not part of."""
    unknown = set(omit) - set(OUTPUTS)
    if unknown:
        raise ValueError(f"unknown output(s) {sorted(unknown)}: choose from {OUTPUTS}")
    metadata = {"description": description, "sql": sql, "omit": frozenset(omit)}
    return dataclasses.field(default=default, default_factory=default_factory, kw_only=kw_only,  # type: ignore[call-overload]
                             metadata=metadata)


def fields_for(record: type, output: Output) -> list[dataclasses.Field]:
    """The fields of dataclass ``record`` that ``output`` carries, in declaration order."""
    return [f for f in dataclasses.fields(record) if output not in f.metadata.get("omit", ())]


def description(f: dataclasses.Field) -> str | None:
    return f.metadata.get("description")


def field_type(record: type, f: dataclasses.Field) -> Any:
    """The annotation of ``f`` as a type (annotations are strings under ``from __future__ import annotations``)."""
    if not isinstance(f.type, str):
        return f.type
    owner = next(c for c in record.__mro__ if f.name in vars(c).get("__annotations__", {}))  # inherited: its module
    namespace = {**vars(typing), **vars(sys.modules[owner.__module__])}
    return eval(f.type, namespace)  # noqa: S307 - our own annotations


def without_none(annotation: Any) -> tuple[Any, bool]:
    """(the type, whether None is allowed) of ``X | None``."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        rest = args[0] if len(args) == 1 else typing.Union[tuple(args)]  # noqa: UP007
        return rest, len(args) < len(typing.get_args(annotation))
    return annotation, False


def sql_type(record: type, f: dataclasses.Field) -> str:
    """The DuckDB type of a stored field: its ``sql`` metadata, else from its annotation."""
    if f.metadata.get("sql"):
        return f.metadata["sql"]
    annotation, _ = without_none(field_type(record, f))
    if typing.get_origin(annotation) is Literal:
        annotation = type(typing.get_args(annotation)[0])
    if annotation not in _SQL_TYPES:
        raise TypeError(f"{record.__name__}.{f.name}: no SQL type for {annotation!r}; give record_field(sql=...)")
    return _SQL_TYPES[annotation]


def columns_sql(record: type) -> list[tuple[str, str]]:
    """(column, SQL type) of each stored field of ``record``, in order."""
    return [(f.name, sql_type(record, f)) for f in fields_for(record, "store")]


@functools.cache
def field_names(record: type, output: Output) -> tuple[str, ...]:
    return tuple(f.name for f in fields_for(record, output))


def row(value: Any, output: Output) -> dict[str, Any]:
    """The fields of record ``value`` that ``output`` carries, by name (values as they are)."""
    return {name: getattr(value, name) for name in field_names(type(value), output)}
