"""Time and peak memory of every notebook, run top to bottom (the course budget table).

Each notebook runs in a fresh kernel, as a learner's would. Budget: <= 60 s and
<= 1.5 GB peak memory per notebook on 2 CPU cores. Prints a Markdown table; not a test.

    python benchmarks/notebooks.py                 # solutions/ and lessons/
    python benchmarks/notebooks.py solutions/03_*.ipynb
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 60.0
BUDGET_MB = 1536.0

# Runs in a child process so that RUSAGE_CHILDREN measures only this notebook's kernel.
_RUNNER = r"""
import json, resource, sys, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient
path = Path(sys.argv[1])
notebook = nbformat.read(path, as_version=4)
client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                        resources={"metadata": {"path": str(path.parent)}})
start = time.perf_counter()
error = ""
try:
    client.execute()
except Exception as exc:  # report, do not crash the table
    error = type(exc).__name__
seconds = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "error": error}))
"""


def measure(path: Path) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(path)], capture_output=True, text=True, cwd=ROOT
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"seconds": float("nan"), "peak_mb": float("nan"), "error": "runner failed"}
    return json.loads(lines[-1])


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted(ROOT.glob("solutions/*.ipynb")) + sorted(
        ROOT.glob("lessons/*.ipynb")
    )
    print("| notebook | time (s) | peak memory (MB) | within budget |")
    print("|---|---:|---:|:---:|")
    worst = 0
    for path in paths:
        result = measure(path)
        ok = (
            not result["error"]
            and result["seconds"] <= BUDGET_SECONDS
            and result["peak_mb"] <= BUDGET_MB
        )
        worst += not ok
        note = "yes" if ok else ("no: " + result["error"] if result["error"] else "no")
        name = f"{path.parent.name}/{path.name}"
        print(f"| {name} | {result['seconds']:.1f} | {result['peak_mb']:.0f} | {note} |")
    return 1 if worst else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
