"""Numerical gradients by central differences: the independent check of a backward pass.

A backward pass is easy to get almost right. The check here needs no calculus: nudge one
input element up and down by ``h``, see how a scalar loss changes, and divide,

    dL/dx[i] ~ (L(x + h e_i) - L(x - h e_i)) / (2 h),

whose error shrinks like ``h**2``. The loss is ``L = sum(dout * f(x))`` for a fixed
``dout``, which makes the numerical gradient directly comparable with what a backward
pass returns when it is handed ``dout`` as the upstream gradient.

Everything here computes in float64 and returns float64: in float32, the difference of two
nearly equal losses would lose most of its digits. So the function ``f`` being checked
should compute in float64 too. (Central differences and relative errors as in the CS231n
notes, "Neural Networks Part 3", section "Gradient checks".)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bncourse.validation import float64_array

__all__ = ["numerical_gradient", "relative_error"]


def numerical_gradient(
    f: Callable[[np.ndarray], Any],
    x: Any,
    dout: Any = None,
    *,
    h: float = 1e-5,
) -> np.ndarray:
    """The central-difference gradient of ``L = sum(dout * f(x))`` with respect to ``x``.

    ``f`` maps an array shaped like ``x`` to an array (any shape); ``dout`` has the shape
    of ``f(x)`` and defaults to ones (then ``L = sum(f(x))``). ``f`` is called twice per
    element of ``x``, each time on a float64 copy with one element moved by ``+h`` or
    ``-h``; ``x`` itself is never modified. Returns a float64 array shaped like ``x``.
    """
    if not callable(f):
        raise TypeError(f"f must be a function; got {type(f).__name__}")
    if isinstance(h, bool) or not isinstance(h, (int, float, np.integer, np.floating)):
        raise TypeError(f"h must be a number; got {type(h).__name__}")
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"h must be a finite number > 0; got {h}")
    point = float64_array(x, "x")
    if point.size == 0:
        raise ValueError(f"x must not be empty; got shape {point.shape}")
    output_shape = np.shape(f(point.copy()))
    weights = np.ones(output_shape) if dout is None else float64_array(dout, "dout")
    if weights.shape != output_shape:
        raise ValueError(
            f"dout must have the shape of f(x), {output_shape}; got shape {weights.shape}"
        )

    def loss(at: np.ndarray) -> float:
        return float(np.sum(weights * np.asarray(f(at), dtype=np.float64)))

    grad = np.zeros_like(point)
    flat_point, flat_grad = point.reshape(-1), grad.reshape(-1)  # views into the copies
    for index in range(flat_point.size):
        original = flat_point[index]
        flat_point[index] = original + h
        up = loss(point.copy())
        flat_point[index] = original - h
        down = loss(point.copy())
        flat_point[index] = original
        flat_grad[index] = (up - down) / (2.0 * h)
    return grad


def relative_error(got: Any, expected: Any, *, per_feature: bool = False) -> Any:
    """How far apart two gradients are, relative to their size: ``|a - b| / (|a| + |b|)``.

    ``|.|`` is the Euclidean norm over all elements, so one number comes back (a float);
    with ``per_feature=True`` the norms run over every axis but the last, giving one
    error per feature, shape ``(C,)``. The result lies in [0, 1]: 0 for identical arrays,
    1 when they point in opposite directions or one of them is zero. Two all-zero arrays
    have error 0.
    """
    a = float64_array(got, "got")
    b = float64_array(expected, "expected")
    if a.shape != b.shape:
        raise ValueError(f"got and expected must have the same shape; got {a.shape} and {b.shape}")
    if per_feature and a.ndim < 1:
        raise ValueError("per_feature=True needs arrays with a feature axis (the last)")
    axes = tuple(range(a.ndim - 1)) if per_feature else None
    difference = np.sqrt(np.sum((a - b) ** 2, axis=axes))
    size = np.sqrt(np.sum(a**2, axis=axes)) + np.sqrt(np.sum(b**2, axis=axes))
    error = np.where(size > 0, difference / np.where(size > 0, size, 1.0), 0.0)
    return error if per_feature else float(error)
