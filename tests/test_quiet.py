"""The runner's terminal and the notebooks' outputs carry no harmless start-up lines, and every real error still
shows (`fmnist_helpers.course.quiet`)."""
import os
import subprocess
import sys
import time

import nbformat
import pytest
from conftest import write_course_notebook

from fmnist_helpers.course.cli import main
from fmnist_helpers.course.quiet import drop_noise, is_noise, quiet_kernel_output, quiet_native_stderr

# What TensorFlow 2.21 and ipykernel 7 print at start-up on a 2-core machine without a GPU (copied from a run).
START_UP_LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1795640790.558450    9112 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders. To turn "
    "them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.",
    "I0000 00:00:1795640790.558728    9112 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will "
    "not be used.",
    "E0000 00:00:1795640793.518049    9112 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed "
    "call to cuInit: UNKNOWN ERROR (303)",
    "I0000 00:00:1795640851.877997    9827 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use "
    "available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 FMA, in other operations, rebuild "
    "TensorFlow with the appropriate compiler flags.",
    "[IPKernelApp] WARNING | Kernel is running over TCP without encryption. All communication (including code and "
    "outputs) is sent in plain text and is susceptible to eavesdropping.",
]
REAL_LINES = [
    "E0000 00:00:1795640793.518049    9112 op_kernel.cc:1857] OP_REQUIRES failed at conv_ops.cc:12 : INVALID_ARGUMENT",
    "W0000 00:00:1795640793.518049    9112 loop_optimizer.cc:933] Skipping loop optimization for Merge node",
    "Traceback (most recent call last):",
    "ValueError: x must not be 13",
    "WARNING: something else entirely",
    "course (smoke):  43%|####3     | 3/7",
]


@pytest.mark.parametrize("line", START_UP_LINES)
def test_each_start_up_line_is_noise(line):
    assert is_noise(line) and is_noise(line + "\n")


@pytest.mark.parametrize("line", REAL_LINES)
def test_errors_warnings_and_progress_are_not_noise(line):
    assert not is_noise(line)


def test_dropping_noise_keeps_every_other_character_in_order():
    text = "".join(f"{a}\n{b}\n" for a, b in zip(START_UP_LINES, REAL_LINES)) + "no line end"
    assert drop_noise(text) == "".join(f"{b}\n" for b in REAL_LINES[:len(START_UP_LINES)]) + "no line end"


def _child_writes(lines):
    code = f"import os\nfor line in {lines!r}:\n    os.write(2, (line + '\\n').encode())\n"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_child_processs_start_up_lines_are_dropped_and_its_errors_kept(capfd):
    with quiet_native_stderr():
        _child_writes(START_UP_LINES[:4] + REAL_LINES[:1] + START_UP_LINES[4:] + REAL_LINES[1:2])
    assert capfd.readouterr().err.splitlines() == REAL_LINES[:2]


def test_fmnist_quiet_0_lets_everything_through(capfd, monkeypatch):
    monkeypatch.setenv("FMNIST_QUIET", "0")
    with quiet_native_stderr():
        _child_writes(START_UP_LINES[:2])
    assert capfd.readouterr().err.splitlines() == START_UP_LINES[:2]


def test_an_unfinished_progress_line_is_passed_on_before_its_line_ends(capfd):
    with quiet_native_stderr():
        os.write(2, b"\rcourse (smoke):  43%")
        deadline, seen = time.monotonic() + 10, ""
        while "43%" not in seen and time.monotonic() < deadline:
            time.sleep(0.05)
            seen += capfd.readouterr().err
        assert "43%" in seen  # shown while the run goes on, not only when the block ends


def test_stderr_is_restored_after_the_block(capfd):
    with quiet_native_stderr():
        pass
    _child_writes(START_UP_LINES[:1])
    assert capfd.readouterr().err.splitlines() == START_UP_LINES[:1]


def test_outside_a_kernel_the_notebook_filter_stays_off():
    before = os.fstat(2)
    assert quiet_kernel_output() is False and os.fstat(2) == before


@pytest.fixture
def failing_course(tmp_path):
    folder = tmp_path / "notebooks"
    write_course_notebook(folder, "01_fails", "profile = None\noutput_dir = None",
                          "import os\nimport fmnist_helpers\nimport tensorflow as tf\n"
                          "print(len(tf.config.list_physical_devices()) > 0)\n"
                          "os.write(2, b'E0000 00:00:1.0 1 op_kernel.cc:12] INVALID_ARGUMENT: a real error\\n')\n"
                          "import time; time.sleep(1)  # the kernel copies file descriptor 2 into the cell in a thread",
                          "def load():\n    raise ValueError('the file is not there')\nload()")
    return folder, tmp_path / "build"


@pytest.mark.slow
def test_a_failing_notebook_shows_its_traceback_in_the_terminal_without_start_up_lines(failing_course, capfd,
                                                                                     monkeypatch):
    folder, out = failing_course
    monkeypatch.delenv("FMNIST_QUIET", raising=False)
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # ipykernel copies fd 2 into the notebook only outside pytest
    monkeypatch.setattr("fmnist_helpers.course.runner.notebooks_dir", lambda: folder)
    assert main(["run", "--profile", "smoke", "--output-dir", str(out), "--no-progress"]) == 1
    terminal = capfd.readouterr()
    shown = terminal.out + terminal.err
    assert "error: 01_fails.ipynb failed in cell" in shown
    assert "raise ValueError('the file is not there')" in shown and "ValueError: the file is not there" in shown
    assert "INVALID_ARGUMENT: a real error" in shown
    assert [line for line in shown.splitlines() if is_noise(line)] == []
    failed = nbformat.read(out / "01_fails.failed.ipynb", as_version=4)
    streams = "".join(o.get("text", "") for c in failed.cells for o in c.get("outputs", []))
    assert "INVALID_ARGUMENT: a real error" in streams
    assert [line for line in streams.splitlines() if is_noise(line)] == []
