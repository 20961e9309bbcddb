"""Helpers for the Fashion-MNIST course pack, in layers that import only downwards:

    base      files, paths, settings (environment variables), profiles, parameters, results records
    data      IDX files, datasets, splits, preprocessing, the capstone's image folder
    models    the model registry, the studies' published figures and the search spaces
    training  fit, store, callbacks, history, pipeline, precision, hyperparameter search
    analysis  evaluation, statistics, claims, exploration, shifts, plots, figure lint
    studies   the aueb grid, the comparison of s06, the recorded full run and speed benchmark
    exercises the checked exercises, one module per notebook
    course    notebook start, runner, report, editions, site, command line, pytest plugin, quiet start-up, prose checks

Every module can also be reached by its short name, loaded on first use, so notebooks keep short imports.

Usage:
    from fmnist_helpers import load_dataset, plots
    ds = load_dataset("fashion_mnist")
"""
from __future__ import annotations

import importlib
import os as _os
import sys
from typing import Any

from fmnist_helpers.base.settings import TF_LOG_LEVEL as _TF_LOG_LEVEL

# Keep TensorFlow's C++ start-up chatter out of notebooks and CI logs (errors still show).
_os.environ.setdefault(_TF_LOG_LEVEL.name, "2")
if "ipykernel" in sys.modules:  # in a notebook: its outputs without the harmless start-up lines ($FMNIST_QUIET=0: all)
    from fmnist_helpers.course.quiet import quiet_kernel_output

    quiet_kernel_output()

LAYERS = ("base", "data", "models", "training", "analysis", "studies", "exercises", "course")
"""The layers from the bottom up: a module may import its own layer and the layers before it."""

SHORT_NAMES = {
    "atomic": "base", "paths": "base", "params": "base", "results": "base", "settings": "base",
    "idx": "data", "download": "data", "datasets": "data", "splits": "data", "preprocess": "data",
    "capstone": "data",
    "registry": "models", "layers": "models", "published": "models", "tuning": "models",
    "fit": "training", "store": "training", "callbacks": "training", "precision": "training", "search": "training",
    "history": "training", "pipeline": "training",
    "evaluation": "analysis", "statistics": "analysis", "claims": "analysis", "exploration": "analysis",
    "shifts": "analysis", "plots": "analysis", "figure_lint": "analysis",
    "grid": "studies", "comparison": "studies", "reference": "studies", "speed": "studies",
    "context": "course", "runner": "course", "report": "course", "notebooks": "course", "editions": "course",
    "site": "course", "cli": "course", "pytest_plugin": "course", "quiet": "course", "minutes": "course",
    "effects": "course", "prose": "course", "failures": "course",
}
"""Module short name -> its layer: `fmnist_helpers.plots` is `fmnist_helpers.analysis.plots`."""

_NAMES = {"Dataset": "fmnist_helpers.data", "load_dataset": "fmnist_helpers.data",
          "start_notebook": "fmnist_helpers.course.context"}

__all__ = ["Dataset", "load_dataset", "start_notebook", *SHORT_NAMES]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Load a module by its short name, or one of the top-level functions, on first use."""
    if name in SHORT_NAMES:
        module = importlib.import_module(f"{__name__}.{SHORT_NAMES[name]}.{name}")
    elif name in _NAMES:
        module = getattr(importlib.import_module(_NAMES[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
