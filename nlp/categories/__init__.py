"""Categories: named conditions over a contact's utterances (complaint threats, escalation requests, …).

``model`` defines and validates a category, ``load`` reads category files and packs into a set, ``sql`` compiles
them to one DuckDB query (the single definition of every operator), ``evaluate`` runs it in the pipeline and over
a store. docs/categories.md describes the format.
"""

from nlp.categories.evaluate import CategoryMatch, categorize_documents, categorize_store
from nlp.categories.load import builtin_packs, load_categories, load_category_set, parse_categories
from nlp.categories.model import CategoryDefinition, CategoryFileError, CategorySet

DEFAULT_PACKS = ("contact_centre",)

__all__ = [
    "DEFAULT_PACKS", "CategoryDefinition", "CategoryFileError", "CategoryMatch", "CategorySet", "builtin_packs",
    "categorize_documents", "categorize_store", "load_categories", "load_category_set", "parse_categories",
]
