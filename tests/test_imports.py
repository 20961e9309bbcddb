"""No import cycles inside the package: the imports of every module, at any depth of its code (an import inside a
function counts, since it is how two modules end up needing each other), form a graph without loops."""

import pytest

from fmnist_helpers import SHORT_NAMES
from test_architecture import MODULES, PACKAGE, _module_name, imported_names

TOP_LEVEL_NAMES = {"Dataset": "fmnist_helpers.data", "load_dataset": "fmnist_helpers.data",
                   "start_notebook": "fmnist_helpers.course.context"}


def _resolve(name: str, known: set[str]) -> str | None:
    """The package's module behind an imported name: itself, the module of a short name
    (`fmnist_helpers.plots`), or the module that defines it (`fmnist_helpers.course.editions.student_source`)."""
    parts = name.split(".")
    if len(parts) == 2 and parts[1] in SHORT_NAMES:
        return f"fmnist_helpers.{SHORT_NAMES[parts[1]]}.{parts[1]}"
    if len(parts) == 2 and parts[1] in TOP_LEVEL_NAMES:
        return TOP_LEVEL_NAMES[parts[1]]
    while parts and ".".join(parts) not in known:
        parts.pop()
    return ".".join(parts) or None


def imports_of(module: str, source: str, known: set[str]) -> set[str]:
    """The package's modules that `module` (its source given) imports anywhere in its code."""
    package = module if module in {_module_name(p) for p in MODULES if p.name == "__init__.py"} \
        else module.rpartition(".")[0]
    names = [origin if name is None else f"{origin}.{name}" for _, origin, name in imported_names(package, source)]
    found = {_resolve(n, known) for n in names if n.split(".")[0] == "fmnist_helpers"}
    return {m for m in found if m and m != module and m != "fmnist_helpers"}


def import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    """{module: the modules it imports} for {module: source}."""
    known = set(sources)
    return {module: imports_of(module, source, known) for module, source in sources.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (each holds a cycle), as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def _package_sources() -> dict[str, str]:
    return {_module_name(p): p.read_text(encoding="utf-8") for p in MODULES if p != PACKAGE / "__main__.py"}


def test_no_two_modules_of_the_package_import_each_other_directly_or_in_a_loop():
    found = cycles(import_graph(_package_sources()))
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(group) for group in found)


def test_the_cycle_check_finds_two_modules_that_import_each_other_inside_functions():
    sources = {
        "fmnist_helpers.course.editions": "def write():\n    from fmnist_helpers.course.notebooks import lessons\n",
        "fmnist_helpers.course.notebooks": "def problems():\n    from fmnist_helpers.course.editions import heading\n",
        "fmnist_helpers.course.runner": "from fmnist_helpers.course import notebooks\n",
    }
    assert cycles(import_graph(sources)) == [["fmnist_helpers.course.editions", "fmnist_helpers.course.notebooks"]]


def test_the_cycle_check_finds_a_loop_through_three_modules_by_short_name_and_relative_import():
    sources = {
        "fmnist_helpers.analysis.plots": "from fmnist_helpers import evaluation\n",
        "fmnist_helpers.analysis.evaluation": "from .statistics import wilson\n",
        "fmnist_helpers.analysis.statistics": "import fmnist_helpers.analysis.plots\n",
        "fmnist_helpers.base.paths": "from fmnist_helpers import settings\n",
    }
    assert cycles(import_graph(sources)) == [["fmnist_helpers.analysis.evaluation", "fmnist_helpers.analysis.plots",
                                              "fmnist_helpers.analysis.statistics"]]


@pytest.mark.parametrize("statement, target", [
    ("from fmnist_helpers.course import runner", "fmnist_helpers.course.runner"),
    ("from fmnist_helpers.course.editions import student_source", "fmnist_helpers.course.editions"),
    ("from fmnist_helpers import start_notebook", "fmnist_helpers.course.context"),
    ("from ..base import paths", "fmnist_helpers.base.paths"),
])
def test_an_import_is_traced_to_the_module_it_loads(statement, target):
    known = set(_package_sources())
    assert imports_of("fmnist_helpers.exercises.core", statement, known) == {target}


def test_the_graph_covers_every_module_of_the_package():
    modules = {_module_name(p) for p in MODULES} - {"fmnist_helpers.__main__"}
    assert set(import_graph(_package_sources())) == modules
