"""Measured claims: what a lesson says a run shows, stated once, shown with its numbers.

A lesson states a claim as a sentence, the condition it rests on and the numbers the
condition was computed from::

    claim(
        "BN reached 95% validation accuracy in fewer steps than the plain network, on every seed",
        holds=bool(np.all(bn_steps < plain_steps)),
        numbers={"steps with BN": bn_steps, "steps without BN": plain_steps},
    )

In a notebook it shows ✔ with the sentence and the numbers. When the condition does not
hold on this run it shows ✘, the numbers, and a sentence saying that this run differs
from the runs the lesson's text was written from; the notebook goes on either way, so a
learner on another machine never meets a bare traceback.

Under the test suite (``BNCOURSE_STRICT_CLAIMS=1``, which ``conftest.py`` sets) a claim
that does not hold raises ``ClaimFailed``, naming the claim, so a change that breaks a
lesson's claim breaks the tests.

A claim should be about the effect and hold on every seed, CPU and thread count: "worse on
every seed", "the difference is larger than twice the spread between seeds". Never a
threshold fitted to one run's numbers (see ``docs/AUTHORING.md``, "Claims").
"""

from __future__ import annotations

import html
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Claim", "ClaimFailed", "claim", "strict", "STRICT_ENV", "RESULT_MIMETYPE"]

STRICT_ENV = "BNCOURSE_STRICT_CLAIMS"
"""Set to ``1`` to make a claim that does not hold raise ``ClaimFailed`` (the tests do)."""

RESULT_MIMETYPE = "application/vnd.bncourse.result+json"
"""Claims, checks and quizzes also display as this JSON, which the notebook tests read."""

_DIFFERS = (
    "This run differs from the runs the lesson's text was written from. The numbers above "
    "are what your machine measured; read the text's sentence about them with that in mind."
)


class ClaimFailed(AssertionError):
    """A claim did not hold while ``BNCOURSE_STRICT_CLAIMS`` was set."""


def strict() -> bool:
    """True when a claim that does not hold must raise (under the test suite)."""
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _format_value(value: Any) -> str:
    """Numbers as a learner reads them: 4 significant digits, lists as lists."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        return str(value)
    if array.ndim == 0:
        return str(bool(array)) if array.dtype.kind == "b" else f"{array.item():.4g}"
    if array.size > 40:
        return (
            f"{array.size} values from {np.nanmin(array):.4g} to {np.nanmax(array):.4g} "
            f"(mean {np.nanmean(array):.4g})"
        )
    return "[" + ", ".join(_format_value(item) for item in array) + "]"


@dataclass
class Claim:
    """One stated claim and whether it held on this run."""

    statement: str
    holds: bool
    numbers: dict[str, Any] = field(default_factory=dict)
    otherwise: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.statement, str) or not self.statement.strip():
            raise TypeError("statement must be a non-empty sentence (str)")
        if isinstance(self.holds, np.ndarray):
            raise TypeError(
                "holds must be one truth value; got an array. Reduce it first, e.g. "
                "bool(np.all(...)) for 'on every seed' or bool(np.any(...))."
            )
        self.holds = bool(self.holds)
        if not isinstance(self.numbers, Mapping):
            raise TypeError("numbers must be a dict of name -> measured value")
        self.numbers = dict(self.numbers)

    @property
    def mark(self) -> str:
        return "✔" if self.holds else "✘"

    @property
    def numbers_text(self) -> str:
        return "; ".join(f"{name} = {_format_value(value)}" for name, value in self.numbers.items())

    @property
    def differs(self) -> str:
        return self.otherwise or _DIFFERS

    def __str__(self) -> str:
        lines = [f"{self.mark} {self.statement}"]
        if self.numbers:
            lines.append(f"  measured: {self.numbers_text}")
        if not self.holds:
            lines.append(f"  {self.differs}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        color = "#2e7d32" if self.holds else "#c62828"
        parts = [
            f'<div class="bncourse-claim" style="border-left: 4px solid {color}; '
            'padding: 2px 10px; margin: 4px 0;">',
            f'<span style="color: {color}; font-weight: bold;">{self.mark}</span> '
            f"{html.escape(self.statement)}",
        ]
        if self.numbers:
            items = "".join(
                f"<li><code>{html.escape(str(name))}</code>: "
                f"{html.escape(_format_value(value))}</li>"
                for name, value in self.numbers.items()
            )
            parts.append(
                '<div style="font-size: 90%; color: #444;">measured on this run:'
                f'<ul style="margin: 2px 0 2px 0;">{items}</ul></div>'
            )
        if not self.holds:
            parts.append(f'<div style="color: {color};">{html.escape(self.differs)}</div>')
        parts.append("</div>")
        return "".join(parts)

    def to_payload(self) -> dict[str, Any]:
        """A JSON summary: what the notebook tests read from a claim's output."""
        return {
            "kind": "claim",
            "name": self.statement,
            "status": "holds" if self.holds else "fails",
            "summary": str(self),
        }

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "text/plain": str(self),
            "text/html": self._repr_html_(),
            RESULT_MIMETYPE: self.to_payload(),
        }


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    get_ipython = getattr(shell, "get_ipython", None)
    return get_ipython is not None and get_ipython() is not None


def claim(
    statement: str,
    holds: Any,
    *,
    numbers: Mapping[str, Any] | None = None,
    otherwise: str = "",
) -> None:
    """State a measured claim: show ✔ or ✘ with the numbers; raise only under the tests.

    ``statement`` is the sentence the lesson makes ("BN trained faster on every seed");
    ``holds`` the condition, one truth value computed from this run's measurements;
    ``numbers`` the measurements it rests on, by name; ``otherwise`` an optional sentence
    shown when the claim does not hold (by default: this run differs from the runs the
    text was written from).

    Returns nothing: the claim displays itself. With ``BNCOURSE_STRICT_CLAIMS=1`` a claim
    that does not hold raises ``ClaimFailed`` after it is shown.
    """
    stated = Claim(statement, holds, dict(numbers or {}), otherwise)
    if _in_notebook():
        from IPython.display import display

        display(stated)
    else:
        print(stated)
    if not stated.holds and strict():
        raise ClaimFailed(f"claim did not hold: {stated.statement}\n{stated}")
