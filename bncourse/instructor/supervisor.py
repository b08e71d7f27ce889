"""The worker's supervisor on Linux without bubblewrap: nothing a submission starts survives it.

Run as ``python -m bncourse.instructor.supervisor COMMAND...``. It registers itself as the
*child subreaper* of its descendants (``prctl(PR_SET_CHILD_SUBREAPER)``): a process the
submission starts and orphans, even in a new session, becomes the supervisor's child
instead of init's. When the worker ends (or the grader asks the supervisor to stop with
SIGTERM), the supervisor kills every descendant it has, waits for them, and exits with the
worker's status. The worker cannot signal it: under Landlock (ABI 6+) signals outside the
worker's sandbox are refused.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

__all__ = ["main", "descendants"]

_PR_SET_CHILD_SUBREAPER = 36


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (Linux /proc), deepest last."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, stack = [], list(children.get(root, []))
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _reap_all() -> None:
    """Kill and wait for every descendant until none is left (orphans keep arriving)."""
    me = os.getpid()
    for _ in range(50):
        pids = descendants(me)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    command = sys.argv[1:] if argv is None else argv
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    stop = {"asked": False}

    def on_term(signum: int, frame: object) -> None:
        stop["asked"] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    worker = subprocess.Popen(command)
    status = None
    while status is None and not stop["asked"]:
        status = worker.poll()
        time.sleep(0.02)
    if status is None:
        worker.kill()
        worker.wait()
        status = -signal.SIGTERM
    sys.stdout.flush()
    _reap_all()
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    sys.exit(main())
