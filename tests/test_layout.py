"""The package's architecture holds: folders by purpose, thin entry points that nothing imports, no import cycle
(imports inside functions count), every module says what it is for, and lazy imports say why."""

import ast
import graphlib
import re
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "src" / "emotion"
ENTRY_POINTS = {"train", "evaluate", "export", "infer", "moments", "screen"}
# What a function-level import may keep out of a process that does not need it.
HEAVY = ("tensorflow", "keras", "mlflow", "ray", "emotion")
LAZY_NOTE = re.compile(r"#.*\b[Ii]mported (here|inside)")


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[1:2] == ("conf",):
            continue
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = modules()


def imports(name: str, path: Path) -> tuple[set[str], list[ast.AST]]:
    """(the package's modules that `name` imports, anywhere in it; its function-level import statements)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found, nested = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {t for t in targets if t in MODULES and t != name}
        if node not in tree.body and not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            nested.append(node)
    return found, nested


GRAPH = {name: imports(name, path) for name, path in MODULES.items()}


def test_only_the_entry_points_sit_at_the_top():
    top = {n.split(".")[1] for n, p in MODULES.items() if p.parent == PACKAGE and p.name != "__init__.py"}
    assert top == ENTRY_POINTS


def test_nothing_imports_an_entry_point():
    entries = {f"emotion.{e}" for e in ENTRY_POINTS}
    offenders = {name: sorted(deps & entries) for name, (deps, _) in GRAPH.items() if deps & entries}
    assert not offenders


def test_no_import_cycle():
    graph = {name: {d for d in deps if not name.startswith(d + ".")} for name, (deps, _) in GRAPH.items()}
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle


def test_modules_are_small_and_say_what_they_are_for():
    for name, path in MODULES.items():
        lines = len(path.read_text().splitlines())
        assert lines <= (100 if name.split(".")[-1] in ENTRY_POINTS and name.count(".") == 1 else 300), \
            f"{name} has {lines} lines"
        assert ast.get_docstring(ast.parse(path.read_text())), f"{name} has no docstring"


@pytest.mark.parametrize("name", sorted(n for n, (_, nested) in GRAPH.items() if nested))
def test_imports_inside_functions_only_keep_heavy_parts_out_and_say_so(name):
    path = MODULES[name]
    _, nested = GRAPH[name]
    for node in nested:
        targets = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        assert all(t.split(".")[0] in HEAVY for t in targets), f"{name}:{node.lineno} imports {targets} lazily"
    assert LAZY_NOTE.search(path.read_text()), f"{name} imports inside functions without saying why"


def test_every_subpackage_is_installed():
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {n for n, p in MODULES.items() if p.name == "__init__.py"}
    assert folders | {"emotion.conf"} == listed
