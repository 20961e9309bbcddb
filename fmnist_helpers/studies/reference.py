"""Reference figures: what each registry model scored in a recorded `full` run, shown beside every run.

The figures are never typed by hand. `python -m fmnist_helpers reference build/full` reads the training
records a real `full` run left in `build/full/models/`, keeps those trained with the registry's own recipe
on the full data, and writes them, with the run's date, commit and machine, to `recorded/full_run.json`
inside the package (a small file in the repository). Notebooks then show the recorded figure next to the
study's and their own (`reference_column`).

A run of only some notebooks can re-record just the models it trained: `reference build/full --update` replaces
those models' figures, keeps every other model's, and adds the run to the file's `updates`, which `label` names.

Usage:
    reference.figure("wits_cnn")                # {"test_accuracy": 0.9138, "runs": 1, ...} or None
    table["recorded full run"] = reference.column(table.index, ds.name)
    print(reference.label())                    # "recorded full run: 2026-11-25, commit 2f79978, ..."
    print(reference.coverage(table.index, ds.name))   # which rows it has figures for, and what it holds else
"""
from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from fmnist_helpers.base.atomic import write_json_atomic
from fmnist_helpers.base.paths import git_commit
from fmnist_helpers.base.results import Env, Record

RECORDED = Path(__file__).with_name("recorded") / "full_run.json"
FORMAT = 1
FIGURES = ("test_accuracy", "test_accuracy_without_tta", "val_accuracy", "epochs_run", "best_epoch",
           "train_time_s", "parameters")
"""The figures kept per model (mean over the matching runs, e.g. the 3 folds of `bu_cnn`)."""
class ReferenceError(ValueError):
    """The run folder cannot give reference figures; the message says what is missing."""


# ----------------------------------------------------------------- reading

NOTHING_RECORDED = {"format": FORMAT, "run": None, "models": {}}


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    if not Path(path).is_file():  # a fresh fork before its first recorded run
        return NOTHING_RECORDED
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def recorded(path: str | os.PathLike = RECORDED) -> dict[str, Any]:
    """The whole reference file: {"format", "run": {date, commit, machine, profile, ...}, "models": {...}}."""
    return _load(str(path))


def figure(model: str, dataset: str = "fashion_mnist", path: str | os.PathLike = RECORDED) -> dict[str, Any] | None:
    """The recorded `full` figures of one registry model on one dataset, or None if none were recorded."""
    return recorded(path)["models"].get(dataset, {}).get(model)


def label(path: str | os.PathLike = RECORDED) -> str:
    """Where the figures come from, in one line: date, commit, machine and profile."""
    run = recorded(path)["run"]
    if run is None:
        return "no full run recorded yet (python -m fmnist_helpers reference build/full records one)"
    text = f"recorded {run['profile']} run: {run['date']}, commit {run['commit'][:7]}, {run['machine']}, {_seeds(run)}"
    for update in recorded(path).get("updates", []):
        text += (f"; the models of {', '.join(update['notebooks'])} re-recorded {update['date']}, commit "
                 f"{update['commit'][:7]}, {update['machine']}, {_seeds(update)}")
    return text


def _seeds(facts: dict[str, Any]) -> str:
    """"seed 42", or "seeds 42-44 (means)" for a run that trained each model with several seeds."""
    first, n = facts["seed"], facts.get("n_seeds") or 1
    return f"seeds {first}-{first + n - 1} (means)" if n > 1 and isinstance(first, int) else f"seed {first}"


def recorded_models(dataset: str = "fashion_mnist", path: str | os.PathLike = RECORDED) -> list[str]:
    """The registry models the recorded run holds figures for on `dataset`, sorted; empty if none."""
    return sorted(recorded(path)["models"].get(dataset, {}))


def coverage(models: Iterable[str], dataset: str = "fashion_mnist", path: str | os.PathLike = RECORDED) -> str:
    """One sentence on which of `models` (row names, mapped with `registry_key`) the recorded run has a figure
    for on `dataset`, and, where it lacks some, which models it does hold there."""
    if recorded(path)["run"] is None:
        return "No full run is recorded in this copy of the course, so the recorded-run column is empty."
    names = list(dict.fromkeys(registry_key(str(m)) for m in models))
    held = recorded_models(dataset, path)
    missing = [m for m in names if m not in held]
    if not missing:
        return f"The recorded full run has a figure on {dataset} for every one of these models."
    elsewhere = (f"on {dataset} it holds only {', '.join(held)}" if held
                 else f"it holds no model on {dataset}")
    if len(missing) == len(names):
        which = f"for {names[0]}" if len(names) == 1 else f"for any of these {len(names)} models"
        return f"The recorded full run has no figure on {dataset} {which}: {elsewhere}."
    return (f"The recorded full run has a figure on {dataset} for {len(names) - len(missing)} of these {len(names)} "
            f"models; none for {', '.join(missing)} ({elsewhere}).")


def registry_key(name: str) -> str:
    """The registry model behind a row or run name: "aueb_mlp2-b512-adam0.001" -> "aueb_mlp2"."""
    return name.split("-", 1)[0]


def column(models: Iterable[str], dataset: str = "fashion_mnist", path: str | os.PathLike = RECORDED) -> list[float]:
    """The recorded test accuracy of each model (row names are mapped with `registry_key`); NaN where the
    reference run did not train that model on that dataset."""
    out = []
    for name in models:
        found = figure(registry_key(str(name)), dataset, path)
        out.append(float(found["test_accuracy"]) if found else float("nan"))
    return out


# ----------------------------------------------------------------- writing

def _dataset_of(record: dict[str, Any], test_hashes: dict[str, str]) -> str | None:
    y_test = (record.get("data") or {}).get("y_test")
    return next((name for name, digest in test_hashes.items() if digest == y_test), None)


def _test_label_hashes(data_dir: str | os.PathLike | None) -> dict[str, str]:
    from fmnist_helpers.training import store
    from fmnist_helpers.data.datasets import DATASETS, load_dataset

    hashes = {}
    for name in DATASETS:
        try:
            hashes[name] = store.array_sha256(load_dataset(name, data_dir, download=False, progress=False).y_test)
        except (FileNotFoundError, OSError):
            continue
    if not hashes:
        raise ReferenceError(f"no dataset found in {data_dir or 'the default data folder'}: the records name their "
                             "test set only by its hash, so the command needs the data to tell which dataset")
    return hashes


def matching_runs(records: Iterable[dict[str, Any]], test_hashes: dict[str, str]) -> dict[str, dict[str, list]]:
    """Group training records by dataset and registry model, keeping only `full` runs of the registry's own
    recipe on the whole training split."""
    from fmnist_helpers.models.registry import MODELS

    found: dict[str, dict[str, list]] = {}
    for rec in records:
        key, dataset = rec.get("key"), _dataset_of(rec, test_hashes)
        if key not in MODELS or dataset is None or rec.get("profile") != "full":
            continue
        recipe = asdict(MODELS[key].recipe)
        if rec.get("recipe") != recipe or str(rec.get("split", "")).endswith("-sub"):  # a subset: not full
            continue
        found.setdefault(dataset, {}).setdefault(key, []).append(rec)
    return found


def _mean(values: list[Any]) -> float | None:
    values = [float(v) for v in values if v is not None]
    return round(sum(values) / len(values), 6) if values else None


def summarize_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The mean of each figure in FIGURES over the runs, with the number of runs and their names."""
    out = {f: _mean([r.get(f) for r in runs]) for f in FIGURES}
    out["runs"] = len(runs)
    out["names"] = sorted(r["name"] for r in runs)
    if len(runs) > 1:
        out["test_accuracy_range"] = [min(r["test_accuracy"] for r in runs), max(r["test_accuracy"] for r in runs)]
    return out


def _run_facts(run_dir: Path) -> dict[str, Any]:
    """Date, seed and machine from the run's results files (the newest one)."""
    results = sorted((run_dir / "results").glob("*.json"), key=lambda p: p.stat().st_mtime)
    if not results:
        raise ReferenceError(f"{run_dir} has no results/*.json: run the course there first "
                             "(python -m fmnist_helpers run --profile full)")
    newest = json.loads(results[-1].read_text(encoding="utf-8"))
    env = newest.get(Record.ENVIRONMENT, {})
    cores = env.get(Env.CPU_COUNT) or os.cpu_count()
    return {"date": (newest.get(Record.UPDATED) or newest.get(Record.STARTED, ""))[:10],
            "seed": newest.get(Record.PARAMS, {}).get("seed"),
            "n_seeds": newest.get(Record.PARAMS, {}).get("n_seeds") or 1,
            "machine": f"{cores}-core {env.get(Env.MACHINE) or platform.machine()} CPU",
            "notebooks": sorted(p.stem for p in results),
            "tensorflow": env.get("tensorflow")}


def _updated(previous: dict[str, Any], models: dict[str, dict[str, Any]], facts: dict[str, Any]) -> dict[str, Any]:
    """`previous` with `models` re-recorded from the run described by `facts`, which joins its updates; an earlier
    update whose models are all re-recorded now is dropped."""
    if previous.get("run") is None:
        raise ReferenceError("there is no recorded run to update: record a whole full run first (without --update)")
    if previous.get("format") != FORMAT:
        raise ReferenceError(f"the recorded file has format {previous.get('format')!r}, this code writes {FORMAT}: "
                             "record a whole full run instead (without --update)")
    merged = {ds: dict(figures) for ds, figures in previous["models"].items()}
    for ds, figures in models.items():
        merged.setdefault(ds, {}).update(figures)
    now = {(ds, key) for ds, figures in models.items() for key in figures}
    kept = [u for u in previous.get("updates", [])
            if not {(ds, key) for ds, keys in u["models"].items() for key in keys} <= now]
    update = {**facts, "models": {ds: sorted(figures) for ds, figures in sorted(models.items())}}
    return {**previous, "models": {ds: dict(sorted(f.items())) for ds, f in sorted(merged.items())},
            "updates": [*kept, update]}


def write_reference(run_dir: str | os.PathLike, target: str | os.PathLike = RECORDED,
                    data_dir: str | os.PathLike | None = None, commit: str | None = None,
                    machine: str | None = None, update: bool = False) -> dict[str, Any]:
    """Read a `full` run's training records and write the reference file; returns what was written.

    With `update`, only the models this run trained are re-recorded; the rest of `target` is kept."""
    run_dir = Path(run_dir)
    model_dir = run_dir / "models"
    if not model_dir.is_dir():
        raise ReferenceError(f"{run_dir} has no models/ folder: give the output folder of a full run, "
                             "such as build/full")
    records = []
    for path in sorted(model_dir.glob("*.json")):
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as exc:
            raise ReferenceError(f"cannot read the training record {path}: {exc}") from exc
    groups = matching_runs(records, _test_label_hashes(data_dir))
    if not groups:
        raise ReferenceError(f"no training record in {model_dir} is a full-profile run of a registry model with "
                             "its own recipe on the full data; run notebooks 03-06 with --profile full first")
    facts = _run_facts(run_dir)
    if machine:
        facts["machine"] = machine
    facts = {"profile": "full", "commit": commit or git_commit(run_dir),
             "written": datetime.now(timezone.utc).isoformat(timespec="seconds"), **facts}
    models = {ds: {key: summarize_runs(runs) for key, runs in sorted(found.items())}
              for ds, found in sorted(groups.items())}
    if update:
        _load.cache_clear()
        payload = _updated(recorded(target), models, facts)
    else:
        payload = {"format": FORMAT, "run": facts, "models": models}
    write_json_atomic(Path(target), payload)
    _load.cache_clear()
    return payload
