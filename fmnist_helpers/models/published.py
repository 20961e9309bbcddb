"""Every figure the five studies published, in one place, and the targets the pack sets for its own models.

Nothing here is measured by the course: each number is copied from a study's report (accuracies are fractions,
0.895 is 89.5%). The registry, the search spaces, the notebooks and the report read them from here. The studies,
by their keys and report titles (notebook 00 introduces each one):

    wits  "Classifying MNIST-Fashion Clothing Articles Using Convolutional Neural Networks" (June 2021):
          the baseline CNN's figures, its per-class accuracies and confusions, its random search (`WITS_*`)
    kh    "Convolution Neural Network on fashion_mnist" (March 2021): the ANN and CNN figures, the final
          ANN-vs-CNN table (`KH_TABLE`) and the accuracy by number of conv layers (`KH_BY_DEPTH`)
    uw    "Fashion MNIST Classification using Artificial Neural Networks" (March 2020): the MLP and CNN figures
    aueb  "Fashion item recognition": the MLP and CNN figures and the best cell of its MLP grid (`AUEB_GRID_BEST`)
    bu    "Fashion MNIST classification using PyTorch Convolution Neural Network with Cross-Validation":
          the CNN's validation figure
    pack  the course's own models: no published figure, only the targets it aims for (`PACK_TARGETS`)

Usage:
    from fmnist_helpers.models import published
    published.REPORTED["wits_cnn"]["test_accuracy"]     # 0.895
    published.REPORTED_PARAMS["kh_ann"]                  # 535818
    published.WITS_SEARCH["best5"][0]                    # 0.9163
"""
from __future__ import annotations

STUDIES: dict[str, str] = {
    "wits": "Classifying MNIST-Fashion Clothing Articles Using Convolutional Neural Networks",
    "kh": "Convolution Neural Network on fashion_mnist",
    "uw": "Fashion MNIST Classification using Artificial Neural Networks",
    "aueb": "Fashion item recognition",
    "bu": "Fashion MNIST classification using PyTorch Convolution Neural Network with Cross-Validation",
}
"""Each study's key and the title of its report."""

# -- the registry models' figures ---------------------------------------------------------------------------

REPORTED_PARAMS: dict[str, int] = {
    "wits_cnn": 83_322,
    "kh_ann": 535_818, "kh_cnn": 28_394, "kh_cnn_reg": 28_394, "kh_cnn_best": 1_030_218,
    "aueb_mlp2": 269_322, "aueb_mlp3": 335_114, "aueb_cnn1": 241_546, "aueb_cnn2": 241_546, "aueb_cnn3": 241_546,
}
"""The parameter count each study reports for its model, by registry key (`uw` and `bu` report none)."""

REPORTED: dict[str, dict[str, float]] = {
    "wits_cnn": {"val_accuracy": 0.906, "test_accuracy": 0.895, "epoch_1_loss": 0.67, "epoch_1_accuracy": 0.75,
                 "epoch_20_loss": 0.29, "epoch_20_accuracy": 0.90},
    "kh_ann": {"test_accuracy": 0.8803, "mnist_test_accuracy": 0.9775},
    "kh_cnn": {},  # the study shows it overfitting and reports no accuracy for it
    "kh_cnn_reg": {"test_accuracy": 0.8961},
    "kh_cnn_best": {"test_accuracy": 0.9063, "grid_accuracy": 0.9105, "mnist_test_accuracy": 0.9889},
    "bu_cnn": {"val_accuracy": 0.88},
    "uw_mlp": {"test_accuracy": 0.8939, "val_accuracy": 0.9004, "test_loss": 0.346},
    "uw_cnn": {"test_accuracy": 0.9161, "val_accuracy": 0.9232, "test_loss": 0.295},
    "aueb_mlp2": {"test_accuracy": 0.8951, "final_test_accuracy": 0.8901},
    "aueb_mlp3": {"test_accuracy": 0.8966, "final_test_accuracy": 0.8922},
    "aueb_cnn1": {"test_accuracy": 0.9125},
    "aueb_cnn2": {"test_accuracy": 0.9106},
    "aueb_cnn3": {"test_accuracy": 0.9152, "test_loss": 0.240},
}
"""The figures each study reports for its model, by registry key: Fashion-MNIST unless the name says MNIST."""

# -- wits: the tuned CNN and the search ---------------------------------------------------------------------

WITS_PER_CLASS: dict[str, float] = {"Shirt": 0.740, "Pullover": 0.879, "Coat": 0.891, "Trouser": 0.982,
                                    "Sneaker": 0.973, "Ankle boot": 0.966}
"""The per-class test accuracies the `wits` study reports for its tuned CNN (the classes it lists)."""

WITS_CONFUSIONS: dict[tuple[str, str], float] = {("Coat", "Shirt"): 0.051, ("Shirt", "Coat"): 0.076,
                                                 ("Coat", "Pullover"): 0.032}
"""Shares of a true class the `wits` study reports predicted as another (true, predicted)."""

WITS_SEARCH: dict[str, float | tuple[float, ...]] = {
    "best5": (0.9163, 0.9050, 0.9045, 0.9036, 0.9017), "best_learning_rate": 0.00231,
    "untuned_val_accuracy": 0.8994, "tuned_val_accuracy": 0.916}
"""The `wits` study's search results: its best five validation scores, the winner's learning rate, and more."""

# -- kh: the ANN-vs-CNN table and the depth grid ------------------------------------------------------------

KH_TABLE: dict[str, dict[str, float]] = {
    "MNIST": {"ANN": REPORTED["kh_ann"]["mnist_test_accuracy"], "CNN": REPORTED["kh_cnn_best"]["mnist_test_accuracy"]},
    "Fashion-MNIST": {"ANN": REPORTED["kh_ann"]["test_accuracy"], "CNN": REPORTED["kh_cnn_best"]["test_accuracy"]},
}
"""The `kh` study's final table, dataset -> role -> test accuracy of its ANN (`kh_ann`) and best CNN
(`kh_cnn_best`): the same figures as `REPORTED`, laid out as the study's table."""

KH_BY_DEPTH: dict[int, tuple[float, float]] = {1: (0.8775, 0.0048), 2: (0.9020, 0.0055), 3: (0.8871, 0.0083)}
"""The `kh` study's mean and standard deviation of accuracy by number of conv layers."""

# -- aueb: the MLP grid -------------------------------------------------------------------------------------

AUEB_GRID_BEST: dict[int, tuple[str, float, int]] = {2: ("adam", 1e-3, 512), 3: ("adam", 1e-4, 128)}
"""The `aueb` study's best grid cell per number of hidden layers: (optimizer, learning rate, batch size)."""

# -- the pack's own aims ------------------------------------------------------------------------------------

PACK_TARGETS: dict[tuple[str, str], float] = {("fashion_mnist", "CNN"): 0.935, ("fashion_mnist", "ANN"): 0.900,
                                              ("mnist", "CNN"): 0.994, ("mnist", "ANN"): 0.984}
"""What the pack's own models aim for on the test sets, by (dataset, role): set by the course, not published."""
