"""Train any registry model on any split in any profile, record everything, and save it for reuse.

One call trains, times, evaluates on the test set once and saves:
- `<output_dir>/models/<name>.keras`: the trained model;
- `<name>.test_proba.npy`: its class probabilities on the test set (for later notebooks' statistics);
- `<name>.json`: the record (settings, split sizes, history, timings, scores, and the size and SHA-256 of the
  other two files). Written last, so it marks a finished run; a later call with the same settings loads all three
  instead of training again, once they verify (see `store`). A run that does not verify is trained again, with
  one line saying why.

The settings' fingerprint covers the model's architecture and recipe, the split, the seed, the profile and the
content (SHA-256) of every training, validation and test image and label, so a run is never reused for other data.

Usage:
    split = splits.make_split(ds, "holdout-12000", seed=42)
    result = train_model("wits_cnn", split, profile=run.profile, seed=42, output_dir=run.output_dir)
    result.history           # tidy DataFrame: epoch, split, metric, value
    result.record["test_accuracy"], result.record["images_per_second"]
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from fmnist_helpers.training import store
from fmnist_helpers.training.callbacks import make_callbacks
from fmnist_helpers.models.registry import ModelSpec, build_model, compile_model, get_spec, uses_one_hot
from fmnist_helpers.base.params import Profile
from fmnist_helpers.training.precision import choose_precision, precision_policy
from fmnist_helpers.data.preprocess import augmentation, make_dataset, one_hot, to_model_input
from fmnist_helpers.base.results import to_jsonable
from fmnist_helpers.data.splits import Split, subsample

PROGRESS_ENV = "FMNIST_PROGRESS"
PROGRESS_MODES = ("bar", "epochs", "summary", "none")
PIPELINES = ("tf.data", "numpy")
RECORD_VERSION = 2  # 2: the record holds its files' SHA-256 and the data's content hashes
STEPS_PER_EXECUTION = 32  # training steps per TensorFlow call on the tf.data path (see `train_model`)


@dataclass
class TrainResult:
    """A trained (or reloaded) model with its record, history and test-set probabilities."""

    name: str
    spec: ModelSpec
    model: Any
    record: dict[str, Any]
    test_proba: np.ndarray
    reused: bool

    @property
    def history(self) -> pd.DataFrame:
        """Per-epoch metrics as a tidy DataFrame with columns epoch, split, metric, value."""
        return pd.DataFrame(self.record["history"], columns=["epoch", "split", "metric", "value"])

    @property
    def test_accuracy(self) -> float:
        return self.record["test_accuracy"]

    @property
    def test_predictions(self) -> np.ndarray:
        return self.test_proba.argmax(axis=1)


def progress_mode(requested: str = "auto") -> str:
    """How much training prints: `requested`, or for "auto" `$FMNIST_PROGRESS`, else one line per epoch.

    The course runner and the test suite set `$FMNIST_PROGRESS=summary`, so executed notebooks and CI logs
    get one line per model; in JupyterLab each epoch prints one short line.
    """
    mode = os.environ.get(PROGRESS_ENV, "epochs") if requested == "auto" else requested
    if mode not in PROGRESS_MODES:
        raise ValueError(f"progress {mode!r} is not accepted; choose 'auto' or one of: {', '.join(PROGRESS_MODES)}")
    return mode


def tidy_history(history: dict[str, list[float]]) -> pd.DataFrame:
    """Keras's history dict ({"loss": [...], "val_accuracy": [...]}) -> rows of epoch, split, metric, value."""
    rows = []
    for key, values in history.items():
        split, metric = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
        if metric == "learning_rate":
            continue
        rows += [(epoch, split, metric, float(v)) for epoch, v in enumerate(values, start=1)]
    return pd.DataFrame(rows, columns=["epoch", "split", "metric", "value"])


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


def fingerprint(settings: dict[str, Any]) -> str:
    """A short hash of everything that determines a training run."""
    return hashlib.sha256(json.dumps(to_jsonable(settings), sort_keys=True).encode()).hexdigest()[:16]


def architecture_signature(model) -> str:
    """A hash of the model's layers and their settings (layer names left out: Keras numbers them per session)."""
    layers = []
    for layer in model.layers:
        config = {k: v for k, v in layer.get_config().items() if k != "name"}
        layers.append([type(layer).__name__, config])
    return hashlib.sha256(json.dumps(to_jsonable(layers), sort_keys=True, default=str).encode()).hexdigest()[:16]


_DATA_SIGNATURES: dict[int, dict[str, str]] = {}
SPLIT_ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


def data_signature(split: Split) -> dict[str, str]:
    """The SHA-256 of the content of the split's six arrays (train, validation and test images and labels).

    It tells any two datasets apart (MNIST from Fashion-MNIST, inverted images from plain ones) even where
    labels and indices agree. Computed once per Split object (some 30 ms for the full data set on one CPU
    core); a split's arrays are taken as fixed once it has been used for training.
    """
    found = _DATA_SIGNATURES.get(id(split))
    if found is None:
        found = {role: store.array_sha256(getattr(split, role)) for role in SPLIT_ARRAYS}
        _DATA_SIGNATURES[id(split)] = found
        weakref.finalize(split, _DATA_SIGNATURES.pop, id(split), None)
    return found


def model_paths(output_dir: str | os.PathLike, name: str) -> dict[str, Path]:
    """Where a trained model, its record and its test probabilities are saved."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"model name must be a plain name like 'wits_cnn', got {name!r}")
    folder = Path(output_dir) / "models"
    return {"model": folder / f"{name}.keras", "record": folder / f"{name}.json",
            "proba": folder / f"{name}.test_proba.npy"}


def _record_field(record: dict[str, Any], field: str, path: Path) -> Any:
    if field not in record:
        raise store.UnusableRun(f"{path} lacks the field {field!r}")
    return record[field]


def verified_run(output_dir: str | os.PathLike, name: str, expected: str | None = None,
                 spec: ModelSpec | None = None) -> TrainResult | None:
    """The saved run `name` once every check passes; None when nothing is saved under that name.

    Raises `store.OtherSettings` when its fingerprint differs from `expected`, and `store.UnusableRun` (one line
    naming the file) when any file is missing, unreadable, of the wrong shape, or does not match the record.
    """
    paths = model_paths(output_dir, name)
    if not any(p.exists() for p in paths.values()):
        return None
    record = store.read_record(paths["record"])
    version = record.get("version")
    if version != RECORD_VERSION:
        raise store.OtherSettings(f"{paths['record']} has record version {version!r}; this code reads "
                                  f"{RECORD_VERSION} (written by an older version)")
    if expected is not None and record.get("fingerprint") != expected:
        raise store.OtherSettings(f"{paths['record']} was made with other settings or data "
                                  f"(fingerprint {record.get('fingerprint')}, now {expected})")
    store.check_files(record, paths)
    n_test, classes = (_record_field(record, f, paths["record"]) for f in ("n_test", "num_classes"))
    proba = store.load_proba(paths["proba"], (n_test, classes))
    key = _record_field(record, "key", paths["record"])
    if spec is None or spec.key != key:
        try:
            spec = get_spec(key)
        except (KeyError, ValueError):
            raise store.UnusableRun(f"{paths['record']} names model {key!r}, which is not in the registry "
                                    "(pass its spec)") from None
    model = store.load_model_file(paths["model"])
    architecture, parameters = architecture_signature(model), int(model.count_params())
    if architecture != record.get("architecture") or parameters != record.get("parameters"):
        raise store.UnusableRun(f"{paths['model']} holds another architecture ({parameters:,} parameters, "
                                f"signature {architecture}) than its record ({record.get('parameters')!r} "
                                f"parameters, signature {record.get('architecture')})")
    return TrainResult(name, spec, model, record, proba, reused=True)


def load_trained(output_dir: str | os.PathLike, name: str, expected: str | None = None,
                 spec: ModelSpec | None = None, say: Callable[[str], Any] | None = print) -> TrainResult | None:
    """A saved run by name once it verifies, or None: when there is none, when its fingerprint differs from
    `expected`, or when any check fails (then `say` gets one line naming the file and the reason).

    `spec` is the model's spec when it is not in the registry (e.g. a search winner).
    """
    try:
        return verified_run(output_dir, name, expected, spec)
    except store.UnusableRun as why:
        if say is not None:
            say(f"{name}: the saved run is not used: {why}")
        return None


def find_saved(output_dir: Path, names: Sequence[str], expected: str, spec: ModelSpec,
               say: Callable[[str], Any]) -> TrainResult | None:
    """The first of `names` whose saved run verifies with fingerprint `expected`, or None.

    A damaged run is reported whichever name it is under; other settings only under the first name (the others
    are just places to look).
    """
    for i, name in enumerate(dict.fromkeys(names)):
        try:
            found = verified_run(output_dir, name, expected, spec)
        except store.OtherSettings as why:
            if i == 0:
                say(f"{name}: the saved run is not used: {why}")
            continue
        except store.UnusableRun as why:
            say(f"{name}: the saved run is not used: {why}")
            continue
        if found is not None:
            return found
    return None


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


def train_model(
    model: str | ModelSpec,
    split: Split,
    profile: Profile,
    seed: int = 42,
    output_dir: str | os.PathLike | None = None,
    name: str | None = None,
    epochs: int | None = None,
    precision: str = "auto",
    pipeline: str = "tf.data",
    deterministic: bool = False,
    reuse: bool = True,
    progress: str = "auto",
    flip: bool = True,
    num_classes: int = 10,
    also_reuse: Sequence[str] = (),
) -> TrainResult:
    """Train registry model `model` on `split` with its recipe, within the profile's budget; see the module doc.

    - `epochs`: default the recipe's, capped by `profile.max_epochs`.
    - `precision`: "auto" detects what the hardware gains from (models whose recipe says bfloat16 does not
      pay on a CPU stay float32 there); or "float32", "mixed_bfloat16", "mixed_float16".
    - `pipeline`: "tf.data" (cached, prefetched, and `STEPS_PER_EXECUTION` steps per TensorFlow call) or
      "numpy" (plain `model.fit` on arrays, one step per call: the studies' way).
    - `deterministic`: also make TensorFlow's ops deterministic (slower; affects the whole process).
    - `flip`: horizontal flips in augmentation (right for clothes, wrong for digits).
    - `reuse`: load a saved run with identical settings and data instead of training again, once its files
      verify; a run that does not is trained again, with one line saying why (printed, or logged when
      `progress` is "none").
    - `also_reuse`: other names to look under for a saved run with identical settings (e.g. the name an
      earlier notebook gave the same model); the first match is returned, under its own name.
    """
    import keras
    import tensorflow as tf

    spec = model if isinstance(model, ModelSpec) else get_spec(model)
    recipe = spec.recipe
    name = name or spec.key
    mode = progress_mode(progress)
    quiet_retracing_warnings()
    if pipeline not in PIPELINES:
        raise ValueError(f"pipeline {pipeline!r} is not accepted; choose one of: {', '.join(PIPELINES)}")
    epochs = min(epochs or recipe.epochs, profile.max_epochs)
    chosen = choose_precision(precision)
    if precision == "auto" and chosen == "mixed_bfloat16" and not recipe.cpu_bfloat16:
        chosen = "float32"
    data = profile_split(split, profile, seed)
    with precision_policy(chosen):
        net = build_model(spec, num_classes)
    steps = int(np.ceil(len(data.y_train) / recipe.batch_size))
    per_call = min(STEPS_PER_EXECUTION, steps) if pipeline == "tf.data" else 1
    settings = {"key": spec.key, "architecture": architecture_signature(net), "recipe": recipe.as_dict(),
                "epochs": epochs, "seed": seed, "precision": chosen, "pipeline": pipeline,
                "steps_per_execution": per_call, "flip": flip, "num_classes": num_classes, "split": data.name,
                "sizes": data.sizes(), "data": data_signature(data), "profile": profile.name}
    key = fingerprint(settings)
    out = Path(output_dir) if output_dir is not None else None
    say = print if mode != "none" else logging.getLogger(__name__).warning
    if out is not None and reuse:
        found = find_saved(out, [name, *also_reuse], key, spec, say)
        if found is not None:
            if mode != "none":
                print(f"{name}: reusing the saved run {found.name!r} ({found.record['epochs_run']} epochs, "
                      f"test accuracy {found.test_accuracy:.4f})")
            return found

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    x_train, x_val, x_test = (to_model_input(a) for a in (data.x_train, data.x_val, data.x_test))
    y_train, y_val = data.y_train, data.y_val
    labels = (lambda y: one_hot(y, num_classes)) if uses_one_hot(recipe) else (lambda y: np.asarray(y))
    with precision_policy(chosen):
        net = build_model(spec, num_classes)
        compile_model(net, recipe, steps_per_epoch=steps, epochs=epochs, steps_per_execution=per_call)
    callbacks, timer = make_callbacks(spec, epochs, mode, name)
    fit_args = dict(epochs=epochs, callbacks=callbacks, verbose=1 if mode == "bar" else 0)
    t0 = time.perf_counter()
    if pipeline == "tf.data":
        augments = recipe.augment and (flip or recipe.shift > 0)
        aug = augmentation(flip=flip, shift=recipe.shift, seed=seed) if augments else None
        train_ds = make_dataset(x_train, y_train, recipe.batch_size, shuffle=True, seed=seed, augment=aug,
                                num_classes=num_classes if uses_one_hot(recipe) else None)
        val_ds = make_dataset(x_val, y_val, 1024, num_classes=num_classes if uses_one_hot(recipe) else None)
        hist = net.fit(train_ds, validation_data=val_ds, shuffle=False, **fit_args)
    else:
        if recipe.augment:
            raise ValueError(f"{spec.key} trains with augmentation, which needs pipeline='tf.data'")
        hist = net.fit(x_train, labels(y_train), batch_size=recipe.batch_size, shuffle=True,
                       validation_data=(x_val, labels(y_val)), **fit_args)
    train_time = time.perf_counter() - t0
    history = tidy_history(hist.history)
    proba = predict_proba(net, x_test, from_logits=recipe.from_logits)
    plain_accuracy = float((proba.argmax(1) == data.y_test).mean())
    if recipe.flip_tta and flip:
        proba = (proba + predict_proba(net, x_test[:, :, ::-1, :], from_logits=recipe.from_logits)) / 2
    record = _make_record(spec, name, key, settings, net, history, timer.times, train_time, proba, data)
    record["test_accuracy_without_tta"] = plain_accuracy
    record["flip_tta"] = bool(recipe.flip_tta and flip)
    if mode in ("epochs", "summary", "bar"):
        print(f"{name}: {record['epochs_run']} epochs in {train_time:.0f} s ({record['images_per_second']:,.0f} "
              f"images/s, {chosen}); validation accuracy {record['val_accuracy']:.4f} (epoch {record['best_epoch']}), "
              f"test accuracy {record['test_accuracy']:.4f}", flush=True)
    if out is not None:
        record = store.save_run(model_paths(out, name), net, proba, record)
    return TrainResult(name, spec, net, record, proba, reused=False)


def _make_record(spec: ModelSpec, name: str, key: str, settings: dict[str, Any], net, history: pd.DataFrame,
                 epoch_times: list[float], train_time: float, proba: np.ndarray, data: Split) -> dict[str, Any]:
    val_acc = history.query("split == 'validation' and metric == 'accuracy'").set_index("epoch")["value"]
    train_acc = history.query("split == 'train' and metric == 'accuracy'").set_index("epoch")["value"]
    val_loss = history.query("split == 'validation' and metric == 'loss'").set_index("epoch")["value"]
    epochs_run = int(history["epoch"].max())
    recipe = spec.recipe
    if not recipe.restore_best:
        model_epoch = epochs_run  # the model keeps its last epoch's weights
    else:
        model_epoch = int(val_loss.idxmin() if recipe.early_stopping else val_acc.idxmax())
    n_train = len(data.y_train)
    steady = epoch_times[1:] or epoch_times  # the first epoch also builds the graph
    return to_jsonable({
        "version": RECORD_VERSION, "name": name, "key": spec.key, "study": spec.study, "kind": spec.kind,
        "title": spec.title, "fingerprint": key, **settings, "parameters": int(net.count_params()),
        "reported_params": spec.reported_params, "reported": spec.reported,
        "epochs_run": epochs_run, "best_epoch": model_epoch, "val_accuracy": float(val_acc[model_epoch]),
        "max_val_accuracy": float(val_acc.max()),
        "final_train_accuracy": float(train_acc.iloc[-1]), "final_val_accuracy": float(val_acc.iloc[-1]),
        "test_accuracy": float((proba.argmax(1) == data.y_test).mean()),
        "test_loss": cross_entropy(proba, data.y_test), "n_train": n_train, "n_val": len(data.y_val),
        "n_test": len(data.y_test), "train_time_s": round(train_time, 2),
        "epoch_times_s": [round(t, 3) for t in epoch_times],
        "images_per_second": n_train * len(steady) / sum(steady) if sum(steady) else None,
        "history": history.to_dict(orient="split")["data"],
    })


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

    Augmentation flips images only for clothes (never for digits, where a flipped 2 is no longer a 2).
    """
    from fmnist_helpers.data.splits import kfold_splits, make_split

    spec = model if isinstance(model, ModelSpec) else get_spec(model)
    kwargs.setdefault("flip", getattr(ds, "name", "") != "mnist")
    if spec.recipe.split.startswith("kfold-"):
        folds = kfold_splits(ds, int(spec.recipe.split.split("-")[1]), seed=seed)
        return best_fold(train_folds(spec, folds, profile, seed=seed, output_dir=output_dir, name=name, **kwargs))
    split = make_split(ds, spec.recipe.split, seed=seed)
    return train_model(spec, split, profile, seed=seed, output_dir=output_dir, name=name, **kwargs)


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
    plain name (notebooks 03-05 use the model's key) is reused when its settings match, dataset and seed
    included, so the course never trains the same model twice.

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
    keys = ("key", "study", "parameters", "reported_params", "reported", "precision", "batch_size", "epochs_run",
            "best_epoch", "val_accuracy", "test_accuracy", "test_loss", "train_time_s", "images_per_second", "n_train")
    rec = dict(result.record, batch_size=result.record["recipe"]["batch_size"])
    return {k: rec.get(k) for k in keys}
