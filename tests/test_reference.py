"""Reference figures of a recorded `full` run: which training records count, what the file holds, and that
the file in the repository covers every registry model."""
import json
from dataclasses import asdict

import pytest

from fmnist_helpers.studies import reference, speed

from fmnist_helpers.training import store
from fmnist_helpers.course.cli import main
from fmnist_helpers.models.registry import MODELS

HASHES = {"fashion_mnist": "f" * 64, "mnist": "m" * 64}


def _record(key, accuracy=0.9, dataset="fashion_mnist", profile="full", split=None, name=None, **changes):
    recipe = asdict(MODELS[key].recipe)
    recipe.update(changes)
    return {"name": name or key, "key": key, "profile": profile, "recipe": recipe,
            "split": split or recipe["split"], "data": {"y_test": HASHES[dataset]}, "test_accuracy": accuracy,
            "val_accuracy": accuracy + 0.01, "epochs_run": 20, "best_epoch": 18, "train_time_s": 100.0,
            "parameters": 1000}


def test_only_full_runs_of_the_registry_recipe_on_the_whole_split_count():
    records = [_record("wits_cnn"), _record("uw_mlp", profile="quick"), _record("kh_ann", split="test-as-validation-sub"),
               _record("aueb_mlp2", name="aueb_mlp2-b128-sgd0.1", batch_size=128, optimizer="sgd"),
               {**_record("uw_cnn"), "key": "not_a_model"}, {**_record("bu_cnn"), "data": {"y_test": "x" * 64}}]
    found = reference.matching_runs(records, HASHES)
    assert {ds: sorted(models) for ds, models in found.items()} == {"fashion_mnist": ["wits_cnn"]}


def test_runs_of_one_model_are_averaged_with_their_range():
    folds = [_record("bu_cnn", a, name=f"bu_cnn-fold{i}") for i, a in enumerate((0.87, 0.88, 0.89), 1)]
    summary = reference.summarize_runs(folds)
    assert summary["test_accuracy"] == pytest.approx(0.88) and summary["runs"] == 3
    assert summary["test_accuracy_range"] == [0.87, 0.89]
    assert summary["names"] == ["bu_cnn-fold1", "bu_cnn-fold2", "bu_cnn-fold3"]


def test_datasets_are_told_apart_by_the_test_labels():
    found = reference.matching_runs([_record("kh_ann", 0.88), _record("kh_ann", 0.98, dataset="mnist")], HASHES)
    assert found["fashion_mnist"]["kh_ann"][0]["test_accuracy"] == 0.88
    assert found["mnist"]["kh_ann"][0]["test_accuracy"] == 0.98


def _run_folder(tmp_path, fashion):
    run = tmp_path / "full"
    (run / "models").mkdir(parents=True)
    (run / "results").mkdir()
    digest = store.array_sha256(fashion.y_test)
    for rec in (_record("wits_cnn", 0.9138), _record("aueb_mlp2", 0.8912, name="aueb_mlp2-b512-adam0.001")):
        rec["data"] = {"y_test": digest}
        (run / "models" / f"{rec['name']}.json").write_text(json.dumps(rec))
    (run / "results" / "04_cnn.json").write_text(json.dumps(
        {"params": {"seed": 42}, "environment": {"cpu_count": 2, "machine": "x86_64"},
         "updated": "2026-11-25T18:00:00+00:00"}))
    return run


def test_the_command_writes_the_file_the_notebooks_read(tmp_path, fashion, capsys):
    target = tmp_path / "full_run.json"
    assert main(["reference", str(_run_folder(tmp_path, fashion)), "--target", str(target), "--commit", "abc1234def"]) == 0
    assert "wits_cnn" in capsys.readouterr().out
    assert reference.figure("wits_cnn", path=target)["test_accuracy"] == 0.9138
    assert reference.column(["aueb_mlp2-b512-adam0.001", "uw_cnn"], path=target)[0] == 0.8912
    assert reference.label(path=target) == "recorded full run: 2026-11-25, commit abc1234, 2-core x86_64 CPU, seed 42"


def _rerun_of_one_notebook(tmp_path, fashion, key, accuracy, notebook="04_cnn", date="2026-11-26"):
    run = tmp_path / f"rerun-{key}-{date}"
    (run / "models").mkdir(parents=True)
    (run / "results").mkdir()
    rec = {**_record(key, accuracy), "data": {"y_test": store.array_sha256(fashion.y_test)}}
    (run / "models" / f"{key}.json").write_text(json.dumps(rec))
    (run / "results" / f"{notebook}.json").write_text(json.dumps(
        {"params": {"seed": 42}, "environment": {"cpu_count": 2, "machine": "x86_64"}, "updated": f"{date}T09:00:00"}))
    return run


def test_an_update_rerecords_only_the_models_its_run_trained(tmp_path, fashion, capsys):
    target = tmp_path / "full_run.json"
    main(["reference", str(_run_folder(tmp_path, fashion)), "--target", str(target), "--commit", "abc1234def"])
    rerun = _rerun_of_one_notebook(tmp_path, fashion, "wits_cnn", 0.9201)
    capsys.readouterr()
    assert main(["reference", str(rerun), "--target", str(target), "--commit", "fed9876abc", "--update"]) == 0
    printed = capsys.readouterr().out
    assert "wits_cnn" in printed and "aueb_mlp2" not in printed
    assert reference.figure("wits_cnn", path=target)["test_accuracy"] == 0.9201
    assert reference.figure("aueb_mlp2", path=target)["test_accuracy"] == 0.8912
    assert reference.recorded(target)["run"]["commit"] == "abc1234def"


def test_the_label_names_each_update_with_its_notebooks_date_and_commit(tmp_path, fashion):
    target = tmp_path / "full_run.json"
    main(["reference", str(_run_folder(tmp_path, fashion)), "--target", str(target), "--commit", "abc1234def"])
    main(["reference", str(_rerun_of_one_notebook(tmp_path, fashion, "wits_cnn", 0.92)), "--target", str(target),
          "--commit", "fed9876abc", "--update"])
    assert reference.label(path=target) == (
        "recorded full run: 2026-11-25, commit abc1234, 2-core x86_64 CPU, seed 42; the models of 04_cnn "
        "re-recorded 2026-11-26, commit fed9876, 2-core x86_64 CPU, seed 42")


def test_an_update_whose_models_are_all_rerecorded_again_leaves_the_file(tmp_path, fashion):
    target = tmp_path / "full_run.json"
    main(["reference", str(_run_folder(tmp_path, fashion)), "--target", str(target), "--commit", "abc1234def"])
    for commit, date in (("1111111aaa", "2026-11-26"), ("2222222bbb", "2026-11-27")):
        main(["reference", str(_rerun_of_one_notebook(tmp_path, fashion, "wits_cnn", 0.92, date=date)),
              "--target", str(target), "--commit", commit, "--update"])
    updates = reference.recorded(target)["updates"]
    assert [u["commit"] for u in updates] == ["2222222bbb"] and updates[0]["models"] == {"fashion_mnist": ["wits_cnn"]}


def test_an_update_without_a_recorded_run_is_refused_with_what_to_do(tmp_path, fashion, capsys):
    target = tmp_path / "full_run.json"
    rerun = _rerun_of_one_notebook(tmp_path, fashion, "wits_cnn", 0.92)
    assert main(["reference", str(rerun), "--target", str(target), "--update"]) == 2
    assert "without --update" in capsys.readouterr().err and not target.exists()


def test_a_folder_without_trained_models_is_refused_with_what_to_run(tmp_path, capsys):
    assert main(["reference", str(tmp_path), "--target", str(tmp_path / "out.json")]) == 2
    assert "no models/ folder" in capsys.readouterr().err and not (tmp_path / "out.json").exists()


def test_a_missing_file_means_nothing_recorded(tmp_path):
    missing = tmp_path / "none.json"
    assert reference.figure("wits_cnn", path=missing) is None
    assert reference.label(path=missing).startswith("no full run recorded yet")


def test_the_recorded_file_covers_every_registry_model_on_fashion_mnist():
    data = reference.recorded()
    assert data["format"] == reference.FORMAT and data["run"]["profile"] == "full"
    assert set(data["models"]["fashion_mnist"]) == set(MODELS) - set(speed.NOT_IN_FULL_RUN)


def test_every_recorded_figure_has_the_record_format():
    data = reference.recorded()
    for run in (data["run"], *data.get("updates", [])):
        for field in ("date", "commit", "machine", "seed", "notebooks"):
            assert run[field], field
    for dataset, models in data["models"].items():
        for key, fig in models.items():
            assert set(reference.FIGURES) <= set(fig), (dataset, key)
            assert 0.1 < fig["test_accuracy"] <= 1 and fig["runs"] == len(fig["names"]) >= 1, (dataset, key)
            assert all(reference.registry_key(n) == key for n in fig["names"]), (dataset, key)


def test_the_label_says_a_run_of_several_seeds_records_their_means(tmp_path):
    target = tmp_path / "full_run.json"
    run = {"profile": "full", "date": "2026-11-27", "commit": "abc1234def", "machine": "2-core x86_64 CPU", "seed": 42}
    target.write_text(json.dumps({"format": reference.FORMAT, "run": run, "models": {},
                                  "updates": [{**run, "n_seeds": 3, "notebooks": ["06_ann_vs_cnn"], "models": {}}]}))
    assert reference.label(path=target) == (
        "recorded full run: 2026-11-27, commit abc1234, 2-core x86_64 CPU, seed 42; the models of 06_ann_vs_cnn "
        "re-recorded 2026-11-27, commit abc1234, 2-core x86_64 CPU, seeds 42-44 (means)")


def _file_with(tmp_path, models):
    target = tmp_path / "full_run.json"
    run = {"profile": "full", "date": "2026-11-27", "commit": "abc1234def", "machine": "2-core x86_64 CPU", "seed": 42}
    target.write_text(json.dumps({"format": reference.FORMAT, "run": run, "models": models}))
    return target


def test_coverage_names_what_the_run_holds_on_a_dataset_where_it_lacks_every_model(tmp_path):
    target = _file_with(tmp_path, {"mnist": {"kh_ann": {}, "pack_mlp": {}}, "fashion_mnist": {"wits_cnn": {}}})
    assert reference.recorded_models("mnist", path=target) == ["kh_ann", "pack_mlp"]
    assert reference.coverage(["wits_cnn", "uw_cnn"], "mnist", path=target) == (
        "The recorded full run has no figure on mnist for any of these 2 models: on mnist it holds only kh_ann, "
        "pack_mlp.")
    assert reference.coverage(["wits_cnn"], "mnist", path=target) == (
        "The recorded full run has no figure on mnist for wits_cnn: on mnist it holds only kh_ann, pack_mlp.")


def test_coverage_names_the_models_it_lacks_among_rows_named_for_runs(tmp_path):
    target = _file_with(tmp_path, {"fashion_mnist": {"wits_cnn": {}, "aueb_mlp2": {}}})
    assert reference.coverage(["wits_cnn", "aueb_mlp2-b512-adam0.001", "uw_cnn"], path=target) == (
        "The recorded full run has a figure on fashion_mnist for 2 of these 3 models; none for uw_cnn (on "
        "fashion_mnist it holds only aueb_mlp2, wits_cnn).")
    assert reference.coverage(["wits_cnn"], path=target) == (
        "The recorded full run has a figure on fashion_mnist for every one of these models.")


def test_coverage_without_a_recorded_run_says_none_is_recorded(tmp_path):
    assert reference.coverage(["wits_cnn"], path=tmp_path / "none.json").startswith("No full run is recorded")


def test_git_commit_names_the_checkouts_head_and_says_so_when_tracked_files_changed(tmp_path):
    import subprocess

    from fmnist_helpers.base.paths import git_commit

    assert git_commit(tmp_path) == "unknown"  # not a repository
    run = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    (tmp_path / "f.txt").write_text("one")
    run("add", "f.txt")
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    assert git_commit(tmp_path) == head and head.startswith(git_commit(tmp_path, short=True))
    assert git_commit(tmp_path, mark_changes=True) == head
    (tmp_path / "f.txt").write_text("two")
    assert git_commit(tmp_path, mark_changes=True) == f"{head} with uncommitted changes"
