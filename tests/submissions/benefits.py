# ruff: noqa: B905 - learners write zip() without strict=
"""Learner-style submissions for lesson 08's ``steps_to_accuracy`` and
``working_learning_rates``, written from the lesson's text only: loops over positions,
generators, list comprehensions, itertools, small classes, pandas-free table code."""

from __future__ import annotations

import itertools
import math

import numpy as np

EXERCISE = "steps_to_accuracy"
RANGE = "working_learning_rates"
TARGET = 0.95  # the lesson's target, copied into a learner's notebook


# ---------------------------------------------------------------------------
# Correct.
# ---------------------------------------------------------------------------


def while_over_positions(steps, accuracy, target):
    i = 0
    while i < len(accuracy):
        if accuracy[i] >= target:
            return steps[i]
        i += 1
    return math.nan


def generator_with_default(steps, accuracy, target):
    return next((s for s, a in zip(steps, accuracy) if a >= target), float("nan"))


def comprehension_of_hits(steps, accuracy, target):
    hits = [int(s) for s, a in zip(list(steps), list(accuracy)) if a >= target]
    return hits[0] if hits else np.nan


def compress_then_first(steps, accuracy, target):
    reached = list(itertools.compress(steps, [a >= target for a in accuracy]))
    return float(reached[0]) if len(reached) > 0 else np.nan


def masked_minimum(steps, accuracy, target):
    mask = np.asarray(accuracy, dtype=np.float64) >= target
    if not mask.any():
        return np.nan
    return np.asarray(steps)[mask].min()


class _Curve:
    def __init__(self, steps, accuracy):
        self.points = list(zip(steps, accuracy))

    def first_at_least(self, level):
        for step, value in self.points:
            if value >= level:
                return step
        return None


def through_a_class(steps, accuracy, target):
    step = _Curve(steps, accuracy).first_at_least(target)
    return np.nan if step is None else step


def range_row_by_row(learning_rates, final_accuracy, threshold=0.5):
    good = []
    for rate, seeds in zip(learning_rates, final_accuracy):
        if all(not math.isnan(a) and a >= threshold for a in seeds):
            good.append(rate)
    if not good:
        return math.nan, math.nan
    return good[0], good[-1]


def range_with_masks(learning_rates, final_accuracy, threshold=0.5):
    finals = np.where(np.isnan(final_accuracy), -1.0, final_accuracy)
    rates = np.asarray(learning_rates)[np.min(finals, axis=1) >= threshold]
    return (rates.min(), rates.max()) if rates.size else (np.nan, np.nan)


def range_counting_passes(learning_rates, final_accuracy, threshold=0.5):
    seeds = final_accuracy.shape[1]
    with np.errstate(invalid="ignore"):
        passes = np.sum(final_accuracy >= threshold, axis=1)
    indices = [i for i in range(len(learning_rates)) if passes[i] == seeds]
    if len(indices) == 0:
        return (float("nan"), float("nan"))
    return (float(learning_rates[indices[0]]), float(learning_rates[indices[-1]]))


CORRECT = [
    (EXERCISE, while_over_positions),
    (EXERCISE, generator_with_default),
    (EXERCISE, comprehension_of_hits),
    (EXERCISE, compress_then_first),
    (EXERCISE, masked_minimum),
    (EXERCISE, through_a_class),
    (RANGE, range_row_by_row),
    (RANGE, range_with_masks),
    (RANGE, range_counting_passes),
]

# ---------------------------------------------------------------------------
# Wrong, labelled with the mistake each makes.
# ---------------------------------------------------------------------------


def position_from_comprehension(steps, accuracy, target):
    hits = [i for i, a in enumerate(accuracy) if a >= target]
    return hits[0] if hits else np.nan


def evaluations_needed(steps, accuracy, target):
    for count, value in enumerate(accuracy, start=1):
        if value >= target:
            return count
    return np.nan


def rebuilt_from_interval(steps, accuracy, target):
    every = steps[1] - steps[0]
    hits = np.nonzero(np.asarray(accuracy) >= target)[0]
    return (hits[0] + 1) * every if len(hits) else np.nan


def while_strictly_above(steps, accuracy, target):
    i = 0
    while i < len(accuracy) and accuracy[i] <= target:
        i += 1
    return steps[i] if i < len(accuracy) else np.nan


def argmax_of_strict_mask(steps, accuracy, target):
    mask = np.asarray(accuracy) > target
    return steps[np.argmax(mask)] if mask.any() else np.nan


def keeps_overwriting(steps, accuracy, target):
    answer = np.nan
    for s, a in zip(steps, accuracy):
        if a >= target:
            answer = s  # no break: the last one wins
    return answer


def scans_from_the_end(steps, accuracy, target):
    for s, a in zip(reversed(list(steps)), reversed(list(accuracy))):
        if a >= target:
            return s
    return np.nan


def next_without_default(steps, accuracy, target):
    return next(s for s, a in zip(steps, accuracy) if a >= target)


def all_the_steps_when_never(steps, accuracy, target):
    for s, a in zip(steps, accuracy):
        if a >= target:
            return s
    return steps[-1]  # "it took the whole run"


def falls_off_the_loop(steps, accuracy, target):
    for i in range(len(steps)):
        if accuracy[i] >= target:
            return steps[i]


def infinity_for_never(steps, accuracy, target):
    hits = [s for s, a in zip(steps, accuracy) if a >= target]
    return min(hits) if hits else math.inf


def argmax_of_mask(steps, accuracy, target):
    return int(steps[np.argmax(np.array(accuracy) >= target)])


def lesson_target(steps, accuracy, target):
    hits = [s for s, a in zip(steps, accuracy) if a >= TARGET]
    return hits[0] if hits else np.nan


def zero_position_means_never(steps, accuracy, target):
    position = next((i for i, a in enumerate(accuracy) if a >= target), None)
    if not position:
        return np.nan
    return steps[position]


def range_if_any_seed_learned(learning_rates, final_accuracy, threshold=0.5):
    good = [r for r, seeds in zip(learning_rates, final_accuracy) if max(seeds) >= threshold]
    return (min(good), max(good)) if good else (np.nan, np.nan)


def range_mean_over_seeds(learning_rates, final_accuracy, threshold=0.5):
    means = np.nan_to_num(final_accuracy, nan=0.0).mean(axis=1)
    good = np.asarray(learning_rates)[means >= threshold]
    return (good[0], good[-1]) if len(good) else (np.nan, np.nan)


def range_nanmin_skips_diverged(learning_rates, final_accuracy, threshold=0.5):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        worst = np.nanmin(final_accuracy, axis=1)
    good = [r for r, w in zip(learning_rates, worst) if w >= threshold]
    return (good[0], good[-1]) if good else (np.nan, np.nan)


def range_no_seed_below(learning_rates, final_accuracy, threshold=0.5):
    good = []
    for rate, seeds in zip(learning_rates, final_accuracy):
        if not any(a < threshold for a in seeds):  # nan < threshold is False
            good.append(rate)
    return (good[0], good[-1]) if good else (np.nan, np.nan)


def range_strictly_above(learning_rates, final_accuracy, threshold=0.5):
    finals = np.nan_to_num(final_accuracy, nan=0.0)
    good = np.asarray(learning_rates)[(finals > threshold).all(axis=1)]
    return (good[0], good[-1]) if len(good) else (np.nan, np.nan)


def range_returns_positions(learning_rates, final_accuracy, threshold=0.5):
    finals = np.nan_to_num(final_accuracy, nan=0.0)
    where = np.where((finals >= threshold).all(axis=1))[0]
    return (where.min(), where.max()) if len(where) else (np.nan, np.nan)


def range_min_of_empty(learning_rates, final_accuracy, threshold=0.5):
    finals = np.nan_to_num(final_accuracy, nan=0.0)
    good = np.asarray(learning_rates)[(finals >= threshold).all(axis=1)]
    return good.min(), good.max()  # ValueError when nothing trains


def range_whole_sweep_when_none(learning_rates, final_accuracy, threshold=0.5):
    finals = np.nan_to_num(final_accuracy, nan=0.0)
    good = np.asarray(learning_rates)[(finals >= threshold).all(axis=1)]
    if len(good) == 0:
        return learning_rates[0], learning_rates[-1]
    return good[0], good[-1]


def range_half_is_fixed(learning_rates, final_accuracy, threshold=0.5):
    finals = np.nan_to_num(final_accuracy, nan=0.0)
    good = np.asarray(learning_rates)[(finals >= 0.5).all(axis=1)]
    return (good[0], good[-1]) if len(good) else (np.nan, np.nan)


def range_stops_at_first_gap(learning_rates, final_accuracy, threshold=0.5):
    finals = np.nan_to_num(final_accuracy, nan=0.0)
    ok = list((finals >= threshold).all(axis=1))
    if True not in ok:
        return np.nan, np.nan
    low = ok.index(True)
    high = low
    while high + 1 < len(ok) and ok[high + 1]:
        high += 1
    return learning_rates[low], learning_rates[high]


WRONG = [
    (EXERCISE, position_from_comprehension, "steps-to-index"),
    (EXERCISE, evaluations_needed, "steps-to-index"),
    (EXERCISE, rebuilt_from_interval, "steps-to-index"),
    (EXERCISE, while_strictly_above, "strict-threshold"),
    (EXERCISE, argmax_of_strict_mask, "strict-threshold"),
    (EXERCISE, keeps_overwriting, "last-crossing"),
    (EXERCISE, scans_from_the_end, "last-crossing"),
    (EXERCISE, next_without_default, "never-reached-not-handled"),
    (EXERCISE, all_the_steps_when_never, "never-reached-not-handled"),
    (EXERCISE, falls_off_the_loop, "never-reached-not-handled"),
    (EXERCISE, infinity_for_never, "never-reached-not-handled"),
    (EXERCISE, argmax_of_mask, "never-reached-not-handled"),
    (EXERCISE, lesson_target, "hard-coded-target"),
    (EXERCISE, zero_position_means_never, None),
    (RANGE, range_if_any_seed_learned, "one-seed-is-enough"),
    (RANGE, range_mean_over_seeds, "one-seed-is-enough"),
    (RANGE, range_nanmin_skips_diverged, "diverged-not-failure"),
    (RANGE, range_no_seed_below, "diverged-not-failure"),
    (RANGE, range_strictly_above, "strict-threshold"),
    (RANGE, range_returns_positions, "steps-to-index"),
    (RANGE, range_min_of_empty, "never-reached-not-handled"),
    (RANGE, range_whole_sweep_when_none, "never-reached-not-handled"),
    (RANGE, range_half_is_fixed, "hard-coded-target"),
    (RANGE, range_stops_at_first_gap, None),
]
