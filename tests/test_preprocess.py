import numpy as np
import pytest

from fmnist_helpers.data import preprocess


def test_scale_maps_bytes_to_float32_between_0_and_1():
    x = preprocess.scale(np.array([[0, 51, 255]], dtype=np.uint8))
    assert x.dtype == np.float32 and np.allclose(x, [[0.0, 0.2, 1.0]]) and x.max() == 1.0


def test_scale_refuses_already_scaled_input():
    with pytest.raises(TypeError, match="expects uint8"):
        preprocess.scale(np.zeros(3, dtype=np.float32))


def test_add_channel_appends_one_axis_once():
    x = np.zeros((5, 28, 28))
    assert preprocess.add_channel(x).shape == (5, 28, 28, 1)
    assert preprocess.add_channel(preprocess.add_channel(x)).shape == (5, 28, 28, 1)
    with pytest.raises(ValueError, match=r"expected images of shape \(N, height, width\)"):
        preprocess.add_channel(np.zeros(5))


def test_to_model_input_scales_and_adds_the_channel():
    x = preprocess.to_model_input(np.full((2, 28, 28), 255, dtype=np.uint8))
    assert x.shape == (2, 28, 28, 1) and x.dtype == np.float32 and x.max() == 1.0


def test_one_hot_marks_the_label_position():
    assert preprocess.one_hot(np.array([2, 0]), 3).tolist() == [[0, 0, 1], [1, 0, 0]]


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 10]), r"labels must lie in 0..9"),
    (np.array([-1]), r"labels must lie in 0..9"),
    (np.array([[1]]), "1-D array of integer labels"),
    (np.array([0.5]), "1-D array of integer labels"),
])
def test_one_hot_rejects_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        preprocess.one_hot(labels, 10)


def test_pipeline_batches_in_order_without_shuffle():
    x = preprocess.to_model_input(np.arange(10, dtype=np.uint8)[:, None, None].repeat(28, 1).repeat(28, 2))
    y = np.arange(10, dtype=np.uint8)
    batches = list(preprocess.make_dataset(x, y, batch_size=4).as_numpy_iterator())
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert np.concatenate([b[1] for b in batches]).tolist() == list(range(10))
    assert batches[0][0].shape == (4, 28, 28, 1)


def test_pipeline_shuffle_is_reproducible_from_the_seed():
    x, y = np.zeros((64, 28, 28, 1), np.float32), np.arange(64)

    def order(seed):
        return np.concatenate([b[1] for b in preprocess.make_dataset(x, y, 16, shuffle=True, seed=seed)
                               .as_numpy_iterator()]).tolist()

    assert order(3) == order(3) and order(3) != order(4) and sorted(order(3)) == list(range(64))


def test_pipeline_can_one_hot_the_labels():
    _, yb = next(iter(preprocess.make_dataset(np.zeros((4, 28, 28, 1), np.float32), np.array([0, 1, 2, 3]),
                                              batch_size=4, num_classes=10)))
    assert yb.shape == (4, 10)


def test_pipeline_rejects_mismatched_lengths_and_bad_batch_sizes():
    with pytest.raises(ValueError, match="x has 3 images but y has 2 labels"):
        preprocess.make_dataset(np.zeros((3, 28, 28, 1), np.float32), np.zeros(2, int))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        preprocess.make_dataset(np.zeros((3, 28, 28, 1), np.float32), np.zeros(3, int), batch_size=0)


def test_augmentation_changes_training_images_but_not_inference():
    rng = np.random.default_rng(0)
    x = rng.random((8, 28, 28, 1)).astype(np.float32)
    aug = preprocess.augmentation(flip=True, shift=0.2, seed=1)
    assert not np.allclose(aug(x, training=True).numpy(), x)
    assert np.array_equal(aug(x, training=False).numpy(), x)


def test_augmentation_inside_the_pipeline_keeps_shapes_and_labels():
    x, y = np.ones((6, 28, 28, 1), np.float32), np.arange(6)
    xb, yb = next(iter(preprocess.make_dataset(x, y, 6, augment=preprocess.augmentation(seed=0))))
    assert xb.shape == (6, 28, 28, 1) and yb.numpy().tolist() == list(range(6))


def test_an_augmented_pipeline_gives_the_same_batches_for_the_same_seed():
    # many small batches: augmented several at a time, they took the random draws in a varying order
    x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)

    def batches():
        ds = preprocess.make_dataset(x, np.arange(64) % 10, batch_size=2, shuffle=True, seed=5,
                                     augment=preprocess.augmentation(flip=True, shift=0.1, seed=5))
        return [xb for xb, _ in ds.as_numpy_iterator()]

    first, second = batches(), batches()
    assert len(first) == len(second) == 32
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


def test_augmentation_rejects_out_of_range_strengths():
    with pytest.raises(ValueError, match=r"shift must lie in \[0, 0.5\]"):
        preprocess.augmentation(shift=2.0)


def test_shift_images_moves_each_image_and_fills_the_border_with_background():
    x = np.arange(2 * 4 * 4, dtype="float32").reshape(2, 4, 4, 1) + 1
    down = preprocess.shift_images(x, 1, 0)
    assert (down[:, 0] == 0).all() and (down[:, 1:] == x[:, :-1]).all()
    left = preprocess.shift_images(x, 0, -1)
    assert (left[:, :, -1] == 0).all() and (left[:, :, :-1] == x[:, :, 1:]).all()


def test_shift_images_refuses_a_shift_that_moves_the_image_out_of_view():
    with pytest.raises(ValueError, match="out of view"):
        preprocess.shift_images(np.zeros((1, 4, 4, 1)), 4, 0)


def test_augmentation_with_erasing_blanks_a_patch_of_some_training_images_only():
    x = np.ones((64, 28, 28, 1), dtype="float32")
    block = preprocess.augmentation(flip=False, shift=0.0, erase=1.0, seed=1)
    erased = np.asarray(block(x, training=True))
    assert (erased == 0).any(axis=(1, 2, 3)).mean() > 0.5
    assert (np.asarray(block(x, training=False)) == 1).all()


def test_augmentation_refuses_an_erasing_chance_outside_zero_to_one():
    with pytest.raises(ValueError, match="erase must lie in"):
        preprocess.augmentation(erase=1.5)


def test_flips_suit_clothes_but_not_digits():
    assert preprocess.flips_suit("fashion_mnist") and not preprocess.flips_suit("mnist")
