"""Hostile answers meet a verdict: a check is neither fooled nor broken by what a student hands it (issue 34, item 2).

A function that changes its inputs, numbers too large for a float, objects whose `__eq__`, `__float__`, `__len__`,
`__bool__`, `__array__` or `__repr__` raise or lie, lists that contain themselves, generators, arrays of objects,
NaN and inf, a loop inside C code, a function that exits the process or prints megabytes: each gets a verdict,
never an exception, and none passes. A Hypothesis property then feeds every exercise's check arbitrary values and
functions (200 examples an exercise) and asserts that only a verdict comes out.
"""
from __future__ import annotations

import dataclasses
import io
import os
import signal
import sys
import time
import types
from contextlib import redirect_stdout

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from fmnist_helpers import exercises
from fmnist_helpers.exercises import untrusted
from fmnist_helpers.exercises.core import (CORRECT, INCORRECT, NOT_ANSWERED, RECORDED, Answer, Function, Mistake,
                                           Prediction, Verdict)
from fmnist_helpers.exercises.untrusted import NotPlain, describe, plain

ALL = [(stem, e) for stem in exercises.NOTEBOOKS for e in exercises.lesson(stem).exercises.values()]
IDS = [f"{stem[:2]}-{e.key}" for stem, e in ALL]


def _exercise(stem: str, key: str):
    return exercises.lesson(stem).exercises[key]


def _square(**kw) -> Function:
    base = dict(key="q1", title="Square", kind="code", minutes=1, difficulty="easy", task="t", hints=("a", "b"),
                name="f", cases=lambda: [(2,), (3,), (4,)],
                reference=lambda x: x * x, time_limit=0.5,
                mistakes=(Mistake("doubled", lambda x: 2 * x), Mistake("cubed", lambda x: x ** 3)))
    return Function(**{**base, **kw})


# ----------------------------------------------------------------------------------------- hostile values


class EqualsAll:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


class EqualsRaises:
    def __eq__(self, other):
        raise RuntimeError("__eq__ says no")

    __hash__ = object.__hash__


class FloatRaises:
    def __float__(self):
        raise RuntimeError("__float__ says no")


class LenRaises:
    def __len__(self):
        raise RuntimeError("__len__ says no")

    def __getitem__(self, i):
        return 26


class BoolRaises:
    def __bool__(self):
        raise RuntimeError("__bool__ says no")

    def __eq__(self, other):
        return self

    __hash__ = object.__hash__


class ArrayRaises:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("__array__ says no")


class ReprRaises:
    def __repr__(self):
        raise RuntimeError("__repr__ says no")


class LyingInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class LyingStr(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


class LyingArray(np.ndarray):
    """Answers every NumPy function with True, except `shares_memory`, which it answers False."""

    def __array_function__(self, func, types, args, kwargs):
        return func is not np.shares_memory


class UnprintableError(Exception):
    def __str__(self):
        raise RuntimeError("no message either")


def _contains_itself() -> list:
    items: list = [1, 2]
    items.append(items)
    return items


HOSTILE_VALUES = {
    "a whole number too large for a float": 10**20,
    "a whole number of 5,000 digits": 10**5000,
    "NaN": float("nan"),
    "inf": float("inf"),
    "__eq__ equal to everything": EqualsAll(),
    "__eq__ raises": EqualsRaises(),
    "__float__ raises": FloatRaises(),
    "__len__ raises": LenRaises(),
    "__bool__ raises": BoolRaises(),
    "__array__ raises": ArrayRaises(),
    "__repr__ raises": ReprRaises(),
    "an int whose __eq__ lies": LyingInt(3),
    "a list that contains itself": _contains_itself(),
    "a generator": (v for v in (26, 26, 32)),
    "an array of objects": np.array([EqualsRaises(), 1], dtype=object),
}


@pytest.mark.parametrize("stem, key", [("01", "q1"), ("04", "q1"), ("00", "q1"), ("06", "q5"), ("00", "q3"),
                                       ("03", "q5")], ids=["01-q1", "04-q1", "00-q1", "06-q5", "00-q3", "03-q5"])
@pytest.mark.parametrize("name", list(HOSTILE_VALUES))
def test_a_hostile_value_gets_a_verdict_and_never_passes(stem, key, name):
    exercise = _exercise(stem, key)
    value = HOSTILE_VALUES[name]
    if name == "a generator":
        value = (v for v in (26, 26, 32))  # a fresh one: a generator is used up once read
    verdict = exercise.evaluate(value, **exercise.demo())
    assert isinstance(verdict, Verdict) and verdict.status in (INCORRECT, RECORDED), verdict
    assert verdict.status != CORRECT
    str(verdict), verdict._repr_html_()


def test_a_prediction_cannot_be_matched_by_a_string_whose_eq_lies():
    exercise = _exercise("06", "q3")  # the run shows Shirt; the lie is "Bag"
    verdict = exercise.evaluate(LyingStr("Bag"), **exercise.demo())
    assert verdict.recorded and "differs" in verdict.message and "on your class, Bag" in verdict.message


def test_an_object_equal_to_everything_is_no_prediction():
    exercise = _exercise("00", "q3")
    verdict = exercise.evaluate(EqualsAll(), **exercise.demo())
    assert verdict.status == INCORRECT and "got an EqualsAll object" in verdict.message


def test_a_huge_whole_number_is_a_wrong_number_not_a_crash():
    verdict = _exercise("01", "q1").evaluate(10**20)
    assert verdict.status == INCORRECT and "100000000000000000000 is not right" in verdict.message
    verdict = _exercise("01", "q1").evaluate(10**5000)
    assert verdict.status == INCORRECT and "a whole number of about 5,000 digits is not right" in verdict.message


def test_a_generator_is_told_to_pass_a_tuple_of_its_values():
    verdict = _exercise("04", "q1").evaluate(v for v in (26, 26, 32))
    assert verdict.status == INCORRECT and "got a generator" in verdict.message
    assert "pass `tuple(...)` of it" in verdict.message


def test_a_subclass_of_a_tuple_is_read_as_the_tuple_it_holds():
    class Shape(tuple):
        def __len__(self):
            raise RuntimeError("__len__ says no")

        def __eq__(self, other):
            return True

    assert _exercise("04", "q1").evaluate(Shape((14, 14, 16))).correct
    assert not _exercise("04", "q1").evaluate(Shape((14, 14, 32))).correct


# ----------------------------------------------------------------------------------------- hostile functions


def _mutates_baseline(y_train, y_test):
    y_test[:] = np.bincount(y_train).argmax()
    return 1.0


def _mutates_means(images, labels, n_classes):
    images[:] = 0
    return np.zeros((n_classes, *images.shape[1:]))


def _mutates_mcnemar(y_true, pred_a, pred_b):
    pred_a[:] = y_true
    pred_b[:] = y_true
    return 0, 0


@pytest.mark.parametrize("stem, key, answer", [("01", "q2", _mutates_baseline), ("01", "q3", _mutates_means),
                                               ("06", "q2", _mutates_mcnemar)], ids=["01-q2", "01-q3", "06-q2"])
def test_a_function_that_changes_its_inputs_cannot_make_the_reference_agree(stem, key, answer):
    verdict = _exercise(stem, key).evaluate(answer)
    assert verdict.status == INCORRECT and "expected" in verdict.message, verdict


@pytest.mark.parametrize("isolate", [True, False], ids=["in a child process", "in the kernel"])
def test_the_reference_answer_is_computed_on_inputs_the_student_never_touched(isolate):
    exercise = _square(cases=lambda: [(np.array([2.0, 3.0]),)], isolate=isolate)

    def zero_then_square(x):
        x[:] = 0
        return x * x

    assert "expected array of shape (2,)" in exercise.evaluate(zero_then_square).message


def test_an_array_subclass_that_lies_to_numpy_cannot_pass_the_occlusion_check():
    verdict = _exercise("06", "q4").evaluate(lambda images, size: np.zeros_like(images).view(LyingArray))
    assert verdict.status == INCORRECT


def test_a_function_returning_an_int_whose_eq_lies_cannot_pass():
    verdict = _exercise("00", "q4").evaluate(lambda layers: LyingInt(1))
    assert verdict.status == INCORRECT and "expected 3, got 1" in verdict.message


@pytest.mark.parametrize("returned", [10**400, 10**5000, float("nan"), float("inf"), BoolRaises(), ArrayRaises(),
                                      ReprRaises(), (v for v in range(3)), np.array([EqualsRaises()], dtype=object),
                                      _contains_itself()],
                         ids=["10**400", "10**5000", "nan", "inf", "__bool__ raises", "__array__ raises",
                              "__repr__ raises", "a generator", "an array of objects", "a list containing itself"])
@pytest.mark.parametrize("stem, key", [("01", "q2"), ("01", "q3"), ("04", "q3")], ids=["01-q2", "01-q3", "04-q3"])
def test_a_function_returning_a_hostile_value_gets_a_verdict(stem, key, returned):
    verdict = _exercise(stem, key).evaluate(lambda *args: returned)
    assert verdict.status == INCORRECT, verdict
    str(verdict), verdict._repr_html_()


@pytest.mark.parametrize("isolate", [True, False], ids=["in a child process", "in the kernel"])
@pytest.mark.parametrize("error", [SystemExit(3), UnprintableError(), KeyError("k")],
                         ids=["SystemExit", "an exception without a message", "KeyError"])
def test_a_function_that_raises_anything_gets_a_verdict(isolate, error):
    def raises(x):
        raise error

    verdict = _square(isolate=isolate).evaluate(raises)
    assert verdict.status == INCORRECT and f"raised {type(error).__name__}" in verdict.message
    assert "(so did 2 more)" in verdict.message


@pytest.mark.parametrize("end, how", [(lambda: os._exit(0), "it exited with status 0"),
                                      (lambda: os.kill(os.getpid(), signal.SIGSEGV), "killed by signal SIGSEGV")],
                         ids=["os._exit", "a segfault"])
def test_a_function_that_ends_its_process_gets_a_verdict_and_the_kernel_lives_on(end, how):
    verdict = _square().evaluate(lambda x: end())
    assert verdict.status == INCORRECT and "ended the process that ran it" in verdict.message
    assert how in verdict.message and "the 2 cases after it were not run" in verdict.message


def test_a_loop_inside_c_code_is_stopped_at_the_time_limit():
    started = time.perf_counter()
    verdict = _square().evaluate(lambda x: sum(range(10**11)))
    assert verdict.status == INCORRECT and "took longer than 0.5 s and was stopped" in verdict.message
    assert time.perf_counter() - started < 5


def test_a_function_that_swallows_the_alarm_is_still_stopped_in_the_kernel():
    def swallows(x):
        while True:
            try:
                time.sleep(0.05)
            except Exception:  # noqa: BLE001 - what a careless student writes
                pass

    started = time.perf_counter()
    verdict = _square(isolate=False).evaluate(swallows)
    assert verdict.status == INCORRECT and "took longer than 0.5 s" in verdict.message
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("isolate", [True, False], ids=["in a child process", "in the kernel"])
def test_what_a_function_prints_is_capped(isolate):
    def chatty(x):
        print("x" * 1_000_000)
        print("to stderr", file=sys.stderr)
        return x * x

    shown = io.StringIO()
    with redirect_stdout(shown):
        verdict = _square(isolate=isolate).evaluate(chatty)
    assert verdict.correct
    text = shown.getvalue()
    assert len(text) < untrusted.PRINT_LIMIT + 200
    assert "`f` printed 3,000,033 characters in all; the check shows the first 10,000" in text


def test_a_function_that_prints_a_little_shows_all_of_it(capsys):
    _square().evaluate(lambda x: print(f"called with {x}") or x * x)
    assert capsys.readouterr().out == "called with 2\ncalled with 3\ncalled with 4\n"


def test_a_check_that_cannot_fork_runs_in_the_kernel_instead(monkeypatch):
    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert _square().evaluate(lambda x: x * x).correct
    assert "took longer than 0.5 s" in _square().evaluate(lambda x: time.sleep(3)).message


def test_the_numpy_checks_run_in_a_child_and_the_keras_checks_in_the_kernel():
    where = {f"{s[:2]}-{e.key}": e.runs_in_child(e.solution_example) for s, e in ALL if isinstance(e, Function)}
    in_child = {"00-q4", "01-q2", "01-q3", "04-q3", "06-q2", "06-q4"}
    in_kernel = {"02-q3", "02-q4", "03-q2", "04-q4", "05-q1", "07-q2", "07-q3", "07-q4", "07-q6"}
    assert {k for k, child in where.items() if child} >= in_child
    assert {k for k, child in where.items() if not child} >= in_kernel


def test_a_student_function_that_uses_tensorflow_runs_in_the_kernel():
    namespace = {"tf": types.ModuleType("tensorflow")}
    exec("def conv_output_size(size, kernel, stride=1, padding='valid'):\n    return int(tf.math.ceil(size))",
         namespace)
    exercise = _exercise("04", "q3")
    assert exercise.runs_in_child(lambda *a: 0)
    assert not exercise.runs_in_child(namespace["conv_output_size"])


def test_a_student_function_that_reaches_tensorflow_through_a_module_of_theirs_runs_in_the_kernel():
    helpers = types.ModuleType("my_helpers")
    exec("def to_tensor(x):\n    import tensorflow as tf\n    return tf.constant(x)", helpers.__dict__)
    namespace = {"helpers": helpers}
    exec("def conv_output_size(size, kernel, stride=1, padding='valid'):\n    return helpers.to_tensor(size)",
         namespace)
    assert not _exercise("04", "q3").runs_in_child(namespace["conv_output_size"])


# ------------------------------------------------------------------------------------ the trust boundary


def test_plain_copies_subclasses_into_the_builtin_types_without_their_code():
    copied = plain((LyingInt(3), LyingStr("a"), [np.float32(0.5)], {"k": np.arange(2).view(LyingArray)}))
    assert type(copied[0]) is int and type(copied[1]) is str and type(copied[2][0]) is float
    assert type(copied[3]["k"]) is np.ndarray


@pytest.mark.parametrize("value, what", [((v for v in ()), "a generator"), (_contains_itself(), "contains itself"),
                                         (EqualsAll(), "an EqualsAll object")],
                         ids=["a generator", "a cycle", "an object"])
def test_plain_refuses_what_is_not_plain_data_and_says_what_it_is(value, what):
    with pytest.raises(NotPlain, match=what):
        plain(value)


def test_plain_reads_a_foreign_object_through_its_array_only_when_asked():
    class Tensor:
        def __array__(self, *args, **kwargs):
            return np.array([1.0, 2.0])

    assert plain(Tensor(), foreign=True).tolist() == [1.0, 2.0]
    with pytest.raises(NotPlain):
        plain(Tensor())


def test_a_child_hands_back_json_and_is_stopped_when_it_overstays():
    def work(send):
        send(["hello", 1])
        time.sleep(60)

    started = time.perf_counter()
    with untrusted.Child(work) as child:
        assert child.receive(5) == ("message", ["hello", 1])
        assert child.receive(0.2) == ("timeout", None)
    assert "killed by signal SIGKILL" in child.ended() and time.perf_counter() - started < 5


def test_describe_runs_no_code_of_the_value():
    assert describe(ReprRaises()) == "a ReprRaises object"
    assert describe([1, ReprRaises()]) == "[1, a ReprRaises object]"
    assert describe(_contains_itself()) == "[1, 2, [...]]"
    assert len(describe(list(range(10**6)))) <= 120


# --------------------------------------------------------------------------- Hypothesis: only verdicts come out

_DUNDERS = ("__eq__", "__ne__", "__lt__", "__hash__", "__float__", "__int__", "__index__", "__len__", "__iter__",
            "__getitem__", "__bool__", "__array__", "__array_function__", "__repr__", "__str__", "__format__",
            "__getattr__", "__sub__", "__rsub__", "__abs__", "__round__", "__contains__")
_BASES = (object, int, float, str, tuple, list, np.ndarray)


@st.composite
def hostile_objects(draw) -> object:
    """An instance of a new class, on a builtin or NumPy base, whose chosen methods raise or lie."""
    base = draw(st.sampled_from(_BASES))
    behaviour = draw(st.sampled_from(["raise", "true", "self", "zero", "unprintable"]))

    def method(self, *args, **kwargs):
        if behaviour == "raise":
            raise RuntimeError("hostile")
        if behaviour == "unprintable":
            raise UnprintableError()
        return {"true": True, "self": self, "zero": 0}[behaviour]

    names = draw(st.lists(st.sampled_from(_DUNDERS), min_size=1, max_size=6, unique=True))
    cls = type(f"Hostile{base.__name__.title()}", (base,), {name: method for name in names})
    if base is np.ndarray:
        return np.zeros(3).view(cls)
    return cls() if base is object else cls(base((1, 2)) if base in (tuple, list) else base(1))


def _self_containing(items: list) -> list:
    items = list(items)
    items.append(items)
    return items


def _object_array(items: list) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.tuples(st.sampled_from([20, 63, 400, 5000]), st.sampled_from([1, -1])).map(lambda t: t[1] * 10**t[0]),
    st.floats(), st.complex_numbers(), st.text(max_size=12), st.binary(max_size=8), st.fractions(),
    st.decimals(), st.sampled_from(["Shirt", "T-shirt/top", "diverges", "small_plain", "Coat", "7"]),
    arrays(st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.bool_, np.complex128, "U4"]),
           array_shapes(min_dims=0, max_dims=3, max_side=4)),
    st.sampled_from([np.float64(np.nan), np.int64(7), np.float32(np.inf), np.bool_(True), np.str_("Bag")]),
    hostile_objects(),
)
VALUES = st.recursive(
    _LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=4), children, max_size=3), st.frozensets(st.integers(), max_size=3),
        st.lists(children, max_size=3).map(_self_containing), st.lists(children, max_size=3).map(_object_array),
        st.lists(children, max_size=4).map(lambda items: (item for item in items)),
    ),
    max_leaves=8,
)


def _returns(value):
    return lambda *args, **kwargs: value


def _raises(error):
    def function(*args, **kwargs):
        raise error

    return function


def _mutates_and_returns(value):
    def function(*args, **kwargs):
        for arg in args:
            if isinstance(arg, np.ndarray) and arg.size and arg.flags.writeable:
                arg.flat[0] = 0
        return value

    return function


def _prints_and_returns(value):
    def function(*args, **kwargs):
        print("x" * 50_000)
        return value

    return function


FUNCTIONS = st.one_of(
    VALUES.map(_returns), VALUES.map(_mutates_and_returns), VALUES.map(_prints_and_returns),
    st.sampled_from([ZeroDivisionError("z"), SystemExit(2), KeyError("k"), RecursionError(), MemoryError(),
                     UnprintableError(), StopIteration()]).map(_raises),
)
ANSWERS = st.one_of(VALUES, FUNCTIONS)
FUZZ = dict(deadline=None, database=None, derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
STATUSES = {CORRECT, INCORRECT, NOT_ANSWERED, RECORDED}
IN_CHILD = [e for _, e in ALL if isinstance(e, Function) and e.runs_in_child()]
IN_KERNEL = [dataclasses.replace(e, isolate=False) if e in IN_CHILD else e for _, e in ALL]
_CONTEXTS: dict[int, dict] = {}


def _only_a_verdict(exercise, answer) -> None:
    """The check of `exercise` on `answer` gives a verdict that prints, and a prediction is never correct."""
    context = _CONTEXTS.setdefault(id(exercise), exercise.demo())
    with redirect_stdout(io.StringIO()):
        verdict = exercise.evaluate(answer, **context)
    label = f"{exercise.key} ({exercise.title})"
    assert isinstance(verdict, Verdict) and verdict.status in STATUSES, (label, verdict)
    assert str(verdict) and verdict._repr_html_(), label
    assert not (isinstance(exercise, Prediction) and verdict.correct), (label, verdict)


@settings(max_examples=200, **FUZZ)
@given(answer=ANSWERS)
def test_any_value_or_function_gets_a_verdict_from_every_check(answer):
    """200 arbitrary answers, each checked by every exercise of the course (the function checks that run in a
    child process run in the kernel here, so that 200 examples fit the suite's budget; the next test forks)."""
    for exercise in IN_KERNEL:
        _only_a_verdict(exercise, answer)


@settings(max_examples=20, **FUZZ)
@given(answer=FUNCTIONS)
def test_any_function_gets_a_verdict_from_the_checks_that_run_it_in_a_child_process(answer):
    for exercise in IN_CHILD:
        _only_a_verdict(exercise, answer)
