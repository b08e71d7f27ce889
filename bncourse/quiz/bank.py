"""Quiz banks: loading and checking them, and grading a learner's answers.

In a lesson, the last code cell is::

    from bncourse import quiz

    quiz_answers = {}
    quiz.show("03_the_four_steps", quiz_answers)

In JupyterLab this displays an interactive quiz. Submitting it writes the answers into the
very dict ``quiz_answers`` and into an output under the quiz (``quiz.widget.AnswerRecord``),
which saving the notebook keeps, together with the first attempt's answers; the
instructor's grader reads that output from the file. Where a front end cannot keep it, the
quiz also shows the answers as a ``quiz_answers = {...}`` line to paste over the cell's line,
which the grader finds by running the notebook. Run headless (nbval, nbconvert, a
terminal), the same call displays the questions as text and HTML and, for the answers
already in the dict, the result.

Answers take one form per kind of question:

* ``single``: the id of one choice, a string such as ``"b"``;
* ``multiple``: a list of choice ids, such as ``["a", "c"]`` (an empty list is unanswered);
* ``truefalse``: ``True`` or ``False``;
* ``numeric``: a number (int or float).

Banks
-----
``quizzes/NN_stem.toml`` (beside the package; the environment variable
``BNCOURSE_QUIZZES`` points elsewhere) holds ``title``, ``salt`` and a list of
``[[questions]]``, each with ``id``, ``kind``, ``prompt`` (Markdown, ``$...$`` LaTeX),
``choices`` (for ``single`` and ``multiple``: a list of ``{ id, text }``), ``tolerance``
(for ``numeric``), ``explanation`` (shown after answering), optionally ``points``
(default 1), and ``answer``: the correct answer as a salted hash, so that reading the file
does not spoil the quiz. It keeps honest people honest; it does not stop someone who
hashes every choice.

Hashes
------
``answer = "sha256:" + sha256(f"{salt}|{question_id}|{canonical}")`` in hexadecimal, where
``canonical`` is the choice id (``single``), the sorted distinct choice ids joined by
commas (``multiple``), ``true`` or ``false`` (``truefalse``), or, for ``numeric``, the
decimal integer ``k(c)`` defined below for the correct value ``c``.

Numeric answers and their tolerance
-----------------------------------
A single hash cannot be compared "within a tolerance", so numbers are put on a grid first.
With ``t`` the question's tolerance, the grid step is ``s = t / 10`` and a value ``v`` sits
at grid point ``k(v) = floor(v / s + 1/2)``. The bank stores the hash of ``k(c)``. An answer
``x`` is accepted **if and only if** ``|k(x) - k(c)| <= 10``: the grader hashes the 21 grid
points ``k(x) - 10 ... k(x) + 10`` and looks for the stored hash. Consequently an answer is
always accepted when ``|x - c| < t`` and always rejected when ``|x - c| >= 1.1 t``; in
between, it depends on where ``c`` falls on the grid.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import numbers
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bncourse.claims import RESULT_MIMETYPE

__all__ = [
    "KINDS",
    "AnswerFormError",
    "GRID",
    "Bank",
    "BankError",
    "Choice",
    "Question",
    "QuestionFeedback",
    "QuizResult",
    "answer_hash",
    "answers_literal",
    "bank_path",
    "canonical_answer",
    "grade",
    "grade_bank",
    "hash_answer",
    "is_correct",
    "is_unanswered",
    "load_bank",
    "markdown_html",
    "parse_bank",
    "question_from_table",
    "question_problems",
    "bank_problems",
    "quiz_dir",
    "stems",
]

KINDS = ("single", "multiple", "truefalse", "numeric")
GRID = 10
"""Grid points per tolerance for numeric answers (see the module docstring)."""

_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
_QUESTION_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_CHOICE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_SALT = re.compile(r"^[0-9a-f]{16,}$")
_BANK_KEYS = {"title", "salt", "questions"}
_QUESTION_KEYS = {
    "id",
    "kind",
    "prompt",
    "choices",
    "tolerance",
    "explanation",
    "answer",
    "points",
}


class BankError(ValueError):
    """A quiz bank that cannot be used; the message names the file and the question."""


# ---------------------------------------------------------------------------
# Banks
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    id: str
    text: str


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    prompt: str
    explanation: str
    answer: str
    choices: tuple[Choice, ...] = ()
    tolerance: float | None = None
    points: float = 1.0

    @property
    def choice_ids(self) -> list[str]:
        return [choice.id for choice in self.choices]


@dataclass(frozen=True)
class Bank:
    stem: str
    title: str
    salt: str
    questions: tuple[Question, ...]
    path: Path | None = None

    @property
    def max_score(self) -> float:
        return float(sum(question.points for question in self.questions))

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        known = ", ".join(q.id for q in self.questions)
        raise KeyError(f"{self.stem} has no question {question_id!r}; its questions: {known}")


def quiz_dir() -> Path:
    """The folder of the banks: ``$BNCOURSE_QUIZZES`` or ``quizzes/`` beside the package."""
    configured = os.environ.get("BNCOURSE_QUIZZES")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "quizzes"


def stems(directory: Path | None = None) -> list[str]:
    """The stems of every bank, e.g. ``["01_normalization_vs_standardization", ...]``."""
    return sorted(path.stem for path in (directory or quiz_dir()).glob("*.toml"))


def bank_path(stem: str, directory: Path | None = None) -> Path:
    """The file of bank ``stem``, or a ``BankError`` listing the banks there are."""
    folder = directory or quiz_dir()
    path = folder / f"{stem}.toml"
    if not isinstance(stem, str) or not path.is_file():
        known = ", ".join(stems(folder)) or "none"
        raise BankError(f"no quiz bank {stem!r} in {folder}; the banks are: {known}")
    return path


_CACHE: dict[Path, tuple[int, Bank]] = {}


def load_bank(stem_or_path: str | Path) -> Bank:
    """Read and check one bank, by stem (``"03_the_four_steps"``) or by path."""
    if isinstance(stem_or_path, Path) or str(stem_or_path).endswith(".toml"):
        path = Path(stem_or_path)
    else:
        path = bank_path(str(stem_or_path))
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as error:
        raise BankError(f"{path}: cannot read the bank: {error}") from error
    cached = _CACHE.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise BankError(f"{path}: not a readable TOML file: {error}") from error
    bank = parse_bank(data, path)
    _CACHE[path] = (stamp, bank)
    return bank


def parse_bank(data: Mapping[str, Any], path: Path | str) -> Bank:
    """A ``Bank`` from parsed TOML; raises ``BankError`` listing every problem found."""
    problems = bank_problems(data, path)
    if problems:
        raise BankError("\n".join(problems))
    questions = tuple(question_from_table(table) for table in data["questions"])
    path = Path(path)
    return Bank(path.stem, data["title"], data["salt"], questions, path)


def question_from_table(table: Mapping[str, Any]) -> Question:
    """A ``Question`` from one ``[[questions]]`` table that has passed the schema checks."""
    choices = tuple(Choice(c["id"], c["text"]) for c in table.get("choices", ()))
    tolerance = table.get("tolerance")
    return Question(
        id=table["id"],
        kind=table["kind"],
        prompt=table["prompt"].strip(),
        explanation=table["explanation"].strip(),
        answer=table["answer"],
        choices=choices,
        tolerance=None if tolerance is None else float(tolerance),
        points=float(table.get("points", 1)),
    )


def bank_problems(data: Mapping[str, Any], path: Path | str) -> list[str]:
    """Every schema problem of a parsed bank, each naming the file (and the question)."""
    problems = [f"{path}: unknown top-level key {key!r}" for key in data if key not in _BANK_KEYS]
    if not isinstance(data.get("title"), str) or not data.get("title", "").strip():
        problems.append(f"{path}: 'title' must be a non-empty string")
    if not isinstance(data.get("salt"), str) or not _SALT.match(data.get("salt", "")):
        problems.append(f"{path}: 'salt' must be a string of at least 16 hexadecimal digits")
    questions = data.get("questions")
    if not isinstance(questions, list) or not questions:
        problems.append(f"{path}: no [[questions]]")
        return problems
    seen: set[str] = set()
    for number, table in enumerate(questions, start=1):
        label = f"question {number}"
        if isinstance(table, Mapping) and isinstance(table.get("id"), str) and table["id"]:
            label += f" ({table['id']!r})"
        where = f"{path}: {label}"
        if not isinstance(table, Mapping):
            problems.append(f"{where}: must be a table")
            continue
        problems += [f"{where}: {p}" for p in question_problems(table, require_answer=True)]
        question_id = table.get("id")
        if isinstance(question_id, str):
            if question_id in seen:
                problems.append(f"{where}: duplicate id {question_id!r}")
            seen.add(question_id)
    return problems


def question_problems(table: Mapping[str, Any], *, require_answer: bool) -> list[str]:
    """Schema problems of one ``[[questions]]`` table (without file or question name)."""
    problems = [f"unknown field {key!r}" for key in table if key not in _QUESTION_KEYS]
    for name in ("id", "kind", "prompt", "explanation") + (("answer",) if require_answer else ()):
        if name not in table:
            problems.append(f"missing field {name!r}")
        elif not isinstance(table[name], str) or not table[name].strip():
            problems.append(f"{name!r} must be a non-empty string")
    if isinstance(table.get("id"), str) and table["id"] and not _QUESTION_ID.match(table["id"]):
        problems.append("'id' must be lowercase letters, digits and '-' (like 'eps-placement')")
    answer = table.get("answer")
    if require_answer and isinstance(answer, str) and not _HASH.match(answer):
        problems.append("'answer' must be 'sha256:' and 64 hex digits (use `bncourse quiz hash`)")
    kind = table.get("kind")
    if isinstance(kind, str) and kind not in KINDS:
        problems.append(f"unknown kind {kind!r}; the kinds are {', '.join(KINDS)}")
    if "points" in table and not _positive_number(table["points"]):
        problems.append("'points' must be a positive number")
    if kind in ("single", "multiple"):
        problems += _choice_problems(table.get("choices"))
    elif "choices" in table:
        problems.append(f"a {kind} question takes no 'choices'")
    if kind == "numeric":
        if not _positive_number(table.get("tolerance")):
            problems.append("a numeric question needs a 'tolerance' > 0")
    elif "tolerance" in table:
        problems.append(f"a {kind} question takes no 'tolerance'")
    return problems


def _choice_problems(choices: Any) -> list[str]:
    if not isinstance(choices, list) or len(choices) < 2:
        return ["'choices' must be a list of at least two { id = ..., text = ... } tables"]
    problems, seen = [], set()
    for number, choice in enumerate(choices, start=1):
        if (
            not isinstance(choice, Mapping)
            or set(choice) != {"id", "text"}
            or not isinstance(choice["id"], str)
            or not isinstance(choice["text"], str)
            or not choice["text"].strip()
        ):
            problems.append(f"choice {number} must be {{ id = '...', text = '...' }}")
            continue
        if not _CHOICE_ID.match(choice["id"]):
            problems.append(f"choice id {choice['id']!r} must be lowercase letters or digits")
        if choice["id"] in seen:
            problems.append(f"duplicate choice id {choice['id']!r}")
        seen.add(choice["id"])
    return problems


def _positive_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


# ---------------------------------------------------------------------------
# Answers: their form, their canonical text and their hash
# ---------------------------------------------------------------------------


class AnswerFormError(ValueError):
    """An answer of the wrong form; the message says what the form should be."""


def is_unanswered(value: Any) -> bool:
    """Whether an answer counts as not given: None, an empty string or an empty list."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, (list, tuple, set, frozenset)) and not value


def canonical_answer(question: Question, value: Any) -> str:
    """The text that is hashed for ``value`` (for numeric questions: the grid index).

    Raises ``AnswerFormError`` with a learner-facing message when ``value`` has the wrong
    form for the question's kind.
    """
    kind = question.kind
    if kind == "single":
        return _single(question, value)
    if kind == "multiple":
        return ",".join(_multiple(question, value))
    if kind == "truefalse":
        if type(value).__name__ in ("bool", "bool_"):
            return "true" if bool(value) else "false"
        hint = " without quotes" if isinstance(value, str) else ""
        raise AnswerFormError(f"answer True or False{hint}; got {value!r}")
    return str(_grid_index(question, value))


def _choice_hint(question: Question) -> str:
    return ", ".join(repr(cid) for cid in question.choice_ids)


def _single(question: Question, value: Any) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        raise AnswerFormError(
            f"this question has one answer: write a single choice id such as "
            f"{question.choice_ids[0]!r}, not a list; got {value!r}"
        )
    if not isinstance(value, str):
        raise AnswerFormError(
            f"write the id of one choice as a string ({_choice_hint(question)}); got {value!r}"
        )
    choice = value.strip().lower()
    if choice not in question.choice_ids:
        raise AnswerFormError(
            f"{value!r} is not one of the choices; they are {_choice_hint(question)}"
        )
    return choice


def _multiple(question: Question, value: Any) -> list[str]:
    example = question.choice_ids[:2]
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise AnswerFormError(
            "this question may have several correct choices: write a list of choice ids such "
            f"as {example!r} (a list even when you pick only one); got {value!r}"
        )
    choices = []
    for item in value:
        if not isinstance(item, str) or item.strip().lower() not in question.choice_ids:
            raise AnswerFormError(
                f"{item!r} is not one of the choices; they are {_choice_hint(question)}"
            )
        choices.append(item.strip().lower())
    return sorted(set(choices))


def _grid_index(question: Question, value: Any) -> int:
    if isinstance(value, str):
        raise AnswerFormError(f"write the number itself, without quotes; got {value!r}")
    if type(value).__name__ in ("bool", "bool_") or not isinstance(value, numbers.Real):
        raise AnswerFormError(f"this question takes a number; got {value!r}")
    position = float(value) * GRID / float(question.tolerance or 1.0)
    if not math.isfinite(position):
        raise AnswerFormError(f"this question takes a finite number; got {value!r}")
    return math.floor(position + 0.5)


def answer_hash(salt: str, question_id: str, canonical: str) -> str:
    """The stored form of an answer: ``sha256:`` and the hex digest."""
    digest = hashlib.sha256(f"{salt}|{question_id}|{canonical}".encode()).hexdigest()
    return f"sha256:{digest}"


def hash_answer(bank: Bank, question: Question, value: Any) -> str:
    """The hash to store in ``bank`` for the correct answer ``value`` of ``question``."""
    return answer_hash(bank.salt, question.id, canonical_answer(question, value))


def _matches(bank: Bank, question: Question, canonical: str) -> bool:
    if question.kind != "numeric":
        return answer_hash(bank.salt, question.id, canonical) == question.answer
    index = int(canonical)
    return any(
        answer_hash(bank.salt, question.id, str(index + offset)) == question.answer
        for offset in range(-GRID, GRID + 1)
    )


def is_correct(bank: Bank, question: Question, value: Any) -> bool:
    """Whether ``value`` is accepted (raises ``AnswerFormError`` for a malformed answer)."""
    return _matches(bank, question, canonical_answer(question, value))


def answers_literal(answers: Mapping[str, Any], order: list[str] | None = None) -> str:
    """The Python line ``quiz_answers = {...}`` that recreates ``answers``.

    Keys follow ``order`` (the bank's question order) first, then any others.
    """
    keys = [key for key in (order or []) if key in answers]
    keys += [key for key in answers if key not in keys]
    if not keys:
        return "quiz_answers = {}"
    lines = [f"    {_literal(key)}: {_literal(answers[key])}," for key in keys]
    return "quiz_answers = {\n" + "\n".join(lines) + "\n}"


def _literal(value: Any) -> str:
    if type(value).__name__ in ("bool", "bool_"):
        return "True" if bool(value) else "False"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a Python literal
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    return repr(value)


# ---------------------------------------------------------------------------
# Grading
# ---------------------------------------------------------------------------

_MARKS = {
    "correct": ("✔", "#2e7d32"),
    "incorrect": ("✘", "#c62828"),
    "invalid": ("✘", "#c62828"),
    "unanswered": ("○", "#757575"),
    "full-marks": ("✔", "#2e7d32"),
    "partial": ("◐", "#ef6c00"),
}


@dataclass
class QuestionFeedback:
    """How one answer did. ``status``: correct, incorrect, invalid (wrong form), unanswered."""

    id: str
    status: str
    score: float
    max_score: float
    message: str
    explanation: str
    answer: Any = None

    @property
    def mark(self) -> str:
        return _MARKS[self.status][0]

    @property
    def answered(self) -> bool:
        return self.status != "unanswered"


@dataclass
class QuizResult:
    """The outcome of ``grade(stem, answers)``.

    ``status`` is ``full-marks``, ``partial`` (something answered, not everything right)
    or ``unanswered`` (no question answered). ``unknown`` lists ids in the answers that the
    bank does not have; ``problem`` is set when the answers were not a dict at all.
    """

    quiz: str
    title: str
    score: float
    max_score: float
    status: str
    questions: list[QuestionFeedback] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == "full-marks"

    @property
    def answered(self) -> int:
        return sum(feedback.answered for feedback in self.questions)

    @property
    def summary(self) -> str:
        mark = _MARKS[self.status][0]
        score = f"score {self.score:g}/{self.max_score:g}"
        if self.status == "unanswered":
            what = "not answered yet"
        elif self.passed:
            what = "full marks"
        else:
            right = sum(f.status == "correct" for f in self.questions)
            what = f"{right} of {len(self.questions)} correct, {self.answered} answered"
        return f"{mark} quiz {self.quiz}: {what} ({score})"

    def notes(self) -> list[str]:
        """Messages about the answer sheet as a whole (not about one question)."""
        notes = [self.problem] if self.problem else []
        if self.unknown:
            names = ", ".join(repr(key) for key in self.unknown)
            known = ", ".join(f.id for f in self.questions)
            notes.append(
                f"ignored answers to questions this quiz does not have: {names} "
                f"(its questions: {known})"
            )
        return notes

    def __str__(self) -> str:
        lines = [self.summary, *self.notes()]
        for feedback in self.questions:
            line = f"  {feedback.mark} {feedback.id}"
            lines.append(line + (f": {feedback.message}" if feedback.message else ""))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def html(self, *, questions: bool = True) -> str:
        """The summary (and, with ``questions``, one line per question) as HTML."""
        color = _MARKS[self.status][1]
        rows = "".join(
            f'<li style="color: {_MARKS[f.status][1]};">{f.mark} <code>{html.escape(f.id)}</code>'
            + (f": {html.escape(f.message)}" if f.message else "")
            + "</li>"
            for f in self.questions
        )
        notes = "".join(f"<div>{html.escape(note)}</div>" for note in self.notes())
        return (
            f'<div class="bncourse-quiz-result" style="border-left: 5px solid {color}; '
            'padding: 4px 12px; margin: 4px 0;">'
            f'<div style="color: {color}; font-weight: bold;">{html.escape(self.summary)}</div>'
            + notes
            + (
                f'<ul style="list-style: none; padding-left: 0.5em;">{rows}</ul>'
                if questions
                else ""
            )
            + "</div>"
        )

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {RESULT_MIMETYPE: self.to_payload()}

    def to_payload(self) -> dict[str, Any]:
        """A JSON summary: what the notebook tests read from a quiz's output."""
        return {
            "kind": "quiz",
            "name": self.quiz,
            "passed": self.passed,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "summary": self.summary,
        }

    def to_gradescope(self, visibility: str = "visible") -> dict[str, Any]:
        """One entry of Gradescope's ``tests`` list for the whole quiz."""
        return {
            "name": f"quiz {self.quiz}",
            "score": self.score,
            "max_score": self.max_score,
            "status": "passed" if self.passed else "failed",
            "output": str(self),
            "visibility": visibility,
        }

    def to_gradescope_tests(self, visibility: str = "visible") -> list[dict[str, Any]]:
        """One Gradescope ``tests`` entry per question."""
        return [
            {
                "name": f"quiz {self.quiz}: {f.id}",
                "score": f.score,
                "max_score": f.max_score,
                "status": "passed" if f.status == "correct" else "failed",
                "output": f"{f.mark} {f.message}".strip(),
                "visibility": visibility,
            }
            for f in self.questions
        ]


def _feedback(bank: Bank, question: Question, answers: Mapping[str, Any]) -> QuestionFeedback:
    value = answers.get(question.id)
    points = question.points

    def result(
        status: str, message: str, explanation: str = question.explanation
    ) -> QuestionFeedback:
        score = points if status == "correct" else 0.0
        return QuestionFeedback(question.id, status, score, points, message, explanation, value)

    if is_unanswered(value):
        return result("unanswered", "not answered yet", "")
    try:
        correct = is_correct(bank, question, value)
    except AnswerFormError as error:
        return result("invalid", str(error), "")
    return result("correct" if correct else "incorrect", "" if correct else "not quite")


def _safe_feedback(bank: Bank, question: Question, answers: Mapping[str, Any]) -> QuestionFeedback:
    try:
        return _feedback(bank, question, answers)
    except Exception as error:  # noqa: BLE001 - a strange answer object must not crash grading
        message = f"could not read this answer ({type(error).__name__}: {error})"
        return QuestionFeedback(question.id, "invalid", 0.0, question.points, message, "", None)


def grade_bank(bank: Bank, answers: Any) -> QuizResult:
    """Grade ``answers`` (a dict of question id -> answer) against ``bank``; never raises."""
    problem = None
    if not isinstance(answers, Mapping):
        problem = f"quiz_answers must be a dict such as {{}}; got {type(answers).__name__}"
        answers = {}
    questions = [_safe_feedback(bank, question, answers) for question in bank.questions]
    known = {question.id for question in bank.questions}
    unknown = [str(key) for key in answers if key not in known]
    score = float(sum(f.score for f in questions))
    if not any(f.answered for f in questions):
        status = "unanswered"
    elif score >= bank.max_score:
        status = "full-marks"
    else:
        status = "partial"
    return QuizResult(
        bank.stem, bank.title, score, bank.max_score, status, questions, unknown, problem
    )


def grade(stem: str, answers: Any) -> QuizResult:
    """Grade a learner's answers to the quiz ``stem``.

    ``answers`` maps question ids to answers (see the module docstring for their form).
    Missing answers score zero; answers of the wrong form score zero with a message that
    says what form is expected; ids the bank does not have are reported in the result.
    """
    return grade_bank(load_bank(stem), answers)


# ---------------------------------------------------------------------------
# Markdown with LaTeX, for the HTML views
# ---------------------------------------------------------------------------

_MATH = re.compile(r"\$\$.+?\$\$|\$(?:[^$\n]|\n(?![ \t]*\n))+?\$", re.DOTALL)


def markdown_html(text: str, *, inline: bool = False) -> str:
    """HTML for Markdown ``text``; ``$...$`` and ``$$...$$`` pass through for MathJax."""
    pieces: list[str] = []

    def protect(match: re.Match[str]) -> str:
        pieces.append(match.group(0))
        return f"BNCOURSEMATH{len(pieces) - 1}X"

    protected = _MATH.sub(protect, text)
    try:
        import mistune

        rendered = str(mistune.create_markdown(escape=True)(protected)).strip()
    except ImportError:  # mistune comes with JupyterLab; fall back to escaped text
        rendered = f'<p style="white-space: pre-wrap;">{html.escape(protected)}</p>'
    if inline and rendered.startswith("<p>") and rendered.endswith("</p>"):
        inner = rendered[3:-4]
        if "<p>" not in inner:
            rendered = inner
    return re.sub(
        r"BNCOURSEMATH(\d+)X", lambda match: html.escape(pieces[int(match.group(1))]), rendered
    )
