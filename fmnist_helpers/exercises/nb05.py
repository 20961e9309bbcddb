"""Exercises of notebook 05 (tuning hyperparameters): a hypermodel, the size of a grid, the noise of a validation
score, the best epoch, and a small random search.

Usage:
    ex = exercises.for_notebook("05_tuning"); ex.q2.check(36)
"""
from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np

from .common import need_number, percent_for_fraction, seeded_rng
from .ladder import CORE, STRETCH, WARM_UP
from .core import Answer, Function, Mistake

TITLE = "Tuning hyperparameters"

# ------------------------------------------------------------------------------------------------ q1

_SPACE = {  # name -> (kind, min, max, step, sampling)
    "units": ("Int", 32, 256, 32, "linear"),
    "dropout": ("Float", 0.0, 0.5, None, "linear"),
    "learning_rate": ("Float", 1e-4, 1e-2, None, "log"),
}


def _build_mlp(hp, *, sampling="log", compile_it=True, last_units=10, last_activation="softmax",
               loss="sparse_categorical_crossentropy", pass_rate=True, output_layer=True):
    """The reference hypermodel, with switches for the wrong versions below."""
    import keras

    units = hp.Int("units", 32, 256, step=32)
    dropout = hp.Float("dropout", 0.0, 0.5)
    rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling=sampling)
    layers = [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(units, activation="relu"),
              keras.layers.Dropout(dropout)]
    if output_layer:
        layers.append(keras.layers.Dense(last_units, activation=last_activation))
    model = keras.Sequential(layers)
    if compile_it:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=rate) if pass_rate else "adam", loss=loss,
                      metrics=["accuracy"])
    return model


def build_hypermodel(hp):
    """The reference solution of exercise 1."""
    return _build_mlp(hp)


def _hp_cases() -> list[tuple]:
    import keras_tuner

    cases = []
    for values in [{}, {"units": 96, "dropout": 0.25, "learning_rate": 0.003},
                   {"units": 224, "dropout": 0.4, "learning_rate": 0.0005}]:
        hp = keras_tuner.HyperParameters()
        hp.values.update(values)  # a tuner sets the values of a trial this way before building
        cases.append((hp,))
    return cases


def _registered(hp, name: str):
    try:
        found = [p for p in hp.space if p.name == name]
    except Exception:  # noqa: BLE001 - not a HyperParameters object
        return None
    return found[-1] if found else None


def _compile_config(model) -> dict[str, Any]:
    try:
        return model.get_compile_config() or {}
    except Exception:  # noqa: BLE001 - an uncompiled or odd model
        return {}


def _is_model(output: Any) -> bool:
    try:
        import keras

        return isinstance(output, keras.Model)
    except Exception:  # noqa: BLE001
        return False


def _outputs(model) -> np.ndarray | None:
    try:
        x = seeded_rng(5).random((3, 28, 28, 1)).astype("float32")
        return np.asarray(model(x, training=False), dtype=float)
    except Exception:  # noqa: BLE001 - a model for another input shape
        return None


def _text(value: Any) -> str:
    return repr(value).lower().replace("_", "")


def _optimizer_rate(model) -> float | None:
    try:
        import keras

        return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    except Exception:  # noqa: BLE001
        return None


def _detect_linear(output: Any, args: tuple) -> bool:
    p = _registered(args[0], "learning_rate")
    return p is not None and getattr(p, "sampling", None) == "linear"


def _detect_uncompiled(output: Any, args: tuple) -> bool:
    return _is_model(output) and not getattr(output, "compiled", False)


def _detect_width(output: Any, args: tuple) -> bool:
    out = _outputs(output) if _is_model(output) else None
    return out is not None and out.ndim == 2 and out.shape[1] != 10


def _detect_no_softmax(output: Any, args: tuple) -> bool:
    out = _outputs(output) if _is_model(output) else None
    return (out is not None and out.shape == (3, 10)
            and not (np.all(out >= 0) and np.allclose(out.sum(axis=1), 1, atol=1e-3)))


def _detect_categorical(output: Any, args: tuple) -> bool:
    loss = _text(_compile_config(output).get("loss")) if _is_model(output) else ""
    return "categoricalcrossentropy" in loss and "sparse" not in loss


def _detect_default_rate(output: Any, args: tuple) -> bool:
    if not (_is_model(output) and getattr(output, "compiled", False)):
        return False
    rate = _optimizer_rate(output)
    try:
        wanted = float(args[0].get("learning_rate"))
    except Exception:  # noqa: BLE001 - not registered
        return False
    return rate is not None and not math.isclose(rate, wanted, rel_tol=1e-4)


def _hp_problem(output: Any, args: tuple) -> str | None:
    try:
        return _hp_problem_unsafe(output, args)
    except Exception as err:  # noqa: BLE001 - a check never raises
        return f"the check could not inspect your model ({type(err).__name__}: {str(err)[:120]})."


def _hp_problem_unsafe(output: Any, args: tuple) -> str | None:
    hp = args[0]
    if not _is_model(output):
        return f"return the compiled Keras model; got {type(output).__name__}."
    for name, (kind, low, high, step, sampling) in _SPACE.items():
        p = _registered(hp, name)
        if p is None:
            names = [q.name for q in hp.space]
            return f"no hyperparameter is named {name!r}; yours are {names}. Use the names the task gives."
        if type(p).__name__ != kind:
            return f"{name!r} should be `hp.{kind}`, not `hp.{type(p).__name__}`."
        got = (p.min_value, p.max_value)
        if not (math.isclose(got[0], low) and math.isclose(got[1], high)):
            return f"{name!r} should range from {low:g} to {high:g}; yours ranges from {got[0]:g} to {got[1]:g}."
        if step is not None and getattr(p, "step", None) != step:
            return f"{name!r} should move in steps of {step}; yours has step {getattr(p, 'step', None)}."
        if getattr(p, "sampling", "linear") != sampling:
            return f"{name!r} should be sampled on a {sampling} scale, not {p.sampling}."
    if not getattr(output, "compiled", False):
        return "the model is not compiled."
    out = _outputs(output)
    if out is None:
        return "the model could not take a batch of images of shape (28, 28, 1); start it with keras.Input((28, 28, 1))."
    if out.ndim != 2 or out.shape[1] != 10:
        return f"a batch of 3 images gives outputs of shape {out.shape}; expected (3, 10)."
    if not (np.all(out >= 0) and np.allclose(out.sum(axis=1), 1, atol=1e-3)):
        return "the 10 outputs are not probabilities (they do not sum to 1)."
    config = _compile_config(output)
    loss, metrics = _text(config.get("loss")), _text(config.get("metrics"))
    if "sparsecategoricalcrossentropy" not in loss:
        return f"compile with loss='sparse_categorical_crossentropy'; yours is {config.get('loss')!r}."
    if "fromlogits': true" in loss:
        return "the model already ends with a softmax: leave from_logits at False."
    if "acc" not in metrics:
        return "compile with metrics=['accuracy'], so that the tuner can read val_accuracy."
    if _text(config.get("optimizer")).find("adam") < 0:
        return "the task asks for the Adam optimiser."
    values = hp.values
    rate = _optimizer_rate(output)
    if rate is None or not math.isclose(rate, values["learning_rate"], rel_tol=1e-4):
        return f"Adam's learning rate is {rate}, but hp gave {values['learning_rate']:g}."
    widths = [getattr(layer, "units", None) or getattr(layer, "filters", None) for layer in output.layers]
    if values["units"] not in widths:
        return f"no layer has the width hp gave, units={values['units']}; pass `hp.Int(...)` to a layer."
    rates = [float(layer.rate) for layer in output.layers if hasattr(layer, "rate")]
    if values["dropout"] > 0 and not any(math.isclose(r, values["dropout"], abs_tol=1e-6) for r in rates):
        return f"no Dropout layer has the rate hp gave, dropout={values['dropout']:g}."
    return None


q1 = Function(
    key="q1", title="A hypermodel", kind="code", minutes=15, difficulty="hard",
    task="Write `build_hypermodel(hp)`: a compiled Keras model for (28, 28, 1) images whose width, dropout and Adam "
         "learning rate are Keras Tuner hyperparameters named 'units', 'dropout' and 'learning_rate'.",
    hints=("Call `hp.Int(...)` and `hp.Float(...)` where you would write a number: "
           "`keras.layers.Dense(hp.Int('units', 32, 256, step=32), activation='relu')`.",
           "A learning rate spans two powers of ten, so sample it with `sampling='log'`; end with "
           "`Dense(10, activation='softmax')` and call `model.compile(...)` before `return model`."),
    solution_code=("def build_hypermodel(hp):\n"
                   "    model = keras.Sequential([\n"
                   "        keras.Input((28, 28, 1)),\n"
                   "        keras.layers.Flatten(),\n"
                   "        keras.layers.Dense(hp.Int('units', 32, 256, step=32), activation='relu'),\n"
                   "        keras.layers.Dropout(hp.Float('dropout', 0.0, 0.5)),\n"
                   "        keras.layers.Dense(10, activation='softmax'),\n"
                   "    ])\n"
                   "    rate = hp.Float('learning_rate', 1e-4, 1e-2, sampling='log')\n"
                   "    model.compile(optimizer=keras.optimizers.Adam(learning_rate=rate),\n"
                   "                  loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
                   "    return model"),
    name="build_hypermodel", cases=_hp_cases, verify=_hp_problem, describe=lambda args: "hp",
    solution_example=build_hypermodel, time_limit=30.0,
    mistakes=(
        Mistake("the learning rate is sampled on a linear scale: then nine trials in ten land above 1e-3. Add "
                "`sampling='log'` so that each power of ten gets the same share.",
                lambda hp: _build_mlp(hp, sampling="linear"), detect=_detect_linear),
        Mistake("the model is not compiled: a tuner can only train a model that has been compiled with its "
                "optimiser, loss and metrics.", lambda hp: _build_mlp(hp, compile_it=False),
                detect=_detect_uncompiled),
        Mistake("the model must end with 10 outputs, one per class: add `keras.layers.Dense(10, "
                "activation='softmax')` as the last layer.", lambda hp: _build_mlp(hp, output_layer=False),
                detect=_detect_width),
        Mistake("the last layer has no softmax, so its outputs are not probabilities: use "
                "`activation='softmax'` on the 10-unit layer.", lambda hp: _build_mlp(hp, last_activation=None),
                detect=_detect_no_softmax),
        Mistake("the labels are whole numbers 0-9, so the loss is 'sparse_categorical_crossentropy'; "
                "'categorical_crossentropy' expects one-hot labels.",
                lambda hp: _build_mlp(hp, loss="categorical_crossentropy"), detect=_detect_categorical),
        Mistake("Adam does not use the learning rate you registered (`optimizer='adam'` keeps 0.001): pass "
                "`keras.optimizers.Adam(learning_rate=...)`.", lambda hp: _build_mlp(hp, pass_rate=False),
                detect=_detect_default_rate),
    ),
)

# ------------------------------------------------------------------------------------------------ q2

_GRID = 3 * 3 * 2 * 2

q2 = Answer(
    key="q2", title="The size of a grid", kind="compute", minutes=3, difficulty="easy",
    task="How many models does a full grid search train over 3 filter counts, 3 dropout rates, 2 learning rates "
         "and 2 batch sizes, once each?",
    hints=("A grid tries every combination: each filter count with each dropout rate, and so on.",
           "Multiply the number of values of each hyperparameter: 3 x 3 x 2 x 2."),
    solution_code="answer_q2 = 3 * 3 * 2 * 2   # every combination: the counts multiply",
    expected=_GRID, validate=need_number, solution_example=_GRID,
    on_correct=lambda a, ctx: ("36 models. One more hyperparameter with 3 values makes it 108: a grid's cost "
                               "multiplies with every hyperparameter, which is why a space of many hyperparameters is "
                               "searched at random (or by Hyperband) rather than on a grid."),
    mistakes=(
        Mistake("that adds the numbers of values; a grid tries every combination, so they multiply.", 3 + 3 + 2 + 2),
        Mistake("that gives every hyperparameter 3 values; the learning rate and the batch size have only 2.", 3 ** 4),
        Mistake("the two batch sizes are a hyperparameter too: each one trains its own models.", 3 * 3 * 2),
    ),
)

# ------------------------------------------------------------------------------------------------ q3

_SE_POINTS = 100 * math.sqrt(0.9 * 0.1 / 12_000)

q3 = Answer(
    key="q3", title="How noisy is a validation score?", kind="compute", minutes=5, difficulty="medium",
    task="Give one standard error, in accuracy points, of an accuracy of 0.90 measured on 12,000 validation images.",
    hints=("Each image is right or wrong, a coin that comes up right with probability p = 0.9: the standard error "
           "of the share right among n images is sqrt(p * (1 - p) / n).",
           "Compute `100 * np.sqrt(0.9 * 0.1 / 12_000)`: the 100 turns a fraction into points."),
    solution_code="answer_q3 = 100 * np.sqrt(0.9 * 0.1 / 12_000)   # about 0.27 points",
    expected=_SE_POINTS, validate=need_number, solution_example=_SE_POINTS,
    same=lambda a, b: abs(a - b) <= 0.02 * abs(b),
    on_correct=lambda a, ctx: ("about 0.27 points. Two trials 0.2 points apart on these 12,000 images are within "
                               "the noise of the split; only gaps of a point or so are evidence that one setting "
                               "is better."),
    mistakes=(
        Mistake("that is the variance, p(1 - p) / n; the standard error is its square root.",
                100 * 0.9 * 0.1 / 12_000),
        Mistake("that uses the 10,000 test images; the score was measured on 12,000 validation images.",
                100 * math.sqrt(0.9 * 0.1 / 10_000)),
        Mistake("that is a fraction of 1; the task asks for accuracy points (multiply by 100).",
                math.sqrt(0.9 * 0.1 / 12_000)),
    ),
)

# ------------------------------------------------------------------------------------------------ q4

_CURVES = ("loss", "accuracy", "val_loss", "val_accuracy")


def _curves(history: Any) -> dict[str, list[float]] | None:
    """The per-epoch lists of a Keras `fit` history: its `.history` dictionary, or the History object itself."""
    history = getattr(history, "history", history)
    if not isinstance(history, dict) or not set(_CURVES) <= set(history):
        return None
    try:
        curves = {name: [float(v) for v in history[name]] for name in _CURVES}
    except (TypeError, ValueError):
        return None
    return curves if curves["val_accuracy"] and len({len(v) for v in curves.values()}) == 1 else None


def _best_epoch(ctx: dict[str, Any]) -> int:
    return int(np.argmax(_curves(ctx["history"])["val_accuracy"])) + 1


def _epoch_of_min(ctx: dict[str, Any], name: str) -> int:
    return int(np.argmin(_curves(ctx["history"])[name])) + 1


def _history_problem(answer: Any, ctx: dict[str, Any]) -> str | None:
    if _curves(ctx["history"]) is None:
        return ("pass the dictionary `fit` returned for the retrained winner, `history=retrain.history` (lists "
                "'loss', 'accuracy', 'val_loss' and 'val_accuracy', one value per epoch).")
    return need_number(answer)


def _after_best(ctx: dict[str, Any], best: int, by_loss: int, train_min: int) -> str:
    """What the curves did after the best epoch, read from this history: validation loss rising while training
    loss falls is overfitting; validation loss still falling is not."""
    curves = _curves(ctx["history"])
    if train_min <= best:
        return ""
    text = f" The training loss kept falling until epoch {train_min}"
    rise = curves["val_loss"][-1] - curves["val_loss"][by_loss - 1]
    if rise > 0:  # the validation loss turned up before the end
        return text + (f", while the validation loss rose by {rise:.3f} after epoch {by_loss}: from there the "
                       f"model fitted its training images ever more closely while its predictions on new images "
                       f"grew worse by the loss, the first sign of overfitting, which only validation data shows.")
    drop = (curves["val_accuracy"][best - 1] - curves["val_accuracy"][-1]) * 100
    after = (f"validation accuracy ended {drop:.2f} points below its best" if drop > 0
             else "validation accuracy ended at its best")
    return text + (f", and so did the validation loss, lowest at the last epoch: in this run the model was still "
                   f"learning the task when training stopped, not yet overfitting ({after}; compare that with the "
                   f"standard error of exercise 3).")


def _epoch_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    best, by_loss = _best_epoch(ctx), _epoch_of_min(ctx, "val_loss")
    last, train_min = len(_curves(ctx["history"])["val_accuracy"]), _epoch_of_min(ctx, "loss")
    text = f"epoch {best} of {last}. "
    if best == by_loss:
        text += "The validation loss chose the same epoch."
    else:
        text += (f"The validation loss chose epoch {by_loss}: the two measures need not agree, since the loss also "
                 f"counts how confident the right and the wrong answers are. Decide which one you choose by before "
                 f"you look.")
    return text + _after_best(ctx, best, by_loss, train_min)


def _demo_q4() -> dict[str, Any]:
    # validation accuracy peaks at epoch 4, validation loss bottoms out at 2, training loss at 5; 6 epochs run
    return {"history": {"loss": [0.62, 0.41, 0.35, 0.31, 0.29, 0.30],
                        "accuracy": [0.78, 0.85, 0.87, 0.89, 0.90, 0.90],
                        "val_loss": [0.45, 0.36, 0.37, 0.39, 0.41, 0.43],
                        "val_accuracy": [0.84, 0.862, 0.868, 0.874, 0.871, 0.869]}}


q4 = Answer(
    key="q4", title="The best epoch", kind="compute", minutes=5, difficulty="easy",
    task="From the retrained winner's `fit` history, find the epoch (counted from 1) with the highest validation "
         "accuracy.",
    hints=("`retrain.history['val_accuracy']` is a list with one validation accuracy per epoch, the first epoch "
           "first.",
           "`np.argmax(...)` gives the position of the highest value, counted from 0 (the earliest one if two tie); "
           "add 1 to count epochs from 1."),
    solution_code="answer_q4 = int(np.argmax(retrain.history['val_accuracy'])) + 1",
    context=("history",), demo_context=_demo_q4, solution_example=_best_epoch,
    expected=_best_epoch, validate=_history_problem,
    on_correct=_epoch_reveal,
    mistakes=(
        Mistake("that is a position counted from 0; the epochs are counted from 1, so add 1 to what `np.argmax` "
                "gives.", lambda ctx: _best_epoch(ctx) - 1),
        Mistake("that is the last epoch trained; the task asks for the epoch with the highest validation accuracy.",
                lambda ctx: len(_curves(ctx["history"])["val_accuracy"])),
        Mistake("that is where the training loss is lowest; choose the epoch on the validation accuracy.",
                lambda ctx: _epoch_of_min(ctx, "loss")),
        Mistake("that is where the validation loss is lowest, the lesson's choice; the task asks for the highest "
                "validation accuracy.", lambda ctx: _epoch_of_min(ctx, "val_loss")),
    ),
)

# ------------------------------------------------------------------------------------------------ q5


def _scores(tuner) -> list[float]:
    return [float(t.score) for t in tuner.oracle.trials.values() if t.score is not None]


def _best_score(ctx: dict[str, Any]) -> float:
    try:
        return float(ctx["tuner"].oracle.get_best_trials(1)[0].score)
    except Exception:  # noqa: BLE001 - _tuner_problem reports it
        return float("nan")


def _worst_score(ctx: dict[str, Any]) -> float:
    try:
        return min(_scores(ctx["tuner"]))
    except Exception:  # noqa: BLE001
        return float("nan")


def _best_train_accuracy(ctx: dict[str, Any]) -> float:
    try:
        return float(ctx["tuner"].oracle.get_best_trials(1)[0].metrics.get_best_value("accuracy"))
    except Exception:  # noqa: BLE001
        return float("nan")


def _tuner_problem(answer: Any, ctx: dict[str, Any]) -> str | None:
    try:
        scores = _scores(ctx["tuner"])
    except Exception:  # noqa: BLE001 - not a tuner
        scores = []
    if not scores or not np.isfinite(_best_score(ctx)):
        return "pass your tuner after its search, `tuner=my_tuner`; this one holds no scored trials."
    return need_number(answer)


def _search_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    best, worst = _best_score(ctx), _worst_score(ctx)
    try:
        values = ctx["tuner"].oracle.get_best_trials(1)[0].hyperparameters.values
        setting = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
    except Exception:  # noqa: BLE001
        setting = "see `my_tuner.results_summary()`"
    return (f"the best of {len(_scores(ctx['tuner']))} trials scored {best:.4f} ({setting}); the worst "
            f"{worst:.4f}, {(best - worst) * 100:.1f} points lower. A screen this short ranks settings by how fast "
            f"they learn; compare the gap with the standard error of a validation score (exercise 3) before trusting it.")


class _Metrics:
    def __init__(self, best: dict[str, float]):
        self._best = best

    def get_best_value(self, name: str) -> float:
        return self._best[name]


class _Oracle:
    def __init__(self, trials: dict[str, Any]):
        self.trials = trials

    def get_best_trials(self, n: int = 1) -> list:
        return sorted(self.trials.values(), key=lambda t: t.score, reverse=True)[:n]


def _demo_q5() -> dict[str, Any]:
    def trial(score, train, units, dropout, rate):
        return SimpleNamespace(score=score, metrics=_Metrics({"accuracy": train}),
                               hyperparameters=SimpleNamespace(values={"units": units, "dropout": dropout,
                                                                       "learning_rate": rate}))

    trials = {"0": trial(0.8125, 0.8010, 64, 0.31, 0.00042), "1": trial(0.8540, 0.8702, 192, 0.12, 0.0021),
              "2": trial(0.7460, 0.7233, 32, 0.47, 0.00013)}
    return {"tuner": SimpleNamespace(oracle=_Oracle(trials))}


q5 = Answer(
    key="q5", title="A small random search", kind="experiment", minutes=15, difficulty="medium",
    task="Run a `keras_tuner.RandomSearch` of 3 trials with your `build_hypermodel` on the lesson's training and "
         "validation images and report the best validation accuracy it found, as a fraction.",
    hints=("`my_tuner = keras_tuner.RandomSearch(build_hypermodel, objective='val_accuracy', max_trials=3, "
           "seed=run.seed, directory=..., overwrite=True)`, then `my_tuner.search(x_fit, y_fit, "
           "validation_data=(x_val, y_val), epochs=...)` as you would call `fit`.",
           "After the search, `my_tuner.oracle.get_best_trials(1)[0].score` is the best trial's validation accuracy "
           "(`my_tuner.results_summary()` prints it too)."),
    solution_code=("keras.utils.set_random_seed(run.seed)\n"
                   "my_tuner = keras_tuner.RandomSearch(build_hypermodel, objective='val_accuracy', max_trials=3,\n"
                   "                                    seed=run.seed, directory=str(run.output_dir / 'searches'),\n"
                   "                                    project_name='exercise-q5', overwrite=True)\n"
                   "my_tuner.search(x_fit, y_fit, validation_data=(x_val, y_val),\n"
                   "                epochs=min(run.profile.max_epochs, 2), batch_size=128, verbose=0)\n"
                   "answer_q5 = my_tuner.oracle.get_best_trials(1)[0].score"),
    context=("tuner",), demo_context=_demo_q5, solution_example=_best_score,
    expected=_best_score, validate=_tuner_problem, same=lambda a, b: abs(a - b) <= 5e-4,
    on_correct=_search_reveal,
    mistakes=(
        Mistake("that is the worst trial's score; the search keeps the trial with the highest validation "
                "accuracy.", _worst_score),
        percent_for_fraction(_best_score),
        Mistake("that is the best trial's training accuracy; the tuner ranks trials by validation accuracy, "
                "`val_accuracy`.", _best_train_accuracy),
    ),
)

LADDER = {"q1": CORE, "q2": WARM_UP, "q3": WARM_UP, "q4": WARM_UP, "q5": CORE}

EXERCISES = [q1, q2, q3, q4, q5]
