"""Where the course keeps its data, its build outputs and its notebooks.

Usage:
    from fmnist_helpers.base.paths import default_data_dir, build_dir, git_commit
    build_dir("quick")  # -> <project>/build/quick
    default_output_dir("quick", Path("~/hw").expanduser())  # -> ~/hw/.fmnist_runs/quick (a copy's own folder)
    git_commit(short=True, mark_changes=True)  # e.g. "a2e7c7b", or "a2e7c7b with uncommitted changes"
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from fmnist_helpers.base import settings

DATA_DIR_ENV = settings.DATA_DIR.name
"""Environment variable naming a folder that holds the dataset files (see `fmnist_helpers.data.datasets`)."""

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def project_root() -> Path | None:
    """The source checkout this package lives in, or None when it was installed elsewhere."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() else None


def git_commit(folder: str | os.PathLike | None = None, short: bool = False, mark_changes: bool = False) -> str:
    """The commit checked out in `folder` (default: this package's checkout), or "unknown" outside git; with
    `mark_changes`, " with uncommitted changes" is added when tracked files differ from it (a record's provenance)."""
    cwd = Path(folder) if folder is not None else (project_root() or PACKAGE_DIR)

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    commit = git("rev-parse", *(["--short"] if short else []), "HEAD")
    if not commit:
        return "unknown"
    if mark_changes and git("status", "--porcelain", "--untracked-files=no"):
        commit += " with uncommitted changes"
    return commit


def default_data_dir() -> Path:
    """`<project>/data` in a checkout, else `~/.cache/fmnist_helpers/data`."""
    root = project_root()
    if root is not None:
        return root / "data"
    cache = Path(os.environ.get(settings.CACHE_HOME.name, Path.home() / ".cache"))
    return cache / "fmnist_helpers" / "data"


def notebooks_dir() -> Path:
    """The folder of the numbered course notebooks (needs a source checkout)."""
    root = project_root()
    if root is None:
        raise FileNotFoundError(
            "the course notebooks ship with the source checkout, not with an installed package; "
            "run this from a clone of the course pack"
        )
    return root / "notebooks"


def build_dir(profile: str) -> Path:
    """Where a profile's executed notebooks, results and reports go: `<project>/build/<profile>`."""
    root = project_root() or Path.cwd()
    return root / "build" / profile


RUNS_FOLDER = ".fmnist_runs"
"""The folder beside a notebook copy where its runs go. A dot folder: nbgrader neither releases nor collects it, so
no student's runs reach another student, the release or the grader."""


def default_output_dir(profile: str, notebook_dir: str | os.PathLike | None = None) -> Path:
    """Where a notebook run writes when its `output_dir` is None: the checkout's `build/<profile>` for the pack's own
    notebooks (those under `<project>/notebooks`), else `<notebook folder>/.fmnist_runs/<profile>`, so that every
    student's copy and every nbgrader submission has a folder of its own. `notebook_dir` defaults to the working
    directory, which Jupyter, nbgrader and papermill's runner set to the notebook's folder."""
    here = Path(notebook_dir if notebook_dir is not None else Path.cwd()).resolve()
    root = project_root()
    if root is not None and here.is_relative_to((root / "notebooks").resolve()):
        return build_dir(profile)
    return here / RUNS_FOLDER / profile
