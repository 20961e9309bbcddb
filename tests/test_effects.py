"""Each lesson's stated effect is judged from the numbers its run records (`course/effects.py`), and the part of
`make check-lessons` that fits CI runs a lesson in the student's profile and finds its effect."""
import json
from dataclasses import asdict

import pytest

from fmnist_helpers.course.effects import PROSE, EFFECTS, check_lessons, effects_table, judge, judge_run, prose_rows
from fmnist_helpers.course.notebooks import lesson_notebooks
from fmnist_helpers.base.paths import notebooks_dir

BY_NAME = {e.name: e for e in EFFECTS}


def test_every_effect_belongs_to_an_existing_lesson():
    lessons = {p.stem for p in lesson_notebooks(notebooks_dir())}
    assert {e.lesson for e in EFFECTS} <= lessons


def test_a_cnn_ahead_on_many_disagreements_beats_the_mlp_beyond_chance():
    m = judge(BY_NAME["cnn_beats_mlp"], {"cnn_test_accuracy": 0.88, "mlp_test_accuracy": 0.85,
                                         "only_cnn_right": 700, "only_mlp_right": 400}, "fashion_mnist")
    assert m.holds and "McNemar p" in m.size


def test_a_cnn_ahead_on_a_handful_of_images_is_within_chance():
    m = judge(BY_NAME["cnn_beats_mlp"], {"cnn_test_accuracy": 0.8802, "mlp_test_accuracy": 0.8800,
                                         "only_cnn_right": 12, "only_mlp_right": 10}, "fashion_mnist")
    assert not m.holds


def test_a_cnn_behind_the_mlp_does_not_beat_it_however_many_images_differ():
    m = judge(BY_NAME["cnn_beats_mlp"], {"cnn_test_accuracy": 0.80, "mlp_test_accuracy": 0.81,
                                         "only_cnn_right": 300, "only_mlp_right": 400}, "mnist")
    assert not m.holds


def test_the_strong_cnn_must_beat_the_wits_cnn_beyond_chance_under_the_same_recipe():
    ahead = {"strong_test_accuracy": 0.90, "wits_test_accuracy": 0.81, "only_strong_right": 1100,
             "only_wits_right": 200}
    assert judge(BY_NAME["strong_beats_wits_same_recipe"], ahead, "fashion_mnist").holds
    level = dict(ahead, strong_test_accuracy=0.8101, only_strong_right=15, only_wits_right=14)
    assert not judge(BY_NAME["strong_beats_wits_same_recipe"], level, "fashion_mnist").holds


def _gaps(plain_eval, dropout_eval, plain=10.0, dropout=3.0):
    return {"gap_plain_eval_points": plain_eval, "gap_dropout_eval_points": dropout_eval,
            "gap_plain_points": plain, "gap_dropout_points": dropout}


def test_an_overfitting_gap_under_3_points_does_not_show_the_lesson():
    assert not judge(BY_NAME["overfitting_gap"], _gaps(2.5, 1.0), "mnist").holds
    assert judge(BY_NAME["overfitting_gap"], _gaps(6.0, 2.0), "mnist").holds


def test_regularisation_that_widens_the_gap_fails_the_effect():
    assert not judge(BY_NAME["overfitting_gap"], _gaps(6.0, 7.0), "mnist").holds


def test_the_gap_is_judged_with_dropout_switched_off_not_as_keras_reports_it_in_training():
    assert not judge(BY_NAME["overfitting_gap"], _gaps(6.0, 6.5, plain=10.0, dropout=2.0), "mnist").holds


def test_a_search_spread_whose_interval_includes_zero_is_not_a_finding():
    demo = {"best_val_accuracy": 0.85, "worst_val_accuracy": 0.84, "val_images": 2_000}
    assert not judge(BY_NAME["search_beyond_uncertainty"], demo, "mnist").holds


def test_a_search_spread_whose_interval_lies_above_zero_is_a_finding():
    demo = {"best_val_accuracy": 0.85, "worst_val_accuracy": 0.80, "val_images": 2_000}
    measured = judge(BY_NAME["search_beyond_uncertainty"], demo, "mnist")
    assert measured.holds and "+5.0 points, 95% interval" in measured.size


def test_the_ann_vs_cnn_lesson_needs_its_effect_on_both_datasets():
    win = {"cnn_test_accuracy": 0.9, "mlp_test_accuracy": 0.85, "only_cnn_right": 800, "only_mlp_right": 300}
    tie = {"cnn_test_accuracy": 0.9, "mlp_test_accuracy": 0.9, "only_cnn_right": 50, "only_mlp_right": 50}
    effect = BY_NAME["cnn_beats_mlp_on_both_datasets"]
    assert judge(effect, {"fashion_mnist": win, "mnist": win}, "mnist").holds
    assert not judge(effect, {"fashion_mnist": win, "mnist": tie}, "mnist").holds


def test_a_missing_or_garbled_demo_record_is_a_failure_that_says_why():
    missing = judge(BY_NAME["cnn_beats_mlp"], None, "mnist")
    garbled = judge(BY_NAME["cnn_beats_mlp"], {"cnn_test_accuracy": 0.9}, "mnist")
    assert not missing.holds and "recorded no `demo`" in missing.size
    assert not garbled.holds and "mlp_test_accuracy" in garbled.size


def test_an_incomplete_lesson_run_counts_as_no_record(tmp_path):
    (tmp_path / "results").mkdir()
    record = {"complete": False, "figures": {"demo": {"cnn_test_accuracy": 0.9, "mlp_test_accuracy": 0.8,
                                                      "only_cnn_right": 900, "only_mlp_right": 100}}}
    (tmp_path / "results" / "04_cnn.json").write_text(json.dumps(record))
    rows = judge_run(tmp_path, "mnist", 42, [BY_NAME["cnn_beats_mlp"]])
    assert [r.holds for r in rows] == [False]


def test_the_table_counts_the_effects_that_hold(tmp_path):
    rows = judge_run(tmp_path, "mnist", 42)
    assert effects_table(rows).splitlines()[-1] == (f"0 of {len(EFFECTS)} effects hold; the prose of 0 of 0 executed "
                                                    "notebooks agrees with its numbers")


def test_only_a_lesson_without_an_effect_is_refused():
    with pytest.raises(ValueError, match="names no lesson with an effect"):
        check_lessons(only=["00"])


@pytest.mark.slow
def test_lesson_06s_cnn_beats_its_mlp_on_both_datasets_in_the_students_quick_run(tmp_path):
    """CI's part of `make check-lessons`: one lesson, one seed, in the default profile. Lesson 06 trains its pair on
    both datasets, so one run covers both, in about 45 s against 04's 110 s (2-core CPU, idle)."""
    rows = check_lessons(datasets=["fashion_mnist"], seeds=[42], only=["06"], output_root=tmp_path,
                         report=lambda line: None)
    assert [(r.lesson, r.effect, r.holds) for r in rows] == [
        ("06_ann_vs_cnn", "cnn_beats_mlp_on_both_datasets", True),
        ("06_ann_vs_cnn", PROSE, True)], effects_table(rows)


def _fake_run(folder, claim_value="above"):
    """A run folder as the runner leaves it: `runs.json`, one executed notebook and its results record holding one
    claim whose sentence the notebook shows."""
    import nbformat

    from fmnist_helpers.analysis import claims
    from fmnist_helpers.base.atomic import write_json_atomic

    claim = asdict(claims.unpaired("c", ("a", 0.9, 1_000), ("b", 0.8, 1_000)))
    claim["value"] = claim_value
    record = {"complete": True, "figures": {"claims": {"c": claim}}}
    (folder / "results").mkdir(parents=True)
    write_json_atomic(folder / "results" / "03_mlp.json", record)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("claims.show(c)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=claim["text"])]
    nb.cells = [cell]
    nbformat.write(nb, folder / "03_mlp.ipynb")
    write_json_atomic(folder / "runs.json", {"03_mlp": {"notebook": "03_mlp", "status": "ran", "output": "03_mlp.ipynb"}})
    return folder


def test_a_notebook_whose_claims_hold_gets_a_prose_row_that_holds(tmp_path):
    rows = prose_rows(_fake_run(tmp_path / "run"), "mnist", 42)
    assert [(r.lesson, r.effect, r.holds, r.size) for r in rows] == [
        ("03_mlp", PROSE, True, "1 claims checked, no problem")]


def test_a_verdict_its_inputs_do_not_support_fails_the_prose_row_and_says_which(tmp_path):
    rows = prose_rows(_fake_run(tmp_path / "run", claim_value="consistent"), "mnist", 42)
    assert [r.holds for r in rows] == [False]
    assert "c: says 'consistent', its inputs give 'above'" in rows[0].size
