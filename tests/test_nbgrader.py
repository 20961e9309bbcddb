"""A class that the real nbgrader grades. nbgrader (a test dependency) releases two lessons, 00 and 08 (the
shortest); its Validate, as JupyterLab's button runs it, fails a blank release and passes the instructor's notebook;
autograde scores a half-solved submission exactly; feedback is written; each submission runs in a results folder of
its own. And no change a notebook makes to its kernel (a check's method, the reference, NumPy, the progress table,
the exercise object, the grader module) earns a point for a wrong answer.

The half-solved submission starts from the pack's own student edition, so its autograded notebooks are also where
lessons 00 and 08's student editions are checked as `test_editions.py` checks the others (they run once, here).
nbgrader runs in this process through its own API (what its command line and JupyterLab's buttons call), in the
`smoke` profile, with the kernel environment a student has (no `MPLBACKEND`, no pytest variables).
"""
import io
import json
import os
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.utils import compute_checksum
from nbgrader.validator import Validator
from traitlets.config import Config

from fmnist_helpers.base.paths import RUNS_FOLDER, build_dir, notebooks_dir
from fmnist_helpers.base.results import load_results
from fmnist_helpers.course.editions import student_notebook
from fmnist_helpers.course.pytest_plugin import record_notebook_time
from fmnist_helpers.exercises import lesson
from fmnist_helpers.exercises.solutions import solution_code
from test_editions import student_run_problems

pytestmark = [pytest.mark.slow,  # every test here runs notebooks through nbgrader
              pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")]  # nbgrader's own gradebook sessions

LESSONS = ("00_primer", "08_capstone")


class Course:
    """An nbgrader course in a folder: its configuration, gradebook and API."""

    def __init__(self, root: Path):
        self.root = root
        self.config = Config()
        self.config.CourseDirectory.root = str(root)
        self.config.CourseDirectory.course_id = "fmnist"
        self.config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
        self.config.Exchange.root = str(root / "exchange")
        self.api = NbGraderAPI(config=self.config)

    def add_assignment(self, assignment: str, notebooks: dict[str, nbformat.NotebookNode]) -> None:
        (self.root / "source" / assignment).mkdir(parents=True)
        for name, nb in notebooks.items():
            nbformat.write(nb, self.root / "source" / assignment / f"{name}.ipynb")

    def run(self, step: str, *args: str, label: str) -> None:
        """One of nbgrader's steps (`generate_assignment`, `autograde`, `generate_feedback`), timed; it must succeed."""
        started = time.perf_counter()
        result = getattr(self.api, step)(*args)
        record_notebook_time(f"nbgrader {label}", time.perf_counter() - started)
        assert result["success"], result.get("error", "") + result.get("log", "")[-3000:]

    def validate(self, path: str, label: str) -> str:
        """What `nbgrader validate <path>` prints (JupyterLab's Validate button runs the same Validator)."""
        validator = Validator(config=self.config)
        validator.stream = io.StringIO()
        started = time.perf_counter()
        validator.validate_and_print(str(self.root / path))
        record_notebook_time(f"nbgrader validate {label}", time.perf_counter() - started)
        return validator.stream.getvalue()

    def submit(self, assignment: str, student: str, notebooks: dict[str, nbformat.NotebookNode],
               answers: dict[str, dict[str, str]]) -> None:
        """Hand in `notebooks` as `student`, each answer cell's source replaced where `answers[notebook][grade id]`
        gives one (the rest stay unanswered), beside a stale results folder of the student's own runs."""
        folder = self.root / "submitted" / student / assignment
        folder.mkdir(parents=True)
        for stem, nb in notebooks.items():
            nb = nbformat.from_dict(json.loads(json.dumps(nb)))
            for cell in nb.cells:
                grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                if grade_id in answers.get(stem, {}):
                    cell.source = answers[stem][grade_id]
            nbformat.write(nb, folder / f"{stem}.ipynb")
            stale = folder / RUNS_FOLDER / "smoke" / "results"
            stale.mkdir(parents=True, exist_ok=True)
            (stale / f"{stem}.json").write_text('{"stale": true}')
        (folder / "timestamp.txt").write_text("2026-12-08 10:00:00.000000 UTC")

    def scores(self, assignment: str, student: str, notebook: str) -> dict[str, float]:
        """{grade id: points} of one autograded notebook, from the gradebook."""
        with Gradebook(self.config.CourseDirectory.db_url) as gradebook:
            submission = gradebook.find_submission_notebook(notebook, assignment, student)
            return {grade.name: grade.score for grade in submission.grades}

    def autograded(self, assignment: str, student: str, notebook: str) -> nbformat.NotebookNode:
        return nbformat.read(self.root / "autograded" / student / assignment / f"{notebook}.ipynb", as_version=4)

    def shown(self, assignment: str, student: str, notebook: str, grade_id: str) -> str:
        """The outputs of one cell of an autograded notebook, as text."""
        nb = self.autograded(assignment, student, notebook)
        cell = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)
        parts = []
        for out in cell.get("outputs", []):
            parts += [out.get("text", ""), str(out.get("data", {}).get("text/plain", "")), *out.get("traceback", [])]
        return "\n".join(parts)


@pytest.fixture(scope="module")
def student_kernels():
    """The environment a student's kernel has: nbgrader's `alembic` on the PATH, no Agg backend (figures reach the
    notebook), no pytest variables (ipykernel then copies stderr into the cells, where nbgrader counts it as an
    error), the smoke profile."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        patch.setenv("FMNIST_PROFILE", "smoke")
        patch.delenv("MPLBACKEND", raising=False)
        yield patch


def _without_pytest_variable(patch: pytest.MonkeyPatch) -> None:
    patch.delenv("PYTEST_CURRENT_TEST", raising=False)  # pytest sets it again for every test phase


# ------------------------------------------------------------------------------------------ the round trip

def solved(stem: str, key: str) -> str:
    """An answer cell as a student who solved it writes it: the instructor's solution, read from the notebook."""
    return solution_code(stem, key)


KEYS = {stem: list(lesson(stem).exercises) for stem in LESSONS}  # each lesson's exercises, a point each
HALF_SOLVED = {  # 4 points: two right in each lesson, one wrong, the rest left unanswered
    "00_primer": {"q1-answer": solved("00_primer", "q1"),
                  "q2-answer": "answer_q2 = (0.3, 0.0, 0.9, 1.2)  # forgot to rescale",
                  "q4-answer": solved("00_primer", "q4")},
    "08_capstone": {"q1-answer": solved("08_capstone", "q1"), "q3-answer": solved("08_capstone", "q3")},
}
RIGHT = {"00_primer": ("q1", "q4"), "08_capstone": ("q1", "q3")}
EXPECTED = {stem: {f"{key}-check": float(key in RIGHT[stem]) for key in keys} for stem, keys in KEYS.items()}
VERDICTS = {stem: {key: "✔ Correct" if key in RIGHT[stem] else "✘ Not yet" if f"{key}-answer" in HALF_SOLVED[stem]
                   else "… Not answered yet" for key in keys} for stem, keys in KEYS.items()}


@pytest.fixture(scope="module")
def course(tmp_path_factory, student_kernels) -> Course:
    """Lessons 00 and 08 released by nbgrader and validated, blank and as the instructor wrote them; a half-solved
    submission of the pack's student edition autograded, and its feedback generated."""
    _without_pytest_variable(student_kernels)
    course = Course(tmp_path_factory.mktemp("course"))
    instructor = {stem: nbformat.read(notebooks_dir() / f"{stem}.ipynb", as_version=4) for stem in LESSONS}
    course.add_assignment("lesson", instructor)
    course.run("generate_assignment", "lesson", label="generate_assignment (00 and 08)")
    (course.root / "validate-blank.txt").write_text(course.validate("release/lesson/00_primer.ipynb", "(blank 00)"))
    (course.root / "validate-instructor.txt").write_text(
        course.validate("source/lesson/00_primer.ipynb", "(instructor's 00)"))
    edition = {stem: student_notebook(nb, stem) for stem, nb in instructor.items()}
    course.submit("lesson", "ada", edition, HALF_SOLVED)
    course.run("autograde", "lesson", "ada", label="autograde (00 and 08, the pack's student edition)")
    course.run("generate_feedback", "lesson", "ada", label="generate_feedback")
    return course


def test_nbgrader_releases_both_lessons_without_solutions_or_hidden_tests(course):
    for stem in LESSONS:
        text = (course.root / "release" / "lesson" / f"{stem}.ipynb").read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "YOUR CODE HERE" in text


def test_the_packs_student_edition_locks_its_cells_as_nbgraders_release_does(course):
    for stem in LESSONS:
        ours = student_notebook(nbformat.read(notebooks_dir() / f"{stem}.ipynb", as_version=4), stem)
        release = nbformat.read(course.root / "release" / "lesson" / f"{stem}.ipynb", as_version=4)
        assert len(ours.cells) == len(release.cells)
        graded = [(a, b) for a, b in zip(ours.cells, release.cells) if "nbgrader" in a.get("metadata", {})]
        assert len(graded) == 2 * len(KEYS[stem])
        for a, b in graded:
            assert (a.metadata.get("deletable"), a.metadata.get("editable")) == \
                   (b.metadata.get("deletable"), b.metadata.get("editable"))
            assert a.metadata.nbgrader["checksum"] == compute_checksum(a)
            if a.source == b.source:  # nbgrader's stub also raises at the top level; ours leaves the answer None
                assert a.metadata == b.metadata


def test_validate_fails_a_blank_release_on_every_check_with_the_verdict_and_no_traceback(course):
    output = (course.root / "validate-blank.txt").read_text()
    n = len(KEYS["00_primer"])
    assert f"VALIDATION FAILED ON {n} CELL(S)" in output and "Success!" not in output
    assert output.count("NotYetCorrect: Exercise") == n and output.count("is not answered yet") == n
    assert "Traceback" not in output and "..." not in output  # nothing cut: the reason fits nbgrader's lines


def test_validate_passes_the_instructors_notebook(course):
    output = (course.root / "validate-instructor.txt").read_text()
    assert output.strip() == "Success! Your notebook passes all the tests."


def test_autograde_scores_a_half_solved_submission_exactly(course):
    assert {stem: course.scores("lesson", "ada", stem) for stem in LESSONS} == EXPECTED
    with Gradebook(course.config.CourseDirectory.db_url) as gradebook:
        submission = gradebook.find_submission("lesson", "ada")
        assert (submission.score, submission.max_score) == (4.0, float(sum(map(len, KEYS.values()))))


def test_each_check_cell_shows_its_verdict_and_fails_only_when_not_right(course):
    for stem, verdicts in VERDICTS.items():
        for key, verdict in verdicts.items():
            text = course.shown("lesson", "ada", stem, f"{key}-check")
            assert verdict in text, (stem, key, text)
            assert ("NotYetCorrect" in text) == (verdict != "✔ Correct"), (stem, key, text)
    assert "divided by 1 - rate (0.75)" in course.shown("lesson", "ada", "00_primer", "q2-check")


def test_feedback_shows_the_student_each_verdict_and_the_score(course):
    page = (course.root / "feedback" / "ada" / "lesson" / "00_primer.html").read_text(encoding="utf-8")
    assert "✔ Correct" in page and "NotYetCorrect" in page and f"2.0 / {len(KEYS['00_primer'])}.0" in page


def test_an_autograded_submission_runs_afresh_in_a_results_folder_of_its_own(course):
    folder = course.root / "autograded" / "ada" / "lesson" / RUNS_FOLDER / "smoke"
    records = {stem: json.loads((folder / "results" / f"{stem}.json").read_text()) for stem in LESSONS}
    assert all(r.get("stale") is None and r["params"]["profile"] == "smoke" for r in records.values())
    assert build_dir("smoke") not in folder.parents


@pytest.mark.parametrize("stem", LESSONS)
def test_the_student_edition_autograded_passes_the_student_edition_checks(course, stem):
    """What test_editions.py checks of every other lesson's student edition, on this run of 00 and 08."""
    folder = course.root / "autograded" / "ada" / "lesson" / RUNS_FOLDER / "smoke"
    assert student_run_problems(course.autograded("lesson", "ada", stem), load_results(folder, stem)) == []


# ------------------------------------------------------------------------------------------ tampering

WRONG = {"q1-answer": "answer_q1 = (28, 28, 1)",
         "q2-answer": "answer_q2 = (0.3, 0.0, 0.9, 1.2)",
         "q4-answer": "def receptive_field(layers):\n    return 3"}
FAKE_EX = ("class Fake:\n"
           "    correct = True\n"
           "    def __getattr__(self, name):\n"
           "        return self\n"
           "    def __call__(self, *args, **kwargs):\n"
           "        print('✔ Correct (faked)')\n"
           "        return self\n"
           "ex = Fake()")
TAMPERING = {  # each student answers q1, q2 and q4 wrongly and, in the first answer cell, tries one way to pass
    "methods": ("from fmnist_helpers.exercises import core\n"
                "core.Exercise.evaluate = lambda self, answer=None, **context: core.Verdict(core.CORRECT, self.label, "
                "'well done.')"),
    "reference": ("from fmnist_helpers.exercises import nb00\n"
                  "object.__setattr__(nb00.q1, 'expected', (28, 28, 1))\n"
                  "object.__setattr__(nb00.q2, 'expected', (0.3, 0.0, 0.9, 1.2))\n"
                  "object.__setattr__(nb00.q4, 'reference', lambda layers: 3)"),
    "numpy": ("import numpy as np\n"
              "np.isclose = lambda a, b, **kw: np.ones(np.broadcast(np.asarray(a), np.asarray(b)).shape, dtype=bool)"),
    "progress": ("from fmnist_helpers.exercises.core import CORRECT\n"
                 "class AlwaysCorrect(dict):\n"
                 "    def __getitem__(self, key):\n"
                 "        state = dict.__getitem__(self, key)\n"
                 "        state.status = CORRECT\n"
                 "        return state\n"
                 "ex.state = AlwaysCorrect(ex.state)"),
    "exercise_object": FAKE_EX,
    "grader_module": ("import importlib.util, sys, types\n"  # a grader whose verify passes all, with the real spec
                      "real = importlib.util.find_spec('fmnist_helpers.exercises.grading')\n"
                      "fake = types.ModuleType(real.name)\n"
                      "fake.__spec__, fake.verify = real, lambda *args, **kwargs: True\n"
                      "sys.modules[real.name] = fake\n" + FAKE_EX),
}
FOOLED_IN_KERNEL = {"methods": ("q1", "q2", "q4"), "reference": ("q1", "q2", "q4"), "numpy": ("q2",),
                    "exercise_object": ("q1", "q2", "q4")}  # the visible checks the tampering turned to "Correct"


def _exercises_of_00() -> nbformat.NotebookNode:
    """Lesson 00's exercise section (q1, q2, q4 and the progress table) as the instructor wrote it, after a cell that
    starts the run as every lesson does (so that each submission writes its results record)."""
    nb = nbformat.read(notebooks_dir() / "00_primer.ipynb", as_version=4)
    start = next(i for i, c in enumerate(nb.cells) if c.source.startswith("from fmnist_helpers import exercises"))
    q3 = [c for c in nb.cells if c.source.startswith("### Exercise 3 ")
          or c.get("metadata", {}).get("nbgrader", {}).get("grade_id", "").startswith("q3")]
    setup = nbformat.v4.new_code_cell('from fmnist_helpers import start_notebook\n\nrun = start_notebook("00_primer")')
    nb.cells = [setup, *(c for c in nb.cells[start:] if c not in q3)]
    return nb


@pytest.fixture(scope="module")
def tampered(tmp_path_factory, student_kernels) -> Course:
    """One autograde of six students, each with wrong answers and one kind of tampering."""
    _without_pytest_variable(student_kernels)
    course = Course(tmp_path_factory.mktemp("tampering"))
    course.add_assignment("excerpt", {"00_primer": _exercises_of_00()})
    course.run("generate_assignment", "excerpt", label="generate_assignment (00's exercises)")
    release = {"00_primer": nbformat.read(course.root / "release" / "excerpt" / "00_primer.ipynb", as_version=4)}
    for student, code in TAMPERING.items():
        course.submit("excerpt", student, release, {"00_primer": dict(WRONG, **{"q1-answer": f"{WRONG['q1-answer']}\n{code}"})})
    course.run("autograde", "excerpt", "*", label=f"autograde ({len(TAMPERING)} tampered submissions of 00's exercises)")
    return course


@pytest.mark.parametrize("student", sorted(TAMPERING))
def test_tampering_with_the_kernel_scores_nothing_for_wrong_answers(tampered, student):
    scores = tampered.scores("excerpt", student, "00_primer")
    assert scores == {f"{key}-check": 0.0 for key in KEYS["00_primer"] if key != "q3"}


@pytest.mark.parametrize("student", sorted(FOOLED_IN_KERNEL))
def test_the_tampering_fooled_the_kernels_checks_and_the_fresh_grader_caught_it(tampered, student):
    for key in FOOLED_IN_KERNEL[student]:
        text = tampered.shown("excerpt", student, "00_primer", f"{key}-check")
        assert "Correct" in text and "NotGraded" in text and "checked afresh" in text, (key, text)


def test_a_grader_module_replaced_in_the_kernel_is_not_the_one_that_grades(tampered):
    for key in ("q1", "q2", "q4"):
        text = tampered.shown("excerpt", "grader_module", "00_primer", f"{key}-check")
        assert "Correct (faked)" in text and "NotGraded" in text and "checked afresh" in text, (key, text)


def test_edited_progress_shows_every_exercise_correct_but_earns_nothing(tampered):
    table = " ".join(str(o.get("data", {}).get("text/plain", ""))
                     for o in tampered.autograded("excerpt", "progress", "00_primer").cells[-1].outputs)
    graded = [key for key in KEYS["00_primer"] if key != "q3"]  # the excerpt leaves out q3, the prediction
    assert f"{len(graded)} of {len(graded)} exercises correct" in table
    assert sum(tampered.scores("excerpt", "progress", "00_primer").values()) == 0.0


def test_every_submission_ran_in_a_results_folder_of_its_own_and_none_reused_another_run(tampered):
    records = sorted((tampered.root / "autograded").glob(f"*/excerpt/{RUNS_FOLDER}/smoke/results/00_primer.json"))
    assert [p.parents[4].name for p in records] == sorted(TAMPERING)
    assert all(json.loads(p.read_text())["params"]["profile"] == "smoke" for p in records)
    notebooks = (tampered.root / "autograded").glob("*/excerpt/00_primer.ipynb")
    assert not any("reusing the saved run" in p.read_text(encoding="utf-8") for p in notebooks)
