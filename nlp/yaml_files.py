"""Configuration files in YAML (taxonomies, categories, alerts): one reading and one error message format.

A user who wrote a file wants every mistake at once, each with the field, its line and what is wrong, so pydantic's
errors are mapped back onto the YAML's own lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def read_mapping(text: str, source: str, error: type[Exception], expected: str) -> dict:
    """The YAML ``text`` as a mapping; anything else raises ``error`` naming ``source`` and what was ``expected``."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as problem:
        raise error(f"{source}: not valid YAML: {problem}") from problem
    if not isinstance(data, dict):
        raise error(f"{source}: expected {expected}")
    return data


def parse_model(text: str, source: str, model: type[M], error: type[Exception], expected: str,
                roots: tuple[str, ...], whole: str = "file", renamed: Mapping[str, str] | None = None) -> M:
    """The YAML ``text`` validated as ``model``; a problem raises ``error`` naming ``source`` and, per mistake, the
    field, its line and what is wrong (``describe``)."""
    data = read_mapping(text, source, error, expected)
    try:
        return model.model_validate(data)
    except ValidationError as problem:
        raise error(f"{source}: {describe(problem, text, roots, whole=whole, renamed=renamed)}") from problem


def describe(error: ValidationError, text: str, roots: tuple[str, ...], whole: str = "file",
             renamed: Mapping[str, str] | None = None) -> str:
    """Each error as ``field.path: message (line N)``. A cross-entry rule that names the entry at fault itself
    (its message starts with a path under one of ``roots``) is placed there; ``renamed`` maps pydantic's field
    names back to the YAML's keys."""
    lines = line_numbers(text)
    prefix = re.compile(rf"^((?:{'|'.join(map(re.escape, roots))})(?:\.\w+)*): ")
    parts = []
    for item in error.errors():
        loc = tuple((renamed or {}).get(str(p), str(p)) for p in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        at = prefix.match(message)
        if at:
            loc, message = tuple(at.group(1).split(".")), message[at.end():]
        line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), None)
        parts.append(f"{'.'.join(loc) or whole}: {message}" + (f" (line {line})" if line else ""))
    return "; ".join(parts)


def line_numbers(text: str) -> dict[tuple[str, ...], int]:
    """1-based line of every mapping key and list item in the YAML, keyed by its path."""
    found: dict[tuple[str, ...], int] = {}
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return found

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        found.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                found[(*path, str(key.value))] = key.start_mark.line + 1
                walk(value, (*path, str(key.value)))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*path, str(index)))

    if root is not None:
        walk(root, ())
    return found
