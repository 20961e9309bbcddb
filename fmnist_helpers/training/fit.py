"""Train any registry model on any split in any profile, record everything, and save it for reuse.

One call trains, times, evaluates on the test set once and saves:
- `<output_dir>/models/<name>.keras`: the trained model;
- `<name>.test_proba.npy`: its class probabilities on the test set (for later notebooks' statistics);
- `<name>.json`: the record (settings, split sizes, history, timings, scores, and the size and SHA-256 of the
  other two files). Written last, so it marks a finished run; a later call with the same settings loads all three
  instead of training again, once they verify (see `store`, which also says what the fingerprint covers). A run
  that does not verify is trained again, with one line saying why.

`train_model` is a short sequence of named steps: settings (`settle`, then `build_seeded`: the model is built
once, seeded, and its architecture is part of the fingerprint), reuse (`reuse_saved`), train (`fit_network`),
score (`score`), then `report` and `save`.

Usage:
    split = splits.make_split(ds, "holdout-12000", seed=42)
    result = train_model("wits_cnn", split, profile=run.profile, seed=42, output_dir=run.output_dir)
    result.history           # tidy DataFrame: epoch, split, metric, value
    result.record["test_accuracy"], result.record["images_per_second"]
"""
from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd

from fmnist_helpers.base.params import Profile
from fmnist_helpers.base.settings import PROGRESS
from fmnist_helpers.data.preprocess import ONE_PIXEL_SHIFTS, flips_suit, one_hot, shift_images, to_model_input
from fmnist_helpers.data.splits import Split, subsample
from fmnist_helpers.models.registry import ModelSpec, build_model, compile_model, get_spec, uses_one_hot
from fmnist_helpers.training import store
from fmnist_helpers.training.callbacks import make_callbacks
from fmnist_helpers.training.history import tidy_history
from fmnist_helpers.training.pipeline import steps_per_call, steps_per_epoch, train_val_datasets, training_precision
from fmnist_helpers.training.precision import precision_policy
from fmnist_helpers.training.store import (
    TrainResult, architecture_signature, data_signature, find_saved, fingerprint, load_trained, model_paths,
)

PROGRESS_ENV = PROGRESS.name
PROGRESS_MODES = ("bar", "epochs", "summary", "none")
PIPELINES = ("tf.data", "numpy")

__all__ = [
    "PIPELINES", "PROGRESS_ENV", "PROGRESS_MODES", "RunSettings", "TrainResult", "best_fold", "cross_entropy",
    "fold_summary", "load_trained", "model_paths", "predict_proba", "profile_split", "progress_mode",
    "quiet_retracing_warnings", "repeat_name", "summarize", "tidy_history", "train_folds", "train_model",
    "train_on_dataset", "train_repeats",
]


def progress_mode(requested: str = "auto") -> str:
    """How much training prints: `requested`, or for "auto" `$FMNIST_PROGRESS`, else one line per epoch.

    The course runner and the test suite set `$FMNIST_PROGRESS=summary`, so executed notebooks and CI logs
    get one line per model; in JupyterLab each epoch prints one short line.
    """
    mode = os.environ.get(PROGRESS_ENV, "epochs") if requested == "auto" else requested
    if mode not in PROGRESS_MODES:
        raise ValueError(f"progress {mode!r} is not accepted; choose 'auto' or one of: {', '.join(PROGRESS_MODES)}")
    return mode


class _DropRetracingWarnings(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning. It fires when several freshly built models
    each trace their own training step, which is what every notebook and search here does on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def quiet_retracing_warnings() -> None:
    """Keep TensorFlow's retracing warning out of notebooks and logs (other warnings still show)."""
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _DropRetracingWarnings) for f in logger.filters):
        logger.addFilter(_DropRetracingWarnings())


@contextlib.contextmanager
def op_determinism(enabled: bool) -> Iterator[None]:
    """TensorFlow's deterministic ops inside the block when `enabled`; the process's earlier setting after it."""
    if not enabled:
        yield
        return
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config  # reading and undoing the setting is not public

    before = tf_config.is_op_determinism_enabled()
    tf.config.experimental.enable_op_determinism()
    try:
        yield
    finally:
        if not before:
            tf_config.disable_op_determinism()


def predict_proba(model, x: np.ndarray, from_logits: bool = False, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities (float32, rows sum to 1) for model input `x`."""
    out = np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float64)
    if from_logits:
        out = np.exp(out - out.max(axis=1, keepdims=True))
        out /= out.sum(axis=1, keepdims=True)
    return out.astype(np.float32)


def cross_entropy(proba: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-probability of the true class (the test loss, without regularisation terms)."""
    p = np.clip(proba[np.arange(len(labels)), labels], 1e-7, 1.0)
    return float(-np.log(p).mean())


def profile_split(split: Split, profile: Profile, seed: int) -> Split:
    """The split cut to the profile's training subset (validation cut to a quarter of it; test kept whole)."""
    if profile.train_subset is None:
        return split
    return subsample(split, profile.train_subset, max(profile.train_subset // 4, 100), seed=seed)


# ---------------------------------------------------------------------------------------------- train_model


@dataclass(frozen=True)
class RunSettings:
    """One training run's settings, settled from `train_model`'s arguments, the recipe and the profile."""

    spec: ModelSpec
    name: str
    data: Split  # the split cut to the profile's training budget
    profile: str
    seed: int
    epochs: int
    precision: str  # the Keras dtype policy actually used
    pipeline: str
    steps: int  # training steps per epoch
    per_call: int  # training steps per TensorFlow call
    flip: bool
    num_classes: int
    mode: str  # how much it prints (see `progress_mode`)

    def fingerprinted(self, architecture: str) -> dict[str, Any]:
        """Everything the fingerprint covers (and the record repeats), given the built model's architecture."""
        return {"key": self.spec.key, "architecture": architecture, "recipe": self.spec.recipe.as_dict(),
                "epochs": self.epochs, "seed": self.seed, "precision": self.precision, "pipeline": self.pipeline,
                "steps_per_execution": self.per_call, "flip": self.flip, "num_classes": self.num_classes,
                "split": self.data.name, "sizes": self.data.sizes(), "data": data_signature(self.data),
                "profile": self.profile}


@dataclass(frozen=True)
class Fitted:
    """What training a network gave: its tidy history, the seconds of each epoch and of the whole fit."""

    history: pd.DataFrame
    epoch_times: list[float]
    seconds: float


def settle(model: str | ModelSpec, split: Split, profile: Profile, seed: int, name: str | None, epochs: int | None,
           precision: str, pipeline: str, progress: str, flip: bool, num_classes: int) -> RunSettings:
    """Step 1, settings: check the options; take the profile's cut of the split and its epoch cap, and the
    precision and steps per call the run trains with."""
    spec = model if isinstance(model, ModelSpec) else get_spec(model)
    mode = progress_mode(progress)
    quiet_retracing_warnings()
    if pipeline not in PIPELINES:
        raise ValueError(f"pipeline {pipeline!r} is not accepted; choose one of: {', '.join(PIPELINES)}")
    epochs = min(epochs or spec.recipe.epochs, profile.max_epochs)
    chosen = training_precision(precision, spec.recipe)
    data = profile_split(split, profile, seed)
    steps = steps_per_epoch(len(data.y_train), spec.recipe.batch_size)
    per_call = steps_per_call(steps) if pipeline == "tf.data" else 1
    return RunSettings(spec, name or spec.key, data, profile.name, seed, epochs, chosen, pipeline, steps, per_call,
                       flip, num_classes, mode)


def build_seeded(run: RunSettings) -> tuple[Any, dict[str, Any], str]:
    """Step 1, continued: seed Keras, then build the model once in the run's precision. Its architecture
    completes the settings, whose fingerprint names the run -> (model, settings, fingerprint)."""
    import keras

    keras.utils.set_random_seed(run.seed)
    with precision_policy(run.precision):
        net = build_model(run.spec, run.num_classes)
    settings = run.fingerprinted(architecture_signature(net))
    return net, settings, fingerprint(settings)


def reuse_saved(run: RunSettings, key: str, output_dir: str | os.PathLike,
                also_reuse: Sequence[str]) -> TrainResult | None:
    """Step 2, reuse: the run saved with fingerprint `key` under the run's name or one of `also_reuse`, once it
    verifies; else None. A run that does not verify gets one line saying why (logged when progress is "none")."""
    say = print if run.mode != "none" else logging.getLogger(__name__).warning
    found = find_saved(output_dir, [run.name, *also_reuse], key, run.spec, say)
    if found is not None and run.mode != "none":
        print(f"{run.name}: reusing the saved run {found.name!r} ({found.record['epochs_run']} epochs, "
              f"test accuracy {found.test_accuracy:.4f})")
    return found


def fit_network(run: RunSettings, net) -> Fitted:
    """Step 3, train: compile `net` with the recipe and fit it for the run's epochs on its pipeline."""
    recipe = run.spec.recipe
    with precision_policy(run.precision):
        compile_model(net, recipe, steps_per_epoch=run.steps, epochs=run.epochs, steps_per_execution=run.per_call)
    callbacks, timer = make_callbacks(run.spec, run.epochs, run.mode, run.name)
    fit_args = dict(epochs=run.epochs, callbacks=callbacks, verbose=1 if run.mode == "bar" else 0)
    start = time.perf_counter()
    if run.pipeline == "tf.data":
        train, val = train_val_datasets(run.data, recipe, recipe.batch_size, run.seed, run.flip, run.num_classes)
        hist = net.fit(train, validation_data=val, shuffle=False, **fit_args)
    else:
        hist = _fit_arrays(run, net, fit_args)
    return Fitted(tidy_history(hist.history), timer.times, time.perf_counter() - start)


def _fit_arrays(run: RunSettings, net, fit_args: dict[str, Any]):
    """The studies' way: `model.fit` on NumPy arrays, one step per call (no augmentation)."""
    recipe = run.spec.recipe
    if recipe.augment:
        raise ValueError(f"{run.spec.key} trains with augmentation, which needs pipeline='tf.data'")
    labels = (lambda y: one_hot(y, run.num_classes)) if uses_one_hot(recipe) else (lambda y: np.asarray(y))
    x_train, x_val = to_model_input(run.data.x_train), to_model_input(run.data.x_val)
    return net.fit(x_train, labels(run.data.y_train), batch_size=recipe.batch_size, shuffle=True,
                   validation_data=(x_val, labels(run.data.y_val)), **fit_args)


def score(run: RunSettings, net) -> tuple[np.ndarray, dict[str, Any]]:
    """Step 4, score: the test set's class probabilities, averaged over the test-time augmentation the recipe
    asks for (mirror images where flips suit the data, one-pixel shifts of each view) -> (probabilities, scores
    for the record)."""
    recipe, y_test = run.spec.recipe, run.data.y_test
    x_test = to_model_input(run.data.x_test)
    proba = predict_proba(net, x_test, from_logits=recipe.from_logits)
    plain_accuracy = float((proba.argmax(1) == y_test).mean())
    flips = bool(recipe.flip_tta and run.flip)
    views = [x_test, x_test[:, :, ::-1, :]] if flips else [x_test]
    extra = views[1:] + ([shift_images(v, dy, dx) for v in views for dy, dx in ONE_PIXEL_SHIFTS]
                         if recipe.shift_tta else [])
    if extra:
        proba = (proba + sum(predict_proba(net, v, from_logits=recipe.from_logits) for v in extra)) / (1 + len(extra))
    scores = {"test_accuracy": float((proba.argmax(1) == y_test).mean()), "test_loss": cross_entropy(proba, y_test),
              "test_accuracy_without_tta": plain_accuracy, "flip_tta": flips}
    return proba, {**scores, "shift_tta": True} if recipe.shift_tta else scores


def report(run: RunSettings, record: dict[str, Any], seconds: float) -> None:
    """Step 5, report: the run's one-line summary (unless progress is "none")."""
    if run.mode in ("epochs", "summary", "bar"):
        print(f"{run.name}: {record['epochs_run']} epochs in {seconds:.0f} s ({record['images_per_second']:,.0f} "
              f"images/s, {run.precision}); validation accuracy {record['val_accuracy']:.4f} "
              f"(epoch {record['best_epoch']}), test accuracy {record['test_accuracy']:.4f}", flush=True)


def save(run: RunSettings, net, proba: np.ndarray, record: dict[str, Any],
         output_dir: str | os.PathLike | None) -> TrainResult:
    """Step 6, save: the model, its probabilities and its record under the run's name (when there is a folder)."""
    if output_dir is not None:
        record = store.save_run(model_paths(output_dir, run.name), net, proba, record)
    return TrainResult(run.name, run.spec, net, record, proba, reused=False)


def train_model(model: str | ModelSpec, split: Split, profile: Profile, seed: int = 42,
                output_dir: str | os.PathLike | None = None, name: str | None = None, epochs: int | None = None,
                precision: str = "auto", pipeline: str = "tf.data", deterministic: bool = False, reuse: bool = True,
                progress: str = "auto", flip: bool = True, num_classes: int = 10,
                also_reuse: Sequence[str] = ()) -> TrainResult:
    """Train registry model `model` on `split` with its recipe, within the profile's budget; see the module doc.

    - `epochs`: default the recipe's, capped by `profile.max_epochs`.
    - `precision`: "auto" detects what the hardware gains from (see `pipeline.training_precision`); or
      "float32", "mixed_bfloat16", "mixed_float16".
    - `pipeline`: "tf.data" (cached, prefetched, several steps per TensorFlow call) or "numpy" (plain
      `model.fit` on arrays, one step per call: the studies' way).
    - `deterministic`: TensorFlow's deterministic ops during this call (restored afterwards). A seed already gives
      one model on a CPU without it (the pipeline augments in order); it trains another, equally repeatable one.
    - `flip`: horizontal flips in augmentation (right for clothes, wrong for digits).
    - `reuse`: load a saved run with identical settings and data instead of training again, once its files
      verify; `also_reuse`: other names to look under (the first match is returned, under its own name).
    """
    run = settle(model, split, profile, seed, name, epochs, precision, pipeline, progress, flip, num_classes)
    with op_determinism(deterministic):
        net, settings, key = build_seeded(run)
        found = reuse_saved(run, key, output_dir, also_reuse) if reuse and output_dir is not None else None
        if found is not None:
            return found
        fitted = fit_network(run, net)
        proba, scores = score(run, net)
    record = store.make_record(run.spec, run.name, key, settings, int(net.count_params()), fitted.history,
                               fitted.epoch_times, fitted.seconds, run.data, scores)
    report(run, record, fitted.seconds)
    return save(run, net, proba, record, output_dir)


# ---------------------------------------------------------------------------------------------- folds, repeats


def train_folds(
    model: str | ModelSpec,
    folds: list[Split],
    profile: Profile,
    seed: int = 42,
    output_dir: str | os.PathLike | None = None,
    name: str | None = None,
    **kwargs: Any,
) -> list[TrainResult]:
    """Train one model per fold (named `<name>-fold<i>`), each validated on its own held-out fold."""
    spec = model if isinstance(model, ModelSpec) else get_spec(model)
    base = name or spec.key
    return [train_model(spec, fold, profile, seed=seed, output_dir=output_dir, name=f"{base}-fold{i}", **kwargs)
            for i, fold in enumerate(folds, start=1)]


def best_fold(results: list[TrainResult]) -> TrainResult:
    """The fold model with the highest validation accuracy (the `bu` study keeps that one)."""
    if not results:
        raise ValueError("no fold results to choose from")
    return max(results, key=lambda r: r.record["val_accuracy"])


def fold_summary(results: list[TrainResult]) -> pd.DataFrame:
    """One row per fold: validation and test accuracy, epochs and time."""
    return pd.DataFrame([{"fold": i, "val_accuracy": r.record["val_accuracy"], "test_accuracy": r.test_accuracy,
                          "epochs": r.record["epochs_run"], "train_time_s": r.record["train_time_s"]}
                         for i, r in enumerate(results, start=1)]).set_index("fold")


def train_on_dataset(
    model: str | ModelSpec,
    ds: Any,
    profile: Profile,
    seed: int = 42,
    output_dir: str | os.PathLike | None = None,
    name: str | None = None,
    **kwargs: Any,
) -> TrainResult:
    """Train on the split the model's recipe names (k-fold recipes train every fold and keep the best).

    Augmentation flips images only for clothes (never for digits, where a flipped 2 is no longer a 2). Under the
    plain name (the model's key), a run `train_repeats` saved for the same dataset and seed is reused too, so
    whichever notebook of a course run comes first trains it.
    """
    from fmnist_helpers.data.splits import recipe_splits

    spec = model if isinstance(model, ModelSpec) else get_spec(model)
    kwargs.setdefault("flip", flips_suit(getattr(ds, "name", "")))
    splits = recipe_splits(ds, spec.recipe.split, seed=seed)
    if spec.recipe.split.startswith("kfold-"):
        return best_fold(train_folds(spec, splits, profile, seed=seed, output_dir=output_dir, name=name, **kwargs))
    if name is None:
        kwargs.setdefault("also_reuse", (repeat_name(spec.key, getattr(ds, "name", "data"), seed),))
    return train_model(spec, splits[0], profile, seed=seed, output_dir=output_dir, name=name, **kwargs)


def repeat_name(base: str, dataset: str, seed: int) -> str:
    """The saved name of one repeat: `<base>-<dataset>-seed<seed>` (e.g. `kh_ann-mnist-seed43`)."""
    return f"{base}-{dataset}-seed{seed}"


def train_repeats(
    model: str | ModelSpec,
    ds: Any,
    profile: Profile,
    seeds: Sequence[int],
    output_dir: str | os.PathLike | None = None,
    name: str | None = None,
    **kwargs: Any,
) -> list[TrainResult]:
    """Train the model once per seed on `ds`, reusing any saved run with the same settings.

    Each repeat is saved as `repeat_name(name, ds.name, seed)`. A run that an earlier notebook saved under the
    plain name (lesson 05 and the studies track use the model's key) is reused when its settings match, dataset
    and seed included, and `train_on_dataset` reuses these repeats in turn, so the course never trains the same
    model twice.

    Usage:
        runs = train_repeats("kh_ann", ds, run.profile, seeds=[42, 43, 44], output_dir=run.output_dir)
    """
    spec = model if isinstance(model, ModelSpec) else get_spec(model)
    base = name or spec.key
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    return [train_on_dataset(spec, ds, profile, seed=seed, output_dir=output_dir,
                             name=repeat_name(base, getattr(ds, "name", "data"), seed), also_reuse=(base,), **kwargs)
            for seed in seeds]


def summarize(result: TrainResult) -> dict[str, Any]:
    """The figures of one run worth keeping in a notebook's results record."""
    keys = ("key", "study", "kind", "parameters", "reported_params", "reported", "precision", "batch_size", "epochs_run",
            "best_epoch", "val_accuracy", "test_accuracy", "test_loss", "train_time_s", "images_per_second", "n_train")
    rec = dict(result.record, batch_size=result.record["recipe"]["batch_size"])
    return {k: rec.get(k) for k in keys}
