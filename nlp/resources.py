"""Where shipped artefacts live: the ``models/`` folder (taxonomies, lexicons, trained models, model cards)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def models_dir() -> Path:
    """The shipped ``models/`` folder, or ``$JOURNEYLENS_MODELS_DIR`` when set."""
    return Path(os.environ.get("JOURNEYLENS_MODELS_DIR") or PROJECT_ROOT / "models")


def model_path(*parts: str) -> Path:
    """A path inside the models folder; raises a clear error when it is missing."""
    path = models_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: reinstall from a full checkout or set JOURNEYLENS_MODELS_DIR to a folder that has it"
        )
    return path
