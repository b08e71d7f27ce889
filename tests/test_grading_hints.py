"""The hint ladder and how a failed check points at it."""

from __future__ import annotations

import dataclasses

import pytest

from bncourse.grading import EXERCISES, check, hint
from bncourse.grading.hints import HintText, hints_used, reset_hints

LADDER = ("Which axis holds the features?", "Average over every other axis.", "x.mean(axis=...)")


@pytest.fixture
def laddered(monkeypatch):
    """batch_mean with a known three-level ladder, and no hints seen yet."""
    exercise = dataclasses.replace(EXERCISES["batch_mean"], hints=LADDER)
    monkeypatch.setitem(EXERCISES, "batch_mean", exercise)
    reset_hints()
    yield exercise
    reset_hints()


def test_each_call_shows_the_next_level_then_stays_on_the_last(laddered, capsys):
    assert [hint("batch_mean") for _ in range(4)] == [*LADDER, LADDER[-1]]
    shown = capsys.readouterr().out
    assert "Hint 1 of 3 for batch_mean:\nWhich axis holds the features?" in shown
    assert 'hint("batch_mean") again shows level 2.' in shown
    assert "That was the last level" in shown
    assert hints_used("batch_mean") == 3


def test_a_level_can_be_asked_for_and_is_remembered(laddered):
    assert hint("batch_mean", level=2) == LADDER[1]
    assert hints_used("batch_mean") == 2
    assert hint("batch_mean", level=1) == LADDER[0]  # looking back does not lower it
    assert hints_used("batch_mean") == 2
    assert hint("batch_mean") == LADDER[2]
    with pytest.raises(ValueError, match="level must be an int from 1 to 3"):
        hint("batch_mean", level=4)
    with pytest.raises(KeyError, match="valid ids are"):
        hint("batch_meen")


def test_the_returned_text_does_not_display_twice(laddered):
    text = hint("batch_mean")
    assert isinstance(text, HintText) and isinstance(text, str)
    assert text._ipython_display_() is None  # displaying the return value shows nothing more


def test_a_failed_check_says_how_to_ask_for_the_next_hint_and_records_hints(laddered):
    def mean_over_features(x):
        return x.mean(axis=-1)

    first = check("batch_mean", mean_over_features)
    assert first.hints_used == 0 and first.hint_levels == 3
    assert str(first).endswith('Stuck? hint("batch_mean") shows the first hint (level 1 of 3).')
    assert "<code>hint(&quot;batch_mean&quot;)</code>" in first._repr_html_()
    hint("batch_mean")
    second = check("batch_mean", mean_over_features)
    assert second.hints_used == 1 and second.to_payload()["hints_used"] == 1
    assert str(second).endswith("shows the next hint (level 2 of 3).")
    hint("batch_mean", level=3)
    assert "You have seen all 3 hints" in str(check("batch_mean", mean_over_features))


def test_a_passed_check_does_not_mention_hints(laddered):
    from bncourse import reference

    assert "hint(" not in str(check("batch_mean", reference.batch_mean))


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_every_exercise_has_a_ladder_of_at_least_three_distinct_levels(exercise_id):
    ladder = EXERCISES[exercise_id].hints
    levels = [" ".join(level.split()) for level in ladder]
    assert len(levels) >= 3, f"{exercise_id} has {len(levels)} hint levels, not at least 3"
    assert len(set(levels)) == len(levels), f"{exercise_id} repeats a hint level"
    assert all(levels), f"{exercise_id} has an empty hint level"
    # level 1 points at the idea with a question; it does not hand over code
    assert "?" in levels[0], f"{exercise_id}: level 1 should ask a question"
    assert "np." not in levels[0] and "return " not in levels[0], exercise_id
