#!/usr/bin/env python3
"""Mutation testing of one core module against its own test files, with mutmut (the ``test`` extra).

mutmut changes the module's code one small edit at a time (a ``<`` into ``<=``, a string into another, a
``return x`` into ``return None`` …) and runs the tests that cover the changed function; a mutant the tests fail
on is *killed*, one they pass on *survived*: a change of behaviour no test notices.

The run happens in a copy of the project (``--workdir``, default ``/tmp/journeylens-mutation/MODULE``) whose
``pyproject.toml`` gets a ``[tool.mutmut]`` section limited to the module's files and its tests, so the work tree
is never modified and one module never pulls in the whole suite (Spark, Chromium, the demo run). mutmut keeps its
results in ``WORKDIR/mutants/``: ``--report`` prints them again without running; inspect a survivor with
``cd WORKDIR && mutmut show NAME``.

    python scripts/mutation.py --list
    python scripts/mutation.py redact                       # prints killed / survived / timeout … and the score
    python scripts/mutation.py trends --json bench/mutation_trends.json

Score = killed / (killed + survived + timeout + no tests + suspicious + segfault): a timeout counts as not killed,
a mutant in a function no selected test runs ("no tests") counts as surviving. The mutants that were not
killed are listed by name (``mutmut show NAME`` in the work directory prints the change).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module -> (files to mutate, that module's own test files and pytest selection arguments). Tests that need the
# scored demo archive (the ``demo_db`` fixture: `journeylens demo`, minutes of CPU) are deselected with ``-k``
# unless ``--demo-db`` gives an already scored demo store: every mutant run is a fresh pytest session, so they
# would score the whole demo again for each mutant.
NOT_DEMO = ["-k", "not demo_ and not cli_reports"]
DEMO_DB_FIXTURE = """

# Added by scripts/mutation.py --demo-db: the demo archive scored once before mutation testing, by the unmutated
# code (the analytics read it; scoring it is not what is being mutated).
@pytest.fixture(scope="session")
def demo_db() -> Path:
    return Path(os.environ["JOURNEYLENS_MUTATION_DEMO_DB"])
"""
# mutmut maps a mutant to the selected tests that call its function in the test process: a test that reaches the
# code only through a subprocess (the CLI, Spark) is never chosen for a mutant and would only make the unmutated
# runs longer (tests/test_ingest_paths.py: every path through the CLI and Spark). A mutant no test kills runs every
# test mapped to it, so BULK and STORE keep the tests of tests/test_bulk.py that score in the test process and take
# a few seconds (without the two-worker runs, 5-40 s, and the ones that spend most of their time in a CLI
# subprocess): about 12 s for a surviving bulk mutant, 18 s for a store one. STORE adds tests/test_analytics.py
# and the two tests of tests/test_vendor_formats.py that read the vendor's sentiment and issues back from a store.
BULK = ("counts_reconcile or rerun_is_idempotent or in_one_run or resumes or rows_cannot_be_built "
        "or inside_the_input_folder")
STORE = ("counts_reconcile or rerun_is_idempotent or in_one_run or resumes or agreement_with_the_vendors "
         f"or vendor_issues_and_categories or test_analytics and {NOT_DEMO[1]}")
MODULES: dict[str, tuple[list[str], list[str]]] = {
    "redact": (["nlp/steps/redact.py", "nlp/ids.py"], ["tests/test_redact.py"]),
    "readers": (["nlp/readers/*.py"], ["tests/test_readers.py", "tests/test_vendor_formats.py",
                                       "tests/test_speakers.py", "-k", "not spark_reader"]),
    "bulk": (["nlp/ingest/local.py", "nlp/ingest/run.py"], ["tests/test_bulk.py", "-k", BULK]),
    "store": (["nlp/store.py"], ["tests/test_bulk.py", "tests/test_analytics.py", "tests/test_vendor_formats.py", "-k",
                                 STORE]),
    "contacts": (["nlp/analytics/contacts.py"], ["tests/test_analytics.py", *NOT_DEMO]),
    "nev": (["nlp/analytics/nev.py"], ["tests/test_analytics.py", "tests/test_nev.py", "-k",
                                       "not demo_ and not cli_reports and not service_answers"]),
    "trends": (["nlp/analytics/trends.py"], ["tests/test_analytics.py", *NOT_DEMO]),
    "analytics": (["nlp/analytics/contacts.py", "nlp/analytics/nev.py", "nlp/analytics/trends.py"],
                  ["tests/test_analytics.py", *NOT_DEMO]),
    "pipeline": (["nlp/pipeline.py"], ["tests/test_journey.py", "tests/test_stages.py",
                                       "tests/test_pii_scan.py::test_the_pipeline_makes_every_field_safe"]),
}
# What the copy needs besides the mutated package: the tests import service/, read models/ and data/.
COPY = ["nlp", "service", "tests", "models", "data", "pyproject.toml"]
STATUSES = ("killed", "survived", "timeout", "no_tests", "suspicious", "segfault", "skipped")


def mutmut_section(module: str, with_demo: bool = False) -> str:
    files, tests = selection(module, with_demo)
    return "\n".join([
        "[tool.mutmut]",
        'source_paths = ["nlp"]',
        f"only_mutate = {json.dumps(files)}",
        'also_copy = ["service", "models", "data"]',
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-x"]',
        "use_git_change_detection = false",
        "",
    ])


def selection(module: str, with_demo: bool) -> tuple[list[str], list[str]]:
    files, tests = MODULES[module]
    if with_demo and "-k" in tests:  # keep the demo tests: drop their deselection from the -k expression
        at = tests.index("-k")
        expression = tests[at + 1].replace(f" and {NOT_DEMO[1]}", "").replace(f"{NOT_DEMO[1]} and ", "")
        tests = tests[:at] + tests[at + 2:] if expression == NOT_DEMO[1] else [*tests[:at + 1], expression]
    return files, tests


def prepare(module: str, workdir: Path, demo_db: Path | None = None) -> None:
    """A fresh copy of the project in ``workdir`` with the module's ``[tool.mutmut]`` section (and, with
    ``demo_db``, the demo tests kept and their ``demo_db`` fixture pointed at that store)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.duckdb", "*.duckdb.wal")
    for name in COPY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, workdir / name, ignore=ignore)
        else:
            shutil.copy2(source, workdir / name)
    pyproject = (workdir / "pyproject.toml").read_text(encoding="utf-8")
    pyproject = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", "", pyproject)
    (workdir / "pyproject.toml").write_text(pyproject.rstrip() + "\n\n" + mutmut_section(module, demo_db is not None),
                                           encoding="utf-8")
    if demo_db is not None:
        conftest = workdir / "tests" / "conftest.py"
        conftest.write_text(conftest.read_text(encoding="utf-8") + DEMO_DB_FIXTURE, encoding="utf-8")


def refresh(workdir: Path, demo_db: Path | None = None) -> None:
    """Bring the copy's code and tests up to date for ``--resume``, keeping its ``pyproject.toml``: mutmut keeps
    the results of mutants whose function did not change and maps new tests, but a changed ``[tool.mutmut]``
    section throws every result away."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.duckdb", "*.duckdb.wal")
    for name in COPY:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, workdir / name, ignore=ignore, dirs_exist_ok=True)
    if demo_db is not None:
        conftest = workdir / "tests" / "conftest.py"
        conftest.write_text(conftest.read_text(encoding="utf-8") + DEMO_DB_FIXTURE, encoding="utf-8")


def mutmut(workdir: Path, *args: str, log=None, demo_db: Path | None = None) -> int:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONPATH", None)  # the copy's mutants/ must be what the tests import
    if demo_db is not None:
        env["JOURNEYLENS_MUTATION_DEMO_DB"] = str(demo_db.resolve())
    command = [sys.executable, "-m", "mutmut", *args]
    return subprocess.run(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT if log else None,
                          check=False).returncode


def report(module: str, workdir: Path, seconds: float | None) -> dict:
    if mutmut(workdir, "export-cicd-stats", log=subprocess.DEVNULL) != 0:
        raise SystemExit(f"mutmut export-cicd-stats failed in {workdir}")
    raw = json.loads((workdir / "mutants" / "mutmut-cicd-stats.json").read_text(encoding="utf-8"))
    counts = {status: int(raw.get(status, 0)) for status in STATUSES}
    checked = sum(v for k, v in counts.items() if k != "skipped")
    section = tomllib.loads((workdir / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
    files, tests = section["only_mutate"], section["pytest_add_cli_args_test_selection"]
    result = {"module": module, "files": files, "tests": tests, "mutants": int(raw.get("total", 0)), **counts,
              "not_checked": int(raw.get("total", 0)) - sum(counts.values()),
              "score": round(counts["killed"] / checked, 4) if checked else None}
    if seconds is not None:
        result["seconds"] = round(seconds)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("module", nargs="?", choices=sorted(MODULES))
    parser.add_argument("--list", action="store_true", help="print the module -> files, tests mapping")
    parser.add_argument("--workdir", type=Path,
                        help="where the copy is made (default /tmp/journeylens-mutation/MODULE)")
    parser.add_argument("--max-children", type=int, default=1, help="parallel mutant workers (default 1)")
    parser.add_argument("--report", action="store_true", help="print the results of the last run, run nothing")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--mutants", nargs="+", metavar="GLOB",
                        help="run only the mutants whose names match (mutmut's names, e.g. 'nlp.store.xǁStoreǁ*'); "
                        "the others are reported as not checked unless an earlier run in --resume's work directory "
                        "checked them")
    parser.add_argument("--resume", action="store_true",
                        help="keep the work directory of an earlier (interrupted) run and its results, with the "
                        "code and tests brought up to date: mutmut runs the mutants that have no result yet (or those "
                        "--mutants names, again)")
    parser.add_argument("--demo-db", type=Path, help="a scored demo store (`journeylens demo --db PATH`): keep the "
                        "tests that need it instead of deselecting them")
    args = parser.parse_args()
    if args.list or not args.module:
        for name, (files, tests) in MODULES.items():
            print(f"{name:10} {' '.join(files)}  <-  {' '.join(tests)}")
        return
    workdir = args.workdir or Path("/tmp/journeylens-mutation") / args.module
    seconds = None
    if not args.report:
        if args.resume and (workdir / "mutants").is_dir():
            refresh(workdir, args.demo_db)
        else:
            prepare(args.module, workdir, args.demo_db)
        started = time.perf_counter()
        print(f"mutmut run in {workdir} (progress in {workdir / 'mutmut-run.log'})", flush=True)
        with (workdir / "mutmut-run.log").open("a" if args.resume else "w") as log:
            code = mutmut(workdir, "run", "--max-children", str(args.max_children), *(args.mutants or ()), log=log,
                          demo_db=args.demo_db)
        seconds = time.perf_counter() - started
        if code != 0:
            raise SystemExit(f"mutmut run exited {code} (in {workdir})")
    result = report(args.module, workdir, seconds)
    survivors = subprocess.run([sys.executable, "-m", "mutmut", "results"], cwd=workdir, capture_output=True,
                               text=True, check=False).stdout.split("\n")
    result["not_killed"] = sorted(line.strip() for line in survivors if line.strip())
    counts = ", ".join(f"{status.replace('_', ' ')} {result[status]}" for status in STATUSES)
    print(f"{result['module']}: {result['mutants']} mutants; {counts}; not checked {result['not_checked']}")
    print(f"score {result['score']} (killed / checked)" + (f"; {result['seconds']} s" if seconds is not None else ""))
    for line in result["not_killed"]:
        print(f"  not killed: {line}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
