"""The single-source build: solutions/ -> lessons/."""

from __future__ import annotations

from pathlib import Path

import pytest

from bncourse.tooling.build import (
    BuildError,
    build_notebook,
    read_notebook,
    stale_lessons,
    stub_source,
)

ROOT = Path(__file__).resolve().parents[1]

FUNCTION_CELL = '''import numpy as np


def batch_mean(x):
    """Return the mean of each feature over every other axis.

    More text.
    """
    axes = tuple(range(x.ndim - 1))
    ### BEGIN SOLUTION
    return x.mean(axis=axes)
    ### END SOLUTION
'''


def test_a_function_block_becomes_a_stub_that_keeps_signature_and_docstring():
    stub = stub_source(FUNCTION_CELL)
    assert "def batch_mean(x):" in stub and "More text." in stub
    assert "axes = tuple(range(x.ndim - 1))" in stub  # code outside the block stays
    assert "x.mean(axis=axes)" not in stub and "BEGIN SOLUTION" not in stub
    assert (
        '    raise NotImplementedError("Write batch_mean: return the mean of each feature '
        'over every other axis. Replace this line with your code.")'
    ) in stub
    namespace: dict = {}
    exec(stub, namespace)  # noqa: S102 - the stub must run and raise NotImplementedError
    with pytest.raises(NotImplementedError, match="Write batch_mean"):
        namespace["batch_mean"](namespace["np"].ones((2, 3)))


def test_a_top_level_block_is_removed_leaving_the_starting_point():
    source = (
        "gamma = None  # your turn\n### BEGIN SOLUTION\ngamma = 2.0\n### END SOLUTION\nprint(gamma)"
    )
    assert stub_source(source) == "gamma = None  # your turn\nprint(gamma)"


def test_cells_without_markers_are_untouched():
    assert stub_source("x = 1\n") == "x = 1\n"


@pytest.mark.parametrize(
    "source, message",
    [
        ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
        ("x = 1\n### END SOLUTION\n", "without BEGIN"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another"),
        ("x = 1  ### BEGIN SOLUTION\n", "alone on its line"),
        (
            "if True:\n    ### BEGIN SOLUTION\n    x = 1\n    ### END SOLUTION\n",
            "inside a function",
        ),
    ],
)
def test_malformed_markers_name_the_problem(source, message):
    with pytest.raises(BuildError, match=message):
        stub_source(source, "lesson.ipynb, cell 3")


def test_solution_only_cells_outputs_and_kernelspec():
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Title"},
            {
                "cell_type": "code",
                "metadata": {"tags": ["solution-only"]},
                "source": "secret = 1",
                "outputs": [],
                "execution_count": 1,
            },
            {
                "cell_type": "code",
                "metadata": {"tags": ["experiment"], "scrolled": True},
                "source": "print(1)",
                "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}],
                "execution_count": 2,
            },
        ],
        "metadata": {"kernelspec": {"name": "my-odd-kernel"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    lesson = build_notebook(notebook)
    assert len(lesson["cells"]) == 2
    code = lesson["cells"][1]
    assert code["outputs"] == [] and code["execution_count"] is None
    assert code["metadata"] == {"tags": ["experiment"]}
    assert lesson["metadata"]["kernelspec"]["name"] == "python3"


def test_lessons_are_what_the_build_generates():
    problems = stale_lessons(ROOT / "solutions", ROOT / "lessons")
    assert not problems, "run `make lessons`:\n" + "\n".join(problems)


@pytest.mark.parametrize("folder", ["solutions", "lessons"])
def test_notebooks_are_stored_without_outputs(folder):
    for path in sorted((ROOT / folder).glob("*.ipynb")):
        notebook = read_notebook(path)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                assert not cell.outputs, f"{path.name}, cell {index + 1} has stored outputs"
        assert notebook.metadata["kernelspec"]["name"] == "python3", path.name
