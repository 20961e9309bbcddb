"""One machine-readable results file per notebook, written atomically after every update.

Each notebook records its key figures (sizes, counts, accuracies, timings, choices) under
`<output_dir>/results/<notebook>.json`. Later notebooks, the course runner and the tests read them.
A file is rewritten whole through a temporary file and `os.replace`, so a reader never sees half of
one, and an interrupted notebook leaves the figures it had reached with `"complete": false`.

The keys that other code reads back (the runner, the report, later notebooks) are defined once here, as the
contract between the notebooks and their readers: `Record` (the file's own keys), `Figure` (figures others
read), `Row` (the columns of a reproduction row) and `READERS` / `WRITERS` (who reads and who must write each).
A notebook records them by their names (`run.results.record(pack_cnn_test_accuracy=...)`); readers use the
constants, and `tests/test_results.py` checks both sides against this list.

Usage:
    rec = ResultsRecord.start(output_dir, "01_exploration", params={"profile": "quick"})
    rec.record(n_train=60000, class_counts={"Bag": 6000})
    rec.finish()
    load_results(output_dir, "01_exploration")[Record.FIGURES]["n_train"]  # 60000
"""
from __future__ import annotations

import json
import math
import os
import time
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from fmnist_helpers.base.atomic import write_json_atomic

SCHEMA_VERSION = 1


# ----------------------------------------------------------------- the contract with the readers

class Record(StrEnum):
    """The keys of a results file itself (the notebook's own figures sit under `FIGURES`)."""

    SCHEMA = "schema"
    NOTEBOOK = "notebook"
    PARAMS = "params"  # the run's parameters: profile, dataset, seed, ... and the notebook's own
    ENVIRONMENT = "environment"  # package versions, then `Env`
    STARTED = "started"
    COMPLETE = "complete"  # true once the notebook reached its end
    FIGURES = "figures"
    UPDATED = "updated"
    WALL_TIME = "wall_time_s"


class Env(StrEnum):
    """The machine's keys in a record's environment, beside one version per package (`context.package_versions`)."""

    MACHINE = "machine"
    PROCESSOR = "processor"
    CPU_COUNT = "cpu_count"


class Figure(StrEnum):
    """The figures that code other than the recording notebook reads (see `READERS`)."""

    CLAIMS = "claims"  # {name: claims.Claim as a dict}: the judgments the notebook's sentences make
    MODELS = "models"  # {run name: training.summarize(result)}, each with "study" and "test_accuracy"
    REPRODUCTION = "reproduction"  # [row with the `Row` columns]: each trained model beside its study's figure
    PACK_MLP_TEST_ACCURACY = "pack_mlp_test_accuracy"
    PACK_CNN_TEST_ACCURACY = "pack_cnn_test_accuracy"
    PACK_TUNED_TEST_ACCURACY = "pack_tuned_test_accuracy"
    PACK_UNTUNED_TEST_ACCURACY = "pack_untuned_test_accuracy"  # the default point of s05's pack space
    PACK_BEST = "pack_best"  # {dataset: {kind: test accuracy}}
    PACK_SEARCH = "pack_search"  # {"plan": {"space": name, ...}, "best_values": {hyperparameter: value}, ...}
    HARDWARE = "hardware"  # precision.describe_hardware()
    PRECISION = "precision"  # the Keras dtype policy the notebook trained in


class Row(StrEnum):
    """The columns of a reproduction row that the report reads (`Figure.REPRODUCTION`)."""

    MODEL = "model"
    STUDY = "study"  # "pack" for the pack's own models
    KIND = "kind"  # "mlp" or "cnn"
    DATASET = "dataset"  # optional: the notebook's dataset parameter when absent
    REPORTED = "reported accuracy"  # the study's figure, None when it gave none
    REPORTED_FIGURE = "reported figure"  # which figure that is, e.g. "test accuracy"
    REPRODUCED = "reproduced test accuracy"
    N_TEST = "test images"  # optional: the images the reproduced accuracy was scored on, 10,000 when absent
    SEEDS = "seeds"  # optional: how many seeds the reproduced accuracy is the mean of, 1 when absent
    REPRODUCED_VAL = "reproduced validation accuracy"  # optional: set beside a reported validation figure
    N_VAL = "validation images"  # optional: the images behind the reproduced validation accuracy


ROW_OPTIONAL = frozenset({Row.DATASET, Row.N_TEST, Row.SEEDS, Row.REPRODUCED_VAL, Row.N_VAL})
"""Row columns a notebook may leave out: the report takes the record's dataset parameter, 10,000 test images and
one seed; without a reproduced validation accuracy a reported validation figure is not compared."""

DATASET_PARAM = "dataset"
"""The parameter that names the dataset a notebook ran on (see `dataset_of`)."""

PACK_ACCURACIES: dict[Figure, str] = {
    Figure.PACK_MLP_TEST_ACCURACY: "pack_mlp", Figure.PACK_CNN_TEST_ACCURACY: "pack_cnn",
    Figure.PACK_TUNED_TEST_ACCURACY: "pack_cnn", Figure.PACK_UNTUNED_TEST_ACCURACY: "pack_cnn"}
"""Scalar figures holding a pack model's test accuracy on the notebook's dataset, and the registry model whose
architecture it measures (the tuned CNN and the untuned one beside it are `pack_cnn`'s layers at some widths),
which gives its kind."""

READERS: dict[str, tuple[str, ...]] = {
    "course.runner (is an earlier run complete, with these parameters?)": (Record.COMPLETE, Record.PARAMS),
    "course.report (the study table and figure, the pack's best by validation, the environment)": (
        Record.PARAMS, Record.ENVIRONMENT, Record.UPDATED, Record.FIGURES, Figure.REPRODUCTION, Figure.MODELS,
        Figure.HARDWARE, Figure.PRECISION, *Row),
    "studies.reference (the recorded run's date, seed and machine)": (
        Record.ENVIRONMENT, Record.UPDATED, Record.STARTED, Record.PARAMS, Env.CPU_COUNT, Env.MACHINE),
    "studies.comparison (s06_ann_vs_cnn_studies's tuned pack CNN, from s05_tuning_studies)": (Figure.PACK_SEARCH,),
    "course.prose (re-derives each claim from its inputs and the model figures)": (
        Record.FIGURES, Figure.CLAIMS, Figure.MODELS),
    "studies track s04_cnn_studies (the best study MLP, from s03_mlp_studies)": (
        Record.PARAMS, Record.COMPLETE, Figure.REPRODUCTION, Figure.MODELS, Row.MODEL, Row.STUDY, Row.REPRODUCED),
}
"""Who reads which keys of the results files: every one is defined above."""

WRITERS: dict[str, tuple[Figure, ...]] = {
    "s03_mlp_studies": (Figure.MODELS, Figure.REPRODUCTION, Figure.PACK_MLP_TEST_ACCURACY),
    "s04_cnn_studies": (Figure.MODELS, Figure.REPRODUCTION, Figure.PACK_CNN_TEST_ACCURACY),
    "s05_tuning_studies": (Figure.MODELS, Figure.PACK_SEARCH, Figure.PACK_TUNED_TEST_ACCURACY,
                           Figure.PACK_UNTUNED_TEST_ACCURACY),
    "s06_ann_vs_cnn_studies": (Figure.REPRODUCTION, Figure.PACK_BEST, Figure.HARDWARE, Figure.PRECISION),
}
"""The figures each notebook must record for its readers; a reproduction row carries every `Row` column but
`ROW_OPTIONAL`."""


def dataset_of(record: dict[str, Any]) -> str:
    """The dataset a results record's notebook ran on: its `dataset` parameter, else Fashion-MNIST."""
    return (record.get(Record.PARAMS) or {}).get(DATASET_PARAM) or "fashion_mnist"


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
            Record.SCHEMA: SCHEMA_VERSION,
            Record.NOTEBOOK: notebook,
            Record.PARAMS: to_jsonable(params or {}),
            Record.ENVIRONMENT: to_jsonable(environment or {}),
            Record.STARTED: datetime.now(timezone.utc).isoformat(timespec="seconds"),
            Record.COMPLETE: False,
            Record.FIGURES: {},
        }
        rec = cls(results_path(output_dir, notebook), data)
        rec._write()
        return rec

    @property
    def figures(self) -> dict[str, Any]:
        return self.data[Record.FIGURES]

    @property
    def environment(self) -> dict[str, Any]:
        return self.data[Record.ENVIRONMENT]

    def record(self, **figures: Any) -> None:
        """Add or replace figures and rewrite the file."""
        self.figures.update(to_jsonable(figures))
        self._write()

    def finish(self) -> None:
        """Mark the run complete with its wall time."""
        self.data[Record.COMPLETE] = True
        self.data[Record.WALL_TIME] = round(time.perf_counter() - self._t0, 3)
        self._write()

    def _write(self) -> None:
        self.data[Record.UPDATED] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        write_json_atomic(self.path, self.data)
