"""The analysis layer: scores and tables (`evaluation`), the tests and verdict words (`statistics`), sentences
computed from a run (`claims`), data exploration (`exploration`), distribution shifts (`shifts`) and every figure
(`plots`).

Usage:
    from fmnist_helpers import evaluation, statistics
    statistics.against_reported(0.91, 10_000, reported=0.92).verdict
"""
