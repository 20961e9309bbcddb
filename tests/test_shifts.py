"""Distribution shifts: shapes, ranges, identity at zero strength, what each one does, and the accuracy table."""
import numpy as np
import pandas as pd
import pytest

from fmnist_helpers.analysis import shifts

RNG = np.random.default_rng(0)
IMAGES = RNG.random((6, 28, 28)).astype(np.float32)


@pytest.mark.parametrize("kind", shifts.TRANSFORMS)
def test_zero_strength_is_the_identity(kind):
    out = shifts.transform(IMAGES, kind, 0)
    assert np.array_equal(out, IMAGES) and out is not IMAGES


@pytest.mark.parametrize("kind", shifts.TRANSFORMS)
@pytest.mark.parametrize("shape", [(6, 28, 28), (6, 28, 28, 1)])
def test_every_strength_keeps_shape_dtype_and_range(kind, shape):
    images = IMAGES.reshape(shape)
    for strength in shifts.STRENGTHS[kind]:
        out = shifts.transform(images, kind, strength, seed=1)
        assert out.shape == shape and out.dtype == np.float32
        assert out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("kind", shifts.TRANSFORMS)
def test_a_positive_strength_changes_the_images(kind):
    strength = shifts.STRENGTHS[kind][1]
    assert not np.allclose(shifts.transform(IMAGES, kind, strength), IMAGES)


def test_shift_moves_a_pixel_right_and_down():
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 10, 12] = 1.0
    out = shifts.transform(image, "shift", 3)
    assert out[0, 13, 15] == pytest.approx(1.0) and out[0, 10, 12] == 0.0


def test_rotate_by_90_degrees_turns_the_picture_a_quarter():
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 2:6, 10:18] = 1.0  # a bar near the top edge
    out = shifts.transform(image, "rotate", 90)
    assert out[0, :8, :].sum() < 1.0  # the top edge is now empty
    assert out.sum() == pytest.approx(image.sum(), rel=0.05)  # the bar moved, it was not lost


def test_inverting_every_image_gives_the_negative_images():
    assert np.allclose(shifts.transform(IMAGES, "invert", 1.0), 1.0 - IMAGES)


def test_inverting_a_share_turns_that_many_images_into_whole_negatives_and_leaves_the_rest():
    out = shifts.transform(IMAGES, "invert", 0.5, seed=3)
    negative = [i for i in range(len(IMAGES)) if np.allclose(out[i], 1.0 - IMAGES[i])]
    untouched = [i for i in range(len(IMAGES)) if np.array_equal(out[i], IMAGES[i])]
    assert len(negative) == 3 and len(untouched) == 3  # no image is a grey blend of the two
    assert not np.allclose(out, 0.5)


def test_the_inverted_shares_are_nested_and_seeded():
    quarter, half = (set(shifts.inverted_images(100, share, seed=7)) for share in (0.25, 0.5))
    assert len(quarter) == 25 and len(half) == 50 and quarter <= half
    assert list(shifts.inverted_images(100, 0.5, seed=7)) == list(shifts.inverted_images(100, 0.5, seed=7))
    assert set(shifts.inverted_images(100, 0.5, seed=8)) != half


def test_half_of_one_image_rounds_up_to_inverting_it():
    assert list(shifts.inverted_images(1, 0.5)) == [0] and list(shifts.inverted_images(1, 0.25)) == []


def test_noise_is_seeded():
    a, b = (shifts.transform(IMAGES, "noise", 0.2, seed=5) for _ in range(2))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, shifts.transform(IMAGES, "noise", 0.2, seed=6))


@pytest.mark.parametrize("kind, strength, message", [
    ("blur", 1, "not accepted"), ("shift", -1, ">= 0"), ("invert", 1.5, "from 0 to 1"),
])
def test_bad_transformations_and_strengths_are_refused(kind, strength, message):
    with pytest.raises(ValueError, match=message):
        shifts.transform(IMAGES, kind, strength)


def test_uint8_images_are_refused_with_a_hint_to_scale():
    with pytest.raises(TypeError, match="preprocess.scale"):
        shifts.transform((IMAGES * 255).astype(np.uint8), "shift", 1)


def test_robustness_table_scores_every_model_at_every_strength():
    labels = np.arange(6) % 2
    predictors = {"always right": lambda x: labels, "always zero": lambda x: np.zeros(len(x), int)}
    strengths = {"shift": (0, 2), "invert": (0, 1.0)}
    table = shifts.robustness_table(predictors, IMAGES, labels, strengths)
    assert list(table.columns) == ["transformation", "strength", "model", "accuracy"]
    assert len(table) == 2 * 2 * 2
    assert set(table.loc[table["model"] == "always right", "accuracy"]) == {1.0}
    assert set(table.loc[table["model"] == "always zero", "accuracy"]) == {0.5}


def test_robustness_table_feeds_the_transformed_images_to_the_models():
    seen = []
    shifts.robustness_table({"m": lambda x: seen.append(float(x.mean())) or np.zeros(len(x), int)}, IMAGES,
                            np.zeros(6, int), {"invert": (0, 1.0)})
    assert seen[0] == pytest.approx(float(IMAGES.mean())) and seen[1] == pytest.approx(1 - float(IMAGES.mean()))


def test_retention_is_the_share_of_clean_accuracy_kept_at_the_strongest_level():
    table = pd.DataFrame({"transformation": ["shift"] * 3, "strength": [0, 1, 2], "model": ["m"] * 3,
                          "accuracy": [0.8, 0.6, 0.4]})
    assert shifts.retention(table).loc["m", "shift"] == pytest.approx(0.5)


def test_top_class_share_is_one_tenth_for_an_even_spread_and_one_for_a_single_class():
    assert shifts.top_class_share(np.arange(100) % 10) == pytest.approx(0.1)
    assert shifts.top_class_share(np.full(50, 3)) == 1.0
