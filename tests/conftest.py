"""Shared fixtures: the bundled demo archive scored once per session by the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """``journeylens demo`` on the bundled archive with 2 workers: the finished process and its DuckDB file."""
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    done = subprocess.run([sys.executable, "-m", "nlp.cli", "demo", "--db", str(db), "--workers", "2"],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-2000:]
    return done, db


@pytest.fixture(scope="session")
def demo_db(demo_run) -> Path:
    return demo_run[1]
