"""Repeats and paired tests: McNemar against hand-computed cases, mean +- sd over seeds, per-class fixes."""
import math

import numpy as np
import pandas as pd
import pytest

from fmnist_helpers.analysis import evaluation


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


def test_mcnemar_sentence_names_the_better_model_only_beyond_noise():
    clear = evaluation.mcnemar(*_pair(10, 60))
    assert "the CNN is better beyond noise" in evaluation.mcnemar_sentence(clear, "the ANN", "the CNN")
    close = evaluation.mcnemar(*_pair(20, 24))
    assert "within noise" in evaluation.mcnemar_sentence(close, "the ANN", "the CNN")


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
