"""The training layer: train a registry model on a split and save it for reuse (`fit`, with its `store`,
`callbacks` and `precision`), and search hyperparameters with Keras Tuner (`search`). TensorFlow is imported
when a model is trained, not when this package is imported.

Usage:
    from fmnist_helpers import training
    result = training.train_model("wits_cnn", split, profile=run.profile, seed=42, output_dir=run.output_dir)
"""
from fmnist_helpers.training.fit import (
    TrainResult, best_fold, fold_summary, load_trained, predict_proba, profile_split, summarize, tidy_history,
    train_folds, train_model, train_on_dataset, train_repeats,
)

__all__ = [
    "TrainResult", "best_fold", "fold_summary", "load_trained", "predict_proba", "profile_split", "summarize",
    "tidy_history", "train_folds", "train_model", "train_on_dataset", "train_repeats",
]
