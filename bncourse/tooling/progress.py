"""A learner's progress across the lessons, read from their saved notebooks.

``bncourse progress [lessons/]`` prints it, and ``progress()`` in a notebook (the course
map calls it) shows it as a table. For each lesson: the exercises whose last check passed,
those attempted, the hint levels used, and the quiz score. Everything is read from what
the notebooks saved (the outputs of the last run of each cell); nothing is executed, so
run and save a lesson to see it counted.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LessonProgress", "Progress", "lesson_progress", "progress", "main"]

_STEM = re.compile(r"^\d\d_[a-z0-9_]+$")


@dataclass
class LessonProgress:
    """One lesson's progress as its saved notebook shows it."""

    stem: str
    title: str
    minutes: int | None
    exercises: list[str]  # graded ones; optional ones (worth no points) in ``optional``
    optional: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    attempted: list[str] = field(default_factory=list)
    hints: dict[str, int] = field(default_factory=dict)
    quiz_score: float | None = None
    quiz_max: float | None = None
    opened: bool = True

    def count(self, done: list[str]) -> str:
        """``"2/6"`` of the graded exercises, ``" + 1/1 optional"`` for the others."""
        if not self.exercises and not self.optional:
            return "-"
        text = f"{sum(e in done for e in self.exercises)}/{len(self.exercises)}"
        if self.optional:
            text += f" + {sum(e in done for e in self.optional)}/{len(self.optional)} optional"
        return text

    @property
    def graded_passed(self) -> int:
        return sum(e in self.passed for e in self.exercises)

    @property
    def hints_used(self) -> int:
        return sum(self.hints.values())

    @property
    def quiz_text(self) -> str:
        if self.quiz_max is None:
            return "no quiz"
        if self.quiz_score is None:
            return f"not submitted (of {self.quiz_max:g})"
        return f"{self.quiz_score:g}/{self.quiz_max:g}"


def _title_and_minutes(notebook: dict[str, Any]) -> tuple[str, int | None]:
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        text = "".join(cell.get("source", []))
        title = re.search(r"^#\s+(?:Lesson \d+:\s*)?(.+)$", text, flags=re.MULTILINE)
        minutes = re.search(r"Time:\*{0,2}\s*about\s+(\d+)\s+minutes", text)
        if title:
            return title.group(1).strip(), int(minutes.group(1)) if minutes else None
    return "", None


def lesson_progress(path: Path | str) -> LessonProgress:
    """Read one saved lesson notebook."""
    from bncourse.grading import EXERCISES
    from bncourse.instructor.grader import hints_seen, kept_quiz_answers, saved_payloads
    from bncourse.quiz import grade, stems

    path = Path(path)
    stem = path.stem
    notebook = json.loads(path.read_text(encoding="utf-8"))
    title, minutes = _title_and_minutes(notebook)
    mine = {name: exercise for name, exercise in EXERCISES.items() if exercise.lesson == stem}
    graded = [name for name, exercise in mine.items() if exercise.max_score > 0]
    optional = [name for name in mine if name not in graded]
    exercises = graded + optional
    result = LessonProgress(stem, title, minutes, graded, optional)
    last_status: dict[str, str] = {}
    quiz_payload = None
    for payload in saved_payloads(notebook):
        if payload.get("kind") == "check" and payload.get("name") in exercises:
            last_status[payload["name"]] = str(payload.get("status"))
        elif payload.get("kind") == "quiz":
            quiz_payload = payload
    result.hints = {
        name: level for name, level in hints_seen(notebook).items() if name in exercises
    }
    record = kept_quiz_answers(notebook, stem)
    kept_answers = record["answers"] if record is not None else None
    result.attempted = [
        e
        for e in exercises
        if last_status.get(e, "not-attempted") not in ("not-attempted", "missing")
    ]
    result.passed = [e for e in exercises if last_status.get(e) == "passed"]
    if stem in stems():
        quiz = grade(stem, kept_answers if kept_answers is not None else {})
        result.quiz_max = float(quiz.max_score)
        if kept_answers is not None:
            result.quiz_score = float(quiz.score)
        elif quiz_payload is not None and quiz_payload.get("status") != "unanswered":
            result.quiz_score = float(quiz_payload.get("score", 0.0))
    return result


@dataclass
class Progress:
    """Every lesson's progress; displays as a table."""

    lessons: list[LessonProgress]

    def rows(self) -> list[list[str]]:
        rows = []
        for lesson in self.lessons:
            rows.append(
                [
                    lesson.stem[:2],
                    lesson.title or lesson.stem,
                    f"{lesson.minutes} min" if lesson.minutes else "",
                    lesson.count(lesson.passed),
                    lesson.count(lesson.attempted),
                    str(lesson.hints_used),
                    lesson.quiz_text,
                ]
            )
        return rows

    HEADER = ["#", "lesson", "time", "passed", "attempted", "hints", "quiz"]

    def __str__(self) -> str:
        rows = [self.HEADER, *self.rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(len(self.HEADER))]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * width for width in widths))
        passed = sum(lesson.graded_passed for lesson in self.lessons)
        total = sum(len(lesson.exercises) for lesson in self.lessons)
        lines.append(f"\n{passed} of {total} exercises passed. Run and save a lesson to update.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align: left;'>{h}</th>" for h in self.HEADER)
        body = ""
        for lesson, row in zip(self.lessons, self.rows(), strict=True):
            cells = [html.escape(cell) for cell in row]
            cells[1] = f'<a href="{html.escape(lesson.stem)}.ipynb">{cells[1]}</a>'
            body += "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"
        passed = sum(lesson.graded_passed for lesson in self.lessons)
        total = sum(len(lesson.exercises) for lesson in self.lessons)
        return (
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p>{passed} of {total} exercises passed. Run and save a lesson to update "
            "this table.</p>"
        )


def progress(folder: Path | str = ".") -> Progress:
    """The progress of every lesson notebook (``NN_stem.ipynb``) in ``folder``."""
    paths = sorted(p for p in Path(folder).glob("*.ipynb") if _STEM.match(p.stem))
    return Progress([lesson_progress(path) for path in paths if not path.stem.startswith("00")])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bncourse progress",
        description="Your progress in each lesson, read from your saved notebooks.",
    )
    parser.add_argument("folder", nargs="?", default="lessons", type=Path)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not args.folder.is_dir():
        print(f"bncourse progress: {args.folder} is not a folder of lessons", file=sys.stderr)
        return 2
    print(progress(args.folder))
    return 0
