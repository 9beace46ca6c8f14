#!/usr/bin/env python3
"""Check that every measured figure in the docs is one the named script printed.

A figure block in a Markdown file names the command that produces its numbers and the JSON it writes (its
``--json`` argument, or ``CMD => PATH`` for a command that writes a fixed file such as a model's training report):

    <!-- figures: python scripts/eval_stages.py --json bench/eval_stages_full.json -->
    ... tables and prose with figures ...
    <!-- /figures -->

Every decimal number in the block (``0.9117``, ``-0.24``, ``84.1``) must equal some number in that JSON rounded
to the decimals the doc shows; ``12.3 %`` may also be a JSON fraction (0.123). Integers are not checked (counts
of rows and dialogues are inputs as often as results). A number that no value of the JSON gives is reported with
its file and line, so a stale doc fails the check. History (figures from earlier runs, kept with their date) stays
outside figure blocks.

    python scripts/check_doc_figures.py                 # check against the JSON files already in bench/
    python scripts/check_doc_figures.py --run           # run every block's command first (minutes)
    python scripts/check_doc_figures.py docs/stages.md  # one file
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["README.md", "docs/stages.md", "docs/emotion.md", "docs/analytics.md"]
OPEN = re.compile(r"<!--\s*figures:\s*(?P<command>.+?)\s*-->")
CLOSE = re.compile(r"<!--\s*/figures\s*-->")
# A decimal number not glued to a word, a version (2.1.0), a date or a path; an optional % after it.
NUMBER = re.compile(r"(?<![\w.\-/])(?P<value>[-−]?\d+\.\d+)(?![\w.]*\d)(?P<percent>\s?%)?")


@dataclass
class Block:
    path: Path
    line: int
    command: str
    lines: list[tuple[int, str]]

    def json_path(self, root: Path) -> Path:
        """The JSON the block's command writes: ``CMD => PATH`` names it (a training run writing its report into the
        model directory), else it is the command's last ``--json`` argument (a command of several steps ends with
        the one whose output holds the figures); relative to the project root."""
        if "=>" in self.command:
            return root / self.command.rsplit("=>", 1)[1].strip()
        words = shlex.split(self.command)
        at = [i for i, word in enumerate(words) if word == "--json" and i + 1 < len(words)]
        if not at:
            raise ValueError(f"{self.path}:{self.line}: the figures command names no --json output: {self.command}")
        return root / words[at[-1] + 1]


def blocks(path: Path) -> list[Block]:
    """The figure blocks of one Markdown file; an unclosed or nested block is an error."""
    found: list[Block] = []
    current: Block | None = None
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        opened, closed = OPEN.search(text), CLOSE.search(text)
        if opened:
            if current:
                raise ValueError(f"{path}:{number}: a figures block opens inside the one of line {current.line}")
            current = Block(path, number, opened["command"], [])
        elif closed:
            if not current:
                raise ValueError(f"{path}:{number}: /figures closes no block")
            found.append(current)
            current = None
        elif current:
            current.lines.append((number, text))
    if current:
        raise ValueError(f"{path}:{current.line}: the figures block is never closed")
    return found


def json_numbers(value: object) -> list[float]:
    """Every number in a JSON document, including numbers inside strings (printed tables)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)] if math.isfinite(value) else []
    if isinstance(value, dict):
        return [n for key, item in value.items() for n in json_numbers(key) + json_numbers(item)]
    if isinstance(value, list):
        return [n for item in value for n in json_numbers(item)]
    if isinstance(value, str):
        return [float(m["value"].replace("−", "-")) for m in NUMBER.finditer(value)]
    return []


def matches(shown: str, percent: bool, candidates: list[float]) -> bool:
    """Whether a doc figure is some JSON value rounded to the decimals the doc shows (or that value × 100)."""
    decimals = len(shown.split(".")[1])
    target = float(shown.replace("−", "-"))
    scales = (1.0, 100.0) if percent else (1.0,)
    return any(math.isclose(round(v * s, decimals), target, abs_tol=10 ** -(decimals + 3))
               for v in candidates for s in scales)


def check(block: Block, root: Path) -> list[str]:
    """The block's figures that its JSON does not give, as 'file:line: figure' messages."""
    source = block.json_path(root)
    if not source.exists():
        return [f"{block.path}:{block.line}: {source} is missing: run `{block.command}` (or this script with --run)"]
    candidates = sorted(set(json_numbers(json.loads(source.read_text(encoding="utf-8")))))
    return [f"{block.path}:{number}: {figure['value']}{figure['percent'] or ''} is not in {source}"
            for number, text in block.lines for figure in NUMBER.finditer(text)
            if not matches(figure["value"], bool(figure["percent"]), candidates)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help=f"Markdown files (default: {' '.join(DOCS)})")
    parser.add_argument("--run", action="store_true", help="run every block's command before checking")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="where the commands run and their --json paths are (default: this project)")
    args = parser.parse_args()
    files = args.files or [args.root / name for name in DOCS]
    try:
        all_blocks = [block for path in files for block in blocks(path)]
        problems = []
        if args.run:
            for command in dict.fromkeys(block.command.split("=>")[0].strip() for block in all_blocks):
                print(f"$ {command}", file=sys.stderr)
                subprocess.run(command, shell=True, cwd=args.root, check=True, stdout=subprocess.DEVNULL)
        problems = [problem for block in all_blocks for problem in check(block, args.root)]
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    figures = sum(len(NUMBER.findall(text)) for block in all_blocks for _, text in block.lines)
    for problem in problems:
        print(problem)
    print(f"{len(all_blocks)} figure blocks, {figures} figures, {len(problems)} not printed by their script")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
