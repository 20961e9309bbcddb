"""The course runner trusts an earlier run only when it verifies, keeps one writer per output folder and
refuses an output folder that is a file.

Most tests use a one-cell course whose execution is faked (no kernel); one kills a real runner process while it
executes notebook 02 in the smoke profile.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from fmnist_helpers.course import runner
from fmnist_helpers.course.cli import main
from fmnist_helpers.base.results import ResultsRecord, load_results, results_path
from fmnist_helpers.course.runner import CourseRunError, lock_output_dir, run_course

STEM = "01_tiny"
POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="process groups and folder locks are POSIX only")


def _quiet(_msg):
    pass


@pytest.fixture(autouse=True)
def no_hardware_probe(monkeypatch):
    """The index asks for this machine's hardware (a TensorFlow import) when no record names it; not here."""
    monkeypatch.setattr("fmnist_helpers.course.report.detect_hardware", lambda: ({"gpus": []}, "float32"))


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A one-notebook course whose execution writes the executed notebook and a complete results record."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    cell = new_code_cell("profile = None\noutput_dir = None\nx = 1")
    cell.metadata["tags"] = ["parameters"]
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nbformat.write(new_notebook(cells=[cell], metadata=kernel), folder / f"{STEM}.ipynb")
    executions = []

    def fake_execute(notebook, target, params):
        executions.append(params)
        rec = ResultsRecord.start(params["output_dir"], notebook.stem,
                                  params={k: v for k, v in params.items() if k != "output_dir"})
        rec.finish()
        nbformat.write(new_notebook(cells=[new_code_cell("x")]), target)

    monkeypatch.setattr(runner, "_execute", fake_execute)
    return folder, tmp_path / "build", executions


def _run(course, messages=None, **kwargs):
    folder, out, _ = course
    report = messages.append if messages is not None else _quiet
    return run_course("smoke", notebook_dir=folder, output_dir=out, report=report, progress=False, **kwargs)


def _manifest(out):
    return json.loads((out / "runs.json").read_text())


def _rewrite_record(out, **changes):
    path = results_path(out, STEM)
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


# ----------------------------------------------------------------- an earlier run is trusted only when it verifies

def test_a_manifest_saying_ran_is_not_trusted_when_the_record_is_incomplete(course):
    _run(course)
    _rewrite_record(course[1], complete=False)
    messages = []
    assert [o.status for o in _run(course, messages)] == ["ran"]
    assert any("running it again" in m and "complete: false" in m for m in messages)


def test_a_record_made_with_another_profile_is_not_trusted(course):
    _run(course)
    _rewrite_record(course[1], params={"profile": "full", "x": 1})
    messages = []
    assert [o.status for o in _run(course, messages)] == ["ran"]
    assert any("profile='full', this run profile='smoke'" in m for m in messages)


def test_a_record_without_a_passed_parameter_is_not_trusted(course):
    _run(course, params={"x": 5})
    _rewrite_record(course[1], params={"profile": "smoke"})
    assert [o.status for o in _run(course, params={"x": 5})] == ["ran"]


def test_a_notebook_that_ends_without_completing_its_record_is_a_failure(course, monkeypatch):
    def stops_early(notebook, target, params):
        ResultsRecord.start(params["output_dir"], notebook.stem, params={"profile": params["profile"]})
        nbformat.write(new_notebook(), target)

    monkeypatch.setattr(runner, "_execute", stops_early)
    with pytest.raises(CourseRunError, match=f"{STEM}.ipynb ran to its end but .*complete: false"):
        _run(course)
    assert _manifest(course[1])[STEM]["status"] == "failed"


# ----------------------------------------------------------------- an interrupted run

def test_an_interrupted_run_leaves_its_notebook_marked_running_never_ran(course, monkeypatch):
    _run(course)

    def interrupted(notebook, target, params):
        ResultsRecord.start(params["output_dir"], notebook.stem, params={"profile": params["profile"]})
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_execute", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(course, force=True)
    entry = _manifest(course[1])[STEM]
    assert entry["status"] == "running"
    assert entry["pid"] == os.getpid() and entry["started"]


def test_the_notebook_is_marked_running_with_its_pid_while_it_executes(course, monkeypatch):
    out, execute, seen = course[1], runner._execute, []

    def watched(notebook, target, params):
        seen.append(_manifest(out)[STEM])
        execute(notebook, target, params)

    monkeypatch.setattr(runner, "_execute", watched)
    _run(course)
    assert seen[0]["status"] == "running" and seen[0]["pid"] == os.getpid()


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the runner's process group and the kernel it started (in a session of its own), then reap them."""
    kids = psutil.Process(proc.pid).children(recursive=True)
    os.killpg(proc.pid, signal.SIGKILL)
    for kid in kids:
        try:
            kid.kill()
        except psutil.NoSuchProcess:
            pass
    proc.wait(timeout=30)
    psutil.wait_procs(kids, timeout=30)


def _record_restarted(out, stem) -> bool:
    try:
        return load_results(out, stem)["complete"] is False
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return False


@pytest.mark.slow
@POSIX_ONLY
def test_a_runner_killed_during_a_forced_rerun_is_redone_by_the_next_run(tmp_path):
    stem, out = "02_preprocessing", tmp_path / "build"
    first = run_course("smoke", only=["02"], output_dir=out, report=_quiet, progress=False)
    assert [o.status for o in first] == ["ran"]
    command = [sys.executable, "-m", "fmnist_helpers", "run", "--profile", "smoke", "--only", "02",
               "--output-dir", str(out), "--force", "--no-progress"]
    proc = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not _record_restarted(out, stem) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        caught = _record_restarted(out, stem) and proc.poll() is None
    finally:
        if proc.poll() is None:
            _kill_group(proc)
    assert caught, "the forced run was not caught while notebook 02 executed"
    assert _manifest(out)[stem]["status"] == "running"

    messages = []
    (again,) = run_course("smoke", only=["02"], output_dir=out, report=messages.append, progress=False)
    assert again.status == "ran" and _manifest(out)[stem]["status"] == "ran"
    assert load_results(out, stem)["complete"] is True
    assert any("was interrupted" in m for m in messages)


# ----------------------------------------------------------------- one writer per output folder

@POSIX_ONLY
def test_a_second_runner_on_the_same_folder_is_refused_naming_the_holder(course):
    out = course[1]
    out.mkdir()
    with lock_output_dir(out):
        refusal = rf"{re.escape(str(out))} is in use by another course run \(PID {os.getpid()},"
        with pytest.raises(CourseRunError, match=refusal):
            _run(course)
    assert not (out / "runs.json").exists() and course[2] == []


@POSIX_ONLY
def test_the_lock_file_names_its_holder_while_held_and_is_free_after(course):
    out = course[1]
    out.mkdir()
    with lock_output_dir(out) as lock:
        assert lock.read_text().strip() == str(os.getpid())
    assert [o.status for o in _run(course)] == ["ran"]


def test_each_manifest_write_keeps_entries_written_since_the_run_started(course, monkeypatch):
    folder, out, _ = course
    execute = runner._execute

    def another_writer_meanwhile(notebook, target, params):
        entries = _manifest(out)
        entries["02_other"] = {"notebook": "02_other", "status": "ran", "wall_s": 1.0, "params": {}, "key": "k",
                               "output": "02_other.ipynb"}
        (out / "runs.json").write_text(json.dumps(entries))
        execute(notebook, target, params)

    monkeypatch.setattr(runner, "_execute", another_writer_meanwhile)
    _run(course)
    assert set(_manifest(out)) == {STEM, "02_other"}


# ----------------------------------------------------------------- the output folder

def test_an_output_dir_naming_a_file_is_refused_clearly(course):
    folder, out, _ = course
    out.write_text("not a folder")
    with pytest.raises(CourseRunError, match=rf"{re.escape(str(out))} is a file; --output-dir must be a folder"):
        _run(course)


def test_the_cli_reports_an_output_dir_naming_a_file_in_one_line(tmp_path, capsys):
    file = tmp_path / "results.txt"
    file.write_text("not a folder")
    assert main(["run", "--profile", "smoke", "--output-dir", str(file), "--no-progress"]) == 1
    assert capsys.readouterr().err == f"error: {file} is a file; --output-dir must be a folder\n"
