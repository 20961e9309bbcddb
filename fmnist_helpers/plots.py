"""Figures for the course, in one consistent style. Every function returns its `Figure`,
with a title and labelled axes; notebooks display it and may save it.

Usage:
    use_style()
    fig = sample_grid(ds.x_train[:16], ds.y_train[:16], ds.class_names)
"""
from __future__ import annotations

from typing import Sequence

import matplotlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

PALETTE = "tab10"
IMAGE_CMAP = "gray"  # 0 = black, as in the data


def use_style() -> None:
    """The pack's plotting style: seaborn's white grid, readable fonts, tab10 colours."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 120, "axes.titleweight": "bold",
                                "image.cmap": IMAGE_CMAP})


def _image_axes(ax, image: np.ndarray, title: str | None = None, color: str = "black") -> None:
    ax.imshow(np.asarray(image).squeeze(), cmap=IMAGE_CMAP, vmin=0, vmax=255 if image.max() > 1 else 1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title is not None:
        ax.set_title(title, fontsize=8, color=color)


def sample_grid(images: np.ndarray, labels: np.ndarray, class_names: Sequence[str], cols: int = 8,
                title: str = "Sample training images") -> Figure:
    """Images in a grid, each captioned with its class name."""
    n = len(images)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.45 * rows + 0.4), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < n:
            _image_axes(ax, images[i], class_names[int(labels[i])])
        else:
            ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def class_rows(images: np.ndarray, labels: np.ndarray, class_names: Sequence[str], classes: Sequence[int],
               per_class: int = 8, title: str = "Examples by class") -> Figure:
    """One row per class in `classes`, showing its first `per_class` images (row label = class)."""
    fig, axes = plt.subplots(len(classes), per_class, figsize=(1.1 * per_class + 1.2, 1.15 * len(classes) + 0.4),
                             squeeze=False)
    for r, c in enumerate(classes):
        idx = np.flatnonzero(labels == c)[:per_class]
        for k, ax in enumerate(axes[r]):
            if k < len(idx):
                _image_axes(ax, images[idx[k]])
            else:
                ax.axis("off")
        axes[r, 0].set_ylabel(class_names[c], rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def class_distribution(counts: pd.DataFrame, title: str = "Images per class") -> Figure:
    """Bar charts of images per class, one panel per column of `counts` (e.g. train and test)."""
    long = counts.reset_index().melt(id_vars=counts.index.name or "index", var_name="split", value_name="images")
    cls = counts.index.name or "index"
    g = sns.catplot(data=long, x=cls, y="images", col="split", kind="bar", hue=cls, palette=PALETTE,
                    legend=False, sharey=False, height=3.2, aspect=1.5)
    g.set_xticklabels(rotation=45, ha="right")
    for ax in g.axes.flat:  # the panels have their own y scales, so each gets its own label
        ax.set_xlabel("class")
        ax.set_ylabel("number of images")
    g.set_titles("{col_name}")
    g.figure.suptitle(title, y=1.04)
    return g.figure


def pixel_histogram(images_by_name: dict[str, np.ndarray], title: str = "Pixel intensities") -> Figure:
    """Histogram of pixel values (0-255, log count) for each named set of images, overlaid."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    bins = np.arange(257) - 0.5
    for name, images in images_by_name.items():
        counts = np.bincount(np.asarray(images, dtype=np.uint8).ravel(), minlength=256)
        ax.stairs(counts / counts.sum(), bins, label=name, linewidth=1.5)
    ax.set_yscale("log")
    ax.set_xlabel("pixel value (0 = black background, 255 = brightest)")
    ax.set_ylabel("share of pixels (log scale)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def mean_image_grid(means: np.ndarray, class_names: Sequence[str], title: str = "Mean image per class") -> Figure:
    """The average image of every class side by side."""
    fig, axes = plt.subplots(1, len(means), figsize=(1.3 * len(means), 1.9))
    for ax, img, name in zip(np.atleast_1d(axes), means, class_names):
        _image_axes(ax, img, name)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def similarity_heatmap(similarity: pd.DataFrame, title: str = "Correlation of class mean images") -> Figure:
    """Heatmap of a class-by-class similarity matrix with the values written in."""
    fig, ax = plt.subplots(figsize=(7.5, 6))
    sns.heatmap(similarity, annot=True, fmt=".2f", cmap="viridis", vmin=0, vmax=1, square=True, ax=ax,
                annot_kws={"fontsize": 7}, cbar_kws={"label": "Pearson correlation"})
    ax.set_xlabel("class")
    ax.set_ylabel("class")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def embedding_scatter(points: np.ndarray, labels: np.ndarray, class_names: Sequence[str], title: str,
                      axis_names: tuple[str, str] = ("component 1", "component 2"), ax=None) -> Figure:
    """2-D points coloured by class, with a legend of class names."""
    fig = ax.figure if ax is not None else plt.figure(figsize=(7, 5.5))
    ax = ax if ax is not None else fig.add_subplot()
    names = np.asarray(class_names)[np.asarray(labels, dtype=int)]
    sns.scatterplot(x=points[:, 0], y=points[:, 1], hue=names, hue_order=list(class_names), palette=PALETTE,
                    s=8, linewidth=0, alpha=0.8, ax=ax)
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    ax.set_title(title)
    ax.legend(title="class", fontsize=7, title_fontsize=8, markerscale=2, loc="center left",
              bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def accuracy_bars(table: pd.DataFrame, title: str, xlabel: str = "class") -> Figure:
    """Grouped bars of accuracy (0-1) per row of `table`, one colour per column."""
    long = table.reset_index(names=xlabel).melt(id_vars=xlabel, var_name="series", value_name="accuracy")
    fig, ax = plt.subplots(figsize=(9, 3.8))
    sns.barplot(data=long, x=xlabel, y="accuracy", hue="series", ax=ax)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    ax.legend(title=None, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def augmentation_grid(originals: np.ndarray, variants: list[np.ndarray], title: str = "Augmented versions",
                      variant_label: str = "random draw") -> Figure:
    """Each original (first column) beside several augmented versions of it (one column per draw)."""
    n, k = len(originals), len(variants)
    fig, axes = plt.subplots(n, k + 1, figsize=(1.2 * (k + 1), 1.25 * n + 0.5), squeeze=False)
    for r in range(n):
        _image_axes(axes[r, 0], originals[r], "original" if r == 0 else None)
        for j in range(k):
            _image_axes(axes[r, j + 1], variants[j][r], f"{variant_label} {j + 1}" if r == 0 else None)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def fold_composition(counts: pd.DataFrame, title: str = "Class counts in each validation fold") -> Figure:
    """Stacked bars of classes per fold, showing that stratified folds keep the class balance."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    counts.plot(kind="bar", stacked=True, ax=ax, colormap=PALETTE, width=0.6)
    ax.set_xlabel("validation fold")
    ax.set_ylabel("number of images")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=0)
    ax.legend(title="class", fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig
