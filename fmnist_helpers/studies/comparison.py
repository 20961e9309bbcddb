"""The ANN-vs-CNN comparison of the studies track's s06 (`notebooks/studies/s06_ann_vs_cnn_studies.ipynb`): which
models play each role, and the `kh` study's table (its figures are `published.KH_TABLE`) with its deltas by model and
by dataset.

Usage:
    roles = comparison_models(run.output_dir, pack_cnn="pack_cnn_wide")   # {"study": {"ANN": .., "CNN": ..}, "pack": ..}
    table = with_deltas(means.unstack("dataset"))        # adds "CNN - ANN" and "MNIST - Fashion-MNIST"
"""
from __future__ import annotations

import os
from typing import Any

import pandas as pd

from fmnist_helpers.base.params import check_choice
from fmnist_helpers.base.results import Figure, Record, Row, load_results
from fmnist_helpers.models.published import KH_TABLE
from fmnist_helpers.models.registry import ModelSpec, get_spec

DATASET_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}
ROLES = ("ANN", "CNN")


def with_deltas(table: pd.DataFrame) -> pd.DataFrame:
    """A roles x datasets accuracy table (rows ANN, CNN; columns MNIST, Fashion-MNIST) with the `kh` study's
    deltas added: a row "CNN - ANN" (by model) and a column "MNIST - Fashion-MNIST" (by dataset)."""
    missing = [r for r in ROLES if r not in table.index] + [c for c in KH_TABLE if c not in table.columns]
    if missing:
        raise ValueError(f"the table needs rows {ROLES} and columns {tuple(KH_TABLE)}; missing: "
                         f"{', '.join(missing)}")
    out = table.loc[list(ROLES), list(KH_TABLE)].astype(float).copy()
    out.loc["CNN - ANN"] = out.loc["CNN"] - out.loc["ANN"]
    out["MNIST - Fashion-MNIST"] = out["MNIST"] - out["Fashion-MNIST"]
    return out


def kh_table(summary: pd.DataFrame, source: str) -> pd.DataFrame:
    """The `kh`-style table of one pair ("study" or "pack") from a seed summary indexed by (source, role, dataset)
    with a "mean" column: mean test accuracy by role and dataset, with the deltas of `with_deltas`."""
    if source not in summary.index.get_level_values(0):
        raise ValueError(f"no runs of the {source!r} pair in the summary; it has: "
                         f"{', '.join(dict.fromkeys(summary.index.get_level_values(0)))}")
    mine = summary["mean"][summary.index.get_level_values(0) == source].droplevel(0)
    means = mine.unstack("dataset").rename(columns=DATASET_TITLES)
    return with_deltas(means)


TUNING_STUDY = "s05_tuning_studies"
"""The notebook that searches the space around the pack's CNN and records its winner (`Figure.PACK_SEARCH`)."""


def tuned_pack_spec(output_dir: str | os.PathLike) -> ModelSpec | None:
    """The pack CNN that the studies track's s05 tuned in this output folder, or None if s05 has recorded no
    winner there (it runs after the lessons, so in a course run lesson 06 comes first and finds none)."""
    from fmnist_helpers.models.tuning import pack_tuned_spec

    try:
        figures = load_results(output_dir, TUNING_STUDY)[Record.FIGURES]
    except FileNotFoundError:
        return None
    found = figures.get(Figure.PACK_SEARCH) or {}
    values = found.get("best_values")
    if not values:
        return None
    return pack_tuned_spec(values, space=(found.get("plan") or {}).get("space", "pack"))


PACK_CNNS = ("pack_cnn", "pack_cnn_fast", "pack_cnn_wide", "tuned")
"""What s06's `pack_cnn` parameter accepts: a registry pack CNN, or "tuned" for s05's search winner."""


def comparison_models(output_dir: str | os.PathLike, pack_cnn: str = "pack_cnn") -> dict[str, dict[str, ModelSpec]]:
    """The two pairs compared: the `kh` study's ANN and best CNN, and the pack's MLP and CNN.

    The pack's CNN is the registry model `pack_cnn` names, or with "tuned" the one the studies track's s05 tuned in
    `output_dir`. The course runner runs the lessons before the studies, so from an empty folder lesson 06 finds no
    search winner yet, and "tuned" falls back to the untuned `pack_cnn`; run s05 first (`--only s05`) to compare the
    tuned one.

    Usage:
        roles = comparison_models(run.output_dir, pack_cnn="pack_cnn_wide")
    """
    choice = check_choice("pack_cnn", pack_cnn, PACK_CNNS)
    cnn = (tuned_pack_spec(output_dir) or get_spec("pack_cnn")) if choice == "tuned" else get_spec(choice)
    return {"study": {"ANN": get_spec("kh_ann"), "CNN": get_spec("kh_cnn_best")},
            "pack": {"ANN": get_spec("pack_mlp"), "CNN": cnn}}


def pack_cnn_for(pack_cnn: str | None, profile: str) -> str:
    """s06's `pack_cnn` parameter: None means `pack_cnn_fast` in `full` and `pack_cnn` otherwise.

    In `full`, `pack_cnn_fast` is the speed benchmark's CNN: 94.27% with flips over 3 seeds in a median 209 s a run
    on 2 cores without AMX, where `pack_cnn_wide`, s06's CNN until 2026-12-07, scored 94.33% over 3 seeds in the
    recorded run of notebook 06 (94.60% in the speed record) at an estimated 18 minutes a run there. The six runs
    s06 trains of it (3 seeds, 2 datasets) so take about 21 minutes on such a machine where the wider CNN's took
    about 90, for a pack CNN within the seeds' spread of it (RESULTS.md, "Run times"). `pack_cnn_wide` stays one
    parameter away. In `smoke` and `quick`, a run of `pack_cnn` that an earlier notebook saved on the same subset,
    dataset and seed is reused.

    Usage:
        key = pack_cnn_for(None, "full")    # "pack_cnn_fast"
    """
    if pack_cnn is None:
        return "pack_cnn_fast" if profile == "full" else "pack_cnn"
    return check_choice("pack_cnn", pack_cnn, PACK_CNNS)


def reproduction_rows(summary: pd.DataFrame, roles: dict[str, dict[str, ModelSpec]]) -> list[dict[str, Any]]:
    """Rows for the course report: the `kh` models' mean accuracy over seeds beside the study's figure,
    and the pack's models as the pack's best, one row per dataset.

    `summary` is indexed by (source, role, dataset) with a column "mean" (see `evaluation.seed_summary`).
    """
    rows = []
    for (source, role, dataset), mean in summary["mean"].items():
        spec = roles[source][role]
        reported = KH_TABLE[DATASET_TITLES[dataset]][role] if source == "study" else None
        rows.append({Row.MODEL: spec.key, Row.STUDY: spec.study, Row.KIND: spec.kind, Row.DATASET: dataset,
                     Row.REPORTED: reported, Row.REPORTED_FIGURE: "test accuracy" if reported else "",
                     Row.REPRODUCED: float(mean), Row.SEEDS: int(summary.loc[(source, role, dataset), "n"])
                     if "n" in summary.columns else 1})
    return rows
