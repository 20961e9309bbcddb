"""The studies layer: code that serves one study or one notebook: the `aueb` grid (`grid`), the side-by-side
comparison of notebook 06 (`comparison`) and the recorded full run every notebook compares with (`reference`).

Usage:
    from fmnist_helpers import reference
    reference.label()
"""
