"""Learner-style submissions, one module per lesson topic, written in shapes the checks'
own tests do not use: what a learner who read only the lesson might type.

Each module defines

* ``CORRECT``: ``(exercise_id, implementation)`` pairs that must pass;
* ``WRONG``: ``(exercise_id, implementation, diagnosis)`` triples that must fail, where
  ``diagnosis`` is the catalogue id of the mistake the submission makes (``None`` for a
  mistake the catalogue does not name: it must still be rejected, with a failing case).

``tests/test_learner_submissions.py`` enforces the bar (every correct one accepted, at least
97% of the wrong ones rejected and 85% named correctly, at least five wrong ones per
exercise); ``benchmarks/detection.py`` prints the table.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

Correct = tuple[str, Callable[..., Any]]
Wrong = tuple[str, Callable[..., Any], str | None]


def collect() -> tuple[list[Correct], list[Wrong]]:
    """Every module's CORRECT and WRONG lists, concatenated."""
    correct: list[Correct] = []
    wrong: list[Wrong] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        correct += list(getattr(module, "CORRECT", []))
        wrong += list(getattr(module, "WRONG", []))
    return correct, wrong
