"""How long `check` takes: every exercise, with the reference (a correct solution) and with
a solution that matches no known mistake (the slowest path: the whole family is searched).

Target: a NumPy check answers in <= 0.2 s for a correct solution. Prints a table; not a test.
"""

from __future__ import annotations

import time

import numpy as np

from bncourse import reference
from bncourse.grading import EXERCISES, check

REPEATS = 5


def best(fn, exercise_id: str) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        check(exercise_id, fn)
        times.append(time.perf_counter() - start)
    return min(times)


def unexplained(exercise_id: str):
    """Right shapes, wrong numbers: forces the search through every family member."""
    correct = getattr(reference, exercise_id)

    def wrong(*args):
        out = correct(*args)
        if isinstance(out, tuple):
            return tuple(np.tanh(o) + 0.1 for o in out)
        return np.tanh(out) + 0.1

    return wrong


def main() -> None:
    print("| exercise | correct solution (ms) | unexplained wrong solution (ms) |")
    print("|---|---:|---:|")
    slowest = 0.0
    for exercise_id in EXERCISES:
        if not hasattr(reference, exercise_id):
            continue
        good = best(getattr(reference, exercise_id), exercise_id)
        bad = best(unexplained(exercise_id), exercise_id)
        slowest = max(slowest, good)
        print(f"| {exercise_id} | {1e3 * good:.1f} | {1e3 * bad:.1f} |")
    print(f"\nSlowest check of a correct solution: {1e3 * slowest:.1f} ms (target: 200 ms)")


if __name__ == "__main__":
    main()
