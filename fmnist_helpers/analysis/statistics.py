"""The course's statistics: one test for each question the notebooks ask, and one set of verdict words.

| question | function | method |
|---|---|---|
| two models, the same test images, one run each | `paired` / `paired_counts` | McNemar's exact test; seeded paired bootstrap interval |
| two recipes over several seeds | `seed_difference` | per-seed paired differences, Student t-interval; fewer than 3 seeds: no verdict |
| a reproduced score against a reported figure | `against_reported` | Wilson score interval of the reproduced accuracy |
| two scores on different images (or without per-image results) | `unpaired` | Newcombe's hybrid score interval |
| a score near guessing | `chance_label` | Wilson interval against 1 / classes |

Every verdict is one of `VERDICTS`; 00_primer's glossary says what each means. All intervals are 95%.

Usage:
    paired(y_test, ann_pred, cnn_pred).verdict               # "above", "below" or "consistent"
    seed_difference([0.91, 0.90, 0.92], [0.88, 0.89, 0.88]).verdict
    against_reported(0.9012, 10_000, 0.9103).verdict          # "below": 0.9103 is outside the Wilson interval
    chance_label(0.102, 1_000, classes=10)                    # "at chance"
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
"""The level of every interval; a test's verdict uses alpha = 1 - CONFIDENCE."""
MIN_SEEDS = 3
"""Fewer seeds than this give no seed-based verdict: with 2 seeds the t-interval has 1 degree of freedom and is
+-12.7 times the standard error wide."""
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0

ABOVE, BELOW, CONSISTENT = "above", "below", "consistent"
TOO_FEW_SEEDS = "too few seeds to tell"
AT_CHANCE, BELOW_CHANCE = "at chance", "below chance"
VERDICTS = {
    ABOVE: "the first figure is higher, and the 95% interval of the difference (or of the reproduced score) lies "
           "wholly above the other figure: beyond what sampling alone explains",
    BELOW: "the first figure is lower, and the interval lies wholly below the other figure",
    CONSISTENT: "the interval includes the other figure (a difference of zero): the data cannot tell the two apart; "
                "this is not a proof that they are equal",
    TOO_FEW_SEEDS: f"a comparison over seeds with fewer than {MIN_SEEDS}: the spread between seeds cannot be "
                   "estimated well enough to judge, so no ranking is given",
    AT_CHANCE: "the score's interval includes 1 / classes, the accuracy of guessing: the model is not ranked",
    BELOW_CHANCE: "the score's interval lies below 1 / classes: worse than guessing, so not ranked either",
}
"""Every verdict word the course prints, with its meaning (the glossary's text)."""
NOT_RANKED = (AT_CHANCE, BELOW_CHANCE)


@dataclass(frozen=True)
class Interval:
    """A confidence interval [low, high] (fractions for accuracies and their differences)."""
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def verdict(self, other: float = 0.0) -> str:
        """ABOVE if the interval lies above `other`, BELOW if below, else CONSISTENT."""
        return ABOVE if self.low > other else BELOW if self.high < other else CONSISTENT

    def points(self) -> str:
        """The interval in accuracy points, e.g. "[+0.12, +1.30] points"."""
        return f"[{self.low * 100:+.2f}, {self.high * 100:+.2f}] points"

    def percent(self) -> str:
        """The interval of an accuracy, e.g. "[89.43%, 90.61%]"."""
        return f"[{self.low:.2%}, {self.high:.2%}]"


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def _count(accuracy: float, n: int) -> int:
    """The number of correct images behind an accuracy on `n` images."""
    if n <= 0:
        raise ValueError(f"n must be a positive number of images, got {n}")
    if not 0 <= accuracy <= 1:
        raise ValueError(f"an accuracy must lie in [0, 1], got {accuracy!r}")
    return int(round(accuracy * n))


def wilson_interval(correct: int, n: int, confidence: float = CONFIDENCE) -> Interval:
    """The Wilson score interval of a proportion `correct / n`.

    Assumes the `n` images are independent draws and each is right with one probability. Unlike the
    p +- 2 SE interval, it stays inside [0, 1] and keeps its coverage near 0 and 1.

    Usage:
        wilson_interval(9_012, 10_000)   # Interval(low=0.8953..., high=0.9069...)
    """
    if n <= 0 or not 0 <= correct <= n:
        raise ValueError(f"need 0 <= correct <= n and n > 0, got correct={correct}, n={n}")
    z, p = _z(confidence), correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def accuracy_interval(accuracy: float, n: int, confidence: float = CONFIDENCE) -> Interval:
    """`wilson_interval` of an accuracy measured on `n` images (rounded to a whole number of correct images)."""
    return wilson_interval(_count(accuracy, n), n, confidence)


def chance_label(accuracy: float, n: int, classes: int = 10) -> str | None:
    """AT_CHANCE if the accuracy's Wilson interval includes 1 / `classes`, BELOW_CHANCE if it lies below, else None.

    Assumes balanced classes, so that guessing scores 1 / classes. A labelled result is never ranked.

    Usage:
        chance_label(0.102, 1_000)   # "at chance"
    """
    interval, chance = accuracy_interval(accuracy, n), 1 / classes
    return AT_CHANCE if interval.contains(chance) else BELOW_CHANCE if interval.high < chance else None


# ----------------------------------------------------------------- a reproduction against a reported figure

@dataclass(frozen=True)
class Reproduction:
    """A reproduced accuracy on `n` images, its Wilson interval, the reported figure and the verdict."""
    accuracy: float
    n: int
    reported: float
    interval: Interval
    verdict: str

    @property
    def difference_points(self) -> float:
        return (self.accuracy - self.reported) * 100


def against_reported(accuracy: float, n: int, reported: float, classes: int | None = None,
                     confidence: float = CONFIDENCE) -> Reproduction:
    """CONSISTENT if the reported figure lies inside the Wilson interval of the reproduced accuracy, else ABOVE or
    BELOW (the reproduction is higher or lower); AT_CHANCE / BELOW_CHANCE first when `classes` is given.

    Assumes the reported figure is a fixed number (its own sampling error is unknown, so the test is generous to
    neither side) and that the reproduction is scored on `n` independent images.

    Usage:
        against_reported(0.9012, 10_000, 0.9103).verdict   # "below"
    """
    interval = accuracy_interval(accuracy, n, confidence)
    word = chance_label(accuracy, n, classes) if classes else None
    return Reproduction(float(accuracy), int(n), float(reported), interval, word or interval.verdict(reported))


# ----------------------------------------------------------------- two models on the same images

EXACT_BELOW = 25
"""`mcnemar` with `exact=None` is exact (binomial) when fewer than this many images are disagreements."""


@dataclass(frozen=True)
class McNemar:
    """McNemar's test of two classifiers on the same images.

    `only_a` counts images model A gets right and model B wrong; `only_b` the reverse. Images both get right or
    both get wrong say nothing about which is better and are left out.
    """

    only_a: int
    only_b: int
    statistic: float  # the chi-square statistic (continuity-corrected), or the smaller count when exact
    p_value: float
    method: str  # "exact" or "chi-square"

    @property
    def disagreements(self) -> int:
        return self.only_a + self.only_b

    def significant(self, alpha: float = 1 - CONFIDENCE) -> bool:
        return self.p_value < alpha


def _binomial_two_sided(k: int, n: int) -> float:
    """P(X <= min(k, n-k)) * 2 for X ~ Binomial(n, 1/2), capped at 1: the exact McNemar p-value."""
    if n == 0:
        return 1.0
    return min(1.0, 2 * float(stats.binom.cdf(min(k, n - k), n, 0.5)))


def _right(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true, pred_a, pred_b = np.asarray(y_true), np.asarray(pred_a), np.asarray(pred_b)
    if not (y_true.shape == pred_a.shape == pred_b.shape) or y_true.ndim != 1:
        raise ValueError(f"y_true, pred_a and pred_b must be 1-D arrays of one length, got {y_true.shape}, "
                         f"{pred_a.shape} and {pred_b.shape}")
    return pred_a == y_true, pred_b == y_true


def mcnemar(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, exact: bool | None = None) -> McNemar:
    """McNemar's test of whether models A and B differ in accuracy on the same test images.

    `exact=None` uses the exact binomial test when there are fewer than `EXACT_BELOW` disagreements, else the
    chi-square test with continuity correction, (|b - c| - 1)^2 / (b + c) on one degree of freedom. Verdicts
    (`paired`) always use the exact test.

    Usage:
        test = mcnemar(ds.y_test, ann.test_predictions, cnn.test_predictions)
        test.only_a, test.only_b, test.p_value
    """
    right_a, right_b = _right(y_true, pred_a, pred_b)
    return mcnemar_counts(int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b)), exact)


def mcnemar_counts(b: int, c: int, exact: bool | None = None) -> McNemar:
    """McNemar's test from its two counts: `b` images only model A gets right, `c` only model B (see `mcnemar`).

    Usage:
        mcnemar_counts(120, 60).p_value
    """
    n = b + c
    if exact is None:
        exact = n < EXACT_BELOW
    if exact:
        return McNemar(b, c, float(min(b, c)), _binomial_two_sided(b, n), "exact")
    stat = (abs(b - c) - 1) ** 2 / n if n else 0.0
    return McNemar(b, c, float(stat), math.erfc(math.sqrt(stat / 2)), "chi-square")


def mcnemar_sentence(test: McNemar, name_a: str, name_b: str, alpha: float = 1 - CONFIDENCE) -> str:
    """One plain sentence: the two counts, the p-value and the verdict word for `name_a` against `name_b`."""
    lead = (f"{name_a} alone is right on {test.only_a:,} images, {name_b} alone on {test.only_b:,}; if the two were "
            f"equally accurate, a split at least this lopsided would have probability p = {test.p_value:.2g} "
            f"(McNemar, {test.method}): ")
    if not test.significant(alpha):
        return lead + f"{name_a} is {CONSISTENT} with {name_b} at the {alpha:.0%} level (no difference shown)."
    word = ABOVE if test.only_a > test.only_b else BELOW
    return lead + f"{name_a} is {word} {name_b} at the {alpha:.0%} level."


@dataclass(frozen=True)
class PairedComparison:
    """Two models scored on the same `n` images: the exact McNemar test and an interval of A's accuracy minus B's."""
    only_a: int
    only_b: int
    n: int
    p_value: float
    interval: Interval
    verdict: str

    @property
    def difference(self) -> float:
        """A's accuracy minus B's, as a fraction."""
        return (self.only_a - self.only_b) / self.n


def paired_bootstrap_interval(only_a: int, only_b: int, n: int, confidence: float = CONFIDENCE,
                              resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> Interval:
    """Percentile interval of A's accuracy minus B's from a paired bootstrap of the `n` images.

    Resampling images with replacement and recounting the two kinds of disagreement is a draw of
    (only_a, only_b, rest) from a multinomial with the observed shares, so the bootstrap is done on the counts;
    the fixed `seed` makes the interval the same on every run.
    """
    if n <= 0 or only_a < 0 or only_b < 0 or only_a + only_b > n:
        raise ValueError(f"need 0 <= only_a + only_b <= n, got only_a={only_a}, only_b={only_b}, n={n}")
    shares = [only_a / n, only_b / n, (n - only_a - only_b) / n]
    draws = np.random.default_rng(seed).multinomial(n, shares, size=resamples)
    diffs = (draws[:, 0] - draws[:, 1]) / n
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return Interval(float(low), float(high))


def paired_counts(only_a: int, only_b: int, n: int, confidence: float = CONFIDENCE) -> PairedComparison:
    """`paired` from the two disagreement counts and the number of images.

    Usage:
        paired_counts(120, 60, 10_000).verdict   # "above"
    """
    p = _binomial_two_sided(only_a, only_a + only_b)
    interval = paired_bootstrap_interval(only_a, only_b, n, confidence)
    verdict = CONSISTENT if p >= 1 - confidence else ABOVE if only_a > only_b else BELOW
    return PairedComparison(int(only_a), int(only_b), int(n), p, interval, verdict)


def paired(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray,
           confidence: float = CONFIDENCE) -> PairedComparison:
    """Model A against model B on the same images, one trained model each.

    The verdict is McNemar's exact test at alpha = 1 - confidence: ABOVE or BELOW when p < alpha, else
    CONSISTENT. It assumes the images are independent and both models were fixed before seeing them; it says
    nothing about another seed of either recipe (use `seed_difference` for that). The interval of the accuracy
    difference is a seeded paired bootstrap (`paired_bootstrap_interval`), chosen over an exact interval because
    the difference of two correlated proportions has no exact interval in SciPy and the bootstrap keeps the
    pairing without a normal approximation; it is shown beside the verdict and does not set it.

    Usage:
        paired(ds.y_test, ann_pred, cnn_pred).interval.points()
    """
    right_a, right_b = _right(y_true, pred_a, pred_b)
    return paired_counts(int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b)), len(right_a),
                         confidence)


# ----------------------------------------------------------------- two recipes over seeds

@dataclass(frozen=True)
class SeedComparison:
    """Per-seed differences (A minus B, fractions), their mean and t-interval (None with one seed), the verdict."""
    differences: tuple[float, ...]
    mean: float
    interval: Interval | None
    verdict: str

    @property
    def seeds(self) -> int:
        return len(self.differences)


def seed_difference(scores_a: Sequence[float], scores_b: Sequence[float],
                    confidence: float = CONFIDENCE) -> SeedComparison:
    """Recipe A against recipe B over seeds: the differences seed by seed, with a Student t-interval of their mean.

    `scores_a[i]` and `scores_b[i]` must come from the same seed (and the same test images). Assumes the per-seed
    differences are independent draws from a roughly normal distribution. With fewer than `MIN_SEEDS` seeds the
    verdict is TOO_FEW_SEEDS whatever the numbers (the interval, if any, is still returned: with 2 seeds it is
    +-12.7 standard errors wide); otherwise ABOVE, BELOW or CONSISTENT from the interval.

    Usage:
        seed_difference([0.91, 0.90, 0.92], [0.88, 0.89, 0.88]).interval.points()
    """
    a, b = np.asarray(scores_a, dtype=float), np.asarray(scores_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a - b)):
        raise ValueError(f"need two equal-length, non-empty lists of finite scores, got {scores_a!r} and {scores_b!r}")
    diffs = a - b
    mean = float(diffs.mean())
    interval = None
    if diffs.size > 1:
        half = float(stats.t.ppf(0.5 + confidence / 2, diffs.size - 1) * diffs.std(ddof=1) / math.sqrt(diffs.size))
        interval = Interval(mean - half, mean + half)
    verdict = TOO_FEW_SEEDS if diffs.size < MIN_SEEDS else interval.verdict(0.0)
    return SeedComparison(tuple(float(d) for d in diffs), mean, interval, verdict)


# ----------------------------------------------------------------- two scores on different images

@dataclass(frozen=True)
class UnpairedComparison:
    """Two accuracies on separate images: A minus B, Newcombe's interval of it, the verdict."""
    difference: float
    interval: Interval
    verdict: str


def unpaired(accuracy_a: float, n_a: int, accuracy_b: float, n_b: int,
             confidence: float = CONFIDENCE) -> UnpairedComparison:
    """A's accuracy minus B's when the two were scored on different images (or their per-image results are not
    at hand): Newcombe's hybrid score interval, built from the two Wilson intervals.

    Assumes the two scores are independent. On the same images they are positively correlated, and then this
    interval is wider than the paired one: a CONSISTENT here may be ABOVE or BELOW under `paired`.

    Usage:
        unpaired(0.82, 10_000, 0.97, 10_000).verdict   # "below"
    """
    a, b = accuracy_interval(accuracy_a, n_a, confidence), accuracy_interval(accuracy_b, n_b, confidence)
    pa, pb = _count(accuracy_a, n_a) / n_a, _count(accuracy_b, n_b) / n_b
    d = pa - pb
    low = d - math.sqrt((pa - a.low) ** 2 + (b.high - pb) ** 2)
    high = d + math.sqrt((a.high - pa) ** 2 + (pb - b.low) ** 2)
    interval = Interval(low, high)
    return UnpairedComparison(d, interval, interval.verdict(0.0))
