import numpy as np
import pytest

from conftest import synthetic_dataset
from fmnist_helpers.data import splits

DS = synthetic_dataset()


def test_holdout_has_the_requested_sizes_and_keeps_the_test_set():
    s = splits.holdout_split(DS, val_size=120, seed=1)
    assert s.sizes() == {"train": 480, "validation": 120, "test": 100}
    assert s.x_test is DS.x_test


def test_holdout_is_stratified():
    s = splits.holdout_split(DS, val_size=120, seed=1)
    assert np.bincount(s.y_val).tolist() == [12] * 10


def test_same_seed_gives_the_same_split_and_another_seed_another():
    a, b = splits.holdout_split(DS, 120, seed=7), splits.holdout_split(DS, 120, seed=7)
    assert np.array_equal(a.val_indices, b.val_indices) and np.array_equal(a.x_val, b.x_val)
    assert not np.array_equal(a.val_indices, splits.holdout_split(DS, 120, seed=8).val_indices)


def test_holdout_train_and_validation_partition_the_training_set():
    s = splits.holdout_split(DS, 120, seed=3)
    assert np.array_equal(np.sort(np.concatenate([s.train_indices, s.val_indices])), np.arange(600))
    assert np.array_equal(s.x_train, DS.x_train[s.train_indices])


def test_first_n_split_takes_the_first_images_as_validation():
    s = splits.first_n_split(DS, n_val=50)
    assert np.array_equal(s.x_val, DS.x_train[:50]) and np.array_equal(s.x_train, DS.x_train[50:])


def test_test_as_validation_uses_all_training_images():
    s = splits.test_as_validation(DS)
    assert s.sizes() == {"train": 600, "validation": 100, "test": 100}
    assert s.val_indices is None and np.array_equal(s.x_val, DS.x_test)


def test_kfold_validation_folds_cover_every_image_once_and_stay_balanced():
    folds = splits.kfold_splits(DS, k=3, seed=5)
    assert [f.sizes()["validation"] for f in folds] == [200, 200, 200]
    assert np.array_equal(np.sort(np.concatenate([f.val_indices for f in folds])), np.arange(600))
    assert all(np.bincount(f.y_val).tolist() == [20] * 10 for f in folds)


def test_kfold_is_reproducible_from_its_seed():
    a, b = splits.kfold_splits(DS, 3, seed=5), splits.kfold_splits(DS, 3, seed=5)
    assert all(np.array_equal(x.val_indices, y.val_indices) for x, y in zip(a, b))


@pytest.mark.parametrize("call, message", [
    (lambda: splits.holdout_split(DS, val_size=0), "val_size must be an integer from 10 to 590"),
    (lambda: splits.holdout_split(DS, val_size=1.5), "val_size must be an integer"),
    (lambda: splits.first_n_split(DS, n_val=600), "n_val must be an integer from 1 to 599"),
    (lambda: splits.kfold_splits(DS, k=1), "k must be an integer from 2 to 20"),
])
def test_out_of_range_sizes_are_rejected_with_the_accepted_range(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_subsample_shrinks_train_and_validation_but_keeps_the_test_set():
    s = splits.subsample(splits.holdout_split(DS, 120, seed=1), n_train=100, n_val=30, seed=0)
    assert s.sizes() == {"train": 100, "validation": 30, "test": 100}
    assert np.array_equal(s.x_train, DS.x_train[s.train_indices])


@pytest.mark.parametrize("name, sizes", [("holdout-120", (480, 120)), ("first-50", (550, 50)),
                                         ("test-as-validation", (600, 100))])
def test_make_split_resolves_a_recipes_split_name(name, sizes):
    split = splits.make_split(synthetic_dataset(600, 100), name, seed=0)
    assert (len(split.y_train), len(split.y_val)) == sizes


def test_make_split_refuses_an_unknown_name():
    with pytest.raises(ValueError, match="holdout-<n>"):
        splits.make_split(synthetic_dataset(600, 100), "random-10")


def test_recipe_splits_gives_one_split_per_fold_of_a_k_fold_recipe():
    folds = splits.recipe_splits(synthetic_dataset(600, 100), "kfold-3", seed=0)
    assert [len(f.y_val) for f in folds] == [200, 200, 200]


def test_recipe_splits_gives_the_one_split_of_any_other_recipe():
    (split,) = splits.recipe_splits(synthetic_dataset(600, 100), "holdout-120", seed=0)
    assert (len(split.y_train), len(split.y_val)) == (480, 120)
