"""`bncourse grade` throughput: 100 generated submissions of lesson 03, --jobs 2.

Each submission is the lesson notebook with every exercise filled in by a learner-style
implementation drawn at random (correct ones and common mistakes), so the grader does the
same work as on a real class. Target: >= 60 submissions per minute on 2 cores.
Prints a table; not a test.

    python benchmarks/grade_speed.py [--count 100] [--jobs 2]
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        submissions, out = Path(tmp) / "submissions", Path(tmp) / "out"
        submissions.mkdir()
        make_submissions(submissions, args.count)
        start = time.monotonic()
        results = grade_paths([submissions], out, jobs=args.jobs)
        seconds = time.monotonic() - start
    statuses = Counter(r.status for r in results)
    sandbox = "bubblewrap" if bubblewrap_available() else "none (fallback)"
    print("| submissions | jobs | sandbox | seconds | per minute | statuses |")
    print("|---:|---:|---|---:|---:|---|")
    print(
        f"| {len(results)} | {args.jobs} | {sandbox} | {seconds:.1f} | "
        f"{len(results) / seconds * 60:.0f} | {dict(statuses)} |"
    )


if __name__ == "__main__":
    main()
