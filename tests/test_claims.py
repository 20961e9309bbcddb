"""Data-driven sentences: what each kind of claim says, and that it is recorded beside the run's figures."""
import json

import pytest

from fmnist_helpers.analysis import claims
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


@pytest.mark.parametrize("a, b, band, expected", [(0.86, 0.85, 0.5, "above"), (0.85, 0.86, 0.5, "below"),
                                                  (0.8604, 0.8600, 0.5, "within noise"),
                                                  (0.86, 0.85, 1.5, "within noise")])
def test_compare_judges_the_difference_against_the_band(a, b, band, expected):
    claim = claims.compare("c", ("a", a), ("b", b), band)
    assert claim.value == expected and claim.band == band
    assert f"noise band of +-{band:.2f}" in claim.text


def test_compare_writes_a_gap_between_accuracies_in_points_not_as_a_percentage():
    claim = claims.compare("gap", ("reg", 0.012), ("plain", 0.034), 1.0, what="overfitting gap", fmt=claims.points)
    assert claim.value == "below" and "%" not in claim.text
    assert "overfitting gap (+1.20 points) is below `plain`'s (+3.40 points)" in claim.text


def test_compare_refuses_a_negative_band():
    with pytest.raises(ValueError, match="noise band"):
        claims.compare("c", ("a", 0.9), ("b", 0.8), -1)


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
