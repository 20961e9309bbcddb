"""The training layer: train a registry model on a split (`fit`, with its `callbacks` and `history`) and save it for
reuse (`store`: paths, fingerprints, records, checks), and search hyperparameters with Keras Tuner (`search`);
both train in the `precision` and through the `pipeline` they share. TensorFlow is imported when a model is
trained, not when this package is imported.

Usage:
    from fmnist_helpers import training
    result = training.train_model("wits_cnn", split, profile=run.profile, seed=42, output_dir=run.output_dir)
"""
from fmnist_helpers.training.fit import (
    best_fold, fold_summary, predict_proba, profile_split, summarize, train_folds, train_model, train_on_dataset,
    train_repeats,
)
from fmnist_helpers.training.history import ends_at_epoch, tidy_history
from fmnist_helpers.training.store import TrainResult, load_trained

__all__ = [
    "TrainResult", "best_fold", "ends_at_epoch", "fold_summary", "load_trained", "predict_proba", "profile_split",
    "summarize", "tidy_history", "train_folds", "train_model", "train_on_dataset", "train_repeats",
]
