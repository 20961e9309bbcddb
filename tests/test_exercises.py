"""The exercises: every exercise's solution passes, its recognised mistakes get their own message, a random
wrong answer fails; and the checking machinery (verdicts, time limits, hints, solutions, progress)."""
import threading
import time

import numpy as np
import pytest

from fmnist_helpers import exercises
from fmnist_helpers.exercises.builds import attempt
from fmnist_helpers.exercises.core import (CORRECT, INCORRECT, KINDS, NOT_ANSWERED, RECORDED, Answer, Case, Function,
                                           Mistake, Prediction, Verdict, call_with_time_limit)

ALL = [(stem, e) for stem in exercises.NOTEBOOKS for e in exercises.lesson(stem).exercises.values()]
IDS = [f"{stem[:2]}-{e.key}" for stem, e in ALL]
MISTAKES = [(stem, e, m) for stem, e in ALL for m in e.mistakes]
MISTAKE_IDS = [f"{stem[:2]}-{e.key}-mistake{e.mistakes.index(m) + 1}" for stem, e, m in MISTAKES]


def _answer(exercise, value, ctx):
    """A value as the answer: functions pass as themselves, values may be functions of the context."""
    return value if isinstance(exercise, Function) or not callable(value) else value(ctx)


def _try(exercise, example, ctx):
    """The verdict on an example: a value, a function of the context, or an `Attempt` that also changes the
    context (a history trained the wrong way)."""
    if isinstance(exercise, Function):
        return exercise.evaluate(example, **ctx)
    answer, ctx = attempt(example, ctx)
    return exercise.evaluate(answer, **ctx)


# --------------------------------------------------------------------------- every exercise of the course

def test_the_course_has_at_least_30_exercises_and_4_per_notebook():
    table = exercises.catalogue()
    assert len(table) >= 30
    assert table.groupby("notebook").size().min() >= 4
    assert set(table["notebook"]) == set(exercises.NOTEBOOKS)


def test_every_type_of_exercise_appears_in_the_course():
    assert set(exercises.catalogue()["type"]) == set(KINDS.values())


@pytest.mark.parametrize("stem, exercise", ALL, ids=IDS)
def test_the_solution_passes(stem, exercise):
    verdict = _try(exercise, exercise.solution_example, exercise.demo())
    assert verdict.status == (RECORDED if isinstance(exercise, Prediction) else CORRECT), verdict


PREDICTIONS = [(stem, e) for stem, e in ALL if isinstance(e, Prediction)]


def test_every_predict_exercise_is_a_prediction_and_the_course_has_some():
    assert len(PREDICTIONS) >= 4
    assert all(isinstance(e, Prediction) for _, e in ALL if e.kind == "predict")


@pytest.mark.parametrize("stem, exercise", PREDICTIONS, ids=[f"{s[:2]}-{e.key}" for s, e in PREDICTIONS])
def test_a_prediction_is_recorded_never_correct_whether_or_not_it_matches(stem, exercise):
    ctx = exercise.demo()
    matched = exercise.evaluate(exercise.solution_example, **ctx)
    assert matched.recorded and not matched.correct and "matches this run" in matched.message
    assert str(matched).startswith("● Recorded") and "Correct" not in str(matched) + matched._repr_html_()


def test_a_prediction_that_differs_from_the_run_is_recorded_and_says_so():
    from fmnist_helpers.exercises import nb00

    verdict = nb00.q3.evaluate("converges", **nb00.q3.demo())
    assert verdict.recorded and "this run differs from your prediction" in verdict.message


@pytest.mark.parametrize("stem, exercise, mistake", MISTAKES, ids=MISTAKE_IDS)
def test_a_recognised_mistake_gets_its_own_message(stem, exercise, mistake):
    verdict = _try(exercise, mistake.example, exercise.demo())
    assert verdict.status == INCORRECT and mistake.message in verdict.message, verdict


@pytest.mark.parametrize("stem, exercise", ALL, ids=IDS)
def test_a_random_wrong_answer_fails(stem, exercise):
    rng = np.random.default_rng(abs(hash(exercise.title)) % 2**32)
    ctx = exercise.demo()
    if isinstance(exercise, Function):
        wrong = lambda *args, **kwargs: rng.random(3)  # noqa: E731
    elif isinstance(exercise, Prediction):
        wrong = "zzz-not-an-answer"
    else:
        wrong = float(rng.uniform(-1e6, 1e6))
    assert exercise.evaluate(wrong, **ctx).status == INCORRECT


@pytest.mark.parametrize("stem, exercise", ALL, ids=IDS)
def test_an_empty_answer_is_not_answered_yet(stem, exercise):
    ctx = exercise.demo()
    assert exercise.evaluate(None, **ctx).status == NOT_ANSWERED
    if isinstance(exercise, Function):
        def stub(*args, **kwargs):
            raise NotImplementedError()
        assert exercise.evaluate(stub, **ctx).status == NOT_ANSWERED


@pytest.mark.parametrize("stem, exercise", [(s, e) for s, e in ALL if e.context],
                         ids=[i for i, (s, e) in zip(IDS, ALL) if e.context])
def test_a_check_without_its_context_asks_to_run_the_cells_above(stem, exercise):
    ctx = exercise.demo()
    verdict = exercise.evaluate(_answer(exercise, exercise.solution_example, ctx))
    assert verdict.status == NOT_ANSWERED and "run the cells above" in verdict.message


@pytest.mark.parametrize("stem, exercise", ALL, ids=IDS)
def test_every_exercise_states_its_cost_two_hints_and_three_mistakes(stem, exercise):
    assert exercise.minutes > 0 and exercise.difficulty in ("easy", "medium", "hard")
    assert len(exercise.hints) == 2 and all(h.strip() for h in exercise.hints)
    assert len(exercise.mistakes) >= 3


# --------------------------------------------------------------------------------------- the machinery

def _number_exercise(**kw):
    base = dict(key="q1", title="Demo", kind="compute", minutes=1, difficulty="easy", task="t", hints=("a", "b"),
                expected=4,
                mistakes=(Mistake("off by one", 5), Mistake("negated", -4)))
    return Answer(**{**base, **kw})


def _function_exercise(**kw):
    base = dict(key="q1", title="Square", kind="code", minutes=1, difficulty="easy", task="t", hints=("a", "b"),
                name="f", cases=lambda: [(2,), (3,)],
                reference=lambda x: x * x, time_limit=0.5,
                mistakes=(Mistake("doubled, not squared", lambda x: 2 * x), Mistake("cubed", lambda x: x ** 3)))
    return Function(**{**base, **kw})


def test_an_exercise_must_recognise_two_mistakes():
    with pytest.raises(ValueError, match="at least two common wrong answers"):
        _number_exercise(mistakes=(Mistake("only one", 5),))


def test_a_mistake_equal_to_the_right_answer_is_not_reported():
    exercise = _number_exercise(mistakes=(Mistake("same as right", 4), Mistake("negated", -4)))
    assert exercise.evaluate(4).correct


def test_an_unknown_wrong_answer_points_to_the_hint():
    verdict = _number_exercise().evaluate(17)
    assert verdict.status == INCORRECT and "ex.q1.hint()" in verdict.message


def test_a_check_of_code_reports_the_failing_case():
    verdict = _function_exercise().evaluate(lambda x: x * x if x == 2 else 0)
    assert verdict.status == INCORRECT and "f(3)" in verdict.message and "expected 9, got 0" in verdict.message
    assert "fails on 1 of 2 hidden cases" in verdict.message


def test_a_check_of_code_reports_every_kind_of_failing_case():
    exercise = _function_exercise(cases=lambda: [(3,), (6,), (0,), (4,), (5,)])

    def several_bugs(x):
        if x == 0:
            raise ZeroDivisionError("x is zero")
        return 2 * x if x in (3, 6) else x * x + (x == 5)

    message = exercise.evaluate(several_bugs).message
    assert "fails on 4 of 5 hidden cases" in message
    assert "doubled, not squared (on `f(3)` and 1 more case)" in message
    assert "`f(0)` raised ZeroDivisionError: x is zero" in message
    assert "`f(5)`: expected 25, got 26" in message
    assert "`f(4)`" not in message


def test_failing_cases_with_a_label_are_grouped_by_it():
    exercise = _function_exercise(cases=lambda: [Case((2,), "small"), Case((30,), "large"), Case((40,), "large")])
    message = exercise.evaluate(lambda x: x * x if x < 10 else 0).message
    assert "wrong on 2 large cases, e.g. `f(30)`: expected 900, got 0" in message


def test_a_known_wrong_function_gets_its_message_and_the_failing_case():
    verdict = _function_exercise().evaluate(lambda x: x ** 3)
    assert "cubed" in verdict.message and "f(2)" in verdict.message and "and 1 more case" in verdict.message


def test_a_function_that_raises_is_a_verdict_not_a_crash():
    verdict = _function_exercise().evaluate(lambda x: 1 / 0)
    assert verdict.status == INCORRECT and "ZeroDivisionError" in verdict.message


@pytest.mark.parametrize("isolate", [True, False], ids=["in a child process", "in the kernel"])
def test_a_slow_function_is_stopped_at_the_time_limit(isolate):
    started = time.perf_counter()
    verdict = _function_exercise(isolate=isolate).evaluate(lambda x: time.sleep(5))
    assert verdict.status == INCORRECT and "took longer than 0.5 s" in verdict.message
    assert "the 1 cases after it were not run" in verdict.message
    assert time.perf_counter() - started < 4


def test_the_time_limit_also_holds_outside_the_main_thread():
    box = {}
    worker = threading.Thread(target=lambda: box.update(
        error=pytest.raises(TimeoutError, call_with_time_limit, time.sleep, (3,), 0.2)))
    worker.start()
    worker.join(5)
    assert box["error"].type is TimeoutError


def test_passing_a_result_instead_of_the_function_says_so():
    verdict = _function_exercise().evaluate(4)
    assert verdict.status == INCORRECT and "pass the function itself" in verdict.message


def test_a_verdict_is_a_coloured_line_in_html_and_labelled_text_elsewhere():
    verdict = Verdict(INCORRECT, "Exercise 1 (Demo)", "the sign is `reversed`")
    page = verdict._repr_html_()
    assert "border-left" in page and "Not yet" in page and "<code>reversed</code>" in page
    assert str(verdict).startswith("✘ Not yet · Exercise 1 (Demo): the sign is")


def test_html_in_an_answer_is_escaped():
    verdict = _number_exercise().evaluate("<script>")
    assert "<script>" not in verdict._repr_html_()


def test_check_prints_the_verdict_outside_a_notebook(capsys):
    lesson = exercises.Lesson("demo", "Demo", [_number_exercise()])
    lesson.q1.check(5)
    assert "off by one" in capsys.readouterr().out
    assert lesson.state["q1"].status == INCORRECT


def test_hints_come_one_level_at_a_time_and_stop_at_the_last(capsys):
    lesson = exercises.Lesson("demo", "Demo", [_number_exercise()])
    lesson.q1.hint()
    lesson.q1.hint()
    lesson.q1.hint()
    lines = capsys.readouterr().out.splitlines()
    assert ["(1 of 2) a" in lines[0], "(2 of 2) b" in lines[1], "(2 of 2) b" in lines[2]] == [True] * 3
    lesson.q1.hint(5)
    assert "there are hints 1 to 2" in capsys.readouterr().out


def test_progress_counts_correct_answers_hints_and_seen_solutions(capsys):
    lesson = exercises.Lesson("00_primer", "Demo", [_number_exercise(), _number_exercise(key="q2")])
    lesson.q1.check(4)
    lesson.q2.hint()
    lesson.q2.solution()
    table = lesson.progress()
    assert table.done == 1 and "1 of 2 exercises correct" in str(table)
    frame = table.frame()
    assert frame.loc["q1", "status"] == "✔ correct" and frame.loc["q2", "status"] == "– not answered"
    assert frame.loc["q2", "hints used"] == 1 and frame.loc["q2", "solution seen"] == "yes"
    assert "<table" in table._repr_html_()


def _prediction_exercise(**kw):
    base = dict(key="q2", title="Guess", kind="predict", minutes=2, difficulty="easy", task="t", hints=("a", "b"),
                expected="up", same=lambda a, b: a == b,
                mistakes=(Mistake("a word, please", 1, detect=lambda a, ctx: not isinstance(a, str)),
                          Mistake("up or down", "left", detect=lambda a, ctx: a not in ("up", "down"))))
    return Prediction(**{**base, **kw})


def test_progress_keeps_predictions_apart_and_never_counts_them_correct(capsys):
    lesson = exercises.Lesson("demo", "Demo", [_number_exercise(), _prediction_exercise()])
    lesson.q1.check(4)
    lesson.q2.check("up")
    table = lesson.progress()
    assert table.done == 1 and table.predictions == (1, 1)
    assert "1 of 1 exercises correct, 1 of 1 prediction recorded" in table.summary()
    assert table.frame().loc["q2", "status"] == "● prediction recorded"
    assert "✔" not in table.frame().loc["q2", "status"]


def test_a_predict_exercise_must_be_a_prediction_and_a_prediction_of_kind_predict():
    with pytest.raises(ValueError, match="is a Prediction"):
        _number_exercise(kind="predict")
    with pytest.raises(ValueError, match="is a Prediction"):
        _prediction_exercise(kind="compute")


def test_a_lesson_names_its_exercises_when_asked_for_a_missing_one():
    lesson = exercises.Lesson("demo", "Demo", [_number_exercise()])
    with pytest.raises(AttributeError, match="demo has exercises q1; there is no 'q7'"):
        lesson.q7


def test_exercises_are_numbered_in_order():
    with pytest.raises(ValueError, match="numbered q1, q2"):
        exercises.Lesson("demo", "Demo", [_number_exercise(key="q2")])


def test_for_notebook_accepts_a_number_a_stem_or_a_name_and_keeps_progress():
    first = exercises.for_notebook("01", fresh=True)
    assert exercises.for_notebook("01_exploration") is first is exercises.for_notebook("exploration")
    assert exercises.for_notebook("01", fresh=True) is not first


def test_for_notebook_lists_the_notebooks_for_an_unknown_name():
    with pytest.raises(KeyError, match="choose one of: 00_primer, 01_exploration, 02_preprocessing"):
        exercises.for_notebook("07_transformers")


def test_the_course_progress_table_gathers_every_open_lesson():
    exercises.for_notebook("01", fresh=True)
    rows = exercises.progress().rows
    assert any(r["exercise"] == "01 q1" for r in rows)


def test_the_exercises_page_lists_every_exercise_with_its_rung_type_and_time_budget():
    from fmnist_helpers.base.paths import project_root

    page = (project_root() / "docs" / "exercises.md").read_text()
    for row in exercises.catalogue().itertuples():
        line = (f"| {row.notebook[:2]} | {row.exercise} | {row.title} | {row.rung} | {row.type} | {row.minutes} | "
                f"{row.difficulty} |")
        assert line in page, line


def test_the_label_smoothing_exercise_expects_the_target_keras_trains_towards():
    import keras

    from fmnist_helpers.exercises import nb04

    probabilities = np.random.default_rng(0).dirichlet(np.ones(10), size=4).astype("float32")
    one_hot = np.tile(np.eye(10, dtype="float32")[2], (4, 1))
    smoothed = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)(one_hot, probabilities)
    target = np.tile(np.asarray(nb04.q6.expected, dtype="float32"), (4, 1))
    plain = keras.losses.CategoricalCrossentropy()(target, probabilities)
    assert np.isclose(float(smoothed), float(plain), rtol=1e-5)


# ------------------------------------------------- notebook 02: the code checks accept every right way to write it

def _numpy_first_pipeline(x, y, batch_size, training):
    """Scaled and given its channel axis in NumPy, shuffled before the (no-op) map: another right pipeline."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x.astype("float32")[..., None] / 255, y))
    if training:
        ds = ds.shuffle(1_000)
    return ds.batch(batch_size).prefetch(1)


def test_a_pipeline_that_scales_in_numpy_and_shuffles_without_a_seed_passes():
    from fmnist_helpers.exercises import nb02

    assert nb02.q3.evaluate(_numpy_first_pipeline).correct


def test_a_pipeline_that_scales_with_a_rescaling_layer_passes():
    import keras
    import tensorflow as tf

    from fmnist_helpers.exercises import nb02

    rescale = keras.layers.Rescaling(1 / 255)  # multiplies by 1/255: not bit for bit x / 255

    def make_pipeline(x, y, batch_size, training):
        ds = tf.data.Dataset.from_tensor_slices((x[..., None], y))
        ds = ds.shuffle(len(x), seed=1) if training else ds
        return ds.batch(batch_size).map(lambda i, l: (rescale(tf.cast(i, tf.float32)), l)).prefetch(2)

    assert nb02.q3.evaluate(make_pipeline).correct


@pytest.mark.parametrize("answer, message", [
    (lambda x, y, b, t: [(x, y)], "return the `tf.data.Dataset` itself, not list"),
    (lambda x, y, b, t: __import__("tensorflow").data.Dataset.from_tensor_slices(x), "each element must be a pair"),
    (lambda x, y, b, t: __import__("tensorflow").data.Dataset.from_tensor_slices(
        (x[..., None].astype("float32") / 255, y)).batch(b).repeat(), "Does the dataset repeat?"),
], ids=["a list", "images only", "repeats"])
def test_a_pipeline_of_the_wrong_form_gets_a_verdict_not_a_crash(answer, message):
    from fmnist_helpers.exercises import nb02

    verdict = nb02.q3.evaluate(answer)
    assert verdict.status == INCORRECT and message in verdict.message, verdict


def test_an_augmentation_block_with_seeds_and_the_default_fill_passes():
    import keras

    from fmnist_helpers.exercises import nb02

    def make_augment(max_shift, flip):
        layers = [keras.layers.RandomFlip("horizontal", seed=1)] if flip else []
        return keras.Sequential([keras.Input((28, 28, 1)), *layers,
                                 keras.layers.RandomTranslation(max_shift / 28, max_shift / 28, seed=2)])

    assert nb02.q4.evaluate(make_augment).correct


def test_an_augmentation_block_that_also_rescales_is_told_it_acts_at_inference():
    import keras

    from fmnist_helpers.exercises import nb02

    verdict = nb02.q4.evaluate(lambda s, f: keras.Sequential([keras.layers.Rescaling(1 / 255),
                                                              keras.layers.RandomTranslation(s / 28, s / 28)]))
    assert verdict.status == INCORRECT and "it changes images at inference" in verdict.message, verdict


def test_an_augmentation_block_that_is_no_keras_layer_gets_a_verdict_not_a_crash():
    from fmnist_helpers.exercises import nb02

    verdict = nb02.q4.evaluate(lambda s, f: (lambda images, training=False: images))
    assert verdict.status == INCORRECT and "return a Keras layer or model" in verdict.message, verdict


def test_the_early_stopping_exercise_expects_what_keras_early_stopping_does_on_its_losses():
    import keras

    from fmnist_helpers.exercises import nb05

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    stopper.set_model(model)
    model.stop_training = False
    stopper.on_train_begin()
    for epoch, loss in enumerate(nb05.VAL_LOSSES):
        stopper.on_epoch_end(epoch, {"val_loss": loss})
        if getattr(model, "stop_training", False):
            break
    assert nb05.q4.expected == (epoch + 1, stopper.best_epoch + 1)


def test_the_data_experiment_reveal_states_what_more_data_bought_in_the_run():
    from fmnist_helpers.exercises import nb01

    ctx = nb01.q5.demo()
    drop = nb01._drop_points(ctx)
    verdict = nb01.q5.evaluate(drop, **ctx)
    assert verdict.correct and f"60 times more images bought {drop:.2f} points here" in verdict.message
    swapped = {**ctx, "means_full": ctx["means_small"], "means_small": ctx["means_full"]}
    verdict = nb01.q5.evaluate(-drop, **swapped)
    assert verdict.status == INCORRECT and "`means_full` is not what `class_means` gives" in verdict.message


def test_the_dropout_reveal_gives_the_gap_without_dropout_when_it_has_not_opened():
    from fmnist_helpers.exercises import nb04

    _, _, x, y = nb04._demo_q5_models()
    # base: training 0.205 against validation 0.2 at the end, a gap of 0.5 points; dropout narrower still
    ctx = {**nb04._demo_curves([0.25, 0.205], 0.2, [0.9, 0.801], 0.8), "epochs": 2, "validation": (x, y)}
    verdict = nb04.q5.evaluate("A", **ctx)
    assert verdict.correct and "Without dropout the gap is 0.50 points after 2 epoch(s)" in verdict.message


def test_the_dropout_reveal_says_when_a_narrower_gap_came_with_a_lower_validation_accuracy():
    from fmnist_helpers.exercises import nb04

    base, dropout, x, _ = nb04._demo_q5_models()  # they answer class 0 and class 1 always
    y = np.where(np.arange(60) < 48, 0, 1)  # now the base model is right on 48 of 60, the dropout model on 12
    histories = {name: nb04.fake_history(model, (x, y), epochs=2) for name, model in
                 [("base", base), ("dropout", dropout)]}
    histories["base"].history["accuracy"] = [0.9, 0.95]      # gap 15 points
    histories["dropout"].history["accuracy"] = [0.2, 0.25]   # gap 5 points, validation 60 points lower
    verdict = nb04.q5.evaluate("B", **histories, epochs=2, validation=(x, y))
    assert verdict.correct and "narrowed the gap without helping on new images" in verdict.message
    assert "validation accuracy by -60.00" in verdict.message


def test_the_momentum_reveal_says_training_is_unchanged_when_the_training_accuracies_agree():
    from fmnist_helpers.exercises import nb07

    ctx = {**nb07.q5.demo(), "momentum_099": nb07._momentum_history("slow", 0.62)({})}
    verdict = nb07.q5.evaluate(nb07._val_gap(ctx), **ctx)
    assert verdict.correct and "Training accuracy is the same" in verdict.message


def test_the_class_gain_reveal_says_when_the_cnn_gains_on_no_class():
    from fmnist_helpers.exercises import nb06

    ctx = nb06.q3.demo()
    ctx["mlp_pred"], ctx["cnn_pred"] = ctx["cnn_pred"], ctx["mlp_pred"]  # the CNN now misses what the MLP fixed
    verdict = nb06.q3.evaluate("Shirt", **ctx)
    assert "gains on no class over the ANN" in verdict.message and "gains most" not in verdict.message
    assert "on your class, Shirt, it loses 30.0 points" in verdict.message
    assert "gains most on Shirt, +30.0 points" in nb06.q3.evaluate("Shirt", **nb06.q3.demo()).message


def test_the_occlusion_check_scores_the_cnn_itself_and_names_the_anns_drop():
    from fmnist_helpers.exercises import nb06

    ctx = nb06.q5.demo()
    cnn, ann = nb06._drop(ctx), nb06._drop(ctx, "ann")
    assert f"costs the CNN {cnn:.1f} points" in nb06.q5.evaluate(cnn, **ctx).message
    verdict = nb06.q5.evaluate(ann, **nb06.q5.demo())
    assert verdict.status == INCORRECT and "that is the ANN's drop" in verdict.message


# --------------------------------------------------------------------- notebook 07's checks against the registry

def test_the_batch_norm_exercise_expects_pack_cnn_wides_non_trainable_count():
    from fmnist_helpers.exercises import nb07
    from fmnist_helpers.models.registry import build_model

    wide = build_model("pack_cnn_wide")
    assert nb07.q1.expected == sum(int(np.prod(w.shape)) for w in wide.non_trainable_weights)


def test_the_optimizer_exercises_solution_follows_the_registrys_one_cycle_schedule():
    from fmnist_helpers.exercises import nb07
    from fmnist_helpers.models.registry import PACK_FAST_RECIPE, make_optimizer

    mine = nb07._make_optimizer(235)._learning_rate
    theirs = make_optimizer(PACK_FAST_RECIPE, steps_per_epoch=47, epochs=5)._learning_rate
    assert np.allclose([float(mine(s)) for s in range(0, 236, 5)], [float(theirs(s)) for s in range(0, 236, 5)])


def test_a_schedule_that_peaks_too_late_is_told_where_the_peak_should_come():
    from fmnist_helpers.exercises import nb07

    verdict = nb07.q2.evaluate(lambda total: nb07._make_optimizer(total, warmup=0.6))
    assert verdict.status == INCORRECT and "after about 30% of the 100 steps" in verdict.message


def test_callbacks_that_write_elsewhere_than_the_given_path_are_told_so():
    from fmnist_helpers.exercises import nb07

    verdict = nb07.q3.evaluate(lambda path: nb07._make_callbacks("/tmp/elsewhere.keras"))
    assert verdict.status == INCORRECT and "should write to the `path` it is given" in verdict.message


def test_the_reload_check_finds_a_model_with_other_weights():
    import keras

    from fmnist_helpers.exercises import nb07

    def reload_fresh(model, path):
        model.save(path)
        fresh = keras.models.clone_model(model)  # same layers, new random weights
        return fresh

    verdict = nb07.q4.evaluate(reload_fresh)
    assert verdict.status == INCORRECT and "predicts differently" in verdict.message


@pytest.mark.parametrize("key", ["pack_cnn_fast", "pack_cnn", "pack_cnn_wide"])
def test_the_family_exercises_solution_builds_each_registry_pack_cnn(key):
    from fmnist_helpers.exercises import nb07
    from fmnist_helpers.models.registry import architecture_differences, build_model

    settings = {"pack_cnn_fast": ((32, 64), 256, (0.0, 0.0, 0.0)), "pack_cnn": ((32, 64), 256, (0.1, 0.2, 0.3)),
                "pack_cnn_wide": ((48, 96), 256, (0.05, 0.1, 0.15))}[key]
    assert architecture_differences(nb07._pack_family(*settings), build_model(key)) == []


def test_the_family_check_accepts_a_model_without_dropout_layers_of_rate_zero():
    import keras

    from fmnist_helpers.exercises import nb07

    def without_zero_dropout(filters=(32, 64), dense=256, dropout=(0.0, 0.0, 0.0)):
        model = nb07._pack_family(filters, dense, dropout)
        kept = [layer for layer in model.layers if not (type(layer).__name__ == "Dropout" and layer.rate == 0)]
        return keras.Sequential([keras.Input((28, 28, 1)), *kept])

    assert nb07.q6.evaluate(without_zero_dropout).correct


def test_an_object_that_breaks_every_inspection_is_a_verdict_not_a_crash():
    from fmnist_helpers.exercises import nb07

    class Hostile(list):
        def __getattr__(self, name):
            raise RuntimeError("no attributes here")

        def __iter__(self):
            raise RuntimeError("not iterable either")

    for exercise in (nb07.q2, nb07.q3, nb07.q4, nb07.q6):
        assert exercise.evaluate(lambda *args: Hostile()).status == INCORRECT
