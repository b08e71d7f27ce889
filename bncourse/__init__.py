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

# TensorFlow's C++ runtime logs to the process's stderr, which the notebook shows as pink
# boxes: start-up notes (CPU instruction sets, oneDNN) at import, and with Keras 3.15 on
# TensorFlow 2.21 an ERROR-level "NodeDef mentions attribute use_unbounded_threadpool" line
# at every model.fit, which is harmless (an attribute the runtime ignores). The lessons
# import bncourse before TensorFlow, so these logs stay out of them; Python exceptions and
# warnings are not affected. Set TF_CPP_MIN_LOG_LEVEL yourself to see them.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

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
