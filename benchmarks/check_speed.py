"""How long `check` takes, for every exercise, on the learner-style submissions.

For each exercise (tests/submissions): the slowest correct submission, the slowest wrong one
that the catalogue names, and the slowest wrong one that nothing names (the slow path: the
whole family of mistakes is searched, then the smallest failing case is found). Where the
reference has the exercise, a made-up wrong answer (right shapes, wrong numbers) is added to
the unexplained column. Each time is the best of a few repeats.

Target: a check answers in <= 0.2 s. Prints a table; not a test.

    python benchmarks/check_speed.py
"""

from __future__ import annotations

import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bncourse import reference  # noqa: E402
from bncourse.grading import EXERCISES, check  # noqa: E402
from tests.submissions import collect  # noqa: E402

REPEATS = 3


def best(fn, exercise_id: str) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        check(exercise_id, fn)
        times.append(time.perf_counter() - start)
    return min(times)


def made_up_wrong(exercise_id: str):
    """Right shapes, wrong numbers: no mistake in the catalogue explains it."""
    correct = getattr(reference, exercise_id)

    def wrong(*args, **kwargs):
        out = correct(*args, **kwargs)
        if isinstance(out, tuple):
            return tuple(np.tanh(o) + 0.1 for o in out)
        return np.tanh(out) + 0.1

    return wrong


def main() -> int:
    correct, wrong = collect()
    times: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for exercise_id, fn in correct:
            times[exercise_id][0] = max(times[exercise_id][0], best(fn, exercise_id))
        for exercise_id, fn, diagnosis in wrong:
            column = 1 if diagnosis else 2
            times[exercise_id][column] = max(times[exercise_id][column], best(fn, exercise_id))
        for exercise_id in EXERCISES:
            if hasattr(reference, exercise_id):
                seconds = best(made_up_wrong(exercise_id), exercise_id)
                times[exercise_id][2] = max(times[exercise_id][2], seconds)
    print("| exercise | correct (ms) | named mistake (ms) | unexplained (ms) |")
    print("|---|---:|---:|---:|")
    for exercise_id in EXERCISES:
        row = times.get(exercise_id)
        if row is None:
            print(f"| {exercise_id} | no submissions | | |")
            continue
        cells = [f"{1e3 * t:.0f}" if t else "–" for t in row]
        print(f"| {exercise_id} | " + " | ".join(cells) + " |")
    worst = [max(row[column] for row in times.values()) for column in range(3)]
    print(
        f"\nSlowest: correct {1e3 * worst[0]:.0f} ms, named {1e3 * worst[1]:.0f} ms, "
        f"unexplained {1e3 * worst[2]:.0f} ms (target: 200 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
