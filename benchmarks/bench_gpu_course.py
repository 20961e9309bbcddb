"""How long would the `full` course's training take on a GPU? Every training of a measured CPU run, timed again.

The lent GPU machines have JAX but no TensorFlow (and a TensorFlow GPU wheel is far larger than a call can carry),
so the course's notebooks cannot run there. Its trainings can: the registry's models are plain Keras. This script
works in two steps.

`jobs` reads the model records (`models/*.json`) and search summaries of a finished `full` run on the CPU and
writes one file listing every training the course did: the notebook, the registry model, its recipe (batch size,
augmentation, steps per execution), the images it trained on, the epochs it ran, and its CPU seconds. The course's
recorded list is `recorded/full_course_jobs.json`.

`measure`, run where Keras has the accelerator (`KERAS_BACKEND=jax` on the lent machines), trains each distinct
setting of that list for a few epochs on the real data with validation, as the course does, and times the first
epoch (compilation included) and the median of the others, plus the test predictions. Each training of the course
is then estimated as its first epoch plus its remaining epochs at the steady speed, plus its predictions. The
searches (notebook 05) are scaled by the speed-up of the model they train, plus one compilation per trial. It
prints, per notebook, the CPU seconds measured and the GPU seconds estimated, and writes every timing to `--out`
as it goes (`settings.csv`), so a call stopped at its time limit keeps what it timed. Two optional checks follow:
`--compare-precision` times the largest CNN and the batch-32 one in other dtype policies, and `--accuracy-runs`
trains `pack_cnn_wide` in full at batch 256, 512 and 1024 to see whether larger batches keep the accuracy.

`summary` prints the per-notebook table again from one or more recorded `settings.csv` files (a later file's
timing of a setting wins) and names the trainings no file timed.

This is an estimate of the training, not a run of the notebooks: the rest of each notebook (loading, plots,
evaluation on the CPU) is shown apart, as measured on the 2-core CPU.

Usage:
    .venv/bin/python benchmarks/bench_gpu_course.py jobs --runs RUN_03_04 RUN_05 RUN_06 --out benchmarks/recorded/full_course_jobs.json
    KERAS_BACKEND=jax python3 benchmarks/bench_gpu_course.py measure --data-dir DIR --out build/gpu-course --budget-s 420
    KERAS_BACKEND=jax .venv/bin/python benchmarks/bench_gpu_course.py measure --train-images 2048 --epochs 2 --out build/gpu-check
    .venv/bin/python benchmarks/bench_gpu_course.py summary --settings benchmarks/recorded/gpu_course_h200_2026-11-27.csv
"""
from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

HERE = Path(__file__).resolve().parent
RECORDED_JOBS = HERE / "recorded" / "full_course_jobs.json"

NOTEBOOK_CPU_S = {"00_primer": 5.6, "01_exploration": 59.2, "02_preprocessing": 22.5, "03_mlp": 1410.1,
                  "04_cnn": 1273.3, "05_tuning": 2983.0, "06_ann_vs_cnn": 5505.0}
"""Each notebook's wall seconds in `full` on the 2-core AMX CPU, from an empty folder (README's table)."""

STAND_INS = {"wits_tuned": "wits_cnn", "pack_tuned": "pack_cnn_wide"}
"""Models notebook 05 tunes are not registry entries: each is timed as the registry model its space is built around
(the tuned `wits` CNN has `wits_cnn`'s layers with other widths; the `pack-wide` space's defaults build
`pack_cnn_wide`, whose convolutions are the widest the space offers, so that timing is close to an upper bound)."""

SEARCH_MODELS = {"wits": "wits_tuned", "kh": "kh_cnn_best", "pack": "pack_tuned"}
"""The training whose speed-up scales each search's CPU seconds: the model the search is about."""


# ------------------------------------------------------------------------------------------------- jobs

def notebook_of(run_dir: Path, record: dict[str, Any]) -> str:
    """The notebook that trained `record`: 03 trains the MLPs and 04 the CNNs of the first run; 05 and 06 have
    their own folders."""
    names = json.loads((run_dir / "runs.json").read_text())
    if len(names) == 1:
        return next(iter(names))
    return "03_mlp" if record["kind"] == "mlp" else "04_cnn"


def read_jobs(run_dirs: list[Path]) -> dict[str, Any]:
    """Every training and search of the runs in `run_dirs`, as the `jobs` file holds them."""
    missing = [str(d) for d in run_dirs if not (d / "runs.json").exists()]
    if missing:
        raise SystemExit(f"not a course run's output folder (no runs.json): {', '.join(missing)}; give the "
                         "folders `python -m fmnist_helpers run --output-dir` wrote")
    jobs, searches = [], []
    for run_dir in run_dirs:
        for path in sorted((run_dir / "models").glob("*.json")):
            r = json.loads(path.read_text())
            times = r.get("epoch_times_s") or []
            jobs.append({
                "notebook": notebook_of(run_dir, r), "name": r["name"], "key": r["key"], "kind": r["kind"],
                "dataset": path.stem.split("-")[1] if "-seed" in path.stem else "fashion_mnist",
                "batch_size": r["recipe"]["batch_size"], "augment": r["recipe"]["augment"],
                "shift": r["recipe"]["shift"], "flip_tta": bool(r.get("flip_tta")),
                "one_hot": r["recipe"]["one_hot"], "label_smoothing": r["recipe"]["label_smoothing"],
                "optimizer": r["recipe"]["optimizer"], "learning_rate": r["recipe"]["learning_rate"],
                "schedule": r["recipe"]["schedule"], "epochs": r["recipe"]["epochs"],
                "steps_per_execution": r.get("steps_per_execution", 1), "n_train": r["n_train"], "n_val": r["n_val"],
                "epochs_run": r["epochs_run"], "cpu_train_s": r["train_time_s"],
                "cpu_epoch_s": round(statistics.median(times[1:] or times), 3) if times else None,
                "cpu_precision": r["precision"], "test_accuracy": r["test_accuracy"]})
        for path in sorted((run_dir / "searches").glob("*/summary.json")):
            s = json.loads(path.read_text())
            space = s["plan"]["space"].split("-")[0]
            searches.append({"notebook": notebook_of(run_dir, {"kind": "cnn"}), "name": path.parent.name,
                             "space": s["plan"]["space"], "strategy": s["plan"]["strategy"], "trials": s["trials"],
                             "n_train": s["n_train"], "cpu_s": s["wall_s"], "scaled_by": SEARCH_MODELS[space]})
    return {"notebook_cpu_s": NOTEBOOK_CPU_S, "jobs": jobs, "searches": searches}


# ---------------------------------------------------------------------------------------------- measure

def setting(job: dict[str, Any]) -> tuple:
    """What decides a training's speed: the model, batch size, images, augmentation and steps per execution."""
    return (STAND_INS.get(job["key"], job["key"]), job["batch_size"], job["n_train"], job["n_val"],
            job["augment"], job["shift"], job["flip_tta"], job["steps_per_execution"])


def recipe_of(job: dict[str, Any], **changes: Any):
    """The registry Recipe a job trained with (the fields that matter for speed and the loss)."""
    from fmnist_helpers.models.registry import Recipe

    fields = {k: job[k] for k in ("optimizer", "learning_rate", "batch_size", "epochs", "one_hot", "label_smoothing",
                                  "schedule", "augment", "shift", "flip_tta")}
    return Recipe(**{**fields, **changes})


def load_images(data_dir: str | None, train_images: int | None):
    """Fashion-MNIST's 60,000 training and 10,000 test images, model-ready."""
    from fmnist_helpers.data.datasets import load_dataset
    from fmnist_helpers.data.preprocess import to_model_input

    data = load_dataset("fashion_mnist", data_dir, download=False, progress=False)
    x, y = to_model_input(data.x_train), data.y_train.astype("int32")
    if train_images:
        x, y = x[:train_images], y[:train_images]
    return x, y, to_model_input(data.x_test), data.y_test.astype("int32")


def time_training(job: dict[str, Any], data, epochs: int, seed: int = 42, **recipe_changes: Any) -> dict[str, Any]:
    """Train the job's model for `epochs` on its number of images, with its validation images, as the course's
    `train_model` does; return the epoch seconds, the prediction seconds and the test accuracy."""
    import keras

    from bench_time_to_accuracy import training_flops_per_image
    from sweep_recipes import epoch_clock

    from fmnist_helpers.data.preprocess import augmentation
    from fmnist_helpers.models.registry import build_model, compile_model, uses_one_hot
    from fmnist_helpers.training.fit import predict_proba

    x, y, xt, yt = data
    recipe = recipe_of(job, **recipe_changes)
    n_train = min(job["n_train"], len(x))
    xs, ys = x[:n_train], y[:n_train]
    if n_train + job["n_val"] <= len(x):
        xv, yv = x[n_train:n_train + job["n_val"]], y[n_train:n_train + job["n_val"]]
    else:  # the course validated on the test set ("test-as-validation")
        xv, yv = xt[:job["n_val"]], yt[:job["n_val"]]
    if uses_one_hot(recipe):
        ys, yv = keras.utils.to_categorical(ys, 10), keras.utils.to_categorical(yv, 10)
    keras.utils.set_random_seed(seed)
    net = build_model(setting(job)[0])
    model = net
    if recipe.augment:
        inputs = keras.Input((28, 28, 1))
        model = keras.Model(inputs, net(augmentation(flip=True, shift=recipe.shift, seed=seed)(inputs)))
    steps = -(-n_train // recipe.batch_size)
    compile_model(model, recipe, steps, epochs, steps_per_execution=job["steps_per_execution"])
    clock = epoch_clock()
    model.fit(xs, ys, batch_size=recipe.batch_size, epochs=epochs, validation_data=(xv, yv), verbose=0,
              shuffle=True, callbacks=[clock])
    start = time.perf_counter()
    p = predict_proba(net, xt)
    if recipe.flip_tta:
        p = p + predict_proba(net, xt[:, :, ::-1, :])
    predict_s = time.perf_counter() - start
    return {"first_epoch_s": round(clock.seconds[0], 3),
            "epoch_s": round(statistics.median(clock.seconds[1:] or clock.seconds), 3),
            "predict_s": round(predict_s, 3), "test_accuracy": float((p.argmax(1) == yt).mean()),
            "mflop_per_image": round(training_flops_per_image(net) / 1e6, 2), "n_train": n_train}


def estimate(job: dict[str, Any], timing: dict[str, Any]) -> float:
    """A training's GPU seconds: its first epoch (with compilation), the rest at the steady speed scaled to the
    job's number of images (a setting timed on fewer, e.g. with `--train-images`), and its predictions."""
    epoch_s = timing["epoch_s"] * job["n_train"] / timing["n_train"]
    return timing["first_epoch_s"] + (job["epochs_run"] - 1) * epoch_s + timing["predict_s"]


def summarise(jobs_file: dict[str, Any], timings: dict[tuple, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per notebook: the CPU seconds (whole notebook, its trainings, its searches) and the GPU estimates."""
    rows = []
    for notebook, cpu_s in jobs_file["notebook_cpu_s"].items():
        jobs = [j for j in jobs_file["jobs"] if j["notebook"] == notebook]
        searches = [s for s in jobs_file["searches"] if s["notebook"] == notebook]
        timed = [j for j in jobs if setting(j) in timings]
        gpu_train = sum(estimate(j, timings[setting(j)]) for j in timed)
        gpu_search = 0.0
        for s in searches:
            model = next((j for j in jobs_file["jobs"] if j["key"] == s["scaled_by"]), None)
            t = timings.get(setting(model)) if model else None
            if t and model["cpu_epoch_s"]:
                epoch_s = t["epoch_s"] * model["n_train"] / t["n_train"]
                compile_s = max(t["first_epoch_s"] - t["epoch_s"], 0.0)  # each trial builds and compiles anew
                gpu_search += s["cpu_s"] * epoch_s / model["cpu_epoch_s"] + compile_s * s["trials"]
        cpu_train = sum(j["cpu_train_s"] for j in jobs)
        cpu_search = sum(s["cpu_s"] for s in searches)
        rows.append({"notebook": notebook, "trainings": len(jobs), "timed": len(timed), "cpu_notebook_s": cpu_s,
                     "cpu_train_s": round(cpu_train, 1), "cpu_search_s": round(cpu_search, 1),
                     "cpu_rest_s": round(cpu_s - cpu_train - cpu_search, 1),
                     "gpu_train_s": round(gpu_train, 1), "gpu_search_s": round(gpu_search, 1)})
    return rows


def print_summary(rows: list[dict[str, Any]]) -> None:
    print("\n| notebook | trainings (timed) | CPU notebook s | CPU training s | CPU searches s | CPU rest s "
          "| GPU training s (est.) | GPU searches s (est.) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['notebook']} | {r['trainings']} ({r['timed']}) | {r['cpu_notebook_s']:,.0f} | "
              f"{r['cpu_train_s']:,.0f} | {r['cpu_search_s']:,.0f} | {r['cpu_rest_s']:,.0f} | "
              f"{r['gpu_train_s']:,.1f} | {r['gpu_search_s']:,.1f} |")
    total = {k: sum(r[k] for r in rows) for k in rows[0] if k not in ("notebook",)}
    print(f"| total | {total['trainings']} ({total['timed']}) | {total['cpu_notebook_s']:,.0f} | "
          f"{total['cpu_train_s']:,.0f} | {total['cpu_search_s']:,.0f} | {total['cpu_rest_s']:,.0f} | "
          f"{total['gpu_train_s']:,.1f} | {total['gpu_search_s']:,.1f} |")


def read_settings(paths: list[Path]) -> dict[tuple, dict[str, Any]]:
    """The timings of `measure`'s settings.csv files, keyed by setting (a later file's row wins)."""
    timings = {}
    for path in paths:
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                timings[tuple(json.loads(row["setting"]))] = {
                    k: float(row[k]) for k in ("first_epoch_s", "epoch_s", "predict_s", "n_train")}
    return timings


def untimed(jobs_file: dict[str, Any], timings: dict[tuple, dict[str, Any]]) -> list[dict[str, Any]]:
    """The trainings whose setting has no timing, so the estimate leaves them out."""
    return [j for j in jobs_file["jobs"] if setting(j) not in timings]


def measure(args: argparse.Namespace) -> None:
    import keras
    from sweep_recipes import backend_devices

    jobs_file = json.loads(args.jobs.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    keras.mixed_precision.set_global_policy(args.precision)
    print(f"keras {keras.__version__} {backend_devices()}; precision {args.precision}", flush=True)
    data = load_images(args.data_dir, args.train_images)
    # the settings that cost the CPU most first, so a budget that runs out leaves the small ones untimed
    cost: dict[tuple, float] = {}
    for j in jobs_file["jobs"]:
        cost[setting(j)] = cost.get(setting(j), 0.0) + j["cpu_train_s"]
    first_job = {}
    for j in jobs_file["jobs"]:
        first_job.setdefault(setting(j), j)
    timings: dict[tuple, dict[str, Any]] = {}
    began = time.perf_counter()
    for name in ("settings.csv", "precision.csv", "accuracy.csv"):
        (args.out / name).unlink(missing_ok=True)
    order = [k for k in sorted(cost, key=cost.get, reverse=True) if k[0] not in args.skip_model][args.start_at:]
    for key in order:
        if args.budget_s and time.perf_counter() - began > args.budget_s:
            print(f"budget of {args.budget_s:.0f} s spent: {len(order) - len(timings)} of this call's settings "
                  "not timed")
            break
        job = first_job[key]
        t = time_training(job, data, args.epochs)
        timings[key] = t
        append_row(args.out / "settings.csv", {
            "setting": json.dumps(key), "model": key[0], "batch": key[1], "n_train": t["n_train"], "augment": key[4],
            "steps_per_execution": key[7], **{k: v for k, v in t.items() if k != "n_train"},
            "cpu_epoch_s": job["cpu_epoch_s"], "cpu_s": round(cost[key], 1),
            "speedup": round(job["cpu_epoch_s"] / t["epoch_s"], 1) if job["cpu_epoch_s"] else None})
        print(f"{key[0]:>14} batch {key[1]:>4} n {t['n_train']:>5}: first epoch {t['first_epoch_s']:6.2f} s, "
              f"then {t['epoch_s']:6.3f} s/epoch (CPU {job['cpu_epoch_s']} s), predict {t['predict_s']:.2f} s",
              flush=True)
    rows = summarise(jobs_file, timings)
    print_summary(rows)
    summary = {"devices": backend_devices(), "keras": keras.__version__, "precision": args.precision,
               "epochs_timed": args.epochs, "train_images": args.train_images, "notebooks": rows,
               "settings": [{"setting": list(k), **t} for k, t in timings.items()]}
    write_json(args.out / "summary.json", summary)  # now, and again with the checks below as they finish
    if args.compare_precision:
        summary["precision_runs"] = precision_runs(jobs_file, data, args)
        write_json(args.out / "summary.json", summary)
    if args.accuracy_runs:
        summary["accuracy_runs"] = accuracy_runs(jobs_file, data, args)
        write_json(args.out / "summary.json", summary)


def write_json(path: Path, value: Any) -> None:
    """Write `value` as JSON to `path` atomically (a temporary file, then a rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=1) + "\n")
    tmp.replace(path)


BATCHES = ((256, 3e-3), (512, 3e-3 * 2 ** 0.5), (1024, 6e-3))
"""pack_cnn_wide's recipe at larger batches, the peak rate scaled by the square root of the batch ratio."""


def append_row(path: Path, row: dict[str, Any]) -> None:
    """Add `row` to the CSV at `path` (a header first if the file is new), so a run stopped early keeps it."""
    new = not path.exists()
    with path.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


PRECISION_MODELS = ("pack_cnn_wide", "wits_cnn")
"""The trainings timed in each of `--compare-precision`'s policies: the course's largest CNN and its smallest-batch
one (batch 32), where the step's fixed costs weigh most."""


def precision_runs(jobs_file: dict[str, Any], data, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The seconds per epoch of `PRECISION_MODELS` in each dtype policy of `--compare-precision`."""
    import keras

    out = []
    for key in PRECISION_MODELS:
        job = next(j for j in jobs_file["jobs"] if j["key"] == key)
        for policy in args.compare_precision:
            keras.mixed_precision.set_global_policy(policy)
            t = time_training(job, data, args.epochs)
            row = {"model": key, "batch": job["batch_size"], "precision": policy, **t}
            append_row(args.out / "precision.csv", row)
            out.append(row)
            print(f"{key:>14} {policy:>15}: {t['epoch_s']:.3f} s/epoch, first {t['first_epoch_s']:.2f} s", flush=True)
    keras.mixed_precision.set_global_policy(args.precision)
    return out


def accuracy_runs(jobs_file: dict[str, Any], data, args: argparse.Namespace) -> list[dict[str, Any]]:
    """pack_cnn_wide's whole recipe at each of `BATCHES`, for `--accuracy-runs` seeds: does a larger batch keep
    the accuracy while it shortens the epoch?"""
    job = next(j for j in jobs_file["jobs"] if j["key"] == "pack_cnn_wide")
    out = []
    for seed in range(42, 42 + args.accuracy_runs):
        for batch, lr in BATCHES:
            t = time_training(job, data, job["epochs"], seed=seed, batch_size=batch, learning_rate=lr)
            train_s = t["first_epoch_s"] + (job["epochs"] - 1) * t["epoch_s"]
            row = {"seed": seed, "batch": batch, "learning_rate": round(lr, 5), **t, "train_s": round(train_s, 1)}
            append_row(args.out / "accuracy.csv", row)
            out.append(row)
            print(f"pack_cnn_wide batch {batch:>4} seed {seed}: {t['test_accuracy']:.2%} with flip TTA, "
                  f"{t['epoch_s']:.3f} s/epoch, about {train_s:.1f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    j = sub.add_parser("jobs", help="list a finished full run's trainings and searches")
    j.add_argument("--runs", type=Path, nargs="+", required=True, help="the run's output folders")
    j.add_argument("--out", type=Path, default=RECORDED_JOBS)
    m = sub.add_parser("measure", help="time each distinct training setting on this Keras backend")
    m.add_argument("--jobs", type=Path, default=RECORDED_JOBS)
    m.add_argument("--data-dir", default=None, help="folder with fashion-mnist/ (default: $FMNIST_DATA_DIR)")
    m.add_argument("--out", type=Path, required=True)
    m.add_argument("--epochs", type=int, default=3, help="epochs per timed setting (the first includes compilation)")
    m.add_argument("--precision", default="mixed_float16", help="Keras dtype policy (default: %(default)s, "
                   "what the pack chooses on a GPU)")
    m.add_argument("--train-images", type=int, default=None, help="use the first N training images (a check)")
    m.add_argument("--budget-s", type=float, default=None, help="time no new setting after this many seconds")
    m.add_argument("--start-at", type=int, default=0, help="skip the N costliest settings (timed in an earlier call)")
    m.add_argument("--skip-model", nargs="*", default=[], help="time no setting of these models")
    m.add_argument("--compare-precision", nargs="*", default=[], metavar="POLICY",
                   help=f"also time {' and '.join(PRECISION_MODELS)} in these dtype policies")
    m.add_argument("--accuracy-runs", type=int, default=0, help="seeds of pack_cnn_wide at each of BATCHES")
    t = sub.add_parser("summary", help="the per-notebook table from recorded timings")
    t.add_argument("--jobs", type=Path, default=RECORDED_JOBS)
    t.add_argument("--settings", type=Path, nargs="+", required=True, help="measure's settings.csv files")
    args = parser.parse_args()
    if args.command == "summary":
        jobs_file = json.loads(args.jobs.read_text())
        timings = read_settings(args.settings)
        print_summary(summarise(jobs_file, timings))
        for j in untimed(jobs_file, timings):
            print(f"not timed: {j['notebook']} {j['name']} ({j['cpu_train_s']:.0f} s on the CPU)")
    elif args.command == "jobs":
        listing = read_jobs(args.runs)
        write_json(args.out, listing)
        print(f"{len(listing['jobs'])} trainings and {len(listing['searches'])} searches -> {args.out}")
    else:
        measure(args)


if __name__ == "__main__":
    main()
