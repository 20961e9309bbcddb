"""The machinery of checked exercises: verdicts, value and function checks, hints, solutions and progress.

An exercise is defined once (in `nb00.py` ... `nb08.py`) and never changes; what a student has done lives in
the `Lesson` of that notebook. A check shows a verdict, whatever it is given, and for the wrong answers students give
most often it says what went wrong. A prediction is recorded, never graded correct. A check reads answers as plain
copies and runs a student's function on copies of its inputs, in a forked child process with a wall-clock limit where
it can (see `untrusted.py`), and reports every kind of failing case. It raises only while nbgrader validates or
autogrades the notebook (`grading_run()`): then a wrong or missing answer ends the cell with `NotYetCorrect`, one line
under the verdict, so that nbgrader counts the cell as failed; in JupyterLab, papermill or nbval a check never stops
the notebook.

Usage:
    lesson = Lesson("04_cnn", "The convolutional network", [exercise, ...])
    lesson.q1.check((26, 26, 32)); lesson.q1.hint(); lesson.q1.solution(); lesson.progress()
    lesson.q1.evaluate((26, 26, 32)).correct      # the verdict without showing it (tests, nbgrader)
"""
from __future__ import annotations

import dataclasses
import functools
import html
import os
import re
import textwrap
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from fmnist_helpers.base.settings import NBGRADER

from .errors import explain_error
from .givens import SWAPS
from .mutants import intermediates, mutants
from .slips import argument_names, argument_variants, count_factor_slip, length_slip, pair_slip, slip
from .untrusted import (PRINT_LIMIT, Child, NotPlain, TimeLimit, call_limited, can_fork, capture, describe,
                        error_text, fresh, plain, unwrapped, uses_tensorflow)

_short = describe  # how the lesson modules quote an answer in a message: runs none of its code

KINDS = {"predict": "predict, then run", "compute": "compute by hand", "code": "write code",
         "experiment": "run an experiment and interpret it"}
DIFFICULTIES = ("easy", "medium", "hard")

CORRECT, INCORRECT, NOT_ANSWERED, HINT, SOLUTION = "correct", "incorrect", "not answered", "hint", "solution"
RECORDED = "recorded"  # a prediction: made and kept, never graded right or wrong
_STYLE = {  # label (never colour alone), border and background colours
    CORRECT: ("✔ Correct", "#1b7837", "#e6f4ea"),
    RECORDED: ("● Recorded", "#5e3c99", "#f1eef6"),
    INCORRECT: ("✘ Not yet", "#b2182b", "#fdecea"),
    NOT_ANSWERED: ("… Not answered yet", "#4d4d4d", "#f2f2f2"),
    HINT: ("✎ Hint", "#8c510a", "#fdf5e6"),
    SOLUTION: ("❖ Solution", "#2166ac", "#eaf1fb"),
}


class _Unset:
    def __repr__(self) -> str:
        return "<no answer>"


UNSET = _Unset()
"""What `check()` receives when it is called without an answer."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check, a hint or a solution: a coloured line in JupyterLab, plain text elsewhere."""

    status: str
    title: str
    message: str
    code: str | None = None  # a solution's code, shown as a block

    @property
    def correct(self) -> bool:
        """A right answer; never a prediction."""
        return self.status == CORRECT

    @property
    def recorded(self) -> bool:
        """A well-formed prediction, recorded (a prediction's hidden test asserts this, not `correct`)."""
        return self.status == RECORDED

    def __str__(self) -> str:
        label = _STYLE[self.status][0]
        text = f"{label} · {self.title}: {self.message}"
        return text + (f"\n{self.code}" if self.code else "")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        label, border, background = _STYLE[self.status]
        message = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(self.message)).replace("\n", "<br>")
        code = (f'<pre style="margin:6px 0 0 0; background:#fff; padding:6px">{html.escape(self.code)}</pre>'
                if self.code else "")
        return (f'<div style="border-left:6px solid {border}; background:{background}; padding:6px 10px; '
                f'margin:4px 0; font-family:sans-serif"><strong style="color:{border}">{label}</strong> · '
                f"<em>{html.escape(self.title)}</em>: {message}{code}</div>")


def show(obj: Any) -> None:
    """Display rich output in a Jupyter kernel (HTML there, text in a terminal), print it elsewhere."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython ships with the pack
        print(obj)
        return
    if get_ipython() is None:
        print(obj)
    else:
        display(obj)


# -------------------------------------------------------------------------------------------- mistakes


@dataclass(frozen=True)
class Mistake:
    """A wrong answer students often give, and what to tell them.

    `example` is such an answer: for a value exercise a value or a function of the check's context that
    returns it; for a function exercise a wrong implementation. By default an answer is this mistake when it
    matches the example the way a right answer matches the solution; `detect(answer, context)` (value
    exercises) or `detect(output, args)` (function exercises) decides instead when given.
    """

    message: str
    example: Any
    detect: Callable[..., bool] | None = None


# ------------------------------------------------------------------------------------------- exercises


@dataclass(frozen=True)
class Exercise:
    """What every exercise has: its number, what to do, its cost, two hints and the mistakes it recognises; its
    solution is written once, in its notebook's answer cell (`solutions.py` reads it)."""

    key: str  # "q1"
    title: str
    kind: str  # a key of KINDS
    minutes: int
    difficulty: str  # one of DIFFICULTIES
    task: str  # one sentence: what the student does
    hints: tuple[str, str]
    mistakes: tuple[Mistake, ...]
    context: tuple[str, ...] = ()  # keyword arguments the check needs from the notebook (a history, a table)
    demo_context: Callable[[], dict[str, Any]] | None = None  # a small context for the tests
    solution_example: Any = None  # a right answer in the demo context (a value, or a function of the context)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.key}: kind {self.kind!r} is not one of {sorted(KINDS)}")
        if self.difficulty not in DIFFICULTIES:
            raise ValueError(f"{self.key}: difficulty {self.difficulty!r} is not one of {DIFFICULTIES}")
        if len(self.mistakes) < 2:
            raise ValueError(f"{self.key}: an exercise recognises at least two common wrong answers")
        if (self.kind == "predict") != isinstance(self, Prediction):
            raise ValueError(f"{self.key}: an exercise of kind 'predict' is a Prediction and a Prediction is of kind "
                             f"'predict' (a prediction is recorded, never graded correct)")

    @property
    def label(self) -> str:
        return f"Exercise {self.key[1:]} ({self.title})"

    def evaluate(self, answer: Any = UNSET, **context: Any) -> Verdict:
        """The verdict on `answer`, shown nowhere; `check` shows it. Whatever the answer, a verdict: an answer the
        check cannot use is "not yet", with what went wrong."""
        if _unanswered(answer):
            return Verdict(NOT_ANSWERED, self.label, "replace `None` with your answer, then run this cell again.")
        missing = [name for name in self.context if context.get(name) is None]
        if missing:
            return Verdict(NOT_ANSWERED, self.label,
                           f"the check needs {', '.join(missing)} from your run; run the cells above first.")
        try:
            return self._evaluate(answer, context)
        except NotAnswered as err:
            return Verdict(NOT_ANSWERED, self.label, str(err))
        except (Exception, SystemExit, TimeLimit) as err:  # noqa: BLE001 - never a traceback for an answer
            return Verdict(INCORRECT, self.label, f"the check could not use this answer ({error_text(err)}). Give "
                                                  f"what the task asks for; `ex.{self.key}.hint()` gives a hint.")

    def _evaluate(self, answer: Any, context: dict[str, Any]) -> Verdict:
        raise NotImplementedError

    def demo(self) -> dict[str, Any]:
        """The demo context (tests)."""
        return self.demo_context() if self.demo_context else {}


class NotAnswered(Exception):
    """Raised inside a check when the answer or its context is still empty; the verdict says the message."""


def _unanswered(answer: Any) -> bool:
    return answer is None or answer is UNSET or answer is Ellipsis


def _resolve(value: Any, context: dict[str, Any]) -> Any:
    return value(context) if callable(value) else value


def same_number(answer: Any, expected: Any, rel: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """Whether two numbers (or equal-length sequences of numbers) agree within a tolerance; False for anything
    that is not numbers (a whole number too large for a float agrees only with itself)."""
    try:
        a, e = np.asarray(answer, dtype=float), np.asarray(expected, dtype=float)
    except OverflowError:
        return type(answer) is int and type(expected) is int and answer == expected
    except Exception:  # noqa: BLE001 - not numbers
        return False
    return a.shape == e.shape and bool(np.all(np.isclose(a, e, rtol=rel, atol=abs_tol, equal_nan=True)))


def _agree(same: Callable[[Any, Any], Any], a: Any, b: Any) -> bool:
    """`same(a, b)` as a bool; False when the comparison fails."""
    try:
        return bool(same(a, b))
    except Exception:  # noqa: BLE001 - an answer of another form than the check compares
        return False


ANSWER_READ_LIMIT = 5.0
"""Seconds a check may spend reading an answer that is not plain data (its `__array__`, its `__float__`)."""
ACCEPTED = "a number, a string, or a tuple or list of them, as the task asks"


def _plain_answer(answer: Any, label: str) -> tuple[Any, Verdict | None]:
    """The answer as plain data, or the verdict that says why it cannot be read."""
    try:
        return call_limited(functools.partial(plain, foreign=True), (answer,), ANSWER_READ_LIMIT), None
    except NotPlain as err:
        return None, Verdict(INCORRECT, label, f"give {ACCEPTED}; got {err.what}.")
    except TimeLimit:
        return None, Verdict(INCORRECT, label, f"reading this answer took longer than {ANSWER_READ_LIMIT:g} s; give "
                                               f"{ACCEPTED}.")


@dataclass(frozen=True)
class Answer(Exercise):
    """An exercise answered by a value: a number, a shape, a class name, checked against `expected`.

    The answer is read as a plain copy (`untrusted.plain`): numbers, strings, tuples, lists and arrays, never an
    object of the student's own class. `expected(context)` gives the right answer (or it is a constant);
    `same(answer, expected)` compares; `validate(answer, context)` returns a message when the answer has the
    wrong form (a string for a number, a name that is no class), which is reported before anything else.
    `formula` (a `givens.Formula`), when given, writes the answer as a formula of the task's givens, so that a
    wrong answer no mistake foresaw is named by the given it misread or the part it left out.
    """

    expected: Any = None
    same: Callable[[Any, Any], bool] = same_number
    validate: Callable[[Any, dict[str, Any]], str | None] | None = None
    on_correct: Callable[[Any, dict[str, Any]], str] | None = None  # what to add when right (a reveal)
    formula: Any = None  # a givens.Formula of the answer, or None

    def _evaluate(self, answer: Any, context: dict[str, Any]) -> Verdict:
        answer, unreadable = _plain_answer(answer, self.label)
        if unreadable:
            return unreadable
        problem = self.validate(answer, context) if self.validate else None
        expected = _resolve(self.expected, context)
        if problem or _has_none(answer):
            fixed = _batch_axis(answer, expected)
            if fixed is not None and not _has_none(fixed[0]):
                return self._with_axis_fixed(answer, context, *fixed)
        if problem:
            found = pair_slip(answer, expected) or _sequence_slip(answer, expected)
            return Verdict(INCORRECT, self.label, problem + (f" {found[:1].upper()}{found[1:]}" if found else ""))
        if _agree(self.same, answer, expected):
            extra = self.on_correct(answer, context) if self.on_correct else "well done."
            return Verdict(CORRECT, self.label, extra)
        for mistake in self.mistakes:
            if mistake.detect is not None:
                hit = mistake.detect(answer, context)
            else:
                wrong = _resolve(mistake.example, context)
                hit = not _agree(self.same, wrong, expected) and _agree(self.same, answer, wrong)
            if hit:
                return Verdict(INCORRECT, self.label, mistake.message)
        found = self._slip(answer, expected)
        return Verdict(INCORRECT, self.label, f"{describe(answer)} is not right" + (f": {found}" if found else ".")
                       + f" `ex.{self.key}.hint()` gives a hint.")

    def _slip(self, answer: Any, expected: Any) -> str | None:
        return explain_slip(answer, expected, self.formula, lambda a, b: _agree(self.same, a, b))

    def _with_axis_fixed(self, answer: Any, context: dict[str, Any], fixed: Any, note: str) -> Verdict:
        """The verdict on a shape whose batch axis is written as None, or is there where the task's shape has none:
        what that axis is, then the verdict on the shape with it put right."""
        rest = self._evaluate(fixed, context)
        if rest.correct:
            return Verdict(INCORRECT, self.label, f"{note}; then {describe(fixed)} is right.")
        return Verdict(INCORRECT, self.label, f"{note}. With that, {describe(fixed)}: {rest.message}")


@dataclass(frozen=True)
class Prediction(Answer):
    """Predict, then run: a well-formed prediction is recorded (never graded correct), and the verdict reveals
    what this run shows and whether the prediction matched it.

    `expected(context)` is what the run shows; `on_correct` (here: on any valid prediction) gives the reveal.
    Mistakes are the malformed predictions (`detect` them).
    """

    def _evaluate(self, answer: Any, context: dict[str, Any]) -> Verdict:
        answer, unreadable = _plain_answer(answer, self.label)
        if unreadable:
            return unreadable
        for mistake in self.mistakes:
            if mistake.detect is not None and mistake.detect(answer, context):
                return Verdict(INCORRECT, self.label, mistake.message)
        problem = self.validate(answer, context) if self.validate else None
        if problem:
            return Verdict(INCORRECT, self.label, problem)
        actual = _resolve(self.expected, context)
        matched = _agree(self.same, answer, actual)
        reveal = self.on_correct(answer, context) if self.on_correct else f"this run shows {describe(actual)}."
        lead = "your prediction matches this run: " if matched else "this run differs from your prediction: "
        return Verdict(RECORDED, self.label, lead + reveal)


def _has_none(answer: Any) -> bool:
    return isinstance(answer, (tuple, list)) and any(v is None for v in answer)


_NONE_BATCH = ("None is what Keras prints for the batch axis of a model's shape (`model.input_shape`, "
               "`model.summary()`), where any batch size will do")


def _sequence_slip(answer: Any, expected: Any) -> str | None:
    """How numbers of the wrong form (a target that does not add up to 1) relate to the right numbers, when there
    are as many: in percent, off by one step, a factor (`slips.slip`, relations that name themselves)."""
    try:
        a, e = np.asarray(answer, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return None
    if a.ndim != 1 or a.shape != e.shape or a.size < 2:
        return None
    return slip(a, e, bare=False)


def _batch_axis(answer: Any, expected: Any) -> tuple[Any, str] | None:
    """(the shape put right, what was wrong) when a shape's first entry is the batch axis written as None (the task
    asks for a batch of a given size, or for one image without a batch axis), or a batch axis of whole numbers
    where the task's shape has none; None otherwise."""
    if not isinstance(answer, (tuple, list)) or not answer or not isinstance(expected, tuple) or not expected \
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in expected):
        return None
    first, rest = answer[0], tuple(answer[1:])
    if first is None and len(answer) != len(expected) + 1:
        return ((expected[0], *rest), f"{_NONE_BATCH}; the task asks for the tensor of one batch, whose first "
                                      f"entry is its size, {expected[0]:,}")
    if first is None and len(answer) == len(expected) + 1:
        return rest, f"{_NONE_BATCH}; the task asks for the shape of one image, without a batch axis: leave it out"
    if isinstance(first, (int, np.integer)) and not isinstance(first, bool) and len(answer) == len(expected) + 1 \
            and (first == 1 or rest == expected):  # (14, 14, 16, 3) is no batch of 14
        return rest, (f"the first entry, {first}, is a batch axis, which the task's shape has not (it asks for the "
                      f"shape of one image): leave it out")
    return None


def explain_slip(answer: Any, expected: Any, formula: Any, same: Callable[[Any, Any], bool],
                 names: dict[float, str] | None = None) -> str | None:
    """How a wrong answer that no mistake matched relates to the right one: a misread given or a changed part of
    the formula (a `givens.Formula`, or None) first; then a relation that names itself (a sign, a percentage, a
    factor that is a given or an argument's length); then a rarer change of the formula (another given's value in
    a given's place); then each wrong number of several on its own (`Formula.explain_parts`); then a bare factor
    (`slips.slip`)."""
    found, parts = None, None
    if formula is not None:
        try:
            found = formula.explain_ranked(answer, same)
            names = {**(names or {}), **formula.names()}
            parts = None if found else formula.explain_parts(answer)
        except Exception:  # noqa: BLE001 - an odd answer gets no diagnosis, never an error
            found = None
    if found and found[1] < SWAPS:
        also = slip(answer, expected, names, bare=False) if found[1] >= 1 else None  # a less sure change: both
        return found[0] + (f" Or {also[:1].lower()}{also[1:]}" if also else "")
    return slip(answer, expected, names, bare=False) or (found[0] if found else parts or slip(answer, expected, names))


# ----------------------------------------------------------------------------------- checks of functions


@dataclass(frozen=True)
class Case:
    """One hidden case of a function check: its arguments and, optionally, what kind of case it is ("empty
    input", "class-imbalanced"), which the report of failing cases groups by."""

    args: tuple
    label: str = ""


@dataclass
class _Outcome:
    """What happened on one case. Travels from a child process as JSON, so only strings and numbers."""

    kind: str  # one of the _KINDS below
    call: str  # "`f(2, 3)`"
    label: str = ""
    detail: str = ""  # the problem, the error, or how the process ended
    mistake: int = -1  # the index of the recognised mistake, -1 for none
    printed: str = ""  # the first PRINT_LIMIT characters the function printed
    printed_chars: int = 0
    slip: str = ""  # how a wrong output relates to the right one (`slips.slip`), when it does
    alike: list = field(default_factory=list)  # the indices of the named alternatives this output matches
    variants: list = field(default_factory=list)  # [key, sentence] of each change of the arguments giving this output
    fits: list = field(default_factory=list)  # the indices of every recognised mistake this output matches


PASSED, WRONG, RAISED, STUB, TIMEOUT, ENDED, CHECK_FAILED = ("passed", "wrong", "raised", "stub", "timeout",
                                                             "ended", "check failed")
START_LIMIT = 30.0
"""Seconds a child may take to start a case (fork and the reference answer) before the check gives up."""
VARIANT_SECONDS = 2.0
"""Seconds a failing case may spend trying changed arguments on the reference (`Function._variants`)."""


@dataclass(frozen=True)
class Function(Exercise):
    """An exercise answered by a function, run on hidden cases with a wall-clock limit per case.

    `cases()` gives the hidden cases (argument tuples, or `Case`s with a label); the reference answer
    `reference(*args)` is computed on a pristine copy before the student's function runs on its own copy. Each
    output, read as a plain copy, is compared with it by `same`, or judged by `verify(output, args)` (a message
    when wrong; `args` as the student's function left them, so a check can see a change in place) where many
    outputs are right. Every case runs; the verdict reports each kind of failing case, with a known mistake's
    message when one matches.

    `formula(*args)`, when given, writes the right output of a case as a `givens.Formula` of its arguments, so
    that a wrong output is named by the argument it misread or the part it left out.

    `alternatives` lists common wrong versions of the function, each a (function, sentence) pair: when a student's
    outputs match one of them on every failing case (and it differs from the right output there), the verdict says
    its sentence; when two match, both.

    `isolate`: None (the default) runs the cases in a forked child process, killed at the time limit even inside
    C code, unless the check's own code, its cases or the student's function use TensorFlow or Keras (a forked
    child cannot), which run in the kernel under an alarm that stops Python code only; True or False forces it.
    """

    name: str = "f"
    cases: Callable[[], Sequence[tuple | Case]] = lambda: []
    reference: Callable[..., Any] | None = None
    same: Callable[[Any, Any], bool] = lambda a, b: same_number(a, b)
    verify: Callable[[Any, tuple], str | None] | None = None
    describe: Callable[[tuple], str] = lambda args: ", ".join(describe(a) for a in args)
    time_limit: float = 10.0  # seconds per case
    isolate: bool | None = None
    formula: Callable[..., Any] | None = None  # the args of a case -> a givens.Formula of its right output
    alternatives: tuple[tuple[Callable[..., Any], str], ...] = ()  # (a common wrong version, what it does)

    def _evaluate(self, answer: Any, context: dict[str, Any]) -> Verdict:
        if not callable(answer):
            return Verdict(INCORRECT, self.label, f"pass the function itself, `ex.{self.key}.check({self.name})`, "
                                                  f"not {describe(answer)} (the result of calling it).")
        cases = [case if isinstance(case, Case) else Case(tuple(case)) for case in self.cases()]
        outcomes = self._run_in_child(answer, cases) if self.runs_in_child(answer, cases) else None
        if outcomes is None:
            outcomes = self._run_in_kernel(answer, cases)
        self._show_printed(outcomes)
        return self._verdict(outcomes, len(cases))

    # ------------------------------------------------------------------ where the cases run

    @functools.cached_property
    def _check_uses_tensorflow(self) -> bool:
        parts = [self.cases, self.reference, self.verify, self.same, self.describe, self.solution_example]
        parts += [part for m in self.mistakes for part in (m.example, m.detect)]
        parts += [alternative for alternative, _ in self.alternatives]
        return uses_tensorflow(*[p for p in parts if p is not None])

    def runs_in_child(self, answer: Any = None, cases: Sequence[Case] = ()) -> bool:
        """Whether this check runs `answer` on `cases` in a forked child process (see `isolate`)."""
        if self.isolate is False or not can_fork():
            return False
        if uses_tensorflow(answer, *[case.args for case in cases]):
            return False
        return bool(self.isolate) or not self._check_uses_tensorflow

    def _judge_limit(self) -> float:
        return max(30.0, 3 * self.time_limit)

    def _run_in_kernel(self, answer: Any, cases: list[Case]) -> list[_Outcome]:
        outcomes = []
        for case in cases:
            outcomes.append(self._run_case(answer, case, in_kernel=True))
            if outcomes[-1].kind in (STUB, TIMEOUT):
                break
        return outcomes

    def _run_in_child(self, answer: Any, cases: list[Case]) -> list[_Outcome] | None:
        """The outcomes of the cases run in a forked child; None when no child could be started."""
        def work(send: Callable[[Any], None]) -> None:
            for i, case in enumerate(cases):
                outcome = self._run_case(answer, case, in_kernel=False, signal=lambda what, i=i: send([what, i]))
                send(["outcome", i, dataclasses.asdict(outcome)])
                if outcome.kind == STUB:
                    return

        outcomes: list[_Outcome] = []
        try:
            child = Child(work)
        except OSError:  # no process to spare (a process or memory limit): the in-kernel limit instead
            return None
        with child:
            for case in cases:
                call = self._call(case)
                phase, message = child.receive(START_LIMIT)
                if phase != "message":
                    detail = "its start took too long" if phase == "timeout" else message
                    outcomes.append(_Outcome(CHECK_FAILED, call, case.label, detail))
                    break
                phase, message = child.receive(self.time_limit)
                if phase == "timeout":
                    outcomes.append(_Outcome(TIMEOUT, call, case.label))
                    break
                if phase == "ended":
                    outcomes.append(_Outcome(ENDED, call, case.label, message))
                    break
                phase, message = child.receive(self._judge_limit())
                if phase != "message":
                    detail = ("reading what it returned took too long" if phase == "timeout"
                              else f"the process ended while the check read what it returned: {message}")
                    outcomes.append(_Outcome(CHECK_FAILED, call, case.label, detail))
                    break
                outcomes.append(_Outcome(**message[2]))
                if outcomes[-1].kind == STUB:
                    break
        return outcomes

    # ------------------------------------------------------------------ one case

    def _call(self, case: Case) -> str:
        try:
            return f"`{self.name}({self.describe(case.args)})`"
        except Exception:  # noqa: BLE001 - a description must not stop the check
            return f"`{self.name}(...)`"

    def _run_case(self, answer: Any, case: Case, in_kernel: bool,
                  signal: Callable[[str], None] = lambda what: None) -> _Outcome:
        """Run `answer` on one case and judge what it returned; in the kernel under the time limit."""
        call = self._call(case)
        try:
            expected = self.reference(*fresh(case.args)) if self.verify is None and self.reference else None
        except Exception as err:  # noqa: BLE001 - the check's own reference failed
            return _Outcome(CHECK_FAILED, call, case.label, f"its reference answer raised {error_text(err)}")
        args = fresh(case.args)
        signal("start")
        kind, detail, mistake, output, found, alike, variants, fits = None, "", -1, None, "", [], [], []
        with capture(PRINT_LIMIT) as printed:
            try:
                output = call_limited(answer, args, self.time_limit) if in_kernel else answer(*args)
            except NotImplementedError:
                kind = STUB
            except TimeLimit:
                kind = TIMEOUT
            except KeyboardInterrupt:
                raise
            except BaseException as err:  # noqa: BLE001 - the student's code may raise anything
                kind, detail = RAISED, error_text(err)
            signal("called")
            if kind is None:
                try:
                    judged = (call_limited(self._judge, (output, args, expected, case.args), self._judge_limit())
                              if in_kernel else self._judge(output, args, expected, case.args))
                    if judged is None:
                        kind, alike = PASSED, self._alike(output, None, case.args)
                    else:
                        kind, detail, mistake, found, alike, variants = (WRONG, *judged)
                        fits = [i for i, m in enumerate(self.mistakes) if i >= mistake >= 0
                                and (i == mistake or self._is(m, output, args, case.args))]
                except TimeLimit:
                    kind, detail = CHECK_FAILED, "reading what it returned took too long"
        return _Outcome(kind, call, case.label, detail, mistake, printed.text, printed.chars, slip=found, alike=alike,
                        variants=variants, fits=fits)

    def _judge(self, output: Any, args: tuple, expected: Any,
               pristine: tuple) -> tuple[str, int, str, list[int], list[str]] | None:
        """None when `output` is right; else (what is wrong, the index of the recognised mistake or -1, how the
        output relates to the right one or "", the indices of the alternatives it matches, the changed arguments
        for which the right function gives it)."""
        try:
            if self.verify is not None:
                output = unwrapped(output)
                problem = self.verify(output, args)
            else:
                try:
                    output = plain(output, foreign=True)
                except NotPlain as err:
                    return (f"it returned {err.what}; the check compares numbers, tuples and NumPy arrays, "
                            f"expected {describe(expected)}"), -1, "", [], []
                right = _agree(self.same, output, expected)
                problem = None if right else f"expected {describe(expected)}, got {describe(output)}"
                if output is None and expected is not None:
                    problem = (f"it returned None, which is what a function without a `return` line gives (or one "
                               f"that returns an in-place method's result, such as `list.sort()`); expected "
                               f"{describe(expected)}")
        except (Exception, SystemExit) as err:  # noqa: BLE001 - a strange output may break any inspection
            return f"the check could not read what it returned ({error_text(err)})", -1, "", [], []
        if problem is None:
            return None
        alike = [] if self.verify is not None else self._alike(output, expected, pristine)
        variants = [] if self.verify is not None else self._variants(output, expected, pristine)
        for index, mistake in enumerate(self.mistakes):
            if self._is(mistake, output, args, pristine):
                return str(problem), index, "", alike, variants
        found = "" if self.verify is not None else self._slip(output, expected, pristine)
        return str(problem), -1, found or "", alike, variants

    def _variants(self, output: Any, expected: Any, pristine: tuple) -> list[list[str]]:
        """What each change of the case's arguments (`slips.argument_variants`: an argument left at its default,
        two swapped, one in another's place, one off by one) says, when the reference gives `output` for it;
        tried for VARIANT_SECONDS at most."""
        if self.reference is None:
            return []
        start, says = time.monotonic(), []
        for args, key, sentence in argument_variants(self.reference, fresh(pristine)):
            if time.monotonic() - start > VARIANT_SECONDS:
                break
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    theirs = plain(self.reference(*fresh(args)), foreign=True)
            except Exception:  # noqa: BLE001 - the reference need not handle a changed case
                continue
            if _agree(self.same, output, theirs) and not _agree(self.same, theirs, expected):
                says.append([key, sentence])
        return says

    @functools.cached_property
    def _versions(self) -> tuple[tuple[Callable[..., Any], str], ...]:
        """The named alternatives, then the reference's own intermediate variables (`_held`) and its mutants
        (`mutants.mutants`: one small change to its code each), when the reference is a plain function that uses no
        TensorFlow."""
        found: tuple = ()
        if self._reads_reference:
            found = tuple((mutant, f"it returns, on every hidden case, what the solution returns with {says}: is "
                                   f"that what your code does?") for mutant, says in mutants(self.reference))
        return tuple(self.alternatives) + self._held + found

    @functools.cached_property
    def _reads_reference(self) -> bool:
        return self.reference is not None and self.verify is None and not uses_tensorflow(self.reference)

    @functools.cached_property
    def _held(self) -> tuple[tuple[Callable[..., Any], str], ...]:
        """The versions that return one of the reference's intermediate variables (`mutants.intermediates`): an
        exact match of what the code returns, so a verdict says it alone."""
        if not self._reads_reference:
            return ()
        return tuple((version, f"it returns, on every hidden case, {says}: a step before the answer; is the right "
                               f"variable returned?") for version, says in intermediates(self.reference))

    def _alike(self, output: Any, expected: Any, pristine: tuple) -> list[int]:
        """The indices of the alternatives (and mutants, `_versions`) whose output on this case is `output` (on a
        failing case, and not the right one `expected`; on a passing case `expected` is None); tried for
        VARIANT_SECONDS at most after the named alternatives."""
        if not self._versions or self.verify is not None:
            return []
        alike, start = [], time.monotonic()
        for index, (alternative, _) in enumerate(self._versions):
            if index >= len(self.alternatives) and time.monotonic() - start > VARIANT_SECONDS:
                break
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")  # an alternative's own warnings are no concern of the student's
                    theirs = plain(alternative(*fresh(pristine)), foreign=True)
            except Exception:  # noqa: BLE001 - an alternative need not handle every case
                continue
            if _agree(self.same, output, theirs) and (expected is None or not _agree(self.same, theirs, expected)):
                alike.append(index)
        return alike

    def _slip(self, output: Any, expected: Any, pristine: tuple) -> str | None:
        """How a wrong output relates to the right one of its case (`explain_slip`), its arguments named."""
        try:
            formula = self.formula(*fresh(pristine)) if self.formula else None
        except Exception:  # noqa: BLE001 - a case the formula does not cover
            formula = None
        return length_slip(output, expected, self.reference, pristine) or count_factor_slip(
            output, expected, self.reference, pristine) or explain_slip(
            output, expected, formula, lambda a, b: _agree(self.same, a, b), argument_names(self.reference, pristine))

    def _is(self, mistake: Mistake, output: Any, args: tuple, pristine: tuple) -> bool:
        try:
            if mistake.detect is not None:
                return bool(mistake.detect(output, args))
            return _agree(self.same, output, mistake.example(*fresh(pristine)))
        except Exception:  # noqa: BLE001 - a wrong implementation may not handle every case
            return False

    # ------------------------------------------------------------------ the report

    def _show_printed(self, outcomes: list[_Outcome]) -> None:
        """What the function printed, at most PRINT_LIMIT characters, and how much was left out."""
        total = sum(o.printed_chars for o in outcomes)
        if not total:
            return
        text = "".join(o.printed for o in outcomes)[:PRINT_LIMIT].encode("utf-8", "replace").decode("utf-8")
        note = (f"[`{self.name}` printed {total:,} characters in all; the check shows the first {len(text):,}]\n"
                if total > len(text) else "")
        print(text if text.endswith("\n") else text + "\n", end=note)

    def _verdict(self, outcomes: list[_Outcome], n: int) -> Verdict:
        if any(o.kind == STUB for o in outcomes):
            raise NotAnswered(f"`{self.name}` still raises NotImplementedError: write its body where it says YOUR "
                              f"CODE HERE.")
        failing = [o for o in outcomes if o.kind != PASSED]
        if not failing and len(outcomes) == n:
            return Verdict(CORRECT, self.label, f"`{self.name}` passes "
                                                f"{'the hidden case' if n == 1 else f'all {n} hidden cases'}.")
        complete = len(outcomes) == n
        mutant = (self._alternative_lines(failing, outcomes, mutants=True) if complete and not any(
            o.kind == WRONG and o.mistake >= 0 for o in failing) else [])
        lines = ((self._alternative_lines(failing, outcomes, mutants=False) if complete else [])
                 or self._common_mistake_lines(failing) or self._variant_lines(failing))
        if not lines and mutant:  # the changed code, after what a named relation says of the output when one does
            first = len(self.alternatives)
            common = set(outcomes[0].alike).intersection(*(o.alike for o in outcomes))
            held = any(first <= i < first + len(self._held) for i in common)  # exact: it stands alone
            lines = self._failure_lines(failing, 0) + mutant if any(o.slip for o in failing) and not held else mutant
        lines = lines or self._failure_lines(failing, n - len(outcomes))
        head = f"`{self.name}` fails on {len(failing)} of {n} hidden case{'s' if n != 1 else ''}"
        if len(lines) == 1:
            return Verdict(INCORRECT, self.label, f"{head}: {lines[0]}")
        return Verdict(INCORRECT, self.label, f"{head}:\n" + "\n".join(f"- {line}" for line in lines))

    def _alternative_lines(self, failing: list[_Outcome], outcomes: list[_Outcome], mutants: bool) -> list[str]:
        """One line when the function returned what one (or two) of the named alternatives (with `mutants`, of the
        reference's mutants instead) return on every case, the passing ones too (so one that fits only the failing
        cases by chance is not named); else none. The named alternatives come before the recognised mistakes,
        which are judged on the failing cases alone; the mutants after them."""
        if not failing or any(o.kind not in (WRONG, PASSED) for o in outcomes):
            return []
        common = set(outcomes[0].alike).intersection(*(o.alike for o in outcomes))
        common = {i for i in common if (i >= len(self.alternatives)) == mutants}
        if not common:
            return []
        says = list(dict.fromkeys(self._versions[i][1] for i in sorted(common)))[:2]
        text = says[0] if len(says) == 1 else f"{says[0].rstrip('.')}; or {says[1][:1].lower()}{says[1][1:]}"
        first, more = failing[0], len(failing) - 1
        also = f" and {more} more case{'s' if more > 1 else ''}" if more else ""
        return [f"{text} (on {first.call}{also}: {first.detail})"]

    def _common_mistake_lines(self, failing: list[_Outcome]) -> list[str]:
        """One line when one recognised mistake fits every failing case, though another was found first on some;
        else none."""
        if not failing or any(o.kind != WRONG or not o.fits for o in failing):
            return []
        common = sorted(set(failing[0].fits).intersection(*(o.fits for o in failing[1:])))
        if not common or all(o.mistake == common[0] for o in failing):
            return []  # the failure lines say it as well
        first, more = failing[0], len(failing) - 1
        also = f" and {more} more case{'s' if more > 1 else ''}" if more else ""
        return [f"{self.mistakes[common[0]].message} (on {first.call}{also})"]

    def _variant_lines(self, failing: list[_Outcome]) -> list[str]:
        """One line when on every failing case the function returned what the right one returns for the same
        change of the arguments (an argument ignored, two swapped, one in another's place, or one off by one where
        no relation to the right output was named), and no one recognised mistake fits every failing case; two
        such changes when two fit; else none."""
        if not failing or any(o.kind != WRONG for o in failing):
            return []
        if failing[0].mistake >= 0 and all(o.mistake == failing[0].mistake for o in failing):
            return []
        common = [sentence for key, sentence in failing[0].variants
                  if all(any(key == theirs for theirs, _ in o.variants) for o in failing[1:])
                  and not (key.startswith("off ") and any(o.slip for o in failing))]  # a named relation comes first
        if not common:
            return []
        first, more = failing[0], len(failing) - 1
        also = f" and {more} more case{'s' if more > 1 else ''}" if more else ""
        text = common[0] if len(common) == 1 else f"{common[0]} Or {common[1][:1].lower()}{common[1][1:]}"
        return [f"{text} (on {first.call}{also}: {first.detail})"]

    def _failure_lines(self, failing: list[_Outcome], not_run: int) -> list[str]:
        """One line per kind of failure: each recognised mistake, each exception, the wrong answers of each label,
        and a case that ran out of time or ended the process."""
        groups: dict[tuple, list[_Outcome]] = {}
        for o in failing:
            key = {WRONG: (0, o.mistake) if o.mistake >= 0 else (1, o.label), RAISED: (2, o.detail.split(":")[0])}
            groups.setdefault(key.get(o.kind, (3, o.kind)), []).append(o)
        lines = []
        for key, group in sorted(groups.items(), key=lambda item: item[0]):
            first, more = group[0], len(group) - 1
            also = f" and {more} more case{'s' if more > 1 else ''}" if more else ""
            if key[0] == 0:
                lines.append(f"{self.mistakes[key[1]].message} (on {first.call}{also})")
            elif key[0] == 1:
                what = f"{first.label} " if first.label else ""
                shown = next((o for o in group if o.slip), first)  # a case whose output relates to the right one
                lead = f"wrong on {len(group)} {what}cases, e.g. " if more else (f"{first.label}: " if what else "")
                if shown.slip:  # how the output relates to the right one leads; the values follow
                    lead = f"{shown.slip} {lead[:1].upper()}{lead[1:]}" if lead else f"{shown.slip} On "
                lines.append(f"{lead}{shown.call}: {shown.detail}")
            elif key[0] == 2:
                why = explain_error(first.detail)
                lines.append(f"{first.call} raised {first.detail}{f' (so did {more} more)' if more else ''}"
                             + (f": {why}." if why else ""))
            elif first.kind == TIMEOUT:
                lines.append(f"{first.call} took longer than {self.time_limit:g} s and was stopped"
                             f"{f'; the {not_run} cases after it were not run' if not_run else ''}: is there an "
                             f"endless loop, or work that grows too fast?")
            elif first.kind == ENDED:
                lines.append(f"{first.call} ended the process that ran it ({first.detail})"
                             f"{f'; the {not_run} cases after it were not run' if not_run else ''}: does it call "
                             f"`exit`, crash, or use too much memory?")
            else:
                lines.append(f"the check could not finish {first.call}: {first.detail}")
        return lines


def call_with_time_limit(fn: Callable[..., Any], args: tuple, seconds: float) -> Any:
    """`fn(*args)`, raising TimeoutError after `seconds` (an alarm signal in the main thread, else a watcher
    thread that gives up waiting). Stops Python code only; a check runs a student's function in a child process
    where it can, which stops C code too."""
    try:
        return call_limited(fn, args, seconds)
    except TimeLimit as err:
        raise TimeoutError(str(err)) from None


# ----------------------------------------------------------------------------------------- the lesson


@dataclass
class _State:
    status: str = NOT_ANSWERED
    hints: int = 0
    solution_seen: bool = False


def grading_run() -> bool:
    """Whether nbgrader is running this kernel to validate or autograde a notebook (it sets `$NBGRADER_EXECUTION`)."""
    return os.environ.get(NBGRADER.name, "") in ("validate", "autograde")


class NotYetCorrect(Exception):
    """A check's verdict under nbgrader when the answer is wrong or missing: the cell fails, so Validate and
    autograde see it. IPython shows it as these few lines, with no traceback, under the verdict it repeats (wrapped
    at 78 characters: nbgrader's Validate cuts longer lines)."""

    def _render_traceback_(self) -> list[str]:
        return textwrap.wrap(f"{type(self).__name__}: {self}", 78, subsequent_indent="    ")


class Question:
    """One exercise of a lesson, as the student uses it: `check`, `hint`, `solution`."""

    def __init__(self, lesson: "Lesson", exercise: Exercise):
        self._lesson, self.exercise = lesson, exercise

    @property
    def _state(self) -> _State:
        return self._lesson.state[self.exercise.key]

    def evaluate(self, answer: Any = UNSET, **context: Any) -> Verdict:
        """The verdict without showing it or counting it (tests and nbgrader's hidden tests use this)."""
        return self.exercise.evaluate(answer, **context)

    def check(self, answer: Any = UNSET, **context: Any) -> None:
        """Check an answer and show the verdict; under nbgrader a wrong or missing answer then raises NotYetCorrect."""
        verdict = self.evaluate(answer, **context)
        self._state.status = verdict.status
        show(verdict)
        if verdict.status in (INCORRECT, NOT_ANSWERED) and grading_run():
            state = "is not answered yet" if verdict.status == NOT_ANSWERED else "is not right yet"
            raise NotYetCorrect(f"{self.exercise.label} {state}: {verdict.message}")

    def hint(self, level: int | None = None) -> None:
        """Show the next hint (1, then 2), or the one of `level`."""
        hints = self.exercise.hints
        if level is None:
            level = min(self._state.hints + 1, len(hints))
        if level not in range(1, len(hints) + 1):
            show(Verdict(HINT, self.exercise.label, f"there are hints 1 to {len(hints)}; you asked for {level!r}."))
            return
        self._state.hints = max(self._state.hints, level)
        more = " Call `hint()` again for a more direct one." if level < len(hints) else ""
        show(Verdict(HINT, self.exercise.label, f"({level} of {len(hints)}) {hints[level - 1]}{more}"))

    def solution(self) -> None:
        """Show the solution written in the notebook's answer cell (the progress table notes that it was seen)."""
        from .solutions import SolutionNotFound, solution_code

        try:
            code = solution_code(self._lesson.notebook, self.exercise.key)
        except SolutionNotFound as err:
            show(Verdict(SOLUTION, self.exercise.label, f"no solution to show: {err}."))
            return
        self._state.solution_seen = True
        show(Verdict(SOLUTION, self.exercise.label, "one way to do it:", code=code))

    def __repr__(self) -> str:
        e = self.exercise
        return f"{e.label}: {KINDS[e.kind]}, {e.minutes} min, {e.difficulty}. {e.task}"


class Lesson:
    """The exercises of one notebook and what the student has done with them: `lesson.q1`, `lesson.progress()`."""

    def __init__(self, notebook: str, title: str, exercises: Sequence[Exercise]):
        keys = [e.key for e in exercises]
        if keys != [f"q{i}" for i in range(1, len(keys) + 1)]:
            raise ValueError(f"{notebook}: exercises must be numbered q1, q2, ... in order; got {keys}")
        self.notebook, self.title = notebook, title
        self.exercises = {e.key: e for e in exercises}
        self.state = {key: _State() for key in keys}

    def __getattr__(self, key: str) -> Question:
        exercises = self.__dict__.get("exercises", {})
        if key in exercises:
            return Question(self, exercises[key])
        raise AttributeError(f"{self.__dict__.get('notebook', 'this lesson')} has exercises "
                             f"{', '.join(exercises)}; there is no {key!r}")

    def __dir__(self):
        return [*super().__dir__(), *self.exercises]

    def __iter__(self):
        return iter(Question(self, e) for e in self.exercises.values())

    def __len__(self) -> int:
        return len(self.exercises)

    def reset(self) -> None:
        self.state = {key: _State() for key in self.exercises}

    def progress(self) -> "Progress":
        """A table of this notebook's exercises and what has been done (display it, or print it)."""
        rows = [{"exercise": e.key, "title": e.title, "type": e.kind, "minutes": e.minutes,
                 "difficulty": e.difficulty, "status": self.state[e.key].status,
                 "hints used": self.state[e.key].hints, "solution seen": self.state[e.key].solution_seen}
                for e in self.exercises.values()]
        return Progress(f"{self.notebook} · {self.title}", rows)

    def __repr__(self) -> str:
        return f"<Lesson {self.notebook}: {len(self)} exercises, {sum(e.minutes for e in self.exercises.values())} min>"


_MARK = {CORRECT: "✔ correct", RECORDED: "● prediction recorded", INCORRECT: "✘ not yet",
         NOT_ANSWERED: "– not answered"}


@dataclass
class Progress:
    """What a student has done: an HTML table in JupyterLab, a text table elsewhere."""

    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def done(self) -> int:
        """Exercises answered correctly; a prediction never counts here."""
        return sum(r["status"] == CORRECT and r["type"] != "predict" for r in self.rows)

    @property
    def predictions(self) -> tuple[int, int]:
        """(predictions recorded, prediction exercises): counted apart, since a prediction is not graded."""
        rows = [r for r in self.rows if r["type"] == "predict"]
        return sum(r["status"] == RECORDED for r in rows), len(rows)

    def summary(self) -> str:
        minutes = sum(r["minutes"] for r in self.rows)
        made, asked = self.predictions
        text = f"{self.done} of {len(self.rows) - asked} exercises correct"
        if asked:
            text += f", {made} of {asked} prediction{'s' if asked > 1 else ''} recorded"
        return f"{text} ({minutes} min of exercises in all)"

    def frame(self):
        import pandas as pd

        table = pd.DataFrame(self.rows)
        if not table.empty:
            table["status"] = table["status"].map(_MARK)
            table["solution seen"] = table["solution seen"].map({True: "yes", False: ""})
            table = table.set_index("exercise")
        return table

    def __str__(self) -> str:
        return f"{self.title}: {self.summary()}\n{self.frame().to_string()}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        frame = self.frame().reset_index()
        cell = 'style="text-align:left; padding:2px 10px; white-space:nowrap"'
        head = "".join(f"<th {cell}>{html.escape(str(c))}</th>" for c in frame.columns)
        body = "".join("<tr>" + "".join(f"<td {cell}>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                       for row in frame.itertuples(index=False))
        return (f'<div style="font-family:sans-serif"><strong>{html.escape(self.title)}</strong>: '
                f"{html.escape(self.summary())}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")
