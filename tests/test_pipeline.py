"""What training and search share: the precision a recipe trains in, steps per call, the train/validation pipeline."""
import numpy as np

from conftest import synthetic_dataset
from fmnist_helpers.data.splits import holdout_split
from fmnist_helpers.models.registry import Recipe
from fmnist_helpers.training import pipeline

SPLIT = holdout_split(synthetic_dataset(200, 20), 50, seed=0)


def test_auto_precision_keeps_float32_where_the_recipe_says_bfloat16_does_not_pay(monkeypatch):
    monkeypatch.setattr(pipeline, "choose_precision", lambda requested: "mixed_bfloat16")
    assert pipeline.training_precision("auto", Recipe(cpu_bfloat16=False)) == "float32"
    assert pipeline.training_precision("auto", Recipe(cpu_bfloat16=True)) == "mixed_bfloat16"


def test_an_explicit_precision_is_kept_whatever_the_recipe_says():
    assert pipeline.training_precision("mixed_bfloat16", Recipe(cpu_bfloat16=False)) == "mixed_bfloat16"


def test_steps_per_call_is_at_most_one_epochs_steps():
    assert pipeline.steps_per_epoch(300, 50) == 6 and pipeline.steps_per_call(6) == 6
    assert pipeline.steps_per_call(10_000) == pipeline.STEPS_PER_EXECUTION


def test_one_hot_recipes_get_labels_over_the_given_number_of_classes():
    train, val = pipeline.train_val_datasets(SPLIT, Recipe(one_hot=True), batch_size=25, seed=0, flip=True,
                                             num_classes=12)
    (_, labels), (_, val_labels) = next(iter(train)), next(iter(val))
    assert labels.shape == (25, 12) and val_labels.shape == (50, 12)


def test_sparse_recipes_get_integer_labels():
    train, _ = pipeline.train_val_datasets(SPLIT, Recipe(), batch_size=25, seed=0, flip=True, num_classes=10)
    _, labels = next(iter(train))
    assert labels.shape == (25,) and np.issubdtype(labels.numpy().dtype, np.integer)
