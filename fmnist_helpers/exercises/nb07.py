"""Exercises of notebook 07 (a strong CNN, written out in Keras): the parameters batch norm does not train, an AdamW
optimizer with a warm-up-then-decay schedule, the callbacks that keep the best epoch, saving and reloading a
model, batch norm's momentum in a short run, and the pack CNN's family of layers.

Usage:
    ex = exercises.for_notebook("07_strong_cnn"); ex.q1.check(800)
"""
from __future__ import annotations

import math
import tempfile
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .builds import Attempt, Build, Finding, Found, fake_history, number_finding, read_fit, scores_match
from .common import is_number, need_number
from .core import Answer, Function, Mistake, _short
from .givens import Formula, Given, named
from .ladder import CORE, STRETCH, WARM_UP

TITLE = "A strong CNN, written out in Keras"

# ------------------------------------------------------------------------------------------------ q1

_WIDE = (48, 96, 256)  # pack_cnn_wide: the channels of its three batch norm layers
_WIDE_FROZEN = 2 * sum(_WIDE)
_PER_BLOCK = Given("norms", 1, lambda n: f"{n} batch norm layer{'s' if n != 1 else ''} per block",
                   others={2: "one after each of a block's two convolutions"},
                   has="the strong CNN has one per block, after its pooling layer")
_Q1_FORMULA = Formula(
    Given("statistics", 2, lambda n: f"{n} statistic{'s' if n != 1 else ''} per channel", steps=True,
          has="batch norm keeps 2 that gradient descent does not train, a moving mean and a moving variance")
    * (named(_PER_BLOCK * Given("c1", 48, "{} channels in block 1", others={32: "the strong CNN's"}),
             "block 1's 48 channels")
       + named(_PER_BLOCK * Given("c2", 96, "{} channels in block 2", others={64: "the strong CNN's"}),
               "block 2's 96 channels")
       + named(Given("dense", 256, "{} dense units", others={128: "", 512: "", 384: "scaled by 1.5 as the filters were"}), "the dense layer's 256 units")))

q1 = Answer(
    key="q1", title="What batch norm does not train", kind="compute", minutes=3, difficulty="easy",
    task="`pack_cnn_wide` has the strong CNN's layers with 48 and 96 filters (the dense layer keeps 256 units). How "
         "many of its parameters are not trained by gradient descent? Give one whole number.",
    hints=("Only the batch norm layers hold parameters that the gradients do not change. Which of their four numbers "
           "per channel are they?",
           "Each batch norm layer keeps a moving mean and a moving variance per channel (or unit); the wide CNN has "
           "batch norm on 48 channels, on 96 channels and on 256 units."),
    expected=_WIDE_FROZEN, validate=need_number, solution_example=_WIDE_FROZEN, formula=_Q1_FORMULA,
    on_correct=lambda a, ctx: ("800: a moving mean and a moving variance for each of 48 + 96 + 256 channels and "
                               "units. `fit` updates them with the momentum rule, not with gradients, and the "
                               "prediction uses them instead of the batch's statistics."),
    mistakes=(
        Mistake("that counts all four numbers per channel; gamma and beta are trained, only the moving mean and the "
                "moving variance are not (two per channel).", 4 * sum(_WIDE)),
        Mistake("each channel keeps two running statistics, a moving mean and a moving variance, not one.",
                sum(_WIDE)),
        Mistake("the batch norm after the dense layer counts too: it normalises each of its 256 units.",
                2 * (48 + 96)),
        Mistake("that is the strong CNN's count (32 and 64 filters); the wide CNN has 48 and 96.", 2 * (32 + 64 + 256)),
        Mistake("only the three batch norm layers hold such statistics (48, 96 and 256 channels); the output layer "
                "has none.", 2 * (48 + 96 + 256 + 10)),
    ),
)

# ------------------------------------------------------------------------------------------------ q2

_PEAK, _WEIGHT_DECAY, _WARMUP = 5e-3, 1e-4, 0.3


def _make_optimizer(total_steps: int, peak: float = _PEAK, warmup: float = _WARMUP, weight_decay: float = _WEIGHT_DECAY,
                    decay_steps: int | None = None, kind: str = "adamw", schedule: bool = True, alpha: float = 0.001):
    """The right optimizer, and (through its arguments) the wrong ones of the mistakes."""
    import keras

    warm = int(warmup * total_steps)
    rate: Any = peak
    if schedule:
        rate = keras.optimizers.schedules.CosineDecay(
            peak / 25 if warm else peak, decay_steps=decay_steps or max(total_steps - warm, 1), alpha=alpha,
            warmup_target=peak if warm else None, warmup_steps=warm)
    if kind == "adam":
        return keras.optimizers.Adam(rate)
    if weight_decay is None:
        return keras.optimizers.AdamW(rate)
    return keras.optimizers.AdamW(rate, weight_decay=weight_decay)


def _schedule(optimizer: Any) -> Any:
    """The learning-rate schedule an optimizer was given, or None for a fixed rate."""
    import keras

    rate = getattr(optimizer, "_learning_rate", None)
    return rate if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule) else None


def _rates(optimizer: Any, total_steps: int) -> tuple[np.ndarray, np.ndarray] | None:
    schedule = _schedule(optimizer)
    if schedule is None:
        return None
    steps = np.unique(np.linspace(0, total_steps, 41).astype(int))
    try:
        return steps, np.array([float(schedule(int(s))) for s in steps])
    except Exception:  # noqa: BLE001 - a schedule that cannot be evaluated is reported by the caller
        return None


def _same_rates(rates: np.ndarray, optimizer: Any, total_steps: int) -> bool:
    """Whether `optimizer`'s schedule gives `rates` at the steps `_rates` reads."""
    theirs = _rates(optimizer, total_steps)
    return theirs is not None and theirs[1].shape == rates.shape and bool(np.allclose(theirs[1], rates, rtol=1e-3))


def _is_optimizer(out: Any) -> bool:
    try:
        import keras

        return isinstance(out, keras.optimizers.Optimizer)
    except Exception:  # noqa: BLE001
        return False


def _weight_decay(out: Any) -> float | None:
    try:
        return float(out.weight_decay)
    except (TypeError, ValueError, AttributeError):
        return None


def _verify_optimizer(out: Any, args: tuple) -> str | None:
    (total,) = args
    if not _is_optimizer(out):
        return f"return the Keras optimizer itself, e.g. `return keras.optimizers.AdamW(...)`; got {type(out).__name__}."
    if type(out).__name__ != "AdamW":
        return f"the pack trains with `keras.optimizers.AdamW`; this is {type(out).__name__}."
    if _weight_decay(out) is None or not math.isclose(_weight_decay(out), _WEIGHT_DECAY, rel_tol=1e-6):
        return f"the weight decay should be 1e-4; it is {_weight_decay(out)}."
    if _schedule(out) is None:
        return "the learning rate is one fixed number; give AdamW a schedule from `keras.optimizers.schedules`."
    found = _rates(out, total)
    if found is None:
        return "the learning-rate schedule could not be evaluated at a step number."
    steps, rates = found
    top = int(np.argmax(rates))
    peak, at = rates[top], steps[top]
    if not math.isclose(peak, _PEAK, rel_tol=0.02):
        return f"the highest rate should be the peak, 5e-3; it is {peak:.3g}."
    if not 0.2 * total <= at <= 0.4 * total:
        return f"the peak should come after about 30% of the {total} steps (step {int(_WARMUP * total)}); it comes at step {at}."
    if rates[0] > _PEAK / 10:
        return f"the schedule should start low (5e-3 / 25 = 2e-4) and warm up; it starts at {rates[0]:.3g}."
    if not math.isclose(rates[0], _PEAK / 25, rel_tol=0.05):
        return (f"the warm-up should start at 5e-3 / 25 = 2e-4, CosineDecay's first argument; it starts at "
                f"{rates[0]:.3g}{' (a first step that does not train at all)' if rates[0] == 0 else ''}.")
    if rates[-1] > _PEAK / 50 and _same_rates(rates, _make_optimizer(total, alpha=rates[-1] / _PEAK), total):
        return (f"the rate ends at {rates[-1]:.3g}, {rates[-1] / _PEAK:.3g} of the peak: CosineDecay's `alpha` is "
                f"the floor the cosine falls to, as a fraction of the peak (not in percent); almost zero is "
                f"`alpha=0.001`, 0.1% of the peak.")
    if rates[-1] > _PEAK / 50:
        return (f"at the last step, {total}, the rate should be close to zero; it is still {rates[-1]:.3g}. The "
                f"decay should last the steps after the warm-up.")
    if np.any(np.diff(rates[: top + 1]) < -1e-9) or np.any(np.diff(rates[top:]) > 1e-9):
        return "the rate should rise to its peak and then only fall."
    return None


q2 = Function(
    key="q2", title="AdamW with a one-cycle schedule", kind="code", minutes=10, difficulty="medium",
    task="Write `make_optimizer(total_steps)`: an AdamW optimizer with weight decay 1e-4 whose learning rate warms up "
         "from 5e-3 / 25 to a peak of 5e-3 over the first 30% of the steps, then decays along a cosine to almost "
         "zero at the last step.",
    hints=("`keras.optimizers.schedules.CosineDecay` does both halves: its first argument is where the rate starts, "
           "`warmup_target` and `warmup_steps` set the climb, `decay_steps` how long the fall after it lasts.",
           "`warm = int(0.3 * total_steps)`; `CosineDecay(5e-3 / 25, decay_steps=total_steps - warm, alpha=0.001, "
           "warmup_target=5e-3, warmup_steps=warm)`, passed to `keras.optimizers.AdamW(schedule, weight_decay=1e-4)`."),
    name="make_optimizer", cases=lambda: [(100,), (235,), (1_000,)], verify=_verify_optimizer,
    solution_example=_make_optimizer, time_limit=30.0,
    mistakes=(
        Mistake("the learning rate is one fixed number: pass a schedule (CosineDecay with a warm-up) to AdamW, so "
                "the rate climbs and then falls.", lambda total: _make_optimizer(total, schedule=False),
                detect=lambda out, args: _is_optimizer(out) and _schedule(out) is None),
        Mistake("that is Adam; AdamW takes the weight decay out of the gradient step (decoupled weight decay), "
                "which is what the pack trains with.", lambda total: _make_optimizer(total, kind="adam"),
                detect=lambda out, args: _is_optimizer(out) and type(out).__name__ == "Adam"),
        Mistake("the weight decay is Keras's default, 0.004; set `weight_decay=1e-4` as the pack does.",
                lambda total: _make_optimizer(total, weight_decay=None),
                detect=lambda out, args: _is_optimizer(out) and _weight_decay(out) is not None
                and math.isclose(_weight_decay(out), 0.004, rel_tol=1e-6)),
        Mistake("the schedule starts at its peak: there is no warm-up. Give CosineDecay a low starting rate with "
                "`warmup_target=5e-3` and `warmup_steps` of 30% of the steps.",
                lambda total: _make_optimizer(total, warmup=0.0, peak=_PEAK),
                detect=lambda out, args: (_rates(out, args[0]) is not None
                                          and int(np.argmax(_rates(out, args[0])[1])) == 0)),
        Mistake("the cosine decay lasts all `total_steps`, on top of the warm-up, so the rate is still high at the "
                "end: use `decay_steps=total_steps - warmup_steps`.",
                lambda total: _make_optimizer(total, decay_steps=total),
                detect=lambda out, args: (_rates(out, args[0]) is not None and _rates(out, args[0])[1][-1] > _PEAK / 50
                                          and _same_rates(_rates(out, args[0])[1],
                                                          _make_optimizer(args[0], decay_steps=args[0]), args[0]))),
    ),
)

# ------------------------------------------------------------------------------------------------ q3


def _make_callbacks(path: Any, monitor: str = "val_accuracy", restore: bool = True, best_only: bool = True,
                    which: tuple[str, ...] = ("stop", "save")):
    import keras

    callbacks = []
    if "stop" in which:
        callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=3, restore_best_weights=restore))
    if "save" in which:
        callbacks.append(keras.callbacks.ModelCheckpoint(str(path), monitor=monitor, save_best_only=best_only))
    return callbacks


def _of_type(out: Any, name: str) -> list:
    try:
        return [c for c in out if type(c).__name__ == name]
    except TypeError:
        return []


def _verify_callbacks(out: Any, args: tuple) -> str | None:
    (path,) = args
    if not isinstance(out, (list, tuple)):
        return f"return a list of the two callbacks, `[stopper, checkpoint]`; got {type(out).__name__}."
    stop, save = _of_type(out, "EarlyStopping"), _of_type(out, "ModelCheckpoint")
    if len(stop) != 1 or len(save) != 1:
        return (f"the list should hold one `keras.callbacks.EarlyStopping` and one `keras.callbacks.ModelCheckpoint`; "
                f"it holds {[type(c).__name__ for c in out]}.")
    stop, save = stop[0], save[0]
    for callback in (stop, save):
        if not str(getattr(callback, "monitor", "")).startswith("val_"):
            return f"{type(callback).__name__} watches {callback.monitor!r}; it should watch a validation metric."
        if callback.monitor == "val_loss":
            return (f"{type(callback).__name__} watches 'val_loss' (EarlyStopping's and ModelCheckpoint's default "
                    f"when `monitor` is not given); the task asks for validation accuracy, `monitor='val_accuracy'`: "
                    f"the epoch with the lowest loss need not be the one with the highest accuracy.")
        if callback.monitor != "val_accuracy":
            return (f"{type(callback).__name__} watches {callback.monitor!r}, a name `fit` never logs: with "
                    f"`metrics=['accuracy']` the validation accuracy is logged as 'val_accuracy'.")
    for callback in (stop, save):
        good = "max" if "acc" in callback.monitor else "min"
        if str(getattr(callback, "mode", "auto")) not in ("auto", good):
            return (f"{type(callback).__name__} has `mode={callback.mode!r}` for {callback.monitor!r}: then the "
                    f"{'lowest' if good == 'max' else 'highest'} value counts as the best. An accuracy is best at "
                    f"its highest (`mode='max'`, or leave the default 'auto', which reads it from the name).")
    if not getattr(stop, "restore_best_weights", False):
        return "EarlyStopping should restore the best epoch's weights (`restore_best_weights=True`)."
    if not getattr(stop, "patience", 0) >= 1:
        return "EarlyStopping's patience should be at least 1 epoch: with 0 it stops at the first epoch that is not better."
    if str(getattr(save, "filepath", "")) != str(path):
        return f"ModelCheckpoint should write to the `path` it is given ({path}); it writes to {save.filepath!r}."
    if not getattr(save, "save_best_only", False):
        return "ModelCheckpoint should keep only the best epoch (`save_best_only=True`)."
    return None


def _callback_cases() -> list[tuple]:
    folder = Path(tempfile.gettempdir()) / "fmnist_nb07_q3"
    return [(str(folder / "best.keras"),), (str(folder / "strong_cnn_best.keras"),)]


q3 = Function(
    key="q3", title="Keep the best epoch", kind="code", minutes=6, difficulty="easy",
    task="Write `make_callbacks(path)`: a list of an EarlyStopping callback that restores the best epoch's weights "
         "and a ModelCheckpoint that writes only the best epoch's model to `path`, both watching validation "
         "accuracy.",
    hints=("Both callbacks take `monitor=\"val_accuracy\"`. One option of each decides whether the best epoch is "
           "kept: read their docstrings (`keras.callbacks.EarlyStopping?`).",
           "`keras.callbacks.EarlyStopping(monitor=\"val_accuracy\", patience=3, restore_best_weights=True)` and "
           "`keras.callbacks.ModelCheckpoint(path, monitor=\"val_accuracy\", save_best_only=True)`."),
    name="make_callbacks", cases=_callback_cases, verify=_verify_callbacks, solution_example=_make_callbacks,
    time_limit=20.0,
    mistakes=(
        Mistake("EarlyStopping stops training but keeps the last epoch's weights unless `restore_best_weights=True`.",
                lambda path: _make_callbacks(path, restore=False),
                detect=lambda out, args: any(not c.restore_best_weights for c in _of_type(out, "EarlyStopping"))),
        Mistake("without `save_best_only=True` ModelCheckpoint overwrites the file after every epoch, so it ends "
                "with the last epoch, not the best.", lambda path: _make_callbacks(path, best_only=False),
                detect=lambda out, args: any(not c.save_best_only for c in _of_type(out, "ModelCheckpoint"))),
        Mistake("the callbacks watch a training metric: training accuracy keeps rising, so its best epoch is "
                "simply the last. Watch `val_accuracy`, measured on images the model does not learn from.",
                lambda path: _make_callbacks(path, monitor="accuracy"),
                detect=lambda out, args: any(not str(getattr(c, "monitor", "val_")).startswith("val_")
                                             for c in _of_type(out, "EarlyStopping") + _of_type(out, "ModelCheckpoint"))),
        Mistake("the list needs both callbacks: EarlyStopping restores the best weights in memory, ModelCheckpoint "
                "keeps them in a file.", lambda path: _make_callbacks(path, which=("stop",)),
                detect=lambda out, args: isinstance(out, (list, tuple))
                and (not _of_type(out, "EarlyStopping") or not _of_type(out, "ModelCheckpoint"))),
    ),
)

# ------------------------------------------------------------------------------------------------ q4

_PROBE = np.linspace(0, 1, 2 * 28 * 28, dtype="float32").reshape(2, 28, 28, 1)


def _tiny_model():
    import keras

    keras.utils.set_random_seed(7)
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                             keras.layers.BatchNormalization(momentum=0.9), keras.layers.Flatten(),
                             keras.layers.Dense(10, activation="softmax")], name="tiny")


def _reload_cases() -> list[tuple]:
    folder = Path(tempfile.mkdtemp(prefix="fmnist_nb07_q4_"))
    return [(_tiny_model(), str(folder / "tiny.keras"))]


def _save_and_reload(model: Any, path: Any):
    import keras

    model.save(path)
    return keras.models.load_model(path)


def _clone_unsaved(model: Any, path: Any):
    import keras

    return keras.models.clone_model(model)


def _predicts(model: Any) -> np.ndarray | None:
    try:
        return np.asarray(model(_PROBE, training=False))  # a direct call: no tf.function traced per model
    except Exception:  # noqa: BLE001
        return None


def _verify_reload(out: Any, args: tuple) -> str | None:
    import keras

    model, path = args
    if out is None:
        return "the function returns None: `return` the model that `keras.models.load_model(path)` gives back."
    if not isinstance(out, keras.Model):
        return f"return the reloaded Keras model; got {type(out).__name__}."
    if out is model:
        return "that is the model you were given; return the one loaded back from the file."
    if not Path(path).is_file():
        return f"there is no file at `path` ({path}): save the model there with `model.save(path)`."
    mine, theirs = _predicts(out), _predicts(model)
    if mine is None or theirs is None or mine.shape != theirs.shape or not np.allclose(mine, theirs, atol=1e-6):
        return "the returned model predicts differently from the one saved: load it back from `path`."
    return None


q4 = Function(
    key="q4", title="Save it and load it back", kind="code", minutes=5, difficulty="easy",
    task="Write `save_and_reload(model, path)`: save `model` to the `.keras` file `path` and return the model that "
         "Keras loads back from that file.",
    hints=("A Keras model saves itself, architecture, weights and optimizer state in one file; one function of "
           "`keras.models` reads it back.",
           "`model.save(path)`, then `return keras.models.load_model(path)`."),
    name="save_and_reload", cases=_reload_cases, verify=_verify_reload, solution_example=_save_and_reload,
    describe=lambda args: "a small CNN, '.../tiny.keras'", time_limit=60.0,
    mistakes=(
        Mistake("the function returns the model it was given; return what `keras.models.load_model(path)` reads "
                "back, so you know the file holds the model.", lambda model, path: model,
                detect=lambda out, args: out is args[0]),
        Mistake("the function returns None: it saves the model but does not return the reloaded one.",
                lambda model, path: model.save(path), detect=lambda out, args: out is None),
        Mistake("nothing was saved at `path`: a copy made in memory (`clone_model`) has new random weights and no "
                "file behind it.", _clone_unsaved,
                detect=lambda out, args: out is not None and out is not args[0] and not Path(args[1]).is_file()),
    ),
)

# ------------------------------------------------------------------------------------------------ q5


def _momentum_fits(ctx: dict[str, Any]):
    return read_fit(ctx["momentum_09"], "momentum_09"), read_fit(ctx["momentum_099"], "momentum_099")


def _val_gap(ctx: dict[str, Any], curve: str = "val_accuracy") -> float:
    fast, slow = _momentum_fits(ctx)
    return (fast.last(curve) - slow.last(curve)) * 100


def _momenta(model: Any) -> set[float]:
    try:
        return {round(float(layer.momentum), 4) for layer in model.layers
                if type(layer).__name__ == "BatchNormalization"}
    except Exception:  # noqa: BLE001
        return set()


def _diagnose_momentum(answer: Any, ctx: dict[str, Any]) -> Finding | None:
    fast, slow = _momentum_fits(ctx)
    got = _momenta(fast.model), _momenta(slow.model)
    if got == ({0.99}, {0.9}):
        return Finding("swapped", "`momentum_09`'s model has batch norm momentum 0.99 and `momentum_099`'s 0.9")
    if got != ({0.9}, {0.99}):
        return Finding("momentum", f"the batch norm momenta are {sorted(got[0])} in `momentum_09`'s model and "
                                   f"{sorted(got[1])} in `momentum_099`'s")
    epochs = int(ctx["epochs"])
    if fast.epochs != epochs or slow.epochs != epochs or fast.steps != slow.steps:
        return Finding("not_same", f"the runs took {fast.epochs} and {slow.epochs} epoch(s) of {fast.steps} and "
                                   f"{slow.steps} steps; the task asks for {epochs} epoch(s) each, on the same images")
    for fit in (fast, slow):
        if not scores_match(fit, *ctx["validation"]):
            return Finding("other_validation", f"`{fit.name}`'s model does not reproduce its last `val_accuracy` on "
                                               f"the first `n_check` validation images")
    if is_number(answer) and abs(float(answer) - _val_gap(ctx, "accuracy")) < 0.01 and abs(
            _val_gap(ctx) - _val_gap(ctx, "accuracy")) >= 0.01:
        return Finding("train", f"{float(answer):+.2f} is the difference in training accuracy")
    return number_finding(answer, _val_gap(ctx), "points", what="the 0.9 model minus the 0.99 model")


def _q5_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    train = _val_gap(ctx, "accuracy")
    text = (f"both runs trained alike, their models' batch norm at 0.9 and 0.99. Momentum 0.9 minus momentum 0.99: "
            f"{answer:+.2f} points of validation accuracy, {train:+.2f} points of training accuracy. ")
    if abs(train) < 0.005:
        text += ("Training accuracy is the same: while training, batch norm normalises with the batch's own "
                 "statistics, so the momentum changes nothing there. ")
    if answer > abs(train) + 1:
        text += ("Validation is where the momentum shows: the prediction uses the moving statistics, and at 0.99 "
                 "they still hold much of their starting values (mean 0, variance 1) after so few steps.")
    elif answer < -(abs(train) + 1):
        text += ("Here the 0.99 model scored higher on validation, by more than the training accuracies differ: "
                 "after these steps its slower statistics did not hold it back, and how far the two runs differ "
                 "on their own, from one seed each, this run cannot tell.")
    else:
        text += ("Here the two differ on validation by no more than a point beyond their training difference: the "
                 "slower moving statistics had caught up within this run's steps, as they do the longer training "
                 "lasts.")
    return text


def _bn_model(momentum: float, seed: int):
    """A small untrained model with batch norm (the tests')."""
    import keras

    keras.utils.set_random_seed(seed)
    init = keras.initializers.RandomNormal(stddev=1.0, seed=seed)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(16),
                              keras.layers.BatchNormalization(momentum=momentum), keras.layers.ReLU(),
                              keras.layers.Dense(10, activation="softmax", bias_initializer=init)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@lru_cache(maxsize=1)
def _demo_momentum() -> dict[str, Any]:
    x = np.random.default_rng(7).random((50, 28, 28, 1)).astype("float32")
    fast, slow = _bn_model(0.9, 1), _bn_model(0.99, 2)
    y = np.asarray(fast(x, training=False)).argmax(axis=1)
    y[:15] = (y[:15] + 1) % 10
    return {"fast": fast, "slow": slow, "x": x, "y": y}


def _momentum_history(model: str, train_accuracy: float, epochs: int = 2) -> Callable:
    def make(ctx: dict[str, Any]) -> Any:
        demo = _demo_momentum()
        return fake_history(demo[model], (demo["x"], demo["y"]), epochs=epochs, train_accuracy=train_accuracy)

    return make


def _demo_q5() -> dict[str, Any]:
    demo = _demo_momentum()
    return {"momentum_09": _momentum_history("fast", 0.62)({}), "momentum_099": _momentum_history("slow", 0.60)({}),
            "epochs": 2, "validation": (demo["x"], demo["y"])}


def _q5_attempt(**histories: Callable) -> Callable[[dict[str, Any]], Attempt]:
    def make(ctx: dict[str, Any]) -> Attempt:
        changed = {name: build(ctx) for name, build in histories.items()}
        return Attempt(_val_gap({**ctx, **changed}), changed)

    return make


q5 = Build(
    key="q5", title="Batch norm's momentum in a short run", kind="experiment", minutes=12, difficulty="medium",
    task="Train the strong CNN twice for the same few steps, with batch norm's momentum 0.9 and with Keras's default "
         "0.99, and report the validation accuracy at the last epoch of the 0.9 model minus that of the 0.99 "
         "model, in points; the check reads both histories and their models.",
    hints=("Build both models from `build_strong_cnn(bn_momentum=...)` after `keras.utils.set_random_seed(run.seed)`, "
           "compile them the same way and fit them on the same images with `validation_data`.",
           "`h9 = model_09.fit(...)`, `h99 = model_099.fit(...)`; the answer is "
           "`(h9.history['val_accuracy'][-1] - h99.history['val_accuracy'][-1]) * 100`."),
    context=("momentum_09", "momentum_099", "epochs", "validation"), demo_context=_demo_q5,
    solution_example=lambda ctx: _val_gap(ctx), diagnose=_diagnose_momentum, reveal=_q5_reveal,
    mistakes=(
        Mistake("the sign is reversed: the task asks for the 0.9 model minus the 0.99 model. Subtract in the order "
                "the task gives.", lambda ctx: -_val_gap(ctx), detect=Found("sign")),
        Mistake("that is a fraction of 1; the task asks for accuracy points (multiply by 100: 0.012 is 1.2 points).",
                lambda ctx: _val_gap(ctx) / 100, detect=Found("fraction_for_points")),
        Mistake("that is the difference in training accuracy; the task asks for validation accuracy, where the "
                "moving statistics are used.", lambda ctx: _val_gap(ctx, "accuracy"), detect=Found("train")),
        Mistake("the two histories are swapped: `momentum_09` is the run with `bn_momentum=0.9`.",
                _q5_attempt(momentum_09=_momentum_history("slow", 0.60), momentum_099=_momentum_history("fast", 0.62)),
                detect=Found("swapped")),
        Mistake("both runs must differ in batch norm's momentum only: `build_strong_cnn(bn_momentum=0.9)` and "
                "`build_strong_cnn(bn_momentum=0.99)`.", _q5_attempt(momentum_099=_momentum_history("fast", 0.62)),
                detect=Found("momentum")),
        Mistake("train both runs for the same epochs on the same images, as the task gives.",
                _q5_attempt(momentum_099=_momentum_history("slow", 0.60, epochs=3)), detect=Found("not_same")),
    ),
)

# ------------------------------------------------------------------------------------------------ q6


def _pack_family(filters=(32, 64), dense=256, dropout=(0.0, 0.0, 0.0), momentum=0.9, dense_bias=False,
                 paddings=("valid", "same"), fixed=False, use_dropout=True):
    """The pack CNN family, right by default; the arguments make the mistakes' wrong versions."""
    import keras

    L = keras.layers
    if fixed:
        filters, dense = (32, 64), 256
    rates = dropout if use_dropout else (0.0, 0.0, 0.0)
    layers = [keras.Input((28, 28, 1))]
    for width, padding, rate in zip(filters, paddings, rates[:2]):
        layers += [L.Conv2D(width, 3, padding=padding, activation="relu", kernel_initializer="he_normal"),
                   L.Conv2D(width, 3, padding=padding, activation="relu", kernel_initializer="he_normal"),
                   L.MaxPooling2D(2), L.BatchNormalization(momentum=momentum), L.Dropout(rate)]
    layers += [L.Flatten(), L.Dense(dense, use_bias=dense_bias), L.BatchNormalization(momentum=momentum), L.ReLU(),
               L.Dropout(rates[2]), L.Dense(10, activation="softmax")]
    return keras.Sequential(layers)


def _registry_family(filters, dense, dropout):
    from fmnist_helpers.models.registry import pack_cnn

    return pack_cnn(10, filters=tuple(filters), dense=dense, block_dropout=tuple(dropout[:2]), head_dropout=dropout[2])


def _kept(model: Any) -> list:
    """The model's layers, without an InputLayer and without dropout that drops nothing (rate 0)."""
    try:
        layers = model.layers
    except Exception:  # noqa: BLE001 - not a model
        return []
    return [layer for layer in layers if type(layer).__name__ != "InputLayer"
            and not (type(layer).__name__ == "Dropout" and float(getattr(layer, "rate", 1.0)) == 0.0)]


def _of(model: Any, name: str) -> list:
    return [layer for layer in _kept(model) if type(layer).__name__ == name]


def _family_shapes(model: Any) -> list | None:
    try:
        return [tuple(layer.output.shape[1:]) for layer in _kept(model)]
    except Exception:  # noqa: BLE001
        return None


def _hidden_dense_bias(model: Any) -> bool:
    dense = _of(model, "Dense")
    return len(dense) >= 2 and bool(dense[0].use_bias)


def _family_problem(out: Any, args: tuple) -> str | None:
    import keras

    if not isinstance(out, keras.Model):
        return f"return the Keras model itself, e.g. `return keras.Sequential([...])`; got {type(out).__name__}."
    reference = _registry_family(*args)
    mine, theirs = [type(la).__name__ for la in _kept(out)], [type(la).__name__ for la in _kept(reference)]
    if mine != theirs:
        return f"the layers in order (dropout of rate 0 left out) should be {theirs}; yours are {mine}."
    shapes = _family_shapes(out)
    if shapes is None:
        return "Keras does not know the input shape: start the list with `keras.Input((28, 28, 1))`."
    if shapes != _family_shapes(reference):
        return f"the output shapes should be {_family_shapes(reference)}; yours are {shapes}."
    if any(not math.isclose(float(b.momentum), 0.9) for b in _of(out, "BatchNormalization")):
        return "every BatchNormalization should have momentum=0.9."
    rates, want = [float(d.rate) for d in _of(out, "Dropout")], [float(d.rate) for d in _of(reference, "Dropout")]
    if not np.allclose(rates, want):
        return f"the dropout rates should be {want}; yours are {rates}."
    if out.count_params() != reference.count_params():
        return f"the model has {out.count_params():,} parameters; it should have {reference.count_params():,}."
    return None


def _family_cases() -> list[tuple]:
    return [((32, 64), 256, (0.0, 0.0, 0.0)), ((48, 96), 256, (0.05, 0.1, 0.15)), ((16, 32), 128, (0.1, 0.2, 0.3))]


def _conv_paddings(model: Any) -> list:
    return [layer.padding for layer in _of(model, "Conv2D")]


q6 = Function(
    key="q6", title="The pack CNN's family", kind="code", minutes=20, difficulty="hard",
    task="Write `build_pack_cnn(filters=(32, 64), dense=256, dropout=(0.0, 0.0, 0.0))`: the strong CNN with `filters` "
         "convolutions in its two blocks, `dense` units in its hidden dense layer and the three dropout rates after "
         "block 1, block 2 and the dense layer; the defaults give `pack_cnn_fast`, other arguments `pack_cnn` and "
         "`pack_cnn_wide`.",
    hints=("Start from the strong CNN above and replace each number it fixes by an argument: 32 and 64 by "
           "`filters[0]` and `filters[1]`, 256 by `dense`, each `Dropout(0.0)` by its rate.",
           "A loop over `zip(filters, ('valid', 'same'), dropout[:2])` builds the two blocks, each `[Conv2D, Conv2D, "
           "MaxPooling2D(2), BatchNormalization(momentum=0.9), Dropout(rate)]`; then `Flatten`, `Dense(dense, "
           "use_bias=False)`, batch norm, `ReLU`, `Dropout(dropout[2])` and the softmax output."),
    name="build_pack_cnn", cases=_family_cases, verify=_family_problem, solution_example=_pack_family,
    time_limit=60.0,
    mistakes=(
        Mistake("batch norm keeps Keras's default momentum, 0.99; the pack uses 0.9, so the moving statistics keep up "
                "in a short run.", lambda *args: _pack_family(*args, momentum=0.99),
                detect=lambda out, args: any(not math.isclose(float(b.momentum), 0.9)
                                             for b in _of(out, "BatchNormalization"))),
        Mistake("the hidden dense layer has a bias; the batch norm after it adds its own shift (beta), so the pack "
                "leaves the bias out: `Dense(dense, use_bias=False)`.",
                lambda *args: _pack_family(*args, dense_bias=True),
                detect=lambda out, args: _hidden_dense_bias(out)),
        Mistake("the paddings are swapped or the same in both blocks: the first block uses 'valid' (28 -> 26 -> 24), "
                "the second 'same' (12 stays 12).", lambda *args: _pack_family(*args, paddings=("same", "same")),
                detect=lambda out, args: len(_conv_paddings(out)) == 4
                and _conv_paddings(out) != ["valid", "valid", "same", "same"]),
        Mistake("the widths are fixed at 32, 64 and 256: use the `filters` and `dense` arguments.",
                lambda *args: _pack_family(*args, fixed=True),
                detect=lambda out, args: (tuple(args[0]) != (32, 64) or args[1] != 256)
                and [la.filters for la in _of(out, "Conv2D")][:1] == [32] and bool(_of(out, "Dense"))
                and _of(out, "Dense")[0].units == 256),
        Mistake("the dropout rates are not used: each block and the dense layer end in `Dropout` at their rate.",
                lambda *args: _pack_family(*args, use_dropout=False),
                detect=lambda out, args: any(args[2]) and not _of(out, "Dropout")),
    ),
)



def _never_raises(check: Any, fallback: Any) -> Any:
    """`check` that answers `fallback` (a value, or a function of the error) instead of raising."""
    def guarded(*args: Any) -> Any:
        try:
            return check(*args)
        except Exception as err:  # noqa: BLE001 - a student's object may break any inspection
            return fallback(err) if callable(fallback) else fallback

    return guarded


def _guarded(exercise: Any) -> Any:
    """The exercise with its function checks and mistake detectors made unable to raise on a strange answer."""
    mistakes = tuple(replace(m, detect=_never_raises(m.detect, False)) if m.detect else m for m in exercise.mistakes)
    if isinstance(exercise, Function) and exercise.verify is not None:
        unreadable = (lambda err, name=exercise.name: f"the check could not inspect what `{name}` returned "
                                                     f"({type(err).__name__}: {str(err)[:120]}).")
        return replace(exercise, mistakes=mistakes, verify=_never_raises(exercise.verify, unreadable))
    return replace(exercise, mistakes=mistakes)


q1, q2, q3, q4, q6 = (_guarded(e) for e in (q1, q2, q3, q4, q6))  # Build checks never raise already
# ------------------------------------------------------------------------------------------------ q7

_VAL = (0.50, 0.70, 0.70, 0.60, 0.65)  # validation accuracy per epoch: the best at epoch 2, tied at 3
_TRAIN = (0.50, 0.60, 0.70, 0.80, 0.90)  # training accuracy keeps rising: its best is the last epoch


def _best_weights_class():
    """The solution's callback class (defined here so that Keras is imported only when it is used)."""
    import keras

    class BestWeights(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.best, self.best_epoch, self.best_weights = -np.inf, None, None

        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get("val_accuracy")
            if value is not None and value > self.best:
                self.best, self.best_epoch, self.best_weights = value, epoch + 1, self.model.get_weights()

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    return BestWeights


def _variant(**wrong: Any):
    """A wrong BestWeights: `monitor` another log, `ties` kept late, `copy` False (references kept), `restore`
    False, `from_zero` epochs, `lowest` kept."""
    import keras

    class Wrong(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.best = np.inf if wrong.get("lowest") else -np.inf
            self.best_epoch, self.best_weights = None, None

        def on_epoch_end(self, epoch, logs=None):
            value = logs[wrong.get("monitor", "val_accuracy")]
            better = (value < self.best if wrong.get("lowest") else
                      value >= self.best if wrong.get("ties") else value > self.best)
            if better:
                self.best, self.best_epoch = value, epoch + (0 if wrong.get("from_zero") else 1)
                self.best_weights = self.model.weights if wrong.get("reference") else self.model.get_weights()

        def on_train_end(self, logs=None):
            if wrong.get("restore", True) and self.best_weights is not None:
                self.model.set_weights([np.asarray(w) for w in self.best_weights])

    return Wrong


def _harness_model():
    import keras

    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])


def _diagnose_callback(answer: Any, ctx: dict[str, Any]) -> Finding | None:
    import keras

    try:
        callback = answer() if isinstance(answer, type) else answer
    except TypeError as err:
        return Finding("form", f"`BestWeights()` (no arguments) raised TypeError: {err}")
    if not isinstance(callback, keras.callbacks.Callback):
        return Finding("form", f"pass a `keras.callbacks.Callback` subclass, `BestWeights`; got {_short(answer)}")
    model = _harness_model()
    callback.set_model(model)
    callback.on_train_begin({})
    shapes = [np.shape(w) for w in model.get_weights()]
    for epoch, (val, train) in enumerate(zip(_VAL, _TRAIN)):
        model.set_weights([np.full(shape, epoch + 1.0, dtype="float32") for shape in shapes])  # epoch e: all e+1
        callback.on_epoch_end(epoch, {"loss": 1.0 - train, "accuracy": train, "val_loss": 1.0 - val,
                                      "val_accuracy": val})
    callback.on_train_end({})
    kept = {float(v) for w in model.get_weights() for v in np.ravel(w)}
    kept_epoch = int(next(iter(kept))) if len(kept) == 1 else None
    best_epoch = getattr(callback, "best_epoch", None)
    if kept_epoch == 2 and best_epoch == 2:
        return None
    stored = getattr(callback, "best_weights", None)
    last_best = getattr(callback, "best", None)
    if is_number(last_best) and math.isclose(float(last_best), _VAL[-1]) and _VAL[-1] != max(_VAL) \
            and kept_epoch != 2:
        return Finding("previous", f"`best` ended as the last epoch's validation accuracy, {_VAL[-1]}, not the "
                                   f"highest, {max(_VAL)}: it is set every epoch, outside the `if`, so each epoch is "
                                   f"compared with the one before it rather than with the best so far (it kept "
                                   f"epoch {kept_epoch})")
    if kept_epoch == 5:
        if isinstance(stored, (list, tuple)) and stored and all(isinstance(w, keras.Variable) for w in stored):
            return Finding("reference", "`best_weights` holds the model's variables themselves, which went on "
                                        "changing; at the end they hold the last epoch's values")
        if best_epoch == 5:
            return Finding("train_metric", "it kept epoch 5, the best by training accuracy")
        return Finding("no_restore", "after training the model holds the last epoch's weights")
    if kept_epoch == 3:
        return Finding("ties_later", "it kept epoch 3, whose validation accuracy only ties epoch 2's")
    if kept_epoch == 1:
        return Finding("lowest", "it kept epoch 1, the lowest validation accuracy")
    if kept_epoch == 2 and best_epoch == 1:
        return Finding("from_zero", "the weights are epoch 2's, but `best_epoch` says 1")
    if kept_epoch == 2:
        return Finding("best_epoch", f"the weights are epoch 2's, but `best_epoch` is {_short(best_epoch)}")
    return Finding("weights", f"after training the model's weights are {sorted(kept)[:4]}...; in the check's "
                              f"run epoch e's weights are all e, and epoch 2 is the best")


q7 = Build(
    key="q7", title="A callback of your own", kind="code", minutes=25, difficulty="hard",
    task="Write a Keras callback class `BestWeights`: after every epoch it keeps a copy of the weights when the "
         "validation accuracy beats every earlier epoch's (the earliest wins a tie) and records that epoch, counted "
         "from 1, in `best_epoch`; at the end of training it puts the kept weights back.",
    hints=("Subclass `keras.callbacks.Callback` and fill three methods: `on_train_begin(self, logs=None)` to reset, "
           "`on_epoch_end(self, epoch, logs=None)`, where `logs['val_accuracy']` is this epoch's score and "
           "`self.model` the model, and `on_train_end(self, logs=None)`.",
           "Keep `self.model.get_weights()`, a list of NumPy copies; `self.model.weights` would be the variables "
           "themselves, which go on changing. Compare with `>` so that a tie keeps the earlier epoch; `epoch` "
           "counts from 0. At the end, `self.model.set_weights(self.best_weights)`."),
    solution_example=lambda ctx: _best_weights_class(), diagnose=_diagnose_callback, time_limit=30.0,
    reveal=lambda a, ctx: ("the check ran your callback through five epochs whose validation accuracies were 0.50, "
                           "0.70, 0.70, 0.60 and 0.65, with epoch e's weights all equal to e: it kept epoch 2's weights "
                           "and said so. That is what `EarlyStopping(restore_best_weights=True)` does on its own, "
                           "without stopping."),
    mistakes=(
        Mistake("the kept weights are references to the model's variables (`self.model.weights`), which training "
                "goes on changing: keep copies, `self.model.get_weights()`.",
                lambda ctx: _variant(reference=True), detect=Found("reference")),
        Mistake("the callback watches the training accuracy, whose best is simply the last epoch: watch "
                "`logs['val_accuracy']`.", lambda ctx: _variant(monitor="accuracy"), detect=Found("train_metric")),
        Mistake("the kept weights are never put back: `on_train_end` should call "
                "`self.model.set_weights(self.best_weights)`.", lambda ctx: _variant(restore=False),
                detect=Found("no_restore")),
        Mistake("a tie replaced the earlier epoch: compare with `>`, not `>=`, so that the earliest best epoch is "
                "kept.", lambda ctx: _variant(ties=True), detect=Found("ties_later")),
        Mistake("`best_epoch` is counted from 0; Keras passes `epoch` from 0, and the task counts from 1: store "
                "`epoch + 1`.", lambda ctx: _variant(from_zero=True), detect=Found("from_zero")),
        Mistake("that keeps the lowest validation accuracy; the best epoch has the highest.",
                lambda ctx: _variant(lowest=True), detect=Found("lowest")),
    ),
)

LADDER = {"q1": WARM_UP, "q2": CORE, "q3": CORE, "q4": CORE, "q5": CORE, "q6": STRETCH, "q7": STRETCH}

EXERCISES = [q1, q2, q3, q4, q5, q6, q7]
