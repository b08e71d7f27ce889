"""Whatever the learner's function does, check() answers with a result and says what happened."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from bncourse import reference
from bncourse.grading import check


def test_untouched_stub_is_not_attempted_not_a_traceback():
    def batch_mean(x):
        raise NotImplementedError("Compute the per-feature mean of x.")

    result = check("batch_mean", batch_mean)
    assert result.status == "not-attempted" and result.score == 0
    assert "Not attempted yet" in result.feedback
    assert "Traceback" not in result.feedback
    assert "○" in result._repr_html_()


def test_endless_loop_times_out_quickly():
    def batch_mean(x):
        while True:
            pass

    start = time.perf_counter()
    result = check("batch_mean", batch_mean, timeout=0.5)
    assert time.perf_counter() - start < 3
    assert result.status == "timeout" and not result.passed
    assert "did not return within 0.5 s" in result.feedback


def test_endless_loop_that_swallows_exceptions_still_times_out():
    def batch_mean(x):
        while True:
            try:
                time.sleep(0.01)
            except Exception:  # noqa: BLE001 - the learner's over-broad handler
                pass

    result = check("batch_mean", batch_mean, timeout=0.3)
    assert result.status == "timeout"


def test_sleeping_function_times_out_from_a_thread_too():
    import threading

    def batch_mean(x):
        time.sleep(5)

    box = {}
    worker = threading.Thread(
        target=lambda: box.update(r=check("batch_mean", batch_mean, timeout=0.3))
    )
    worker.start()
    worker.join(5)
    assert box["r"].status == "timeout"


@pytest.mark.parametrize(
    "returned, phrase",
    [
        (None, "returned None. Is the return statement missing?"),
        ("mean", "returned a str"),
        ({"a": 1}, "returned a dict"),
    ],
)
def test_wrong_return_types_are_named(returned, phrase):
    result = check("batch_mean", lambda x: returned)
    assert not result.passed and phrase in result.feedback


def test_a_list_of_the_right_numbers_is_accepted_with_a_note():
    result = check("batch_mean", lambda x: list(reference.batch_mean(x)))
    assert result.passed
    assert "returns a list" in result.feedback


def test_tuple_of_the_wrong_length():
    result = check("update_moving_stats", lambda mm, mv, bm, bv, momentum=0.99: (mm,))
    assert not result.passed
    assert "returned 1 values; expected 2 values, (new_mean, new_var)" in result.feedback


def test_wrong_shape_is_reported_with_both_shapes():
    result = check("batch_mean", lambda x: np.zeros((2, 2)))
    assert "expected shape (3,), got shape (2, 2)" in result.feedback


def test_float64_output_passes_with_a_note_and_int_output_fails():
    as64 = check("batch_mean", lambda x: reference.batch_mean(x).astype(np.float64))
    assert as64.passed and "float64" in as64.feedback
    as_int = check("batch_mean", lambda x: reference.batch_mean(x).astype(np.int64))
    assert not as_int.passed


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_outputs_fail(bad):
    result = check("batch_mean", lambda x: np.full(x.shape[-1], bad))
    assert not result.passed
    assert "got nan" in result.feedback or "got inf" in result.feedback


def test_printing_a_lot_is_captured_and_mentioned():
    def batch_mean(x):
        print("x" * 50_000)
        return reference.batch_mean(x)

    result = check("batch_mean", batch_mean)
    assert result.passed
    assert "printed" in result.feedback and "debugging prints" in result.feedback


def test_mutating_the_input_is_caught_even_with_correct_output():
    def scale_shift(x_hat, gamma, beta):
        x_hat *= gamma
        x_hat += beta
        return x_hat

    result = check("scale_shift", scale_shift)
    assert not result.passed and result.diagnosis == "mutates-input"
    assert "It changed: x_hat." in result.feedback
    assert 0 < result.score < result.max_score


def test_errors_name_the_exception_and_the_line():
    def batch_mean(x):
        mu = x.mean(axis=0)
        return mu + not_defined  # noqa: F821

    result = check("batch_mean", batch_mean)
    assert result.status == "error"
    line = batch_mean.__code__.co_firstlineno + 2  # in a notebook: the line within the cell
    expected = f"NameError: name 'not_defined' is not defined (line {line} of batch_mean)"
    assert expected in result.feedback


def test_wrong_number_of_parameters():
    result = check("normalize", lambda x: x)
    assert "TypeError" in result.feedback


def test_sys_exit_does_not_end_the_check():
    result = check("batch_mean", lambda x: sys.exit(1))
    assert not result.passed and "SystemExit" in result.feedback


def test_passing_the_result_instead_of_the_function():
    result = check("batch_mean", reference.batch_mean(np.ones((2, 3))))
    assert not result.passed and "Pass the function itself" in result.feedback


def test_bias_none_remark_when_fold_crashes_on_it():
    def fold(kernel, bias, gamma, beta, moving_mean, moving_var, eps=1e-3):
        scale = gamma / np.sqrt(moving_var + eps)
        return kernel * scale, (bias - moving_mean) * scale + beta

    result = check("fold_batchnorm", fold)
    assert "use_bias=False" in result.feedback and result.score == pytest.approx(0.67)


def test_check_is_reproducible():
    from .implementations import forward_eps_outside

    first = check("batchnorm_forward", forward_eps_outside)
    second = check("batchnorm_forward", forward_eps_outside)
    assert str(first) == str(second)
