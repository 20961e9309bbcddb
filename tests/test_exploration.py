import numpy as np
import pandas as pd
import pytest

from conftest import synthetic_dataset
from fmnist_helpers.analysis import exploration
from fmnist_helpers.data.datasets import Dataset


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


@pytest.mark.slow
def test_pca_and_tsne_return_two_coordinates_per_image():
    x = synthetic_dataset(60, 10).x_train
    points, ratio = exploration.pca_2d(x)
    assert points.shape == (60, 2) and 0 < ratio.sum() <= 1
    assert exploration.tsne_2d(x, seed=0).shape == (60, 2)


def test_lookalike_classes_exist_in_their_datasets(fashion, mnist):
    for ds in (fashion, mnist):
        assert set(exploration.LOOKALIKES[ds.name]) <= set(ds.class_names)


def test_nearest_neighbour_looks_up_the_closest_training_image():
    x_train = np.stack([np.full((4, 4), v, np.uint8) for v in (0, 100, 200)])
    x_test = np.stack([np.full((4, 4), v, np.uint8) for v in (190, 10, 90, 120)])
    pred = exploration.nearest_neighbour_predictions(x_train, np.array([7, 8, 9]), x_test, chunk=3)
    assert pred.tolist() == [9, 7, 8, 8]


def test_nearest_neighbour_refuses_mismatched_images():
    with pytest.raises(ValueError, match="differ in size: 16 and 9 pixels"):
        exploration.nearest_neighbour_predictions(np.zeros((2, 4, 4)), np.zeros(2, int), np.zeros((1, 3, 3)))


def test_nearest_neighbour_accuracy_uses_a_stratified_sample():
    x_train = np.concatenate([np.zeros((5, 28, 28)), np.full((5, 28, 28), 200)]).astype(np.uint8)
    x_test = np.array([np.full((28, 28), 10), np.full((28, 28), 190)], dtype=np.uint8)
    ds = Dataset("two", x_train, np.repeat([0, 1], 5), x_test, np.array([0, 1]), ("dark", "light"), None)
    assert exploration.nearest_neighbour_accuracy(ds) == 1.0
    assert exploration.nearest_neighbour_accuracy(ds, n_train=2, seed=3) == 1.0  # one image of each class


def test_neighbour_purity_is_one_for_islands_and_low_when_mixed():
    rng = np.random.default_rng(0)
    islands = np.concatenate([rng.normal(0, 0.1, (20, 2)), rng.normal(10, 0.1, (20, 2))])
    labels = np.repeat([0, 1], 20)
    assert exploration.neighbour_purity(islands, labels, k=5, num_classes=2).tolist() == [1.0, 1.0]
    mixed = exploration.neighbour_purity(rng.normal(0, 1, (400, 2)), np.arange(400) % 2, k=10, num_classes=3)
    assert np.all(np.abs(mixed[:2] - 0.5) < 0.1) and np.isnan(mixed[2])  # class 2 has no points


def test_neighbour_purity_checks_its_arguments():
    with pytest.raises(ValueError, match="3 points but 2 labels"):
        exploration.neighbour_purity(np.zeros((3, 2)), np.zeros(2, int))
    with pytest.raises(ValueError, match=r"k must lie in 1..2"):
        exploration.neighbour_purity(np.zeros((3, 2)), np.zeros(3, int), k=3)


def test_tsne_gives_the_same_map_for_the_same_seed_whatever_the_threads_allowed():
    from threadpoolctl import threadpool_limits

    x = np.random.default_rng(1).integers(0, 256, size=(300, 28, 28)).astype(np.uint8)
    with threadpool_limits(limits=1):
        first = exploration.tsne_2d(x, seed=3)
    assert np.array_equal(exploration.tsne_2d(x, seed=3), first)  # as many threads as the machine has
