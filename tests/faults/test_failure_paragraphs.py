"""What stopped a notebook, told as one paragraph (`course/failures.py`): each cause is recognised from the real
exception types papermill and nbclient raise, the partial notebook says which cell was running, and the advice fits
the cause. No kernel starts here; test_kernel_faults.py makes the same failures happen for real."""
import errno
import signal

import nbformat
import pytest
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook
from papermill.exceptions import PapermillExecutionError

from fmnist_helpers.course import failures
from fmnist_helpers.course.failures import diagnose


def _partial(started: int, total: int = 4):
    """A partly executed notebook in which papermill started the first `started` of `total` code cells."""
    cells = [new_code_cell(f"step_{i}()\nmore()") for i in range(1, total + 1)]
    for cell in cells[:started]:
        cell.metadata["papermill"] = {"start_time": "2026-01-01T00:00:00", "status": "completed"}
    for cell in cells[started:]:
        cell.metadata["papermill"] = {"status": "completed"}  # papermill marks even unrun cells so at the end
    return new_notebook(cells=cells)


def _cell_error(ename, evalue):
    return PapermillExecutionError(2, 3, "x = f()", ename, evalue, ["\x1b[31mTraceback\x1b[0m", f"{ename}: {evalue}"])


def test_a_killed_kernel_names_the_signal_and_the_cell_that_was_running(tmp_path):
    kept = tmp_path / "04_cnn.failed.ipynb"
    failure = diagnose(DeadKernelError("Kernel died"), "04_cnn.ipynb", tmp_path, _partial(3), kept,
                       kernel_exit=-signal.SIGKILL, oom_kills=0)
    assert failure.cause == failures.KERNEL_DIED and failure.cell == 3
    assert failure.paragraph().startswith("04_cnn.ipynb stopped: its kernel was killed by signal SIGKILL while code "
                                          f"cell 3 of 4 ran (`step_3()`). The notebook as far as it ran is kept as "
                                          f"{kept}.")


def test_a_kernel_killed_while_the_out_of_memory_killer_worked_is_out_of_memory(tmp_path):
    failure = diagnose(DeadKernelError("Kernel died"), "04_cnn.ipynb", tmp_path, _partial(2), None,
                       kernel_exit=-signal.SIGKILL, oom_kills=1)
    assert failure.cause == failures.OUT_OF_MEMORY
    assert "the system's out-of-memory killer killed 1 process: the kernel ran out of memory" in failure.paragraph()
    assert "run a smaller profile" in failure.advice


@pytest.mark.parametrize("ename", ["MemoryError", "ResourceExhaustedError"])
def test_a_memory_error_in_a_cell_is_out_of_memory(tmp_path, ename):
    failure = diagnose(_cell_error(ename, ""), "03_mlp.ipynb", tmp_path, None, None)
    assert failure.cause == failures.OUT_OF_MEMORY
    assert failure.paragraph().startswith(f"03_mlp.ipynb failed in cell 3 ({ename}). The kernel ran out of memory")


def test_a_full_disk_met_in_a_cell_says_so_with_the_free_space(tmp_path):
    failure = diagnose(_cell_error("OSError", "[Errno 28] No space left on device"), "01_x.ipynb", tmp_path,
                       None, None, space="4.0 KiB free of 1.0 MiB")
    assert failure.cause == failures.DISK_FULL
    assert failure.paragraph().startswith(f"01_x.ipynb stopped: the disk holding {tmp_path} is full (4.0 KiB free "
                                          f"of 1.0 MiB) while cell 3 wrote to it (OSError: [Errno 28]")
    assert "choose another --output-dir" in failure.advice and "Traceback" not in failure.paragraph()


def test_a_full_disk_nested_under_other_errors_is_found(tmp_path):
    err = RuntimeError("while saving")
    err.__context__ = OSError(errno.ENOSPC, "No space left on device")  # what `raise` inside `except` leaves
    failure = diagnose(err, "01_x.ipynb", tmp_path, None, None, space="")
    assert failure.cause == failures.DISK_FULL and "so the runner could not save the executed notebook" in failure.what


def test_an_interrupt_names_the_cell_it_stopped(tmp_path):
    failure = diagnose(KeyboardInterrupt(), "02_x.ipynb", tmp_path, _partial(1), tmp_path / "02_x.failed.ipynb")
    assert failure.cause == failures.INTERRUPTED
    assert failure.what == "was interrupted (Ctrl-C) while code cell 1 of 4 ran (`step_1()`)."


def test_a_cell_error_keeps_the_last_lines_of_its_traceback_without_colours(tmp_path):
    failure = diagnose(_cell_error("ValueError", "bad value\nsecond line"), "05_x.ipynb", tmp_path, None, None)
    first, *rest = failure.paragraph().split("\n")
    assert first.startswith("05_x.ipynb failed in cell 3 (ValueError: bad value). No partly executed notebook")
    assert rest == ["Traceback", "ValueError: bad value", "second line"]


def test_when_no_copy_could_be_kept_the_paragraph_says_why(tmp_path):
    failure = diagnose(DeadKernelError("Kernel died"), "04_cnn.ipynb", tmp_path, None, None, kernel_exit=-9)
    failure.kept_note = "the copy being written was cut short, so it was removed"
    assert "No partly executed notebook was kept (the copy being written was cut short, so it was removed)." \
        in failure.paragraph()


def test_another_error_is_one_line_of_its_type_and_message(tmp_path):
    failure = diagnose(RuntimeError("Kernel didn't respond in 60 seconds\ndetails"), "06_x.ipynb", tmp_path,
                       None, None)
    assert failure.cause == failures.OTHER
    assert failure.what == "could not be executed: RuntimeError: Kernel didn't respond in 60 seconds."


@pytest.mark.parametrize("code, words", [(-9, "killed by signal SIGKILL"), (-6, "killed by signal SIGABRT"),
                                         (3, "exited with status 3"), (None, "")])
def test_exit_description(code, words):
    assert failures.exit_description(code) == words


def test_the_note_in_the_kept_notebook_marks_the_stopped_cell_failed_and_the_rest_pending():
    nb = _partial(2)
    failures.note_in_cell(nb, 2, "The course runner: stopped here")
    statuses = [c.metadata["papermill"]["status"] for c in nb.cells]
    assert statuses == ["completed", "failed", "pending", "pending"]
    assert nb.cells[1].outputs[-1]["text"] == "The course runner: stopped here\n"
    nbformat.validate(nb)


def test_the_out_of_memory_count_is_read_from_proc_vmstat_where_linux_has_it():
    count = failures.oom_kill_count()
    assert count is None or (isinstance(count, int) and count >= 0)
    assert failures.oom_kills_since(None) is None
