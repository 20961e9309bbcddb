"""A run's history: the tidy table, and the one rule for the best epoch that training, search and the grid use."""
import pandas as pd
import pytest

from fmnist_helpers.models.registry import Recipe
from fmnist_helpers.training import history


def _history(values, metric="accuracy"):
    return pd.DataFrame([(e, "validation", metric, v) for e, v in enumerate(values, start=1)],
                        columns=history.COLUMNS)


def test_tidy_history_drops_the_learning_rate_and_splits_val_keys():
    table = history.tidy_history({"loss": [1.0], "val_accuracy": [0.5], "learning_rate": [0.1]})
    assert table.values.tolist() == [[1, "train", "loss", 1.0], [1, "validation", "accuracy", 0.5]]


def test_best_epoch_is_the_highest_validation_accuracy():
    assert history.best_epoch(_history([0.80, 0.86, 0.85, 0.87, 0.84])) == 4


def test_best_epoch_takes_the_earliest_of_equal_scores():
    assert history.best_epoch(_history([0.80, 0.87, 0.87, 0.86])) == 2


def test_best_epoch_by_loss_is_the_lowest():
    assert history.best_epoch(_history([0.5, 0.4, 0.45], metric="loss"), metric="loss") == 2


def test_best_epoch_names_what_the_history_lacks():
    with pytest.raises(ValueError, match="no validation 'accuracy'"):
        history.best_epoch(_history([0.5], metric="loss"))


def test_a_model_that_does_not_restore_keeps_its_last_epoch():
    assert history.kept_epoch(_history([0.9, 0.8, 0.7]), Recipe(restore_best=False)) == 3


def test_a_model_that_restores_without_early_stopping_keeps_its_most_accurate_epoch():
    assert history.kept_epoch(_history([0.7, 0.9, 0.8]), Recipe(restore_best=True)) == 2


def test_a_model_that_stops_early_keeps_its_lowest_loss_epoch():
    table = pd.concat([_history([0.7, 0.9, 0.8]), _history([0.5, 0.6, 0.4], metric="loss")])
    assert history.kept_epoch(table, Recipe(restore_best=True, early_stopping=2)) == 3


def test_epoch_values_gives_every_metric_of_one_epoch():
    table = pd.concat([_history([0.7, 0.9]), _history([0.5, 0.6], metric="loss")])
    assert history.epoch_values(table, 2).to_dict() == {("validation", "accuracy"): 0.9, ("validation", "loss"): 0.6}
