"""The course summary report: `index.html` and its markdown twin `index.md` in a run's output folder.

Read from the results files the notebooks wrote (`<out>/results/<notebook>.json`), it opens with what the profile
means (a banner in every profile but `full`), then one figure (`summary.png`): each study model's reported figure,
this run's reproduction and the recorded `full` run with their 95% Wilson intervals, grouped by study; then a short
table of the same rows with their verdicts (`analysis.statistics`), the pack's best model of each dataset and kind
chosen by validation score, the notebooks executed there with links, and the environment of the run. The keys it
reads are the contract of `base.results` (`Record`, `Figure`, `Row`); a model's kind (MLP or CNN) comes from the
registry.

Usage:
    study_table(Path("build/full"))                        # a DataFrame, one row per study model
    write_report(Path("build/full"), "full", outcomes)     # -> (index.html, index.md), and summary.png
"""
from __future__ import annotations

import html
import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Protocol, Sequence, Union

import pandas as pd

from fmnist_helpers.analysis import statistics
from fmnist_helpers.base.atomic import write_text_atomic
from fmnist_helpers.base.params import RESERVED_PARAMS, get_profile
from fmnist_helpers.base.results import Figure, Record, Row, dataset_of
from fmnist_helpers.models.registry import MODELS
from fmnist_helpers.studies import reference

STUDY_COLUMNS = [str(c) for c in (
    Row.DATASET, Row.STUDY, Row.MODEL, Row.KIND, "compared on", Row.REPORTED, "reproduced accuracy", "images",
    Row.SEEDS, "interval low", "interval high", "verdict", "recorded full run", "vs recorded", "full run vs study",
    "source notebook")]
"""Columns of `study_table`; accuracies and interval ends are fractions."""

TEST_IMAGES = 10_000
"""The size of both datasets' test sets, for rows recorded without their number of test images."""

UNKNOWN_KIND = "unknown"
"""The kind of a model that is neither in the registry nor recorded with a kind."""
KIND_ORDER = {"mlp": 0, "cnn": 1}
STYLE = ("body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;margin-bottom:1em}\n"
         "td,th{border:1px solid #ccc;padding:.3em .7em;text-align:left}\n"
         ".banner{background:#fff4d6;border-left:6px solid #e0a800;padding:.8em 1em;max-width:70em}img{max-width:100%}")

Cell = Union[str, list[tuple[str, str]]]
"""A table cell: plain text, or links as (label, href) pairs."""


class NotebookOutcome(Protocol):
    """What the report needs of a runner `Outcome`."""

    notebook: str
    status: str
    wall_s: float
    params: dict[str, Any]
    output: str | None
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


def _seeds_of(record: dict[str, Any]) -> str:
    seed = (record.get(Record.PARAMS) or {}).get("seed")
    return f"seed {seed}" if seed is not None else "1 seed"


def pack_best(records: dict[str, dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The pack's model with the highest *validation* accuracy per (dataset, kind), over the models the notebooks
    recorded (`Figure.MODELS`), with its test accuracy, notebook and seed: chosen as lesson 05 teaches, never by
    the test score it then reports. A later notebook (by name) wins a tie."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for notebook, record in records.items():
        figures, dataset = record.get(Record.FIGURES) or {}, dataset_of(record)
        for name, model in (figures.get(Figure.MODELS) or {}).items():
            if not isinstance(model, dict) or model.get(Row.STUDY) != "pack":
                continue
            val, test = _number(model.get("val_accuracy")), _number(model.get("test_accuracy"))
            if math.isnan(val) or math.isnan(test):
                continue
            key = (dataset, model_kind(str(model.get("key") or name), model.get(Row.KIND)))
            if key[1] == UNKNOWN_KIND:  # a model of unknown kind cannot stand for the MLPs or the CNNs
                continue
            if val >= best.get(key, {}).get("val", -math.inf):
                best[key] = {"name": name, "val": val, "test": test, "source": notebook, "seed": _seeds_of(record)}
    return best


def _int(value: Any, default: int) -> int:
    value = _number(value)
    return default if math.isnan(value) or value <= 0 else int(value)


def study_table(out: Path) -> pd.DataFrame:
    """Every study model's reported accuracy beside this run's reproduction and the recorded full run.

    A reported validation figure is compared with the reproduction's validation accuracy (a row without one gets
    no verdict), a test figure with its test accuracy. Each verdict is `statistics.against_reported` on the
    reproduction's Wilson interval; "vs recorded" sets the recorded full run's figure against the same interval, and
    "full run vs study" the study's figure against the recorded full run's interval on the test images (what
    reproduced, whatever this run's profile; "-" for a validation figure, whose images the record does not count).
    A model reproduced in several notebooks keeps the row of the later notebook (by name).
    """
    records = load_all_results(out)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for notebook, record in records.items():
        for row in (record.get(Record.FIGURES) or {}).get(Figure.REPRODUCTION) or []:
            if row.get(Row.STUDY) == "pack":
                continue
            model = str(row.get(Row.MODEL, ""))
            dataset = row.get(Row.DATASET) or dataset_of(record)
            figure_name = str(row.get(Row.REPORTED_FIGURE) or "")
            on_val = figure_name.startswith("val")
            reported = _number(row.get(Row.REPORTED))
            if on_val:
                reproduced, n = _number(row.get(Row.REPRODUCED_VAL)), _int(row.get(Row.N_VAL), 0)
            else:
                reproduced, n = _number(row.get(Row.REPRODUCED)), _int(row.get(Row.N_TEST), TEST_IMAGES)
            seeds = _int(row.get(Row.SEEDS), 1)
            recorded_figure = reference.figure(reference.registry_key(model), dataset) or {}
            recorded = _number(recorded_figure.get("val_accuracy" if on_val else "test_accuracy"))
            usable = n > 0 and not math.isnan(reproduced)
            interval = statistics.accuracy_interval(reproduced, n) if usable else None
            verdict = (statistics.against_reported(reproduced, n, reported, classes=10).verdict
                       if usable and not math.isnan(reported) else
                       "no reported figure" if math.isnan(reported) else "no validation score reproduced")
            vs_recorded = (statistics.against_reported(reproduced, n, recorded, classes=10).verdict
                           if usable and not math.isnan(recorded) else "-")
            full_vs_study = (statistics.against_reported(recorded, TEST_IMAGES, reported, classes=10).verdict
                             if not on_val and not math.isnan(recorded) and not math.isnan(reported) else "-")
            rows[(dataset, model)] = {
                Row.DATASET: dataset, Row.STUDY: row.get(Row.STUDY), Row.MODEL: model,
                Row.KIND: model_kind(model, row.get(Row.KIND)), "compared on": "validation" if on_val else "test",
                Row.REPORTED: reported, "reproduced accuracy": reproduced, "images": n, Row.SEEDS: seeds,
                "interval low": interval.low if interval else math.nan,
                "interval high": interval.high if interval else math.nan, "verdict": verdict,
                "recorded full run": recorded, "vs recorded": vs_recorded, "full run vs study": full_vs_study,
                "source notebook": notebook,
            }
    table = pd.DataFrame(list(rows.values()), columns=STUDY_COLUMNS)
    if table.empty:
        return table
    order = table[Row.KIND].map(KIND_ORDER).fillna(len(KIND_ORDER))
    return (table.assign(_order=order).sort_values([Row.DATASET, Row.STUDY, "_order", Row.MODEL])
            .drop(columns="_order").reset_index(drop=True))


# ----------------------------------------------------------------- the figure

FIGURE_FILE = "summary.png"
SHORT_WORDS = {"no reported figure": "no figure", "no validation score reproduced": "no score"}
"""Shorter forms of the table's non-verdicts, for the figure's narrow columns."""
VERDICT_COLOURS = {statistics.CONSISTENT: "#1b7837", statistics.ABOVE: "#1b7837", statistics.BELOW: "#b2182b"}


def _row_label(row: pd.Series) -> str:
    seeds = f", {row[Row.SEEDS]} seeds" if row[Row.SEEDS] > 1 else ""
    return f"{row[Row.MODEL]} ({row['compared on']}{seeds})"


def _x_range(part: pd.DataFrame) -> tuple[float, float]:
    """The accuracy range (%) of a panel: every figure of its rows above chance, so that one row at chance does not
    squeeze the others into a corner; what falls below is drawn at the left edge with its value."""
    ranked = part[~part["verdict"].isin(statistics.NOT_RANKED)]
    values = pd.concat([ranked[c] for c in ("interval low", Row.REPORTED, "recorded full run")]).dropna() * 100
    if values.empty:
        return 0.0, 100.0
    return max(0.0, math.floor(values.min() - 1.5)), min(100.0, math.ceil(values.max() + 1.0))


def summary_figure(table: pd.DataFrame, path: Path) -> str | None:
    """Draw `table` (from `study_table`) as one dot plot per dataset and save it to `path`; returns the alt text,
    or None (and no file) when there is nothing to draw."""
    table = table[table["reproduced accuracy"].notna()]
    if table.empty:
        return None
    from matplotlib.figure import Figure as Canvas
    from matplotlib.lines import Line2D

    datasets = list(dict.fromkeys(table[Row.DATASET]))
    heights = [len(table[table[Row.DATASET] == d]) + table[table[Row.DATASET] == d][Row.STUDY].nunique() + 1
               for d in datasets]
    fig = Canvas(figsize=(11, 1.3 + 0.3 * sum(heights) + 0.7 * len(datasets)))
    axes = fig.subplots(len(datasets), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, dataset in zip(axes, datasets):
        part = table[table[Row.DATASET] == dataset]
        left, right = _x_range(part)

        def mark(value: float, y: float, style: str, colour: str, low: float | None = None, high: float | None = None,
                 **kw: Any) -> None:
            if value * 100 < left:  # off the panel to the left: an arrow at the edge, and the value
                ax.plot(left, y, "<", color=colour, ms=7, clip_on=False, zorder=5)
                ax.text(left + (right - left) * 0.015, y, f"{value:.1%}", color=colour, va="center", fontsize=8)
                return
            xerr = None if low is None else [[(value - low) * 100], [(high - value) * 100]]
            ax.errorbar(value * 100, y, xerr=xerr, fmt=style, color=colour, capsize=3, **kw)

        for x, head in ((1.01, "run vs study"), (1.19, "run vs full"), (1.37, "full vs study")):
            ax.text(x, -1, head, transform=ax.get_yaxis_transform(), va="center", fontsize=8, color="#4d4d4d")
        y, ticks, labels = 0, [], []
        for study, rows in part.groupby(Row.STUDY, sort=True):
            ax.text(-0.01, y, f"{study} study", transform=ax.get_yaxis_transform(), ha="right", va="center",
                    fontweight="bold", fontsize=9)
            y += 1
            for _, row in rows.iterrows():
                mark(row["reproduced accuracy"], y, "o", "#2166ac", row["interval low"], row["interval high"], ms=6,
                     zorder=3)
                rec = row["recorded full run"]
                if not math.isnan(rec):
                    if row["compared on"] == "test":
                        r = statistics.accuracy_interval(rec, TEST_IMAGES)
                        mark(rec, y + 0.3, "s", "#878787", r.low, r.high, ms=5, zorder=2)
                    else:  # the recorded run's validation images are not recorded: no interval
                        mark(rec, y + 0.3, "s", "#878787", ms=5, zorder=2)
                if not math.isnan(row[Row.REPORTED]):
                    mark(row[Row.REPORTED], y, "D", "black", ms=7, mfc="none", mew=1.6, zorder=4)
                for x, word in ((1.01, row["verdict"]), (1.19, row["vs recorded"]), (1.37, row["full run vs study"])):
                    ax.text(x, y, SHORT_WORDS.get(word, word), transform=ax.get_yaxis_transform(), va="center",
                            fontsize=9, color=VERDICT_COLOURS.get(word, "#4d4d4d"))
                ticks.append(y)
                labels.append(_row_label(row))
                y += 1
        ax.set_yticks(ticks, labels, fontsize=9)
        ax.set_ylim(y - 0.4, -1.6)
        ax.set_xlim(left, right)
        ax.set_title(f"{dataset}", fontsize=10, loc="left", fontweight="bold")
        ax.set_xlabel("accuracy (%)")
        ax.grid(axis="x", alpha=0.3)
    handles = [Line2D([], [], marker="D", ls="", color="black", mfc="none", label="study's reported figure"),
               Line2D([], [], marker="o", ls="-", color="#2166ac", label="this run, 95% Wilson interval"),
               Line2D([], [], marker="s", ls="-", color="#878787", label="recorded full run, 95% interval")]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=9)
    fig.subplots_adjust(left=0.28, right=0.70, top=1 - 0.35 / fig.get_figheight(),
                        bottom=(0.9 + 0.2 * len(datasets)) / fig.get_figheight(), hspace=0.35)
    fig.savefig(path, dpi=110)
    return (f"Dot plot, one panel per dataset ({', '.join(datasets)}), one row per study model grouped by study: the "
            "study's reported figure as an open black diamond, this run's accuracy as a blue dot with its 95% Wilson "
            "interval, the recorded full run's as a grey square; at the right of each row this run's verdict against "
            f"the study and against the full run, and the full run's against the study. {headline(table)}")


def headline(table: pd.DataFrame) -> str:
    """One sentence: how many rows of `table` got each verdict: this run against the studies and against the full run,
    and the recorded full run against the studies."""
    def counts(column: str) -> str:
        found = table[column].value_counts()
        return ", ".join(f"{n} {word}" for word, n in sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))
                         if word != "-") or "none"

    return (f"Of {len(table)} rows, this run against the studies' figures: {counts('verdict')}; against the recorded "
            f"full run: {counts('vs recorded')}. The recorded full run against the studies' figures: "
            f"{counts('full run vs study')}.")


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


def _text(value: Any) -> str:
    return "-" if value is None or value == "" or (isinstance(value, float) and math.isnan(value)) else str(value)


STUDY_HEADER = ["dataset", "model", "compared on", "reported", "this run", "95% interval", "verdict",
                "recorded full run", "this run vs recorded", "full run vs study", "from"]
PACK_HEADER = ["dataset", "kind", "pack model", "validation accuracy", "test accuracy", "95% interval", "from"]


def _interval_text(low: Any, high: Any) -> str:
    low, high = _number(low), _number(high)
    return "-" if math.isnan(low) else f"{low * 100:.2f}-{high * 100:.2f}%"


def study_rows(table: pd.DataFrame) -> list[list[str]]:
    """`study_table` rows as display strings, in `STUDY_HEADER` order: every number says where it comes from."""
    rows = []
    for _, row in table.iterrows():
        seeds = f"{row[Row.SEEDS]} seeds (mean)" if row[Row.SEEDS] > 1 else "1 seed"
        rows.append([str(row[Row.DATASET]), f"{row[Row.STUDY]} · {row[Row.MODEL]}", str(row["compared on"]),
                     percent(row[Row.REPORTED]), percent(row["reproduced accuracy"]),
                     _interval_text(row["interval low"], row["interval high"]), str(row["verdict"]),
                     percent(row["recorded full run"]), str(row["vs recorded"]), str(row["full run vs study"]),
                     f"{row['source notebook']}, {seeds}"])
    return rows


def pack_rows(best: dict[tuple[str, str], dict[str, Any]]) -> list[list[str]]:
    """`pack_best` as display rows, in `PACK_HEADER` order."""
    rows = []
    for (dataset, kind), pick in sorted(best.items(), key=lambda kv: (kv[0][0], KIND_ORDER.get(kv[0][1], 9))):
        interval = statistics.accuracy_interval(pick["test"], TEST_IMAGES)
        rows.append([dataset, kind, pick["name"], percent(pick["val"]), percent(pick["test"]),
                     interval.percent().strip("[]").replace(", ", "-"), f"{pick['source']}, {pick['seed']}"])
    return rows


def banner(profile: str) -> str | None:
    """What a profile's numbers mean, for the top of the page; None for `full`, the profile that reproduces."""
    if profile == "full":
        return None
    try:
        spec = get_profile(profile)
    except Exception:  # an unknown profile name: say only that it is not the full run
        return (f"This is a `{profile}` run, not the `full` profile: its numbers are not a reproduction of the "
                f"studies. Compare them with the recorded full run ({reference.label()}).")
    images = "all training images" if spec.train_subset is None else f"at most {spec.train_subset:,} training images"
    return (f"This is a `{profile}` run ({spec.description}), not a reproduction: every model trains on {images} for "
            f"at most {spec.max_epochs} epoch{'s' if spec.max_epochs > 1 else ''}, against the studies' full data and "
            "epochs, so a verdict \"below\" against a study's figure measures that budget, not the study. The "
            "reproduction is the recorded full run (the grey squares in the figure, and a column of the table): "
            "read this run against it. `make course PROFILE=full` makes a new one.")


def notebook_rows(out: Path, outcomes: Iterable[NotebookOutcome],
                  hidden: Iterable[str] = RESERVED_PARAMS) -> list[list[Cell]]:
    """One row per notebook: name, status, wall time, its own parameters and links to its outputs (none for an
    output the outcome does not name: a failed notebook whose partial copy could not be kept)."""
    hidden = set(hidden)
    rows: list[list[Cell]] = []
    for o in outcomes:
        links = [("HTML", o.html)] if o.html else []
        if o.output:
            links.append(("failed notebook" if o.output.endswith(".failed.ipynb") else "notebook", o.output))
        results = f"results/{o.notebook}.json"
        if (Path(out) / results).is_file():
            links.append(("results", results))
        extra = {k: v for k, v in o.params.items() if k not in hidden}
        rows.append([o.notebook, o.status, f"{o.wall_s:.1f}", json.dumps(extra, default=str) if extra else "",
                     links or NO_FILES])
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
NO_FILES = "no file kept"


VERDICT_NOTE = ("Verdicts (the glossary of 00_primer says what each word means): whether the study's figure lies "
                "inside the 95% Wilson interval of this run's score (consistent), or the interval lies above or below "
                "it; \"at chance\" when the interval includes 10%. A reported validation figure is set against this "
                "run's validation score, a test figure against its test score.")


def _sections(out: Path, outcomes: Sequence[NotebookOutcome],
              hidden: Iterable[str]) -> list[tuple[str, str, list[str], list[list[Cell]] | str]]:
    """(title, introduction, header, rows or a message instead of the table) for each section after the figure."""
    records = load_all_results(out)
    studies = study_table(out)
    env = environment_summary(out)
    return [
        ("Study numbers vs this run",
         "Each study model's reported accuracy beside this run's and the recorded full run's "
         f"({reference.label()}). " + VERDICT_NOTE,
         STUDY_HEADER, study_rows(studies) or NO_RESULTS),
        ("The pack's best models",
         "For each dataset and kind, the pack model with the highest validation accuracy among those the notebooks "
         "trained, then its test accuracy: chosen on validation, as lesson 05 teaches, and scored once on the test "
         "set (interval on 10,000 test images).",
         PACK_HEADER, pack_rows(pack_best(records)) or "No pack model recorded a validation score in this folder."),
        ("Notebooks", "Each notebook executed in this folder, by this run or an earlier one.",
         NOTEBOOK_HEADER, notebook_rows(out, outcomes, hidden) or NO_NOTEBOOKS),
        ("Environment", "Package versions of the newest results file; devices and precision of the run.",
         ["item", "value"], [[k, v] for k, v in env.items()]),
    ]


def write_report(out: Path, profile: str, outcomes: Sequence[NotebookOutcome],
                 hidden: Iterable[str] = RESERVED_PARAMS) -> tuple[Path, Path]:
    """Write `out/index.html`, `out/index.md` and the figure `out/summary.png` (when there are study rows)
    atomically; returns the two pages."""
    out = Path(out)
    hidden = set(hidden)
    title = f"Fashion-MNIST course: {profile} run"
    page = [f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>',
            f"<style>{STYLE}</style></head>",
            f"<body><h1>Fashion-MNIST course: <code>{html.escape(profile)}</code> profile</h1>"]
    md = [f"# Fashion-MNIST course: `{profile}` profile"]
    note = banner(profile)
    if note:
        shown = html.escape(note).replace(f"`{html.escape(profile)}`", f"<code>{html.escape(profile)}</code>")
        shown = re.sub(r"`([^`]+)`", r"<code>\1</code>", shown)
        page.append(f'<p class="banner">{shown}</p>')
        md += ["", f"> {note}"]
    figure_path = out / FIGURE_FILE
    alt = summary_figure(study_table(out), figure_path)
    if alt:
        line = headline(study_table(out))
        page += ["<h2>What reproduced</h2>", f"<p>{html.escape(line)}</p>",
                 f'<img src="{FIGURE_FILE}?v={int(figure_path.stat().st_mtime)}" alt="{html.escape(alt)}" width="1000">']
        md += ["", "## What reproduced", "", line, "", f"![{alt}]({FIGURE_FILE})"]
    elif figure_path.exists():
        figure_path.unlink()  # an old figure must not stand beside a table without rows
    for name, intro, header, rows in _sections(out, outcomes, hidden):
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
