"""Grading that does not trust the kernel: under nbgrader the hidden tests check the answers in a fresh Python process.

When nbgrader validates or autogrades a notebook, every cell has run in one kernel, and a notebook can change
anything in it: reassign a check's method, patch an exercise's reference or a NumPy function, edit the progress
table, or replace the `ex` object itself. So the hidden test of each check cell does not use the kernel's checks. It
runs this file afresh (`runpy.run_module`, a new copy of its code, not the module in `sys.modules`) and calls
`verify`, which hands only the answer to a new interpreter, `python -P -m fmnist_helpers.exercises.grading`, started
with the environment the kernel was started with (`/proc/self/environ`, which no cell can change) and therefore
importing the pack and NumPy afresh from disk. There the lesson's exercises are built anew and evaluate the answer;
`verify` returns True for a right answer and raises `NotGraded`, one line, for any other.

What travels to the grader:
- a value (numbers, strings, None, tuples, lists, dicts, sets, NumPy arrays and scalars, paths): pickled in the
  kernel and read back with an allow-list of types, so that no answer can run code in the grader while it loads;
  an object that keeps its numbers in a dict `.history` (a Keras `History`) travels as that dict;
- a function: its source (`inspect.getsource`), with what it uses from the notebook: modules as `import` lines,
  functions written in the notebook as their source, plain values as above. The function is rebuilt from that
  source; nothing else the notebook ran comes along.

Outside nbgrader (JupyterLab, papermill, nbval) no grade is at stake: the same hidden test evaluates the answer in
the kernel on a new `Lesson`, which costs nothing. Two checks keep the kernel under nbgrader too, since what they
check cannot travel (`IN_KERNEL`). The limits: a function answer runs in the grading process (it must run to be
checked), so code inside it can still change that process; the grader trusts the files on disk and the standard
library in the kernel (`runpy`, `subprocess`, `pickle`, `sys.executable`). This file imports nothing from the pack
at its top, so a notebook's changes to the pack's modules cannot reach the part that runs in the kernel.

A check cell's hidden test (`editions.hidden_test` writes it) reads
`assert runpy.run_module("fmnist_helpers.exercises.grading")["verify"]("00_primer", "q1", answer_q1)`.

Usage:
    verify("00_primer", "q1", (64, 28, 28, 1))   # True; a wrong answer raises NotGraded with the check's message
"""
from __future__ import annotations

import inspect
import io
import json
import os
import pickle
import secrets
import subprocess
import sys
import textwrap
import types
from pathlib import Path, PurePath
from typing import Any

IN_KERNEL = {
    ("02_preprocessing", "q3"): "the pipeline takes the notebook's `run` (its seed) and `prepare`, which stay there",
    ("05_tuning", "q5"): "the check reads the trials of a Keras Tuner object, which cannot leave the kernel",
}
"""Checks that evaluate in the kernel even under nbgrader, and why."""

SMOKE_SHORT = {("08_capstone", "q4"): "smoke trains the capstone's CNN for 2 epochs, too few for the target"}
"""Checks whose right answer the `smoke` profile cannot reach: outside nbgrader a smoke run passes them."""

TIME_LIMIT = 600.0
"""Seconds the grading process may take (a function answer's own cases have their limits inside it)."""

ALLOWED = {
    ("builtins", "complex"), ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "slice"),
    ("builtins", "range"), ("builtins", "bytearray"), ("collections", "OrderedDict"),
    ("pathlib", "Path"), ("pathlib", "PosixPath"), ("pathlib", "WindowsPath"), ("pathlib", "PurePath"),
    ("pathlib", "PurePosixPath"), ("pathlib", "PureWindowsPath"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
}
"""The only classes and functions a pickled answer may name: plain containers, paths, NumPy arrays and scalars."""

_GRADING_RUNS = ("validate", "autograde")


class NotGraded(Exception):
    """The answer is not right when checked afresh (or cannot be sent to the grader). IPython shows it as these few
    lines, with no traceback (wrapped at 78 characters: nbgrader's Validate cuts longer lines)."""

    def _render_traceback_(self) -> list[str]:
        return textwrap.wrap(f"{type(self).__name__}: {self}", 78, subsequent_indent="    ")


class CannotTravel(ValueError):
    """A value the grader cannot receive: not a plain value, a path or a NumPy array."""


# ------------------------------------------------------------------------------------------ the kernel's side


def _setting(name: str) -> str:
    """The name of a setting of `base/settings.py`, read afresh from its file (not from the kernel's modules)."""
    import runpy

    return runpy.run_path(str(Path(__file__).resolve().parents[1] / "base" / "settings.py"))[name].name


def started_environment() -> dict[str, str]:
    """The environment this process was started with (Linux: `/proc/self/environ`, which no code running in the
    process changes), or the current one where the system does not keep it."""
    try:
        raw = Path("/proc/self/environ").read_bytes()
    except OSError:
        return dict(os.environ)
    pairs = (item.split("=", 1) for item in raw.decode("utf-8", "surrogateescape").split("\0") if "=" in item)
    return dict(pairs)


def nbgrader_run(environment: dict[str, str] | None = None) -> bool:
    """Whether nbgrader started this kernel to validate or autograde (read from the started environment)."""
    env = started_environment() if environment is None else environment
    return env.get(_setting("NBGRADER"), "") in _GRADING_RUNS


def portable(value: Any, what: str = "the answer", depth: int = 0) -> Any:
    """`value` as the grader can receive it: plain values, paths and NumPy arrays as they are, containers of them
    rebuilt, a Keras History as its dict of lists; CannotTravel names anything else."""
    if depth > 50:
        raise CannotTravel(f"{what} is nested too deeply (or holds itself)")
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, PurePath)):
        return value
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, (numpy.ndarray, numpy.generic)):
        if isinstance(value, numpy.ndarray) and value.dtype.hasobject:
            return numpy.array([portable(v, what, depth + 1) for v in value.ravel().tolist()],
                               dtype=object).reshape(value.shape)
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [portable(v, what, depth + 1) for v in value]
        return type(value)(items) if type(value) in (list, tuple, set, frozenset) else list(items)
    if isinstance(value, dict):
        return {portable(k, what, depth + 1): portable(v, what, depth + 1) for k, v in value.items()}
    history = getattr(value, "history", None) if not isinstance(value, type) else None
    if isinstance(history, dict):
        return portable(history, what, depth + 1)
    raise CannotTravel(f"{what} is a {type(value).__module__}.{type(value).__qualname__}, which the grader cannot "
                       f"receive; give plain values (numbers, strings, tuples, lists, dicts, NumPy arrays, paths)")


def _globals_used(code: types.CodeType) -> set[str]:
    """The global names a function's code (and the code nested in it) loads."""
    import dis

    names = {i.argval for i in dis.get_instructions(code) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _globals_used(const)
    return names


def function_spec(fn: Any, what: str = "the answer") -> dict[str, Any]:
    """What rebuilds a function written in a notebook in another process: its source and that of the notebook's
    functions it calls, the modules it uses as import lines, and the plain values it reads."""
    if not isinstance(fn, types.FunctionType):
        raise CannotTravel(f"{what} is a {type(fn).__qualname__}; write it as a function with `def` in the answer cell")
    sources: list[str] = []
    imports: list[str] = []
    values: dict[str, Any] = {}
    todo, seen = [fn], set()
    while todo:
        f = todo.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        if f.__closure__:
            raise CannotTravel(f"`{f.__name__}` is defined inside another function; define it at the top of a cell")
        try:
            sources.append(textwrap.dedent(inspect.getsource(f)))
        except (OSError, TypeError):
            raise CannotTravel(f"the source of `{f.__name__}` cannot be read; define it with `def` in a cell") from None
        for name in sorted(_globals_used(f.__code__)):
            if name not in f.__globals__:
                continue  # a builtin, or a name the function never finds
            value = f.__globals__[name]
            if isinstance(value, types.ModuleType):
                imports.append(f"import {value.__name__} as {name}")
            elif isinstance(value, types.FunctionType) and value.__module__ == "__main__":
                todo.append(value)
            elif _importable(value):
                imports.append(f"from {value.__module__} import {value.__qualname__} as {name}")
            else:
                values[name] = portable(value, f"`{name}`, which `{f.__name__}` uses,")
    return {"name": fn.__name__, "sources": sources[::-1], "imports": sorted(set(imports)), "values": values}


def _importable(value: Any) -> bool:
    """Whether `value` is a function or class that its module defines at the top level (so an import finds it)."""
    module, name = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if not (isinstance(module, str) and isinstance(name, str)) or module == "__main__" or "." in name:
        return False
    return callable(value) and getattr(sys.modules.get(module), name, None) is value


def _in_kernel(notebook: str, key: str, answer: Any, context: dict[str, Any]) -> bool:
    """The verdict of a new Lesson in this kernel: where no grade is at stake, and for the IN_KERNEL checks."""
    from fmnist_helpers.exercises import lesson

    verdict = lesson(notebook).exercises[key].evaluate(answer, **context)
    if not (verdict.correct or verdict.recorded):  # a prediction is recorded, never right or wrong
        raise NotGraded(f"{verdict.title}: {verdict.message}")
    return True


def verify(notebook: str, key: str, answer: Any = None, /, *, smoke: bool = False, **context: Any) -> bool:
    """True when exercise `key` of `notebook` is right for `answer` (and its check's `context`), else NotGraded.

    Under nbgrader the verdict comes from a fresh process (see the module's docstring); elsewhere from a new Lesson
    in this kernel, and `smoke=True` (a smoke run) passes the checks of SMOKE_SHORT there."""
    if not nbgrader_run():
        if smoke and (notebook, key) in SMOKE_SHORT:
            return True
        return _in_kernel(notebook, key, answer, context)
    if (notebook, key) in IN_KERNEL:
        return _in_kernel(notebook, key, answer, context)
    try:
        function = function_spec(answer) if callable(answer) and not isinstance(answer, type) else None
        payload = {"notebook": notebook, "key": key, "answer": None if function else portable(answer),
                   "function": function,
                   "context": {name: portable(value, f"`{name}`") for name, value in context.items()}}
        data = pickle.dumps(payload, protocol=4)
    except (CannotTravel, pickle.PicklingError, TypeError, RecursionError) as err:
        raise NotGraded(f"exercise {key[1:]} of {notebook} cannot be graded: {err}") from None
    verdict = grade_in_fresh_process(data)
    if verdict["status"] not in ("correct", "recorded"):
        raise NotGraded(f"{verdict['title']} (checked afresh): {verdict['message']}")
    return True


def grade_in_fresh_process(data: bytes, timeout: float = TIME_LIMIT) -> dict[str, str]:
    """Run the grader on a pickled payload in a new interpreter; its verdict as {status, title, message}."""
    nonce = secrets.token_hex(16)
    env = started_environment()
    try:
        done = subprocess.run([sys.executable, "-P", "-m", "fmnist_helpers.exercises.grading", nonce], input=data,
                              capture_output=True, timeout=timeout, env=env, cwd=os.getcwd())
    except subprocess.TimeoutExpired:
        return {"status": "incorrect", "title": "grading", "message": f"took longer than {timeout:g} s"}
    for line in reversed(done.stdout.decode("utf-8", "replace").splitlines()):
        if line.startswith(nonce + " "):
            return json.loads(line[len(nonce) + 1:])
    tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
    return {"status": "incorrect", "title": "grading", "message": f"the grader gave no verdict ({tail[0][:300]})"}


# ------------------------------------------------------------------------------------------ the grader's side


class _AllowListUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"the answer holds a {module}.{name}, which the grader does not accept")
        return super().find_class(module, name)


def load_payload(data: bytes) -> dict[str, Any]:
    """Unpickle what the kernel sent, accepting only the types of ALLOWED."""
    return _AllowListUnpickler(io.BytesIO(data)).load()


def rebuild(function: dict[str, Any]) -> Any:
    """The student's function, defined anew from its spec (`function_spec`) in a namespace of its own."""
    namespace: dict[str, Any] = {"__name__": "__answer__"}
    exec(compile("\n".join(function["imports"]), "<imports>", "exec"), namespace)  # noqa: S102 - import lines
    namespace.update(function["values"])
    for i, source in enumerate(function["sources"]):
        exec(compile(source, f"<answer cell {i}>", "exec"), namespace)  # noqa: S102 - the student's own code
    return namespace[function["name"]]


def grade(payload: dict[str, Any]) -> dict[str, str]:
    """The verdict of a new Lesson on the payload's answer, as {status, title, message}."""
    from fmnist_helpers.exercises import lesson

    exercise = lesson(payload["notebook"]).exercises[payload["key"]]
    try:
        answer = rebuild(payload["function"]) if payload["function"] else payload["answer"]
    except Exception as err:  # noqa: BLE001 - the student's source may fail in any way
        return {"status": "incorrect", "title": exercise.label,
                "message": f"your function could not be defined again from its source: {type(err).__name__}: {err}"}
    verdict = exercise.evaluate(answer, **payload["context"])
    return {"status": verdict.status, "title": verdict.title, "message": verdict.message}


def main(argv: list[str] | None = None) -> int:
    """The grading process: read a pickled payload on stdin, print `<nonce> <verdict as JSON>` on stdout."""
    argv = sys.argv[1:] if argv is None else argv
    nonce = argv[0] if argv else ""
    out = sys.stdout
    try:
        verdict = grade(load_payload(sys.stdin.buffer.read()))
    except pickle.UnpicklingError as err:
        verdict = {"status": "incorrect", "title": "grading", "message": str(err)}
    out.write(f"{nonce} {json.dumps(verdict)}\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
