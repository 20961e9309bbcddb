"""The statistics module against SciPy and statsmodels, and its verdict words.

Each reference case is computed by the reference implementation in the test, never typed in: Wilson intervals by
statsmodels' `proportion_confint`, McNemar's exact p by statsmodels' `mcnemar` and SciPy's `binomtest`, the seed
t-interval by SciPy's `ttest_1samp`, Newcombe's interval by statsmodels' `confint_proportions_2indep`.
"""
import json
import re

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from fmnist_helpers.analysis import statistics
from fmnist_helpers.base.paths import notebooks_dir

TOL = 1e-6

WILSON_CASES = [(0, 10), (1, 10), (5, 10), (10, 10), (102, 1_000), (100, 1_000), (8_912, 10_000), (9_950, 10_000),
                (1_100, 10_000), (12, 12_000)]
MCNEMAR_CASES = [(0, 0), (0, 1), (1, 9), (4, 4), (12, 13), (40, 20), (120, 60), (300, 310), (555, 0), (1_020, 880)]
SEED_CASES = [([0.91, 0.90], [0.88, 0.89]),  # two seeds: an interval, but no verdict
              ([0.8486, 0.7869], [0.9041, 0.9040]),
              ([0.91, 0.90, 0.92], [0.88, 0.89, 0.88]),
              ([0.91, 0.92, 0.93], [0.85, 0.86, 0.86]),
              ([0.80, 0.81, 0.79, 0.80, 0.82], [0.81, 0.80, 0.80, 0.79, 0.81])]
UNPAIRED_CASES = [(0.82, 10_000, 0.97, 10_000), (0.90, 1_000, 0.89, 1_000), (0.101, 1_000, 0.099, 1_000),
                  (0.5, 12_000, 0.48, 10_000), (1.0, 100, 0.95, 100)]


@pytest.mark.parametrize("correct, n", WILSON_CASES)
def test_the_wilson_interval_matches_statsmodels(correct, n):
    low, high = proportion_confint(correct, n, alpha=0.05, method="wilson")
    interval = statistics.wilson_interval(correct, n)
    assert interval.low == pytest.approx(low, abs=TOL) and interval.high == pytest.approx(high, abs=TOL)


@pytest.mark.parametrize("b, c", MCNEMAR_CASES)
def test_the_exact_mcnemar_p_value_matches_statsmodels_and_scipy(b, c):
    p = statistics.paired_counts(b, c, 10_000).p_value
    assert p == pytest.approx(sm_mcnemar([[0, b], [c, 0]], exact=True).pvalue, abs=TOL)
    if b + c:
        assert p == pytest.approx(scipy_stats.binomtest(b, b + c, 0.5).pvalue, abs=TOL)


@pytest.mark.parametrize("b, c", [(40, 20), (300, 310), (1_020, 880)])
def test_the_chi_square_mcnemar_matches_statsmodels_with_continuity_correction(b, c):
    ref = sm_mcnemar([[0, b], [c, 0]], exact=False, correction=True)
    test = statistics.mcnemar_counts(b, c, exact=False)
    assert test.statistic == pytest.approx(ref.statistic, abs=TOL) and test.p_value == pytest.approx(ref.pvalue, abs=TOL)


@pytest.mark.parametrize("a, b", SEED_CASES)
def test_the_seed_t_interval_matches_scipy(a, b):
    ref = scipy_stats.ttest_1samp(np.subtract(a, b), 0.0).confidence_interval(0.95)
    interval = statistics.seed_difference(a, b).interval
    assert interval.low == pytest.approx(ref.low, abs=TOL) and interval.high == pytest.approx(ref.high, abs=TOL)


@pytest.mark.parametrize("acc_a, n_a, acc_b, n_b", UNPAIRED_CASES)
def test_the_unpaired_interval_matches_statsmodels_newcombe(acc_a, n_a, acc_b, n_b):
    low, high = confint_proportions_2indep(round(acc_a * n_a), n_a, round(acc_b * n_b), n_b, method="newcomb")
    interval = statistics.unpaired(acc_a, n_a, acc_b, n_b).interval
    assert interval.low == pytest.approx(low, abs=TOL) and interval.high == pytest.approx(high, abs=TOL)


def test_two_seeds_give_no_verdict_however_far_apart():
    assert statistics.seed_difference([0.95, 0.96], [0.10, 0.11]).verdict == statistics.TOO_FEW_SEEDS


def test_one_seed_gives_no_interval():
    comparison = statistics.seed_difference([0.9], [0.8])
    assert comparison.interval is None and comparison.verdict == statistics.TOO_FEW_SEEDS


def test_three_seeds_clearly_apart_give_a_verdict():
    assert statistics.seed_difference([0.91, 0.92, 0.93], [0.85, 0.86, 0.86]).verdict == statistics.ABOVE
    assert statistics.seed_difference([0.85, 0.86, 0.86], [0.91, 0.92, 0.93]).verdict == statistics.BELOW


def test_seed_scores_of_different_lengths_are_refused():
    with pytest.raises(ValueError):
        statistics.seed_difference([0.9, 0.8, 0.7], [0.9, 0.8])


def test_a_reported_figure_inside_the_wilson_interval_is_consistent():
    interval = statistics.wilson_interval(9_000, 10_000)
    assert statistics.against_reported(0.90, 10_000, interval.high - 1e-4).verdict == statistics.CONSISTENT


def test_a_reproduction_above_or_below_its_interval_says_so():
    assert statistics.against_reported(0.92, 10_000, 0.90).verdict == statistics.ABOVE
    assert statistics.against_reported(0.88, 10_000, 0.90).verdict == statistics.BELOW


def test_a_reproduction_at_chance_is_labelled_so_before_any_comparison():
    assert statistics.against_reported(0.105, 1_000, 0.90, classes=10).verdict == statistics.AT_CHANCE


@pytest.mark.parametrize("accuracy, n, label", [(0.10, 1_000, statistics.AT_CHANCE), (0.118, 1_000, statistics.AT_CHANCE),
                                                (0.013, 1_000, statistics.BELOW_CHANCE), (0.15, 1_000, None),
                                                (0.11, 10_000, None)])
def test_chance_label_follows_the_wilson_interval_against_one_over_classes(accuracy, n, label):
    assert statistics.chance_label(accuracy, n, classes=10) == label
    interval = statistics.accuracy_interval(accuracy, n)
    assert (label == statistics.AT_CHANCE) == interval.contains(0.1)


def test_the_paired_verdict_names_the_model_right_on_more_disagreements():
    assert statistics.paired_counts(120, 60, 10_000).verdict == statistics.ABOVE
    assert statistics.paired_counts(60, 120, 10_000).verdict == statistics.BELOW
    assert statistics.paired_counts(20, 24, 10_000).verdict == statistics.CONSISTENT


def test_the_paired_verdict_matches_the_exact_test_at_five_percent():
    for b, c in MCNEMAR_CASES:
        comparison = statistics.paired_counts(b, c, 10_000)
        assert (comparison.verdict == statistics.CONSISTENT) == (comparison.p_value >= 0.05)


def test_the_paired_bootstrap_is_the_same_on_every_call():
    assert statistics.paired_bootstrap_interval(120, 60, 10_000) == statistics.paired_bootstrap_interval(120, 60, 10_000)


def test_the_paired_bootstrap_agrees_with_the_normal_interval_on_many_images():
    b, c, n = 700, 500, 10_000
    pb, pc = b / n, c / n
    half = 1.959964 * np.sqrt((pb + pc - (pb - pc) ** 2) / n)
    interval = statistics.paired_bootstrap_interval(b, c, n)
    assert interval.low == pytest.approx(0.02 - half, abs=5e-4) and interval.high == pytest.approx(0.02 + half, abs=5e-4)


def test_paired_counts_images_from_predictions():
    y = np.array([0, 1, 2, 3, 4, 5])
    comparison = statistics.paired(y, np.array([0, 1, 2, 0, 0, 5]), np.array([0, 0, 0, 3, 4, 5]))
    assert (comparison.only_a, comparison.only_b, comparison.n) == (2, 2, 6)
    assert comparison.difference == 0.0


def test_the_unpaired_verdict_is_wider_than_the_paired_one_on_the_same_images():
    # 9,000 vs 8,950 right of 10,000, with 75 and 25 disagreements: paired finds a difference, unpaired cannot
    assert statistics.paired_counts(75, 25, 10_000).verdict == statistics.ABOVE
    assert statistics.unpaired(0.90, 10_000, 0.895, 10_000).verdict == statistics.CONSISTENT


def test_every_verdict_word_is_explained_in_the_primers_glossary():
    nb = json.loads((notebooks_dir() / "00_primer.ipynb").read_text(encoding="utf-8"))
    glossary = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    entry = glossary[glossary.index('<a id="glossary-verdicts">'):]
    for word in statistics.VERDICTS:
        assert re.search(rf"\*\*{re.escape(word)}\*\*", entry), word
