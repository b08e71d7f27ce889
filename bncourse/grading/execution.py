"""Calling a learner's function safely and recording what happened.

Everything here runs on the learner's side (in the notebook, or in the instructor's
sandboxed worker process). It produces an ``Observation`` per test case: the returned
value reduced to plain data (``Returned``), whether the call raised or timed out, what it
printed and whether it modified its arguments. Judging happens elsewhere, on that data.
"""

from __future__ import annotations

import contextlib
import io
import signal
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "Returned",
    "Observation",
    "describe_output",
    "observe_call",
    "value_as_json",
    "array_from_json",
    "error_text",
    "stub_called",
    "DEFAULT_TIMEOUT",
]

DEFAULT_TIMEOUT = 5.0
"""Seconds one call of a learner's function may take before the check gives up on it."""

_PRINT_LIMIT = 2000


@dataclass
class Returned:
    """A returned value reduced to data a grader can judge (and send between processes).

    ``kind`` is ``"array"`` (``array`` holds it, ``dtype`` its original dtype),
    ``"sequence"`` (``items`` holds one ``Returned`` per element), ``"none"``,
    ``"json"`` (``data`` holds JSON-compatible data an exercise's ``invoke`` produced, e.g.
    a description of a Keras model), or ``"other"`` (``type_name`` and ``text``).
    """

    kind: str
    array: np.ndarray | None = None
    dtype: str = ""
    container: str = ""
    items: list[Returned] = field(default_factory=list)
    type_name: str = ""
    text: str = ""
    data: Any = None


@dataclass
class Observation:
    """What one call of the learner's function did."""

    status: str  # "ok", "raised", "not-implemented" or "timeout"
    returned: Returned | None = None
    error: str = ""  # "NameError: name 'mu' is not defined (line 4 of batch_mean)"
    mutated: list[str] = field(default_factory=list)
    printed_chars: int = 0
    seconds: float = 0.0


def describe_output(value: Any, depth: int = 0) -> Returned:
    """Reduce a returned value to a ``Returned`` (numbers become arrays, lists stay lists)."""
    if value is None:
        return Returned("none")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            return Returned("array", array=np.array(value, copy=True), dtype=str(value.dtype))
        return Returned("other", type_name=f"ndarray of dtype {value.dtype}", text=_short(value))
    if isinstance(value, (bool, int, float, np.number)):
        return Returned("array", array=np.asarray(value), dtype=type(value).__name__)
    if isinstance(value, (list, tuple)) and depth < 3:
        items = [describe_output(item, depth + 1) for item in value[:64]]
        return Returned("sequence", container=type(value).__name__, items=items)
    converted = _array_from_foreign(value)
    if converted is not None:  # tensors and other array-likes with __array__
        return Returned("array", array=converted, dtype=str(converted.dtype))
    return Returned("other", type_name=type(value).__name__, text=_short(value))


def value_as_json(value: Any) -> dict[str, Any]:
    """A value as JSON data for a custom judge: numeric arrays in full, anything else by its
    kind (what a behaviour check records on the learner's side and judges on its own)."""
    if value is None:
        return {"kind": "other", "text": "None"}
    if isinstance(value, (list, tuple)):
        return {"kind": "other", "text": f"a {type(value).__name__} of {len(value)} items"}
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - an odd object is described, never raised
        array = None
    if array is None or array.dtype.kind not in "biuf":
        return {"kind": "other", "text": f"a {type(value).__name__}"}
    return {
        "kind": "array",
        "dtype": str(array.dtype),
        "shape": list(array.shape),
        "values": np.asarray(array, dtype=np.float64).ravel().tolist(),
    }


def array_from_json(described: dict[str, Any] | None) -> np.ndarray | None:
    """The float64 array ``value_as_json`` recorded, or None if it recorded something else."""
    if not described or described.get("kind") != "array":
        return None
    return np.asarray(described["values"], dtype=np.float64).reshape(described["shape"])


def _array_from_foreign(value: Any) -> np.ndarray | None:
    if not hasattr(value, "__array__"):
        return None
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything a foreign object raises means "not an array"
        return None
    return array if array.dtype.kind in "biuf" else None


def _short(value: Any, limit: int = 120) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not break the check
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _CappedWriter(io.TextIOBase):
    """Swallows printed text, keeping only a count (a learner may print megabytes)."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)

    def writable(self) -> bool:
        return True


class _Timeout(BaseException):
    """Raised inside the learner's code by the alarm. BaseException: survives `except Exception`."""


def _snapshot(args: dict[str, Any]) -> dict[str, np.ndarray]:
    return {
        name: np.array(value, copy=True)
        for name, value in args.items()
        if isinstance(value, np.ndarray)
    }


def _changed(args: dict[str, Any], before: dict[str, np.ndarray]) -> list[str]:
    changed = []
    for name, original in before.items():
        now = args[name]
        if (
            not isinstance(now, np.ndarray)
            or now.shape != original.shape
            or not np.array_equal(now, original, equal_nan=True)
        ):
            changed.append(name)
    return changed


_LIBRARY_DIRS = tuple(
    str(Path(path).resolve())
    for path in {
        Path(__file__).resolve().parents[1],  # the bncourse package
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
    }
)


def _is_library(filename: str) -> bool:
    """Frames in bncourse, the standard library or installed packages are not the learner's."""
    try:
        resolved = str(Path(filename).resolve())
    except (OSError, ValueError):
        return False
    return resolved.startswith(_LIBRARY_DIRS)


def error_text(error: BaseException, function_name: str) -> str:
    """One line for a learner's error: its type, message, and the line of their code that
    raised it (``"NameError: name 'mu' is not defined (line 4 of batch_mean)"``)."""
    message = f"{type(error).__name__}: {error}".strip().rstrip(":")
    frames = traceback.extract_tb(error.__traceback__)
    learner = [f for f in frames if not _is_library(f.filename)]
    if learner:
        frame = learner[-1]
        where = frame.name if frame.name != "<module>" else function_name
        message += f" (line {frame.lineno} of {where})"
    return message if len(message) < 400 else message[:397] + "..."


def stub_called(error: NotImplementedError, function_name: str) -> str | None:
    """The learner's function that raised ``error`` when it is another plain function than
    ``function_name``: the exercise was written, but it calls another exercise's stub (a
    node not yet filled in). A method that raises (a class exercise's ``__call__``) is the
    exercise's own stub."""
    frames = [
        frame
        for frame, _ in traceback.walk_tb(error.__traceback__)
        if not _is_library(frame.f_code.co_filename) and frame.f_code.co_name != "<module>"
    ]
    if not frames:
        return None
    code = frames[-1].f_code
    owner = code.co_qualname.split(".")[:-1]
    if code.co_name == function_name or (owner and owner[-1] != "<locals>"):
        return None
    return code.co_name


def _can_use_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def observe_call(
    function: Callable[..., Any],
    args: dict[str, Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    convert: Callable[[Any], Returned] = describe_output,
) -> Observation:
    """Call ``function(**args)`` with a time limit, output capture and mutation detection.

    ``args`` maps parameter names to values and is passed by keyword-free position (in
    order), so the learner's own parameter names do not matter. Never raises for anything
    the learner's function does, except KeyboardInterrupt.
    """
    before = _snapshot(args)
    writer = _CappedWriter()
    name = getattr(function, "__name__", "your function")
    start = time.perf_counter()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            with contextlib.redirect_stdout(writer), contextlib.redirect_stderr(writer):
                outcome["value"] = function(*args.values())
        except _Timeout:
            outcome["timeout"] = True
        except NotImplementedError as error:
            outcome["not_implemented"] = error
        except Exception as error:  # noqa: BLE001 - any learner error is reported, not raised
            outcome["error"] = error
        except SystemExit as error:
            outcome["error"] = error

    if _can_use_alarm():
        previous = signal.signal(signal.SIGALRM, _raise_timeout)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            target()
        except _Timeout:  # the alarm fired outside the learner's frames
            outcome["timeout"] = True
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    else:  # not the main thread, or Windows: a watchdog thread (cannot stop the call)
        worker = threading.Thread(target=target, daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            outcome["timeout"] = True
    seconds = time.perf_counter() - start

    observation = Observation(status="ok", printed_chars=writer.chars, seconds=seconds)
    if outcome.get("timeout"):
        observation.status = "timeout"
        observation.error = f"did not return within {timeout:g} s"
        return observation
    if "not_implemented" in outcome:
        stub = stub_called(outcome["not_implemented"], name)
        if stub is None:
            observation.status = "not-implemented"
            observation.error = str(outcome["not_implemented"])
            return observation
        observation.status = "raised"  # written, but what it calls is still a stub
        observation.error = (
            f"NotImplementedError from {stub}, which {name} calls: {stub} is still a stub; "
            f"write it, run its cell, then run this check again"
        )
        observation.mutated = _changed(args, before)
        return observation
    if "error" in outcome:
        observation.status = "raised"
        observation.error = error_text(outcome["error"], name)
        observation.mutated = _changed(args, before)
        return observation
    try:
        observation.returned = convert(outcome.get("value"))
    except Exception as error:  # noqa: BLE001 - e.g. a returned object that cannot be inspected
        observation.returned = Returned("other", type_name="unknown", text=str(error)[:120])
    observation.mutated = _changed(args, before)
    return observation


def _raise_timeout(signum: int, frame: Any) -> None:
    raise _Timeout()
