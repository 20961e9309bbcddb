"""The base layer: where files go and how they are written (atomically), the profiles and parameter checks,
and the results file each notebook writes. It imports nothing else of the package.

Usage:
    from fmnist_helpers.base import params, results
    params.get_profile("quick").epochs_scale
"""
