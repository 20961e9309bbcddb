"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Usage:
    atomic_write(path, lambda fh: fh.write(b"..."))
    write_json_atomic(path, {"a": 1})
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Callable


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> None:
    """Call `write` on a temporary file beside `path`, sync it, then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; results and caches are meant to be read by others
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    """Write `data` as indented UTF-8 JSON, atomically."""
    text = json.dumps(data, indent=2) + "\n"
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 text, atomically."""
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))
