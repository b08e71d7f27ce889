"""What a learner sees in a lesson's code reads like the lesson (issues 11 and 12).

No bare ``assert`` (a measured statement is a ``claim``), no code cell over 800 characters
(a helper that long belongs in the lesson's topic module), no import of a private name.
An exercise stub (a cell that raises NotImplementedError) may be longer: its docstring is
the contract the learner codes against, and the contract is the lesson's point.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
MAX_CHARACTERS = 800


def _code_cells(path: Path) -> list[tuple[int, str]]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [
        (index, "".join(cell["source"]))
        for index, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code"
    ]


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_code_has_no_asserts_no_long_cells_and_no_private_imports(path):
    problems = []
    for index, source in _code_cells(path):
        if re.search(r"^\s*assert\b", source, flags=re.MULTILINE):
            problems.append(f"cell {index}: a bare assert (state it with claim(...))")
        if len(source) > MAX_CHARACTERS and "raise NotImplementedError" not in source:
            problems.append(f"cell {index}: {len(source)} characters (move helpers to the topic)")
        if re.search(r"from bncourse[\w.]* import [^\n]*\b_[a-z]\w*", source):
            problems.append(f"cell {index}: imports a private name")
    assert not problems, "\n".join(problems)
