"""The data layer: read and verify the IDX files (`idx`, `datasets`), fetch them (`download`), cut the studies'
splits (`splits`), turn images into model input (`preprocess`) and write notebook 08's folder of digit images
(`capstone`). It imports only the base layer.

Usage:
    from fmnist_helpers.data import load_dataset
    ds = load_dataset("fashion_mnist")
"""
from fmnist_helpers.data.datasets import DATASETS, DataFileError, Dataset, DatasetSpec, dataset_spec, load_dataset

__all__ = ["DATASETS", "DataFileError", "Dataset", "DatasetSpec", "dataset_spec", "load_dataset"]
