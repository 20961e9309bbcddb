"""Checks of what a student built or trained: a function, a model, what `fit` returned, a callback.

A `Build` exercise's answer is the object itself (or a number read off objects the check also receives). Its
`diagnose(answer, context)` inspects it, running it where that is cheap, and returns a `Finding` (a short code for
what is wrong and a sentence of what the check measured) or None when it does what the task asked. Each `Mistake`
names the codes it explains (`detect=Found("unscaled")`), so a student's error gets its name whatever the exact
numbers. The inspections the experiment exercises share live here too: what `fit` returned (`read_fit`), on which
images its validation scores were measured (`validated_on`), and the usual misreadings of a number
(`number_finding`: a sign, percent for a fraction, a fraction for points).

Usage:
    Build(key="q7", title="...", kind="code", minutes=25, difficulty="hard", task="...", hints=("...", "..."),
          diagnose=my_diagnosis, mistakes=my_mistakes)   # each detect=Found("unscaled"), ...
    fit = read_fit(history, "history")        # a Fit: curves, epochs, steps, model (in a diagnosis)
    validated_on(fit, {"validation": (x_val, y_val), "test": (x_test, y_test)})   # "test": a leak
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .common import is_number
from .core import CORRECT, INCORRECT, Exercise, NotAnswered, Verdict, _short, call_with_time_limit
from .errors import explain_error
from .mutants import mutants
from .slips import slip
from .untrusted import error_text, uses_tensorflow



@dataclass(frozen=True)
class Finding:
    """What a diagnosis found wrong: a short `code` the mistakes name, and what the check measured."""

    code: str
    detail: str


class Found:
    """A `Build` mistake's detector: true when the diagnosis found one of `codes`."""

    def __init__(self, *codes: str):
        if not codes:
            raise ValueError("Found needs at least one code")
        self.codes = codes

    def __call__(self, finding: Finding | None) -> bool:
        return finding is not None and finding.code in self.codes

    def __repr__(self) -> str:
        return f"Found({', '.join(map(repr, self.codes))})"


@dataclass(frozen=True)
class Build(Exercise):
    """An exercise answered by something built or trained, checked by inspecting or running it.

    `diagnose(answer, context)` returns a `Finding` or None (right); `reveal(answer, context)` says what the check
    measured when it is right. A diagnosis that runs longer than `time_limit` seconds is stopped; a function that
    still raises NotImplementedError (nbgrader's stub) is not answered yet.

    `alternatives` lists common wrong versions of a function the student writes, each a (function, sentence) pair,
    and `runs(function)` gives what a function returns on the check's own cases: when the diagnosis finds a wrong
    answer whose runs equal an alternative's (`alike`), the verdict says that alternative's sentence, before any
    mistake whose code the finding names (the same outputs are stronger evidence than one measurement).
    """

    diagnose: Callable[[Any, dict[str, Any]], Finding | None] = lambda answer, context: None
    reveal: Callable[[Any, dict[str, Any]], str] | None = None
    time_limit: float = 120.0
    alternatives: tuple[tuple[Callable[..., Any], str], ...] = ()  # (a common wrong version, what it does)
    runs: Callable[[Any], Any] | None = None  # a function -> what it returns on the check's cases

    def __post_init__(self) -> None:
        super().__post_init__()
        loose = [m.message[:40] for m in self.mistakes if not isinstance(m.detect, Found)]
        if loose:
            raise ValueError(f"{self.key}: every mistake of a Build names its codes with Found(...): {loose}")

    def _evaluate(self, answer: Any, context: dict[str, Any]) -> Verdict:
        try:
            finding = call_with_time_limit(self.diagnose, (answer, context), self.time_limit)
        except _Stop as early:
            finding = early.finding
        except NotAnswered:
            raise
        except NotImplementedError:
            raise NotAnswered("your code still raises NotImplementedError: write it where it says YOUR CODE "
                              "HERE.") from None
        except TimeoutError:
            return Verdict(INCORRECT, self.label, f"checking it took longer than {self.time_limit:g} s; is there an "
                                                  f"endless loop, or far more work than the task asks?")
        except Exception as err:  # noqa: BLE001 - the student's object may raise anything
            text = error_text(err)
            why = explain_error(text)
            return Verdict(INCORRECT, self.label, f"running your answer raised {text}" + (f": {why}." if why else ""))
        if finding is None:
            return Verdict(CORRECT, self.label, self.reveal(answer, context) if self.reveal else "well done.")
        detail = f" ({finding.detail})" if finding.detail else ""
        mine = self._answer_runs(answer, finding)
        named = self._alternative(mine)
        if named:
            return Verdict(INCORRECT, self.label, named + detail)
        for mistake in self.mistakes:
            if mistake.detect(finding):
                return Verdict(INCORRECT, self.label, mistake.message + detail)
        mutant = self._mutant(mine, context)
        if mutant:
            return Verdict(INCORRECT, self.label, mutant + detail)
        return Verdict(INCORRECT, self.label, f"{finding.detail} `ex.{self.key}.hint()` gives a hint.")

    def _answer_runs(self, answer: Any, finding: Finding) -> Any:
        """What the answer returns on the check's cases (`runs`), for comparing with other versions; `_NO_RUNS` when
        the check has no `runs`, the answer is no function, or running it again fails."""
        if self.runs is None or finding.code == "form" or not callable(answer):
            return _NO_RUNS
        try:
            return call_with_time_limit(self.runs, (answer,), self.time_limit)
        except BaseException as err:  # noqa: BLE001 - the student's function may raise anything
            if isinstance(err, KeyboardInterrupt):
                raise
            return _NO_RUNS

    def _mutant(self, mine: Any, context: dict[str, Any]) -> str | None:
        """What the answer's runs `mine` equal, when they equal those of the solution with one small change to its
        code (`mutants.mutants`); None when none does, or there are no runs, or the solution is no plain function.
        Tried for MUTANT_SECONDS at most."""
        if mine is _NO_RUNS or not callable(self.solution_example):
            return None
        try:
            solution = self.solution_example(context)
            versions = mutants(solution) if callable(solution) and not uses_tensorflow(solution) else []
            if not versions:
                return None
            right = self.runs(solution)
        except BaseException as err:  # noqa: BLE001 - the student's function may raise anything
            if isinstance(err, KeyboardInterrupt):
                raise
            return None
        start = time.monotonic()
        for version, says in versions:
            if time.monotonic() - start > MUTANT_SECONDS:
                break
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    theirs = call_with_time_limit(self.runs, (version,), 2.0)
            except BaseException as err:  # noqa: BLE001 - a mutant may fail on the check's cases
                if isinstance(err, KeyboardInterrupt):
                    raise
                continue
            if alike(mine, theirs) and not alike(theirs, right):
                return f"your function returns, on the check's cases, what the solution returns with {says}: is that " \
                       f"what your code does?"
        return None

    def _alternative(self, mine: Any) -> str | None:
        """The sentence of each alternative (at most two) whose runs equal the answer's runs `mine`; None when none
        does or there are no runs."""
        if not self.alternatives or mine is _NO_RUNS:
            return None
        says = []
        for alternative, sentence in self.alternatives:
            try:
                if alike(mine, self.runs(alternative)):
                    says.append(sentence)
            except Exception:  # noqa: BLE001 - an alternative need not run on every case
                continue
        if not says:
            return None
        return says[0] if len(says) == 1 else f"{says[0].rstrip('.')}; or {says[1][:1].lower()}{says[1][1:]}"


def alike(a: Any, b: Any, rel: float = 1e-5, abs_tol: float = 1e-6) -> bool:
    """Whether two results are the same: numbers and arrays within a tolerance, sequences and dicts entry by entry,
    anything else by `==`."""
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and all(
            alike(a[k], b[k], rel, abs_tol) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and not (is_number_list(a) and is_number_list(b)):
        return len(a) == len(b) and all(alike(x, y, rel, abs_tol) for x, y in zip(a, b))
    try:
        x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return bool(a == b) if type(a) is type(b) else False
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=rel, atol=abs_tol, equal_nan=True))


def is_number_list(values: Any) -> bool:
    return all(is_number(v) for v in values)


def run_student(function: Any, args: tuple, name: str) -> Any:
    """`function(*args)`; a Finding "form" when it is no function, a Finding "none" when it returns None (a missing
    `return`), and NotImplementedError passed on (not answered)."""
    if not callable(function):
        raise _Stop(Finding("form", f"pass the function itself, `{name}`, not {_short(function)}."))
    out = function(*args)
    if out is None:
        raise _Stop(Finding("none", f"`{name}` returned None on one of the check's calls: a function gives None "
                                    f"when it ends without a `return` line, so is a `return` missing (in one "
                                    f"branch of an `if`, perhaps)?"))
    return out


def runs_on(cases: Callable[[], list[tuple]]) -> Callable[[Any], list]:
    """A `runs` for a Build check: what a function returns on each of `cases()`, each called on fresh copies of
    its arguments, so that the outputs of a student's function and of a version of the solution can be compared.

    Usage:
        Build(..., runs=runs_on(_knn_cases))
    """
    import copy

    def runs(function: Any) -> list:
        return [function(*copy.deepcopy(args)) for args in cases()]
    return runs


_NO_RUNS = object()
"""What `Build._answer_runs` gives when there is nothing to compare."""
MUTANT_SECONDS = 5.0
"""Seconds a Build check may spend comparing a wrong function's runs with those of the solution's mutants."""


class _Stop(Exception):
    """Raised inside a diagnosis to end it with a finding at once (`Build` catches it)."""

    def __init__(self, finding: Finding):
        super().__init__(finding.detail)
        self.finding = finding


def stop(code: str, detail: str) -> _Stop:
    """`raise stop("code", "what was measured")` ends a diagnosis, however deep in its helpers, with that finding."""
    return _Stop(Finding(code, detail))


# ----------------------------------------------------------------------------------------------- numbers


def number_finding(answer: Any, expected: float, unit: str = "points", tolerance: float = 0.01,
                   what: str = "") -> Finding | None:
    """The usual misreadings of a number read off a run: not a number, the sign reversed, a fraction where points are
    asked (or percent where a fraction is), or simply another value. `unit` is "points" or "fraction"."""
    if isinstance(answer, str) or not is_number(answer):
        return Finding("not_number", f"give one number; got {_short(answer)}.")
    a = float(answer)
    if abs(a - expected) <= tolerance:
        return None
    scale = tolerance / 100
    if unit == "points" and abs(expected) > 5 * tolerance and abs(a - expected / 100) <= scale:
        return Finding("fraction_for_points", f"{a:g} is {expected:.2f} points written as a fraction of 1")
    if unit == "fraction" and abs(a - expected * 100) <= tolerance * 100:
        return Finding("percent_for_fraction", f"{a:g} is {expected:.4f} written in percent")
    if abs(expected) > tolerance and abs(a + expected) <= tolerance:
        return Finding("sign", f"{a:+.2f} has the sign of the difference reversed; {what or 'the run'} gives "
                               f"{expected:+.2f}")
    found = slip(a, expected, bare=False)  # a relation that names itself: a rounding, a factor of 255, one minus it
    return Finding("wrong", f"{a:g} is not what your run gives{f' ({what})' if what else ''}"
                            + (f": {found}" if found else "."))


# ------------------------------------------------------------------------------------------- fit histories


@dataclass(frozen=True)
class Fit:
    """What one `model.fit(...)` returned, read: its per-epoch curves, the epochs asked, the steps per epoch and
    the model it trained."""

    name: str
    curves: dict[str, list[float]]
    epochs: int  # asked for (`fit(epochs=...)`)
    steps: int | None  # batches per epoch
    model: Any

    @property
    def epochs_run(self) -> int:
        return len(self.curves.get("loss", self.curves.get("val_accuracy", [])))

    def last(self, curve: str) -> float:
        return float(self.curves[curve][-1])


def read_fit(history: Any, name: str) -> Fit:
    """What `model.fit(...)` returned, read; inside a diagnosis it stops with a finding when it is something else:
    "history_dict" (its `.history` dictionary), "not_history", "no_accuracy", "no_validation"."""
    if isinstance(history, dict):
        raise stop("history_dict", f"`{name}` is a dictionary of curves; pass what `fit` returned itself (the "
                                   f"History object, not its `.history`), so the check can see the trained model "
                                   f"and the settings it was trained with")
    curves, params, model = (getattr(history, key, None) for key in ("history", "params", "model"))
    if not isinstance(curves, dict) or not isinstance(params, dict) or model is None:
        raise stop("not_history", f"`{name}` should be what `model.fit(...)` returns, a History object; got "
                                  f"{_short(history)}")
    try:
        curves = {key: [float(v) for v in values] for key, values in curves.items()}
    except (TypeError, ValueError):
        raise stop("not_history", f"`{name}`'s curves are not lists of numbers") from None
    if not curves.get("accuracy"):
        raise stop("no_accuracy", f"`{name}` has no accuracy per epoch: compile with `metrics=['accuracy']`")
    if not curves.get("val_accuracy"):
        raise stop("no_validation", f"`{name}` has no validation accuracy: `fit` was given no validation images "
                                    f"(`validation_data=...` or `validation_split=...`)")
    return Fit(name, curves, int(params.get("epochs") or len(curves["accuracy"])), params.get("steps"), model)


def predict_proba(model: Any, x: np.ndarray, batch: int = 2_048) -> np.ndarray:
    """The model's outputs on `x` in inference mode, batch by batch, as a float array."""
    out = [np.asarray(model(x[i:i + batch], training=False), dtype="float64") for i in range(0, len(x), batch)]
    return np.concatenate(out) if out else np.zeros((0, 0))


def accuracy_of(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    """The share of `x` whose largest output is its label (integer labels or one-hot rows)."""
    labels = np.asarray(y)
    labels = labels.argmax(axis=-1) if labels.ndim == 2 else labels
    return float(np.mean(predict_proba(model, x).argmax(axis=-1) == labels))


def _loss_function(model: Any) -> Any:
    import keras

    loss = getattr(model, "loss", None)
    return keras.losses.get(loss) if isinstance(loss, str) else loss


_SCORED: dict[tuple, Any] = {}  # (what, model, its weights, the arrays) -> a score: a check asked again scores nothing


def _fingerprint(values: Any) -> tuple:
    """A cheap mark of an array's contents (its shape, type and two sums), for telling the same images apart."""
    array = np.asarray(values)
    flat = array.reshape(-1).astype(np.float64, copy=False)
    return array.shape, str(array.dtype), float(flat.sum()), float(flat[::7].sum())


def _remembered(what: str, model: Any, x: np.ndarray, y: np.ndarray, compute: Callable[[], Any]) -> Any:
    """`compute()`, or what it gave before for this model with these very weights on these very arrays."""
    try:
        weights = tuple(float(np.asarray(w, dtype=np.float64).sum()) for w in model.get_weights())
    except Exception:  # noqa: BLE001 - no Keras model: nothing to remember it by
        return compute()
    key = (what, id(model), weights, _fingerprint(x), _fingerprint(y))
    if key not in _SCORED:
        if len(_SCORED) > 256:
            _SCORED.clear()
        _SCORED[key] = compute()
    return _SCORED[key]


def _scores(model: Any, x: np.ndarray, y: np.ndarray, batch: int = 2_048) -> tuple[float, float | None]:
    """(accuracy, mean compiled loss) of the model on `x`, `y` in one pass; the loss is computed on the model's own
    output tensors (so that Keras can use the logits behind a softmax, as `fit` does), None when it cannot be."""
    return _remembered("scores", model, x, y, lambda: _score_now(model, x, y, batch))


def _score_now(model: Any, x: np.ndarray, y: np.ndarray, batch: int) -> tuple[float, float | None]:
    import keras

    labels = np.asarray(y)
    right, total, fn = 0, 0.0, _loss_function(model)
    for i in range(0, len(x), batch):
        out = model(x[i:i + batch], training=False)
        part = labels[i:i + batch]
        predicted = np.asarray(keras.ops.convert_to_numpy(out)).argmax(axis=-1)
        right += int(np.sum(predicted == (part.argmax(axis=-1) if part.ndim == 2 else part)))
        if total is not None:
            try:
                values = np.asarray(keras.ops.convert_to_numpy(fn(part, out)))
                total += float(values.sum()) if values.ndim else float(values) * len(part)
            except Exception:  # noqa: BLE001 - an unusual loss: compare accuracies only
                total = None
    return right / len(x), (None if total is None else total / len(x))


def _mean_loss(model: Any, x: np.ndarray, y: np.ndarray) -> float | None:
    """The model's compiled loss on `x`, `y`, or None when it cannot be computed here."""
    return _scores(model, x, y)[1]


def _evaluated_loss(model: Any, x: np.ndarray, y: np.ndarray) -> float | None:
    """The loss `model.evaluate` reports (slower: it builds a test function), or None."""
    def evaluate() -> float | None:
        try:
            return float(model.evaluate(x, y, verbose=0, return_dict=True)["loss"])
        except Exception:  # noqa: BLE001 - an uncompiled model
            return None

    return _remembered("evaluated loss", model, x, y, evaluate)


def scores_match(fit: Fit, x: np.ndarray, y: np.ndarray) -> bool:
    """Whether the trained model, scored on `x`, `y`, gives the last epoch's `val_accuracy` (and `val_loss`):
    then these are the images `fit` validated on."""
    n = len(y)
    if n == 0:
        return False
    accuracy, loss = _scores(fit.model, np.asarray(x), np.asarray(y))
    off = abs(accuracy - fit.last("val_accuracy")) * n  # images
    if "val_loss" not in fit.curves:
        return off < 0.5
    # the loss decides: Keras validated in its own batches, where a near-tie between two classes can fall the other
    # way for an image or two (it did for 07's batch-norm models on MNIST: 777 against 779 of 1,000 right, the loss
    # equal to 5e-4), while other images than the validation set's move the mean loss far more
    if off > 3.5:
        return False
    want = fit.last("val_loss")
    if loss is not None and math.isclose(loss, want, rel_tol=3e-3, abs_tol=1e-4):
        return True
    loss = _evaluated_loss(fit.model, x, y)
    return loss is not None and math.isclose(loss, want, rel_tol=3e-3, abs_tol=1e-4)


def validated_on(fit: Fit, sets: dict[str, tuple[np.ndarray, np.ndarray]]) -> str | None:
    """The name of the first of `sets` (name -> (x, y)) on which the trained model reproduces the last epoch's
    validation scores, or None: the images `fit` was validated on, traced from the model itself."""
    for name, (x, y) in sets.items():
        if scores_match(fit, np.asarray(x), np.asarray(y)):
            return name
    return None


def layer_types(model: Any) -> list[str]:
    """The class names of a model's layers, without an InputLayer."""
    try:
        return [type(layer).__name__ for layer in model.layers if type(layer).__name__ != "InputLayer"]
    except Exception:  # noqa: BLE001 - not a model
        return []


def learning_rate(model: Any) -> float | None:
    """The learning rate of a compiled model's optimizer (at step 0 for a schedule), or None."""
    try:
        import keras

        rate = model.optimizer.learning_rate
        return float(keras.ops.convert_to_numpy(rate))
    except Exception:  # noqa: BLE001
        return None


def curve_finding(answer: Any, fit: Fit, tolerance: float = 5e-4) -> Finding | None:
    """A finding "other_curve" when a number read off a history is a value (or the best) of another curve than the one
    asked for, e.g. the lowest `val_loss` given for the best `val_accuracy`."""
    if not is_number(answer):
        return None
    for name, values in fit.curves.items():
        if name == "val_accuracy":
            continue
        for what, value in (("lowest", min(values)), ("highest", max(values)), ("last", values[-1])):
            if abs(float(answer) - value) <= tolerance:
                return Finding("other_curve", f"{float(answer):g} is the {what} value of `{name}`, not of "
                                              f"`val_accuracy`")
    return None


class FakeHistory:
    """Stands for what `fit` returns (`history`, `params`, `model`), for the exercises' tests: a model scored on
    the demo images without the cost of training it."""

    def __init__(self, model: Any, curves: dict[str, list[float]], epochs: int | None = None, steps: int = 4):
        self.model, self.history = model, curves
        self.params = {"verbose": 0, "epochs": epochs or len(next(iter(curves.values()))), "steps": steps}


def fake_history(model: Any, validation: tuple[np.ndarray, np.ndarray], epochs: int = 1, steps: int = 4,
                 train_accuracy: float | None = None) -> FakeHistory:
    """A FakeHistory whose last validation scores are the model's own on `validation`, as after a real `fit`."""
    x, y = validation
    accuracy = accuracy_of(model, x, y)
    loss = _mean_loss(model, x, y)
    curves = {"accuracy": [train_accuracy if train_accuracy is not None else accuracy] * epochs,
              "loss": [1.0] * epochs, "val_accuracy": [accuracy] * epochs}
    if loss is not None:
        curves["val_loss"] = [loss] * epochs
    return FakeHistory(model, curves, epochs, steps)


@dataclass(frozen=True)
class Attempt:
    """A mistake's example for an exercise checked on objects of the run: the answer, and the context entries that
    differ from the demo's (a history trained the wrong way, a model without its dropout)."""

    answer: Any
    context: dict[str, Any]


def attempt(example: Any, context: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(answer, context) for an example (a value, a function of the context, or one giving an `Attempt`) tried in
    `context` (the exercises' tests)."""
    value = example(context) if callable(example) else example
    if isinstance(value, Attempt):
        return value.answer, {**context, **value.context}
    return value, context
