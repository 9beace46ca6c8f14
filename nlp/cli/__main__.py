"""``python -m nlp.cli``: the same as the ``journeylens`` command."""

from nlp.cli import app

app()
