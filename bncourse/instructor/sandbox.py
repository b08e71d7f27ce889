"""Running one untrusted submission: a separate process, limits, and a sandbox.

Limits: wall-clock time, CPU time and address space (rlimits), resident memory (polled, the
tree is killed above the cap), output (only the first 64 kB of stdout/stderr is kept), file
size (rlimit) and a scratch working directory.

What a submission can see and leave behind:

* **bubblewrap** (Linux, Debian package ``bubblewrap``): the worker runs in new namespaces
  with no network and its own PID namespace, and sees only what it needs, read-only: the
  system's libraries, the Python installation, the course package and the quiz banks, plus
  its own scratch folder read-write. The submissions folder, the other submissions'
  scratch folders, the output folder and the instructor's home do not exist in there. When
  the worker ends, the kernel ends every process left in its PID namespace.
* **Landlock** (Linux 5.13+, no root needed; see ``landlock``): the worker restricts
  itself to the same read-only paths and its scratch folder before any learner code runs,
  gives up TCP, and cannot signal processes outside its sandbox. It is the sandbox of
  ``--sandbox none`` on Linux, and a second layer under bubblewrap.
* **A supervisor** (``supervisor``, on Linux without bubblewrap): a small trusted process
  between the grader and the worker, registered as the "child subreaper" of everything the
  worker starts, so a process started in a new session is still its descendant; when the
  worker ends it kills every one of them.
* Elsewhere (macOS, Windows): a separate process with the limits above, killed with its
  process group; a determined submission can read files its user can read and leave
  processes behind (README, "What the sandbox protects").
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

__all__ = [
    "Limits",
    "WorkerOutcome",
    "run_worker",
    "bubblewrap_available",
    "readable_paths",
    "landlock_paths",
    "fallback_description",
]

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


_SYSTEM_PATHS = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc", "/opt")


def fallback_description() -> str:
    """What protects the instructor's machine when bubblewrap is not used, in one sentence."""
    from bncourse.instructor.landlock import abi_version

    if sys.platform.startswith("linux") and abi_version() > 0:
        return (
            "bubblewrap (bwrap) is not used: each submission runs under Landlock (it can read "
            "only the system, Python and the course, write only its scratch folder, and has "
            "no TCP), and a supervisor ends every process it starts."
        )
    if sys.platform.startswith("linux"):
        return (
            "bubblewrap (bwrap) is not used and this kernel has no Landlock: submissions run "
            "as separate processes with limits (a supervisor ends every process they start), "
            "but can read and write your files and use the network."
        )
    return (
        "bubblewrap is Linux-only: submissions run as separate processes with limits, killed "
        "with their process group, but can read and write your files, use the network, and a "
        "process started in a new session can outlive grading."
    )


def readable_paths() -> list[Path]:
    """What the worker may read: the system, Python, the course package and its quiz banks.

    Never the submissions, the scratch root or the instructor's files: those are not on
    this list, so the sandboxes hide them.
    """
    from bncourse.quiz.bank import quiz_dir

    paths = [Path(p) for p in _SYSTEM_PATHS]
    paths += [Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)]
    paths += [Path(__file__).resolve().parents[1], quiz_dir()]
    unique: list[Path] = []
    for path in paths:
        if path.exists() and path not in unique:
            unique.append(path)
    return unique


def landlock_paths(scratch: Path) -> dict[str, list[str]]:
    """The worker's Landlock rules, as job.json carries them."""
    readable = [*readable_paths(), Path("/proc"), Path("/sys"), Path("/dev")]
    writable = [scratch, Path("/dev/null")]
    return {"readable": [str(p) for p in readable], "writable": [str(p) for p in writable]}


def _bwrap_prefix(scratch: Path) -> list[str]:
    command = ["bwrap", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for path in [*readable_paths(), Path("/sys")]:
        if path.is_symlink() and str(path) in _SYSTEM_PATHS:  # /bin -> usr/bin (merged /usr)
            command += ["--symlink", os.readlink(path), str(path)]
        else:
            command += ["--ro-bind", str(path), str(path)]
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


def run_worker(scratch: Path, limits: Limits, *, sandbox: bool) -> WorkerOutcome:
    """Run ``python -m bncourse.instructor.worker scratch`` under the limits, inside
    bubblewrap (``sandbox=True``) or, on Linux, under the supervisor."""
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
        command = _bwrap_prefix(scratch) + command
    elif sys.platform.startswith("linux"):
        command = [sys.executable, "-m", "bncourse.instructor.supervisor", *command]

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
    """Stop the worker: ask the supervisor (which cleans up after the worker) first, then
    kill the whole process group."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=3)
    except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.kill()
    except ProcessLookupError:
        pass
