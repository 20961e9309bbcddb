import numpy as np
import pandas as pd
import pytest

from conftest import synthetic_dataset
from fmnist_helpers import exploration
from fmnist_helpers.data import Dataset


def test_class_count_table_counts_train_and_test_by_name():
    table = exploration.class_count_table(synthetic_dataset(600, 100))
    assert table.loc["c3", "train"] == 60 and table.loc["c3", "test"] == 10 and len(table) == 10


def test_pixel_stats_on_a_hand_made_image():
    stats = exploration.pixel_stats(np.array([[0, 0, 255, 255]], dtype=np.uint8))
    assert stats == {"mean": 127.5, "std": 127.5, "min": 0.0, "max": 255.0, "zero_fraction": 0.5}


def test_mean_images_average_each_class():
    x = np.stack([np.full((2, 2), v, np.uint8) for v in (10, 30, 100)])
    means = exploration.mean_images(x, np.array([0, 0, 1]), num_classes=2)
    assert means[0].tolist() == [[20, 20], [20, 20]] and means[1].max() == 100


def test_mean_images_refuse_an_empty_class():
    with pytest.raises(ValueError, match="class 1 has no images"):
        exploration.mean_images(np.zeros((2, 2, 2), np.uint8), np.array([0, 0]), num_classes=2)


def test_most_similar_pairs_are_sorted_and_skip_the_diagonal():
    sim = pd.DataFrame([[1, 0.2, 0.9], [0.2, 1, 0.5], [0.9, 0.5, 1]], index=list("abc"), columns=list("abc"))
    top = exploration.most_similar_pairs(sim, top=2)
    assert top[["class a", "class b"]].values.tolist() == [["a", "c"], ["b", "c"]]


def test_nearest_mean_classifier_on_separable_classes_is_perfect():
    x_train = np.concatenate([np.zeros((5, 28, 28)), np.full((5, 28, 28), 200)]).astype(np.uint8)
    x_test = np.array([np.full((28, 28), 10), np.full((28, 28), 190)], dtype=np.uint8)
    ds = Dataset("two", x_train, np.repeat([0, 1], 5), x_test, np.array([0, 1]), ("dark", "light"), None)
    assert exploration.nearest_mean_predictions(ds).tolist() == [0, 1]
    assert exploration.nearest_mean_accuracy(ds) == 1.0


def test_per_class_accuracy_on_a_hand_made_case():
    acc = exploration.per_class_accuracy(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), ("a", "b"))
    assert acc.to_dict() == {"a": 0.5, "b": 1.0}


def test_exact_duplicates_finds_copies_only():
    a = np.arange(3 * 4, dtype=np.uint8).reshape(3, 2, 2)
    b = np.stack([a[1], a[0] + 1, a[2]])
    assert exploration.exact_duplicates(a, b).tolist() == [0, 2]


def test_stratified_sample_takes_equal_shares_reproducibly():
    labels = np.repeat(np.arange(10), 50)
    idx = exploration.stratified_sample(labels, 100, seed=1)
    assert np.bincount(labels[idx]).tolist() == [10] * 10
    assert np.array_equal(idx, exploration.stratified_sample(labels, 100, seed=1))


def test_pca_and_tsne_return_two_coordinates_per_image():
    x = synthetic_dataset(60, 10).x_train
    points, ratio = exploration.pca_2d(x)
    assert points.shape == (60, 2) and 0 < ratio.sum() <= 1
    assert exploration.tsne_2d(x, seed=0).shape == (60, 2)


def test_lookalike_classes_exist_in_their_datasets(fashion, mnist):
    for ds in (fashion, mnist):
        assert set(exploration.LOOKALIKES[ds.name]) <= set(ds.class_names)
