"""The course runner: execute the notebooks in order with papermill, export each to HTML, and
write an index page, skipping notebooks already executed with the same parameters and source.

Outputs go to `build/<profile>/`: `NN_name.ipynb` (executed), `NN_name.html`, `results/NN_name.json`
(written by the notebook itself), `runs.json` (what ran, with which parameters, how long) and the course summary
report `index.html` with its markdown twin `index.md` (see `report.py`).
A notebook that fails leaves `NN_name.failed.ipynb` with the error in place and stops the run.
Each kernel starts with this process's environment plus `$FMNIST_PROGRESS=summary` (one line per trained model)
unless that is set; the runner's own environment is never changed (see `kernel_environment`).
While it runs, TensorFlow's and the kernels' harmless start-up lines are kept out of the terminal (`quiet.py`); real
errors and tracebacks still show.

A notebook is skipped on a later run only when `runs.json` says it ran with the same parameters and source, its
outputs are there and its results record says `complete: true` with the same profile, dataset and parameters;
otherwise it runs again and the runner says why in one line. `runs.json` marks a notebook "running" (with the PID
and start time) before it starts, so a run that is killed leaves "running", never "ran".
One runner at a time per output folder: the run holds `<out>/.runner.lock` (with its PID) from start to end,
and a second runner on the same folder stops at once naming the holder (POSIX only; elsewhere nothing is locked).

Usage:
    outcomes = run_course("quick", only=["01"], params={"dataset": "mnist"})
    with lock_output_dir(Path("build/quick")):   # what run_course holds while it runs
        ...
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from fmnist_helpers.base import settings
from fmnist_helpers.base.atomic import write_json_atomic
from fmnist_helpers.course.notebooks import course_notebooks, number_and_name
from fmnist_helpers.course.quiet import quiet_native_stderr
from fmnist_helpers.base.params import PROFILES, RESERVED_PARAMS
from fmnist_helpers.base.paths import build_dir, notebooks_dir
from fmnist_helpers.base.results import Record, load_results, results_path, to_jsonable
from fmnist_helpers.course.site import export_page

LOCK_NAME = ".runner.lock"
MANIFEST_NAME = "runs.json"


class CourseRunError(RuntimeError):
    """A notebook failed, or the run was asked for something it cannot do."""


@dataclass
class Outcome:
    """What happened to one notebook in a run."""

    notebook: str
    status: str  # "running" (until it ends), "ran", "skipped" or "failed"
    wall_s: float
    params: dict[str, Any]
    key: str
    output: str
    html: str | None = None
    error: str | None = None
    pid: int | None = None  # the runner process that executed it
    started: str | None = None  # when it started (UTC, ISO 8601)


def parse_param(item: str) -> tuple[str, Any]:
    """`key=value` -> (key, value); the value is read as a Python literal when it is one, else a string."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip().isidentifier():
        raise CourseRunError(f"parameter {item!r} is not of the form key=value (e.g. -p dataset=mnist)")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return key.strip(), value


def select_notebooks(notebooks: Sequence[Path], only: Sequence[str] | None) -> list[Path]:
    """Pick notebooks by number (`01`, `s04`), stem (`01_exploration`) or name (`exploration`); None picks all."""
    if not only:
        return list(notebooks)
    chosen = []
    for want in only:
        hits = [nb for nb in notebooks if want in (nb.stem, *number_and_name(nb.stem), nb.name)]
        if not hits:
            names = ", ".join(nb.stem for nb in notebooks)
            raise CourseRunError(f"--only {want!r} matches no notebook; choose from: {names}")
        chosen.extend(h for h in hits if h not in chosen)
    return [nb for nb in notebooks if nb in chosen]  # in course order: the lessons, then the studies


def declared_parameters(notebook: Path) -> dict[str, Any]:
    """The names and defaults a notebook's `parameters` cell declares."""
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    if not declared:
        raise CourseRunError(f"{notebook.name} has no cell tagged 'parameters'")
    return declared


def check_output_dir(out: Path) -> None:
    """Refuse an output folder that is a file, or that lies under one."""
    for place in (out, *out.parents):
        if place.exists() and not place.is_dir():
            where = "is a file" if place == out else f"lies under {place}, which is a file"
            raise CourseRunError(f"{out} {where}; --output-dir must be a folder")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ----------------------------------------------------------------- one writer per output folder

def _lock_holder(path: Path) -> str:
    """`PID n` as the lock file says, or a note that the holder has not written its PID yet."""
    try:
        pid = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        pid = ""
    return f"PID {pid}" if pid.isdigit() else "a process that has not written its PID yet"


@contextmanager
def lock_output_dir(out: str | os.PathLike, wait: bool = False,
                    report: Callable[[str], None] = print) -> Iterator[Path]:
    """Hold the exclusive lock of output folder `out` (`<out>/.runner.lock`, holding this PID) while inside.

    Another holder makes it stop at once with a CourseRunError naming that holder's PID and the folder, or,
    with `wait=True`, wait until the holder ends. The lock dies with its process (a killed run leaves none).
    POSIX only (`fcntl.flock`): where there is no fcntl (Windows) nothing is locked and `report` says so.
    """
    out = Path(out)
    path = out / LOCK_NAME
    try:
        import fcntl
    except ImportError:
        report(f"note: {out} is not locked against a second runner: folder locking needs fcntl (POSIX only)")
        yield path
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise CourseRunError(f"cannot open the lock file {path}: {err.strerror}; --output-dir must be a "
                             f"writable folder") from err
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(path)
            if not wait:
                raise CourseRunError(f"{out} is in use by another course run ({holder}, lock file {path}); "
                                     f"wait for it to end or choose another --output-dir") from None
            report(f"waiting for the course run with {holder} to release {out}")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


# ----------------------------------------------------------------- the manifest, runs.json

def load_manifest(out: Path, report: Callable[[str], None] | None = None) -> dict[str, dict]:
    """`runs.json` as {notebook: entry}; a missing or damaged one is empty, so its notebooks run again."""
    path = Path(out) / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        problem = f"is unreadable ({type(err).__name__})"
    else:
        if isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()):
            return data
        problem = "is not a JSON object of notebook entries"
    if report:
        report(f"{path} {problem}; every notebook runs again")
    return {}


def _update_manifest(out: Path, outcome: Outcome) -> dict[str, dict]:
    """Re-read `runs.json`, replace one notebook's entry and write it back atomically; returns the manifest."""
    manifest = load_manifest(out)
    manifest[outcome.notebook] = asdict(outcome)
    write_json_atomic(out / MANIFEST_NAME, manifest)
    return manifest


def _outcome_from_entry(entry: dict[str, Any]) -> Outcome | None:
    """A manifest entry as an Outcome (unknown fields dropped), or None when it lacks a required field."""
    names = {f.name for f in fields(Outcome)}
    try:
        return Outcome(**{k: v for k, v in entry.items() if k in names})
    except TypeError:
        return None


# ----------------------------------------------------------------- may an earlier run be reused?

def _run_key(notebook: Path, params: dict[str, Any]) -> str:
    h = hashlib.sha256(notebook.read_bytes())
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def expected_record_params(nb_params: dict[str, Any], declared: dict[str, Any]) -> dict[str, Any]:
    """The parameters a notebook's results record must show for this run: profile, dataset (the one passed, else
    the notebook's default when it is a literal) and every other parameter the runner passes, except output_dir
    and those passed as None (None asks the notebook for its default, which it records resolved)."""
    expected = {k: v for k, v in nb_params.items() if k != "output_dir" and v is not None}
    if "dataset" in declared and "dataset" not in expected:
        try:
            expected["dataset"] = ast.literal_eval(str(declared["dataset"].get("default")))
        except (ValueError, SyntaxError, AttributeError):
            pass  # a computed default: the record's dataset is not checked
    return expected


def _same_value(wanted: Any, recorded: Any) -> bool:
    """Whether a run's parameter equals the record's copy, which went through JSON (tuples became lists)."""
    try:
        wanted = to_jsonable(wanted)
    except TypeError:
        wanted = str(wanted)
    return wanted == recorded and isinstance(wanted, bool) == isinstance(recorded, bool)


def record_problem(out: Path, notebook: str, expected: dict[str, Any]) -> str | None:
    """Why a notebook's results record does not show a complete run with `expected` params (None when it does)."""
    path = results_path(out, notebook)
    try:
        record = load_results(out, notebook)
    except FileNotFoundError:
        return f"it has no results record ({path})"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return f"its results record {path} is unreadable ({type(err).__name__})"
    if not isinstance(record, dict):
        return f"its results record {path} is not a JSON object"
    if record.get(Record.COMPLETE) is not True:
        return f"its results record {path} says complete: false (the notebook stopped before its end)"
    recorded = record.get(Record.PARAMS) if isinstance(record.get(Record.PARAMS), dict) else {}
    for name, wanted in expected.items():
        if name not in recorded:
            return f"its results record {path} does not record parameter {name}"
        if not _same_value(wanted, recorded[name]):
            return f"its results record {path} has {name}={recorded[name]!r}, this run {name}={wanted!r}"
    return None


def reuse_problem(out: Path, notebook: Path, previous: dict[str, Any], key: str,
                  expected: dict[str, Any]) -> str | None:
    """Why `notebook`'s earlier run in `out` cannot stand for this one (None when it can be skipped)."""
    if not previous:
        return "it has not run in this folder yet"
    status = previous.get("status")
    if status == "running":
        return (f"an earlier run (PID {previous.get('pid', '?')}, started {previous.get('started') or '?'}) "
                f"was interrupted while executing it")
    if status not in ("ran", "skipped"):
        return f"its last run ended with status {status!r}"
    if previous.get("key") != key:
        return "its parameters or its source changed since the last run"
    missing = [name for name in (notebook.name, f"{notebook.stem}.html") if not (out / name).is_file()]
    if missing:
        return f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing from {out}"
    return record_problem(out, notebook.stem, expected)


# ----------------------------------------------------------------- execution

def kernel_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a notebook's kernel starts with: `environ` (default: this process's) with one line per
    trained model (`$FMNIST_PROGRESS=summary`) unless it sets the progress itself. The runner's own is unchanged."""
    env = dict(os.environ if environ is None else environ)
    env.setdefault(settings.PROGRESS.name, "summary")
    return env


def _kernel_manager_class(env: dict[str, str], ipc_dir: str | os.PathLike | None = None) -> type:
    """A Jupyter kernel manager class whose kernels start with `env` instead of this process's environment.

    With `ipc_dir` the kernel and the runner talk over Unix sockets in that folder instead of TCP ports. Over TCP the
    runner picks five free ports and the kernel binds them a moment later; meanwhile one may be taken (a known
    Jupyter race, papermill issue 511). The kernel's heartbeat thread then prints a traceback ending in "Address
    already in use", the notebook runs on, and at its end the runner may wait forever for that heartbeat: it did
    after the last cell of a 50-minute `full` run of notebook 05. Sockets in a private folder cannot collide.
    """
    from jupyter_client import AsyncKernelManager
    from traitlets import default

    class KernelManagerWithEnvironment(AsyncKernelManager):
        async def start_kernel(self, **kw: Any) -> None:
            kw.setdefault("env", env)
            await super().start_kernel(**kw)

        if ipc_dir is not None:
            @default("transport")
            def _transport_default(self) -> str:
                return "ipc"

            @default("ip")
            def _ip_default(self) -> str:
                return os.path.join(os.fspath(ipc_dir), "kernel")

    return KernelManagerWithEnvironment


@contextmanager
def kernel_socket_dir() -> Iterator[str | None]:
    """A fresh private folder for a kernel's Unix sockets, removed afterwards; None where the system has no Unix
    sockets (Windows), where kernels keep TCP.

    Usage:
        with kernel_socket_dir() as ipc_dir:
            papermill.execute_notebook(..., kernel_manager_class=_kernel_manager_class(env, ipc_dir))
    """
    import shutil
    import tempfile

    if os.name != "posix":
        yield None
        return
    folder = tempfile.mkdtemp(prefix="fmnist-kernel-")   # short: a socket's path must stay under about 100 bytes
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def plain_traceback(lines: Sequence[str], last: int = 25) -> str:
    """A kernel's traceback (a list of strings with terminal colours) as plain text: its last `last` lines."""
    text = "\n".join(_ANSI.sub("", line) for line in lines or ())
    kept = text.splitlines()[-last:]
    return "\n".join(kept)


def _execute(notebook: Path, target: Path, params: dict[str, Any]) -> None:
    import papermill

    partial = target.with_name(target.stem + ".partial.ipynb")
    failed = target.with_name(target.stem + ".failed.ipynb")
    try:
        with kernel_socket_dir() as ipc_dir:
            papermill.execute_notebook(str(notebook), str(partial), parameters=params, cwd=str(notebook.parent),
                                       progress_bar=False, log_output=False, request_save_on_cell_execute=True,
                                       kernel_manager_class=_kernel_manager_class(kernel_environment(), ipc_dir))
    except papermill.PapermillExecutionError as err:
        os.replace(partial, failed)
        raise CourseRunError(
            f"{notebook.name} failed in cell {err.exec_count} ({err.ename}: {err.evalue.splitlines()[0] if err.evalue else ''})."
            f"\n{plain_traceback(err.traceback)}\nThe executed notebook with the full traceback is {failed}"
        ) from err
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    failed.unlink(missing_ok=True)
    os.replace(partial, target)


def _run_one(out: Path, nb: Path, nb_params: dict[str, Any], key: str, expected: dict[str, Any],
             report: Callable[[str], None]) -> Outcome:
    """Execute one notebook, marked "running" in `runs.json` until it ends; "ran" only once its record verifies.

    A failure is noted as "failed" in `runs.json` and raised again; an interrupt or a kill leaves "running".
    """
    target, page = out / nb.name, out / f"{nb.stem}.html"
    started = _now()
    _update_manifest(out, Outcome(nb.stem, "running", 0.0, nb_params, key, target.name, pid=os.getpid(),
                                  started=started))
    t0 = time.perf_counter()
    try:
        _execute(nb, target, nb_params)
        problem = record_problem(out, nb.stem, expected)
        if problem:
            raise CourseRunError(f"{nb.name} ran to its end but {problem}.\nThe executed notebook is {target}")
        export_page(target, page)
    except Exception as err:
        output = f"{nb.stem}.failed.ipynb" if (out / f"{nb.stem}.failed.ipynb").is_file() else target.name
        failure = Outcome(nb.stem, "failed", round(time.perf_counter() - t0, 2), nb_params, key, output,
                          error=str(err) or type(err).__name__, pid=os.getpid(), started=started)
        _update_manifest(out, failure)
        raise
    wall = time.perf_counter() - t0
    report(f"{nb.stem}: executed in {wall:.1f} s -> {target}")
    return Outcome(nb.stem, "ran", round(wall, 2), nb_params, key, target.name, page.name, pid=os.getpid(),
                   started=started)


def run_course(
    profile: str = "quick",
    only: Sequence[str] | None = None,
    params: dict[str, Any] | None = None,
    force: bool = False,
    output_dir: str | os.PathLike | None = None,
    notebook_dir: str | os.PathLike | None = None,
    track: str = "all",
    report: Callable[[str], None] = print,
    progress: bool = True,
    wait: bool = False,
) -> list[Outcome]:
    """Execute the selected notebooks in order; see the module docstring for what is written.

    `wait=True` waits for another runner using the same output folder to end instead of stopping at once.
    `track` runs the lessons, the studies or (default) both, the lessons first.
    """
    if profile not in PROFILES:
        raise CourseRunError(f"profile {profile!r} is not accepted; choose one of: {', '.join(PROFILES)}")
    out = Path(output_dir) if output_dir else build_dir(profile)
    check_output_dir(out)
    params = dict(params or {})
    clash = RESERVED_PARAMS & set(params)
    if clash:
        raise CourseRunError(f"set {', '.join(sorted(clash))} with --profile / --output-dir, not -p")
    nb_dir = Path(notebook_dir) if notebook_dir else notebooks_dir()
    if track not in ("lessons", "studies", "all"):
        raise CourseRunError(f"track {track!r} is not accepted; choose one of: lessons, studies, all")
    selected = select_notebooks(course_notebooks(nb_dir, track), only)
    if not selected:
        raise CourseRunError(f"no notebooks found in {nb_dir}")
    declared = {nb: declared_parameters(nb) for nb in selected}
    unknown = set(params) - set().union(*declared.values())
    if unknown:
        accepted = sorted(set().union(*declared.values()) - RESERVED_PARAMS)
        raise CourseRunError(f"unknown parameter(s) {', '.join(sorted(unknown))}: no selected notebook declares them; "
                             f"accepted: {', '.join(accepted)}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CourseRunError(f"cannot create the output folder {out}: {err.strerror}; "
                             f"--output-dir must be a writable folder") from err
    with lock_output_dir(out, wait=wait, report=report), quiet_native_stderr():
        return _run_selected(out, profile, selected, declared, params, force, report, progress)


def _run_selected(out: Path, profile: str, selected: list[Path], declared: dict[Path, dict[str, Any]],
                  params: dict[str, Any], force: bool, report: Callable[[str], None],
                  progress: bool) -> list[Outcome]:
    """The loop of `run_course`, run while holding the output folder's lock."""
    from tqdm import tqdm

    manifest = load_manifest(out, report)
    outcomes: list[Outcome] = []
    bar = tqdm(selected, desc=f"course ({profile})", unit="notebook", disable=not progress)
    for nb in bar:
        bar.set_postfix_str(nb.stem)
        nb_params = {"profile": profile, "output_dir": str(out.resolve()),
                     **{k: v for k, v in params.items() if k in declared[nb]}}
        key = _run_key(nb, nb_params)
        expected = expected_record_params(nb_params, declared[nb])
        previous = manifest.get(nb.stem, {})
        problem = None if force else reuse_problem(out, nb, previous, key, expected)
        if not force and problem is None:
            then = previous.get("wall_s")
            then = float(then) if isinstance(then, (int, float)) else 0.0
            outcome = Outcome(nb.stem, "skipped", then, nb_params, key, nb.name,
                              f"{nb.stem}.html", pid=previous.get("pid"), started=previous.get("started"))
            report(f"{nb.stem}: already executed with these parameters ({outcome.wall_s:.1f} s then); skipped")
        else:
            if problem and previous:
                report(f"{nb.stem}: running it again: {problem}")
            try:
                outcome = _run_one(out, nb, nb_params, key, expected, report)
            except Exception:
                write_index(out, profile, _index_outcomes(load_manifest(out)))
                raise
        manifest = _update_manifest(out, outcome)
        outcomes.append(outcome)
        write_index(out, profile, _index_outcomes(manifest))
    bar.close()
    return outcomes


def _index_outcomes(manifest: dict[str, dict]) -> list[Outcome]:
    """The manifest's entries for the report, by name; a "running" entry of another (dead) run reads "interrupted"."""
    outcomes = []
    for name in sorted(manifest):
        outcome = _outcome_from_entry(manifest[name])
        if outcome is None:
            continue
        if outcome.status == "running" and outcome.pid != os.getpid():
            outcome.status = "interrupted"
        outcomes.append(outcome)
    return outcomes


def write_index(out: Path, profile: str, outcomes: Sequence[Outcome]) -> Path:
    """The course summary report, `index.html` and `index.md` (see `report.py`); returns the HTML path."""
    from fmnist_helpers.course.report import write_report  # pandas: loaded only once a notebook has run

    return write_report(out, profile, outcomes)[0]
