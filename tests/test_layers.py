"""The fused batch norm: Keras's batch norm in one TensorFlow kernel, same outputs, same statistics, saved and loaded.

Usage:
    .venv/bin/python -m pytest tests/test_layers.py -q
"""
from __future__ import annotations

import keras
import numpy as np

from fmnist_helpers.models.layers import FusedBatchNormalization


def _pair(x):
    """A Keras batch norm and a fused one with PyTorch's settings and the same non-trivial weights."""
    plain = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
    fused = FusedBatchNormalization(momentum=0.9, epsilon=1e-5)
    rng = np.random.default_rng(0)
    weights = [rng.normal(1, 0.2, 3), rng.normal(0, 0.2, 3), rng.normal(0, 1, 3), rng.uniform(0.5, 2, 3)]
    for layer in (plain, fused):
        layer.build(x.shape)
        layer.set_weights([w.astype("float32") for w in weights])
    return plain, fused


def _images(n=16):
    return np.random.default_rng(1).normal(2.0, 3.0, (n, 5, 5, 3)).astype("float32")


def test_in_training_it_normalises_with_the_batch_statistics_as_keras_does():
    x = _images()
    plain, fused = _pair(x)
    np.testing.assert_allclose(fused(x, training=True), plain(x, training=True), atol=1e-4)


def test_a_training_step_moves_the_running_statistics_as_keras_does():
    x = _images()
    plain, fused = _pair(x)
    plain(x, training=True), fused(x, training=True)
    np.testing.assert_allclose(fused.moving_mean, plain.moving_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused.moving_variance, plain.moving_variance, rtol=1e-5, atol=1e-6)


def test_at_inference_it_uses_the_running_statistics_as_keras_does():
    x = _images()
    plain, fused = _pair(x)
    np.testing.assert_allclose(fused(x, training=False), plain(x, training=False), atol=1e-4)


def test_an_input_that_is_not_an_image_batch_falls_back_to_keras_batch_norm():
    x = np.random.default_rng(2).normal(size=(8, 3)).astype("float32")
    plain, fused = _pair(x)
    np.testing.assert_allclose(fused(x, training=True), plain(x, training=True), atol=1e-5)


def test_the_bu_cnn_normalises_with_it():
    from fmnist_helpers.models.registry import build_model

    norms = [type(layer).__name__ for layer in build_model("bu_cnn").layers if "Normalization" in type(layer).__name__]
    assert norms == ["FusedBatchNormalization", "FusedBatchNormalization"]


def test_a_model_with_it_saves_and_loads_through_the_store(tmp_path):
    from fmnist_helpers.training.store import load_model_file

    model = keras.Sequential([keras.Input((5, 5, 3)), FusedBatchNormalization(momentum=0.9, epsilon=1e-5)])
    x = _images()
    model(x, training=True)
    model.save(tmp_path / "m.keras")
    loaded = load_model_file(tmp_path / "m.keras")
    assert isinstance(loaded.layers[0], FusedBatchNormalization)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
