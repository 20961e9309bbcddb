"""Faults in the saved-run store: a saved model is used only when it verifies.

A swapped, truncated or reshaped file, a broken record, other images behind the same labels, or a save killed
between its writes all mean "train again, and say why in one line naming the file"; never a crash, never a run
reused with files that do not belong together. A failed save leaves no temporary file behind.

Every test trains the small `kh_cnn` for one epoch on 300 generated images; the two runs they start from are
trained once for the whole module and copied into each test's folder.
"""
from __future__ import annotations

import dataclasses
import errno
import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import synthetic_dataset
from fmnist_helpers.models import registry as models
from fmnist_helpers.training import store
from fmnist_helpers.training import fit as training
from fmnist_helpers.base.params import Profile
from fmnist_helpers.data.preprocess import to_model_input
from fmnist_helpers.data.splits import holdout_split

DS = synthetic_dataset(400, 60)
SPLIT = holdout_split(DS, 100, seed=0)
ONE_EPOCH = Profile("test", "fault tests", train_subset=None, max_epochs=1, embedding_points=0, augment_examples=0)
SPEC = models.with_recipe(models.get_spec("kh_cnn"), batch_size=50, split="holdout-12000")
NAME = "kh_cnn"
REFUSAL = "the saved run is not used"


def _train(output_dir: Path, split=SPLIT, seed: int = 3, **kw) -> training.TrainResult:
    kw.setdefault("precision", "float32")
    kw.setdefault("progress", "summary")
    return training.train_model(SPEC, split, ONE_EPOCH, seed=seed, output_dir=output_dir, **kw)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """A folder with the finished run `kh_cnn` (seed 3) and the same model trained with seed 4 as `other`."""
    folder = tmp_path_factory.mktemp("saved")
    _train(folder, progress="none")
    _train(folder, seed=4, name="other", progress="none")
    return folder


@pytest.fixture
def out(saved: Path, tmp_path: Path) -> Path:
    """A fresh copy of the saved runs for one test to damage."""
    shutil.copytree(saved / "models", tmp_path / "models")
    return tmp_path


def _refusals(capsys) -> list[str]:
    return [line for line in capsys.readouterr().out.splitlines() if REFUSAL in line]


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _assert_retrained_saying_why(run: training.TrainResult, capsys, path: Path) -> None:
    assert not run.reused
    (line,) = _refusals(capsys)
    assert str(path) in line


def test_a_model_file_swapped_for_another_is_not_used(out, capsys):
    paths = store.model_paths(out, NAME)
    shutil.copyfile(store.model_paths(out, "other")["model"], paths["model"])
    _assert_retrained_saying_why(_train(out), capsys, paths["model"])


def test_a_truncated_model_file_means_training_again(out, capsys):
    path = store.model_paths(out, NAME)["model"]
    _truncate(path)
    _assert_retrained_saying_why(_train(out), capsys, path)


def test_a_truncated_record_means_training_again(out, capsys):
    path = store.model_paths(out, NAME)["record"]
    _truncate(path)
    _assert_retrained_saying_why(_train(out), capsys, path)


@pytest.mark.parametrize("damage", ["truncated", "wrong shape"])
def test_damaged_test_probabilities_mean_training_again(out, capsys, damage):
    path = store.model_paths(out, NAME)["proba"]
    if damage == "truncated":
        _truncate(path)
    else:
        np.save(path, np.full((5, 10), 0.1, dtype=np.float32))
    _assert_retrained_saying_why(_train(out), capsys, path)


def test_probabilities_of_the_wrong_shape_are_refused_naming_the_file(out):
    path = store.model_paths(out, NAME)["proba"]
    with pytest.raises(store.UnusableRun, match=r"shape \(60, 10\).*expects \(60, 3\)") as refused:
        store.load_proba(path, (60, 3))
    assert str(path) in str(refused.value)


def test_a_record_whose_architecture_differs_from_its_model_file_is_not_used(out, capsys):
    path = store.model_paths(out, NAME)["record"]
    record = json.loads(path.read_text())
    record["parameters"] += 1
    path.write_text(json.dumps(record))
    _assert_retrained_saying_why(_train(out), capsys, store.model_paths(out, NAME)["model"])


@pytest.mark.parametrize("changed", ["x_train", "x_val", "x_test"])
def test_other_images_with_the_same_labels_are_not_reused(out, changed):
    inverted = dataclasses.replace(SPLIT, **{changed: 255 - getattr(SPLIT, changed)})
    assert not _train(out, split=inverted).reused


class Killed(BaseException):
    """Stands for the process being killed at one point of a save."""


@pytest.mark.parametrize("kill_before_rename", [2, 3])
def test_a_save_killed_between_its_writes_never_leaves_a_mismatched_run(out, monkeypatch, kill_before_rename):
    """Renames 1-3 put the model, the probabilities and the record in place; a kill before rename 2 or 3 used
    to leave the new model (and probabilities) under the old record, which the next run then reused."""
    real_replace, renames = os.replace, []

    def replace(src, dst):
        if Path(dst).parent == out / "models":
            renames.append(dst)
            if len(renames) == kill_before_rename:
                raise Killed(f"killed before renaming {src} to {dst}")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(Killed):
        _train(out, seed=4, reuse=False, progress="none")  # overwrites the seed-3 run with a seed-4 one
    monkeypatch.setattr(os, "replace", real_replace)
    run = _train(out, seed=3, progress="none")
    if run.reused:  # allowed only as the complete seed-3 run: model, probabilities and record agree
        x_test = to_model_input(SPLIT.x_test)
        assert np.allclose(training.predict_proba(run.model, x_test), run.test_proba, atol=1e-5)
        assert run.record["test_loss"] == pytest.approx(training.cross_entropy(run.test_proba, SPLIT.y_test))


def test_a_failed_save_leaves_no_temporary_file(out, monkeypatch):
    import keras

    def disk_full(self, filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"PK\x03\x04 half a model")
        raise OSError(errno.ENOSPC, "No space left on device", str(filepath))

    monkeypatch.setattr(keras.Model, "save", disk_full)
    with pytest.raises(OSError, match="No space left"):
        _train(out, reuse=False, progress="none")
    assert [p.name for p in (out / "models").iterdir() if p.name.startswith(".")] == []


def test_two_saves_of_one_name_never_share_a_temporary_file(out, monkeypatch):
    import keras

    real_save, used = keras.Model.save, []

    def recording_save(self, filepath, *args, **kwargs):
        used.append(str(filepath))
        return real_save(self, filepath, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save", recording_save)
    _train(out, reuse=False, progress="none")
    _train(out, reuse=False, progress="none")
    assert len(used) == 2 and used[0] != used[1]


def test_with_progress_none_the_reason_is_logged(out, caplog):
    path = store.model_paths(out, NAME)["record"]
    _truncate(path)
    with caplog.at_level(logging.WARNING, logger="fmnist_helpers.training.fit"):
        assert not _train(out, progress="none").reused
    (message,) = [r.getMessage() for r in caplog.records if REFUSAL in r.getMessage()]
    assert str(path) in message
