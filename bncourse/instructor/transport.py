"""Observations across the sandbox boundary: JSON for structure, .npz (no pickle) for arrays.

The worker (untrusted side) writes; the grader (trusted side) reads. Reading never
unpickles and never evaluates anything: a malformed or hostile file can only fail to
load, which the grader reports as a crash.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from bncourse.grading.execution import Observation, Returned

__all__ = ["write_observations", "read_observations", "TransportError"]

_MAX_ITEMS = 64
_JSON_LIMIT = 2_000_000  # bytes: a worker cannot make the grader parse a huge file


class TransportError(ValueError):
    """An observations file that cannot be read back."""


def _encode(returned: Returned | None, arrays: dict[str, np.ndarray], prefix: str) -> Any:
    if returned is None:
        return None
    node: dict[str, Any] = {"kind": returned.kind}
    if returned.kind == "array":
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(returned.array)
        node |= {"array": key, "dtype": returned.dtype}
    elif returned.kind == "sequence":
        node |= {
            "container": returned.container,
            "items": [_encode(item, arrays, prefix) for item in returned.items[:_MAX_ITEMS]],
        }
    elif returned.kind == "json":
        node["data"] = returned.data
    else:
        node |= {"type_name": returned.type_name[:200], "text": returned.text[:200]}
    return node


def _decode(node: Any, arrays: Any, depth: int = 0) -> Returned | None:
    if node is None:
        return None
    if not isinstance(node, dict) or depth > 5:
        raise TransportError("malformed returned value")
    kind = node.get("kind")
    if kind == "array":
        array = arrays[str(node["array"])]
        if array.dtype.kind not in "biuf":
            raise TransportError("non-numeric array")
        return Returned("array", array=array, dtype=str(node.get("dtype", array.dtype))[:20])
    if kind == "sequence":
        items = [_decode(item, arrays, depth + 1) for item in node.get("items", [])[:_MAX_ITEMS]]
        return Returned("sequence", container=str(node.get("container", "list"))[:20], items=items)
    if kind == "json":
        return Returned("json", data=node.get("data"))
    if kind in ("none", "other"):
        return Returned(
            kind,
            type_name=str(node.get("type_name", ""))[:200],
            text=str(node.get("text", ""))[:200],
        )
    raise TransportError(f"unknown kind {kind!r}")


def write_observations(observations: list[Observation], stem: Path) -> None:
    """Write ``stem.json`` and ``stem.npz``."""
    arrays: dict[str, np.ndarray] = {}
    records = [
        {
            "status": o.status,
            "returned": _encode(o.returned, arrays, f"o{index}"),
            "error": o.error[:500],
            "mutated": list(o.mutated)[:20],
            "printed_chars": int(o.printed_chars),
            "seconds": float(o.seconds),
        }
        for index, o in enumerate(observations)
    ]
    np.savez(stem.with_suffix(".npz"), **arrays)
    stem.with_suffix(".json").write_text(json.dumps(records), encoding="utf-8")


def read_observations(stem: Path, expected: int) -> list[Observation]:
    """Read what ``write_observations`` wrote; exactly ``expected`` observations."""
    path = stem.with_suffix(".json")
    try:
        if path.stat().st_size > _JSON_LIMIT:
            raise TransportError("observations file too large")
        records = json.loads(path.read_text(encoding="utf-8"))
        with np.load(stem.with_suffix(".npz"), allow_pickle=False) as arrays:
            loaded = {key: arrays[key] for key in arrays.files}
        if not isinstance(records, list) or len(records) != expected:
            raise TransportError("wrong number of observations")
        observations = []
        for record in records:
            status = record["status"]
            if status not in ("ok", "raised", "not-implemented", "timeout"):
                raise TransportError(f"unknown status {status!r}")
            observations.append(
                Observation(
                    status=status,
                    returned=_decode(record.get("returned"), loaded),
                    error=str(record.get("error", ""))[:500],
                    mutated=[str(m)[:40] for m in record.get("mutated", [])][:20],
                    printed_chars=int(record.get("printed_chars", 0)),
                    seconds=float(record.get("seconds", 0.0)),
                )
            )
        return observations
    except TransportError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise TransportError(f"cannot read observations: {error}") from error
