"""Lesson 02, ``saturated_fraction``: submissions a learner who read only the lesson might
write (loops, list comprehensions, helpers, keepdims, float64 copies, a class), correct and
wrong, each wrong one labelled with the catalogue id of its mistake."""

from __future__ import annotations

import numpy as np

# --- correct ---------------------------------------------------------------------------


def sat_loops(outputs, threshold):
    layers, batch, units = outputs.shape
    result = np.zeros(layers, dtype=np.float32)
    for layer in range(layers):
        hits = 0
        for sample in range(batch):
            for unit in range(units):
                if abs(outputs[layer, sample, unit]) > threshold:
                    hits += 1
        result[layer] = hits / (batch * units)
    return result


def sat_comprehension(outputs, threshold):
    return np.array([np.mean(np.abs(layer) > threshold) for layer in outputs])


def sat_keepdims(outputs, threshold):
    mask = (np.abs(outputs.astype(np.float64)) > threshold).astype(np.float64)
    return mask.mean(axis=(1, 2), keepdims=True).ravel().astype(np.float32)


def _is_saturated(value, threshold):
    return np.abs(value) > threshold


def sat_helper(outputs, threshold):
    marks = _is_saturated(outputs, threshold)
    return marks.sum(axis=2).sum(axis=1) / (outputs.shape[1] * outputs.shape[2])


def sat_einsum(outputs, threshold):
    mask = (np.maximum(outputs, -outputs) > threshold).astype(np.float64)
    ones = np.ones(outputs.shape[1:])
    return np.einsum("lbu,bu->l", mask, ones) / ones.size


CORRECT = [
    ("saturated_fraction", sat_loops),
    ("saturated_fraction", sat_comprehension),
    ("saturated_fraction", sat_keepdims),
    ("saturated_fraction", sat_helper),
    ("saturated_fraction", sat_einsum),
]


# --- wrong -----------------------------------------------------------------------------


def sat_loops_positive(outputs, threshold):
    fractions = []
    for layer in outputs:
        fractions.append(float(np.sum(layer > threshold)) / layer.size)
    return np.array(fractions)


def sat_clip_near_minus_one(outputs, threshold):
    return np.array([np.mean(layer < -threshold) for layer in outputs])


def sat_dead_units(outputs, threshold):
    result = []
    for layer in outputs:
        dead = [np.all(np.abs(layer[:, j]) > threshold) for j in range(layer.shape[1])]
        result.append(np.mean(dead))
    return np.array(result, dtype=np.float32)


def sat_unit_average(outputs, threshold):
    typical = np.abs(outputs).mean(axis=1, keepdims=True)
    return (typical > threshold).mean(axis=(1, 2))


def sat_per_unit(outputs, threshold):
    return np.array([(np.abs(layer) > threshold).mean(axis=0) for layer in outputs])


def sat_flatten_wrong(outputs, threshold):
    mask = np.abs(outputs) > threshold
    return mask.reshape(-1, len(outputs)).mean(axis=0)


def sat_whole_network(outputs, threshold):
    return np.float32(np.mean(np.abs(outputs) > threshold))


def sat_loops_ge(outputs, threshold):
    fractions = np.empty(len(outputs))
    for i, layer in enumerate(outputs):
        fractions[i] = np.count_nonzero(np.abs(layer) >= threshold) / layer.size
    return fractions


def sat_hardcoded_karpathy(outputs, threshold=0.97):
    return np.array([np.mean(np.abs(layer) > 0.97) for layer in outputs], dtype=np.float32)


def sat_hardcoded_slope(outputs, threshold):
    level = 0.975  # where tanh's slope falls below 5%
    return (np.abs(outputs) > level).mean(axis=(1, 2))


def sat_percent(outputs, threshold):
    return np.array([100.0 * np.mean(np.abs(layer) > threshold) for layer in outputs])


def sat_count(outputs, threshold):
    return np.array([np.count_nonzero(np.abs(layer) > threshold) for layer in outputs])


class _Saturation:
    def __init__(self, threshold):
        self.threshold = threshold

    def __call__(self, outputs):
        return np.sum(np.abs(outputs) > self.threshold, axis=(1, 2)) / outputs.shape[2]


def sat_class_per_units(outputs, threshold):
    return _Saturation(threshold)(outputs)


WRONG = [
    ("saturated_fraction", sat_loops_positive, "saturation-one-sided"),
    ("saturated_fraction", sat_clip_near_minus_one, "saturation-one-sided"),
    ("saturated_fraction", sat_dead_units, "saturation-per-unit-decision"),
    ("saturated_fraction", sat_unit_average, "saturation-per-unit-decision"),
    ("saturated_fraction", sat_per_unit, "layer-stat-wrong-axes"),
    ("saturated_fraction", sat_flatten_wrong, "layer-stat-wrong-axes"),
    ("saturated_fraction", sat_whole_network, "layer-stat-wrong-axes"),
    ("saturated_fraction", sat_loops_ge, "saturation-at-threshold"),
    ("saturated_fraction", sat_hardcoded_karpathy, "saturation-ignores-threshold"),
    ("saturated_fraction", sat_hardcoded_slope, "saturation-ignores-threshold"),
    ("saturated_fraction", sat_percent, "saturation-not-a-fraction"),
    ("saturated_fraction", sat_count, "saturation-not-a-fraction"),
    ("saturated_fraction", sat_class_per_units, "saturation-not-a-fraction"),
]


# --- layer_spread: correct ---------------------------------------------------------------


def spread_loops(outputs):
    result = []
    for layer in outputs:
        values = [float(v) for v in layer.ravel()]
        mean = sum(values) / len(values)
        result.append((sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5)
    return np.array(result, dtype=np.float32)


def spread_comprehension(outputs):
    return np.array([layer.astype(np.float64).std() for layer in outputs])


def spread_keepdims(outputs):
    mean = outputs.mean(axis=(1, 2), keepdims=True)
    return np.sqrt(np.mean(np.square(outputs - mean), axis=(1, 2), keepdims=True)).ravel()


def spread_transposed(outputs):  # (units, batch, layers): reducing the first two is right
    return np.std(outputs.T, axis=(0, 1))


CORRECT += [
    ("layer_spread", spread_loops),
    ("layer_spread", spread_comprehension),
    ("layer_spread", spread_keepdims),
    ("layer_spread", spread_transposed),
]


# --- layer_spread: wrong -----------------------------------------------------------------


def spread_statistics_stdev(outputs):
    import statistics

    return np.array([statistics.stdev(layer.ravel().tolist()) for layer in outputs])


def spread_unit_loop(outputs):
    spreads = []
    for layer in outputs:
        per_unit = [layer[:, j].std() for j in range(layer.shape[1])]
        spreads.append(np.mean(per_unit))
    return np.array(spreads)


def spread_sqrt_mean_square(outputs):
    return np.array([np.sqrt(np.mean(layer.astype(np.float64) ** 2)) for layer in outputs])


def _variance(values):
    return np.mean((values - np.mean(values)) ** 2)


def spread_forgot_root(outputs):
    return np.array([_variance(layer) for layer in outputs], dtype=np.float32)


def spread_units_first(outputs):
    by_unit = np.transpose(outputs, (2, 0, 1)).reshape(outputs.shape[2], -1)
    return by_unit.std(axis=1)


def spread_one_number(outputs):
    return np.float32(np.std(np.concatenate([layer.ravel() for layer in outputs])))


WRONG += [
    ("layer_spread", spread_statistics_stdev, "unbiased-variance"),
    ("layer_spread", spread_unit_loop, "spread-averages-unit-spreads"),
    ("layer_spread", spread_sqrt_mean_square, "spread-not-centered"),
    ("layer_spread", spread_forgot_root, "spread-is-variance"),
    ("layer_spread", spread_units_first, "layer-stat-wrong-axes"),
    ("layer_spread", spread_one_number, "layer-stat-wrong-axes"),
]


# --- smoothness_along_gradient: correct --------------------------------------------------


def smooth_loop_index(grad_fn, params, step_sizes):
    g0 = grad_fn(params)
    ratios = np.zeros(len(step_sizes))
    for i in range(len(step_sizes)):
        new_point = params - step_sizes[i] * g0
        diff = grad_fn(new_point) - g0
        ratios[i] = np.sqrt(np.dot(diff, diff)) / (step_sizes[i] * np.sqrt(np.dot(g0, g0)))
    return ratios.astype(np.float32)


def smooth_vectorized(grad_fn, params, step_sizes):
    g = grad_fn(params)
    etas = np.asarray(step_sizes, dtype=np.float64)
    moved = np.array([grad_fn(p) for p in params[None, :] - etas[:, None] * g[None, :]])
    return (np.linalg.norm(moved - g, axis=1) / (etas * np.linalg.norm(g))).astype(np.float32)


def _distance(a, b):
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def smooth_helper(grad_fn, params, step_sizes):
    start = np.array(params, dtype=np.float64)
    g = grad_fn(start)
    out = []
    for eta in step_sizes:
        end = start - eta * g
        out.append(_distance(grad_fn(end), g) / _distance(end, start))
    return np.array(out, dtype=np.float32)


CORRECT += [
    ("smoothness_along_gradient", smooth_loop_index),
    ("smoothness_along_gradient", smooth_vectorized),
    ("smoothness_along_gradient", smooth_helper),
]


# --- smoothness_along_gradient: wrong ----------------------------------------------------


def smooth_plus_sign(grad_fn, params, step_sizes):
    g0 = grad_fn(params)
    ratios = np.zeros(len(step_sizes))
    for i in range(len(step_sizes)):
        diff = grad_fn(params + step_sizes[i] * g0) - g0
        ratios[i] = np.linalg.norm(diff) / (step_sizes[i] * np.linalg.norm(g0))
    return ratios


def smooth_walks(grad_fn, params, step_sizes):
    point = np.array(params, dtype=np.float64)
    g = grad_fn(point)
    out = []
    for eta in step_sizes:
        point = point - eta * g  # keeps walking from the last point
        out.append(np.linalg.norm(grad_fn(point) - g) / np.linalg.norm(eta * g))
    return np.array(out, dtype=np.float32)


def smooth_norm_gap(grad_fn, params, step_sizes):
    g = grad_fn(params)
    out = []
    for eta in step_sizes:
        before, after = np.linalg.norm(g), np.linalg.norm(grad_fn(params - eta * g))
        out.append(np.abs(after - before) / (eta * before))
    return np.array(out, dtype=np.float32)


def smooth_no_sqrt(grad_fn, params, step_sizes):
    g = grad_fn(params)
    out = []
    for eta in step_sizes:
        diff = grad_fn(params - eta * g) - g
        out.append(np.dot(diff, diff) / (eta * np.linalg.norm(g)))
    return np.array(out, dtype=np.float32)


def smooth_change_only(grad_fn, params, step_sizes):
    g = grad_fn(params)
    return np.array([_distance(grad_fn(params - eta * g), g) for eta in step_sizes])


def smooth_per_eta(grad_fn, params, step_sizes):
    g = grad_fn(params)
    return np.array([_distance(grad_fn(params - eta * g), g) / eta for eta in step_sizes])


WRONG += [
    ("smoothness_along_gradient", smooth_plus_sign, "smoothness-steps-uphill"),
    ("smoothness_along_gradient", smooth_walks, "smoothness-steps-accumulate"),
    ("smoothness_along_gradient", smooth_norm_gap, "smoothness-difference-of-norms"),
    ("smoothness_along_gradient", smooth_no_sqrt, "smoothness-squared-length"),
    ("smoothness_along_gradient", smooth_change_only, "smoothness-not-per-distance"),
    ("smoothness_along_gradient", smooth_per_eta, "smoothness-wrong-distance"),
]
