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


def test_a_run_that_trained_the_epochs_and_kept_the_last_ends_there():
    table = pd.concat([_history([0.7, 0.8, 0.9]), _history([0.6, 0.5, 0.4], metric="loss")])
    assert history.ends_at_epoch(table, Recipe(restore_best=True, early_stopping=3), 3)


def test_a_run_that_kept_an_earlier_epoch_does_not_end_at_its_last():
    table = pd.concat([_history([0.7, 0.9, 0.8]), _history([0.6, 0.4, 0.5], metric="loss")])
    assert not history.ends_at_epoch(table, Recipe(restore_best=True, early_stopping=3), 3)
    assert not history.ends_at_epoch(table, Recipe(restore_best=True, early_stopping=3), 2)


def test_a_run_that_trained_more_epochs_than_asked_does_not_end_there():
    assert not history.ends_at_epoch(_history([0.7, 0.8, 0.9]), Recipe(), 2)


@pytest.mark.slow
def test_a_retraining_that_ends_at_the_epoch_gives_the_fresh_runs_predictions(tmp_path):
    """The claim s05 relies on: the same seed repeats a run step for step in this pack's pipeline."""
    import numpy as np

    from conftest import synthetic_dataset
    from fmnist_helpers.base.params import Profile
    from fmnist_helpers.data.splits import holdout_split
    from fmnist_helpers.models.registry import get_spec, with_recipe
    from fmnist_helpers.training.fit import train_model

    split = holdout_split(synthetic_dataset(n_train=600, n_test=100), 120, seed=0)
    profile = Profile("test", "test", train_subset=None, max_epochs=3, embedding_points=0, augment_examples=0)
    spec = get_spec("uw_cnn")   # a small CNN at batch 32, in the precision the hardware gains from
    retrain = train_model(with_recipe(spec, epochs=20, early_stopping=3, restore_best=True), split, profile, seed=7,
                          output_dir=tmp_path, name="retrain", progress="none")
    fresh = train_model(with_recipe(spec, epochs=3, restore_best=False), split, profile, seed=7, output_dir=tmp_path, name="fresh",
                        progress="none")
    assert retrain.record["epochs_run"] == fresh.record["epochs_run"] == 3
    assert history.ends_at_epoch(retrain.history, retrain.spec.recipe, 3)   # validation loss fell every epoch
    np.testing.assert_allclose(retrain.test_proba, fresh.test_proba, atol=1e-6)
