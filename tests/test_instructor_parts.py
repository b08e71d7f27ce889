"""The grader's parts: which cells run, and reading observations back safely."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bncourse.grading.execution import Observation, Returned
from bncourse.instructor.slicing import analyse, needed_cells
from bncourse.instructor.transport import TransportError, read_observations, write_observations
from bncourse.instructor.worker import _definitions_only, _without_magics


def test_only_cells_that_define_what_grading_needs_are_selected():
    cells = [
        "import numpy as np\nimport matplotlib.pyplot as plt",
        "EPS = 1e-3\ndata = np.ones(3)",
        "fig, ax = plt.subplots()\nax.plot(data)",
        "def helper(a):\n    return a * EPS",
        "def batch_mean(x):\n    mu = x.mean(0)\n    return helper(mu)",
        "check('batch_mean', batch_mean)",
        "while True:\n    pass",
        "quiz_answers = {'q': 'a'}",
        "this is not python",
    ]
    assert needed_cells(cells, ["batch_mean", "quiz_answers", "not_there"]) == [0, 1, 3, 4, 7]


def test_local_names_do_not_pull_in_unrelated_cells():
    cells = ["x = expensive()", "def batch_mean(x):\n    return x.mean(0)"]
    assert needed_cells(cells, ["batch_mean"]) == [1]
    assert analyse("def f(x):\n    return x + y").uses == frozenset({"y"})


def test_magics_and_displays_do_not_run():
    assert _without_magics("%matplotlib inline\n  !pip install x\ny = 1") == ("pass\n  pass\ny = 1")
    assert _without_magics("%%timeit\nx = 1") == ""
    namespace: dict = {}
    exec(_definitions_only("import math\nprint('shown')\nx = math.pi", "<cell>"), namespace)
    assert namespace["x"] == pytest.approx(3.14159, abs=1e-5)


def test_observations_round_trip(tmp_path):
    observations = [
        Observation("ok", Returned("array", array=np.arange(3.0), dtype="float64")),
        Observation(
            "ok",
            Returned(
                "sequence",
                container="tuple",
                items=[Returned("array", array=np.ones(2), dtype="float32"), Returned("none")],
            ),
        ),
        Observation("raised", error="NameError: x", mutated=["x"], printed_chars=12),
        Observation("ok", Returned("json", data={"layers": ["Dense"]})),
    ]
    write_observations(observations, tmp_path / "ex")
    back = read_observations(tmp_path / "ex", 4)
    np.testing.assert_array_equal(back[0].returned.array, np.arange(3.0))
    assert back[1].returned.items[1].kind == "none"
    assert back[2].error == "NameError: x" and back[2].mutated == ["x"]
    assert back[3].returned.data == {"layers": ["Dense"]}


@pytest.mark.parametrize(
    "records",
    [
        "not json",
        json.dumps([{"status": "passed"}]),
        json.dumps([{"status": "ok", "returned": {"kind": "array", "array": "missing"}}]),
        json.dumps([{"status": "ok", "returned": {"kind": "evil"}}]),
    ],
)
def test_malformed_observations_are_refused(tmp_path, records):
    (tmp_path / "ex.json").write_text(records)
    np.savez(tmp_path / "ex.npz", a0=np.ones(2))
    with pytest.raises(TransportError):
        read_observations(tmp_path / "ex", 1)


def test_pickled_arrays_are_never_loaded(tmp_path):
    (tmp_path / "ex.json").write_text(
        json.dumps([{"status": "ok", "returned": {"kind": "array", "array": "a0"}}])
    )
    np.save(tmp_path / "a0.npy", np.array([object()], dtype=object), allow_pickle=True)
    import zipfile

    with zipfile.ZipFile(tmp_path / "ex.npz", "w") as archive:
        archive.write(tmp_path / "a0.npy", "a0.npy")
    with pytest.raises(TransportError):
        read_observations(tmp_path / "ex", 1)
