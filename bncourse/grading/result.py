"""The result of a check: data for graders, text and HTML for people."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from bncourse.claims import RESULT_MIMETYPE

__all__ = ["CheckResult", "CaseReport", "gradescope_results", "RESULT_MIMETYPE"]


_MARKS = {
    "passed": ("✔", "#2e7d32"),
    "failed": ("✘", "#c62828"),
    "error": ("✘", "#c62828"),
    "timeout": ("✘", "#c62828"),
    "not-attempted": ("○", "#757575"),
    "missing": ("✘", "#c62828"),
}


@dataclass
class CaseReport:
    """How the learner's function did on one test input."""

    label: str
    kind: str
    passed: bool
    message: str = ""


@dataclass
class CheckResult:
    """The outcome of ``check(exercise_id, fn)``.

    ``status`` is ``passed``, ``failed``, ``error`` (the function raised on every input),
    ``timeout`` or ``not-attempted``. ``diagnosis`` is the id of the first named mistake
    (see ``bncourse.grading.DIAGNOSES``), ``diagnoses`` all of them; ``diagnosis`` defaults
    to the first of ``diagnoses``.
    """

    exercise: str
    passed: bool
    score: float
    max_score: float
    status: str
    feedback: str
    diagnosis: str | None = None
    diagnoses: list[str] = field(default_factory=list)
    cases: list[CaseReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.diagnosis is None and self.diagnoses:
            self.diagnosis = self.diagnoses[0]

    @classmethod
    def unscored(
        cls,
        exercise: str,
        max_score: float,
        status: str,
        feedback: str,
        cases: list[CaseReport] | None = None,
    ) -> CheckResult:
        """A zero-score result that did not get as far as judging outputs (see ``status``)."""
        return cls(exercise, False, 0.0, max_score, status, feedback, cases=cases or [])

    @property
    def summary(self) -> str:
        mark, _ = _MARKS.get(self.status, ("?", "#000"))
        passed_cases = sum(case.passed for case in self.cases)
        if self.status == "not-attempted":
            what = "not attempted yet"
        elif self.status == "missing":
            what = "not graded"
        elif self.passed:
            what = f"passed all {len(self.cases)} tests"
        else:
            what = f"{passed_cases} of {len(self.cases)} tests passed"
        return f"{mark} {self.exercise}: {what} (score {self.score:g}/{self.max_score:g})"

    def __str__(self) -> str:
        return self.summary + ("\n" + self.feedback if self.feedback else "")

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        _, color = _MARKS.get(self.status, ("?", "#000"))
        body = html.escape(self.feedback)
        return (
            f'<div class="bncourse-check" style="border-left: 5px solid {color}; '
            'padding: 4px 12px; margin: 4px 0;">'
            f'<div style="color: {color}; font-weight: bold;">{html.escape(self.summary)}</div>'
            + (
                f'<div style="white-space: pre-wrap; font-family: var(--jp-code-font-family, '
                f'monospace); font-size: 90%; margin-top: 4px;">{body}</div>'
                if body
                else ""
            )
            + "</div>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {RESULT_MIMETYPE: self.to_payload()}

    def to_payload(self) -> dict[str, Any]:
        """A JSON summary: what the notebook tests read from a check's output."""
        return {
            "kind": "check",
            "name": self.exercise,
            "passed": self.passed,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "diagnosis": self.diagnosis,
            "summary": self.summary,
        }

    def to_gradescope(self, visibility: str = "visible") -> dict[str, Any]:
        """One entry of Gradescope's ``tests`` list."""
        return {
            "name": self.exercise,
            "score": self.score,
            "max_score": self.max_score,
            "status": "passed" if self.passed else "failed",
            "output": str(self),
            "visibility": visibility,
        }


def gradescope_results(
    tests: list[dict[str, Any]], *, output: str = "", visibility: str = "visible"
) -> dict[str, Any]:
    """Gradescope's results.json structure for a list of test entries."""
    return {
        "score": round(sum(float(test["score"]) for test in tests), 4),
        "output": output,
        "visibility": visibility,
        "tests": tests,
    }
