"""JupyterLab settings the course needs: ``bncourse lab-settings``.

JupyterLab and Notebook 7 read ``<environment>/share/jupyter/lab/settings/overrides.json``.
The course turns on "save widget state" there: a saved lesson then carries each explorer's
last picture and the quiz's state, so reopening it shows them instead of "Error displaying
widget: model not found". It also turns off the news and update checks, whose toast would
cover the lesson (the course runs offline). ``make lab`` and Binder's ``postBuild`` run
this command; other routes run it once after installing (README).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["OVERRIDES", "settings_path", "install", "main"]

OVERRIDES: dict[str, dict[str, Any]] = {
    "@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True},
    # No "get notified about official Jupyter news?" toast over the lesson: the course
    # runs offline, and the toast covers the explorer's lower right corner.
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def settings_path(prefix: Path | str | None = None) -> Path:
    """Where JupyterLab looks for overrides in the environment at ``prefix``."""
    return Path(prefix or sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def install(prefix: Path | str | None = None) -> Path:
    """Merge ``OVERRIDES`` into the environment's overrides.json (other settings kept)."""
    path = settings_path(prefix)
    current: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            current = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            current = {}
    for plugin, values in OVERRIDES.items():
        entry = current.get(plugin) if isinstance(current.get(plugin), dict) else {}
        current[plugin] = {**entry, **values}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bncourse lab-settings",
        description="Write the JupyterLab settings the course needs (save widget state, no news).",
    )
    parser.add_argument("--prefix", type=Path, default=None, help="environment (sys.prefix)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    print(f"wrote {install(args.prefix)}")
    return 0
