"""The course runner trusts an earlier run only when its results and saved models verify, loses no history
(a damaged runs.json is kept, `--only` keeps the other entries), says every failure in one paragraph even when
recording it fails too, keeps one writer per output folder and refuses an output folder that is a file.

Most tests use a one-cell course whose execution is faked (no kernel); one kills a real runner process while it
executes notebook 02 in the smoke profile. Failures of real kernels (killed, out of memory, full disk, Ctrl-C) are in
test_kernel_faults.py.
"""
import errno
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

from fmnist_helpers.base.results import ResultsRecord, load_results, results_path
from fmnist_helpers.course import runner
from fmnist_helpers.course.cli import main
from fmnist_helpers.course.runner import CourseRunError, lock_output_dir, run_course
from fmnist_helpers.training import store

STEM = "01_tiny"
POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="process groups and folder locks are POSIX only")


def _quiet(_msg):
    pass


@pytest.fixture(autouse=True)
def no_hardware_probe(monkeypatch):
    """The index asks for this machine's hardware (a TensorFlow import) when no record names it; not here."""
    monkeypatch.setattr("fmnist_helpers.course.report.detect_hardware", lambda: ({"gpus": []}, "float32"))


def _add_notebook(folder, stem):
    """Write a notebook with only a parameters cell (its execution is faked)."""
    cell = new_code_cell("profile = None\noutput_dir = None\nx = 1")
    cell.metadata["tags"] = ["parameters"]
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nbformat.write(new_notebook(cells=[cell], metadata=kernel), folder / f"{stem}.ipynb")


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A one-notebook course whose execution writes the executed notebook and a complete results record."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _add_notebook(folder, STEM)
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

def test_an_interrupted_run_leaves_its_notebook_marked_interrupted_never_ran(course, monkeypatch):
    _run(course)

    def interrupted(notebook, target, params):
        ResultsRecord.start(params["output_dir"], notebook.stem, params={"profile": params["profile"]})
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_execute", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(course, force=True)
    entry = _manifest(course[1])[STEM]
    assert entry["status"] == "interrupted"
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
    stem, out = "00_primer", tmp_path / "build"  # the shortest lesson: the kill, not the lesson, is tested
    first = run_course("smoke", only=["00"], output_dir=out, report=_quiet, progress=False)
    assert [o.status for o in first] == ["ran"]
    command = [sys.executable, "-m", "fmnist_helpers", "run", "--profile", "smoke", "--only", "00",
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
    assert caught, "the forced run was not caught while notebook 00 executed"
    assert _manifest(out)[stem]["status"] == "running"

    messages = []
    (again,) = run_course("smoke", only=["00"], output_dir=out, report=messages.append, progress=False)
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


# ----------------------------------------------------------------- an earlier run is trusted only when it verifies

class _Model:
    """Stands in for a Keras model: `save` writes some bytes."""

    def save(self, path):
        with open(path, "wb") as fh:
            fh.write(b"weights" * 100)


def _saves_a_model(notebook, target, params):
    """A faked execution that saves the model `tiny_model` through the store and lists it in its record."""
    import numpy as np

    rec = ResultsRecord.start(params["output_dir"], notebook.stem,
                              params={k: v for k, v in params.items() if k != "output_dir"})
    store.save_run(store.model_paths(params["output_dir"], "tiny_model"), _Model(), np.full((4, 10), 0.1),
                   {"name": "tiny_model"})
    rec.record(models={"tiny_model": {"test_accuracy": 0.5}})
    rec.finish()
    nbformat.write(new_notebook(cells=[new_code_cell("x")]), target)


def test_runs_json_takes_the_checksums_of_the_results_record_and_of_each_saved_model(course, monkeypatch):
    monkeypatch.setattr(runner, "_execute", _saves_a_model)
    _run(course)
    out = course[1]
    entry = _manifest(out)[STEM]
    assert entry["results_sha256"] == runner.file_sha256(results_path(out, STEM))
    assert entry["models"]["tiny_model"]["record_sha256"] == runner.file_sha256(out / "models" / "tiny_model.json")


def test_a_notebook_whose_saved_models_were_deleted_runs_again_saying_so(course, monkeypatch):
    monkeypatch.setattr(runner, "_execute", _saves_a_model)
    _run(course)
    for path in (course[1] / "models").iterdir():
        path.unlink()
    messages = []
    assert [o.status for o in _run(course, messages)] == ["ran"]
    assert any("running it again: its saved model tiny_model is gone" in m for m in messages)


def test_a_notebook_whose_saved_model_file_changed_runs_again_saying_so(course, monkeypatch):
    monkeypatch.setattr(runner, "_execute", _saves_a_model)
    _run(course)
    with open(course[1] / "models" / "tiny_model.keras", "ab") as fh:
        fh.write(b"!")
    messages = []
    assert [o.status for o in _run(course, messages)] == ["ran"]
    assert any("its saved model tiny_model does not verify" in m and "tiny_model.keras" in m for m in messages)


def test_a_notebook_whose_saved_model_was_replaced_runs_again_saying_so(course, monkeypatch):
    monkeypatch.setattr(runner, "_execute", _saves_a_model)
    import numpy as np

    _run(course)
    store.save_run(store.model_paths(course[1], "tiny_model"), _Model(), np.full((4, 10), 0.2),
                   {"name": "tiny_model"})  # retrained by someone else: intact, but not the model the notebook showed
    messages = []
    assert [o.status for o in _run(course, messages)] == ["ran"]
    assert any("its saved model tiny_model changed since it ran" in m for m in messages)


def test_a_results_record_edited_after_the_run_is_not_trusted(course):
    _run(course)
    _rewrite_record(course[1], note="edited by hand")
    messages = []
    assert [o.status for o in _run(course, messages)] == ["ran"]
    assert any("changed since it ran" in m and STEM in m for m in messages)


def test_an_entry_without_checksums_from_an_older_runner_runs_again_saying_so(course):
    _run(course)
    entries = _manifest(course[1])
    del entries[STEM]["results_sha256"]
    (course[1] / "runs.json").write_text(json.dumps(entries))
    messages = []
    assert [o.status for o in _run(course, messages)] == ["ran"]
    assert any("holds no checksum of its results record" in m for m in messages)


def test_a_notebook_whose_results_and_models_verify_is_skipped_saying_so(course, monkeypatch):
    monkeypatch.setattr(runner, "_execute", _saves_a_model)
    _run(course)
    messages = []
    assert [o.status for o in _run(course, messages)] == ["skipped"]
    assert any("its results and saved models verify; skipped" in m for m in messages)
    assert _manifest(course[1])[STEM]["models"]  # a skip keeps the checksums for the next run to verify


# ----------------------------------------------------------------- nothing silently lost

def test_a_damaged_manifest_is_kept_beside_the_new_one(course):
    out = course[1]
    _run(course)
    damaged = (out / "runs.json").read_bytes()[:-40]  # cut short, as by a full disk
    (out / "runs.json").write_bytes(damaged)
    messages = []
    _run(course, messages)
    (kept,) = out.glob("runs.json.damaged-*")
    assert kept.read_bytes() == damaged
    assert any("is not valid JSON" in m and f"kept as {kept.name}" in m for m in messages)
    assert _manifest(out)[STEM]["status"] in ("ran", "skipped")


def test_the_readable_entries_of_a_cut_short_manifest_are_carried_over(course):
    folder, out, _ = course
    _add_notebook(folder, "02_other")
    _run(course)
    text = (out / "runs.json").read_text()
    (out / "runs.json").write_text(text[:text.index('"02_other"') + 30])  # 02's entry cut in the middle
    messages = []
    assert [o.status for o in _run(course, messages)] == ["skipped", "ran"]
    assert any(f"1 entry recovered from it ({STEM})" in m for m in messages)


def test_with_only_the_entries_of_notebooks_not_run_are_kept_even_beside_a_damaged_one(course):
    folder, out, _ = course
    _add_notebook(folder, "02_other")
    _run(course)
    entries = _manifest(out)
    entries["03_gone"] = "not an entry"
    (out / "runs.json").write_text(json.dumps(entries, indent=2))
    _run(course, only=["02"])
    assert set(_manifest(out)) == {STEM, "02_other"}
    assert 'href="01_tiny.html"' in (out / "index.html").read_text()


def test_two_damaged_manifests_in_one_second_are_both_kept(course):
    out = course[1]
    out.mkdir()
    for text in ("{", "["):
        (out / "runs.json").write_text(text)
        _run(course)
    assert sorted(p.read_text() for p in out.glob("runs.json.damaged-*")) == ["[", "{"]


# ----------------------------------------------------------------- every failure is one paragraph

def _disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failure_while_recording_a_failure_is_added_to_its_paragraph_never_in_its_place(course, monkeypatch):
    def cell_fails(notebook, target, params):
        raise CourseRunError(f"{notebook.name} failed in cell 3 (ValueError: bad)")

    monkeypatch.setattr(runner, "_execute", cell_fails)
    monkeypatch.setattr(runner, "write_index", _disk_full)
    with pytest.raises(CourseRunError) as err:
        _run(course)
    first, also = str(err.value).split("\n")
    assert first == f"{STEM}.ipynb failed in cell 3 (ValueError: bad)"
    assert also == "Also, while recording this: the index could not be rewritten (OSError: [Errno 28] No space " \
                   "left on device)."


def test_runs_json_that_cannot_record_the_failure_is_named_after_the_failure(course, monkeypatch):
    def disk_fills_during_the_notebook(notebook, target, params):
        monkeypatch.setattr(runner, "write_json_atomic", _disk_full)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runner, "_execute", disk_fills_during_the_notebook)
    with pytest.raises(CourseRunError) as err:
        _run(course)
    text = str(err.value)
    assert text.startswith(f"{STEM}.ipynb stopped: the disk holding {course[1]} is full")
    assert f'runs.json could not be updated (OSError: [Errno 28] No space left on device), so it still marks ' \
           f'{STEM} "running"' in text
    assert _manifest(course[1])[STEM]["status"] == "running"


def test_a_failed_notebook_with_no_copy_kept_is_linked_nowhere(course, monkeypatch):
    out = course[1]
    _run(course)  # an earlier run's executed notebook stays, but the failed entry must not point at it
    monkeypatch.setattr(runner, "_execute", _disk_full)
    with pytest.raises(CourseRunError):
        _run(course, force=True)
    entry = _manifest(out)[STEM]
    assert entry["status"] == "failed" and entry["output"] is None and entry["html"] is None
    index = (out / "index.html").read_text()
    assert f'href="{STEM}.ipynb"' not in index and "no file kept" not in index  # the results record is still linked
    assert all((out / href).is_file() for href in re.findall(r'href="([^"]+)"', index))


def test_the_index_links_only_to_files_that_exist(course):
    out = course[1]
    _run(course)
    (out / f"{STEM}.html").unlink()
    runner.write_index(out, "smoke", runner._index_outcomes(out, _manifest(out)))
    hrefs = re.findall(r'href="([^"]+)"', (out / "index.html").read_text())
    assert f"{STEM}.ipynb" in hrefs and f"{STEM}.html" not in hrefs


def test_a_disk_full_before_the_notebook_starts_is_one_paragraph(course, monkeypatch):
    monkeypatch.setattr(runner, "write_json_atomic", _disk_full)
    with pytest.raises(CourseRunError, match=rf"^{STEM}\.ipynb was not started, but runs\.json in .* could not be "
                                             rf"written: the disk holding .* is full .*Free space there or choose "
                                             rf"another --output-dir, then run the same command again\.$"):
        _run(course)
    assert course[2] == []


def test_an_index_that_cannot_be_written_after_a_notebook_ran_is_one_paragraph(course, monkeypatch):
    monkeypatch.setattr(runner, "write_index", _disk_full)
    with pytest.raises(CourseRunError, match=rf"^{STEM}\.ipynb ran, and its executed notebook and results are in "
                                             rf"place, but the index in .* could not be written: the disk holding"):
        _run(course)
    assert _manifest(course[1])[STEM]["status"] == "ran"


def test_the_cli_shows_an_interrupt_as_one_paragraph_and_exits_130(course, monkeypatch, capsys):
    def interrupted(notebook, target, params):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_execute", interrupted)
    monkeypatch.setattr(runner, "notebooks_dir", lambda: course[0])
    assert main(["run", "--profile", "smoke", "--output-dir", str(course[1]), "--no-progress"]) == 130
    err = capsys.readouterr().err
    assert err.startswith(f"interrupted: {STEM}.ipynb was interrupted (Ctrl-C)") and "To go on, run the same" in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_a_library_caller_gets_the_failure_with_its_cause(course, monkeypatch):
    def disk_full_during_the_notebook(notebook, target, params):
        from fmnist_helpers.course.failures import diagnose

        err = OSError(errno.ENOSPC, "No space left on device")
        raise runner.NotebookFailed(diagnose(err, notebook.name, target.parent, None, None, space=""))

    monkeypatch.setattr(runner, "_execute", disk_full_during_the_notebook)
    monkeypatch.setattr(runner, "write_index", _disk_full)
    with pytest.raises(runner.NotebookFailed) as err:
        _run(course)
    assert err.value.failure.cause == "disk full" and err.value.notes == [
        "the index could not be rewritten (OSError: [Errno 28] No space left on device)"]
