"""The ANN-vs-CNN comparison of notebook 06: which models play each role, and the `kh` study's table (its figures
are `published.KH_TABLE`) with its deltas by model and by dataset.

Usage:
    roles = comparison_models(run.output_dir, tuned=True)   # {"study": {"ANN": spec, "CNN": spec}, "pack": {...}}
    table = with_deltas(means.unstack("dataset"))        # adds "CNN - ANN" and "MNIST - Fashion-MNIST"
"""
from __future__ import annotations

import os
from typing import Any

import pandas as pd

from fmnist_helpers.base.params import ParameterError
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


def tuned_pack_spec(output_dir: str | os.PathLike) -> ModelSpec | None:
    """The pack CNN that notebook 05 tuned in this output folder, or None if notebook 05 has not finished there."""
    from fmnist_helpers.models.tuning import pack_tuned_spec

    try:
        figures = load_results(output_dir, "05_tuning")[Record.FIGURES]
    except FileNotFoundError:
        return None
    values = (figures.get(Figure.PACK_SEARCH) or {}).get("best_values")
    if not values:
        return None
    return pack_tuned_spec(values)


def comparison_models(output_dir: str | os.PathLike, tuned: bool = True) -> dict[str, dict[str, ModelSpec]]:
    """The two pairs compared: the `kh` study's ANN and best CNN, and the pack's MLP and CNN.

    The pack's CNN is the one notebook 05 tuned in `output_dir` when `tuned` is true and notebook 05 has finished
    there, else notebook 04's untuned pack CNN (whose run on the same dataset and seed notebook 06 then reuses).
    """
    pack_cnn = (tuned_pack_spec(output_dir) if tuned else None) or get_spec("pack_cnn")
    return {"study": {"ANN": get_spec("kh_ann"), "CNN": get_spec("kh_cnn_best")},
            "pack": {"ANN": get_spec("pack_mlp"), "CNN": pack_cnn}}


def use_tuned_pack(tuned_pack: bool | None, profile: str) -> bool:
    """Notebook 06's `tuned_pack` parameter: None means the tuned pack CNN in `full` only.

    Outside `full`, notebook 05's search is a few short trials whose winner is often the widest network of the
    space: in the quick profile it trained at 660-910 images/s against the untuned CNN's 2,500, about 80 s a run
    against 26 s, for three of the comparison's four pack CNN runs (2-core CPU, RESULTS.md "Run times").
    """
    if tuned_pack is None:
        return profile == "full"
    if not isinstance(tuned_pack, bool):
        raise ParameterError(f"parameter tuned_pack={tuned_pack!r} is not accepted; choose one of: None, True, False")
    return tuned_pack


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
                     Row.REPRODUCED: float(mean)})
    return rows
