"""``bncourse grade``: grade submitted notebooks into a gradebook, safely and fast.

    bncourse grade PATH... --out DIR [--timeout SECONDS] [--jobs N]

Each submission runs in its own sandboxed worker process (see ``sandbox``); only the cells
grading needs are executed (see ``slicing``), cells tagged ``experiment`` never; the
worker's observations are judged here, by the same judge as the learners' in-notebook
checks. Outputs (see ``report``): DIR/gradebook.csv, DIR/submissions/<name>/results.json
(Gradescope's format), DIR/misconceptions.csv, and a summary on the terminal.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from bncourse.instructor.sandbox import Limits, bubblewrap_available, fallback_description

if TYPE_CHECKING:  # the worker imports this package: keep its import light
    from bncourse.instructor.grader import SubmissionResult

__all__ = ["main", "grade_paths", "collect_submissions"]


def collect_submissions(paths: list[Path]) -> list[tuple[Path, str]]:
    """(file, display name) for every notebook named or found (recursively) in folders."""
    found: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            for file in sorted(path.rglob("*.ipynb")):
                if ".ipynb_checkpoints" in file.parts:
                    continue
                found.append((file, str(file.relative_to(path.parent))))
        else:
            found.append((path, path.name if len(paths) > 1 else str(path)))
    names: dict[str, int] = {}
    unique = []
    for file, name in found:
        names[name] = names.get(name, 0) + 1
        unique.append((file, name if names[name] == 1 else f"{name} ({names[name]})"))
    return unique


def grade_paths(
    paths: list[Path],
    out: Path,
    *,
    timeout: float = 120.0,
    check_timeout: float = 5.0,
    jobs: int = 1,
    memory_mb: int = 2048,
    sandbox: str = "auto",
    lesson: str | None = None,
    progress: bool = False,
    feedback: bool = False,
) -> list[SubmissionResult]:
    """Grade every submission and write the reports (and with ``feedback``, one page per
    submission for the learner); returns the results in input order."""
    from bncourse.instructor.grader import grade_submission, read_submission
    from bncourse.instructor.report import write_reports

    use_bwrap = {"auto": bubblewrap_available(), "bwrap": True, "none": False}[sandbox]
    limits = Limits(seconds=timeout, memory_mb=memory_mb)
    submissions = collect_submissions(paths)
    contents = [read_submission(path) for path, _ in submissions]
    scratch_root = Path(tempfile.mkdtemp(prefix="bncourse-grade-"))
    done = 0

    def one(index: int) -> SubmissionResult:
        nonlocal done
        path, name = submissions[index]
        result = grade_submission(
            path,
            name,
            contents[index],
            limits=limits,
            check_timeout=check_timeout,
            sandbox=use_bwrap,
            scratch_root=scratch_root,
            lesson=lesson,
        )
        done += 1
        if progress:
            _progress(done, len(submissions))
        return result

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(one, range(len(submissions))))
    finally:
        shutil.rmtree(scratch_root, ignore_errors=True)
    write_reports(results, out)
    if feedback:
        from bncourse.instructor.feedback import write_feedback_pages

        write_feedback_pages(results, out)
    return results


def _progress(done: int, total: int) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    bar = "#" * filled + "." * (width - filled)
    end = "\n" if done == total else ""
    print(f"\r[{bar}] {done}/{total}", end=end, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bncourse grade",
        description="Grade submitted notebooks: gradebook, Gradescope results, misconceptions.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="notebooks or folders")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--timeout", type=float, default=120.0, metavar="SECONDS", help="per submission (120)"
    )
    parser.add_argument(
        "--check-timeout", type=float, default=5.0, metavar="SECONDS", help="per check call (5)"
    )
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="parallel workers (1)")
    parser.add_argument("--memory", type=int, default=2048, metavar="MB", help="per submission")
    parser.add_argument(
        "--sandbox",
        choices=["auto", "bwrap", "none"],
        default="auto",
        help="bubblewrap when available (auto), required (bwrap), or off (none)",
    )
    parser.add_argument("--lesson", help="the lesson stem, if notebooks do not say it")
    parser.add_argument(
        "--feedback",
        action="store_true",
        help="also write one feedback page per submission (OUT/feedback/*.html)",
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        parser.print_usage(sys.stderr)
        print(f"bncourse grade: no such file or folder: {missing[0]}", file=sys.stderr)
        return 2
    if args.timeout <= 0 or args.check_timeout <= 0 or args.jobs < 1 or args.memory < 64:
        print(
            "bncourse grade: --timeout, --check-timeout, --jobs, --memory must be positive",
            file=sys.stderr,
        )
        return 2
    if args.sandbox == "bwrap" and not bubblewrap_available():
        print("bncourse grade: --sandbox bwrap, but bubblewrap is not usable here", file=sys.stderr)
        return 2
    if args.sandbox != "bwrap" and not bubblewrap_available() or args.sandbox == "none":
        print(f"warning: {fallback_description()}", file=sys.stderr)
    from bncourse.instructor.report import summary

    start = time.monotonic()
    results = grade_paths(
        args.paths,
        args.out,
        timeout=args.timeout,
        check_timeout=args.check_timeout,
        jobs=args.jobs,
        memory_mb=args.memory,
        sandbox=args.sandbox,
        lesson=args.lesson,
        progress=sys.stderr.isatty(),
        feedback=args.feedback,
    )
    print(summary(results, time.monotonic() - start))
    pages = f" and feedback pages under {args.out / 'feedback'}" if args.feedback else ""
    print(
        f"Wrote {args.out / 'gradebook.csv'}, {args.out / 'misconceptions.csv'} and "
        f"{len(results)} results.json file(s) under {args.out / 'submissions'}{pages}."
    )
    return 0
