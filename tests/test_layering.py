"""The package's layers: what may import what, and no import cycles.

Every import in the package counts, at module level or inside a function (a lazy import
is still a dependency). docs/ARCHITECTURE.md draws the same layers.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "bncourse"
CORE = {"reference", "data", "plotting", "seeding", "validation", "claims"}

# layer -> the layers it may import (besides itself). The core is its own layer.
ALLOWED = {
    "core": {"core"},
    "lab": {"core"},
    "topics": {"core", "lab"},
    "grading": {"core"},
    "quiz": {"core"},
    "instructor": {"core", "grading", "quiz"},
    "tooling": {"core", "lab", "topics", "grading", "quiz", "instructor"},
    "cli": {"core", "tooling", "quiz", "instructor"},
    "package": {"core"},  # bncourse/__init__.py
}
TOP_LEVEL_LIMIT = 8


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    if parts[1] in CORE:
        return "core"
    return parts[1]


def _imports(path: Path) -> set[str]:
    """Every bncourse module ``path`` imports (``from bncourse import x`` names ``bncourse.x``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("bncourse"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("bncourse"):
                continue
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                sub = PACKAGE.parent / Path(*candidate.split("."))
                is_module = sub.with_suffix(".py").exists() or (sub / "__init__.py").exists()
                found.add(candidate if is_module else node.module)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {m for m in _imports(path) if m in modules} - {name} for name, path in modules.items()
    }


def test_each_layer_imports_only_the_layers_below_it():
    wrong = []
    for module, imported in sorted(_graph().items()):
        layer = _layer(module)
        for target in sorted(imported):
            target_layer = _layer(target)
            if target_layer != layer and target_layer not in ALLOWED[layer]:
                wrong.append(f"{module} ({layer}) imports {target} ({target_layer})")
    assert not wrong, "imports that cross the layers the wrong way:\n" + "\n".join(wrong)


def test_the_package_has_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append(
                    path[path.index(target) :] + [target] if target in path else [node, target]
                )
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_top_level_holds_only_the_core_and_the_entry_point():
    modules = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert len(modules) <= TOP_LEVEL_LIMIT, modules
    assert set(modules) == CORE | {"__init__", "cli"}


def test_every_topic_module_names_its_lesson_and_the_lesson_imports_it():
    notebooks = {
        p.stem[:2]: p.read_text(encoding="utf-8") for p in PACKAGE.parent.glob("solutions/*.ipynb")
    }
    for path in sorted((PACKAGE / "topics").glob("*.py")):
        if path.stem == "__init__":
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        assert doc.startswith("Lesson "), f"{path.name}: the docstring must start with 'Lesson NN'"
        number = doc.split()[1]
        assert number in notebooks, f"{path.name} names lesson {number}, which does not exist"
        pattern = (
            rf"bncourse\.topics\.{path.stem}\b|from bncourse\.topics import [^\n]*\b{path.stem}\b"
        )
        assert re.search(pattern, notebooks[number]), (
            f"lesson {number} does not import bncourse.topics.{path.stem}"
        )
