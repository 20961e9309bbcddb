"""Exercises of notebook 00 (the primer): the shape of a batch, dropout by hand, a learning rate too large,
and the receptive field of a stack of layers.

Usage:
    ex = exercises.for_notebook("00_primer"); ex.q1.check((64, 28, 28, 1))
"""
from __future__ import annotations

import numbers
from typing import Any, Callable

import numpy as np

from .builds import Build, Finding, Found, run_student, runs_on
from .common import is_number
from .core import Answer, Function, Mistake, Prediction, _short
from .givens import BATCH_SIZES, Formula, Given, call
from .ladder import CORE, STRETCH, WARM_UP

TITLE = "A primer: the course, the studies and the words"

# ------------------------------------------------------------------------------------------------ q1

_BATCH_SHAPE = (64, 28, 28, 1)


def _whole_numbers(answer: Any, context: dict[str, Any] | None = None) -> str | None:
    """A message unless the answer is a tuple (or list) of whole numbers; any length, so that a shape with an
    axis too few or too many reaches the mistakes that explain it."""
    if not isinstance(answer, (tuple, list)) or not answer:
        return f"give the shape as a tuple of whole numbers, e.g. (10, 5, 5, 3); got {answer!r}."
    if not all(isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool) for v in answer):
        return f"every entry of a shape is a whole number; got {answer!r}."
    return None


_SIDE = Given("side", 28, "{0} x {0} images", others={32: "the capstone's digits"}, noun="the side of an image")
_Q1_FORMULA = Formula((
    Given("batch", 64, "batches of {}", others={**BATCH_SIZES, 1: "one image"}, noun="the batch size"), _SIDE, _SIDE,
    Given("channels", 1, lambda c: f"{c} channel{'s' if c != 1 else ''}", others={3: "a colour image"},
          has="a greyscale image has {}"),
))


def _same_shape(answer: Any, expected: Any) -> bool:
    try:
        return tuple(int(v) for v in answer) == tuple(expected)
    except (TypeError, ValueError):
        return False


q1 = Answer(
    key="q1", title="The shape of a batch", kind="compute", minutes=3, difficulty="easy",
    task="The kh CNN trains on batches of 64 images. What is the shape of the tensor of one batch as its first "
         "Conv2D layer receives it in Keras? Give a tuple of whole numbers.",
    hints=("A batch stacks images along a new first axis; a Keras Conv2D wants every image as (height, width, "
           "channels).",
           "Batch size first, then the 28 x 28 pixels, then the one channel of a greyscale image."),
    expected=_BATCH_SHAPE, same=_same_shape, validate=_whole_numbers, solution_example=_BATCH_SHAPE,
    formula=_Q1_FORMULA,
    on_correct=lambda a, ctx: ("(64, 28, 28, 1): 50,176 numbers in one batch. Keras's model summaries write the "
                               "batch axis as None, since any batch size will do: (None, 28, 28, 1)."),
    mistakes=(
        Mistake("that is one image; a batch adds the number of images as a new first axis.", (28, 28, 1)),
        Mistake("that is what the first Conv2D puts out (its 32 filters at 26 x 26 positions of a 3 x 3 window); the "
                "task asks for the batch it receives, the images themselves.", (64, 26, 26, 32)),
        Mistake("a Conv2D layer needs the channel axis too, even with one channel: add a 1 at the end.",
                (64, 28, 28)),
        Mistake("that is PyTorch's order (channels first), as in the bu study's original code; Keras puts the "
                "channels last.", (64, 1, 28, 28)),
        Mistake("that is a flattened batch, what a dense layer sees after Flatten; a convolution needs the image "
                "grid.", (64, 784)),
        Mistake("Fashion-MNIST's images are greyscale: one channel, not the 3 of a colour image.", (64, 28, 28, 3),
                detect=lambda a, ctx: isinstance(a, (tuple, list)) and len(a) == 4 and a[-1] == 3),
    ),
)

# ------------------------------------------------------------------------------------------------ q2

_X = (0.3, 0.6, 0.9, 1.2)
_KEEP = (True, False, True, True)
_RATE = 0.25


def _dropped(scale: float) -> tuple[float, ...]:
    return tuple(round(x * scale, 10) if keep else 0.0 for x, keep in zip(_X, _KEEP))


_DROPOUT = _dropped(1 / (1 - _RATE))  # (0.4, 0.0, 1.2, 1.6)
_ORDINALS = ("first", "second", "third", "fourth")


def _dropout_by_hand(dropped: int, rate: float) -> tuple[float, ...]:
    return tuple(0.0 if i == dropped else round(x / (1 - rate), 10) for i, x in enumerate(_X))


_Q2_FORMULA = Formula(call(_dropout_by_hand,
                           Given("dropped", 1, lambda i: f"the {_ORDINALS[i]} value dropped",
                                 others={0: "", 2: "", 3: ""}, has="the task drops the second"),
                           Given("rate", _RATE, "Dropout({})", others={0.5: "", 0.2: "", 0.3: "", 0.1: ""})))


def _four_numbers(answer: Any, context: dict[str, Any] | None = None) -> str | None:
    if isinstance(answer, str) or not isinstance(answer, (tuple, list, np.ndarray)) or len(answer) != 4:
        return f"give the layer's four outputs as a tuple of four numbers, e.g. (0.1, 0.0, 0.2, 0.3); got {answer!r}."
    if not all(is_number(v) for v in answer):
        return f"every output is one finite number; got {answer!r}."
    return None


q2 = Answer(
    key="q2", title="Dropout by hand", kind="compute", minutes=4, difficulty="easy",
    task="A `Dropout(0.25)` layer receives (0.3, 0.6, 0.9, 1.2) during training and this time drops the second "
         "value. What does it output? Give a tuple of four numbers.",
    hints=("A dropped value becomes 0. Keras rescales the values it keeps, so that the layer's output keeps the "
           "same average as its input.",
           "With rate 0.25 three quarters of the values survive on average, so each survivor is divided by "
           "1 - 0.25 = 0.75."),
    expected=_DROPOUT, validate=_four_numbers, solution_example=_DROPOUT, formula=_Q2_FORMULA,
    on_correct=lambda a, ctx: ("(0.4, 0.0, 1.2, 1.6). The rescaling is why nothing changes at test time: there "
                               "the layer passes every value through as it is."),
    mistakes=(
        Mistake("the right value is dropped, but the survivors must also be divided by 1 - rate (0.75), so that "
                "the average output stays what it would be without dropout.", _dropped(1.0)),
        Mistake("that is the layer at test time (or in `model.predict`); during training it drops values.", _X),
        Mistake("the survivors are divided by the share that survives, 1 - 0.25 = 0.75, not multiplied by it.",
                _dropped(1 - _RATE)),
        Mistake("the survivors are multiplied by 1 + 0.25 = 1.25; they are divided by the share that survives, "
                "1 - 0.25 = 0.75, which multiplies them by 4/3, not 5/4.", _dropped(1 + _RATE)),
        Mistake("the survivors are divided by 1 - rate = 0.75, not by the rate 0.25.", _dropped(1 / _RATE)),
    ),
)

# ------------------------------------------------------------------------------------------------ q3

_OUTCOMES = ("converges", "slow", "diverges")
_TARGET = 3.0  # the minimum of the loss (w - 3)^2 that the notebook's example descends


def _gradient_descent(learning_rate: float, steps: int = 20, start: float = 0.0) -> np.ndarray:
    w, path = start, [start]
    for _ in range(steps):
        w = w - learning_rate * 2 * (w - _TARGET)
        path.append(w)
    return np.array(path)


def _outcome(path: Any) -> str:
    path = np.asarray(path, dtype=float)
    first, last = abs(path[0] - _TARGET), abs(path[-1] - _TARGET)
    if not np.isfinite(last) or last > first:
        return "diverges"
    return "converges" if last < 0.05 * first else "slow"  # within 5% of the starting distance


def _outcome_problem(answer: Any, context: dict[str, Any]) -> str | None:
    if answer not in _OUTCOMES:
        return f"answer with one of the words {', '.join(map(repr, _OUTCOMES))}; got {answer!r}."
    return None


_SAYS = {"converges": "it converges", "slow": "it is still on its way ('slow')", "diverges": "it diverges"}


def _descent_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    path = np.asarray(ctx["path"], dtype=float)
    text = (f"w goes {', '.join(f'{w:.2f}' for w in path[:5])}, ... and ends at {path[-1]:,.2f} after "
            f"{len(path) - 1} steps: {_SAYS[_outcome(path)]}.")
    if _outcome(path) == "diverges" and len(path) > 2 and path[1] != _TARGET:
        text += (f" Each step jumps over the minimum at 3 and lands further away than it started: the distance "
                 f"grows by a factor {abs(path[2] - _TARGET) / abs(path[1] - _TARGET):.1f} per step.")
    return text


def _demo_q3() -> dict[str, Any]:
    return {"path": _gradient_descent(1.1)}


q3 = Prediction(
    key="q3", title="A learning rate too large", kind="predict", minutes=4, difficulty="easy",
    task="Before running the check, predict what 20 steps of gradient descent with learning rate 1.1 do to w on "
         "the loss (w - 3)^2, starting from w = 0: 'converges', 'slow' or 'diverges'; the check reveals the run.",
    hints=("The step is learning rate x gradient, and the gradient here is 2 (w - 3). From w = 0, how far does "
           "the first step go, and where does it land?",
           "With learning rate 1.1 the first step moves w by 1.1 x 6 = 6.6, from 0 to 6.6: past 3, and further "
           "from it (3.6) than where it started (3)."),
    context=("path",), demo_context=_demo_q3, solution_example="diverges",
    expected=lambda ctx: _outcome(ctx["path"]), same=lambda a, b: a == b, validate=_outcome_problem,
    on_correct=_descent_reveal,
    mistakes=(
        Mistake("predict the outcome as one of the words 'converges', 'slow' or 'diverges', not a number.",
                7.0, detect=lambda a, ctx: is_number(a)),
        Mistake("it does swing from one side of 3 to the other; the question is where it ends up: 'converges' "
                "(near 3), 'slow' (still on its way) or 'diverges' (ever further away).",
                "oscillates", detect=lambda a, ctx: isinstance(a, str) and a.strip().lower().startswith("oscillat")),
        Mistake("write the word exactly as given, in lower case and without spaces: 'converges', 'slow' or "
                "'diverges'.", "Diverges ",
                detect=lambda a, ctx: isinstance(a, str) and a not in _OUTCOMES
                and a.strip().lower().rstrip("sd") in {o.rstrip("sd") for o in _OUTCOMES}),
    ),
)

# ------------------------------------------------------------------------------------------------ q4


def _receptive_field(layers: list[tuple[int, int]]) -> int:
    size, jump = 1, 1
    for kernel, stride in layers:
        size += (kernel - 1) * jump
        jump *= stride
    return size


def _receptive_cases() -> list[tuple]:
    wits = [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)]  # conv, conv, pool, conv, conv, pool
    kh = [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)]  # conv, pool, conv, pool, conv
    return [([(3, 1)],), ([(3, 1), (3, 1)],), (wits,), (kh,), ([(5, 1), (2, 2), (5, 1), (2, 2)],),
            ([(7, 2), (3, 2), (3, 1)],), ([(3, 2), (3, 2), (3, 2)],)]


def _ignores_strides(layers):
    return 1 + sum(k - 1 for k, _ in layers)


def _jump_too_early(layers):
    size, jump = 1, 1
    for kernel, stride in layers:
        jump *= stride
        size += (kernel - 1) * jump
    return size


def _sums_kernels(layers):
    return sum(k for k, _ in layers)


def _backward_rule_forwards(layers):
    size = 1
    for kernel, stride in layers:
        size = size * stride + (kernel - stride)
    return size


def _jump_by_kernel(layers):
    size, jump = 1, 1
    for kernel, stride in layers:
        size += (kernel - 1) * jump
        jump *= kernel
    return size


def _own_stride(layers):
    return 1 + sum((k - 1) * s for k, s in layers)


def _adds_kernel(layers):
    size, jump = 1, 1
    for kernel, stride in layers:
        size += kernel * jump
        jump *= stride
    return size


def _jump_adds(layers):
    size, jump = 1, 1
    for kernel, stride in layers:
        size += (kernel - 1) * jump
        jump += stride
    return size


_RF_ALTERNATIVES = (
    (_backward_rule_forwards, "that walks the layers in the wrong direction for its rule: the output-to-input "
                              "rule, `r = r * stride + (kernel - stride)`, goes from the last layer back to the "
                              "first, and the jump rule (`size += (kernel - 1) * jump`, then `jump *= stride`) from "
                              "the first layer to the last."),
    (_jump_by_kernel, "the jump is multiplied by the kernel; it grows by the stride (`jump *= stride`): how far "
                      "the next layer's neighbouring windows lie apart."),
    (_own_stride, "each layer widens the square by (kernel - 1) times its own stride; it is the product of the "
                  "strides of the layers before it (the jump) that counts."),
    (_adds_kernel, "each layer adds its whole kernel; neighbouring windows overlap, so it adds kernel - 1 steps."),
    (_jump_adds, "the jump adds the strides; it multiplies them (`jump *= stride`): two stride-2 layers make a "
                 "step of 4 input pixels."),
)


q4 = Function(
    key="q4", title="What one output can see", kind="code", minutes=10, difficulty="medium",
    task="Write `receptive_field(layers)`: the side, in input pixels, of the square that one output value of a "
         "stack of layers depends on; `layers` lists each convolution or pooling layer as (kernel, stride).",
    hints=("Start from one output value, which sees a 1 x 1 square. Walk through the layers: a layer of kernel k "
           "widens the square by k - 1 steps, and a step is as many input pixels as the strides before it multiply "
           "to.",
           "Keep two numbers, `size = 1` and `jump = 1`; for each (kernel, stride): `size += (kernel - 1) * jump`, "
           "then `jump *= stride`. Return `size`."),
    name="receptive_field", cases=_receptive_cases, reference=_receptive_field, solution_example=_receptive_field,
    same=lambda a, b: is_number(a) and a == b,
    describe=lambda args: repr(args[0]), alternatives=_RF_ALTERNATIVES,
    mistakes=(
        Mistake("the strides are left out: after a stride-2 layer (a 2 x 2 pooling), one step of the next layer "
                "covers 2 input pixels, so its kernel widens the square by (kernel - 1) x 2.", _ignores_strides),
        Mistake("a layer's own stride counts only for the layers after it: add (kernel - 1) x jump first, then "
                "multiply the jump by the stride.", _jump_too_early),
        Mistake("kernels do not add up whole: two 3 x 3 convolutions see 5 x 5, not 6 x 6, because neighbouring "
                "windows overlap; each layer adds kernel - 1.", _sums_kernels),
    ),
)

# ------------------------------------------------------------------------------------------------ q5


def _dropout(x: np.ndarray, rate: float, training: bool, rng: np.random.Generator) -> np.ndarray:
    """Inverted dropout, as Keras computes it: in training each value is dropped with probability `rate` and the
    rest are divided by 1 - rate; otherwise the values pass unchanged."""
    x = np.asarray(x, dtype="float32")
    if not training or rate == 0:
        return x.copy()
    keep = rng.random(x.shape) >= rate
    return np.where(keep, x / (1 - rate), 0.0).astype("float32")


def _dropout_variant(scale: Callable[[float], float] | None = None, keep_share: bool = False, always: bool = False,
                     in_place: bool = False, own_rng: bool = False) -> Callable:
    """A wrong dropout: survivors times `scale(rate)`, `rate` taken as the share kept, dropping outside training,
    changing its input, or drawing from NumPy's global generator."""
    def dropout(x, rate, training, rng):
        if not training and not always:
            return np.array(x, dtype="float32")
        draw = np.random.random(np.shape(x)) if own_rng else rng.random(np.shape(x))
        keep = draw < rate if keep_share else draw >= rate
        factor = scale(rate) if scale else (1 / (1 - rate) if rate < 1 else 0.0)
        if in_place:
            x *= np.where(keep, factor, 0.0).astype(x.dtype)
            return x
        return np.where(keep, np.asarray(x, dtype="float32") * factor, 0.0).astype("float32")

    return dropout


def _diagnose_dropout(dropout: Any, ctx: dict[str, Any]) -> Finding | None:
    x = np.full((400, 50), 2.0, dtype="float32")
    kept = x.copy()
    out = run_student(dropout, (x, 0.25, True, np.random.default_rng(0)), "dropout")
    if not np.array_equal(x, kept):
        return Finding("in_place", "the array passed in came back changed")
    try:
        out = np.asarray(out, dtype="float64")
    except (TypeError, ValueError):
        return Finding("form", f"return an array of x's shape; got {_short(out)}")
    if out.ndim == 1 and 0 < out.size < x.size:
        return Finding("shape", f"the output is a flat array of {out.size:,} values where x has {x.shape}: indexing "
                                f"with a mask, `x[keep]`, returns only the values it selects, in one line; dropout "
                                f"keeps every position and sets the dropped ones to 0 (`np.where(keep, ..., 0.0)`, "
                                f"or multiply by the mask)")
    if out.shape != x.shape:
        return Finding("shape", f"the output has shape {out.shape}; x has {x.shape}")
    test = np.asarray(run_student(dropout, (x, 0.25, False, np.random.default_rng(0)), "dropout"), dtype="float64")
    if test.shape != x.shape or not np.allclose(test, x):
        return Finding("at_inference", "with training=False the values changed")
    dropped = float(np.mean(out == 0))
    if dropped == 0.0 and np.isclose(out.min(), -0.25) and np.isclose(out.max(), 2 - 0.25):
        return Finding("brackets", "the dropped values came out -0.25 and the kept ones 1.75, from 2.0 at rate 0.25: "
                                   "the rate was subtracted after dividing by 1, as `x * keep / 1 - rate` computes; "
                                   "dividing by `(1 - rate)` needs its brackets")
    if abs(dropped - 0.75) < 0.03:
        return Finding("keeps_rate", f"{dropped:.0%} of 20,000 values were dropped at rate 0.25")
    if dropped in (0.0, 1.0):
        return Finding("one_draw", f"{dropped:.0%} of 20,000 values were dropped at rate 0.25: all or nothing")
    if abs(dropped - 0.25) > 0.03:
        return Finding("share", f"{dropped:.0%} of 20,000 values were dropped at rate 0.25; about 25% should be")
    survivors = np.unique(np.round(out[out != 0], 5))
    for code, value in (("no_rescale", 2.0), ("times_keep", 1.5), ("divides_by_rate", 8.0)):
        if survivors.size == 1 and np.isclose(survivors[0], value):
            return Finding(code, f"the values kept are {survivors[0]:g}, from 2.0 at rate 0.25")
    if survivors.size != 1 or not np.isclose(survivors[0], 2 / 0.75, atol=1e-4):
        return Finding("values", f"the values kept are {survivors[:4]}, from 2.0 at rate 0.25; 2 / 0.75 = 2.6667")
    again = [np.asarray(run_student(dropout, (x, 0.25, True, np.random.default_rng(5)), "dropout")) for _ in range(2)]
    if not np.array_equal(again[0], again[1]):
        return Finding("global_rng", "two calls with generators seeded alike dropped different values")
    other = np.asarray(run_student(dropout, (x, 0.25, True, np.random.default_rng(6)), "dropout"))
    if np.array_equal(other, again[0]):
        return Finding("ignores_rng", "generators seeded 5 and 6 dropped the same values")
    counts = {int(np.sum(np.asarray(draw) == 0)) for draw in (out, again[0], other)}
    if counts == {round(0.25 * x.size)}:  # a coin per value gives exactly 5,000 one draw in about 150
        return Finding("fixed_count", "seeds 0, 5 and 6 each dropped exactly 5,000 of the 20,000 values: a fixed "
                                      "number, rate x n, where each value is dropped on its own with probability "
                                      "rate, so the count varies from draw to draw (by about 60 here); draw one "
                                      "number per value, `keep = rng.random(x.shape) >= rate`")
    return None


q5 = Build(
    key="q5", title="Dropout as a function", kind="code", minutes=20, difficulty="hard",
    task="Write `dropout(x, rate, training, rng)` in NumPy: in training, each value of the array `x` is dropped "
         "(set to 0) with probability `rate`, drawn with the generator `rng`, and every value kept is divided by "
         "1 - rate; outside training `x` passes unchanged. The input array is never changed.",
    hints=("`rng.random(x.shape)` gives one uniform number per value; a value is dropped where that number is below "
           "`rate`. Exercise 2 did the rest by hand: what happens to the values that survive?",
           "`keep = rng.random(x.shape) >= rate`, then `np.where(keep, x / (1 - rate), 0.0)`; return a copy of `x` "
           "when `training` is false."),
    solution_example=lambda ctx: _dropout, diagnose=_diagnose_dropout, time_limit=30.0,
    runs=runs_on(lambda: [(np.arange(1, 41, dtype="float32").reshape(4, 10), rate, training, np.random.default_rng(3))
                          for rate in (0.25, 0.5) for training in (True, False)]),
    reveal=lambda a, ctx: ("on 20,000 values at rate 0.25 your dropout drops about a quarter, scales the rest to "
                           "2 / 0.75, keeps the average, does nothing outside training and draws from the generator "
                           "it is given, so one seed gives one mask. That is Keras's `Dropout` layer, in five lines."),
    mistakes=(
        Mistake("the values kept are not rescaled: divide them by 1 - rate, so that the layer's output keeps the "
                "average of its input (exercise 2).", lambda ctx: _dropout_variant(scale=lambda r: 1.0),
                detect=Found("no_rescale")),
        Mistake("the values kept are multiplied by 1 - rate; they are divided by it.",
                lambda ctx: _dropout_variant(scale=lambda r: 1 - r), detect=Found("times_keep")),
        Mistake("`rate` is the share dropped, not the share kept: drop where the draw is below `rate`.",
                lambda ctx: _dropout_variant(keep_share=True), detect=Found("keeps_rate")),
        Mistake("outside training dropout does nothing: return `x` unchanged (a copy) when `training` is false.",
                lambda ctx: _dropout_variant(always=True), detect=Found("at_inference")),
        Mistake("the function changed the array it was given (`x *= ...`); compute a new array.",
                lambda ctx: _dropout_variant(in_place=True), detect=Found("in_place")),
        Mistake("draw from the generator `rng` you are given, not from NumPy's global functions, so that one seed "
                "gives one mask.", lambda ctx: _dropout_variant(own_rng=True),
                detect=Found("global_rng", "ignores_rng")),
        Mistake("the array was dropped all at once or kept all at once: draw one number per value, "
                "`rng.random(x.shape)`, so that each value is dropped on its own.",
                lambda ctx: (lambda x, rate, training, rng: np.zeros_like(x) if training else x.copy()),
                detect=Found("one_draw")),
        Mistake("the values kept are divided by the rate; they are divided by 1 - rate, the share kept.",
                lambda ctx: _dropout_variant(scale=lambda r: 1 / r), detect=Found("divides_by_rate")),
    ),
)

LADDER = {"q1": WARM_UP, "q2": WARM_UP, "q3": WARM_UP, "q4": CORE, "q5": STRETCH}

EXERCISES = [q1, q2, q3, q4, q5]
