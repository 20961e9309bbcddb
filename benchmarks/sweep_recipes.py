"""Which pack-CNN recipe reaches the most test accuracy in a given number of epochs? A screening sweep.

Each configuration (an architecture, an epoch count, batch size, peak learning rate, schedule, label smoothing,
augmentation) trains once per seed on the pack's 54,000-image split and is scored on the 10,000 test images, plain
and with flip test-time augmentation. It is plain Keras (numpy arrays in, the pack's augmentation block as layers
in front of the model, the registry's optimizer, schedules and loss), so it runs on any Keras backend. It screens:
one seed per configuration is enough to drop the clearly worse (a gap of a point against a seed-to-seed spread of
about 0.15), and `bench_time_to_accuracy.py` then measures the survivors with the pack's own `train_model` over 3
seeds on an idle machine. The training seconds it prints are only as good as the machine was quiet.

On a GPU machine that has JAX but no TensorFlow, run it with `KERAS_BACKEND=jax`. It prints the backend's devices
first (a JAX that silently fell back to the CPU shows there), and each row has the first epoch's seconds
(compilation included) apart from the median of the others. `--budget-s` starts no new run after that many
seconds, so a call with a hard time limit ends with whole rows.

Rows are appended to `--out`/sweep.csv as each run ends, so a run stopped at a time limit keeps what it did.

Usage:
    KERAS_BACKEND=jax python benchmarks/sweep_recipes.py --data-dir ../shared/data --out build/sweep
    .venv/bin/python benchmarks/sweep_recipes.py --only fast8 --seeds 1 --out build/sweep-cpu
"""
from __future__ import annotations

import argparse
import csv
import functools
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

ARCHS: dict[str, dict[str, Any]] = {
    # name: registry.pack_cnn builder arguments
    "pack": {},
    "pack_bn_each": {"norm_every_conv": True},
    "wide": {"filters": (48, 96), "dense": 256},
    "wide_bn_each": {"filters": (48, 96), "dense": 256, "norm_every_conv": True},
    # no dropout, or half of it: in a short run dropout may slow learning more than it regularises
    "pack_nodrop": {"block_dropout": (0.0, 0.0), "head_dropout": 0.0},
    "pack_halfdrop": {"block_dropout": (0.05, 0.1), "head_dropout": 0.15},
    "wide_halfdrop": {"filters": (48, 96), "dense": 256, "block_dropout": (0.05, 0.1), "head_dropout": 0.15},
}
SPEEDRUN_ARCHS: dict[str, dict[str, Any]] = {
    # name: registry.speedrun_cnn builder arguments (batch norm after every convolution, pooling inside blocks)
    "sr_small": {"widths": (32, 64, 128), "stem": 16},
    "sr_mid": {"widths": (48, 96, 128), "stem": 24},
    "sr_mid_keras_bn": {"widths": (48, 96, 128), "stem": 24, "fused": False},
    "sr_big": {"widths": (64, 128, 128), "stem": 24},
}


class Config(NamedTuple):
    """One screened recipe: AdamW and one of the registry's schedules (`registry.SCHEDULES`)."""

    arch: str  # a key of ARCHS
    epochs: int
    batch: int
    lr: float  # the peak learning rate
    schedule: str
    smoothing: float  # label smoothing
    shift: float  # augmentation shifts as a fraction of the side (0: flips only)
    ema: float = 0.0  # momentum of an exponential moving average of the weights, used at the end (0: none)
    erase: float = 0.0  # chance that random erasing blanks a patch of a training image (0: never)
    wd: float = 1e-4  # AdamW's weight decay; Keras multiplies it by the learning rate, so 1e-4 is next to none


CONFIGS: dict[str, Config] = {
    "today20": Config("pack", 20, 256, 3e-3, "warmup-cosine", 0.0, 0.08),
    "today8": Config("pack", 8, 256, 3e-3, "warmup-cosine", 0.0, 0.08),
    "fast8": Config("pack", 8, 256, 3e-3, "one-cycle", 0.1, 0.08),
    "fast8_noshift": Config("pack", 8, 256, 3e-3, "one-cycle", 0.1, 0.0),
    "fast8_bn": Config("pack_bn_each", 8, 256, 3e-3, "one-cycle", 0.1, 0.08),
    "fast8_bn_noshift": Config("pack_bn_each", 8, 256, 3e-3, "one-cycle", 0.1, 0.0),
    "fast8_lr6": Config("pack", 8, 256, 6e-3, "one-cycle", 0.1, 0.08),
    "fast8_b512": Config("pack", 8, 512, 4e-3, "one-cycle", 0.1, 0.08),
    "fast8_b128": Config("pack", 8, 128, 2e-3, "one-cycle", 0.1, 0.08),
    "fast8_ls0": Config("pack", 8, 256, 3e-3, "one-cycle", 0.0, 0.08),
    "fast8_wc_ls": Config("pack", 8, 256, 3e-3, "warmup-cosine", 0.1, 0.08),
    "fast10": Config("pack", 10, 256, 3e-3, "one-cycle", 0.1, 0.08),
    "fast10_bn": Config("pack_bn_each", 10, 256, 3e-3, "one-cycle", 0.1, 0.08),
    "fast6_bn_noshift": Config("pack_bn_each", 6, 256, 3e-3, "one-cycle", 0.1, 0.0),
    "long24": Config("pack", 24, 256, 3e-3, "one-cycle", 0.1, 0.08),
    "long24_bn": Config("pack_bn_each", 24, 256, 3e-3, "one-cycle", 0.1, 0.08),
    "wide12": Config("wide", 12, 256, 3e-3, "one-cycle", 0.1, 0.08),
    "wide12_bn": Config("wide_bn_each", 12, 256, 3e-3, "one-cycle", 0.1, 0.08),
    "wide16_bn": Config("wide_bn_each", 16, 256, 3e-3, "one-cycle", 0.1, 0.08),
    "fast8_noshift_nodrop": Config("pack_nodrop", 8, 256, 3e-3, "one-cycle", 0.1, 0.0),
    "fast8_noshift_halfdrop": Config("pack_halfdrop", 8, 256, 3e-3, "one-cycle", 0.1, 0.0),
    "fast8_noshift_ema": Config("pack", 8, 256, 3e-3, "one-cycle", 0.1, 0.0, ema=0.99),
    "fast8_noshift_lr6": Config("pack", 8, 256, 6e-3, "one-cycle", 0.1, 0.0),
    "fast8_noshift_b128": Config("pack", 8, 128, 2e-3, "one-cycle", 0.1, 0.0),
    "fast8_noshift_ls2": Config("pack", 8, 256, 3e-3, "one-cycle", 0.2, 0.0),
    # the dropout-free 8-epoch recipe with one more change each: a higher peak rate, a weight average, smaller batches
    "fast8_noshift_nodrop_lr5": Config("pack_nodrop", 8, 256, 5e-3, "one-cycle", 0.1, 0.0),
    "fast8_noshift_nodrop_ema": Config("pack_nodrop", 8, 256, 3e-3, "one-cycle", 0.1, 0.0, ema=0.99),
    "fast8_noshift_nodrop_b128": Config("pack_nodrop", 8, 128, 2e-3, "one-cycle", 0.1, 0.0),
    # toward the larger target (94.5% with flip TTA in 600 s): the short recipe run longer, with half or
    # none of the dropout, or on the wider model for fewer epochs
    "long24_noshift_nodrop": Config("pack_nodrop", 24, 256, 3e-3, "one-cycle", 0.1, 0.0),
    "long24_noshift_halfdrop": Config("pack_halfdrop", 24, 256, 3e-3, "one-cycle", 0.1, 0.0),
    "wide14_noshift_halfdrop": Config("wide_halfdrop", 14, 256, 3e-3, "one-cycle", 0.1, 0.0),
    "long26_noshift_halfdrop_erase": Config("pack_halfdrop", 26, 256, 3e-3, "one-cycle", 0.1, 0.0, erase=0.5),
    # 28 epochs of the pack CNN is about 560 s on the 2-core AVX-512 CPU: the longest run that fits the 600 s target,
    # with one change each against the best 24-epoch recipe so far (half the dropout: 94.24% with flip TTA, one seed)
    "long28_noshift_halfdrop": Config("pack_halfdrop", 28, 256, 3e-3, "one-cycle", 0.1, 0.0),
    "long28_noshift_halfdrop_lr5": Config("pack_halfdrop", 28, 256, 5e-3, "one-cycle", 0.1, 0.0),
    "long28_noshift_drop": Config("pack", 28, 256, 3e-3, "one-cycle", 0.1, 0.0),
    "long28_noshift_halfdrop_ls05": Config("pack_halfdrop", 28, 256, 3e-3, "one-cycle", 0.05, 0.0),
    "long28_noshift_halfdrop_ema": Config("pack_halfdrop", 28, 256, 3e-3, "one-cycle", 0.1, 0.0, ema=0.999),
    "long28_noshift_halfdrop_b512": Config("pack_halfdrop", 28, 512, 5e-3, "one-cycle", 0.1, 0.0),
    # real weight decay (AdamW decays by wd x rate a step), with half or none of the dropout; more smoothing
    "long28_noshift_halfdrop_wd05": Config("pack_halfdrop", 28, 256, 3e-3, "one-cycle", 0.1, 0.0, wd=0.05),
    "long28_noshift_nodrop_wd05": Config("pack_nodrop", 28, 256, 3e-3, "one-cycle", 0.1, 0.0, wd=0.05),
    "long28_noshift_halfdrop_wd01": Config("pack_halfdrop", 28, 256, 3e-3, "one-cycle", 0.1, 0.0, wd=0.01),
    "long28_noshift_halfdrop_ls15": Config("pack_halfdrop", 28, 256, 3e-3, "one-cycle", 0.15, 0.0),
    # on a CPU with AMX (bfloat16 ceiling about 1,540 GFLOP/s against 400 without), 600 s buys about twice the
    # epochs: the pack CNN for 48, with all or half of its dropout, or the wider one for 28
    "long48_noshift_drop": Config("pack", 48, 256, 3e-3, "one-cycle", 0.1, 0.0),
    "long48_noshift_halfdrop": Config("pack_halfdrop", 48, 256, 3e-3, "one-cycle", 0.1, 0.0),
    "wide28_noshift_halfdrop": Config("wide_halfdrop", 28, 256, 3e-3, "one-cycle", 0.1, 0.0),
    # toward 95% in 600 s without AMX (issue 35): batch norm after every convolution with pooling inside the blocks
    # (registry.speedrun_cnn), 2-pixel shifts back in (a longer run can repay them), flips, label smoothing
    "sr_small_24": Config("sr_small", 24, 256, 4e-3, "one-cycle", 0.1, 2 / 28),
    "sr_mid_14": Config("sr_mid", 14, 256, 4e-3, "one-cycle", 0.1, 2 / 28),
    "sr_mid_keras_bn_14": Config("sr_mid_keras_bn", 14, 256, 4e-3, "one-cycle", 0.1, 2 / 28),
    "sr_big_10": Config("sr_big", 10, 256, 4e-3, "one-cycle", 0.1, 2 / 28),
    "pack_nodrop_12": Config("pack_nodrop", 12, 256, 5e-3, "one-cycle", 0.1, 0.0),
    # the epochs of each width that fit about 600 s on the 2-core CPU without AMX (2,000 and 1,020 images/s)
    "sr_small_22": Config("sr_small", 22, 256, 4e-3, "one-cycle", 0.1, 2 / 28),
    "sr_mid_11": Config("sr_mid", 11, 256, 4e-3, "one-cycle", 0.1, 2 / 28),
    # the small one's 22 epochs (94.50% with flips and shifts, against 93.84% for the middle one's 11) with random
    # erasing in one image of two, which regularises a long run the way dropout would, at almost no cost
    "sr_small_22_erase": Config("sr_small", 22, 256, 4e-3, "one-cycle", 0.1, 2 / 28, erase=0.5),
    # larger batches: fewer, larger products per epoch, the peak rate scaled by the square root of the batch ratio
    "sr_small_b512_24": Config("sr_small", 24, 512, 4e-3 * 2 ** 0.5, "one-cycle", 0.1, 2 / 28),
}


def build(arch: str, shift: float, seed: int, erase: float = 0.0):
    """The architecture with the pack's augmentation (flips, and shifts when `shift`; random erasing with chance
    `erase`) in front: active in fit only."""
    import keras

    from fmnist_helpers.data.preprocess import augmentation
    from fmnist_helpers.models.registry import pack_cnn

    from fmnist_helpers.models.registry import speedrun_cnn

    keras.utils.set_random_seed(seed)
    net = speedrun_cnn(**SPEEDRUN_ARCHS[arch]) if arch in SPEEDRUN_ARCHS else pack_cnn(**ARCHS[arch])
    inputs = keras.Input((28, 28, 1))
    augmented = augmentation(flip=True, shift=shift, seed=seed)(inputs)
    if erase:  # a patch of 2-33% of the image set to 0 (the background), in one image of 1/erase
        erasing = keras.layers.RandomErasing((erase, erase), fill_value=0.0, value_range=(0, 1), seed=seed)
        augmented = erasing(augmented)
    outputs = net(augmented)
    return keras.Model(inputs, outputs), net


def epoch_clock():
    """A Keras callback that keeps each epoch's wall-clock seconds in `.seconds` (the first one includes the
    compilation of the training step)."""
    import keras

    class _EpochClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    return _EpochClock()


def backend_devices() -> str:
    """The Keras backend and the devices it computes on, e.g. "jax: [CudaDevice(id=0)]"."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return f"jax {jax.__version__}: {jax.devices()}"
    if backend == "tensorflow":
        import tensorflow as tf

        return f"tensorflow {tf.__version__}: {[d.name for d in tf.config.list_logical_devices()]}"
    return backend


@functools.lru_cache(maxsize=1)
def load(data_dir: str | None, seed: int):
    """The pack's 54,000/6,000 split at `seed`, model-ready: (x_train, y_train, x_test, y_test), kept per seed."""
    from fmnist_helpers.data.datasets import load_dataset
    from fmnist_helpers.data.preprocess import to_model_input
    from fmnist_helpers.data.splits import make_split

    split = make_split(load_dataset("fashion_mnist", data_dir, download=False, progress=False), "holdout-6000", seed)
    return (to_model_input(split.x_train), split.y_train.astype("int32"), to_model_input(split.x_test),
            split.y_test.astype("int32"))


def run_one(name: str, seed: int, data_dir: str | None, precision: str, epochs_override: int | None = None,
            train_images: int | None = None, test_images: int | None = None) -> dict[str, Any]:
    """Train one configuration on one seed and score it on the test images (the first `test_images` of them, for a
    quick check: a sweep's rows always use all 10,000)."""
    import keras

    from bench_time_to_accuracy import training_flops_per_image

    from fmnist_helpers.data.preprocess import ONE_PIXEL_SHIFTS, shift_images
    from fmnist_helpers.models.registry import Recipe, make_loss, make_optimizer
    from fmnist_helpers.training.fit import predict_proba

    arch, epochs, batch, lr, sched, smoothing, shift, ema, erase, wd = CONFIGS[name]
    epochs = epochs_override or epochs
    keras.mixed_precision.set_global_policy(precision)
    x, y, xt, yt = load(data_dir, seed)
    x, y, xt, yt = x[:train_images], y[:train_images], xt[:test_images], yt[:test_images]
    model, net = build(arch, shift, seed, erase)
    steps = math.ceil(len(x) / batch)
    recipe = Recipe("adamw", lr, weight_decay=wd, batch_size=batch, epochs=epochs, schedule=sched,
                    label_smoothing=smoothing)
    optimizer = make_optimizer(recipe, steps)
    if ema:  # read when the optimizer builds its slots; fit() copies the averages into the model at its end
        optimizer.use_ema, optimizer.ema_momentum = True, ema
    model.compile(optimizer, make_loss(recipe), metrics=["accuracy"])
    y1 = keras.utils.to_categorical(y, 10)
    clock = epoch_clock()
    start = time.perf_counter()
    model.fit(x, y1, batch_size=batch, epochs=epochs, verbose=0, shuffle=True, callbacks=[clock])
    seconds = time.perf_counter() - start
    p, pf = predict_proba(net, xt), predict_proba(net, xt[:, :, ::-1, :])
    shifted = sum(predict_proba(net, shift_images(view, dy, dx)) for view in (xt, xt[:, :, ::-1, :])
                  for dy, dx in ONE_PIXEL_SHIFTS)
    return {"config": name, "arch": arch, "epochs": epochs, "batch": batch, "lr": lr, "schedule": sched,
            "label_smoothing": smoothing, "shift": shift, "ema": ema, "erase": erase, "wd": wd,
            "seed": seed,
            "train_s": round(seconds, 2), "first_epoch_s": round(clock.seconds[0], 2),
            "epoch_s": round(statistics.median(clock.seconds[1:] or clock.seconds), 2),
            "plain": float((p.argmax(1) == yt).mean()), "tta": float(((p + pf).argmax(1) == yt).mean()),
            "tta_shifts": float(((p + pf + shifted).argmax(1) == yt).mean()),
            "mflop_per_image": round(training_flops_per_image(net) / 1e6, 2), "backend": keras.backend.backend(),
            "precision": precision}


COLUMNS = ["config", "arch", "epochs", "batch", "lr", "schedule", "label_smoothing", "shift", "ema", "erase", "wd",
           "seed", "train_s", "first_epoch_s", "epoch_s", "plain", "tta", "tta_shifts", "mflop_per_image", "backend", "precision"]
"""sweep.csv's columns, in order (run_one's row)."""


def check_columns(path: Path) -> None:
    """Stop before any training when `path` exists with other columns (an older sweep's file): appending to it
    would put values under the wrong headings."""
    if not path.exists():
        return
    with path.open(newline="") as fh:
        header = next(csv.reader(fh), [])
    if header != COLUMNS:
        raise SystemExit(f"{path} has the columns {header}, not this script's {COLUMNS}: give another --out "
                         "or move the old file away")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(CONFIGS), help="configurations to run (default: all)")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per configuration: 42, 43, ...")
    parser.add_argument("--data-dir", default=None, help="folder with fashion-mnist/ (default: $FMNIST_DATA_DIR)")
    parser.add_argument("--precision", default="mixed_bfloat16", help="Keras dtype policy (default: %(default)s)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=None, help="override every configuration's epochs (a check)")
    parser.add_argument("--train-images", type=int, default=None, help="train on the first N images (a check)")
    parser.add_argument("--budget-s", type=float, default=None,
                        help="start no new run after this many seconds (default: no limit)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    precision = args.precision
    path = args.out / "sweep.csv"
    check_columns(path)
    print(f"keras {backend_devices()}; precision {precision}", flush=True)
    began = time.perf_counter()
    for seed in range(42, 42 + args.seeds):
        for name in args.only or list(CONFIGS):
            if args.budget_s is not None and time.perf_counter() - began >= args.budget_s:
                print(f"stopping: {args.budget_s:.0f} s budget spent before {name} seed {seed}", flush=True)
                return
            row = run_one(name, seed, args.data_dir, precision, args.epochs, args.train_images)
            new = not path.exists()
            with path.open("a", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=COLUMNS)
                if new:
                    writer.writeheader()
                writer.writerow(row)
            print(f"{name:<18} seed {seed}: plain {row['plain']:.4f} tta {row['tta']:.4f} shifts {row['tta_shifts']:.4f} "
                  f"in {row['train_s']:.1f} s (first epoch {row['first_epoch_s']:.1f} s, then {row['epoch_s']:.2f} s "
                  f"each; {row['mflop_per_image']} MFLOP/img)", flush=True)


if __name__ == "__main__":
    main()
