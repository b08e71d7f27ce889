"""Lesson 08 (what BN buys you): the measurement helpers a practitioner keeps.

* ``steps_to_accuracy(steps, accuracy, target)`` reads a training curve measured every few
  optimizer steps (``steps``: the step of each evaluation, ``accuracy``: the validation
  accuracy measured there) and returns the first recorded step at which the accuracy
  reaches ``target`` (``>=``), or NaN when it never does.
* ``working_learning_rates(learning_rates, final_accuracy, threshold=0.5)`` reads a
  learning-rate sweep ((rates, seeds) final accuracies, NaN for a diverged run) and returns
  the smallest and largest learning rate at which every seed reached ``threshold``, or
  (NaN, NaN) when none did.

Both are array exercises with a family of mistakes: a position instead of the value recorded
there (``steps-to-index``), ``>`` for ``>=`` (``strict-threshold``), the last crossing instead
of the first (``last-crossing``), something other than NaN for "never"
(``never-reached-not-handled``), a target fixed at the lesson's value (``hard-coded-target``),
one seed or the mean over seeds standing for every seed (``one-seed-is-enough``) and a
diverged run that does not count as a failure (``diverged-not-failure``).

The cases put ties, dips, diverged runs and steps that do not start at one evaluation
interval where each mistake changes the answer. One more rule wraps the standard judge: a
function that returns nothing, or raises, only where the answer is "never" has not handled
that case (``never-reached-not-handled``), whatever it raised. A step or a learning rate is
a number: ints, floats and NumPy scalars all fit, so the standard judge's float32 notes are
left out.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from bncourse.grading.catalogue import Diagnosis
from bncourse.grading.execution import Observation
from bncourse.grading.families import Choice, Family, Option, f64
from bncourse.grading.judge import close, judge, mistake
from bncourse.grading.result import CheckResult
from bncourse.grading.spec import Case, Exercise

__all__ = ["EXERCISES", "steps_cases", "first_reached", "range_cases"]

LESSON = "08_what_bn_buys_you"
LESSON_TARGET = 0.95  # the lesson's target: what a hard-coded threshold would be


def _curve(steps: list[int], accuracy: list[float], target: float) -> dict[str, Any]:
    return {
        "steps": np.array(steps, dtype=np.int64),
        "accuracy": np.array(accuracy, dtype=np.float64),
        "target": float(target),
    }


def steps_cases(rng: np.random.Generator) -> list[Case]:
    """Curves with an evaluation exactly at the target, a dip after the first crossing, no
    crossing at all, a first evaluation at step 0, a last evaluation off the grid, a target
    met at the first evaluation, and a realistic 20-evaluation curve."""
    noisy = np.clip(1.0 - 0.9 * np.exp(-np.arange(1, 21) / 5.0), 0.0, 1.0)
    noisy = np.round((noisy + rng.normal(0.0, 0.02, 20)) * 359) / 359  # accuracies on 359 images
    return [
        Case(
            "evaluations every 25 steps; the accuracy equals the target 0.875 at step 75",
            _curve([25, 50, 75, 100, 125, 150], [0.5, 0.75, 0.875, 0.875, 0.9375, 1.0], 0.875),
            "table",
        ),
        Case(
            "evaluations every 10 steps; the accuracy crosses 0.9, dips below it and crosses again",
            _curve([10, 20, 30, 40, 50, 60, 70], [0.6, 0.92, 0.85, 0.88, 0.95, 0.9, 0.97], 0.9),
            "table",
        ),
        Case(
            "a curve that never reaches the target 0.8",
            _curve([100, 200, 300, 400], [0.3, 0.5, 0.6, 0.55], 0.8),
            "table",
            remark="This curve never reaches the target.",
        ),
        Case(
            "a first evaluation at step 0, before any training; target 0.8",
            _curve([0, 50, 100, 150, 200], [0.1, 0.6, 0.8, 0.85, 0.9], 0.8),
            "table",
        ),
        Case(
            "evaluations every 25 steps and a last one at step 130 (where training ended); "
            "target 0.95",
            _curve([25, 50, 75, 100, 125, 130], [0.4, 0.7, 0.8, 0.85, 0.88, 0.96], 0.95),
            "table",
        ),
        Case(
            "a curve already above the target 0.9 at its first evaluation",
            _curve([25, 50, 75], [0.97, 0.99, 0.98], 0.9),
            "table",
        ),
        Case(
            "a curve of 20 evaluations every 25 steps that never reaches 0.99",
            _curve(list(range(25, 501, 25)), list(noisy * 0.97), 0.99),
            "table",
            remark="This curve never reaches the target.",
        ),
        Case(
            "a curve of 20 evaluations every 25 steps, accuracies on 359 images; target 0.9",
            _curve(list(range(25, 501, 25)), list(noisy), 0.9),
            "table",
            readable=False,
        ),
    ]


def first_reached(args: dict[str, Any], threshold: str, which: str, target: float) -> int | None:
    """The position of the evaluation each way of reading the curve picks (None: none)."""
    accuracy = f64(args["accuracy"])
    above = accuracy >= target if threshold == ">=" else accuracy > target
    hits = np.flatnonzero(above)
    if not len(hits):
        return None
    if which == "first":
        return int(hits[0])
    if which == "last":
        return int(hits[-1])
    # "stays": the start of the final stretch above the target (None if it ends below)
    if not above[-1]:
        return None
    below = np.flatnonzero(~above)
    return int(below[-1] + 1) if len(below) else 0


_NEVER = {"nan": np.nan, "minus-one": -1.0, "zero": 0.0, "inf": np.inf}


def _steps_to(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    steps = f64(args["steps"])
    target = args["target"] if values["target"] == "argument" else LESSON_TARGET
    index = first_reached(args, values["threshold"], values["which"], target)
    if index is None:
        never = values["never"]
        if never == "first-step":  # np.argmax of an all-False array is 0
            value = steps[0]
        elif never == "last-step":
            value = steps[-1]
        elif never == "length":
            value = float(len(steps))
        else:
            value = _NEVER[never]
        return (np.array(value, dtype=np.float64),)
    interval = steps[1] - steps[0] if len(steps) > 1 else steps[0]
    value = {
        "step": steps[index],
        "index": float(index),
        "count": float(index + 1),
        "index*interval": index * interval,
        "count*interval": (index + 1) * interval,
    }[values["report"]]
    return (np.array(value, dtype=np.float64),)


STEPS_TO = Family(
    choices_for=lambda args: (
        Choice(
            "report",
            (
                Option("step"),
                Option("index", "steps-to-index"),
                Option("count", "steps-to-index"),
                Option("index*interval", "steps-to-index"),
                Option("count*interval", "steps-to-index"),
            ),
        ),
        Choice("threshold", (Option(">="), Option(">", "strict-threshold"))),
        Choice(
            "which",
            (Option("first"), Option("last", "last-crossing"), Option("stays", "last-crossing")),
        ),
        Choice("target", (Option("argument"), Option("0.95", "hard-coded-target"))),
        Choice(
            "never",
            (Option("nan"),)
            + tuple(
                Option(value, "never-reached-not-handled")
                for value in ("first-step", "last-step", "minus-one", "zero", "inf", "length")
            ),
            per_case=True,
        ),
    ),
    compute=_steps_to,
)


def _never_reached(exercise: Exercise, case: Case) -> bool:
    (expected,) = exercise.expected(case)
    return bool(np.isnan(expected))


def _fails_only_where_never_reached(
    exercise: Exercise, cases: list[Case], observations: list[Observation]
) -> bool:
    """Raised or returned nothing on a curve that never reaches the target, and returned
    the right step on every curve that does."""
    failed_never = False
    for case, observation in zip(cases, observations, strict=True):
        never = _never_reached(exercise, case)
        returned = observation.returned if observation.status == "ok" else None
        missing = observation.status != "ok" or returned is None or returned.kind == "none"
        if never:
            failed_never = failed_never or missing
            continue
        if missing or returned.kind != "array" or returned.array is None:
            return False
        if not close(np.asarray(returned.array, dtype=np.float64), exercise.expected(case)[0]):
            return False
    return failed_never


def _without_dtype_notes(result: CheckResult) -> CheckResult:
    """A step is a number: an int, a float or a NumPy scalar all fit the contract, so the
    standard judge's notes about float32 do not apply here."""
    notes = [note for note in result.notes if "keep float32" not in note]
    if len(notes) == len(result.notes):
        return result
    findings = [f for f in result.findings if not (f.kind == "note" and "keep float32" in f.text)]
    return dataclasses.replace(result, notes=notes, findings=findings, feedback="")


def judge_steps(
    exercise: Exercise, cases: list[Case], observations: list[Observation]
) -> CheckResult:
    """The standard judge, and one more rule: raising or returning None only where the
    curve never reaches the target is ``never-reached-not-handled``."""
    result = _without_dtype_notes(judge(exercise, cases, observations))
    if result.passed or result.diagnoses or result.status not in ("failed", "error"):
        return result
    if exercise.id == "steps_to_accuracy":
        if not _fails_only_where_never_reached(exercise, cases, observations):
            return result
    elif not _range_fails_only_where_none_works(exercise, cases, observations):
        return result
    kept = [f for f in result.findings if f.kind in ("note", "problem")]
    return dataclasses.replace(
        result,
        status="failed",
        feedback="",
        findings=[mistake(exercise, "never-reached-not-handled"), *kept],
        diagnosis=None,
        diagnoses=["never-reached-not-handled"],
        failing=None,
    )


# ---------------------------------------------------------------------------
# working_learning_rates
# ---------------------------------------------------------------------------


def _sweep(rates: list[float], finals: list[list[float]], threshold: float) -> dict[str, Any]:
    return {
        "learning_rates": np.array(rates, dtype=np.float64),
        "final_accuracy": np.array(finals, dtype=np.float64),
        "threshold": float(threshold),
    }


def range_cases(rng: np.random.Generator) -> list[Case]:
    """Sweeps with a seed that fails where the other trains, a diverged run (NaN), a final
    accuracy exactly at the threshold, no learning rate that trains, a gap inside the
    range, one seed only, and thresholds other than the lesson's 0.5."""
    nan = float("nan")
    return [
        Case(
            "5 learning rates, 2 seeds; at 1.0 one seed trains and the other does not; "
            "threshold 0.5",
            _sweep(
                [0.01, 0.1, 0.3, 1.0, 3.0],
                [[0.9, 0.92], [0.95, 0.96], [0.93, 0.9], [0.88, 0.3], [0.1, 0.1]],
                0.5,
            ),
            "table",
        ),
        Case(
            "4 learning rates, 3 seeds; one run at 0.3 diverged (nan); threshold 0.6",
            _sweep(
                [0.003, 0.03, 0.3, 3.0],
                [[0.55, 0.7, 0.65], [0.9, 0.91, 0.93], [0.92, nan, 0.94], [nan, nan, nan]],
                0.6,
            ),
            "table",
            remark="One run diverged: its final accuracy is nan.",
        ),
        Case(
            "4 learning rates, 2 seeds; a final accuracy exactly at the threshold 0.75",
            _sweep(
                [0.01, 0.1, 1.0, 10.0],
                [[0.75, 0.8], [0.875, 0.9], [0.75, 0.8125], [0.1, nan]],
                0.75,
            ),
            "table",
        ),
        Case(
            "3 learning rates, 2 seeds; no learning rate trains on every seed; threshold 0.5",
            _sweep([0.1, 1.0, 10.0], [[0.2, 0.6], [0.4, 0.45], [nan, 0.1]], 0.5),
            "table",
            remark="No learning rate trains on every seed here.",
        ),
        Case(
            "5 learning rates, 2 seeds; 0.1 fails on one seed between rates that train; "
            "threshold 0.9",
            _sweep(
                [0.01, 0.03, 0.1, 0.3, 1.0],
                [[0.91, 0.93], [0.95, 0.94], [0.97, 0.85], [0.96, 0.95], [0.5, 0.92]],
                0.9,
            ),
            "table",
        ),
        Case(
            "4 learning rates, 1 seed; threshold 0.5",
            _sweep([0.05, 0.5, 5.0, 50.0], [[0.3], [0.9], [0.7], [nan]], 0.5),
            "table",
        ),
    ]


def _trains(row: np.ndarray, values: dict, threshold: float) -> bool:
    """Whether one learning rate's seeds count as training, as each reading decides it."""
    if values["diverged"] == "ignored":  # nan left out, as np.nanmin or np.nanmean do
        row = row[~np.isnan(row)]
        if not len(row):
            return False
    else:  # a diverged run fails (as 0), or passes a test like `not (x < threshold)` (+inf)
        row = np.where(np.isnan(row), np.inf if values["diverged"] == "passes" else 0.0, row)
    statistic = {"every": row.min(), "any": row.max(), "mean": row.mean()}[values["seeds"]]
    return bool(statistic >= threshold if values["compare"] == ">=" else statistic > threshold)


def _working(args: dict, values: dict, cache: dict) -> tuple[np.ndarray, ...]:
    rates = f64(args["learning_rates"])
    finals = f64(args["final_accuracy"]).reshape(len(rates), -1)
    threshold = args["threshold"] if values["threshold_value"] == "argument" else 0.5
    ok = np.array([_trains(row, values, threshold) for row in finals])
    working = np.flatnonzero(ok)
    if not len(working):
        never = {"nan": (np.nan, np.nan), "zeros": (0.0, 0.0), "ends": (rates[0], rates[-1])}
        low, high = never[values["never"]]
        return np.array(low), np.array(high)
    if values["report"] == "index":
        return np.array(float(working[0])), np.array(float(working[-1]))
    return np.array(rates[working[0]]), np.array(rates[working[-1]])


WORKING = Family(
    choices_for=lambda args: (
        Choice(
            "seeds",
            (
                Option("every"),
                Option("any", "one-seed-is-enough"),
                Option("mean", "one-seed-is-enough"),
            ),
        ),
        Choice(
            "diverged",
            (
                Option("failure"),
                Option("ignored", "diverged-not-failure"),
                Option("passes", "diverged-not-failure"),
            ),
        ),
        Choice("compare", (Option(">="), Option(">", "strict-threshold"))),
        Choice("report", (Option("rate"), Option("index", "steps-to-index"))),
        Choice("threshold_value", (Option("argument"), Option("0.5", "hard-coded-target"))),
        Choice(
            "never",
            (
                Option("nan"),
                Option("zeros", "never-reached-not-handled"),
                Option("ends", "never-reached-not-handled"),
            ),
            per_case=True,
        ),
    ),
    compute=_working,
)

_RANGE_WORDING = {
    "steps-to-index": Diagnosis(
        "steps-to-index",
        "a position in the arrays instead of the value recorded there",
        "Your function returned where the working learning rates sit in the sweep (their "
        "indices), not the learning rates themselves.",
        "Once you know which positions work, read their values from `learning_rates`.",
    ),
    "strict-threshold": Diagnosis(
        "strict-threshold",
        "'reaches' read as 'exceeds'",
        "A run whose final accuracy equals the threshold has trained, by the contract. With "
        "> your function counts it as a failure.",
        "Which comparison includes equality?",
    ),
    "never-reached-not-handled": Diagnosis(
        "never-reached-not-handled",
        "'never' is not reported as NaN",
        "When no learning rate trains on every seed, the contract asks for (nan, nan), so "
        "that a comparison with it is False and np.isnan shows it. Your function returned "
        "numbers (0, or the ends of the sweep), nothing, or it raised.",
        "Check whether any learning rate works before you take the smallest and largest.",
    ),
    "hard-coded-target": Diagnosis(
        "hard-coded-target",
        "a fixed target instead of the argument",
        "Your function behaves as if the threshold were always the lesson's 0.5.",
        "Compare with the `threshold` argument.",
    ),
}


def _range_fails_only_where_none_works(
    exercise: Exercise, cases: list[Case], observations: list[Observation]
) -> bool:
    failed = False
    for case, observation in zip(cases, observations, strict=True):
        expected = exercise.expected(case)
        none_works = bool(np.isnan(expected[0]))
        missing = (
            observation.status != "ok"
            or observation.returned is None
            or (observation.returned.kind == "none")
        )
        if none_works:
            failed = failed or missing
        elif missing:
            return False
    return failed


EXERCISES = [
    Exercise(
        "steps_to_accuracy",
        LESSON,
        "steps_to_accuracy(steps, accuracy, target)",
        ("step",),
        steps_cases,
        STEPS_TO,
        custom_judge=judge_steps,
        hints=(
            "Look at the curve as a table: one row per evaluation, with its step and its "
            "accuracy. Which row are you after when the accuracy reaches the target, dips and "
            "reaches it again? Does an accuracy exactly equal to the target count? And what "
            "should come back when no row qualifies?",
            "Plan: mark every evaluation whose accuracy is at least the target (>=); if none "
            "is marked, return NaN; otherwise take the first marked position and return the "
            "step recorded at that position in `steps`, not the position itself and not a "
            "step rebuilt from it (the first evaluation need not be at one interval, nor the "
            "last one on the grid).",
            "With NumPy: reached = np.flatnonzero(accuracy >= target) lists the marked "
            "positions; when it is empty return np.nan, else return steps[reached[0]]. (With "
            "a loop: for step, value in zip(steps, accuracy), return the step at the first "
            "value >= target; after the loop, return np.nan.) Beware np.argmax on an all-False "
            "array: it returns 0, as if the first evaluation had reached the target.",
        ),
    ),
    Exercise(
        "working_learning_rates",
        LESSON,
        "working_learning_rates(learning_rates, final_accuracy, threshold=0.5)",
        ("low", "high"),
        range_cases,
        WORKING,
        custom_judge=judge_steps,
        wording=_RANGE_WORDING,
        hints=(
            "A learning rate 'trains' when the network learned with it on every seed, and a "
            "diverged run (nan) has not learned. For each learning rate, what single yes/no "
            "answer do its seeds give? And what comes back when no learning rate says yes?",
            "Plan: compare the (values, seeds) table with the threshold (>=), treating nan as a "
            "failure; reduce each row to True only when all its seeds passed; if no row is "
            "True, return (nan, nan); otherwise return the learning rates of the first and "
            "the last True row.",
            "np.nan >= threshold is already False, so (final_accuracy >= threshold).all(axis=1) "
            "marks the rates that worked on every seed (beware np.nanmin or np.nanmean, which "
            "skip diverged runs). Then working = np.flatnonzero(that); return "
            "learning_rates[working[0]] and learning_rates[working[-1]], or (np.nan, np.nan) "
            "when working is empty.",
        ),
    ),
]
