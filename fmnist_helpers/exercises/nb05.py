"""Exercises of notebook 05 (tuning hyperparameters): a hypermodel, the size of a grid, the noise of a validation
score, the best epoch, and a small random search.

Usage:
    ex = exercises.for_notebook("05_tuning"); ex.q2.check(36)
"""
from __future__ import annotations

import math
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from .builds import (Attempt, Build, Finding, Found, accuracy_of, fake_history, layer_types, learning_rate,
                     number_finding, read_fit, run_student, scores_match)
from .common import is_number, need_int_tuple, need_number, percent_for_fraction, seeded_rng
from .core import Answer, Function, Mistake, _short
from .givens import IMAGE_COUNTS, Formula, Given, sqrt
from .ladder import CORE, STRETCH, WARM_UP

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
_Q2_FORMULA = Formula(Given("filters", 3, "{} filter counts", steps=True)
                      * Given("dropouts", 3, "{} dropout rates", steps=True)
                      * Given("rates", 2, "{} learning rates", steps=True)
                      * Given("batches", 2, "{} batch sizes", steps=True))

q2 = Answer(
    key="q2", title="The size of a grid", kind="compute", minutes=3, difficulty="easy",
    task="How many models does a full grid search train over 3 filter counts, 3 dropout rates, 2 learning rates "
         "and 2 batch sizes, once each?",
    hints=("A grid tries every combination: each filter count with each dropout rate, and so on.",
           "Multiply the number of values of each hyperparameter: 3 x 3 x 2 x 2."),
    expected=_GRID, validate=need_number, solution_example=_GRID, formula=_Q2_FORMULA,
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
_P = Given("p", 0.9, "p = {}", others={0.5: "the widest", 0.1: "the error rate"}, symbol="p",
           noun="the accuracy p")
_Q3_FORMULA = Formula(100 * sqrt(_P * (1 - _P) / Given("n", 12_000, "n = {:,} images", others=IMAGE_COUNTS, symbol="n",
                                                         noun="the number of images n"),
                                 "a standard error is the square root of p (1 - p) / n"))


def _other_n(answer: Any, context: dict[str, Any]) -> bool:
    """The standard error of 0.9 on another round number of images (48,000, 60,000, 1,000 ...)."""
    if not is_number(answer) or answer <= 0:
        return False
    n = 0.09 * 100 ** 2 / float(answer) ** 2  # within 0.2% of a round hundred: 1% took p = 0.5 for n = 4,300
    # a number of images a split of the course could hold: far beyond it, a round n is a coincidence of another
    # slip (the division by n taken out of the square root gives n = 144,000,000)
    counts = {*IMAGE_COUNTS, 1_000, 100, 359, 1_438}  # the course's splits: another round n is a coincidence
    return any(abs(n - c) < 0.002 * c for c in counts if c != 12_000)


q3 = Answer(
    key="q3", title="How noisy is a validation score?", kind="compute", minutes=5, difficulty="medium",
    task="Give one standard error, in accuracy points, of an accuracy of 0.90 measured on 12,000 validation images.",
    hints=("Each image is right or wrong, a coin that comes up right with probability p = 0.9: the standard error "
           "of the share right among n images is sqrt(p * (1 - p) / n).",
           "Compute `100 * np.sqrt(0.9 * 0.1 / 12_000)`: the 100 turns a fraction into points."),
    expected=_SE_POINTS, validate=need_number, solution_example=_SE_POINTS, formula=_Q3_FORMULA,
    same=lambda a, b: abs(a - b) <= 0.02 * abs(b),
    on_correct=lambda a, ctx: ("about 0.27 points. Two trials 0.2 points apart on these 12,000 images are within "
                               "the noise of the split; only gaps of a point or so are evidence that one setting "
                               "is better."),
    mistakes=(
        Mistake("that is the variance, p(1 - p) / n; the standard error is its square root.",
                100 * 0.9 * 0.1 / 12_000),
        Mistake("the square root covers n only, p(1 - p) / sqrt(n); it covers the whole variance, "
                "sqrt(p(1 - p) / n).", 100 * 0.9 * 0.1 / math.sqrt(12_000)),
        Mistake("that uses the 10,000 test images; the score was measured on 12,000 validation images.",
                100 * math.sqrt(0.9 * 0.1 / 10_000)),
        Mistake("that is a fraction of 1; the task asks for accuracy points (multiply by 100).",
                math.sqrt(0.9 * 0.1 / 12_000)),
        Mistake("that is two standard errors, the margin of a 95% interval; the task asks for one standard error.",
                2 * 100 * math.sqrt(0.9 * 0.1 / 12_000)),
        Mistake("that is the standard error for another number of images; the score was measured on the 12,000 "
                "validation images (n = 12,000).", 100 * math.sqrt(0.9 * 0.1 / 48_000), detect=_other_n),
    ),
)

# ------------------------------------------------------------------------------------------------ q4

VAL_LOSSES = (0.61, 0.48, 0.44, 0.45, 0.43, 0.46, 0.47, 0.42, 0.41, 0.40)
"""The validation losses of exercise 4, epoch 1 first: what a run would give if it trained all 10 epochs."""
_PATIENCE = 2


def early_stopping(losses: tuple[float, ...], patience: int) -> tuple[int, int]:
    """(the epoch after which training stops, the epoch whose weights are kept), both counted from 1, for
    `EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)` on `losses`."""
    best, best_epoch, wait = math.inf, 0, 0
    for epoch, loss in enumerate(losses, 1):
        if loss < best:
            best, best_epoch, wait = loss, epoch, 0
            continue
        wait += 1
        if wait >= patience:
            return epoch, best_epoch
    return len(losses), best_epoch


_STOP = early_stopping(VAL_LOSSES, _PATIENCE)  # (7, 5)


def _one_right(answer: Any, context: dict[str, Any]) -> bool:
    """One of the two epochs right and the other not: say which."""
    return (isinstance(answer, (tuple, list)) and len(answer) == 2 and tuple(answer) != _STOP
            and (answer[0] == _STOP[0]) != (answer[1] == _STOP[1]))


def _one_right_message(answer: Any) -> str:
    if answer[0] == _STOP[0]:
        return ("training does stop after epoch 7; the weights kept are those of the epoch with the lowest loss "
                "seen before stopping.")
    return ("epoch 5's weights are the ones kept; count again when training stops: after each epoch without a new "
            "lowest loss the count grows by one, and training stops once it reaches the patience.")


def _swapped(answer: Any, context: dict[str, Any]) -> bool:
    return isinstance(answer, (tuple, list)) and tuple(answer) == _STOP[::-1]


def _from_zero(answer: Any, context: dict[str, Any]) -> bool:
    return isinstance(answer, (tuple, list)) and tuple(answer) == (_STOP[0] - 1, _STOP[1] - 1)


q4 = Answer(
    key="q4", title="Where early stopping stops", kind="compute", minutes=6, difficulty="medium",
    task="A model trains for at most 10 epochs with `EarlyStopping(monitor='val_loss', patience=2, "
         "restore_best_weights=True)`; given the validation losses it would reach each epoch, after which epoch "
         "does training stop, and which epoch's weights does the model keep? Give a tuple of two epoch numbers, "
         "counted from 1.",
    hints=("After each epoch the callback compares the validation loss with the best so far. A better epoch resets "
           "its count of waiting epochs to 0; every other epoch adds 1, and when the count reaches the patience, "
           "training stops after that epoch.",
           "Walk the list: the best so far is 0.44 at epoch 3; epoch 4 waits (1); epoch 5 is better (0.43), the "
           "count starts again; epochs 6 and 7 wait (1, 2). The later, lower losses are never reached."),
    expected=_STOP, validate=need_int_tuple(2), solution_example=_STOP,
    on_correct=lambda a, ctx: ("(7, 5): after epoch 5 (0.43) two epochs in a row fail to beat it, so training stops "
                               "after epoch 7 and the weights of epoch 5 are put back. Epochs 8 to 10 would have gone "
                               "lower still (0.40): patience trades those chances against the cost of training on. "
                               "Keras's own `EarlyStopping`, run on these losses, gives the same."),
    mistakes=(
        Mistake("training stops once patience runs out, so epochs 8 to 10 never run: their lower losses cannot be "
                "kept. Walk the list epoch by epoch, as the callback does.", (10, 10)),
        Mistake("that stops at the first epoch without a new best; patience 2 waits for two such epochs in a row, "
                "and a new best in between starts the count again.", (4, 3)),
        Mistake("off by one: training stops after the epoch at which the count of epochs without a new best "
                "reaches the patience (2), not after one more.", (8, 5)),
        Mistake("with `restore_best_weights=True` the model gets the best epoch's weights back; without it, it "
                "would keep epoch 7's.", (7, 7)),
        Mistake("those are counted from 0; the task counts epochs from 1, as the list's first value is epoch 1.",
                (6, 4), detect=_from_zero),
        Mistake("the order is (the epoch after which it stops, the epoch it keeps): swap them.", _STOP[::-1],
                detect=_swapped),
        Mistake("half right: " + _one_right_message((_STOP[0], 3)), (_STOP[0], 3),
                detect=lambda a, ctx: _one_right(a, ctx) and a[0] == _STOP[0]),
        Mistake("half right: " + _one_right_message((6, _STOP[1])), (6, _STOP[1]),
                detect=lambda a, ctx: _one_right(a, ctx) and a[1] == _STOP[1]),
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

# ------------------------------------------------------------------------------------------------ q6

RATES = (1e-4, 1e-3, 1e-2)
"""The learning rates exercise 6 tries."""


def build_fixed(learning_rate: float):
    """Exercise 6's model: the lesson's one-block CNN with 16 filters of 3 x 3, compiled with Adam at
    `learning_rate`."""
    import keras

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(16, 3, activation="relu"),
                              keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _rate_key(histories: dict, rate: float) -> Any:
    return next((k for k in histories if is_number(k) and math.isclose(float(k), rate, rel_tol=1e-6)), None)


def _diagnose_tuning(answer: Any, ctx: dict[str, Any]) -> Finding | None:
    histories = ctx["histories"]
    if not isinstance(histories, dict):
        return Finding("form", f"`rate_histories` should be a dict from each learning rate to what `fit` returned; "
                               f"got {_short(histories)}")
    keys = [_rate_key(histories, rate) for rate in RATES]
    if None in keys or len(histories) != len(RATES):
        return Finding("form", f"`rate_histories` has the keys {list(histories)}; the task tries {list(RATES)}")
    fits = {rate: read_fit(histories[key], f"rate_histories[{rate:g}]") for rate, key in zip(RATES, keys)}
    for rate, fit in fits.items():
        used = learning_rate(fit.model)
        if used is None or not math.isclose(used, rate, rel_tol=1e-4):
            return Finding("rate_mismatch", f"the model under {rate:g} trained with learning rate {used}")
    shapes = {(fit.epochs, fit.steps, tuple(layer_types(fit.model))) for fit in fits.values()}
    if len(shapes) != 1:
        return Finding("not_same", "the three runs differ in epochs, steps or layers; only the rate may change")
    x_test, y_test = ctx["test"]
    for rate, fit in fits.items():
        if not scores_match(fit, *ctx["validation"]):
            if scores_match(fit, x_test, y_test):
                return Finding("test_as_validation", f"the run at {rate:g} was validated on the test images")
            return Finding("other_validation", f"the run at {rate:g} does not reproduce its last `val_accuracy` on "
                                               f"`(x_val, y_val)`")
    chosen = ctx["chosen"]
    by_last = max(RATES, key=lambda r: fits[r].last("val_accuracy"))
    by_best = max(RATES, key=lambda r: max(fits[r].curves["val_accuracy"]))
    if not is_number(chosen) or not any(math.isclose(float(chosen), r, rel_tol=1e-6) for r in (by_last, by_best)):
        scores = ", ".join(f"{r:g}: {fits[r].last('val_accuracy'):.4f}" for r in RATES)
        by_test = max(RATES, key=lambda r: accuracy_of(fits[r].model, x_test, y_test))
        if is_number(chosen) and math.isclose(float(chosen), by_test, rel_tol=1e-6) and by_test != by_last:
            return Finding("chose_by_test", f"validation accuracy by rate: {scores}")
        if is_number(chosen) and math.isclose(float(chosen), min(RATES, key=lambda r: fits[r].last("val_accuracy")),
                                              rel_tol=1e-6):
            return Finding("chose_lowest", f"validation accuracy by rate: {scores}")
        return Finding("choice", f"`chosen_rate` is {_short(chosen)}; validation accuracy by rate: {scores}")
    final = ctx["final"]
    final = getattr(final, "model", final) if hasattr(final, "history") else final
    if not hasattr(final, "layers"):
        return Finding("form", f"`final_model` should be the Keras model you scored on the test set; got "
                               f"{_short(ctx['final'])}")
    used = learning_rate(final)
    if used is None or not math.isclose(used, float(chosen), rel_tol=1e-4):
        return Finding("final_rate", f"the final model trained with learning rate {used}, the chosen one is "
                                     f"{float(chosen):g}")
    test = accuracy_of(final, x_test, y_test)
    if is_number(answer) and abs(float(answer) - test) > 5e-4:
        for fit in fits.values():
            if any(abs(float(answer) - v) < 5e-4 for v in fit.curves["val_accuracy"]):
                return Finding("reported_validation", f"{float(answer):.4f} is a validation accuracy; the final "
                                                      f"model scores {test:.4f} on the test images")
    return number_finding(answer, test, "fraction", tolerance=5e-4, what="the final model on the test images")


def _tuning_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    fits = {rate: read_fit(ctx["histories"][_rate_key(ctx["histories"], rate)], str(rate)) for rate in RATES}
    scores = ", ".join(f"{r:g}: {fits[r].last('val_accuracy'):.4f}" for r in RATES)
    return (f"chosen on validation ({scores}), the final model at {float(ctx['chosen']):g} scores {float(answer):.4f} "
            f"on the test images: the figure to report. The test set chose nothing, so its score does not flatter; "
            f"look at it once, and change nothing after.")


@lru_cache(maxsize=1)
def _demo_tuning() -> dict[str, Any]:
    """Untrained models of the three rates and a fourth at 1e-3 (a final model); validation images labelled by the
    1e-3 model's answers and test images by the 1e-2 model's, so choosing by the test set shows (the tests)."""
    import keras

    models = {}
    for i, rate in enumerate((*RATES, "final")):
        keras.utils.set_random_seed(10 + i)
        models[rate] = build_fixed(1e-3 if rate == "final" else rate)
        last = models[rate].layers[-1]
        last.bias.assign(keras.random.normal((10,), stddev=2.0, seed=10 + i))
    rng = np.random.default_rng(9)
    x_val, x_test = (rng.random((n, 28, 28, 1)).astype("float32") for n in (40, 30))
    y_val = np.asarray(models[1e-3](x_val, training=False)).argmax(axis=1)
    y_test = np.asarray(models[1e-2](x_test, training=False)).argmax(axis=1)
    y_test[:3] = (y_test[:3] + 1) % 10
    y_test[-6:] = np.asarray(models["final"](x_test[-6:], training=False)).argmax(axis=1)  # final: some right
    return {"models": models, "validation": (x_val, y_val), "test": (x_test, y_test)}


def _demo_histories(on: dict[float, str] | None = None) -> dict[float, Any]:
    demo = _demo_tuning()
    on = on or {}
    return {rate: fake_history(demo["models"][rate], demo[on.get(rate, "validation")], epochs=1) for rate in RATES}


def _demo_q6() -> dict[str, Any]:
    demo = _demo_tuning()
    return {"histories": _demo_histories(), "chosen": 1e-3, "final": demo["models"]["final"],
            "validation": demo["validation"], "test": demo["test"]}


def _final_score(ctx: dict[str, Any]) -> float:
    final = ctx["final"]
    return accuracy_of(final, *ctx["test"])


def _q6_attempt(answer: Callable | None = None, **context: Callable) -> Callable[[dict[str, Any]], Attempt]:
    def make(ctx: dict[str, Any]) -> Attempt:
        changed = {name: build(ctx) for name, build in context.items()}
        new = {**ctx, **changed}
        return Attempt(_final_score(new) if answer is None else answer(new), changed)

    return make


q6 = Build(
    key="q6", title="Tune one hyperparameter, test once", kind="experiment", minutes=30, difficulty="hard",
    task="Train `build_fixed(rate)` at each learning rate of `RATES` on the training images, validated on the "
         "validation images; choose the rate with the highest validation accuracy; score the chosen run's model once "
         "on the test images. The check reads your histories, your choice and your final model.",
    hints=("One loop: for each rate, `keras.utils.set_random_seed(run.seed)`, `model = build_fixed(rate)`, "
           "`rate_histories[rate] = model.fit(x_fit, y_fit, validation_data=(x_val, y_val), epochs=search_epochs, "
           "batch_size=128, verbose=0)`. The test images appear in none of these calls.",
           "`chosen_rate = max(RATES, key=lambda r: rate_histories[r].history['val_accuracy'][-1])`; then "
           "`final_model = rate_histories[chosen_rate].model` (what `fit` trained) and "
           "`test_accuracy_q6 = final_model.evaluate(x_test, y_test, verbose=0)[1]`, the one look at the test set."),
    context=("histories", "chosen", "final", "validation", "test"), demo_context=_demo_q6,
    solution_example=_final_score, diagnose=_diagnose_tuning, reveal=_tuning_reveal,
    mistakes=(
        Mistake("the rate was chosen by the test set: then the test score is one more validation score and "
                "flatters like the search's best. Choose by `val_accuracy`, and score on the test set only the "
                "final model, once.", _q6_attempt(chosen=lambda ctx: 1e-2), detect=Found("chose_by_test")),
        Mistake("a run was validated on the test images: the search must never see them. Pass "
                "`validation_data=(x_val, y_val)`.", _q6_attempt(histories=lambda ctx: _demo_histories({1e-4: "test"})),
                detect=Found("test_as_validation")),
        Mistake("that is a validation accuracy; the task asks for the final model's accuracy on the test images, "
                "`final_model.evaluate(x_test, y_test)`.",
                lambda ctx: read_fit(ctx["histories"][1e-3], "h").last("val_accuracy"),
                detect=Found("reported_validation")),
        Mistake("that chose the rate with the lowest validation accuracy; keep the highest, `max(...)`.",
                _q6_attempt(chosen=lambda ctx: min(RATES, key=lambda r: ctx["histories"][r].history["val_accuracy"][-1])),
                detect=Found("chose_lowest")),
        Mistake("the final model is not the chosen rate's: take `rate_histories[chosen_rate].model`.",
                _q6_attempt(final=lambda ctx: _demo_tuning()["models"][1e-4]), detect=Found("final_rate")),
        Mistake("each history must come from a model at its own rate: `rate_histories[rate]` is the run of "
                "`build_fixed(rate)`.",
                _q6_attempt(histories=lambda ctx: dict(zip(RATES, [ctx["histories"][r] for r in RATES[::-1]]))),
                detect=Found("rate_mismatch")),
        Mistake("that looks like a percentage; give the accuracy as a fraction between 0 and 1 (91.3% is 0.913).",
                lambda ctx: _final_score(ctx) * 100, detect=Found("percent_for_fraction")),
    ),
)

# ------------------------------------------------------------------------------------------------ q7

_UNITS = tuple(range(32, 257, 32))


def _synthetic_score(setting: dict[str, Any]) -> float:
    """A validation accuracy invented for the check: best near learning rate 1e-3, 160 units, dropout 0.2."""
    rate, units, dropout = setting["learning_rate"], setting["units"], setting["dropout"]
    return float(0.9 - 0.05 * (math.log10(rate) + 3) ** 2 - 0.02 * abs(units - 160) / 32 - 0.1 * abs(dropout - 0.2))


def _random_search(score: Callable, n_trials: int, seed: int) -> tuple[dict[str, Any], float]:
    rng = np.random.default_rng(seed)
    best, best_score = None, -math.inf
    for _ in range(n_trials):
        setting = {"learning_rate": float(10 ** rng.uniform(-4, -2)), "units": int(rng.choice(_UNITS)),
                   "dropout": float(rng.uniform(0.0, 0.5))}
        value = score(setting)
        if value > best_score:
            best, best_score = setting, value
    return best, best_score


def _search_linear(score, n_trials, seed):
    rng = np.random.default_rng(seed)
    trials = [{"learning_rate": float(rng.uniform(1e-4, 1e-2)), "units": int(rng.choice(_UNITS)),
               "dropout": float(rng.uniform(0.0, 0.5))} for _ in range(n_trials)]
    values = [score(t) for t in trials]
    return trials[int(np.argmax(values))], max(values)


def _search_last(score, n_trials, seed):
    rng = np.random.default_rng(seed)
    setting, value = None, None
    for _ in range(n_trials):
        setting = {"learning_rate": float(10 ** rng.uniform(-4, -2)), "units": int(rng.choice(_UNITS)),
                   "dropout": float(rng.uniform(0.0, 0.5))}
        value = score(setting)
    return setting, value


def _search_lowest(score, n_trials, seed):
    best, lowest = _random_search(lambda setting: -score(setting), n_trials, seed)
    return best, -lowest


def _search_unseeded(score, n_trials, seed):
    return _random_search(score, n_trials, int(np.random.randint(0, 2**31)))


def _search_any_units(score, n_trials, seed):
    rng = np.random.default_rng(seed)
    trials = [{"learning_rate": float(10 ** rng.uniform(-4, -2)), "units": int(rng.integers(32, 257)),
               "dropout": float(rng.uniform(0.0, 0.5))} for _ in range(n_trials)]
    values = [score(t) for t in trials]
    return trials[int(np.argmax(values))], max(values)


def _search_with(draw: Callable[[np.random.Generator], dict[str, Any]] | None = None, rng_each_trial: bool = False,
                 keep: str = "best") -> Callable:
    """A random search with another draw of a setting, a generator made anew for every trial, or keeping the
    first trial ("first") instead of the best."""
    def default(rng):
        return {"learning_rate": float(10 ** rng.uniform(-4, -2)), "units": int(rng.choice(_UNITS)),
                "dropout": float(rng.uniform(0.0, 0.5))}

    def search(score, n_trials, seed):
        rng = np.random.default_rng(seed)
        best, best_score = None, -math.inf
        for trial in range(n_trials):
            if rng_each_trial:
                rng = np.random.default_rng(seed)
            setting = (draw or default)(rng)
            value = score(setting)
            if value > best_score and (keep == "best" or trial == 0):
                best, best_score = setting, value
        return best, best_score
    return search


_SEARCH_ALTERNATIVES = (
    (_search_with(rng_each_trial=True), "the generator is made anew inside the loop, so every trial starts again "
                                        "from the seed and draws the same setting: make it once, before the loop."),
    (_search_with(lambda rng: {"learning_rate": float(10.0 ** rng.integers(-4, -2)), "units": int(rng.choice(_UNITS)),
                               "dropout": float(rng.uniform(0.0, 0.5))}),
     "the exponent is drawn as a whole number (`rng.integers(-4, -2)`), so the learning rate is only ever 1e-4 or "
     "1e-3: draw it uniformly, `10 ** rng.uniform(-4, -2)`."),
    (_search_with(lambda rng: {"learning_rate": float(rng.uniform(-4, -2)), "units": int(rng.choice(_UNITS)),
                               "dropout": float(rng.uniform(0.0, 0.5))}),
     "the learning rate is the exponent itself, between -4 and -2; it is 10 to that power, "
     "`10 ** rng.uniform(-4, -2)`."),
    (_search_with(keep="first"), "that keeps the first trial; compare every trial's score with the best so far and "
                                 "keep the higher."),
)


def _search_runs(search: Callable) -> tuple:
    """What a search returns with seed 0 over 60 trials, and the settings it scored (for the alternatives)."""
    return _recorded(search, 60, 0)


def _recorded(search: Any, n_trials: int, seed: int) -> tuple[Any, list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []

    def score(setting: dict[str, Any]) -> float:
        calls.append(dict(setting) if isinstance(setting, dict) else setting)
        return _synthetic_score(setting)

    return run_student(search, (score, n_trials, seed), "random_search"), calls


def _diagnose_search(search: Any, ctx: dict[str, Any]) -> Finding | None:
    out, calls = _recorded(search, 400, 0)
    if len(calls) != 400:
        return Finding("trials", f"`random_search(score, 400, 0)` called `score` {len(calls)} times; one call per "
                                 f"trial gives 400")
    for setting in calls:
        if not isinstance(setting, dict) or set(setting) != {"learning_rate", "units", "dropout"}:
            return Finding("form", f"`score` was given {_short(setting)}; give it a dict with 'learning_rate', "
                                   f"'units' and 'dropout'")
    rates = np.array([float(c["learning_rate"]) for c in calls])
    units = [c["units"] for c in calls]
    dropouts = np.array([float(c["dropout"]) for c in calls])
    if rates.min() >= math.exp(-4) * (1 - 1e-9) and rates.max() <= math.exp(-2) * (1 + 1e-9) and rates.max() > 1e-2:
        return Finding("bounds", f"the learning rates run from {rates.min():.2g} to {rates.max():.2g}, between e^-4 "
                                 f"and e^-2: `np.exp(x)` raises e to the power x, not 10; the space's rates are "
                                 f"`10 ** rng.uniform(-4, -2)`")
    if dropouts.min() >= 0.5 and dropouts.max() <= 1.0 and dropouts.max() > 0.9:
        return Finding("bounds", f"the dropout rates run from {dropouts.min():.2f} to {dropouts.max():.2f}: that is "
                                 f"`rng.uniform(0.5)`, whose one argument is the low end (the high end defaults to "
                                 f"1); the space's dropout is `rng.uniform(0.0, 0.5)`, both ends given")
    if rates.min() < 1e-4 * (1 - 1e-9) or rates.max() > 1e-2 * (1 + 1e-9) or dropouts.min() < 0 or dropouts.max() > 0.5:
        return Finding("bounds", f"draws went outside the space: learning rates {rates.min():.2g} to "
                                 f"{rates.max():.2g}, dropout {dropouts.min():.2f} to {dropouts.max():.2f}")
    if any(u not in _UNITS for u in units):
        return Finding("units", f"units took values such as {next(u for u in units if u not in _UNITS)!r}; the space "
                                f"holds {list(_UNITS)}")
    missing = [u for u in _UNITS if u not in units]
    if missing:  # each of the 8 values is drawn about 50 times in 400 trials: one never drawn was left out
        end = " (`range(32, 256, 32)` stops before 256: a range leaves out its end)" if missing == [_UNITS[-1]] else ""
        return Finding("units_missing", f"in 400 trials units never took {', '.join(map(str, missing))}{end}; the "
                                        f"space holds {list(_UNITS)}, each drawn about equally often")
    distinct = len(set(rates.tolist()))
    if distinct < 40:  # a log-uniform draw repeats no value; the shares below would mean nothing
        return Finding("repeats", f"the 400 trials drew only {distinct} different learning "
                                  f"rate{'s' if distinct != 1 else ''}; each trial should draw its own")
    drops = len(set(dropouts.tolist()))
    if drops < 40:  # a uniform draw repeats no value
        return Finding("dropout_grid", f"the 400 trials drew only {drops} different dropout rate"
                                       f"{'s' if drops != 1 else ''} ({', '.join(f'{d:g}' for d in sorted(set(dropouts.tolist()))[:6])}"
                                       f"{', ...' if drops > 6 else ''}): picked from a list, where the space draws "
                                       f"it uniformly from 0 to 0.5, `rng.uniform(0.0, 0.5)`, a new value each trial")
    low = float(np.mean(rates < 1e-3))
    if not 0.4 <= low <= 0.6:
        return Finding("linear", f"{low:.0%} of 400 learning rates fell between 1e-4 and 1e-3; drawn on a log scale, "
                                 f"about half do")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return Finding("form", f"return the pair `(best_setting, best_score)`; got {_short(out)}")
    if is_number(out[0]) and isinstance(out[1], dict):
        return Finding("order", "the pair came back as (score, setting)")
    scores = [_synthetic_score(c) for c in calls]
    best = int(np.argmax(scores))
    if not is_number(out[1]) or not math.isclose(float(out[1]), scores[best], rel_tol=1e-9):
        if is_number(out[1]) and math.isclose(float(out[1]), scores[-1], rel_tol=1e-9):
            return Finding("last", f"returned the last trial's score, {scores[-1]:.4f}; the best was "
                                   f"{scores[best]:.4f}")
        if is_number(out[1]) and math.isclose(float(out[1]), min(scores), rel_tol=1e-9):
            return Finding("lowest", f"returned the lowest score, {min(scores):.4f}")
        return Finding("not_best", f"returned the score {_short(out[1])}; the best trial scored {scores[best]:.4f}")
    if out[0] != calls[best] and out[0] == calls[-1]:
        return Finding("setting", f"the setting returned, {_short(out[0])}, is the last one drawn, not the one that "
                                  f"scored best: when one dict is changed in place every trial, the name you keep "
                                  f"for the best points at that same dict. Make a new dict each trial, or keep a "
                                  f"copy, `dict(setting)`")
    if out[0] != calls[best]:
        return Finding("setting", f"the setting returned, {_short(out[0])}, is not the one that scored best")
    again = _recorded(search, 400, 0)[1]
    if again != calls:
        return Finding("not_reproducible", "two searches with seed 0 drew different settings")
    if _recorded(search, 400, 1)[1] == calls:
        return Finding("ignores_seed", "seeds 0 and 1 drew the same settings")
    return None


q7 = Build(
    key="q7", title="A random search of your own", kind="code", minutes=25, difficulty="hard",
    task="Write `random_search(score, n_trials, seed)`: draw `n_trials` settings at random with "
         "`np.random.default_rng(seed)` (learning rate log-uniform in [1e-4, 1e-2], units one of 32, 64, ..., 256, "
         "dropout uniform in [0, 0.5]), call `score(setting)` once on each, and return the best setting and its "
         "score.",
    hints=("A log-uniform draw is 10 to the power of a uniform draw: `10 ** rng.uniform(-4, -2)`. `rng.choice(...)` "
           "picks one of a list; `rng.uniform(0.0, 0.5)` a dropout.",
           "Keep the best so far: `if value > best_score: best, best_score = setting, value`; each setting is a "
           "dict `{'learning_rate': ..., 'units': ..., 'dropout': ...}`, and `score` is called once per trial."),
    solution_example=lambda ctx: _random_search, diagnose=_diagnose_search, time_limit=30.0,
    alternatives=_SEARCH_ALTERNATIVES, runs=_search_runs,
    reveal=lambda a, ctx: ("your search draws the space as Keras Tuner's `RandomSearch` would (the learning rate on a "
                           "log scale, so each power of ten gets its share), calls the score once per trial, keeps "
                           "the best and repeats itself for one seed. The check scored 400 trials with a made-up "
                           "score, so it took no training at all."),
    mistakes=(
        Mistake("the learning rates are drawn on a linear scale: nine draws in ten land above 1e-3. Draw the "
                "exponent uniformly, `10 ** rng.uniform(-4, -2)`.", lambda ctx: _search_linear,
                detect=Found("linear")),
        Mistake("that returns the last trial, not the best: keep the best setting and score as the trials go.",
                lambda ctx: _search_last, detect=Found("last")),
        Mistake("two searches with the same seed drew different settings: draw with `np.random.default_rng(seed)`, "
                "not NumPy's global random functions.", lambda ctx: _search_unseeded,
                detect=Found("not_reproducible", "ignores_seed")),
        Mistake("units must be one of 32, 64, ..., 256 (a step of 32), as `hp.Int('units', 32, 256, step=32)` "
                "draws them: `rng.choice(range(32, 257, 32))`.", lambda ctx: _search_any_units,
                detect=Found("units")),
        Mistake("that keeps the lowest score; a search keeps the highest validation accuracy.",
                lambda ctx: _search_lowest, detect=Found("lowest")),
        Mistake("return `(best_setting, best_score)`, the setting first.",
                lambda ctx: (lambda score, n, seed: _random_search(score, n, seed)[::-1]), detect=Found("order")),
        Mistake("call `score` once per trial, on that trial's setting: the check counts the calls.",
                lambda ctx: (lambda score, n, seed: _random_search(score, n // 2, seed)), detect=Found("trials")),
    ),
)

LADDER = {"q1": CORE, "q2": WARM_UP, "q3": WARM_UP, "q4": WARM_UP, "q5": CORE, "q6": STRETCH, "q7": STRETCH}

EXERCISES = [q1, q2, q3, q4, q5, q6, q7]
