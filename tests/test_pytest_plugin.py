"""The pytest plugin marks every notebook cell nbval collects as `slow`, so `make test-fast` (`-m "not slow"`)
leaves the notebook runs out while `make test` runs them; it groups the tests for pytest-xdist and carries the
notebook run times that workers record back to the closing summary."""
from pathlib import Path

from fmnist_helpers.course import pytest_plugin
import pytest

from fmnist_helpers.course.pytest_plugin import SMOKE_BUILD_GROUP, pytest_collection_modifyitems, xdist_group


class _Item:
    """The part of a collected pytest item the hook uses: its path and the markers added to it."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.markers: list[str] = []

    def add_marker(self, marker) -> None:
        self.markers.append(marker.name)


def test_every_cell_collected_from_a_notebook_is_marked_slow():
    cells = [_Item("notebooks/01_exploration.ipynb"), _Item("notebooks/04_cnn.ipynb")]
    pytest_collection_modifyitems(cells)
    assert [c.markers for c in cells] == [["slow"], ["slow"]]


def test_tests_in_python_files_are_left_to_their_own_markers():
    test = _Item("tests/test_atomic.py")
    pytest_collection_modifyitems([test])
    assert test.markers == []


def test_each_test_file_is_one_xdist_group_so_its_module_fixtures_run_once():
    assert xdist_group("tests/test_notebook_06.py::test_a") == xdist_group("tests/test_notebook_06.py::test_b")
    assert xdist_group("tests/test_prose.py::test_c[04_cnn]") == "tests/test_prose.py"
    assert xdist_group("tests/faults/test_runner_faults.py::test_d") == "tests/faults/test_runner_faults.py"


def test_the_student_editions_and_nbval_share_one_group_because_they_share_the_smoke_build_folder():
    groups = {xdist_group(n) for n in ["tests/test_editions.py::test_the_student_edition_runs[04_cnn]",
                                       "notebooks/04_cnn.ipynb::Cell 2", "notebooks/00_primer.ipynb::Cell 0"]}
    assert groups == {SMOKE_BUILD_GROUP}


def test_xdists_scheduler_hands_out_whole_groups_in_collection_order():
    xdist = pytest.importorskip("xdist")  # a test dependency: missing only outside `make test`
    scheduler = pytest_plugin.pytest_xdist_make_scheduler(_Config(), None)
    assert isinstance(scheduler, xdist.scheduler.LoadScopeScheduling)
    assert scheduler._split_scope("notebooks/05_tuning.ipynb::Cell 7") == SMOKE_BUILD_GROUP
    assert scheduler._split_scope("tests/test_prose.py::t[05_tuning]") == "tests/test_prose.py"


class _Config:
    """What xdist's scheduler reads of pytest's config at construction."""

    class option:
        numprocesses = 2
        maxschedchunk = None
        tx = ["popen", "popen"]

    def getvalue(self, name):
        return getattr(self.option, name, None)


class _Report:
    def __init__(self, nodeid: str, user_properties=(), duration: float = 0.0) -> None:
        self.nodeid, self.user_properties, self.duration = nodeid, list(user_properties), duration


class _Outcome:
    def __init__(self, report) -> None:
        self.report = report

    def get_result(self):
        return self.report


def _make_report(report):
    """Drive the plugin's makereport hookwrapper around `report`, as pytest does for one test phase."""
    wrapper = pytest_plugin.pytest_runtest_makereport(None, None)
    next(wrapper)
    try:
        wrapper.send(_Outcome(report))
    except StopIteration:
        pass
    return report


def test_a_recorded_notebook_time_rides_on_the_next_report_once(monkeypatch):
    monkeypatch.setattr(pytest_plugin, "_pending", [])
    pytest_plugin.record_notebook_time("papermill: 04_cnn on MNIST", 55.0)
    first = _make_report(_Report("tests/test_prose.py::t"))
    second = _make_report(_Report("tests/test_prose.py::t"))
    assert first.user_properties == [("notebook_time", ("papermill: 04_cnn on MNIST", 55.0))]
    assert second.user_properties == []


def test_the_main_process_sums_notebook_times_from_reports_and_nbval_durations(monkeypatch):
    durations = pytest_plugin.defaultdict(float)
    monkeypatch.setattr(pytest_plugin, "_durations", durations)
    # as xdist hands them over: the pair arrives as a list after serialisation
    pytest_plugin.pytest_runtest_logreport(_Report("tests/test_prose.py::t", [("notebook_time", ["a run", 5.0])]))
    pytest_plugin.pytest_runtest_logreport(_Report("tests/test_prose.py::u", [("notebook_time", ("a run", 2.5))]))
    pytest_plugin.pytest_runtest_logreport(_Report("notebooks/01_exploration.ipynb::Cell 1", duration=1.5))
    pytest_plugin.pytest_runtest_logreport(_Report("notebooks/01_exploration.ipynb::Cell 2", duration=2.0))
    assert dict(durations) == {"a run": 7.5, "notebooks/01_exploration.ipynb": 3.5}


def test_the_slow_marker_is_registered_with_what_it_means(pytestconfig):
    slow = [line for line in pytestconfig.getini("markers") if line.startswith("slow:")]
    assert len(slow) == 1 and "make test-fast" in slow[0]
