"""The machinery of checked exercises: verdicts, value and function checks, hints, solutions and progress.

An exercise is defined once (in `nb00.py` ... `nb08.py`) and never changes; what a student has done lives in
the `Lesson` of that notebook. A check shows a verdict, and for the wrong answers students give most often it says
what went wrong. It raises only while nbgrader validates or autogrades the notebook (`grading_run()`): then a
wrong or missing answer ends the cell with `NotYetCorrect`, one line under the verdict, so that nbgrader counts the
cell as failed; in JupyterLab, papermill or nbval a check never stops the notebook.

Usage:
    lesson = Lesson("04_cnn", "The convolutional network", [exercise, ...])
    lesson.q1.check((26, 26, 32)); lesson.q1.hint(); lesson.q1.solution(); lesson.progress()
    lesson.q1.evaluate((26, 26, 32)).correct      # the verdict without showing it (tests, nbgrader)
"""
from __future__ import annotations

import html
import os
import re
import signal
import textwrap
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from fmnist_helpers.base.settings import NBGRADER

KINDS = {"predict": "predict, then run", "compute": "compute by hand", "code": "write code",
         "experiment": "run an experiment and interpret it"}
DIFFICULTIES = ("easy", "medium", "hard")

CORRECT, INCORRECT, NOT_ANSWERED, HINT, SOLUTION = "correct", "incorrect", "not answered", "hint", "solution"
_STYLE = {  # label (never colour alone), border and background colours
    CORRECT: ("✔ Correct", "#1b7837", "#e6f4ea"),
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
        return self.status == CORRECT

    def __str__(self) -> str:
        label = _STYLE[self.status][0]
        text = f"{label} · {self.title}: {self.message}"
        return text + (f"\n{self.code}" if self.code else "")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        label, border, background = _STYLE[self.status]
        message = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(self.message))
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

    @property
    def label(self) -> str:
        return f"Exercise {self.key[1:]} ({self.title})"

    def evaluate(self, answer: Any = UNSET, **context: Any) -> Verdict:
        """The verdict on `answer`, shown nowhere; `check` shows it."""
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
    """Whether two numbers (or equal-length sequences of numbers) agree within a tolerance."""
    try:
        a, e = np.asarray(answer, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == e.shape and bool(np.all(np.isclose(a, e, rtol=rel, atol=abs_tol, equal_nan=True)))


@dataclass(frozen=True)
class Answer(Exercise):
    """An exercise answered by a value: a number, a shape, a class name, checked against `expected`.

    `expected(context)` gives the right answer (or it is a constant); `same(answer, expected)` compares;
    `validate(answer, context)` returns a message when the answer has the wrong form (a string for a
    number, a name that is no class), which is reported before anything else.
    """

    expected: Any = None
    same: Callable[[Any, Any], bool] = same_number
    validate: Callable[[Any, dict[str, Any]], str | None] | None = None
    on_correct: Callable[[Any, dict[str, Any]], str] | None = None  # what to add when right (a reveal)

    def _evaluate(self, answer: Any, context: dict[str, Any]) -> Verdict:
        problem = self.validate(answer, context) if self.validate else None
        if problem:
            return Verdict(INCORRECT, self.label, problem)
        expected = _resolve(self.expected, context)
        if self.same(answer, expected):
            extra = self.on_correct(answer, context) if self.on_correct else "well done."
            return Verdict(CORRECT, self.label, extra)
        for mistake in self.mistakes:
            if mistake.detect is not None:
                hit = mistake.detect(answer, context)
            else:
                wrong = _resolve(mistake.example, context)
                hit = not self.same(wrong, expected) and self.same(answer, wrong)
            if hit:
                return Verdict(INCORRECT, self.label, mistake.message)
        return Verdict(INCORRECT, self.label, f"{_short(answer)} is not right. `ex.{self.key}.hint()` gives a hint.")


@dataclass(frozen=True)
class Prediction(Answer):
    """Predict, then run: any well-formed prediction counts as done; the verdict reveals what this run shows.

    `expected(context)` is what the run shows; `on_correct` (here: on any valid prediction) says whether the
    prediction matched. Mistakes are the malformed predictions (`detect` them).
    """

    def _evaluate(self, answer: Any, context: dict[str, Any]) -> Verdict:
        for mistake in self.mistakes:
            if mistake.detect is not None and mistake.detect(answer, context):
                return Verdict(INCORRECT, self.label, mistake.message)
        problem = self.validate(answer, context) if self.validate else None
        if problem:
            return Verdict(INCORRECT, self.label, problem)
        actual = _resolve(self.expected, context)
        matched = self.same(answer, actual)
        reveal = self.on_correct(answer, context) if self.on_correct else f"this run shows {actual}."
        lead = "your prediction matches this run: " if matched else "prediction recorded; this run differs: "
        return Verdict(CORRECT, self.label, lead + reveal)


@dataclass(frozen=True)
class Function(Exercise):
    """An exercise answered by a function, run on hidden cases with a time limit.

    `cases()` gives the hidden argument tuples; each output is compared with `reference(*args)` by `same`,
    or judged by `verify(output, args)` (a message when wrong) where many outputs are right (a random split).
    The first failing case is reported, with a known mistake's message when one matches.
    """

    name: str = "f"
    cases: Callable[[], Sequence[tuple]] = lambda: []
    reference: Callable[..., Any] | None = None
    same: Callable[[Any, Any], bool] = lambda a, b: same_number(a, b)
    verify: Callable[[Any, tuple], str | None] | None = None
    describe: Callable[[tuple], str] = lambda args: ", ".join(_short(a) for a in args)
    time_limit: float = 10.0  # seconds per case

    def _evaluate(self, answer: Any, context: dict[str, Any]) -> Verdict:
        if not callable(answer):
            return Verdict(INCORRECT, self.label, f"pass the function itself, `ex.{self.key}.check({self.name})`, "
                                                  f"not {_short(answer)} (the result of calling it).")
        for args in self.cases():
            try:
                output = call_with_time_limit(answer, args, self.time_limit)
            except NotImplementedError:
                raise NotAnswered(f"`{self.name}` still raises NotImplementedError: write its body where it "
                                   f"says YOUR CODE HERE.") from None
            except TimeoutError:
                return Verdict(INCORRECT, self.label, f"`{self.name}({self.describe(args)})` took longer than "
                                                      f"{self.time_limit:g} s; is there an endless loop?")
            except Exception as err:  # noqa: BLE001 - the student's code may raise anything
                return Verdict(INCORRECT, self.label, f"`{self.name}({self.describe(args)})` raised "
                                                      f"{type(err).__name__}: {str(err)[:200]}")
            problem = self._problem(output, args)
            if problem is None:
                continue
            for mistake in self.mistakes:
                if self._is(mistake, output, args):
                    return Verdict(INCORRECT, self.label, f"{mistake.message} (first failing case: "
                                                          f"`{self.name}({self.describe(args)})`)")
            return Verdict(INCORRECT, self.label, f"`{self.name}({self.describe(args)})`: {problem}")
        n = len(self.cases())
        return Verdict(CORRECT, self.label, f"`{self.name}` passes {'the hidden case' if n == 1 else f'all {n} hidden cases'}.")

    def _problem(self, output: Any, args: tuple) -> str | None:
        if self.verify is not None:
            return self.verify(output, args)
        expected = self.reference(*args)
        if self.same(output, expected):
            return None
        return f"expected {_short(expected)}, got {_short(output)}"

    def _is(self, mistake: Mistake, output: Any, args: tuple) -> bool:
        if mistake.detect is not None:
            return bool(mistake.detect(output, args))
        try:
            wrong = mistake.example(*args)
        except Exception:  # noqa: BLE001 - a wrong implementation may not handle every case
            return False
        return self.same(output, wrong)


def call_with_time_limit(fn: Callable[..., Any], args: tuple, seconds: float) -> Any:
    """`fn(*args)`, raising TimeoutError after `seconds` (an alarm signal in the main thread, else a watcher
    thread that gives up waiting)."""
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        def on_alarm(signum, frame):
            raise TimeoutError(f"took longer than {seconds} s")

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    box: dict[str, Any] = {}

    def target():
        try:
            box["value"] = fn(*args)
        except BaseException as err:  # noqa: BLE001 - handed back to the caller
            box["error"] = err

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"took longer than {seconds} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _short(value: Any, width: int = 120) -> str:
    if isinstance(value, np.ndarray):
        text = f"array of shape {value.shape}, dtype {value.dtype}: " + np.array2string(
            value, threshold=12, edgeitems=2, precision=4).replace("\n", " ")
    else:
        text = repr(value)
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= width else text[: width - 3] + "..."


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


_MARK = {CORRECT: "✔ correct", INCORRECT: "✘ not yet", NOT_ANSWERED: "– not answered"}


@dataclass
class Progress:
    """What a student has done: an HTML table in JupyterLab, a text table elsewhere."""

    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(r["status"] == CORRECT for r in self.rows)

    def summary(self) -> str:
        minutes = sum(r["minutes"] for r in self.rows)
        return f"{self.done} of {len(self.rows)} exercises correct ({minutes} min of exercises in all)"

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
