"""Category files into a ``CategorySet``: built-in packs by name, files by path, merged in order.

Split from ``model.py`` along the seam between what a category is and how files of them are read: ``model.py``
defines and validates one category (the condition tree, each operator's fields, regexes RE2 accepts); this module
finds the files, parses them with line-numbered errors, and runs the checks that need the whole file (every
phrase tokenized in one query, a phrase with nothing to match named by its line).
"""

from __future__ import annotations

from pathlib import Path

from nlp.categories.model import (
    CategoryDefinition,
    CategoryFile,
    CategoryFileError,
    CategorySet,
    Condition,
    phrase_tokens,
    tokenize_phrases,
)
from nlp.resources import models_dir
from nlp.yaml_files import line_numbers, parse_model


def builtin_packs() -> dict[str, Path]:
    """Built-in category pack names → files (``models/categories/``)."""
    return {p.stem: p for p in sorted((models_dir() / "categories").glob("*.yaml"))}


def parse_categories(text: str, source: str = "<categories>") -> CategorySet:
    """Validate category YAML ``text``; errors name ``source``, the entry, its line and what to change."""
    # pydantic names the operator a tagged mapping was tried as (not_); the YAML path has the key (not)
    parsed = parse_model(text, source, CategoryFile, CategoryFileError, "a mapping with a list under categories:",
                         ("categories",), renamed={"not_": "not"})
    tokenize_phrases(tuple(_all_phrases(parsed.categories)))
    for index, category in enumerate(parsed.categories):
        _check_phrases(category.when, source, text, ("categories", str(index), "when"))
    return CategorySet(tuple(parsed.categories), (source,))


def _all_phrases(categories: list[CategoryDefinition]) -> list[str]:
    found: list[str] = []

    def walk(c: Condition) -> None:
        found.extend(c.phrases.phrases if c.phrases is not None else [])
        for child in (*(c.all or []), *(c.any or []), c.not_, c.utterance, c.repeated.when if c.repeated else None):
            if child is not None:
                walk(child)

    for category in categories:
        walk(category.when)
    return found


def _check_phrases(condition: Condition, source: str, text: str, path: tuple[str, ...]) -> None:
    """Every phrase must keep at least one token after normalisation (``"!!"`` matches nothing)."""
    if condition.phrases is not None:
        for index, phrase in enumerate(condition.phrases.phrases):
            if not phrase_tokens(phrase):
                key = "any" if condition.phrases.any is not None else "all"
                where = (*path, "phrases", key, str(index))
                line = next((ln for n in range(len(where), 0, -1) if (ln := line_numbers(text).get(where[:n]))),
                            None)
                raise CategoryFileError(f"{source}: {'.'.join(where)}: phrase {phrase!r} has no letters, digits or "
                                        f"characters to match: remove it" + (f" (line {line})" if line else ""))
    for key, children in (("all", condition.all), ("any", condition.any)):
        for index, child in enumerate(children or []):
            _check_phrases(child, source, text, (*path, key, str(index)))
    for key, child in (("not", condition.not_), ("utterance", condition.utterance)):
        if child is not None:
            _check_phrases(child, source, text, (*path, key))
    if condition.repeated is not None:
        _check_phrases(condition.repeated.when, source, text, (*path, "repeated", "when"))


def load_categories(name_or_path: str | Path) -> CategorySet:
    """A built-in pack by name (``contact_centre``) or a category YAML file by path."""
    packs = builtin_packs()
    path = packs.get(str(name_or_path)) or Path(name_or_path)
    if not path.is_file():
        raise CategoryFileError(f"categories {str(name_or_path)!r} not found: give a YAML file or one of "
                                f"{sorted(packs)}")
    return parse_categories(path.read_text(encoding="utf-8"), str(path))


def load_category_set(names: list[str] | tuple[str, ...]) -> CategorySet:
    """The packs and files ``names`` merged in order (a later category replaces an earlier one with its id)."""
    merged = CategorySet(())
    for name in names:
        merged = merged.merged(load_categories(name))
    return merged
