"""Run profiles and the validation of notebook parameters.

A profile sets how much work a notebook does:
- `smoke`: CI; seconds per notebook, tiny subsets, one epoch.
- `quick`: a laptop demo; minutes for the whole course.
- `full`: the studies' settings on the full data.

Papermill only warns about a bad parameter; these checks stop the notebook with an error that says
what was wrong and what is accepted. The default profile comes from `$FMNIST_PROFILE` (nbval cannot
inject parameters, so CI sets it there), else `quick`. A parameter whose default depends on the profile
is None in the notebook, and only None means "the default": 0, "" or False are values, and checked.

Usage:
    profile = get_profile(None)           # $FMNIST_PROFILE or "quick"
    check_int("seed", 42, 0, 2**31 - 1)
    n_seeds = resolve_int("n_seeds", None, 1, 20, default=2)                         # 2
    grid_size = resolve_choice("grid_size", None, ["full", "slice"], default="slice")  # "slice"
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any, Sequence

from fmnist_helpers.base import settings

PROFILE_ENV = settings.PROFILE.name
DEFAULT_PROFILE = "quick"
RESERVED_PARAMS = frozenset({"profile", "output_dir"})
INT_PARAMETERS: dict[str, tuple[int, int]] = {
    "val_size": (1_000, 30_000), "n_folds": (2, 10), "batch_size": (1, 4_096)}
"""A notebook's own integer parameters and their accepted ranges (notebook 02's): `start_notebook` checks each
one it is given before anything is written, so the notebook's page need not."""
"""Parameters the course runner sets itself (`--profile`, `--output-dir`): refused with `-p`, and left out of a
notebook's own parameters in the report."""


class ParameterError(ValueError):
    """A notebook parameter has a value outside what the notebook accepts."""


@dataclass(frozen=True)
class Profile:
    """How much work each notebook does in one profile."""

    name: str
    description: str
    train_subset: int | None  # training images used by model notebooks (None: all)
    max_epochs: int  # an upper bound on epochs for any training run
    embedding_points: int  # images embedded by t-SNE in notebook 01
    augment_examples: int  # images shown in augmentation grids

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", "CI check: tiny subsets, 1 epoch, seconds per notebook",
                     train_subset=2_000, max_epochs=1, embedding_points=300, augment_examples=4),
    "quick": Profile("quick", "laptop demo: subsets and few epochs, minutes for the course",
                     train_subset=12_000, max_epochs=5, embedding_points=1_500, augment_examples=6),
    "full": Profile("full", "the studies' settings on the full data",
                    train_subset=None, max_epochs=100, embedding_points=5_000, augment_examples=8),
}


def check_choice(name: str, value: Any, accepted: Sequence[Any]) -> Any:
    """Return `value` if it is one of `accepted`, else raise a ParameterError listing them."""
    if value not in accepted:
        raise ParameterError(f"parameter {name}={value!r} is not accepted; choose one of: "
                             f"{', '.join(map(repr, accepted))}")
    return value


def check_int(name: str, value: Any, low: int, high: int) -> int:
    """Return `value` if it is an integer in [low, high], else raise a ParameterError."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ParameterError(f"parameter {name}={value!r} is not accepted; it must be an integer "
                             f"from {low:,} to {high:,}")
    return value


def check_float(name: str, value: Any, low: float, high: float) -> float:
    """Return `value` as float if it is a number in [low, high], else raise a ParameterError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ParameterError(f"parameter {name}={value!r} is not accepted; it must be a number "
                             f"from {low} to {high}")
    return float(value)


def resolve_int(name: str, value: Any, low: int, high: int, default: int) -> int:
    """`default` when `value` is None, else `value` if it is an integer in [low, high] (else a ParameterError)."""
    return check_int(name, default if value is None else value, low, high)


def resolve_choice(name: str, value: Any, accepted: Sequence[Any], default: Any) -> Any:
    """`default` when `value` is None, else `value` if it is one of `accepted` (else a ParameterError)."""
    return check_choice(name, default if value is None else value, accepted)


def get_profile(name: str | None = None) -> Profile:
    """The named profile; None means `$FMNIST_PROFILE`, else the default (`quick`)."""
    if name is None:
        name = os.environ.get(PROFILE_ENV) or DEFAULT_PROFILE
        source = f" (from ${PROFILE_ENV})" if os.environ.get(PROFILE_ENV) else ""
    else:
        source = ""
    if name not in PROFILES:
        raise ParameterError(f"profile {name!r}{source} is not accepted; choose one of: "
                             f"{', '.join(map(repr, PROFILES))}")
    return PROFILES[name]
