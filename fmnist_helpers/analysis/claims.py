"""Sentences about this run's numbers, computed from the numbers and recorded beside them.

A notebook never types a claim such as "the pack MLP is the strongest fully connected model": it builds a
`Claim` from the run's own figures, shows it, and records it in the results file (`figures["claims"]`), where
the prose test (`tests/test_prose.py`) checks, for every profile and dataset it runs, that the sentence agrees
with the recorded figures.

Usage:
    scores = {name: r.record["test_accuracy"] for name, r in trained.items()}
    claims.show(claims.best("strongest_mlp", scores, what="fully connected model"), run.results)
    claims.show(claims.paired("tuned_vs_untuned", ("tuned", tuned_pred), ("untuned", untuned_pred), y_test), run.results)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from fmnist_helpers.analysis import statistics
from fmnist_helpers.base.results import Figure

KINDS = ("best", "worst", "paired", "seeds", "reported", "unpaired", "rising", "value")
"""What a claim can say: the highest or lowest of several scores (never a score at chance); one score against
another with the test that fits how they were measured (`paired`: two models on the same images; `seeds`: two
recipes over seeds; `reported`: a reproduction against a published figure; `unpaired`: scores on different
images), each in the verdict words of `statistics.VERDICTS`; whether a series rose from its first to its last
value; or one number with its source."""
PAIR_KINDS = ("paired", "seeds", "reported", "unpaired")
"""The kinds that judge one pair of named results on one measure (`extra["what"]`): one verdict per pair and
measure in a notebook."""


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
         source: str | None = None, lowest: bool = False, n: int | None = None, classes: int = 10) -> Claim:
    """The highest (or, with `lowest`, the lowest) of `scores`, named in a sentence.

    Given `n`, the images each accuracy was scored on, a score at or below chance (`statistics.chance_label`
    with `classes`) is left out of the ranking and named as such; when every score is, the value is "at chance"
    and nothing is ranked.

        best("strongest_mlp", {"uw_mlp": 0.87, "kh_ann": 0.88}, what="fully connected model")
        # "In this run the strongest fully connected model is `kh_ann` (88.00%); next is `uw_mlp` (87.00%)."
    """
    scores = _need_scores(name, scores)
    labels = ({k: statistics.chance_label(v, n, classes) for k, v in scores.items()} if n else {})
    not_ranked = {k: label for k, label in labels.items() if label}
    extra = {"n": n, "classes": classes, "not_ranked": not_ranked} if n else {}
    kind = "worst" if lowest else "best"
    ranked = sorted((k for k in scores if k not in not_ranked), key=scores.get, reverse=not lowest)
    if not ranked:
        text = (f"In this run every {what} is {statistics.AT_CHANCE} or below it ("
                + ", ".join(f"`{k}` {fmt(v)}" for k, v in scores.items()) + "): none is ranked.")
        return Claim(name, kind, text, statistics.AT_CHANCE, scores, source=source, extra=extra)
    top = ranked[0]
    word = "weakest" if lowest else "strongest"
    text = f"In this run the {word} {what} is `{top}` ({fmt(scores[top])})"
    if len(ranked) > 1:
        text += f"; next is `{ranked[1]}` ({fmt(scores[ranked[1]])})"
    if not_ranked:
        text += "; not ranked: " + ", ".join(f"`{k}` ({fmt(scores[k])}, {label})" for k, label in not_ranked.items())
    return Claim(name, kind, text + ".", top, scores, source=source, extra=extra)


def _pair_text(name_a: str, name_b: str, score_a: float, score_b: float, verdict: str, what: str) -> str:
    relation = {statistics.CONSISTENT: "consistent with"}.get(verdict, verdict)
    if verdict in statistics.NOT_RANKED:
        return f"In this run `{name_a}` ({percent(score_a)}) and `{name_b}` ({percent(score_b)}) are both {verdict}: not ranked"
    if verdict == statistics.TOO_FEW_SEEDS:
        return f"In this run `{name_a}`'s {what} ({percent(score_a)}) against `{name_b}`'s ({percent(score_b)}): {verdict}"
    return f"In this run `{name_a}`'s {what} ({percent(score_a)}) is {relation} `{name_b}`'s ({percent(score_b)})"


def _both_at_chance(a: tuple[float, int], b: tuple[float, int], classes: int | None) -> str | None:
    """The chance label both results share, when `classes` is given and neither is above chance."""
    if not classes:
        return None
    labels = [statistics.chance_label(acc, n, classes) for acc, n in (a, b)]
    return labels[0] if labels[0] and labels[1] else None


def paired(name: str, a: tuple[str, Any], b: tuple[str, Any], y_true: Any, what: str = "test accuracy",
           classes: int | None = None, source: str | None = None) -> Claim:
    """Two models' predictions on the same images (`a` and `b` are (name, predicted labels)): McNemar's exact test
    (`statistics.paired`); value "above", "below", "consistent", or "at chance" when `classes` is given and both are.

        paired("cnn_vs_mlp", ("pack_cnn", cnn_pred), ("pack_mlp", mlp_pred), y_test)
    """
    (name_a, pred_a), (name_b, pred_b) = a, b
    y = np.asarray(y_true)
    test = statistics.paired(y, pred_a, pred_b)
    score_a, score_b = float(np.mean(np.asarray(pred_a) == y)), float(np.mean(np.asarray(pred_b) == y))
    value = _both_at_chance((score_a, test.n), (score_b, test.n), classes) or test.verdict
    text = _pair_text(name_a, name_b, score_a, score_b, value, what)
    if value not in statistics.NOT_RANKED:
        text += (f": `{name_a}` alone is right on {test.only_a:,} of {test.n:,} images, `{name_b}` alone on "
                 f"{test.only_b:,} (McNemar's exact test, p = {test.p_value:.2g}); the difference is "
                 f"{test.difference * 100:+.2f} points, 95% interval {test.interval.points()}")
    extra = {"only_a": test.only_a, "only_b": test.only_b, "n": test.n, "classes": classes, "what": what}
    return Claim(name, "paired", text + ".", value, {name_a: score_a, name_b: score_b}, source=source, extra=extra)


def seeds(name: str, a: tuple[str, Sequence[float]], b: tuple[str, Sequence[float]], what: str = "test accuracy",
          source: str | None = None) -> Claim:
    """Two recipes over the same seeds (`a` and `b` are (name, one score per seed, in seed order)): the per-seed
    differences with a t-interval (`statistics.seed_difference`); "too few seeds to tell" under 3 seeds.

        seeds("cnn_vs_ann", ("kh_cnn", [0.90, 0.91, 0.90]), ("kh_ann", [0.88, 0.87, 0.88]))
    """
    (name_a, scores_a), (name_b, scores_b) = a, b
    scores_a, scores_b = [float(x) for x in scores_a], [float(x) for x in scores_b]
    test = statistics.seed_difference(scores_a, scores_b)
    mean_a, mean_b = float(np.mean(scores_a)), float(np.mean(scores_b))
    text = _pair_text(name_a, name_b, mean_a, mean_b, test.verdict, what)
    seeds_text = f"{test.seeds} seed{'s' if test.seeds > 1 else ''}"
    detail = f"mean difference {test.mean * 100:+.2f} points"
    if test.interval is not None:
        freedom = test.seeds - 1
        detail += (f", 95% t-interval {test.interval.points()} with {freedom} degree{'s' if freedom > 1 else ''} "
                   "of freedom")
    text += (f" ({seeds_text}; {detail})" if test.verdict == statistics.TOO_FEW_SEEDS
             else f" over {seeds_text}: {detail}")
    extra = {"scores_a": scores_a, "scores_b": scores_b, "what": what}
    return Claim(name, "seeds", text + ".", test.verdict, {name_a: mean_a, name_b: mean_b}, source=source, extra=extra)


def reported(name: str, a: tuple[str, float, int], b: tuple[str, float], what: str = "test accuracy",
             classes: int | None = None, source: str | None = None) -> Claim:
    """A reproduced accuracy `a` = (name, accuracy, images scored) against a reported figure `b` = (name, figure):
    "consistent" if the figure lies in the Wilson interval, else "above" or "below" (`statistics.against_reported`).

        reported("search_vs_study", ("best trial here", 0.90, 12_000), ("study's best trial", 0.92))
    """
    (name_a, score_a, n), (name_b, figure) = a, b
    check = statistics.against_reported(float(score_a), int(n), float(figure), classes)
    text = _pair_text(name_a, name_b, float(score_a), float(figure), check.verdict, what)
    if check.verdict not in statistics.NOT_RANKED:
        text += (f": {check.difference_points:+.2f} points; the Wilson 95% interval of a score on {int(n):,} images "
                 f"is {check.interval.percent()}")
    return Claim(name, "reported", text + ".", check.verdict, {name_a: float(score_a), name_b: float(figure)},
                 source=source, extra={"n": int(n), "classes": classes, "what": what})


def unpaired(name: str, a: tuple[str, float, int], b: tuple[str, float, int], what: str = "test accuracy",
             classes: int | None = None, source: str | None = None) -> Claim:
    """Two accuracies on different images, or without per-image results, each (name, accuracy, images): Newcombe's
    interval of the difference (`statistics.unpaired`).

        unpaired("mnist_vs_fashion", ("mnist", 0.82, 10_000), ("fashion_mnist", 0.68, 10_000))
    """
    (name_a, score_a, n_a), (name_b, score_b, n_b) = a, b
    test = statistics.unpaired(float(score_a), int(n_a), float(score_b), int(n_b))
    value = _both_at_chance((score_a, n_a), (score_b, n_b), classes) or test.verdict
    text = _pair_text(name_a, name_b, float(score_a), float(score_b), value, what)
    if value not in statistics.NOT_RANKED:
        text += (f": {test.difference * 100:+.2f} points, 95% interval {test.interval.points()} (Newcombe, treating "
                 f"the scores on {int(n_a):,} and {int(n_b):,} images as independent)")
    return Claim(name, "unpaired", text + ".", value, {name_a: float(score_a), name_b: float(score_b)},
                 source=source, extra={"n_a": int(n_a), "n_b": int(n_b), "classes": classes, "what": what})


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

