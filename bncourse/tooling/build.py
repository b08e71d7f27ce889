"""Generate the learners' notebooks (``lessons/``) from the solutions (``solutions/``).

``solutions/NN_stem.ipynb`` is the single source. In its code cells, solution code sits
between the comment lines ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's
markers). The build turns each such block into a stub:

* inside a function, the block becomes ``raise NotImplementedError("...")``, whose message
  is built from the function's name and the first line of its docstring;
* at the top level of a cell, the block is removed. The author writes the learner's
  starting point just above it (e.g. ``gamma_identity = None``), which the solution then
  overwrites.

Cells tagged ``solution-only`` are dropped. Outputs and execution counts are cleared, and
the kernelspec is set to the generic ``python3`` in both directories.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["BuildError", "stub_source", "build_notebook", "build_all", "stale_lessons"]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
SOLUTION_ONLY_TAG = "solution-only"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_MARKER = re.compile(r"^(?P<indent>[ \t]*)### (?P<word>BEGIN|END) SOLUTION[ \t]*$")


class BuildError(ValueError):
    """A solution notebook the build cannot turn into a lesson (names file and cell)."""


@dataclass(frozen=True)
class _Block:
    begin: int  # line index of the BEGIN marker
    end: int  # line index of the END marker
    indent: str


def _blocks(lines: list[str], where: str) -> list[_Block]:
    blocks, open_at, open_indent = [], None, ""
    for number, line in enumerate(lines):
        match = _MARKER.match(line.rstrip("\n"))
        if match is None:
            if BEGIN in line or END in line:
                raise BuildError(f"{where}: line {number + 1}: a marker must be alone on its line")
            continue
        if match["word"] == "BEGIN":
            if open_at is not None:
                raise BuildError(f"{where}: line {number + 1}: BEGIN SOLUTION inside another")
            open_at, open_indent = number, match["indent"]
        else:
            if open_at is None:
                raise BuildError(f"{where}: line {number + 1}: END SOLUTION without BEGIN")
            if match["indent"] != open_indent:
                raise BuildError(f"{where}: line {number + 1}: END SOLUTION indented unlike BEGIN")
            blocks.append(_Block(open_at, number, open_indent))
            open_at = None
    if open_at is not None:
        raise BuildError(f"{where}: line {open_at + 1}: BEGIN SOLUTION is never closed")
    return blocks


def _enclosing_function(source: str, line_number: int) -> ast.FunctionDef | None:
    """The innermost function whose body contains 1-based ``line_number``."""
    tree = ast.parse(source)
    best = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            end = node.end_lineno or node.lineno
            if node.lineno < line_number <= end and (best is None or node.lineno > best.lineno):
                best = node
    return best


def _stub_message(function: ast.FunctionDef) -> str:
    doc = ast.get_docstring(function) or ""
    first = doc.strip().splitlines()[0].strip() if doc.strip() else ""
    if not first:
        return f"Write {function.name}. Replace this line with your code."
    task = (first[0].lower() + first[1:]).rstrip(".")
    return f"Write {function.name}: {task}. Replace this line with your code."


def stub_source(source: str, where: str = "cell") -> str:
    """The learner's version of one code cell's source."""
    lines = source.splitlines(keepends=True)
    blocks = _blocks(lines, where)
    if not blocks:
        return source
    try:
        ast.parse(source)
    except SyntaxError as error:
        raise BuildError(f"{where}: the solution does not parse: {error}") from error
    output: list[str] = []
    cursor = 0
    for block in blocks:
        output.extend(lines[cursor : block.begin])
        if block.indent:
            function = _enclosing_function(source, block.begin + 1)
            if function is None:
                raise BuildError(
                    f"{where}: line {block.begin + 1}: an indented solution block must sit "
                    "inside a function"
                )
            message = json.dumps(_stub_message(function), ensure_ascii=False)
            output.append(f"{block.indent}raise NotImplementedError({message})\n")
        cursor = block.end + 1
    output.extend(lines[cursor:])
    stubbed = "".join(output).rstrip("\n")
    try:
        ast.parse(stubbed)
    except SyntaxError as error:
        raise BuildError(f"{where}: the stubbed cell does not parse: {error}") from error
    return stubbed


def _clean(cell: dict[str, Any]) -> dict[str, Any]:
    cell = dict(cell)
    if cell["cell_type"] == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    metadata = {k: v for k, v in cell.get("metadata", {}).items() if k in ("tags", "editable")}
    cell["metadata"] = metadata
    if not cell.get("attachments"):
        cell.pop("attachments", None)
    return cell


def normalized_solution(notebook: dict[str, Any], name: str) -> dict[str, Any]:
    """The solution notebook as it is stored: no outputs, the generic kernelspec."""
    result = dict(notebook)
    result["cells"] = [_clean(cell) for cell in notebook["cells"]]
    result["metadata"] = _metadata(notebook, name)
    return result


def _metadata(notebook: dict[str, Any], name: str) -> dict[str, Any]:
    """Generic kernelspec; the lesson's stem, which the instructor grader reads."""
    return {
        "bncourse": {"lesson": Path(name).stem},
        "kernelspec": KERNELSPEC,
        "language_info": {"name": "python"},
    }


NAV_TAG = "course-nav"
"""Tag of the navigation cells the build writes at the top and bottom of every lesson."""

COURSE_MAP = "00_course_map.ipynb"


def title_of(notebook: dict[str, Any], name: str) -> str:
    """The notebook's first heading, e.g. "Lesson 03: The four steps of ..."."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for line in source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return Path(name).stem


def nav_cell(previous: tuple[str, str] | None, following: tuple[str, str] | None) -> dict:
    """A markdown cell linking to the course map and the lessons before and after.

    ``previous`` and ``following`` are (file name, title) pairs or None.
    """
    links = [f"[Course map]({COURSE_MAP})"]
    if previous is not None:
        links.append(f"← [{previous[1]}]({previous[0]})")
    if following is not None:
        links.append(f"[{following[1]}]({following[0]}) →")
    return {
        "cell_type": "markdown",
        "id": "",
        "metadata": {"tags": [NAV_TAG]},
        "source": " · ".join(links),
    }


def build_notebook(
    notebook: dict[str, Any],
    name: str = "notebook",
    neighbours: tuple[tuple[str, str] | None, tuple[str, str] | None] | None = None,
) -> dict[str, Any]:
    """The lesson generated from one solution notebook (a dict in nbformat 4).

    With ``neighbours`` (the lessons before and after, as (file name, title) or None),
    a lesson other than the course map gets a navigation cell at its top and bottom.
    """
    cells = []
    for index, cell in enumerate(notebook["cells"]):
        tags = cell.get("metadata", {}).get("tags", [])
        if SOLUTION_ONLY_TAG in tags:
            continue
        cell = _clean(cell)
        if cell["cell_type"] == "code":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = stub_source(source, f"{name}, cell {index + 1}")
        cells.append(cell)
    if neighbours is not None and Path(name).name != COURSE_MAP:
        top, bottom = nav_cell(*neighbours), nav_cell(*neighbours)
        top["id"], bottom["id"] = "course-nav-top", "course-nav-bottom"
        cells = [top, *cells, bottom]
    return {
        "cells": cells,
        "metadata": _metadata(notebook, name),
        "nbformat": 4,
        "nbformat_minor": notebook.get("nbformat_minor", 5),
    }


def read_notebook(path: Path) -> dict[str, Any]:
    import nbformat

    try:
        notebook = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises several error types
        raise BuildError(f"{path}: not a readable notebook: {error}") from error
    for cell in notebook.cells:  # nbformat keeps sources as single strings in memory
        if isinstance(cell.source, list):
            cell.source = "".join(cell.source)
    return notebook


def dumps(notebook: dict[str, Any]) -> str:
    """The one on-disk format: nbformat's (sorted keys, sources as lists of lines)."""
    import nbformat

    return nbformat.writes(nbformat.from_dict(notebook)) + "\n"


def _neighbours(solutions: Path) -> dict[str, tuple]:
    """For each solution file name: the (file name, title) of the lesson before and after."""
    paths = sorted(solutions.glob("[0-9][0-9]_*.ipynb"))
    lessons = [p for p in paths if p.name != COURSE_MAP]
    titles = {p.name: title_of(read_notebook(p), p.name) for p in lessons}
    order = [(p.name, titles[p.name]) for p in lessons]
    result = {}
    for index, (name, _) in enumerate(order):
        before = order[index - 1] if index > 0 else None
        after = order[index + 1] if index + 1 < len(order) else None
        result[name] = (before, after)
    return result


def build_all(solutions: Path, lessons: Path, only: list[str] | None = None) -> list[Path]:
    """Write ``lessons/NN_stem.ipynb`` for every solution (or those whose names start with
    one of ``only``); returns the files written."""
    lessons.mkdir(parents=True, exist_ok=True)
    neighbours = _neighbours(solutions)
    written = []
    for source in sorted(solutions.glob("[0-9][0-9]_*.ipynb")):
        if only and not any(source.name.startswith(prefix) for prefix in only):
            continue
        lesson = build_notebook(read_notebook(source), source.name, neighbours.get(source.name))
        target = lessons / source.name
        target.write_text(dumps(lesson), encoding="utf-8")
        written.append(target)
    return written


def stale_lessons(solutions: Path, lessons: Path) -> list[str]:
    """Lesson files that differ from what the build would write (or are missing/extra)."""
    problems = []
    expected = {p.name for p in solutions.glob("[0-9][0-9]_*.ipynb")}
    present = {p.name for p in lessons.glob("*.ipynb")}
    problems += [f"{name}: missing from lessons/" for name in sorted(expected - present)]
    problems += [f"{name}: has no solution" for name in sorted(present - expected)]
    neighbours = _neighbours(solutions)
    for name in sorted(expected & present):
        built = build_notebook(read_notebook(solutions / name), name, neighbours.get(name))
        if (lessons / name).read_text(encoding="utf-8") != dumps(built):
            problems.append(f"{name}: differs from what `bncourse build` generates")
    return problems


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="bncourse build", description="Generate lessons/ from solutions/."
    )
    parser.add_argument(
        "only", nargs="*", help="build only these notebooks (name prefixes, e.g. 03 or 03_the)"
    )
    parser.add_argument("--solutions", type=Path, default=Path("solutions"))
    parser.add_argument("--lessons", type=Path, default=Path("lessons"))
    parser.add_argument(
        "--check", action="store_true", help="only report lessons that are out of date"
    )
    args = parser.parse_args(argv)
    if not args.solutions.is_dir():
        parser.error(f"{args.solutions} is not a directory")
    try:
        if args.check:
            problems = stale_lessons(args.solutions, args.lessons)
            for problem in problems:
                print(problem)
            return 1 if problems else 0
        for solution in sorted(args.solutions.glob("[0-9][0-9]_*.ipynb")):
            if args.only and not any(solution.name.startswith(p) for p in args.only):
                continue
            notebook = read_notebook(solution)
            clean = dumps(normalized_solution(notebook, solution.name))
            if solution.read_text(encoding="utf-8") != clean:
                solution.write_text(clean, encoding="utf-8")  # strip outputs at the source
        for path in build_all(args.solutions, args.lessons, args.only):
            print(f"wrote {path}")
    except BuildError as error:
        print(f"error: {error}")
        return 1
    return 0
