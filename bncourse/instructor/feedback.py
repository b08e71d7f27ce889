"""Feedback pages for learners: ``bncourse grade ... --feedback``.

One self-contained HTML page per submission, written to ``OUT/feedback/<name>.html``: the
submission's status and score, then for each exercise the result and the feedback the
learner would have seen under ``check(...)`` in their notebook (the named mistake, its hint,
the smallest failing test), the hint levels they used, and the quiz score (first attempt
and latest). An instructor can return the pages as they are.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

__all__ = ["feedback_page", "write_feedback_pages"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 52rem;
       margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 1.6rem; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.9em; }
table.summary td { padding: 2px 12px 2px 0; }
.hints { color: #555; font-size: 0.92em; margin: 2px 0 10px 0; }
.errors { background: #fff4f4; border-left: 4px solid #c62828; padding: 6px 12px; }
"""


def _quiz_html(result: Any) -> str:
    if result.quiz is None:
        return ""
    first = result.quiz_first if result.quiz_first is not None else result.quiz
    parts = [
        "<h2>Quiz</h2>",
        f"<p>First attempt: <b>{float(first.score):g} of {float(first.max_score):g}</b>"
        " (this is the score that counts)",
    ]
    if first is not result.quiz:
        parts.append(f"; your latest answers: {float(result.quiz.score):g}")
    parts.append(".</p>")
    parts.append(result.quiz.html(questions=True))
    return "".join(parts)


def feedback_page(result: Any) -> str:
    """The page for one graded submission (a ``grader.SubmissionResult``)."""
    title = f"Feedback: {result.name}"
    lesson = html.escape(result.lesson or "unknown lesson")
    rows = [
        ("Lesson", lesson),
        ("Status", html.escape(result.status + (f" ({result.detail})" if result.detail else ""))),
        ("Score", f"{result.score:g} of {result.max_score:g}"),
    ]
    body = [
        f"<h1>{html.escape(title)}</h1>",
        '<table class="summary">'
        + "".join(f"<tr><td>{k}</td><td><b>{v}</b></td></tr>" for k, v in rows)
        + "</table>",
    ]
    if result.cell_errors:
        items = "".join(f"<li><code>{html.escape(e)}</code></li>" for e in result.cell_errors)
        body.append(
            '<div class="errors"><b>Cells that raised or timed out while your notebook ran</b> '
            f"(what they defined before was graded):<ul>{items}</ul></div>"
        )
    if result.checks:
        body.append("<h2>Exercises</h2>")
    for check in result.checks:
        body.append(check._repr_html_())
        if check.hint_levels:
            body.append(
                f'<div class="hints">Hints used: {check.hints_used} of {check.hint_levels} '
                "levels (information, not a penalty).</div>"
            )
    body.append(_quiz_html(result))
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def write_feedback_pages(results: list[Any], out: Path) -> list[Path]:
    """One page per submission under ``out/feedback``; returns the paths written."""
    from bncourse.instructor.report import result_folder

    folder = out / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for result in results:
        path = folder / f"{result_folder(result.name)}.html"
        path.write_text(feedback_page(result), encoding="utf-8")
        written.append(path)
    return written
