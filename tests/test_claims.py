"""Data-driven sentences: what each kind of claim says, and that it is recorded beside the run's figures."""
import json

import numpy as np
import pytest

from fmnist_helpers.analysis import claims, statistics
from fmnist_helpers.base.results import ResultsRecord

SCORES = {"uw_mlp": 0.8687, "kh_ann": 0.8486, "pack_mlp": 0.8482}


def test_best_names_the_highest_score_and_the_runner_up():
    claim = claims.best("strongest_mlp", SCORES, what="fully connected model")
    assert claim.value == "uw_mlp" and claim.kind == "best"
    assert "`uw_mlp` (86.87%)" in claim.text and "next is `kh_ann` (84.86%)" in claim.text


def test_best_with_lowest_names_the_weakest():
    claim = claims.best("weakest_mlp", SCORES, what="fully connected model", lowest=True)
    assert claim.value == "pack_mlp" and claim.kind == "worst" and "weakest" in claim.text


def test_best_refuses_no_scores_and_nan_scores():
    with pytest.raises(ValueError, match="at least one score"):
        claims.best("x", {}, what="model")
    with pytest.raises(ValueError, match="not a number"):
        claims.best("x", {"a": float("nan")}, what="model")


def test_best_leaves_scores_at_chance_out_of_the_ranking():
    claim = claims.best("under_shift", {"ann": 0.105, "cnn": 0.42, "pack": 0.013}, what="model", n=1_000)
    assert claim.value == "cnn" and "next is" not in claim.text
    assert claim.extra["not_ranked"] == {"ann": "at chance", "pack": "below chance"}
    assert "`ann` (10.50%, at chance)" in claim.text


def test_best_ranks_nothing_when_every_score_is_at_chance():
    claim = claims.best("rotated_90", {"ann": 0.105, "cnn": 0.098}, what="model under a 90 degree turn", n=1_000)
    assert claim.value == "at chance" and "none is ranked" in claim.text


def _predictions(only_a, only_b, both=800, neither=100):
    y = np.zeros(only_a + only_b + both + neither, dtype=int)
    a = np.concatenate([np.zeros(only_a), np.ones(only_b), np.zeros(both), np.ones(neither)]).astype(int)
    b = np.concatenate([np.ones(only_a), np.zeros(only_b), np.zeros(both), np.ones(neither)]).astype(int)
    return y, a, b


@pytest.mark.parametrize("only_a, only_b, expected", [(60, 10, "above"), (10, 60, "below"), (20, 24, "consistent")])
def test_paired_takes_its_verdict_from_mcnemars_exact_test(only_a, only_b, expected):
    y, a, b = _predictions(only_a, only_b)
    claim = claims.paired("c", ("cnn", a), ("mlp", b), y)
    assert claim.value == expected == statistics.paired_counts(only_a, only_b, len(y)).verdict
    assert expected in claim.text and "McNemar's exact test" in claim.text
    assert (claim.extra["only_a"], claim.extra["only_b"], claim.extra["n"]) == (only_a, only_b, len(y))


def test_paired_does_not_rank_two_models_at_chance():
    y = np.arange(1_000) % 10
    claim = claims.paired("c", ("a", (y + 1) % 10 * (np.arange(1_000) % 9 != 0)), ("b", (y + 3) % 10), y, classes=10)
    assert claim.value in ("at chance", "below chance") and "not ranked" in claim.text


def test_seeds_with_two_seeds_says_too_few_seeds_to_tell():
    claim = claims.seeds("c", ("kh_cnn", [0.90, 0.84]), ("kh_ann", [0.85, 0.79]))
    assert claim.value == "too few seeds to tell" and "too few seeds to tell" in claim.text
    assert "1 degree of freedom" in claim.text


def test_seeds_with_three_seeds_gives_the_t_interval_verdict():
    claim = claims.seeds("c", ("kh_cnn", [0.91, 0.92, 0.93]), ("kh_ann", [0.85, 0.86, 0.86]))
    assert claim.value == "above" and "2 degrees of freedom" in claim.text


def test_reported_checks_the_figure_against_the_wilson_interval():
    assert claims.reported("r", ("here", 0.90, 10_000), ("study", 0.9040)).value == "consistent"
    assert claims.reported("r", ("here", 0.90, 10_000), ("study", 0.92)).value == "below"


def test_unpaired_judges_scores_on_different_images():
    claim = claims.unpaired("u", ("mnist", 0.82, 10_000), ("fashion_mnist", 0.68, 10_000))
    assert claim.value == "above" and "Newcombe" in claim.text


def test_rising_compares_the_last_value_with_the_first():
    assert claims.rising("r", {"epoch 1": 0.8, "epoch 2": 0.79, "epoch 3": 0.81}, what="accuracy").value == "rose"
    flat = claims.rising("r", {"epoch 1": 0.8687, "epoch 2": 0.8687}, what="validation accuracy")
    assert flat.value == "did not rise" and "did not rise" in flat.text


def test_value_puts_the_number_in_the_sentence():
    claim = claims.value("v", "The pack MLP scores {} on the test set.", 0.9087)
    assert claim.text == "The pack MLP scores 90.87% on the test set." and claim.value == 0.9087


def test_show_records_the_claim_in_the_results_file(tmp_path, capsys):
    record = ResultsRecord.start(tmp_path, "03_mlp")
    claims.show(claims.best("strongest_mlp", SCORES, what="model", source="models.{}.test_accuracy"), record)
    claims.show(claims.value("v", "{} of it.", 0.5), record)

    data = json.loads(record.path.read_text())
    assert set(data["figures"]["claims"]) == {"strongest_mlp", "v"}
    assert data["figures"]["claims"]["strongest_mlp"]["inputs"] == SCORES
    assert data["figures"]["claims"]["strongest_mlp"]["source"] == "models.{}.test_accuracy"
