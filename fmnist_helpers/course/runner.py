"""The course runner: execute the notebooks in order with papermill, export each to HTML, and
write an index page, skipping notebooks already executed with the same parameters and source.

Outputs go to `build/<profile>/`: `NN_name.ipynb` (executed), `NN_name.html`, `results/NN_name.json`
(written by the notebook itself), `runs.json` (what ran, with which parameters, how long) and the course summary
report `index.html` with its markdown twin `index.md` (see `report.py`).
A notebook that fails stops the run with one paragraph (`failures.py`): which notebook, which cell or what happened
(an error in a cell, the kernel killed by a signal or by the out-of-memory killer, a full disk, Ctrl-C), where the
notebook as far as it ran was kept (`NN_name.failed.ipynb`, whatever stopped it) and what to do next; runs.json and
the index then link only to files that exist, and a failure while recording the failure is added to the paragraph,
never put in its place.
Each kernel starts with this process's environment plus `$FMNIST_PROGRESS=summary` (one line per trained model)
unless that is set; the runner's own environment is never changed (see `kernel_environment`).
While it runs, TensorFlow's and the kernels' harmless start-up lines are kept out of the terminal (`quiet.py`); real
errors and tracebacks still show.

A notebook is skipped on a later run only when `runs.json` says it ran with the same parameters and source, its
outputs are there, its results record says `complete: true` with the same profile, dataset and parameters and still
has the SHA-256 runs.json took when it ran, and every saved model it made or lists (`models/<name>.json`) is there
unchanged, its files of the size and SHA-256 their record holds; otherwise it runs again and the runner says why in
one line. `runs.json` marks a notebook "running" (with the PID and start time) before it starts, so a run that is
killed leaves "running", never "ran". A damaged `runs.json` is kept beside the new one as
`runs.json.damaged-<UTC time>`, with every entry that can still be read carried over; `--only` keeps the entries of
the notebooks it does not run.
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
from fmnist_helpers.base.atomic import write_json_atomic, write_text_atomic
from fmnist_helpers.course.failures import (INTERRUPTED, KERNEL_DIED, OUT_OF_MEMORY, Failure, KernelWatch, diagnose,
                                            disk_full_error, free_space, note_in_cell, one_line, oom_kill_count,
                                            oom_kills_since)
from fmnist_helpers.course.notebooks import course_notebooks, number_and_name
from fmnist_helpers.course.quiet import quiet_native_stderr
from fmnist_helpers.base.params import PROFILES, RESERVED_PARAMS
from fmnist_helpers.base.paths import build_dir, notebooks_dir
from fmnist_helpers.base.results import Record, load_results, results_path, to_jsonable
from fmnist_helpers.course.site import export_page

LOCK_NAME = ".runner.lock"
MANIFEST_NAME = "runs.json"


class CourseRunError(RuntimeError):
    """A notebook failed, or the run was asked for something it cannot do; `str()` says which and what to do."""


class NotebookFailed(CourseRunError):
    """A notebook did not finish; `failure` says why (`failures.Failure`) and `str()` is its paragraph, then what
    could not be recorded about it (`notes`), if anything."""

    def __init__(self, failure: Failure, notes: Sequence[str] = ()) -> None:
        also = f"\nAlso, while recording this: {'; '.join(notes)}." if notes else ""
        super().__init__(failure.paragraph() + also)
        self.failure, self.notes = failure, list(notes)


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: still a KeyboardInterrupt, whose `str()` says what was kept and how to go on."""


@dataclass
class Outcome:
    """What happened to one notebook in a run."""

    notebook: str
    status: str  # "running" (until it ends), "ran", "skipped", "failed" or "interrupted"
    wall_s: float
    params: dict[str, Any]
    key: str
    output: str | None  # the executed (or, after a failure, the partly executed) notebook; None when none was kept
    html: str | None = None
    error: str | None = None
    pid: int | None = None  # the runner process that executed it
    started: str | None = None  # when it started (UTC, ISO 8601)
    results_sha256: str | None = None  # of results/<notebook>.json when it ran
    models: dict[str, dict[str, Any]] | None = None  # the saved models it made or lists: {name: {"record_sha256", "files"}}


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
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # a full disk: the lock holds all the same, and a second runner reads "has not written its PID yet"
        try:
            yield path
        finally:
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
    finally:
        os.close(fd)  # releases the lock


# ----------------------------------------------------------------- the manifest, runs.json

_ENTRY_START = re.compile(r'^  ("(?:[^"\\\n]|\\.)*")\s*:\s*', re.MULTILINE)


def salvage_entries(text: str) -> dict[str, dict]:
    """The notebook entries that can still be read from the text of a damaged `runs.json` (cut short, or with
    stray characters between entries): each top-level `"name": {...}` that parses on its own."""
    decoder, entries = json.JSONDecoder(), {}
    for match in _ENTRY_START.finditer(text):
        try:
            name = json.loads(match.group(1))
            entry, _ = decoder.raw_decode(text, match.end())
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries[name] = entry
    return entries


def parse_manifest(text: str) -> tuple[dict[str, dict], str | None]:
    """`runs.json`'s text as ({notebook: entry} of the readable entries, what is damaged or None)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        return salvage_entries(text), f"is not valid JSON ({err.msg}: line {err.lineno}, column {err.colno})"
    if not isinstance(data, dict):
        return {}, f"holds a JSON {type(data).__name__}, not an object of notebook entries"
    entries = {name: entry for name, entry in data.items() if isinstance(entry, dict)}
    bad = sorted(set(data) - set(entries))
    if bad:
        return entries, f"has {len(bad)} entr{'y' if len(bad) == 1 else 'ies'} that {'is' if len(bad) == 1 else 'are'} " \
                        f"not an object ({', '.join(bad)})"
    return entries, None


def _keep_damaged(path: Path) -> Path:
    """Move a damaged `runs.json` aside as `runs.json.damaged-<UTC time>` (never over an earlier copy)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target, n = path.with_name(f"{path.name}.damaged-{stamp}"), 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    os.rename(path, target)
    return target


def load_manifest(out: Path, report: Callable[[str], None] | None = None) -> dict[str, dict]:
    """`runs.json` as {notebook: entry}; a missing one is empty.

    A damaged one is moved aside as `runs.json.damaged-<UTC time>` and replaced by the entries that can still be
    read from it (`report` says so in one line); the notebooks without an entry run again.
    """
    path = Path(out) / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        raw = path.read_bytes()
    except OSError as err:
        entries, problem = {}, f"is unreadable ({one_line(err)})"
    else:
        try:
            entries, problem = parse_manifest(raw.decode("utf-8"))
        except UnicodeDecodeError:
            entries, problem = salvage_entries(raw.decode("utf-8", errors="replace")), "is not UTF-8 text"
    if problem is None:
        return entries
    try:
        kept = f"kept as {_keep_damaged(path).name}"
        write_json_atomic(path, entries)
    except OSError as err:
        kept = f"it could not be moved aside or replaced ({one_line(err)})"
    recovered = (f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} recovered from it "
                 f"({', '.join(sorted(entries))})" if entries else "no entry could be recovered from it")
    if report:
        report(f"{path} {problem}; {kept}; {recovered}: the notebooks without an entry run again")
    return entries


def _update_manifest(out: Path, outcome: Outcome,
                     report: Callable[[str], None] | None = None) -> dict[str, dict]:
    """Re-read `runs.json`, replace one notebook's entry and write it back atomically; returns the manifest.
    The entries of every other notebook are kept."""
    manifest = load_manifest(out, report)
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


def file_sha256(path: Path) -> str:
    """The SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _model_stamps(out: Path) -> dict[str, tuple[int, int, int]]:
    """{name: (mtime, size, inode)} of every saved model's record, `<out>/models/<name>.json`."""
    stamps = {}
    for path in (Path(out) / "models").glob("*.json"):
        if path.name.startswith("."):
            continue
        try:
            st = path.stat()
        except OSError:
            continue
        stamps[path.stem] = (st.st_mtime_ns, st.st_size, st.st_ino)
    return stamps


def saved_models(out: Path, notebook: str, before: dict[str, tuple[int, int, int]]) -> dict[str, dict[str, Any]]:
    """The saved models a notebook made (their records are new or rewritten since `before`, a `_model_stamps`) or
    lists in its results record (`figures.models`), with the SHA-256 of each record and the files it vouches for."""
    now = _model_stamps(out)
    names = {name for name, stamp in now.items() if before.get(name) != stamp}
    try:
        listed = ((load_results(out, notebook).get(Record.FIGURES) or {}).get("models") or {})
        names |= {name for name in listed if name in now}
    except (OSError, ValueError, AttributeError):
        pass
    pinned = {}
    for name in sorted(names):
        path = Path(out) / "models" / f"{name}.json"
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            digest = file_sha256(path)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(record, dict) and isinstance(record.get("files"), dict):  # a saved run, not another JSON file
            pinned[name] = {"record_sha256": digest, "files": record["files"]}
    return pinned


def saved_models_problem(out: Path, models: dict[str, Any]) -> str | None:
    """Why the saved models pinned in a runs.json entry (`saved_models`) no longer verify, or None when they do:
    each record unchanged, and its model and probabilities files of the size and SHA-256 it holds."""
    from fmnist_helpers.training import store

    for name, pinned in sorted(models.items()):
        try:
            paths = store.model_paths(out, name)
        except ValueError:
            return f"runs.json lists a saved model {name!r} that is not a plain name"
        if not paths["record"].is_file():
            return f"its saved model {name} is gone ({paths['record']} is missing)"
        if not isinstance(pinned, dict) or file_sha256(paths["record"]) != pinned.get("record_sha256"):
            return f"its saved model {name} changed since it ran ({paths['record']} was rewritten or replaced)"
        try:
            store.check_files(store.read_record(paths["record"]), paths)
        except store.UnusableRun as why:
            return f"its saved model {name} does not verify: {why}"
    return None


def verification_problem(out: Path, notebook: str, previous: dict[str, Any]) -> str | None:
    """Why the results record and saved models of `notebook`'s earlier run no longer match what runs.json took down
    when it ran (None when they do)."""
    recorded = previous.get("results_sha256")
    path = results_path(out, notebook)
    if not isinstance(recorded, str):
        return "runs.json holds no checksum of its results record (written by an older version of the runner)"
    if file_sha256(path) != recorded:
        return f"its results record {path} changed since it ran (its SHA-256 is not the one runs.json holds)"
    models = previous.get("models") or {}
    if not isinstance(models, dict):
        return "runs.json's list of its saved models is damaged"
    return saved_models_problem(out, models)


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
    return record_problem(out, notebook.stem, expected) or verification_problem(out, notebook.stem, previous)


# ----------------------------------------------------------------- execution

def kernel_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a notebook's kernel starts with: `environ` (default: this process's) with one line per
    trained model (`$FMNIST_PROGRESS=summary`) unless it sets the progress itself. The runner's own is unchanged."""
    env = dict(os.environ if environ is None else environ)
    env.setdefault(settings.PROGRESS.name, "summary")
    return env


def _kernel_manager_class(env: dict[str, str], ipc_dir: str | os.PathLike | None = None,
                          watch: KernelWatch | None = None) -> type:
    """A Jupyter kernel manager class whose kernels start with `env` instead of this process's environment; `watch`
    (a `failures.KernelWatch`) gets each kernel's process, whose exit status tells what killed it.

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
            if watch is not None:
                watch.process = getattr(self.provisioner, "process", None)

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


@contextmanager
def _papermill_log_muted() -> Iterator[None]:
    """Keep papermill's and nbclient's log lines ("Kernel died while waiting for execute reply.") off the terminal:
    the runner says what happened in its own paragraph."""
    import logging

    log = logging.getLogger("papermill")
    handler, propagate = logging.NullHandler(), log.propagate
    log.addHandler(handler)
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.propagate = propagate


@contextmanager
def _ctrl_c_stops_the_kernel(watch: KernelWatch) -> Iterator[None]:
    """While inside, Ctrl-C kills the kernel first, then raises KeyboardInterrupt as usual: a kernel asked to shut
    down gracefully in the middle of a cell prints a traceback of its own. Only where Ctrl-C has Python's default
    handler (a background job that ignores it keeps ignoring it) and in the main thread."""
    import signal
    import threading

    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        watch.stop(timeout=5)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _keep_partial(partial: Path, failed: Path) -> tuple[Any | None, Path | None, str]:
    """Keep the partly executed notebook as `failed` -> (the notebook, where it is kept, why none was kept)."""
    import nbformat

    if not partial.exists():
        return None, None, "none had been written yet"
    try:
        nb = nbformat.read(partial, as_version=4)
    except Exception:  # cut short by a full disk or a kill while papermill wrote it
        partial.unlink(missing_ok=True)
        return None, None, "the copy being written was cut short, so it was removed"
    os.replace(partial, failed)
    return nb, failed, ""


def _note_where_it_stopped(nb: Any, failure: Failure) -> None:
    """Write the reason into the cell that was running when the kernel died or the run was interrupted, in the kept
    notebook (best effort: on a full disk the copy stays as it was)."""
    import nbformat

    if failure.kept is None or failure.cell is None or failure.cause not in (KERNEL_DIED, OUT_OF_MEMORY, INTERRUPTED):
        return
    note_in_cell(nb, failure.cell, f"The course runner: {failure.notebook} {failure.what}")
    try:
        write_text_atomic(failure.kept, nbformat.writes(nb) + "\n")
    except OSError:
        pass


def _execute(notebook: Path, target: Path, params: dict[str, Any]) -> None:
    """Execute `notebook` into `target` with papermill. On any failure the notebook as far as it ran is kept as
    `<stem>.failed.ipynb` and NotebookFailed (RunInterrupted for Ctrl-C) says what happened."""
    import papermill

    partial = target.with_name(target.stem + ".partial.ipynb")
    failed = target.with_name(target.stem + ".failed.ipynb")
    failed.unlink(missing_ok=True)  # an earlier run's copy must not pass for this run's
    watch, kills = KernelWatch(), oom_kill_count()
    try:
        with kernel_socket_dir() as ipc_dir, _papermill_log_muted(), _ctrl_c_stops_the_kernel(watch):
            try:
                papermill.execute_notebook(
                    str(notebook), str(partial), parameters=params, cwd=str(notebook.parent), progress_bar=False,
                    log_output=False, request_save_on_cell_execute=True,
                    kernel_manager_class=_kernel_manager_class(kernel_environment(), ipc_dir, watch))
            finally:
                watch.stop()  # a kernel that outlived a failure goes before its socket folder does
    except BaseException as err:
        space = free_space(target.parent)  # before removing a cut-short copy frees some
        nb, kept, why_not = _keep_partial(partial, failed)
        failure = diagnose(err, notebook.name, target.parent, nb, kept, watch.returncode, oom_kills_since(kills),
                           space)
        failure.kept_note = why_not
        _note_where_it_stopped(nb, failure)
        if isinstance(err, KeyboardInterrupt):
            raise RunInterrupted(failure.paragraph()) from err
        raise NotebookFailed(failure) from err
    os.replace(partial, target)


def _export(target: Path, page: Path) -> None:
    """Export the executed notebook to HTML; a CourseRunError says why it could not be."""
    try:
        export_page(target, page)
    except Exception as err:
        full = disk_full_error(err)
        space = free_space(page.parent)
        cause = (f"the disk holding {page.parent} is full{f' ({space})' if space else ''}" if full else one_line(err))
        advice = ("Free space there or choose another --output-dir, then run" if full else
                  "Run") + " the same command again: this notebook runs again."
        raise CourseRunError(f"{target.name} ran to its end, but its HTML page {page.name} could not be written: "
                             f"{cause}. The executed notebook is {target}. {advice}") from err


def _not_written(nb: Path, what: str, out: Path, err: BaseException, before: bool) -> str:
    """The paragraph for runs.json or the index that could not be written before or after `nb` ran."""
    full = disk_full_error(err)
    space = free_space(out)
    cause = f"the disk holding {out} is full{f' ({space})' if space else ''}" if full else one_line(err)
    done = ("was not started" if before else "ran, and its executed notebook and results are in place")
    fix = "Free space there or choose another --output-dir" if full else "Make the folder writable"
    return f"{nb.name} {done}, but {what} could not be written: {cause}. {fix}, then run the same command again."


def _record_failure(out: Path, profile: str, outcome: Outcome, report: Callable[[str], None]) -> list[str]:
    """Note a failed or interrupted notebook in runs.json and the index; returns what could not be written, so
    that it is added to the failure's paragraph instead of hiding it."""
    problems = []
    manifest = None
    try:
        manifest = _update_manifest(out, outcome, report)
    except Exception as err:
        problems.append(f"runs.json could not be updated ({one_line(err)}), so it still marks {outcome.notebook} "
                        f"\"running\"")
    try:
        if manifest is None:
            manifest = {**load_manifest(out), outcome.notebook: asdict(outcome)}
        write_index(out, profile, _index_outcomes(out, manifest))
    except Exception as err:
        problems.append(f"the index could not be rewritten ({one_line(err)})")
    return problems


def _run_one(out: Path, profile: str, nb: Path, nb_params: dict[str, Any], key: str, expected: dict[str, Any],
             report: Callable[[str], None]) -> Outcome:
    """Execute one notebook, marked "running" in `runs.json` until it ends; "ran" only once its record verifies,
    with the SHA-256 of its results record and of the saved models it made or lists.

    A failure is noted as "failed" (Ctrl-C as "interrupted") in `runs.json` and the index, then raised as a
    CourseRunError (RunInterrupted) whose text is the paragraph for the terminal; a kill leaves "running".
    """
    target, page = out / nb.name, out / f"{nb.stem}.html"
    started = _now()
    try:
        _update_manifest(out, Outcome(nb.stem, "running", 0.0, nb_params, key, None, pid=os.getpid(),
                                      started=started), report)
    except OSError as err:
        raise CourseRunError(_not_written(nb, f"{MANIFEST_NAME} in {out}", out, err, before=True)) from err
    before = _model_stamps(out)
    t0 = time.perf_counter()
    executed = False
    try:
        _execute(nb, target, nb_params)
        executed = True
        problem = record_problem(out, nb.stem, expected)
        if problem:
            raise CourseRunError(f"{nb.name} ran to its end but {problem}. The executed notebook is {target}. Look "
                                 "for the cell that should finish the record (`run.finish()`), then run the same "
                                 "command again.")
        _export(target, page)
        results_sha256 = file_sha256(results_path(out, nb.stem))
        models = saved_models(out, nb.stem, before)
    except (Exception, KeyboardInterrupt) as err:
        interrupted = isinstance(err, KeyboardInterrupt)
        kept = out / f"{nb.stem}.failed.ipynb"
        output = kept.name if kept.is_file() else target.name if executed and target.is_file() else None
        if isinstance(err, (CourseRunError, RunInterrupted)):
            text = str(err)
        else:  # raised outside _execute (a test's stand-in, or a bug): still one paragraph, never a traceback
            failure = diagnose(err, nb.name, out, None, kept if kept.is_file() else None)
            text = failure.paragraph()
        outcome = Outcome(nb.stem, "interrupted" if interrupted else "failed", round(time.perf_counter() - t0, 2),
                          nb_params, key, output, error=text.split("\n")[0], pid=os.getpid(), started=started)
        problems = _record_failure(out, profile, outcome, report)
        if isinstance(err, NotebookFailed):
            raise NotebookFailed(err.failure, problems) from err
        if problems:
            text = f"{text}\nAlso, while recording this: {'; '.join(problems)}."
        if interrupted:
            raise RunInterrupted(text) from err
        raise CourseRunError(text) from err
    wall = time.perf_counter() - t0
    report(f"{nb.stem}: executed in {wall:.1f} s -> {target}")
    return Outcome(nb.stem, "ran", round(wall, 2), nb_params, key, target.name, page.name, pid=os.getpid(),
                   started=started, results_sha256=results_sha256, models=models)


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
            outcome = Outcome(nb.stem, "skipped", then, nb_params, key, nb.name, f"{nb.stem}.html",
                              pid=previous.get("pid"), started=previous.get("started"),
                              results_sha256=previous.get("results_sha256"), models=previous.get("models") or {})
            report(f"{nb.stem}: already executed with these parameters ({outcome.wall_s:.1f} s then); its results "
                   "and saved models verify; skipped")
        else:
            if problem and previous:
                report(f"{nb.stem}: running it again: {problem}")
            outcome = _run_one(out, profile, nb, nb_params, key, expected, report)
        try:
            manifest = _update_manifest(out, outcome, report)
        except OSError as err:
            raise CourseRunError(_not_written(nb, f"{MANIFEST_NAME} in {out}", out, err, before=False)) from err
        outcomes.append(outcome)
        try:
            write_index(out, profile, _index_outcomes(out, manifest))
        except OSError as err:
            raise CourseRunError(_not_written(nb, f"the index in {out}", out, err, before=False)) from err
    bar.close()
    return outcomes


def _index_outcomes(out: Path, manifest: dict[str, dict]) -> list[Outcome]:
    """The manifest's entries for the report, by name, linking only to files that exist; a "running" entry of
    another (dead) run reads "interrupted"."""
    outcomes = []
    for name in sorted(manifest):
        outcome = _outcome_from_entry(manifest[name])
        if outcome is None:
            continue
        if outcome.status == "running" and outcome.pid != os.getpid():
            outcome.status = "interrupted"
        if not (isinstance(outcome.output, str) and outcome.output and (Path(out) / outcome.output).is_file()):
            outcome.output = None
        if not (isinstance(outcome.html, str) and outcome.html and (Path(out) / outcome.html).is_file()):
            outcome.html = None
        outcomes.append(outcome)
    return outcomes


def write_index(out: Path, profile: str, outcomes: Sequence[Outcome]) -> Path:
    """The course summary report, `index.html` and `index.md` (see `report.py`); returns the HTML path."""
    from fmnist_helpers.course.report import write_report  # pandas: loaded only once a notebook has run

    return write_report(out, profile, outcomes)[0]
