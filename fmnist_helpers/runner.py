"""The course runner: execute the notebooks in order with papermill, export each to HTML, and
write an index page, skipping notebooks already executed with the same parameters and source.

Outputs go to `build/<profile>/`: `NN_name.ipynb` (executed), `NN_name.html`, `results/NN_name.json`
(written by the notebook itself), `runs.json` (what ran, with which parameters, how long) and the course summary
report `index.html` with its markdown twin `index.md` (see `report.py`).
A notebook that fails leaves `NN_name.failed.ipynb` with the error in place and stops the run.

Usage:
    outcomes = run_course("quick", only=["01"], params={"dataset": "mnist"})
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from .atomic import write_json_atomic, write_text_atomic
from .notebooks import course_notebooks
from .params import PROFILES
from .paths import build_dir, notebooks_dir

RESERVED = {"profile", "output_dir"}  # set by the runner itself


class CourseRunError(RuntimeError):
    """A notebook failed, or the run was asked for something it cannot do."""


@dataclass
class Outcome:
    """What happened to one notebook in a run."""

    notebook: str
    status: str  # "ran", "skipped" or "failed"
    wall_s: float
    params: dict[str, Any]
    key: str
    output: str
    html: str | None = None
    error: str | None = None


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
    """Pick notebooks by number (`01`), stem (`01_exploration`) or name (`exploration`); None picks all."""
    if not only:
        return list(notebooks)
    chosen = []
    for want in only:
        hits = [nb for nb in notebooks if want in (nb.stem, nb.stem[:2], nb.stem[3:], nb.name)]
        if not hits:
            names = ", ".join(nb.stem for nb in notebooks)
            raise CourseRunError(f"--only {want!r} matches no notebook; choose from: {names}")
        chosen.extend(h for h in hits if h not in chosen)
    return sorted(chosen)


def declared_parameters(notebook: Path) -> dict[str, Any]:
    """The names and defaults a notebook's `parameters` cell declares."""
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    if not declared:
        raise CourseRunError(f"{notebook.name} has no cell tagged 'parameters'")
    return declared


def _run_key(notebook: Path, params: dict[str, Any]) -> str:
    h = hashlib.sha256(notebook.read_bytes())
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def _export_html(executed: Path, target: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    write_text_atomic(target, body)


def _execute(notebook: Path, target: Path, params: dict[str, Any]) -> None:
    import papermill

    partial = target.with_name(target.stem + ".partial.ipynb")
    failed = target.with_name(target.stem + ".failed.ipynb")
    # one line per trained model in executed notebooks (the kernel inherits this environment)
    os.environ.setdefault("FMNIST_PROGRESS", "summary")
    try:
        papermill.execute_notebook(str(notebook), str(partial), parameters=params, cwd=str(notebook.parent),
                                   progress_bar=False, log_output=False, request_save_on_cell_execute=True)
    except papermill.PapermillExecutionError as err:
        os.replace(partial, failed)
        raise CourseRunError(
            f"{notebook.name} failed in cell {err.exec_count} ({err.ename}: {err.evalue.splitlines()[0] if err.evalue else ''})."
            f"\nThe executed notebook with the full traceback is {failed}"
        ) from err
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    failed.unlink(missing_ok=True)
    os.replace(partial, target)


def load_manifest(out: Path) -> dict[str, dict]:
    path = out / "runs.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}  # a damaged manifest only means notebooks run again


def run_course(
    profile: str = "quick",
    only: Sequence[str] | None = None,
    params: dict[str, Any] | None = None,
    force: bool = False,
    output_dir: str | os.PathLike | None = None,
    notebook_dir: str | os.PathLike | None = None,
    report: Callable[[str], None] = print,
    progress: bool = True,
) -> list[Outcome]:
    """Execute the selected notebooks in order; see the module docstring for what is written."""
    if profile not in PROFILES:
        raise CourseRunError(f"profile {profile!r} is not accepted; choose one of: {', '.join(PROFILES)}")
    params = dict(params or {})
    clash = RESERVED & set(params)
    if clash:
        raise CourseRunError(f"set {', '.join(sorted(clash))} with --profile / --output-dir, not -p")
    nb_dir = Path(notebook_dir) if notebook_dir else notebooks_dir()
    selected = select_notebooks(course_notebooks(nb_dir), only)
    if not selected:
        raise CourseRunError(f"no notebooks found in {nb_dir}")
    declared = {nb: declared_parameters(nb) for nb in selected}
    unknown = set(params) - set().union(*declared.values())
    if unknown:
        accepted = sorted(set().union(*declared.values()) - RESERVED)
        raise CourseRunError(f"unknown parameter(s) {', '.join(sorted(unknown))}: no selected notebook declares them; "
                             f"accepted: {', '.join(accepted)}")
    out = Path(output_dir) if output_dir else build_dir(profile)
    out.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest(out)
    outcomes: list[Outcome] = []

    from tqdm import tqdm

    bar = tqdm(selected, desc=f"course ({profile})", unit="notebook", disable=not progress)
    for nb in bar:
        bar.set_postfix_str(nb.stem)
        nb_params = {"profile": profile, "output_dir": str(out.resolve()),
                     **{k: v for k, v in params.items() if k in declared[nb]}}
        key = _run_key(nb, nb_params)
        target, page = out / nb.name, out / f"{nb.stem}.html"
        previous = manifest.get(nb.stem, {})
        if (not force and previous.get("key") == key and previous.get("status") in ("ran", "skipped")
                and target.is_file() and page.is_file()):
            outcome = Outcome(nb.stem, "skipped", previous.get("wall_s", 0.0), nb_params, key, target.name, page.name)
            report(f"{nb.stem}: already executed with these parameters ({outcome.wall_s:.1f} s then); skipped")
        else:
            t0 = time.perf_counter()
            try:
                _execute(nb, target, nb_params)
            except CourseRunError as err:
                failure = Outcome(nb.stem, "failed", round(time.perf_counter() - t0, 2), nb_params, key,
                                  f"{nb.stem}.failed.ipynb", error=str(err))
                _record(out, profile, manifest, outcomes, failure)
                raise
            wall = time.perf_counter() - t0
            _export_html(target, page)
            outcome = Outcome(nb.stem, "ran", round(wall, 2), nb_params, key, target.name, page.name)
            report(f"{nb.stem}: executed in {wall:.1f} s -> {target}")
        _record(out, profile, manifest, outcomes, outcome)
    bar.close()
    return outcomes


def _record(out: Path, profile: str, manifest: dict[str, dict], outcomes: list[Outcome], outcome: Outcome) -> None:
    """Note one notebook's outcome in `runs.json` and refresh the index, so an interrupted run can resume."""
    manifest[outcome.notebook] = asdict(outcome)
    write_json_atomic(out / "runs.json", manifest)
    outcomes.append(outcome)
    write_index(out, profile, [Outcome(**manifest[name]) for name in sorted(manifest)])


def write_index(out: Path, profile: str, outcomes: Sequence[Outcome]) -> Path:
    """The course summary report, `index.html` and `index.md` (see `report.py`); returns the HTML path."""
    from .report import write_report  # pandas: loaded only once a notebook has run

    return write_report(out, profile, outcomes, hidden=RESERVED)[0]
