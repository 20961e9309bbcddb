"""Numbers that describe a dataset: class counts, pixel statistics, class means, embeddings,
a nearest-mean baseline and exact duplicates between train and test.

Usage:
    class_count_table(ds)            # DataFrame: class x (train, test)
    pixel_stats(ds.x_train)          # {"mean": 72.9, "std": 90.0, ...}
    nearest_mean_accuracy(ds)        # how far a class's average image gets you
    nearest_neighbour_accuracy(ds, n_train=2_000)   # 1-NN: look up the closest training image
    neighbour_purity(points, labels)  # per class: how much of a 2-D map's neighbourhood shares the class
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from fmnist_helpers.data.datasets import Dataset
from fmnist_helpers.analysis.evaluation import per_class_accuracy  # noqa: F401  (kept here for notebook 01)

LOOKALIKES: dict[str, tuple[str, ...]] = {
    "fashion_mnist": ("T-shirt/top", "Shirt", "Pullover", "Coat"),
    "mnist": ("3", "5", "8", "4", "9"),
}
"""Classes that are easy to confuse, by dataset (shown side by side in notebook 01)."""


def class_count_table(ds: Dataset) -> pd.DataFrame:
    """Images per class in train and test, indexed by class name."""
    k = ds.num_classes
    return pd.DataFrame(
        {"train": np.bincount(ds.y_train, minlength=k), "test": np.bincount(ds.y_test, minlength=k)},
        index=pd.Index(ds.class_names, name="class"),
    )


def pixel_stats(images: np.ndarray) -> dict[str, float]:
    """Mean, standard deviation, range and share of pure-black pixels (values on the 0-255 scale)."""
    x = np.asarray(images, dtype=np.float64)
    return {
        "mean": float(x.mean()), "std": float(x.std()), "min": float(x.min()), "max": float(x.max()),
        "zero_fraction": float((x == 0).mean()),
    }


def mean_images(images: np.ndarray, labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """The average image of each class, shape (num_classes, H, W), on the 0-255 scale."""
    images = np.asarray(images, dtype=np.float64)
    out = np.zeros((num_classes, *images.shape[1:]))
    for c in range(num_classes):
        members = images[labels == c]
        if len(members) == 0:
            raise ValueError(f"class {c} has no images, so it has no mean image")
        out[c] = members.mean(axis=0)
    return out


def mean_image_similarity(means: np.ndarray, class_names: tuple[str, ...]) -> pd.DataFrame:
    """Pearson correlation between class mean images: high values flag look-alike classes."""
    flat = means.reshape(len(means), -1)
    return pd.DataFrame(np.corrcoef(flat), index=list(class_names), columns=list(class_names))


def most_similar_pairs(similarity: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """The `top` most correlated pairs of different classes, highest first."""
    names = list(similarity.index)
    rows = [(names[i], names[j], similarity.iat[i, j])
            for i in range(len(names)) for j in range(i + 1, len(names))]
    df = pd.DataFrame(rows, columns=["class a", "class b", "correlation"])
    return df.sort_values("correlation", ascending=False, ignore_index=True).head(top)


def nearest_mean_predictions(ds: Dataset) -> np.ndarray:
    """Label each test image with the class whose mean training image is closest (Euclidean)."""
    means = mean_images(ds.x_train, ds.y_train, ds.num_classes).reshape(ds.num_classes, -1)
    x = ds.x_test.reshape(len(ds.x_test), -1).astype(np.float64)
    # squared distance = |x|^2 - 2 x.m + |m|^2; |x|^2 is the same for every class, so drop it
    return (x @ means.T * 2 - (means**2).sum(axis=1)).argmax(axis=1)


def nearest_mean_accuracy(ds: Dataset) -> float:
    """Test accuracy of the nearest-mean classifier: how far a class's average image gets you."""
    return float((nearest_mean_predictions(ds) == ds.y_test).mean())


def nearest_neighbour_predictions(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                                  chunk: int = 500) -> np.ndarray:
    """Label each test image with the label of its closest training image (Euclidean distance, 1-NN).

    Works through the test images `chunk` at a time, so memory stays at chunk x len(x_train) floats.
    """
    train = np.asarray(x_train, dtype=np.float32).reshape(len(x_train), -1) / 255.0
    test = np.asarray(x_test, dtype=np.float32).reshape(len(x_test), -1) / 255.0
    if train.shape[1] != test.shape[1]:
        raise ValueError(f"train and test images differ in size: {train.shape[1]} and {test.shape[1]} pixels")
    if not len(train):
        raise ValueError("the nearest-neighbour rule needs at least one training image")
    y_train = np.asarray(y_train)
    train_sq = (train**2).sum(axis=1)
    out = np.empty(len(test), dtype=y_train.dtype)
    for start in range(0, len(test), chunk):
        block = test[start:start + chunk]
        # squared distance = |x|^2 - 2 x.t + |t|^2; |x|^2 is the same for every training image, so drop it
        out[start:start + chunk] = y_train[(train_sq[None, :] - 2 * block @ train.T).argmin(axis=1)]
    return out


def nearest_neighbour_accuracy(ds: Dataset, n_train: int | None = None, seed: int = 42) -> float:
    """Test accuracy of the 1-nearest-neighbour rule that looks up a stratified sample of `n_train`
    training images (None: all of them). No learning at all: a lower bound any trained model should beat."""
    idx = np.arange(len(ds.y_train)) if n_train is None else stratified_sample(ds.y_train, n_train, seed=seed)
    pred = nearest_neighbour_predictions(ds.x_train[idx], ds.y_train[idx], ds.x_test)
    return float((pred == ds.y_test).mean())


def neighbour_purity(points: np.ndarray, labels: np.ndarray, k: int = 10, num_classes: int = 10) -> np.ndarray:
    """Per class, the mean share of each point's `k` nearest neighbours (itself excluded) that carry its label.

    1.0: the class forms islands of its own in the map; near 1/num_classes: it is mixed with the others.
    """
    from sklearn.neighbors import NearestNeighbors

    points, labels = np.asarray(points), np.asarray(labels)
    if len(points) != len(labels):
        raise ValueError(f"{len(points)} points but {len(labels)} labels")
    if not 1 <= k < len(points):
        raise ValueError(f"k must lie in 1..{len(points) - 1} (the number of other points), got {k}")
    _, neighbours = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    same = (labels[neighbours[:, 1:]] == labels[:, None]).mean(axis=1)
    out = np.full(num_classes, np.nan)
    for c in range(num_classes):
        if (labels == c).any():
            out[c] = same[labels == c].mean()
    return out


def pca_2d(images: np.ndarray, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """Project images onto their first two principal components; returns (points, explained ratio)."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, random_state=seed)
    points = pca.fit_transform(np.asarray(images, dtype=np.float32).reshape(len(images), -1) / 255.0)
    return points, pca.explained_variance_ratio_


def tsne_2d(images: np.ndarray, seed: int = 42, perplexity: float = 30.0) -> np.ndarray:
    """t-SNE of images (after a 50-component PCA, the usual speed-up); use a few thousand at most.

    It runs on one thread: the map then depends on the seed alone, not on how many cores add up its sums, and an
    OpenMP team does not spin against other work on a busy CPU (on the 2-core machine, 300 points took 1.1 s on one
    thread and 3.1 s on two while two other processes ran).
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    x = np.asarray(images, dtype=np.float32).reshape(len(images), -1) / 255.0
    n_comp = min(50, len(x) - 1, x.shape[1])
    perplexity = min(perplexity, (len(x) - 1) / 3)
    with threadpool_limits(limits=1):  # the PCA too: its sums, split over threads, differ in the last bits
        reduced = PCA(n_components=n_comp, random_state=seed).fit_transform(x)
        return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
                    n_jobs=1).fit_transform(reduced)


def stratified_sample(labels: np.ndarray, n: int, seed: int = 42) -> np.ndarray:
    """Indices of `n` images with (as near as possible) the same number from each class, sorted."""
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    per = int(np.ceil(n / len(classes)))
    picked = [rng.permutation(np.flatnonzero(labels == c))[:per] for c in classes]
    return np.sort(rng.permutation(np.concatenate(picked))[:n])


def first_of_each_class(labels: np.ndarray, per_class: int, num_classes: int = 10) -> np.ndarray:
    """Indices of the first `per_class` images of every class, ordered class by class."""
    return np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(num_classes)])


def exact_duplicates(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Indices into `b` of images that also appear, byte for byte, in `a`."""
    seen = {hashlib.blake2b(img.tobytes(), digest_size=16).digest() for img in a}
    return np.array([i for i, img in enumerate(b)
                     if hashlib.blake2b(img.tobytes(), digest_size=16).digest() in seen], dtype=np.int64)
