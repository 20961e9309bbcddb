"""environment.yml (conda users) and pyproject.toml (pip users) must install the same packages."""
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _conda():
    return yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]


def _pip_section():
    return next(d["pip"] for d in _conda() if isinstance(d, dict) and "pip" in d)


def _by_name(lines):
    reqs = [Requirement(line) for line in lines]
    return {r.name.lower(): r.specifier for r in reqs}


def test_conda_pip_list_matches_pyproject_dependencies_and_test_extras():
    project = _pyproject()
    wanted = _by_name(project["dependencies"] + project["optional-dependencies"]["test"])
    listed = _by_name(line for line in _pip_section() if not line.startswith("-e"))
    assert listed == wanted


def test_conda_environment_installs_the_helper_package_itself():
    assert "-e ." in _pip_section()


def test_every_dependency_has_an_upper_bound():
    project = _pyproject()
    for line in project["dependencies"] + project["optional-dependencies"]["test"]:
        assert any(s.operator in ("<", "<=", "==", "~=") for s in Requirement(line).specifier), line


def test_conda_python_satisfies_requires_python():
    python = next(d for d in _conda() if isinstance(d, str) and d.startswith("python="))
    assert python.split("=")[1] + ".0" in SpecifierSet(_pyproject()["requires-python"])
