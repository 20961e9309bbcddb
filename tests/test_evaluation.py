"""Scores and tables, checked on small hand-made cases; McNemar against hand-computed cases, mean +- sd
over seeds, per-class fixes."""
import math

import numpy as np
import pandas as pd
import pytest

from fmnist_helpers.analysis import evaluation, statistics

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


def test_on_mnist_only_a_studys_mnist_figure_is_compared():
    records = [
        {"name": "kh_ann", "study": "kh", "reported_params": 1, "parameters": 1, "n_test": 10_000,
         "reported": {"test_accuracy": 0.8803, "mnist_test_accuracy": 0.9775}, "test_accuracy": 0.978,
         "epochs_run": 1, "train_time_s": 1.0},
        {"name": "uw_mlp", "study": "uw", "reported_params": 1, "parameters": 1, "n_test": 10_000,
         "reported": {"test_accuracy": 0.8939}, "test_accuracy": 0.97, "epochs_run": 1, "train_time_s": 1.0},
    ]
    table = evaluation.reproduction_table(records, dataset="mnist")
    assert table.loc["kh_ann", "reported accuracy"] == 0.9775 and table.loc["kh_ann", "verdict"] == "consistent"
    assert table.loc["kh_ann", "reported figure"] == "mnist test accuracy"
    assert table.loc["uw_mlp", "verdict"] == "no reported figure"  # its Fashion-MNIST 89.39% is not compared


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
    assert table.loc["m1", "interval low"] == pytest.approx(statistics.wilson_interval(9_100, 10_000).low)
    assert table.loc["m2", "reported figure"] == "val accuracy"
    assert table.loc["m2", "verdict"] == "below"
    assert table.loc["m3", "verdict"] == "no reported figure"


# ----------------------------------------------------------------- repeats and paired tests

def _pair(only_a: int, only_b: int, both_right: int = 50, both_wrong: int = 5):
    """Labels and two prediction vectors with the given agreement counts (all labels 0; wrong = 1)."""
    a = [0] * only_a + [1] * only_b + [0] * both_right + [1] * both_wrong
    b = [1] * only_a + [0] * only_b + [0] * both_right + [1] * both_wrong
    return np.zeros(len(a), int), np.array(a), np.array(b)


def test_mcnemar_counts_only_the_disagreements():
    test = evaluation.mcnemar(*_pair(7, 3, both_right=900, both_wrong=40))
    assert (test.only_a, test.only_b, test.disagreements) == (7, 3, 10)


def test_mcnemar_exact_p_value_matches_the_binomial_by_hand():
    # b=1, c=9: P(X<=1) for X~Bin(10, 1/2) = (1 + 10) / 1024; two-sided doubles it
    test = evaluation.mcnemar(*_pair(1, 9))
    assert test.method == "exact"
    assert test.p_value == pytest.approx(2 * 11 / 1024)


def test_mcnemar_exact_p_value_is_one_for_an_even_split():
    assert evaluation.mcnemar(*_pair(4, 4)).p_value == 1.0


def test_mcnemar_with_no_disagreements_finds_no_difference():
    test = evaluation.mcnemar(*_pair(0, 0))
    assert test.p_value == 1.0 and not test.significant()


def test_mcnemar_chi_square_with_continuity_correction_by_hand():
    # b=40, c=20: (|40 - 20| - 1)^2 / 60 = 361 / 60 = 6.0167; p = P(chi2_1 > 6.0167) = 0.01417
    test = evaluation.mcnemar(*_pair(40, 20))
    assert test.method == "chi-square"
    assert test.statistic == pytest.approx(361 / 60)
    assert test.p_value == pytest.approx(0.014171, abs=1e-5)


def test_mcnemar_switches_to_chi_square_at_25_disagreements():
    assert evaluation.mcnemar(*_pair(12, 12)).method == "exact"
    assert evaluation.mcnemar(*_pair(13, 12)).method == "chi-square"


def test_mcnemar_exact_and_chi_square_agree_on_a_large_sample():
    pair = _pair(130, 90)
    exact, approx = evaluation.mcnemar(*pair, exact=True), evaluation.mcnemar(*pair, exact=False)
    assert exact.p_value == pytest.approx(approx.p_value, rel=0.1)
    assert exact.significant() and approx.significant()


def test_mcnemar_is_symmetric_in_the_two_models():
    y, a, b = _pair(30, 12)
    assert evaluation.mcnemar(y, a, b).p_value == pytest.approx(evaluation.mcnemar(y, b, a).p_value)


def test_mcnemar_rejects_predictions_of_another_length():
    with pytest.raises(ValueError, match="one length"):
        evaluation.mcnemar(np.zeros(5), np.zeros(5), np.zeros(4))


def test_mcnemar_sentence_gives_a_verdict_word_for_the_first_model():
    clear = evaluation.mcnemar(*_pair(10, 60))
    assert "the ANN is below the CNN at the 5% level" in evaluation.mcnemar_sentence(clear, "the ANN", "the CNN")
    close = evaluation.mcnemar(*_pair(20, 24))
    assert "the ANN is consistent with the CNN" in evaluation.mcnemar_sentence(close, "the ANN", "the CNN")


def test_mcnemar_sentence_says_what_the_p_value_is_the_chance_of():
    sentence = evaluation.mcnemar_sentence(evaluation.mcnemar(*_pair(10, 60)), "the ANN", "the CNN")
    assert "a split at least this lopsided would have probability p = " in sentence


def test_seed_summary_gives_mean_and_sample_sd_per_group():
    runs = pd.DataFrame({"model": ["a", "a", "a", "b"], "test_accuracy": [0.90, 0.92, 0.94, 0.80]})
    table = evaluation.seed_summary(runs, by=["model"])
    assert table.loc["a", "mean"] == pytest.approx(0.92)
    assert table.loc["a", "sd"] == pytest.approx(0.02)  # n - 1 in the denominator
    assert table.loc["b", "sd"] == 0.0 and table.loc["b", "n"] == 1
    assert table.loc["a", "mean +- sd"] == "92.00% +- 2.00"


def test_seed_summary_says_a_single_seed_has_no_sd_rather_than_a_zero_one():
    runs = pd.DataFrame({"model": ["a", "b", "b"], "test_accuracy": [0.9104, 0.90, 0.92]})
    table = evaluation.seed_summary(runs, by=["model"])
    assert table.loc["a", "mean +- sd"] == "91.04% (one seed, no sd)"
    assert table.loc["b", "mean +- sd"] == "91.00% +- 1.41"


def test_seed_summary_names_a_missing_column():
    with pytest.raises(ValueError, match="no column"):
        evaluation.seed_summary(pd.DataFrame({"model": ["a"]}), by=["model"])


def test_class_fixes_counts_what_the_second_model_fixes_and_breaks():
    y = np.array([0, 0, 0, 1, 1, 1])
    a = np.array([0, 1, 1, 1, 1, 0])  # class 0: 1/3 right; class 1: 2/3
    b = np.array([0, 0, 1, 0, 1, 1])  # class 0: 2/3 right; class 1: 2/3
    table = evaluation.class_fixes(y, a, b, ["zero", "one"])
    assert table.loc["zero", "B fixes"] == 1 and table.loc["zero", "B breaks"] == 0
    assert table.loc["one", "B fixes"] == 1 and table.loc["one", "B breaks"] == 1
    assert table.loc["zero", "both wrong"] == 1
    assert table.loc["zero", "B - A"] == pytest.approx(1 / 3)
    assert math.isclose(table.loc["one", "B - A"], 0.0, abs_tol=1e-12)
