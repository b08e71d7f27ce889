"""One helper that makes a run repeatable: Python, NumPy and (when used) Keras/TensorFlow."""

from __future__ import annotations

import os
import random
import sys

import numpy as np

__all__ = ["seed_everything"]


def seed_everything(seed: int = 0, *, keras: bool | None = None) -> np.random.Generator:
    """Seed every random number generator a lesson uses and return a NumPy ``Generator``.

    ``keras=None`` (the default) also seeds Keras and TensorFlow, and turns on
    TensorFlow's deterministic ops, when TensorFlow is already imported, so NumPy-only
    lessons never pay for importing it. ``keras=True`` imports and seeds it regardless;
    ``keras=False`` leaves it alone.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int; got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must lie in [0, 2**32); got {seed}")
    seed = int(seed)
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
