"""The batch-norm benchmark: each model it knows swaps the layer its registry builder really uses, between Keras's
layer and the fused one with the same settings.

Usage:
    .venv/bin/python -m pytest tests/test_bench_batch_norm.py -q
"""
from __future__ import annotations

import pytest

from conftest import load_benchmark
from fmnist_helpers.models import registry


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_batch_norm")


@pytest.mark.parametrize("model", ["bu_cnn", "pack_cnn"])
def test_the_swapped_function_is_the_one_the_models_builder_calls(bench, model, monkeypatch):
    calls = []
    original = getattr(registry, bench.NORMS[model])
    monkeypatch.setattr(registry, bench.NORMS[model], lambda L: calls.append(1) or original(L))
    registry.get_spec(model).build(10)
    assert calls, f"{model} never called registry.{bench.NORMS[model]}"


@pytest.mark.parametrize("model", ["bu_cnn", "pack_cnn"])
def test_both_ways_make_batch_norm_with_the_same_settings_and_only_the_second_fused(bench, model):
    import keras

    (_, plain), (_, fused) = bench.ways(model)
    a, b = plain(keras.layers), fused(keras.layers)
    assert type(a) is keras.layers.BatchNormalization and type(b).__name__ == "FusedBatchNormalization"
    assert (a.momentum, a.epsilon) == (b.momentum, b.epsilon)
