"""Scores and tables, checked on small hand-made cases."""
import numpy as np
import pandas as pd
import pytest

from fmnist_helpers.analysis import evaluation

NAMES = ("a", "b", "c")
Y_TRUE = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
Y_PRED = np.array([0, 0, 1, 2, 1, 1, 2, 2, 0, 0])


def test_confusion_matrix_counts_true_rows_against_predicted_columns():
    assert evaluation.confusion_matrix(Y_TRUE, Y_PRED, 3).tolist() == [[2, 1, 1], [0, 2, 0], [2, 0, 2]]


def test_normalised_confusion_rows_sum_to_one():
    table = evaluation.confusion_table(Y_TRUE, Y_PRED, NAMES, normalize=True)
    assert table.loc["a"].tolist() == [0.5, 0.25, 0.25]
    assert np.allclose(table.sum(axis=1), 1.0)
    assert table.index.name == "true class" and table.columns.name == "predicted class"


def test_per_class_accuracy_is_the_diagonal_share_of_each_true_class():
    assert evaluation.per_class_accuracy(Y_TRUE, Y_PRED, NAMES).to_dict() == {"a": 0.5, "b": 1.0, "c": 0.5}


def test_per_class_accuracy_is_nan_for_a_class_without_images():
    acc = evaluation.per_class_accuracy(np.array([0, 0]), np.array([0, 1]), NAMES)
    assert acc["a"] == 0.5 and np.isnan(acc["c"])


def test_most_confused_pairs_are_ordered_by_count():
    pairs = evaluation.most_confused_pairs(Y_TRUE, Y_PRED, NAMES, top=2)
    assert pairs[["true", "predicted as", "count"]].values.tolist() == [["c", "a", 2], ["a", "b", 1]]
    assert pairs["share of true class"].tolist() == [0.5, 0.25]


def test_labels_outside_the_classes_are_refused():
    with pytest.raises(ValueError, match="outside 0..2"):
        evaluation.confusion_matrix(np.array([0, 3]), np.array([0, 1]), 3)
    with pytest.raises(ValueError, match="same length"):
        evaluation.confusion_matrix(np.array([0, 1]), np.array([0]), 3)


HISTORY = pd.DataFrame(
    [(e, s, m, v) for e, vals in enumerate([(0.9, 0.7, 1.0, 0.65), (0.5, 0.9, 0.8, 0.75)], start=1)
     for (s, m), v in zip([("train", "loss"), ("train", "accuracy"), ("validation", "loss"),
                           ("validation", "accuracy")], vals)],
    columns=["epoch", "split", "metric", "value"])


def test_epoch_table_has_one_row_per_epoch():
    table = evaluation.epoch_table(HISTORY)
    assert list(table.columns) == ["loss", "accuracy", "val loss", "val accuracy"]
    assert table.loc[2].tolist() == [0.5, 0.9, 0.8, 0.75]


def test_overfitting_gap_is_train_minus_validation_accuracy():
    assert evaluation.overfitting_gap(HISTORY).round(4).tolist() == [0.05, 0.15]


@pytest.mark.parametrize("diff, expected", [(0.3, "within noise"), (-0.6, "within noise"), (1.2, "above"),
                                            (-2.0, "below"), (float("nan"), "no reported figure")])
def test_verdict_calls_differences_inside_the_band_noise(diff, expected):
    assert evaluation.verdict(diff, 0.6) == expected


def test_on_mnist_only_a_studys_mnist_figure_is_compared():
    records = [
        {"name": "kh_ann", "study": "kh", "reported_params": 1, "parameters": 1, "n_test": 10_000,
         "reported": {"test_accuracy": 0.8803, "mnist_test_accuracy": 0.9775}, "test_accuracy": 0.978,
         "epochs_run": 1, "train_time_s": 1.0},
        {"name": "uw_mlp", "study": "uw", "reported_params": 1, "parameters": 1, "n_test": 10_000,
         "reported": {"test_accuracy": 0.8939}, "test_accuracy": 0.97, "epochs_run": 1, "train_time_s": 1.0},
    ]
    table = evaluation.reproduction_table(records, dataset="mnist")
    assert table.loc["kh_ann", "reported accuracy"] == 0.9775 and table.loc["kh_ann", "verdict"] == "within noise"
    assert table.loc["kh_ann", "reported figure"] == "mnist test accuracy"
    assert table.loc["uw_mlp", "verdict"] == "no reported figure"  # its Fashion-MNIST 89.39% is not compared


def test_noise_band_of_one_score_is_two_binomial_standard_errors():
    band = evaluation.noise_band(0.9, 10_000)
    assert band.standard_error_points == pytest.approx(0.3)
    assert band.points == pytest.approx(0.6) and band.seed_sd_points is None
    assert band.basis == "the test set's sampling error"


def test_noise_band_takes_the_seed_spread_when_it_is_larger():
    band = evaluation.noise_band([0.8486, 0.7869], 10_000)
    assert band.seed_sd_points == pytest.approx(4.363, abs=1e-3)
    assert band.points == pytest.approx(2 * band.seed_sd_points)
    assert band.basis == "the spread between seeds"
    assert "seed sd 4.36 points" in band.sentence()


def test_noise_band_shrinks_with_a_bigger_test_set():
    assert evaluation.noise_band(0.9, 40_000).points == pytest.approx(evaluation.noise_band(0.9, 10_000).points / 2)


@pytest.mark.parametrize("bad", [[], [0.9, float("nan")]])
def test_noise_band_refuses_missing_scores(bad):
    with pytest.raises(ValueError, match="finite numbers"):
        evaluation.noise_band(bad, 10_000)


def test_noise_band_refuses_an_empty_test_set():
    with pytest.raises(ValueError, match="positive number of test images"):
        evaluation.noise_band(0.9, 0)


def test_reproduction_table_puts_the_studys_figure_beside_ours():
    records = [
        {"name": "m1", "study": "s", "reported_params": 10, "parameters": 10, "reported": {"test_accuracy": 0.9},
         "test_accuracy": 0.91, "epochs_run": 3, "train_time_s": 1.0, "n_test": 10_000},
        {"name": "m2", "study": "s", "reported_params": None, "parameters": 5, "reported": {"val_accuracy": 0.88},
         "test_accuracy": 0.85, "epochs_run": 3, "train_time_s": 1.0, "n_test": 10_000},
        {"name": "m3", "study": "pack", "reported_params": None, "parameters": 5, "reported": {},
         "test_accuracy": 0.95, "epochs_run": 3, "train_time_s": 1.0, "n_test": 10_000},
    ]
    table = evaluation.reproduction_table(records)
    assert table.loc["m1", "difference (points)"] == pytest.approx(1.0)
    assert table.loc["m1", "verdict"] == "above"
    assert table.loc["m1", "noise band (points)"] == pytest.approx(2 * 100 * (0.91 * 0.09 / 10_000) ** 0.5)
    assert table.loc["m2", "reported figure"] == "val accuracy"
    assert table.loc["m2", "verdict"] == "below"
    assert table.loc["m3", "verdict"] == "no reported figure"
