"""bncourse: an interactive course on Batch Normalization.

``import bncourse`` is cheap: it loads NumPy and nothing heavier. The modules that need
matplotlib, ipywidgets or TensorFlow import them when they are first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from bncourse.seeding import seed_everything

__version__ = "0.1.0"
__all__ = ["seed_everything", "__version__"]

_SUBMODULES = {
    "reference",
    "grading",
    "data",
    "plotting",
    "widgets",
    "quiz",
    "keras_tools",
    "experiments",
    "build",
    "cli",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"bncourse.{name}")
    raise AttributeError(f"module 'bncourse' has no attribute {name!r}")
