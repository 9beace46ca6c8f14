"""Where everything the product reads from disk lives, and every ``JOURNEYLENS_*`` environment variable it reads.

One module so that a path or a variable is looked up in one place (``tests/test_layers.py`` checks that no other
product module names a ``JOURNEYLENS_*`` variable):

- ``models_dir()``: taxonomies, lexicons, KPI and category definitions, trained models and their cards;
  ``$JOURNEYLENS_MODELS_DIR`` when set.
- ``data_dir()`` / ``demo_archive()``: the demo archive that ``journeylens demo`` scores.
- ``chart_assets_dir()``: the chart code and styles that the HTML report inlines and the dashboard serves.
- ``cache_root()``: ``$JOURNEYLENS_CACHE`` (the converted encoder), else the XDG cache folder.
- ``torch_threads()``: ``$JOURNEYLENS_TORCH_THREADS``.
- ``settings_file_from_env()`` and ``ENV_PREFIX``: the service's settings (``JOURNEYLENS_<FIELD>``, read by
  pydantic-settings in ``service/config.py`` with this prefix) and its settings file.
- ``shared_data_dir()``: ``$JOURNEYLENS_DATA``, the research corpora the training and evaluation scripts read
  (not shipped).

``models/`` and ``data/`` live at the top of the checkout. An installed package (``pip install .`` or a wheel)
carries them as the data-only packages ``nlp/_models`` and ``nlp/_data`` (see setup.py); a checkout has no such
folders, so the top-level ones are used.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent  # the checkout (in an installed package: site-packages, which has no models/)

ENV_PREFIX = "JOURNEYLENS_"
MODELS_DIR_VARIABLE = "JOURNEYLENS_MODELS_DIR"
CACHE_VARIABLE = "JOURNEYLENS_CACHE"
TORCH_THREADS_VARIABLE = "JOURNEYLENS_TORCH_THREADS"
SETTINGS_FILE_VARIABLE = "JOURNEYLENS_SETTINGS_FILE"
SHARED_DATA_VARIABLE = "JOURNEYLENS_DATA"
EMBEDDING_CACHE_VARIABLE = "JOURNEYLENS_EMBEDDING_CACHE"


def _shipped(installed: str, checkout: str) -> Path:
    """The installed package's copy of a shipped folder, else the checkout's."""
    path = PACKAGE_DIR / installed
    return path if path.is_dir() else PROJECT_ROOT / checkout


def models_dir() -> Path:
    """The shipped ``models/`` folder, or ``$JOURNEYLENS_MODELS_DIR`` when set."""
    return Path(os.environ.get(MODELS_DIR_VARIABLE) or _shipped("_models", "models"))


def model_path(*parts: str) -> Path:
    """A path inside the models folder; raises a clear error when it is missing."""
    path = models_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: reinstall from a full checkout or set {MODELS_DIR_VARIABLE} to a folder that has it"
        )
    return path


def data_dir() -> Path:
    """The shipped ``data/`` folder (the demo archive and its truth file)."""
    return _shipped("_data", "data")


def demo_archive() -> Path:
    """The archive ``journeylens demo`` scores (made by ``scripts/generate_demo.py --out data/demo/``)."""
    return data_dir() / "demo" / "archive.jsonl.gz"


def chart_assets_dir() -> Path:
    """Chart code, words and styles shared by the HTML report and the dashboard (``nlp/analytics/charts/``)."""
    return PACKAGE_DIR / "analytics" / "charts"


def cache_root() -> Path:
    """``$JOURNEYLENS_CACHE``, else ``$XDG_CACHE_HOME/journeylens``, else ``~/.cache/journeylens``."""
    if os.environ.get(CACHE_VARIABLE):
        return Path(os.environ[CACHE_VARIABLE])
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "journeylens"


def embedding_cache_dir() -> Path | None:
    """Where text vectors persist between runs (``$JOURNEYLENS_EMBEDDING_CACHE``); None keeps them in memory only."""
    value = os.environ.get(EMBEDDING_CACHE_VARIABLE)
    return Path(value) if value else None


def torch_threads() -> int | None:
    """``$JOURNEYLENS_TORCH_THREADS`` as a number, or None when unset."""
    value = os.environ.get(TORCH_THREADS_VARIABLE)
    return int(value) if value else None


def settings_file_from_env() -> Path | None:
    """The service's settings file named by ``$JOURNEYLENS_SETTINGS_FILE``, or None."""
    value = os.environ.get(SETTINGS_FILE_VARIABLE)
    return Path(value) if value else None


def shared_data_dir() -> Path:
    """``$JOURNEYLENS_DATA``, else ``shared/data`` beside the checkout: corpora for training and evaluation."""
    return Path(os.environ.get(SHARED_DATA_VARIABLE) or PROJECT_ROOT.parent / "shared" / "data")
