"""Figures for the course, in one consistent style. Every function returns its `Figure`,
with a title and labelled axes; notebooks display it and may save it.

Usage:
    use_style()
    fig = sample_grid(ds.x_train[:16], ds.y_train[:16], ds.class_names)
"""
from __future__ import annotations

from typing import Sequence

import matplotlib
import matplotlib.ticker

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

PALETTE = "colorblind"
"""seaborn's 10-colour palette that stays distinguishable with the common colour-vision deficiencies; every
figure also tells its series apart by markers, line styles, hatching or words, never by colour alone."""
IMAGE_CMAP = "gray"  # 0 = black, as in the data
_CB = sns.color_palette(PALETTE)
HATCHES = ("", "//", "..", "xx", "\\\\", "--", "++", "oo", "||", "**")
"""Bar hatching per series, so grouped bars differ in pattern as well as colour."""


def use_style() -> None:
    """The pack's plotting style: seaborn's white grid, readable fonts, colour-blind-safe colours."""
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
    """2-D points coloured by class, a marker shape per class, with a legend of class names. The points are opaque
    and edged in dark grey, so that the palette's paler colours (yellow, pink, light blue) still stand out."""
    fig = ax.figure if ax is not None else plt.figure(figsize=(7, 5.5))
    ax = ax if ax is not None else fig.add_subplot()
    names = np.asarray(class_names)[np.asarray(labels, dtype=int)]
    sns.scatterplot(x=points[:, 0], y=points[:, 1], hue=names, hue_order=list(class_names), palette=PALETTE,
                    style=names, style_order=list(class_names),
                    s=16, linewidth=0.3, edgecolor="#333333", alpha=1.0, ax=ax)
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
    _hatch_bars(ax)
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
    counts.plot(kind="bar", stacked=True, ax=ax, color=list(sns.color_palette(PALETTE, len(counts.columns))), width=0.6)
    ax.set_xlabel("validation fold")
    ax.set_ylabel("number of images")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=0)
    ax.legend(title="class", fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    _hatch_bars(ax)
    fig.tight_layout()
    return fig


# -- training and evaluation figures ----------------------------------------------------------------------

SPLIT_COLORS = {"train": _CB[0], "validation": _CB[1]}
SPLIT_STYLES = {"train": {"linestyle": "-", "marker": "o"}, "validation": {"linestyle": "--", "marker": "s"}}
RIGHT, WRONG = _CB[0], _CB[3]
WRONG_NAME = "orange-red"
"""What a reader calls WRONG's colour, the palette's vermilion (#d55e00), in a caption."""


def _hatch_bars(ax) -> None:
    """Give each series of a grouped bar chart its own hatching (and its legend entry the same)."""
    for container, hatch in zip(ax.containers, HATCHES * 2):
        for bar in container:
            bar.set_hatch(hatch)
            bar.set_edgecolor("white")
    legend = ax.get_legend()
    if legend is not None:
        for patch, hatch in zip(legend.get_patches(), HATCHES * 2):
            patch.set_hatch(hatch)
            patch.set_edgecolor("white")


LOWER_IS_BETTER = ("loss",)
"""Metrics where a smaller value is better: for them the training curve is ahead when it lies below validation."""


def _whole_epochs(ax) -> None:
    """Ticks on the epoch axis only at whole epochs (a short run would otherwise show 1.5 epochs)."""
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, min_n_ticks=1))


def _legend_beside(ax) -> None:
    """The chart's legend to its right, where it cannot cover any data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)


def _train_vs_validation(ax, history: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Draw train and validation `metric` per epoch and shade the gap only where training is ahead (above
    validation for a score, below it for a loss); returns the wide table (epoch x split)."""
    part = history[history["metric"] == metric]
    for split, rows in part.groupby("split"):
        ax.plot(rows["epoch"], rows["value"], markersize=4, label=split, color=SPLIT_COLORS.get(split),
                **SPLIT_STYLES.get(split, {"marker": "o"}))
    wide = part.pivot_table(index="epoch", columns="split", values="value")
    if {"train", "validation"} <= set(wide.columns):
        ahead = (wide["train"] < wide["validation"]) if metric in LOWER_IS_BETTER else \
            (wide["train"] > wide["validation"])
        if ahead.any():
            ax.fill_between(wide.index, wide["train"], wide["validation"], where=ahead.to_numpy(), interpolate=True,
                            color="grey", alpha=0.2, label="gap: training ahead")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    _whole_epochs(ax)
    return wide


def learning_curves(history: pd.DataFrame, title: str = "Learning curves",
                    metrics: Sequence[str] = ("loss", "accuracy")) -> Figure:
    """Train vs validation per epoch, one panel per metric; the gap is shaded only where training is ahead of
    validation (where validation is ahead, as with dropout on in training, nothing is shaded)."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.6 * len(metrics) + 1.2, 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        _train_vs_validation(ax, history, metric)
        ax.set_title(metric)
    _legend_beside(axes[0][-1])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def gap_comparison(histories: dict[str, pd.DataFrame], metric: str = "accuracy",
                   title: str = "Train vs validation accuracy") -> Figure:
    """One panel per model, train vs validation `metric`, on a shared y axis: compare overfitting. Each panel's
    title gives its last epoch's gap, training minus validation, in points (a negative gap: validation ahead)."""
    fig, axes = plt.subplots(1, len(histories), figsize=(4.6 * len(histories) + 1.2, 3.8), squeeze=False,
                             sharey=True)
    for ax, (name, history) in zip(axes[0], histories.items()):
        wide = _train_vs_validation(ax, history, metric)
        if {"train", "validation"} <= set(wide.columns) and len(wide):
            gap = (wide["train"].iloc[-1] - wide["validation"].iloc[-1]) * (1 if metric in LOWER_IS_BETTER else 100)
            unit = "" if metric in LOWER_IS_BETTER else " points"
            ax.set_title(f"{name}\nlast epoch: train - validation = {gap:+.1f}{unit}", fontsize=10)
        else:
            ax.set_title(name)
    _legend_beside(axes[0][-1])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_heatmap(table: pd.DataFrame, title: str = "Confusion matrix") -> Figure:
    """Heatmap of a confusion table: counts as integers, or row shares (0-1) as percentages."""
    normalized = table.to_numpy().dtype.kind == "f"
    fig, ax = plt.subplots(figsize=(7.5, 6.2))
    sns.heatmap(table * 100 if normalized else table, annot=True, fmt=".1f" if normalized else "d",
                cmap="Blues", square=True, ax=ax, annot_kws={"fontsize": 7},
                cbar_kws={"label": "% of true class" if normalized else "test images"})
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def prediction_gallery(images: np.ndarray, y_true: np.ndarray, proba: np.ndarray, class_names: Sequence[str],
                       cols: int = 10, title: str = "Predictions on the first test images") -> Figure:
    """Each image captioned '✓/✗ predicted (probability)' over 'true'; blue when right, orange-red when wrong. The
    title's key names only the kinds the gallery shows (a gallery of mistakes has no blue)."""
    n = len(images)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.45 * cols, 1.75 * rows + 0.5), squeeze=False)
    pred = np.asarray(proba).argmax(axis=1)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        ok = pred[i] == y_true[i]
        caption = (f"{'✓' if ok else '✗'} {class_names[pred[i]]} ({proba[i, pred[i]]:.0%})\n"
                   f"true: {class_names[int(y_true[i])]}")
        _image_axes(ax, images[i], caption, color=RIGHT if ok else WRONG)
    right = pred[:n] == np.asarray(y_true)[:n]
    key = [k for k, shown in (("✓ = correct (blue)", right.any()), (f"✗ = wrong ({WRONG_NAME})", (~right).any()))
           if shown]
    fig.suptitle(f"{title}: {', '.join(key)}")
    fig.tight_layout()
    return fig


def misclassified_gallery(images: np.ndarray, y_true: np.ndarray, proba: np.ndarray, class_names: Sequence[str],
                          n: int = 20, cols: int = 10, title: str = "Misclassified test images") -> Figure:
    """The `n` most confident mistakes, captioned as in `prediction_gallery`."""
    pred = np.asarray(proba).argmax(axis=1)
    wrong = np.flatnonzero(pred != y_true)
    order = wrong[np.argsort(-proba[wrong, pred[wrong]], kind="stable")][:n]
    return prediction_gallery(images[order], y_true[order], proba[order], class_names, cols=cols,
                              title=f"{title} (most confident first)")


def matrix_panels(matrices: dict[str, np.ndarray], title: str, fmt: str = ".0f") -> Figure:
    """Small matrices side by side with their values written in: for worked convolution examples."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(3.2 * len(matrices), 3.4), squeeze=False)
    for ax, (name, m) in zip(axes[0], matrices.items()):
        sns.heatmap(np.asarray(m, dtype=float), annot=True, fmt=fmt, cmap="Greys", cbar=False, square=True,
                    linewidths=0.5, linecolor="lightgrey", ax=ax, annot_kws={"fontsize": 8})
        ax.set_title(name)
        ax.set_xlabel("column")
        ax.set_ylabel("row")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _conv_layers(model) -> list:
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def conv_roles(model) -> list[str]:
    """A name for each convolution by its place in the network, not Keras's `conv2d_85`: a block ends at each
    pooling layer, so the first two convolutions before the first pool are "block 1 conv 1" and "block 1 conv 2",
    and a block's only convolution is "block 1 conv"."""
    import keras

    blocks: list[list[int]] = [[]]
    for i, layer in enumerate(model.layers):
        if isinstance(layer, keras.layers.Conv2D):
            blocks[-1].append(i)
        elif isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)) and blocks[-1]:
            blocks.append([])
    return [f"block {b} conv" + (f" {k}" if len(convs) > 1 else "")
            for b, convs in enumerate([c for c in blocks if c], start=1) for k, _ in enumerate(convs, start=1)]


def filter_grid(model, title: str = "Learned first-layer filters") -> Figure:
    """The 3x3 kernels of the model's first convolution, one small image each (dark = negative weight)."""
    convs = _conv_layers(model)
    if not convs:
        raise ValueError(f"model {model.name!r} has no Conv2D layer, so it has no filters to show")
    kernels = np.asarray(convs[0].get_weights()[0], dtype=np.float32)[:, :, 0, :]  # (h, w, filters)
    n = kernels.shape[-1]
    cols = min(n, 16)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(0.75 * cols, 0.85 * rows + 0.5), squeeze=False)
    limit = np.abs(kernels).max() or 1.0
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        if i < n:
            ax.imshow(kernels[:, :, i], cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(str(i + 1), fontsize=7)
        else:
            ax.axis("off")
    fig.suptitle(f"{title} ({conv_roles(model)[0]}; red = positive, blue = negative)")
    fig.tight_layout()
    return fig


def feature_maps(model, image: np.ndarray, per_layer: int = 8, title: str = "Feature maps of one image") -> Figure:
    """The first `per_layer` channels of every convolution's output for one image (rows = convolutions, each
    named for its place: `conv_roles`)."""
    import keras

    convs = _conv_layers(model)
    if not convs:
        raise ValueError(f"model {model.name!r} has no Conv2D layer, so it has no feature maps to show")
    probe = keras.Model(model.inputs[0], [layer.output for layer in convs])
    x = np.asarray(image, dtype=np.float32).reshape(1, 28, 28, 1)
    outputs = probe(x, training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    fig, axes = plt.subplots(len(convs), per_layer + 1, figsize=(1.15 * (per_layer + 1), 1.25 * len(convs) + 0.5),
                             squeeze=False)
    for r, (role, out) in enumerate(zip(conv_roles(model), outputs)):
        maps = np.asarray(out, dtype=np.float32)[0]
        _image_axes(axes[r, 0], x[0], "input" if r == 0 else None)
        axes[r, 0].set_ylabel(f"{role}\n{maps.shape[0]}x{maps.shape[1]}", rotation=0, ha="right",
                              va="center", fontsize=8)
        for c in range(per_layer):
            ax = axes[r, c + 1]
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if c < maps.shape[-1]:
                ax.imshow(maps[:, :, c], cmap="viridis")
                if r == 0:
                    ax.set_title(f"channel {c + 1}", fontsize=7)
            else:
                ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def grid_heatmap(table: pd.DataFrame, title: str, value_label: str = "test accuracy") -> Figure:
    """A heatmap of a 2-D results grid (e.g. optimizer x batch size) with the values written in."""
    fig, ax = plt.subplots(figsize=(1.6 * table.shape[1] + 2.5, 0.6 * table.shape[0] + 1.6))
    sns.heatmap(table.astype(float), annot=True, fmt=".4f", cmap="viridis", ax=ax, cbar_kws={"label": value_label})
    ax.set_title(title)
    ax.set_xlabel(table.columns.name or "")
    ax.set_ylabel(table.index.name or "")
    fig.tight_layout()
    return fig


MARKERS = "osD^vP*X"
"""Marker per series, so series differ in shape as well as colour."""


def accuracy_comparison(table: pd.DataFrame, title: str = "Reported vs reproduced accuracy") -> Figure:
    """A dot per model (row of `table`) and source (column: reported, reproduced, ...), a marker and colour per
    source. Dots, not bars: a bar's length must start at 0, which would squeeze differences of a point or two into
    nothing, while a dot's position may be read on an axis zoomed to the range of the values."""
    fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(table) + 1.6))
    k = len(table.columns)
    rows = np.arange(len(table))
    for j, source in enumerate(table.columns):
        values = table[source].to_numpy(dtype=float)
        shown = np.isfinite(values)
        ax.scatter(values[shown], rows[shown] + (j - (k - 1) / 2) * 0.22, s=42, marker=MARKERS[j % len(MARKERS)],
                   color=_CB[j % len(_CB)], label=source, zorder=3)
    ax.set_yticks(rows, [str(name) for name in table.index])
    ax.set_ylim(len(table) - 0.5, -0.5)  # the first row on top
    values = table.to_numpy(dtype=float)
    low, high = np.nanmin(values), np.nanmax(values)
    pad = max(0.005, (high - low) * 0.08)
    ax.set_xlim(max(0.0, low - pad), min(1.0, high + pad))
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=1))
    ax.grid(axis="y", alpha=0.4)
    return _finish(fig, ax, "test accuracy (axis zoomed to the values)", "model", title, legend=True)


def _finish(fig: Figure, ax, xlabel: str, ylabel: str, title: str, legend: bool = False) -> Figure:
    """Label the axes, title the chart, put the legend (if asked) beside the chart and tighten the layout."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if legend:
        _legend_beside(ax)
    fig.tight_layout()
    return fig


def time_to_accuracy(runs: pd.DataFrame, title: str = "Test accuracy against training time",
                     target: tuple[float, float] | None = None) -> Figure:
    """One point per run (training seconds, plain test accuracy in %), a marker and colour per candidate; `target`
    (seconds, accuracy in %) shades the corner a recipe must reach: at most that time, at least that accuracy."""
    fig, ax = plt.subplots(figsize=(9, 4.2))
    markers = MARKERS
    for i, (name, part) in enumerate(runs.groupby("candidate", sort=False)):
        epochs = part["epochs"].iloc[0]
        ax.scatter(part["train_time_s"], part["plain_test_accuracy"] * 100, s=55, marker=markers[i % len(markers)],
                   color=_CB[i % len(_CB)], label=f"{name} ({epochs:g} epochs)")
    if target is not None:
        seconds, accuracy = target
        top = max(accuracy + 0.3, runs["plain_test_accuracy"].max() * 100 + 0.2)
        ax.fill_between([0, seconds], accuracy, top, color="grey", alpha=0.15,
                        label=f"target: {accuracy:g}% in {seconds:g} s")
        ax.set_xlim(left=0)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=9)  # beside the chart: it hides no point
    return _finish(fig, ax, "training time (seconds)", "plain test accuracy (%)", title)


def search_progress(trials: pd.DataFrame, title: str = "Search progress", reference: float | None = None,
                    reference_label: str = "study's best") -> Figure:
    """Each trial's validation accuracy in the order it ran, the best so far as a step line, and a reference."""
    ordered = trials.sort_values("order")
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.scatter(ordered["order"], ordered["score"], s=22, label="trial")
    ax.step(ordered["order"], ordered["score"].cummax(), where="post", color=_CB[1], label="best so far")
    if reference is not None:
        ax.axhline(reference, color=_CB[3], linestyle="--", linewidth=1, label=reference_label)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, min_n_ticks=1))  # trials are counted
    return _finish(fig, ax, "trial (in the order it ran)", "validation accuracy", title, legend=True)


def score_scatter(trials: pd.DataFrame, x: str = "learning_rate", title: str = "Learning rate vs score",
                  log: bool = True) -> Figure:
    """Validation accuracy of every trial against one hyperparameter (log axis for rates)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.scatter(trials[x], trials["score"], s=26)
    if log:
        ax.set_xscale("log")
    return _finish(fig, ax, x.replace("_", " "), "validation accuracy", title)


def depth_summary(table: pd.DataFrame, title: str = "Accuracy by number of conv layers",
                  reported: dict[int, tuple[float, float]] | None = None) -> Figure:
    """Every configuration's accuracy by depth (dots), the mean +- sd per depth, and a study's mean +- sd."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    sns.stripplot(data=table, x="depth", y="score", ax=ax, alpha=0.6, size=5, color=_CB[0], native_scale=True)
    stats = table.groupby("depth")["score"].agg(["mean", "std"])
    ax.errorbar(stats.index - 0.15, stats["mean"], yerr=stats["std"].fillna(0), fmt="o", color=_CB[0],
                capsize=4, label="this run: mean +- sd")
    if reported:
        depths = sorted(reported)
        ax.errorbar(np.array(depths) + 0.15, [reported[d][0] for d in depths], yerr=[reported[d][1] for d in depths],
                    fmt="s", color=_CB[3], capsize=4, label="study: mean +- sd")
    ax.set_xticks(sorted(table["depth"].unique()))
    return _finish(fig, ax, "conv layers", "validation accuracy", title, legend=True)


def pair_gallery(images: np.ndarray, y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray,
                 class_names: Sequence[str], name_a: str = "ANN", name_b: str = "CNN", n: int = 20, cols: int = 10,
                 title: str | None = None) -> Figure:
    """The first `n` images model B gets right and model A wrong, captioned with both predictions."""
    y_true, pred_a, pred_b = (np.asarray(a) for a in (y_true, pred_a, pred_b))
    idx = np.flatnonzero((pred_b == y_true) & (pred_a != y_true))[:n]
    rows = max(1, int(np.ceil(len(idx) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(1.45 * cols, 1.75 * rows + 0.5), squeeze=False)
    for ax, i in zip(axes.flat, idx):
        _image_axes(ax, images[i], f"{name_a}: {class_names[pred_a[i]]}\n{name_b}: {class_names[pred_b[i]]}",
                    color=RIGHT)
    for ax in list(axes.flat)[len(idx):]:
        ax.axis("off")
    fig.suptitle(title or f"Test images the {name_b} gets right and the {name_a} gets wrong ({len(idx)} shown)")
    fig.tight_layout()
    return fig


def transform_gallery(images: np.ndarray, variants: dict[str, dict[float, np.ndarray]],
                      title: str = "What the shifted test images look like") -> Figure:
    """One row per transformation, one column per strength, showing the first image at each strength.

    `variants` maps a transformation's name to {strength: transformed images}; `images` are the originals.
    """
    cols = max(len(v) for v in variants.values())
    fig, axes = plt.subplots(len(variants), cols, figsize=(1.3 * cols + 0.8, 1.45 * len(variants) + 0.4),
                             squeeze=False)
    for row, (kind, by_strength) in zip(axes, variants.items()):
        for ax, (strength, x) in zip(row, by_strength.items()):
            _image_axes(ax, x[0], f"{kind} {strength:g}")
        for ax in row[len(by_strength):]:
            ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def robustness_curves(table: pd.DataFrame, units: dict[str, str] | None = None,
                      title: str = "Accuracy as the test images move away from the training data") -> Figure:
    """One panel per transformation: accuracy against strength, one line per model (a tidy table with
    columns transformation, strength, model, accuracy, as `shifts.robustness_table` returns)."""
    kinds = list(dict.fromkeys(table["transformation"]))
    fig, axes = plt.subplots(1, len(kinds), figsize=(3.4 * len(kinds), 3.4), squeeze=False, sharey=True)
    for ax, kind in zip(axes[0], kinds):
        part = table[table["transformation"] == kind]
        sns.lineplot(data=part, x="strength", y="accuracy", hue="model", style="model", markers=True, dashes=True,
                     ax=ax, legend=ax is axes[0][-1])
        ax.axhline(0.1, color="grey", linestyle=":", linewidth=1)
        ax.set_title(kind)
        ax.set_xlabel((units or {}).get(kind, "strength"))
        ax.set_ylabel("test accuracy")
        ax.set_ylim(0, 1)
    legend = axes[0][-1].get_legend()
    if legend is not None:
        legend.set_title(None)
        sns.move_legend(axes[0][-1], "upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(f"{title} (dotted: chance)")
    fig.tight_layout()
    return fig


def learning_rate_schedule(steps: Sequence[int], rates: Sequence[float], steps_per_epoch: int | None = None,
                           title: str = "Learning rate over training") -> Figure:
    """A schedule's learning rate against the training step, its peak marked and named, and each epoch's end as a
    dotted line when `steps_per_epoch` is given (`rates[i]` is the rate at step `steps[i]`)."""
    steps, rates = np.asarray(steps), np.asarray(rates, dtype=float)
    if steps.shape != rates.shape or steps.ndim != 1 or steps.size == 0:
        raise ValueError(f"steps and rates must be 1-D and of one length, got {steps.shape} and {rates.shape}")
    fig, ax = plt.subplots(figsize=(7, 3.4))
    if steps_per_epoch:
        for end in range(steps_per_epoch, int(steps.max()) + 1, steps_per_epoch):
            ax.axvline(end, color="grey", linestyle=":", linewidth=1)
    ax.plot(steps, rates, color=_CB[0], linewidth=2, label="learning rate")
    top = int(np.argmax(rates))
    ax.plot(steps[top], rates[top], "o", color=_CB[3], label=f"peak {rates[top]:.2g} at step {steps[top]}")
    ax.set_ylim(bottom=0)
    return _finish(fig, ax, "training step" + (" (dotted: end of an epoch)" if steps_per_epoch else ""),
                   "learning rate", title, legend=True)


def seed_scores(runs: pd.DataFrame, title: str = "Test accuracy of every seed") -> Figure:
    """One panel per dataset, one row per model: a dot for each seed's test accuracy (a marker per seed) and a
    vertical bar at the mean over the seeds, so the spread between seeds shows beside the difference between models.
    `runs` has columns model, dataset, seed and test_accuracy (one row per training run)."""
    datasets = list(dict.fromkeys(runs["dataset"]))
    models = list(dict.fromkeys(runs["model"]))
    seeds = list(dict.fromkeys(runs["seed"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.6 * len(datasets) + 1.6, 0.55 * len(models) + 1.7),
                             squeeze=False)
    rows = {m: i for i, m in enumerate(models)}
    for ax, name in zip(axes[0], datasets):
        part = runs[runs["dataset"] == name]
        for j, seed in enumerate(seeds):
            one = part[part["seed"] == seed]
            ax.scatter(one["test_accuracy"], [rows[m] + (j - (len(seeds) - 1) / 2) * 0.12 for m in one["model"]],
                       s=36, marker=MARKERS[j % len(MARKERS)], color=_CB[j % len(_CB)], label=f"seed {seed}", zorder=3)
        means = part.groupby("model", sort=False)["test_accuracy"].mean()
        ax.scatter(means.to_numpy(), [rows[m] for m in means.index], s=260, marker="|", color="black",
                   linewidths=2, label="mean over seeds", zorder=4)
        ax.set_yticks(range(len(models)), models)
        ax.set_ylim(len(models) - 0.5, -0.5)
        low, high = part["test_accuracy"].min(), part["test_accuracy"].max()
        pad = max(0.003, (high - low) * 0.1)
        ax.set_xlim(max(0.0, low - pad), min(1.0, high + pad))
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=1))
        ax.grid(axis="y", alpha=0.4)
        ax.set_title(str(name))
        ax.set_xlabel("test accuracy (axis zoomed)")
        ax.set_ylabel("model")
    _legend_beside(axes[0][-1])
    fig.suptitle(title)
    fig.tight_layout()
    return fig
