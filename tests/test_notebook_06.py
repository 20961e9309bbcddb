"""The studies track's s06 (the `kh` ANN-vs-CNN table over seeds) under papermill, smoke profile, one seed: what it
records, and that a re-run trains nothing. Lesson 06 is run by the prose and edition tests."""
import pytest

from fmnist_helpers.course.pytest_plugin import record_notebook_time
from fmnist_helpers.base.results import ROW_OPTIONAL, WRITERS, Figure, Record, Row, load_results
from fmnist_helpers.course.runner import run_course

pytestmark = pytest.mark.slow  # executes s06_ann_vs_cnn_studies
PARAMS = {"dataset": "mnist", "n_seeds": 1}
STEM = "s06_ann_vs_cnn_studies"


def _quiet(_msg):
    pass


@pytest.fixture(scope="module")
def comparison_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("course-s06")
    (outcome,) = run_course("smoke", only=["s06"], params=PARAMS, output_dir=out, report=_quiet, progress=False)
    record_notebook_time(f"papermill: {STEM} (n_seeds=1)", outcome.wall_s)
    return out, outcome


def test_s06_trains_every_role_on_both_datasets(comparison_run):
    out, outcome = comparison_run
    rec = load_results(out, STEM)
    assert outcome.status == "ran" and rec["complete"]
    runs = rec["figures"]["runs"]
    assert {(r["source"], r["role"], r["dataset"]) for r in runs} == {
        (s, r, d) for s in ("study", "pack") for r in ("ANN", "CNN") for d in ("mnist", "fashion_mnist")}
    assert {r["model"] for r in runs} == {"kh_ann", "kh_cnn_best", "pack_mlp", "pack_cnn"}


def test_mcnemar_counts_agree_with_the_two_accuracies(comparison_run):
    tests = load_results(comparison_run[0], STEM)["figures"]["mcnemar"]
    assert len(tests) == 4
    for t in tests:
        # accuracy(ANN) - accuracy(CNN) = (only ANN right - only CNN right) / 10,000 test images
        assert t["ANN accuracy"] - t["CNN accuracy"] == pytest.approx(
            (t["only ANN right (b)"] - t["only CNN right (c)"]) / 10_000, abs=1e-9)
        assert 0 <= t["p-value"] <= 1
        assert t["verdict"] in {f"CNN {word} ANN" for word in ("above", "below", "consistent")}


def test_s06_records_the_kh_tables(comparison_run):
    fig = load_results(comparison_run[0], STEM)["figures"]
    roles = [row["role"] for row in fig["study_table"]]
    assert roles == ["ANN", "CNN", "CNN - ANN"]
    row = fig["study_table"][2]
    assert row["MNIST"] == pytest.approx(fig["study_table"][1]["MNIST"] - fig["study_table"][0]["MNIST"])
    assert set(fig["pack_best"]) == {"mnist", "fashion_mnist"}


def test_s06_records_what_the_report_reads(comparison_run):
    fig = load_results(comparison_run[0], STEM)[Record.FIGURES]
    assert set(WRITERS[STEM]) <= set(fig)
    assert all(set(Row) - ROW_OPTIONAL <= set(row) for row in fig[Figure.REPRODUCTION])


def test_a_second_run_reuses_every_model(comparison_run):
    out, _ = comparison_run
    (again,) = run_course("smoke", only=["s06"], params=PARAMS, output_dir=out, report=_quiet, progress=False,
                          force=True)
    fig = load_results(out, STEM)["figures"]
    assert again.status == "ran"
    assert fig["models_trained"] == 0 and fig["models_reused"] == 8


def test_the_course_report_shows_the_kh_rows_on_both_datasets(comparison_run):
    out, _ = comparison_run
    report = (out / "index.md").read_text()
    for model in ("kh_ann", "kh_cnn_best"):
        assert f"| mnist | kh · {model} |" in report and f"| fashion_mnist | kh · {model} |" in report
    assert "97.75%" in report and "98.89%" in report
