"""Running one untrusted submission: a separate process, limits, and bubblewrap on Linux.

Limits: wall-clock time (the grader kills the whole process tree), CPU time and address
space (rlimits), resident memory (polled, the tree is killed above the cap), output (only
the first 64 kB of stdout/stderr is kept, the rest is drained and dropped), file size
(rlimit) and a scratch working directory. With bubblewrap (Debian package ``bubblewrap``)
the worker also runs with no network, its own PID namespace, and a read-only view of the
file system except its scratch directory, in which the output directory and the other
submissions' scratch directories appear empty, so it cannot touch the gradebook, the other
submissions or the instructor's files.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["Limits", "WorkerOutcome", "run_worker", "bubblewrap_available"]

_OUTPUT_KEEP = 64 * 1024


@dataclass(frozen=True)
class Limits:
    seconds: float = 120.0  # per submission, wall clock
    memory_mb: int = 2048  # resident memory of the whole worker tree
    file_mb: int = 64  # largest file the worker may write


@dataclass
class WorkerOutcome:
    returncode: int | None
    timed_out: bool
    out_of_memory: bool
    seconds: float
    output: str  # the first 64 kB the worker printed


@lru_cache(maxsize=1)
def bubblewrap_available() -> bool:
    """True when bwrap exists and can create a sandbox here (it cannot in some containers)."""
    if not sys.platform.startswith("linux") or shutil.which("bwrap") is None:
        return False
    try:
        probe = subprocess.run(
            ["bwrap", "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _needed_by_the_worker() -> list[Path]:
    """Folders the worker must see: Python's installation and the bncourse package."""
    return [
        Path(sys.prefix).resolve(),
        Path(sys.base_prefix).resolve(),
        Path(__file__).resolve().parents[1],
    ]


def _bwrap_prefix(scratch: Path, hidden: list[Path]) -> list[str]:
    command = [
        "bwrap",
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
    ]  # fmt: skip
    needed = _needed_by_the_worker()
    for path in hidden:  # the output folder and the other submissions' scratch folders
        if path.exists() and not any(n.is_relative_to(path) for n in needed):
            command += ["--tmpfs", str(path)]
    command += [
        "--bind", str(scratch), str(scratch),
        "--chdir", str(scratch),
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--",
    ]  # fmt: skip
    return command


def _rss_kb(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, in kB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(entry), int(fields[1])
        children.setdefault(parent, []).append(pid)
        rss[pid] = int(fields[21]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def _drain(stream, keep: bytearray) -> None:  # type: ignore[no-untyped-def]
    while True:
        chunk = stream.read(65536)
        if not chunk:
            return
        room = _OUTPUT_KEEP - len(keep)
        if room > 0:
            keep.extend(chunk[:room])


def run_worker(
    scratch: Path,
    limits: Limits,
    *,
    sandbox: bool,
    hidden: list[Path] | None = None,
) -> WorkerOutcome:
    """Run ``python -m bncourse.instructor.worker scratch`` under the limits."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(scratch),
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(scratch / ".matplotlib"),
        "IPYTHONDIR": str(scratch / ".ipython"),
        "TMPDIR": str(scratch),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
    }
    command = [sys.executable, "-m", "bncourse.instructor.worker", str(scratch)]
    if sandbox:
        command = _bwrap_prefix(scratch, hidden or []) + command

    cpu_seconds = int(limits.seconds) + 5
    address_space = max(limits.memory_mb * 2, 4096) * 1024 * 1024
    file_size = limits.file_mb * 1024 * 1024

    def apply_limits() -> None:  # runs in the child before exec
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    start = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=scratch,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=apply_limits,  # noqa: PLW1509 - no threads hold locks here that matter
        start_new_session=True,
    )
    kept = bytearray()
    drainer = threading.Thread(target=_drain, args=(process.stdout, kept), daemon=True)
    drainer.start()
    timed_out = out_of_memory = False
    while process.poll() is None:
        elapsed = time.monotonic() - start
        if elapsed > limits.seconds:
            timed_out = True
        elif _rss_kb(process.pid) > limits.memory_mb * 1024:
            out_of_memory = True
        if timed_out or out_of_memory:
            _kill_tree(process)
            break
        time.sleep(0.02 if elapsed < 2 else 0.1)
    process.wait()
    drainer.join(timeout=5)
    return WorkerOutcome(
        returncode=process.returncode,
        timed_out=timed_out,
        out_of_memory=out_of_memory,
        seconds=time.monotonic() - start,
        output=kept.decode("utf-8", errors="replace"),
    )


def _kill_tree(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.kill()
    except ProcessLookupError:
        pass
