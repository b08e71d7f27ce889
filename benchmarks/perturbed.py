"""Every notebook under every perturbation: does each claim hold on other machines?

Runs each notebook top to bottom in a fresh kernel under each environment of
``bncourse.tooling.runs.PERTURBATIONS`` (other base seeds, oneDNN off, one CPU thread, all
of them at once) with strict claims, and prints a Markdown table: notebook x perturbation
-> pass/fail, with the slowest time per notebook. Not a test (it takes about an hour on
two cores); the test suite runs one perturbation of each notebook.

    python benchmarks/perturbed.py                           # solutions/ and lessons/
    python benchmarks/perturbed.py solutions/08_*.ipynb --only seed+1000 one-thread
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bncourse.tooling.runs import PERTURBATIONS, run_notebook

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--only", nargs="*", choices=list(PERTURBATIONS), default=None)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(ROOT.glob("solutions/*.ipynb")) + sorted(
        ROOT.glob("lessons/*.ipynb")
    )
    names = args.only or [name for name in PERTURBATIONS if name != "as-written"]
    print("| notebook | " + " | ".join(names) + " | slowest (s) |")
    print("|---|" + ":---:|" * len(names) + "---:|")
    failures = []
    for path in paths:
        cells, slowest = [], 0.0
        for name in names:
            run = run_notebook(path, name, cwd=ROOT)
            slowest = max(slowest, run.seconds)
            cells.append("pass" if run.ok else "**FAIL**")
            if not run.ok:
                failures.append((f"{path.parent.name}/{path.name}", name, run))
        print(f"| {path.parent.name}/{path.name} | " + " | ".join(cells) + f" | {slowest:.1f} |")
        sys.stdout.flush()
    for notebook, name, run in failures:
        print(f"\n{notebook} under {name}:")
        if run.error:
            print(f"  error: {run.error}")
        for statement in run.failed_claims:
            print(f"  claim did not hold: {statement}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
