"""Every plot function returns a Figure with a title and labelled axes."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from conftest import synthetic_dataset
from fmnist_helpers.analysis import evaluation
from fmnist_helpers.analysis import exploration
from fmnist_helpers.models import registry as models
from fmnist_helpers.analysis import figure_lint, plots

DS = synthetic_dataset(200, 50)
NAMES = DS.class_names
HISTORY = pd.DataFrame([(e, s, m, 1.0 / e if m == "loss" else 0.5 + e / 10 - (s == "validation") * 0.05)
                        for e in (1, 2, 3) for s in ("train", "validation") for m in ("loss", "accuracy")],
                       columns=["epoch", "split", "metric", "value"])
PROBA = np.random.default_rng(0).dirichlet(np.ones(10), size=50).astype("float32")
TRIALS = pd.DataFrame({"order": [1, 2, 3], "score": [0.85, 0.82, 0.88], "learning_rate": [1e-3, 3e-4, 2e-3]})
DEPTHS = pd.DataFrame({"depth": [1, 1, 2, 2, 3], "score": [0.86, 0.87, 0.9, 0.91, 0.89]})
CONFUSION = evaluation.confusion_table(DS.y_test, PROBA.argmax(1), NAMES)
SPEED_RUNS = pd.DataFrame({"candidate": ["base", "base", "fast", "fast"], "seed": [42, 43, 42, 43],
                           "epochs": [8, 8, 9, 9], "train_time_s": [160.0, 162.0, 175.0, 181.0],
                           "plain_test_accuracy": [0.921, 0.923, 0.934, 0.936]})
SEED_RUNS = pd.DataFrame([{"model": m, "dataset": d, "seed": s, "test_accuracy": base + 0.004 * (s - 42)}
                          for d, shift in (("MNIST", 0.1), ("Fashion-MNIST", 0.0))
                          for m, base in (("kh_ann", 0.84 + shift), ("kh_cnn_best", 0.88 + shift * 0.9))
                          for s in (42, 43)])
ROBUSTNESS = pd.DataFrame([{"transformation": t, "strength": s, "model": m, "accuracy": 0.9 - s / 10}
                           for t in ("shift", "rotate") for s in (0, 1, 2) for m in ("ANN", "CNN")])


def _title(fig: Figure) -> str:
    return (fig._suptitle.get_text() if fig._suptitle else "") or " ".join(ax.get_title() for ax in fig.axes)


def _charts(fig: Figure):
    """Axes that plot data (not image tiles or colour bars)."""
    return [ax for ax in fig.axes if ax.axison and not ax.images and ax.get_label() != "<colorbar>"]


FIGURES = {
    "sample_grid": lambda: plots.sample_grid(DS.x_train[:10], DS.y_train[:10], NAMES, cols=4),
    "class_rows": lambda: plots.class_rows(DS.x_train, DS.y_train, NAMES, classes=[0, 3], per_class=3),
    "class_distribution": lambda: plots.class_distribution(exploration.class_count_table(DS)),
    "pixel_histogram": lambda: plots.pixel_histogram({"train": DS.x_train, "test": DS.x_test}),
    "mean_image_grid": lambda: plots.mean_image_grid(exploration.mean_images(DS.x_train, DS.y_train), NAMES),
    "similarity_heatmap": lambda: plots.similarity_heatmap(
        exploration.mean_image_similarity(exploration.mean_images(DS.x_train, DS.y_train), NAMES)),
    "embedding_scatter": lambda: plots.embedding_scatter(np.random.default_rng(0).random((200, 2)), DS.y_train,
                                                         NAMES, title="points"),
    "accuracy_bars": lambda: plots.accuracy_bars(pd.DataFrame({"a": [0.5, 0.9], "b": [0.7, 0.8]}, index=["x", "y"]),
                                                 title="accuracy"),
    "augmentation_grid": lambda: plots.augmentation_grid(DS.x_train[:2] / 255, [DS.x_train[:2] / 255] * 3),
    "fold_composition": lambda: plots.fold_composition(pd.DataFrame({"c0": [5, 5], "c1": [4, 6]},
                                                                    index=["fold 1", "fold 2"])),
    "learning_curves": lambda: plots.learning_curves(HISTORY),
    "learning_curves_one_epoch": lambda: plots.learning_curves(HISTORY[HISTORY["epoch"] == 1]),  # as in smoke
    "gap_comparison": lambda: plots.gap_comparison({"a": HISTORY, "b": HISTORY}),
    "confusion_heatmap_counts": lambda: plots.confusion_heatmap(CONFUSION),
    "confusion_heatmap_shares": lambda: plots.confusion_heatmap(
        evaluation.confusion_table(DS.y_test, PROBA.argmax(1), NAMES, normalize=True)),
    "prediction_gallery": lambda: plots.prediction_gallery(DS.x_test[:12], DS.y_test[:12], PROBA[:12], NAMES),
    "misclassified_gallery": lambda: plots.misclassified_gallery(DS.x_test, DS.y_test, PROBA, NAMES, n=6),
    "matrix_panels": lambda: plots.matrix_panels({"a": np.eye(3), "b": np.ones((2, 2))}, title="matrices"),
    "filter_grid": lambda: plots.filter_grid(models.build_model("kh_cnn")),
    "feature_maps": lambda: plots.feature_maps(models.build_model("wits_cnn"), DS.x_test[0] / 255, per_layer=3),
    "grid_heatmap": lambda: plots.grid_heatmap(pd.DataFrame([[0.8, 0.9]], index=pd.Index(["adam"], name="optimizer"),
                                                            columns=pd.Index([128, 256], name="batch size")),
                                               title="grid"),
    "accuracy_comparison": lambda: plots.accuracy_comparison(pd.DataFrame({"study": [0.9, 0.91], "ours": [0.905, 0.92]},
                                                                          index=["m1", "m2"])),
    "search_progress": lambda: plots.search_progress(TRIALS, reference=0.9163),
    "search_progress_one_trial": lambda: plots.search_progress(TRIALS[:1]),
    "score_scatter": lambda: plots.score_scatter(TRIALS),
    "depth_summary": lambda: plots.depth_summary(DEPTHS, reported={1: (0.8775, 0.0048), 2: (0.902, 0.0055)}),
    "pair_gallery": lambda: plots.pair_gallery(DS.x_test, DS.y_test, (DS.y_test + 1) % 10, DS.y_test, NAMES, n=6),
    "transform_gallery": lambda: plots.transform_gallery(
        DS.x_test[:1] / 255, {"shift": {0: DS.x_test[:1] / 255, 2: DS.x_test[:1] / 255},
                              "invert": {0: DS.x_test[:1] / 255, 0.5: DS.x_test[:1] / 255, 1: 1 - DS.x_test[:1] / 255}}),
    "robustness_curves": lambda: plots.robustness_curves(ROBUSTNESS, units={"shift": "pixels"}),
    "time_to_accuracy": lambda: plots.time_to_accuracy(SPEED_RUNS, target=(180, 93.5)),
    "seed_scores": lambda: plots.seed_scores(SEED_RUNS),
    "learning_rate_schedule": lambda: plots.learning_rate_schedule([0, 30, 60, 100], [2e-4, 5e-3, 2e-3, 5e-6],
                                                                   steps_per_epoch=20),
}


@pytest.mark.parametrize("name", FIGURES)
def test_plot_returns_a_titled_figure(name):
    plots.use_style()
    fig = FIGURES[name]()
    assert isinstance(fig, Figure)
    assert _title(fig).strip(), f"{name} has no title"
    for ax in _charts(fig):
        assert ax.get_xlabel() and ax.get_ylabel(), f"{name}: an axis is unlabelled"
    matplotlib.pyplot.close(fig)


def test_sample_grid_captions_each_image_with_its_class():
    fig = plots.sample_grid(DS.x_train[:4], np.array([0, 1, 2, 9]), NAMES, cols=4)
    assert [ax.get_title() for ax in fig.axes] == ["c0", "c1", "c2", "c9"]


def test_embedding_scatter_draws_into_a_given_axis():
    fig = matplotlib.pyplot.figure()
    ax = fig.add_subplot()
    assert plots.embedding_scatter(np.zeros((200, 2)), DS.y_train, NAMES, title="t", ax=ax) is fig
    assert ax.get_title() == "t"


def test_gallery_colours_right_blue_and_wrong_red():
    proba = np.eye(10, dtype="float32")[[0, 1]]  # predicts class 0, then class 1
    fig = plots.prediction_gallery(DS.x_test[:2], np.array([0, 2]), proba, NAMES, cols=2)
    colours = [ax.title.get_color() for ax in fig.axes[:2]]
    assert colours == [plots.RIGHT, plots.WRONG]
    assert fig.axes[0].get_title().startswith("✓ c0 (100%)")


def test_gallery_marks_right_and_wrong_with_a_symbol_not_colour_alone():
    proba = np.eye(10, dtype="float32")[[0, 1]]
    fig = plots.prediction_gallery(DS.x_test[:2], np.array([0, 2]), proba, NAMES, cols=2)
    assert [ax.get_title()[0] for ax in fig.axes[:2]] == ["✓", "✗"]


def test_learning_curves_tell_train_from_validation_by_line_style():
    history = pd.DataFrame([(e, s, m, v) for e in (1, 2) for s in ("train", "validation")
                            for m, v in (("loss", 1.0 / e), ("accuracy", 0.5 + e / 10))],
                           columns=["epoch", "split", "metric", "value"])
    ax = plots.learning_curves(history).axes[0]
    styles = {line.get_label(): (line.get_linestyle(), line.get_marker()) for line in ax.get_lines()}
    assert styles["train"] != styles["validation"]
    assert styles["train"][0] != styles["validation"][0] and styles["train"][1] != styles["validation"][1]


def test_grouped_bars_differ_by_hatching():
    table = pd.DataFrame({"study reported": [0.9, 0.91], "this run": [0.88, 0.92]}, index=["a", "b"])
    ax = plots.accuracy_bars(table, title="t").axes[0]
    hatches = [bar.get_hatch() or "" for container in ax.containers for bar in container]
    assert len(set(hatches)) == 2


def test_accuracy_comparison_draws_a_dot_per_model_and_source_each_source_its_own_marker():
    table = pd.DataFrame({"study reported": [0.9, 0.91], "this run": [0.88, np.nan]}, index=["a", "b"])
    ax = plots.accuracy_comparison(table).axes[0]
    assert [len(c.get_offsets()) for c in ax.collections] == [2, 1]  # a missing figure draws no dot
    assert ax.collections[0].get_paths()[0] != ax.collections[1].get_paths()[0]
    assert not ax.patches  # dots, not bars: the zoomed axis is honest
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]


def test_learning_curves_shade_the_gap_only_where_training_is_ahead():
    # validation ahead at epochs 1-2 (as with dropout on in training), training ahead at 3-4
    history = pd.DataFrame([(e, s, "accuracy", v) for e, t, val in ((1, 0.6, 0.7), (2, 0.7, 0.75), (3, 0.85, 0.8),
                                                                    (4, 0.9, 0.8))
                            for s, v in (("train", t), ("validation", val))],
                           columns=["epoch", "split", "metric", "value"])
    ax = plots.learning_curves(history, metrics=("accuracy",)).axes[0]
    shaded = np.concatenate([p.vertices for c in ax.collections for p in c.get_paths()])
    assert shaded[:, 0].min() >= 2.0  # nothing shaded before the curves cross (between epochs 2 and 3)


def test_learning_curves_shade_nothing_when_validation_stays_ahead():
    history = pd.DataFrame([(e, s, "loss", v) for e in (1, 2, 3) for s, v in (("train", 1.0 / e), ("validation", 0.8 / e))],
                           columns=["epoch", "split", "metric", "value"])
    ax = plots.learning_curves(history, metrics=("loss",)).axes[0]
    assert not ax.collections and "gap: training ahead" not in ax.get_legend_handles_labels()[1]


def test_gap_comparison_titles_each_panel_with_its_last_gap_in_points():
    fig = plots.gap_comparison({"model": HISTORY})
    assert fig.axes[0].get_title().endswith("train - validation = +5.0 points")


def test_feature_map_rows_are_named_for_the_layers_place_not_keras_names():
    fig = plots.feature_maps(models.build_model("kh_cnn"), DS.x_test[0] / 255, per_layer=1)
    rows = [ax.get_ylabel().split("\n")[0] for ax in fig.axes if ax.get_ylabel()]
    assert rows == ["block 1 conv", "block 2 conv", "block 3 conv"]


def test_conv_roles_number_the_convolutions_within_a_block():
    import keras

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3), keras.layers.Conv2D(4, 3),
                              keras.layers.MaxPooling2D(2), keras.layers.Conv2D(4, 3)])
    assert plots.conv_roles(model) == ["block 1 conv 1", "block 1 conv 2", "block 2 conv"]


def test_a_gallery_of_mistakes_names_no_colour_it_does_not_show():
    proba = np.eye(10, dtype="float32")[[1, 1]]
    fig = plots.prediction_gallery(DS.x_test[:2], np.array([0, 2]), proba, NAMES, cols=2)
    assert "blue" not in fig._suptitle.get_text() and plots.WRONG_NAME in fig._suptitle.get_text()


def test_misclassified_gallery_shows_only_mistakes_most_confident_first():
    proba = np.full((4, 10), 0.0, dtype="float32")
    proba[[0, 1, 2, 3], [0, 5, 6, 3]] = [1.0, 0.6, 0.9, 1.0]
    fig = plots.misclassified_gallery(DS.x_test[:4], np.array([0, 1, 2, 3]), proba, NAMES, n=5, cols=2)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert [t.split(" (")[0] for t in titles] == ["✗ c6", "✗ c5"]


def test_filter_grid_and_feature_maps_need_a_convolution():
    with pytest.raises(ValueError, match="no Conv2D"):
        plots.filter_grid(models.build_model("kh_ann"))
    with pytest.raises(ValueError, match="no Conv2D"):
        plots.feature_maps(models.build_model("kh_ann"), DS.x_test[0])


def test_feature_maps_has_one_row_per_convolution():
    fig = plots.feature_maps(models.build_model("kh_cnn"), DS.x_test[0] / 255, per_layer=2)
    assert len(fig.axes) == 3 * 3  # three conv layers x (input + two channels)


def test_search_progress_steps_up_with_the_best_score_so_far():
    fig = plots.search_progress(TRIALS)
    best = fig.axes[0].lines[0].get_ydata()
    assert list(best) == [0.85, 0.85, 0.88]


def test_pair_gallery_shows_only_images_the_second_model_fixes():
    y = DS.y_test[:10]
    a = y.copy()
    a[[2, 5]] = (y[[2, 5]] + 1) % 10  # the first model misses images 2 and 5
    b = y.copy()
    b[5] = (y[5] + 2) % 10  # the second misses 5 too: only image 2 is a fix
    fig = plots.pair_gallery(DS.x_test[:10], y, a, b, NAMES, name_a="MLP", name_b="CNN")
    captions = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert captions == [f"MLP: {NAMES[a[2]]}\nCNN: {NAMES[y[2]]}"]
    matplotlib.pyplot.close(fig)


def test_robustness_curves_has_one_panel_per_transformation():
    fig = plots.robustness_curves(ROBUSTNESS)
    assert [ax.get_title() for ax in fig.axes] == ["shift", "rotate"]
    matplotlib.pyplot.close(fig)


def test_time_to_accuracy_gives_each_candidate_its_own_marker_and_shades_the_target_corner():
    fig = plots.time_to_accuracy(SPEED_RUNS, target=(180, 93.5))
    ax = fig.axes[0]
    points = [c for c in ax.collections if c.get_offsets().shape[0] == 2]
    assert len(points) == 2  # one scatter per candidate, two seeds each
    assert points[0].get_paths()[0] != points[1].get_paths()[0]  # told apart by shape, not colour alone
    labels = ax.get_legend_handles_labels()[1]
    assert "target: 93.5% in 180 s" in labels and "fast (9 epochs)" in labels
    assert ax.get_xlim()[0] == 0
    matplotlib.pyplot.close(fig)


def test_the_learning_rate_schedule_names_its_peak_and_where_it_comes():
    fig = plots.learning_rate_schedule([0, 30, 60, 100], [2e-4, 5e-3, 2e-3, 5e-6])
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "peak 0.005 at step 30" in labels


def test_the_learning_rate_schedule_refuses_steps_and_rates_of_different_lengths():
    with pytest.raises(ValueError, match="of one length"):
        plots.learning_rate_schedule([0, 1, 2], [1e-3, 2e-3])


# -- the figure lint: every figure above passes it, and each rule catches the fault it names ----------------------

@pytest.mark.parametrize("name", FIGURES)
def test_plot_passes_the_figure_lint(name):
    plots.use_style()
    fig = FIGURES[name]()
    assert figure_lint.problems(fig) == []
    matplotlib.pyplot.close(fig)


def _bad_figure():
    fig, ax = matplotlib.pyplot.subplots(figsize=(5, 3))
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return fig, ax


def test_the_lint_catches_a_legend_drawn_over_data_points():
    fig, ax = _bad_figure()
    ax.scatter([0.05, 0.5, 0.95], [0.95, 0.5, 0.05], label="points")  # one point in the upper-left corner
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    assert [p.split(":")[0] for p in figure_lint.problems(fig)] == ["legend_over_data"]


def test_the_lint_catches_a_legend_drawn_over_a_line_between_its_points():
    fig, ax = _bad_figure()
    ax.plot([0, 1], [1, 0], label="falling")  # the line crosses the upper-left corner between its two points
    ax.plot([0, 1], [0.2, 0.2], label="flat")
    ax.legend(loc="upper left")
    assert figure_lint.legend_over_data(fig) != []


def test_the_lint_catches_a_legend_drawn_over_bars():
    fig, ax = _bad_figure()
    ax.bar(["a", "b", "c"], [0.9, 0.8, 0.95], label="accuracy")
    ax.legend(loc="upper right")
    assert figure_lint.legend_over_data(fig) != []


def test_the_lint_lets_a_legend_beside_the_chart_pass():
    fig, ax = _bad_figure()
    ax.scatter([0.05, 0.5, 0.95], [0.95, 0.5, 0.05], label="points")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    assert figure_lint.problems(fig) == []


@pytest.mark.parametrize("horizontal", [False, True], ids=["upright bars", "lying bars"])
def test_the_lint_catches_a_bar_axis_that_does_not_start_at_zero(horizontal):
    fig, ax = _bad_figure()
    (ax.barh if horizontal else ax.bar)(["a", "b"], [0.86, 0.9])
    (ax.set_xlim if horizontal else ax.set_ylim)(0.785, 0.92)
    assert [p.split(":")[0] for p in figure_lint.problems(fig)] == ["bar_axis_from_zero"]
    (ax.set_xlim if horizontal else ax.set_ylim)(0, 1)
    assert figure_lint.problems(fig) == []


def test_the_lint_catches_epoch_ticks_between_whole_epochs():
    fig, ax = _bad_figure()
    ax.plot([1, 2, 3], [0.5, 0.6, 0.7])  # matplotlib ticks three epochs at 1.0, 1.25, 1.5, ...
    ax.set_xlabel("epoch")
    assert [p.split(":")[0] for p in figure_lint.problems(fig)] == ["whole_epoch_ticks"]
    ax.set_xticks([1, 2, 3])
    assert figure_lint.problems(fig) == []


def test_seed_scores_draw_a_dot_per_run_and_a_mean_per_model():
    fig = plots.seed_scores(SEED_RUNS)
    ax = fig.axes[0]
    dots = [c for c in ax.collections if c.get_label().startswith("seed")]
    assert [len(c.get_offsets()) for c in dots] == [2, 2]  # two models, one dot per seed
    means = next(c for c in ax.collections if c.get_label() == "mean over seeds").get_offsets()[:, 0]
    assert list(means) == pytest.approx([0.942, 0.972])  # MNIST: the mean of seeds 42 and 43 per model
    assert [a.get_title() for a in fig.axes] == ["MNIST", "Fashion-MNIST"]
