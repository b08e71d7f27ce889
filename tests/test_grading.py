"""The exercise checks: correct solutions in any style pass, named mistakes are named."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bncourse import reference
from bncourse.grading import DIAGNOSES, EXERCISES, check

from .implementations import CORRECT, WRONG

ARRAY_EXERCISES = [name for name in EXERCISES if hasattr(reference, name)]


@pytest.mark.parametrize("exercise_id", ARRAY_EXERCISES)
def test_the_reference_passes_every_check(exercise_id):
    result = check(exercise_id, getattr(reference, exercise_id))
    assert result.passed, str(result)
    assert result.score == result.max_score
    assert result.diagnosis is None


def test_every_array_exercise_has_several_correct_styles():
    assert set(CORRECT) == set(ARRAY_EXERCISES)
    assert all(len(styles) >= 3 for styles in CORRECT.values())


@pytest.mark.parametrize(
    "exercise_id, fn",
    [(name, fn) for name, styles in CORRECT.items() for fn in styles],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_correct_styles_are_accepted(exercise_id, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = check(exercise_id, fn)
    assert result.passed, str(result)
    assert result.score == result.max_score


def test_every_catalogue_entry_has_two_wrong_implementations():
    array_diagnoses = set(DIAGNOSES) - {
        "bias-before-bn",
        "bn-after-activation",
        "missing-batchnorm",
        "pytorch-bn-settings",
    }
    assert set(WRONG) == array_diagnoses
    for diagnosis, cases in WRONG.items():
        assert len({fn for _, fn in cases}) >= 2, diagnosis


@pytest.mark.parametrize(
    "diagnosis, exercise_id, fn",
    [(d, name, fn) for d, cases in WRONG.items() for name, fn in cases],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_wrong_implementations_are_rejected_with_their_diagnosis(diagnosis, exercise_id, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = check(exercise_id, fn)
    assert not result.passed
    assert result.score < result.max_score
    assert result.diagnosis == diagnosis, str(result)
    assert DIAGNOSES[diagnosis].title in result.feedback


def test_dense_but_not_conv_is_said_out_loud():
    from .implementations import mean_axis0

    result = check("batch_mean", mean_axis0)
    assert "works for dense-layer batches" in result.feedback
    assert "axis 0 (batch)" in result.feedback
    assert 0 < result.score < result.max_score


def test_two_mistakes_at_once_are_both_named():
    def forward(x, gamma, beta, eps=1e-3):
        axes = tuple(range(x.ndim - 1))
        return beta * (x - x.mean(axes)) / (x.std(axes, ddof=1) + eps) + gamma

    result = check("batchnorm_forward", forward)
    assert set(result.diagnoses) == {"unbiased-variance", "eps-outside-sqrt", "swapped-gamma-beta"}


def test_unknown_mistake_gets_evidence_and_no_false_diagnosis():
    def forward(x, gamma, beta, eps=1e-3):
        return np.tanh(x) * gamma + beta

    result = check("batchnorm_forward", forward)
    assert not result.passed and result.diagnosis is None
    assert "No common mistake matches these numbers" in result.feedback
    shown = str(result)
    assert "The smallest failing test, a (4, 3) dense batch:" in shown
    assert "input x = " in shown and "expected y = " in shown and "got y = " in shown
    args = result.failing_case()
    assert list(args) == ["x", "gamma", "beta"] and args["x"].shape == (4, 3)
    assert np.allclose(forward(*args.values()), np.tanh(args["x"]) * args["gamma"] + args["beta"])
    args["x"][:] = 0  # a copy: the result keeps its own
    assert not np.all(result.failing_case()["x"] == 0)


def test_unknown_exercise_lists_the_valid_ids():
    with pytest.raises(KeyError, match="valid ids are: .*batch_mean"):
        check("batch_meen", reference.batch_mean)


def test_results_convert_to_gradescope_entries():
    from bncourse.grading import gradescope_results

    good = check("batch_mean", reference.batch_mean).to_gradescope()
    bad = check("batch_variance", WRONG["unbiased-variance"][0][1]).to_gradescope()
    assert good == {
        "name": "batch_mean",
        "score": 1.0,
        "max_score": 1.0,
        "status": "passed",
        "output": good["output"],
        "visibility": "visible",
    }
    assert bad["status"] == "failed" and "m - 1" in bad["output"]
    results = gradescope_results([good, bad])
    assert results["score"] == 1.0 and len(results["tests"]) == 2


def test_result_displays_as_html_and_text():
    result = check("batch_mean", reference.batch_mean)
    assert "✔" in result._repr_html_() and "#2e7d32" in result._repr_html_()
    assert str(result).startswith("✔ batch_mean: passed all 5 tests")
    failed = check("batch_mean", WRONG["wrong-axis"][0][1])
    assert "✘" in str(failed) and "&lt;" not in failed._repr_html_().split("</div>")[0]


def test_feedback_renders_as_formatted_html():
    from .implementations import forward_eps_outside

    html = check("batchnorm_forward", forward_eps_outside)._repr_html_()
    assert "<b style=" in html and "Mistake: epsilon is added outside the square root.</b>" in html
    assert "<b>Hint:</b>" in html
    unexplained = check("batch_mean", lambda x: x.mean(axis=tuple(range(x.ndim - 1))) + 0.5)
    page = unexplained._repr_html_()
    assert "<b>The smallest failing test</b>, a (4, 3) dense batch:" in page
    assert page.count("<tr>") == 3  # input x, expected mean, got mean
    assert "<code>result.failing_case()</code>" in page
