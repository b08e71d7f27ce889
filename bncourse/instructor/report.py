"""The grading outputs: gradebook.csv, a Gradescope results.json per submission,
misconceptions.csv and the summary printed at the end."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

from bncourse.grading import DIAGNOSES, gradescope_results
from bncourse.instructor.grader import SubmissionResult

__all__ = ["write_reports", "summary", "result_folder", "gradescope_payload"]


def result_folder(name: str) -> str:
    """A file-system-safe, unique folder name for a submission (any name, any script)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip("-.")[:60] or "submission"
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}"


def _quiz_column(lesson: str) -> str:
    return f"quiz:{lesson}"


def _final_quiz_column(lesson: str) -> str:
    return f"quiz-final:{lesson}"


def _columns(results: list[SubmissionResult]) -> tuple[list[str], list[str]]:
    exercises: list[str] = []
    quizzes: list[str] = []
    for result in results:
        for check in result.checks:
            if check.exercise not in exercises:
                exercises.append(check.exercise)
        if result.quiz is not None and result.lesson and result.lesson not in quizzes:
            quizzes.append(result.lesson)
    return exercises, quizzes


def gradescope_payload(result: SubmissionResult) -> dict[str, Any]:
    tests = [check.to_gradescope() for check in result.checks]
    if result.quiz is not None:
        first = result.quiz_first if result.quiz_first is not None else result.quiz
        output = str(result.quiz)
        if first is not result.quiz:
            output = (
                f"First attempt: {float(first.score):g}/{float(first.max_score):g} (this is the "
                f"score). Latest answers: {float(result.quiz.score):g}.\n" + output
            )
        tests.append(
            {
                "name": f"quiz {result.lesson}",
                "score": float(first.score),
                "max_score": float(first.max_score),
                "status": "passed" if first.score >= first.max_score else "failed",
                "output": output,
                "visibility": "visible",
            }
        )
    lines = [f"Status: {result.status}" + (f" ({result.detail})" if result.detail else "")]
    if result.cell_errors:
        lines.append("Errors while running the notebook:")
        lines.extend(f"  {error}" for error in result.cell_errors[:10])
    return gradescope_results(tests, output="\n".join(lines))


def write_reports(results: list[SubmissionResult], out: Path) -> None:
    """Write every output file under ``out`` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    exercises, quizzes = _columns(results)
    with (out / "gradebook.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["submission", "status", "score", "max_score", *exercises]
            + [_quiz_column(lesson) for lesson in quizzes]
            + [_final_quiz_column(lesson) for lesson in quizzes]
            + [f"hints:{exercise}" for exercise in exercises]
        )
        for result in results:
            by_id = {check.exercise: check for check in result.checks}
            row = [result.name, result.status, f"{result.score:g}", f"{result.max_score:g}"]
            row += [f"{by_id[e].score:g}" if e in by_id else "" for e in exercises]
            first = result.quiz_first if result.quiz_first is not None else result.quiz
            row += [
                f"{float(first.score):g}" if first is not None and result.lesson == lesson else ""
                for lesson in quizzes
            ]
            row += [
                f"{float(result.quiz.score):g}"
                if result.quiz is not None and result.lesson == lesson
                else ""
                for lesson in quizzes
            ]
            row += [str(by_id[e].hints_used) if e in by_id else "" for e in exercises]
            writer.writerow(row)

    submissions_dir = out / "submissions"
    for result in results:
        folder = submissions_dir / result_folder(result.name)
        folder.mkdir(parents=True, exist_ok=True)
        payload = gradescope_payload(result) | {"submission": result.name}
        (folder / "results.json").write_text(
            json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8"
        )

    with (out / "misconceptions.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["exercise", "diagnosis", "count"])
        for (exercise, diagnosis), count in _misconceptions(results).most_common():
            writer.writerow([exercise, diagnosis, count])


def _misconceptions(results: list[SubmissionResult]) -> Counter:
    counts: Counter = Counter()
    for result in results:
        for check in result.checks:
            for diagnosis in dict.fromkeys(check.diagnoses):
                counts[(check.exercise, diagnosis)] += 1
    return counts


def summary(results: list[SubmissionResult], seconds: float, top: int = 5) -> str:
    """A few lines for the instructor's terminal."""
    total = len(results)
    if total == 0:
        return "No submissions graded."
    statuses = Counter(result.status for result in results)
    status_text = ", ".join(f"{count} {status}" for status, count in statuses.most_common())
    rate = total / seconds * 60 if seconds > 0 else float("inf")
    lines = [
        f"Graded {total} submission(s) in {seconds:.1f} s ({rate:.0f} per minute): {status_text}."
    ]
    scored = [r for r in results if r.max_score > 0]
    if scored:
        mean = sum(r.score for r in scored) / len(scored)
        best = max(r.max_score for r in scored)
        lines.append(f"Mean score {mean:.2f} of {best:g}.")
    troubled = [r for r in results if r.status == "ok" and r.cell_errors]
    if troubled:
        lines.append(
            f"{len(troubled)} graded submission(s) had cells that raised or timed out; "
            "their results.json lists the cells (what they defined before was graded)."
        )
    for (exercise, diagnosis), count in _misconceptions(results).most_common(top):
        title = DIAGNOSES[diagnosis].title if diagnosis in DIAGNOSES else diagnosis
        lines.append(f"{count} of {total} learners: {title} (in {exercise}).")
    return "\n".join(lines)
