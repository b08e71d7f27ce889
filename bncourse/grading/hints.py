"""The hint ladder: ``hint(exercise_id)`` shows the next level of help for an exercise.

Every exercise has at least three levels: (1) a question that points at the idea, (2) the
formula or the plan, (3) close to the code. ``hint(exercise_id)`` shows the next level on
each call (and the last one again after that); ``hint(exercise_id, level=n)`` shows level
``n``. The hint displays itself in a notebook and the call returns its text.

Which levels a learner has seen is remembered in this kernel (``hints_used``), reported in
``check``'s result, and shown in the output the notebook saves, where the instructor's
grader finds it: the gradebook gets a column of hints used per exercise (information, not a
penalty).
"""

from __future__ import annotations

import html
import sys
from typing import Any

from bncourse.claims import RESULT_MIMETYPE

__all__ = ["hint", "hints_used", "reset_hints", "HintText"]

_SEEN: dict[str, int] = {}


def _exercise(exercise_id: str) -> Any:
    from bncourse.grading.exercises import REGISTRY

    if not isinstance(exercise_id, str) or exercise_id not in REGISTRY:
        valid = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown exercise id {exercise_id!r}; valid ids are: {valid}")
    return REGISTRY[exercise_id]


def hints_used(exercise_id: str) -> int:
    """The highest hint level shown for ``exercise_id`` in this kernel (0: none)."""
    return _SEEN.get(exercise_id, 0)


def reset_hints() -> None:
    """Forget which hints were shown (for tests)."""
    _SEEN.clear()


class HintText(str):
    """The hint's text, returned by ``hint``; it does not display a second time."""

    def _ipython_display_(self) -> None:  # the hint already displayed itself
        return None


class _HintView:
    def __init__(self, exercise_id: str, level: int, levels: int, text: str) -> None:
        self.exercise_id, self.level, self.levels, self.text = exercise_id, level, levels, text

    @property
    def heading(self) -> str:
        return f"Hint {self.level} of {self.levels} for {self.exercise_id}"

    @property
    def footer(self) -> str:
        if self.level < self.levels:
            return f'hint("{self.exercise_id}") again shows level {self.level + 1}.'
        return "That was the last level; the code is yours to write."

    def __str__(self) -> str:
        return f"{self.heading}:\n{self.text}\n({self.footer})"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        body = html.escape(self.text).replace("\n", "<br>")
        page = (
            '<div class="bncourse-hint" style="border-left: 5px solid #1565c0; '
            'padding: 4px 12px; margin: 4px 0; line-height: 1.45;">'
            f'<div style="color: #1565c0; font-weight: bold;">💡 {html.escape(self.heading)}'
            f"</div><div>{body}</div>"
            f'<div style="color: #555; font-size: 92%; margin-top: 2px;">'
            f"{html.escape(self.footer)}</div></div>"
        )
        payload = {
            "kind": "hint",
            "name": self.exercise_id,
            "status": f"level-{self.level}",
            "level": self.level,
            "levels": self.levels,
            "summary": self.heading,
        }
        return {"text/plain": str(self), "text/html": page, RESULT_MIMETYPE: payload}


def _show(view: _HintView) -> None:
    shell = sys.modules.get("IPython")
    if shell is not None and getattr(shell, "get_ipython", lambda: None)() is not None:
        from IPython.display import display

        display(view)
    else:
        print(view)


def hint(exercise_id: str, level: int | None = None) -> HintText:
    """Show the next hint for ``exercise_id`` (or hint ``level``) and return its text."""
    exercise = _exercise(exercise_id)
    ladder = exercise.hints
    if not ladder:
        raise KeyError(f"{exercise_id} has no hints yet")
    if level is None:
        level = min(hints_used(exercise_id) + 1, len(ladder))
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= len(ladder):
        raise ValueError(f"level must be an int from 1 to {len(ladder)}; got {level!r}")
    _SEEN[exercise_id] = max(hints_used(exercise_id), level)
    text = ladder[level - 1]
    _show(_HintView(exercise_id, level, len(ladder), text))
    return HintText(text)
