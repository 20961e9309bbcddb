"""Every plot function returns a Figure with a title and labelled axes."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from conftest import synthetic_dataset
from fmnist_helpers import exploration, plots

DS = synthetic_dataset(200, 50)
NAMES = DS.class_names


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
