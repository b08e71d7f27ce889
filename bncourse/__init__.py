"""bncourse: an interactive course on Batch Normalization.

The package in layers (docs/ARCHITECTURE.md is the map):

* the core, which everything may use: ``reference`` (the NumPy BN), ``data``, ``plotting``,
  ``seeding``, ``validation`` and ``claims``;
* ``lab``: what several lessons share (the explorer base, Keras training and experiments);
* ``topics``: one module per lesson topic, its helpers and explorers side by side;
* ``grading``: ``check`` and the hint ladder, the judging engine and the exercise
  specifications; ``quiz``: the quiz banks, widget and authoring tools;
* ``instructor``: grading a class; ``tooling`` and ``cli``: the ``bncourse`` command.

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
    "claims",
    "cli",
    "data",
    "grading",
    "instructor",
    "lab",
    "plotting",
    "quiz",
    "reference",
    "seeding",
    "tooling",
    "topics",
    "validation",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"bncourse.{name}")
    raise AttributeError(f"module 'bncourse' has no attribute {name!r}")
