"""The studies layer: code that serves one study or one notebook: the `aueb` grid (`grid`), the side-by-side
comparison of the studies track's s06 (`comparison`), the recorded full run every notebook compares with (`reference`) and
the recorded speed benchmark notebook 04 shows (`speed`).

Usage:
    from fmnist_helpers import reference
    reference.label()
"""
