"""bncourse: an interactive course on Batch Normalization.

``import bncourse`` is cheap: it loads NumPy and nothing heavier. The modules that need
matplotlib, ipywidgets or TensorFlow import them when they are first used.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from bncourse.seeding import seed_everything

# TensorFlow prints start-up notes (CPU instruction sets, oneDNN) to the notebook when it is
# imported; the lessons import bncourse first so that only warnings and errors show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
__all__ = ["seed_everything", "__version__"]

_SUBMODULES = {
    "activations",
    "build",
    "cli",
    "data",
    "experiments",
    "feature_maps",
    "gradcheck",
    "gradient_descent",
    "grading",
    "norm_axes",
    "plotting",
    "quiz",
    "reference",
    "small_batches",
    "training",
    "transfer",
    "widgets",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"bncourse.{name}")
    raise AttributeError(f"module 'bncourse' has no attribute {name!r}")
