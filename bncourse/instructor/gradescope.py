"""A Gradescope autograder for one lesson: ``bncourse gradescope build LESSON -o autograder.zip``.

Gradescope builds an Ubuntu image from the zip once (``setup.sh``) and then, for every
learner's submission, runs ``run_autograder`` in a fresh container with the submission in
``/autograder/submission`` and expects ``/autograder/results/results.json``
(https://gradescope-autograders.readthedocs.io/en/latest/specs/). The zip holds:

* ``setup.sh``: finds or installs Python 3.11 to 3.13, installs bubblewrap, and installs the
  course (its pinned dependencies) from the zip's own copy into ``/autograder/venv``;
* ``run_autograder``: runs ``bncourse gradescope run``, which grades the submitted lesson
  notebook exactly as ``bncourse grade`` does (same sandbox, checks, diagnoses, hints used
  and quiz score) and writes results.json;
* ``course/``: the course (``pyproject.toml``, ``bncourse/``, ``quizzes/``) and
  ``gradescope.json`` (the lesson, the limits).

Both scripts take their root from ``AUTOGRADER_ROOT`` (default ``/autograder``), so they can
run in a folder laid out as Gradescope lays it out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

__all__ = ["build_autograder", "run", "validate_results", "main"]

COURSE_FILES = ("pyproject.toml", "README.md")
COURSE_FOLDERS = ("bncourse", "quizzes")
CONFIG = "gradescope.json"

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu).
# It installs bubblewrap and the course with its pinned dependencies into $ROOT/venv.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
if [ -z "${BNCOURSE_SETUP_NO_APT:-}" ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq bubblewrap python3-venv python3-pip >/dev/null
fi
pick_python() {
  for candidate in ${BNCOURSE_SETUP_PYTHON:-} python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c \
        'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 13)))'; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}
PYTHON="$(pick_python || true)"
if [ -z "$PYTHON" ] && [ -z "${BNCOURSE_SETUP_NO_APT:-}" ]; then
  apt-get install -y -qq python3.11 python3.11-venv >/dev/null || true
  PYTHON="$(pick_python || true)"
fi
if [ -z "$PYTHON" ]; then
  echo "setup.sh: no Python 3.11 to 3.13 found or installable" >&2; exit 1
fi
VENV_FLAGS=()
[ -n "${BNCOURSE_SETUP_SYSTEM_SITE:-}" ] && VENV_FLAGS+=(--system-site-packages)
"$PYTHON" -m venv "${VENV_FLAGS[@]}" "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --upgrade pip
"$ROOT/venv/bin/python" -m pip install --quiet -e "$SOURCE/course"
"$ROOT/venv/bin/python" -c "import bncourse.instructor.gradescope" && echo "setup.sh: ready"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes $ROOT/results/results.json.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
mkdir -p "$ROOT/results"
exec "$ROOT/venv/bin/python" -m bncourse.instructor.gradescope run --root "$ROOT"
"""

# ---------------------------------------------------------------------------
# Gradescope's documented results.json fields, checked by ``validate_results``.
# ---------------------------------------------------------------------------

_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
_FORMATS = {"text", "html", "simple_format", "md", "ansi"}
_TOP = {
    "score": (int, float),
    "execution_time": (int, float),
    "output": str,
    "output_format": str,
    "test_output_format": str,
    "test_name_format": str,
    "visibility": str,
    "stdout_visibility": str,
    "extra_data": dict,
    "tests": list,
    "leaderboard": list,
}
_TEST = {
    "score": (int, float),
    "max_score": (int, float),
    "status": str,
    "name": str,
    "name_format": str,
    "number": str,
    "output": str,
    "output_format": str,
    "tags": list,
    "visibility": str,
    "extra_data": dict,
}


def validate_results(data: Any) -> list[str]:
    """Problems with a results.json against Gradescope's specification; [] if none."""
    if not isinstance(data, dict):
        return ["results.json must hold a JSON object"]
    problems = [f"unknown top-level field {k!r}" for k in data if k not in _TOP]
    for key, kind in _TOP.items():
        if key in data and (not isinstance(data[key], kind) or isinstance(data[key], bool)):
            problems.append(f"{key!r} has the wrong type ({type(data[key]).__name__})")
    tests = data.get("tests", [])
    if "score" not in data and not (
        isinstance(tests, list)
        and tests
        and all(isinstance(t, dict) and "score" in t for t in tests)
    ):
        problems.append("'score' is required unless every test has one")
    for key in ("visibility", "stdout_visibility"):
        if key in data and data[key] not in _VISIBILITY:
            problems.append(f"{key!r} must be one of {sorted(_VISIBILITY)}")
    for key in ("output_format", "test_output_format"):
        if key in data and data[key] not in _FORMATS:
            problems.append(f"{key!r} must be one of {sorted(_FORMATS)}")
    for index, test in enumerate(tests if isinstance(tests, list) else []):
        where = f"tests[{index}]"
        if not isinstance(test, dict):
            problems.append(f"{where} must be an object")
            continue
        problems += [f"{where}: unknown field {k!r}" for k in test if k not in _TEST]
        for key, kind in _TEST.items():
            if key in test and (not isinstance(test[key], kind) or isinstance(test[key], bool)):
                problems.append(f"{where}: {key!r} has the wrong type")
        if "status" in test and test["status"] not in ("passed", "failed"):
            problems.append(f"{where}: 'status' must be 'passed' or 'failed'")
        if "visibility" in test and test["visibility"] not in _VISIBILITY:
            problems.append(f"{where}: 'visibility' must be one of {sorted(_VISIBILITY)}")
        if "score" in test and "max_score" in test and test["score"] > test["max_score"]:
            problems.append(f"{where}: 'score' exceeds 'max_score'")
    return problems


# ---------------------------------------------------------------------------
# Building the zip.
# ---------------------------------------------------------------------------


def _project_root() -> Path:
    return Path(__file__).resolve().parents[2]


def build_autograder(
    lesson: str,
    out: Path,
    *,
    timeout: float = 120.0,
    memory_mb: int = 2048,
    root: Path | None = None,
) -> Path:
    """Write the autograder zip for ``lesson``; returns its path."""
    from bncourse.grading import EXERCISES
    from bncourse.quiz import stems

    known = {e.lesson for e in EXERCISES.values()} | set(stems())
    if lesson not in known:
        raise ValueError(f"unknown lesson {lesson!r}; choose from {', '.join(sorted(known))}")
    project = root or _project_root()
    config = {"lesson": lesson, "timeout": timeout, "memory_mb": memory_mb}
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            archive.writestr(info, text)
        archive.writestr(f"course/{CONFIG}", json.dumps(config, indent=2))
        for name in COURSE_FILES:
            archive.write(project / name, f"course/{name}")
        for folder in COURSE_FOLDERS:
            for path in sorted((project / folder).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, f"course/{path.relative_to(project)}")
    return out


# ---------------------------------------------------------------------------
# Running it for one submission.
# ---------------------------------------------------------------------------


def _write(results_dir: Path, data: dict[str, Any]) -> dict[str, Any]:
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "results.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return data


def _message(text: str, seconds: float) -> dict[str, Any]:
    return {
        "score": 0.0,
        "execution_time": round(seconds, 2),
        "output": text,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
    }


def _choose(notebooks: list[Path], lesson: str) -> tuple[Path | None, str]:
    """The submitted notebook to grade, and a note about the others (or why none)."""
    from bncourse.instructor.grader import lesson_of, parse_notebook

    if not notebooks:
        return None, (
            f"No notebook (.ipynb) was found in your submission. Upload your {lesson}.ipynb "
            "notebook, saved after running it."
        )
    if len(notebooks) == 1:
        return notebooks[0], ""
    matching = []
    for path in notebooks:
        data, _ = parse_notebook(path.read_bytes() if path.stat().st_size < 20_000_000 else "")
        if data is not None and lesson_of(data) == lesson:
            matching.append(path)
    named = [p for p in matching if p.stem == lesson] or matching
    names = ", ".join(sorted(p.name for p in notebooks))
    if len(named) == 1:
        others = ", ".join(sorted(p.name for p in notebooks if p != named[0]))
        return named[0], f"Graded {named[0].name}; not graded: {others}."
    return None, (
        f"Your submission has {len(notebooks)} notebooks ({names}) and the grader cannot tell "
        f"which one is the lesson: submit only {lesson}.ipynb."
    )


def run(root: Path) -> dict[str, Any]:
    """Grade the submission under ``root`` (Gradescope's layout); returns results.json."""
    from bncourse.instructor.grader import grade_submission, read_submission
    from bncourse.instructor.report import gradescope_payload
    from bncourse.instructor.sandbox import Limits, bubblewrap_available

    start = time.monotonic()
    results_dir = root / "results"
    config_path = root / "source" / "course" / CONFIG
    config = json.loads(config_path.read_text(encoding="utf-8"))
    lesson = config["lesson"]
    submission = root / "submission"
    notebooks = sorted(
        p for p in submission.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )
    chosen, note = _choose(notebooks, lesson)
    if chosen is None:
        others = sorted(p.name for p in submission.rglob("*") if p.is_file())
        if others and not notebooks:
            note += f" Found instead: {', '.join(others[:10])}."
        return _write(results_dir, _message(note, time.monotonic() - start))
    limits = Limits(
        seconds=float(config.get("timeout", 120)), memory_mb=config.get("memory_mb", 2048)
    )
    with tempfile.TemporaryDirectory(prefix="bncourse-gradescope-") as scratch_root:
        result = grade_submission(
            chosen,
            chosen.name,
            read_submission(chosen),
            limits=limits,
            check_timeout=5.0,
            sandbox=bubblewrap_available(),
            scratch_root=Path(scratch_root),
            lesson=lesson,
        )
    data = gradescope_payload(result)
    if note:
        data["output"] = f"{note}\n{data['output']}"
    data["execution_time"] = round(time.monotonic() - start, 2)
    data["stdout_visibility"] = "hidden"
    data["extra_data"] = {
        "status": result.status,
        "lesson": lesson,
        "diagnoses": {c.exercise: c.diagnoses for c in result.checks if c.diagnoses},
        "hints_used": {c.exercise: c.hints_used for c in result.checks},
    }
    return _write(results_dir, data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bncourse gradescope", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="write the autograder zip for one lesson")
    build.add_argument("lesson", help="the lesson stem, e.g. 03_the_four_steps")
    build.add_argument("-o", "--out", type=Path, default=Path("autograder.zip"))
    build.add_argument("--timeout", type=float, default=120.0)
    build.add_argument("--memory", type=int, default=2048)
    runner = sub.add_parser("run", help="grade the submission under ROOT (run_autograder)")
    runner.add_argument(
        "--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "build":
        try:
            path = build_autograder(
                args.lesson, args.out, timeout=args.timeout, memory_mb=args.memory
            )
        except ValueError as error:
            print(f"bncourse gradescope: {error}", file=sys.stderr)
            return 2
        print(f"wrote {path} (upload it as the assignment's autograder on Gradescope)")
        return 0
    data = run(args.root)
    print(json.dumps({k: data[k] for k in ("score", "execution_time") if k in data}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
