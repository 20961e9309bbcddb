"""Does an executed notebook's prose agree with its own numbers? The checks of the prose test, the student-edition
test and `make check-lessons`.

Every judgment a notebook shows ("the strongest MLP is ...", "... is consistent with ...") is a claim recorded in
its results file (`fmnist_helpers.analysis.claims`). These checks re-derive each claim from its inputs with
`fmnist_helpers.analysis.statistics` (itself tested against SciPy and statsmodels), check that no two claims give one
pair two verdicts and that no ranking names a result at chance, match its inputs against the model figures recorded
beside it, and find its sentence in the notebook's outputs; they check that every figure carries alt text, that no
start-up noise reached a cell, and (in kernels started with `figure_lint_ipython_dir`) that no figure shows a fault
`analysis.figure_lint` finds.

Usage:
    problems = run_problems(output_dir)          # {notebook stem: [problem, ...]} for every notebook a run executed
    notebook_problems(nbformat.read(path, as_version=4), record)   # one notebook and its results record
    with linting_kernels(tmp / "ipython"): ...   # kernels started here write figure faults under each figure
"""
from __future__ import annotations

import math
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from fmnist_helpers.analysis import statistics
from fmnist_helpers.analysis.claims import PAIR_KINDS
from fmnist_helpers.base.settings import IPYTHON_DIR, MPL_BACKEND

KNOWN_SOURCES = {"models.{}.test_accuracy": ("models", "test_accuracy")}
FLIPPED = {statistics.ABOVE: statistics.BELOW, statistics.BELOW: statistics.ABOVE}


def _both_at_chance(claim: dict[str, Any], scores: list[tuple[float, int]]) -> str | None:
    classes = claim["extra"].get("classes")
    labels = [statistics.chance_label(acc, n, classes) for acc, n in scores] if classes else [None]
    return labels[0] if all(labels) else None


def _expected_value(claim: dict[str, Any]) -> Any:
    """The claim's value re-derived from its inputs with `statistics` (the tests of that module check it against
    SciPy and statsmodels)."""
    inputs, extra = claim["inputs"], claim.get("extra") or {}
    kind = claim["kind"]
    if kind in ("best", "worst"):
        n = extra.get("n")
        ranked = {k: v for k, v in inputs.items()
                  if not (n and statistics.chance_label(v, n, extra.get("classes", 10)))}
        if not ranked:
            return statistics.AT_CHANCE
        pick = max if kind == "best" else min
        return pick(ranked, key=ranked.get)
    if kind in ("paired", "reported", "unpaired"):
        (_, a), (_, b) = list(inputs.items())
        if kind == "paired":
            n = extra["n"]
            return (_both_at_chance(claim, [(a, n), (b, n)])
                    or statistics.paired_counts(extra["only_a"], extra["only_b"], n).verdict)
        if kind == "reported":
            return statistics.against_reported(a, extra["n"], b, extra.get("classes")).verdict
        return (_both_at_chance(claim, [(a, extra["n_a"]), (b, extra["n_b"])])
                or statistics.unpaired(a, extra["n_a"], b, extra["n_b"]).verdict)
    if kind == "seeds":
        return statistics.seed_difference(extra["scores_a"], extra["scores_b"]).verdict
    if kind == "rising":
        values = list(inputs.values())
        return "rose" if values[-1] > values[0] else "did not rise"
    if kind == "value":
        return inputs["value"]
    raise AssertionError(f"unknown claim kind {kind!r}")


def contradictions(record: dict[str, Any]) -> list[str]:
    """Pairs that two claims of one notebook judge differently on the same measure (A above B in one, consistent
    or below in another)."""
    seen: dict[tuple[frozenset, Any], tuple[str, str, str]] = {}
    problems = []
    for name, claim in record.get("figures", {}).get("claims", {}).items():
        if claim["kind"] not in PAIR_KINDS:
            continue
        first, second = list(claim["inputs"])
        key = (frozenset((first, second)), (claim.get("extra") or {}).get("what"))
        value = claim["value"]
        if key in seen:
            other_name, other_first, other_value = seen[key]
            oriented = value if other_first == first else FLIPPED.get(value, value)
            if oriented != other_value:
                problems.append(f"{name} and {other_name} judge {first} against {second} differently: "
                                f"{value!r} and {other_value!r}")
        else:
            seen[key] = (name, first, value)
    return problems


def ranked_at_chance(record: dict[str, Any]) -> list[str]:
    """Rankings of accuracies that name a result at or below chance as the best or the worst."""
    problems = []
    for name, claim in record.get("figures", {}).get("claims", {}).items():
        extra = claim.get("extra") or {}
        if claim["kind"] in ("best", "worst") and extra.get("n"):
            top = claim["value"]
            if top in claim["inputs"] and statistics.chance_label(claim["inputs"][top], extra["n"], extra["classes"]):
                problems.append(f"{name}: ranks {top} ({claim['inputs'][top]}), which is at or below chance")
        elif claim["kind"] in ("best", "worst") and claim.get("source") == "models.{}.test_accuracy":
            problems.append(f"{name}: ranks test accuracies without the number of images, so chance is not checked")
    return problems


def claim_problems(record: dict[str, Any]) -> list[str]:
    """What is wrong with the claims of one results file: a judgment its inputs do not support, inputs that
    differ from the figures the same record holds, two verdicts on one pair that disagree, or a ranking that
    names a result at chance."""
    figures = record.get("figures", {})
    problems = []
    for name, claim in figures.get("claims", {}).items():
        expected = _expected_value(claim)
        if claim["value"] != expected:
            problems.append(f"{name}: says {claim['value']!r}, its inputs give {expected!r}")
        if claim["kind"] in ("best", "worst", *PAIR_KINDS) and str(claim["value"]).split()[0] not in claim["text"]:
            problems.append(f"{name}: the sentence does not state its value {claim['value']!r}: {claim['text']}")
        source = claim.get("source")
        if source:
            if source not in KNOWN_SOURCES:
                problems.append(f"{name}: unknown source {source!r}")
                continue
            section, field = KNOWN_SOURCES[source]
            for key, value in claim["inputs"].items():
                recorded = figures.get(section, {}).get(key, {}).get(field)
                if recorded is None or not math.isclose(recorded, value, abs_tol=1e-9):
                    problems.append(f"{name}: input {key}={value} but the record's {section}.{key}.{field} is "
                                    f"{recorded}")
    return problems + contradictions(record) + ranked_at_chance(record)


def shown_text(nb) -> str:
    """Everything the executed notebook displays, as one string."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            parts.append("".join(data.get("text/markdown", "")) + "".join(data.get("text/plain", "")))
            parts.append("".join(output.get("text", "")))
    return "\n".join(parts)


def unshown_claims(record: dict[str, Any], nb) -> list[str]:
    """Claims recorded but never displayed by the notebook."""
    shown = shown_text(nb)
    return [name for name, claim in record.get("figures", {}).get("claims", {}).items() if claim["text"] not in shown]


def figures_without_alt_text(nb) -> list[str]:
    """The first line of each code cell that shows an image but has no `alt` in its metadata."""
    missing = []
    for cell in nb.cells:
        images = [o for o in cell.get("outputs", []) if any(m.startswith("image/") for m in o.get("data", {}))]
        if images and not str(cell.get("metadata", {}).get("alt", "")).strip():
            missing.append(cell.source.splitlines()[0] if cell.source else "<empty cell>")
    return missing


def start_up_noise(nb) -> list[str]:
    """The harmless start-up lines (TensorFlow's oneDNN and CUDA lines, the kernel's TCP warning) that reached
    the notebook's outputs: a student reads them as failures, so there must be none."""
    from fmnist_helpers.course.quiet import is_noise

    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                found += [line for line in out.get("text", "").splitlines() if is_noise(line)]
    return found


FIGURE_LINT_MARK = "figure lint:"
_FIGURE_LINT_STARTUP = '''\
"""Written by fmnist_helpers.course.prose: every figure the kernel displays is read back by fmnist_helpers'
figure_lint, and each fault it finds is appended to the figure's text/plain output."""


def _figure_text(fig, p, cycle):
    from fmnist_helpers.analysis import figure_lint

    p.text(repr(fig) + "".join(f"\\n{MARK} {problem}" for problem in figure_lint.problems(fig)))


def _register():
    from matplotlib.figure import Figure

    get_ipython().display_formatter.formatters["text/plain"].for_type(Figure, _figure_text)


MARK = %r
# matplotlib's inline backend drops text printers for figures when it starts, in the middle of a cell; so register
# again before each cell, and after each one just before the backend shows the cell's figures
_register()
get_ipython().events.register("pre_run_cell", lambda *args: _register())
get_ipython().events.callbacks["post_execute"].insert(0, _register)
''' % FIGURE_LINT_MARK


def figure_lint_ipython_dir(root: str | os.PathLike) -> Path:
    """An IPython folder (for $IPYTHONDIR) whose start-up file makes a kernel lint every figure it displays
    (`fmnist_helpers.analysis.figure_lint`) and write each fault into the figure's text output, where
    `figure_faults` finds it."""
    startup = Path(root) / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-figure-lint.py").write_text(_FIGURE_LINT_STARTUP)
    return Path(root)


@contextmanager
def linting_kernels(root: str | os.PathLike) -> Iterator[Path]:
    """Within the block, kernels started by this process lint every figure they display (`IPYTHONDIR` set to
    `figure_lint_ipython_dir(root)`) and draw them inline (`MPLBACKEND` unset, as for a student); both are restored
    after."""
    saved = {IPYTHON_DIR.name: os.environ.get(IPYTHON_DIR.name), MPL_BACKEND.name: os.environ.get(MPL_BACKEND.name)}
    os.environ[IPYTHON_DIR.name] = str(figure_lint_ipython_dir(root))
    os.environ.pop(MPL_BACKEND.name, None)
    try:
        yield Path(root)
    finally:
        os.environ.pop(IPYTHON_DIR.name, None)
        os.environ.pop(MPL_BACKEND.name, None)
        os.environ.update({k: v for k, v in saved.items() if v is not None})


def figure_faults(nb) -> list[str]:
    """Each fault the figure lint wrote under a displayed figure, after the first line of the cell that drew it."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = "".join(output.get("data", {}).get("text/plain", ""))
            found += [f"{cell.source.splitlines()[0] if cell.source else '<empty cell>'}: {line.strip()}"
                      for line in text.splitlines() if line.strip().startswith(FIGURE_LINT_MARK)]
    return found


def notebook_problems(nb: Any, record: dict[str, Any]) -> list[str]:
    """Every problem the checks above find in one executed notebook and its results record."""
    problems = [] if record.get("complete") else ["the results record is not complete: the notebook did not finish"]
    problems += claim_problems(record)
    problems += [f"claim {name} is recorded but never shown" for name in unshown_claims(record, nb)]
    problems += [f"figure without alt text: {first}" for first in figures_without_alt_text(nb)]
    problems += figure_faults(nb)
    problems += [f"start-up noise in a cell: {line}" for line in start_up_noise(nb)]
    return problems


def run_problems(output_dir: str | os.PathLike) -> dict[str, list[str]]:
    """The problems of every notebook a course run executed in `output_dir` (the runner's `runs.json` names them),
    by notebook stem; a notebook listed but missing is a problem too."""
    import nbformat

    from fmnist_helpers.base.results import load_results
    from fmnist_helpers.course.runner import load_manifest

    out = Path(output_dir)
    found: dict[str, list[str]] = {}
    for stem, entry in sorted(load_manifest(out).items()):
        if entry.get("status") not in ("ran", "skipped"):
            found[stem] = [f"the run did not finish this notebook (status {entry.get('status')!r})"]
            continue
        executed = Path(entry.get("output") or f"{stem}.ipynb")
        executed = executed if executed.is_absolute() else out / executed
        try:
            nb = nbformat.read(executed, as_version=4)
            record = load_results(out, stem)
        except (OSError, ValueError) as err:
            found[stem] = [f"cannot read {executed.name} or its results: {err}"]
            continue
        found[stem] = notebook_problems(nb, record)
    return found
