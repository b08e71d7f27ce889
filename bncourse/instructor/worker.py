"""The sandboxed side of ``bncourse grade``: run one submission, record what it does.

Run as ``python -m bncourse.instructor.worker SCRATCH``, inside the sandbox, with the
scratch directory as the only writable place. It reads ``SCRATCH/job.json`` and
``SCRATCH/submission.ipynb``, runs the cells grading needs, calls each exercise function
on the test inputs, and writes:

* ``progress.json`` before every step (so a crash can be located),
* ``notebook.json`` after the cells ran (errors, the quiz answers),
* ``ex_<id>.json`` / ``ex_<id>.npz`` per exercise (observations, see ``transport``).

It never judges anything: the grader process does, on these files.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

# Bound before any learner code runs, so a submission that replaces them cannot stop the
# worker from reporting (it could only crash it, which the grader reports).
_dumps = json.dumps
_monotonic = time.monotonic


class _CellTimeout(BaseException):
    """Raised by the alarm inside a cell that runs too long."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _CellTimeout()


def _write(path: Path, data: Any) -> None:
    path.write_text(_dumps(data), encoding="utf-8")


def _json_safe(value: Any, depth: int = 0) -> Any:
    """The learner's quiz answers as plain JSON data; anything else becomes its repr."""
    if depth > 4:
        return None
    if value is None or isinstance(value, (bool, str)):
        return value if not isinstance(value, str) else value[:200]
    if isinstance(value, (int, float)):
        number = float(value)
        return value if math.isfinite(number) and not isinstance(value, bool) else str(value)
    if isinstance(value, (list, tuple)):
        return [_json_safe(item, depth + 1) for item in list(value)[:50]]
    if isinstance(value, dict):
        return {str(k)[:100]: _json_safe(v, depth + 1) for k, v in list(value.items())[:200]}
    try:  # NumPy scalars and the like
        return _json_safe(value.item(), depth + 1)
    except Exception:  # noqa: BLE001 - anything else is reported as text
        return repr(value)[:200]


def _without_magics(source: str) -> str:
    """IPython-only lines (%magic, !shell) become `pass`; a %%cell magic empties the cell."""
    if source.lstrip().startswith("%%"):
        return ""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass"
        lines.append(line)
    return "\n".join(lines)


def _definitions_only(source: str, name: str) -> Any:
    """The cell's code without its top-level expression statements (displays, plots,
    widgets): grading needs what a cell defines, not what it shows."""
    import ast

    tree = ast.parse(source, name)
    tree.body = [node for node in tree.body if not isinstance(node, ast.Expr)]
    return compile(tree, name, "exec")


def _cell_sources(notebook: dict[str, Any], skip_tags: set[str]) -> list[str]:
    sources = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []) or [])
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if tags & skip_tags:
            sources.append("")  # keep numbering: cell N is the Nth code cell
            continue
        sources.append(_without_magics(source))
    return sources


def run(scratch: Path) -> int:
    job = json.loads((scratch / "job.json").read_text(encoding="utf-8"))
    exercises_wanted: list[str] = job["exercises"]
    cell_timeout = float(job["cell_timeout"])
    check_timeout = float(job["check_timeout"])

    # Everything the grader needs is imported and generated before learner code runs.
    from bncourse.grading import get_exercise, observe
    from bncourse.instructor.slicing import needed_cells
    from bncourse.instructor.transport import write_observations

    exercises = [get_exercise(name) for name in exercises_wanted]
    cases = {exercise.id: exercise.cases() for exercise in exercises}

    notebook = json.loads((scratch / "submission.ipynb").read_text(encoding="utf-8"))
    sources = _cell_sources(notebook, set(job.get("skip_tags", [])))
    wanted = [*exercises_wanted, "quiz_answers"]
    selected = needed_cells(sources, wanted)
    for exercise in exercises:  # warm imports (Keras for a model builder) before sandboxing
        exercise.invoke(lambda *args: None)

    # From here on the submission's code runs: give up every file but the scratch folder.
    rules = job.get("landlock")
    landlock_abi = 0
    if rules:
        from bncourse.instructor.landlock import restrict

        landlock_abi = restrict(
            [Path(p) for p in rules["readable"]], [Path(p) for p in rules["writable"]]
        )

    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "__builtins__": __builtins__,
        "display": lambda *args, **kwargs: None,
    }
    errors: list[dict[str, Any]] = []
    signal.signal(signal.SIGALRM, _on_alarm)
    for index in selected:
        _write(scratch / "progress.json", {"step": "cell", "cell": index + 1})
        try:
            code = _definitions_only(sources[index], f"<cell {index + 1}>")
            signal.setitimer(signal.ITIMER_REAL, cell_timeout)
            try:
                exec(code, namespace)  # noqa: S102 - this is the sandboxed worker's job
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except _CellTimeout:
            errors.append({"cell": index + 1, "error": f"timed out after {cell_timeout:g} s"})
        except BaseException as error:  # noqa: BLE001 - SystemExit and MemoryError included
            frames = traceback.extract_tb(error.__traceback__)
            line = next(
                (f.lineno for f in reversed(frames) if f.filename.startswith("<cell")), None
            )
            where = f" (line {line})" if line else ""
            errors.append(
                {
                    "cell": index + 1,
                    "error": f"{type(error).__name__}: {str(error)[:300]}{where}",
                    "memory": isinstance(error, MemoryError),
                }
            )
        if len(errors) > 50:
            break

    _write(
        scratch / "notebook.json",
        {
            "code_cells": len(sources),
            "cells_run": len(selected),
            "errors": errors[:50],
            "quiz_answers": _json_safe(namespace.get("quiz_answers")),
            "defined": [name for name in exercises_wanted if callable(namespace.get(name))],
            "landlock": landlock_abi,
        },
    )

    for exercise in exercises:
        _write(scratch / "progress.json", {"step": "check", "exercise": exercise.id})
        fn = namespace.get(exercise.id)
        if not callable(fn):
            continue
        observations = observe(exercise, fn, cases[exercise.id], check_timeout)
        write_observations(observations, scratch / f"ex_{exercise.id}")
    _write(scratch / "progress.json", {"step": "done"})
    return 0


def main() -> None:
    scratch = Path(sys.argv[1]).resolve()
    sys.setrecursionlimit(3000)
    code = run(scratch)
    sys.stdout.flush()
    # Leave without running the submission's atexit handlers or finalizers.
    import os

    os._exit(code)


if __name__ == "__main__":
    main()
