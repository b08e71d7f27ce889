"""Lesson 01, ``min_max_normalize`` and ``standardize``: submissions a learner who read only
the lesson might write (column loops, apply_along_axis, keepdims, helpers, a small class),
correct and wrong, each wrong one labelled with the catalogue id of its mistake."""

from __future__ import annotations

import numpy as np

# --- correct ---------------------------------------------------------------------------


def mm_column_loop(x):
    x = np.array(x, dtype=np.float64)
    out = np.zeros_like(x)
    for j in range(x.shape[1]):
        col = x[:, j]
        lo, hi = col.min(), col.max()
        out[:, j] = 0.0 if hi == lo else (col - lo) / (hi - lo)
    return out.astype(np.float32)


def mm_apply_along_axis(x):
    def scale(col):
        span = np.ptp(col)
        return np.zeros_like(col) if span == 0 else (col - col.min()) / span

    return np.apply_along_axis(scale, 0, np.asarray(x, dtype=np.float64)).astype(np.float32)


def mm_keepdims(x):
    x = np.asarray(x, dtype=np.float64)
    lo = np.min(x, axis=0, keepdims=True)
    span = np.max(x, axis=0, keepdims=True) - lo
    span[span == 0] = 1.0
    return np.float32((x - lo) / span)


def std_column_loop(x):
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for col in x.T:
        mean = sum(col) / len(col)
        sd = np.sqrt(sum((v - mean) ** 2 for v in col) / len(col))
        columns.append((col - mean) / sd if sd > 0 else np.zeros_like(col))
    return np.stack(columns, axis=1).astype(np.float32)


class _Scaler:
    def fit(self, x):
        self.mean_ = x.mean(axis=0, keepdims=True)
        sd = x.std(axis=0, keepdims=True)
        self.scale_ = np.where(sd == 0, 1.0, sd)
        return self

    def transform(self, x):
        return (x - self.mean_) / self.scale_


def std_class(x):
    x = np.asarray(x, dtype=np.float64)
    return _Scaler().fit(x).transform(x).astype(np.float32)


def std_var_sqrt(x):
    x = x.astype(np.float64)
    centered = x - x.mean(0)
    var = (centered**2).mean(0)
    return np.divide(centered, np.sqrt(var), out=np.zeros_like(centered), where=var > 0)


CORRECT = [
    ("min_max_normalize", mm_column_loop),
    ("min_max_normalize", mm_apply_along_axis),
    ("min_max_normalize", mm_keepdims),
    ("standardize", std_column_loop),
    ("standardize", std_class),
    ("standardize", std_var_sqrt),
]


# --- wrong: min_max_normalize ------------------------------------------------------------


def mm_divide_by_max(x):
    x = np.asarray(x, dtype=np.float64)
    peak = x.max(axis=0)
    return (x / np.where(peak == 0, 1.0, peak)).astype(np.float32)


def mm_shift_then_divide_by_max(x):
    x = np.asarray(x, dtype=np.float64)
    cols = [(c - c.min()) / (c.max() if c.max() != 0 else 1.0) for c in x.T]
    return np.array(cols).T.astype(np.float32)


def mm_per_row(x):
    x = np.asarray(x, dtype=np.float64)
    lo, hi = x.min(axis=1, keepdims=True), x.max(axis=1, keepdims=True)
    return ((x - lo) / np.where(hi > lo, hi - lo, 1.0)).astype(np.float32)


def mm_whole_table(x):
    x = np.asarray(x, dtype=np.float64)
    return ((x - x.min()) / (x.max() - x.min())).astype(np.float32)


def mm_no_guard(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    for j in range(x.shape[1]):
        out[:, j] = (x[:, j] - x[:, j].min()) / (x[:, j].max() - x[:, j].min())
    return out.astype(np.float32)


def mm_float32_first(x):
    x = np.asarray(x, dtype=np.float32)
    lo = x.min(axis=0)
    span = x.max(axis=0) - lo
    return (x - lo) / np.where(span > 0, span, np.float32(1))


# --- wrong: standardize ------------------------------------------------------------------


def std_sample_sd(x):
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    mean = x.sum(axis=0) / n
    sd = np.sqrt(((x - mean) ** 2).sum(axis=0) / (n - 1))
    return ((x - mean) / np.where(sd > 0, sd, 1.0)).astype(np.float32)


def std_divides_by_variance(x):
    x = np.asarray(x, dtype=np.float64)
    var = x.var(axis=0, keepdims=True)
    return ((x - x.mean(axis=0, keepdims=True)) / np.where(var > 0, var, 1.0)).astype(np.float32)


def std_forgets_mean(x):
    x = np.asarray(x, dtype=np.float64)
    sd = np.array([col.std() for col in x.T])
    return (x / np.where(sd > 0, sd, 1.0)).astype(np.float32)


def std_with_epsilon(x):
    x = np.asarray(x, dtype=np.float64)
    eps = 1e-5  # to be safe
    return ((x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)).astype(np.float32)


def std_per_sample(x):
    x = np.asarray(x, dtype=np.float64)
    mean, sd = x.mean(axis=1, keepdims=True), x.std(axis=1, keepdims=True)
    return ((x - mean) / np.where(sd > 0, sd, 1.0)).astype(np.float32)


def std_nan_for_constant(x):
    x = np.asarray(x, dtype=np.float64)
    return np.float32((x - x.mean(axis=0)) / x.std(axis=0))


def std_float32_loop(x):
    out = np.zeros(np.shape(x), dtype=np.float32)
    for j in range(np.shape(x)[1]):
        col = np.asarray(x[:, j], dtype=np.float32)
        sd = col.std()
        out[:, j] = (col - col.mean()) / sd if sd > 0 else 0.0
    return out


WRONG = [
    ("min_max_normalize", mm_divide_by_max, "minmax-divides-by-max"),
    ("min_max_normalize", mm_shift_then_divide_by_max, "minmax-divides-by-max"),
    ("min_max_normalize", mm_per_row, "wrong-axis"),
    ("min_max_normalize", mm_whole_table, "wrong-axis"),
    ("min_max_normalize", mm_no_guard, "constant-feature"),
    ("min_max_normalize", mm_float32_first, "casts-to-float32-first"),
    ("standardize", std_sample_sd, "unbiased-variance"),
    ("standardize", std_divides_by_variance, "std-for-var"),
    ("standardize", std_forgets_mean, "missing-centering"),
    ("standardize", std_with_epsilon, "standardize-adds-eps"),
    ("standardize", std_per_sample, "wrong-axis"),
    ("standardize", std_nan_for_constant, "constant-feature"),
    ("standardize", std_float32_loop, "float32-constant-column"),
]
