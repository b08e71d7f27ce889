"""The result of a check: data for graders, text and HTML for people.

A result carries what the judge found as ``findings`` (named mistakes with their hint,
other problems, the evidence from one test, notes) and, when no known mistake explains the
numbers, the smallest failing test as a ``FailingCase`` the learner can call their own
function on (``result.failing_case()``). ``feedback`` is the same as text.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bncourse.claims import RESULT_MIMETYPE

__all__ = [
    "CheckResult",
    "CaseReport",
    "Finding",
    "FailingCase",
    "gradescope_results",
    "RESULT_MIMETYPE",
]


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
class Finding:
    """One thing the judge found.

    ``kind`` is ``"mistake"`` (a named misconception: ``title``, ``text`` the explanation,
    ``hint``, ``detail`` about this learner's case), ``"problem"`` (an error or a departure
    from the contract), ``"evidence"`` (what one test showed) or ``"note"`` (accepted, but
    worth knowing).
    """

    kind: str
    text: str
    title: str = ""
    hint: str = ""
    detail: str = ""
    diagnosis: str = ""

    def as_text(self) -> str:
        if self.kind == "mistake":
            lines = [f"Mistake: {self.title}. {self.text}"]
            if self.detail:
                lines.append(self.detail)
            if self.hint:
                lines.append(f"Hint: {self.hint}")
            return "\n".join(lines)
        if self.kind == "note":
            return f"Note: {self.text}"
        return self.text


def _array_text(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, (int, float, str, bool)):
        return repr(value)
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        return repr(value)
    digits = 12 if array.dtype == np.float64 else 4  # float64 inputs may differ in late digits
    with np.printoptions(precision=digits, suppress=True, threshold=200, linewidth=88):
        text = np.array2string(array, separator=", ")
    return f"{text}  (shape {array.shape}, {array.dtype})" if array.ndim else text


@dataclass
class FailingCase:
    """A test input on which the learner's function went wrong, small enough to read.

    ``args`` are the inputs, in the order the function takes them; ``expected`` and ``got``
    map each output's name to its array (``got`` is empty when the function raised).
    """

    label: str
    args: dict[str, Any]
    expected: dict[str, np.ndarray] = field(default_factory=dict)
    got: dict[str, np.ndarray] = field(default_factory=dict)
    error: str = ""

    def rows(self) -> list[tuple[str, str, str]]:
        """(section, name, text) rows: the inputs, then what was expected and what came back."""
        rows = [("input", name, _array_text(value)) for name, value in self.args.items()]
        rows += [("expected", name, _array_text(value)) for name, value in self.expected.items()]
        if self.error:
            rows.append(("got", "error", self.error))
        rows += [("got", name, _array_text(value)) for name, value in self.got.items()]
        return rows

    def as_text(self) -> str:
        lines = [f"The smallest failing test, {self.label}:"]
        for section, name, text in self.rows():
            indented = text.replace("\n", "\n" + " " * (len(section) + len(name) + 5))
            lines.append(f"  {section} {name} = {indented}")
        lines.append("Call your function on these inputs: result.failing_case() returns them.")
        return "\n".join(lines)


@dataclass
class CheckResult:
    """The outcome of ``check(exercise_id, fn)``.

    ``status`` is ``passed``, ``failed``, ``error`` (the function raised on every input),
    ``timeout``, ``not-attempted`` or ``missing``. ``diagnosis`` is the id of the first named
    mistake (see ``bncourse.grading.DIAGNOSES``), ``diagnoses`` all of them; ``diagnosis``
    defaults to the first of ``diagnoses``. ``hints_used`` is the highest hint level the
    learner asked for (``hint(exercise_id)``), of ``hint_levels``; information, not a
    penalty.
    """

    exercise: str
    passed: bool
    score: float
    max_score: float
    status: str
    feedback: str = ""
    diagnosis: str | None = None
    diagnoses: list[str] = field(default_factory=list)
    cases: list[CaseReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    failing: FailingCase | None = None
    hints_used: int = 0
    hint_levels: int = 0

    def __post_init__(self) -> None:
        if self.diagnosis is None and self.diagnoses:
            self.diagnosis = self.diagnoses[0]
        if self.findings and not self.feedback:
            self.feedback = "\n".join(finding.as_text() for finding in self.findings)
        elif self.feedback and not self.findings:
            self.findings = [Finding("problem", line) for line in self.feedback.splitlines()]

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

    def failing_case(self) -> dict[str, Any] | None:
        """The inputs of the smallest failing test (fresh copies), or None.

        ``fn(*result.failing_case().values())`` runs your function on them.
        """
        if self.failing is None:
            return None
        return {
            name: np.array(value, copy=True) if isinstance(value, np.ndarray) else value
            for name, value in self.failing.args.items()
        }

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

    @property
    def next_hint(self) -> str:
        """The line that tells a learner who failed how to ask for a hint."""
        if self.passed or self.hint_levels == 0 or self.status in ("not-attempted", "missing"):
            return ""
        if self.hints_used >= self.hint_levels:
            return (
                f"You have seen all {self.hint_levels} hints; "
                f'hint("{self.exercise}", level=n) shows level n again.'
            )
        which = "the first" if self.hints_used == 0 else "the next"
        return (
            f'Stuck? hint("{self.exercise}") shows {which} hint '
            f"(level {self.hints_used + 1} of {self.hint_levels})."
        )

    def __str__(self) -> str:
        parts = [self.summary]
        if self.feedback:
            parts.append(self.feedback)
        if self.failing is not None:
            parts.append(self.failing.as_text())
        if self.next_hint:
            parts.append(self.next_hint)
        return "\n".join(parts)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        _, color = _MARKS.get(self.status, ("?", "#000"))
        body = [
            f'<div class="bncourse-check" style="border-left: 5px solid {color}; '
            'padding: 4px 12px; margin: 4px 0; line-height: 1.45;">',
            f'<div style="color: {color}; font-weight: bold;">{html.escape(self.summary)}</div>',
        ]
        for finding in self.findings:
            body.append(_finding_html(finding, color))
        if self.failing is not None:
            body.append(_failing_html(self.failing))
        if self.next_hint:
            body.append(
                '<div style="margin-top: 6px; color: #333;">'
                + _code_spans(html.escape(self.next_hint))
                + "</div>"
            )
        body.append("</div>")
        return "".join(body)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {RESULT_MIMETYPE: self.to_payload()}

    def to_payload(self) -> dict[str, Any]:
        """A JSON summary: what the notebook tests and the progress report read."""
        return {
            "kind": "check",
            "name": self.exercise,
            "passed": self.passed,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "diagnosis": self.diagnosis,
            "hints_used": self.hints_used,
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


def _code_spans(escaped: str) -> str:
    """Set ``hint("...")`` calls in code type (the text is already escaped)."""
    import re

    return re.sub(r"(hint\(&quot;[^&]*&quot;(?:, level=n)?\))", r"<code>\1</code>", escaped)


def _finding_html(finding: Finding, color: str) -> str:
    if finding.kind == "mistake":
        parts = [
            '<div style="margin-top: 6px;">',
            f'<b style="color: {color};">Mistake: {html.escape(finding.title)}.</b> ',
            html.escape(finding.text),
        ]
        if finding.detail:
            parts.append(f'<div style="margin-top: 2px;">{html.escape(finding.detail)}</div>')
        if finding.hint:
            parts.append(
                f'<div style="margin-top: 2px;"><b>Hint:</b> {html.escape(finding.hint)}</div>'
            )
        parts.append("</div>")
        return "".join(parts)
    if finding.kind == "note":
        return (
            '<div style="margin-top: 4px; color: #555; font-size: 92%;">'
            f"<i>Note:</i> {html.escape(finding.text)}</div>"
        )
    return f'<div style="margin-top: 4px;">{html.escape(finding.text)}</div>'


def _failing_html(failing: FailingCase) -> str:
    cell = 'style="padding: 1px 8px 1px 0; vertical-align: top;"'
    rows = "".join(
        f'<tr><td {cell}><span style="color: #555;">{section}</span></td>'
        f"<td {cell}><code>{html.escape(name)}</code></td>"
        f'<td {cell}><pre style="margin: 0; font-size: 90%; background: none;">'
        f"{html.escape(text)}</pre></td></tr>"
        for section, name, text in failing.rows()
    )
    return (
        '<div style="margin-top: 6px;">'
        f"<b>The smallest failing test</b>, {html.escape(failing.label)}:"
        f'<table style="margin: 2px 0; border-collapse: collapse;">{rows}</table>'
        '<span style="color: #555; font-size: 92%;">Call your function on these inputs: '
        "<code>result.failing_case()</code> returns them.</span></div>"
    )


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
