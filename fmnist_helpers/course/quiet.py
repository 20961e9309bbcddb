"""Keep start-up chatter out of the terminal and the notebooks, so that what a student sees in red is a real error.

On a machine without a GPU, TensorFlow prints a handful of lines when it starts ("oneDNN custom operations are
on", "Could not find cuda drivers", "failed call to cuInit: ... CUDA error", "This TensorFlow binary is optimized
to use ...") and Jupyter's kernel warns that it is "running over TCP without encryption" (it listens on this
machine only). None of them needs action, yet they read as failures. They come from C++ code writing straight to
file descriptor 2, so no Python logging setting reaches them; this module filters that stream instead:

- `quiet_native_stderr()`: the course runner's terminal, including everything its kernels print there;
- `quiet_kernel_output()`: a notebook's own outputs (ipykernel copies file descriptor 2 into the cell's output),
  switched on when `fmnist_helpers` is imported in a Jupyter kernel;
- `$FMNIST_QUIET=0` turns both off. Only the lines `is_noise` recognises are dropped: every other line, tracebacks
  and TensorFlow's real errors included, goes through unchanged.

Usage:
    from fmnist_helpers.course.quiet import is_noise, quiet_native_stderr
    is_noise("E0000 00:00:1.2 123 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error")  # True
    with quiet_native_stderr():
        ...  # anything run here, subprocesses included, writes to stderr without the noise
"""
from __future__ import annotations

import os
import re
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from fmnist_helpers.base import settings

_LOG_LINE = re.compile(r"^[IWE]\d{4} [\d:.]+\s+\d+ (?P<source>[\w./-]+:\d+)\] (?P<message>.*)$")
"""A line of TensorFlow's C++ log: severity and date, time, thread, file:line, message."""

HARMLESS_LOG_MESSAGES = (
    re.compile(r"^oneDNN custom operations are on\b"),
    re.compile(r"^Could not find cuda drivers on your machine, GPU will not be used"),
    re.compile(r"^failed call to cuInit: .*(CUDA error|UNKNOWN ERROR)"),
    re.compile(r"^This TensorFlow binary is optimized to use available CPU instructions"),
    re.compile(r"^Unable to register cu(DNN|FFT|BLAS) factory"),
    re.compile(r"^computation placer already registered"),
    re.compile(r"^TF-TRT Warning: Could not find TensorRT"),
)
"""The messages of TensorFlow's start-up lines that a CPU-only machine prints every time and that need no action."""

HARMLESS_LINES = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"),
    re.compile(r"^To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.$"),
    re.compile(r"^\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption\."),
)
"""Whole lines of the same kind that are not in TensorFlow's log format."""

_PREFIXES = ("I0", "W0", "E0", "WARNING: All log", "To enable the following", "[IPKernelApp] WARNING")


def is_noise(line: str) -> bool:
    """True for one of the known harmless start-up lines (with or without its line end), else False."""
    line = line.rstrip("\r\n")
    match = _LOG_LINE.match(line)
    if match:
        return any(p.search(match["message"]) for p in HARMLESS_LOG_MESSAGES)
    return any(p.search(line) for p in HARMLESS_LINES)


def drop_noise(text: str) -> str:
    """`text` without its noise lines; every other character is kept, in order."""
    return "".join(line for line in text.splitlines(keepends=True) if not is_noise(line))


def enabled() -> bool:
    """Whether filtering is on: `$FMNIST_QUIET` is unset, empty or anything but "0"."""
    return os.environ.get(settings.QUIET.name, "").strip() != "0"


class _LineFilter:
    """Passes bytes on as they arrive, holding back only an unfinished line that may turn out to be noise."""

    def __init__(self, out_fd: int):
        self.out_fd, self.pending = out_fd, b""

    def feed(self, data: bytes) -> None:
        lines = (self.pending + data).splitlines(keepends=True)
        self.pending = b""
        if lines and not lines[-1].endswith((b"\n", b"\r")):
            last = lines[-1].decode(errors="replace")
            if any(last.startswith(p) or p.startswith(last) for p in _PREFIXES):
                self.pending = lines.pop()  # wait for the rest of this line before judging it
        kept = b"".join(line for line in lines if not is_noise(line.decode(errors="replace")))
        if kept:
            os.write(self.out_fd, kept)

    def close(self) -> None:
        if self.pending and not is_noise(self.pending.decode(errors="replace")):
            os.write(self.out_fd, self.pending)
        self.pending = b""


def _pump(read_fd: int, line_filter: _LineFilter) -> None:
    while data := os.read(read_fd, 65536):
        line_filter.feed(data)
    line_filter.close()


def _filter_fd(fd: int) -> Callable[[], None]:
    """Put a filter thread between file descriptor `fd` and where it pointed; returns the function that undoes it."""
    saved = os.dup(fd)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, fd)
    os.close(write_fd)
    pump = threading.Thread(target=_pump, args=(read_fd, _LineFilter(saved)), name="quiet-stderr", daemon=True)
    pump.start()

    def undo() -> None:
        os.dup2(saved, fd)  # the pipe's last writer in this process is gone: the pump sees its end
        pump.join(timeout=5)  # a process started meanwhile and still running keeps the pipe open
        if not pump.is_alive():
            os.close(read_fd)
        os.close(saved)

    return undo


@contextmanager
def quiet_native_stderr(fd: int = 2) -> Iterator[None]:
    """Route file descriptor `fd` (stderr) through a filter that drops `is_noise` lines, for this process and every
    process it starts, until the block ends; then restore it. Does nothing when `$FMNIST_QUIET=0`."""
    if not enabled():
        yield
        return
    sys.stderr.flush()
    undo = _filter_fd(fd)
    try:
        yield
    finally:
        sys.stderr.flush()
        undo()


_kernel_filter_on = False


def quiet_kernel_output() -> bool:
    """In a Jupyter kernel, filter file descriptor 2 for the rest of the kernel's life; True if it is on.

    ipykernel copies whatever C++ code writes to file descriptor 2 into the running cell's output (and to the
    kernel's terminal); the filter sits in front of that copy. Python's own `sys.stderr` (tracebacks, warnings)
    does not pass through it. Safe to call twice; does nothing outside a kernel or when `$FMNIST_QUIET=0`.
    """
    global _kernel_filter_on
    if _kernel_filter_on:
        return True
    if not enabled() or type(sys.stderr).__module__ != "ipykernel.iostream":
        return False
    _filter_fd(2)
    _kernel_filter_on = True
    return True
