"""Time and peak memory of every notebook, run top to bottom (the course budget table).

Each notebook runs in a fresh kernel, as a learner's would (``bncourse.tooling.runs``).
Budget: <= 60 s and <= 1.5 GB peak memory per notebook on 2 CPU cores. Prints a Markdown
table; not a test.

    python benchmarks/notebooks.py                 # solutions/ and lessons/
    python benchmarks/notebooks.py solutions/03_*.ipynb
"""

from __future__ import annotations

import sys
from pathlib import Path

from bncourse.tooling.runs import run_notebook

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 60.0
BUDGET_MB = 1536.0


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted(ROOT.glob("solutions/*.ipynb")) + sorted(
        ROOT.glob("lessons/*.ipynb")
    )
    print("| notebook | time (s) | peak memory (MB) | within budget |")
    print("|---|---:|---:|:---:|")
    worst = 0
    for path in paths:
        run = run_notebook(path, "as-written", cwd=ROOT)
        ok = run.ok and run.seconds <= BUDGET_SECONDS and run.peak_mb <= BUDGET_MB
        worst += not ok
        note = "yes" if ok else ("no: " + run.error[:80] if run.error else "no")
        name = f"{path.parent.name}/{path.name}"
        print(f"| {name} | {run.seconds:.1f} | {run.peak_mb:.0f} | {note} |", flush=True)
    return 1 if worst else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
