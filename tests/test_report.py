"""The course summary report, built from hand-written results files (no training)."""
import json
import re

import pytest

from fmnist_helpers.base.params import RESERVED_PARAMS
from fmnist_helpers.base.results import Figure, Record, Row
from fmnist_helpers.course import report
from fmnist_helpers.course.report import STUDY_COLUMNS, environment_summary, study_table, write_report
from fmnist_helpers.course.runner import CourseRunError, Outcome, run_course, write_index
from fmnist_helpers.studies import reference

ENV = {"python": "3.11.7", "numpy": "2.4.6", "tensorflow": "2.21.0", "keras": "3.15.1", "keras-tuner": "1.4.8",
       "machine": "x86_64", "processor": "x86_64", "cpu_count": 2}


def _row(model, study, reported, reproduced, kind=None, **extra):
    """A reproduction row with the contract's columns (`base.results.Row`)."""
    return {Row.MODEL: model, Row.STUDY: study, Row.KIND: kind, Row.REPORTED: reported,
            Row.REPORTED_FIGURE: "test accuracy" if reported is not None else "", Row.REPRODUCED: reproduced, **extra}


def _results(out, notebook, figures, dataset="fashion_mnist", updated="2025-01-01T00:00:00+00:00", env=None):
    path = out / "results" / f"{notebook}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        Record.SCHEMA: 1, Record.NOTEBOOK: notebook, Record.PARAMS: {"profile": "full", "dataset": dataset},
        Record.ENVIRONMENT: env or ENV, Record.COMPLETE: True, Record.WALL_TIME: 1.0, Record.UPDATED: updated,
        Record.FIGURES: figures}))


@pytest.fixture(autouse=True)
def no_detection(monkeypatch):
    """Devices and precision from the results files only, unless a test detects them itself."""
    def refuse():
        raise RuntimeError("no TensorFlow in these tests")

    monkeypatch.setattr(report, "detect_hardware", refuse)


def _outcome(notebook):
    return Outcome(notebook, "ran", 12.34, {"profile": "full", "output_dir": "/x", "dataset": "mnist"}, "k",
                   f"{notebook}.ipynb", f"{notebook}.html")


def _html_rows(page):
    """Cell texts of each <tr> after the 'Study numbers' heading, without the header row."""
    section = page.split("Study numbers vs this run</h2>")[1].split("</table>")[0]
    return [re.findall(r"<td>(.*?)</td>", tr) for tr in re.findall(r"<tr>(.*?)</tr>", section)][1:]


def _md_rows(text):
    section = text.split("## Study numbers vs this run")[1].split("\n## ")[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("| ")]
    return [[c.strip() for c in ln.strip("| ").split(" | ")] for ln in lines[1:]]


def test_study_row_shows_reported_beside_reproduced_and_the_pack_best_of_its_dataset_and_kind(tmp_path):
    _results(tmp_path, "03_mlp", {"reproduction": [_row("uw_mlp", "uw", 0.885, 0.8912, kind="mlp")],
                                  "pack_mlp_test_accuracy": 0.905})
    _results(tmp_path, "04_cnn", {"reproduction": [_row("uw_cnn", "uw", 0.92, 0.9150, kind="cnn")],
                                  "pack_cnn_test_accuracy": 0.93, "pack_tuned_test_accuracy": 0.935})
    _results(tmp_path, "04_cnn_mnist", {"pack_cnn_test_accuracy": 0.995}, dataset="mnist")
    table = study_table(tmp_path)
    assert list(table.columns) == STUDY_COLUMNS
    table = table.set_index("model")
    mlp, cnn = table.loc["uw_mlp"], table.loc["uw_cnn"]
    assert mlp["reported accuracy"] == 0.885 and mlp["reproduced accuracy"] == 0.8912
    assert mlp["difference (points)"] == pytest.approx(0.62) and mlp["verdict"] == "within noise"
    assert mlp["noise band (points)"] == pytest.approx(0.6228, abs=1e-4)  # 2 standard errors of 89.12% on 10,000
    assert mlp["pack best"] == 0.905 and mlp["pack margin (points)"] == pytest.approx(2.0)
    assert cnn["pack best"] == 0.935  # the tuned CNN beats the untuned one; MNIST's 0.995 is another dataset
    assert cnn["verdict"] == "within noise" and cnn["pack margin (points)"] == pytest.approx(1.5)


def test_a_row_shows_the_recorded_full_run_of_its_model(tmp_path):
    _results(tmp_path, "04_cnn", {"reproduction": [_row("wits_cnn", "wits", 0.895, 0.65, kind="cnn"),
                                                   _row("bu_cnn-fold2", "bu", 0.88, 0.6, kind="cnn")]})
    table = study_table(tmp_path).set_index("model")
    assert table.loc["wits_cnn", "recorded full run"] == reference.figure("wits_cnn")["test_accuracy"]
    assert table.loc["bu_cnn-fold2", "recorded full run"] == reference.figure("bu_cnn")["test_accuracy"]


def test_a_row_keeps_the_noise_band_its_notebook_measured(tmp_path):
    _results(tmp_path, "s06_ann_vs_cnn_studies", {"reproduction": [
        _row("kh_ann", "kh", 0.8803, 0.8486, kind="mlp", **{"noise band (points)": 8.7})]})
    row = study_table(tmp_path).set_index("model").loc["kh_ann"]
    assert row["noise band (points)"] == 8.7 and row["verdict"] == "within noise"  # -3.17 inside a seed spread


def test_a_rows_kind_comes_from_the_registry_when_it_records_none(tmp_path):
    _results(tmp_path, "03_mlp", {"reproduction": [_row("kh_ann", "kh", 0.88, 0.87), _row("kh_cnn", "kh", 0.9, 0.9)],
                                  "pack_mlp_test_accuracy": 0.9})
    table = study_table(tmp_path).set_index("model")
    assert table.loc["kh_ann", "kind"] == "mlp" and table.loc["kh_ann", "pack best"] == 0.9
    assert table.loc["kh_cnn", "kind"] == "cnn" and table["pack best"].isna()["kh_cnn"]


def test_a_models_kind_is_never_guessed_from_its_name():
    assert report.model_kind("bu_cnn-fold2") == "cnn"  # a fold of a registry model
    assert report.model_kind("pack_tuned", "cnn") == "cnn"  # a search winner, with the kind it was recorded with
    assert report.model_kind("kh_cnn", "mlp") == "cnn"  # the registry decides for its own models
    assert report.model_kind("annex_mlp") == report.UNKNOWN_KIND  # not in the registry, no kind recorded


def test_the_tuned_pack_cnns_accuracy_counts_as_the_pack_best_cnn(tmp_path):
    _results(tmp_path, "s05_tuning_studies", {Figure.PACK_TUNED_TEST_ACCURACY: 0.93})
    assert report.pack_best(report.load_all_results(tmp_path)) == {("fashion_mnist", "cnn"): 0.93}


def test_a_later_notebook_replaces_an_earlier_row_for_the_same_model(tmp_path):
    _results(tmp_path, "03_mlp", {"reproduction": [_row("aueb_mlp2", "aueb", 0.89, 0.80)]})
    _results(tmp_path, "05_tuning", {"reproduction": [_row("aueb_mlp2", "aueb", 0.89, 0.88)]})
    _results(tmp_path, "06_mnist", {"reproduction": [_row("aueb_mlp2", "aueb", 0.98, 0.97, dataset="mnist")]})
    table = study_table(tmp_path)
    fashion = table[table["dataset"] == "fashion_mnist"]
    assert fashion[["model", "reproduced accuracy", "notebook"]].values.tolist() == [["aueb_mlp2", 0.88, "05_tuning"]]
    assert table[table["dataset"] == "mnist"]["reproduced accuracy"].tolist() == [0.97]  # another dataset stays


def test_pack_rows_are_not_study_rows_but_count_as_the_pack_best(tmp_path):
    _results(tmp_path, "03_mlp", {"reproduction": [_row("wits_mlp", "wits", 0.88, 0.881, kind="mlp"),
                                                   _row("pack_mlp", "pack", None, 0.912, kind="mlp")],
                                  "pack_mlp_test_accuracy": 0.90})
    _results(tmp_path, "06_summary", {"pack_best": {"fashion_mnist": {"mlp": 0.911, "cnn": 0.94}}})
    table = study_table(tmp_path)
    assert table["model"].tolist() == ["wits_mlp"]
    assert table.loc[0, "pack best"] == 0.912 and table.loc[0, "pack margin (points)"] == pytest.approx(3.2)


def test_the_markdown_twin_holds_the_same_rows_as_the_html(tmp_path):
    _results(tmp_path, "03_mlp", {"reproduction": [_row("uw_mlp", "uw", 0.885, 0.8912, kind="mlp"),
                                                   _row("aueb_mlp3", "aueb", None, 0.89, kind="mlp")],
                                  "pack_mlp_test_accuracy": 0.905})
    _results(tmp_path, "04_cnn", {"reproduction": [_row("bu_cnn", "bu", 0.9314, 0.9222, kind="cnn")]})
    html_path, md_path = write_report(tmp_path, "full", [_outcome("03_mlp"), _outcome("04_cnn")])
    html_rows, md_rows = _html_rows(html_path.read_text()), _md_rows(md_path.read_text())
    assert len(html_rows) == 3 and html_rows == md_rows
    assert ["fashion_mnist", "uw", "uw_mlp", "mlp", "test accuracy", "88.50%", "89.12%", "89.50%", "+0.62", "±0.62",
            "within noise", "90.50%", "+2.00", "03_mlp"] in md_rows
    assert ["fashion_mnist", "aueb", "aueb_mlp3", "mlp", "-", "-", "89.00%", "88.81%", "-", "±0.63", "no reported figure",
            "90.50%", "-", "03_mlp"] in md_rows
    markdown = md_path.read_text()
    assert "[HTML](03_mlp.html)" in markdown and "[results](results/03_mlp.json)" in markdown


def test_write_index_writes_both_files_with_links_to_each_notebook(tmp_path):
    _results(tmp_path, "03_mlp", {})
    path = write_index(tmp_path, "quick", [_outcome("03_mlp"), _outcome("04_cnn")])
    page = path.read_text()
    assert path == tmp_path / "index.html" and (tmp_path / "index.md").is_file()
    assert 'href="03_mlp.html"' in page and 'href="03_mlp.ipynb"' in page and 'href="results/03_mlp.json"' in page
    assert 'href="04_cnn.html"' in page and 'href="results/04_cnn.json"' not in page  # 04 recorded nothing
    assert "output_dir" not in page and "{&quot;dataset&quot;: &quot;mnist&quot;}" in page


def test_the_report_hides_exactly_the_parameters_the_runner_sets_itself(tmp_path):
    outcome = Outcome("03_mlp", "ran", 1.0, {**{name: "x" for name in RESERVED_PARAMS}, "seed": 7}, "k", "03_mlp.ipynb")
    (row,) = report.notebook_rows(tmp_path, [outcome])
    assert row[3] == '{"seed": 7}'
    for name in RESERVED_PARAMS:
        with pytest.raises(CourseRunError, match=f"set {name} with --profile / --output-dir"):
            run_course("smoke", params={name: "x"}, output_dir=tmp_path, report=lambda _msg: None)


def test_an_empty_folder_gives_an_empty_table_and_a_report_saying_so(tmp_path):
    table = study_table(tmp_path)
    assert table.empty and list(table.columns) == STUDY_COLUMNS
    html_path, md_path = write_report(tmp_path, "smoke", [])
    for text in (html_path.read_text(), md_path.read_text()):
        assert report.NO_RESULTS in text and report.NO_NOTEBOOKS in text
    assert "<td>uw" not in html_path.read_text()


def test_the_environment_shows_the_recorded_versions_and_precision(tmp_path):
    _results(tmp_path, "03_mlp", {}, updated="2025-01-01T00:00:00+00:00",
             env={**ENV, "tensorflow": "2.15.0"})
    _results(tmp_path, "06_summary", {"hardware": {"machine": "x86_64", "gpus": [], "cpu_bfloat16": True},
                                      "precision": "mixed_bfloat16"}, updated="2025-01-02T00:00:00+00:00")
    env = environment_summary(tmp_path)
    assert env["tensorflow"] == "2.21.0" and env["versions recorded by"] == "06_summary"  # the newest file
    assert env["devices"] == "CPU only (bfloat16 instructions: yes)"
    assert env["precision"] == "mixed_bfloat16" and env["mixed precision"] == "on"
    html_path, md_path = write_report(tmp_path, "full", [])
    assert "| keras-tuner | 1.4.8 |" in md_path.read_text() and "| mixed precision | on |" in md_path.read_text()
    assert "<td>mixed precision</td><td>on</td>" in html_path.read_text()


def test_float32_means_mixed_precision_off(tmp_path):
    _results(tmp_path, "06_summary", {"hardware": {"gpus": ["8.0"]}, "precision": "float32"})
    env = environment_summary(tmp_path)
    assert env["mixed precision"] == "off" and env["devices"] == "GPU (1: compute capability 8.0)"


def test_devices_and_precision_are_detected_when_not_recorded_else_unknown(tmp_path, monkeypatch):
    _results(tmp_path, "03_mlp", {})
    assert environment_summary(tmp_path)["precision"] == "unknown"  # detection fails in these tests
    assert environment_summary(tmp_path)["mixed precision"] == "unknown"
    monkeypatch.setattr(report, "detect_hardware", lambda: ({"gpus": ["9.0"]}, "mixed_float16"))
    env = environment_summary(tmp_path)
    assert env["devices"] == "GPU (1: compute capability 9.0)" and env["mixed precision"] == "on"
    assert env["devices and precision from"] == "detected when this report was written"


def test_html_escapes_model_names(tmp_path):
    _results(tmp_path, "03_mlp", {"reproduction": [_row("mlp<script>", "x&y", 0.8, 0.81, kind="mlp")]})
    html_path, md_path = write_report(tmp_path, "full", [])
    page = html_path.read_text()
    assert "mlp<script>" not in page and "mlp&lt;script&gt;" in page and "x&amp;y" in page
    assert "mlp\\<script>" in md_path.read_text()  # markdown shows "<" rather than reading a tag
