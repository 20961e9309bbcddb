"""Which module holds each notebook's exercises, and a notebook named by stem, number or name.

Usage:
    NOTEBOOKS["04_cnn"]      # "nb04"
    _stem("04")              # "04_cnn"
"""
from __future__ import annotations

NOTEBOOKS = {  # notebook stem -> the module that defines its exercises
    "00_primer": "nb00",
    "01_exploration": "nb01",
    "02_preprocessing": "nb02",
    "03_mlp": "nb03",
    "04_cnn": "nb04",
    "05_tuning": "nb05",
    "06_ann_vs_cnn": "nb06",
    "07_strong_cnn": "nb07",
    "08_capstone": "nb08",
}


def _stem(notebook: str) -> str:
    name = notebook.removesuffix(".ipynb").rsplit("/", 1)[-1]
    hits = [s for s in NOTEBOOKS if name in (s, s[:2], s[3:])]
    if len(hits) != 1:
        raise KeyError(f"no exercises for notebook {notebook!r}; choose one of: {', '.join(NOTEBOOKS)} "
                       f"(or its number, e.g. '04')")
    return hits[0]
