"""HTML pages with alt text on their figures, and a static site of a run with navigation between notebooks."""
import nbformat
import pytest

from fmnist_helpers.course.cli import main
from fmnist_helpers.course.site import add_alt_text, export_page, navigation, write_site

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _notebook(alt="A one-pixel test figure.") -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("show()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})]
    if alt:
        cell.metadata["alt"] = alt
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), cell]
    return nb


def test_the_exported_page_gives_each_figure_its_cells_alt_text(tmp_path):
    nbformat.write(_notebook('Curves of "train" and validation accuracy.'), tmp_path / "01_x.ipynb")
    export_page(tmp_path / "01_x.ipynb", tmp_path / "01_x.html")
    page = (tmp_path / "01_x.html").read_text()
    assert 'alt="Curves of &quot;train&quot; and validation accuracy."' in page


def test_a_figure_without_alt_metadata_is_left_as_it_was():
    page = f'<img src="data:image/png;base64,{PNG}"'
    assert add_alt_text(page, _notebook(alt=None)) == page


def test_navigation_links_the_index_and_the_neighbours():
    pages = ["01_a.html", "02_b.html", "03_c.html"]
    middle = navigation(pages, 1)
    assert 'href="index.html"' in middle and 'href="01_a.html"' in middle and 'href="03_c.html"' in middle
    assert 'href="03_c.html"' not in navigation(pages, 0).split("02_b")[0]
    assert "&rarr;" not in navigation(pages, 2)


def _run_folder(tmp_path):
    run = tmp_path / "full"
    run.mkdir()
    for name in ("01_a", "02_b"):
        (run / f"{name}.html").write_text(f"<html><body class='jp'><h1>{name}</h1>"
                                          f'<a href="00_primer.ipynb#glossary-epoch">epoch</a></body></html>')
    (run / "index.html").write_text("<html><body>index</body></html>")
    return run


def test_the_site_command_copies_every_page_with_its_navigation(tmp_path, capsys):
    assert main(["site", str(_run_folder(tmp_path)), str(tmp_path / "site")]) == 0
    first = (tmp_path / "site" / "01_a.html").read_text()
    assert first.startswith("<html><body class='jp'><nav") and 'href="02_b.html"' in first
    assert 'href="00_primer.html#glossary-epoch"' in first  # a link between notebooks points at the page
    assert (tmp_path / "site" / "index.html").read_text() == "<html><body>index</body></html>"
    assert "wrote 3 pages" in capsys.readouterr().out


def test_the_site_command_refuses_a_folder_without_a_run(tmp_path, capsys):
    assert main(["site", str(tmp_path), str(tmp_path / "site")]) == 2
    assert "no executed notebook pages" in capsys.readouterr().err


def test_the_site_cannot_overwrite_the_run_itself(tmp_path):
    run = _run_folder(tmp_path)
    with pytest.raises(ValueError, match="must differ"):
        write_site(run, run)
