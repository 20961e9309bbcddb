"""A compute exercise's answer as a formula of its givens (`exercises/givens.py`): a wrong answer is named by the
given it misread, the part it left out or the rounding it turned, and only by a change that gives that answer."""
import pytest

from fmnist_helpers import exercises
from fmnist_helpers.exercises.core import Answer, same_number
from fmnist_helpers.exercises.givens import Formula, Given, ceil, floor, named, sqrt

IMAGES = Given("images", 55_000, "{:,} images", others={60_000: "all the training images"})
BATCH = Given("batch", 128, "batches of {}", others={32: "Keras's default"}, noun="the batch size")
BATCHES = Formula(ceil(IMAGES / BATCH, "the last, smaller batch counts too"))


def test_a_formula_computes_the_right_answer():
    assert BATCHES.value() == 430


def test_a_misread_given_is_named_with_the_tasks_value():
    assert BATCHES.explain(1_719, same_number) == ("that is the answer for batches of 32 (Keras's default), but the "
                                                   "task has batches of 128.")


def test_a_rounding_the_other_way_says_why_the_task_rounds_as_it_does():
    assert BATCHES.explain(429, same_number) == ("that rounds down: the last, smaller batch counts too, so the task "
                                                 "rounds up.")


def test_a_misread_given_with_a_rounding_the_other_way_names_both():
    found = BATCHES.explain(60_000 // 128, same_number)
    assert "60,000 images (all the training images)" in found and "and it rounds down" in found


def test_a_named_part_left_out_is_named():
    units = Given("units", 256, "{} units")
    formula = Formula(Given("inputs", 784, "{} inputs") * units + named(units, "the biases, one per unit"))
    assert formula.explain(784 * 256, same_number) == "that leaves out the biases, one per unit."


def test_a_term_left_out_of_a_sum_is_named_by_the_tasks_symbols():
    b, c = Given("b", 15, symbol="b"), Given("c", 35, symbol="c")
    formula = Formula((c - b - 1) ** 2 / (b + c))
    assert formula.explain(19 ** 2 / 35, same_number) == "that leaves out b from b + c."


def test_a_square_root_left_out_says_why_it_belongs():
    formula = Formula(100 * sqrt(Given("p", 0.9, symbol="p") * 0.1 / Given("n", 12_000, symbol="n"),
                                 "a standard error is the square root of the variance"))
    assert formula.explain(100 * 0.9 * 0.1 / 12_000, same_number) == ("that leaves out the square root: a standard "
                                                                      "error is the square root of the variance.")


def test_two_givens_that_give_the_same_answer_are_both_named():
    formula = Formula(Given("a", 3, "{} filter counts", steps=True) * Given("b", 3, "{} dropout rates", steps=True))
    found = formula.explain(6, same_number)
    assert "2 filter counts" in found and "; or it is the answer for 2 dropout rates" in found


def test_a_given_the_answer_does_not_use_may_be_multiplied_in():
    side = floor((Given("size", 32) - Given("kernel", 5)) / Given("stride", 2)) + 1
    formula = Formula((side, side, Given("filters", 16, "{} filters")),
                      also=(Given("channels", 3, "the input's {} channels"),))
    assert formula.explain((14, 14, 48), same_number) == "that multiplies 16 filters by the input's 3 channels."


def test_a_part_a_shape_repeats_changes_on_both_sides_at_once():
    side = floor((Given("size", 32) - Given("kernel", 5)) / Given("stride", 2, "stride {}", others={1: ""})) + 1
    formula = Formula((side, side, 16))
    assert formula.explain((28, 28, 16), same_number).startswith("that is the answer for stride 1")
    assert formula.explain((14, 28, 16), same_number) is None


def test_an_answer_no_single_change_gives_gets_no_explanation():
    assert BATCHES.explain(777, same_number) is None


def test_a_given_read_lazily_is_read_when_needed():
    calls = []
    formula = Formula(Given("n", lambda: calls.append(1) or 10, "{} files") * 2)
    assert calls == [] and formula.value() == 20 and calls


def test_the_formula_names_the_givens_nouns_for_a_factor_relation():
    assert BATCHES.names() == {128.0: "the batch size"}


FORMULAS = [(stem, e) for stem in exercises.NOTEBOOKS for e in exercises.lesson(stem).exercises.values()
            if isinstance(e, Answer) and e.formula is not None]


@pytest.mark.parametrize("stem, exercise", FORMULAS, ids=[f"{s[:2]}-{e.key}" for s, e in FORMULAS])
def test_every_exercises_formula_gives_its_right_answer(stem, exercise):
    ctx = exercise.demo()
    expected = exercise.expected(ctx) if callable(exercise.expected) else exercise.expected
    assert exercise.evaluate(exercise.formula.value(), **ctx).correct
    assert exercise.same(exercise.formula.value(), expected)


def test_most_compute_exercises_write_their_answer_as_a_formula():
    assert len(FORMULAS) >= 15


def test_brackets_dropped_are_read_as_python_reads_what_is_left():
    a, b, c = Given("a", 361, symbol="a"), Given("b", 15, symbol="b"), Given("c", 35, symbol="c")
    formula = Formula(a / (b + c))
    found = formula.explain(361 / 15 + 35, same_number)
    assert found.startswith("that drops the brackets around b + c: Python then computes a / b + c")


def test_a_divisor_taken_out_of_a_square_root_is_named():
    p, n = Given("p", 0.9, symbol="p"), Given("n", 12_000, symbol="n")
    formula = Formula(100 * sqrt(p * (1 - p) / n))
    assert "divides by n outside the square root" in formula.explain(100 * (0.09 ** 0.5) / 12_000, same_number)


def test_a_factor_taken_into_a_square_root_is_named():
    p, n = Given("p", 0.9, symbol="p"), Given("n", 12_000, symbol="n")
    formula = Formula(100 * sqrt(p * (1 - p) / n))
    assert "multiplies by 100 inside the square root" in formula.explain((100 * 0.09 / 12_000) ** 0.5, same_number)


def test_a_term_added_before_a_rounded_division_is_named():
    size, kernel, stride = Given("size", 28, symbol="size"), Given("kernel", 2, symbol="kernel"), Given(
        "stride", 2, symbol="stride")
    formula = Formula(floor((size - kernel) / stride) + 1)
    assert "adds 1 before the division" in formula.explain((28 - 2 + 1) // 2, same_number)


def test_a_term_a_student_may_add_is_named():
    units = Given("units", 256, "{} units")
    formula = Formula(Given("inputs", 784, "{} inputs") * units + units, extra=((2_570, "the next layer's"),))
    assert formula.explain(784 * 256 + 256 + 2_570, same_number) == "that adds the next layer's."


def test_two_changes_at_once_must_fit_closely():
    p, n = Given("p", 0.9, symbol="p"), Given("n", 12_000, symbol="n")
    formula = Formula(100 * sqrt(p * (1 - p) / n))
    count = (12_000 * 0.09) ** 0.5  # the standard error of the count of right images
    assert "multiplies by n" in formula.explain(count, same_number)
    assert formula.explain(count * 1.01, lambda x, y: abs(x - y) <= 0.02 * abs(y)) is None


def test_a_term_subtracted_twice_is_named():
    total, held = Given("total", 60_000, "{:,} images"), Given("held", 5_000, "{:,} held back")
    found = Formula(total - named(held, "the validation images")).explain(50_000, same_number)
    assert found == "that subtracts the validation images twice; 60,000 - 5,000 subtracts it once."


def test_one_wrong_number_of_a_pair_is_named_by_the_quantity_it_is():
    images, folds = Given("images", 60_000, "{:,} images"), Given("folds", 3, "{} folds")
    pair = Formula((images - named(images / folds, "the fold each model validates on"), folds / folds))
    assert pair.explain_parts((20_000, 1)) == ("the first number, 20,000: that is the fold each model validates on, "
                                               "60,000 / 3 (the other number is right).")


def test_a_pair_whose_wrong_numbers_nothing_explains_gets_no_part_by_part_message():
    images, folds = Given("images", 60_000, "{:,} images"), Given("folds", 3, "{} folds")
    pair = Formula((images - images / folds, folds / folds))
    assert pair.explain_parts((12_345, 7)) is None
