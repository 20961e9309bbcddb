"""Search spaces: the wits space is the study's, the kh grid has the study's shape, the pack spaces are pack_cnn
and pack_cnn_wide."""
import keras_tuner as kt
import pytest

import subprocess
import sys

from fmnist_helpers.models import registry as models
from fmnist_helpers.models import tuning
from fmnist_helpers.training import search
from fmnist_helpers.training.store import architecture_signature


def _declared(space) -> dict:
    hp = kt.HyperParameters()
    space(hp)
    return {p.name: p.get_config() for p in hp.space}


def test_wits_space_declares_exactly_the_studys_hyperparameters():
    assert list(_declared(tuning.wits_space)) == list(tuning.WITS_SPACE)


@pytest.mark.parametrize("name", ["conv2d_filters", "conv2d_1_filters"])
def test_wits_first_block_filters_choose_from_16_32_64(name):
    assert _declared(tuning.wits_space)[name]["values"] == [16, 32, 64]


@pytest.mark.parametrize("name", ["conv2d_2_filters", "conv2d_3_filters"])
def test_wits_second_block_filters_choose_from_32_64_128(name):
    assert _declared(tuning.wits_space)[name]["values"] == [32, 64, 128]


@pytest.mark.parametrize("name", ["conv2d_2_activation", "conv2d_3_activation"])
def test_wits_second_block_activations_are_relu_or_sigmoid_defaulting_to_relu(name):
    config = _declared(tuning.wits_space)[name]
    assert config["values"] == ["relu", "sigmoid"] and config["default"] == "relu"


@pytest.mark.parametrize("name", ["dropout", "dropout_1", "dropout_2"])
def test_wits_dropout_rates_span_0_to_half_in_steps_of_005_defaulting_to_025(name):
    config = _declared(tuning.wits_space)[name]
    assert (config["min_value"], config["max_value"], config["step"], config["default"]) == (0.0, 0.5, 0.05, 0.25)


def test_wits_dense_units_span_16_to_128_in_steps_of_16_defaulting_to_64():
    config = _declared(tuning.wits_space)["dense_units"]
    assert (config["min_value"], config["max_value"], config["step"], config["default"]) == (16, 128, 16, 64)


def test_wits_learning_rate_is_log_sampled_from_1e4_to_1e2_defaulting_to_1e3():
    config = _declared(tuning.wits_space)["learning_rate"]
    assert (config["min_value"], config["max_value"], config["sampling"], config["default"]) == (1e-4, 1e-2, "log", 1e-3)


def test_wits_space_at_the_baselines_values_is_the_baseline_cnn():
    baseline = {"conv2d_filters": 16, "conv2d_1_filters": 16, "conv2d_2_filters": 32, "conv2d_3_filters": 32,
                "dropout": 0.5, "dropout_1": 0.3, "dropout_2": 0.2, "dense_units": 128}
    model = tuning.build_from_values(tuning.get_space("wits"), baseline)
    assert model.count_params() == 83_322
    assert architecture_signature(model) == architecture_signature(models.build_model("wits_cnn"))


def test_kh_grid_has_the_studys_10_20_and_35_configurations_by_depth():
    grid = tuning.kh_grid()
    assert [sum(c.depth == d for c in grid) for d in (1, 2, 3)] == [10, 20, 35]
    assert all(list(c.filters) + [c.dense] == sorted(list(c.filters) + [c.dense]) for c in grid)


def test_kh_grid_contains_the_studys_best_configurations():
    labels = {c.label for c in tuning.kh_grid()}
    assert {"64-64/d128", "16-64-64/d64"} <= labels


def test_kh_best_grid_model_has_the_reported_1030218_parameters():
    assert tuning.kh_model(tuning.KhConfig((64, 64), 128)).count_params() == 1_030_218


def test_kh_best_grid_model_is_the_registrys_kh_cnn_best():
    best = tuning.kh_model(tuning.KhConfig((64, 64), 128))
    assert architecture_signature(best) == architecture_signature(models.build_model("kh_cnn_best"))


def test_the_wits_space_lets_keras_name_its_convolutions_where_the_registry_fixes_their_names():
    first, second = (tuning.wits_space(kt.HyperParameters()).layers[0].name for _ in range(2))
    fixed = {models.build_model("wits_cnn").layers[0].name for _ in range(2)}
    assert first != second and fixed == {"conv2d"}


def test_importing_the_search_spaces_leaves_tensorflow_and_keras_tuner_unloaded():
    code = ("import sys, fmnist_helpers.models.tuning; "
            "print(sorted({'tensorflow', 'keras', 'keras_tuner'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_kh_config_label_round_trips():
    config = tuning.KhConfig((16, 32, 32), 64)
    assert tuning.KhConfig.parse(config.label) == config


def test_pack_space_defaults_build_the_registry_pack_cnn():
    hp = kt.HyperParameters()
    default = tuning.pack_space(hp)
    assert architecture_signature(default) == architecture_signature(models.build_model("pack_cnn"))


def test_pack_wide_space_defaults_build_the_registry_pack_cnn_wide():
    hp = kt.HyperParameters()
    default = tuning.pack_wide_space(hp)
    assert architecture_signature(default) == architecture_signature(models.build_model("pack_cnn_wide"))


def test_pack_fast_space_defaults_build_the_registry_pack_cnn_fast():
    hp = kt.HyperParameters()
    default = tuning.pack_fast_space(hp)
    assert architecture_signature(default) == architecture_signature(models.build_model("pack_cnn_fast"))


@pytest.mark.parametrize("space", [tuning.PACK_WIDE_SPACE, tuning.PACK_FAST_SPACE])
def test_no_point_of_the_spaces_full_searches_is_wider_than_pack_cnn_wide(space):
    widest = {name: max(space[name]["values"]) for name in ("block1_filters", "block2_filters")}
    assert widest == {"block1_filters": 48, "block2_filters": 96}


@pytest.mark.parametrize("name", tuning.PACK_SPACES)
def test_a_pack_space_trains_with_the_recipe_of_the_model_its_defaults_build(name):
    space = tuning.get_space(name)
    assert space.recipe == models.get_spec(space.default_model).recipe


def test_the_tuned_pack_cnn_takes_the_recipe_of_the_space_it_was_found_in():
    values = {"block1_filters": 40, "block2_filters": 80, "dense_units": 128, "head_dropout": 0.1,
              "learning_rate": 0.004}
    wide, plain = tuning.pack_tuned_spec(values, space="pack-wide"), tuning.pack_tuned_spec(values)
    assert (wide.recipe.epochs, wide.recipe.schedule, wide.recipe.learning_rate) == (28, "one-cycle", 0.004)
    assert (plain.recipe.epochs, plain.recipe.schedule) == (20, "warmup-cosine")
    assert wide.key == plain.key == "pack_tuned"


def test_a_tuned_pack_cnn_from_a_space_not_around_the_pack_cnn_is_refused():
    with pytest.raises(ValueError, match="'wits' is not one of the pack's spaces; choose one of: pack, pack-wide, pack-fast"):
        tuning.pack_tuned_spec({}, space="wits")


def test_the_full_profile_searches_around_pack_cnn_fast_and_the_others_around_pack_cnn():
    spaces = {profile: search.profile_plan("pack", profile).space for profile in ("smoke", "quick", "full")}
    assert spaces == {"smoke": "pack", "quick": "pack", "full": "pack-fast"}


def test_hypermodel_compiles_with_the_trials_learning_rate():
    hypermodel = search.SpaceHyperModel("wits", steps_per_epoch=10)
    hp = kt.HyperParameters()
    hp.values["learning_rate"] = 0.00231
    model = hypermodel.build(hp)
    assert model.optimizer.learning_rate.numpy() == pytest.approx(0.00231)


def test_an_unknown_space_is_refused_with_the_list():
    with pytest.raises(KeyError, match="wits, kh, kh-sample, pack"):
        tuning.get_space("vgg")


def test_kh_sample_is_part_of_the_grid_and_covers_every_depth():
    grid = {c.label for c in tuning.kh_grid()}
    sample = [tuning.KhConfig.parse(label) for label in tuning.KH_SAMPLE]
    assert set(tuning.KH_SAMPLE) <= grid
    assert all(sum(c.depth == d for c in sample) >= 3 for d in (1, 2, 3))


def test_space_table_shows_each_range_and_default():
    table = tuning.space_table(tuning.WITS_SPACE)
    assert table.loc["learning_rate", "values"] == "0.0001 to 0.01, log-sampled"
    assert table.loc["conv2d_filters", "default"] == 16 and table.loc["dropout", "values"] == "0 to 0.5, step 0.05"
