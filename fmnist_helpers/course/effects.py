"""Does each lesson's effect show in a student's own run? Run the lessons in the default profile over datasets and
seeds, read the numbers each one records under `demo`, and judge every effect the lesson states.

A lesson's demonstration is sized so that its point holds in the `quick` run a student makes: the CNN beats the MLP
beyond chance, overfitting opens a gap that regularisation narrows, a search finds a difference larger than its
uncertainty. Every notebook a run executes also has its prose checked against its own numbers (`course.prose`),
and the first seed of each dataset runs the whole course, both tracks, so that the check covers every lesson and
study. `make check-lessons` runs all of it on both datasets over 3 seeds; CI runs a part (see docs/testing.md).

Usage:
    rows = check_lessons(datasets=["fashion_mnist"], seeds=[42], only=["04"])
    print(effects_table(rows)); all(row.holds for row in rows)
    judge(EFFECTS[1], {"cnn_test_accuracy": 0.87, "mlp_test_accuracy": 0.85, "only_cnn_right": 650,
                       "only_mlp_right": 400}, "mnist")
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from fmnist_helpers.analysis.statistics import ABOVE, mcnemar_counts, unpaired
from fmnist_helpers.base.paths import build_dir
from fmnist_helpers.base.results import load_results

ALPHA = 0.05  # the level of every paired test here
MIN_GAP_POINTS = 3.0  # how wide an overfitting gap must open before regularisation
PROSE = "prose agrees with its numbers"  # the row each executed notebook gets from `prose_rows`


@dataclass(frozen=True)
class Measured:
    """What one run showed for one effect: whether it holds and its size in words."""

    holds: bool
    size: str


@dataclass(frozen=True)
class Effect:
    """An effect a lesson states, and how to judge it from the lesson's recorded `demo` numbers."""

    lesson: str  # the lesson's stem
    name: str
    claim: str  # what the lesson says, in one sentence
    judge: Callable[[dict[str, Any], str], Measured]  # (demo, dataset) -> Measured


def _beats_beyond_chance(a: str, b: str, acc_a: float, acc_b: float, only_a: int, only_b: int) -> Measured:
    test = mcnemar_counts(int(only_a), int(only_b))
    holds = acc_a > acc_b and test.p_value < ALPHA
    return Measured(holds, f"{a} {acc_a:.2%} vs {b} {acc_b:.2%} ({(acc_a - acc_b) * 100:+.2f} points); "
                           f"{only_a} vs {only_b} images only one gets right, McNemar p = {test.p_value:.2g}")


def _cnn_beats_mlp(demo: dict[str, Any], dataset: str) -> Measured:
    return _beats_beyond_chance("CNN", "MLP", demo["cnn_test_accuracy"], demo["mlp_test_accuracy"],
                                demo["only_cnn_right"], demo["only_mlp_right"])


def _cnn_beats_mlp_on_both(demo: dict[str, Any], dataset: str) -> Measured:
    parts = {name: _cnn_beats_mlp(demo[name], name) for name in ("fashion_mnist", "mnist")}
    return Measured(all(m.holds for m in parts.values()), "; ".join(f"{k}: {m.size}" for k, m in parts.items()))


def _strong_beats_wits(demo: dict[str, Any], dataset: str) -> Measured:
    return _beats_beyond_chance("strong CNN", "wits CNN", demo["strong_test_accuracy"], demo["wits_test_accuracy"],
                                demo["only_strong_right"], demo["only_wits_right"])


def _overfitting_then_less(demo: dict[str, Any], dataset: str) -> Measured:
    """Judged on the gaps with dropout switched off (training accuracy by `evaluate`): the gap Keras reports during
    training is also narrowed by dropout handicapping the network it measures, which is not less overfitting."""
    plain, regular = float(demo["gap_plain_eval_points"]), float(demo["gap_dropout_eval_points"])
    holds = plain >= MIN_GAP_POINTS and regular < plain
    return Measured(holds, f"gap {plain:.1f} points without regularisation, {regular:.1f} with, dropout off when "
                           f"measured (at least {MIN_GAP_POINTS:g} needed, then smaller); as Keras reports them in "
                           f"training {float(demo['gap_plain_points']):.1f} and {float(demo['gap_dropout_points']):.1f}")


def _search_beyond_uncertainty(demo: dict[str, Any], dataset: str) -> Measured:
    best, worst, n = float(demo["best_val_accuracy"]), float(demo["worst_val_accuracy"]), int(demo["val_images"])
    test = unpaired(best, n, worst, n)
    return Measured(test.verdict == ABOVE, f"best {best:.2%}, worst {worst:.2%}: {test.difference * 100:+.1f} points, "
                                           f"95% interval {test.interval.points()} for two scores on {n:,} images")


EFFECTS: list[Effect] = [
    Effect("03_mlp", "overfitting_gap", "An MLP trained long on few images opens a train-validation gap of at least "
           "3 points; dropout narrows it.", _overfitting_then_less),
    Effect("04_cnn", "cnn_beats_mlp", "The CNN beats an MLP trained on the same images, beyond chance (McNemar).",
           _cnn_beats_mlp),
    Effect("05_tuning", "search_beyond_uncertainty", "The search's best validation score is above its worst: the 95% "
           "interval of their difference (Newcombe) lies above 0.", _search_beyond_uncertainty),
    Effect("06_ann_vs_cnn", "cnn_beats_mlp_on_both_datasets", "On both datasets the CNN beats the MLP beyond chance "
           "(McNemar).", _cnn_beats_mlp_on_both),
    Effect("07_strong_cnn", "strong_beats_wits_same_recipe", "With the same recipe, the strong CNN beats the wits CNN "
           "beyond chance (McNemar).", _strong_beats_wits),
]
"""Every effect a lesson states that its default run must show."""


@dataclass(frozen=True)
class EffectRow:
    """One effect judged in one run."""

    lesson: str
    effect: str
    dataset: str
    seed: int
    holds: bool
    size: str


def judge(effect: Effect, demo: dict[str, Any] | None, dataset: str) -> Measured:
    """The effect judged from a lesson's `demo` record; a missing or malformed record never holds, and says why."""
    if not demo:
        return Measured(False, f"{effect.lesson} recorded no `demo` figures")
    try:
        return effect.judge(demo, dataset)
    except (KeyError, TypeError, ValueError) as err:
        return Measured(False, f"{effect.lesson}'s `demo` record lacks or garbles {err}")


def judge_run(output_dir: Path, dataset: str, seed: int, effects: Sequence[Effect] = EFFECTS) -> list[EffectRow]:
    """Judge every effect from the records of a run of the lessons in `output_dir`."""
    rows = []
    for effect in effects:
        try:
            record = load_results(output_dir, effect.lesson)
            demo = record.get("figures", {}).get("demo") if record.get("complete") else None
        except FileNotFoundError:
            demo = None
        measured = judge(effect, demo, dataset)
        rows.append(EffectRow(effect.lesson, effect.name, dataset, seed, measured.holds, measured.size))
    return rows


def prose_rows(output_dir: Path, dataset: str, seed: int) -> list[EffectRow]:
    """One row per notebook the run in `output_dir` executed: does its prose agree with its numbers
    (`course.prose`: claims re-derived, no two verdicts on one pair, nothing at chance ranked, every claim shown,
    alt text, no figure fault, no start-up noise)?"""
    from fmnist_helpers.course.prose import run_problems

    rows = []
    for stem, problems in run_problems(output_dir).items():
        try:
            claims = len(load_results(output_dir, stem).get("figures", {}).get("claims", {}))
        except (OSError, ValueError):
            claims = 0
        size = (f"{claims} claims checked, no problem" if not problems else
                "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""))
        rows.append(EffectRow(stem, PROSE, dataset, seed, not problems, size))
    return rows


def check_lessons(datasets: Sequence[str] = ("fashion_mnist", "mnist"), seeds: Sequence[int] = (42, 43, 44),
                  only: Sequence[str] | None = None, profile: str = "quick", output_root: str | os.PathLike | None = None,
                  report: Callable[[str], None] = print, whole_course: bool | None = None) -> list[EffectRow]:
    """Run the lessons that state an effect (or `only` those) once per dataset and seed, judge each effect, and
    check the prose of every notebook each run executed (`prose_rows`).

    With `whole_course` (the default when `only` is not given) the first seed of each dataset runs both tracks,
    every lesson and every study, so that the prose of the whole course is checked on both datasets. Kernels lint
    every figure they show (`course.prose.linting_kernels`). Each run goes to
    `<output_root>/<profile>-<dataset>-seed<seed>` (default root: `build/effects`), so a second call reuses what the
    runner already executed with the same parameters (a reused notebook keeps the figure faults of its first run).
    """
    from fmnist_helpers.course.prose import linting_kernels
    from fmnist_helpers.course.runner import run_course

    effects = [e for e in EFFECTS if not only or e.lesson in only or e.lesson[:2] in only]
    if not effects:
        raise ValueError(f"--only {list(only or [])} names no lesson with an effect; lessons with effects: "
                         f"{', '.join(sorted({e.lesson for e in EFFECTS}))}")
    whole_course = not only if whole_course is None else whole_course
    root = Path(output_root) if output_root else build_dir("effects")
    lessons = sorted({e.lesson for e in effects})
    rows: list[EffectRow] = []
    with linting_kernels(root / "ipython"):
        for dataset in datasets:
            for i, seed in enumerate(seeds):
                out = root / f"{profile}-{dataset}-seed{seed}"
                everything = whole_course and i == 0
                report(f"== {dataset}, seed {seed}: {'both tracks' if everything else ', '.join(lessons)} in {out}")
                run_course(profile, only=None if everything else lessons, params={"dataset": dataset, "seed": seed},
                           output_dir=out, track="all" if everything else "lessons", report=report, progress=False)
                rows += judge_run(out, dataset, seed, effects)
                rows += prose_rows(out, dataset, seed)
    return rows


def effects_table(rows: Sequence[EffectRow]) -> str:
    """One line per effect and run: holds or not, and the size the run measured."""
    lines = [f"{'lesson':15s} {'effect':32s} {'dataset':14s} {'seed':>4s}  {'holds':5s}  size"]
    for r in rows:
        lines.append(f"{r.lesson:15s} {r.effect:32s} {r.dataset:14s} {r.seed:4d}  {'yes' if r.holds else 'NO':5s}  "
                     f"{r.size}")
    effects = [r for r in rows if r.effect != PROSE]
    prose = [r for r in rows if r.effect == PROSE]
    lines.append(f"{sum(r.holds for r in effects)} of {len(effects)} effects hold; the prose of "
                 f"{sum(r.holds for r in prose)} of {len(prose)} executed notebooks agrees with its numbers")
    return "\n".join(lines)
