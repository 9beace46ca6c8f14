"""Package layout for setuptools; the rest of the metadata is in pyproject.toml.

The shipped artefacts stay in the checkout's top-level ``models/`` and ``data/`` folders (the layout the design
card asks for) and are installed as package data of two data-only packages, ``nlp._models`` and ``nlp._data``,
mapped onto those folders: ``pip install .`` and a wheel then carry the taxonomies, lexicons, trained models and
the demo archive, and ``nlp/resources.py`` finds them there or, in a checkout, at the top level. pyproject.toml
cannot combine a package search with such a mapping, hence this file.
"""

from setuptools import find_packages, setup

SHIPPED = {"nlp._models": "models", "nlp._data": "data"}

setup(
    packages=find_packages(include=["nlp", "nlp.*", "service", "service.*"]) + list(SHIPPED),
    package_dir=SHIPPED,
    package_data={
        "nlp": ["py.typed", "analytics/charts/*", "analytics/charts/vendor/*"],
        "service": ["dashboard/*"],
        **{name: ["**/*"] for name in SHIPPED},
    },
)
