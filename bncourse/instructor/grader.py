"""Grading one submission: read it, run it in the sandbox, judge what it did.

This is the trusted side. It reads the submitted notebook only as JSON (never executes
it), generates the test inputs itself, and judges the worker's observations with
``bncourse.grading.judge`` in this process, which the submission never touches.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bncourse.grading import EXERCISES, CheckResult, get_exercise
from bncourse.grading.execution import Observation
from bncourse.instructor.sandbox import Limits, landlock_paths, run_worker
from bncourse.instructor.transport import TransportError, read_observations

__all__ = [
    "SubmissionResult",
    "grade_submission",
    "hints_seen",
    "kept_quiz_answers",
    "lesson_of",
    "parse_notebook",
    "read_submission",
    "saved_outputs",
    "saved_payloads",
]

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
SKIP_TAGS = ["experiment"]


@dataclass
class SubmissionResult:
    """Everything the reports need about one submission."""

    path: Path
    name: str  # how the submission is named in the gradebook
    status: str  # ok, unreadable, empty, timeout, memory, crashed, unknown-lesson
    lesson: str | None = None
    checks: list[CheckResult] = field(default_factory=list)
    quiz: Any = None  # bncourse.quiz's result for the latest answers, or None
    quiz_first: Any = None  # the result of the first attempt (the latest if none was kept)
    detail: str = ""  # what went wrong, for people
    cell_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        counted = self.quiz_first if self.quiz_first is not None else self.quiz
        quiz = float(counted.score) if counted is not None else 0.0
        return round(sum(c.score for c in self.checks) + quiz, 4)

    @property
    def max_score(self) -> float:
        quiz = float(self.quiz.max_score) if self.quiz is not None else 0.0
        return round(sum(c.max_score for c in self.checks) + quiz, 4)


def read_submission(path: Path) -> bytes | str:
    """The file's bytes, or the reason it cannot be read. All submissions are read before
    any of them runs, so no submission can change another one."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return f"the file is {size / 1e6:.0f} MB; notebooks are limited to 20 MB"
        return path.read_bytes()
    except OSError as error:
        return f"cannot read the file: {error}"


def parse_notebook(content: bytes | str) -> tuple[dict[str, Any] | None, str]:
    """The notebook as data, or None and the reason it is unreadable."""
    if isinstance(content, str):
        return None, content
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None, "the file is not UTF-8 text: is this a notebook?"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return None, f"not valid JSON (line {error.lineno}): is this a notebook?"
    import warnings

    import nbformat

    try:
        notebook = nbformat.from_dict(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. cells without ids: old but valid notebooks
            nbformat.validate(notebook)
    except Exception as error:  # noqa: BLE001 - nbformat raises several validation errors
        first = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error)
        return None, f"not a valid Jupyter notebook (nbformat 4): {first}"
    if notebook.get("nbformat") != 4:
        return None, "not a Jupyter notebook in format 4"
    return data, ""


def lesson_of(notebook: dict[str, Any]) -> str | None:
    """The lesson a notebook belongs to: its metadata, else its quiz or exercise names."""
    lesson = notebook.get("metadata", {}).get("bncourse", {}).get("lesson")
    if isinstance(lesson, str):
        return lesson
    import re

    sources = [
        "".join(c["source"]) if isinstance(c.get("source"), list) else str(c.get("source", ""))
        for c in notebook.get("cells", [])
        if c.get("cell_type") == "code"
    ]
    text = "\n".join(sources)
    match = re.search(r"quiz\.show\(\s*[\"'](\d\d_[a-z_]+)[\"']", text)
    if match:
        return match.group(1)
    defined = set(re.findall(r"^def (\w+)\(", text, flags=re.MULTILINE))
    lessons = {e.lesson for name, e in EXERCISES.items() if name in defined}
    return lessons.pop() if len(lessons) == 1 else None


def saved_outputs(notebook: dict[str, Any], mimetype: str) -> list[dict[str, Any]]:
    """Every saved output's ``mimetype`` data that is a JSON object, in notebook order.

    Read as data from the submitted file, never by running it: they say what the learner
    saw when they last ran each cell (which hints they asked for, which answers they kept).
    """
    found = []
    for cell in notebook.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []) or []:
            data = output.get("data") if isinstance(output, dict) else None
            payload = data.get(mimetype) if isinstance(data, dict) else None
            if isinstance(payload, dict):
                found.append(payload)
    return found


def saved_payloads(notebook: dict[str, Any]) -> list[dict[str, Any]]:
    """The course's JSON outputs (checks, hints, quizzes, claims) saved in the notebook."""
    from bncourse.claims import RESULT_MIMETYPE

    return saved_outputs(notebook, RESULT_MIMETYPE)


def hints_seen(notebook: dict[str, Any]) -> dict[str, int]:
    """The highest hint level each exercise's saved hint outputs show."""
    seen: dict[str, int] = {}
    for payload in saved_payloads(notebook):
        level = payload.get("level")
        name = payload.get("name")
        if payload.get("kind") == "hint" and isinstance(name, str) and isinstance(level, int):
            seen[name] = max(seen.get(name, 0), level)
    return seen


def kept_quiz_answers(notebook: dict[str, Any], lesson: str) -> dict[str, Any] | None:
    """The quiz answers the learner submitted and saved (the last record for ``lesson``)."""
    from bncourse.quiz.widget import ANSWERS_MIMETYPE

    records = [
        record
        for record in saved_outputs(notebook, ANSWERS_MIMETYPE)
        if record.get("stem") == lesson and isinstance(record.get("answers"), dict)
    ]
    return records[-1] if records else None


def _exercises_of(lesson: str) -> list[str]:
    return [name for name, exercise in EXERCISES.items() if exercise.lesson == lesson]


def _missing_check(exercise_id: str, why: str) -> CheckResult:
    return CheckResult.unscored(exercise_id, get_exercise(exercise_id).max_score, "missing", why)


def grade_submission(
    path: Path,
    name: str,
    content: bytes | str,
    *,
    limits: Limits,
    check_timeout: float,
    sandbox: bool,
    scratch_root: Path | None = None,
    lesson: str | None = None,
) -> SubmissionResult:
    """Grade one notebook file. Never raises for anything the file contains."""
    notebook, problem = parse_notebook(content)
    if notebook is None:
        return SubmissionResult(path, name, "unreadable", detail=problem)
    lesson = lesson or lesson_of(notebook)
    code_cells = [
        c for c in notebook.get("cells", []) if c.get("cell_type") == "code" and c.get("source")
    ]
    if not code_cells:
        return SubmissionResult(
            path, name, "empty", lesson=lesson, detail="the notebook has no code"
        )
    if lesson is None:
        return SubmissionResult(
            path,
            name,
            "unknown-lesson",
            detail="cannot tell which lesson this is; pass --lesson",
        )
    exercise_ids = _exercises_of(lesson)
    scratch = Path(tempfile.mkdtemp(prefix="submission-", dir=scratch_root)).resolve()
    try:
        (scratch / "submission.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
        job = {
            "exercises": exercise_ids,
            "cell_timeout": max(1.0, min(30.0, limits.seconds / 2)),
            "check_timeout": check_timeout,
            "skip_tags": SKIP_TAGS,
            "landlock": landlock_paths(scratch),
        }
        (scratch / "job.json").write_text(json.dumps(job), encoding="utf-8")
        outcome = run_worker(scratch, limits, sandbox=sandbox)
        result = _collect(path, name, lesson, exercise_ids, scratch, outcome)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    kept = kept_quiz_answers(notebook, lesson)
    if kept is not None and result.quiz is not None:
        result.quiz = _grade_quiz(lesson, kept["answers"])
        first = kept.get("first_attempt")
        result.quiz_first = _grade_quiz(
            lesson, first if isinstance(first, dict) else kept["answers"]
        )
    else:
        result.quiz_first = result.quiz
    seen = hints_seen(notebook)
    for check in result.checks:
        check.hints_used = seen.get(check.exercise, 0)
        check.hint_levels = len(get_exercise(check.exercise).hints)
    return result


def _read_json(path: Path) -> Any:
    try:
        if path.stat().st_size > 2_000_000:
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _collect(
    path: Path,
    name: str,
    lesson: str,
    exercise_ids: list[str],
    scratch: Path,
    outcome: Any,
) -> SubmissionResult:
    from bncourse.grading.judge import judge as default_judge

    result = SubmissionResult(path, name, "ok", lesson=lesson, seconds=outcome.seconds)
    progress = _read_json(scratch / "progress.json") or {}
    notebook_info = _read_json(scratch / "notebook.json")
    finished = isinstance(progress, dict) and progress.get("step") == "done"
    where = _where(progress)
    if outcome.timed_out or outcome.returncode in (-24, 152):  # SIGXCPU: the CPU limit
        result.status = "timeout"
        result.detail = f"stopped after {outcome.seconds:.0f} s {where}".strip()
    elif outcome.out_of_memory:
        result.status = "memory"
        result.detail = f"used more memory than allowed {where}".strip()
    elif not finished:
        result.status = "crashed"
        tail = outcome.output.strip().splitlines()[-1:] if outcome.output.strip() else []
        exit_text = f"exit code {outcome.returncode}"
        result.detail = f"the process ended early ({exit_text}) {where}".strip()
        if tail:
            result.detail += f": {tail[0][:200]}"

    quiz_answers = None
    if isinstance(notebook_info, dict):
        for entry in notebook_info.get("errors", [])[:50]:
            if isinstance(entry, dict):
                result.cell_errors.append(f"cell {entry.get('cell')}: {entry.get('error')}"[:400])
                if entry.get("memory") and result.status == "ok":
                    result.status = "memory"
                    result.detail = f"MemoryError in cell {entry.get('cell')}"
        quiz_answers = notebook_info.get("quiz_answers")
        defined = set(notebook_info.get("defined", []))
    else:
        defined = set()

    for exercise_id in exercise_ids:
        exercise = get_exercise(exercise_id)
        cases = exercise.cases()
        stem = scratch / f"ex_{exercise_id}"
        if stem.with_suffix(".json").exists():
            try:
                observations: list[Observation] = read_observations(stem, len(cases))
                judge = exercise.custom_judge or default_judge
                result.checks.append(judge(exercise, cases, observations))
                continue
            except TransportError as error:
                why = f"the grader could not read this check's results ({error})"
        elif notebook_info is not None and exercise_id not in defined:
            why = f"{exercise_id} is not defined in the notebook (a cell that defines it failed?)"
        else:
            why = f"not graded: the submission {result.status} before this check"
            if result.status == "timeout" and progress.get("exercise") == exercise_id:
                why = f"{exercise_id} did not finish within the time limit"
        result.checks.append(_missing_check(exercise_id, why))

    result.quiz = _grade_quiz(lesson, quiz_answers)
    return result


def _where(progress: Any) -> str:
    if not isinstance(progress, dict):
        return ""
    if progress.get("step") == "cell":
        return f"in cell {progress.get('cell')}"
    if progress.get("step") == "check":
        return f"while checking {progress.get('exercise')}"
    return ""


def _grade_quiz(lesson: str, answers: Any) -> Any:
    from bncourse import quiz

    if lesson not in quiz.stems():
        return None
    return quiz.grade(lesson, answers if isinstance(answers, dict) else {})
