"""Central-difference gradients and relative errors, against calculus done by hand."""

from __future__ import annotations

import numpy as np
import pytest

from bncourse.topics.backprop import numerical_gradient, relative_error


def test_gradient_of_a_cube_is_three_x_squared():
    x = np.array([-2.0, -0.5, 0.0, 1.5, 3.0])
    grad = numerical_gradient(lambda v: v**3, x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8, atol=1e-9)


def test_dout_weights_the_outputs():
    x = np.linspace(-1.0, 2.0, 7).reshape(7, 1)
    dout = np.arange(7.0).reshape(7, 1) - 3.0
    grad = numerical_gradient(np.sin, x, dout)
    np.testing.assert_allclose(grad, dout * np.cos(x), rtol=1e-8, atol=1e-10)


def test_matrix_function_gives_the_matrix_calculus_answer():
    rng = np.random.default_rng(1)
    x, a = rng.normal(size=(4, 3)), rng.normal(size=(3, 5))
    dout = rng.normal(size=(4, 5))
    grad = numerical_gradient(lambda v: v @ a, x, dout)
    np.testing.assert_allclose(grad, dout @ a.T, rtol=1e-7, atol=1e-9)


def test_output_shape_may_differ_from_the_input_shape():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    grad = numerical_gradient(lambda v: np.array([v.sum(), (v**2).sum()]), x, np.array([2.0, 1.0]))
    np.testing.assert_allclose(grad, 2.0 + 2 * x, rtol=1e-8)


def test_float32_input_gives_a_float64_gradient_accurate_to_float64():
    x = np.array([0.3, 1.7, -2.2], dtype=np.float32)
    grad = numerical_gradient(np.exp, x)
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, np.exp(x.astype(np.float64)), rtol=1e-8)


def test_error_shrinks_like_h_squared():
    x = np.array([0.7])
    exact = np.exp(0.7)
    coarse = abs(numerical_gradient(np.exp, x, h=1e-2)[0] - exact)
    fine = abs(numerical_gradient(np.exp, x, h=1e-3)[0] - exact)
    assert 50 < coarse / fine < 200  # ten times smaller h: about 100 times smaller error


def test_inputs_are_never_modified_and_f_gets_float64_copies():
    x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    before = x.copy()
    seen = []

    def f(v):
        seen.append(v.dtype)
        v[0, 0] = 99.0  # a careless f writes into its argument
        return v.sum()

    numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)
    assert set(seen) == {np.dtype(np.float64)}


@pytest.mark.parametrize(
    "call, error, phrase",
    [
        (lambda: numerical_gradient(3, np.ones(2)), TypeError, "f must be a function"),
        (lambda: numerical_gradient(np.sin, np.ones(2), h=0.0), ValueError, "h must be"),
        (lambda: numerical_gradient(np.sin, np.ones(2), h="1e-5"), TypeError, "h must be"),
        (lambda: numerical_gradient(np.sin, np.ones(2), np.ones(3)), ValueError, "dout must"),
        (lambda: numerical_gradient(np.sin, ["a", "b"]), TypeError, "x must hold"),
        (lambda: numerical_gradient(np.sin, np.array([1.0, np.nan])), ValueError, "x contains"),
        (lambda: numerical_gradient(np.sin, np.zeros(0)), ValueError, "x must not be empty"),
    ],
)
def test_bad_arguments_are_named(call, error, phrase):
    with pytest.raises(error, match=phrase):
        call()


def test_relative_error_of_known_pairs():
    a = np.array([1.0, -2.0, 3.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(a, -a) == pytest.approx(1.0)
    assert relative_error(a, np.zeros(3)) == pytest.approx(1.0)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error([1.0, 0.0], [0.0, 1.0]) == pytest.approx(np.sqrt(2) / 2)
    assert relative_error(a, 1.01 * a) == pytest.approx(0.01 / 2.01)


def test_relative_error_per_feature_uses_every_axis_but_the_last():
    got = np.zeros((2, 3, 3))
    expected = np.zeros((2, 3, 3))
    got[..., 0] = 1.0  # feature 0: differs from zeros completely
    got[..., 1] = expected[..., 1] = 2.0  # feature 1: identical
    errors = relative_error(got, expected, per_feature=True)
    assert errors.shape == (3,)
    np.testing.assert_allclose(errors, [1.0, 0.0, 0.0])


def test_relative_error_needs_matching_shapes():
    with pytest.raises(ValueError, match="same shape"):
        relative_error(np.ones(3), np.ones(4))
