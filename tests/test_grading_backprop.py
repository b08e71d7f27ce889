"""Lesson 05's node-by-node checks: correct nodes in several styles pass, each slip is named.

``WRONG`` maps each of lesson 05's catalogue entries to at least two wrong implementations;
``tests/implementations.py`` adds them to its table, so the catalogue-coverage test and the
"rejected with its diagnosis" test of ``tests/test_grading.py`` run them too.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bncourse.grading import EXERCISES, check
from bncourse.grading.exercises.backprop import TestFunction
from bncourse.topics import backprop

NODE_EXERCISES = (
    "bn_dx_hat",
    "bn_dvar",
    "bn_dmu",
    "bn_dx",
    "batchnorm_backward_compact",
    "numerical_gradient",
)


def _axes(x):
    return tuple(range(np.ndim(x) - 1))


def _m(x):
    return x.size // x.shape[-1]


# ---------------------------------------------------------------------------
# Correct implementations, several styles per exercise.
# ---------------------------------------------------------------------------


def dx_hat_broadcast(dout, gamma):
    return dout * gamma


def dx_hat_einsum(dout, gamma):
    flat = dout.reshape(-1, dout.shape[-1]).astype(np.float64)
    return np.einsum("nc,c->nc", flat, gamma).reshape(dout.shape)


def dx_hat_loop(dout, gamma):
    out = np.empty(dout.shape)
    for c in range(dout.shape[-1]):
        out[..., c] = dout[..., c] * float(gamma[c])
    return out


def dvar_power(dx_hat, x, mu, var, eps=1e-3):
    return np.sum(dx_hat * (x - mu), axis=_axes(x)) * -0.5 * (var + eps) ** -1.5


def dvar_flat_float64(dx_hat, x, mu, var, eps=1e-3):
    c = x.shape[-1]
    xs, ds = x.reshape(-1, c).astype(np.float64), dx_hat.reshape(-1, c).astype(np.float64)
    std = np.sqrt(var.astype(np.float64) + eps)
    return -(ds * (xs - mu)).sum(axis=0) / (2 * std**3)


def dvar_loop(dx_hat, x, mu, var, eps=1e-3):
    out = np.zeros(x.shape[-1])
    for c in range(x.shape[-1]):
        s = (float(var[c]) + eps) ** 0.5
        out[c] = -0.5 / s**3 * np.sum(dx_hat[..., c] * (x[..., c] - mu[c]))
    return out


def dmu_two_terms(dx_hat, dvar, x, mu, var, eps=1e-3):
    axes, m = _axes(x), _m(x)
    direct = -np.sum(dx_hat, axis=axes) / np.sqrt(var + eps)
    return direct + dvar * np.sum(-2.0 * (x - mu), axis=axes) / m


def dmu_keepdims(dx_hat, dvar, x, mu, var, eps=1e-3):
    x64 = x.astype(np.float64)
    axes = _axes(x)
    inv = 1.0 / np.sqrt(var.astype(np.float64) + eps)
    d = -(dx_hat * inv).sum(axis=axes, keepdims=True)
    d = d + dvar * (-2.0 * (x64 - mu)).mean(axis=axes, keepdims=True)
    return d.reshape(-1)


def dmu_loop(dx_hat, dvar, x, mu, var, eps=1e-3):
    out = []
    for c in range(x.shape[-1]):
        dev = x[..., c] - mu[c]
        out.append(
            -dx_hat[..., c].sum() / np.sqrt(var[c] + eps) + dvar[c] * -2.0 * dev.sum() / dev.size
        )
    return np.array(out)


def dx_three_terms(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    m = _m(x)
    return dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mu) / m + dmu / m


def dx_flat(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    c = x.shape[-1]
    xs, ds = x.reshape(-1, c).astype(np.float64), dx_hat.reshape(-1, c).astype(np.float64)
    n = xs.shape[0]
    out = ds * (var + eps) ** -0.5 + (2.0 / n) * dvar * (xs - mu) + dmu / n
    return out.reshape(x.shape)


def dx_loop(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    out = np.zeros(x.shape)
    m = _m(x)
    for c in range(x.shape[-1]):
        s = np.sqrt(float(var[c]) + eps)
        out[..., c] = dx_hat[..., c] / s + 2 * dvar[c] * (x[..., c] - mu[c]) / m + dmu[c] / m
    return out


def compact_keepdims(dout, x, gamma, eps=1e-3):
    x64, d = x.astype(np.float64), dout.astype(np.float64)
    axes, m = _axes(x), _m(x)
    s = np.sqrt(x64.var(axis=axes, keepdims=True) + eps)
    x_hat = (x64 - x64.mean(axis=axes, keepdims=True)) / s
    dbeta = d.sum(axis=axes, keepdims=True)
    dgamma = (d * x_hat).sum(axis=axes, keepdims=True)
    dx = gamma / (m * s) * (m * d - dbeta - x_hat * dgamma)
    return dx.astype(np.float32), dgamma.reshape(-1), dbeta.reshape(-1)


def compact_means(dout, x, gamma, eps=1e-3):
    axes = _axes(x)
    s = np.sqrt(x.var(axis=axes) + eps)
    x_hat = (x - x.mean(axis=axes)) / s
    dx = gamma / s * (dout - dout.mean(axis=axes) - x_hat * (dout * x_hat).mean(axis=axes))
    return dx, (dout * x_hat).sum(axis=axes), dout.sum(axis=axes)


def compact_reference(dout, x, gamma, eps=1e-3):
    from bncourse import reference

    return reference.batchnorm_backward(dout, x, gamma, eps)


def numgrad_ndindex(f, x, dout, h=1e-5):
    xp = np.array(x, dtype=np.float64)
    grad = np.zeros_like(xp)
    for i in np.ndindex(xp.shape):
        old = xp[i]
        xp[i] = old + h
        up = np.sum(dout * f(xp))
        xp[i] = old - h
        down = np.sum(dout * f(xp))
        xp[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def numgrad_flat_copies(f, x, dout, h=1e-5):
    base = x.astype(np.float64).ravel()
    grad = np.zeros(base.size)
    for i in range(base.size):
        plus, minus = base.copy(), base.copy()
        plus[i] += h
        minus[i] -= h
        loss_plus = (dout * f(plus.reshape(x.shape))).sum()
        loss_minus = (dout * f(minus.reshape(x.shape))).sum()
        grad[i] = (loss_plus - loss_minus) / (2 * h)
    return grad.reshape(x.shape)


def numgrad_basis(f, x, dout, h=1e-5):
    x64 = np.asarray(x, dtype=np.float64)
    grad = np.empty(x64.shape)
    for i in range(x64.size):
        e = np.zeros(x64.size)
        e[i] = h
        e = e.reshape(x64.shape)
        grad.flat[i] = np.vdot(dout, f(x64 + e) - f(x64 - e)) / (2 * h)
    return grad


CORRECT = {
    "bn_dx_hat": [dx_hat_broadcast, dx_hat_einsum, dx_hat_loop],
    "bn_dvar": [dvar_power, dvar_flat_float64, dvar_loop],
    "bn_dmu": [dmu_two_terms, dmu_keepdims, dmu_loop],
    "bn_dx": [dx_three_terms, dx_flat, dx_loop],
    "batchnorm_backward_compact": [compact_keepdims, compact_means, compact_reference],
    "numerical_gradient": [numgrad_ndindex, numgrad_flat_copies, numgrad_basis],
}


# ---------------------------------------------------------------------------
# Wrong implementations, each making one mistake of lesson 05's catalogue section.
# ---------------------------------------------------------------------------


def dx_hat_no_gamma(dout, gamma):
    return dout.copy()


def dx_hat_no_gamma_float64(dout, gamma):
    return np.array(dout, dtype=np.float64)


def dx_hat_divides(dout, gamma):
    return dout / gamma


def dx_hat_divides_loop(dout, gamma):
    out = np.array(dout, dtype=np.float64)
    for c in range(out.shape[-1]):
        out[..., c] /= gamma[c]
    return out


def backward_without_gamma(dout, x, gamma, eps=1e-3):
    axes, m = _axes(x), _m(x)
    s = np.sqrt(x.var(axes) + eps)
    x_hat = (x - x.mean(axes)) / s
    dbeta, dgamma = dout.sum(axes), (dout * x_hat).sum(axes)
    return (m * dout - dbeta - x_hat * dgamma) / (m * s), dgamma, dbeta


def dvar_keeps_exponent(dx_hat, x, mu, var, eps=1e-3):
    return -0.5 * np.sum(dx_hat * (x - mu), axis=_axes(x)) / np.sqrt(var + eps)


def dvar_lost_minus(dx_hat, x, mu, var, eps=1e-3):
    return 0.5 * np.sum(dx_hat * (x - mu), axis=_axes(x)) * (var + eps) ** -1.5


def dvar_uses_x(dx_hat, x, mu, var, eps=1e-3):
    return -0.5 * np.sum(dx_hat * x, axis=_axes(x)) * (var + eps) ** -1.5


def dx_uses_x(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    m = _m(x)
    return dx_hat / np.sqrt(var + eps) + dvar * 2 * x / m + dmu / m


def dvar_mean(dx_hat, x, mu, var, eps=1e-3):
    return np.mean(dx_hat * (x - mu), axis=_axes(x)) * -0.5 * (var + eps) ** -1.5


def dmu_mean(dx_hat, dvar, x, mu, var, eps=1e-3):
    axes = _axes(x)
    direct = -np.mean(dx_hat, axis=axes) / np.sqrt(var + eps)
    return direct + dvar * -2.0 * np.mean(x - mu, axis=axes) / _m(x)


def dmu_batch_count(dx_hat, dvar, x, mu, var, eps=1e-3):
    axes = _axes(x)
    direct = -np.sum(dx_hat, axis=axes) / np.sqrt(var + eps)
    return direct - 2.0 * dvar * np.sum(x - mu, axis=axes) / x.shape[0]


def dx_batch_count(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    m = len(x)
    return dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mu) / m + dmu / m


def dx_no_m(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    return dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mu) + dmu


def dmu_no_m(dx_hat, dvar, x, mu, var, eps=1e-3):
    axes = _axes(x)
    return -np.sum(dx_hat, axis=axes) / np.sqrt(var + eps) - 2 * dvar * np.sum(x - mu, axis=axes)


def dmu_direct_only(dx_hat, dvar, x, mu, var, eps=1e-3):
    return -np.sum(dx_hat, axis=_axes(x)) / np.sqrt(var + eps)


def dmu_direct_only_loop(dx_hat, dvar, x, mu, var, eps=1e-3):
    return np.array([-dx_hat[..., c].sum() / (var[c] + eps) ** 0.5 for c in range(x.shape[-1])])


def dmu_plus_two(dx_hat, dvar, x, mu, var, eps=1e-3):
    axes = _axes(x)
    direct = -np.sum(dx_hat, axis=axes) / np.sqrt(var + eps)
    return direct + dvar * 2.0 / _m(x) * np.sum(x - mu, axis=axes)


def dmu_plus_two_keepdims(dx_hat, dvar, x, mu, var, eps=1e-3):
    axes = _axes(x)
    direct = -(dx_hat / np.sqrt(var + eps)).sum(axis=axes, keepdims=True)
    return (direct + dvar * 2.0 * (x - mu).mean(axis=axes, keepdims=True)).reshape(-1)


def dmu_no_two(dx_hat, dvar, x, mu, var, eps=1e-3):
    axes = _axes(x)
    direct = -np.sum(dx_hat, axis=axes) / np.sqrt(var + eps)
    return direct - dvar * np.sum(x - mu, axis=axes) / _m(x)


def dx_no_two(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    m = _m(x)
    return dx_hat / np.sqrt(var + eps) + dvar * (x - mu) / m + dmu / m


def dmu_plus_direct(dx_hat, dvar, x, mu, var, eps=1e-3):
    axes = _axes(x)
    direct = np.sum(dx_hat, axis=axes) / np.sqrt(var + eps)
    return direct - 2.0 * dvar * np.sum(x - mu, axis=axes) / _m(x)


def dx_minus_mean_path(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    m = _m(x)
    return dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mu) / m - dmu / m


def numgrad_forward(f, x, dout, h=1e-5):
    xp = np.array(x, dtype=np.float64)
    base = np.sum(dout * f(xp))
    grad = np.zeros_like(xp)
    for i in np.ndindex(xp.shape):
        xp[i] += h
        grad[i] = (np.sum(dout * f(xp)) - base) / h
        xp[i] -= h
    return grad


def numgrad_backward(f, x, dout, h=1e-5):
    xp = np.array(x, dtype=np.float64)
    grad = np.zeros_like(xp)
    for i in np.ndindex(xp.shape):
        here = np.sum(dout * f(xp))
        old = xp[i]
        xp[i] = old - h
        grad[i] = (here - np.sum(dout * f(xp))) / h
        xp[i] = old
    return grad


def numgrad_over_h(f, x, dout, h=1e-5):
    xp = np.array(x, dtype=np.float64)
    grad = np.zeros_like(xp)
    for i in np.ndindex(xp.shape):
        old = xp[i]
        xp[i] = old + h
        up = np.sum(dout * f(xp))
        xp[i] = old - h
        grad[i] = (up - np.sum(dout * f(xp))) / h
        xp[i] = old
    return grad


def numgrad_no_division(f, x, dout, h=1e-5):
    flat = x.astype(np.float64).ravel()
    grad = np.zeros(flat.size)
    for i in range(flat.size):
        plus, minus = flat.copy(), flat.copy()
        plus[i] += h
        minus[i] -= h
        grad[i] = np.sum(dout * f(plus.reshape(x.shape))) - np.sum(dout * f(minus.reshape(x.shape)))
    return grad.reshape(x.shape)


def numgrad_aliases(f, x, dout, h=1e-5):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x_plus = x
        x_minus = x
        x_plus[i] += h
        x_minus[i] -= h
        grad[i] = (np.sum(dout * f(x_plus)) - np.sum(dout * f(x_minus))) / (2 * h)
    return grad


def numgrad_moves_callers_x(f, x, dout, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        x[i] += h
        up = np.sum(dout * f(x))
        x[i] -= 2 * h
        down = np.sum(dout * f(x))
        x[i] += h
        grad[i] = (up - down) / (2 * h)
    return grad


def numgrad_keeps_dtype(f, x, dout, h=1e-5):
    xp = x.copy()
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = xp[i]
        xp[i] = old + h
        up = np.sum(dout * f(xp))
        xp[i] = old - h
        down = np.sum(dout * f(xp))
        xp[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def numgrad_casts_float32(f, x, dout, h=1e-5):
    base = x.astype(np.float32).ravel()
    grad = np.zeros(base.size)
    for i in range(base.size):
        plus, minus = base.copy(), base.copy()
        plus[i] += h
        minus[i] -= h
        up = np.sum(dout * f(plus.reshape(x.shape)))
        grad[i] = (up - np.sum(dout * f(minus.reshape(x.shape)))) / (2 * h)
    return grad.reshape(x.shape)


def numgrad_no_dout(f, x, dout, h=1e-5):
    xp = np.array(x, dtype=np.float64)
    grad = np.zeros_like(xp)
    for i in np.ndindex(xp.shape):
        old = xp[i]
        xp[i] = old + h
        up = f(xp).sum()
        xp[i] = old - h
        grad[i] = (up - f(xp).sum()) / (2 * h)
        xp[i] = old
    return grad


def numgrad_hard_coded_step(f, x, dout, h=1e-5):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + 1e-5
        plus = np.sum(dout * f(x))
        x[i] = old - 1e-5
        minus = np.sum(dout * f(x))
        x[i] = old
        grad[i] = (plus - minus) / 2e-5
        it.iternext()
    return grad


def numgrad_no_dout_flat(f, x, dout, h=1e-5):
    flat = x.astype(np.float64).ravel()
    grad = np.zeros(flat.size)
    for i in range(flat.size):
        step = np.zeros(flat.size)
        step[i] = h
        up = np.sum(f((flat + step).reshape(x.shape)))
        down = np.sum(f((flat - step).reshape(x.shape)))
        grad[i] = (up - down) / (2 * h)
    return grad.reshape(x.shape)


def numgrad_all_at_once(f, x, dout, h=1e-5):
    x64 = np.asarray(x, dtype=np.float64)
    slope = np.sum(dout * (f(x64 + h) - f(x64 - h))) / (2 * h)
    return np.full(x64.shape, slope)


def numgrad_all_at_once_elementwise(f, x, dout, h=1e-5):
    x64 = np.asarray(x, dtype=np.float64)
    change = f(x64 + h) - f(x64 - h)
    if change.shape != x64.shape:
        change = np.resize(change, x64.shape)
    return np.resize(dout, x64.shape) * change / (2 * h)


def numgrad_no_restore(f, x, dout, h=1e-5):
    xp = np.array(x, dtype=np.float64)
    grad = np.zeros_like(xp)
    for i in np.ndindex(xp.shape):
        old = xp[i]
        xp[i] = old + h
        up = np.sum(dout * f(xp))
        xp[i] = old - h
        grad[i] = (up - np.sum(dout * f(xp))) / (2 * h)
    return grad


def numgrad_restores_only_up(f, x, dout, h=1e-5):
    flat = np.array(x, dtype=np.float64).reshape(-1)
    grad = np.zeros(flat.size)
    for i in range(flat.size):
        flat[i] += h
        up = np.sum(dout * f(flat.reshape(np.shape(x))))
        flat[i] -= 2 * h
        down = np.sum(dout * f(flat.reshape(np.shape(x))))
        grad[i] = (up - down) / (2 * h)
    return grad.reshape(np.shape(x))


def dx_variance_path_without_m(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    return dx_hat / np.sqrt(var + eps) + 2 * dvar * (x - mu) + dmu / _m(x)


def dmu_sum_of_x(dx_hat, dvar, x, mu, var, eps=1e-3):
    axes = _axes(x)
    return -np.sum(dx_hat, axis=axes) / np.sqrt(var + eps) - 2 * dvar * np.sum(x, axis=axes) / _m(x)


def backward_unbiased(dout, x, gamma, eps=1e-3):
    axes, m = _axes(x), _m(x)
    s = np.sqrt(x.var(axes, ddof=1) + eps)
    x_hat = (x - x.mean(axes)) / s
    dbeta, dgamma = dout.sum(axes), (dout * x_hat).sum(axes)
    return gamma / (m * s) * (m * dout - dbeta - x_hat * dgamma), dgamma, dbeta


def backward_eps_outside(dout, x, gamma, eps=1e-3):
    axes, m = _axes(x), _m(x)
    s = x.std(axes) + eps
    x_hat = (x - x.mean(axes)) / s
    dbeta, dgamma = dout.sum(axes), (dout * x_hat).sum(axes)
    return gamma / (m * s) * (m * dout - dbeta - x_hat * dgamma), dgamma, dbeta


WRONG = {
    "backward-forgets-gamma": [
        ("bn_dx_hat", dx_hat_no_gamma),
        ("bn_dx_hat", dx_hat_no_gamma_float64),
        ("batchnorm_backward", backward_without_gamma),
    ],
    "dx-hat-divides-by-gamma": [
        ("bn_dx_hat", dx_hat_divides),
        ("bn_dx_hat", dx_hat_divides_loop),
    ],
    "dvar-power-rule": [
        ("bn_dvar", dvar_keeps_exponent),
        ("bn_dvar", dvar_lost_minus),
    ],
    "uses-x-not-deviation": [
        ("bn_dvar", dvar_uses_x),
        ("bn_dx", dx_uses_x),
        ("bn_dmu", dmu_sum_of_x),
    ],
    "backward-mean-for-sum": [
        ("bn_dvar", dvar_mean),
        ("bn_dmu", dmu_mean),
    ],
    "m-from-wrong-axes": [
        ("bn_dmu", dmu_batch_count),
        ("bn_dx", dx_batch_count),
    ],
    "missing-1-over-m": [
        ("bn_dx", dx_no_m),
        ("bn_dmu", dmu_no_m),
        ("bn_dx", dx_variance_path_without_m),
    ],
    "dmu-forgets-variance-term": [
        ("bn_dmu", dmu_direct_only),
        ("bn_dmu", dmu_direct_only_loop),
    ],
    "dmu-variance-term-sign": [
        ("bn_dmu", dmu_plus_two),
        ("bn_dmu", dmu_plus_two_keepdims),
    ],
    "variance-derivative-factor": [
        ("bn_dmu", dmu_no_two),
        ("bn_dx", dx_no_two),
    ],
    "backward-sign-slip": [
        ("bn_dmu", dmu_plus_direct),
        ("bn_dx", dx_minus_mean_path),
    ],
    "numgrad-one-sided": [
        ("numerical_gradient", numgrad_forward),
        ("numerical_gradient", numgrad_backward),
    ],
    "numgrad-missing-half": [
        ("numerical_gradient", numgrad_over_h),
        ("numerical_gradient", numgrad_no_division),
    ],
    "numgrad-perturbs-in-place": [
        ("numerical_gradient", numgrad_aliases),
        ("numerical_gradient", numgrad_moves_callers_x),
    ],
    "numgrad-not-restored": [
        ("numerical_gradient", numgrad_no_restore),
        ("numerical_gradient", numgrad_restores_only_up),
    ],
    "numgrad-float32": [
        ("numerical_gradient", numgrad_keeps_dtype),
        ("numerical_gradient", numgrad_casts_float32),
    ],
    "numgrad-ignores-dout": [
        ("numerical_gradient", numgrad_no_dout),
        ("numerical_gradient", numgrad_no_dout_flat),
    ],
    "numgrad-ignores-h": [("numerical_gradient", numgrad_hard_coded_step)],
    "numgrad-all-at-once": [
        ("numerical_gradient", numgrad_all_at_once),
        ("numerical_gradient", numgrad_all_at_once_elementwise),
    ],
}


def _check(exercise_id, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return check(exercise_id, fn)


# ---------------------------------------------------------------------------
# Tests (the wrong ones also run in tests/test_grading.py through tests/implementations.py).
# ---------------------------------------------------------------------------


def test_every_node_exercise_has_several_correct_styles():
    assert set(CORRECT) == set(NODE_EXERCISES)
    assert all(len(styles) >= 3 for styles in CORRECT.values())


@pytest.mark.parametrize(
    "exercise_id, fn",
    [(name, fn) for name, styles in CORRECT.items() for fn in styles],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_correct_styles_are_accepted(exercise_id, fn):
    result = _check(exercise_id, fn)
    assert result.passed, str(result)
    assert result.score == result.max_score


@pytest.mark.parametrize(
    "diagnosis, exercise_id, fn",
    [(d, name, fn) for d, cases in WRONG.items() for name, fn in cases],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_wrong_nodes_are_named(diagnosis, exercise_id, fn):
    result = _check(exercise_id, fn)
    assert not result.passed
    assert result.diagnosis == diagnosis, str(result)


def test_backward_names_the_forward_slips_it_repeats():
    assert _check("batchnorm_backward", backward_unbiased).diagnosis == "unbiased-variance"
    assert _check("batchnorm_backward", backward_eps_outside).diagnosis == "eps-outside-sqrt"


def test_the_compact_formula_is_optional_and_worth_no_points():
    assert EXERCISES["batchnorm_backward_compact"].max_score == 0.0
    assert _check("batchnorm_backward_compact", compact_means).passed


def test_a_node_that_recomputes_its_statistics_is_named():
    def dvar_own_stats(dx_hat, x, mu, var, eps=1e-3):
        axes = _axes(x)
        mu, var = x.mean(axis=axes), x.var(axis=axes)
        return np.sum(dx_hat * (x - mu), axis=axes) * -0.5 * (var + eps) ** -1.5

    result = _check("bn_dvar", dvar_own_stats)
    assert result.diagnosis == "ignores-given-stats"
    assert "the check passes a mu and var that are not x's own" in str(result)


def test_bn_dx_says_which_path_is_missing():
    def dx_without_variance_path(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
        return dx_hat / np.sqrt(var + eps) + dmu / _m(x)

    result = _check("bn_dx", dx_without_variance_path)
    assert result.diagnosis == "backward-ignores-batch-stats"
    assert "variance" in str(result)


def test_float64_nodes_get_no_float32_note():
    result = _check("bn_dvar", dvar_flat_float64)
    assert result.passed and not result.notes


def test_numerical_gradient_returning_float32_is_accepted_with_a_note():
    def numgrad_float32_out(f, x, dout, h=1e-5):
        return numgrad_ndindex(f, x, dout, h).astype(np.float32)

    result = _check("numerical_gradient", numgrad_float32_out)
    assert result.passed
    assert any("the contract is float64" in note for note in result.notes)


def test_test_functions_show_their_formula_and_compute_in_float64():
    cube = TestFunction("cube", "f(v) = v ** 3, element by element")
    assert repr(cube) == "f(v) = v ** 3, element by element"
    assert cube(np.array([2.0], dtype=np.float32)).dtype == np.float64


def test_yours_or_reference_falls_back_once_and_says_so(capsys):
    def stub(a):
        raise NotImplementedError("not yet")

    def reference(a):
        return a + 1

    call = backprop.yours_or_reference(stub, reference)
    assert call(1) == 2 and call(2) == 3
    assert capsys.readouterr().out.count("is not written yet") == 1
    assert backprop.yours_or_reference(lambda a: a * 10, reference)(2) == 20


def test_fit_linear_bn_with_a_backward_function_follows_the_reference():
    from bncourse import reference

    bias, loss = backprop.fit_linear_bn(seed=1, steps=30)
    mine_bias, mine_loss = backprop.fit_linear_bn(
        seed=1, steps=30, backward=reference.batchnorm_backward
    )
    np.testing.assert_allclose(mine_loss, loss, rtol=1e-4)
    with pytest.raises(ValueError, match="not both"):
        backprop.fit_linear_bn(seed=1, all_paths=False, backward=reference.batchnorm_backward)
    with pytest.raises(TypeError, match="must be a function"):
        backprop.fit_linear_bn(seed=1, backward=3)
