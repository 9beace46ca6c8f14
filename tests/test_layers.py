"""Layer rules between the packages, read from every module's imports (ast, so nothing is imported or run).

The tree shows the data flow (README "Data flow"); these rules keep it true:

- ``nlp`` never imports ``service``, except the ``serve``/``keys`` commands (``nlp/cli/service.py``), inside the
  command functions, so the scoring commands never load the web stack;
- ``nlp/schema`` (the shapes that flow) imports no other layer: only schema, resources, ids and yaml_files
  (a name imported for annotations only, under ``if TYPE_CHECKING:``, is allowed);
- ``nlp/steps`` (one job each over the flowing document) never imports the pipeline, the CLI, ingest, training
  or analytics;
- ``nlp/analytics`` (facts and metrics over the store) never imports steps, the pipeline, ingest, training or the
  CLI;
- nothing outside ``nlp/cli`` imports the CLI, and no product module imports ``tests``;
- ``nlp/training`` may import steps, the pipeline and readers (it runs them to train);
- no product module other than ``nlp/resources.py`` names a ``JOURNEYLENS_*`` environment variable.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("nlp", "service")
ENV_NAME = re.compile(r"JOURNEYLENS_[A-Z0-9_]*")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted (nlp.steps.redact)
    target: str  # the imported module, dotted and absolute
    line: int
    lazy: bool  # inside a function body
    typing_only: bool = False  # under ``if TYPE_CHECKING:``


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def product_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def imports(path: Path, root: Path = ROOT) -> list[Import]:
    """Every import in the file, relative ones made absolute, each marked lazy when it sits inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, lazy: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            typed = typing_only or (isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test))
            if isinstance(child, ast.Import):
                found.extend(Import(name, alias.name, child.lineno, lazy, typing_only) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                found.append(Import(name, base, child.lineno, lazy, typing_only))
                found.extend(Import(name, f"{base}.{alias.name}", child.lineno, lazy, typing_only)
                             for alias in child.names)
            visit(child, inner, typed)

    visit(tree, False, False)
    return found


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(files: list[Path], root: Path = ROOT) -> list[str]:
    """Every import that breaks a rule of the module docstring, as 'path:line: module imports target (rule)'."""
    rules: list[tuple[str, tuple[str, ...], str]] = [
        ("nlp.steps", ("nlp.pipeline", "nlp.cli", "nlp.ingest", "nlp.training", "nlp.analytics"),
         "steps never import the pipeline, CLI, ingest, training or analytics"),
        ("nlp.analytics", ("nlp.steps", "nlp.pipeline", "nlp.ingest", "nlp.training", "nlp.cli"),
         "analytics never imports steps, the pipeline, ingest, training or the CLI"),
        ("nlp", ("tests",), "the product never imports the tests"),
        ("service", ("tests",), "the product never imports the tests"),
    ]
    schema_may = ("nlp.schema", "nlp.resources", "nlp.ids", "nlp.yaml_files")
    found = []
    for path in files:
        where = path.relative_to(root)
        for item in imports(path, root):
            broken = [why for layer, banned, why in rules
                      if within(item.module, layer) and any(within(item.target, b) for b in banned)]
            if within(item.module, "nlp") and within(item.target, "service") and not (
                    item.module == "nlp.cli.service" and item.lazy):
                broken.append("nlp never imports service (only the serve/keys commands, inside the command)")
            if (within(item.module, "nlp.schema") and within(item.target, "nlp") and not item.typing_only
                    and not any(within(item.target, ok) for ok in schema_may) and item.target != "nlp"):
                broken.append("schema imports only schema, resources, ids and yaml_files")
            if within(item.target, "nlp.cli") and not within(item.module, "nlp.cli"):
                broken.append("only the CLI imports the CLI")
            found += [f"{where}:{item.line}: {item.module} imports {item.target} ({why})" for why in broken]
    return found


def env_variables_outside_resources(files: list[Path], root: Path = ROOT) -> list[str]:
    found = []
    for path in files:
        if path == root / "nlp" / "resources.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ENV_NAME.fullmatch(node.value):
                found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value}")
    return found


def test_every_product_module_is_read():
    files = product_files()
    assert len(files) > 50 and {module_name(p) for p in files} >= {"nlp.pipeline", "nlp.cli.service", "service.app"}


def test_layer_rules_hold():
    assert violations(product_files()) == []


def test_environment_variables_are_read_only_in_resources():
    assert env_variables_outside_resources(product_files()) == []


def test_a_violation_is_caught(tmp_path):
    """The check itself: a step that imports the pipeline, analytics that imports a step, a lazy service import
    outside the serve command and an eager one inside it, a relative import, and a variable named elsewhere."""
    fake = tmp_path / "nlp"
    (fake / "steps").mkdir(parents=True)
    (fake / "analytics").mkdir()
    (fake / "cli").mkdir()
    (fake / "steps" / "bad.py").write_text("from nlp.pipeline import Pipeline\nfrom ..cli import app\n")
    (fake / "analytics" / "bad.py").write_text("import nlp.steps.redact\n")
    (fake / "cli" / "service.py").write_text("from service.app import app\n\ndef serve():\n    import service.server\n")
    (fake / "cli" / "ingest.py").write_text("def demo():\n    from service.keys import KeyStore\n")
    (fake / "store.py").write_text("import os\nos.environ.get('JOURNEYLENS_DB')\n")
    files = sorted(fake.rglob("*.py"))
    found = "\n".join(violations(files, tmp_path))
    assert "nlp.steps.bad imports nlp.pipeline" in found
    assert "nlp.steps.bad imports nlp.cli" in found  # the relative import, resolved
    assert "nlp.analytics.bad imports nlp.steps.redact" in found
    assert "nlp.cli.service imports service.app" in found  # eager, even in the serve module
    assert "nlp.cli.service imports service.server" not in found  # lazy, in the serve command
    assert "nlp.cli.ingest imports service.keys" in found  # lazy, but not in the serve module
    assert env_variables_outside_resources(files, tmp_path) == ["nlp/store.py:2: JOURNEYLENS_DB"]


def test_every_folder_of_python_modules_is_a_package():
    """setup.py ships what ``find_packages`` finds, and it skips a folder without ``__init__.py``: such a folder
    works in the checkout and is missing from the wheel (nlp/analytics once was, and ``journeylens demo`` failed
    after ``pip install .``)."""
    folders = {path.parent for path in product_files()}
    assert sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").is_file()) == []
