"""What an exercise is: its test inputs (``Case``), its contract and how it is judged.

The exercise specifications themselves live in ``bncourse.grading.exercises``, one module
per lesson topic; this module only defines their shape, so the judging engine and the
specifications import it without importing each other.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bncourse.grading.catalogue import Diagnosis
from bncourse.grading.families import Family

__all__ = ["Case", "Exercise"]


@dataclass(frozen=True)
class Case:
    """One test input. ``args`` are passed positionally, in order."""

    label: str
    args: dict[str, Any]
    kind: str  # "table" (2-D data), "dense" (2-D batch) or "conv" (4-D feature maps)
    remark: str = ""  # said when the function raises on this input, e.g. "bias is None"
    # False for inputs built to expose a trap (digits beyond float32, huge means): the
    # failing test a learner is shown is the smallest readable one when there is one.
    readable: bool = True


@dataclass(frozen=True)
class Exercise:
    """An exercise the learner implements and ``check`` grades."""

    id: str
    lesson: str
    signature: str
    outputs: tuple[str, ...]  # names of the returned arrays; one name = a single array
    make_cases: Callable[[np.random.Generator], list[Case]]
    family: Family | None = None
    max_score: float = 1.0
    # Exercises whose outputs are not arrays (a Keras model, say) bring their own judge:
    # judge(exercise, cases, observations) -> CheckResult, and an invoke that reduces the
    # learner's return value to data (see Returned's "json" kind).
    custom_judge: Callable[..., Any] | None = None
    # How this exercise words a diagnosis when the catalogue's general text would not fit.
    wording: dict[str, Diagnosis] = field(default_factory=dict)
    custom_invoke: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None
    # The hint ladder: (1) a question that points at the idea, (2) the formula or plan,
    # (3) close to the code. At least three distinct levels (a test checks every exercise).
    hints: tuple[str, ...] = ()

    def invoke(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """What the check calls: the learner's function itself for array exercises."""
        return fn if self.custom_invoke is None else self.custom_invoke(fn)

    def cases(self) -> list[Case]:
        return self.make_cases(np.random.default_rng(zlib.crc32(self.id.encode())))

    def expected(self, case: Case, cache: dict[Any, Any] | None = None) -> tuple[np.ndarray, ...]:
        """The correct outputs, from the family's all-correct combination (float64)."""
        if self.family is None:
            raise TypeError(f"{self.id} has no family of implementations to compute from")
        choices = self.family.choices_for(case.args)
        values = {choice.name: choice.options[0].value for choice in choices}
        return self.family.compute(case.args, values, {} if cache is None else cache)
