"""Lesson 07 (where to put BN): learner-style submissions for ``dropout_variance_ratio`` and
``population_statistics``, written from what the lesson shows (inverted Dropout, the
explorer's two variances, the paper's recalibration) in shapes the checks' own tests do
not use."""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------------------
# dropout_variance_ratio: correct
# ---------------------------------------------------------------------------


def ratio_unit_by_unit(x, rate):
    p = 1 - rate
    out = []
    for j in range(x.shape[1]):
        col = [float(v) for v in x[:, j]]
        c = sum(col) / len(col)
        v = sum((a - c) ** 2 for a in col) / len(col)
        train = (c * c + v) / p - c * c
        out.append(v / train if train > 0 else float("nan"))
    return np.array(out, dtype=np.float32)


def ratio_from_second_moment(x, rate):
    x = x.astype(np.float64)
    keep = 1.0 - rate
    mean = np.mean(x, axis=0, keepdims=True)
    mean_sq = np.mean(x**2, axis=0, keepdims=True)
    infer = mean_sq - mean**2
    with np.errstate(invalid="ignore"):
        return (infer / (mean_sq / keep - mean**2))[0].astype(np.float32)


def ratio_simplified(x, rate):
    # v / ((c^2 + v)/p - c^2) = p v / (v + (1 - p) c^2)
    p = 1.0 - rate
    c = np.einsum("ij->j", x.astype(np.float64)) / x.shape[0]
    v = np.einsum("ij,ij->j", x - c, x - c) / x.shape[0]
    with np.errstate(invalid="ignore"):
        return p * v / (v + (1 - p) * c**2)


class _Unit:
    def __init__(self, values):
        self.mean = values.mean()
        self.var = ((values - self.mean) ** 2).mean()

    def training_variance(self, keep):
        second = self.mean**2 + self.var
        return second / keep - self.mean**2


def ratio_with_a_class(x, rate):
    units = [_Unit(x[:, j].astype(np.float64)) for j in range(x.shape[1])]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.array([u.var / u.training_variance(1 - rate) for u in units], dtype=np.float32)


# ---------------------------------------------------------------------------
# dropout_variance_ratio: wrong
# ---------------------------------------------------------------------------


def ratio_rate_as_p(x, rate):
    p = rate  # "p" of the Dropout layer
    c = x.mean(axis=0)
    v = x.var(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / ((c**2 + v) / p - c**2)


def ratio_rate_as_p_loop(x, rate):
    out = np.zeros(x.shape[1])
    for j in range(x.shape[1]):
        c, v = x[:, j].mean(), x[:, j].var()
        with np.errstate(invalid="ignore", divide="ignore"):
            out[j] = v / (v + (1 - rate) * c**2) * rate
    return out


def ratio_not_inverted(x, rate):
    p = 1 - rate
    c = x.mean(0)
    v = x.var(0)
    train_mean = p * c  # dropped values are zeros, kept ones are unchanged
    train_second = p * (c**2 + v)
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / (train_second - train_mean**2)


def ratio_only_keep_probability(x, rate):
    var = x.var(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return var / (var / (1 - rate))  # Var(x m / p) = Var(x) / p


def ratio_zero_mean_loop(x, rate):
    keep = 1 - rate
    return np.array(
        [
            np.var(x[:, j]) / (np.var(x[:, j]) / keep) if np.var(x[:, j]) else np.nan
            for j in range(x.shape[1])
        ]
    )


def ratio_second_moment(x, rate):
    p = 1 - rate
    train_var = (x.astype(np.float64) ** 2).mean(axis=0) / p  # E[(x m / p)^2]
    with np.errstate(invalid="ignore", divide="ignore"):
        return x.var(axis=0) / train_var


def ratio_upside_down(x, rate):
    c, v = x.mean(0), x.var(0)
    train = (c**2 + v) / (1 - rate) - c**2
    with np.errstate(invalid="ignore", divide="ignore"):
        return train / v  # how much bigger training is


def ratio_sample_variance(x, rate):
    c = x.mean(0)
    v = x.var(0, ddof=1)
    with np.errstate(invalid="ignore"):
        return v / ((c**2 + v) / (1 - rate) - c**2)


def ratio_monte_carlo(x, rate):
    rng = np.random.default_rng(1)
    keep = 1 - rate
    trials = []
    for _ in range(500):
        mask = rng.random(x.shape) < keep
        trials.append(x * mask / keep)
    y = np.concatenate(trials)
    with np.errstate(invalid="ignore", divide="ignore"):
        return x.var(0) / y.var(0)


def ratio_over_examples_axis(x, rate):
    c = x.mean(axis=1)
    v = x.var(axis=1)
    return v / ((c**2 + v) / (1 - rate) - c**2)


def ratio_centers_in_place(x, rate):
    c = x.mean(axis=0)
    x -= c
    v = (x**2).mean(axis=0)
    with np.errstate(invalid="ignore"):
        return v / ((c**2 + v) / (1 - rate) - c**2)


# ---------------------------------------------------------------------------
# population_statistics: correct
# ---------------------------------------------------------------------------


def population_loop_concatenate(forward, batches):
    outs = []
    for batch in batches:
        outs.append(forward(batch, training=False))
    h = np.concatenate(outs, axis=0)
    return h.mean(axis=0), h.var(axis=0)


def population_running_sums(forward, batches):
    total = total_sq = None
    n = 0
    for batch in batches:
        h = forward(batch, False).astype(np.float64)
        s, sq = h.sum(axis=0), (h * h).sum(axis=0)
        total = s if total is None else total + s
        total_sq = sq if total_sq is None else total_sq + sq
        n += len(h)
    mean = total / n
    return mean, total_sq / n - mean**2


def population_total_variance(forward, batches):
    # equal batches: mean of the variances + variance of the means
    stats = [(h.mean(0), h.var(0)) for h in (forward(b, training=False) for b in batches)]
    means = np.array([m for m, _ in stats])
    variances = np.array([v for _, v in stats])
    return means.mean(0), variances.mean(0) + means.var(0)


def population_chan_merge(forward, batches):
    count, mean, m2 = 0, 0.0, 0.0
    for batch in batches:
        h = forward(batch, training=False).astype(np.float64)
        n_b = h.shape[0]
        mean_b = h.mean(axis=0)
        m2_b = ((h - mean_b) ** 2).sum(axis=0)
        delta = mean_b - mean
        total = count + n_b
        mean = mean + delta * n_b / total
        m2 = m2 + m2_b + delta**2 * count * n_b / total
        count = total
    return (mean.astype(np.float32), (m2 / count).astype(np.float32))


def population_vstack_keepdims(forward, batches):
    h = np.vstack([forward(b, training=False) for b in batches])
    mu = h.mean(axis=0, keepdims=True)
    var = np.mean((h - mu) ** 2, axis=0, keepdims=True)
    return mu.ravel(), var.ravel()


# ---------------------------------------------------------------------------
# population_statistics: wrong
# ---------------------------------------------------------------------------


def population_training_mode(forward, batches):
    h = np.concatenate([forward(b, training=True) for b in batches])  # training data
    return h.mean(0), h.var(0)


def population_training_mode_reshaped(forward, batches):
    flat = batches.reshape(-1, batches.shape[-1])
    h = forward(flat, training=True)
    mu = h.mean(axis=0)
    return mu, ((h - mu) ** 2).mean(axis=0)


def population_mean_of_batch_variances(forward, batches):
    means, variances = [], []
    for batch in batches:
        h = forward(batch, training=False)
        means.append(h.mean(axis=0))
        variances.append(h.var(axis=0))
    return np.mean(means, axis=0), np.mean(variances, axis=0)


def population_paper_algorithm_2(forward, batches):
    m = batches.shape[1]
    hs = [forward(b, training=False) for b in batches]
    mean = np.mean([h.mean(0) for h in hs], axis=0)
    var = m / (m - 1) * np.mean([h.var(0) for h in hs], axis=0)  # Bessel's correction
    return mean, var


def population_keras_momentum(forward, batches):
    units = forward(batches[0], training=False).shape[1]
    moving_mean, moving_var = np.zeros(units), np.ones(units)
    for batch in batches:
        h = forward(batch, training=False)
        moving_mean = 0.99 * moving_mean + 0.01 * h.mean(0)
        moving_var = 0.99 * moving_var + 0.01 * h.var(0)
    return moving_mean, moving_var


def population_pytorch_momentum(forward, batches):
    running_mean = running_var = None
    for batch in batches:
        h = forward(batch, training=False)
        if running_mean is None:
            running_mean, running_var = h.mean(0), h.var(0)
        else:
            running_mean = 0.9 * running_mean + 0.1 * h.mean(0)
            running_var = 0.9 * running_var + 0.1 * h.var(0)
    return running_mean, running_var


def population_last_batch(forward, batches):
    for batch in batches:
        h = forward(batch, training=False)
        mean = h.mean(axis=0)
        var = h.var(axis=0)
    return mean, var


def population_sample_variance(forward, batches):
    h = np.concatenate([forward(b, training=False) for b in batches])
    return h.mean(axis=0), h.var(axis=0, ddof=1)


def population_returns_std(forward, batches):
    h = np.concatenate([forward(b, training=False) for b in batches])
    return h.mean(axis=0), h.std(axis=0)


def population_var_first(forward, batches):
    h = np.concatenate([forward(b, training=False) for b in batches])
    return h.var(axis=0), h.mean(axis=0)


def population_reshapes_in_place(forward, batches):
    batches.shape = (-1, batches.shape[-1])  # flatten the batches
    h = forward(batches, training=False)
    return h.mean(0), h.var(0)


CORRECT = [
    ("dropout_variance_ratio", ratio_unit_by_unit),
    ("dropout_variance_ratio", ratio_from_second_moment),
    ("dropout_variance_ratio", ratio_simplified),
    ("dropout_variance_ratio", ratio_with_a_class),
    ("population_statistics", population_loop_concatenate),
    ("population_statistics", population_running_sums),
    ("population_statistics", population_total_variance),
    ("population_statistics", population_chan_merge),
    ("population_statistics", population_vstack_keepdims),
]

WRONG = [
    ("dropout_variance_ratio", ratio_rate_as_p, "keep-vs-drop-rate"),
    ("dropout_variance_ratio", ratio_rate_as_p_loop, "keep-vs-drop-rate"),
    ("dropout_variance_ratio", ratio_not_inverted, "dropout-not-inverted"),
    ("dropout_variance_ratio", ratio_only_keep_probability, "variance-shift-ignores-mean"),
    ("dropout_variance_ratio", ratio_zero_mean_loop, "variance-shift-ignores-mean"),
    ("dropout_variance_ratio", ratio_second_moment, "second-moment-for-variance"),
    ("dropout_variance_ratio", ratio_upside_down, "ratio-upside-down"),
    ("dropout_variance_ratio", ratio_sample_variance, "unbiased-variance"),
    ("dropout_variance_ratio", ratio_monte_carlo, "simulates-dropout"),
    ("dropout_variance_ratio", ratio_over_examples_axis, "wrong-axis"),
    ("dropout_variance_ratio", ratio_centers_in_place, "mutates-input"),
    ("population_statistics", population_training_mode, "recalibrate-with-dropout-on"),
    ("population_statistics", population_training_mode_reshaped, "recalibrate-with-dropout-on"),
    ("population_statistics", population_mean_of_batch_variances, "averages-batch-variances"),
    ("population_statistics", population_paper_algorithm_2, "averages-batch-variances"),
    ("population_statistics", population_keras_momentum, "momentum-recalibration"),
    ("population_statistics", population_pytorch_momentum, "momentum-recalibration"),
    ("population_statistics", population_last_batch, "recalibrate-one-batch"),
    ("population_statistics", population_sample_variance, "unbiased-variance"),
    ("population_statistics", population_returns_std, "std-not-variance"),
    ("population_statistics", population_var_first, "wrong-output-order"),
    ("population_statistics", population_reshapes_in_place, "mutates-input"),
]
