"""The Keras callbacks every training run uses: early stopping from the recipe, an epoch timer and a one-line
progress report. Keras is imported when the callbacks are made, not when this module is imported.

Usage:
    callbacks, timer = make_callbacks(spec, epochs=10, mode="epochs", name="wits_cnn")
    model.fit(..., callbacks=callbacks); timer.times  # seconds per epoch
"""
from __future__ import annotations

import functools
import time

from fmnist_helpers.models.registry import ModelSpec


@functools.cache
def _classes():
    """EpochTimer and EpochLine, defined on first use so that importing this module does not load Keras."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Wall time of every epoch (the first one includes building the graph)."""

        def on_train_begin(self, logs=None):
            self.times: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._t)

    class EpochLine(keras.callbacks.Callback):
        """One short line per epoch: readable in JupyterLab, in exported notebooks and in logs."""

        def __init__(self, name: str, epochs: int):
            super().__init__()
            self.name, self.epochs = name, epochs

        def on_epoch_begin(self, epoch, logs=None):
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            parts = [f"{k} {logs[k]:.4f}" for k in ("loss", "accuracy", "val_loss", "val_accuracy") if k in logs]
            print(f"{self.name} epoch {epoch + 1:>2}/{self.epochs}: {', '.join(parts)} "
                  f"({time.perf_counter() - self._t:.1f} s)", flush=True)

    return EpochTimer, EpochLine


def make_callbacks(spec: ModelSpec, epochs: int, mode: str, name: str):
    """The recipe's early stopping, an epoch timer and (in mode "epochs") a line per epoch -> (callbacks, timer)."""
    import keras

    epoch_timer, epoch_line = _classes()
    recipe = spec.recipe
    cbs: list = []
    if recipe.early_stopping:
        cbs.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=recipe.early_stopping,
                                                 restore_best_weights=recipe.restore_best))
    elif recipe.restore_best:
        cbs.append(keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=epochs + 1,
                                                 restore_best_weights=True))
    timer = epoch_timer()
    cbs.append(timer)
    if mode == "epochs":
        cbs.append(epoch_line(name, epochs))
    return cbs, timer
