"""Searches: seeded runs repeat, interrupted ones resume, finished ones are reused, changed plans start fresh."""
import pandas as pd
import pytest

from conftest import synthetic_dataset
from fmnist_helpers.training import search
from fmnist_helpers.models import tuning
from fmnist_helpers.data.splits import holdout_split

SPLIT = holdout_split(synthetic_dataset(300, 40), 100, seed=0)
TINY = search.SearchPlan("wits", "random", max_trials=3, epochs=1, batch_size=50, seed=7, precision="float32")


def _run(tmp_path, plan=TINY, **kw):
    return search.run_search(plan, SPLIT, tmp_path, progress="none", **kw)


@pytest.mark.slow
def test_a_seeded_search_repeats_exactly(tmp_path):
    a, b = _run(tmp_path / "a"), _run(tmp_path / "b")
    columns = [c for c in a.trials.columns if c not in ("seconds", "worker")]
    pd.testing.assert_frame_equal(a.trials[columns], b.trials[columns])


@pytest.mark.slow
def test_a_search_runs_its_trials_and_logs_each_ones_epochs(tmp_path):
    result = _run(tmp_path)
    assert len(result.trials) == 3 and set(result.trials["epochs"]) == {1}
    assert result.images_trained == 3 * 200
    assert set(tuning.WITS_SPACE) <= set(result.trials.columns)


@pytest.mark.slow
def test_a_finished_search_is_reused_without_training(tmp_path):
    first = _run(tmp_path)
    again = _run(tmp_path)
    assert again.reused and not first.reused
    assert len(search.read_trial_log(again.directory)) == 3
    assert again.best_values == first.best_values


@pytest.mark.slow
def test_an_interrupted_search_resumes_where_it_stopped(tmp_path, monkeypatch):
    calls = {"n": 0}
    original = search.SpaceHyperModel.fit

    def fit_then_stop(self, hp, model, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("the class's laptop went to sleep")
        return original(self, hp, model, *args, **kwargs)

    monkeypatch.setattr(search.SpaceHyperModel, "fit", fit_then_stop)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path)
    assert len(search.read_trial_log(search.search_folder(TINY, SPLIT, tmp_path))) == 1
    resumed = _run(tmp_path)
    log = search.read_trial_log(resumed.directory)
    assert sorted(log["trial_id"]) == sorted(resumed.trials["trial"]) and len(log) == 3  # no trial ran twice


@pytest.mark.slow
def test_a_changed_plan_starts_a_fresh_search_in_a_new_folder(tmp_path):
    from dataclasses import replace

    first = _run(tmp_path)
    other = _run(tmp_path, plan=replace(TINY, max_trials=2))
    assert other.directory != first.directory and not other.reused and len(other.trials) == 2
    assert first.directory.is_dir()  # the earlier search is kept


@pytest.mark.slow
def test_a_grid_search_visits_every_point_once(tmp_path, monkeypatch):
    def two_widths(hp):
        import keras

        return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                 keras.layers.Dense(hp.Choice("units", [4, 8]), activation="relu"),
                                 keras.layers.Dense(10, activation="softmax")])

    space = tuning.Space("two", two_widths, tuning.get_space("wits").recipe, "two widths")
    monkeypatch.setitem(tuning.SPACES, "two", space)
    plan = search.SearchPlan("two", "grid", max_trials=None, epochs=1, batch_size=50, precision="float32")
    result = _run(tmp_path, plan=plan)
    assert sorted(result.trials["units"]) == [4, 8]


@pytest.mark.slow
def test_hyperband_gives_most_trials_a_short_budget(tmp_path):
    plan = search.SearchPlan("wits", "hyperband", epochs=3, factor=3, batch_size=50, precision="float32")
    trials = _run(tmp_path, plan=plan).trials
    assert trials["epochs"].sum() < len(trials) * 3  # a random search of as many trials would train them all 3 epochs
    assert trials["epochs"].min() == 1


@pytest.mark.slow
def test_best_trials_are_ranked_by_validation_accuracy(tmp_path):
    best = search.best_trials(_run(tmp_path), n=2)
    assert list(best.index) == [1, 2] and best["score"].is_monotonic_decreasing


@pytest.mark.parametrize("change, message", [({"strategy": "bayes"}, "random, hyperband, grid"),
                                             ({"epochs": 0}, "epochs must be a positive integer"),
                                             ({"max_trials": None}, "needs max_trials"),
                                             ({"space": "vgg"}, "wits, kh, kh-sample, pack")])
def test_a_bad_plan_is_refused_naming_the_setting(tmp_path, change, message):
    from dataclasses import replace

    with pytest.raises((ValueError, KeyError), match=message):
        _run(tmp_path, plan=replace(TINY, **change))


def test_search_offers_the_best_epoch_rule_that_training_uses():
    history = pd.DataFrame([(1, "validation", "accuracy", 0.8), (2, "validation", "accuracy", 0.9)],
                           columns=["epoch", "split", "metric", "value"])
    assert search.best_epoch(history) == 2  # s05 calls it as `search.best_epoch`


def test_importing_search_leaves_tensorflow_and_keras_tuner_unloaded():
    import subprocess
    import sys

    code = ("import sys, fmnist_helpers.training.search; "
            "print(sorted({'tensorflow', 'keras', 'keras_tuner'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_space_of_twelve_classes_searches_on_one_hot_labels_over_twelve(tmp_path, monkeypatch):
    def twelve_way(hp):
        import keras

        return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                 keras.layers.Dense(hp.Choice("units", [4]), activation="relu"),
                                 keras.layers.Dense(12, activation="softmax")])

    one_hot_recipe = tuning.get_space("kh").recipe
    monkeypatch.setitem(tuning.SPACES, "twelve", tuning.Space("twelve", twelve_way, one_hot_recipe, "", 12))
    plan = search.SearchPlan("twelve", "grid", max_trials=None, epochs=1, batch_size=50, precision="float32")
    assert len(_run(tmp_path, plan=plan).trials) == 1  # ten-wide labels would not fit the twelve outputs


def test_trial_seeds_differ_by_execution_and_repeat_by_trial():
    assert search.trial_seed(1, "03", 0) == search.trial_seed(1, "03", 0)
    assert search.trial_seed(1, "03", 0) != search.trial_seed(1, "03", 1)


def test_distributed_env_names_the_chief_and_workers():
    assert search.distributed_env("chief", 8000) == {"KERASTUNER_TUNER_ID": "chief",
                                                     "KERASTUNER_ORACLE_IP": "127.0.0.1",
                                                     "KERASTUNER_ORACLE_PORT": "8000"}
    with pytest.raises(ValueError, match="tuner<N>"):
        search.distributed_env("worker-a", 8000)
