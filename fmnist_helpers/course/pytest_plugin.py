"""pytest plumbing for the course's tests (loaded by `-p fmnist_helpers.course.pytest_plugin` in pyproject.toml).

- Notebooks run in the `smoke` profile unless `$FMNIST_PROFILE` says otherwise (nbval cannot inject
  parameters, so the profile reaches the kernel through the environment). Training prints one line
  per model (`$FMNIST_PROGRESS=summary`).
- nbval ignores stderr when it compares checked cells: TensorFlow writes start-up logs there that
  differ between machines and are no part of a notebook's result.
- The terminal summary lists each notebook's run time under nbval, and the papermill runs that tests
  report through `record_notebook_time`.
"""
from __future__ import annotations

import os
from collections import defaultdict

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
    os.environ.setdefault("FMNIST_PROFILE", "smoke")
    os.environ.setdefault("FMNIST_PROGRESS", "summary")  # one line per trained model in CI logs
    try:
        import nbval.plugin
    except ImportError:  # nbval is a dependency; without it notebooks are simply not collected
        return
    if not getattr(nbval.plugin.transform_streams_for_comparison, "_drops_stderr", False):
        patched = _drop_stderr(nbval.plugin.transform_streams_for_comparison)
        patched._drops_stderr = True
        nbval.plugin.transform_streams_for_comparison = patched


def pytest_runtest_logreport(report) -> None:
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _durations[path] += report.duration


def pytest_terminal_summary(terminalreporter) -> None:
    if not _durations:
        return
    terminalreporter.section(f"notebook run times (nbval and papermill, profile {os.environ.get('FMNIST_PROFILE')})")
    for path, seconds in sorted(_durations.items()):
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
