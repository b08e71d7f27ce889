"""Import weight, and the install routes (pip and conda) asking for the same things."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "matplotlib", "ipywidgets", "sklearn")


def modules_loaded_by(statement: str) -> set[str]:
    code = f"{statement}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    return {name.split(".")[0] for name in output.split()}


def test_numpy_parts_import_without_tensorflow_or_matplotlib():
    loaded = modules_loaded_by(
        "import bncourse, bncourse.reference, bncourse.grading, bncourse.data"
    )
    assert "numpy" in loaded
    assert not loaded & set(HEAVY), f"heavy modules imported eagerly: {loaded & set(HEAVY)}"


def test_no_module_of_the_package_imports_a_heavy_library_when_imported():
    # Lessons import widgets and helpers at the top; TensorFlow, Matplotlib and ipywidgets
    # must wait until a function needs them. Imports accumulate in one process, so the
    # first module that pulls in a heavy library is the one named.
    code = (
        "import importlib, pkgutil, sys, bncourse\n"
        f"heavy = {HEAVY!r}\n"
        "for info in pkgutil.walk_packages(bncourse.__path__, 'bncourse.'):\n"
        "    importlib.import_module(info.name)\n"
        "    found = sorted(m for m in heavy if m in sys.modules)\n"
        "    if found:\n"
        "        print(info.name, found)\n"
        "        break\n"
        "else:\n"
        "    print('clean')\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    assert output == "clean", f"imported at module level: {output}"


def test_seeding_a_numpy_lesson_does_not_import_tensorflow():
    loaded = modules_loaded_by("import bncourse; bncourse.seed_everything(0)")
    assert "tensorflow" not in loaded and "keras" not in loaded


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirement_name(requirement: str) -> str:
    name = requirement.split(";")[0]
    for separator in ("==", ">=", "<=", "~=", "<", ">", "[", " "):
        name = name.split(separator)[0]
    return name.strip().lower()


def test_environment_yml_installs_pyproject_and_does_not_pin_anything_else():
    text = (ROOT / "environment.yml").read_text()
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    lines = lines[lines.index("dependencies:") + 1 :]  # channels are not packages
    entries = [line[2:].strip() for line in lines if line.startswith("- ")]
    assert "-e .[test]" in entries, "environment.yml must install the package from pyproject"
    python = [e for e in entries if e.startswith("python")]
    assert python == ["python=3.11"], f"environment.yml must pin python=3.11; found {python}"
    declared = {
        _requirement_name(r)
        for r in _pyproject()["project"]["dependencies"]
        + _pyproject()["project"]["optional-dependencies"]["test"]
    }
    others = [e for e in entries if e not in {"pip", "-e .[test]", "python=3.11", "pip:"}]
    # Anything else listed in environment.yml would install a second, drifting version.
    assert not [e for e in others if _requirement_name(e) in declared], others
    assert others == [], f"environment.yml lists packages pyproject.toml does not own: {others}"


def test_python_pin_is_allowed_by_pyproject():
    requires = _pyproject()["project"]["requires-python"]
    assert ">=3.11" in requires


def test_every_runtime_dependency_is_pinned_exactly():
    project = _pyproject()["project"]
    for requirement in project["dependencies"] + project["optional-dependencies"]["test"]:
        assert "==" in requirement, f"{requirement} is not pinned; all routes must match"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    commands = [
        line.strip()
        for line in ci.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert commands[-1] == "make test"
