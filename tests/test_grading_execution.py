"""How the check engine calls a learner's function and reports what happened."""

from __future__ import annotations

from bncourse.grading.execution import observe_call


def test_a_written_function_that_calls_a_stub_is_told_which_stub_not_not_attempted():
    def helper(x):
        raise NotImplementedError("Write helper")

    def composed(x):
        return helper(x) + 1

    def untouched_stub(x):
        raise NotImplementedError("Write untouched_stub")

    seen = observe_call(composed, {"x": 1})
    assert seen.status == "raised"
    assert "from helper, which composed calls" in seen.error
    assert observe_call(untouched_stub, {"x": 1}).status == "not-implemented"
