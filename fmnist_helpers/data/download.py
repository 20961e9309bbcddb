"""Fetch a dataset file from the first mirror that serves it, with a progress bar, atomically.

The file is written to `<dest>.part`, checked by the caller's `verify` function, and only then
renamed to `dest`; a failed or interrupted download never leaves a half file under the real name.

Usage:
    download_file(["https://mirror/a.gz"], Path("data/mnist/a.gz"), verify=check_fn)
"""
from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Sequence

from tqdm import tqdm

CHUNK = 1 << 16


class DownloadError(OSError):
    """No mirror delivered a file that passed verification."""


def _fetch(url: str, part: Path, timeout: float, progress: bool) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=part.name.removesuffix(".part"),
                  disable=not progress, leave=False) as bar:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                bar.update(len(chunk))
        out.flush()
        os.fsync(out.fileno())


def download_file(
    urls: Sequence[str],
    dest: Path,
    verify: Callable[[Path], None],
    timeout: float = 30.0,
    progress: bool = True,
) -> Path:
    """Download `dest` from the first of `urls` whose file passes `verify` (which raises if bad)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    failures = []
    for url in urls:
        try:
            _fetch(url, part, timeout, progress)
            verify(part)
        except (urllib.error.URLError, OSError, ValueError) as err:
            failures.append(f"{url}: {err}")
            part.unlink(missing_ok=True)
            continue
        os.replace(part, dest)
        return dest
    raise DownloadError(f"could not download {dest.name}:\n  " + "\n  ".join(failures))
