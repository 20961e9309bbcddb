"""Why a notebook did not finish, told as one paragraph: which notebook, which cell or what happened (an error in a
cell, the kernel's death and what killed it, the out-of-memory killer, a full disk, an interrupt), where the partly
executed notebook was kept, and what to do next.

The runner (`runner.py`) gives its kernels a `KernelWatch`, which keeps the kernel's process, so that after a death
the exit status says which signal killed it; `/proc/vmstat` counts the kills of the system's out-of-memory killer
(cgroup limits included), read before and after the notebook. `diagnose` turns the exception that ended the
execution, the partial notebook and those facts into a `Failure`, whose `paragraph()` the terminal shows instead of
a traceback.

Usage:
    watch, kills = KernelWatch(), oom_kill_count()
    ...                                              # execute the notebook with watch in its kernel manager
    failure = diagnose(err, "04_cnn.ipynb", Path("build/quick"), partial_nb, kept, watch.returncode,
                       oom_kills_since(kills))
    print(failure.paragraph())
"""
from __future__ import annotations

import errno
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

CELL = "cell error"
OUT_OF_MEMORY = "out of memory"
KERNEL_DIED = "kernel died"
DISK_FULL = "disk full"
INTERRUPTED = "interrupted"
OTHER = "other"
CAUSES = (CELL, OUT_OF_MEMORY, KERNEL_DIED, DISK_FULL, INTERRUPTED, OTHER)
"""What can stop a notebook, as `Failure.cause`."""

DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
MEMORY_ERRORS = ("MemoryError", "ResourceExhaustedError", "OutOfMemoryError")
"""Exception names raised in a cell that mean the kernel ran out of memory (Python, TensorFlow, PyTorch)."""
AGAIN = "the notebooks that completed are skipped and this one runs again from its first cell"


@dataclass
class Failure:
    """What stopped one notebook. `paragraph()` is what the terminal shows."""

    notebook: str  # the notebook's file name, e.g. "04_cnn.ipynb"
    cause: str  # one of CAUSES
    what: str  # what happened, as a sentence that follows the notebook's name
    kept: Path | None  # the partly executed notebook, when one could be kept
    advice: str  # what to do next
    cell: int | None = None  # the position (1-based, among code cells) of the cell that was running
    traceback: str = ""  # the last lines of the cell's traceback, for a cell error
    kept_note: str = ""  # why no partial notebook was kept, when none was

    def paragraph(self) -> str:
        """One paragraph (then the cell's traceback, for an error in a cell)."""
        if self.kept is not None:
            where = f"The notebook as far as it ran is kept as {self.kept}."
        else:
            where = f"No partly executed notebook was kept{f' ({self.kept_note})' if self.kept_note else ''}."
        text = f"{self.notebook} {self.what} {where} {self.advice}"
        return f"{text}\n{self.traceback}" if self.traceback else text


class KernelWatch:
    """The process of the kernel a notebook runs in, once started: its exit status after it ended, and a way to stop
    it (the runner stops a kernel that outlives a failed run before removing its socket folder)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None

    @property
    def returncode(self) -> int | None:
        """The kernel's exit status (negative: the signal that killed it), or None while it runs or if none started."""
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float = 10.0) -> None:
        """Kill the kernel if it still runs, and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass


def oom_kill_count() -> int | None:
    """How many processes the kernel's out-of-memory killer has killed since boot (Linux 4.13+), else None."""
    try:
        for line in Path("/proc/vmstat").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill":
                return int(value)
    except (OSError, ValueError):
        pass
    return None


def oom_kills_since(before: int | None) -> int | None:
    """Kills of the out-of-memory killer since the count `before` (None when it cannot be known)."""
    now = oom_kill_count()
    return None if before is None or now is None else now - before


def exit_description(returncode: int | None) -> str:
    """ "killed by signal SIGKILL", "exited with status 3", or "" when unknown."""
    if returncode is None:
        return ""
    if returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


def disk_full_error(err: BaseException) -> OSError | None:
    """The OSError "no space left" (or "disk quota exceeded") among `err`, its causes and contexts, else None."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno in DISK_FULL_ERRNOS:
            return err
        err = err.__cause__ or err.__context__
    return None


def one_line(err: BaseException) -> str:
    """`Type: first line of the message` (the type alone when there is no message)."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def free_space(folder: Path) -> str:
    """ "12 KiB free of 1.0 MiB" for the filesystem holding `folder` (its nearest existing parent), or ""."""
    place = Path(folder)
    while not place.exists() and place != place.parent:
        place = place.parent
    try:
        usage = shutil.disk_usage(place)
    except OSError:
        return ""
    return f"{_size(usage.free)} free of {_size(usage.total)}"


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}" if n < 10 else f"{n:.0f} {unit}"
        n /= 1024
    return f"{n} TiB"


# ----------------------------------------------------------------- the cell that was running

def _source_start(cell: Any) -> str:
    lines = [line.strip() for line in str(cell.get("source", "")).splitlines() if line.strip()]
    first = lines[0] if lines else ""
    return first if len(first) <= 60 else first[:57] + "..."


def stopped_cell(nb: Any) -> tuple[int, int, str] | None:
    """(position among the code cells, number of code cells, the cell's first line) of the last cell papermill
    started in the partly executed notebook `nb`, or None when none started."""
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    started = [i for i, c in enumerate(code) if (c.get("metadata", {}).get("papermill") or {}).get("start_time")]
    if not started:
        return None
    return started[-1] + 1, len(code), _source_start(code[started[-1]])


def cell_error(nb: Any) -> tuple[int, str, str] | None:
    """(position among the code cells, exception name, its message's first line) of the cell whose error stopped
    `nb`, from its error output, or None when no cell holds one."""
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    for i, cell in enumerate(code):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                value = str(output.get("evalue") or "").strip().splitlines()
                return i + 1, str(output.get("ename")), value[0] if value else ""
    return None


def note_in_cell(nb: Any, position: int, text: str) -> None:
    """Add `text` as a stderr output of code cell `position` (1-based) of `nb`, mark that cell failed and the cells
    after it pending (papermill marks every cell "completed" when a notebook ends, even those that never ran)."""
    from nbformat.v4 import new_output

    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    if 1 <= position <= len(code):
        cell = code[position - 1]
        cell.setdefault("outputs", []).append(new_output("stream", name="stderr", text=text + "\n"))
        cell.setdefault("metadata", {}).setdefault("papermill", {})["status"] = "failed"
        for later in code[position:]:
            later.setdefault("metadata", {}).setdefault("papermill", {})["status"] = "pending"


# ----------------------------------------------------------------- the diagnosis

def _where(stopped: tuple[int, int, str] | None) -> str:
    if stopped is None:
        return "before its first cell ran"
    position, total, first = stopped
    return f"while code cell {position} of {total} ran" + (f" (`{first}`)" if first else "")


def diagnose(err: BaseException, notebook: str, out: Path, partial: Any | None, kept: Path | None,
             kernel_exit: int | None = None, oom_kills: int | None = None, space: str | None = None) -> Failure:
    """The `Failure` behind `err`, the exception that ended the execution of `notebook` (a file name) in `out`.

    `partial` is the partly executed notebook (a dict-like nbformat node) when it could be read, `kept` where it was
    kept; `kernel_exit` the kernel's exit status when it ended (negative: the signal), `oom_kills` how many processes
    the out-of-memory killer killed meanwhile; `space` the free space when it stopped (default: now, `free_space`).
    """
    stopped = stopped_cell(partial) if partial is not None else None
    errored = cell_error(partial) if partial is not None else None
    cell = stopped[0] if stopped else None
    ename = getattr(err, "ename", None) or (errored[1] if errored else None)
    evalue = str(getattr(err, "evalue", None) or (errored[2] if errored else "") or "")
    evalue = evalue.strip().splitlines()[0] if evalue.strip() else ""
    number = getattr(err, "exec_count", None) or (errored[0] if errored else None)
    lines = _traceback(err)
    again = f"then run the same command again: {AGAIN}."
    space = free_space(out) if space is None else space

    if isinstance(err, KeyboardInterrupt):
        return Failure(notebook, INTERRUPTED, f"was interrupted (Ctrl-C) {_where(stopped)}.", kept,
                       f"To go on, run the same command again: {AGAIN}.", cell)
    if ename:  # an exception raised in a cell
        error = f"{ename}: {evalue}" if evalue else ename
        about = f"failed in cell {number} ({error})." if number else f"failed ({error})."
        if ename in MEMORY_ERRORS:
            return Failure(notebook, OUT_OF_MEMORY, f"{about} The kernel ran out of memory (or reached a limit set on "
                           "it, such as `ulimit -v`).", kept,
                           "Free memory (close other notebooks and programs) or run a smaller profile "
                           f"(--profile smoke), {again}", number, lines)
        if "[Errno 28]" in evalue or "No space left" in evalue or "[Errno 122]" in evalue:
            # the same paragraph whichever filled the disk first, the kernel's cell or the runner's save, and no
            # traceback: the cell's own code is not what is wrong
            where = f" while cell {number} wrote to it" if number else ""
            return Failure(notebook, DISK_FULL, f"stopped: the disk holding {out} is full"
                           f"{f' ({space})' if space else ''}{where} ({error}).", kept,
                           f"Free space there or choose another --output-dir, {again}", number)
        return Failure(notebook, CELL, about, kept, f"Fix what the error names, {again}", number, lines)
    full = disk_full_error(err)
    if full is not None:
        while_ = "" if partial is None and stopped is None else f" {_where(stopped)}"
        return Failure(notebook, DISK_FULL, f"stopped{while_}: the disk holding {out} is full "
                       f"({full.strerror or 'no space left on device'}{f'; {space}' if space else ''}), so the "
                       "runner could not save the executed notebook.", kept,
                       f"Free space there or choose another --output-dir, {again}", cell)
    died = type(err).__name__ == "DeadKernelError" or kernel_exit is not None
    if died:
        how = exit_description(kernel_exit)
        dead = f"its kernel was {how}" if how.startswith("killed") else f"its kernel {how or 'died'}"
        if oom_kills:
            return Failure(notebook, OUT_OF_MEMORY,
                           f"stopped: {dead} {_where(stopped)}, and meanwhile the system's out-of-memory killer "
                           f"killed {oom_kills} process{'es' if oom_kills > 1 else ''}: the kernel ran out of memory.",
                           kept, "Free memory (close other notebooks and programs), raise the memory limit of the "
                           f"machine or container, or run a smaller profile (--profile smoke), {again}", cell)
        return Failure(notebook, KERNEL_DIED, f"stopped: {dead} {_where(stopped)}.", kept,
                       "If nobody stopped it on purpose, the system may have, for lack of memory (`dmesg` would say "
                       f"so). Run the same command again: {AGAIN}.", cell)
    return Failure(notebook, OTHER, f"could not be executed: {one_line(err)}.", kept,
                   "Run the same command again; if it stops the same way, the message above names what to fix.",
                   cell)


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def plain_traceback(lines: Sequence[str], last: int = 25) -> str:
    """A kernel's traceback (a list of strings with terminal colours) as plain text: its last `last` lines."""
    text = "\n".join(_ANSI.sub("", line) for line in lines or ())
    kept = text.splitlines()[-last:]
    return "\n".join(kept)


def _traceback(err: BaseException, last: int = 15) -> str:
    """The last `last` lines of a cell's traceback (colours removed), or "" when `err` carries none."""
    lines = getattr(err, "traceback", None)
    if not lines or not isinstance(lines, (list, tuple)):
        return ""
    return plain_traceback(lines, last)
