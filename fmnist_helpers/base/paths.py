"""Where the course keeps its data, its build outputs and its notebooks.

Usage:
    from fmnist_helpers.base.paths import default_data_dir, build_dir
    build_dir("quick")  # -> <project>/build/quick
"""
from __future__ import annotations

import os
from pathlib import Path

from fmnist_helpers.base import settings

DATA_DIR_ENV = settings.DATA_DIR.name
"""Environment variable naming a folder that holds the dataset files (see `fmnist_helpers.data.datasets`)."""

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def project_root() -> Path | None:
    """The source checkout this package lives in, or None when it was installed elsewhere."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() else None


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
