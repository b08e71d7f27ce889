"""Lesson 10 (BN in deployment): the lesson's exercises (none registered yet)."""

from __future__ import annotations

from bncourse.grading.spec import Exercise

__all__ = ["EXERCISES"]

EXERCISES: list[Exercise] = []
