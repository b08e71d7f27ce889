"""Lesson 05: the backward pass node by node, composed, compact, and the numerical gradient.

Written as a learner who has read only lesson 05 might: from the graph, the worked dbeta and
dgamma, the stubs' contracts and the hints; in shapes tests/test_grading_backprop.py does
not use (classes, helper functions, np.add.reduce, tensordot, while loops, moveaxis, ...).
"""

from __future__ import annotations

import numpy as np


def _feature_axes(a):
    return tuple(range(a.ndim - 1))


def _count(a):
    return int(np.prod(a.shape[:-1]))


# ---------------------------------------------------------------------------
# Correct submissions.
# ---------------------------------------------------------------------------


def dx_hat_multiply(dout, gamma):
    return np.multiply(dout, gamma[np.newaxis, ...])


def dx_hat_moveaxis(dout, gamma):
    moved = np.moveaxis(np.asarray(dout, dtype=np.float64), -1, 0)
    return np.moveaxis(np.stack([row * g for row, g in zip(moved, gamma, strict=True)]), 0, -1)


def dvar_tensordot(dx_hat, x, mu, var, eps=1e-3):
    c = x.shape[-1]
    a, b = dx_hat.reshape(-1, c), (x - mu).reshape(-1, c)
    total = np.einsum("ij,ij->j", a, b)
    return total * (-0.5) * np.power(var + eps, -1.5)


class DvarNode:
    def __init__(self, eps):
        self.eps = eps

    def __call__(self, dx_hat, x, mu, var):
        std = np.sqrt(var.astype(np.float64) + self.eps)
        dstd = np.add.reduce(dx_hat * (x - mu) * -1.0 / std**2, axis=_feature_axes(x))
        return dstd / (2 * std)


def dvar_class(dx_hat, x, mu, var, eps=1e-3):
    return DvarNode(eps)(dx_hat, x, mu, var)


def dmu_helpers(dx_hat, dvar, x, mu, var, eps=1e-3):
    axes = _feature_axes(x)
    through_xhat = np.add.reduce(-dx_hat / np.sqrt(var + eps), axis=axes)
    through_var = dvar * np.add.reduce(-2 * (x - mu) / _count(x), axis=axes)
    return through_xhat + through_var


def dmu_while(dx_hat, dvar, x, mu, var, eps=1e-3):
    flat_x = x.reshape(-1, x.shape[-1]).astype(np.float64)
    flat_d = dx_hat.reshape(flat_x.shape)
    result = np.zeros(x.shape[-1])
    i = 0
    while i < flat_x.shape[0]:
        result += -flat_d[i] / np.sqrt(var + eps) - 2 * dvar * (flat_x[i] - mu) / flat_x.shape[0]
        i += 1
    return result


def dx_partials(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    m = _count(x)
    dxhat_dx = 1 / np.sqrt(var + eps)
    dvar_dx = 2 * (x - mu) / m
    dmu_dx = np.full(x.shape, 1 / m)
    return dx_hat * dxhat_dx + dvar * dvar_dx + dmu * dmu_dx


def backward_from_nodes(dout, x, gamma, eps=1e-3):
    xs = x.astype(np.float64)
    axes = _feature_axes(xs)
    mu, var = xs.mean(axis=axes), xs.var(axis=axes)
    x_hat = (xs - mu) / np.sqrt(var + eps)
    dx_hat = dx_hat_multiply(dout, gamma)
    dvar = dvar_tensordot(dx_hat, xs, mu, var, eps)
    dmu = dmu_helpers(dx_hat, dvar, xs, mu, var, eps)
    dx = dx_partials(dx_hat, dvar, dmu, xs, mu, var, eps)
    return dx.astype(np.float32), (dout * x_hat).sum(axes), dout.sum(axes)


def compact_one_line(dout, x, gamma, eps=1e-3):
    axes, n = _feature_axes(x), _count(x)
    std = np.sqrt(np.var(x, axis=axes) + eps)
    xh = (x - np.mean(x, axis=axes)) / std
    db, dg = np.sum(dout, axis=axes), np.sum(dout * xh, axis=axes)
    return (gamma / (n * std)) * (n * dout - db - xh * dg), dg, db


def numgrad_while(f, x, dout, h=1e-5):
    work = np.asarray(x, dtype=np.float64).copy()
    flat = work.reshape(-1)  # a view: writing flat moves work
    grad = np.zeros(flat.size)
    i = 0
    while i < flat.size:
        keep = flat[i]
        flat[i] = keep + h
        f_plus = float(np.sum(f(work) * dout))
        flat[i] = keep - h
        f_minus = float(np.sum(f(work) * dout))
        flat[i] = keep
        grad[i] = (f_plus - f_minus) / (2 * h)
        i += 1
    return grad.reshape(x.shape)


def numgrad_comprehension(f, x, dout, h=1e-5):
    x64 = np.array(x, dtype=np.float64)

    def loss_at(index, step):
        moved = x64.copy()
        moved[index] += step
        return np.sum(dout * f(moved))

    values = [(loss_at(i, h) - loss_at(i, -h)) / (2 * h) for i in np.ndindex(x64.shape)]
    return np.array(values).reshape(x64.shape)


CORRECT = [
    ("bn_dx_hat", dx_hat_multiply),
    ("bn_dx_hat", dx_hat_moveaxis),
    ("bn_dvar", dvar_tensordot),
    ("bn_dvar", dvar_class),
    ("bn_dmu", dmu_helpers),
    ("bn_dmu", dmu_while),
    ("bn_dx", dx_partials),
    ("batchnorm_backward", backward_from_nodes),
    ("batchnorm_backward_compact", compact_one_line),
    ("numerical_gradient", numgrad_while),
    ("numerical_gradient", numgrad_comprehension),
]


# ---------------------------------------------------------------------------
# Wrong submissions: bn_dx_hat.
# ---------------------------------------------------------------------------


def dx_hat_is_dout(dout, gamma):
    return dout  # "y = gamma x_hat + beta, and the + beta has derivative 1"


def dx_hat_true_divide(dout, gamma):
    return np.true_divide(dout, gamma)


def dx_hat_in_place(dout, gamma):
    dout *= gamma
    return dout


def dx_hat_divide_comprehension(dout, gamma):
    return np.stack([dout[..., c] / gamma[c] for c in range(len(gamma))], axis=-1)


def dx_hat_ones_like(dout, gamma):
    return dout * np.ones_like(gamma)


# ---------------------------------------------------------------------------
# bn_dvar.
# ---------------------------------------------------------------------------


def dvar_per_element(dx_hat, x, mu, var, eps=1e-3):
    # the chain rule's product for every element, never added up per feature
    return dx_hat * (x - mu) * -0.5 * (var + eps) ** -1.5


def dmu_per_element(dx_hat, dvar, x, mu, var, eps=1e-3):
    m = x.size // x.shape[-1]
    return -dx_hat / np.sqrt(var + eps) - 2.0 * dvar * (x - mu) / m


def dvar_minus_three_halves(dx_hat, x, mu, var, eps=1e-3):
    c = x.shape[-1]
    total = np.einsum("ij,ij->j", dx_hat.reshape(-1, c), (x - mu).reshape(-1, c))
    return -1.5 * total * (var + eps) ** -1.5  # "bring the new exponent down"


def dvar_over_var(dx_hat, x, mu, var, eps=1e-3):
    total = np.add.reduce(dx_hat * (x - mu), axis=_feature_axes(x))
    return -0.5 * total / (var + eps) ** 1.5 * np.sqrt(var + eps)


def dvar_own_statistics(dx_hat, x, mu, var, eps=1e-3):
    axes = _feature_axes(x)
    my_mu, my_var = x.mean(axis=axes), x.var(axis=axes)
    return (dx_hat * (x - my_mu)).sum(axis=axes) * -0.5 * (my_var + eps) ** -1.5


def dvar_plain_x(dx_hat, x, mu, var, eps=1e-3):
    return -0.5 * np.add.reduce(dx_hat * x, axis=_feature_axes(x)) * (var + eps) ** -1.5


def dvar_axis_zero(dx_hat, x, mu, var, eps=1e-3):
    return -0.5 * (dx_hat * (x - mu)).sum(axis=0) * (var + eps) ** -1.5


def dvar_average(dx_hat, x, mu, var, eps=1e-3):
    per_sample = dx_hat * (x - mu) * -0.5 * (var + eps) ** -1.5
    return per_sample.reshape(-1, x.shape[-1]).mean(axis=0)


# ---------------------------------------------------------------------------
# bn_dmu.
# ---------------------------------------------------------------------------


def dmu_only_through_xhat(dx_hat, dvar, x, mu, var, eps=1e-3):
    # "sum(x - mu) is zero, so the second term drops"
    return np.add.reduce(-dx_hat, axis=_feature_axes(x)) / np.sqrt(var + eps)


def dmu_batch_size(dx_hat, dvar, x, mu, var, eps=1e-3):
    axes = _feature_axes(x)
    n = len(x)
    return (-dx_hat / np.sqrt(var + eps)).sum(axes) + dvar * (-2 / n) * (x - mu).sum(axes)


def dmu_positive_two(dx_hat, dvar, x, mu, var, eps=1e-3):
    axes = _feature_axes(x)
    return (-dx_hat / np.sqrt(var + eps)).sum(axes) + dvar * 2 * (x - mu).mean(axes)


def dmu_averaged(dx_hat, dvar, x, mu, var, eps=1e-3):
    flat_d = dx_hat.reshape(-1, x.shape[-1])
    flat_x = x.reshape(-1, x.shape[-1])
    direct = np.mean(-flat_d, axis=0) / np.sqrt(var + eps)
    return direct + dvar * np.mean(-2 * (flat_x - mu), axis=0) / flat_x.shape[0]


def dmu_plus_direct(dx_hat, dvar, x, mu, var, eps=1e-3):
    axes = _feature_axes(x)
    return dx_hat.sum(axes) / np.sqrt(var + eps) - 2 * dvar * (x - mu).sum(axes) / _count(x)


def dmu_no_average(dx_hat, dvar, x, mu, var, eps=1e-3):
    axes = _feature_axes(x)
    return -dx_hat.sum(axes) / np.sqrt(var + eps) - 2 * dvar * (x - mu).sum(axes)


# ---------------------------------------------------------------------------
# bn_dx.
# ---------------------------------------------------------------------------


def dx_skips_variance(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    return dx_hat / np.sqrt(var + eps) + dmu / _count(x)


def dx_skips_mean(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    return dx_hat * (var + eps) ** -0.5 + 2 * dvar * (x - mu) / _count(x)


def dx_rows(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    rows = x.shape[0]
    return dx_hat / np.sqrt(var + eps) + (2 * dvar * (x - mu) + dmu) / rows


def dx_x_not_deviation(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    m = _count(x)
    dvar_dx = 2 * x / m
    return dx_hat / np.sqrt(var + eps) + dvar * dvar_dx + dmu / m


def dx_subtracts_variance_path(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    m = _count(x)
    return dx_hat / np.sqrt(var + eps) - dvar * 2 * (x - mu) / m + dmu / m


def dx_forgets_the_two(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    m = _count(x)
    return dx_hat / np.sqrt(var + eps) + (dvar * (x - mu) + dmu) / m


# ---------------------------------------------------------------------------
# batchnorm_backward.
# ---------------------------------------------------------------------------


class _Forward:
    def __init__(self, x, eps):
        self.x = x.astype(np.float64)
        self.axes = _feature_axes(x)
        self.m = _count(x)
        self.mu = self.x.mean(axis=self.axes)
        self.var = self.x.var(axis=self.axes)
        self.std = np.sqrt(self.var + eps)
        self.x_hat = (self.x - self.mu) / self.std


def backward_mean_path_dropped(dout, x, gamma, eps=1e-3):
    fw = _Forward(x, eps)
    dx_hat = dout * gamma
    dvar = -0.5 * (dx_hat * (fw.x - fw.mu)).sum(fw.axes) / fw.std**3
    dx = dx_hat / fw.std + dvar * 2 * (fw.x - fw.mu) / fw.m
    return dx, (dout * fw.x_hat).sum(fw.axes), dout.sum(fw.axes)


def backward_dgamma_from_input(dout, x, gamma, eps=1e-3):
    fw = _Forward(x, eps)
    dx_hat = dout * gamma
    dx = (fw.m * dx_hat - dx_hat.sum(fw.axes) - fw.x_hat * (dx_hat * fw.x_hat).sum(fw.axes)) / (
        fw.m * fw.std
    )
    return dx, (dout * x).sum(fw.axes), dout.sum(fw.axes)


def backward_params_first(dout, x, gamma, eps=1e-3):
    fw = _Forward(x, eps)
    dg, db = (dout * fw.x_hat).sum(fw.axes), dout.sum(fw.axes)
    dx = gamma / (fw.m * fw.std) * (fw.m * dout - db - fw.x_hat * dg)
    return dg, db, dx


def backward_batch_rows(dout, x, gamma, eps=1e-3):
    fw = _Forward(x, eps)
    m = x.shape[0]
    dg, db = (dout * fw.x_hat).sum(fw.axes), dout.sum(fw.axes)
    dx = gamma / (m * fw.std) * (m * dout - db - fw.x_hat * dg)
    return dx, dg, db


def backward_no_gamma_in_dx(dout, x, gamma, eps=1e-3):
    fw = _Forward(x, eps)
    dg, db = (dout * fw.x_hat).sum(fw.axes), dout.sum(fw.axes)
    dx = (dout - db / fw.m - fw.x_hat * dg / fw.m) / fw.std
    return dx, dg, db


def backward_mean_grads(dout, x, gamma, eps=1e-3):
    fw = _Forward(x, eps)
    dg, db = (dout * fw.x_hat).mean(fw.axes), dout.mean(fw.axes)
    dx = gamma / fw.std * (dout - db - fw.x_hat * dg)
    return dx, dg, db


# ---------------------------------------------------------------------------
# batchnorm_backward_compact.
# ---------------------------------------------------------------------------


def compact_without_gamma(dout, x, gamma, eps=1e-3):
    axes, n = _feature_axes(x), _count(x)
    std = np.sqrt(np.var(x, axis=axes) + eps)
    xh = (x - np.mean(x, axis=axes)) / std
    db, dg = dout.sum(axes), (dout * xh).sum(axes)
    return (n * dout - db - xh * dg) / (n * std), dg, db


def compact_n_is_len(dout, x, gamma, eps=1e-3):
    axes, n = _feature_axes(x), len(x)
    std = np.sqrt(np.var(x, axis=axes) + eps)
    xh = (x - np.mean(x, axis=axes)) / std
    db, dg = dout.sum(axes), (dout * xh).sum(axes)
    return gamma / (n * std) * (n * dout - db - xh * dg), dg, db


def compact_dgamma_raw_x(dout, x, gamma, eps=1e-3):
    axes, n = _feature_axes(x), _count(x)
    std = np.sqrt(np.var(x, axis=axes) + eps)
    xh = (x - np.mean(x, axis=axes)) / std
    db = dout.sum(axes)
    dx = gamma / (n * std) * (n * dout - db - xh * (dout * xh).sum(axes))
    return dx, (dout * x).sum(axes), db


def compact_drops_xhat_term(dout, x, gamma, eps=1e-3):
    axes, n = _feature_axes(x), _count(x)
    std = np.sqrt(np.var(x, axis=axes) + eps)
    xh = (x - np.mean(x, axis=axes)) / std
    db, dg = dout.sum(axes), (dout * xh).sum(axes)
    return gamma / (n * std) * (n * dout - db), dg, db


def compact_returns_dbeta_second(dout, x, gamma, eps=1e-3):
    axes, n = _feature_axes(x), _count(x)
    std = np.sqrt(np.var(x, axis=axes) + eps)
    xh = (x - np.mean(x, axis=axes)) / std
    db, dg = dout.sum(axes), (dout * xh).sum(axes)
    return gamma / (n * std) * (n * dout - db - xh * dg), db, dg


def compact_no_one_over_m(dout, x, gamma, eps=1e-3):
    axes = _feature_axes(x)
    std = np.sqrt(np.var(x, axis=axes) + eps)
    xh = (x - np.mean(x, axis=axes)) / std
    db, dg = dout.sum(axes), (dout * xh).sum(axes)
    return gamma / std * (dout - db - xh * dg), dg, db


# ---------------------------------------------------------------------------
# numerical_gradient.
# ---------------------------------------------------------------------------


def numgrad_step_up_only(f, x, dout, h=1e-5):
    x64 = np.array(x, dtype=np.float64)
    start = np.sum(f(x64) * dout)
    out = []
    for i in np.ndindex(x64.shape):
        moved = x64.copy()
        moved[i] += h
        out.append((np.sum(f(moved) * dout) - start) / h)
    return np.reshape(out, x64.shape)


def numgrad_divides_by_h(f, x, dout, h=1e-5):
    x64 = np.array(x, dtype=np.float64)

    def loss_at(index, step):
        moved = x64.copy()
        moved[index] += step
        return np.sum(dout * f(moved))

    return np.array([(loss_at(i, h) - loss_at(i, -h)) / h for i in np.ndindex(x64.shape)]).reshape(
        x64.shape
    )


def numgrad_same_array_twice(f, x, dout, h=1e-5):
    grad = np.zeros(np.shape(x))
    work = np.array(x, dtype=np.float64)
    flat = work.reshape(-1)
    i = 0
    while i < flat.size:
        plus = flat
        minus = flat
        plus[i] = plus[i] + h
        minus[i] = minus[i] - h
        grad.reshape(-1)[i] = (np.sum(dout * f(work)) - np.sum(dout * f(work))) / (2 * h)
        i += 1
    return grad


def numgrad_copy_keeps_float32(f, x, dout, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        plus, minus = np.copy(x), np.copy(x)
        plus[i] += h
        minus[i] -= h
        grad[i] = (np.sum(dout * f(plus)) - np.sum(dout * f(minus))) / (2 * h)
    return grad


def numgrad_sum_of_outputs(f, x, dout, h=1e-5):
    x64 = np.array(x, dtype=np.float64)
    grad = np.empty_like(x64)
    for i in np.ndindex(x64.shape):
        e = np.zeros_like(x64)
        e[i] = h
        grad[i] = (f(x64 + e).sum() - f(x64 - e).sum()) / (2 * h)
    return grad


def numgrad_fixed_step(f, x, dout, h=1e-5):
    step = 1e-5  # "the usual value", whatever the caller asked for
    x64 = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x64)
    for i in np.ndindex(x64.shape):
        up, down = x64.copy(), x64.copy()
        up[i] += step
        down[i] -= step
        grad[i] = np.sum(dout * (f(up) - f(down))) / (2 * step)
    return grad


EPS = 1e-6


def numgrad_module_constant(f, x, dout, h=1e-5):
    x64 = np.array(x, dtype=np.float64)
    flat_grad = np.empty(x64.size)
    for k in range(x64.size):
        moved = x64.reshape(-1).copy()
        moved[k] += EPS
        plus = np.sum(dout * f(moved.reshape(x64.shape)))
        moved[k] -= 2 * EPS
        minus = np.sum(dout * f(moved.reshape(x64.shape)))
        flat_grad[k] = (plus - minus) / (2 * EPS)
    return flat_grad.reshape(x64.shape)


def numgrad_whole_array(f, x, dout, h=1e-5):
    x64 = np.asarray(x, dtype=np.float64)
    total = (np.sum(dout * f(x64 + h)) - np.sum(dout * f(x64 - h))) / (2 * h)
    return total * np.ones_like(x64)


def numgrad_forgets_to_reset(f, x, dout, h=1e-5):
    point = x.astype(np.float64)
    slopes = np.zeros(point.shape)
    for idx in np.ndindex(point.shape):
        point[idx] += h
        above = (dout * f(point)).sum()
        point[idx] -= 2 * h
        below = (dout * f(point)).sum()
        slopes[idx] = (above - below) / (2 * h)
    return slopes


def dx_mean_path_not_averaged(dx_hat, dvar, dmu, x, mu, var, eps=1e-3):
    n = _count(x)
    return dx_hat / np.sqrt(var + eps) + dvar * 2.0 * (x - mu) / n + dmu


def backward_sample_variance(dout, x, gamma, eps=1e-3):
    fw = _Forward(x, eps)
    std = np.sqrt(x.astype(np.float64).var(axis=fw.axes, ddof=1) + eps)
    xh = (fw.x - fw.mu) / std
    dg, db = (dout * xh).sum(fw.axes), dout.sum(fw.axes)
    return gamma / (fw.m * std) * (fw.m * dout - db - xh * dg), dg, db


WRONG = [
    ("bn_dx_hat", dx_hat_is_dout, "backward-forgets-gamma"),
    ("bn_dx_hat", dx_hat_true_divide, "dx-hat-divides-by-gamma"),
    ("bn_dx_hat", dx_hat_in_place, "mutates-input"),
    ("bn_dx_hat", dx_hat_divide_comprehension, "dx-hat-divides-by-gamma"),
    ("bn_dx_hat", dx_hat_ones_like, "backward-forgets-gamma"),
    ("bn_dvar", dvar_minus_three_halves, "dvar-power-rule"),
    ("bn_dvar", dvar_over_var, "dvar-power-rule"),
    ("bn_dvar", dvar_own_statistics, "ignores-given-stats"),
    ("bn_dvar", dvar_plain_x, "uses-x-not-deviation"),
    ("bn_dvar", dvar_axis_zero, "wrong-axis"),
    ("bn_dvar", dvar_average, "backward-mean-for-sum"),
    ("bn_dvar", dvar_per_element, "backward-forgets-sum"),
    ("bn_dmu", dmu_per_element, "backward-forgets-sum"),
    ("bn_dmu", dmu_only_through_xhat, "dmu-forgets-variance-term"),
    ("bn_dmu", dmu_batch_size, "m-from-wrong-axes"),
    ("bn_dmu", dmu_positive_two, "dmu-variance-term-sign"),
    ("bn_dmu", dmu_averaged, "backward-mean-for-sum"),
    ("bn_dmu", dmu_plus_direct, "backward-sign-slip"),
    ("bn_dmu", dmu_no_average, "missing-1-over-m"),
    ("bn_dx", dx_skips_variance, "backward-ignores-batch-stats"),
    ("bn_dx", dx_skips_mean, "backward-ignores-batch-stats"),
    ("bn_dx", dx_rows, "m-from-wrong-axes"),
    ("bn_dx", dx_x_not_deviation, "uses-x-not-deviation"),
    ("bn_dx", dx_subtracts_variance_path, "backward-sign-slip"),
    ("bn_dx", dx_forgets_the_two, "variance-derivative-factor"),
    ("batchnorm_backward", backward_mean_path_dropped, "backward-ignores-batch-stats"),
    ("batchnorm_backward", backward_dgamma_from_input, "dgamma-uses-x"),
    ("batchnorm_backward", backward_params_first, "wrong-output-order"),
    ("batchnorm_backward", backward_batch_rows, "m-from-wrong-axes"),
    ("batchnorm_backward", backward_no_gamma_in_dx, "backward-forgets-gamma"),
    ("batchnorm_backward", backward_mean_grads, "backward-mean-for-sum"),
    ("batchnorm_backward_compact", compact_without_gamma, "backward-forgets-gamma"),
    ("batchnorm_backward_compact", compact_n_is_len, "m-from-wrong-axes"),
    ("batchnorm_backward_compact", compact_dgamma_raw_x, "dgamma-uses-x"),
    ("batchnorm_backward_compact", compact_drops_xhat_term, "backward-ignores-batch-stats"),
    ("batchnorm_backward_compact", compact_returns_dbeta_second, "wrong-output-order"),
    ("batchnorm_backward_compact", compact_no_one_over_m, "missing-1-over-m"),
    ("numerical_gradient", numgrad_step_up_only, "numgrad-one-sided"),
    ("numerical_gradient", numgrad_divides_by_h, "numgrad-missing-half"),
    ("numerical_gradient", numgrad_same_array_twice, "numgrad-perturbs-in-place"),
    ("numerical_gradient", numgrad_copy_keeps_float32, "numgrad-float32"),
    ("numerical_gradient", numgrad_sum_of_outputs, "numgrad-ignores-dout"),
    ("numerical_gradient", numgrad_fixed_step, "numgrad-ignores-h"),
    ("numerical_gradient", numgrad_module_constant, "numgrad-ignores-h"),
    ("numerical_gradient", numgrad_whole_array, "numgrad-all-at-once"),
    ("numerical_gradient", numgrad_forgets_to_reset, "numgrad-not-restored"),
    ("bn_dx", dx_mean_path_not_averaged, "missing-1-over-m"),
    ("batchnorm_backward", backward_sample_variance, "unbiased-variance"),
]
