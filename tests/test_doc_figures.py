"""scripts/check_doc_figures.py: a figure in a doc that its script did not print fails the check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_doc_figures.py"


def check(root: Path, doc: str, output: dict) -> subprocess.CompletedProcess:
    (root / "bench").mkdir(exist_ok=True)
    (root / "bench" / "eval.json").write_text(json.dumps(output), encoding="utf-8")
    (root / "doc.md").write_text(doc, encoding="utf-8")
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(root), str(root / "doc.md")],
                          capture_output=True, text=True, timeout=60)


DOC = """# Results

Version 2.1.0 of the data, 2026-12-01. History outside the block: 0.5555.

<!-- figures: python scripts/eval.py --json bench/eval.json -->
| set | F1 | ECE |
|---|---|---|
| waimai | 0.8930 | 0.048 |
| hotel | 0.82 | 12.3 % of turns |
<!-- /figures -->
"""


def test_figures_printed_by_the_script_pass(tmp_path: Path) -> None:
    result = check(tmp_path, DOC, {"waimai": {"macro_f1": 0.89301, "ece": 0.0476},
                                   "hotel": {"macro_f1": 0.8235, "share": 0.1234}})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 figure blocks, 4 figures, 0 not printed by their script" in result.stdout


def test_a_stale_figure_is_reported_with_its_line(tmp_path: Path) -> None:
    result = check(tmp_path, DOC, {"waimai": {"macro_f1": 0.8851, "ece": 0.0476},
                                   "hotel": {"macro_f1": 0.8235, "share": 0.1234}})
    assert result.returncode == 1
    assert f"{tmp_path / 'doc.md'}:8: 0.8930 is not in {tmp_path / 'bench' / 'eval.json'}" in result.stdout
    assert "0.5555" not in result.stdout  # outside every block
    assert "1 not printed" in result.stdout


def test_a_missing_output_and_an_unclosed_block_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "doc.md").write_text(DOC, encoding="utf-8")
    missing = subprocess.run([sys.executable, str(SCRIPT), "--root", str(tmp_path), str(tmp_path / "doc.md")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "bench/eval.json is missing: run `python scripts/eval.py" in missing.stdout
    unclosed = check(tmp_path, DOC.replace("<!-- /figures -->", ""), {})
    assert unclosed.returncode == 2 and "doc.md:5: the figures block is never closed" in unclosed.stderr
