"""Grading that does not trust the kernel (`exercises/grading.py`) and checks that fail under nbgrader
(`exercises/core.py`): what a hidden test's `verify` decides in the kernel and in a fresh process, what travels to
the grader and what it refuses, and that nothing patched in this process reaches the fresh grader."""
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fmnist_helpers import exercises
from fmnist_helpers.base.settings import NBGRADER
from fmnist_helpers.exercises import core, grading, nb00, nb05
from fmnist_helpers.exercises.grading import CannotTravel, NotGraded, function_spec, portable, verify


@pytest.fixture
def under_nbgrader(monkeypatch):
    """This process as a kernel that nbgrader started to autograde (its started environment says so)."""
    env = dict(os.environ, **{NBGRADER.name: "autograde"})
    monkeypatch.setattr(grading, "started_environment", lambda: env)


def receptive_field(layers):
    size, jump = 1, 1
    for kernel, stride in layers:
        size += (kernel - 1) * jump
        jump *= stride
    return size


def three(layers):
    return 3


# ------------------------------------------------------------------------------------ checks under nbgrader

def test_a_check_never_raises_outside_nbgrader(monkeypatch, capsys):
    monkeypatch.delenv(NBGRADER.name, raising=False)
    lesson = exercises.lesson("00")
    lesson.q1.check((28, 28, 1))
    lesson.q1.check()
    assert "Not yet" in capsys.readouterr().out


@pytest.mark.parametrize("answer, words", [((28, 28, 1), "is not right yet"), (None, "is not answered yet")])
def test_under_nbgrader_a_wrong_or_missing_answer_fails_its_cell_after_the_verdict(monkeypatch, capsys, answer, words):
    monkeypatch.setenv(NBGRADER.name, "validate")
    lesson = exercises.lesson("00")
    with pytest.raises(core.NotYetCorrect, match=f"Exercise 1 \\(The shape of a batch\\) {words}"):
        lesson.q1.check(answer)
    assert "Exercise 1" in capsys.readouterr().out  # the verdict came first
    assert lesson.state["q1"].status != core.CORRECT


def test_under_nbgrader_a_right_answer_passes_quietly(monkeypatch, capsys):
    monkeypatch.setenv(NBGRADER.name, "autograde")
    exercises.lesson("00").q1.check((64, 28, 28, 1))
    assert "Correct" in capsys.readouterr().out


def test_the_error_shows_as_a_few_short_lines_without_a_traceback():
    error = core.NotYetCorrect("Exercise 4 (What one output can see) is not right yet: " + "a long reason " * 12)
    lines = error._render_traceback_()
    assert 2 <= len(lines) <= 4 and all(len(line) <= 78 for line in lines)
    assert lines[0].startswith("NotYetCorrect: Exercise 4") and "Traceback" not in " ".join(lines)


# ------------------------------------------------------------------------------------ verify in the kernel

def test_outside_nbgrader_verify_checks_on_a_new_lesson_in_this_process(monkeypatch):
    monkeypatch.setattr(grading, "grade_in_fresh_process", lambda *a, **k: pytest.fail("no process outside nbgrader"))
    monkeypatch.setattr(grading, "started_environment", lambda: {})
    assert verify("00_primer", "q1", (64, 28, 28, 1)) is True
    with pytest.raises(NotGraded, match="a batch adds the number of images"):
        verify("00_primer", "q1", (28, 28, 1))


def test_outside_nbgrader_a_smoke_run_passes_the_checks_smoke_cannot_reach_and_no_others(monkeypatch):
    monkeypatch.setattr(grading, "started_environment", lambda: {})
    assert verify("08_capstone", "q4", None, smoke=True) is True
    with pytest.raises(NotGraded):
        verify("08_capstone", "q1", None, smoke=True)


def test_nbgrader_is_recognised_from_the_environment_the_process_started_with():
    assert grading.nbgrader_run({NBGRADER.name: "autograde"}) and grading.nbgrader_run({NBGRADER.name: "validate"})
    assert not grading.nbgrader_run({}) and not grading.nbgrader_run({NBGRADER.name: "yes"})


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="the started environment is Linux's /proc")
def test_a_notebook_cannot_switch_nbgrader_off_by_editing_its_environment():
    code = ("import os; from fmnist_helpers.exercises import grading\n"
            f"os.environ.pop({NBGRADER.name!r}, None)\n"
            "print(grading.nbgrader_run())")
    env = dict(os.environ, **{NBGRADER.name: "autograde"})
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"


# ------------------------------------------------------------------------------------ verify afresh

def test_under_nbgrader_a_right_value_passes_and_a_wrong_one_fails_with_the_checks_message(under_nbgrader):
    assert verify("00_primer", "q2", (0.4, 0.0, 1.2, 1.6)) is True
    with pytest.raises(NotGraded, match=r"\(checked afresh\): .*divided by 1 - rate"):
        verify("00_primer", "q2", (0.3, 0.0, 0.9, 1.2))


def test_under_nbgrader_a_function_is_rebuilt_from_its_source_and_checked_afresh(under_nbgrader):
    assert verify("00_primer", "q4", receptive_field) is True
    with pytest.raises(NotGraded, match="expected 5, got 3"):
        verify("00_primer", "q4", three)


def test_a_check_with_context_sends_the_context_too(under_nbgrader):
    path = nb00._gradient_descent(1.1, steps=20)
    assert verify("00_primer", "q3", "diverges", path=path) is True


def test_numpy_patched_in_this_process_does_not_reach_the_fresh_grader(under_nbgrader, monkeypatch):
    monkeypatch.setattr(np, "isclose", lambda a, b, **kw: np.ones(np.broadcast(a, b).shape, dtype=bool))
    assert exercises.lesson("00").q2.evaluate((0.3, 0.0, 0.9, 1.2)).correct  # fooled here
    with pytest.raises(NotGraded):
        verify("00_primer", "q2", (0.3, 0.0, 0.9, 1.2))


def test_a_reference_patched_in_this_process_does_not_reach_the_fresh_grader(under_nbgrader):
    object.__setattr__(nb00.q4, "reference", lambda layers: 3)  # a frozen dataclass, as a notebook would do it
    try:
        assert exercises.lesson("00").q4.evaluate(three).correct  # fooled here
        with pytest.raises(NotGraded):
            verify("00_primer", "q4", three)
    finally:
        object.__setattr__(nb00.q4, "reference", nb00._receptive_field)


def test_the_checks_that_cannot_travel_are_graded_in_the_kernel_even_under_nbgrader(under_nbgrader, monkeypatch):
    monkeypatch.setattr(grading, "grade_in_fresh_process", lambda *a, **k: pytest.fail("the tuner cannot travel"))
    context = nb05.q5.demo()
    assert verify("05_tuning", "q5", nb05._best_score(context), **context) is True
    assert ("05_tuning", "q5") in grading.IN_KERNEL and ("02_preprocessing", "q3") in grading.IN_KERNEL


def test_an_answer_that_cannot_travel_is_not_graded_and_says_what_to_give(under_nbgrader):
    with pytest.raises(NotGraded, match="cannot be graded: the answer is a .*object.*give plain values"):
        verify("00_primer", "q1", object())


# ------------------------------------------------------------------------------------ what travels

def test_plain_values_arrays_and_paths_travel_as_they_are_and_a_history_as_its_dict(tmp_path):
    class History:
        history = {"accuracy": [0.5, 0.6]}

    value = {"a": (1, 2.5, "x", None), "b": np.arange(3), "p": tmp_path, "h": History(), "s": {1, 2}}
    got = portable(value)
    assert got["a"] == (1, 2.5, "x", None) and got["b"] is value["b"] and got["p"] == tmp_path
    assert got["h"] == {"accuracy": [0.5, 0.6]} and got["s"] == {1, 2}


@pytest.mark.parametrize("value", [object(), lambda: 1, (x for x in [1])])
def test_anything_else_cannot_travel(value):
    with pytest.raises(CannotTravel, match="give plain values"):
        portable(value)


def test_a_structure_that_holds_itself_cannot_travel():
    loop = []
    loop.append(loop)
    with pytest.raises(CannotTravel, match="nested too deeply"):
        portable(loop)


def test_the_grader_refuses_a_pickle_that_would_run_code_and_runs_none(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    data = pickle.dumps({"notebook": "00_primer", "key": "q1", "answer": Evil(), "function": None, "context": {}})
    verdict = grading.grade_in_fresh_process(data)
    assert verdict["status"] == "incorrect" and "holds a posix.system, which the grader does not accept" in verdict["message"]
    assert not marker.exists()


def test_a_function_travels_with_its_modules_helpers_and_values(tmp_path):
    source = textwrap.dedent("""
        import numpy as np
        SCALE = 2.0
        def helper(x):
            return np.asarray(x) * SCALE
        def answer(x):
            return float(helper(x).sum())
    """)
    path = tmp_path / "cell.py"
    path.write_text(source)
    namespace = {"__name__": "__main__"}
    exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 - a stand-in for a notebook cell
    spec = function_spec(namespace["answer"])
    assert spec["name"] == "answer" and spec["imports"] == ["import numpy as np"] and spec["values"] == {"SCALE": 2.0}
    assert [s.splitlines()[0] for s in spec["sources"]] == ["def helper(x):", "def answer(x):"]
    assert grading.rebuild(spec)([1, 2]) == 6.0


def test_a_function_defined_inside_another_cannot_travel():
    def outer():
        k = 3

        def inner(x):
            return x * k
        return inner

    with pytest.raises(CannotTravel, match="inside another function"):
        function_spec(outer())


# ------------------------------------------------------------------------------------ every exercise of the course

FUNCTIONS = [(stem, key) for stem in exercises.NOTEBOOKS for key, e in exercises.lesson(stem).exercises.items()
             if isinstance(e, core.Function)]


def _instructor_function(stem: str, key: str, tmp_path):
    """The function an instructor's answer cell defines, as a kernel holds it: defined in a `__main__` namespace after
    the notebook's imports, its source in a file as IPython keeps a cell's (`run` stands for the notebook's run)."""
    import ast

    import nbformat

    from fmnist_helpers.base.paths import notebooks_dir
    from fmnist_helpers.exercises.solutions import solution_code

    source = solution_code(stem, key)
    used = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    nb = nbformat.read(notebooks_dir() / f"{stem}.ipynb", as_version=4)
    imports = [ast.unparse(node) for cell in nb.cells if cell.cell_type == "code" and "import" in cell.source
               for node in ast.parse(cell.source).body if isinstance(node, (ast.Import, ast.ImportFrom))
               and {(a.asname or a.name).split(".")[0] for a in node.names} & used]  # the imports it needs
    cell = tmp_path / f"{stem}_{key}.py"
    cell.write_text("\n".join(imports) + "\n" + source)
    namespace = {"__name__": "__main__", "run": object(), "prepare": lambda image, label: (image, label)}
    exec(compile(cell.read_text(), str(cell), "exec"), namespace)  # noqa: S102 - the instructor's answer cell
    return namespace[exercises.lesson(stem).exercises[key].name]


@pytest.mark.parametrize("stem, key", FUNCTIONS, ids=[f"{s[:2]}-{k}" for s, k in FUNCTIONS])
def test_every_instructor_function_travels_to_the_grader_unless_its_check_stays_in_the_kernel(stem, key, tmp_path):
    try:
        function_spec(_instructor_function(stem, key, tmp_path))
        travels = True
    except CannotTravel:
        travels = False
    assert travels == ((stem, key) not in grading.IN_KERNEL)


def test_the_tuner_of_05_q5_cannot_travel_which_is_why_its_check_stays_in_the_kernel():
    with pytest.raises(CannotTravel):
        portable(nb05.q5.demo()["tuner"])
