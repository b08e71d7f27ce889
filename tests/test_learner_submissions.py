"""The checks against learner-style submissions: accept every correct one, reject and name
the wrong ones (the bar of issue 13: 97% rejected, 85% named, 5+ wrong per exercise)."""

from __future__ import annotations

import warnings
from collections import Counter

import pytest

from bncourse.grading import EXERCISES, check

from .submissions import collect

CORRECT, WRONG = collect()


def _check(exercise_id, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return check(exercise_id, fn)


@pytest.mark.parametrize(
    "exercise_id, fn", CORRECT, ids=[f"{e}-{getattr(f, '__name__', '?')}" for e, f in CORRECT]
)
def test_every_correct_submission_is_accepted(exercise_id, fn):
    result = _check(exercise_id, fn)
    assert result.passed, str(result)


@pytest.fixture(scope="module")
def wrong_results():
    return [(exercise_id, fn, wanted, _check(exercise_id, fn)) for exercise_id, fn, wanted in WRONG]


def test_wrong_submissions_are_rejected_and_named(wrong_results):
    if not wrong_results:
        pytest.skip("no learner-style wrong submissions yet")
    rejected = [r for *_, r in wrong_results if not r.passed]
    named = [
        (e, f, wanted) for e, f, wanted, r in wrong_results if wanted and wanted in r.diagnoses[:1]
    ]
    total = len(wrong_results)
    accepted = [f"{e}: {getattr(f, '__name__', f)}" for e, f, _, r in wrong_results if r.passed]
    assert len(rejected) >= 0.97 * total, f"accepted wrong submissions: {accepted}"
    misnamed = [
        f"{e}: {getattr(f, '__name__', f)} wanted {wanted}, got {r.diagnoses}"
        for e, f, wanted, r in wrong_results
        if not (wanted and wanted in r.diagnoses[:1])
    ]
    assert len(named) >= 0.85 * total, "not named as intended:\n" + "\n".join(misnamed)


def test_unnamed_wrong_submissions_show_a_failing_case(wrong_results):
    for exercise_id, fn, _, result in wrong_results:
        if not result.passed and not result.diagnoses and result.status == "failed":
            assert result.failing is not None, f"{exercise_id}: {getattr(fn, '__name__', fn)}"


def test_every_exercise_with_submissions_has_at_least_five_wrong_ones():
    counts = Counter(exercise_id for exercise_id, *_ in WRONG)
    assert set(counts) <= set(EXERCISES)
    thin = {exercise_id: n for exercise_id, n in counts.items() if n < 5}
    assert not thin, thin
