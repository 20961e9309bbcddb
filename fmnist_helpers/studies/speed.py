"""The recorded time-to-accuracy benchmark: what test accuracy each pack CNN recipe buys per second of training.

The figures are never typed by hand. `benchmarks/bench_time_to_accuracy.py --record PATH` trains every candidate
over several seeds, with today's `pack_cnn` in the same run as the baseline, and writes its date, commit, command
and machine, the summary and every run's row to `recorded/time_to_accuracy.json` inside the package. Notebook 04
shows that evidence for the registry's `pack_cnn_fast` and `pack_cnn_wide`, each against its goal (`GOALS`); a full
benchmark run takes half an hour, so a notebook reads the record instead of training it again.

Usage:
    rec = speed.record()                       # None in a fork that has not recorded one yet
    run = speed.record(speed.SPEEDRUN_RECORDS["fashion_mnist"])    # the speedrun's record, without AMX
    print(speed.label(rec))                    # "recorded benchmark: 2026-11-26, commit 1a2b3c4, ..."
    speed.summary_table(rec)                   # one row per candidate: seconds, accuracies, ratios
    plots.time_to_accuracy(speed.runs_table(rec))
    print(speed.verdict(rec, "pack_cnn_fast"))   # "pack_cnn_fast meets its goal of 93.5% plain in 180 s."
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

SPEED_RECORD = Path(__file__).with_name("recorded") / "time_to_accuracy.json"
REQUIRED = ("format", "date", "commit", "command", "machine", "seeds", "candidates", "runs")
"""The keys a record must have; `record` names any that are missing."""
NOT_IN_FULL_RUN = ("pack_cnn_fast", "pack_cnn_speedrun")
"""Registry models without a figure in the recorded `full` run: no notebook trains `pack_cnn_fast` or the speedrun by
default, so their evidence is a speed record. (`pack_cnn_wide` has both: s06 trains it in `full`.)"""
WRITE_COMMAND = ("benchmarks/bench_time_to_accuracy.py --candidates pack_cnn_fast pack_cnn_wide --baseline-epochs 8 "
                 "--record fmnist_helpers/studies/recorded/time_to_accuracy.json")


class Goal(NamedTuple):
    """What a recipe must reach: a mean test accuracy, scored plain or with flip TTA, in a median training time."""

    accuracy: float  # a fraction, e.g. 0.935
    seconds: float
    score: str  # "mean_plain" or "mean_tta", a key of the record's candidate summary
    tta: str = "flip TTA"  # the test-time augmentation "mean_tta" means, in words

    @property
    def scored(self) -> str:
        """How the accuracy is scored, in words: "plain" or "with flip TTA" (or the goal's `tta`)."""
        return "plain" if self.score == "mean_plain" else f"with {self.tta}"

    def describe(self) -> str:
        return f"{self.accuracy:.1%} {self.scored} in {self.seconds:g} s"


GOALS = {"pack_cnn_fast": Goal(0.935, 180, "mean_plain"), "pack_cnn_wide": Goal(0.945, 600, "mean_tta")}
"""The speed issue's two targets, on the mean of the recorded seeds: the short recipe's and the 10-minute one's."""

SPEEDRUN = "pack_cnn_speedrun"
SPEEDRUN_RECORDS = {dataset: SPEED_RECORD.with_name(f"speedrun_{dataset}.json") for dataset in ("fashion_mnist", "mnist")}
"""The speedrun's own records, one per dataset, each with pack_cnn_fast (and the baseline) in the same run, measured
on a CPU without AMX (`onednn` in the record says which kernels oneDNN ran)."""
SPEEDRUN_GOALS = {"fashion_mnist": Goal(0.95, 600, "mean_tta", "flip and shift TTA"),
                  "mnist": Goal(0.996, 600, "mean_tta", "shift TTA")}
"""The speedrun's targets (issue 35): 95.0% on Fashion-MNIST and 99.6% on MNIST in 600 s on two cores without AMX."""
SPEEDRUN_COMMAND = ("ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 benchmarks/bench_time_to_accuracy.py --dataset DATASET "
                    "--candidates pack_cnn_fast pack_cnn_speedrun --baseline-epochs 8 "
                    "--record fmnist_helpers/studies/recorded/speedrun_DATASET.json")


class SpeedRecordError(ValueError):
    """The record cannot be read; the message says what is wrong and how to write a good one."""


def record(path: str | os.PathLike = SPEED_RECORD) -> dict[str, Any] | None:
    """The recorded benchmark run, or None when no file exists yet (a fresh fork)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SpeedRecordError(f"cannot read the benchmark record {path}: {exc}; write it again with "
                               f"{WRITE_COMMAND}") from exc
    missing = [key for key in REQUIRED if key not in rec] if isinstance(rec, dict) else list(REQUIRED)
    if missing:
        raise SpeedRecordError(f"the benchmark record {path} lacks {', '.join(missing)}: it was not written by "
                               f"the benchmark's --record; write it with {WRITE_COMMAND}")
    return rec


def label(rec: dict[str, Any] | None) -> str:
    """Where the figures come from, in one line: date, commit, machine, seeds and the command that made them."""
    if rec is None:
        return f"no benchmark recorded yet ({WRITE_COMMAND} records one)"
    commit, _, rest = rec["commit"].partition(" ")
    seeds = rec["seeds"]
    ceiling = rec.get("ceiling") or {}
    measured = (f" (its {ceiling['dtype']} convolution ceiling measured at {ceiling['conv_gflops']:,.0f} GFLOP/s)"
                if "conv_gflops" in ceiling and "dtype" in ceiling else "")
    onednn = rec.get("onednn") or {}
    kernels = (f", oneDNN's convolutions on {onednn['conv_kernel']}"
               f"{' (ONEDNN_MAX_CPU_ISA=' + onednn['max_cpu_isa'] + ')' if onednn.get('max_cpu_isa') else ''}"
               if onednn.get("conv_kernel") else "")
    return (f"recorded benchmark: {rec['date']}, commit {commit[:7]}{' ' + rest if rest else ''}, {rec['machine']}"
            f"{measured}{kernels}, seeds {seeds[0]}-{seeds[-1]}; made by `{rec['command']}`")


def summary_table(rec: dict[str, Any]) -> pd.DataFrame:
    """One row per candidate (baseline first): epochs, median seconds, mean accuracies (plain, and with the
    test-time augmentation named in "TTA views": flips, or flips+shifts) and the ratios."""
    views = {r["candidate"]: r.get("tta") or "flips" for r in rec["runs"] if r.get("tta_test_accuracy") is not None}
    rows = [{"candidate": c["candidate"], "epochs": c["epochs"], "seeds": c["seeds"],
             "median train s": c["median_train_s"], "mean plain test accuracy": c["mean_plain"],
             "mean TTA test accuracy": c["mean_tta"], "TTA views": views.get(c["candidate"], "-"),
             "time vs baseline": c["time_ratio_vs_baseline"],
             "plain vs baseline (points)": c["accuracy_change_points"]} for c in rec["candidates"]]
    return pd.DataFrame(rows).set_index("candidate")


def runs_table(rec: dict[str, Any]) -> pd.DataFrame:
    """Every run: candidate, seed, epochs, training seconds, plain and flip-TTA test accuracy."""
    cols = ["candidate", "seed", "epochs", "train_time_s", "plain_test_accuracy", "tta_test_accuracy"]
    return pd.DataFrame([{k: run.get(k) for k in cols} for run in rec["runs"]], columns=cols)


def candidate(rec: dict[str, Any], name: str) -> dict[str, Any]:
    """The summary of one candidate; a clear error naming the recorded ones if `name` is not among them."""
    found = {c["candidate"]: c for c in rec["candidates"]}
    if name not in found:
        raise KeyError(f"the benchmark record has no candidate {name!r}; it has: {', '.join(found)}")
    return found[name]


def verdict(rec: dict[str, Any], name: str, goal: Goal | None = None) -> str:
    """One sentence: does candidate `name` meet `goal` (default: its entry in `GOALS`) on the recorded means?"""
    goal = goal or GOALS[name]
    found = candidate(rec, name)
    short = [text for text, missed in [(f"{found[goal.score]:.2%} {goal.scored}", found[goal.score] < goal.accuracy),
                                       (f"{found['median_train_s']:.0f} s", found["median_train_s"] > goal.seconds)]
             if missed]
    if not short:
        return f"{name} meets its goal of {goal.describe()}."
    return f"{name} misses its goal of {goal.describe()}: {' and '.join(short)}."


def head_to_head(rec: dict[str, Any], first: str, second: str, score: str = "mean_tta") -> str:
    """One sentence setting two candidates of one record side by side: their mean scores and median times, and
    whether the difference is larger than the spread of either one's seeds (if not, the record cannot rank them).

    Usage:
        print(speed.head_to_head(rec, "pack_cnn_speedrun", "pack_cnn_fast"))
    """
    key = "tta_test_accuracy" if score == "mean_tta" else "plain_test_accuracy"
    a, b = candidate(rec, first), candidate(rec, second)
    spreads = []
    for name in (first, second):
        values = [r[key] for r in rec["runs"] if r["candidate"] == name and r.get(key) is not None]
        spreads.append(max(values) - min(values) if values else 0.0)
    spread, diff = max(spreads), a[score] - b[score]
    how = "with test-time augmentation" if score == "mean_tta" else "plain"
    verdict = (f"the difference, {diff * 100:+.2f} points, is within the {spread * 100:.2f} points one recipe's seeds "
               f"span, so this record cannot rank them on accuracy" if abs(diff) <= spread else
               f"{first if diff > 0 else second} is ahead by {abs(diff) * 100:.2f} points, more than the "
               f"{spread * 100:.2f} points one recipe's seeds span")
    return (f"{first} against {second} in the same run: {a[score]:.2%} and {b[score]:.2%} {how}, in a median "
            f"{a['median_train_s']:.0f} s and {b['median_train_s']:.0f} s; {verdict}.")
