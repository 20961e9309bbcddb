"""Exercises of notebook 04 (the convolutional network): an output shape, a parameter count, the shape formula,
the kh CNN in plain Keras, dropout against the overfitting gap, the target label smoothing trains towards, and two
stretch exercises: a convolution written in NumPy and a CNN trained to a target on a budget.

Usage:
    ex = exercises.for_notebook("04_cnn"); ex.q1.check((14, 14, 16))
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from .builds import (Attempt, Build, FakeHistory, Finding, Fit, Found, accuracy_of, fake_history, layer_types,
                     read_fit, run_student, runs_on, scores_match, stop, validated_on)
from .common import is_number, need_int_tuple, need_number
from .core import Answer, Function, Mistake, _short, same_number
from .givens import Formula, Given, call, ceil, floor, named
from .ladder import CORE, STRETCH, WARM_UP

TITLE = "The convolutional network"

# ------------------------------------------------------------------------------------------------ q1

_need_shape = need_int_tuple(3)
_Q1 = (14, 14, 16)  # Conv2D(16, 5, strides=2) on (32, 32, 3): (32 - 5) // 2 + 1 = 14


def _shape_problem(answer: Any, context: dict[str, Any] | None = None) -> str | None:
    if isinstance(answer, (tuple, list)) and len(answer) == 4 and answer[0] is None:
        return ("leave out the batch dimension `None` that Keras prints first: give (height, width, channels) of "
                "one image.")
    if isinstance(answer, (tuple, list)) and len(answer) == 2:
        return "give three numbers, (height, width, channels): the output has one channel per filter."
    return _need_shape(answer, context)


def _channels_first(answer: Any, context: dict[str, Any]) -> bool:
    """The 16 channels written first, whatever the sides: the channels-first layout."""
    try:
        h, w, c = (int(v) for v in answer)
    except (TypeError, ValueError):
        return False
    return h == _Q1[2] and c != _Q1[2]


def _off_by_one(answer: Any, context: dict[str, Any]) -> bool:
    """Both sides one more or one less than the right side, the channels right: a window position miscounted."""
    try:
        h, w, c = (int(v) for v in answer)
    except (TypeError, ValueError):
        return False
    return c == _Q1[2] and h == w and abs(h - _Q1[0]) == 1


_FILTERS_Q1 = Given("filters", 16, "{} filters", noun="the number of filters")
_SIDE_Q1 = floor((Given("size", 32, "a {0} x {0} input", others={28: "a Fashion-MNIST image"},
                        noun="the side of the input")
                  - Given("kernel", 5, "a {0} x {0} kernel", others={3: ""}, noun="the kernel's side"))
                 / Given("stride", 2, "stride {}", others={1: ""}, noun="the stride"),
                 "a window that would stick out past the border is dropped") + named(1, "the first position")
_Q1_FORMULA = Formula((_SIDE_Q1, _SIDE_Q1, _FILTERS_Q1),
                      also=(Given("channels", 3, "the input's {} channels", noun="the input's channels"),))

q1 = Answer(
    key="q1", title="The shape after a strided convolution", kind="compute", minutes=4, difficulty="easy",
    task="What is the output shape, (height, width, channels), of `Conv2D(16, 5, strides=2)` (no padding) applied to "
         "one 32 x 32 colour image of shape (32, 32, 3)?",
    hints=("Without padding a 5 x 5 window only fits where it lies wholly inside the image, and with stride 2 it "
           "moves 2 pixels at a time. Each of the 16 filters makes one output channel.",
           "Along a side the window starts at 0, 2, 4, ... as long as start + 5 <= 32: (32 - 5) // 2 + 1 positions."),
    expected=_Q1, validate=_shape_problem, solution_example=_Q1, formula=_Q1_FORMULA,
    on_correct=lambda a, ctx: ("(14, 14, 16): the window fits at 14 positions along each side (starts 0, 2, ..., 26), "
                               "and each of the 16 filters, 5 x 5 x 3 weights and a bias, makes one channel. The "
                               "input's 3 channels are summed inside every filter, so they do not appear in the "
                               "output."),
    mistakes=(
        Mistake("that divides the input by the stride before subtracting the kernel, 32 / 2 - 5 + 1 = 12; the stride "
                "divides the room the window has to move, (32 - 5) // 2 + 1 = 14.", (12, 12, 16)),
        Mistake("that is the channels-first order (PyTorch's, or Keras with `data_format='channels_first'`); Keras "
                "puts the channels last: (height, width, channels). Check the height and width too.", (16, 14, 14),
                detect=_channels_first),
        Mistake("the stride is left out: a window moved 2 pixels at a time fits about half as many times, "
                "(32 - 5) // 2 + 1.", (28, 28, 16)),
        Mistake("off by one: with stride 2 the window starts at 0, 2, ..., 26, that is (32 - 5) // 2 + 1 = 14 "
                "positions; the first position counts, and a window that would stick out past the border is "
                "dropped (round down).", (15, 15, 16), detect=_off_by_one),
        Mistake("the channels come from the filters: 16 filters give 16 output channels; the input's 3 channels are "
                "summed inside each filter.", (14, 14, 3)),
        Mistake("that is what `padding='same'` gives (32 / 2 = 16); without padding the window must lie wholly "
                "inside the image.", (16, 16, 16)),
    ),
)

# ------------------------------------------------------------------------------------------------ q2

_CONV_PARAMS = 3 * 3 * 32 * 64 + 64
_KERNEL = Given("kernel", 3, "a {0} x {0} kernel", others={5: "", 2: "", 1: ""}, noun="the kernel's side")
_Q2_FORMULA = Formula(
    (named(_KERNEL ** 2 * Given("channels", 32, "{} input channels", others={3: "a colour image", 1: "a greyscale "
                                                                            "image"}, noun="the input's channels"),
           "the weights of one filter") + named(1, "the bias of each filter"))
    * Given("filters", 64, "{} filters", others={16: "", 128: ""}, noun="the number of filters"))

q2 = Answer(
    key="q2", title="The parameters of a convolution", kind="compute", minutes=5, difficulty="medium",
    task="How many trainable parameters does `Conv2D(64, 3)` have when its input has 32 channels? Give one whole "
         "number.",
    hints=("Each filter is a 3 x 3 window that looks at every input channel at once, and it has its own bias.",
           "One filter has 3 * 3 * 32 weights plus 1 bias; the layer has 64 such filters."),
    expected=_CONV_PARAMS, validate=need_number, solution_example=_CONV_PARAMS, formula=_Q2_FORMULA,
    on_correct=lambda a, ctx: ("18,496, whatever the image size: the same 64 filters slide over every position. "
                               "A dense layer from a 13 x 13 x 32 input to 64 units would need 346,176."),
    mistakes=(
        Mistake("that counts the weights only; each of the 64 filters also has a bias (add 64).", 3 * 3 * 32 * 64),
        Mistake("that counts 32 biases, one per input channel, or takes 32 filters on 64 input channels (the two "
                "givens swapped): both give this number. The layer has 64 filters, each with a 3 x 3 x 32 window "
                "and one bias.", 3 * 3 * 32 * 64 + 32),
        Mistake("a filter spans all 32 input channels, so it has 3 * 3 * 32 weights, not 3 * 3.", 3 * 3 * 64 + 64),
        Mistake("that is one filter; the layer has 64 of them.", 3 * 3 * 32 + 1),
        Mistake("the count per filter is off: the answer is 64 filters of some number of parameters each, and one "
                "filter has 3 * 3 * 32 = 288 weights (its window over every input channel) and one bias: 289.",
                (3 * 3 + 1) * 32 * 64,
                # a multiple of 64 that no single misread given or left-out part explains (its formula says those)
                detect=lambda a, ctx: is_number(a) and float(a) % 64 == 0 and float(a) != _CONV_PARAMS
                and float(a) != 3 * 3 * 32 * 64 and _Q2_FORMULA.explain(a, same_number) is None),
    ),
)

# ------------------------------------------------------------------------------------------------ q3


def _conv_output_size(size: int, kernel: int, stride: int = 1, padding: str = "valid") -> int:
    if padding == "same":
        return math.ceil(size / stride)
    return (size - kernel) // stride + 1


def _conv_formula(size: int, kernel: int, stride: int = 1, padding: str = "valid") -> Formula:
    """`_conv_output_size` of one case as a formula of its arguments."""
    size_ = Given("size", size, "size {}", noun="`size`")
    kernel_ = Given("kernel", kernel, "kernel {}", noun="`kernel`")
    stride_ = Given("stride", stride, "stride {}", noun="`stride`")
    if padding == "same":
        return Formula(ceil(size_ / stride_, "with 'same' padding the last, partial window still counts"),
                       also=(kernel_,))
    return Formula(floor((size_ - kernel_) / stride_, "a window that would stick out past the border is dropped")
                   + named(1, "the first position"))


def _conv_cases() -> list[tuple]:
    return [(28, 3, 1, "valid"), (28, 3, 1, "same"), (28, 3, 2, "valid"), (28, 2, 2, "valid"), (28, 3, 2, "same"),
            (27, 5, 2, "valid"), (13, 2, 2, "valid"), (7, 3, 2, "same"), (32, 5, 3, "valid"), (11, 3, 1, "valid"),
            (28, 2, 2, "same"), (9, 4, 1, "same"),  # even kernels: padding kernel // 2 a side over-pads them
            (10, 3, 3, "same"), (5, 3, 2, "same"), (29, 3, 3, "valid")]  # round() differs from ceil and floor


def _conv_variant(valid: Callable[[int, int, int], Any] | None = None,
                  same: Callable[[int, int, int], Any] | None = None) -> Callable[..., Any]:
    """`_conv_output_size` with its 'valid' or its 'same' rule replaced."""
    def size_after(size, kernel, stride=1, padding="valid"):
        rule = (same or (lambda s, k, st: math.ceil(s / st))) if padding == "same" else (
            valid or (lambda s, k, st: (s - k) // st + 1))
        return rule(size, kernel, stride)
    return size_after


_CONV_ALTERNATIVES = (
    (_conv_variant(valid=lambda s, k, st: (s - k + 1) // st),
     "that adds the 1 before dividing, `(size - kernel + 1) // stride`; the first position is added after the "
     "division: `(size - kernel) // stride + 1`."),
    (_conv_variant(valid=lambda s, k, st: s - k // st + 1),
     "that is `size - kernel // stride + 1`: Python divides before it subtracts, so only the kernel is divided; "
     "bracket the difference, `(size - kernel) // stride + 1`."),
    (_conv_variant(valid=lambda s, k, st: (s - k) // st + 1 if st == 1 else (s - k) // st),
     "with a stride above 1 it leaves out the + 1 for the first position; the first position counts whatever the "
     "stride: `(size - kernel) // stride + 1`."),
    (_conv_variant(same=lambda s, k, st: s // st + 1),
     "'same' is computed as `size // stride + 1`, one too many when the stride divides the size; round up instead, "
     "`math.ceil(size / stride)`."),
    (_conv_variant(same=lambda s, k, st: (s + 2 * (k // 2) - k) // st + 1),
     "'same' is computed as padding `kernel // 2` on each side, which pads an even kernel one pixel too many; "
     "Keras pads just enough for `math.ceil(size / stride)` positions, whatever the kernel."),
)


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
    formula=_conv_formula, alternatives=_CONV_ALTERNATIVES,
    mistakes=(
        Mistake("off by one: the window fits at `(size - kernel) // stride + 1` positions; the first position "
                "counts too.",
                lambda size, kernel, stride=1, padding="valid":
                math.ceil(size / stride) if padding == "same" else (size - kernel) // stride),
        Mistake("the stride is ignored: a window moved 2 pixels at a time fits about half as many times.",
                lambda size, kernel, stride=1, padding="valid": size if padding == "same" else size - kernel + 1),
        Mistake("'same' rounds up: with padding the last, partial window still counts, so the size is "
                "`math.ceil(size / stride)`; `size // stride` drops it.",
                lambda size, kernel, stride=1, padding="valid":
                size // stride if padding == "same" else (size - kernel) // stride + 1,
                detect=lambda out, args: len(args) > 3 and args[3] == "same" and out == args[0] // args[2]
                and args[0] % args[2] != 0),
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


def _kh_cnn_with_dropout(rate: float):
    """The kh CNN with `Dropout(rate)` right after Flatten (exercise 5's second model)."""
    import keras

    model = _build_kh_cnn()
    layers = [layer for layer in model.layers]
    at = [type(layer).__name__ for layer in layers].index("Flatten") + 1
    return keras.Sequential([keras.Input((28, 28, 1)), *layers[:at], keras.layers.Dropout(rate), *layers[at:]])


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

_STATEMENTS = {
    "A": "with dropout the gap is narrower and the validation accuracy higher",
    "B": "with dropout the gap is narrower but the validation accuracy not higher",
    "C": "with dropout the gap is not narrower",
}


def _fits(ctx: dict[str, Any]) -> tuple[Fit, Fit]:
    return read_fit(ctx["base"], "base_history"), read_fit(ctx["dropout"], "dropout_history")


def _at(fit: Fit, epoch: int = -1) -> dict[str, float]:
    return {"train": fit.curves["accuracy"][epoch], "val": fit.curves["val_accuracy"][epoch]}


def _statement_by(base: Fit, dropout: Fit, epoch: int = -1, gap_sign: int = 1, higher_by: str = "val") -> str:
    """The statement read off two histories: the gap as training minus validation (`gap_sign` 1) or the reverse
    (-1), "higher" judged by the validation or the training accuracy."""
    b, d = _at(base, epoch), _at(dropout, epoch)
    narrower = gap_sign * (d["train"] - d["val"]) < gap_sign * (b["train"] - b["val"])
    if not narrower:
        return "C"
    return "A" if d[higher_by] > b[higher_by] else "B"


def _readings(base: Fit, dropout: Fit) -> dict[str, str]:
    """The statement the histories support ("right"), and the one each common misreading of them gives."""
    best = {"train": max(base.curves["accuracy"]), "val": max(base.curves["val_accuracy"])}, \
        {"train": max(dropout.curves["accuracy"]), "val": max(dropout.curves["val_accuracy"])}
    by_best = ("C" if best[1]["train"] - best[1]["val"] >= best[0]["train"] - best[0]["val"]
               else "A" if best[1]["val"] > best[0]["val"] else "B")
    return {"right": _statement_by(base, dropout), "gap_reversed": _statement_by(base, dropout, gap_sign=-1),
            "train_for_val": _statement_by(base, dropout, higher_by="train"),
            "first_epoch": _statement_by(base, dropout, epoch=0), "best_epoch": by_best}


def _dropout_layers(model: Any) -> list:
    try:
        return [layer for layer in model.layers if type(layer).__name__ == "Dropout"]
    except Exception:  # noqa: BLE001
        return []


def _diagnose_q5(answer: Any, ctx: dict[str, Any]) -> Finding | None:
    base, dropout = _fits(ctx)
    epochs = int(ctx["epochs"])
    for fit in (base, dropout):
        if fit.epochs != epochs:
            return Finding("epochs", f"`{fit.name}` trained for {fit.epochs} epoch(s); the task asks for {epochs}")
    if base.steps != dropout.steps:
        return Finding("not_same", f"the two runs took {base.steps} and {dropout.steps} steps per epoch: train both "
                                   f"on the same images with the same batch size")
    with_dropout = layer_types(dropout.model)
    if _dropout_layers(base.model):
        return Finding("base_dropout", "the model in `base_history` has a Dropout layer")
    drops = _dropout_layers(dropout.model)
    if len(drops) != 1 or not math.isclose(float(drops[0].rate), 0.5):
        return Finding("no_dropout", f"the model in `dropout_history` has {len(drops)} Dropout layer(s)"
                                     f"{f' of rate {float(drops[0].rate):g}' if len(drops) == 1 else ''}; the task "
                                     f"asks for one, `Dropout(0.5)`")
    at = with_dropout.index("Dropout")
    if at == 0 or with_dropout[at - 1] != "Flatten" or with_dropout[:at] + with_dropout[at + 1:] != layer_types(
            base.model):
        return Finding("dropout_place", f"the dropout model's layers are {with_dropout}; they should be the base "
                                        f"model's, {layer_types(base.model)}, with Dropout right after Flatten")
    for fit in (base, dropout):
        if not scores_match(fit, *ctx["validation"]):
            return Finding("other_validation", f"the model in `{fit.name}` does not reproduce its last "
                                               f"`val_accuracy` on the validation images (the 1,000 after the "
                                               f"first n): validate both runs on them, and do not train the models "
                                               f"again after `fit`")
    choice = answer.strip().upper() if isinstance(answer, str) else answer
    if choice not in _STATEMENTS:
        return Finding("form", f"answer with one letter, 'A', 'B' or 'C', the statement your run supports; got "
                               f"{_short(answer)}")
    readings = _readings(base, dropout)
    if choice == readings["right"]:
        return None
    for misreading in ("gap_reversed", "train_for_val", "first_epoch", "best_epoch"):
        if choice == readings[misreading]:
            return Finding(misreading, f"your histories support {readings['right']!r}: "
                                       f"{_STATEMENTS[readings['right']]}")
    return Finding("wrong", f"your histories support {readings['right']!r}, not {choice!r}.")


def _q5_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    base, dropout = _fits(ctx)
    b, d = _at(base), _at(dropout)
    gap_b, gap_d = (b["train"] - b["val"]) * 100, (d["train"] - d["val"]) * 100
    train, val = (d["train"] - b["train"]) * 100, (d["val"] - b["val"]) * 100
    text = (f"{answer.strip().upper()}: the gap is {gap_d:.2f} points with dropout and {gap_b:.2f} without. Dropout "
            f"changed the training accuracy by {train:+.2f} points (Keras measures it with dropout on) and the "
            f"validation accuracy by {val:+.2f} (measured with dropout off). ")
    text += ("It narrowed the gap without helping on new images: what counts in the end is the validation accuracy."
             if gap_d < gap_b and val <= 0 else "What counts in the end is the validation accuracy.")
    if gap_b < 1:
        text += (f" Without dropout the gap is {gap_b:.2f} points after {base.epochs_run} epoch(s): the model has "
                 f"hardly begun to overfit, and more epochs (the full profile trains 10) give it the time to.")
    return text


@lru_cache(maxsize=1)
def _demo_q5_models() -> tuple[Any, Any, np.ndarray, np.ndarray]:
    """Two untrained kh CNNs, without and with dropout, whose output biases make them answer class 0 and class 1
    always, and 60 validation images, 48 of class 1: validation accuracy 0.2 and 0.8 (the tests; no training)."""
    import keras

    keras.utils.set_random_seed(1)
    models = _build_kh_cnn(), _kh_cnn_with_dropout(0.5)
    for model, favoured in zip(models, (0, 1)):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.layers[-1].bias.assign(np.where(np.arange(10) == favoured, 50.0, 0.0).astype("float32"))
    x = np.random.default_rng(3).random((60, 28, 28, 1)).astype("float32")
    y = np.where(np.arange(60) < 48, 1, 0)
    return (*models, x, y)


def _demo_curves(base_train: list[float], base_val_first: float, dropout_train: list[float],
                 dropout_val_first: float) -> dict[str, Any]:
    """The two demo histories with these training accuracies and first-epoch validation accuracies; the last
    epoch's validation scores are the models' own (0.2 and 0.8)."""
    base, dropout, x, y = _demo_q5_models()
    hb, hd = fake_history(base, (x, y), epochs=2), fake_history(dropout, (x, y), epochs=2)
    hb.history["accuracy"], hb.history["val_accuracy"][0] = list(base_train), base_val_first
    hd.history["accuracy"], hd.history["val_accuracy"][0] = list(dropout_train), dropout_val_first
    return {"base": hb, "dropout": hd}


def _demo_q5() -> dict[str, Any]:
    # last epoch: gaps 0.75 and 0.02, validation 0.2 and 0.8: statement A; read by training accuracy (0.95 against
    # 0.82) it is B, the gap reversed it is C, and the first epoch (gaps 0.05 and 0.10) gives C
    _, _, x, y = _demo_q5_models()
    return {**_demo_curves([0.25, 0.95], 0.2, [0.90, 0.82], 0.8), "epochs": 2, "validation": (x, y)}


def _shifted(history: Any) -> Any:
    """The history with its validation scores off what its model gives on the demo's validation images."""
    shifted = FakeHistory(history.model, {k: list(v) for k, v in history.history.items()}, history.params["epochs"])
    shifted.history["val_accuracy"][-1] = min(1.0, shifted.history["val_accuracy"][-1] + 0.2)
    return shifted


def _demo_fit(model_name: str, **kw: Any) -> Any:
    """A history of one of the demo's models, scored on the demo's validation images."""
    base, dropout, x, y = _demo_q5_models()
    return fake_history({"base": base, "dropout": dropout}[model_name], (x, y), **kw)


def _q5_attempt(**histories: Any) -> Callable[[dict[str, Any]], Attempt]:
    """A mistake's example: the right statement given with other histories (functions of the demo context)."""
    return lambda ctx: Attempt("A", {name: make(ctx) for name, make in histories.items()})


q5 = Build(
    key="q5", title="Dropout and the overfitting gap", kind="experiment", minutes=15, difficulty="medium",
    task="Train your kh CNN twice on the same images for the same epochs, as it is and with `Dropout(0.5)` after "
         "Flatten; the check reads both histories and their models, and you say which statement, A, B or C, your "
         "run supports.",
    hints=("Train both models the same way: `keras.utils.set_random_seed(run.seed)` before each, the same images, "
           "epochs and batch size, and `validation_data` set to images that are not among the training images.",
           "The gap is `h['accuracy'][-1] - h['val_accuracy'][-1]` of each history `h = history.history`: training "
           "minus validation, at the last epoch. Compare the two gaps, then the two last `val_accuracy` values."),
    context=("base", "dropout", "epochs", "validation"), demo_context=_demo_q5, solution_example="A",
    diagnose=_diagnose_q5, reveal=_q5_reveal,
    mistakes=(
        Mistake("the gap is training minus validation accuracy; read that way round, a narrower gap is a smaller "
                "difference, not a larger one.", "C", detect=Found("gap_reversed")),
        Mistake("'higher' is about the validation accuracy (`val_accuracy`), measured with dropout off on new "
                "images; the training accuracy is measured with dropout on, so dropout lowers it by design.", "B",
                detect=Found("train_for_val")),
        Mistake("read the last epoch, `[-1]`, not the first or the best: the statements are about where training "
                "ended.",
                # first epoch: gaps 0.4 and 0.1, validation 0.5 and 0.4 (B); the last epoch still gives A
                lambda ctx: Attempt("B", _demo_curves([0.9, 0.95], 0.5, [0.5, 0.96], 0.4)),
                detect=Found("first_epoch", "best_epoch")),
        Mistake("pass what `fit` returned (the History objects), not their `.history` dictionaries: the check reads "
                "the models they trained.", _q5_attempt(dropout=lambda ctx: ctx["dropout"].history),
                detect=Found("history_dict", "not_history")),
        Mistake("Dropout(0.5) belongs in the second model only, right after Flatten; the rest of the two models is "
                "the same.", _q5_attempt(dropout=lambda ctx: _demo_fit("base", epochs=2)),
                detect=Found("base_dropout", "no_dropout", "dropout_place")),
        Mistake("train both models for the epochs the task gives, on the same images with the same batch size.",
                _q5_attempt(base=lambda ctx: _demo_fit("base", epochs=3)), detect=Found("epochs", "not_same")),
        Mistake("the validation scores in a history do not come from the validation images the task names: validate "
                "both runs on `(x_q5[n_q5:], y_q5[n_q5:])`, never on the test images.",
                _q5_attempt(base=lambda ctx: _shifted(ctx["base"])), detect=Found("other_validation")),
    ),
)

# ------------------------------------------------------------------------------------------------ q6

_SMOOTHING, _CLASS, _N_CLASSES = 0.1, 2, 10
_SMOOTHED = [(1 - _SMOOTHING) * (k == _CLASS) + _SMOOTHING / _N_CLASSES for k in range(_N_CLASSES)]


def _smoothed(smoothing: float, label: int, classes: int = _N_CLASSES) -> list[float]:
    return [(1 - smoothing) * (k == label) + smoothing / classes for k in range(_N_CLASSES)]


_Q6_FORMULA = Formula(call(_smoothed, Given("smoothing", _SMOOTHING, "label_smoothing={}",
                                            others={0.2: "", 0.05: "", 0.01: "", 0.9: "the share kept"}),
                           Given("label", _CLASS, "class {}", others={1: "", 3: ""}),
                           Given("classes", _N_CLASSES, "{} classes", others={9: "the other classes only"},
                                 has="Keras shares it over all 10 classes")))


def _vector_problem(answer: Any, context: dict[str, Any] | None = None) -> str | None:
    try:
        values = [float(v) for v in answer]
    except (TypeError, ValueError):
        return "give 10 numbers, one per class: a list such as [0.01, ...] or a NumPy array."
    if len(values) != _N_CLASSES:
        return f"give one number per class: 10 numbers, not {len(values)}."
    if not math.isclose(sum(values), 1.0, abs_tol=1e-6):
        rest = [v for i, v in enumerate(values) if i != int(np.argmax(values))]
        if math.isclose(max(values), 1.0, abs_tol=1e-6) and all(math.isclose(v, 0.1, abs_tol=1e-6) for v in rest):
            return ("your numbers add up to 1.9: that adds the whole 0.1 to every class. Label smoothing moves 0.1 of "
                    "the probability off the one-hot vector and shares it among the 10 classes, 0.1 / 10 = 0.01 each; "
                    "the right class keeps 1 - 0.1 = 0.9 plus its own 0.01.")
        if math.isclose(max(values), 0.9, abs_tol=1e-6) and all(math.isclose(v, 0.01, abs_tol=1e-6) for v in rest):
            return ("your numbers add up to 0.99: the other classes' 0.01 each is right, but the right class keeps "
                    "1 - 0.1 = 0.9 and also gets its own share of the 0.1, 0.1 / 10 = 0.01: 0.91.")
        share = rest[0]
        if all(math.isclose(v, share, abs_tol=1e-9) for v in rest):
            if math.isclose(share, 0.0, abs_tol=1e-9) and math.isclose(max(values), 0.9, abs_tol=1e-6):
                return ("your numbers add up to 0.9: the 0.1 taken off the right class went to no class. Keras shares "
                        "it among all 10 classes, 0.1 / 10 = 0.01 each, the right class's 0.9 included: 0.91.")
            parts = 0.1 / share if share > 0 else 0.0
            if parts >= 1 and math.isclose(parts, round(parts), abs_tol=1e-6) and round(parts) != _N_CLASSES:
                return (f"your numbers add up to {sum(values):.4f}: each other class gets {share:g} = 0.1 / "
                        f"{round(parts)}, the 0.1 shared among {round(parts)} classes; Keras shares it among all 10 "
                        f"classes, 0.01 each.")
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
    formula=_Q6_FORMULA,
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
                [0.91 if k == 1 else 0.01 for k in range(_N_CLASSES)],
                detect=lambda a, ctx: _vector_problem(a) is None and np.isclose(max(a), 0.91)
                and int(np.argmax(a)) != _CLASS),
    ),
)

# ------------------------------------------------------------------------------------------------ q7


def _conv2d(images: np.ndarray, kernels: np.ndarray, bias: np.ndarray, stride: int = 1) -> np.ndarray:
    """What Keras's Conv2D computes (no padding, no activation): a cross-correlation over every input channel."""
    images, kernels = np.asarray(images, dtype="float64"), np.asarray(kernels, dtype="float64")
    n, h, w, _ = images.shape
    k = kernels.shape[0]
    rows, cols = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.empty((n, rows, cols, kernels.shape[3]))
    for i in range(rows):
        for j in range(cols):
            window = images[:, i * stride:i * stride + k, j * stride:j * stride + k, :]
            out[:, i, j, :] = np.tensordot(window, kernels, axes=([1, 2, 3], [0, 1, 2]))
    return out + np.asarray(bias, dtype="float64")


def _conv_flipped(images, kernels, bias, stride=1):
    return _conv2d(images, np.asarray(kernels)[::-1, ::-1], bias, stride)


def _conv_no_bias(images, kernels, bias, stride=1):
    return _conv2d(images, kernels, np.zeros_like(np.asarray(bias)), stride)


def _conv_channels_first(images, kernels, bias, stride=1):
    return np.transpose(_conv2d(images, kernels, bias, stride), (0, 3, 1, 2))


def _conv_off_by_one(images, kernels, bias, stride=1):
    return _conv2d(images, kernels, bias, stride)[:, :-1, :-1, :]


def _conv_stride_ignored(images, kernels, bias, stride=1):
    return _conv2d(images, kernels, bias, 1)


def _conv_transposed_kernel(images, kernels, bias, stride=1):
    return _conv2d(images, np.transpose(kernels, (1, 0, 2, 3)), bias, stride)


def _conv_first_channel(images, kernels, bias, stride=1):
    return _conv2d(np.asarray(images)[..., :1], np.asarray(kernels)[:, :, :1, :], bias, stride)


def _conv_cases() -> list[tuple]:
    rng = np.random.default_rng(11)
    return [(rng.normal(size=(2, 7, 6, 3)), rng.normal(size=(3, 3, 3, 4)), rng.normal(size=4), 1),
            (rng.normal(size=(1, 9, 9, 2)), rng.normal(size=(3, 3, 2, 2)), rng.normal(size=2), 2),
            (rng.normal(size=(3, 8, 8, 1)), rng.normal(size=(2, 2, 1, 3)), rng.normal(size=3), 3)]


def _conv_window_not_strided(images, kernels, bias, stride=1):
    rows = (np.asarray(images).shape[1] - np.asarray(kernels).shape[0]) // stride + 1
    cols = (np.asarray(images).shape[2] - np.asarray(kernels).shape[0]) // stride + 1
    return _conv2d(images, kernels, bias, 1)[:, :rows, :cols, :]


def _conv_bias_in_sum(images, kernels, bias, stride=1):
    kernels = np.asarray(kernels)
    products = kernels.shape[0] * kernels.shape[1] * kernels.shape[2]
    return _conv2d(images, kernels, products * np.asarray(bias, dtype="float64"), stride)


def _conv_batch_summed(images, kernels, bias, stride=1):
    bias = np.asarray(bias, dtype="float64")
    summed = (_conv2d(images, kernels, np.zeros_like(bias), stride)).sum(axis=0, keepdims=True) + bias
    return np.repeat(summed, np.asarray(images).shape[0], axis=0)


def _conv_relu(images, kernels, bias, stride=1):
    return np.maximum(_conv2d(images, kernels, bias, stride), 0.0)


_CONV_VARIANTS = {"batch_summed": _conv_batch_summed, "bias_in_sum": _conv_bias_in_sum, "relu": _conv_relu, "window_not_strided": _conv_window_not_strided, "flipped": _conv_flipped, "no_bias": _conv_no_bias, "channels_first": _conv_channels_first,
                  "off_by_one": _conv_off_by_one, "stride_ignored": _conv_stride_ignored,
                  "kernel_transposed": _conv_transposed_kernel, "one_channel": _conv_first_channel}


def _diagnose_conv(conv2d: Any, ctx: dict[str, Any]) -> Finding | None:
    for args in _conv_cases():
        images, kernels, bias, stride = args
        kept = [np.array(a, copy=True) for a in args[:3]]
        out = run_student(conv2d, args, "conv2d")
        if any(not np.array_equal(a, b) for a, b in zip(args[:3], kept)):
            return Finding("in_place", "your function changed the arrays it was given")
        try:
            out = np.asarray(out, dtype="float64")
        except (TypeError, ValueError):
            return Finding("form", f"return a NumPy array of numbers; got {_short(out)}")
        want = _conv2d(*args)
        where = f"images {images.shape}, kernels {kernels.shape}, stride {stride}"
        if out.shape == want.shape and np.allclose(out, want, atol=1e-6):
            continue
        for code, variant in _CONV_VARIANTS.items():
            wrong = variant(*args)
            if out.shape == wrong.shape and not (wrong.shape == want.shape and np.allclose(wrong, want)) \
                    and np.allclose(out, wrong, atol=1e-6):
                return Finding(code, f"first failing case: {where}")
        if out.shape != want.shape:
            if out.ndim == 4 and out.shape[1:3] == (images.shape[1], images.shape[2]):
                return Finding("same_padding", f"{where}: your output has shape {out.shape}, Keras's {want.shape}")
            return Finding("shape", f"{where}: your output has shape {out.shape}; Keras's Conv2D gives {want.shape}")
        return Finding("values", f"{where}: the shape is right but the values differ from Keras's Conv2D by up to "
                                 f"{np.abs(out - want).max():.3g}")
    return None


q7 = Build(
    key="q7", title="A convolution in NumPy", kind="code", minutes=25, difficulty="hard",
    task="Write `conv2d(images, kernels, bias, stride=1)` in NumPy: what `keras.layers.Conv2D` computes without "
         "padding or activation, for images (n, height, width, channels in) and kernels (k, k, channels in, "
         "filters), the layout Keras stores.",
    hints=("The output has (height - k) // stride + 1 rows and as many columns by the same rule, and one channel "
           "per filter. Each output value is the sum, over the k x k window and every input channel, of window "
           "times kernel, plus the filter's bias.",
           "Loop over the output rows i and columns j: `window = images[:, i*stride:i*stride+k, j*stride:j*stride+k, "
           ":]` has shape (n, k, k, c_in); `np.tensordot(window, kernels, axes=([1, 2, 3], [0, 1, 2]))` gives (n, "
           "filters) for that position. Do not flip the kernel: Keras computes a cross-correlation."),
    solution_example=lambda ctx: _conv2d, diagnose=_diagnose_conv, time_limit=60.0, runs=runs_on(_conv_cases),
    reveal=lambda a, ctx: ("your convolution gives what Keras's Conv2D gives on every hidden case, strides 1 to 3 "
                           "and 1 to 3 input channels: a sliding window summed over every input channel, the "
                           "kernel unflipped (a cross-correlation, as in every deep-learning library)."),
    mistakes=(
        Mistake("the kernel is flipped: that is the convolution of a signal-processing textbook; Keras (like every "
                "deep-learning library) computes a cross-correlation, `window * kernel` as they lie.",
                lambda ctx: _conv_flipped, detect=Found("flipped")),
        Mistake("the bias is added to every product inside the window's sum, so it counts k x k x channels times; "
                "add it once to each output value, after the sum (`np.sum(window * kernel) + bias`, not "
                "`np.sum(window * kernel + bias)`).", lambda ctx: _conv_bias_in_sum, detect=Found("bias_in_sum")),
        Mistake("every image of the batch got the same output, the sum over all the images: a sum without `axis` "
                "adds up the batch axis too; sum over the window and the channels only, `axis=(1, 2, 3)`, keeping "
                "one value per image.", lambda ctx: _conv_batch_summed, detect=Found("batch_summed")),
        Mistake("the filters' biases are missing: add `bias`, one number per output channel.",
                lambda ctx: _conv_no_bias, detect=Found("no_bias")),
        Mistake("the output is channels first, (n, filters, rows, cols); Keras keeps channels last, (n, rows, cols, "
                "filters).", lambda ctx: _conv_channels_first, detect=Found("channels_first")),
        Mistake("off by one: a window of side k fits at (size - k) // stride + 1 positions; the last position counts "
                "too (`range(rows)` with rows = (h - k) // stride + 1).", lambda ctx: _conv_off_by_one,
                detect=Found("off_by_one")),
        Mistake("that applies a ReLU to the output (negative values set to 0): Conv2D without an activation, as the "
                "task asks, returns the sums plus the bias as they are; the activation is a separate choice, "
                "`activation='relu'`.", lambda ctx: _conv_relu, detect=Found("relu")),
        Mistake("the output has the strided size, but each window starts at row i and column j, one pixel after the "
                "last: with stride s output (i, j) reads the window at rows i*s to i*s+k and columns j*s to j*s+k.",
                lambda ctx: _conv_window_not_strided, detect=Found("window_not_strided")),
        Mistake("the stride is ignored: with stride s the window moves s pixels at a time, so it starts at rows 0, "
                "s, 2s, ...", lambda ctx: _conv_stride_ignored, detect=Found("stride_ignored")),
        Mistake("that output keeps the input's height and width, as `padding='same'` would; without padding the "
                "window must lie wholly inside the image.",
                lambda ctx: (lambda images, kernels, bias, stride=1: np.zeros(
                    (images.shape[0], images.shape[1], images.shape[2], kernels.shape[3]))),
                detect=Found("same_padding")),
        Mistake("the function changed the arrays it was given; compute into a new array.",
                lambda ctx: _conv_in_place, detect=Found("in_place")),
        Mistake("the kernel's rows and columns are swapped: `kernels[i, j]` weighs the pixel i rows down and j "
                "columns across the window, as `window[:, i, j, :]`.", lambda ctx: _conv_transposed_kernel,
                detect=Found("kernel_transposed")),
        Mistake("only one input channel was used: each filter sums over the window and over every input channel, "
                "`window[:, :, :, :]` against `kernels[:, :, :, f]`.", lambda ctx: _conv_first_channel,
                detect=Found("one_channel")),
    ),
)


def _conv_in_place(images, kernels, bias, stride=1):
    images -= 0.5  # a "centring" step done in place
    return _conv2d(images + 0.5, kernels, bias, stride)


# ------------------------------------------------------------------------------------------------ q8

BUDGET_PARAMETERS = 20_000
"""The largest CNN exercise 8 allows."""
BUDGET_TARGETS = {"fashion_mnist": {"smoke": 0.65, "quick": 0.83, "full": 0.83},
                  "mnist": {"smoke": 0.75, "quick": 0.96, "full": 0.96},
                  "synthetic": {"demo": 0.6}}  # the exercises' tests
"""Exercise 8's validation accuracy target by dataset and profile (smoke: 2,000 images and 1 epoch; quick and full:
12,000 images and 3 epochs)."""


def budget_epochs(max_epochs: int) -> int:
    """The epochs exercise 8 allows in a profile."""
    return min(max_epochs, 3)


def _target(ctx: dict[str, Any]) -> float:
    try:
        return BUDGET_TARGETS[str(ctx["dataset"])][str(ctx["profile"])]
    except KeyError:
        raise stop("form", f"no target for dataset {ctx['dataset']!r} in profile {ctx['profile']!r}") from None


def _diagnose_budget(history: Any, ctx: dict[str, Any]) -> Finding | None:
    fit = read_fit(history, "budget_history")
    if "Conv2D" not in layer_types(fit.model):
        return Finding("not_cnn", f"the model's layers are {layer_types(fit.model)}: no Conv2D")
    n = int(fit.model.count_params())
    if n > BUDGET_PARAMETERS:
        return Finding("too_big", f"the model has {n:,} parameters, over the {BUDGET_PARAMETERS:,} allowed")
    allowed = int(ctx["epochs"])
    if fit.epochs_run > allowed:
        return Finding("too_long", f"it trained for {fit.epochs_run} epochs; the budget allows {allowed}")
    x_val, y_val = ctx["validation"]
    where = validated_on(fit, {"validation": ctx["validation"], "test": ctx["test"]})
    if where == "test":
        return Finding("test_as_validation", "the history's validation scores are the model's scores on the test "
                                             "images")
    accuracy = accuracy_of(fit.model, x_val, y_val)
    if where is None:
        scaled = accuracy_of(fit.model, np.asarray(x_val) * 255.0, y_val)  # validated on 0-255 images?
        if scaled > accuracy + 0.2:
            return Finding("unscaled", f"the model scores {scaled:.1%} on validation images of 0-255 and "
                                       f"{accuracy:.1%} on the 0-1 images the task gives")
        return Finding("other_validation", f"the model scores {accuracy:.2%} on `(x_check, y_check)`, but its "
                                           f"history says {fit.last('val_accuracy'):.2%}")
    target = _target(ctx)
    if accuracy < target:
        return Finding("below", f"validation accuracy {accuracy:.2%} after {fit.epochs_run} epoch(s) with {n:,} "
                                f"parameters; the target is {target:.0%}")
    return None


def _budget_reveal(history: Any, ctx: dict[str, Any]) -> str:
    fit = read_fit(history, "budget_history")
    accuracy = accuracy_of(fit.model, *ctx["validation"])
    return (f"{accuracy:.2%} on the validation images, scored by the check on your model itself, with "
            f"{int(fit.model.count_params()):,} parameters in {fit.epochs_run} epoch(s): the target of "
            f"{_target(ctx):.0%} is met. The kh CNN has 28,394 parameters; a budget forces the choice of where "
            f"parameters pay: the convolutions reuse theirs at every position, the dense layer after Flatten does "
            f"not.")


def _small_cnn(seed: int = 0, filters: int = 4, rescale: bool = False, dense: int = 0):
    """An untrained small CNN, compiled (the tests' models; `dense` adds a hidden layer that blows the budget)."""
    import keras

    keras.utils.set_random_seed(seed)
    L = keras.layers
    layers = [keras.Input((28, 28, 1))] + ([L.Rescaling(1 / 255)] if rescale else [])
    # random biases, so that the model's answers depend on the scale of the pixels, as a trained model's do
    layers += [L.Conv2D(filters, 3, activation="relu", bias_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=seed)), L.MaxPooling2D(2),
               L.Flatten()]
    layers += [L.Dense(dense, activation="relu")] if dense else []
    model = keras.Sequential(layers + [L.Dense(10, activation="softmax", bias_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=seed))])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@lru_cache(maxsize=1)
def _demo_budget() -> dict[str, Any]:
    """The tests' context: validation images labelled by a small CNN's own predictions (so it meets the target
    without training), test images labelled at random, and the models of the mistakes."""
    import keras

    rng = np.random.default_rng(8)
    x_val, x_test = (rng.random((n, 28, 28, 1)).astype("float32") for n in (80, 50))
    right = _small_cnn()
    y_val = np.asarray(right(x_val, training=False)).argmax(axis=1)
    unscaled = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Rescaling(1 / 255), *right.layers])
    unscaled.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    mlp = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])
    mlp.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return {"right": right, "unscaled": unscaled, "untrained": _small_cnn(seed=5), "big": _small_cnn(dense=64),
            "mlp": mlp, "validation": (x_val, y_val), "test": (x_test, rng.integers(0, 10, 50))}


def _demo_q8() -> dict[str, Any]:
    demo = _demo_budget()
    return {"epochs": 1, "validation": demo["validation"], "test": demo["test"], "profile": "demo",
            "dataset": "synthetic"}


def _budget_history(model: str, on: str = "validation", epochs: int = 1, scale: float = 1.0) -> Callable:
    """A mistake's example: a history of one of the demo's models, validated on `on` (times `scale`)."""
    def make(ctx: dict[str, Any]) -> Any:
        demo = _demo_budget()
        x, y = demo[on]
        return fake_history(demo[model], (np.asarray(x) * scale, y), epochs=epochs)

    return make


q8 = Build(
    key="q8", title="A CNN on a budget", kind="experiment", minutes=30, difficulty="hard",
    task="Design and train a CNN of at most 20,000 parameters that reaches the stated validation accuracy within "
         "the stated epochs on the stated training images, validated on the stated validation images; the check "
         "scores the model in your history itself.",
    hints=("Start small and count: `model.count_params()` before you train. Convolutions are cheap (a 3 x 3 "
           "convolution from 16 to 32 channels has 4,640 parameters), the dense layer after Flatten is not "
           "(5 x 5 x 32 inputs to 10 outputs: 8,010).",
           "Two blocks of `Conv2D(16, 3)` / `Conv2D(32, 3)` with ReLU, each followed by `MaxPooling2D(2)`, then "
           "Flatten and `Dense(10, activation='softmax')`: 12,810 parameters. Smaller batches (16) give more steps "
           "in the same epochs."),
    context=("epochs", "validation", "test", "profile", "dataset"), demo_context=_demo_q8,
    solution_example=_budget_history("right"), diagnose=_diagnose_budget, reveal=_budget_reveal,
    mistakes=(
        Mistake("the model has more parameters than the budget allows: shrink the dense layers first (a hidden "
                "Dense after Flatten costs inputs x units), or pool before flattening.", _budget_history("big"),
                detect=Found("too_big")),
        Mistake("validated on the test images: the test set is kept for the very end, and a score used to steer the "
                "design is no longer a test score. Validate on `(x_check, y_check)`.",
                _budget_history("right", on="test"), detect=Found("test_as_validation")),
        Mistake("the model was trained and validated on pixels of 0-255, but the task's images are scaled to 0-1: "
                "scale every image the model sees the same way, `/ 255.0`.",
                _budget_history("unscaled", scale=255.0), detect=Found("unscaled")),
        Mistake("the model trained for more epochs than the budget: set `epochs=epochs_budget`.",
                _budget_history("right", epochs=3), detect=Found("too_long")),
        Mistake("the validation accuracy is below the target: a wider first convolution, a second block or a "
                "smaller batch size buys accuracy within the same budget.", _budget_history("untrained"),
                detect=Found("below")),
        Mistake("the history was validated on other images than `(x_check, y_check)` (a `validation_split` of the "
                "training images, say): pass `validation_data=(x_check, y_check)`, and do not train the model again "
                "after `fit`.", _budget_history("right", on="test", scale=0.5), detect=Found("other_validation")),
        Mistake("that model has no convolution: the task asks for a CNN.", _budget_history("mlp"),
                detect=Found("not_cnn")),
        Mistake("pass what `fit` returned (a History object), not its `.history` dictionary: the check scores "
                "the model in it.", lambda ctx: _budget_history("right")(ctx).history,
                detect=Found("history_dict", "not_history")),
    ),
)

LADDER = {"q1": WARM_UP, "q2": WARM_UP, "q3": CORE, "q4": CORE, "q5": CORE, "q6": WARM_UP, "q7": STRETCH,
          "q8": STRETCH}
EXERCISES = [q1, q2, q3, q4, q5, q6, q7, q8]
