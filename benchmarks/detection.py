"""How the checks do on learner-style submissions (tests/submissions): a table per exercise.

Columns: correct submissions accepted, wrong ones rejected, wrong ones named as intended.
Not a test; tests/test_learner_submissions.py enforces the bar.

    python benchmarks/detection.py
"""

from __future__ import annotations

import sys
import warnings
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bncourse.grading import check  # noqa: E402
from tests.submissions import collect  # noqa: E402


def main() -> int:
    correct, wrong = collect()
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for exercise_id, fn in correct:
            rows[exercise_id][0] += check(exercise_id, fn).passed
            rows[exercise_id][1] += 1
        for exercise_id, fn, wanted in wrong:
            result = check(exercise_id, fn)
            rows[exercise_id][2] += not result.passed
            rows[exercise_id][3] += bool(wanted) and wanted in result.diagnoses[:1]
            rows[exercise_id][4] += 1
    print("| exercise | correct accepted | wrong rejected | wrong named |")
    print("|---|---:|---:|---:|")
    totals = [0, 0, 0, 0, 0]
    for exercise_id in sorted(rows):
        ok, n_ok, rejected, named, n_wrong = rows[exercise_id]
        totals = [a + b for a, b in zip(totals, rows[exercise_id], strict=True)]
        print(f"| {exercise_id} | {ok}/{n_ok} | {rejected}/{n_wrong} | {named}/{n_wrong} |")
    ok, n_ok, rejected, named, n_wrong = totals
    if n_wrong:
        print(
            f"| **all** | {ok}/{n_ok} | {rejected}/{n_wrong} ({rejected / n_wrong:.0%}) | "
            f"{named}/{n_wrong} ({named / n_wrong:.0%}) |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
