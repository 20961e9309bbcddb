"""The analysis layer: scores and statistics (`evaluation`), sentences computed from a run (`claims`), data
exploration (`exploration`), distribution shifts (`shifts`) and every figure (`plots`).

Usage:
    from fmnist_helpers import evaluation, plots
    evaluation.noise_band([0.91, 0.92], n_test=10_000).points
"""
