"""What the setup cell of every notebook does: check the parameters, fix the seeds, record versions
and open the notebook's results record.

Usage:
    run = start_notebook("01_exploration", profile=profile, dataset=dataset, seed=seed)
    ds = run.load()                  # the chosen dataset, verified
    run.results.record(n_train=len(ds.y_train))
    run.finish()
"""
from __future__ import annotations

import os
import platform
import random
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .data import DATASETS, Dataset, load_dataset
from .params import Profile, check_choice, check_int, get_profile
from .paths import build_dir
from .results import ResultsRecord

PACKAGES = ("numpy", "pandas", "matplotlib", "seaborn", "scikit-learn", "tensorflow", "keras", "keras-tuner",
            "papermill")


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed versions of the course's main packages (without importing them)."""
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def set_seeds(seed: int) -> None:
    """Seed Python, NumPy and, when TensorFlow is already imported, TensorFlow and Keras."""
    random.seed(seed)
    np.random.seed(seed)
    if "tensorflow" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)


@dataclass
class NotebookRun:
    """The checked parameters of one notebook run, and its results record."""

    notebook: str
    profile: Profile
    dataset: str
    seed: int
    data_dir: Path | None
    output_dir: Path
    results: ResultsRecord
    extra: dict[str, Any] = field(default_factory=dict)

    def load(self, name: str | None = None) -> Dataset:
        """Load `name` (default: this run's dataset) from the run's data folder, verified."""
        return load_dataset(name or self.dataset, data_dir=self.data_dir, progress=False)

    def summary(self) -> str:
        v = self.results.data["environment"]
        return (f"{self.notebook}: profile={self.profile.name} ({self.profile.description}), "
                f"dataset={self.dataset}, seed={self.seed}\n"
                f"python {v['python']}, numpy {v['numpy']}, tensorflow {v['tensorflow']}, keras {v['keras']}\n"
                f"results -> {self.results.path}")

    def finish(self) -> None:
        self.results.finish()


def start_notebook(
    notebook: str,
    profile: str | None = None,
    dataset: str = "fashion_mnist",
    seed: int = 42,
    data_dir: str | os.PathLike | None = None,
    output_dir: str | os.PathLike | None = None,
    **extra: Any,
) -> NotebookRun:
    """Validate the parameters, seed everything, set the plot style and start the results record."""
    prof = get_profile(profile)
    check_choice("dataset", dataset, list(DATASETS))
    check_int("seed", seed, 0, 2**31 - 1)
    out = Path(output_dir) if output_dir else build_dir(prof.name)
    set_seeds(seed)
    from .plots import use_style

    use_style()
    params = {"profile": prof.name, "dataset": dataset, "seed": seed,
              "data_dir": str(data_dir) if data_dir else None, **extra}
    env = package_versions()
    env["machine"] = platform.machine()
    env["processor"] = platform.processor() or platform.machine()
    env["cpu_count"] = os.cpu_count()
    record = ResultsRecord.start(out, notebook, params=params, environment=env)
    return NotebookRun(notebook, prof, dataset, seed, Path(data_dir) if data_dir else None, out, record, extra)
