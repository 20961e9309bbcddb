"""Exercises of notebook 04 (the convolutional network): an output shape, a parameter count, the shape formula,
the kh CNN in plain Keras, dropout against the overfitting gap, and the target label smoothing trains towards.

Usage:
    ex = exercises.for_notebook("04_cnn"); ex.q1.check((26, 26, 32))
"""
from __future__ import annotations

import math
from typing import Any

from .common import fraction_for_points, history_values, need_int_tuple, need_number, sign_error
from .core import Answer, Function, Mistake, NotAnswered, same_number

TITLE = "The convolutional network"

# ------------------------------------------------------------------------------------------------ q1

_need_shape = need_int_tuple(3)


def _shape_problem(answer: Any, context: dict[str, Any] | None = None) -> str | None:
    if isinstance(answer, (tuple, list)) and len(answer) == 4 and answer[0] is None:
        return ("leave out the batch dimension `None` that Keras prints first: give (height, width, channels) of "
                "one image.")
    return _need_shape(answer, context)


q1 = Answer(
    key="q1", title="The shape after one convolution", kind="compute", minutes=3, difficulty="easy",
    task="What is the output shape, (height, width, channels), of `Conv2D(32, 3)` (no padding) applied to one "
         "28 x 28 greyscale image of shape (28, 28, 1)?",
    hints=("Without padding a 3x3 filter only fits where the whole 3x3 window lies inside the image.",
           "Each side becomes 28 - 3 + 1; every one of the 32 filters makes one output channel."),
    expected=(26, 26, 32), validate=_shape_problem, solution_example=(26, 26, 32),
    on_correct=lambda a, ctx: "(26, 26, 32): the first row of the kh CNN's layer table above.",
    mistakes=(
        Mistake("that keeps the 28 x 28 size, as `padding='same'` would; without padding the filter cannot be "
                "centred on the border pixels, so each side loses 2.", (28, 28, 32)),
        Mistake("off by one: a 3-wide filter fits at 28 - 3 + 1 = 26 positions along a side, not 28 - 3.",
                (25, 25, 32)),
        Mistake("the channels come from the filters: 32 filters give 32 output channels, whatever the input has.",
                (26, 26, 1)),
    ),
)

# ------------------------------------------------------------------------------------------------ q2

_CONV_PARAMS = 3 * 3 * 32 * 64 + 64

q2 = Answer(
    key="q2", title="The parameters of a convolution", kind="compute", minutes=5, difficulty="medium",
    task="How many trainable parameters does `Conv2D(64, 3)` have when its input has 32 channels? Give one whole "
         "number.",
    hints=("Each filter is a 3 x 3 window that looks at every input channel at once, and it has its own bias.",
           "One filter has 3 * 3 * 32 weights plus 1 bias; the layer has 64 such filters."),
    expected=_CONV_PARAMS, validate=need_number, solution_example=_CONV_PARAMS,
    on_correct=lambda a, ctx: ("18,496, whatever the image size: the same 64 filters slide over every position. "
                               "A dense layer from a 13 x 13 x 32 input to 64 units would need 346,176."),
    mistakes=(
        Mistake("that counts the weights only; each of the 64 filters also has a bias (add 64).", 3 * 3 * 32 * 64),
        Mistake("a filter spans all 32 input channels, so it has 3 * 3 * 32 weights, not 3 * 3.", 3 * 3 * 64 + 64),
        Mistake("that is one filter; the layer has 64 of them.", 3 * 3 * 32 + 1),
    ),
)

# ------------------------------------------------------------------------------------------------ q3


def _conv_output_size(size: int, kernel: int, stride: int = 1, padding: str = "valid") -> int:
    if padding == "same":
        return math.ceil(size / stride)
    return (size - kernel) // stride + 1


def _conv_cases() -> list[tuple]:
    return [(28, 3, 1, "valid"), (28, 3, 1, "same"), (28, 3, 2, "valid"), (28, 2, 2, "valid"), (28, 3, 2, "same"),
            (27, 5, 2, "valid"), (13, 2, 2, "valid"), (7, 3, 2, "same"), (32, 5, 3, "valid"), (11, 3, 1, "valid")]


q3 = Function(
    key="q3", title="The output-size formula", kind="code", minutes=10, difficulty="medium",
    task="Write `conv_output_size(size, kernel, stride=1, padding='valid')`: the side length Keras gives after a "
         "convolution or pooling window of side `kernel` moved `stride` pixels at a time, with 'valid' or 'same' "
         "padding.",
    hints=("'valid' counts the positions where the whole window fits: start at 0 and step by `stride` while the "
           "window stays inside. 'same' pads the border so that only the stride shrinks the image.",
           "'valid': `(size - kernel) // stride + 1`. 'same': `math.ceil(size / stride)`, or "
           "`(size + stride - 1) // stride`."),
    name="conv_output_size", cases=_conv_cases, reference=_conv_output_size, solution_example=_conv_output_size,
    mistakes=(
        Mistake("off by one: the window fits at `(size - kernel) // stride + 1` positions; the first position "
                "counts too.",
                lambda size, kernel, stride=1, padding="valid":
                math.ceil(size / stride) if padding == "same" else (size - kernel) // stride),
        Mistake("the stride is ignored: a window moved 2 pixels at a time fits about half as many times.",
                lambda size, kernel, stride=1, padding="valid": size if padding == "same" else size - kernel + 1),
        Mistake("'same' padding is treated like 'valid': 'same' pads the border so that with stride 1 the size "
                "stays the same.",
                lambda size, kernel, stride=1, padding="valid": (size - kernel) // stride + 1),
        Mistake("that is not a whole number: round down with `//` (a window that would stick out is dropped), and "
                "round up for 'same'.",
                lambda size, kernel, stride=1, padding="valid": size / stride if padding == "same"
                else (size - kernel) / stride + 1),
    ),
)

# ------------------------------------------------------------------------------------------------ q4


def _build_kh_cnn():
    import keras

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def _kh_variant(padding: str = "valid", pools: int = 2, flatten: bool = True, head: str = "softmax"):
    """A wrong kh CNN, for the mistakes' examples."""
    import keras

    L = keras.layers
    layers = [keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu", padding=padding)]
    layers += [L.MaxPooling2D(2)] if pools >= 1 else []
    layers += [L.Conv2D(32, 3, activation="relu", padding=padding)]
    layers += [L.MaxPooling2D(2)] if pools >= 2 else []
    layers += [L.Conv2D(32, 3, activation="relu", padding=padding)]
    layers += [L.Flatten()] if flatten else []
    layers += [L.Dense(32, activation="relu"), L.Dense(10, activation=head)]
    return keras.Sequential(layers)


def _layers(model: Any) -> list:
    """The model's layers without an InputLayer (a functional model lists one, a Sequential does not)."""
    try:
        return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    except Exception:  # noqa: BLE001 - not a model
        return []


def _types(model: Any) -> list[str]:
    return [type(layer).__name__ for layer in _layers(model)]


def _config(layer: Any, key: str) -> Any:
    try:
        return layer.get_config().get(key)
    except Exception:  # noqa: BLE001
        return None


def _activation(layer: Any) -> Any:
    act = _config(layer, "activation")
    return act if isinstance(act, str) or act is None else getattr(act, "__name__", str(act))


def _shapes(model: Any) -> list[tuple] | None:
    try:
        return [tuple(layer.output.shape[1:]) for layer in _layers(model)]
    except Exception:  # noqa: BLE001 - an unbuilt model has no output shapes
        return None


def _verify_kh_cnn(model: Any, args: tuple) -> str | None:
    from fmnist_helpers.models import registry as models

    import keras

    if not isinstance(model, keras.Model):
        return f"return the Keras model itself, e.g. `return keras.Sequential([...])`; got {type(model).__name__}."
    reference = models.build_model("kh_cnn")
    mine, theirs = _types(model), _types(reference)
    if mine != theirs:
        return f"the layers in order should be {theirs}; yours are {mine}."
    shapes = _shapes(model)
    if shapes is None:
        return "Keras does not know the input shape: start the list with `keras.Input((28, 28, 1))`."
    if shapes != _shapes(reference):
        return f"the output shapes should be {_shapes(reference)}; yours are {shapes}."
    acts = [_activation(layer) for layer in _layers(model) if hasattr(layer, "kernel")]
    want = [_activation(layer) for layer in _layers(reference) if hasattr(layer, "kernel")]
    if acts != want:
        return f"the activations of the convolutions and dense layers should be {want}; yours are {acts}."
    try:
        n = model.count_params()
    except Exception:  # noqa: BLE001
        return "Keras cannot count the parameters: start the list with `keras.Input((28, 28, 1))`."
    if n != reference.count_params():
        return f"the model has {n:,} parameters; the kh CNN has {reference.count_params():,}."
    return None


q4 = Function(
    key="q4", title="The kh CNN in plain Keras", kind="code", minutes=10, difficulty="medium",
    task="Write `build_kh_cnn()`, which returns the kh base CNN as a `keras.Sequential` model: the layer types, "
         "output shapes and 28,394 parameters of the layer table above.",
    hints=("Read the layer table above from top to bottom: three 3x3 convolutions with 32 filters, a 2x2 max pool "
           "after the first two, then Flatten, a dense layer of 32 and the 10-way output.",
           "`keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(32, 3, activation='relu'), "
           "keras.layers.MaxPooling2D(2), ...])`; the hidden layers use 'relu' and the output 'softmax'."),
    name="build_kh_cnn", cases=lambda: [()], verify=_verify_kh_cnn, solution_example=_build_kh_cnn,
    describe=lambda args: "", time_limit=60.0,
    mistakes=(
        Mistake("a MaxPooling2D layer is missing: the kh CNN pools after each of its first two convolutions "
                "(26 -> 13 and 11 -> 5).", lambda: _kh_variant(pools=1),
                detect=lambda out, args: bool(_layers(out)) and _types(out).count("MaxPooling2D") < 2),
        Mistake("the convolutions use `padding='same'`; the kh CNN uses Keras's default 'valid', so each "
                "convolution shrinks the side by 2.", lambda: _kh_variant(padding="same"),
                detect=lambda out, args: any(_config(layer, "padding") == "same" for layer in _layers(out))),
        Mistake("there is no Flatten layer: without it the dense layers act on each of the 3 x 3 positions "
                "separately, and the output is not one vector of 10 scores per image.",
                lambda: _kh_variant(flatten=False),
                detect=lambda out, args: bool(_layers(out)) and "Flatten" not in _types(out)),
        Mistake("the last layer needs `activation='softmax'`, so that the 10 outputs are probabilities.",
                lambda: _kh_variant(head=None),
                detect=lambda out, args: bool(_layers(out)) and _activation(_layers(out)[-1]) != "softmax"),
    ),
)

# ------------------------------------------------------------------------------------------------ q5


def _history(ctx: dict[str, Any], name: str) -> dict[str, list]:
    train, val = history_values(ctx[name], "train"), history_values(ctx[name], "validation")
    if train is None or val is None:
        raise NotAnswered(f"`{name}` must be what `model.fit(..., validation_data=...)` returns, with 'accuracy' "
                          f"and 'val_accuracy' in its history (compile with metrics=['accuracy'])")
    return {"accuracy": train, "val_accuracy": val}


def _gap(ctx: dict[str, Any], name: str) -> float:
    h = _history(ctx, name)
    try:
        return (float(h["accuracy"][-1]) - float(h["val_accuracy"][-1])) * 100
    except (TypeError, ValueError):
        raise NotAnswered(f"the history `{name}` should hold accuracies, numbers between 0 and 1.") from None


def _dropout_gap(ctx: dict[str, Any]) -> float:
    return _gap(ctx, "dropout")


def _demo_q5() -> dict[str, Any]:
    return {"base": {"accuracy": [0.74, 0.84, 0.87], "val_accuracy": [0.80, 0.83, 0.845]},
            "dropout": {"accuracy": [0.69, 0.80, 0.83], "val_accuracy": [0.78, 0.82, 0.838]}}


def _last_change(ctx: dict[str, Any], curve: str) -> float:
    """Dropout model minus base model at the last epoch, in points, for "accuracy" or "val_accuracy"."""
    return (float(_history(ctx, "dropout")[curve][-1]) - float(_history(ctx, "base")[curve][-1])) * 100


def _q5_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    base = _gap(ctx, "base")
    train, val = _last_change(ctx, "accuracy"), _last_change(ctx, "val_accuracy")
    text = f"with dropout the gap is {answer:.2f} points, without it {base:.2f}. "
    if answer < base:
        text += f"Dropout lowered it by {base - answer:.2f} points"
    else:
        text += f"Here dropout did not lower it ({answer - base:+.2f} points)"
    text += (f": it changed the training accuracy by {train:+.2f} points (Keras measures it with dropout on) and the "
             f"validation accuracy by {val:+.2f} (measured with dropout off). ")
    narrowed_only = answer < base and val < 0
    text += ("It narrowed the gap without helping on new images: what counts in the end is the validation accuracy."
             if narrowed_only else "What counts in the end is the validation accuracy.")
    if base < 1:
        text += (f" Without dropout the gap is {base:.2f} points after {len(_history(ctx, 'base')['accuracy'])} "
                 f"epoch(s): the model has hardly begun to overfit, and more epochs (the full profile trains 10) "
                 f"give it the time to.")
    return text


q5 = Answer(
    key="q5", title="Dropout and the overfitting gap", kind="experiment", minutes=15, difficulty="medium",
    task="Train your kh CNN twice on the same images for the same epochs, as it is and with `Dropout(0.5)` after "
         "Flatten, and report the overfitting gap of the dropout model at its last epoch: training minus "
         "validation accuracy, in points.",
    hints=("Train both models the same way: same seed, images, epochs and batch size, with `validation_data` "
           "set to images that are not among the training images.",
           "`h = model.fit(..., validation_data=(x_val, y_val))`; the gap in points is "
           "`(h.history['accuracy'][-1] - h.history['val_accuracy'][-1]) * 100`."),
    context=("base", "dropout"), demo_context=_demo_q5, solution_example=_dropout_gap,
    expected=_dropout_gap, validate=need_number, same=lambda a, b: abs(a - b) < 0.01, on_correct=_q5_reveal,
    mistakes=(
        sign_error("the task asks for training minus validation accuracy", _dropout_gap),
        fraction_for_points(_dropout_gap),
        Mistake("that is the gap of the model without dropout; the task asks for the dropout model's.",
                lambda ctx: _gap(ctx, "base")),
    ),
)

# ------------------------------------------------------------------------------------------------ q6

_SMOOTHING, _CLASS, _N_CLASSES = 0.1, 2, 10
_SMOOTHED = [(1 - _SMOOTHING) * (k == _CLASS) + _SMOOTHING / _N_CLASSES for k in range(_N_CLASSES)]


def _vector_problem(answer: Any, context: dict[str, Any] | None = None) -> str | None:
    try:
        values = [float(v) for v in answer]
    except (TypeError, ValueError):
        return "give 10 numbers, one per class: a list such as [0.01, ...] or a NumPy array."
    if len(values) != _N_CLASSES:
        return f"give one number per class: 10 numbers, not {len(values)}."
    if not math.isclose(sum(values), 1.0, abs_tol=1e-6):
        return (f"your numbers add up to {sum(values):.4f}; a target is a probability distribution over the 10 "
                "classes, so they must add up to 1.")
    return None


q6 = Answer(
    key="q6", title="What label smoothing trains towards", kind="compute", minutes=5, difficulty="easy",
    task="`pack_cnn_fast` trains with `label_smoothing=0.1`. For an image of class 2 (of 10 classes), what target "
         "vector does Keras's `CategoricalCrossentropy(label_smoothing=0.1)` train the model towards? Give 10 "
         "numbers.",
    hints=("Keras takes 0.1 of the probability away from the one-hot vector and shares it out evenly over all "
           "10 classes, the right one included.",
           "Each entry is `one_hot * (1 - 0.1) + 0.1 / 10`; `np.eye(10)[2]` is the one-hot vector of class 2."),
    expected=_SMOOTHED, same=lambda a, b: same_number(a, b, abs_tol=1e-6), validate=_vector_problem,
    solution_example=_SMOOTHED,
    on_correct=lambda a, ctx: ("0.91 for class 2 and 0.01 for each other class. The loss is lowest when the model "
                               "predicts exactly that, so it gains nothing by pushing a probability towards 1: "
                               "its outputs stay moderate, which steadies a short, fast schedule."),
    mistakes=(
        Mistake("that shares the 0.1 among the 9 other classes only; Keras shares it among all 10, so the right "
                "class keeps 0.9 + 0.01.", [0.9 if k == _CLASS else 0.1 / 9 for k in range(_N_CLASSES)]),
        Mistake("that is the one-hot vector itself: with label smoothing the target moves 0.1 of the probability "
                "away from it.", [float(k == _CLASS) for k in range(_N_CLASSES)]),
        Mistake("the right class is class 2, counting from 0 (the third entry).",
                [0.91 if k == 1 else 0.01 for k in range(_N_CLASSES)]),
    ),
)

EXERCISES = [q1, q2, q3, q4, q5, q6]
