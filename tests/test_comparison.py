"""The ANN-vs-CNN comparison: the kh deltas, the models each role uses, and reuse of saved runs."""
import json

import numpy as np
import pandas as pd
import pytest

from conftest import synthetic_dataset
from fmnist_helpers.studies import comparison
from fmnist_helpers.analysis import evaluation
from fmnist_helpers.base.results import ROW_OPTIONAL, Row
from fmnist_helpers.models import published, registry as models, tuning
from fmnist_helpers.training import fit as training
from fmnist_helpers.base.params import ParameterError, Profile

ONE_EPOCH = Profile("test", "unit tests", train_subset=None, max_epochs=1, embedding_points=0, augment_examples=0)
SMALL = models.with_recipe(models.get_spec("kh_cnn"), batch_size=50, split="test-as-validation")


KH_TABLE = pd.DataFrame(published.KH_TABLE)


def test_with_deltas_adds_the_by_model_row_and_by_dataset_column():
    table = comparison.with_deltas(KH_TABLE)
    assert table.loc["CNN - ANN", "MNIST"] == pytest.approx(0.9889 - 0.9775)
    assert table.loc["ANN", "MNIST - Fashion-MNIST"] == pytest.approx(0.9775 - 0.8803)
    assert table.loc["CNN - ANN", "MNIST - Fashion-MNIST"] == pytest.approx((0.9889 - 0.9775) - (0.9063 - 0.8803))


def test_with_deltas_names_what_is_missing():
    with pytest.raises(ValueError, match="MNIST"):
        comparison.with_deltas(KH_TABLE.drop(columns="MNIST"))


def test_kh_table_takes_the_mean_over_seeds_of_one_pair():
    runs = pd.DataFrame([{"source": "pack", "role": r, "dataset": d, "test_accuracy": acc + 0.01 * s}
                         for r, d, acc in [("ANN", "mnist", 0.98), ("CNN", "mnist", 0.99),
                                           ("ANN", "fashion_mnist", 0.90), ("CNN", "fashion_mnist", 0.93)]
                         for s in (-1, 1)])
    table = comparison.kh_table(evaluation.seed_summary(runs, by=["source", "role", "dataset"]), "pack")
    assert table.loc["CNN", "Fashion-MNIST"] == pytest.approx(0.93)
    assert table.loc["CNN - ANN", "Fashion-MNIST"] == pytest.approx(0.03)
    with pytest.raises(ValueError, match="no runs of the 'study' pair"):
        comparison.kh_table(evaluation.seed_summary(runs, by=["source", "role", "dataset"]), "study")


def test_tuned_keeps_the_recipe_of_the_space_the_tuning_study_searched(tmp_path):
    values = {"block1_filters": 40, "block2_filters": 80, "dense_units": 256, "head_dropout": 0.1, "learning_rate": 0.004}
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "s05_tuning_studies.json").write_text(json.dumps(
        {"figures": {"pack_search": {"plan": {"space": "pack-wide"}, "best_values": values}}}))
    cnn = comparison.comparison_models(tmp_path, pack_cnn="tuned")["pack"]["CNN"]
    assert cnn.key == "pack_tuned" and cnn.recipe == tuning.pack_tuned_spec(values, space="pack-wide").recipe
    assert cnn.recipe.epochs == 28


def test_in_full_the_tuning_studys_untuned_cnn_is_the_pack_cnn_s06_repeats():
    from fmnist_helpers.training import search

    untuned = tuning.get_space(search.profile_plan("pack", "full").space).default_model
    assert untuned == comparison.pack_cnn_for(None, "full") == "pack_cnn_fast"


def test_a_pack_cnn_named_for_s06_overrides_the_profiles_choice():
    assert comparison.pack_cnn_for("pack_cnn_wide", "full") == "pack_cnn_wide"


def test_tuned_plays_the_pack_cnn_the_tuning_study_tuned_when_it_has_run(tmp_path):
    values = {"block1_filters": 48, "block2_filters": 96, "dense_units": 128, "head_dropout": 0.3, "learning_rate": 0.002}
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "s05_tuning_studies.json").write_text(json.dumps(
        {"figures": {"pack_search": {"best_values": values}}}))
    roles = comparison.comparison_models(tmp_path, pack_cnn="tuned")
    assert roles["pack"]["CNN"].key == "pack_tuned" and roles["pack"]["CNN"].kind == "cnn"
    assert "block2_filters=96" in roles["pack"]["CNN"].notes and roles["study"]["CNN"].key == "kh_cnn_best"


def test_reproduction_rows_put_the_kh_figure_beside_the_mean():
    summary = pd.DataFrame({"mean": [0.975, 0.93]}, index=pd.MultiIndex.from_tuples(
        [("study", "ANN", "mnist"), ("pack", "CNN", "fashion_mnist")], names=["source", "role", "dataset"]))
    roles = {"study": {"ANN": models.get_spec("kh_ann")}, "pack": {"CNN": models.get_spec("pack_cnn")}}
    study, pack = comparison.reproduction_rows(summary, roles)
    assert (study["model"], study["dataset"], study["reported accuracy"]) == ("kh_ann", "mnist", 0.9775)
    assert study["reproduced test accuracy"] == 0.975 and study["kind"] == "mlp"
    assert pack["study"] == "pack" and pack["reported accuracy"] is None


def test_reproduction_rows_carry_every_column_the_report_reads():
    summary = pd.DataFrame({"mean": [0.9]}, index=pd.MultiIndex.from_tuples(
        [("study", "CNN", "fashion_mnist")], names=["source", "role", "dataset"]))
    (row,) = comparison.reproduction_rows(summary, {"study": {"CNN": models.get_spec("kh_cnn_best")}})
    assert set(Row) - ROW_OPTIONAL <= set(row)
    assert row[Row.REPORTED] == published.REPORTED["kh_cnn_best"]["test_accuracy"]


# ----------------------------------------------------------------- reuse, don't retrain

def _repeats(tmp_path, ds, seeds):
    return training.train_repeats(SMALL, ds, ONE_EPOCH, seeds, output_dir=tmp_path, precision="float32",
                                  progress="none")


@pytest.mark.slow
def test_repeats_reuse_a_run_saved_under_the_plain_name(tmp_path):
    ds = synthetic_dataset(400, 60)
    earlier = training.train_on_dataset(SMALL, ds, ONE_EPOCH, seed=42, output_dir=tmp_path, precision="float32",
                                        progress="none")
    first, second = _repeats(tmp_path, ds, [42, 43])
    assert first.reused and first.name == "kh_cnn" and np.array_equal(first.test_proba, earlier.test_proba)
    assert not second.reused and second.name == "kh_cnn-synthetic-seed43"
    assert not training.model_paths(tmp_path, "kh_cnn-synthetic-seed42")["record"].exists()


@pytest.mark.slow
def test_a_plain_name_run_reuses_the_repeat_of_its_seed_saved_earlier(tmp_path):
    ds = synthetic_dataset(400, 60)
    first, _ = _repeats(tmp_path, ds, [42, 43])
    later = training.train_on_dataset(SMALL, ds, ONE_EPOCH, seed=42, output_dir=tmp_path, precision="float32",
                                      progress="none")
    assert later.reused and later.name == "kh_cnn-synthetic-seed42"
    assert np.array_equal(later.test_proba, first.test_proba)
    other_seed = training.train_on_dataset(SMALL, ds, ONE_EPOCH, seed=44, output_dir=tmp_path, precision="float32",
                                           progress="none")
    assert not other_seed.reused and other_seed.name == "kh_cnn"


def test_repeats_are_reused_on_a_second_call(tmp_path):
    ds = synthetic_dataset(400, 60)
    _repeats(tmp_path, ds, [1, 2])
    assert all(r.reused for r in _repeats(tmp_path, ds, [1, 2]))


def test_a_run_on_other_data_is_not_reused_and_not_overwritten(tmp_path):
    ds = synthetic_dataset(400, 60)
    other = synthetic_dataset(400, 60, seed=1)
    other.y_train[:] = (other.y_train + 1) % 10  # same indices, other labels: another dataset
    other.y_test[:] = (other.y_test + 1) % 10
    earlier = training.train_on_dataset(SMALL, ds, ONE_EPOCH, seed=42, output_dir=tmp_path, precision="float32",
                                        progress="none")
    (run,) = _repeats(tmp_path, other, [42])
    assert not run.reused
    kept = training.load_trained(tmp_path, "kh_cnn")
    assert kept.record["fingerprint"] == earlier.record["fingerprint"]


def test_repeats_need_at_least_one_seed(tmp_path):
    with pytest.raises(ValueError, match="at least one seed"):
        _repeats(tmp_path, synthetic_dataset(400, 60), [])


def _finished_tuning_study(folder):
    (folder / "results").mkdir()
    (folder / "results" / "s05_tuning_studies.json").write_text(json.dumps(
        {"figures": {"pack_search": {"best_values": {"block1_filters": 64, "block2_filters": 128}}}}))


def test_the_registry_pack_cnn_asked_for_plays_even_after_the_tuning_study(tmp_path):
    _finished_tuning_study(tmp_path)
    assert comparison.comparison_models(tmp_path, pack_cnn="pack_cnn_wide")["pack"]["CNN"].key == "pack_cnn_wide"
    assert comparison.comparison_models(tmp_path)["pack"]["CNN"].key == "pack_cnn"


def test_tuned_falls_back_to_the_untuned_pack_cnn_before_the_tuning_study_has_run(tmp_path):
    assert comparison.comparison_models(tmp_path, pack_cnn="tuned")["pack"]["CNN"].key == "pack_cnn"


def test_tuned_falls_back_when_only_lesson_05_has_run_since_the_lesson_tunes_no_pack_cnn(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "05_tuning.json").write_text(json.dumps(
        {"figures": {"demo": {"best_val_accuracy": 0.83, "worst_val_accuracy": 0.2}}}))
    assert comparison.comparison_models(tmp_path, pack_cnn="tuned")["pack"]["CNN"].key == "pack_cnn"


def test_s06_uses_the_speed_benchmarks_pack_cnn_fast_by_default_in_full_only():
    assert comparison.pack_cnn_for(None, "full") == "pack_cnn_fast"
    assert comparison.pack_cnn_for(None, "quick") == "pack_cnn"
    assert comparison.pack_cnn_for(None, "smoke") == "pack_cnn"
    assert comparison.pack_cnn_for("tuned", "quick") == "tuned"


def test_a_pack_cnn_that_is_not_offered_is_refused_with_the_accepted_values():
    with pytest.raises(ParameterError, match="pack_cnn='kh_cnn' is not accepted; choose one of: 'pack_cnn', "
                                             "'pack_cnn_fast', 'pack_cnn_wide', 'tuned'"):
        comparison.pack_cnn_for("kh_cnn", "quick")
