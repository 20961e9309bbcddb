import gzip
import os

import numpy as np
import pytest

from fmnist_helpers.data import datasets as data
from fmnist_helpers.data.datasets import DataFileError, load_dataset
from fmnist_helpers.base.paths import DATA_DIR_ENV


def _same_arrays(ds, tiny):
    return all(np.array_equal(getattr(ds, role), arr) for role, arr in tiny.arrays.items())


def test_loads_gzipped_files_from_an_explicit_folder(tiny, tmp_path):
    folder = tiny.write(tmp_path / "mine")
    ds = load_dataset("tiny", data_dir=folder, download=False)
    assert _same_arrays(ds, tiny)
    assert ds.x_train.dtype == np.uint8 and ds.class_names == tiny.spec.class_names


def test_loads_uncompressed_files_too(tiny, tmp_path):
    folder = tiny.write(tmp_path / "raw", gz=False)
    assert _same_arrays(load_dataset("tiny", data_dir=folder, download=False), tiny)


def test_finds_files_in_a_subfolder_named_after_the_dataset(tiny, tmp_path):
    tiny.write(tmp_path / "root" / "tiny-set")
    ds = load_dataset("tiny", data_dir=tmp_path / "root", download=False)
    assert ds.source == tmp_path / "root" / "tiny-set"


def test_explicit_folder_wins_over_environment_and_default(tiny, tmp_path, monkeypatch):
    for name in ("explicit", "env"):
        tiny.write(tmp_path / name)
    tiny.write(tiny.default_dir / "tiny")
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env"))
    assert load_dataset("tiny", data_dir=tmp_path / "explicit", download=False).source == tmp_path / "explicit"
    assert load_dataset("tiny", download=False).source == tmp_path / "env"
    monkeypatch.delenv(DATA_DIR_ENV)
    assert load_dataset("tiny", download=False).source == tiny.default_dir / "tiny"


def test_empty_environment_variable_counts_as_unset(tiny, monkeypatch):
    tiny.write(tiny.default_dir / "tiny")
    monkeypatch.setenv(DATA_DIR_ENV, "")
    assert load_dataset("tiny", download=False).source == tiny.default_dir / "tiny"


def test_unknown_dataset_lists_accepted_names():
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'.*'fashion_mnist', 'mnist'"):
        load_dataset("cifar10")


def test_offline_without_files_names_the_files_and_where_to_put_them(tiny, tmp_path):
    with pytest.raises(DataFileError) as err:
        load_dataset("tiny", data_dir=tmp_path / "nowhere", download=True, progress=False)
    message = str(err.value)
    assert "download failed" in message and "127.0.0.1:9" in message
    for name in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", str(tmp_path / "nowhere"), DATA_DIR_ENV):
        assert name in message
    assert not (tiny.default_dir / "tiny").exists() or not any((tiny.default_dir / "tiny").iterdir())


def test_download_switched_off_says_so(tiny):
    with pytest.raises(DataFileError, match="downloading is switched off"):
        load_dataset("tiny", download=False)


def test_partial_file_set_is_an_error_naming_the_missing_files(tiny, tmp_path):
    folder = tiny.write(tmp_path / "partial", roles=["x_train", "y_train", "x_test"])
    with pytest.raises(DataFileError, match="only some.*missing: t10k-labels-idx1-ubyte"):
        load_dataset("tiny", data_dir=folder, download=False)


def test_corrupted_gzip_is_reported_by_name_and_left_untouched(tiny, tmp_path):
    folder = tiny.write(tmp_path / "bad")
    victim = folder / "train-images-idx3-ubyte.gz"
    damaged = victim.read_bytes()[:-20]
    victim.write_bytes(damaged)
    with pytest.raises(DataFileError, match="train-images-idx3-ubyte.gz: cannot be decompressed"):
        load_dataset("tiny", data_dir=folder, download=False)
    assert victim.read_bytes() == damaged


def test_wrong_content_fails_the_checksum_and_is_left_untouched(tiny, tmp_path):
    folder = tiny.write(tmp_path / "flipped")
    victim = folder / "t10k-images-idx3-ubyte.gz"
    raw = bytearray(tiny.raw["x_test"])
    raw[100] ^= 0xFF  # one flipped pixel
    victim.write_bytes(gzip.compress(bytes(raw)))
    before = victim.read_bytes()
    with pytest.raises(DataFileError, match="t10k-images-idx3-ubyte.gz: content does not match.*corrupted"):
        load_dataset("tiny", data_dir=folder, download=False)
    assert victim.read_bytes() == before


def test_a_file_from_another_dataset_is_identified(tiny, tmp_path):
    folder = tiny.write(tmp_path / "swapped")
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(tiny.raw["y_test"]))
    with pytest.raises(DataFileError, match="it is the Tiny file t10k-labels-idx1-ubyte"):
        load_dataset("tiny", data_dir=folder, download=False)


def test_downloads_into_the_default_folder_from_a_mirror(tiny, mirror, monkeypatch):
    root, url = mirror
    tiny.write(root)
    monkeypatch.setitem(data.DATASETS, "tiny", data.DatasetSpec(**{**tiny.spec.__dict__, "mirrors": (url,)}))
    ds = load_dataset("tiny", progress=False)
    assert _same_arrays(ds, tiny)
    assert sorted(p.name for p in (tiny.default_dir / "tiny").iterdir()) == sorted(
        f"{n}.gz" for n in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))


def test_download_falls_through_to_the_next_mirror(tiny, mirror, monkeypatch):
    root, url = mirror
    tiny.write(root)
    spec = data.DatasetSpec(**{**tiny.spec.__dict__, "mirrors": ("http://127.0.0.1:9/", url)})
    monkeypatch.setitem(data.DATASETS, "tiny", spec)
    assert _same_arrays(load_dataset("tiny", progress=False), tiny)


def test_a_corrupted_download_is_rejected_and_leaves_no_file(tiny, mirror, monkeypatch):
    root, url = mirror
    tiny.write(root)
    (root / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01" + bytes(8)))
    monkeypatch.setitem(data.DATASETS, "tiny", data.DatasetSpec(**{**tiny.spec.__dict__, "mirrors": (url,)}))
    with pytest.raises(DataFileError, match="train-labels-idx1-ubyte.gz.*content does not match"):
        load_dataset("tiny", progress=False)
    leftovers = [p.name for p in (tiny.default_dir / "tiny").iterdir()]
    assert "train-labels-idx1-ubyte.gz" not in leftovers and not any(n.endswith(".part") for n in leftovers)


def test_second_load_comes_from_the_cache_without_decompressing(tiny, tmp_path, monkeypatch):
    folder = tiny.write(tmp_path / "src")
    load_dataset("tiny", data_dir=folder, download=False)

    def no_gzip(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(data.gzip, "open", no_gzip)
    assert _same_arrays(load_dataset("tiny", data_dir=folder, download=False), tiny)


def test_cache_lives_under_the_default_folder_never_beside_the_users_files(tiny, tmp_path):
    folder = tiny.write(tmp_path / "users-folder")
    before = sorted(p.name for p in folder.iterdir())
    load_dataset("tiny", data_dir=folder, download=False)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert (tiny.default_dir / ".cache" / "tiny" / "train-images-idx3-ubyte.npy").is_file()


def test_a_changed_source_file_is_verified_again(tiny, tmp_path):
    folder = tiny.write(tmp_path / "src")
    load_dataset("tiny", data_dir=folder, download=False)
    victim = folder / "train-images-idx3-ubyte.gz"
    victim.write_bytes(gzip.compress(tiny.raw["x_train"][:-1] + b"\x01"))
    st = victim.stat()
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    with pytest.raises(DataFileError, match="content does not match"):
        load_dataset("tiny", data_dir=folder, download=False)


def test_a_damaged_cache_is_rebuilt_from_the_source(tiny, tmp_path):
    folder = tiny.write(tmp_path / "src")
    load_dataset("tiny", data_dir=folder, download=False)
    cached = tiny.default_dir / ".cache" / "tiny" / "train-images-idx3-ubyte.npy"
    cached.write_bytes(cached.read_bytes()[:200])
    assert _same_arrays(load_dataset("tiny", data_dir=folder, download=False), tiny)
    assert np.load(cached).shape == tiny.arrays["x_train"].shape


def test_real_fashion_mnist_is_official_and_balanced(fashion):
    assert fashion.x_train.shape == (60000, 28, 28) and fashion.x_test.shape == (10000, 28, 28)
    assert fashion.y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert fashion.y_test[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert np.bincount(fashion.y_train).tolist() == [6000] * 10
    assert round(fashion.x_train.mean() / 255, 4) == 0.2860
    assert fashion.class_names[9] == "Ankle boot"


def test_real_mnist_has_the_known_class_counts(mnist):
    assert np.bincount(mnist.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(mnist.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert mnist.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
