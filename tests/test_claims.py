"""The claim helper: ✔/✘ with numbers in a notebook, a failure only under the tests."""

from __future__ import annotations

import numpy as np
import pytest

from bncourse.claims import RESULT_MIMETYPE, STRICT_ENV, Claim, ClaimFailed, claim


def test_a_claim_that_holds_shows_a_tick_and_its_numbers(capsys):
    claim("BN was faster on every seed", holds=True, numbers={"steps": np.array([3, 4])})
    out = capsys.readouterr().out
    assert out.startswith("✔ BN was faster on every seed")
    assert "steps = [3, 4]" in out
    assert "differs" not in out


def test_a_failed_claim_shows_a_cross_and_a_sentence_and_does_not_raise_for_a_learner(
    monkeypatch, capsys
):
    monkeypatch.delenv(STRICT_ENV, raising=False)
    claim("BN was faster on every seed", holds=False, numbers={"ratio": 1.25})
    out = capsys.readouterr().out
    assert out.startswith("✘ BN was faster on every seed")
    assert "ratio = 1.25" in out
    assert "This run differs from the runs the lesson's text was written from" in out


def test_under_the_tests_a_failed_claim_raises_and_names_the_claim(monkeypatch, capsys):
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(ClaimFailed, match="BN was faster on every seed"):
        claim("BN was faster on every seed", holds=np.bool_(False))
    claim("this one holds", holds=np.bool_(True))  # no exception when it holds
    assert "✔ this one holds" in capsys.readouterr().out


def test_a_custom_sentence_replaces_the_default_one():
    shown = Claim("x", False, {}, "On this run the two placements were not within noise.")
    assert "not within noise" in str(shown)
    assert "written from" not in str(shown)


def test_the_claim_displays_html_and_the_json_the_notebook_tests_read():
    shown = Claim("a < b", False, {"a": 2.0, "b": 1.0})
    bundle = shown._repr_mimebundle_()
    assert bundle[RESULT_MIMETYPE] == {
        "kind": "claim",
        "name": "a < b",
        "status": "fails",
        "summary": str(shown),
    }
    assert "✘" in bundle["text/html"] and "<code>a</code>" in bundle["text/html"]
    assert "&lt;" in bundle["text/html"]  # the statement is escaped


def test_holds_must_be_one_truth_value_not_an_array():
    with pytest.raises(TypeError, match="one truth value"):
        Claim("every seed", np.array([True, False]))
    with pytest.raises(TypeError, match="non-empty sentence"):
        Claim("  ", True)


def test_numbers_are_formatted_readably():
    numbers = {
        "f": 0.123456789,
        "a": np.array([0.5, 0.25, 1e-6]),
        "i": np.array([200, 225]),
        "grid": np.array([[1.0, 2.0], [3.0, 4.5]]),
        "many": np.arange(100.0),
        "flag": np.True_,
        "word": "n/a",
    }
    assert Claim("s", True, numbers).numbers_text == (
        "f = 0.1235; a = [0.5, 0.25, 1e-06]; i = [200, 225]; grid = [[1, 2], [3, 4.5]]; "
        "many = 100 values from 0 to 99 (mean 49.5); flag = yes; word = n/a"
    )
