"""The ``journeylens`` command line: thin typed wrappers over ``nlp`` functions, one module per command group.

Importing a group registers its commands on ``app``, in the order ``--help`` lists them.
"""
# ruff: noqa: I001, F401

from nlp.cli.common import app
from nlp.cli import ingest, analytics, categories, train, service, discover

__all__ = ["app"]
