"""One environment variable moves every seed the lessons use."""

from __future__ import annotations

import numpy as np
import pytest

from bncourse import data
from bncourse.seeding import OFFSET_ENV, resolve, seed_everything, seed_offset


def test_without_the_variable_seeds_are_used_as_given(monkeypatch):
    monkeypatch.delenv(OFFSET_ENV, raising=False)
    assert seed_offset() == 0 and resolve(5) == 5
    first = seed_everything(3).normal(size=4)
    assert np.array_equal(first, np.random.default_rng(3).normal(size=4))


def test_the_offset_moves_every_seed_and_wraps_around(monkeypatch):
    monkeypatch.setenv(OFFSET_ENV, "1000")
    assert resolve(5) == 1005
    assert resolve(2**32 - 1) == 999
    moved = seed_everything(3).normal(size=4)
    assert np.array_equal(moved, np.random.default_rng(1003).normal(size=4))


def test_the_offset_moves_generated_data_and_the_digits_split(monkeypatch):
    monkeypatch.delenv(OFFSET_ENV, raising=False)
    x0, _, _ = data.house_prices()
    split0 = data.digits()
    monkeypatch.setenv(OFFSET_ENV, "7")
    x7, _, _ = data.house_prices()
    split7 = data.digits()
    assert not np.array_equal(x0, x7)
    assert not np.array_equal(split0.y_val, split7.y_val)


def test_a_bad_offset_or_seed_is_refused_with_a_clear_message(monkeypatch):
    monkeypatch.setenv(OFFSET_ENV, "ten")
    with pytest.raises(ValueError, match="BNCOURSE_SEED_OFFSET must be an integer"):
        resolve(0)
    monkeypatch.delenv(OFFSET_ENV)
    with pytest.raises(TypeError, match="seed must be an int"):
        resolve(1.5)
    with pytest.raises(ValueError, match="seed must lie in"):
        resolve(-1)
