"""The registry: the studies' parameter counts, their recipes, and clear errors for bad settings; the studies'
published figures, kept in one module."""
import ast
import inspect

import numpy as np
import pytest

from fmnist_helpers.models import published, registry as models
from fmnist_helpers.training.precision import precision_policy

REPORTED = {spec.key: spec.reported_params for spec in models.MODELS.values() if spec.reported_params}


@pytest.mark.parametrize("key", sorted(REPORTED))
def test_model_has_the_parameter_count_its_study_reports(key):
    assert models.build_model(key).count_params() == REPORTED[key]


# ----------------------------------------------------------------- published figures: one home

@pytest.mark.parametrize("key", sorted(models.MODELS))
def test_a_registry_model_carries_the_figures_published_for_it(key):
    spec = models.get_spec(key)
    assert spec.reported == published.REPORTED.get(key, {})
    assert spec.reported_params == published.REPORTED_PARAMS.get(key)


def test_every_published_model_figure_belongs_to_a_study_model_of_the_registry():
    studies = {spec.key for spec in models.MODELS.values() if spec.study != "pack"}
    assert set(published.REPORTED) == studies
    assert set(published.REPORTED_PARAMS) <= studies
    assert {models.get_spec(key).study for key in published.REPORTED} == set(published.STUDIES)


def test_the_kh_table_holds_the_kh_models_figures():
    ann, cnn = published.REPORTED["kh_ann"], published.REPORTED["kh_cnn_best"]
    assert published.KH_TABLE == {"MNIST": {"ANN": ann["mnist_test_accuracy"], "CNN": cnn["mnist_test_accuracy"]},
                                  "Fashion-MNIST": {"ANN": ann["test_accuracy"], "CNN": cnn["test_accuracy"]}}


def test_the_published_figures_import_nothing_of_the_package():
    tree = ast.parse(inspect.getsource(published))
    imported = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    assert imported == ["__future__"]


def test_the_published_figures_are_reached_by_their_short_name():
    import fmnist_helpers

    assert fmnist_helpers.published is published


@pytest.mark.parametrize("key", sorted(models.MODELS))
def test_every_model_maps_an_image_batch_to_ten_scores(key):
    out = models.build_model(key)(np.zeros((2, 28, 28, 1), dtype="float32"), training=False)
    assert tuple(out.shape) == (2, 10)


def test_output_layer_stays_float32_under_mixed_precision():
    with precision_policy("mixed_bfloat16"):
        model = models.build_model("wits_cnn")
    assert model.layers[0].compute_dtype == "bfloat16"
    assert model.get_layer("output").compute_dtype == "float32"


def test_kh_cnn_feature_maps_follow_the_studys_shape_arithmetic():
    table = models.layer_table(models.build_model("kh_cnn"))
    sides = [int(s.strip("()").split(",")[0]) for s, t in zip(table["output shape"], table["type"])
             if t in ("Conv2D", "MaxPooling2D")]
    assert sides == [26, 13, 11, 5, 3]


def test_recipes_carry_the_studies_settings():
    assert models.get_spec("kh_ann").recipe.optimizer == "rmsprop"
    assert models.get_spec("kh_ann").recipe.batch_size == 64
    assert models.get_spec("uw_mlp").recipe.learning_rate == 1e-4
    assert models.get_spec("uw_cnn").recipe.epochs == 10
    assert models.get_spec("bu_cnn").recipe.batch_size == 1000
    assert models.get_spec("aueb_mlp2").recipe.early_stopping == 10


def test_unknown_model_key_lists_the_registry():
    with pytest.raises(KeyError, match="wits_cnn"):
        models.get_spec("resnet")


def test_with_recipe_changes_one_setting_and_keeps_the_rest():
    spec = models.with_recipe(models.get_spec("aueb_mlp2"), batch_size=128, optimizer="sgd", learning_rate=0.1)
    assert (spec.recipe.batch_size, spec.recipe.optimizer, spec.recipe.learning_rate) == (128, "sgd", 0.1)
    assert spec.recipe.early_stopping == 10
    assert models.get_spec("aueb_mlp2").recipe.batch_size == 512  # the registry is untouched


@pytest.mark.parametrize("change, message", [
    ({"optimizer": "adagrad"}, "adam"), ({"split": "random"}, "holdout-12000"), ({"batch_size": 0}, "positive"),
    ({"learning_rate": 5.0}, "learning_rate"), ({"schedule": "step"}, "one-cycle"), ({"colour": 1}, "accepted"),
])
def test_with_recipe_rejects_bad_settings_and_says_what_is_accepted(change, message):
    with pytest.raises(ValueError, match=message):
        models.with_recipe(models.get_spec("wits_cnn"), **change)


def test_warmup_cosine_rises_to_the_peak_then_decays():
    recipe = models.get_spec("pack_cnn").recipe
    schedule = models.make_optimizer(recipe, steps_per_epoch=10, epochs=10)._learning_rate
    start, peak, end = (float(schedule(step)) for step in (0, 20, 100))
    assert start == pytest.approx(recipe.learning_rate * 0.1)
    assert peak == pytest.approx(recipe.learning_rate)  # after two warm-up epochs
    assert end < start


def test_pack_cnn_can_normalise_after_every_convolution_instead_of_after_pooling():
    import keras

    layers = models.pack_cnn(norm_every_conv=True).layers
    convs = [i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 4
    assert all(isinstance(layers[i + 1], keras.layers.BatchNormalization) for i in convs)
    assert all(not layers[i].use_bias for i in convs)  # the batch norm's shift replaces the bias
    default = models.pack_cnn().layers
    assert not any(isinstance(default[i + 1], keras.layers.BatchNormalization)
                   for i, layer in enumerate(default) if isinstance(layer, keras.layers.Conv2D))


def test_one_cycle_rises_for_30_percent_of_the_steps_then_decays_nearly_to_zero():
    recipe = models.Recipe("adamw", 4e-3, schedule="one-cycle", epochs=10)
    schedule = models.make_optimizer(recipe, steps_per_epoch=10, epochs=10)._learning_rate
    start, before, peak, end = (float(schedule(step)) for step in (0, 15, 30, 100))
    assert start == pytest.approx(4e-3 / 25)
    assert start < before < peak == pytest.approx(4e-3)
    assert end == pytest.approx(4e-6, rel=1e-3)


def test_label_smoothing_and_one_hot_use_the_categorical_loss():
    assert models.uses_one_hot(models.get_spec("kh_ann").recipe)
    assert models.uses_one_hot(models.Recipe(label_smoothing=0.1))
    assert not models.uses_one_hot(models.get_spec("wits_cnn").recipe)


def test_bu_model_ends_in_logits_and_its_loss_knows_it():
    spec = models.get_spec("bu_cnn")
    assert spec.recipe.from_logits
    assert models.make_loss(spec.recipe).get_config()["from_logits"] is True


def test_bu_batch_norm_uses_pytorchs_running_statistics_momentum():
    import keras

    norms = [layer for layer in models.build_model("bu_cnn").layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 2 and all(layer.momentum == 0.9 for layer in norms)


def test_a_setting_added_later_leaves_the_recipe_dict_of_older_runs_unchanged():
    recipe = models.get_spec("pack_cnn").recipe
    assert "shift_tta" not in recipe.as_dict()
    assert models.with_recipe(models.get_spec("pack_cnn"), shift_tta=True).recipe.as_dict()["shift_tta"] is True


def test_a_recipe_refuses_an_erasing_chance_outside_zero_to_one():
    with pytest.raises(ValueError, match="erase must lie in"):
        models.with_recipe(models.get_spec("pack_cnn"), erase=2.0)
