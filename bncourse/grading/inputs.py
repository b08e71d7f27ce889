"""Test inputs several exercises share, designed so that close mistakes show.

Shapes with distinct sizes on every axis (axis mix-ups cannot hide), a feature with a
variance of about 1e-4, ten times smaller than Keras's epsilon (where epsilon sits
matters), a constant feature (0 / 0 shows up), gamma and beta far from 1 and 0 and from
each other, and 4-D feature maps next to 2-D batches. They are random but reproducible:
each exercise seeds its own generator (``Exercise.cases``).
"""

from __future__ import annotations

import numpy as np

from bncourse.grading.spec import Case

__all__ = [
    "features",
    "with_constant_feature",
    "affine_params",
    "large_mean_batch",
    "batch_cases",
    "batch_stats",
]


def features(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Float32 data whose channels have different means and spreads; channel 1 is tiny."""
    channels = shape[-1]
    means = rng.uniform(-2.0, 3.0, channels)
    stds = rng.uniform(0.5, 3.0, channels)
    means[1], stds[1] = 0.02, 0.01  # variance about 1e-4, below eps = 1e-3
    x = rng.normal(size=shape) * stds + means
    return x.astype(np.float32)


def with_constant_feature(x: np.ndarray, index: int = 2, value: float = 2.5) -> np.ndarray:
    x = x.copy()
    x[..., index] = value
    return x


def affine_params(rng: np.random.Generator, channels: int) -> tuple[np.ndarray, np.ndarray]:
    gamma = rng.uniform(0.5, 2.0, channels).astype(np.float32)
    beta = rng.uniform(-1.5, -0.2, channels).astype(np.float32)
    return gamma, beta


def large_mean_batch(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A float32 batch whose first feature is about 100 with a spread of about 0.1.

    Its variance, about 0.01, is what E[x^2] - E[x]^2 in float32 cannot compute: the two
    terms are about 10,000 and float32 holds them to about 0.001.
    """
    x = features(rng, shape)
    x[..., 0] = (100.0 + 0.1 * rng.normal(size=shape[:-1])).astype(np.float32)
    return x


def batch_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case("a (4, 3) dense batch", {"x": np.round(features(rng, (4, 3)), 3)}, "dense"),
        Case("a (6, 5) dense batch", {"x": features(rng, (6, 5))}, "dense"),
        Case(
            "a (6, 5) dense batch with a constant feature",
            {"x": with_constant_feature(features(rng, (6, 5)))},
            "dense",
        ),
        Case("a (2, 3, 4, 5) batch of feature maps", {"x": features(rng, (2, 3, 4, 5))}, "conv"),
        Case(
            "an (8, 3) dense batch whose first feature is about 100 give or take 0.1",
            {"x": large_mean_batch(rng, (8, 3))},
            "dense",
        ),
    ]


def batch_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    axes = tuple(range(x.ndim - 1))
    x64 = x.astype(np.float64)
    return x64.mean(axis=axes).astype(np.float32), x64.var(axis=axes).astype(np.float32)
