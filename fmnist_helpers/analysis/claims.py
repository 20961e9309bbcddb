"""Sentences about this run's numbers, computed from the numbers and recorded beside them.

A notebook never types a claim such as "the pack MLP is the strongest fully connected model": it builds a
`Claim` from the run's own figures, shows it, and records it in the results file (`figures["claims"]`), where
the prose test (`tests/test_prose.py`) checks, for every profile and dataset it runs, that the sentence agrees
with the recorded figures.

Usage:
    scores = {name: r.record["test_accuracy"] for name, r in trained.items()}
    claims.show(claims.best("strongest_mlp", scores, what="fully connected model"), run.results)
    claims.show(claims.compare("tuned_vs_untuned", ("tuned", 0.91), ("untuned", 0.90), band.points), run.results)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping

from fmnist_helpers.base.results import Figure

KINDS = ("best", "worst", "compare", "rising", "value")
"""What a claim can say: the highest or lowest of several scores, one score against another given a noise
band, whether a series rose from its first to its last value, or one number with its source."""


@dataclass(frozen=True)
class Claim:
    """One data-driven sentence: `text` is what the student reads, `value` what it asserts, `inputs` the
    figures it was computed from. `source` optionally names where in the record the inputs come from, as
    "models.<name>.test_accuracy", so a test can match them against the recorded figures."""
    name: str
    kind: str
    text: str
    value: Any
    inputs: dict[str, Any]
    band: float | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def _repr_markdown_(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


def percent(value: float) -> str:
    """0.8912 -> "89.12%"."""
    return f"{value * 100:.2f}%"


def points(value: float) -> str:
    """A difference of two accuracies in points: 0.0321 -> "+3.21 points" (a gap, never a percentage)."""
    return f"{value * 100:+.2f} points"


def _need_scores(name: str, scores: Mapping[str, float]) -> dict[str, float]:
    if not scores:
        raise ValueError(f"claim {name!r} needs at least one score, got none")
    out = {}
    for key, value in scores.items():
        value = float(value)
        if value != value:  # NaN
            raise ValueError(f"claim {name!r}: the score of {key!r} is not a number")
        out[str(key)] = value
    return out


def best(name: str, scores: Mapping[str, float], what: str, fmt: Callable[[float], str] = percent,
         source: str | None = None, lowest: bool = False) -> Claim:
    """The highest (or, with `lowest`, the lowest) of `scores`, named in a sentence.

        best("strongest_mlp", {"uw_mlp": 0.87, "kh_ann": 0.88}, what="fully connected model")
        # "In this run the strongest fully connected model is `kh_ann` (88.00%); next is `uw_mlp` (87.00%)."
    """
    scores = _need_scores(name, scores)
    ranked = sorted(scores, key=scores.get, reverse=not lowest)
    top = ranked[0]
    word = "weakest" if lowest else "strongest"
    text = f"In this run the {word} {what} is `{top}` ({fmt(scores[top])})"
    if len(ranked) > 1:
        text += f"; next is `{ranked[1]}` ({fmt(scores[ranked[1]])})"
    return Claim(name, "worst" if lowest else "best", text + ".", top, scores, source=source)


def compare(name: str, a: tuple[str, float], b: tuple[str, float], band: float, what: str = "test accuracy",
            source: str | None = None, fmt: Callable[[float], str] = percent) -> Claim:
    """`a` against `b` in accuracy points: "above", "below" or "within noise" of it, given the run's band.
    `fmt` writes each score (`points` for a gap between two accuracies).

        compare("cnn_vs_mlp", ("pack_cnn", 0.93), ("pack_mlp", 0.90), band=0.6)   # value "above"
    """
    (name_a, score_a), (name_b, score_b) = a, b
    score_a, score_b = float(score_a), float(score_b)
    if not band >= 0:
        raise ValueError(f"claim {name!r}: the noise band must be a number of points >= 0, got {band!r}")
    diff = (score_a - score_b) * 100
    value = "within noise" if abs(diff) <= band else ("above" if diff > 0 else "below")
    relation = {"above": "above", "below": "below", "within noise": "within noise of"}[value]
    text = (f"In this run `{name_a}`'s {what} ({fmt(score_a)}) is {relation} `{name_b}`'s ({fmt(score_b)}): "
            f"a difference of {diff:+.2f} points against a noise band of +-{band:.2f}.")
    return Claim(name, "compare", text, value, {name_a: score_a, name_b: score_b}, band=band, source=source)


def rising(name: str, series: Mapping[str, float], what: str, fmt: Callable[[float], str] = percent) -> Claim:
    """Whether `series` (ordered, e.g. by epoch) ended higher than it started: value "rose" or "did not rise".

        rising("val_keeps_climbing", {"1": 0.80, "2": 0.84, "3": 0.85}, what="validation accuracy")
    """
    scores = _need_scores(name, series)
    keys = list(scores)
    first, last = scores[keys[0]], scores[keys[-1]]
    value = "rose" if last > first else "did not rise"
    text = f"In this run the {what} {value}: from {fmt(first)} at {keys[0]} to {fmt(last)} at {keys[-1]}."
    return Claim(name, "rising", text, value, scores)


def value(name: str, text: str, number: float, source: str | None = None) -> Claim:
    """A sentence stating one number of this run; `text` holds "{}" where the number goes.

        value("pack_mlp_accuracy", "The pack MLP scores {} on the test set.", 0.9087)
    """
    number = float(number)
    return Claim(name, "value", text.format(percent(number)), number, {"value": number}, source=source)


def show(claim: Claim, record: Any = None) -> None:
    """Display the claim as markdown and, given a `ResultsRecord`, record it under `figures["claims"]`."""
    try:
        from IPython.display import Markdown, display
        display(Markdown(claim.text))
    except ImportError:  # outside IPython
        print(claim.text)
    if record is not None:
        recorded = dict(record.figures.get(Figure.CLAIMS, {}))
        recorded[claim.name] = asdict(claim)
        record.record(**{Figure.CLAIMS: recorded})

