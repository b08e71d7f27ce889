"""The quiz a lesson shows: ipywidgets in JupyterLab, text and HTML everywhere else.

``bncourse.quiz.show(stem, quiz_answers)`` returns a ``QuizView``. Its display carries

* the interactive quiz (ipywidgets): answer controls for every question (a chosen option
  turns solid blue with a check mark), a Submit button, then per-question feedback with the
  explanation, the score, and, for front ends that cannot keep answers, the Python line
  ``quiz_answers = {...}`` to paste into the cell;
* a static rendering of the same quiz as ``text/plain`` and ``text/html``, with the result
  for the answers already in the dict, for nbval, nbconvert and terminals;
* the result as ``application/vnd.bncourse.result+json``, which the notebook tests read.

Submitting writes into the learner's own dict: answered questions are set, cleared ones
removed, a badly typed number keeps the earlier answer (and says so), and entries for ids
the quiz does not have are left alone. It also replaces the ``AnswerRecord`` output shown
under the quiz, so that saving the notebook keeps the answers, with no copy and paste.
"""

from __future__ import annotations

import html
from collections.abc import MutableMapping
from typing import Any

from bncourse.claims import RESULT_MIMETYPE
from bncourse.quiz.bank import (
    AnswerFormError,
    Bank,
    Question,
    QuizResult,
    answers_literal,
    grade_bank,
    markdown_html,
)

__all__ = [
    "ANSWERS_MIMETYPE",
    "AnswerRecord",
    "QuizView",
    "QuizWidget",
    "static_text",
    "static_html",
]

_HOW = {
    "single": "Choose one.",
    "multiple": "Choose every correct statement.",
    "truefalse": "True or false?",
    "numeric": "Enter a number.",
}
_FORM = {
    "single": 'a choice id, e.g. "b"',
    "multiple": 'a list of choice ids, e.g. ["a", "c"]',
    "truefalse": "True or False",
    "numeric": "a number",
}
_COLORS = {"correct": "#2e7d32", "incorrect": "#c62828", "invalid": "#c62828"}
_VERDICT = {"correct": "Correct.", "incorrect": "Not quite.", "unanswered": "Not answered."}


def _how(question: Question) -> str:
    if question.kind == "numeric":
        return f"Enter a number (within ±{question.tolerance:g} counts as correct)."
    return _HOW[question.kind]


def _points(question: Question) -> str:
    return "1 point" if question.points == 1 else f"{question.points:g} points"


# ---------------------------------------------------------------------------
# Static views
# ---------------------------------------------------------------------------


def static_text(bank: Bank, result: QuizResult) -> str:
    """The quiz as plain text, with the result of the answers given."""
    lines = [
        f"{bank.title} ({bank.stem}, {len(bank.questions)} questions)",
        "Answer it in JupyterLab, or put your answers in this cell's dict quiz_answers "
        '(question id -> answer), e.g. {"' + bank.questions[0].id + '": ...}.',
        result.summary,
        *result.notes(),
    ]
    for number, (question, feedback) in enumerate(
        zip(bank.questions, result.questions, strict=True), start=1
    ):
        lines += ["", f"{number}. [{question.id}] {_how(question)} Answer: {_FORM[question.kind]}."]
        lines += [f"   {line}" for line in question.prompt.splitlines()]
        lines += [f"   {choice.id}) {choice.text}" for choice in question.choices]
        if feedback.answered:
            verdict = _VERDICT.get(feedback.status, feedback.message)
            lines.append(f"   {feedback.mark} {verdict}")
            lines += [f"   {line}" for line in feedback.explanation.splitlines()]
    return "\n".join(lines)


def _question_html(number: int, question: Question, *, choices: bool = True) -> str:
    """The question's heading, prompt and (unless the widget shows them) its choices."""
    listed = "".join(
        f"<li><b>{html.escape(c.id)}</b>. {markdown_html(c.text, inline=True)}</li>"
        for c in (question.choices if choices else ())
    )
    return (
        f"<div><b>Question {number}</b> <small>({_points(question)}, id "
        f"<code>{html.escape(question.id)}</code>)</small></div>"
        f"{markdown_html(question.prompt)}"
        + (f'<ul style="list-style: none; padding-left: 0.5em;">{listed}</ul>' if listed else "")
        + f"<div><i>{html.escape(_how(question))}</i></div>"
    )


def _feedback_html(status: str, message: str, explanation: str) -> str:
    color = _COLORS.get(status, "#757575")
    mark = {"correct": "✔", "incorrect": "✘", "invalid": "✘"}.get(status, "○")
    text = message if status == "invalid" else _VERDICT.get(status, message)
    return (
        f'<div style="border-left: 4px solid {color}; padding: 2px 10px; margin: 4px 0;">'
        f'<span style="color: {color}; font-weight: bold;">{mark} {html.escape(text)}</span>'
        + (markdown_html(explanation) if explanation else "")
        + "</div>"
    )


def static_html(bank: Bank, result: QuizResult) -> str:
    """The quiz as HTML, with the result of the answers given."""
    parts = [
        f'<div class="bncourse-quiz"><h3>{html.escape(bank.title)}</h3>',
        "<p>Answer it in JupyterLab, or put your answers in this cell's dict "
        "<code>quiz_answers</code> (question id → answer).</p>",
        result.html(questions=False),
    ]
    for number, (question, feedback) in enumerate(
        zip(bank.questions, result.questions, strict=True), start=1
    ):
        parts.append('<div style="margin: 12px 0;">' + _question_html(number, question))
        if feedback.answered:
            parts.append(_feedback_html(feedback.status, feedback.message, feedback.explanation))
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------------------
# Answer controls
# ---------------------------------------------------------------------------


def _mark_selected(change: Any) -> None:
    """A chosen toggle button turns solid blue with a check mark; others stay plain."""
    button = change["owner"]
    button.button_style = "info" if change["new"] else ""
    label = button.description.removeprefix("✓ ")
    button.description = f"✓ {label}" if change["new"] else label


def _make_exclusive(buttons: list[Any]) -> None:
    """Choosing one of ``buttons`` releases the others."""

    def release_others(change: Any) -> None:
        if change["new"]:
            for button in buttons:
                if button is not change["owner"]:
                    button.value = False

    for button in buttons:
        button.observe(release_others, names="value")


class _ChoiceControl:
    """One toggle button per choice, its text beside it; exclusive for single choice."""

    def __init__(self, question: Question, initial: Any) -> None:
        import ipywidgets as widgets

        self.question = question
        self.buttons: dict[str, Any] = {}
        rows = []
        for choice in question.choices:
            button = widgets.ToggleButton(
                description=choice.id, layout=widgets.Layout(width="4em", flex="0 0 auto")
            )
            button.observe(_mark_selected, names="value")
            self.buttons[choice.id] = button
            text = widgets.HTMLMath(markdown_html(choice.text, inline=True))
            rows.append(widgets.HBox([button, text], layout=widgets.Layout(align_items="center")))
        self.widget = widgets.VBox(rows)
        self.set(initial)
        if question.kind == "single":
            _make_exclusive(list(self.buttons.values()))

    def set(self, initial: Any) -> None:
        """Select the choices ``initial`` names (a choice id or a list of ids)."""
        if isinstance(initial, str):
            initial = [initial]
        if not isinstance(initial, (list, tuple, set, frozenset)):
            return
        chosen = {item.strip().lower() for item in initial if isinstance(item, str)}
        if self.question.kind == "single" and len(chosen) != 1:
            return
        for choice_id, button in self.buttons.items():
            button.value = choice_id in chosen

    def read(self) -> Any:
        chosen = [choice_id for choice_id, button in self.buttons.items() if button.value]
        if self.question.kind == "single":
            return chosen[0] if chosen else None
        return chosen or None


class _TrueFalseControl:
    """Two toggle buttons, True and False; the chosen one is marked like a chosen option."""

    def __init__(self, question: Question, initial: Any) -> None:
        import ipywidgets as widgets

        self.buttons = {
            value: widgets.ToggleButton(
                description=str(value), layout=widgets.Layout(width="6em", flex="0 0 auto")
            )
            for value in (True, False)
        }
        for button in self.buttons.values():
            button.observe(_mark_selected, names="value")
        _make_exclusive(list(self.buttons.values()))
        self.set(initial)
        self.widget = widgets.HBox(list(self.buttons.values()))

    def set(self, value: Any) -> None:
        """Select True or False (anything else selects neither)."""
        for option, button in self.buttons.items():
            button.value = isinstance(value, bool) and option is value

    def read(self) -> Any:
        chosen = [value for value, button in self.buttons.items() if button.value]
        return chosen[0] if chosen else None


class _NumberControl:
    def __init__(self, question: Question, initial: Any) -> None:
        import ipywidgets as widgets

        text = "" if initial is None or isinstance(initial, bool) else str(initial)
        self.widget = widgets.Text(value=text, placeholder="a number, e.g. 0.25")

    def set(self, value: Any) -> None:
        """Type ``value`` into the box (None clears it)."""
        self.widget.value = "" if value is None or isinstance(value, bool) else str(value)

    def read(self) -> Any:
        text = self.widget.value.strip()
        if not text:
            return None
        for convert in (int, float):
            try:
                return convert(text)
            except ValueError:
                continue
        raise AnswerFormError(f"type a number such as 0.25 or 1e-3; got {text!r}")


_CONTROLS = {
    "single": _ChoiceControl,
    "multiple": _ChoiceControl,
    "truefalse": _TrueFalseControl,
    "numeric": _NumberControl,
}


# ---------------------------------------------------------------------------
# The interactive quiz
# ---------------------------------------------------------------------------

ANSWERS_MIMETYPE = "application/vnd.bncourse.quiz-answers+json"
"""The output that keeps a learner's submitted answers in the saved notebook."""

_FIRST_ATTEMPTS: dict[str, dict[str, Any]] = {}
"""Per quiz, the answers of the first Submit in this kernel (first-attempt score)."""

_FALLBACK = (
    "<details><summary>Using an editor that does not keep these answers (the note above "
    'stays "not submitted yet" after you submit)?</summary>Replace the '
    "<code>quiz_answers = ...</code> line of this cell with the line below, run the cell "
    "and save.</details>"
)


class AnswerRecord:
    """The learner's submitted answers, as an output the notebook saves.

    ``quiz.show`` displays it under the quiz with a display id; every Submit replaces it
    (an ``update_display``), so saving the notebook keeps the latest answers, and the first
    attempt's, with no copy and paste. The instructor's grader reads it from the file.
    """

    def __init__(
        self,
        bank: Bank,
        answers: dict[str, Any] | None,
        first: dict[str, Any] | None,
        submissions: int,
    ) -> None:
        self.bank, self.answers, self.first, self.submissions = bank, answers, first, submissions

    def payload(self) -> dict[str, Any]:
        return {
            "stem": self.bank.stem,
            "answers": self.answers,
            "first_attempt": self.first,
            "submissions": self.submissions,
        }

    def text(self) -> str:
        if self.answers is None:
            return "Quiz not submitted yet: press Submit, then save the notebook to keep answers."
        latest = grade_bank(self.bank, self.answers)
        parts = [
            f"Your answers are kept in this notebook (submitted {self.submissions} time(s); "
            f"latest score {latest.score:g}/{latest.max_score:g}"
        ]
        if self.first is not None:
            first = grade_bank(self.bank, self.first)
            parts.append(f", first attempt {first.score:g}/{first.max_score:g}")
        parts.append("). Save the notebook (Ctrl+S) to keep them in the file.")
        return "".join(parts)

    def bundle(self) -> dict[str, Any]:
        color = "#757575" if self.answers is None else "#2e7d32"
        mark = "○" if self.answers is None else "✔"
        page = (
            f'<div class="bncourse-quiz-record" style="color: {color}; margin: 2px 0;">'
            f"{mark} {html.escape(self.text())}</div>"
        )
        return {"text/plain": self.text(), "text/html": page, ANSWERS_MIMETYPE: self.payload()}


class QuizWidget:
    """The ipywidgets quiz; ``widget`` is the box to display."""

    def __init__(self, bank: Bank, answers: MutableMapping[str, Any]) -> None:
        import ipywidgets as widgets

        self.bank = bank
        self.answers = answers
        self.controls = {q.id: _CONTROLS[q.kind](q, answers.get(q.id)) for q in bank.questions}
        self.feedback = {q.id: widgets.HTMLMath() for q in bank.questions}
        self.score = widgets.HTML()
        self.literal = widgets.HTML()
        self.submissions = 0
        self.display_id: str | None = None
        self.submit_button = widgets.Button(description="Submit", button_style="primary")
        self.submit_button.on_click(self.submit)
        items = [widgets.HTML(f"<h3>{html.escape(bank.title)}</h3>")]
        for number, question in enumerate(bank.questions, start=1):
            items.append(
                widgets.VBox(
                    [
                        widgets.HTMLMath(_question_html(number, question, choices=False)),
                        self.controls[question.id].widget,
                        self.feedback[question.id],
                    ],
                    layout=widgets.Layout(margin="0 0 12px 0"),
                )
            )
        items += [self.submit_button, self.score, widgets.HTML(_FALLBACK), self.literal]
        self.widget = widgets.VBox(items)
        self.show(grade_bank(bank, answers), submitted=False)

    def record(self) -> AnswerRecord:
        """The answers this quiz keeps in the notebook (none before the first Submit)."""
        answers = dict(self.answers) if self.submissions else None
        return AnswerRecord(
            self.bank, answers, _FIRST_ATTEMPTS.get(self.bank.stem), self.submissions
        )

    def submit(self, _button: Any = None) -> QuizResult:
        """Write the controls' answers into the learner's dict, grade, show feedback, and
        replace the kept answers under the quiz."""
        errors = {}
        for question_id, control in self.controls.items():
            try:
                value = control.read()
            except AnswerFormError as error:  # keep the earlier answer, say what is wrong
                errors[question_id] = str(error)
                continue
            if value is None:
                self.answers.pop(question_id, None)
            else:
                self.answers[question_id] = value
        self.submissions += 1
        if self.bank.stem not in _FIRST_ATTEMPTS:
            _FIRST_ATTEMPTS[self.bank.stem] = dict(self.answers)
        result = grade_bank(self.bank, self.answers)
        self.show(result, submitted=True, errors=errors)
        if self.display_id is not None:
            from IPython.display import update_display

            update_display(self.record().bundle(), raw=True, display_id=self.display_id)
        return result

    def show(
        self, result: QuizResult, *, submitted: bool, errors: dict[str, str] | None = None
    ) -> None:
        """Fill in feedback, score and the answers' Python line from ``result``."""
        errors = errors or {}
        for feedback in result.questions:
            if feedback.id in errors:
                text = _feedback_html("invalid", errors[feedback.id], "")
            elif feedback.answered or submitted:
                text = _feedback_html(feedback.status, feedback.message, feedback.explanation)
            else:
                text = ""
            self.feedback[feedback.id].value = text
        self.score.value = result.html(questions=False)
        line = answers_literal(self.answers, [q.id for q in self.bank.questions])
        self.literal.value = (
            '<pre style="white-space: pre-wrap; user-select: all; margin: 2px 0;">'
            f"{html.escape(line)}</pre>"
        )


class QuizView:
    """What ``quiz.show`` returns: the interactive quiz plus its static fallbacks.

    Displayed, it shows two outputs: the quiz (widget, with text and HTML fallbacks and the
    result as JSON for the tests), and under it the ``AnswerRecord`` that every Submit
    replaces, so that saving the notebook keeps the answers.
    """

    def __init__(self, bank: Bank, answers: Any) -> None:
        self.bank = bank
        self.answers = answers
        self.quiz_widget: QuizWidget | None = None
        try:
            writable = answers if isinstance(answers, MutableMapping) else {}
            self.quiz_widget = QuizWidget(bank, writable)
        except ImportError:  # no ipywidgets: the static views still work
            self.quiz_widget = None

    @property
    def result(self) -> QuizResult:
        return grade_bank(self.bank, self.answers)

    def __repr__(self) -> str:
        return static_text(self.bank, self.result)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        result = self.result
        bundle: dict[str, Any] = {}
        if self.quiz_widget is not None:
            bundle.update(self.quiz_widget.widget._repr_mimebundle_() or {})
        bundle["text/plain"] = static_text(self.bank, result)
        bundle["text/html"] = static_html(self.bank, result)
        bundle[RESULT_MIMETYPE] = result.to_payload()
        return bundle

    def _ipython_display_(self) -> None:
        from uuid import uuid4

        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)
        if self.quiz_widget is not None:
            self.quiz_widget.display_id = f"bncourse-quiz-{uuid4().hex}"
            record = self.quiz_widget.record().bundle()
            display(record, raw=True, display_id=self.quiz_widget.display_id)
