"""Keras layers the registry's models need beyond the built-in ones.

`FusedBatchNormalization` is `keras.layers.BatchNormalization` computed with TensorFlow's fused kernel for images
(4-D, channels last): the same weights, the same config and the same arithmetic up to float rounding, in one op
instead of the several that Keras 3 chains (mean, variance, normalise, scale). The `bu` CNN, whose batch norm runs
on full-size 28x28 maps at batch 1,000, trains 1.3-1.4x faster with it through the pack's `train_model` on the
2-core development CPU, with the same accuracy to 0.25 points (`benchmarks/bench_batch_norm.py`). Any other input
falls back to Keras's own computation.

Importing this module loads no TensorFlow; the first use of the layer defines and registers it, so saved models
that use it load (`training/store.py` asks for it before loading).

Usage:
    from fmnist_helpers.models.layers import FusedBatchNormalization
    norm = FusedBatchNormalization(momentum=0.9, epsilon=1e-5)   # PyTorch's running-statistics setting
"""
from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _fused_batch_norm_class() -> type:
    """Define and register the layer (Keras and TensorFlow load here, on first use, not on import)."""
    import keras

    @keras.saving.register_keras_serializable(package="fmnist_helpers")
    class FusedBatchNormalization(keras.layers.BatchNormalization):
        """Batch normalisation over the last axis of images, with TensorFlow's fused kernel."""

        def _fusable(self, inputs: Any, mask: Any) -> bool:
            return (keras.backend.backend() == "tensorflow" and mask is None and not self.renorm and self.center
                    and self.scale and len(inputs.shape) == 4 and self.axis in (3, -1))

        def call(self, inputs, training=None, mask=None):
            if not self._fusable(inputs, mask):
                return super().call(inputs, training=training, mask=mask)
            import tensorflow as tf

            x = tf.cast(inputs, "float32")
            gamma, beta = tf.cast(self.gamma, "float32"), tf.cast(self.beta, "float32")
            if training and self.trainable:
                y, mean, variance = tf.compat.v1.nn.fused_batch_norm(x, gamma, beta, epsilon=self.epsilon,
                                                                     is_training=True)
                # The kernel's variance carries Bessel's n/(n-1); Keras keeps the plain one, as here.
                n = tf.cast(tf.reduce_prod(tf.shape(x)[:3]), "float32")
                variance = variance * (n - 1.0) / n
                self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
                self.moving_variance.assign(self.moving_variance * self.momentum
                                            + variance * (1.0 - self.momentum))
            else:
                y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                    x, gamma, beta, mean=tf.cast(self.moving_mean, "float32"),
                    variance=tf.cast(self.moving_variance, "float32"), epsilon=self.epsilon, is_training=False)
            return tf.cast(y, self.compute_dtype)

    return FusedBatchNormalization


def __getattr__(name: str) -> Any:
    """`FusedBatchNormalization`, defined on first use."""
    if name == "FusedBatchNormalization":
        return _fused_batch_norm_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
