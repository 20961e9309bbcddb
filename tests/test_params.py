import pytest

from fmnist_helpers.base.params import PROFILE_ENV, ParameterError, check_choice, check_float, check_int, get_profile


def test_profile_defaults_to_the_environment_then_quick(monkeypatch):
    monkeypatch.delenv(PROFILE_ENV, raising=False)
    assert get_profile(None).name == "quick"
    monkeypatch.setenv(PROFILE_ENV, "smoke")
    assert get_profile(None).name == "smoke"
    assert get_profile("full").name == "full"


def test_unknown_profile_lists_the_accepted_ones(monkeypatch):
    with pytest.raises(ParameterError, match="profile 'fast' is not accepted; choose one of: 'smoke', 'quick', 'full'"):
        get_profile("fast")
    monkeypatch.setenv(PROFILE_ENV, "turbo")
    with pytest.raises(ParameterError, match=r"'turbo' \(from \$FMNIST_PROFILE\)"):
        get_profile(None)


def test_profiles_grow_from_smoke_to_full():
    smoke, quick, full = (get_profile(n) for n in ("smoke", "quick", "full"))
    assert smoke.max_epochs < quick.max_epochs < full.max_epochs
    assert smoke.train_subset < quick.train_subset and full.train_subset is None


def test_check_choice_names_the_parameter_and_the_choices():
    assert check_choice("dataset", "mnist", ["fashion_mnist", "mnist"]) == "mnist"
    with pytest.raises(ParameterError, match="dataset='cifar' is not accepted; choose one of: 'fashion_mnist', 'mnist'"):
        check_choice("dataset", "cifar", ["fashion_mnist", "mnist"])


@pytest.mark.parametrize("value", [0, 11, 2.0, True, "3"])
def test_check_int_rejects_out_of_range_and_non_integers(value):
    with pytest.raises(ParameterError, match="n_folds=.* must be an integer from 1 to 10"):
        check_int("n_folds", value, 1, 10)


def test_check_float_accepts_ints_and_rejects_out_of_range():
    assert check_float("rate", 1, 0, 1) == 1.0
    with pytest.raises(ParameterError, match="rate=1.5 is not accepted; it must be a number from 0 to 1"):
        check_float("rate", 1.5, 0, 1)
