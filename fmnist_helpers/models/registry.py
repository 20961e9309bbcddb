"""The model registry: every architecture of the five studies, and the pack's own models, by a stable key.

Each entry carries the study's layers and its training recipe (optimizer, learning rate, loss, batch size,
epochs, split, early stopping) as defaults, the parameter count and the figures the study reports (both kept
in `published`), and a note on every setting the study left unstated and what the pack chose for it.

| key             | study | kind | reported parameters | parameters |
|-----------------|-------|------|---------------------|------------|
| `wits_cnn`      | wits  | cnn  | 83,322              | 83,322     |
| `kh_ann`        | kh    | mlp  | 535,818             | 535,818    |
| `kh_cnn`        | kh    | cnn  | 28,394              | 28,394     |
| `kh_cnn_reg`    | kh    | cnn  | 28,394              | 28,394     |
| `kh_cnn_best`   | kh    | cnn  | 1,030,218           | 1,030,218  |
| `bu_cnn`        | bu    | cnn  | -                   | 1,475,530  |
| `uw_mlp`        | uw    | mlp  | -                   | 550,385    |
| `uw_cnn`        | uw    | cnn  | -                   | 224,714    |
| `aueb_mlp2`     | aueb  | mlp  | 269,322             | 269,322    |
| `aueb_mlp3`     | aueb  | mlp  | 335,114             | 335,114    |
| `aueb_cnn1`     | aueb  | cnn  | 241,546             | 241,546    |
| `aueb_cnn2`     | aueb  | cnn  | 241,546             | 241,546    |
| `aueb_cnn3`     | aueb  | cnn  | 241,546             | 241,546    |
| `pack_mlp`      | pack  | mlp  | -                   | 1,467,914  |
| `pack_cnn`      | pack  | cnn  | -                   | 658,794    |
| `pack_cnn_fast` | pack  | cnn  | -                   | 658,794    |
| `pack_cnn_speedrun` | pack | cnn | -                 | 293,594    |
| `pack_cnn_wide` | pack  | cnn  | -                   | 1,034,778  |

"Reported parameters" is the count the study states (`-`: it states none; the pack's models are its own);
"parameters" is the count of the model `build_model` makes. `tests/test_docs.py` keeps this table equal to
`MODELS`.

Usage:
    spec = get_spec("wits_cnn")
    model = build_model("wits_cnn")          # uncompiled Keras model
    model.count_params()                     # 83322
    compile_model(model, spec.recipe, steps_per_epoch=375)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

from fmnist_helpers.models.published import REPORTED, REPORTED_PARAMS

OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
SPLITS = ("holdout-12000", "holdout-6000", "first-5000", "test-as-validation", "kfold-3")


@dataclass(frozen=True)
class Recipe:
    """How a model is trained: the study's settings, or the pack's."""

    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.0  # SGD only
    weight_decay: float = 0.0  # decoupled weight decay (Adam/AdamW)
    batch_size: int = 32
    epochs: int = 20
    split: str = "holdout-12000"
    one_hot: bool = False  # categorical (one-hot) vs sparse (integer) cross-entropy; same loss value
    from_logits: bool = False  # the model ends in raw scores instead of a softmax
    label_smoothing: float = 0.0
    early_stopping: int | None = None  # patience in epochs, watching validation loss
    restore_best: bool = False  # keep the weights of the best validation epoch
    schedule: str = "constant"  # "constant", "warmup-cosine" or "one-cycle" (see `SCHEDULES`)
    augment: bool = False  # random horizontal flips (and shifts, see `shift`) during training
    shift: float = 0.08  # augmentation shifts, as a fraction of the image side (0.08 of 28 is about 2 pixels)
    flip_tta: bool = False  # average the predictions for each test image and its mirror image
    cpu_bfloat16: bool = True  # worth running in bfloat16 on a CPU that supports it
    shift_tta: bool = False  # also average over each test view moved one pixel up, down, left and right
    erase: float = 0.0  # with augment: the chance that random erasing blanks a patch of a training image

    def as_dict(self) -> dict[str, Any]:
        """The recipe's settings; a setting added since runs were first saved is left out while it keeps its
        default (`ADDED_SETTINGS`), so that the fingerprints of the runs saved before it still match."""
        return {k: v for k, v in asdict(self).items() if ADDED_SETTINGS.get(k, object()) != v}


ADDED_SETTINGS: dict[str, Any] = {"shift_tta": False, "erase": 0.0}
"""Recipe settings added after runs were saved, with the default under which `Recipe.as_dict` leaves them out."""


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry: how to build the model, how to train it, and what its study reported."""

    key: str
    study: str
    kind: str  # "mlp" or "cnn"
    title: str
    build: Callable[[int], Any] = field(repr=False)
    recipe: Recipe
    reported_params: int | None = None
    reported: dict[str, float] = field(default_factory=dict)  # e.g. {"test_accuracy": 0.8939}
    notes: str = ""  # what the study left unstated and what the pack chose

    @property
    def reported_accuracy(self) -> float | None:
        """The study's headline accuracy for this model (test, else its validation figure)."""
        return self.reported.get("test_accuracy", self.reported.get("val_accuracy"))


def _layers():
    import keras

    return keras, keras.layers


def _head(keras, L, num_classes: int, from_logits: bool = False):
    return L.Dense(num_classes, activation=None if from_logits else "softmax", dtype="float32", name="output")


# -- the studies' architectures ----------------------------------------------------------------------------

WITS_CONV_NAMES = ("conv2d", "conv2d_1", "conv2d_2", "conv2d_3")
"""The `wits` CNN's convolution layers by the names its study's search uses for their hyperparameters."""


def wits_cnn(num_classes: int = 10, filters: tuple[int, int, int, int] = (16, 16, 32, 32),
             activations: tuple[str, str] = ("relu", "relu"), dropouts: tuple[float, float, float] = (0.5, 0.3, 0.2),
             dense: int = 128, conv_names: tuple[str | None, ...] = WITS_CONV_NAMES, name: str = "wits_cnn"):
    """The `wits` CNN: two blocks of two 3x3 convolutions, each block pooled and dropped out, then a dense layer.

    The arguments are what the study's random search varies (`activations`: the second block's two layers);
    the defaults are its baseline, the registry's `wits_cnn`. `conv_names` None lets Keras name a layer.
    """
    keras, L = _layers()
    f, n = filters, conv_names
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(f[0], 3, activation="relu", name=n[0]), L.Conv2D(f[1], 3, activation="relu", name=n[1]),
        L.MaxPooling2D(2), L.Dropout(dropouts[0]),
        L.Conv2D(f[2], 3, activation=activations[0], name=n[2]),
        L.Conv2D(f[3], 3, activation=activations[1], name=n[3]),
        L.MaxPooling2D(2), L.Dropout(dropouts[1]),
        L.Flatten(), L.Dense(dense, activation="relu"), L.Dropout(dropouts[2]), _head(keras, L, num_classes),
    ], name=name)


def _kh_ann(num_classes: int = 10):
    keras, L = _layers()
    return keras.Sequential([
        keras.Input((28, 28, 1)), L.Flatten(),
        L.Dense(512, activation="relu"), L.Dense(256, activation="relu"), L.Dropout(0.2),
        _head(keras, L, num_classes),
    ], name="kh_ann")


def _kh_cnn(num_classes: int = 10, dropout: float = 0.0, l2: float = 0.0, name: str = "kh_cnn"):
    keras, L = _layers()
    reg = keras.regularizers.L2(l2) if l2 else None
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(32, 3, activation="relu", kernel_regularizer=reg), L.MaxPooling2D(2),
        L.Conv2D(32, 3, activation="relu", kernel_regularizer=reg), L.MaxPooling2D(2),
        L.Conv2D(32, 3, activation="relu", kernel_regularizer=reg),
        L.Flatten(), *([L.Dropout(dropout)] if dropout else []),
        L.Dense(32, activation="relu", kernel_regularizer=reg), _head(keras, L, num_classes),
    ], name=name)


def _kh_cnn_reg(num_classes: int = 10):
    return _kh_cnn(num_classes, dropout=0.3, l2=1e-4, name="kh_cnn_reg")


def kh_grid_cnn(num_classes: int = 10, filters: tuple[int, ...] = (64, 64), dense: int = 128, dropout: float = 0.5,
                name: str = "kh_cnn_best"):
    """A CNN of the `kh` study's grid: 3x3 convolutions with 2x2 pooling between them, dropout, a dense layer.

    The arguments are what the grid varies; the defaults are its best point, the registry's `kh_cnn_best`
    (64-64 with 128 units, 1,030,218 parameters).
    """
    keras, L = _layers()
    body: list = []
    for i, width in enumerate(filters):
        body.append(L.Conv2D(width, 3, activation="relu"))
        if i < len(filters) - 1:
            body.append(L.MaxPooling2D(2))
    return keras.Sequential([keras.Input((28, 28, 1)), *body, L.Flatten(), L.Dropout(dropout),
                             L.Dense(dense, activation="relu"), _head(keras, L, num_classes)], name=name)


def _torch_batch_norm(L):
    """Batch norm with PyTorch's defaults: its running statistics move 10% per step (Keras's move 1%).

    With Keras's default, the short `bu` training (a few hundred steps) would leave the statistics used at
    evaluation time far from the data's, and the model would score near chance on validation and test. It is
    Keras's batch norm computed by TensorFlow's fused kernel (`models/layers.py`): on full-size maps at batch 1,000
    the `bu` CNN then trains 1.3-1.4x faster on a CPU (benchmarks/bench_batch_norm.py).
    """
    from fmnist_helpers.models.layers import FusedBatchNormalization

    return FusedBatchNormalization(momentum=0.9, epsilon=1e-5)


def _pack_batch_norm(L):
    """The pack CNN's batch norm: running statistics that move 10% per step, as in PyTorch.

    Keras's default (1%) needs thousands of steps to catch up with the weights; in the `quick` profile (about
    240 steps) the pack CNN scored 76.6% on Fashion-MNIST with it and 87.8% with this setting (seed 42).
    """
    return L.BatchNormalization(momentum=0.9)


def _bu_cnn(num_classes: int = 10):
    keras, L = _layers()
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(32, 3, padding="same"), _torch_batch_norm(L), L.ReLU(), L.MaxPooling2D(2),
        L.Conv2D(64, 3, padding="valid"), _torch_batch_norm(L), L.ReLU(), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(600), L.Dropout(0.25), L.Dense(120), _head(keras, L, num_classes, from_logits=True),
    ], name="bu_cnn")


def _uw_mlp(num_classes: int = 10):
    keras, L = _layers()
    reg = keras.regularizers.L2(1e-5)
    return keras.Sequential([
        keras.Input((28, 28, 1)), L.Flatten(),
        *[L.Dense(units, activation="relu", kernel_regularizer=reg) for units in (500, 250, 125)],
        _head(keras, L, num_classes),
    ], name="uw_mlp")


def _uw_cnn(num_classes: int = 10):
    keras, L = _layers()
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(16, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 3, padding="same", activation="relu"),
        L.Flatten(), L.Dense(64, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-4)),
        _head(keras, L, num_classes),
    ], name="uw_cnn")


def _aueb_mlp(hidden: int, num_classes: int = 10):
    keras, L = _layers()
    body = []
    for _ in range(hidden):
        body += [L.Dense(256, activation="relu"), L.Dropout(0.2)]
    return keras.Sequential([keras.Input((28, 28, 1)), L.Flatten(), *body, _head(keras, L, num_classes)],
                            name=f"aueb_mlp{hidden}")


def _aueb_cnn(dropout: float, name: str, num_classes: int = 10):
    keras, L = _layers()

    def drop():
        return [L.Dropout(dropout)] if dropout else []

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2), *drop(),
        L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), *drop(),
        L.Conv2D(128, 3, activation="relu"), *drop(),
        L.Flatten(), L.Dense(128, activation="relu"), *drop(), _head(keras, L, num_classes),
    ], name=name)


# -- the pack's own models ---------------------------------------------------------------------------------

def _pack_mlp(num_classes: int = 10):
    keras, L = _layers()
    body = []
    for units, rate in ((1024, 0.3), (512, 0.3), (256, 0.2)):
        body += [L.Dense(units, use_bias=False), L.BatchNormalization(), L.ReLU(), L.Dropout(rate)]
    return keras.Sequential([keras.Input((28, 28, 1)), L.Flatten(), *body, _head(keras, L, num_classes)],
                            name="pack_mlp")


def pack_cnn(num_classes: int = 10, filters: tuple[int, int] = (32, 64), dense: int = 256,
             head_dropout: float = 0.3, name: str = "pack_cnn", norm_every_conv: bool = False,
             block_dropout: tuple[float, float] = (0.1, 0.2)):
    """The pack's strong CNN; the arguments are what s05's search varies (defaults: the registry's).

    `block_dropout` is the dropout rate after each of the two blocks (the recipe benchmarks vary it).

    `norm_every_conv` puts batch norm between every convolution and its ReLU (the convolutions then lose their
    bias) instead of once after each pooling layer: a variant the recipe benchmarks compare, about twice the CPU
    time for no gain in 8 epochs (benchmarks/README.md).
    """
    keras, L = _layers()

    def conv(width: int, padding: str):
        if not norm_every_conv:
            return [L.Conv2D(width, 3, padding=padding, activation="relu", kernel_initializer="he_normal")]
        return [L.Conv2D(width, 3, padding=padding, use_bias=False, kernel_initializer="he_normal"),
                _pack_batch_norm(L), L.ReLU()]

    def block(width: int, padding: str, rate: float):
        pooled_norm = [] if norm_every_conv else [_pack_batch_norm(L)]
        return [*conv(width, padding), *conv(width, padding), L.MaxPooling2D(2), *pooled_norm, L.Dropout(rate)]

    return keras.Sequential([
        keras.Input((28, 28, 1)), *block(filters[0], "valid", block_dropout[0]),
        *block(filters[1], "same", block_dropout[1]),
        L.Flatten(), L.Dense(dense, use_bias=False), _pack_batch_norm(L), L.ReLU(), L.Dropout(head_dropout),
        _head(keras, L, num_classes),
    ], name=name)


def speedrun_cnn(num_classes: int = 10, widths: tuple[int, int, int] = (48, 96, 128), stem: int = 24,
                 fused: bool = True, name: str = "pack_cnn_speedrun"):
    """A CNN built for accuracy per second of CPU training: batch norm after every convolution, and the maps
    pooled right after the first convolution of each block, so that the second one runs on a quarter of the
    positions.

    A 3x3 stem on the full 28x28 image, then three blocks (28 -> 14 -> 7 -> 3 pixels), each a convolution to
    `widths[i]` filters, 2x2 max pooling, batch norm and ReLU, a second convolution, batch norm and ReLU; the
    largest response of each of the last filters anywhere in the image (global max pooling) feeds the output.
    """
    keras, L = _layers()
    if fused:
        from fmnist_helpers.models.layers import FusedBatchNormalization

    def norm():
        return FusedBatchNormalization(momentum=0.9) if fused else _pack_batch_norm(L)

    def conv_norm(width: int, pool: bool = False):
        conv = L.Conv2D(width, 3, padding="same", use_bias=False, kernel_initializer="he_normal")
        return [conv, *([L.MaxPooling2D(2)] if pool else []), norm(), L.ReLU()]

    body = conv_norm(stem)
    for width in widths:
        body += conv_norm(width, pool=True) + conv_norm(width)
    return keras.Sequential([keras.Input((28, 28, 1)), *body, L.GlobalMaxPooling2D(), _head(keras, L, num_classes)],
                            name=name)


def _pack_cnn(num_classes: int = 10):
    return pack_cnn(num_classes)


def _pack_cnn_fast(num_classes: int = 10):
    return pack_cnn(num_classes, block_dropout=(0.0, 0.0), head_dropout=0.0, name="pack_cnn_fast")


def _pack_cnn_wide(num_classes: int = 10):
    return pack_cnn(num_classes, filters=(48, 96), block_dropout=(0.05, 0.1), head_dropout=0.15, name="pack_cnn_wide")


PACK_FAST_RECIPE = Recipe("adamw", 5e-3, weight_decay=1e-4, batch_size=256, epochs=12, split="holdout-6000",
                          label_smoothing=0.1, restore_best=True, schedule="one-cycle", augment=True, shift=0.0,
                          flip_tta=True)
"""`pack_cnn_fast`'s recipe: 12 epochs of flips without shifts, one-cycle to a peak of 5e-3, label smoothing 0.1.
`pack_cnn_wide` runs it for 28 epochs at a peak of 3e-3."""

def _pack_cnn_speedrun(num_classes: int = 10):
    return speedrun_cnn(num_classes, widths=(32, 64, 128), stem=16, name="pack_cnn_speedrun")


SPEEDRUN_RECIPE = Recipe("adamw", 4e-3, weight_decay=1e-4, batch_size=256, epochs=20, split="holdout-6000",
                         label_smoothing=0.1, restore_best=True, schedule="one-cycle", augment=True, shift=2 / 28,
                         flip_tta=True, shift_tta=True)
"""`pack_cnn_speedrun`'s recipe: 20 epochs of flips and 2-pixel shifts, one-cycle to a peak of 4e-3, label smoothing
0.1, and test-time augmentation over flips and one-pixel shifts (10 views)."""

KH_RECIPE = Recipe("rmsprop", 1e-3, batch_size=64, epochs=20, split="test-as-validation", one_hot=True)
"""The `kh` study's recipe, for all its models and its grid search: RMSprop at Keras's default rate, batch 64, 20
epochs, the test set as validation, one-hot labels."""


def _kh_spec(key: str, kind: str, title: str, build: Callable[..., Any], notes: str) -> ModelSpec:
    """A `kh` study model: its recipe is the study's one (`KH_RECIPE`), its figures the ones published for `key`."""
    return ModelSpec(key, "kh", kind, title, build, KH_RECIPE, REPORTED_PARAMS[key], REPORTED[key], notes)

_AUEB_MLP_NOTE = ("Maximum epochs are not stated; the pack allows 60 with the study's patience of 10. The split is not "
                  "stated; the pack uses the wits 48k/12k stratified hold-out.")
_AUEB_CNN_NOTE = ("Learning rates, dropout rate, batch size, patience and split are not stated; the pack uses SGD 0.01 "
                  "with momentum 0.9 or Adam 1e-3, dropout 0.25, batch 128, patience 5 restoring the best epoch, "
                  "at most 30 epochs, on the 48k/12k hold-out.")

MODELS: dict[str, ModelSpec] = {s.key: s for s in [
    ModelSpec("wits_cnn", "wits", "cnn", "wits baseline CNN (2x2 conv blocks, dropout)", wits_cnn,
              Recipe("adam", 1e-3, batch_size=32, epochs=20, split="holdout-12000"),
              REPORTED_PARAMS["wits_cnn"], REPORTED["wits_cnn"],
              "Batch size is not stated: Keras's default of 32."),
    _kh_spec("kh_ann", "mlp", "kh ANN 512-256", _kh_ann,
             "The dropout rate is not stated: the pack uses 0.2. RMSprop keeps Keras's default rate 1e-3."),
    _kh_spec("kh_cnn", "cnn", "kh base CNN, no regularisation", _kh_cnn,
             "The study shows it overfitting and reports no accuracy for it."),
    _kh_spec("kh_cnn_reg", "cnn", "kh base CNN with dropout and L2", _kh_cnn_reg,
             "Dropout rate and L2 factor are not stated: the pack uses 0.3 after Flatten and L2 1e-4 on every layer."),
    _kh_spec("kh_cnn_best", "cnn", "kh best grid CNN (64-64, dense 128)", kh_grid_cnn,
             "The dropout rate is not stated: the pack uses 0.5."),
    ModelSpec("bu_cnn", "bu", "cnn", "bu batch-norm CNN", _bu_cnn,
              Recipe("adam", 1e-3, weight_decay=1e-5, batch_size=1000, epochs=5, split="kfold-3", from_logits=True,
                     cpu_bfloat16=False),
              None, REPORTED["bu_cnn"],
              "The fully connected sizes (600, 120) and the number of epochs are not stated; 600-120 follows the "
              "common PyTorch version of this network, and 5 epochs per fold matches its 'short training'. "
              "Batch norm uses PyTorch's running-statistics momentum. PyTorch's Adam weight decay is an L2 term; Keras applies it decoupled, a close equivalent at 1e-5. "
              "Its batch norm sits on full-size feature maps and uses TensorFlow's fused kernel (1.3-1.4x faster "
              "than Keras's own layer on the course's 2-core CPU, measured; the same arithmetic). It trains in "
              "float32 on CPUs: with Keras's layer bfloat16 was slower; with the fused kernel it was 1.6x faster in one "
              "short run on an AVX-512 CPU but only 1.03-1.14x on an AMX one, where over 2 seeds x 3 folds it "
              "scored 0.51 points lower (within noise, but lower in 5 of 6 pairs; benchmarks/README.md)."),
    ModelSpec("uw_mlp", "uw", "mlp", "uw MLP 500-250-125", _uw_mlp,
              Recipe("adam", 1e-4, batch_size=32, epochs=20, split="first-5000", restore_best=True),
              None, REPORTED["uw_mlp"],
              "Batch size is not stated: Keras's default of 32. The study reports its best epoch, so the pack "
              "restores the best validation epoch."),
    ModelSpec("uw_cnn", "uw", "cnn", "uw CNN 16-32-64, dense 64", _uw_cnn,
              Recipe("adam", 1e-3, batch_size=32, epochs=10, split="first-5000", restore_best=True),
              None, REPORTED["uw_cnn"],
              "Batch size is not stated: Keras's default of 32. The best validation epoch is restored."),
    ModelSpec("aueb_mlp2", "aueb", "mlp", "aueb MLP, 2 x 256", lambda n=10: _aueb_mlp(2, n),
              Recipe("adam", 1e-3, batch_size=512, epochs=60, split="holdout-12000", one_hot=True,
                     early_stopping=10, restore_best=True),
              REPORTED_PARAMS["aueb_mlp2"], REPORTED["aueb_mlp2"], _AUEB_MLP_NOTE),
    ModelSpec("aueb_mlp3", "aueb", "mlp", "aueb MLP, 3 x 256", lambda n=10: _aueb_mlp(3, n),
              Recipe("adam", 1e-4, batch_size=128, epochs=60, split="holdout-12000", one_hot=True,
                     early_stopping=10, restore_best=True),
              REPORTED_PARAMS["aueb_mlp3"], REPORTED["aueb_mlp3"], _AUEB_MLP_NOTE),
    ModelSpec("aueb_cnn1", "aueb", "cnn", "aueb CNN model 1: SGD, no dropout",
              lambda n=10: _aueb_cnn(0.0, "aueb_cnn1", n),
              Recipe("sgd", 1e-2, momentum=0.9, batch_size=128, epochs=30, split="holdout-12000", one_hot=True,
                     early_stopping=5, restore_best=True),
              REPORTED_PARAMS["aueb_cnn1"], REPORTED["aueb_cnn1"], _AUEB_CNN_NOTE),
    ModelSpec("aueb_cnn2", "aueb", "cnn", "aueb CNN model 2: SGD with dropout",
              lambda n=10: _aueb_cnn(0.25, "aueb_cnn2", n),
              Recipe("sgd", 1e-2, momentum=0.9, batch_size=128, epochs=30, split="holdout-12000", one_hot=True,
                     early_stopping=5, restore_best=True),
              REPORTED_PARAMS["aueb_cnn2"], REPORTED["aueb_cnn2"], _AUEB_CNN_NOTE),
    ModelSpec("aueb_cnn3", "aueb", "cnn", "aueb CNN model 3: Adam with dropout",
              lambda n=10: _aueb_cnn(0.25, "aueb_cnn3", n),
              Recipe("adam", 1e-3, batch_size=128, epochs=30, split="holdout-12000", one_hot=True,
                     early_stopping=5, restore_best=True),
              REPORTED_PARAMS["aueb_cnn3"], REPORTED["aueb_cnn3"], _AUEB_CNN_NOTE),
    ModelSpec("pack_mlp", "pack", "mlp", "pack strong MLP 1024-512-256 with batch norm", _pack_mlp,
              Recipe("adamw", 2e-3, weight_decay=1e-4, batch_size=256, epochs=40, split="holdout-6000",
                     label_smoothing=0.1, restore_best=True, schedule="warmup-cosine", augment=True, shift=0.0,
                     flip_tta=True),
              None, {},
              "Wider than the studies' MLPs, with batch norm so it trains fast at a high learning rate, dropout "
              "against the overfitting a 1.4M-parameter MLP shows, random flips as augmentation (not shifts: an MLP has "
              "no translation invariance, so shifted copies cost it more capacity than they teach), "
              "label smoothing, and a warm-up then cosine-decay schedule so the last epochs settle. Scored with "
              "flip test-time augmentation, like the pack's CNN."),
    ModelSpec("pack_cnn", "pack", "cnn", "pack strong CNN 32-32 / 64-64 with batch norm", _pack_cnn,
              Recipe("adamw", 3e-3, weight_decay=1e-4, batch_size=256, epochs=20, split="holdout-6000",
                     restore_best=True, schedule="warmup-cosine", augment=True, flip_tta=True),
              None, {},
              "Two VGG-style blocks (two 3x3 convolutions, then pooling) see larger shapes than one; the second "
              "block pads its input so the last maps stay 6x6; batch norm after each pooling layer steadies "
              "training at a high learning rate and stays cheap in bfloat16 because it normalises the small "
              "pooled maps (its running statistics move 10% per step, PyTorch's default, so that short runs "
              "evaluate well too); light dropout that grows with depth; flips and 2-pixel shifts as augmentation; AdamW "
              "with two warm-up epochs and cosine decay over 20 epochs, batch 256. Trained on 54,000 images with "
              "a 6,000-image stratified hold-out to pick the best epoch. At test time each image and its mirror "
              "image are both scored and the probabilities averaged (flip test-time augmentation; the record "
              "keeps the plain score too)."),
    ModelSpec("pack_cnn_fast", "pack", "cnn", "pack CNN, short recipe: 12 epochs, no dropout", _pack_cnn_fast,
              PACK_FAST_RECIPE, None, {},
              "The pack CNN's layers, trained for 12 epochs with a recipe picked for accuracy per second of training "
              "(benchmarks/sweep_recipes.py screened the variants for 8 epochs on one seed, bench_time_to_accuracy.py "
              "measured the survivors on 3, on two CPU cores). Each change from pack_cnn's recipe earned its place there: "
              "mirror-image flips but no shifts (in an 8-epoch run the shifted images cost about a point: a short "
              "run cannot repay the harder examples); the one-cycle schedule, which climbs to the peak rate over the "
              "first 30% of the steps and then decays to almost zero, so the last epoch settles; label smoothing "
              "0.1; no dropout (in so short a run the flips and label smoothing regularise enough and dropout slows "
              "learning: 0.5 points better without it, on each of 3 seeds); and a peak rate of 5e-3 instead of 3e-3 "
              "(0.31 points on the screening's seed). What did not help: batch norm after every convolution (twice "
              "the CPU time), batch 512 or 128, a moving average of the weights. AdamW, batch 256, the same "
              "54,000/6,000 split and flip test-time augmentation as pack_cnn. Why 12 epochs: on a 2-core CPU "
              "without AMX 8 epochs reached 93.60% plain in 156 s (3 seeds), but on the 2-core CPU with AMX the "
              "course is measured on they fell just short twice (93.46%, 93.44%) in about 80 s, while 12 epochs "
              "reached 93.77% in 112 s, every seed above 93.5%. Without AMX 12 epochs take about 4 minutes."),
    ModelSpec("pack_cnn_speedrun", "pack", "cnn", "speedrun CNN, batch norm each conv, 20 epochs",
              _pack_cnn_speedrun, SPEEDRUN_RECIPE, None, {},
              "A CNN and recipe aimed at 95% on Fashion-MNIST in 600 s of training on two CPU cores without AMX "
              "(issue 35). Batch norm follows every convolution, and each block pools right after its first "
              "convolution, so the second runs on a quarter of the positions: 16 filters on the full image, then "
              "32, 64 and 128 in blocks at 28, 14 and 7 pixels, global max pooling and the output (about the FLOPs "
              "of pack_cnn). Screened on one seed against a wider version for fewer epochs (benchmarks/sweep_recipes.py, "
              "sr_*): 22 epochs of the small one reached 94.50% with flip and shift test-time augmentation, the "
              "middle one (48-96-128) 93.84% in its 11 epochs, and random erasing in one image of two gave nothing "
              "(94.21%). Shifts of 2 pixels are back in the augmentation (a run this long repays them), and the "
              "test images are scored in 10 views: each image and its mirror image, each also moved one pixel up, "
              "down, left and right (0.23 points over flips alone on the screening seed). AdamW, batch 256, the "
              "one-cycle schedule to a peak of 4e-3, label smoothing 0.1 and the 54,000/6,000 split as pack_cnn_fast. "
              "It does not reach its aim: over 3 seeds without AMX (recorded/speedrun_fashion_mnist.json) it scored "
              "93.79% plain and 94.24% with the 10 views in a median 434 s, no better than pack_cnn_fast's 94.27% "
              "with flips in 209 s in the same run (within the seeds' spread). 20 epochs were chosen to stay inside "
              "600 s at the screen's speed on a shared machine; the record's pace leaves room for about 27."),
    ModelSpec("pack_cnn_wide", "pack", "cnn", "pack CNN, wider layers, 28-epoch recipe", _pack_cnn_wide,
              replace(PACK_FAST_RECIPE, learning_rate=3e-3, epochs=28), None, {},
              "The pack CNN's layers at 1.5x the width (48-48 and 96-96 filters, about 2.2x the FLOPs per image) with "
              "pack_cnn_fast's recipe run for 28 epochs: the larger setting of the speed benchmark, aimed at 94.5% "
              "with flip test-time augmentation in 10 minutes of CPU training. A screening of 35 runs on a GPU "
              "(benchmarks/sweep_recipes.py) showed why the width: at pack_cnn's width every recipe change tried "
              "(dropout, peak rate, a weight average, label smoothing, batch size, real weight decay) levelled off "
              "at 94.3-94.4% with flips after 28 epochs and about 94.5% after 48, while the wider layers reached "
              "94.86% on their first seed. A run this long needs some regularisation again, so half of pack_cnn's "
              "dropout (0.05 and 0.1 after the blocks, 0.15 in the head; none scored lower over 24 epochs), and the "
              "peak rate goes back to 3e-3 (5e-3 gave nothing at 28 epochs). Flips without shifts, the one-cycle "
              "schedule, label smoothing 0.1, AdamW, batch 256 and the 54,000/6,000 split as pack_cnn_fast. In the full "
              "profile the studies track's s05 tunes the space around it (tuning.PACK_WIDE_SPACE) and s06 trains it as "
              "the pack's CNN."),
]}


def get_spec(key: str) -> ModelSpec:
    """The registry entry for `key`; a clear error listing the keys if it is unknown."""
    if key not in MODELS:
        raise KeyError(f"unknown model {key!r}; the registry has: {', '.join(MODELS)}")
    return MODELS[key]


def study_models(study: str | None = None, kind: str | None = None) -> list[ModelSpec]:
    """Registry entries filtered by study key and/or kind ("mlp" or "cnn")."""
    return [s for s in MODELS.values() if (study is None or s.study == study) and (kind is None or s.kind == kind)]


def with_recipe(spec: ModelSpec, **changes: Any) -> ModelSpec:
    """A copy of `spec` with some recipe settings changed (e.g. the aueb grid's batch size and optimizer)."""
    unknown = set(changes) - set(Recipe.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown recipe settings {sorted(unknown)}; accepted: {', '.join(Recipe.__dataclass_fields__)}")
    recipe = replace(spec.recipe, **changes)
    check_recipe(recipe)
    return replace(spec, recipe=recipe)


SCHEDULES = {
    "constant": "the recipe's learning rate throughout",
    "warmup-cosine": "two warm-up epochs from a tenth of the rate, then cosine decay to 1% of it",
    "one-cycle": "a linear rise from 1/25 of the rate over the first 30% of the steps, then cosine decay to 0.1% "
                 "of it (Smith's one-cycle policy, with a cosine descent)",
}
"""The learning-rate schedules a recipe may name, and what each does over the run's steps."""


def check_recipe(recipe: Recipe) -> None:
    """Raise a ValueError naming the setting if a recipe holds a value the trainer cannot use."""
    if recipe.optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer {recipe.optimizer!r} is not accepted; choose one of: {', '.join(OPTIMIZERS)}")
    if recipe.split not in SPLITS:
        raise ValueError(f"split {recipe.split!r} is not accepted; choose one of: {', '.join(SPLITS)}")
    if recipe.schedule not in SCHEDULES:
        raise ValueError(f"schedule {recipe.schedule!r} is not accepted; choose one of: {', '.join(SCHEDULES)}")
    if not 0 < recipe.learning_rate <= 1:
        raise ValueError(f"learning_rate must lie in (0, 1], got {recipe.learning_rate!r}")
    if not isinstance(recipe.batch_size, int) or recipe.batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {recipe.batch_size!r}")
    if not isinstance(recipe.epochs, int) or recipe.epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {recipe.epochs!r}")
    if not 0 <= recipe.erase <= 1:
        raise ValueError(f"erase must lie in [0, 1] (the chance an image is erased), got {recipe.erase!r}")


def build_model(key: str | ModelSpec, num_classes: int = 10):
    """A fresh, uncompiled model of registry entry `key` (in the current Keras dtype policy)."""
    spec = key if isinstance(key, ModelSpec) else get_spec(key)
    return spec.build(num_classes)


def make_optimizer(recipe: Recipe, steps_per_epoch: int, epochs: int | None = None):
    """The recipe's optimizer, with its learning-rate schedule laid out over `epochs` (default: the recipe's)."""
    import keras

    check_recipe(recipe)
    epochs = epochs or recipe.epochs
    lr: Any = recipe.learning_rate
    total = epochs * steps_per_epoch
    if recipe.schedule == "warmup-cosine":
        warmup = min(2, max(epochs - 1, 0)) * steps_per_epoch
        lr = keras.optimizers.schedules.CosineDecay(
            recipe.learning_rate * 0.1, decay_steps=max(total - warmup, 1), alpha=0.01,
            warmup_target=recipe.learning_rate if warmup else None, warmup_steps=warmup)
    elif recipe.schedule == "one-cycle":
        warmup = int(0.3 * total)
        lr = keras.optimizers.schedules.CosineDecay(
            recipe.learning_rate / 25, decay_steps=max(total - warmup, 1), alpha=0.001,
            warmup_target=recipe.learning_rate if warmup else None, warmup_steps=warmup)
    wd = recipe.weight_decay or None
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(lr, weight_decay=wd)
    if recipe.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=recipe.weight_decay)
    if recipe.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(lr)
    return keras.optimizers.SGD(lr, momentum=recipe.momentum)


def make_loss(recipe: Recipe):
    """Cross-entropy on one-hot or integer labels, from probabilities or logits, with label smoothing."""
    import keras

    if recipe.one_hot or recipe.label_smoothing:
        return keras.losses.CategoricalCrossentropy(from_logits=recipe.from_logits,
                                                    label_smoothing=recipe.label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=recipe.from_logits)


def uses_one_hot(recipe: Recipe) -> bool:
    """Whether training feeds one-hot labels (categorical loss) rather than integers."""
    return recipe.one_hot or recipe.label_smoothing > 0


def compile_model(model, recipe: Recipe, steps_per_epoch: int, epochs: int | None = None,
                  steps_per_execution: int = 1):
    """Compile `model` with the recipe's optimizer and loss, tracking accuracy; returns the model.

    `steps_per_execution` > 1 runs that many training steps in one TensorFlow call: the same arithmetic with
    less Python overhead per step, which matters for small models and small batches.
    """
    metric = "categorical_accuracy" if uses_one_hot(recipe) else "sparse_categorical_accuracy"
    import keras

    acc = (keras.metrics.CategoricalAccuracy(name="accuracy") if metric == "categorical_accuracy"
           else keras.metrics.SparseCategoricalAccuracy(name="accuracy"))
    model.compile(optimizer=make_optimizer(recipe, steps_per_epoch, epochs), loss=make_loss(recipe), metrics=[acc],
                  steps_per_execution=steps_per_execution)
    return model


def layer_table(model) -> "Any":
    """A DataFrame of the model's layers: name, type, output shape and parameters (a readable summary)."""
    import pandas as pd

    rows = [{"layer": layer.name, "type": type(layer).__name__,
             "output shape": str(tuple(layer.output.shape[1:])) if hasattr(layer, "output") else "",
             "parameters": layer.count_params()} for layer in model.layers]
    return pd.DataFrame(rows)


def architecture_differences(mine, reference) -> list[str]:
    """How a hand-written Keras model differs from another (e.g. the registry's): layer types, output shapes
    and parameter counts, layer by layer, then the totals. An empty list means the same architecture.

        architecture_differences(my_model, build_model("kh_ann"))   # [] when they match
    """
    def rows(model) -> list[tuple[str, str, int]]:
        return [(r["type"], r["output shape"], int(r["parameters"])) for r in layer_table(model).to_dict("records")]

    a, b = rows(mine), rows(reference)
    problems = [f"layer {i + 1}: yours is {x[0]} {x[1]} with {x[2]:,} parameters, the reference's is "
                f"{y[0]} {y[1]} with {y[2]:,}" for i, (x, y) in enumerate(zip(a, b)) if x != y]
    if len(a) != len(b):
        problems.append(f"yours has {len(a)} layers, the reference has {len(b)}")
    if mine.count_params() != reference.count_params():
        problems.append(f"yours has {mine.count_params():,} parameters in all, the reference "
                        f"{reference.count_params():,}")
    return problems
