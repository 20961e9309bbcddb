"""Exercises of notebook 03 (the multilayer perceptron): counting parameters, an MLP in plain Keras, weight updates,
reading a training history, and which of the lesson's trainings overfits most.

Usage:
    ex = exercises.for_notebook("03_mlp"); ex.q1.check(784 * 256 + 256)
"""
from __future__ import annotations

import math
import numbers
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from .builds import (Attempt, Build, FakeHistory, Finding, Found, accuracy_of, curve_finding, fake_history,
                     layer_types, learning_rate, number_finding, read_fit, run_student, scores_match)
from .common import history_values, is_number, need_number
from .errors import explain_error
from .untrusted import error_text
from .core import Answer, Function, Mistake, Prediction, _short
from .givens import BATCH_SIZES, IMAGE_COUNTS, Formula, Given, ceil, named
from .ladder import CORE, STRETCH, WARM_UP

TITLE = "The multilayer perceptron"

# ------------------------------------------------------------------------------------------------ q1

_UNITS = Given("units", 256, "{} units", others={128: "", 512: "", 64: "", 10: "the output layer's"},
               noun="the number of units", has="`Dense(256)` has {}")
_INPUTS = Given("inputs", 784, "{} inputs", others={28: "one side of an image", 512: "the outputs of the kh ANN's "
                                                                                     "first hidden layer"},
                noun="the number of inputs")
_Q1_FORMULA = Formula(_INPUTS * _UNITS + named(_UNITS, "the biases, one per unit"),
                      extra=((256 * 10 + 10, "the next layer's parameters too, the output layer's Dense(10) on these "
                                             "256 units (2,570); the task counts `Dense(256)` alone"),))

q1 = Answer(
    key="q1", title="Parameters of one dense layer", kind="compute", minutes=3, difficulty="easy",
    task="How many trainable parameters does `Dense(256)` have when it receives the 784 pixels of a flattened "
         "image? Give one whole number.",
    hints=("A dense layer has one weight for every input-output pair, and one bias for every output unit.",
           "784 x 256 weights, plus 256 biases."),
    expected=784 * 256 + 256, validate=need_number, solution_example=784 * 256 + 256, formula=_Q1_FORMULA,
    on_correct=lambda a, ctx: "200,960: one layer of 256 units on raw pixels already holds 200,704 weights.",
    mistakes=(
        Mistake("that counts the weights only; every unit also has a bias.", 784 * 256),
        Mistake("there is one bias per output unit (256), not one per input (784).", 784 * 256 + 784),
        Mistake("that is one weight per unit; every unit has a weight for each of the 784 inputs.", 256 + 256),
        Mistake("the weights are right, the biases not: every one of the 256 units has one bias.", 784 * 256 + 1,
                detect=lambda a, ctx: is_number(a) and 0 < a - 784 * 256 != 256 and a - 784 * 256 < 784 * 2),
    ),
)

# ------------------------------------------------------------------------------------------------ q2

_PROBE = np.random.default_rng(5).uniform(0, 1, (3, 28, 28)).astype("float32")


def _expected_params(hidden: tuple[int, ...]) -> int:
    sizes = [28 * 28, *hidden, 10]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def _probe(model: Any) -> np.ndarray | str:
    """The model's output on three images, or a message saying why there is none."""
    import keras

    if not isinstance(model, keras.Model):
        return f"return the Keras model itself (a `keras.Sequential`), not {type(model).__name__}."
    try:
        return np.asarray(model(_PROBE, training=False))
    except Exception as err:  # noqa: BLE001 - the student's model may fail in any way
        text = error_text(err)
        why = explain_error(text)
        return f"calling the model on a batch of images of shape (28, 28) raised {text}" + (f": {why}" if why else "")


def _is_probability(out: np.ndarray) -> bool:
    return bool(np.all(out >= -1e-6) and np.allclose(out.sum(axis=-1), 1.0, atol=1e-4))


def _mlp_problem(model: Any, args: tuple) -> str | None:
    out = _probe(model)
    if isinstance(out, str):
        return out
    if out.ndim != 2:
        return f"for 3 images the output has shape {out.shape}; it should be (3, 10)."
    if out.shape[1] != 10:
        return f"the output has {out.shape[1]} units; it needs 10, one per class."
    if not _is_probability(out):
        return "the outputs are not probabilities: each row should be non-negative and sum to 1."
    expected = _expected_params(tuple(args[0]))
    try:
        n = int(model.count_params())
    except Exception as err:  # noqa: BLE001
        return f"`count_params()` raised {type(err).__name__}: {str(err)[:150]}"
    if n != expected:
        return (f"the model has {n:,} parameters; Flatten, a Dense ReLU layer per hidden size and Dense(10) give "
                f"{expected:,}.")
    hidden = _hidden_activations(model)
    if any(act != "relu" for act in hidden):
        return f"the hidden Dense layers' activations are {hidden}; the task asks for 'relu' in each."
    return None


def _hidden_activations(model: Any) -> list:
    """The activations of every Dense layer but the last."""
    try:
        dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"][:-1]
        return [getattr(layer.activation, "__name__", str(layer.activation)) for layer in dense]
    except Exception:  # noqa: BLE001 - not a model
        return []


def _sequential(hidden, flatten=True, output=True, softmax=True, hidden_activation="relu"):
    import keras

    layers = [keras.Input((28, 28))] + ([keras.layers.Flatten()] if flatten else [])
    layers += [keras.layers.Dense(units, activation=hidden_activation) for units in hidden]
    if output:
        layers.append(keras.layers.Dense(10, activation="softmax" if softmax else None))
    return keras.Sequential(layers)


def _build_mlp(hidden):
    return _sequential(hidden)


def _output_rank(model: Any) -> int | None:
    out = _probe(model)
    return None if isinstance(out, str) else out.ndim


def _no_softmax(model: Any, args: tuple) -> bool:
    out = _probe(model)
    return not isinstance(out, str) and out.shape[1:] == (10,) and not _is_probability(out)


def _wrong_units(model: Any, args: tuple) -> bool:
    out = _probe(model)
    return not isinstance(out, str) and out.ndim == 2 and out.shape[1] != 10


q2 = Function(
    key="q2", title="An MLP in plain Keras", kind="code", minutes=12, difficulty="medium",
    task="Write `build_mlp(hidden)`: a `keras.Sequential` model that takes 28 x 28 images, flattens them, applies "
         "one `Dense` ReLU layer per entry of the tuple `hidden`, and ends in 10 softmax outputs.",
    hints=("Start the list of layers with `keras.Input((28, 28))` and `keras.layers.Flatten()`, add a "
           "`keras.layers.Dense(units, activation='relu')` for each `units` in `hidden`, and pass the list to "
           "`keras.Sequential`.",
           "The last layer turns the features into class probabilities: "
           "`keras.layers.Dense(10, activation='softmax')`. With `hidden=()` the model is logistic regression."),
    name="build_mlp", cases=lambda: [((128,),), ((64, 32),), ((),), ((300, 100, 50),)], verify=_mlp_problem,
    solution_example=_build_mlp,
    describe=lambda args: f"hidden={tuple(args[0])!r}",
    mistakes=(
        Mistake("the model has no `Flatten`: Dense then works on each of the 28 rows separately and the output has "
                "a row axis too. Flatten the image into 784 numbers first.",
                lambda hidden: _sequential(hidden, flatten=False),
                detect=lambda model, args: _output_rank(model) == 3),
        Mistake("the output layer has no softmax, so its outputs are not probabilities: use "
                "`Dense(10, activation='softmax')`.",
                lambda hidden: _sequential(hidden, softmax=False), detect=_no_softmax),
        Mistake("the hidden layers need `activation='relu'`: without it (or with a sigmoid) the network is a "
                "different one from the task's, and a stack of linear layers is one linear layer.",
                lambda hidden: _sequential(hidden, hidden_activation=None),
                detect=lambda model, args: any(a != "relu" for a in _hidden_activations(model))),
        Mistake("the output must have 10 units, one per class: end with `Dense(10, activation='softmax')` after the "
                "hidden layers.",
                lambda hidden: _sequential(hidden, output=False), detect=_wrong_units),
    ),
)

# ------------------------------------------------------------------------------------------------ q3

_UPDATES = -(-60_000 // 64) * 20
_Q3_FORMULA = Formula(
    ceil(Given("images", 60_000, "{:,} images", others=IMAGE_COUNTS, noun="the number of training images")
         / Given("batch", 64, "batches of {}", others=BATCH_SIZES, noun="the batch size"),
         "Keras trains on the last, smaller batch too")
    * Given("epochs", 20, "{} epochs", steps=True, noun="the number of epochs"))

q3 = Answer(
    key="q3", title="How many weight updates?", kind="compute", minutes=4, difficulty="easy",
    task="The `kh` ANN trains on 60,000 images at batch size 64 for 20 epochs; how many times are its weights "
         "updated in all? Give one whole number.",
    hints=("The weights change once per batch. How many batches make one epoch?",
           "60,000 / 64 = 937.5: Keras keeps the last half batch, so an epoch has 938 batches. Multiply by the "
           "epochs."),
    expected=_UPDATES, validate=need_number, solution_example=_UPDATES, formula=_Q3_FORMULA,
    on_correct=lambda a, ctx: "18,760 updates: 938 per epoch, the last batch of each epoch holding 32 images.",
    mistakes=(
        Mistake("that drops the last, half-full batch of each epoch; Keras trains on it too (round 937.5 up).",
                937 * 20),
        Mistake("an epoch has a whole number of batches: round 937.5 up to 938 before multiplying.", 60_000 / 64 * 20),
        Mistake("that counts images, not updates: the weights change once per batch of 64, not once per image.",
                60_000 * 20),
        Mistake("that is one epoch; the model trains for 20.", 938),
    ),
)

# ------------------------------------------------------------------------------------------------ q4

_MLP_128 = _expected_params((128,))  # 101,770


def _split_steps(n_images: int, batch_size: int = 128, validation_split: float = 0.2) -> int:
    """Batches per epoch when `fit` holds out the last `validation_split` of `n_images` (as Keras cuts it)."""
    return math.ceil(int(n_images * (1 - validation_split)) / batch_size)


def _diagnose_history(answer: Any, ctx: dict[str, Any]) -> Finding | None:
    fit = read_fit(ctx["history"], "history")
    n_params = int(fit.model.count_params())
    if layer_types(fit.model) != ["Flatten", "Dense", "Dense"] or n_params != _MLP_128:
        return Finding("other_model", f"the model in the history has layers {layer_types(fit.model)} and "
                                      f"{n_params:,} parameters; `build_mlp((128,))` has {_MLP_128:,}")
    if fit.epochs != int(ctx["epochs"]):
        return Finding("epochs", f"`fit` ran for {fit.epochs} epoch(s); the task asks for `epochs` = {ctx['epochs']}")
    n = int(ctx["n_images"])
    if fit.steps != _split_steps(n):
        if fit.steps == _split_steps(n, 32):
            return Finding("batch_size", f"{fit.steps} steps per epoch: Keras's default batch of 32")
        if fit.steps == math.ceil(n / 128):
            return Finding("no_split", f"{fit.steps} steps per epoch: `fit` trained on all {n:,} images")
        return Finding("not_as_asked", f"{fit.steps} steps per epoch; {n:,} images less the 20% held out, in "
                                       f"batches of 128, give {_split_steps(n)}")
    best = max(fit.curves["val_accuracy"])
    if is_number(answer):
        if abs(answer - fit.last("val_accuracy")) < 5e-4 and abs(best - fit.last("val_accuracy")) >= 5e-4:
            return Finding("last", f"the last epoch's is {fit.last('val_accuracy'):.4f}, the best {best:.4f}")
        if any(abs(answer - v) < 5e-4 for v in fit.curves["accuracy"]) and not abs(answer - best) < 5e-4:
            return Finding("train", f"{answer:g} is in `history.history['accuracy']`")
    return curve_finding(answer, fit, 5e-4) or number_finding(answer, best, "fraction", tolerance=5e-4,
                                                              what="the best `val_accuracy`")


def _history_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    fit = read_fit(ctx["history"], "history")
    values = fit.curves["val_accuracy"]
    return (f"trained as asked ({fit.epochs} epoch(s) of {fit.steps} batches of 128, 20% held out); best validation "
            f"accuracy {max(values):.4f}, at epoch {int(np.argmax(values)) + 1} of {len(values)}.")


@lru_cache(maxsize=1)
def _demo_mlp():
    model = _build_mlp((128,))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _demo_history(epochs: int = 3, steps: int = 1, **curves: list[float]) -> FakeHistory:
    base = {"loss": [0.82, 0.51, 0.44], "accuracy": [0.71, 0.81, 0.85], "val_loss": [0.58, 0.49, 0.50],
            "val_accuracy": [0.79, 0.834, 0.829]}
    base = {k: v[:epochs] + [v[-1]] * (epochs - len(v)) for k, v in base.items()}
    return FakeHistory(_demo_mlp(), {**base, **curves}, epochs, steps)


def _demo_q4() -> dict[str, Any]:
    # 100 images: 80 train in one batch of 128
    return {"history": _demo_history(), "epochs": 3, "n_images": 100}


def _q4_attempt(answer: Any, **context: Any) -> Callable[[dict[str, Any]], Attempt]:
    return lambda ctx: Attempt(answer, {k: v() if callable(v) else v for k, v in context.items()})


q4 = Build(
    key="q4", title="Train it and read the history", kind="experiment", minutes=12, difficulty="medium",
    task="Compile and fit `build_mlp((128,))` for `epochs` epochs with 20% of the images held out for validation "
         "and batches of 128, keep what `fit` returns, and report the best validation accuracy of any epoch, as a "
         "fraction; the check reads the history and its model.",
    hints=("`model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])`, then "
           "`history = model.fit(x_small, y_small, validation_split=0.2, epochs=epochs, batch_size=128, verbose=0)`.",
           "`history.history` is a dict of lists, one value per epoch: the validation accuracy is "
           "`history.history['val_accuracy']`, and its best value is `max(...)` of that list."),
    context=("history", "epochs", "n_images"), demo_context=_demo_q4, solution_example=0.834,
    diagnose=_diagnose_history, reveal=_history_reveal,
    mistakes=(
        Mistake("that is the last epoch's validation accuracy; the task asks for the best epoch, `max(...)` over "
                "all epochs.", 0.829, detect=Found("last")),
        Mistake("that is a training accuracy (`history.history['accuracy']`); the task asks for the validation "
                "accuracy, `history.history['val_accuracy']`.", 0.85, detect=Found("train")),
        Mistake("that looks like a percentage; give the accuracy as a fraction between 0 and 1 (91.3% is 0.913).",
                83.4, detect=Found("percent_for_fraction")),
        Mistake("`fit` used Keras's default batch size, 32: pass `batch_size=128`.",
                _q4_attempt(0.834, history=lambda: _demo_history(steps=3)), detect=Found("batch_size")),
        Mistake("`fit` trained on every image and held none out: pass `validation_split=0.2`, so that the last 20% "
                "of the images are kept for validation.",
                _q4_attempt(0.834, history=lambda: _demo_history(steps=2), n_images=150),
                detect=Found("no_split")),
        Mistake("pass what `fit` returned (the History object), not its `.history` dictionary: the check reads the "
                "model and the settings it was trained with.",
                _q4_attempt(0.834, history=lambda: _demo_history().history),
                detect=Found("history_dict", "not_history")),
        Mistake("the history is not of `build_mlp((128,))` trained for `epochs` epochs: train that model, once, "
                "for that many epochs.", _q4_attempt(0.834, history=lambda: _demo_history(epochs=5)),
                detect=Found("epochs", "other_model")),
    ),
)

# ------------------------------------------------------------------------------------------------ q5


def _final_gaps(results: Any) -> dict[str, float]:
    """Train minus validation accuracy at the last epoch, for each model in `results` that has both."""
    gaps = {}
    try:
        items = list(results.items())
    except Exception:  # noqa: BLE001 - not a dict
        return gaps
    for name, result in items:
        history = getattr(result, "history", result)
        train, val = history_values(history, "train"), history_values(history, "validation")
        if train and val:
            gaps[str(name)] = train[-1] - val[-1]
    return gaps


def _largest_gap(ctx: dict[str, Any]) -> str | None:
    gaps = _final_gaps(ctx["results"])
    return max(gaps, key=gaps.get) if gaps else None


def _gap_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    gaps = _final_gaps(ctx["results"])
    if not gaps:
        return "no model in `results` has both a training and a validation accuracy to compare."
    table = ", ".join(f"{name} {100 * gap:+.1f}" for name, gap in sorted(gaps.items(), key=lambda kv: -kv[1]))
    note = (" A negative gap is common after few epochs, because training accuracy is averaged over an epoch while "
            "the weights still improve, and for models that dropout or augmentation handicap in training only."
            if min(gaps.values()) < 0 else "")
    return f"final gap, train minus validation, in points: {table}. The largest is {_largest_gap(ctx)}.{note}"


def _model_name_problem(answer: Any, ctx: dict[str, Any]) -> str | None:
    names = list(_final_gaps(ctx["results"]))
    if not isinstance(answer, str) or answer not in names:
        return f"give one model name as a string, one of: {', '.join(map(repr, names))}."
    return None


def _demo_q5() -> dict[str, Any]:
    return {"results": {"my_kh_ann": {"accuracy": [0.79, 0.86], "val_accuracy": [0.83, 0.85]},
                        "small_plain": {"accuracy": [0.62, 0.99], "val_accuracy": [0.72, 0.83]},
                        "small_dropout": {"accuracy": [0.48, 0.87], "val_accuracy": [0.70, 0.83]}}}


def _not_a_model(answer: Any, ctx: dict[str, Any]) -> bool:
    return isinstance(answer, str) and answer not in _final_gaps(ctx["results"])


q5 = Prediction(
    key="q5", title="Which model overfits most?", kind="predict", minutes=4, difficulty="easy",
    task="Before running the check, predict which of the lesson's trainings in `results` (`my_kh_ann`, "
         "`small_plain`, `small_dropout`) ends with the largest overfitting gap, its training minus its validation "
         "accuracy at the last epoch; the check reveals every training's gap.",
    hints=("Look at the learning curves above: where does the training curve end furthest above the validation "
           "curve?",
           "Few images and many epochs invite memorising, and dropout works against it: the small MLPs saw 1,500 "
           "images for many epochs, one of them with dropout; your `kh` ANN saw many more images for a few epochs."),
    context=("results",), demo_context=_demo_q5, solution_example="small_plain",
    expected=_largest_gap, same=lambda a, b: a == b, validate=_model_name_problem, on_correct=_gap_reveal,
    mistakes=(
        Mistake("give the training's name (a key of `results`, e.g. 'small_plain'), not a number: the check "
                "measures the gaps for you.", 0.05,
                detect=lambda a, ctx: isinstance(a, numbers.Number) or isinstance(a, np.number)),
        Mistake("that is not one of the trainings in `results`; predict one of its keys, e.g. 'small_plain' (the "
                "studies' `uw_mlp`, `kh_ann` and `pack_mlp` are trained in the studies track, not in this lesson).",
                "kh_ann", detect=_not_a_model),
        Mistake("predict one training, the one whose gap you expect to be the largest, not several.",
                ("small_plain", "small_dropout"),
                detect=lambda a, ctx: isinstance(a, (tuple, list, set, frozenset, dict))),
    ),
)

# ------------------------------------------------------------------------------------------------ q6

LEARNS = 0.45
"""The validation accuracy above which exercise 6's training counts as learning (chance is 0.10)."""


def train_broken(x_train, y_train, x_val, y_val, epochs, seed=42):
    """The training exercise 6 hands out: it runs, and never learns (three bugs)."""
    import keras

    keras.utils.set_random_seed(seed)
    order = np.random.default_rng(seed).permutation(len(x_train))
    x_train = x_train[order]  # shuffle the training images
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="relu")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=64, verbose=0)


def _last_activation(model: Any) -> str | None:
    try:
        act = model.layers[-1].get_config().get("activation")
    except Exception:  # noqa: BLE001
        return None
    return act if isinstance(act, str) or act is None else getattr(act, "__name__", str(act))


def _optimizer_name(model: Any) -> str:
    return type(getattr(model, "optimizer", None)).__name__


def _diagnose_fixed(history: Any, ctx: dict[str, Any]) -> Finding | None:
    fit = read_fit(history, "fixed_history")
    if layer_types(fit.model) != ["Flatten", "Dense", "Dense"] or int(fit.model.count_params()) != _MLP_128:
        return Finding("architecture", f"the model's layers are {layer_types(fit.model)} with "
                                       f"{int(fit.model.count_params()):,} parameters; keep `train_broken`'s model")
    rate = learning_rate(fit.model)
    if _optimizer_name(fit.model) != "SGD" or rate is None or not math.isclose(rate, 0.1, rel_tol=1e-4):
        return Finding("optimizer", f"the model trained with {_optimizer_name(fit.model)} at learning rate {rate}")
    n, epochs = int(ctx["n_images"]), int(ctx["epochs"])
    if fit.epochs != epochs or fit.steps != math.ceil(n / 64):
        return Finding("settings", f"{fit.epochs} epoch(s) of {fit.steps} batches; the task keeps {epochs} of "
                                   f"{math.ceil(n / 64)} (batches of 64 from {n:,} images)")
    if not all(math.isfinite(v) for v in fit.curves.get("loss", [])):
        return Finding("nan", "the training loss became NaN or infinite")
    if _last_activation(fit.model) != "softmax":
        return Finding("no_softmax", f"the output layer's activation is {_last_activation(fit.model)!r}")
    x_val, y_val = ctx["validation"]
    raw, scaled = np.asarray(x_val, dtype="float32"), np.asarray(x_val, dtype="float32") / 255
    if not scores_match(fit, scaled, y_val):
        if scores_match(fit, raw, y_val):
            return Finding("unscaled", "the model's validation scores are its scores on 0-255 images")
        return Finding("other_validation", "the model does not reproduce its last `val_accuracy` on the validation "
                                           "images divided by 255")
    accuracy = accuracy_of(fit.model, scaled, y_val)
    if accuracy < LEARNS:
        return Finding("apart", f"validation accuracy {accuracy:.1%} after {fit.epochs} epoch(s), no better than "
                                f"guessing (10%)")
    return None


def _fixed_reveal(history: Any, ctx: dict[str, Any]) -> str:
    fit = read_fit(history, "fixed_history")
    accuracy = accuracy_of(fit.model, np.asarray(ctx["validation"][0], dtype="float32") / 255, ctx["validation"][1])
    return (f"it learns: {accuracy:.1%} on the validation images after {fit.epochs} epoch(s), with the same model, "
            f"optimizer and batches as the broken version. The three bugs: the images were shuffled without their "
            f"labels, the pixels were never scaled (SGD at 0.1 on values up to 255 overshoots), and the output "
            f"layer was a ReLU, so its 10 numbers were no probabilities for the loss to compare with the labels.")


@lru_cache(maxsize=1)
def _demo_fixed() -> dict[str, Any]:
    """Models of the tests, untrained: their scores on validation images labelled by the right one's own answers."""
    import keras

    def mlp(seed: int, output: str = "softmax", optimizer: Any = None):
        keras.utils.set_random_seed(seed)
        init = keras.initializers.RandomNormal(stddev=0.5, seed=seed)
        model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                                  keras.layers.Dense(128, activation="relu", bias_initializer=init),
                                  keras.layers.Dense(10, activation=output, bias_initializer=init)])
        model.compile(optimizer=optimizer or keras.optimizers.SGD(learning_rate=0.1),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    x = np.random.default_rng(6).integers(0, 256, (40, 28, 28)).astype("uint8")
    right = mlp(1)
    y = np.asarray(right(x.astype("float32") / 255, training=False)).argmax(axis=1)
    return {"right": right, "guessing": mlp(2), "relu": mlp(1, output="relu"),
            "adam": mlp(1, optimizer=keras.optimizers.Adam(0.1)), "x": x, "y": y}


def _fixed_history(model: str = "right", scale: float = 255.0, steps: int = 1, **kw: Any) -> Callable:
    def make(ctx: dict[str, Any]) -> Any:
        demo = _demo_fixed()
        return fake_history(demo[model], (demo["x"].astype("float32") / scale, demo["y"]), steps=steps, **kw)

    return make


def _demo_q6() -> dict[str, Any]:
    demo = _demo_fixed()
    return {"epochs": 1, "n_images": 64, "validation": (demo["x"], demo["y"])}


q6 = Build(
    key="q6", title="The training that never learns", kind="code", minutes=25, difficulty="hard",
    task="`train_broken` runs without an error and its validation accuracy stays at chance. Find its three bugs and "
         "write `train_fixed` with the same arguments, model, optimizer and batch size, which returns what `fit` "
         "returns; the check reads the history and scores its model.",
    hints=("Check one thing at a time: print `x_train.max()` where the model sees it; look at what the shuffle "
           "moves and what it leaves in place; read the output layer and ask what the loss expects of it.",
           "Three changes: shuffle images and labels with the same order (`x_train[order], y_train[order]`, or "
           "leave the shuffling to `fit`), divide the training and the validation images by 255, and give the "
           "output layer `activation='softmax'`."),
    context=("epochs", "n_images", "validation"), demo_context=_demo_q6, solution_example=_fixed_history(),
    diagnose=_diagnose_fixed, reveal=_fixed_reveal,
    mistakes=(
        Mistake("the model learns nothing: the images were shuffled and the labels were not, so no image is paired "
                "with its own label any more. Shuffle both with one order, `x_train[order], y_train[order]`.",
                _fixed_history("guessing"), detect=Found("apart")),
        Mistake("the pixels are still 0-255: SGD at learning rate 0.1 overshoots on inputs that large. Divide the "
                "training and the validation images by 255.", _fixed_history(scale=1.0),
                detect=Found("unscaled")),
        Mistake("the output layer still has a ReLU: the loss compares 10 probabilities with the label, so the last "
                "layer needs `activation='softmax'`.", _fixed_history("relu"), detect=Found("no_softmax")),
        Mistake("the optimizer was changed: the bugs are elsewhere, and SGD at 0.1 learns well once they are fixed. "
                "Keep `keras.optimizers.SGD(learning_rate=0.1)`.", _fixed_history("adam"),
                detect=Found("optimizer")),
        Mistake("keep `train_broken`'s settings: the epochs it is given and batches of 64.",
                _fixed_history(steps=5), detect=Found("settings")),
        Mistake("the loss became NaN or infinite: that happens when the pixels stay at 0-255 or the output layer "
                "is not a softmax; fix those bugs.",
                lambda ctx: FakeHistory(_demo_fixed()["right"], {"loss": [float("nan")], "accuracy": [0.1],
                                                                 "val_accuracy": [0.1]}, 1, 1),
                detect=Found("nan")),
        Mistake("pass what `train_fixed` returns, the History that `fit` returns (not its `.history` dictionary): "
                "the check scores the model in it.", lambda ctx: _fixed_history()(ctx).history,
                detect=Found("history_dict", "not_history")),
    ),
)

# ------------------------------------------------------------------------------------------------ q7


def _reference_epoch(model, optimizer, loss_fn, x, y, batch_size, *, ascent=False, last_batch=True,
                     training=True):
    """One epoch of mini-batch gradient descent in order, by `tf.GradientTape`; the mean of the batch losses."""
    import tensorflow as tf

    losses = []
    stop = len(x) if last_batch else len(x) - len(x) % batch_size
    for start in range(0, stop, batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=training))
            if ascent:
                loss = -loss
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(abs(float(loss)))
    return float(np.mean(losses))


def _epoch_whole(model, optimizer, loss_fn, x, y, batch_size):
    return _reference_epoch(model, optimizer, loss_fn, x, y, len(x))


def _epoch_drop_last(model, optimizer, loss_fn, x, y, batch_size):
    return _reference_epoch(model, optimizer, loss_fn, x, y, batch_size, last_batch=False)


def _epoch_no_update(model, optimizer, loss_fn, x, y, batch_size):
    return float(np.mean([float(loss_fn(y[i:i + batch_size], model(x[i:i + batch_size], training=True)))
                          for i in range(0, len(x), batch_size)]))


def _epoch_ascent(model, optimizer, loss_fn, x, y, batch_size):
    return _reference_epoch(model, optimizer, loss_fn, x, y, batch_size, ascent=True)


def _epoch_inference(model, optimizer, loss_fn, x, y, batch_size):
    return _reference_epoch(model, optimizer, loss_fn, x, y, batch_size, training=False)


def _epoch_last_loss(model, optimizer, loss_fn, x, y, batch_size):
    """The right steps, returning the last batch's loss instead of the mean."""
    import tensorflow as tf

    loss = None
    for start in range(0, len(x), batch_size):
        with tf.GradientTape() as tape:
            loss = loss_fn(y[start:start + batch_size], model(x[start:start + batch_size], training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return float(loss)


def _epoch_full_data(model, optimizer, loss_fn, x, y, batch_size):
    """One step per batch, each on the loss of all the data: the batch never used."""
    import tensorflow as tf

    losses = []
    for _ in range(0, len(x), batch_size):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss))
    return float(np.mean(losses))


_EPOCH_VARIANTS = {"whole_batch": _epoch_whole, "drops_last": _epoch_drop_last, "no_update": _epoch_no_update,
                   "ascent": _epoch_ascent, "inference": _epoch_inference, "full_data": _epoch_full_data}


def _epoch_setup():
    """A small model with batch norm, its SGD optimizer, loss and 50 examples in batches of 16 (4 steps, the last
    of 2)."""
    import keras

    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8), keras.layers.BatchNormalization(),
                              keras.layers.ReLU(), keras.layers.Dense(3, activation="softmax")])
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(50, 6)).astype("float32"), rng.integers(0, 3, 50)
    return model, keras.optimizers.SGD(learning_rate=0.1), keras.losses.SparseCategoricalCrossentropy(), x, y, 16


def _weights(model: Any) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


def _run_epoch(function: Any) -> tuple[Any, Any, Any, list[np.ndarray]]:
    """(the returned loss, the model, the optimizer, the model's weights before) after `function` ran one epoch."""
    model, optimizer, loss_fn, x, y, batch = _epoch_setup()
    before = _weights(model)
    out = run_student(function, (model, optimizer, loss_fn, x, y, batch), "train_one_epoch")
    return out, model, optimizer, before


def _diagnose_epoch(function: Any, ctx: dict[str, Any]) -> Finding | None:
    import keras

    out, model, optimizer, before = _run_epoch(function)
    try:
        steps = int(keras.ops.convert_to_numpy(optimizer.iterations))
    except Exception:  # noqa: BLE001
        steps = -1
    after = _weights(model)

    def reference(variant: Any) -> tuple[Any, list[np.ndarray]]:
        ref_out, ref_model, _, _ = _run_epoch(variant)
        return ref_out, _weights(ref_model)

    right_out, right_weights = reference(_reference_epoch)
    if steps == 0 or all(np.allclose(a, b) for a, b in zip(after, before)):
        return Finding("no_update", f"the optimizer took {steps} steps and the weights did not change")
    if steps != 4:
        code = {1: "whole_batch", 3: "drops_last"}.get(steps, "steps")
        return Finding(code, f"50 examples in batches of 16 should take 4 optimizer steps (the last batch of 2 "
                             f"included); yours took {steps}")
    if not all(np.allclose(a, b, atol=1e-5) for a, b in zip(after, right_weights)):
        for code in ("ascent", "inference", "full_data"):
            if all(np.allclose(a, b, atol=1e-5) for a, b in zip(after, reference(_EPOCH_VARIANTS[code])[1])):
                return Finding(code, "the weights after the epoch are those of that mistake")
        return Finding("weights", "after the epoch the weights differ from those of mini-batch gradient descent "
                                  "over the batches in order")
    if not is_number(out):
        return Finding("form", f"return the mean of the batch losses as one number; got {_short(out)}")
    if not math.isclose(float(out), right_out, rel_tol=1e-4):
        if math.isclose(float(out), right_out * 4, rel_tol=1e-4):
            return Finding("sum_loss", f"{float(out):.4f} is the sum of the 4 batch losses")
        return Finding("loss_value", f"{float(out):.4f} is not the mean of the 4 batch losses, {right_out:.4f}")
    return None


q7 = Build(
    key="q7", title="One epoch by hand", kind="code", minutes=25, difficulty="hard",
    task="Write `train_one_epoch(model, optimizer, loss_fn, x, y, batch_size)`: one epoch of mini-batch gradient "
         "descent with `tf.GradientTape`, the batches in order, the last smaller one included, one optimizer step "
         "each; it returns the mean of the batch losses.",
    hints=("For each batch: inside `with tf.GradientTape() as tape:` compute `loss = loss_fn(yb, model(xb, "
           "training=True))`; then `grads = tape.gradient(loss, model.trainable_variables)` and "
           "`optimizer.apply_gradients(zip(grads, model.trainable_variables))`.",
           "`for start in range(0, len(x), batch_size):` with `xb, yb = x[start:start + batch_size], "
           "y[start:start + batch_size]` gives every batch, the last smaller one too. Keep `float(loss)` of each "
           "batch in a list and return `np.mean` of it."),
    solution_example=lambda ctx: _reference_epoch, diagnose=_diagnose_epoch, time_limit=60.0,
    reveal=lambda a, ctx: ("your epoch takes the 4 steps `fit` would take on 50 examples in batches of 16 and ends "
                           "with the same weights as mini-batch gradient descent in order; batch norm learned its "
                           "statistics because the model ran with `training=True`. That loop is what `fit` runs, "
                           "plus shuffling, metrics and callbacks."),
    mistakes=(
        Mistake("the weights never change: the gradients must be applied, "
                "`optimizer.apply_gradients(zip(grads, model.trainable_variables))`, once per batch.",
                lambda ctx: _epoch_no_update, detect=Found("no_update")),
        Mistake("that is one step on all the data at once (full-batch gradient descent); an epoch of mini-batches "
                "takes one step per batch of `batch_size`.", lambda ctx: _epoch_whole, detect=Found("whole_batch")),
        Mistake("the last, smaller batch was skipped: `range(0, len(x), batch_size)` reaches it, and `fit` trains "
                "on it too.", lambda ctx: _epoch_drop_last, detect=Found("drops_last")),
        Mistake("the weights climbed the loss instead of descending it: apply the gradients of the loss itself, "
                "not of its negative; the optimizer subtracts them.", lambda ctx: _epoch_ascent,
                detect=Found("ascent")),
        Mistake("the model ran in inference mode: call it with `training=True` inside the tape, so that batch norm "
                "uses the batch's statistics (and dropout drops) as in `fit`.", lambda ctx: _epoch_inference,
                detect=Found("inference")),
        Mistake("each step used the loss of all the data, not of its batch: compute the loss on `xb, yb` inside "
                "the tape.", lambda ctx: _epoch_full_data, detect=Found("full_data")),
        Mistake("that is the sum of the batch losses; return their mean.",
                lambda ctx: (lambda *args: 4 * _reference_epoch(*args)), detect=Found("sum_loss")),
        Mistake("that is not the mean of the batch losses: keep `float(loss)` of every batch and return their mean "
                "(the last batch's loss alone is not it).", lambda ctx: _epoch_last_loss,
                detect=Found("loss_value")),
    ),
)

LADDER = {"q1": WARM_UP, "q2": CORE, "q3": WARM_UP, "q4": CORE, "q5": WARM_UP, "q6": STRETCH, "q7": STRETCH}

EXERCISES = [q1, q2, q3, q4, q5, q6, q7]
