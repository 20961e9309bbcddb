"""The boundary between what a student hands a check and the check itself: plain copies of answers, safe
descriptions of any value, fresh copies of a case's inputs, a wall-clock limit, capped printing, and a forked
child process in which a student's function runs.

A check reads an answer only through `plain` (numbers, strings, tuples, lists, dicts, sets and NumPy arrays,
copied out of whatever subclass held them, so no `__eq__` or `__array_function__` of the student's runs while
the check compares) and describes it only through `describe` (no `__repr__` of the student's runs). A student's
function runs on `fresh` copies of its inputs; in `Child` it runs in a forked process that the parent kills when
its time is up, which stops a loop inside C code too. A forked child cannot use TensorFlow once the parent has
(its thread pools do not survive the fork), so checks whose code or answer uses TensorFlow or Keras
(`uses_tensorflow`) keep the in-kernel limit (`call_limited`), which stops Python code only.

Usage:
    value = plain(answer, foreign=True)            # raises NotPlain for a generator, an object, a cycle
    print(describe(answer))                        # runs none of the answer's code
    output = call_limited(function, fresh(args), 10.0)   # raises TimeLimit after 10 s of Python code
"""
from __future__ import annotations

import contextlib
import decimal
import faulthandler
import fractions
import functools
import io
import json
import math
import multiprocessing
import numbers
import os
import pathlib
import re
import signal
import sys
import threading
import time
import types
import warnings
from typing import Any, Callable, Iterator

import numpy as np

MAX_ITEMS = 1_000_000
"""The most values `plain` copies out of lists, tuples, dicts and sets (arrays are copied whole)."""
MAX_DEPTH = 100
"""How deeply `plain` follows nested containers."""
PRINT_LIMIT = 10_000
"""The most characters of a student's function's printing that one check shows."""

_EXACT = (type(None), bool, int, float, complex, str, bytes)
_KEPT = (range, fractions.Fraction, decimal.Decimal, pathlib.PurePosixPath, pathlib.PureWindowsPath,
         pathlib.PosixPath, pathlib.WindowsPath)  # the standard library's own values, kept as they are
_NUMPY_SCALARS = frozenset(t for t in np.sctypeDict.values() if issubclass(t, np.generic))
_FRAMEWORKS = frozenset({"tensorflow", "keras", "tf_keras", "keras_tuner", "jax", "torch"})


class NotPlain(Exception):
    """An answer that is not plain data; `what` says what it is ("a generator", "a list that contains itself")."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


class TimeLimit(BaseException):
    """Raised inside code running under `call_limited` when its time is up: a BaseException, so that the
    student's `except Exception:` cannot swallow it."""


# ------------------------------------------------------------------------------------------- plain values


def _type_name(value: Any) -> str:
    """The name of `value`'s class, read without running any code of the class."""
    return type.__dict__["__name__"].__get__(type(value))


def _a(name: str) -> str:
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def _module_root(cls: type) -> str:
    module = type.__dict__["__module__"].__get__(cls)
    return module.partition(".")[0] if isinstance(module, str) else ""


def plain(value: Any, foreign: bool = False) -> Any:
    """A copy of `value` made only of Python's and NumPy's own types: builtin numbers, strings, bytes, tuples,
    lists, dicts, sets, NumPy scalars' Python values and NumPy arrays (an array of objects becomes a list).

    Subclasses of those types are copied into the types themselves through the types' own methods, so none of
    the subclass's code runs. With `foreign`, other objects are read through `__array__` (a tensor, a pandas
    Series) or as numbers (`numbers.Number`), which runs their code: do it under a time limit or in a child.
    Raises NotPlain for anything else: a generator, an object, a container that contains itself."""
    return _Plainer(foreign).copy(value, 0)


class _Plainer:
    def __init__(self, foreign: bool):
        self.foreign, self.items, self.active = foreign, 0, set()

    def copy(self, value: Any, depth: int) -> Any:
        t = type(value)
        if t in _EXACT or t in _KEPT:
            return value
        if t in _NUMPY_SCALARS:
            kind = value.dtype.kind
            if kind == "b":
                return bool(value)
            if kind in "iu":
                return int(value)
            if kind == "f":
                return float(value)
            if kind == "c":
                return complex(value)
            return value  # a NumPy string, date or void: NumPy's own value
        if issubclass(t, bool):  # pragma: no cover - bool cannot be subclassed
            return bool(value)
        if issubclass(t, int):
            return int.__int__(value)
        if issubclass(t, float):
            return float.__float__(value)
        if issubclass(t, complex):
            return complex(complex.real.__get__(value), complex.imag.__get__(value))
        if issubclass(t, str):
            return str.__str__(value)
        if issubclass(t, bytes):
            return bytes(memoryview(value))
        if issubclass(t, np.ndarray):
            base = np.ndarray.view(value, np.ndarray)
            return self.copy(np.ndarray.tolist(base), depth) if base.dtype.hasobject else np.ndarray.copy(base)
        for kind, iterate in ((tuple, tuple.__iter__), (list, list.__iter__), (frozenset, frozenset.__iter__),
                              (set, set.__iter__), (dict, dict.items)):
            if issubclass(t, kind):
                return self._container(value, kind, iterate, depth)
        if hasattr(t, "__next__") or isinstance(value, types.GeneratorType):
            raise NotPlain("a generator (or another iterator), which a check cannot read without using it up: "
                           "pass `tuple(...)` of it")
        if self.foreign:
            return self._foreign(value, depth)
        raise NotPlain(f"{_a(_type_name(value))} object")

    def _container(self, value: Any, kind: type, iterate: Callable, depth: int) -> Any:
        if id(value) in self.active:
            raise NotPlain(f"{_a(kind.__name__)} that contains itself")
        if depth >= MAX_DEPTH:
            raise NotPlain(f"values nested more than {MAX_DEPTH} levels deep")
        self.active.add(id(value))
        try:
            out = []
            for item in iterate(value):
                self.items += 1
                if self.items > MAX_ITEMS:
                    raise NotPlain(f"more than {MAX_ITEMS:,} values in lists or tuples; give a NumPy array")
                if kind is dict:
                    out.append((self.copy(item[0], depth + 1), self.copy(item[1], depth + 1)))
                else:
                    out.append(self.copy(item, depth + 1))
        finally:
            self.active.discard(id(value))
        try:
            return kind(out)
        except TypeError:  # a key or set member that was hashable only through its subclass
            raise NotPlain(f"{_a(kind.__name__)} whose members cannot be compared") from None

    def _foreign(self, value: Any, depth: int) -> Any:
        t = type(value)
        try:
            if hasattr(t, "__array__") or hasattr(t, "__array_interface__"):
                array = np.asarray(value)
                if type(array) is np.ndarray:
                    return self.copy(array, depth)
            elif issubclass(t, numbers.Number):
                number = int(value) if issubclass(t, numbers.Integral) else float(value)
                return self.copy(number, depth)
        except NotPlain:
            raise
        except (Exception, SystemExit, GeneratorExit) as err:  # noqa: BLE001 - any of its code may fail
            raise NotPlain(f"{_a(_type_name(value))} object that could not be read ({error_text(err)})") from None
        raise NotPlain(f"{_a(_type_name(value))} object")


def unwrapped(value: Any) -> Any:
    """`value` without a subclass around a NumPy array, a number, a string, a list or a tuple (so a check's NumPy
    calls and comparisons run NumPy's and Python's own code), sharing memory with it; other objects as they are.
    For checks that need the very object returned (a Keras model, an array whose memory they inspect)."""
    return _unwrap(value, 0, set())


def _unwrap(value: Any, depth: int, active: set[int]) -> Any:
    t = type(value)
    if t in _EXACT or t in _NUMPY_SCALARS or t is np.ndarray:
        return value
    if issubclass(t, np.ndarray):
        return np.ndarray.view(value, np.ndarray)
    for kind in (bool, int, float, complex, str, bytes):
        if issubclass(t, kind):
            return plain(value)
    for kind, iterate in ((tuple, tuple.__iter__), (list, list.__iter__)):
        if issubclass(t, kind):
            if id(value) in active or depth >= MAX_DEPTH:
                return kind()
            active.add(id(value))
            items = [_unwrap(item, depth + 1, active) for item in iterate(value)]
            active.discard(id(value))
            return kind(items)
    return value


def fresh(value: Any) -> Any:
    """A copy of a case's arguments: arrays copied, tuples, lists and dicts rebuilt; numbers and strings as they
    are, and objects the check made (a Keras model, a HyperParameters) shared."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if type(value) is tuple:
        return tuple(fresh(v) for v in value)
    if type(value) is list:
        return [fresh(v) for v in value]
    if type(value) is dict:
        return {k: fresh(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------------------------- descriptions


def describe(value: Any, width: int = 120) -> str:
    """A short, one-line description of any value that runs none of its code: the repr of plain data (cut to
    `width`), an array's shape, dtype and first values, and "a Foo object" for anything else."""
    text = " ".join(_text(value, width, set()).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _text(value: Any, width: int, active: set[int]) -> str:
    t = type(value)
    if t in (type(None), bool, float, complex) or t in _KEPT:
        return repr(value)
    if t is int:
        if value.bit_length() > 3_000:
            return f"a whole number of about {int(value.bit_length() * math.log10(2)):,} digits"
        return repr(value)
    if t in (str, bytes):
        return repr(value[: width + 1])
    if t in _NUMPY_SCALARS:
        return repr(value)
    if t is np.ndarray:
        if value.dtype.hasobject:
            return f"array of shape {value.shape}, dtype object"
        return f"array of shape {value.shape}, dtype {value.dtype}: " + np.array2string(
            value, threshold=12, edgeitems=2, precision=4)
    if t in (tuple, list, set, frozenset, dict):
        if id(value) in active:
            return "[...]"
        active.add(id(value))
        parts, size = [], 0
        for item in (value.items() if t is dict else value):
            part = f"{_text(item[0], width, active)}: {_text(item[1], width, active)}" if t is dict else \
                _text(item, width, active)
            parts.append(part)
            size += len(part) + 2
            if size > width:
                parts.append("...")
                break
        active.discard(id(value))
        inner = ", ".join(parts)
        if t is tuple:
            return f"({inner},)" if len(parts) == 1 else f"({inner})"
        if t is list:
            return f"[{inner}]"
        if t is dict:
            return "{" + inner + "}"
        return f"{t.__name__}({{{inner}}})" if parts else f"{t.__name__}()"
    return f"{_a(_type_name(value))} object"


def error_text(err: BaseException) -> str:
    """'TypeError: the message' for any exception, even one whose message cannot be read."""
    name = _type_name(err)
    try:
        message = str(err)
    except (Exception, SystemExit, GeneratorExit):  # noqa: BLE001 - a student's exception may break str()
        message = "(its message could not be read)"
    message = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", message).split())  # no terminal colour codes
    message = re.sub(r"for input \[.*?\] with name '[^']*'( and path '[^']*')?", "for input (an array)", message)
    message = re.sub(r"^Exception encountered when calling [\w.]+\(\)\. ", "", message)  # Keras's wrapper
    return f"{name}: {message[:200]}" if message else name


# ------------------------------------------------------------------------------------------ TensorFlow use


def uses_tensorflow(*objects: Any, depth: int = 4) -> bool:
    """Whether any of `objects` (functions, their globals and closures, modules, values) touches TensorFlow,
    Keras, JAX or PyTorch, which cannot run in a process forked after the parent used them. A function counts
    when its code names one of those packages or a module, function or object of theirs, up to `depth` calls
    away; a value counts when its class comes from one of them."""
    seen: set[int] = set()
    return any(_touches(obj, depth, seen) for obj in objects)


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _touches(obj: Any, depth: int, seen: set[int]) -> bool:
    if id(obj) in seen:
        return False
    seen.add(id(obj))
    t = type(obj)
    if t is types.ModuleType:
        name = obj.__dict__.get("__name__")
        return isinstance(name, str) and name.partition(".")[0] in _FRAMEWORKS
    if _module_root(t) in _FRAMEWORKS:
        return True
    if issubclass(t, type) and _module_root(obj) in _FRAMEWORKS:
        return True
    if depth <= 0:
        return False
    if t in (tuple, list, set, frozenset):
        return any(_touches(item, depth, seen) for item in list(obj)[:50])
    if t is dict:
        return any(_touches(item, depth, seen) for item in list(obj.values())[:50])
    if t is functools.partial:
        return _touches(obj.func, depth - 1, seen) or _touches(obj.args, depth, seen)
    if t is types.MethodType:
        return _touches(obj.__func__, depth, seen) or _touches(obj.__self__, depth - 1, seen)
    if t is types.FunctionType:
        names = _code_names(obj.__code__)
        if names & _FRAMEWORKS:
            return True
        namespace = obj.__globals__
        found = [namespace[name] for name in names if type(namespace) is dict and name in namespace]
        for module in [value for value in found if type(value) is types.ModuleType]:  # `helpers.to_dataset(x)`
            found += [module.__dict__[name] for name in names if name in module.__dict__]
        cells = []
        for cell in obj.__closure__ or ():
            with contextlib.suppress(ValueError):  # an empty cell
                cells.append(cell.cell_contents)
        return any(_touches(value, depth - 1, seen) for value in [*found, *cells, *(obj.__defaults__ or ())])
    call = t.__dict__.get("__call__") if not issubclass(t, type) else None
    return isinstance(call, types.FunctionType) and _touches(call, depth - 1, seen)


# ------------------------------------------------------------------------------------- time limit, printing


def call_limited(fn: Callable[..., Any], args: tuple, seconds: float) -> Any:
    """`fn(*args)`, raising TimeLimit after `seconds` of wall-clock time (a repeating alarm signal in the main
    thread, so a student's `except Exception` cannot keep it running; elsewhere a watcher thread gives up
    waiting). Stops Python code only: a loop inside C code ends when the C call returns."""
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        running = [True]

        def on_alarm(signum, frame):
            if running[0]:
                raise TimeLimit(f"took longer than {seconds:g} s")

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds, 0.25)
        try:
            result = fn(*args)
            running[0] = False
            return result
        finally:
            running[0] = False
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
        raise TimeLimit(f"took longer than {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


class CappedText(io.TextIOBase):
    """A text stream that keeps the first `limit` characters written to it and counts the rest."""

    def __init__(self, limit: int = PRINT_LIMIT):
        super().__init__()
        self.limit, self.chars, self._kept = limit, 0, []

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {_type_name(text)}")
        room = self.limit - min(self.chars, self.limit)
        if room:
            self._kept.append(text[:room])
        self.chars += len(text)
        return len(text)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:
        return "utf-8"

    @property
    def text(self) -> str:
        return "".join(self._kept)


@contextlib.contextmanager
def capture(limit: int = PRINT_LIMIT) -> Iterator[CappedText]:
    """Send `sys.stdout` and `sys.stderr` to one CappedText while the block runs."""
    sink = CappedText(limit)
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = sink
    try:
        yield sink
    finally:
        sys.stdout, sys.stderr = saved


# ------------------------------------------------------------------------------------------ a forked child


def can_fork() -> bool:
    """Whether this platform can fork (Linux and macOS; not Windows)."""
    return hasattr(os, "fork") and "fork" in multiprocessing.get_all_start_methods()


class Child:
    """`work(send)` in a forked child process; the parent reads what it sends, one message at a time, each within
    a deadline, and kills the child (and any process it started) when it leaves the `with` block.

    The child is a copy of this process at the fork, so `work` may use lambdas and closures defined in a notebook;
    what it sends travels as JSON (lists, dicts, strings, numbers), so nothing the child sends can run code in
    the parent. The child's printing goes nowhere unless `work` captures it; it leaves with `os._exit`, running
    none of the parent's exit handlers.
    """

    def __init__(self, work: Callable[[Callable[[Any], None]], None]):
        reader, writer = multiprocessing.Pipe(duplex=False)
        try:
            with warnings.catch_warnings():  # Python 3.12 warns about forking a process with threads (a kernel has)
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:
            reader.close()
            writer.close()
            raise
        if pid == 0:  # pragma: no cover - the child; coverage does not follow it
            code = 0
            try:
                reader.close()
                os.setpgid(0, 0)
                faulthandler.disable()  # a crash of the student's code is a verdict, not a dump into the kernel's log
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                sys.stdout = sys.stderr = CappedText(0)
                work(lambda message: writer.send_bytes(json.dumps(message).encode()))
            except BaseException:  # noqa: BLE001 - the parent reads the end of the pipe as the child's end
                code = 1
            finally:
                os._exit(code)
        writer.close()
        self.pid, self._reader, self._status = pid, reader, None

    def receive(self, seconds: float) -> tuple[str, Any]:
        """("message", what the child sent), ("timeout", None) after `seconds`, or ("ended", how it ended)."""
        try:
            if not self._reader.poll(max(seconds, 0.0)):
                return "timeout", None
            return "message", json.loads(self._reader.recv_bytes().decode())
        except (EOFError, OSError, ValueError):
            return "ended", self.ended()

    def ended(self) -> str:
        """How the child ended ("it exited with status 3", "it was killed by signal SIGSEGV"), waiting up to 2 s
        for it (a child that closed its pipe but runs on is stopped)."""
        for _ in range(200):
            if self._status is not None:
                break
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self._status = 0
                break
            if pid:
                self._status = status
                break
            time.sleep(0.01)
        else:
            self.stop()
            return "it closed its pipe to the check and was stopped"
        status = self._status or 0
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = str(number)
            return f"it was killed by signal {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
        return f"it exited with status {os.WEXITSTATUS(status)}"

    def stop(self) -> None:
        """Kill the child and what it started, and reap it."""
        if self._status is None:
            for kill, target in ((os.killpg, self.pid), (os.kill, self.pid)):
                try:
                    kill(target, signal.SIGKILL)
                    break
                except (ProcessLookupError, PermissionError):
                    continue
            with contextlib.suppress(ChildProcessError):
                self._status = os.waitpid(self.pid, 0)[1]
        self._reader.close()

    def __enter__(self) -> "Child":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
