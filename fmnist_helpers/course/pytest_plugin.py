"""pytest plumbing for the course's tests (loaded by `-p fmnist_helpers.course.pytest_plugin` in pyproject.toml).

- Notebooks run in the `smoke` profile unless `$FMNIST_PROFILE` says otherwise (nbval cannot inject
  parameters, so the profile reaches the kernel through the environment). Training prints one line
  per model (`$FMNIST_PROGRESS=summary`).
- nbval ignores stderr when it compares checked cells: TensorFlow writes start-up logs there that
  differ between machines and are no part of a notebook's result.
- Every notebook nbval collects is marked `slow`, so `pytest -m "not slow"` (`make test-fast`) leaves the
  notebook runs out.
- `make test` runs the suite in two processes (pytest-xdist). The plugin's scheduler hands each worker whole
  groups: each test file is one group, so a module's fixtures run once and a notebook's cells share one kernel;
  the student editions and nbval's notebooks form one group because they share the `smoke` build folder (in
  order: the editions train, nbval reuses), so no two processes write one results file.
- The terminal summary lists each notebook's run time under nbval, and the papermill runs that tests
  report through `record_notebook_time` (carried from xdist's workers on the test reports).

Usage:
    record_notebook_time("01_exploration (papermill, mnist)", 12.5)   # listed in the closing summary
"""
from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import pytest

from fmnist_helpers.base import settings

SMOKE_BUILD_GROUP = "smoke-build"  # the tests that run notebooks in build/smoke: one process, in collection order
_SHARES_SMOKE_BUILD = ("test_editions.py",)
_NOTEBOOK_TIME = "notebook_time"  # the key of a recorded run on a test report's user_properties

_durations: dict[str, float] = defaultdict(float)
_pending: list[tuple[str, float]] = []  # recorded in this process, not yet attached to a test report


def record_notebook_time(label: str, seconds: float) -> None:
    """Add a notebook run made by a test (e.g. through papermill) to the closing list of times."""
    _pending.append((label, seconds))


def xdist_group(nodeid: str) -> str:
    """The xdist group of a test: its file, or `SMOKE_BUILD_GROUP` for the tests that share build/smoke."""
    path = Path(nodeid.split("::")[0])
    if path.suffix == ".ipynb" or path.name in _SHARES_SMOKE_BUILD:
        return SMOKE_BUILD_GROUP
    return path.as_posix()


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
    for item in items:
        if str(item.path).endswith(".ipynb"):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: ignored when xdist is not installed
def pytest_xdist_make_scheduler(config, log):
    """xdist's scope scheduling over the groups of `xdist_group` (whole groups to a worker, in collection order).

    Not `--dist loadgroup` with `xdist_group` marks: xdist 3.8 applies those by renaming a test's node id through
    an attribute that pytest 9.2 no longer reads, so every test would go out on its own."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group(nodeid)

    return GroupScheduling(config, log)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Carry the notebook runs recorded during this phase on its report: under xdist it is what reaches the main
    process."""
    outcome = yield
    report = outcome.get_result()
    if _pending:
        report.user_properties = [*report.user_properties, *((_NOTEBOOK_TIME, run) for run in _pending)]
        _pending.clear()


def pytest_runtest_logreport(report) -> None:
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _durations[path] += report.duration
    for key, value in report.user_properties:
        if key == _NOTEBOOK_TIME:
            label, seconds = value
            _durations[label] += seconds


def pytest_terminal_summary(terminalreporter) -> None:
    if not _durations:
        return
    profile = os.environ.get(settings.PROFILE.name)
    terminalreporter.section(f"notebook run times (nbval and papermill, profile {profile})")
    for path, seconds in sorted(_durations.items()):
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
