"""Seeds: one helper that makes a run repeatable, and one switch that moves every seed.

``seed_everything(seed)`` seeds Python, NumPy and (when used) Keras/TensorFlow. Every seed
the course's helpers consume (weight initialization, mini-batch order, generated data,
data splits) goes through ``resolve(seed)``, which adds the base-seed offset read from
the ``BNCOURSE_SEED_OFFSET`` environment variable (default 0). Running a lesson with
``BNCOURSE_SEED_OFFSET=1000`` therefore repeats every experiment with other random
numbers, which is how the tests check that a lesson's claims do not depend on lucky seeds.
The exercise checks' test inputs do not move: they are fixed test cases, not measurements.
"""

from __future__ import annotations

import os
import random
import sys

import numpy as np

__all__ = ["seed_everything", "resolve", "seed_offset", "OFFSET_ENV"]

OFFSET_ENV = "BNCOURSE_SEED_OFFSET"
"""Environment variable: an integer added to every seed the lessons use (default 0)."""

_LIMIT = 2**32


def seed_offset() -> int:
    """The base-seed offset from ``BNCOURSE_SEED_OFFSET`` (0 when unset or empty)."""
    text = os.environ.get(OFFSET_ENV, "").strip()
    if not text:
        return 0
    try:
        return int(text)
    except ValueError as error:
        raise ValueError(f"{OFFSET_ENV} must be an integer; got {text!r}") from error


def _checked(seed: object, name: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {type(seed).__name__}")
    if not 0 <= seed < _LIMIT:
        raise ValueError(f"{name} must lie in [0, 2**32); got {seed}")
    return int(seed)


def resolve(seed: int) -> int:
    """The seed a helper actually uses: ``seed`` plus the base-seed offset, mod 2**32."""
    return (_checked(seed) + seed_offset()) % _LIMIT


def seed_everything(seed: int = 0, *, keras: bool | None = None) -> np.random.Generator:
    """Seed every random number generator a lesson uses and return a NumPy ``Generator``.

    The seed is moved by ``BNCOURSE_SEED_OFFSET`` (see ``resolve``). ``keras=None`` (the
    default) also seeds Keras and TensorFlow, and turns on TensorFlow's deterministic ops,
    when TensorFlow is already imported, so NumPy-only lessons never pay for importing it.
    ``keras=True`` imports and seeds it regardless; ``keras=False`` leaves it alone.
    """
    seed = resolve(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - learners' code may use the legacy global API
    use_keras = (
        keras if keras is not None else ("tensorflow" in sys.modules or "keras" in sys.modules)
    )
    if use_keras:
        os.environ["TF_DETERMINISTIC_OPS"] = "1"
        import keras as keras_module
        import tensorflow as tf

        keras_module.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
    return np.random.default_rng(seed)
