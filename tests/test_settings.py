"""`base.settings` is the one list of environment variables: every variable the package reads or sets is in it,
no module spells a variable's name itself, and the README's table is rendered from it."""
import ast
import importlib
import re
from pathlib import Path

import pytest

import fmnist_helpers
from fmnist_helpers.base import settings
from fmnist_helpers.base.params import PROFILES

PACKAGE = Path(fmnist_helpers.__file__).parent
ROOT = PACKAGE.parent
SOURCES = sorted(PACKAGE.rglob("*.py"))
ENVIRON_METHODS = {"get", "setdefault", "pop", "__getitem__", "__contains__"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ")


def _variable_expressions(tree: ast.AST) -> list[ast.expr]:
    """The expressions that name a variable in `os.environ.get(x)`, `.setdefault(x, ...)`, `.pop(x)`,
    `os.environ[x]`, `x in os.environ`, `os.getenv(x)` and `dict(os.environ, X=...)`."""
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if node.func.attr in ENVIRON_METHODS and _is_environ(node.func.value):
                found.append(node.args[0])
            elif node.func.attr in ("getenv", "putenv", "unsetenv"):
                found.append(node.args[0])
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            found.append(node.slice)
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            found.append(node.left)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict"
              and node.args and _is_environ(node.args[0])):
            found.extend(ast.Constant(k.arg) for k in node.keywords if k.arg)
    return found


def _variables_used(path: Path) -> set[str]:
    """The variable names a module reads or sets, each name expression evaluated in the module's namespace."""
    expressions = _variable_expressions(ast.parse(path.read_text(encoding="utf-8")))
    if not expressions:
        return set()
    namespace = vars(importlib.import_module(_module_name(path)))
    names = set()
    for expr in expressions:
        try:
            names.add(eval(compile(ast.Expression(expr), str(path), "eval"), dict(namespace)))  # noqa: S307
        except NameError as err:
            pytest.fail(f"{path.relative_to(ROOT)}:{expr.lineno}: the variable name `{ast.unparse(expr)}` is not a "
                        f"module-level name ({err}); take it from fmnist_helpers.base.settings")
    return names


def test_every_variable_a_module_reads_or_sets_is_listed():
    used = {name: path.relative_to(ROOT) for path in SOURCES for name in _variables_used(path)}
    assert used, "the scan found no use of os.environ at all: it no longer recognises how the package reads them"
    unlisted = {name: str(path) for name, path in used.items() if name not in settings.NAMES}
    assert not unlisted, f"add these to fmnist_helpers/base/settings.py: {unlisted}"


def test_the_scan_recognises_every_way_of_naming_a_variable():
    code = ("os.environ.get('A'); os.environ.setdefault('B', '1'); os.environ['C']; os.getenv('D');"
            "'E' in os.environ; dict(os.environ, F='1'); environ.pop('G')")
    names = {e.value for e in _variable_expressions(ast.parse(code))}
    assert names == set("ABCDEFG")


def test_no_module_but_settings_spells_a_variable_name():
    spelled = []
    for path in SOURCES:
        if path == PACKAGE / "base" / "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in settings.NAMES:
                spelled.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
    assert not spelled, f"take these names from fmnist_helpers.base.settings: {spelled}"


def test_every_listed_variable_is_read_or_set_somewhere():
    places = [p for p in SOURCES if p.name != "settings.py"] + [ROOT / "Makefile", ROOT / ".ci" / "run"]
    text = "\n".join(p.read_text(encoding="utf-8") for p in places if p.is_file())
    attributes = {value.name: attr for attr, value in vars(settings).items() if isinstance(value, settings.Setting)}
    unused = [s.name for s in settings.ALL if s.name not in text and not re.search(
        rf"settings\.{attributes[s.name]}\b|\bimport\b[^\n]*\b{attributes[s.name]}\b", text)]
    assert not unused, f"listed in settings but read or set nowhere: {unused}"


def test_each_variable_is_listed_once_with_every_field_filled():
    assert len(settings.NAMES) == len(settings.ALL)
    for s in settings.ALL:
        assert all((s.name, s.purpose, s.values, s.default, s.used_by)), s


def test_the_listed_profiles_are_the_profiles():
    assert re.findall(r"`(\w+)`", settings.PROFILE.values) == list(PROFILES)


def test_the_listed_progress_modes_are_the_modes_training_accepts():
    from fmnist_helpers.training.fit import PROGRESS_MODES

    assert re.findall(r"`(\w+)`", settings.PROGRESS.values) == list(PROGRESS_MODES)


def test_the_old_constant_names_still_name_the_variables():
    from fmnist_helpers.base.paths import DATA_DIR_ENV
    from fmnist_helpers.base.params import PROFILE_ENV

    assert (DATA_DIR_ENV, PROFILE_ENV) == ("FMNIST_DATA_DIR", "FMNIST_PROFILE")


def test_the_markdown_table_has_a_header_and_one_row_per_variable():
    lines = settings.markdown_table().splitlines()
    assert lines[0].startswith("| Variable |") and len(lines) == 2 + len(settings.ALL)
    assert [line.split(" | ")[0] for line in lines[2:]] == [f"| `{s.name}`" for s in settings.ALL]


def test_a_pipe_inside_a_cell_does_not_split_the_row():
    row = settings.markdown_table((settings.Setting("X", "a | b", "v", "d", "u"),)).splitlines()[2]
    assert row == "| `X` | a \\| b | v | d | u |"


def test_the_readme_shows_the_table_rendered_from_the_list():
    assert settings.markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8"), \
        "paste fmnist_helpers.base.settings.markdown_table() into README.md"
