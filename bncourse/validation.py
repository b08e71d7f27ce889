"""Checking what callers pass in, the same way everywhere in the package.

Bad input gets a TypeError or ValueError that names the argument; good input comes back as
a float64 copy, so no function can modify its caller's arrays by accident.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["float64_array"]


def float64_array(value: Any, name: str, *, finite: bool = True) -> np.ndarray:
    """``value`` as a new float64 array, or a TypeError/ValueError that names ``name``.

    Real numbers only (bool, complex, strings and objects are refused); with ``finite``
    (the default) NaN and infinities are refused too.
    """
    try:
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
    except (TypeError, ValueError) as error:  # ragged lists and the like
        raise TypeError(f"{name} must be a numeric array; got {type(value).__name__}") from error
    if array.dtype.kind not in "fiu":
        raise TypeError(
            f"{name} must hold real numbers (float or int); got an array of dtype {array.dtype}"
        )
    result = array.astype(np.float64)  # always a copy
    if finite and not np.all(np.isfinite(result)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return result
