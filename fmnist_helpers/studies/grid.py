"""The `aueb` MLP grid: 2 and 3 hidden layers x batch size {128, 256, 512} x four optimizer settings.

Each cell trains the study's MLP with early stopping (patience 10) and reports train, validation and test
loss and accuracy, as the study's table does. `full` runs the whole grid (24 runs); the other profiles run
a slice that always contains the two configurations the study found best.

Usage:
    cells = grid_cells("quick")                 # [GridCell(depth=2, batch_size=512, optimizer="adam", ...), ...]
    table = run_grid(ds, cells, profile, seed=42, output_dir=out)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pandas as pd

from fmnist_helpers.models.published import AUEB_GRID_BEST
from fmnist_helpers.models.registry import get_spec, with_recipe
from fmnist_helpers.base.params import Profile
from fmnist_helpers.training.fit import train_on_dataset
from fmnist_helpers.training.history import epoch_values

OPTIMIZER_SETTINGS: tuple[tuple[str, float], ...] = (("adam", 1e-3), ("adam", 1e-4), ("sgd", 0.1), ("sgd", 0.01))
BATCH_SIZES = (128, 256, 512)
DEPTHS = (2, 3)


@dataclass(frozen=True)
class GridCell:
    depth: int
    batch_size: int
    optimizer: str
    learning_rate: float

    @property
    def name(self) -> str:
        return f"aueb_mlp{self.depth}-b{self.batch_size}-{self.optimizer}{self.learning_rate:g}"

    @property
    def optimizer_label(self) -> str:
        return f"{'Adam' if self.optimizer == 'adam' else 'SGD'} {self.learning_rate:g}"


def grid_cells(size: str = "full") -> list[GridCell]:
    """All 24 cells ("full"), or a slice ("slice": the study's best per depth plus SGD 0.1 at batch 256)."""
    if size == "full":
        return [GridCell(d, b, o, lr) for d in DEPTHS for b in BATCH_SIZES for o, lr in OPTIMIZER_SETTINGS]
    if size == "slice":
        cells = [GridCell(d, b, o, lr) for d, (o, lr, b) in AUEB_GRID_BEST.items()]
        return cells + [GridCell(d, 256, "sgd", 0.1) for d in DEPTHS]
    raise ValueError(f"grid size {size!r} is not accepted; choose 'full' or 'slice'")


def run_grid(ds: Any, cells: list[GridCell], profile: Profile, seed: int = 42,
             output_dir: str | os.PathLike | None = None, **kwargs: Any) -> pd.DataFrame:
    """Train every cell; one row per cell with its settings and train/validation/test loss and accuracy (train and
    validation at the epoch whose weights the model kept, `history.kept_epoch`)."""
    rows = []
    for cell in cells:
        spec = with_recipe(get_spec(f"aueb_mlp{cell.depth}"), batch_size=cell.batch_size, optimizer=cell.optimizer,
                           learning_rate=cell.learning_rate)
        result = train_on_dataset(spec, ds, profile, seed=seed, output_dir=output_dir, name=cell.name, **kwargs)
        at_best = epoch_values(result.history, result.record["best_epoch"])  # the epoch the model kept
        rows.append({"hidden layers": cell.depth, "batch size": cell.batch_size, "optimizer": cell.optimizer_label,
                     "train loss": at_best[("train", "loss")], "train accuracy": at_best[("train", "accuracy")],
                     "val loss": at_best[("validation", "loss")], "val accuracy": at_best[("validation", "accuracy")],
                     "test loss": result.record["test_loss"], "test accuracy": result.test_accuracy,
                     "epochs": result.record["epochs_run"], "time (s)": result.record["train_time_s"],
                     "study's best":
                         AUEB_GRID_BEST[cell.depth] == (cell.optimizer, cell.learning_rate, cell.batch_size)})
    return pd.DataFrame(rows)
