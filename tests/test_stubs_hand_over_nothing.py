"""No exercise stub, and no cell just before one, hands over the solution's code (issue 13).

For each graded function or class in ``solutions/``, every line of its solution (between
``### BEGIN SOLUTION`` and ``### END SOLUTION``) that does real work is looked for, spaces
ignored, in the lesson's stub cell and in the cell before it. The stub states the contract;
the hints carry the formula.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
DEFINITION = re.compile(r"^(?:def|class) (\w+)", re.MULTILINE)
# Expressions that are part of a contract, not of the answer.
CONTRACT = {
    # what a Dense layer computes, the given the exercise builds on
    "adapt_statistics": {"h@kernels[k]"},
}


def _cells(path: Path) -> list[str]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(cell["source"]) for cell in notebook["cells"]]


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _working_lines(solution: str) -> list[str]:
    """The expressions of the solution's lines that compute something (the right-hand side
    of an assignment, what a return returns), without ``np.``, so that the same formula
    written in a docstring's prose is found too."""
    lines = []
    for line in solution.splitlines():
        line = line.split("#", 1)[0].strip()
        line = re.sub(r"^return\s+", "", line)
        line = re.split(r"(?<![=!<>])=(?!=)", line, maxsplit=1)[-1]
        line = _squeezed(line.replace("np.", ""))
        if len(line) >= 10 and re.search(r"[-+*/@]", line):
            lines.append(line)
    return lines


def _stubs(path: Path) -> list[tuple[str, list[str], str]]:
    """(name, the solution's working lines, the lesson's stub cell plus the cell before)."""
    solution_cells = _cells(path)
    lesson_cells = _cells(ROOT / "lessons" / path.name)
    found = []
    for source in solution_cells:
        blocks = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, re.S)
        names = DEFINITION.findall(source)
        if not blocks or not names:
            continue
        for index, lesson_source in enumerate(lesson_cells):
            if "NotImplementedError" in lesson_source and names[0] in DEFINITION.findall(
                lesson_source
            ):
                shown = lesson_source + "\n" + (lesson_cells[index - 1] if index else "")
                shown = shown.replace("np.", "")
                lines = [line for block in blocks for line in _working_lines(block)]
                found.append((names[0], lines, _squeezed(shown)))
    return found


CASES = [(path.stem, *stub) for path in SOLUTIONS for stub in _stubs(path)]


def test_the_lessons_have_stubs_to_look_at():
    assert len(CASES) >= 25


@pytest.mark.parametrize(
    ("lesson", "name", "lines", "shown"), CASES, ids=[f"{c[0][:2]}-{c[1]}" for c in CASES]
)
def test_a_stub_and_the_cell_before_it_do_not_hand_over_the_solution(lesson, name, lines, shown):
    handed_over = [line for line in lines if line in shown and line not in CONTRACT.get(name, ())]
    assert not handed_over, f"{lesson}: {name}'s stub or the cell before shows {handed_over}"
