"""The pytest plugin marks every notebook cell nbval collects as `slow`, so `make test-fast` (`-m "not slow"`)
leaves the notebook runs out while `make test` runs them."""
from pathlib import Path

from fmnist_helpers.course.pytest_plugin import pytest_collection_modifyitems


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


def test_the_slow_marker_is_registered_with_what_it_means(pytestconfig):
    slow = [line for line in pytestconfig.getini("markers") if line.startswith("slow:")]
    assert len(slow) == 1 and "make test-fast" in slow[0]
