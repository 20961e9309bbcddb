import random

import numpy as np
import pytest

from fmnist_helpers.course.context import package_versions, set_seeds, start_notebook
from fmnist_helpers.base.params import ParameterError
from fmnist_helpers.base.results import load_results


def test_start_notebook_records_parameters_and_environment(tmp_path):
    run = start_notebook("01_demo", profile="smoke", dataset="mnist", seed=7, output_dir=tmp_path, extra_knob=3)
    rec = load_results(tmp_path, "01_demo")
    assert rec["params"] == {"profile": "smoke", "dataset": "mnist", "seed": 7, "data_dir": None, "extra_knob": 3}
    assert rec["environment"]["tensorflow"] == package_versions()["tensorflow"] and rec["complete"] is False
    run.finish()
    assert load_results(tmp_path, "01_demo")["complete"] is True
    assert "profile=smoke" in run.summary() and "dataset=mnist" in run.summary()


def test_start_notebook_uses_the_profile_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FMNIST_PROFILE", "full")
    assert start_notebook("01_demo", output_dir=tmp_path).profile.name == "full"


@pytest.mark.parametrize("kwargs, message", [
    ({"dataset": "cifar10"}, "dataset='cifar10' is not accepted; choose one of: 'fashion_mnist', 'mnist'"),
    ({"profile": "huge"}, "profile 'huge' is not accepted"),
    ({"seed": -1}, "seed=-1 is not accepted; it must be an integer from 0"),
])
def test_bad_parameters_stop_before_anything_is_written(tmp_path, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        start_notebook("01_demo", output_dir=tmp_path, **kwargs)
    assert not (tmp_path / "results").exists()


def test_set_seeds_makes_python_numpy_and_tensorflow_repeat():
    import keras

    def draw():
        return random.random(), np.random.rand(), float(keras.random.uniform(()))

    set_seeds(3)
    first = draw()
    set_seeds(3)
    assert draw() == first


def test_run_loads_its_dataset_from_the_given_folder(tiny, tmp_path):
    folder = tiny.write(tmp_path / "files")
    run = start_notebook("01_demo", profile="smoke", data_dir=folder, output_dir=tmp_path)
    run.dataset = "tiny"
    assert run.load().x_train.shape == tiny.arrays["x_train"].shape


def test_a_notebook_parameter_out_of_its_range_stops_before_anything_is_written(tmp_path):
    with pytest.raises(ParameterError, match="n_folds=1 is not accepted; it must be an integer from 2 to 10"):
        start_notebook("02_demo", output_dir=tmp_path, val_size=12_000, n_folds=1, batch_size=128)
    assert not (tmp_path / "results").exists()
