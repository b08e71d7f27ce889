"""Judging: from what the learner's function returned to a score, a diagnosis and feedback.

The judge only sees data (``Observation`` objects), never the learner's code, so the
instructor's grader can run the learner's function in a sandboxed process and judge its
outputs here, in a process the submission cannot touch.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bncourse.grading.catalogue import DIAGNOSES
from bncourse.grading.execution import Observation, Returned
from bncourse.grading.families import (
    Combination,
    combinations,
    diagnoses_of,
    values_of,
    wrong_count,
)
from bncourse.grading.result import CaseReport, CheckResult, FailingCase, Finding
from bncourse.grading.spec import Case, Exercise

__all__ = ["judge", "close", "mistake", "not_attempted", "untouched"]

RTOL = 1e-4
ATOL = 1e-5
_NOISY_PRINT = 10_000


# ---------------------------------------------------------------------------
# Comparing arrays.
# ---------------------------------------------------------------------------


def _column_scale(expected: np.ndarray) -> np.ndarray | float:
    finite = np.where(np.isfinite(expected), np.abs(expected), 0.0)
    if expected.ndim == 0:
        return float(finite)
    return finite.max(axis=tuple(range(expected.ndim - 1)))


def _aligned(got: np.ndarray, expected: np.ndarray) -> np.ndarray | None:
    """``got`` reshaped to ``expected``'s shape when only size-1 axes differ."""
    if got.shape == expected.shape:
        return got
    if got.size == expected.size and np.squeeze(got).shape == np.squeeze(expected).shape:
        return got.reshape(expected.shape)
    return None


def close(got: np.ndarray, expected: np.ndarray) -> bool:
    """Equal up to float32 round-off, per feature; NaN and inf must sit in the same places."""
    aligned = _aligned(np.asarray(got, dtype=np.float64), expected)
    if aligned is None:
        return False
    finite = np.isfinite(expected)
    if finite.all():  # the usual case, checked in one pass
        if not np.isfinite(aligned).all():
            return False
        tolerance = ATOL + RTOL * (_column_scale(expected) + np.abs(expected))
        return bool((np.abs(aligned - expected) <= tolerance).all())
    if not np.array_equal(np.isnan(aligned), np.isnan(expected)):
        return False
    if not np.array_equal(np.isposinf(aligned), np.isposinf(expected)) or not np.array_equal(
        np.isneginf(aligned), np.isneginf(expected)
    ):
        return False
    tolerance = ATOL + RTOL * _column_scale(expected) + RTOL * np.abs(expected)
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.where(finite, np.abs(aligned - expected) <= tolerance, True)))


def _first_difference(got: np.ndarray, expected: np.ndarray) -> str:
    aligned = _aligned(np.asarray(got, dtype=np.float64), expected)
    if aligned is None:
        return f"expected shape {expected.shape}, got shape {np.shape(got)}"
    with np.errstate(invalid="ignore"):
        differs = ~np.isclose(aligned, expected, rtol=RTOL, atol=ATOL, equal_nan=True)
    if not differs.any():
        return "values differ slightly beyond float32 round-off"
    index = tuple(int(i) for i in np.argwhere(differs)[0])
    if not index:  # a single number: no position to name
        return f"expected {expected[index]:.6g}, got {aligned[index]:.6g}"
    where = f"[{', '.join(map(str, index))}]"
    count = int(differs.sum())
    return (
        f"at {where} expected {expected[index]:.6g}, got {aligned[index]:.6g} "
        f"({count} of {expected.size} values differ)"
    )


# ---------------------------------------------------------------------------
# Turning a returned value into the arrays the exercise asks for.
# ---------------------------------------------------------------------------


@dataclass
class _Coerced:
    arrays: tuple[np.ndarray, ...] | None
    problem: str = ""
    notes: list[str] = field(default_factory=list)


def _as_array(returned: Returned) -> np.ndarray | None:
    if returned.kind == "array":
        return np.asarray(returned.array, dtype=np.float64)
    if returned.kind == "sequence" and returned.items:
        parts = [_as_array(item) for item in returned.items]
        if any(part is None for part in parts):
            return None
        try:
            return np.asarray(np.stack(parts), dtype=np.float64)
        except ValueError:
            return None
    return None


def _describe_kind(returned: Returned) -> str:
    if returned.kind == "none":
        return "None"
    if returned.kind == "sequence":
        return f"a {returned.container} of {len(returned.items)} items"
    if returned.kind == "array":
        return f"an array of shape {returned.array.shape}"
    return f"a {returned.type_name} ({returned.text})"


def _coerce(returned: Returned, exercise: Exercise) -> _Coerced:
    names = exercise.outputs
    if returned.kind == "none":
        return _Coerced(None, "returned None. Is the return statement missing?")
    if len(names) == 1:
        array = _as_array(returned)
        if array is None:
            return _Coerced(None, f"returned {_describe_kind(returned)}, not a NumPy array.")
        notes = []
        if returned.kind == "sequence":
            notes.append(
                f"{exercise.id} returns a {returned.container}; it is accepted, but NumPy code "
                "that uses the result expects an array (np.asarray(...) converts it)."
            )
        elif returned.dtype not in ("float32",):
            notes.append(_dtype_note(exercise.id, returned.dtype))
        return _Coerced((array,), notes=notes)
    wanted = f"{len(names)} values, ({', '.join(names)})"
    if returned.kind == "sequence":
        if len(returned.items) != len(names):
            return _Coerced(None, f"returned {len(returned.items)} values; expected {wanted}.")
        arrays = [_as_array(item) for item in returned.items]
        if any(array is None for array in arrays):
            kinds = ", ".join(_describe_kind(item) for item in returned.items)
            return _Coerced(None, f"returned ({kinds}); expected {wanted}, each an array.")
        notes = [
            _dtype_note(exercise.id, item.dtype)
            for item in returned.items[:1]
            if item.kind == "array" and item.dtype != "float32"
        ]
        return _Coerced(tuple(arrays), notes=notes)
    if returned.kind == "array" and returned.array.ndim >= 1 and len(returned.array) == len(names):
        note = f"{exercise.id} returned one stacked array; returning a tuple is clearer."
        return _Coerced(
            tuple(np.asarray(a, dtype=np.float64) for a in returned.array), notes=[note]
        )
    return _Coerced(None, f"returned {_describe_kind(returned)}; expected {wanted}.")


def _dtype_note(exercise_id: str, dtype: str) -> str:
    return (
        f"{exercise_id} returns {dtype} values; Keras and this course keep float32 "
        "(accepted here, the values are what count)."
    )


# ---------------------------------------------------------------------------
# Finding the mistake: search the exercise's family of implementations.
# ---------------------------------------------------------------------------


@dataclass
class _Explanation:
    diagnoses: list[str]
    local_values: dict[int, dict[str, Any]]  # per case index: the per-case choices made
    cost: int
    global_values: dict[str, Any] = field(default_factory=dict)


def _matches(outputs: tuple[np.ndarray, ...], candidate: tuple[np.ndarray, ...]) -> bool:
    return len(outputs) == len(candidate) and all(
        close(got, expected) for got, expected in zip(outputs, candidate, strict=True)
    )


def _explain(
    exercise: Exercise,
    cases: list[Case],
    outputs: dict[int, tuple[np.ndarray, ...]],
    caches: dict[int, dict[Any, Any]],
) -> _Explanation | None:
    family = exercise.family
    if family is None or not outputs:
        return None
    choices = {index: family.choices_for(cases[index].args) for index in outputs}
    first = next(iter(outputs))
    global_choices = tuple(c for c in choices[first] if not c.per_case)
    local_combos = {
        index: combinations(tuple(c for c in choices[index] if c.per_case), None)
        for index in outputs
    }
    best: _Explanation | None = None
    for global_combo in combinations(global_choices, family.max_wrong):
        global_cost = wrong_count(global_combo)
        if best is not None and global_cost >= best.cost:
            break  # combinations come simplest first; nothing later can be cheaper
        found: dict[int, Combination] = {}
        for index, learner in outputs.items():
            for local_combo in local_combos[index]:
                values = values_of(global_combo) | values_of(local_combo)
                candidate = family.compute(cases[index].args, values, caches[index])
                if _matches(learner, candidate):
                    found[index] = local_combo
                    break
            else:
                break
        if len(found) != len(outputs):
            continue
        local_diagnoses = [d for combo in found.values() for d in diagnoses_of(combo)]
        diagnoses = list(dict.fromkeys(list(diagnoses_of(global_combo)) + local_diagnoses))
        cost = global_cost + len(set(local_diagnoses))
        if best is None or cost < best.cost:
            best = _Explanation(
                diagnoses,
                {i: values_of(c) for i, c in found.items()},
                cost,
                values_of(global_combo),
            )
    if best is not None and not best.diagnoses:
        return None  # the learner's outputs are right where it returned any
    return best


_AXIS_NAMES = {2: ("batch", "features"), 4: ("batch", "height", "width", "channels")}


def _axes_text(axes: tuple[int, ...], ndim: int) -> str:
    names = _AXIS_NAMES.get(ndim)
    if names is None:
        return f"axes {axes}"
    listed = " and ".join(", ".join(names[a] for a in axes).rsplit(", ", 1))
    return f"axis {axes[0]} ({listed})" if len(axes) == 1 else f"axes {axes} ({listed})"


def _detail(diagnosis: str, explanation: _Explanation, cases: list[Case]) -> str:
    if diagnosis == "wrong-axis":
        for index, values in explanation.local_values.items():
            axes = values.get("axes")
            x = cases[index].args.get("x", cases[index].args.get("x_hat"))
            ndim = np.ndim(x)
            correct = tuple(range(ndim - 1))
            if axes is not None and axes != correct:
                return (
                    f"On {cases[index].label}, your statistics average over "
                    f"{_axes_text(axes, ndim)}; BN averages over {_axes_text(correct, ndim)}, "
                    f"giving one value per {'channel' if ndim == 4 else 'feature'}."
                )
    if diagnosis == "wrong-eps-default":
        return "Called without eps, your function behaved as if eps were 1e-5."
    if diagnosis == "backward-ignores-batch-stats":
        return _MISSING_PATHS.get(explanation.global_values.get("paths", ""), "")
    return ""


_ROUNDING = {"float32-constant-column", "casts-to-float32-first", "one-pass-variance"}

_MISSING_PATHS = {
    "none": "Your dx misses both indirect paths: the one through the batch mean and the one "
    "through the batch variance. It is the gradient of a layer whose mean and variance were "
    "fixed numbers.",
    "no-mean": "Your dx has the direct path and the path through the variance, but misses "
    "the path through the batch mean: every x_i moves the mean, and the mean moves every "
    "x_hat_j.",
    "no-var": "Your dx has the direct path and the path through the batch mean, but misses "
    "the path through the batch variance: every x_i moves the variance, and the variance "
    "scales every x_hat_j.",
}


# ---------------------------------------------------------------------------
# The judge.
# ---------------------------------------------------------------------------


def untouched(observations: list[Observation]) -> bool:
    """True when every call raised NotImplementedError: the stub was never filled in."""
    return bool(observations) and all(o.status == "not-implemented" for o in observations)


def not_attempted(exercise: Exercise, cases: list[Case]) -> CheckResult:
    """The result for an untouched stub: no score, no traceback, what to do next."""
    return CheckResult.unscored(
        exercise.id,
        exercise.max_score,
        "not-attempted",
        f"Not attempted yet: {exercise.id} still raises NotImplementedError. "
        "Write your code in its cell, run that cell, then run this check again.",
        cases=[CaseReport(c.label, c.kind, False, "not attempted") for c in cases],
    )


def _order_explanation(
    exercise: Exercise,
    cases: list[Case],
    outputs: dict[int, tuple[np.ndarray, ...]],
    expected: dict[int, tuple[np.ndarray, ...]],
) -> tuple[int, ...] | None:
    """The permutation of the outputs that makes every returned case right, if one does."""
    if len(exercise.outputs) < 2 or not outputs:
        return None
    for order in itertools.permutations(range(len(exercise.outputs))):
        if order == tuple(range(len(order))):
            continue
        if all(
            all(
                close(got[order[k]], exp)
                for k, exp in enumerate(expected[index])
                if k < len(got) and order[k] < len(got)
            )
            and len(got) == len(expected[index])
            for index, got in outputs.items()
        ):
            return order
    return None


def _input_size(case: Case) -> int:
    return sum(int(np.size(v)) for v in case.args.values() if isinstance(v, np.ndarray))


def _failing_case(
    exercise: Exercise,
    cases: list[Case],
    reports: list[CaseReport],
    observations: list[Observation],
    outputs: dict[int, tuple[np.ndarray, ...]],
    expected: dict[int, tuple[np.ndarray, ...]],
) -> FailingCase | None:
    """The failing test with the fewest input values, as inputs, expected and got."""
    failing = [i for i, report in enumerate(reports) if not report.passed]
    if not failing:
        return None
    index = min(failing, key=lambda i: (not cases[i].readable, _input_size(cases[i]), i))
    case = cases[index]
    args = {
        name: np.array(value, copy=True) if isinstance(value, np.ndarray) else value
        for name, value in case.args.items()
    }
    try:
        wanted = expected.get(index) or exercise.expected(case)
    except Exception:  # noqa: BLE001 - a custom exercise may not compute expectations
        wanted = ()
    names = exercise.outputs
    got: dict[str, np.ndarray] = {}
    if index in outputs:
        got = {
            names[k] if k < len(names) else f"output {k}": value
            for k, value in enumerate(outputs[index])
        }
    error = ""
    if observations[index].status != "ok":
        error = observations[index].error
    elif index not in outputs:
        error = reports[index].message
    return FailingCase(
        case.label,
        args,
        expected=dict(zip(names, (np.asarray(w, dtype=np.float32) for w in wanted), strict=False)),
        got={name: np.asarray(value, dtype=np.float32) for name, value in got.items()},
        error=error,
    )


def mistake(exercise: Exercise, diagnosis: str, detail: str = "") -> Finding:
    """The finding for a named misconception, in the exercise's own words if it has them."""
    entry = exercise.wording.get(diagnosis, DIAGNOSES[diagnosis])
    return Finding(
        "mistake", entry.explanation, entry.title, entry.hint, detail, diagnosis=diagnosis
    )


def judge(exercise: Exercise, cases: list[Case], observations: list[Observation]) -> CheckResult:
    """Score the observations of one exercise and write the feedback."""
    if untouched(observations):
        return not_attempted(exercise, cases)

    reports: list[CaseReport] = []
    outputs: dict[int, tuple[np.ndarray, ...]] = {}
    expectations: dict[int, tuple[np.ndarray, ...]] = {}
    caches: dict[int, dict[Any, Any]] = {}
    notes: list[str] = []
    problems: list[str] = []
    mutated: set[str] = set()
    evidence = ""
    printed = 0
    for index, (case, observation) in enumerate(zip(cases, observations, strict=True)):
        printed = max(printed, observation.printed_chars)
        mutated.update(observation.mutated)
        if observation.status != "ok":
            if observation.status == "timeout":
                message = (
                    f"On {case.label}, your function {observation.error}: "
                    "is there a loop that never ends?"
                )
            elif observation.status == "not-implemented":
                message = f"On {case.label}, your function raised NotImplementedError."
            else:
                message = f"On {case.label}, your function raised {observation.error}."
                if case.remark:
                    message += f" {case.remark}"
            reports.append(CaseReport(case.label, case.kind, False, message))
            problems.append(message)
            continue
        coerced = _coerce(observation.returned, exercise)
        notes.extend(n for n in coerced.notes if n not in notes)
        if coerced.arrays is None:
            message = f"On {case.label}, your function {coerced.problem}"
            reports.append(CaseReport(case.label, case.kind, False, message))
            problems.append(message)
            continue
        caches[index] = {}
        expected = exercise.expected(case, caches[index])
        expectations[index] = expected
        outputs[index] = coerced.arrays
        good = len(coerced.arrays) == len(expected) and all(
            close(g, e) for g, e in zip(coerced.arrays, expected, strict=True)
        )
        for got, exp in zip(coerced.arrays, expected, strict=True):
            aligned = _aligned(np.asarray(got, dtype=np.float64), exp)
            if good and aligned is not None and got.shape != exp.shape:
                note = (
                    f"{exercise.id} returns shape {got.shape} on {case.label}; the contract "
                    f"is {exp.shape} (accepted: only axes of size 1 differ)."
                )
                if note not in notes:
                    notes.append(note)
        message = ""
        if not good:
            wrong = [
                (name, got, exp)
                for name, got, exp in zip(exercise.outputs, coerced.arrays, expected, strict=True)
                if not close(got, exp)
            ]
            name, got, exp = wrong[0]
            label = f"{name} " if len(exercise.outputs) > 1 else ""
            message = f"On {case.label}: {label}{_first_difference(got, exp)}."
            evidence = evidence or message
        reports.append(CaseReport(case.label, case.kind, good, message))

    passed_count = sum(report.passed for report in reports)
    all_passed = passed_count == len(cases)
    score = round(exercise.max_score * passed_count / len(cases), 2)
    if mutated:
        score = round(score / 2, 2)

    explanation = None
    order = None
    if any(not r.passed for i, r in enumerate(reports) if i in outputs):
        explanation = _explain(exercise, cases, outputs, caches)
        if explanation is None:
            order = _order_explanation(exercise, cases, outputs, expectations)
    diagnoses = list(explanation.diagnoses) if explanation else []
    # Conceptual mistakes first; rounding traps matter once the formula is right.
    diagnoses.sort(key=lambda d: d in _ROUNDING)
    if order is not None:
        diagnoses.append("wrong-output-order")
    if mutated:
        diagnoses.append("mutates-input")

    passed = all_passed and not mutated
    if passed:
        status = "passed"
    elif reports and all(o.status == "timeout" for o in observations):
        status = "timeout"
    elif not outputs and problems:
        status = "error"
    else:
        status = "failed"

    findings: list[Finding] = []
    failing = None
    if not passed:
        for diagnosis in diagnoses:
            detail = ""
            if diagnosis == "mutates-input":
                detail = f"It changed: {', '.join(sorted(mutated))}."
            elif diagnosis == "wrong-output-order" and order is not None:
                returned = ", ".join(exercise.outputs[k] for k in order)
                detail = (
                    f"Your function returns ({returned}); the contract is "
                    f"({', '.join(exercise.outputs)})."
                )
            elif explanation is not None:
                detail = _detail(diagnosis, explanation, cases)
            findings.append(mistake(exercise, diagnosis, detail))
        dense_ok = [r.passed for r in reports if r.kind in ("dense", "table")]
        conv_ok = [r.passed for r in reports if r.kind == "conv"]
        if dense_ok and conv_ok and all(dense_ok) and not any(conv_ok):
            findings.append(
                Finding(
                    "problem",
                    "Your function works for dense-layer batches (batch, features) but not for "
                    "convolution feature maps (batch, height, width, channels).",
                )
            )
        if problems:
            findings.append(Finding("problem", problems[0]))
            if len(problems) > 1:
                findings.append(
                    Finding(
                        "problem",
                        f"(The same or a similar problem on {len(problems) - 1} more input(s).)",
                    )
                )
        if not diagnoses:
            failing = _failing_case(exercise, cases, reports, observations, outputs, expectations)
            shown = next((r for r in reports if failing and r.label == failing.label), None)
            if shown is not None and shown.message and shown.message not in problems[:1]:
                findings.append(Finding("evidence", shown.message))
            if evidence and failing is not None and outputs:
                findings.append(
                    Finding(
                        "evidence",
                        "No common mistake matches these numbers. Work through the smallest "
                        "failing test below by hand, comparing each intermediate value with "
                        "yours.",
                    )
                )
        elif evidence:
            findings.append(Finding("evidence", evidence))
    if printed > _NOISY_PRINT:
        notes.append(
            f"Your function printed {printed:,} characters; remove debugging prints before "
            "you submit."
        )
    findings.extend(Finding("note", note) for note in notes)
    return CheckResult(
        exercise=exercise.id,
        passed=passed,
        score=score,
        max_score=exercise.max_score,
        status=status,
        diagnoses=diagnoses,
        cases=reports,
        notes=notes,
        findings=findings,
        failing=failing,
    )
