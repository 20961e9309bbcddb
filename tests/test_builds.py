"""The check of what a student built or trained (`exercises/builds.py`): a diagnosis finds what is wrong by a code
that a named mistake explains, a history is read for its model and settings, and its validation scores are traced to
the images they were measured on."""
import time

import numpy as np
import pytest

from fmnist_helpers.exercises.builds import (Attempt, Build, FakeHistory, Finding, Found, attempt, fake_history,
                                             number_finding, read_fit, scores_match, stop, validated_on)
from fmnist_helpers.exercises.core import CORRECT, INCORRECT, NOT_ANSWERED, Mistake


def _diagnose(answer, ctx):
    if not callable(answer):
        raise stop("form", "pass a function")
    value = answer(3)
    if value == 9:
        return None
    if value == 6:
        return Finding("doubled", "f(3) gave 6")
    return Finding("other", f"f(3) gave {value}")


def _build(**kw):
    base = dict(key="q1", title="Square", kind="code", minutes=20, difficulty="hard", task="t", hints=("a", "b"),
                diagnose=_diagnose, time_limit=0.5,
                reveal=lambda answer, ctx: "squares as asked.",
                mistakes=(Mistake("doubled, not squared", lambda ctx: lambda x: 2 * x, detect=Found("doubled")),
                          Mistake("not a function", 4, detect=Found("form"))))
    return Build(**{**base, **kw})


def test_a_right_build_is_correct_with_what_the_check_measured():
    verdict = _build().evaluate(lambda x: x * x)
    assert verdict.status == CORRECT and verdict.message == "squares as asked."


def test_a_finding_a_mistake_names_gets_the_mistakes_message_and_what_was_measured():
    verdict = _build().evaluate(lambda x: 2 * x)
    assert verdict.status == INCORRECT and verdict.message == "doubled, not squared (f(3) gave 6)"


def test_a_finding_no_mistake_names_says_what_was_measured_and_points_to_the_hint():
    verdict = _build().evaluate(lambda x: x + 1)
    assert verdict.status == INCORRECT and "f(3) gave 4" in verdict.message and "ex.q1.hint()" in verdict.message


def test_a_diagnosis_can_stop_early_from_deep_inside_its_helpers():
    verdict = _build().evaluate(7)
    assert verdict.status == INCORRECT and verdict.message.startswith("not a function (pass a function)")


def test_a_stub_that_raises_not_implemented_is_not_answered_yet():
    def stub(x):
        raise NotImplementedError()

    assert _build().evaluate(stub).status == NOT_ANSWERED


def test_code_that_raises_is_a_verdict_not_a_crash():
    verdict = _build().evaluate(lambda x: 1 / 0)
    assert verdict.status == INCORRECT and "ZeroDivisionError" in verdict.message


def test_a_slow_answer_is_stopped_at_the_time_limit():
    start = time.perf_counter()
    verdict = _build().evaluate(lambda x: time.sleep(5))
    assert verdict.status == INCORRECT and "longer than 0.5 s" in verdict.message
    assert time.perf_counter() - start < 3


def test_every_mistake_of_a_build_must_name_its_codes():
    with pytest.raises(ValueError, match="names its codes with Found"):
        _build(mistakes=(Mistake("a", 1), Mistake("b", 2, detect=Found("x"))))


def test_an_attempt_changes_the_context_its_example_is_tried_in():
    answer, ctx = attempt(lambda ctx: Attempt(ctx["n"] + 1, {"n": 5}), {"n": 1, "m": 2})
    assert answer == 2 and ctx == {"n": 5, "m": 2}
    assert attempt(3, {"n": 1}) == (3, {"n": 1})


@pytest.mark.parametrize("answer, code", [(-2.5, "sign"), (0.025, "fraction_for_points"), ("2.5", "not_number"),
                                          (7.0, "wrong")])
def test_the_usual_misreadings_of_a_number_in_points_are_found(answer, code):
    assert number_finding(answer, 2.5, "points").code == code
    assert number_finding(2.5, 2.5, "points") is None


def test_a_fraction_given_in_percent_is_found():
    assert number_finding(91.3, 0.913, "fraction", tolerance=5e-4).code == "percent_for_fraction"


# ------------------------------------------------------------------------------------------- fit histories

def _tiny_model(seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    init = keras.initializers.RandomNormal(stddev=1.0, seed=seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax", bias_initializer=init)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _read(history):
    """read_fit's finding code, or the Fit."""
    try:
        return read_fit(history, "h")
    except Exception as err:  # the stop of a diagnosis
        return err.finding.code


def test_a_history_dictionary_a_number_and_a_history_without_validation_are_each_named():
    model = _tiny_model()
    assert _read({"loss": [1.0], "accuracy": [0.5]}) == "history_dict"
    assert _read(0.9) == "not_history"
    assert _read(FakeHistory(model, {"loss": [1.0], "accuracy": [0.5]})) == "no_validation"
    assert _read(FakeHistory(model, {"loss": [1.0], "val_loss": [1.0]})) == "no_accuracy"


def test_a_fit_history_gives_its_epochs_steps_and_model():
    model = _tiny_model()
    fit = _read(FakeHistory(model, {"accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.5]}, epochs=3, steps=7))
    assert (fit.epochs, fit.epochs_run, fit.steps, fit.model) == (3, 2, 7, model)


def test_the_images_a_real_fit_validated_on_are_traced_from_its_model():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 3, 64)
    x_test, y_test = rng.normal(size=(40, 4)).astype("float32"), rng.integers(0, 3, 40)
    history = _tiny_model().fit(x[:32], y[:32], validation_data=(x_test, y_test), epochs=2, verbose=0)
    fit = read_fit(history, "h")
    assert validated_on(fit, {"validation": (x[32:], y[32:]), "test": (x_test, y_test)}) == "test"
    assert scores_match(fit, x_test, y_test) and not scores_match(fit, x_test * 3, y_test)


def test_a_fake_history_reproduces_its_models_scores_as_a_fit_would():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 4)).astype("float32"), rng.integers(0, 3, 30)
    history = fake_history(_tiny_model(), (x, y), epochs=2)
    assert scores_match(read_fit(history, "h"), x, y)
