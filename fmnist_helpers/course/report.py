"""The course summary report: `index.html` and its markdown twin `index.md` in a run's output folder.

Three sections, read from the results files the notebooks wrote (`<out>/results/<notebook>.json`):
the notebooks executed there with links, one table of every study's reported number beside the pack's
reproduction and the pack's best model of the same dataset and kind, and the environment of the run.
The keys it reads are the contract of `base.results` (`Record`, `Figure`, `Row`); a model's kind (MLP or CNN)
comes from the registry.

Usage:
    study_table(Path("build/full"))                        # a DataFrame, one row per study model
    write_report(Path("build/full"), "full", outcomes)     # -> (index.html, index.md)
"""
from __future__ import annotations

import html
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Protocol, Sequence, Union

import pandas as pd

from fmnist_helpers.analysis import statistics
from fmnist_helpers.base.atomic import write_text_atomic
from fmnist_helpers.base.params import RESERVED_PARAMS
from fmnist_helpers.base.results import PACK_ACCURACIES, Figure, Record, Row, dataset_of
from fmnist_helpers.models.registry import MODELS
from fmnist_helpers.studies import reference

STUDY_COLUMNS = [str(c) for c in (
    Row.DATASET, Row.STUDY, Row.MODEL, Row.KIND, Row.REPORTED_FIGURE, Row.REPORTED, "reproduced accuracy",
    "recorded full run", "difference (points)", "verdict", "pack best", "pack margin (points)",
    "notebook")]
"""Columns of `study_table`; accuracies are fractions, differences and margins accuracy points."""

TEST_IMAGES = 10_000
"""The size of both datasets' test sets, for rows recorded without their own noise band."""

UNKNOWN_KIND = "unknown"
"""The kind of a model that is neither in the registry nor recorded with a kind."""
KIND_ORDER = {"mlp": 0, "cnn": 1}
STYLE = ("body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;margin-bottom:1em}\n"
         "td,th{border:1px solid #ccc;padding:.3em .7em;text-align:left}")

Cell = Union[str, list[tuple[str, str]]]
"""A table cell: plain text, or links as (label, href) pairs."""


class NotebookOutcome(Protocol):
    """What the report needs of a runner `Outcome`."""

    notebook: str
    status: str
    wall_s: float
    params: dict[str, Any]
    output: str
    html: str | None


# ----------------------------------------------------------------- reading the results files

def load_all_results(out: Path) -> dict[str, dict[str, Any]]:
    """Every readable results record in `out/results`, keyed by notebook and sorted by name."""
    records = {}
    for path in sorted((Path(out) / "results").glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue  # a damaged file only leaves its notebook out of the report
        if isinstance(data, dict):
            data.setdefault("_mtime", path.stat().st_mtime)
            records[path.stem] = data
    return records


def _number(value: Any) -> float:
    """A finite float, else NaN (None, strings and NaN alike)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value) if math.isfinite(value) else math.nan


def model_kind(model: str, kind: str | None = None) -> str:
    """The registry's kind of `model` ("bu_cnn-fold2" is `bu_cnn`), else the `kind` recorded with it (a search
    winner such as `pack_tuned` is not in the registry), else `UNKNOWN_KIND`: never guessed from the name."""
    spec = MODELS.get(reference.registry_key(model))
    return spec.kind if spec else kind or UNKNOWN_KIND


def pack_best(records: dict[str, dict[str, Any]]) -> dict[tuple[str, str], float]:
    """The pack's best test accuracy per (dataset, kind) over all the pack figures the notebooks recorded."""
    best: dict[tuple[str, str], float] = {}

    def offer(dataset: str, kind: str, value: Any) -> None:
        value = _number(value)
        if not math.isnan(value) and value > best.get((dataset, kind), -math.inf):
            best[(dataset, kind)] = value

    for record in records.values():
        figures, dataset = record.get(Record.FIGURES) or {}, dataset_of(record)
        for row in figures.get(Figure.REPRODUCTION) or []:
            if row.get(Row.STUDY) == "pack":
                offer(row.get(Row.DATASET) or dataset, model_kind(str(row.get(Row.MODEL, "")), row.get(Row.KIND)),
                      row.get(Row.REPRODUCED))
        for key, model in PACK_ACCURACIES.items():
            offer(dataset, model_kind(model), figures.get(key))
        for ds, kinds in (figures.get(Figure.PACK_BEST) or {}).items():
            for kind, value in (kinds or {}).items():
                offer(ds, kind, value)
    return best


def study_table(out: Path) -> pd.DataFrame:
    """Every study model's reported accuracy, its reproduction and the pack's best of the same dataset and kind.

    A model reproduced in several notebooks keeps the row of the later notebook (by name).
    """
    records = load_all_results(out)
    best = pack_best(records)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for notebook, record in records.items():
        for row in (record.get(Record.FIGURES) or {}).get(Figure.REPRODUCTION) or []:
            if row.get(Row.STUDY) == "pack":
                continue
            model = str(row.get(Row.MODEL, ""))
            dataset = row.get(Row.DATASET) or dataset_of(record)
            kind = model_kind(model, row.get(Row.KIND))
            reported, reproduced = _number(row.get(Row.REPORTED)), _number(row.get(Row.REPRODUCED))
            diff = (reproduced - reported) * 100
            n_test = int(_number(row.get(Row.N_TEST)) if not math.isnan(_number(row.get(Row.N_TEST))) else TEST_IMAGES)
            check = (statistics.against_reported(reproduced, n_test, reported, classes=10)
                     if not (math.isnan(reproduced) or math.isnan(reported)) else None)
            top = best.get((dataset, kind), math.nan)
            rows[(dataset, model)] = {
                Row.DATASET: dataset, Row.STUDY: row.get(Row.STUDY), Row.MODEL: model, Row.KIND: kind,
                Row.REPORTED_FIGURE: row.get(Row.REPORTED_FIGURE) or "", Row.REPORTED: reported,
                "reproduced accuracy": reproduced, "recorded full run": reference.column([model], dataset)[0],
                "difference (points)": diff, "verdict": check.verdict if check else "no reported figure",
                "pack best": top, "pack margin (points)": (top - reported) * 100, "notebook": notebook,
            }
    table = pd.DataFrame(list(rows.values()), columns=STUDY_COLUMNS)
    if table.empty:
        return table
    order = table[Row.KIND].map(KIND_ORDER).fillna(len(KIND_ORDER))
    return (table.assign(_order=order).sort_values([Row.DATASET, "_order", Row.STUDY, Row.MODEL])
            .drop(columns="_order").reset_index(drop=True))


# ----------------------------------------------------------------- environment

@lru_cache(maxsize=1)
def detect_hardware() -> tuple[dict[str, Any], str]:
    """This machine's hardware and automatic precision (imports TensorFlow, so it runs once per process)."""
    from fmnist_helpers.training.precision import choose_precision, describe_hardware

    hardware = describe_hardware()
    return hardware, str(hardware.get("auto_precision") or choose_precision("auto"))


def _newest(records: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return sorted(records.items(), key=lambda kv: (str(kv[1].get(Record.UPDATED) or ""), kv[1].get("_mtime", 0)),
                  reverse=True)


def _describe_devices(hardware: dict[str, Any]) -> str:
    gpus = hardware.get("gpus")
    if gpus:
        return f"GPU ({len(gpus)}: compute capability {', '.join(map(str, gpus))})"
    if "gpus" in hardware:
        bf16 = hardware.get("cpu_bfloat16")
        return "CPU only" + ("" if bf16 is None else f" (bfloat16 instructions: {'yes' if bf16 else 'no'})")
    return ", ".join(f"{k}: {v}" for k, v in hardware.items()) or "unknown"


def environment_summary(out: Path) -> dict[str, str]:
    """Package versions and machine from the newest results file, then devices and precision.

    Devices and precision come from the newest `hardware` / `precision` figures a notebook recorded, else
    from this machine (`detect_hardware`), else "unknown".
    """
    records = _newest(load_all_results(out))
    summary: dict[str, str] = {}
    if records:
        notebook, record = records[0]
        summary.update({str(k): str(v) for k, v in (record.get(Record.ENVIRONMENT) or {}).items()})
        summary["versions recorded by"] = notebook
    hardware = next(((nb, r[Record.FIGURES][Figure.HARDWARE]) for nb, r in records
                     if isinstance((r.get(Record.FIGURES) or {}).get(Figure.HARDWARE), dict)), None)
    precision = next(((nb, r[Record.FIGURES][Figure.PRECISION]) for nb, r in records
                      if isinstance((r.get(Record.FIGURES) or {}).get(Figure.PRECISION), str)), None)
    if hardware is None or precision is None:
        try:
            detected, auto = detect_hardware()
            hardware = hardware or ("detected when this report was written", detected)
            precision = precision or ("detected when this report was written", auto)
        except Exception:  # no TensorFlow, or it failed to start: say so rather than fail the report
            pass
    summary["devices"] = _describe_devices(hardware[1]) if hardware else "unknown"
    summary["precision"] = precision[1] if precision else "unknown"
    summary["mixed precision"] = ("unknown" if not precision else
                                  "off" if precision[1] == "float32" else "on")
    sources = sorted({src for src in (hardware and hardware[0], precision and precision[0]) if src})
    summary["devices and precision from"] = ", ".join(sources) or "unknown"
    return summary


# ----------------------------------------------------------------- formatting

def percent(value: Any) -> str:
    """0.9123 -> "91.23%"; missing -> "-"."""
    value = _number(value)
    return "-" if math.isnan(value) else f"{value * 100:.2f}%"


def points(value: Any) -> str:
    """1.234 -> "+1.23"; missing -> "-"."""
    value = _number(value)
    return "-" if math.isnan(value) else f"{value:+.2f}"


def band_points(value: Any) -> str:
    """0.63 -> "±0.63"; missing -> "-"."""
    value = _number(value)
    return "-" if math.isnan(value) else f"±{value:.2f}"


def _text(value: Any) -> str:
    return "-" if value is None or value == "" or (isinstance(value, float) and math.isnan(value)) else str(value)


def study_rows(table: pd.DataFrame) -> list[list[str]]:
    """`study_table` rows as display strings, in `STUDY_COLUMNS` order."""
    formats = {"reported accuracy": percent, "reproduced accuracy": percent, "pack best": percent,
               "recorded full run": percent,
               "difference (points)": points, "pack margin (points)": points}
    return [[formats.get(col, _text)(row[col]) for col in STUDY_COLUMNS] for _, row in table.iterrows()]


def notebook_rows(out: Path, outcomes: Iterable[NotebookOutcome],
                  hidden: Iterable[str] = RESERVED_PARAMS) -> list[list[Cell]]:
    """One row per notebook: name, status, wall time, its own parameters and links to its outputs."""
    hidden = set(hidden)
    rows: list[list[Cell]] = []
    for o in outcomes:
        links = [("HTML", o.html)] if o.html else []
        links.append(("notebook", o.output))
        results = f"results/{o.notebook}.json"
        if (Path(out) / results).is_file():
            links.append(("results", results))
        extra = {k: v for k, v in o.params.items() if k not in hidden}
        rows.append([o.notebook, o.status, f"{o.wall_s:.1f}", json.dumps(extra, default=str) if extra else "",
                     links])
    return rows


def html_table(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """An HTML table with every text escaped."""
    def cell(c: Cell) -> str:
        if isinstance(c, str):
            return html.escape(c)
        return " · ".join(f'<a href="{html.escape(href)}">{html.escape(label)}</a>' for label, href in c)

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "\n".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>\n{body}\n</table>"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """A GitHub-flavoured markdown table (pipes and "<" escaped, line breaks flattened)."""
    def cell(c: Cell) -> str:
        if not isinstance(c, str):
            c = " · ".join(f"[{label}]({href.replace(' ', '%20')})" for label, href in c)
        return c.replace("\\", "\\\\").replace("|", "\\|").replace("<", "\\<").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# ----------------------------------------------------------------- the report

NOTEBOOK_HEADER = ["notebook", "status", "wall time (s)", "parameters", "open"]
NO_RESULTS = "No results yet: run the notebooks that train models (03 onwards) to fill this table."
NO_NOTEBOOKS = "No notebooks executed in this folder yet."


def _sections(out: Path, outcomes: Sequence[NotebookOutcome],
              hidden: Iterable[str]) -> list[tuple[str, str, list[str], list[list[Cell]] | str]]:
    """(title, introduction, header, rows or a message instead of the table) for each section."""
    studies = study_table(out)
    env = environment_summary(out)
    return [
        ("Notebooks", "Each notebook executed in this folder, by this run or an earlier one.",
         NOTEBOOK_HEADER, notebook_rows(out, outcomes, hidden) or NO_NOTEBOOKS),
        ("Study numbers vs this run",
         "Each study's reported accuracy beside this run's reproduction, and the pack's best model of the same "
         f"dataset and kind. Differences and margins are in accuracy points; a difference inside the row's noise band (two "
         "standard errors of its test score, or the seed spread where a notebook measured one) counts as noise. "
         f"The recorded full run column is the {reference.label()}.",
         STUDY_COLUMNS, study_rows(studies) or NO_RESULTS),
        ("Environment", "Package versions of the newest results file; devices and precision of the run.",
         ["item", "value"], [[k, v] for k, v in env.items()]),
    ]


def write_report(out: Path, profile: str, outcomes: Sequence[NotebookOutcome],
                 hidden: Iterable[str] = RESERVED_PARAMS) -> tuple[Path, Path]:
    """Write `out/index.html` and `out/index.md` atomically; returns both paths."""
    out = Path(out)
    hidden = set(hidden)
    title = f"Fashion-MNIST course: {profile} run"
    sections = _sections(out, outcomes, hidden)
    page = [f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>',
            f"<style>{STYLE}</style></head>",
            f"<body><h1>Fashion-MNIST course: <code>{html.escape(profile)}</code> profile</h1>"]
    md = [f"# Fashion-MNIST course: `{profile}` profile"]
    for name, intro, header, rows in sections:
        page += [f"<h2>{html.escape(name)}</h2>", f"<p>{html.escape(intro)}</p>"]
        md += ["", f"## {name}", "", intro, ""]
        if isinstance(rows, str):
            page.append(f"<p>{html.escape(rows)}</p>")
            md.append(rows)
        else:
            page.append(html_table(header, rows))
            md.append(markdown_table(header, rows))
    page.append("</body></html>")
    html_path, md_path = out / "index.html", out / "index.md"
    write_text_atomic(html_path, "\n".join(page) + "\n")
    write_text_atomic(md_path, "\n".join(md) + "\n")
    return html_path, md_path
