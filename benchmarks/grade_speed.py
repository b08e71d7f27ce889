"""Grading at scale: `bncourse grade` on a generated class, and Gradescope's per-submission cost.

Each submission is lesson 03 with every exercise filled in by a learner-style implementation
drawn at random (correct ones and common mistakes), so the grader does the same work as on
a real class.

* `bncourse grade` throughput and peak memory, per sandbox (bubblewrap where it works, and
  the fallback): `--count 1000 --jobs 2`.
* `--gradescope N`: `run_autograder` of the lesson's autograder zip run once per submission,
  as Gradescope runs it in a fresh container (process start-up, imports and grading
  included), in a folder laid out as Gradescope's, on N submissions.

Prints tables; not a test.

    python benchmarks/grade_speed.py --count 1000 --jobs 2 --gradescope 20
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

import nbformat

from bncourse.instructor import grade_paths
from bncourse.instructor.sandbox import bubblewrap_available

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "lessons" / "03_the_four_steps.ipynb"
AXES = "tuple(range(x.ndim - 1))"

IMPLEMENTATIONS = {
    "batch_mean": [
        f"def batch_mean(x):\n    return x.mean(axis={AXES})",
        "def batch_mean(x):\n    return x.reshape(-1, x.shape[-1]).mean(axis=0)",
        "def batch_mean(x):\n    return x.mean(axis=0)",
    ],
    "batch_variance": [
        f"def batch_variance(x):\n    return x.var(axis={AXES})",
        f"def batch_variance(x):\n    return x.var(axis={AXES}, ddof=1)",
        f"def batch_variance(x):\n    return x.std(axis={AXES})",
    ],
    "normalize": [
        "def normalize(x, mean, var, eps=1e-3):\n    return (x - mean) / np.sqrt(var + eps)",
        "def normalize(x, mean, var, eps=1e-3):\n    return (x - mean) / (np.sqrt(var) + eps)",
        "def normalize(x, mean, var, eps=1e-3):\n    return (x - mean) / (var + eps)",
    ],
    "scale_shift": [
        "def scale_shift(x_hat, gamma, beta):\n    return gamma * x_hat + beta",
        "def scale_shift(x_hat, gamma, beta):\n    return beta * x_hat + gamma",
    ],
    "identity_params": [
        f"def identity_params(x, eps=1e-3):\n    a = {AXES}\n"
        "    return np.sqrt(x.var(axis=a) + eps), x.mean(axis=a)",
        f"def identity_params(x, eps=1e-3):\n    a = {AXES}\n"
        "    return x.std(axis=a), x.mean(axis=a)",
    ],
    "batchnorm_forward": [
        f"def batchnorm_forward(x, gamma, beta, eps=1e-3):\n    a = {AXES}\n"
        "    return gamma * (x - x.mean(a)) / np.sqrt(x.var(a) + eps) + beta",
        "def batchnorm_forward(x, gamma, beta, eps=1e-3):\n"
        "    return gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + beta",
        f"def batchnorm_forward(x, gamma, beta, eps=1e-3):\n    a = {AXES}\n"
        "    x -= x.mean(a)\n    x /= np.sqrt(x.var(a) + eps)\n    return gamma * x + beta",
    ],
}


def make_submissions(folder: Path, count: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    lesson = nbformat.read(LESSON, as_version=4)
    for index in range(count):
        notebook = nbformat.from_dict(lesson)
        for cell in notebook.cells:
            match = re.match(r"def (\w+)\(", cell.source) if cell.cell_type == "code" else None
            if match and match.group(1) in IMPLEMENTATIONS:
                cell.source = rng.choice(IMPLEMENTATIONS[match.group(1)])
        nbformat.write(notebook, folder / f"learner {index:03d}.ipynb")


def _peak_mb() -> float:
    """The largest resident size this process or any finished child reached, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def grade_class(count: int, jobs: int, sandbox: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        submissions, out = Path(tmp) / "submissions", Path(tmp) / "out"
        submissions.mkdir()
        make_submissions(submissions, count)
        start = time.monotonic()
        results = grade_paths([submissions], out, jobs=jobs, sandbox=sandbox)
        seconds = time.monotonic() - start
    statuses = Counter(r.status for r in results)
    return (
        f"| {len(results)} | {jobs} | {sandbox} | {seconds:.1f} | "
        f"{len(results) / seconds * 60:.0f} | {_peak_mb():.0f} | {dict(statuses)} |"
    )


def gradescope_cost(count: int) -> str:
    """run_autograder once per submission in a Gradescope-like root (the course's venv)."""
    import sys

    from bncourse.instructor.gradescope import build_autograder

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "autograder"
        zip_path = build_autograder("03_the_four_steps", Path(tmp) / "autograder.zip")
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(root / "source")
        shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
        (root / "run_autograder").chmod(0o755)
        (root / "venv").symlink_to(Path(sys.prefix))  # setup.sh's venv: this one
        pool = Path(tmp) / "pool"
        pool.mkdir()
        make_submissions(pool, count, seed=1)
        times = []
        env = {**os.environ, "AUTOGRADER_ROOT": str(root)}
        for path in sorted(pool.glob("*.ipynb")):
            shutil.rmtree(root / "submission", ignore_errors=True)
            (root / "submission").mkdir()
            shutil.copy(path, root / "submission" / path.name)
            start = time.monotonic()
            subprocess.run([str(root / "run_autograder")], env=env, check=True, capture_output=True)
            times.append(time.monotonic() - start)
    return (
        f"| {count} | {statistics.median(times):.2f} | {statistics.mean(times):.2f} | "
        f"{max(times):.2f} | {count / sum(times) * 60:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--gradescope", type=int, default=0, metavar="N")
    args = parser.parse_args()
    sandboxes = (["bwrap"] if bubblewrap_available() else []) + ["none"]
    print("| submissions | jobs | sandbox | seconds | per minute | peak MB | statuses |")
    print("|---:|---:|---|---:|---:|---:|---|")
    for sandbox in sandboxes:
        print(grade_class(args.count, args.jobs, sandbox), flush=True)
    if args.gradescope:
        print(
            "\n| run_autograder runs | median s | mean s | slowest s | per minute, one container |"
        )
        print("|---:|---:|---:|---:|---:|")
        print(gradescope_cost(args.gradescope), flush=True)


if __name__ == "__main__":
    main()
