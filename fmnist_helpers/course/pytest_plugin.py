"""pytest plumbing for the course's tests (loaded by `-p fmnist_helpers.course.pytest_plugin` in pyproject.toml).

- Notebooks run in the `smoke` profile unless `$FMNIST_PROFILE` says otherwise (nbval cannot inject
  parameters, so the profile reaches the kernel through the environment). Training prints one line
  per model (`$FMNIST_PROGRESS=summary`).
- nbval ignores stderr when it compares checked cells: TensorFlow writes start-up logs there that
  differ between machines and are no part of a notebook's result.
- Every notebook nbval collects is marked `slow`, so `pytest -m "not slow"` (`make test-fast`) leaves the
  notebook runs out.
- The terminal summary lists each notebook's run time under nbval, and the papermill runs that tests
  report through `record_notebook_time`.

Usage:
    record_notebook_time("01_exploration (papermill, mnist)", 12.5)   # listed in the closing summary
"""
from __future__ import annotations

import os
from collections import defaultdict

from fmnist_helpers.base import settings

_durations: dict[str, float] = defaultdict(float)


def record_notebook_time(label: str, seconds: float) -> None:
    """Add a notebook run made by a test (e.g. through papermill) to the closing list of times."""
    _durations[label] += seconds


def _drop_stderr(transform):
    from fmnist_helpers.course.notebooks import is_stderr

    def transform_without_stderr(outputs):
        return transform([o for o in outputs if not is_stderr(o)])

    return transform_without_stderr


def pytest_configure(config) -> None:
    # nbval starts its kernels from this process's environment: there is no other way to reach them
    os.environ.setdefault(settings.PROFILE.name, "smoke")
    os.environ.setdefault(settings.PROGRESS.name, "summary")  # one line per trained model in CI logs
    try:
        import nbval.plugin
    except ImportError:  # nbval is a dependency; without it notebooks are simply not collected
        return
    if not getattr(nbval.plugin.transform_streams_for_comparison, "_drops_stderr", False):
        patched = _drop_stderr(nbval.plugin.transform_streams_for_comparison)
        patched._drops_stderr = True
        nbval.plugin.transform_streams_for_comparison = patched


def pytest_collection_modifyitems(items) -> None:
    """Mark every cell nbval collects from a notebook as `slow`: running it means running the notebook."""
    import pytest

    for item in items:
        if str(item.path).endswith(".ipynb"):
            item.add_marker(pytest.mark.slow)


def pytest_runtest_logreport(report) -> None:
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _durations[path] += report.duration


def pytest_terminal_summary(terminalreporter) -> None:
    if not _durations:
        return
    profile = os.environ.get(settings.PROFILE.name)
    terminalreporter.section(f"notebook run times (nbval and papermill, profile {profile})")
    for path, seconds in sorted(_durations.items()):
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
