"""Helpers for the Fashion-MNIST course pack: verified data, the studies' splits, preprocessing,
exploration statistics, plots, results records and the course runner.

Usage:
    from fmnist_helpers import load_dataset
    ds = load_dataset("fashion_mnist")
"""
import os as _os

# Keep TensorFlow's C++ start-up chatter out of notebooks and CI logs (errors still show).
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .data import Dataset, load_dataset  # noqa: E402

__all__ = ["Dataset", "load_dataset"]
__version__ = "0.1.0"
