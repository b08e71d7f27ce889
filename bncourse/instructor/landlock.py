"""Landlock: an unprivileged Linux sandbox the worker puts itself in before learner code runs.

Landlock (Linux 5.13 and later; no root, no setup) lets a process give up access to the
file system, irrevocably, for itself and every process it starts. The worker keeps read
access to what Python needs (the interpreter, the course package, the quiz banks, system
libraries) and read-write access to its own scratch folder only; everything else, other
submissions included, is out of reach. Where the kernel supports them it also gives up TCP
(ABI 4) and the right to send signals or connect to abstract sockets outside its sandbox
(ABI 6), so a submission cannot kill the supervisor that cleans up after it.

This is the sandbox of ``bncourse grade --sandbox none`` on Linux, and a second layer under
bubblewrap. ``restrict`` returns the ABI version it used, or 0 when Landlock is not
available (other systems, older kernels), in which case nothing is restricted.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

__all__ = ["abi_version", "restrict"]

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # the same on every architecture
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_V1 = (1 << 13) - 1  # execute ... make_sym: every right of ABI 1
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1

_READ = _EXECUTE | _READ_FILE | _READ_DIR
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def abi_version() -> int:
    """The kernel's Landlock ABI version, or 0 when Landlock is unavailable."""
    libc = _libc()
    if libc is None:
        return 0
    version = libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    return max(int(version), 0)


def _handled_fs(abi: int) -> int:
    rights = _FS_V1
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    if abi >= 5:
        rights |= _IOCTL_DEV
    return rights


def restrict(readable: list[Path], writable: list[Path]) -> int:
    """Give up every file-system access but reading ``readable`` and writing ``writable``
    (and TCP, and signals outside the sandbox, where supported). Irrevocable, inherited by
    child processes. Returns the Landlock ABI used, 0 if none (nothing was restricted)."""
    abi = abi_version()
    libc = _libc()
    if abi == 0 or libc is None:
        return 0
    handled = _handled_fs(abi)
    attr = _RulesetAttr(handled, 0, 0)
    size = 8
    if abi >= 4:
        attr.handled_access_net = _NET_BIND_TCP | _NET_CONNECT_TCP
        size = 16
    if abi >= 6:
        attr.scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL
        size = 24
    ruleset = libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    if ruleset < 0:
        return 0
    try:
        read_write = handled & ~_REFER
        for paths, access in ((readable, _READ), (writable, read_write)):
            for path in paths:
                _allow(libc, ruleset, Path(path), access & handled)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return 0
        if libc.syscall(_RESTRICT_SELF, ruleset, 0) != 0:
            return 0
    finally:
        os.close(ruleset)
    return abi


def _allow(libc: ctypes.CDLL, ruleset: int, path: Path, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a path that does not exist needs no rule
    try:
        if not path.is_dir():
            access &= _FILE_RIGHTS
        rule = _PathBeneathAttr(access, fd)
        libc.syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0)
    finally:
        os.close(fd)
