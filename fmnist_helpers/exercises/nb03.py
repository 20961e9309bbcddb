"""Exercises of notebook 03 (the multilayer perceptron): counting parameters, an MLP in plain Keras, weight updates,
reading a training history, and which of the lesson's trainings overfits most.

Usage:
    ex = exercises.for_notebook("03_mlp"); ex.q1.check(784 * 256 + 256)
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .common import history_values, is_number, need_number, percent_for_fraction
from .ladder import CORE, STRETCH, WARM_UP
from .core import Answer, Function, Mistake, Prediction

TITLE = "The multilayer perceptron"

# ------------------------------------------------------------------------------------------------ q1

q1 = Answer(
    key="q1", title="Parameters of one dense layer", kind="compute", minutes=3, difficulty="easy",
    task="How many trainable parameters does `Dense(256)` have when it receives the 784 pixels of a flattened "
         "image? Give one whole number.",
    hints=("A dense layer has one weight for every input-output pair, and one bias for every output unit.",
           "784 x 256 weights, plus 256 biases."),
    solution_code="answer_q1 = 784 * 256 + 256   # weights + one bias per unit = 200,960",
    expected=784 * 256 + 256, validate=need_number, solution_example=784 * 256 + 256,
    on_correct=lambda a, ctx: "200,960: one layer of 256 units on raw pixels already holds 200,704 weights.",
    mistakes=(
        Mistake("that counts the weights only; every unit also has a bias.", 784 * 256),
        Mistake("there is one bias per output unit (256), not one per input (784).", 784 * 256 + 784),
        Mistake("that is one weight per unit; every unit has a weight for each of the 784 inputs.", 256 + 256),
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
        return f"calling the model on a batch of images of shape (28, 28) raised {type(err).__name__}: {str(err)[:150]}"


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
    return None


def _sequential(hidden, flatten=True, output=True, softmax=True):
    import keras

    layers = [keras.Input((28, 28))] + ([keras.layers.Flatten()] if flatten else [])
    layers += [keras.layers.Dense(units, activation="relu") for units in hidden]
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
    solution_code=("def build_mlp(hidden):\n"
                   "    layers = [keras.Input((28, 28)), keras.layers.Flatten()]\n"
                   "    layers += [keras.layers.Dense(units, activation='relu') for units in hidden]\n"
                   "    layers.append(keras.layers.Dense(10, activation='softmax'))\n"
                   "    return keras.Sequential(layers)"),
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
        Mistake("the output must have 10 units, one per class: end with `Dense(10, activation='softmax')` after the "
                "hidden layers.",
                lambda hidden: _sequential(hidden, output=False), detect=_wrong_units),
    ),
)

# ------------------------------------------------------------------------------------------------ q3

_UPDATES = -(-60_000 // 64) * 20

q3 = Answer(
    key="q3", title="How many weight updates?", kind="compute", minutes=4, difficulty="easy",
    task="The `kh` ANN trains on 60,000 images at batch size 64 for 20 epochs; how many times are its weights "
         "updated in all? Give one whole number.",
    hints=("The weights change once per batch. How many batches make one epoch?",
           "60,000 / 64 = 937.5: Keras keeps the last half batch, so an epoch has 938 batches. Multiply by the "
           "epochs."),
    solution_code="answer_q3 = math.ceil(60_000 / 64) * 20   # 938 batches per epoch, 20 epochs",
    expected=_UPDATES, validate=need_number, solution_example=_UPDATES,
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

def _history_problem(answer: Any, ctx: dict[str, Any]) -> str | None:
    if history_values(ctx["history"], "validation") is None:
        return ("the history has no validation accuracy: pass `validation_split=0.2` to `fit` and "
                "`metrics=['accuracy']` to `compile`, then pass `history=history.history` to the check.")
    return need_number(answer)


def _best_val(ctx: dict[str, Any]) -> float:
    return max(history_values(ctx["history"], "validation"))


def _demo_q4() -> dict[str, Any]:
    return {"history": {"loss": [0.82, 0.51, 0.44], "accuracy": [0.71, 0.81, 0.85],
                        "val_loss": [0.58, 0.49, 0.50], "val_accuracy": [0.79, 0.834, 0.829]}}


def _close(a: Any, b: Any) -> bool:
    return is_number(a) and is_number(b) and abs(float(a) - float(b)) < 5e-4


q4 = Answer(
    key="q4", title="Train it and read the history", kind="experiment", minutes=12, difficulty="medium",
    task="Compile and fit `build_mlp((128,))` for `epochs` epochs with 20% of the images held out for validation, "
         "and report the best validation accuracy of any epoch, as a fraction.",
    hints=("`model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])`, then "
           "`history = model.fit(x_small, y_small, validation_split=0.2, epochs=epochs, verbose=0).history`.",
           "`history` is a dict of lists, one value per epoch: the validation accuracy is "
           "`history['val_accuracy']`, and its best value is `max(...)` of that list."),
    solution_code=("keras.utils.set_random_seed(run.seed)\n"
                   "model = build_mlp((128,))\n"
                   "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
                   "history = model.fit(x_small, y_small, validation_split=0.2, epochs=epochs, batch_size=128,\n"
                   "                    verbose=0).history\n"
                   "best_val = max(history['val_accuracy'])"),
    context=("history",), demo_context=_demo_q4, solution_example=_best_val,
    expected=_best_val, validate=_history_problem, same=_close,
    on_correct=lambda a, ctx: (f"best validation accuracy {a:.4f}, at epoch "
                               f"{int(np.argmax(history_values(ctx['history'], 'validation'))) + 1} of "
                               f"{len(history_values(ctx['history'], 'validation'))}."),
    mistakes=(
        Mistake("that is the last epoch's validation accuracy; the task asks for the best epoch, `max(...)` over "
                "all epochs.", lambda ctx: history_values(ctx["history"], "validation")[-1]),
        Mistake("that is a training accuracy (`history['accuracy']`); the task asks for the validation accuracy, "
                "`history['val_accuracy']`.", lambda ctx: max(history_values(ctx["history"], "train") or [-1.0]),
                detect=lambda a, ctx: any(_close(a, v) for v in history_values(ctx["history"], "train") or [])),
        percent_for_fraction(_best_val),
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
    solution_code=("prediction = 'small_plain'   # any name in results is a valid prediction;\n"
                   "# the check shows each training's final gap"),
    context=("results",), demo_context=_demo_q5, solution_example="small_plain",
    expected=_largest_gap, same=lambda a, b: a == b, validate=_model_name_problem, on_correct=_gap_reveal,
    mistakes=(
        Mistake("give the training's name (a key of `results`, e.g. 'small_plain'), not a number: the check "
                "measures the gaps for you.", 0.05,
                detect=lambda a, ctx: isinstance(a, numbers.Number) or isinstance(a, np.number)),
        Mistake("that is not one of the trainings in `results`; predict one of its keys, e.g. 'small_plain' (the "
                "studies' `uw_mlp`, `kh_ann` and `pack_mlp` are trained in the studies track, not in this lesson).",
                "kh_ann", detect=_not_a_model),
    ),
)

LADDER = {"q1": WARM_UP, "q2": CORE, "q3": WARM_UP, "q4": CORE, "q5": WARM_UP}

EXERCISES = [q1, q2, q3, q4, q5]
