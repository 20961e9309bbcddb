"""The recipe sweep's configurations: each one names an architecture it can build and a schedule the registry
knows, and the augmentation runs in front of the network that is scored.

Usage:
    .venv/bin/python -m pytest tests/test_sweep_recipes.py -q
"""
from __future__ import annotations

import pytest

from conftest import load_benchmark
from fmnist_helpers.models.registry import SCHEDULES


@pytest.fixture(scope="module")
def sweep():
    return load_benchmark("sweep_recipes")


def test_every_configuration_names_a_known_architecture_and_a_registry_schedule(sweep):
    for name, (arch, epochs, batch, lr, schedule, smoothing, shift, ema, erase, wd) in sweep.CONFIGS.items():
        assert arch in sweep.ARCHS or arch in sweep.SPEEDRUN_ARCHS, name
        assert schedule in SCHEDULES, name
        assert epochs >= 1 and batch >= 1 and 0 < lr <= 1 and 0 <= smoothing < 1 and 0 <= shift <= 0.5, name
        assert ema == 0 or 0.9 <= ema < 1, name
        assert 0 <= erase <= 1, name


def test_the_augmentation_sits_in_front_of_the_model_and_prediction_uses_the_bare_network(sweep):
    model, net = sweep.build("pack", 0.08, seed=0)
    assert model.layers[-1] is net
    assert any(layer.name == "augmentation" for layer in model.layers)
    assert model.count_params() == net.count_params()  # augmentation has no weights


def test_the_no_dropout_architecture_keeps_its_dropout_layers_at_rate_zero(sweep):
    _, net = sweep.build("pack_nodrop", 0.0, seed=0)
    rates = [layer.rate for layer in net.layers if layer.__class__.__name__ == "Dropout"]
    assert len(rates) == 3 and set(rates) == {0.0}
    _, default = sweep.build("pack", 0.0, seed=0)
    assert [layer.rate for layer in default.layers if layer.__class__.__name__ == "Dropout"] == [0.1, 0.2, 0.3]


def test_random_erasing_sits_between_the_augmentation_and_the_network_only_when_asked(sweep):
    model, net = sweep.build("pack_halfdrop", 0.0, seed=0, erase=0.5)
    names = [layer.__class__.__name__ for layer in model.layers]
    assert names.index("RandomErasing") == len(names) - 2 and model.layers[-1] is net
    plain, _ = sweep.build("pack_halfdrop", 0.0, seed=0)
    assert "RandomErasing" not in [layer.__class__.__name__ for layer in plain.layers]


def test_a_result_file_with_other_columns_stops_the_sweep_before_it_trains(sweep, tmp_path):
    old = tmp_path / "sweep.csv"
    old.write_text("config,arch,epochs\nfast8,pack,8\n")
    with pytest.raises(SystemExit, match="not this script's"):
        sweep.check_columns(old)
    same = tmp_path / "same.csv"
    same.write_text(",".join(sweep.COLUMNS) + "\n")
    sweep.check_columns(same)  # the same columns: appending is safe
    sweep.check_columns(tmp_path / "absent.csv")


@pytest.mark.slow
def test_a_configuration_with_weight_averaging_trains_and_reports_its_momentum(sweep):
    row = sweep.run_one("fast8_noshift_ema", 42, None, "float32", epochs_override=1, train_images=512,
                         test_images=256)
    assert row["ema"] == 0.99 and row["epochs"] == 1
    assert list(row) == sweep.COLUMNS
    assert 0.0 <= row["plain"] <= 1.0 and 0.0 <= row["tta"] <= 1.0


def test_a_spent_budget_starts_no_run_and_says_so(sweep, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["sweep_recipes.py", "--only", "fast8", "--out", str(tmp_path), "--budget-s", "0"])
    sweep.main()
    out = capsys.readouterr().out
    assert out.startswith("keras ")  # the backend and its devices come first
    assert "stopping: 0 s budget spent before fast8 seed 42" in out
    assert not (tmp_path / "sweep.csv").exists()


def test_a_speedrun_architecture_builds_the_registrys_speedrun_cnn_with_its_widths(sweep):
    model, net = sweep.build("sr_small", shift=2 / 28, seed=1)
    convs = [layer.filters for layer in net.layers if layer.__class__.__name__ == "Conv2D"]
    assert convs == [16, 32, 32, 64, 64, 128, 128]
    assert model.output_shape == (None, 10)
