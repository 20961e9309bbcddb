"""What training and search share: the precision a recipe trains in, how many steps run per TensorFlow call,
and the train/validation `tf.data` pipeline. TensorFlow is imported when a pipeline is made.

Usage:
    precision = training_precision("auto", spec.recipe)    # float32 where bfloat16 does not pay for this recipe
    steps = steps_per_epoch(len(split.y_train), spec.recipe.batch_size)
    train, val = train_val_datasets(split, spec.recipe, batch_size=128, seed=42, flip=True, num_classes=10)
    model.fit(train, validation_data=val, epochs=3)
"""
from __future__ import annotations

import numpy as np

from fmnist_helpers.data.preprocess import augmentation, make_dataset, to_model_input
from fmnist_helpers.data.splits import Split
from fmnist_helpers.models.registry import Recipe, uses_one_hot
from fmnist_helpers.training.precision import choose_precision

STEPS_PER_EXECUTION = 32  # training steps per TensorFlow call on the tf.data path (see `steps_per_call`)
VALIDATION_BATCH = 1024  # validation only predicts: one large batch per step


def training_precision(requested: str, recipe: Recipe) -> str:
    """The dtype policy to train `recipe` in: `requested`, or for "auto" what the hardware gains from, except
    bfloat16 on a CPU for a recipe that says it does not pay there (`recipe.cpu_bfloat16`)."""
    chosen = choose_precision(requested)
    if requested == "auto" and chosen == "mixed_bfloat16" and not recipe.cpu_bfloat16:
        return "float32"
    return chosen


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Training steps in one epoch of `n_train` images (the last batch may be short)."""
    return int(np.ceil(n_train / batch_size))


def steps_per_call(steps: int) -> int:
    """Training steps per TensorFlow call on the tf.data path: `STEPS_PER_EXECUTION`, at most one epoch's.

    The same arithmetic as one step per call, with less Python overhead per step (small models and batches).
    """
    return min(STEPS_PER_EXECUTION, steps)


def train_val_datasets(data: Split, recipe: Recipe, batch_size: int, seed: int, flip: bool, num_classes: int):
    """The training pipeline (shuffled, augmented as the recipe says) and the validation one -> (train, val).

    Labels are one-hot over `num_classes` when the recipe's loss wants them so. Augmentation flips only when
    `flip` (clothes, not digits) and is left out when it would do nothing.
    """
    augments = recipe.augment and (flip or recipe.shift > 0 or recipe.erase > 0)
    aug = augmentation(flip=flip, shift=recipe.shift, seed=seed, erase=recipe.erase) if augments else None
    classes = num_classes if uses_one_hot(recipe) else None
    train = make_dataset(to_model_input(data.x_train), data.y_train, batch_size, shuffle=True, seed=seed,
                         augment=aug, num_classes=classes)
    val = make_dataset(to_model_input(data.x_val), data.y_val, VALIDATION_BATCH, num_classes=classes)
    return train, val
