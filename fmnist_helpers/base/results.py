"""One machine-readable results file per notebook, written atomically after every update.

Each notebook records its key figures (sizes, counts, accuracies, timings, choices) under
`<output_dir>/results/<notebook>.json`. Later notebooks, the course runner and the tests read them.
A file is rewritten whole through a temporary file and `os.replace`, so a reader never sees half of
one, and an interrupted notebook leaves the figures it had reached with `"complete": false`.

Usage:
    rec = ResultsRecord.start(output_dir, "01_exploration", params={"profile": "quick"})
    rec.record(n_train=60000, class_counts={"Bag": 6000})
    rec.finish()
    load_results(output_dir, "01_exploration")["figures"]["n_train"]  # 60000
"""
from __future__ import annotations

import json
import math
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from fmnist_helpers.base.atomic import write_json_atomic

SCHEMA_VERSION = 1


def to_jsonable(value: Any) -> Any:
    """NumPy scalars and arrays, tuples, paths and nested containers -> plain JSON values (NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise TypeError(f"cannot record a value of type {type(value).__name__}: {value!r}")


def results_path(output_dir: str | os.PathLike, notebook: str) -> Path:
    """`<output_dir>/results/<notebook>.json`."""
    if not notebook or "/" in notebook or notebook.startswith("."):
        raise ValueError(f"notebook name must be a plain name like '01_exploration', got {notebook!r}")
    return Path(output_dir) / "results" / f"{notebook}.json"


def load_results(output_dir: str | os.PathLike, notebook: str) -> dict[str, Any]:
    """The whole record a notebook wrote; a clear error if it has not run in this output folder."""
    path = results_path(output_dir, notebook)
    if not path.is_file():
        raise FileNotFoundError(f"no results for notebook {notebook!r} in {path.parent}; run that notebook first")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


class ResultsRecord:
    """The results file of one notebook run."""

    def __init__(self, path: Path, data: dict[str, Any]):
        self.path = path
        self.data = data
        self._t0 = time.perf_counter()

    @classmethod
    def start(cls, output_dir: str | os.PathLike, notebook: str, params: dict[str, Any] | None = None,
              environment: dict[str, Any] | None = None) -> "ResultsRecord":
        """Begin a fresh record (replacing an older run's file) and write it at once."""
        data = {
            "schema": SCHEMA_VERSION,
            "notebook": notebook,
            "params": to_jsonable(params or {}),
            "environment": to_jsonable(environment or {}),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "complete": False,
            "figures": {},
        }
        rec = cls(results_path(output_dir, notebook), data)
        rec._write()
        return rec

    @property
    def figures(self) -> dict[str, Any]:
        return self.data["figures"]

    def record(self, **figures: Any) -> None:
        """Add or replace figures and rewrite the file."""
        self.figures.update(to_jsonable(figures))
        self._write()

    def finish(self) -> None:
        """Mark the run complete with its wall time."""
        self.data["complete"] = True
        self.data["wall_time_s"] = round(time.perf_counter() - self._t0, 3)
        self._write()

    def _write(self) -> None:
        self.data["updated"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        write_json_atomic(self.path, self.data)
