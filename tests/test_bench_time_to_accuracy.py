"""The time-to-accuracy benchmark's FLOP count, on small models counted by hand.

Usage:
    .venv/bin/python -m pytest tests/test_bench_time_to_accuracy.py -q
"""
from __future__ import annotations

import pytest

from conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_time_to_accuracy")


def _tiny(padding: str):
    import keras

    return keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, padding=padding), keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(), keras.layers.Dense(10),
    ])


def test_training_flops_are_three_forward_passes_of_the_convolutions_and_dense_layers(bench):
    # conv: 3x3x1 -> 4 channels on 6x6 outputs: 2*3*3*1*4*6*6 = 2,592; pooled to 3x3x4 = 36 inputs;
    # dense 36 -> 10: 2*36*10 = 720; forward 3,312, training 3 x 3,312 = 9,936.
    assert bench.training_flops_per_image(_tiny("valid")) == 9_936


def test_a_same_padded_convolution_is_counted_over_its_full_size_output(bench):
    # conv on 8x8 outputs: 2*3*3*1*4*8*8 = 4,608; pooled to 4x4x4 = 64 inputs; dense: 2*64*10 = 1,280.
    assert bench.forward_flops_per_image(_tiny("same")) == 5_888


def test_a_nested_model_counts_its_inner_layers(bench):
    import keras

    outer = keras.Sequential([keras.Input((8, 8, 1)), _tiny("valid")])
    assert bench.training_flops_per_image(outer) == 9_936


def test_the_record_the_benchmark_writes_is_one_the_notebooks_reader_accepts(bench, tmp_path):
    from fmnist_helpers.studies import speed

    facts = bench.run_facts("idle but for the run")
    assert facts["machine"].endswith(", idle but for the run") and facts["command"].startswith("benchmarks/")
    assert len(facts["date"]) == 10 and facts["commit"]
    summary = [{"candidate": "pack_cnn", "epochs": 8, "seeds": 1, "median_train_s": 1.0, "mean_plain": 0.5,
                "mean_tta": None, "time_ratio_vs_baseline": 1.0, "accuracy_change_points": 0.0}]
    rows = [{"candidate": "pack_cnn", "seed": 42, "epochs": 8, "train_time_s": 1.0, "plain_test_accuracy": 0.5,
             "tta_test_accuracy": None}]
    path = tmp_path / "record.json"
    bench.write_record(path, {**facts, "seeds": [42]}, summary, rows)
    rec = speed.record(path)
    assert speed.summary_table(rec).index.tolist() == ["pack_cnn"]
    assert facts["date"] in speed.label(rec)


def test_every_candidate_names_a_registry_model(bench):
    from fmnist_helpers.models.registry import MODELS

    for name, (key, widths, changes) in bench.CANDIDATES.items():
        assert key in MODELS, name


def test_the_machine_note_follows_the_measured_description_and_is_not_prefixed_twice(bench):
    assert bench.machine_label("2-core x86_64 CPU", None) == "2-core x86_64 CPU"
    assert bench.machine_label("2-core x86_64 CPU", "AMX, idle") == "2-core x86_64 CPU, AMX, idle"
    assert bench.machine_label("2-core x86_64 CPU", "2-core x86_64 CPU, AMX, idle") == "2-core x86_64 CPU, AMX, idle"


ONEDNN_LOG = (
    "onednn_verbose,v1,info,cpu,isa:Intel AVX-512 with Intel DL Boost and bfloat16 support\n"
    "onednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_fwd:avx512_core_bf16,forward_training,src:bf16,0.2\n"
)


def test_the_onednn_probe_reads_the_isa_and_the_convolution_kernel_from_onednns_log(bench, monkeypatch):
    import subprocess

    seen = {}

    def fake_run(cmd, env, **kw):
        seen.update(env)
        return subprocess.CompletedProcess(cmd, 0, stdout=ONEDNN_LOG, stderr="")

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")
    found = bench.onednn_kernels()
    assert seen["ONEDNN_VERBOSE"] == "1" and seen["ONEDNN_MAX_CPU_ISA"] == "AVX512_CORE_BF16"
    assert found == {"max_cpu_isa": "AVX512_CORE_BF16", "isa": "Intel AVX-512 with Intel DL Boost and bfloat16 support",
                     "conv_kernel": "brg_conv_fwd:avx512_core_bf16", "note": None}


def test_the_onednn_probe_says_so_when_the_log_shows_no_convolution(bench, monkeypatch):
    import subprocess

    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", "Traceback"))
    found = bench.onednn_kernels()
    assert found["conv_kernel"] is None and "exit 1" in found["note"]


def test_the_benchmark_trains_digits_without_mirror_images(bench):
    assert bench.flips_suit("fashion_mnist") and not bench.flips_suit("mnist")
