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
