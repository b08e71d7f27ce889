"""Run a notebook top to bottom in a fresh kernel, under a chosen environment, and report.

A lesson's measured claims must hold on any learner's machine, not only on the one they
were written on: other CPUs sum in another order, other thread counts and seeds give other
numbers. ``PERTURBATIONS`` lists the environments the tests and ``benchmarks/perturbed.py``
run the notebooks under: the base seed moved by two offsets, TensorFlow's oneDNN kernels
off, and one CPU thread. ``run_notebook`` executes a notebook in a child process (so the
kernel inherits the environment and its peak memory can be measured on its own) with
``BNCOURSE_STRICT_CLAIMS=1``, and returns what happened.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Perturbation", "PERTURBATIONS", "NotebookRun", "run_notebook", "perturbation"]

RESULT_MIMETYPE = "application/vnd.bncourse.result+json"


@dataclass(frozen=True)
class Perturbation:
    """A named environment to run a notebook under."""

    name: str
    env: dict[str, str]
    description: str


_ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}

PERTURBATIONS: dict[str, Perturbation] = {
    p.name: p
    for p in (
        Perturbation("as-written", {}, "the seeds and settings the lessons were written with"),
        Perturbation("seed+1000", {"BNCOURSE_SEED_OFFSET": "1000"}, "every seed moved by 1000"),
        Perturbation("seed+7919", {"BNCOURSE_SEED_OFFSET": "7919"}, "every seed moved by 7919"),
        Perturbation(
            "onednn-off", {"TF_ENABLE_ONEDNN_OPTS": "0"}, "TensorFlow without oneDNN kernels"
        ),
        Perturbation("one-thread", dict(_ONE_THREAD), "one CPU thread (NumPy and TensorFlow)"),
        Perturbation(
            "all-at-once",
            {"BNCOURSE_SEED_OFFSET": "31337", "TF_ENABLE_ONEDNN_OPTS": "0", **_ONE_THREAD},
            "seed moved by 31337, oneDNN off and one thread together",
        ),
    )
}


def perturbation(name: str) -> Perturbation:
    """The perturbation called ``name``, or a ValueError listing the names."""
    if name not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {name!r}; choose from {', '.join(PERTURBATIONS)}")
    return PERTURBATIONS[name]


@dataclass
class NotebookRun:
    """What happened when a notebook ran top to bottom."""

    path: str
    perturbation: str
    seconds: float
    peak_mb: float
    error: str = ""  # the first failing cell and its error, "" when every cell ran
    failed_claims: list[str] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)  # check/quiz/claim payloads
    stderr: list[str] = field(default_factory=list)  # what showed as pink boxes, per cell

    @property
    def ok(self) -> bool:
        return not self.error and not self.failed_claims


# Runs in a child process, so the kernel inherits the perturbed environment and
# RUSAGE_CHILDREN measures only this notebook's kernel.
_RUNNER = r"""
import json, resource, sys, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
path = Path(sys.argv[1])
notebook = nbformat.read(path, as_version=4)
client = NotebookClient(notebook, timeout=int(sys.argv[2]), kernel_name="python3",
                        resources={"metadata": {"path": str(path.parent)}})
start = time.perf_counter()
error = ""
try:
    client.execute()
except CellExecutionError as exc:
    cell = next((i for i, c in enumerate(notebook.cells) if c.cell_type == "code"
                 and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
    error = f"cell {cell}: {exc.ename}: {exc.evalue}"[:2000]
except Exception as exc:
    error = f"{type(exc).__name__}: {exc}"[:2000]
seconds = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
payloads = [out["data"][sys.argv[3]] for cell in notebook.cells if cell.cell_type == "code"
            for out in cell.get("outputs", []) if sys.argv[3] in out.get("data", {})]
stderr = [f"cell {i}: {out['text'][:300]}" for i, cell in enumerate(notebook.cells)
          if cell.cell_type == "code" for out in cell.get("outputs", [])
          if out.get("output_type") == "stream" and out.get("name") == "stderr"]
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "error": error,
                  "payloads": payloads, "stderr": stderr}))
"""


def run_notebook(
    path: Path | str,
    perturbation_name: str = "as-written",
    *,
    timeout: int = 600,
    cwd: Path | str | None = None,
) -> NotebookRun:
    """Execute ``path`` in a fresh kernel under a perturbation; claims are strict."""
    chosen = perturbation(perturbation_name)
    env = {**os.environ, "BNCOURSE_STRICT_CLAIMS": "1", **chosen.env}
    if "BNCOURSE_SEED_OFFSET" not in chosen.env:
        env.pop("BNCOURSE_SEED_OFFSET", None)
    completed = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(path), str(timeout), RESULT_MIMETYPE],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = (completed.stderr or completed.stdout)[-1500:]
        return NotebookRun(str(path), chosen.name, float("nan"), float("nan"), f"runner: {tail}")
    data = json.loads(lines[-1])
    payloads = data["payloads"]
    failed = [p["name"] for p in payloads if p.get("kind") == "claim" and p["status"] != "holds"]
    return NotebookRun(
        str(path),
        chosen.name,
        data["seconds"],
        data["peak_mb"],
        data["error"],
        failed,
        payloads,
        data.get("stderr", []),
    )
