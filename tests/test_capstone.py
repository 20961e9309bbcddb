"""The capstone of notebook 08: the image folder the package writes (a fixed split, the held-out images never in it,
files Keras reads back exactly, written atomically and idempotently), and the check that scores a saved model on
the held-out images (a good model passes, a bad one is told why, no answer makes it raise)."""
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fmnist_helpers.data import capstone
from fmnist_helpers.exercises import nb08
from fmnist_helpers.exercises.core import CORRECT, INCORRECT, NOT_ANSWERED


@pytest.fixture
def no_fsync(monkeypatch):
    """Atomic writes without waiting for the disk: the rename that makes them atomic stays, the tests run faster."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    """One capstone folder, written once (without waiting for the disk) for the tests that read or copy it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fsync", lambda fd: None)
        return capstone.write_image_folder(tmp_path_factory.mktemp("run"))


@pytest.fixture
def folder_copy(written, tmp_path) -> Path:
    """A copy of the written folder that a test may change."""
    return Path(shutil.copytree(written, tmp_path / capstone.FOLDER_NAME))


def _pngs(folder: Path) -> list[Path]:
    return sorted((folder / capstone.TRAIN_FOLDER).glob("*/*.png"))


def _decoded(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


# ------------------------------------------------------------------------------------------------ the split


def test_the_split_is_the_same_on_every_call():
    first, second = capstone.split(), capstone.split()
    assert np.array_equal(first.held_out, second.held_out) and np.array_equal(first.train, second.train)


def test_another_seed_holds_other_images_back():
    assert not np.array_equal(capstone.split(seed=1).held_out, capstone.split().held_out)


def test_the_split_holds_back_a_fifth_of_each_class():
    y, held = capstone.labels(), capstone.split().held_out
    for digit in range(capstone.NUM_CLASSES):
        assert np.sum(y[held] == digit) == round(capstone.HELD_OUT_FRACTION * np.sum(y == digit))


def test_the_two_parts_share_no_image_and_together_are_the_whole_dataset():
    part = capstone.split()
    assert np.intersect1d(part.train, part.held_out).size == 0
    assert np.array_equal(np.union1d(part.train, part.held_out), np.arange(len(capstone.labels())))


def test_the_sizes_the_notebook_and_its_exercises_quote():
    assert (nb08.n_files(), nb08.n_held_out(), nb08.n_validation()) == (1438, 359, 287)


def test_held_out_images_are_32_by_32_greyscale_pixels_0_to_255():
    x, y = capstone.held_out()
    assert x.shape == (359, 32, 32, 1) and x.dtype == np.uint8 and x.max() == 255 and y.shape == (359,)


# ------------------------------------------------------------------------------------------------ the folder


def test_the_folder_goes_under_the_output_folder(written):
    assert written.name == capstone.FOLDER_NAME and (written / capstone.TRAIN_FOLDER).is_dir()


def test_the_folder_holds_one_file_per_student_image_in_its_class_folder(written):
    y = capstone.labels()
    expected = sorted(f"{y[i]}/{capstone.file_name(int(i))}" for i in capstone.split().train)
    assert sorted(f"{p.parent.name}/{p.name}" for p in _pngs(written)) == expected


def test_no_held_out_image_is_in_the_folder_by_name_or_by_content(written):
    names = {p.name for p in _pngs(written)}
    assert not names & {capstone.file_name(int(i)) for i in capstone.split().held_out}
    held = {image.tobytes() for image in capstone.held_out()[0][..., 0]}
    assert not held & {_decoded(p).tobytes() for p in _pngs(written)}


def test_the_files_decode_to_exactly_the_student_images(written):
    x, _ = capstone.student_images()
    decoded = np.stack([_decoded(written / capstone.TRAIN_FOLDER / p.parent.name / p.name)
                        for p in sorted(_pngs(written), key=lambda p: p.name)])
    assert decoded.dtype == np.uint8 and np.array_equal(decoded, x[..., 0])


def test_the_manifest_records_the_counts(written):
    import json

    manifest = json.loads((written / capstone.MANIFEST).read_text())
    assert manifest["n_train_folder"] == 1438 and manifest["n_held_out"] == 359
    assert manifest["class_counts"] == capstone.class_counts(written)


def test_writing_again_leaves_every_file_untouched(folder_copy):
    before = {p: p.stat().st_mtime_ns for p in _pngs(folder_copy)}
    capstone.write_image_folder(folder_copy.parent)
    assert {p: p.stat().st_mtime_ns for p in _pngs(folder_copy)} == before


def test_writing_again_repairs_a_changed_file_and_removes_a_stray_one(folder_copy):
    changed = _pngs(folder_copy)[0]
    original = changed.read_bytes()
    changed.write_bytes(b"broken")
    stray = folder_copy / capstone.TRAIN_FOLDER / "3" / capstone.file_name(int(capstone.split().held_out[0]))
    shutil.copy(changed.with_name(_pngs(folder_copy)[1].name), stray)
    capstone.write_image_folder(folder_copy.parent)
    assert changed.read_bytes() == original and not stray.exists()


def test_an_interrupted_write_leaves_whole_files_only_and_the_next_call_completes_it(tmp_path, monkeypatch, no_fsync):
    real_replace, calls = os.replace, []

    def replace_then_fail(src, dst):
        calls.append(dst)
        if len(calls) == 50:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_then_fail)
    with pytest.raises(OSError, match="disk full"):
        capstone.write_image_folder(tmp_path)
    folder = tmp_path / capstone.FOLDER_NAME
    assert len(_pngs(folder)) == 49 and all(_decoded(p).shape == (32, 32) for p in _pngs(folder))
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]
    monkeypatch.setattr(os, "replace", real_replace)
    capstone.write_image_folder(tmp_path)
    assert len(_pngs(folder)) == 1438


@pytest.mark.slow
def test_image_dataset_from_directory_reads_the_folder_as_the_check_scores_the_held_out_images(written):
    dataset = nb08._quiet_load(written / capstone.TRAIN_FOLDER, batch_size=None, shuffle=False)
    assert dataset.class_names == [str(d) for d in range(10)]
    images = np.stack([image.numpy() for image, _ in dataset])
    labels = np.array([label.numpy() for _, label in dataset])
    index = [int(Path(p).stem) for p in dataset.file_paths]
    assert images.shape == (1438, 32, 32, 1) and images.dtype == np.float32
    assert np.array_equal(images, capstone._images(32)[index].astype(np.float32))
    assert np.array_equal(labels, capstone.labels()[index])


# ------------------------------------------------------------------------------------------------ the check


@pytest.mark.parametrize("answer", [42, 0.96, ["model.keras"], {"path": "model.keras"}, object(), b"model.keras"],
                         ids=["int", "float", "list", "dict", "object", "bytes"])
def test_an_answer_that_is_no_path_is_a_verdict_not_an_exception(answer):
    verdict = nb08.q4.evaluate(answer)
    assert verdict.status == INCORRECT and "path" in verdict.message


def test_an_empty_answer_is_not_answered_yet():
    assert nb08.q4.evaluate(None).status == NOT_ANSWERED


def test_a_missing_file_gets_a_clear_verdict(tmp_path):
    verdict = nb08.q4.evaluate(str(tmp_path / "my_cnn.keras"))
    assert verdict.status == INCORRECT and verdict.message.startswith("there is no file at that path")


def test_a_folder_gets_a_clear_verdict(tmp_path):
    verdict = nb08.q4.evaluate(tmp_path)
    assert verdict.status == INCORRECT and verdict.message.startswith("that is a folder")


@pytest.mark.slow
@pytest.mark.parametrize("content", [b"", b"not a model\n", b"PK\x03\x04 a broken zip"], ids=["empty", "text", "zip"])
def test_a_file_that_is_no_keras_model_is_told_so(tmp_path, content):
    path = tmp_path / "my_cnn.keras"
    path.write_bytes(content)
    verdict = nb08.q4.evaluate(path)
    assert verdict.status == INCORRECT and verdict.message.startswith("Keras cannot load that file as a model")


@pytest.mark.slow
def test_a_good_saved_model_passes_with_logits_and_with_probabilities(tmp_path):
    import keras

    logits = nb08._nearest_neighbour_model()
    probabilities = keras.Sequential([logits, keras.layers.Softmax()])
    for name, model in [("logits", logits), ("probabilities", probabilities)]:
        model.save(tmp_path / f"{name}.keras")
        verdict = nb08.q4.evaluate(tmp_path / f"{name}.keras")
        assert verdict.status == CORRECT and "met, by" in verdict.message, (name, verdict)


@pytest.mark.slow
def test_the_score_counts_the_held_out_images_the_model_gets_right(tmp_path):
    nb08._nearest_neighbour_model().save(tmp_path / "nn.keras")
    score = nb08.score_saved_model(tmp_path / "nn.keras")
    x, y = capstone.held_out()
    x_train, y_train = capstone.student_images()
    a, b = x.reshape(len(x), -1) / 255.0, x_train.reshape(len(x_train), -1) / 255.0
    per_class = np.bincount(y_train).min()
    pick = np.concatenate([np.flatnonzero(y_train == c)[:per_class] for c in range(10)])
    distances = ((a[:, None, :] - b[pick][None]) ** 2).sum(axis=2)
    assert score.n == 359 and score.right == int(np.sum(y_train[pick][distances.argmin(axis=1)] == y))


@pytest.mark.slow
def test_the_colour_model_is_told_it_expects_three_channels(tmp_path):
    nb08._small_model(input_shape=(32, 32, 3)).save(tmp_path / "rgb.keras")
    verdict = nb08.q4.evaluate(tmp_path / "rgb.keras")
    assert verdict.status == INCORRECT and "It expects colour images: 3 channels." in verdict.message


@pytest.fixture
def trainer(written):
    """A function that trains a model on the capstone folder as a student would, saves it and returns the path."""
    import keras

    def train(model: "keras.Model", epochs: int, seed: int = 42) -> Path:
        train_ds, val_ds = nb08._quiet_load(written / capstone.TRAIN_FOLDER, validation_split=0.2, subset="both",
                                            seed=seed, batch_size=32)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(train_ds, validation_data=val_ds, epochs=epochs, shuffle=False, verbose=0)
        path = written.parent / f"{model.name}.keras"
        model.save(path)
        return path

    return train


@pytest.mark.slow
def test_the_notebooks_solution_reaches_the_target(trainer):
    import keras

    keras.utils.set_random_seed(42)
    L = keras.layers
    model = keras.Sequential([keras.Input((32, 32, 1)), L.Rescaling(1 / 255), L.RandomTranslation(0.1, 0.1),
                              L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(),
                              L.Conv2D(64, 3, padding="same", activation="relu"), L.MaxPooling2D(),
                              L.Flatten(), L.Dropout(0.3), L.Dense(10, activation="softmax")], name="solution")
    verdict = nb08.q4.evaluate(trainer(model, epochs=15))
    assert verdict.status == CORRECT, verdict


@pytest.mark.slow
def test_a_careless_model_misses_the_target_and_hears_by_how_much(trainer):
    import keras

    keras.utils.set_random_seed(42)  # an MLP on raw 0-255 pixels, trained for 5 epochs
    model = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10, activation="softmax")],
                             name="careless")
    verdict = nb08.q4.evaluate(trainer(model, epochs=5))
    assert verdict.status == INCORRECT and "below the target of 96% by" in verdict.message, verdict
