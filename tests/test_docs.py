"""The documentation stays true to the code: the README is a short front door whose links resolve, the model
table in the registry's docstring is the registry, every module's `Usage:` lines name things that exist, every
documented command line is one the command line accepts, and the measured results quote the recorded run."""
from __future__ import annotations

import ast
import builtins
import importlib
import json
import re
import shlex
import textwrap
import types
from pathlib import Path

import pytest

import fmnist_helpers

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "fmnist_helpers"
README = ROOT / "README.md"
PAGES = [README, ROOT / "RESULTS.md", ROOT / "benchmarks" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MODULES = sorted(PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _prose(text: str) -> str:
    """A Markdown page without its fenced code blocks (links there are code, not links)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens, repeats
    numbered."""
    seen: dict[str, int] = {}
    anchors = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *$", _prose(page.read_text()), flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _links(page: Path) -> list[str]:
    """The relative link targets of a page (web addresses left out)."""
    targets = re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", _prose(page.read_text()))
    return [t for t in targets if not re.match(r"^[a-z]+:", t)]


# ---------------------------------------------------------------------------------------------- the front door


def test_the_readme_is_a_front_door_under_200_lines():
    assert len(README.read_text().splitlines()) < 200


def test_every_documentation_page_exists():
    assert all(page.is_file() for page in PAGES), [str(p) for p in PAGES if not p.is_file()]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_an_existing_file_and_heading(page):
    broken = []
    for target in _links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.name}")
    assert broken == []


def test_the_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path):
    (tmp_path / "a.md").write_text("# One heading\n\n[ok](#one-heading) [gone](b.md) [no](#two) [web](https://x.org)\n"
                                   "```\n[code](not-a-link.md)\n```\n")
    assert _links(tmp_path / "a.md") == ["#one-heading", "b.md", "#two"]
    assert _anchors(tmp_path / "a.md") == {"one-heading"}


def _named_modules(text: str) -> set[str]:
    """The modules a piece of Markdown names in backticks, with a range such as `nb00`-`nb06` spelt out."""
    def spell_out(m: re.Match) -> str:
        prefix, first, last = m.group(1) or "", int(m.group(2)), int(m.group(3))
        return ", ".join(f"`{prefix}nb{i:02d}`" for i in range(first, last + 1))

    text = re.sub(r"`([\w/]*?)nb(\d\d)`(?:-| \.\.\. )`[\w/]*?nb(\d\d)`", spell_out, text)
    return set(re.findall(r"`([\w/]+)`", text))


def _package_modules() -> dict[str, set[str]]:
    """Layer -> the modules in its folder."""
    return {layer: {p.stem for p in (PACKAGE / layer).glob("*.py") if p.stem != "__init__"}
            for layer in fmnist_helpers.LAYERS}


def test_the_readme_map_lists_every_layer_in_order_with_its_modules():
    rows = {}
    for line in README.read_text().splitlines():
        m = re.match(r"\| `(\w+)` \| ([^|]+) \|", line)
        if m and m.group(1) in fmnist_helpers.LAYERS:
            rows[m.group(1)] = _named_modules(m.group(2))
    assert list(rows) == list(fmnist_helpers.LAYERS)
    assert rows == _package_modules()


def test_the_package_page_describes_every_module():
    named = _named_modules((ROOT / "docs" / "package.md").read_text())
    missing = sorted(f"{layer}/{m}" for layer, mods in _package_modules().items() for m in mods
                     if f"{layer}/{m}" not in named)
    assert missing == []


def test_a_range_of_notebook_modules_is_spelt_out():
    assert _named_modules("`core`, `nb00`-`nb02`") == {"core", "nb00", "nb01", "nb02"}
    assert _named_modules("`exercises/nb05` ... `exercises/nb06`") == {"exercises/nb05", "exercises/nb06"}


def test_the_readme_links_every_page_that_was_moved_out_of_it():
    targets = {t.partition("#")[0] for t in _links(README)}
    assert {"RESULTS.md", "benchmarks/README.md", "docs/distributed-search.md"} <= targets
    assert {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")} <= targets


# ---------------------------------------------------------------------------------------------- the model table


def _docstring_model_table() -> dict[str, list[str]]:
    from fmnist_helpers.models import registry

    rows = {}
    for line in registry.__doc__.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.strip().startswith("| `") and len(cells) >= 4:
            key = cells[0].strip("`")
            assert key not in rows, f"{key} appears twice in the registry's model table"
            rows[key] = cells[1:]
    return rows


def test_the_registry_docstring_lists_every_model_once_with_its_study_and_kind():
    from fmnist_helpers.models.registry import MODELS

    table = _docstring_model_table()
    assert list(table) == list(MODELS)
    assert {k: row[:2] for k, row in table.items()} == {k: [s.study, s.kind] for k, s in MODELS.items()}


def test_the_registry_docstring_gives_each_models_reported_and_built_parameter_counts():
    from fmnist_helpers.models.registry import MODELS, build_model

    def count(n: int | None) -> str:
        return "-" if n is None else f"{n:,}"

    table = _docstring_model_table()
    assert {k: row[2] for k, row in table.items()} == {k: count(s.reported_params) for k, s in MODELS.items()}
    assert {k: row[3] for k, row in table.items()} == {k: count(build_model(k).count_params()) for k in MODELS}


# ---------------------------------------------------------------------------------------------- usage lines


def _usage(path: Path) -> str | None:
    """The indented lines after `Usage:` in a module's docstring, dedented."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    if "Usage:" not in doc:
        return None
    lines = []
    for line in doc.split("Usage:", 1)[1].splitlines()[1:]:
        if line.strip() and not line.startswith((" ", "\t")):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines)).strip("\n")


def _resolve(name: str, namespace: dict, module: types.ModuleType):
    """What a bare name in a module's usage refers to: the module's own globals, the module itself by its short
    name, or a part of the package by its short name or layer; None for a value the example does not define."""
    if name in namespace:
        return namespace[name]
    if name == module.__name__.rsplit(".", 1)[-1]:
        return module
    if name in fmnist_helpers.SHORT_NAMES or name in fmnist_helpers.LAYERS:
        return importlib.import_module(f"fmnist_helpers.{fmnist_helpers.SHORT_NAMES.get(name, name)}"
                                       + (f".{name}" if name in fmnist_helpers.SHORT_NAMES else ""))
    return None


def usage_problems(code: str, module: types.ModuleType) -> list[str]:
    """What is wrong with a usage example: code that does not compile, a package import that does not resolve,
    a function it calls that does not exist, or `module.attribute` naming an attribute that module lacks."""
    try:
        tree = compile(code, module.__name__, "exec", ast.PyCF_ONLY_AST)
    except SyntaxError as e:
        return [f"does not compile: {e}"]
    namespace = dict(vars(module))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fmnist_helpers"):
            source = importlib.import_module(node.module)
            for alias in node.names:
                try:
                    value = getattr(source, alias.name)
                except AttributeError:
                    try:
                        value = importlib.import_module(f"{node.module}.{alias.name}")
                    except ImportError:
                        problems.append(f"from {node.module} import {alias.name}: no such name")
                        continue
                namespace[alias.asname or alias.name] = value
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("fmnist_helpers"):
                    importlib.import_module(alias.name)
                    namespace[alias.asname or alias.name.split(".")[0]] = fmnist_helpers
    defined = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name not in defined and name not in namespace and not hasattr(builtins, name):
                problems.append(f"{name}(...): not defined in {module.__name__}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id not in defined:
            owner = _resolve(node.value.id, namespace, module)
            if isinstance(owner, (types.ModuleType, type)) and not hasattr(owner, node.attr):
                problems.append(f"{node.value.id}.{node.attr}: {owner.__name__} has no attribute {node.attr!r}")
    return problems


def _command_problems(code: str) -> list[str]:
    """Which `python -m fmnist_helpers ...` lines the command line would refuse."""
    from fmnist_helpers.course.cli import build_parser

    problems = []
    for line in code.splitlines():
        words = shlex.split(line, comments=True)
        if words[:3] in (["python", "-m", "fmnist_helpers"], [".venv/bin/python", "-m", "fmnist_helpers"]):
            try:
                build_parser().parse_args(words[3:])
            except SystemExit:
                problems.append(line.strip())
    return problems


def _is_shell(code: str) -> bool:
    return all(line.split()[0] in ("python", ".venv/bin/python") for line in code.splitlines() if line.strip())


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_every_module_docstring_has_a_usage_example(path):
    assert _usage(path), f"{_module_name(path)} has no indented lines after 'Usage:' in its docstring"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_every_usage_example_compiles_and_names_what_exists(path):
    code = _usage(path) or ""
    if _is_shell(code):
        assert _command_problems(code) == []
    else:
        module = importlib.import_module(_module_name(path)) if path.name != "__main__.py" else fmnist_helpers
        assert usage_problems(code, module) == []


def test_the_usage_check_finds_a_missing_function_attribute_and_import():
    from fmnist_helpers.models import registry

    assert usage_problems("build_model('wits_cnn')\nregistry.MODELS\nx = 1\nx.anything", registry) == []
    assert usage_problems("build_modle('wits_cnn')", registry) == ["build_modle(...): not defined in "
                                                                    "fmnist_helpers.models.registry"]
    assert usage_problems("registry.get_model('x')", registry) == [
        "registry.get_model: fmnist_helpers.models.registry has no attribute 'get_model'"]
    assert usage_problems("from fmnist_helpers.training import trian", registry) == [
        "from fmnist_helpers.training import trian: no such name"]
    assert usage_problems("x = (", registry)[0].startswith("does not compile")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_line_in_the_docs_is_one_the_command_line_accepts(page):
    blocks = re.findall(r"^```(?:bash|sh)\n(.*?)^```", page.read_text(), flags=re.S | re.M)
    assert _command_problems("\n".join(blocks)) == []


def test_the_command_check_refuses_an_unknown_subcommand_or_option():
    assert _command_problems("python -m fmnist_helpers run --only 01\n.venv/bin/python -m fmnist_helpers tidy") == []
    assert _command_problems("python -m fmnist_helpers runn\npython -m fmnist_helpers run --fast") == [
        "python -m fmnist_helpers runn", "python -m fmnist_helpers run --fast"]


# ---------------------------------------------------------------------------------------------- figures in the docs


def test_the_readme_environment_table_is_the_settings_list():
    from fmnist_helpers.base import settings

    assert settings.markdown_table() in README.read_text()


def _results_rows() -> dict[str, list[str]]:
    """RESULTS.md's reproduction table: registry key -> its cells (study reported, recorded full run, ...)."""
    text = (ROOT / "RESULTS.md").read_text()
    table = text.split("<!-- reproduction table -->", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines():
        m = re.match(r"\| \**`(\w+)`\**[^|]*\|(.*)\|$", line)
        if m:
            rows[m.group(1)] = [c.strip() for c in m.group(2).split("|")]
    return rows


def _percent(cell: str) -> float | None:
    m = re.search(r"(\d+\.\d+)%", cell)
    return float(m.group(1)) if m else None


def test_the_results_page_quotes_the_recorded_full_run_for_every_registry_model():
    from fmnist_helpers.models.registry import MODELS
    from fmnist_helpers.studies.reference import RECORDED

    recorded = json.loads(RECORDED.read_text())["models"]["fashion_mnist"]
    rows = _results_rows()
    assert set(rows) == set(MODELS)
    quoted = {k: row for k, row in rows.items() if k in recorded}
    assert {k: _percent(row[1]) for k, row in quoted.items()} == {
        k: round(100 * recorded[k]["test_accuracy"], 2) for k in quoted}
    from fmnist_helpers.studies.speed import NOT_IN_FULL_RUN

    assert set(rows) - set(recorded) == set(NOT_IN_FULL_RUN)
    for key in NOT_IN_FULL_RUN:  # a model the recorded run lacks says so, with no figure
        assert "not in the recorded full run" in rows[key][1] and _percent(rows[key][1]) is None, key


def test_the_results_page_quotes_each_studys_reported_figure_from_the_registry():
    from fmnist_helpers.models.registry import MODELS

    for key, row in _results_rows().items():
        spec = MODELS[key]
        if spec.study != "pack" and spec.reported.get("test_accuracy") is not None:
            assert _percent(row[0]) == round(100 * spec.reported["test_accuracy"], 2), key


def test_the_results_page_names_the_recorded_run_it_quotes():
    from fmnist_helpers.studies.reference import RECORDED

    recorded = json.loads(RECORDED.read_text())
    text = (ROOT / "RESULTS.md").read_text()
    for run in (recorded["run"], *recorded.get("updates", [])):
        assert run["date"] in text and run["commit"][:7] in text, run["commit"]
