"""Auto-graded quizzes: one bank of questions per lesson, a grader, and the quiz a lesson shows.

* ``bank``: the banks (``quizzes/NN_stem.toml``), answer forms, hashing and grading;
* ``widget``: what ``show`` displays, interactive in JupyterLab and static elsewhere;
* ``authoring``: the ``bncourse quiz`` command for quiz authors (hash, validate).

A lesson's quiz cell calls ``quiz.show(stem, quiz_answers)``; code calls
``quiz.grade(stem, answers)``.
"""

from __future__ import annotations

from typing import Any

from bncourse.quiz.bank import *  # noqa: F403 - the bank's public names are the quiz's
from bncourse.quiz.bank import __all__ as _bank_names
from bncourse.quiz.bank import load_bank

__all__ = [*_bank_names, "show"]


def show(stem: str, answers: dict[str, Any] | None = None) -> Any:
    """Display the quiz ``stem``, pre-filled from ``answers`` (the learner's dict).

    In JupyterLab: an interactive quiz that writes the learner's answers into ``answers``.
    Headless: the questions and the result for the answers given, as text and HTML.
    """
    from bncourse.quiz.widget import QuizView

    return QuizView(load_bank(stem), {} if answers is None else answers)
