"""Real failures of a notebook's kernel meet one paragraph on the terminal, never a traceback: a kernel killed with
SIGKILL, a kernel killed by the out-of-memory killer under a cgroup memory limit, a full filesystem (a 1 MiB tmpfs
as the output folder) and Ctrl-C. Each runs a tiny generated notebook through the command line and checks what the
terminal shows, where the partial notebook was kept, and that runs.json and the index link only to files that exist.

The cgroup and tmpfs cases need root (they create a memory cgroup and mount a filesystem); where that is refused
they are skipped, saying why. The CI machine runs as root and runs them.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import nbformat
import psutil
import pytest
from conftest import write_course_notebook

from fmnist_helpers.course import runner
from fmnist_helpers.course.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="signals and mounts are POSIX only")]

PARAMETERS = "profile = None\noutput_dir = None\nmemory_cgroup = None"
START = ("import os\nfrom fmnist_helpers.base.results import ResultsRecord\n"
         "rec = ResultsRecord.start(output_dir, NAME, params={'profile': profile})\n"
         "open(os.path.join(output_dir, 'kernel.pid'), 'w').write(str(os.getpid()))")


@pytest.fixture(autouse=True)
def no_hardware_probe(monkeypatch):
    """The index asks for this machine's hardware (a TensorFlow import) when no record names it; not here."""
    monkeypatch.setattr("fmnist_helpers.course.report.detect_hardware", lambda: ({"gpus": []}, "float32"))


def _course(folder: Path, name: str, *cells: str) -> Path:
    write_course_notebook(folder, name, PARAMETERS, START.replace("NAME", repr(name)), *cells, "rec.finish()")
    return folder


def _run_cli(folder: Path, out: Path, monkeypatch, capfd, *args: str) -> tuple[int, str]:
    """The command line on the notebooks in `folder` -> (exit code, everything on the terminal)."""
    monkeypatch.setattr(runner, "notebooks_dir", lambda: folder)
    code = main(["run", "--profile", "smoke", "--output-dir", str(out), "--no-progress", *args])
    seen = capfd.readouterr()
    return code, seen.out + seen.err


def _links_only_to_files_that_exist(out: Path) -> None:
    entries = json.loads((out / "runs.json").read_text())
    for entry in entries.values():
        for name in (entry["output"], entry["html"]):
            assert name is None or (out / name).is_file(), f"runs.json names {name}, which does not exist"
    if (out / "index.html").is_file():
        for href in re.findall(r'href="([^"]+)"', (out / "index.html").read_text()):
            assert (out / href).is_file(), f"index.html links {href}, which does not exist"


def _kernel_gone(out: Path) -> bool:
    pid = int((out / "kernel.pid").read_text())
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_kernel_killed_with_sigkill_is_one_paragraph_and_keeps_the_partial_notebook(tmp_path, monkeypatch, capfd):
    folder = _course(tmp_path / "nb", "01_killed", "print('about to die')",
                     "import signal\nos.kill(os.getpid(), signal.SIGKILL)")
    out = tmp_path / "out"
    code, terminal = _run_cli(folder, out, monkeypatch, capfd)
    assert code == 1 and "Traceback" not in terminal
    kept = out / "01_killed.failed.ipynb"
    assert (f"error: 01_killed.ipynb stopped: its kernel was killed by signal SIGKILL while code cell 5 of 6 ran "
            f"(`import signal`). The notebook as far as it ran is kept as {kept}.") in terminal
    assert "Run the same command again: the notebooks that completed are skipped" in terminal
    stopped = nbformat.read(kept, as_version=4).cells[4]  # every cell is a code cell: the fifth one
    assert "killed by signal SIGKILL" in stopped.outputs[-1]["text"]
    assert json.loads((out / "runs.json").read_text())["01_killed"]["output"] == kept.name
    _links_only_to_files_that_exist(out)


# ----------------------------------------------------------------- a kernel killed for memory

def _own_memory_cgroup() -> Path | None:
    """This process's memory cgroup folder (cgroup v1, or v2 with the memory controller), or None."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return Path("/sys/fs/cgroup/memory") / path.lstrip("/")
        if controllers == "" and Path("/sys/fs/cgroup/cgroup.controllers").is_file():
            return Path("/sys/fs/cgroup") / path.lstrip("/")
    return None


@contextmanager
def memory_cgroup(limit: int):
    """A fresh memory cgroup holding at most `limit` bytes, removed afterwards; skips where none can be made."""
    parent = _own_memory_cgroup()
    if parent is None or os.geteuid() != 0:
        pytest.skip("needs root and a memory cgroup to limit a kernel's memory")
    group = parent / f"fmnist-test-{os.getpid()}"
    try:
        group.mkdir()
        v1 = (group / "memory.limit_in_bytes").exists()
        (group / ("memory.limit_in_bytes" if v1 else "memory.max")).write_text(str(limit))
        swap = group / ("memory.memsw.limit_in_bytes" if v1 else "memory.swap.max")
        if swap.exists():
            swap.write_text(str(limit) if v1 else "0")
    except OSError as err:
        if group.exists():
            group.rmdir()
        pytest.skip(f"cannot make a memory cgroup under {parent}: {err.strerror}")
    try:
        yield group
    finally:
        for _ in range(50):  # the killed kernel leaves its cgroup a moment after it dies
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.1)


def test_a_kernel_killed_by_the_out_of_memory_killer_is_named_out_of_memory(tmp_path, monkeypatch, capfd):
    if "oom_kill " not in Path("/proc/vmstat").read_text():
        pytest.skip("this kernel does not count out-of-memory kills in /proc/vmstat (Linux 4.13+)")
    folder = _course(tmp_path / "nb", "01_greedy",
                     "open(os.path.join(memory_cgroup, 'cgroup.procs'), 'w').write(str(os.getpid()))",
                     "block = bytearray(400_000_000)\nblock[::4096] = b'x' * len(block[::4096])")
    out = tmp_path / "out"
    with memory_cgroup(100_000_000) as group:
        code, terminal = _run_cli(folder, out, monkeypatch, capfd, "-p", f"memory_cgroup={str(group)!r}")
    assert code == 1 and "Traceback" not in terminal
    assert ("error: 01_greedy.ipynb stopped: its kernel was killed by signal SIGKILL while code cell 5 of 6 ran "
            "(`block = bytearray(400_000_000)`), and meanwhile the system's out-of-memory killer killed") in terminal
    assert "the kernel ran out of memory" in terminal and "Free memory" in terminal
    assert (out / "01_greedy.failed.ipynb").is_file()
    _links_only_to_files_that_exist(out)


# ----------------------------------------------------------------- a full disk

@contextmanager
def tiny_filesystem(path: Path, size: str = "1m"):
    """A tmpfs of `size` mounted at `path`, unmounted afterwards; skips where mounting is refused."""
    path.mkdir()
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a 1 MiB tmpfs")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs was refused: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def test_a_full_disk_is_one_paragraph_even_when_recording_the_failure_fails_too(tmp_path, monkeypatch, capfd):
    folder = _course(tmp_path / "nb", "01_fills",
                     "with open(os.path.join(output_dir, 'big.bin'), 'wb') as fh:\n    fh.write(b'x' * 3_000_000)")
    with tiny_filesystem(tmp_path / "out") as out:
        code, terminal = _run_cli(folder, out, monkeypatch, capfd)
        assert code == 1 and "Traceback" not in terminal
        (paragraph,) = [line for line in terminal.splitlines() if line.startswith("error: ")]
        assert paragraph.startswith(f"error: 01_fills.ipynb stopped: the disk holding {out} is full")
        assert "Free space there or choose another --output-dir, then run the same command again" in paragraph
        _links_only_to_files_that_exist(out)


# ----------------------------------------------------------------- Ctrl-C

CLI = """
import signal, sys
from pathlib import Path
signal.signal(signal.SIGINT, signal.default_int_handler)  # what a terminal gives (a background job ignores it)
from fmnist_helpers.course import report, runner
report.detect_hardware = lambda: ({"gpus": []}, "float32")  # no TensorFlow import for the index's hardware line
runner.notebooks_dir = lambda: Path(sys.argv[1])
from fmnist_helpers.course.cli import main
sys.exit(main(["run", "--profile", "smoke", "--output-dir", sys.argv[2], "--no-progress"]))
"""


def test_ctrl_c_during_a_notebook_is_one_paragraph_keeps_the_partial_and_stops_the_kernel(tmp_path):
    folder = _course(tmp_path / "nb", "01_sleeps",
                     "import time\nopen(os.path.join(output_dir, 'asleep'), 'w').close()\ntime.sleep(120)")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", CLI, str(folder), str(out)], start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (out / "asleep").exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (out / "asleep").exists(), "the notebook never reached its sleeping cell"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the runner's whole process group
        terminal, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    kept = out / "01_sleeps.failed.ipynb"
    assert proc.returncode == 130 and "Traceback" not in terminal
    assert (f"interrupted: 01_sleeps.ipynb was interrupted (Ctrl-C) while code cell 4 of 5 ran (`import time`). "
            f"The notebook as far as it ran is kept as {kept}. To go on, run the same command again") in terminal
    assert json.loads((out / "runs.json").read_text())["01_sleeps"]["status"] == "interrupted"
    assert _kernel_gone(out)
    _links_only_to_files_that_exist(out)
