"""What the setup cell of every notebook does: check the parameters, fix the seeds, record versions
and open the notebook's results record.

Every parameter is checked before the record is opened, so a rejected run leaves the previous run's
results as they were: a notebook checks its own parameters (`params.resolve_int`, ...) first, then
passes them to `start_notebook`, which checks the common ones and those with a range in
`params.INT_PARAMETERS`. Under papermill, a parameter the notebook does not declare (a typo such as
`val_sise`) stops it too; papermill itself only warns.

Usage:
    run = start_notebook("01_exploration", profile=profile, dataset=dataset, seed=seed)
    ds = run.load()                  # the chosen dataset, verified
    run.results.record(n_train=len(ds.y_train))
    run.finish()
"""
from __future__ import annotations

import ast
import os
import platform
import random
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from fmnist_helpers.data.datasets import DATASETS, Dataset, load_dataset
from fmnist_helpers.base.params import (INT_PARAMETERS, ParameterError, Profile, check_choice, check_int,
                                        get_profile)
from fmnist_helpers.base.paths import default_output_dir
from fmnist_helpers.base.results import Env, ResultsRecord

COMMON_PARAMETERS = ("profile", "dataset", "seed", "data_dir", "output_dir")
INJECTED_HEADER = "# Parameters"  # the first line of the cell papermill injects after the parameters cell
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
        v = self.results.environment
        return (f"{self.notebook}: profile={self.profile.name} ({self.profile.description}), "
                f"dataset={self.dataset}, seed={self.seed}\n"
                f"python {v['python']}, numpy {v['numpy']}, tensorflow {v['tensorflow']}, keras {v['keras']}\n"
                f"results -> {self.results.path}")

    def finish(self) -> None:
        self.results.finish()


def check_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    """`data_dir` as a Path if it is an existing folder; None stays None (the default places are searched)."""
    if data_dir is None:
        return None
    accepted = "an existing folder with the IDX files, or None for $FMNIST_DATA_DIR, then data/"
    if not isinstance(data_dir, (str, os.PathLike)) or not str(data_dir):
        raise ParameterError(f"parameter data_dir={data_dir!r} is not accepted; give {accepted}")
    path = Path(data_dir)
    if not path.is_dir():
        problem = "is a file, not a folder" if path.exists() else "does not exist"
        raise ParameterError(f"parameter data_dir={str(data_dir)!r} is not accepted: {path.resolve()} {problem}; "
                             f"give {accepted}")
    return path


def kernel_inputs() -> list[str]:
    """The sources of the cells this IPython kernel has run so far (empty outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return []
    shell = get_ipython()
    if shell is None:
        return []
    return [source for source in shell.user_ns.get("In", []) if isinstance(source, str)]


def injected_names(inputs: Sequence[str]) -> list[str]:
    """The names assigned by the last of `inputs` that is papermill's injected cell (first line `# Parameters`)."""
    for source in reversed(inputs):
        lines = source.strip().splitlines()
        if lines and lines[0].strip() == INJECTED_HEADER:
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return []
            return [target.id for node in tree.body if isinstance(node, ast.Assign)
                    for target in node.targets if isinstance(target, ast.Name)]
    return []


def check_injected_parameters(declared: Iterable[str], inputs: Sequence[str] | None = None) -> None:
    """Raise a ParameterError naming each parameter papermill injected that the notebook does not declare.

    `inputs` defaults to the cells this kernel has run; outside IPython, or without an injected cell, nothing
    is checked.
    """
    declared = list(declared)
    names = injected_names(kernel_inputs() if inputs is None else inputs)
    unknown = [name for name in names if name not in declared]
    if unknown:
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)}: this notebook does not declare "
                             f"{'it' if len(unknown) == 1 else 'them'}; accepted: {', '.join(declared)}")


def start_notebook(
    notebook: str,
    profile: str | None = None,
    dataset: str = "fashion_mnist",
    seed: int = 42,
    data_dir: str | os.PathLike | None = None,
    output_dir: str | os.PathLike | None = None,
    **extra: Any,
) -> NotebookRun:
    """Validate the parameters, seed everything, set the plot style and start the results record.

    `extra` holds the notebook's own parameters, checked by the notebook or, for those in
    `params.INT_PARAMETERS`, here: they are recorded, and with the common ones they are the names papermill
    may inject. Nothing is written before every check has passed. Without `output_dir` the run writes beside the
    notebook (`paths.default_output_dir`): the checkout's `build/<profile>` only for the pack's own notebooks.
    """
    prof = get_profile(profile)
    check_choice("dataset", dataset, list(DATASETS))
    check_int("seed", seed, 0, 2**31 - 1)
    for name, value in extra.items():
        if name in INT_PARAMETERS:
            check_int(name, value, *INT_PARAMETERS[name])
    data_path = check_data_dir(data_dir)
    check_injected_parameters([*COMMON_PARAMETERS, *extra])
    out = Path(output_dir) if output_dir else default_output_dir(prof.name)
    set_seeds(seed)
    from fmnist_helpers.analysis.plots import use_style

    use_style()
    params = {"profile": prof.name, "dataset": dataset, "seed": seed,
              "data_dir": str(data_dir) if data_dir is not None else None, **extra}
    env = package_versions()
    env[Env.MACHINE] = platform.machine()
    env[Env.PROCESSOR] = platform.processor() or platform.machine()
    env[Env.CPU_COUNT] = os.cpu_count()
    record = ResultsRecord.start(out, notebook, params=params, environment=env)
    return NotebookRun(notebook, prof, dataset, seed, data_path, out, record, extra)
