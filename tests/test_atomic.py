"""Atomic writes: a reader sees the old file or the new one whole, a failed write changes nothing and leaves
no temporary file, writers at the same time never share a temporary file, and JSON and text round-trip."""
import json
import os
import threading

import pytest

from fmnist_helpers.base.atomic import atomic_write, write_json_atomic, write_text_atomic

OLD = b"the old record, longer than the new one\n"


def _names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def target(tmp_path):
    path = tmp_path / "record.json"
    path.write_bytes(OLD)
    return path


def _run_together(writer, count: int) -> None:
    """Start `count` threads running writer(i) and wait for all of them."""
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)


def test_a_write_replaces_the_whole_file(target):
    atomic_write(target, lambda fh: fh.write(b"new"))
    assert target.read_bytes() == b"new"


def test_a_write_creates_missing_parent_folders(tmp_path):
    path = tmp_path / "results" / "deep" / "nb.json"
    atomic_write(path, lambda fh: fh.write(b"x"))
    assert path.read_bytes() == b"x"


def test_a_reader_during_the_write_still_sees_the_old_file(target):
    seen = []

    def write(fh):
        fh.write(b"half of the new ")
        seen.append(target.read_bytes())
        fh.write(b"record")

    atomic_write(target, write)
    assert seen == [OLD] and target.read_bytes() == b"half of the new record"


def test_a_failed_write_leaves_the_old_file_byte_for_byte(target):
    def fails(fh):
        fh.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, fails)
    assert target.read_bytes() == OLD


def test_a_failed_write_leaves_no_temporary_file(target):
    def fails(fh):
        fh.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(target, fails)
    assert _names(target.parent) == ["record.json"]


def test_an_interrupted_write_leaves_no_temporary_file_and_the_interrupt_goes_on(target):
    def interrupted(fh):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted)
    assert _names(target.parent) == ["record.json"] and target.read_bytes() == OLD


def test_the_temporary_file_lies_beside_the_target_so_the_rename_stays_on_one_file_system(target):
    during = []
    atomic_write(target, lambda fh: during.append(_names(target.parent)))
    assert len(during[0]) == 2 and "record.json" in during[0]


def test_the_data_reaches_the_disk_before_the_file_is_renamed(target, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b)))
    atomic_write(target, lambda fh: fh.write(b"new"))
    assert calls == ["fsync", "replace"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_written_file_can_be_read_by_others(tmp_path):
    path = tmp_path / "shared.json"
    atomic_write(path, lambda fh: fh.write(b"{}"))
    assert path.stat().st_mode & 0o777 == 0o644


def test_writers_at_the_same_time_never_share_a_temporary_file(target):
    writers = 4
    all_inside, all_looked = threading.Barrier(writers, timeout=10), threading.Barrier(writers, timeout=10)
    seen = []

    def writer(i: int) -> None:
        def write(fh):
            fh.write(f"writer {i}\n".encode() * 100)
            all_inside.wait()  # every writer holds its temporary file open here
            seen.append(set(_names(target.parent)) - {"record.json"})
            all_looked.wait()

        atomic_write(target, write)

    _run_together(writer, writers)
    assert [len(names) for names in seen] == [writers] * writers


def test_writers_at_the_same_time_leave_one_of_their_files_whole(target):
    writers = 4
    all_inside = threading.Barrier(writers, timeout=10)
    contents = [f"writer {i}\n".encode() * 100 for i in range(writers)]

    def writer(i: int) -> None:
        def write(fh):
            fh.write(contents[i])
            all_inside.wait()

        atomic_write(target, write)

    _run_together(writer, writers)
    assert target.read_bytes() in contents and _names(target.parent) == ["record.json"]


def test_json_round_trips(tmp_path):
    data = {"model": "wits_cnn", "accuracy": 0.9123, "epochs": [1, 2, 3], "note": "Größe ✓", "done": True,
            "missing": None}
    write_json_atomic(tmp_path / "r.json", data)
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) == data


def test_json_is_indented_and_ends_with_a_newline(tmp_path):
    write_json_atomic(tmp_path / "r.json", {"a": 1})
    assert (tmp_path / "r.json").read_text(encoding="utf-8") == '{\n  "a": 1\n}\n'


def test_data_json_cannot_encode_leaves_the_old_file_and_no_temporary_file(target):
    with pytest.raises(TypeError):
        write_json_atomic(target, {"bad": object()})
    assert target.read_bytes() == OLD and _names(target.parent) == ["record.json"]


def test_text_is_written_as_utf8_whatever_the_locale(tmp_path):
    write_text_atomic(tmp_path / "page.md", "Größe · ✓\n")
    assert (tmp_path / "page.md").read_bytes() == "Größe · ✓\n".encode("utf-8")
