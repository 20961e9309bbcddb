"""Checks of an executed notebook's prose, shared by the prose test and the student-edition test.

Every judgment a notebook shows ("the strongest MLP is ...", "... is within noise of ...") is a claim recorded in
its results file (`fmnist_helpers.analysis.claims`). These checks re-derive each claim from its inputs with their own
code, match its inputs against the model figures recorded beside it, and find its sentence in the notebook's
outputs; and they check that every figure carries alt text.
"""
from __future__ import annotations

import math
from typing import Any

KNOWN_SOURCES = {"models.{}.test_accuracy": ("models", "test_accuracy")}


def _expected_value(claim: dict[str, Any]) -> Any:
    inputs = claim["inputs"]
    if claim["kind"] in ("best", "worst"):
        pick = max if claim["kind"] == "best" else min
        return pick(inputs, key=inputs.get)
    if claim["kind"] == "compare":
        (_, a), (_, b) = list(inputs.items())
        diff = (a - b) * 100
        return "within noise" if abs(diff) <= claim["band"] else ("above" if diff > 0 else "below")
    if claim["kind"] == "rising":
        values = list(inputs.values())
        return "rose" if values[-1] > values[0] else "did not rise"
    if claim["kind"] == "value":
        return inputs["value"]
    raise AssertionError(f"unknown claim kind {claim['kind']!r}")


def claim_problems(record: dict[str, Any]) -> list[str]:
    """What is wrong with the claims of one results file: a judgment its inputs do not support, or inputs that
    differ from the figures the same record holds."""
    figures = record.get("figures", {})
    problems = []
    for name, claim in figures.get("claims", {}).items():
        expected = _expected_value(claim)
        if claim["value"] != expected:
            problems.append(f"{name}: says {claim['value']!r}, its inputs give {expected!r}")
        if claim["kind"] in ("best", "worst", "compare") and str(claim["value"]).split()[0] not in claim["text"]:
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
    return problems


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
