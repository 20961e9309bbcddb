"""Training: seeded runs repeat exactly, records and histories are complete, saved runs are reused."""
import json

import numpy as np
import pytest

from conftest import synthetic_dataset
from fmnist_helpers.models import registry as models
from fmnist_helpers.training import fit as training
from fmnist_helpers.training import pipeline, store
from fmnist_helpers.base.params import Profile
from fmnist_helpers.data.splits import holdout_split, kfold_splits

DS = synthetic_dataset(400, 60)
SPLIT = holdout_split(DS, 100, seed=0)
TWO_EPOCHS = Profile("test", "unit tests", train_subset=None, max_epochs=2, embedding_points=0, augment_examples=0)
SMALL = models.with_recipe(models.get_spec("kh_cnn"), batch_size=50, split="holdout-12000")


def _train(tmp_path=None, **kw):
    kw.setdefault("precision", "float32")
    kw.setdefault("progress", "none")
    return training.train_model(kw.pop("spec", SMALL), SPLIT, TWO_EPOCHS, seed=3, output_dir=tmp_path, **kw)


@pytest.mark.slow
def test_a_seeded_deterministic_run_repeats_exactly():
    a, b = _train(deterministic=True), _train(deterministic=True)
    assert np.array_equal(a.test_proba, b.test_proba)
    assert a.history.equals(b.history)


@pytest.mark.slow
def test_pack_cnn_trained_twice_with_one_seed_is_the_same_model():
    # the pack's default path: augmentation in the tf.data pipeline, the hardware's precision, no op determinism
    spec = models.with_recipe(models.get_spec("pack_cnn"), batch_size=16)
    a, b = (training.train_model(spec, SPLIT, TWO_EPOCHS, seed=3, progress="none") for _ in range(2))
    assert a.test_accuracy == b.test_accuracy
    assert all(np.array_equal(u, v) for u, v in zip(a.model.get_weights(), b.model.get_weights()))


@pytest.mark.slow
def test_a_different_seed_gives_a_different_model():
    a = _train()
    b = training.train_model(SMALL, SPLIT, TWO_EPOCHS, seed=4, precision="float32", progress="none")
    assert not np.array_equal(a.test_proba, b.test_proba)


def test_history_is_tidy_with_train_and_validation_rows_per_epoch():
    hist = _train().history
    assert list(hist.columns) == ["epoch", "split", "metric", "value"]
    assert set(hist["split"]) == {"train", "validation"} and set(hist["metric"]) == {"loss", "accuracy"}
    assert len(hist) == 2 * 2 * 2


def test_record_holds_timings_sizes_and_scores():
    rec = _train().record
    assert rec["epochs_run"] == 2 and rec["n_train"] == 300 and rec["n_val"] == 100 and rec["n_test"] == 60
    assert rec["images_per_second"] > 0 and len(rec["epoch_times_s"]) == 2
    assert 0 <= rec["test_accuracy"] <= 1 and rec["parameters"] == 28_394
    assert rec["precision"] == "float32" and rec["pipeline"] == "tf.data"


def test_profile_caps_the_epochs():
    assert models.get_spec("kh_cnn").recipe.epochs == 20
    assert _train().record["epochs_run"] == TWO_EPOCHS.max_epochs


def test_profile_subset_cuts_training_but_keeps_the_test_set_whole():
    small = Profile("tiny", "", train_subset=120, max_epochs=1, embedding_points=0, augment_examples=0)
    cut = training.profile_split(SPLIT, small, seed=0)
    assert (len(cut.y_train), len(cut.y_val), len(cut.y_test)) == (120, 100, 60)


def test_restore_best_keeps_the_best_validation_epoch():
    spec = models.with_recipe(SMALL, restore_best=True, epochs=3)
    rec = training.train_model(spec, SPLIT, Profile("t", "", None, 3, 0, 0), seed=3, precision="float32",
                               progress="none").record
    val = {e: v for e, s, m, v in rec["history"] if s == "validation" and m == "accuracy"}
    assert rec["best_epoch"] == max(val, key=val.get)
    assert rec["val_accuracy"] == max(val.values())


@pytest.mark.slow
def test_trained_model_is_saved_and_reused_without_training(tmp_path, capsys):
    first = _train(tmp_path)
    paths = store.model_paths(tmp_path, "kh_cnn")
    assert all(p.is_file() for p in paths.values())
    again = _train(tmp_path, progress="summary")
    assert again.reused and "reusing the saved run" in capsys.readouterr().out
    assert np.array_equal(again.test_proba, first.test_proba)
    assert np.allclose(again.model.predict(np.zeros((1, 28, 28, 1)), verbose=0),
                       first.model.predict(np.zeros((1, 28, 28, 1)), verbose=0), atol=1e-6)


def test_changed_settings_train_again_instead_of_reusing(tmp_path):
    _train(tmp_path)
    changed = _train(tmp_path, spec=models.with_recipe(SMALL, learning_rate=0.01))
    assert not changed.reused
    saved = json.loads(store.model_paths(tmp_path, "kh_cnn")["record"].read_text())
    assert saved["recipe"]["learning_rate"] == 0.01


def test_a_run_interrupted_before_its_record_is_not_reused(tmp_path):
    _train(tmp_path)
    store.model_paths(tmp_path, "kh_cnn")["record"].unlink()  # as if killed while saving
    assert training.load_trained(tmp_path, "kh_cnn") is None
    assert not _train(tmp_path).reused


def test_numpy_pipeline_trains_the_studies_way():
    rec = _train(pipeline="numpy").record
    assert rec["pipeline"] == "numpy" and rec["epochs_run"] == 2


def test_augmentation_needs_the_tf_data_pipeline():
    with pytest.raises(ValueError, match="tf.data"):
        _train(spec=models.with_recipe(SMALL, augment=True), pipeline="numpy")


@pytest.mark.parametrize("kw, message", [({"pipeline": "torch"}, "tf.data"), ({"progress": "loud"}, "summary"),
                                         ({"precision": "int8"}, "float32")])
def test_bad_training_options_are_refused_with_the_choices(kw, message):
    with pytest.raises(ValueError, match=message):
        _train(**kw)


def test_progress_mode_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(training.PROGRESS_ENV, "summary")
    assert training.progress_mode("auto") == "summary"
    monkeypatch.delenv(training.PROGRESS_ENV)
    assert training.progress_mode("auto") == "epochs"


def test_epoch_lines_print_one_line_per_epoch(capsys):
    _train(progress="epochs")
    lines = [line for line in capsys.readouterr().out.splitlines() if " epoch " in line]
    assert len(lines) == 2 and lines[0].startswith("kh_cnn epoch  1/2: loss")


def test_predict_proba_turns_logits_into_probabilities():
    class Logits:
        def predict(self, x, batch_size, verbose):
            return np.array([[0.0, 0.0], [np.log(3.0), 0.0]])

    proba = training.predict_proba(Logits(), np.zeros((2, 1)), from_logits=True)
    assert np.allclose(proba, [[0.5, 0.5], [0.75, 0.25]])


def test_cross_entropy_on_a_hand_made_case():
    proba = np.array([[0.5, 0.5], [0.25, 0.75]])
    assert training.cross_entropy(proba, np.array([0, 1])) == pytest.approx(-(np.log(0.5) + np.log(0.75)) / 2)


@pytest.mark.slow
def test_folds_train_one_model_each_and_the_best_is_kept(tmp_path):
    one = Profile("t", "", None, 1, 0, 0)
    spec = models.with_recipe(SMALL, split="kfold-3")
    folds = training.train_folds(spec, kfold_splits(DS, 3, seed=0), one, output_dir=tmp_path, precision="float32",
                                 progress="none")
    assert [r.name for r in folds] == ["kh_cnn-fold1", "kh_cnn-fold2", "kh_cnn-fold3"]
    best = training.best_fold(folds)
    assert best.record["val_accuracy"] == max(r.record["val_accuracy"] for r in folds)
    assert list(training.fold_summary(folds).index) == [1, 2, 3]


def test_train_on_dataset_validates_on_the_test_set_for_kh():
    spec = models.with_recipe(SMALL, split="test-as-validation")
    rec = training.train_on_dataset(spec, DS, TWO_EPOCHS, seed=0, precision="float32", progress="none").record
    assert rec["n_val"] == rec["n_test"] == 60 and rec["n_train"] == 400


def test_architecture_signature_ignores_layer_names_but_not_settings():
    import keras

    def net(momentum):
        return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                 keras.layers.BatchNormalization(momentum=momentum), keras.layers.Dense(10)])

    assert store.architecture_signature(net(0.9)) == store.architecture_signature(net(0.9))
    assert store.architecture_signature(net(0.9)) != store.architecture_signature(net(0.99))


@pytest.mark.slow
def test_a_changed_architecture_is_not_reused(tmp_path):
    from dataclasses import replace

    _train(tmp_path)
    with_dropout = replace(SMALL, build=models.get_spec("kh_cnn_reg").build)
    assert not _train(tmp_path, spec=with_dropout).reused


@pytest.mark.slow
def test_the_tf_data_path_runs_several_steps_per_call_and_the_numpy_path_one():
    fast, plain = _train(), _train(pipeline="numpy")
    assert fast.record["steps_per_execution"] == 6  # 300 images at batch 50: all six steps of an epoch in one call
    assert fast.model.steps_per_execution == 6
    assert plain.record["steps_per_execution"] == 1 and plain.model.steps_per_execution == 1


@pytest.mark.slow
def test_several_steps_per_call_train_exactly_the_same_model_as_one(monkeypatch):
    batched = _train(deterministic=True)
    monkeypatch.setattr(pipeline, "STEPS_PER_EXECUTION", 1)
    stepwise = _train(deterministic=True)
    assert stepwise.record["steps_per_execution"] == 1
    assert np.allclose(batched.test_proba, stepwise.test_proba, atol=1e-5)


def test_a_deterministic_run_switches_deterministic_ops_off_again():
    from tensorflow.python.framework import config as tf_config

    assert not tf_config.is_op_determinism_enabled()
    _train(deterministic=True)
    assert not tf_config.is_op_determinism_enabled()


def test_training_builds_the_model_once():
    from dataclasses import replace

    builds = []

    def counted(n=10):
        builds.append(n)
        return models.build_model("kh_cnn", n)

    _train(spec=replace(SMALL, build=counted))
    assert builds == [10]


def test_a_reused_run_is_found_without_building_twice(tmp_path):
    from dataclasses import replace

    builds = []

    def counted(n=10):
        builds.append(n)
        return models.build_model("kh_cnn", n)

    _train(tmp_path, spec=replace(SMALL, build=counted))
    assert _train(tmp_path, spec=replace(SMALL, build=counted)).reused
    assert builds == [10, 10]  # one build per call: the second one only to fingerprint the architecture


def test_the_record_keeps_the_scores_of_flip_test_time_augmentation():
    spec = models.with_recipe(SMALL, augment=True, flip_tta=True)
    rec = _train(spec=spec).record
    assert rec["flip_tta"] is True and 0 <= rec["test_accuracy_without_tta"] <= 1


def test_shift_test_time_augmentation_averages_ten_views_and_is_recorded():
    spec = models.with_recipe(SMALL, augment=True, flip_tta=True, shift_tta=True)
    result = _train(spec=spec)
    rec = result.record
    assert rec["flip_tta"] is True and rec["shift_tta"] is True
    assert np.allclose(result.test_proba.sum(axis=1), 1, atol=1e-4)
    assert rec["test_accuracy"] == pytest.approx(float((result.test_proba.argmax(1) == SPLIT.y_test).mean()))
