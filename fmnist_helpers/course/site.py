"""HTML pages of executed notebooks, with alt text on every figure, and a static site of a whole run.

A figure's alt text is the `alt` entry of its cell's metadata (a sentence saying what the picture shows),
written by the notebook's author; the runner's HTML export puts it on each image of that cell, so a screen
reader or a broken image still says what the figure is.

Usage:
    export_page(Path("build/full/04_cnn.ipynb"), Path("build/full/04_cnn.html"))
    write_site(Path("build/full"), Path("site"))     # python -m fmnist_helpers site build/full site
"""
from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

from fmnist_helpers.base.atomic import write_text_atomic

IMAGE_TYPES = ("image/png", "image/jpeg")
NOTEBOOK_LINK = re.compile(r'href="(\d\d_[a-z0-9_]+)\.ipynb')
NAV_STYLE = ("position:sticky;top:0;z-index:10;background:#f7f7f7;border-bottom:1px solid #ccc;"
             "padding:.5em 1em;font-family:sans-serif")


def alt_texts(nb) -> list[tuple[str, str]]:
    """(image data, alt text) for every image output of a cell whose metadata has `alt`."""
    found = []
    for cell in nb.cells:
        alt = cell.get("metadata", {}).get("alt")
        if cell.cell_type != "code" or not alt:
            continue
        for output in cell.get("outputs", []):
            for mime in IMAGE_TYPES:
                data = output.get("data", {}).get(mime)
                if data:
                    found.append(("".join(data).replace("\n", ""), str(alt)))
    return found


def add_alt_text(page: str, nb) -> str:
    """Put each figure's alt text on its `<img>` in an nbconvert HTML page (replacing nbconvert's
    "No description has been provided for this image")."""
    for data, alt in alt_texts(nb):
        tag = re.compile(r'<img\b([^>]*?)\bsrc="data:(image/(?:png|jpeg));base64,' + re.escape(html.escape(data)) + '"')

        def with_alt(match: re.Match) -> str:
            attributes = re.sub(r'\s*\balt="[^"]*"', "", match.group(1))
            return (f'<img alt="{html.escape(alt, quote=True)}"{attributes} '
                    f'src="data:{match.group(2)};base64,{html.escape(data)}"')

        page = tag.sub(with_alt, page)
    return page


def export_page(executed: Path, target: Path) -> None:
    """Write the HTML page of an executed notebook, figures with their alt text, atomically."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed, as_version=4)
    body, _ = HTMLExporter().from_notebook_node(nb)
    write_text_atomic(target, add_alt_text(body, nb))


def navigation(pages: list[str], index: int) -> str:
    """The bar at the top of page `index`: the course index, the previous and the next notebook."""
    links = ['<a href="index.html">Course index</a>']
    if index > 0:
        links.append(f'<a href="{pages[index - 1]}">&larr; {html.escape(Path(pages[index - 1]).stem)}</a>')
    links.append(f"<strong>{html.escape(Path(pages[index]).stem)}</strong>")
    if index + 1 < len(pages):
        links.append(f'<a href="{pages[index + 1]}">{html.escape(Path(pages[index + 1]).stem)} &rarr;</a>')
    return f'<nav aria-label="course notebooks" style="{NAV_STYLE}">' + " | ".join(links) + "</nav>"


def write_site(run_dir: Path, site_dir: Path) -> list[Path]:
    """Copy a run's `index.html` and notebook pages into `site_dir`, each page with a navigation bar and its
    links to other notebooks (`00_primer.ipynb#glossary-epoch`) pointed at their pages.

    `run_dir` is a runner output folder (`build/full`); the result is plain files any static host serves.
    """
    run_dir, site_dir = Path(run_dir), Path(site_dir)
    pages = sorted(p.name for p in run_dir.glob("[0-9][0-9]_*.html"))
    if not pages or not (run_dir / "index.html").is_file():
        raise FileNotFoundError(f"{run_dir} has no executed notebook pages (NN_name.html) and index.html; run the "
                                "course there first: python -m fmnist_helpers run --profile full")
    if site_dir.resolve() == run_dir.resolve():
        raise ValueError("the site folder must differ from the run folder")
    site_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i, name in enumerate(pages):
        page = (run_dir / name).read_text(encoding="utf-8")
        page = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + navigation(pages, i), page, count=1)
        page = NOTEBOOK_LINK.sub(r'href="\1.html', page)  # links between notebooks, glossary anchors kept
        write_text_atomic(site_dir / name, page)
        written.append(site_dir / name)
    shutil.copyfile(run_dir / "index.html", site_dir / "index.html")
    written.append(site_dir / "index.html")
    return written
