"""A wrong answer that no exercise foresaw still gets its relation to the right one named (`exercises/slips.py`)."""
import pytest

from fmnist_helpers import exercises
from fmnist_helpers.exercises.slips import slip


def test_a_percentage_given_for_a_fraction_is_named():
    assert "percentage" in slip(83, 0.8312)


def test_a_fraction_given_for_points_is_named():
    assert "multiply by 100" in slip(0.051, 5.1)


def test_a_reversed_sign_is_named():
    assert "wrong sign" in slip(-2.5, 2.5)


def test_one_more_than_the_right_count_is_off_by_one():
    assert "off by one (one more" in slip(27, 26)


def test_a_division_cut_to_a_whole_number_is_named():
    assert "made whole" in slip(12, 12.4)


def test_an_answer_rounded_too_far_is_named():
    assert "rounded to 2 decimals" in slip(0.83, 0.8312)


def test_an_answer_three_times_too_large_is_named_as_counted_three_times():
    assert "3 times" in slip(2352, 784)


def test_channels_first_is_named_as_the_right_sides_in_another_order():
    assert "another order; for a shape, Keras puts channels last" in slip((32, 26, 26), (26, 26, 32))


def test_a_batch_axis_too_many_is_named():
    assert "one axis too many (the 1 at position 2)" in slip((64, 1, 28, 28, 1), (64, 28, 28, 1))


def test_a_missing_axis_is_named():
    assert "lacks an axis" in slip((28, 28), (28, 28, 1))


def test_a_shape_off_by_one_on_each_side_is_named():
    assert "off by one" in slip((27, 27, 32), (26, 26, 32))


@pytest.mark.parametrize("answer, expected", [(0.7, 0.3), ("Shirt", "Coat"), ((1, 2), (5, 9)), (float("nan"), 1.0),
                                              (10 ** 400, 3.0), (True, 1), (5, 0)])
def test_an_unrelated_or_odd_answer_gets_no_diagnosis(answer, expected):
    assert slip(answer, expected) is None


def test_a_check_adds_the_slip_to_its_verdict_when_no_mistake_of_the_exercise_matches():
    lesson = exercises.for_notebook("04")
    verdict = lesson.q1.evaluate((15, 15, 16))
    assert not verdict.correct and "off by one" in verdict.message


def test_a_sequence_whose_every_entry_is_a_percentage_is_named():
    assert "every entry is off in the same way: that is the answer written as a percentage" in slip(
        [1.0, 99.0], [0.01, 0.99])


def test_a_sequence_off_by_different_amounts_gets_no_diagnosis():
    assert slip([0.3, 0.0, 0.9], [0.4, 0.0, 1.3]) is None


def test_nineteen_twentieths_of_the_right_count_is_one_part_too_few():
    assert "19/20 of the right answer: one part too few of 20" in slip(938 * 19, 938 * 20)


def test_a_sequence_right_but_for_one_entry_names_that_entry():
    assert "every entry is right but entry 2" in slip((0.4, 0.8, 1.2, 1.6), (0.4, 0.0, 1.2, 1.6))


def test_class_means_cut_to_whole_numbers_are_named():
    import numpy as np

    expected = np.array([[1.5, 2.25], [3.75, 4.0]])
    assert "cut to whole numbers" in slip(expected.astype("uint8"), expected)


def test_an_array_with_its_axes_in_another_order_is_named():
    import numpy as np

    expected = np.arange(24.0).reshape(2, 3, 4)
    assert "axes are in another order" in slip(expected.transpose(2, 0, 1), expected)


def test_an_answer_in_thousands_is_named_and_given_whole():
    assert slip(47_040, 47_040_000) == "that is the answer in thousands; give the whole number, 47,040,000."


def test_a_factor_that_is_a_given_is_named_by_its_noun():
    assert "64 being the batch size" in slip(18_760 * 64, 18_760, names={64.0: "the batch size"})


def test_a_mean_where_a_count_is_asked_is_named_by_the_arguments_length():
    found = slip((0.25, 0.125), (3, 1.5), names={12.0: "the length of `y_true`"})
    assert "1/12 of the right answer, 12 being the length of `y_true`: a mean (or a share) where a sum" in found


def test_a_percentage_of_an_arguments_length_is_named():
    assert "a percentage of the length of `y`" in slip(25.0, 3, names={12.0: "the length of `y`"})


def test_values_divided_by_255_are_named_as_scaled_pixels():
    assert "divided by 255: pixel values scaled to [0, 1]" in slip(0.4, 0.4 * 255)


def test_one_minus_a_share_is_named_but_not_for_tenths():
    assert "1 minus the right answer" in slip(0.96, 0.04)
    assert slip(0.7, 0.3) is None


def test_the_square_root_of_the_right_answer_is_named():
    assert "square root of the right answer" in slip(19 / 50 ** 0.5, 19 ** 2 / 50)


def test_the_right_answer_divided_by_the_square_root_of_two_is_named():
    assert "divided by √2" in slip(2.0684 / 2 ** 0.5, 2.0684)


def test_an_answer_off_by_a_given_is_named_by_it():
    assert "32 less than the right answer, 32 being the input's channels" in slip(
        18_464, 18_496, names={32.0: "the input's channels"})


def test_a_flattened_shape_is_named():
    assert "28 x 28 = 784: that is the shape flattened" in slip((64, 784, 1), (64, 28, 28, 1))


def test_a_pair_in_the_wrong_order_is_not_told_about_channels():
    assert slip((1, 40_000), (40_000, 1)) == "the right numbers in another order: give them in the order the task asks."


def test_two_numbers_each_off_by_one_are_not_told_about_windows():
    assert "check where counting starts" in slip((8, 6), (7, 5))


def test_an_array_reduced_over_an_axis_is_named():
    import numpy as np

    assert "lacks axis 1" in slip(np.ones((3, 4)), np.ones((3, 4, 4)))


def test_arrays_whose_entries_are_each_transposed_are_named():
    import numpy as np

    expected = np.arange(18.0).reshape(2, 3, 3)
    assert "each entry is the right one transposed" in slip(expected.transpose(0, 2, 1), expected)


def test_an_array_mirrored_along_an_axis_is_named():
    import numpy as np

    expected = np.arange(12.0).reshape(3, 4)
    assert "mirrored along axis 1" in slip(expected[:, ::-1], expected)


def test_a_sequence_shifted_by_one_place_is_named():
    assert "shifted by one place" in slip([4.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0])


def test_sums_where_means_are_asked_show_a_whole_factor_per_entry():
    import numpy as np

    means = np.array([[1.5, 2.0], [3.0, 0.5], [2.0, 2.5]])
    found = slip(means * np.array([[4], [6], [2]]), means)
    assert "a factor of its own (4, 6, 2): a sum where a mean is asked" in found


def test_a_function_checks_failing_case_leads_with_how_its_output_relates_to_the_right_one():
    lesson = exercises.for_notebook("06")
    found = lesson.q2.evaluate(lambda y, a, b: tuple(100 * v / len(y) for v in (
        ((a == y) & (b != y)).sum(), ((a != y) & (b == y)).sum()))).message
    assert found.index("a percentage of the length of `y_true`") < found.index("expected (3, 1)")


def test_an_array_one_entry_short_along_an_axis_is_named_as_a_range_off_by_one():
    import numpy as np

    assert "one entry too few along axis 0" in slip(np.ones((2, 4, 4)), np.ones((3, 4, 4)))


def test_an_array_whose_entries_all_repeat_one_right_entry_is_named():
    import numpy as np

    expected = np.arange(12.0).reshape(3, 4)
    assert "the right entry 0 (counting from 0): the same one, repeated" in slip(np.tile(expected[0], (3, 1)),
                                                                                 expected)
