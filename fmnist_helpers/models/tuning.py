"""Search spaces for hyperparameter tuning: the `wits` space, the `kh` depth grid and the pack's own space.

A space is a function `space(hp)` that declares its hyperparameters on a Keras Tuner `HyperParameters` object
and returns an uncompiled model, built by the registry's builders (`wits_cnn`, `kh_grid_cnn`, `pack_cnn`). The
space's `Recipe` says how it is trained, with the learning rate a trial chose where the space declares one
(`space_recipe`). `search.SpaceHyperModel` turns a space into the Keras Tuner hypermodel that the strategies
in `search` run. Importing this module loads neither Keras nor Keras Tuner; building a model does.

| space  | model                                   | what is searched                                          |
|--------|-----------------------------------------|-----------------------------------------------------------|
| `wits` | the `wits` baseline CNN                 | the study's 11 hyperparameters, exactly as it gives them  |
| `kh`   | 1-3 conv layers, then a dense layer     | the study's 65 configurations (filters and units rising)  |
| `kh-sample` | the same                           | 10 of them, spread over the depths (for quick runs)       |
| `pack` | the pack's strong CNN (`pack_cnn`)      | block widths, dense units, dropout, learning rate         |
| `pack-wide` | `pack_cnn_wide` and its 28-epoch recipe | the same, no wider than `pack_cnn_wide`              |
| `pack-fast` | `pack_cnn_fast` and its 12-epoch recipe | the same, no wider than `pack_cnn_wide`              |

Usage:
    hp = keras_tuner.HyperParameters()
    model = wits_space(hp)                   # declares the space; the defaults build the study's default model
    recipe = space_recipe(get_space("wits"), hp.values)
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations_with_replacement
from typing import Any, Callable

from fmnist_helpers.models.registry import KH_RECIPE, ModelSpec, Recipe, get_spec, kh_grid_cnn, pack_cnn, wits_cnn

# -- the wits space -----------------------------------------------------------------------------------------

WITS_SPACE: dict[str, dict[str, Any]] = {
    "conv2d_filters": {"values": [16, 32, 64]},
    "conv2d_1_filters": {"values": [16, 32, 64]},
    "dropout": {"min_value": 0.0, "max_value": 0.5, "step": 0.05, "default": 0.25},
    "conv2d_2_filters": {"values": [32, 64, 128]},
    "conv2d_2_activation": {"values": ["relu", "sigmoid"], "default": "relu"},
    "conv2d_3_filters": {"values": [32, 64, 128]},
    "conv2d_3_activation": {"values": ["relu", "sigmoid"], "default": "relu"},
    "dropout_1": {"min_value": 0.0, "max_value": 0.5, "step": 0.05, "default": 0.25},
    "dense_units": {"min_value": 16, "max_value": 128, "step": 16, "default": 64},
    "dropout_2": {"min_value": 0.0, "max_value": 0.5, "step": 0.05, "default": 0.25},
    "learning_rate": {"min_value": 1e-4, "max_value": 1e-2, "sampling": "log", "default": 1e-3},
}
"""The `wits` study's search space, as the study gives it (the study "wits" in notebooks/00_primer.ipynb): names
in the order the model declares them."""


def space_table(space: dict[str, dict[str, Any]]):
    """A readable table of a space: each hyperparameter's values or range, and its default."""
    import pandas as pd

    rows = {}
    for name, spec in space.items():
        if "values" in spec:
            choices, default = ", ".join(map(str, spec["values"])), spec.get("default", spec["values"][0])
        else:
            how = "log-sampled" if spec.get("sampling") == "log" else f"step {spec['step']:g}"
            choices, default = f"{spec['min_value']:g} to {spec['max_value']:g}, {how}", spec["default"]
        rows[name] = {"values": choices, "default": default}
    return pd.DataFrame(rows).T.rename_axis("hyperparameter")


def _declare(hp, name: str, spec: dict[str, Any]):
    if "values" in spec:
        return hp.Choice(name, spec["values"], default=spec.get("default"))
    if isinstance(spec["min_value"], int) and isinstance(spec["max_value"], int):
        return hp.Int(name, **spec)
    return hp.Float(name, **spec)


def wits_space(hp):
    """The registry's `wits_cnn` with every hyperparameter of the study's random search (Keras names the
    convolutions, as in the study's search)."""
    v = {name: _declare(hp, name, spec) for name, spec in WITS_SPACE.items()}
    filters = tuple(v[f"{conv}_filters"] for conv in ("conv2d", "conv2d_1", "conv2d_2", "conv2d_3"))
    return wits_cnn(filters=filters, activations=(v["conv2d_2_activation"], v["conv2d_3_activation"]),
                    dropouts=(v["dropout"], v["dropout_1"], v["dropout_2"]), dense=v["dense_units"],
                    conv_names=(None,) * 4, name="wits_tuned")


# -- the kh depth grid --------------------------------------------------------------------------------------

KH_WIDTHS = (16, 32, 64, 128)


@dataclass(frozen=True)
class KhConfig:
    """One `kh` grid point: the filters of each conv layer and the dense units, never decreasing."""

    filters: tuple[int, ...]
    dense: int

    @property
    def depth(self) -> int:
        return len(self.filters)

    @property
    def label(self) -> str:
        return f"{'-'.join(map(str, self.filters))}/d{self.dense}"

    @classmethod
    def parse(cls, label: str) -> "KhConfig":
        convs, dense = label.split("/d")
        return cls(tuple(int(f) for f in convs.split("-")), int(dense))


def kh_grid(depths: tuple[int, ...] = (1, 2, 3)) -> list[KhConfig]:
    """The `kh` grid: filters per layer and dense units from {16, 32, 64, 128}, non-decreasing.

    That gives the study's counts: 10 one-layer, 20 two-layer and 35 three-layer configurations.
    """
    grid = []
    for depth in depths:
        for widths in combinations_with_replacement(KH_WIDTHS, depth + 1):
            grid.append(KhConfig(tuple(widths[:-1]), widths[-1]))
    return grid


def kh_model(config: KhConfig, dropout: float = 0.5):
    """The registry's `kh_grid_cnn` at one grid point (64-64 with 128 units is the study's best, `kh_cnn_best`)."""
    return kh_grid_cnn(filters=config.filters, dense=config.dense, dropout=dropout,
                       name=f"kh_{config.label.replace('/', '_')}")


def kh_space(hp):
    """The `kh` grid as one categorical hyperparameter, so a grid search visits every configuration once."""
    return kh_model(KhConfig.parse(hp.Choice("config", [c.label for c in kh_grid()])))


KH_SAMPLE = ("16/d16", "32/d64", "64/d128", "16-32/d64", "32-64/d128", "64-64/d128", "16-16-16/d16",
             "32-32-32/d32", "16-64-64/d64", "32-64-128/d128")
"""Ten points of the `kh` grid spread over the three depths, the study's best ones among them (for quick runs)."""


def kh_sample_space(hp):
    """A 10-point sample of the `kh` grid (see `KH_SAMPLE`)."""
    return kh_model(KhConfig.parse(hp.Choice("config", list(KH_SAMPLE))))


# -- the pack's space ---------------------------------------------------------------------------------------

PACK_SPACE: dict[str, dict[str, Any]] = {
    "block1_filters": {"values": [32, 48, 64], "default": 32},
    "block2_filters": {"values": [64, 96, 128], "default": 64},
    "dense_units": {"values": [128, 256, 384], "default": 256},
    "head_dropout": {"min_value": 0.2, "max_value": 0.5, "step": 0.1, "default": 0.3},
    "learning_rate": {"min_value": 1e-3, "max_value": 6e-3, "sampling": "log", "default": 3e-3},
}
"""The pack's space around its strong CNN; the defaults are `pack_cnn` as the registry builds it."""


def _pack_cnn_from(hp, space: dict[str, dict[str, Any]], **fixed: Any):
    """The pack CNN with the widths and head dropout `space` declares on `hp` (its learning rate goes to the
    recipe), and `fixed` passed to `pack_cnn` as it is."""
    v = {name: _declare(hp, name, spec) for name, spec in space.items()}
    return pack_cnn(filters=(v["block1_filters"], v["block2_filters"]), dense=v["dense_units"],
                    head_dropout=v["head_dropout"], name="pack_tuned", **fixed)


def pack_space(hp):
    """The pack's strong CNN with its widths, head dropout and learning rate searched."""
    return _pack_cnn_from(hp, PACK_SPACE)


PACK_WIDE_SPACE: dict[str, dict[str, Any]] = {
    "block1_filters": {"values": [32, 40, 48], "default": 48},
    "block2_filters": {"values": [64, 80, 96], "default": 96},
    "dense_units": {"values": [128, 256, 384], "default": 256},
    "head_dropout": {"min_value": 0.0, "max_value": 0.3, "step": 0.05, "default": 0.15},
    "learning_rate": {"min_value": 1.5e-3, "max_value": 6e-3, "sampling": "log", "default": 3e-3},
}
"""The space around `pack_cnn_wide` (the defaults build it), trained with its short one-cycle recipe. Its widest
point is `pack_cnn_wide`'s, so a winner never costs more per epoch than that model (the dense layer's width adds
little compute); the dropout after the two blocks stays at `pack_cnn_wide`'s 0.05 and 0.1."""


def pack_wide_space(hp):
    """`pack_cnn_wide` with its widths, head dropout and peak learning rate searched."""
    return _pack_cnn_from(hp, PACK_WIDE_SPACE, block_dropout=(0.05, 0.1))


PACK_FAST_SPACE: dict[str, dict[str, Any]] = {  # the wide space's widths and dropouts at pack_cnn_fast's defaults
    **PACK_WIDE_SPACE,
    "block1_filters": {**PACK_WIDE_SPACE["block1_filters"], "default": 32},
    "block2_filters": {**PACK_WIDE_SPACE["block2_filters"], "default": 64},
    "head_dropout": {**PACK_WIDE_SPACE["head_dropout"], "default": 0.0},
    "learning_rate": {"min_value": 2.5e-3, "max_value": 8e-3, "sampling": "log", "default": 5e-3},
}
"""The space around `pack_cnn_fast` (the defaults build it), trained with its 12-epoch one-cycle recipe: the studies
track's `full` search since 2026-12-07. Its widest point is `pack_cnn_wide`'s widths; the blocks keep no dropout, as
in `pack_cnn_fast`, and the head's dropout is searched from none up."""


def pack_fast_space(hp):
    """`pack_cnn_fast` with its widths, head dropout and peak learning rate searched."""
    return _pack_cnn_from(hp, PACK_FAST_SPACE, block_dropout=(0.0, 0.0))


# -- the spaces by name, and a space's models at fixed values -----------------------------------------------


@dataclass(frozen=True)
class Space:
    """A search space with the recipe its models train with (the learning rate comes from the space) and the
    number of classes its models' output layer tells apart."""

    name: str
    build: Callable[[Any], Any]
    recipe: Recipe
    description: str
    num_classes: int = 10
    default_model: str | None = None  # the registry model its defaults build and its recipe trains, if any

SPACES: dict[str, Space] = {
    "wits": Space("wits", wits_space, Recipe("adam", 1e-3, batch_size=32, epochs=10, split="holdout-12000"),
                  "the wits baseline CNN, the study's random-search space"),
    "kh": Space("kh", kh_space, KH_RECIPE,
                "the kh grid: 1-3 conv layers, filters and dense units rising through 16-128"),
    "kh-sample": Space("kh-sample", kh_sample_space, KH_RECIPE, "ten points of the kh grid, three or four per depth"),
    "pack": Space("pack", pack_space, get_spec("pack_cnn").recipe, "the pack's strong CNN, widths and rates",
                  default_model="pack_cnn"),
    "pack-wide": Space("pack-wide", pack_wide_space, get_spec("pack_cnn_wide").recipe,
                       "pack_cnn_wide and its 28-epoch recipe, widths and rates", default_model="pack_cnn_wide"),
    "pack-fast": Space("pack-fast", pack_fast_space, get_spec("pack_cnn_fast").recipe,
                       "pack_cnn_fast and its 12-epoch recipe, widths and rates", default_model="pack_cnn_fast"),
}


PACK_SPACES = ("pack", "pack-wide", "pack-fast")
"""The spaces around the pack's CNN: s05 searches `pack` in smoke and quick, `pack-fast` in full."""


def get_space(name: str) -> Space:
    """The named space; a clear error listing the spaces if it is unknown."""
    if name not in SPACES:
        raise KeyError(f"unknown search space {name!r}; choose one of: {', '.join(SPACES)}")
    return SPACES[name]


def space_recipe(space: Space, values: dict[str, Any], **changes: Any) -> Recipe:
    """The space's recipe with the learning rate a trial chose (and any other changes)."""
    from dataclasses import replace

    lr = values.get("learning_rate", space.recipe.learning_rate)
    return replace(space.recipe, learning_rate=float(lr), **changes)


def build_from_values(space: Space, values: dict[str, Any]):
    """The uncompiled model of `space` at fixed hyperparameter values (e.g. a search's winner)."""
    import keras_tuner as kt

    hp = kt.HyperParameters()
    for name, value in values.items():
        if not name.startswith("tuner/"):
            hp.values[name] = value
    return space.build(hp)


# -- the kh grid's trials, and the winners as registry-style models -----------------------------------------
# (what the studies' searches reported is in `published`: WITS_SEARCH, KH_BY_DEPTH)


def depth_table(trials):
    """The kh grid's trials with the depth, filters and dense units of each configuration as columns."""
    configs = [KhConfig.parse(label) for label in trials["config"]]
    table = trials.assign(depth=[c.depth for c in configs], filters=["-".join(map(str, c.filters)) for c in configs],
                          dense=[c.dense for c in configs])
    return table[["config", "depth", "filters", "dense", "score", *[c for c in ("epochs", "seconds")
                                                                    if c in table]]]


def winner_spec(space: str | Space, values: dict[str, Any], key: str, title: str | None = None,
                **recipe_changes: Any):
    """A model spec (as in the registry) for a search winner, trainable with `training.train_model`.

    Usage:
        spec = winner_spec("wits", result.best_values, "wits_tuned", epochs=20, early_stopping=3)
    """
    space = space if isinstance(space, Space) else get_space(space)
    chosen = {k: v for k, v in values.items() if not k.startswith("tuner/")}
    shown = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in chosen.items())
    return ModelSpec(key, "pack", "cnn", title or f"{space.name} search winner",
                     lambda num_classes=10: build_from_values(space, chosen),
                     space_recipe(space, chosen, **recipe_changes), notes=f"found by search: {shown}")


def pack_tuned_spec(values: dict[str, Any], space: str = "pack"):
    """The pack CNN at the winning values of a search of `space` (one of `PACK_SPACES`), with that space's
    recipe, under the one name s05 and notebook 06 save it by.

    Usage:
        spec = pack_tuned_spec(result.best_values, space=plan.space)     # key "pack_tuned"
    """
    if space not in PACK_SPACES:
        raise ValueError(f"{space!r} is not one of the pack's spaces; choose one of: {', '.join(PACK_SPACES)}")
    return winner_spec(space, values, "pack_tuned", title="pack CNN, tuned")
