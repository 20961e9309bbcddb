"""The course summary report, built from hand-written results files (no training)."""
import html
import json
import re

import pytest

from fmnist_helpers.analysis import statistics
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


def _model(study, val, test, key=None, kind=None):
    return {"key": key, "study": study, "val_accuracy": val, "test_accuracy": test, "kind": kind}


def test_a_reported_figure_inside_the_wilson_interval_of_the_reproduction_is_consistent(tmp_path):
    _results(tmp_path, "s03_mlp_studies", {"reproduction": [_row("uw_mlp", "uw", 0.885, 0.8912, kind="mlp"),
                                                            _row("kh_ann", "kh", 0.8803, 0.8486, kind="mlp")]})
    table = study_table(tmp_path)
    assert list(table.columns) == STUDY_COLUMNS
    table = table.set_index("model")
    uw, kh = table.loc["uw_mlp"], table.loc["kh_ann"]
    interval = statistics.wilson_interval(8_912, 10_000)
    assert (uw["interval low"], uw["interval high"]) == (interval.low, interval.high)
    assert uw["verdict"] == "consistent"  # 88.50% lies inside [88.29%, 89.73%]
    assert kh["verdict"] == "below" and kh["images"] == 10_000 and kh["seeds"] == 1


def test_a_seed_mean_names_its_seeds(tmp_path):
    _results(tmp_path, "s06_ann_vs_cnn_studies", {"reproduction": [
        _row("kh_ann", "kh", 0.8803, 0.8486, kind="mlp", **{"seeds": 2})]})
    html_path, md_path = write_report(tmp_path, "full", [])
    (row,) = _md_rows(md_path.read_text())
    assert row[-1] == "s06_ann_vs_cnn_studies, 2 seeds (mean)"


def test_a_reported_validation_figure_is_set_against_the_validation_score(tmp_path):
    _results(tmp_path, "s04_cnn_studies", {"reproduction": [
        {**_row("bu_cnn", "bu", 0.9314, 0.80, kind="cnn"), "reported figure": "val accuracy",
         "reproduced validation accuracy": 0.931, "validation images": 20_000}]})
    row = study_table(tmp_path).set_index("model").loc["bu_cnn"]
    assert row["compared on"] == "validation" and row["reproduced accuracy"] == 0.931 and row["images"] == 20_000
    assert row["verdict"] == "consistent"
    assert row["recorded full run"] == reference.figure("bu_cnn")["val_accuracy"]


def test_a_validation_figure_without_a_reproduced_validation_score_gets_no_verdict(tmp_path):
    _results(tmp_path, "s04_cnn_studies", {"reproduction": [
        {**_row("bu_cnn", "bu", 0.9314, 0.80, kind="cnn"), "reported figure": "val accuracy"}]})
    assert study_table(tmp_path).loc[0, "verdict"] == "no validation score reproduced"


def test_a_reproduction_at_chance_is_labelled_so(tmp_path):
    _results(tmp_path, "s04_cnn_studies", {"reproduction": [_row("uw_cnn", "uw", 0.92, 0.1005, kind="cnn")]})
    assert study_table(tmp_path).loc[0, "verdict"] == "at chance"


def test_a_row_shows_the_recorded_full_run_of_its_model(tmp_path):
    _results(tmp_path, "04_cnn", {"reproduction": [_row("wits_cnn", "wits", 0.895, 0.65, kind="cnn"),
                                                   _row("bu_cnn-fold2", "bu", 0.88, 0.6, kind="cnn")]})
    table = study_table(tmp_path).set_index("model")
    assert table.loc["wits_cnn", "recorded full run"] == reference.figure("wits_cnn")["test_accuracy"]
    assert table.loc["bu_cnn-fold2", "recorded full run"] == reference.figure("bu_cnn")["test_accuracy"]
    assert table.loc["wits_cnn", "vs recorded"] == "below"


def test_a_row_says_whether_the_recorded_full_run_reproduced_the_studys_figure(tmp_path):
    _results(tmp_path, "s04_cnn_studies", {"reproduction": [_row("wits_cnn", "wits", 0.895, 0.65, kind="cnn"),
                                                            _row("uw_cnn", "uw", 0.9161, 0.65, kind="cnn")]})
    table = study_table(tmp_path).set_index("model")
    recorded = {m: reference.figure(m)["test_accuracy"] for m in ("wits_cnn", "uw_cnn")}
    expected = {m: statistics.against_reported(recorded[m], 10_000, reported, classes=10).verdict
                for m, reported in (("wits_cnn", 0.895), ("uw_cnn", 0.9161))}
    assert table["full run vs study"].to_dict() == expected
    assert expected["wits_cnn"] == "above"  # 91.38% on 10,000 images: 89.50% lies below its interval


def test_a_rows_kind_comes_from_the_registry_when_it_records_none(tmp_path):
    _results(tmp_path, "03_mlp", {"reproduction": [_row("kh_ann", "kh", 0.88, 0.87), _row("kh_cnn", "kh", 0.9, 0.9)]})
    table = study_table(tmp_path).set_index("model")
    assert table.loc["kh_ann", "kind"] == "mlp" and table.loc["kh_cnn", "kind"] == "cnn"


def test_a_models_kind_is_never_guessed_from_its_name():
    assert report.model_kind("bu_cnn-fold2") == "cnn"  # a fold of a registry model
    assert report.model_kind("pack_tuned", "cnn") == "cnn"  # a search winner, with the kind it was recorded with
    assert report.model_kind("kh_cnn", "mlp") == "cnn"  # the registry decides for its own models
    assert report.model_kind("annex_mlp") == report.UNKNOWN_KIND  # not in the registry, no kind recorded


def test_the_pack_best_is_chosen_by_validation_not_by_test_accuracy(tmp_path):
    _results(tmp_path, "s04_cnn_studies", {"models": {"pack_cnn": _model("pack", 0.93, 0.925, key="pack_cnn"),
                                                      "wits_cnn": _model("wits", 0.99, 0.99, key="wits_cnn")}})
    _results(tmp_path, "s05_tuning_studies", {"models": {
        "pack_tuned": _model("pack", 0.92, 0.94, kind="cnn"),  # the higher test score, the lower validation score
        "pack_mlp": _model("pack", 0.90, 0.89, key="pack_mlp")}})
    best = report.pack_best(report.load_all_results(tmp_path))
    assert set(best) == {("fashion_mnist", "cnn"), ("fashion_mnist", "mlp")}  # study models never count
    assert best["fashion_mnist", "cnn"] == {"name": "pack_cnn", "val": 0.93, "test": 0.925,
                                            "source": "s04_cnn_studies", "seed": "1 seed"}


def test_a_pack_model_of_unknown_kind_is_not_a_pack_best(tmp_path):
    _results(tmp_path, "s05_tuning_studies", {"models": {"pack_search_winner": _model("pack", 0.99, 0.99)}})
    assert report.pack_best(report.load_all_results(tmp_path)) == {}


def test_the_pack_best_table_names_its_notebook_and_seed(tmp_path):
    _results(tmp_path, "s03_mlp_studies", {"models": {"pack_mlp": _model("pack", 0.90, 0.89, key="pack_mlp")}})
    record = json.loads((tmp_path / "results" / "s03_mlp_studies.json").read_text())
    record["params"]["seed"] = 42
    (tmp_path / "results" / "s03_mlp_studies.json").write_text(json.dumps(record))
    (row,) = report.pack_rows(report.pack_best(report.load_all_results(tmp_path)))
    assert row[:5] == ["fashion_mnist", "mlp", "pack_mlp", "90.00%", "89.00%"]
    assert row[-1] == "s03_mlp_studies, seed 42"


def test_a_later_notebook_replaces_an_earlier_row_for_the_same_model(tmp_path):
    _results(tmp_path, "03_mlp", {"reproduction": [_row("aueb_mlp2", "aueb", 0.89, 0.80)]})
    _results(tmp_path, "05_tuning", {"reproduction": [_row("aueb_mlp2", "aueb", 0.89, 0.88)]})
    _results(tmp_path, "06_mnist", {"reproduction": [_row("aueb_mlp2", "aueb", 0.98, 0.97, dataset="mnist")]})
    table = study_table(tmp_path)
    fashion = table[table["dataset"] == "fashion_mnist"]
    assert fashion[["model", "reproduced accuracy", "source notebook"]].values.tolist() == [["aueb_mlp2", 0.88, "05_tuning"]]
    assert table[table["dataset"] == "mnist"]["reproduced accuracy"].tolist() == [0.97]  # another dataset stays


def test_pack_rows_are_not_study_rows(tmp_path):
    _results(tmp_path, "03_mlp", {"reproduction": [_row("wits_mlp", "wits", 0.88, 0.881, kind="mlp"),
                                                   _row("pack_mlp", "pack", None, 0.912, kind="mlp")]})
    assert study_table(tmp_path)["model"].tolist() == ["wits_mlp"]


def test_the_markdown_twin_holds_the_same_rows_as_the_html(tmp_path):
    _results(tmp_path, "03_mlp", {"reproduction": [_row("uw_mlp", "uw", 0.885, 0.8912, kind="mlp"),
                                                   _row("aueb_mlp3", "aueb", None, 0.89, kind="mlp")]})
    _results(tmp_path, "04_cnn", {"reproduction": [_row("bu_cnn", "bu", 0.9314, 0.9222, kind="cnn")]})
    html_path, md_path = write_report(tmp_path, "full", [_outcome("03_mlp"), _outcome("04_cnn")])
    html_rows, md_rows = _html_rows(html_path.read_text()), _md_rows(md_path.read_text())
    assert len(html_rows) == 3 and html_rows == md_rows
    uw = [r for r in md_rows if "uw_mlp" in r[1]][0]
    interval = statistics.wilson_interval(8_912, 10_000)
    assert uw[:7] == ["fashion_mnist", "uw · uw_mlp", "test", "88.50%", "89.12%",
                      f"{interval.low * 100:.2f}-{interval.high * 100:.2f}%", "consistent"]
    assert uw[-1] == "03_mlp, 1 seed"
    aueb = [r for r in md_rows if "aueb_mlp3" in r[1]][0]
    assert aueb[3] == "-" and aueb[6] == "no reported figure"
    markdown = md_path.read_text()
    assert "[HTML](03_mlp.html)" in markdown and "[results](results/03_mlp.json)" in markdown


def test_the_page_opens_with_a_banner_in_every_profile_but_full(tmp_path):
    _results(tmp_path, "03_mlp", {"reproduction": [_row("uw_mlp", "uw", 0.885, 0.8912, kind="mlp")]})
    for profile in ("smoke", "quick"):
        html_path, md_path = write_report(tmp_path, profile, [])
        page = html_path.read_text()
        assert page.index('class="banner"') < page.index("<h2>")
        assert "not a reproduction" in page and "recorded full run" in page
        assert md_path.read_text().split("\n")[2].startswith(f"> This is a `{profile}` run")
    html_path, _ = write_report(tmp_path, "full", [])
    assert 'class="banner"' not in html_path.read_text()


def test_the_page_embeds_the_figure_with_alt_text_before_the_table(tmp_path):
    _results(tmp_path, "03_mlp", {"reproduction": [_row("uw_mlp", "uw", 0.885, 0.8912, kind="mlp"),
                                                   _row("kh_ann", "kh", 0.8803, 0.8486, kind="mlp")]})
    html_path, md_path = write_report(tmp_path, "quick", [])
    page = html_path.read_text()
    assert (tmp_path / report.FIGURE_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = re.search(r'<img src="summary\.png\?v=\d+" alt="([^"]+)"', page)
    assert img and "Of 2 rows, this run against the studies' figures: 1 below, 1 consistent;" in html.unescape(img.group(1))
    assert page.index("<img") < page.index("Study numbers vs this run")
    assert "![Dot plot" in md_path.read_text()


def test_no_study_rows_means_no_figure(tmp_path):
    (tmp_path / report.FIGURE_FILE).write_bytes(b"old")
    html_path, _ = write_report(tmp_path, "quick", [])
    assert not (tmp_path / report.FIGURE_FILE).exists() and "<img" not in html_path.read_text()


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
