"""The models layer: the registry of every study's and the pack's models with their recipes (`registry`), every
figure the studies published (`published`) and the search spaces built from them (`tuning`). Keras is imported
only when a model is built.

Usage:
    from fmnist_helpers import models
    model = models.build_model("wits_cnn")
    models.get_spec("wits_cnn").recipe.epochs
"""
from fmnist_helpers.models.registry import (
    MODELS, OPTIMIZERS, SPLITS, ModelSpec, Recipe, architecture_differences, build_model, check_recipe,
    compile_model, get_spec, kh_grid_cnn, layer_table, make_loss, make_optimizer, pack_cnn, study_models,
    uses_one_hot, wits_cnn, with_recipe,
)

__all__ = [
    "MODELS", "OPTIMIZERS", "SPLITS", "ModelSpec", "Recipe", "architecture_differences", "build_model",
    "check_recipe", "compile_model", "get_spec", "kh_grid_cnn", "layer_table", "make_loss", "make_optimizer",
    "pack_cnn", "study_models", "uses_one_hot", "wits_cnn", "with_recipe",
]
