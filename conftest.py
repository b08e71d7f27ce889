"""Notebook tests (nbval) read what every check, quiz and claim displays.

In solutions/, every check must pass and every quiz must show full marks. (lessons/ run in
tests/test_site.py, where every check must say "not attempted" and every quiz "unanswered":
the stubs really are stubs, and nothing later in a lesson depends on the learner's
unfinished code.) A cell that
calls check(...) or shows a quiz but displays no result fails too. In both, every measured
claim must hold: ``BNCOURSE_STRICT_CLAIMS=1`` (set here, inherited by the notebook kernels)
makes a claim that does not hold raise, and a displayed ✘ fails the cell as well.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

# Set before any kernel starts: nbval's kernels inherit this process's environment.
os.environ["BNCOURSE_STRICT_CLAIMS"] = "1"

RESULT_MIMETYPE = "application/vnd.bncourse.result+json"
_SHOWS_RESULT = re.compile(r"^(check\(|quiz\.show\(|bncourse\.quiz\.show\()", re.MULTILINE)
_EXPECTED = {
    "solutions": {"check": {"passed"}, "quiz": {"full-marks"}, "claim": {"holds"}},
    "lessons": {"check": {"not-attempted"}, "quiz": {"unanswered"}, "claim": {"holds"}},
}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    result = yield
    outputs = getattr(item, "test_outputs", None)
    cell = getattr(item, "cell", None)
    if outputs is None or cell is None:
        return result
    folder = Path(str(item.fspath)).parent.name
    expected = _EXPECTED.get(folder)
    if expected is None:
        return result
    payloads = [
        out["data"][RESULT_MIMETYPE]
        for out in outputs
        if isinstance(out.get("data"), dict) and RESULT_MIMETYPE in out["data"]
    ]
    if _SHOWS_RESULT.search(cell.source) and not payloads:
        raise AssertionError("this cell calls check() or shows a quiz but displayed no result")
    for payload in payloads:
        allowed = expected[payload["kind"]]
        if payload["status"] not in allowed:
            raise AssertionError(
                f"in {folder}/, {payload['kind']} {payload['name']!r} should be "
                f"{' or '.join(sorted(allowed))}, but is {payload['status']}:\n"
                f"{payload['summary']}"
            )
    return result
