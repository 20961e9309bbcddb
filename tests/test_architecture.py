"""The package's shape: layers that import only downwards, a complete map of short names, imports that load
TensorFlow only when a function needs it, and a non-editable install that ships every sub-package."""
import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fmnist_helpers
from fmnist_helpers import LAYERS, SHORT_NAMES

PACKAGE = Path(fmnist_helpers.__file__).parent
ROOT = PACKAGE.parent
MODULES = sorted(PACKAGE.rglob("*.py"))
TOP_LEVEL = {PACKAGE / "__init__.py", PACKAGE / "__main__.py"}  # the package's face: above every layer


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer_of_module(module: str) -> str | None:
    """`fmnist_helpers.<layer>...` -> layer; a short name (`fmnist_helpers.plots`) or a top-level function
    (`fmnist_helpers.load_dataset`) -> the layer it comes from; None for the package itself."""
    parts = module.split(".")
    if parts[0] != "fmnist_helpers" or len(parts) == 1:
        return None
    if parts[1] in LAYERS:
        return parts[1]
    if parts[1] in SHORT_NAMES:
        return SHORT_NAMES[parts[1]]
    home = getattr(getattr(fmnist_helpers, parts[1], None), "__module__", None)
    return _layer_of_module(home) if home and home != "fmnist_helpers" else None


def imported_names(package: str, source: str) -> list[tuple[int, str, str | None]]:
    """(line, module, name) for every import in `source`, code of a module in `package`, at any depth of the code:
    `import a.b` gives (line, "a.b", None), `from a import b` (line, "a", "b"); relative imports are resolved."""
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            found += [(node.lineno, origin, a.name) for a in node.names]
    return found


def package_imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, module) for every import of a fmnist_helpers module in `path` (or in `source`, as if it were at
    `path`), at any depth of the code; `from fmnist_helpers import plots` counts as `fmnist_helpers.plots`,
    and relative imports are resolved."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found = []
    for line, origin, name in imported_names(package, path.read_text(encoding="utf-8") if source is None else source):
        if origin.split(".")[0] != "fmnist_helpers":
            continue
        if name is None:
            found.append((line, origin))
        elif origin == "fmnist_helpers":
            found.append((line, f"fmnist_helpers.{name}"))
        elif (line, origin) not in found:
            found.append((line, origin))
    return found


def layering_violations(path: Path) -> list[str]:
    """Each import in `path` of a module from a layer above the module's own."""
    if path in TOP_LEVEL:
        return []
    own = path.relative_to(PACKAGE).parts[0]
    problems = []
    for line, module in package_imports(path):
        layer = _layer_of_module(module)
        if layer is not None and LAYERS.index(layer) > LAYERS.index(own):
            problems.append(f"{path.relative_to(ROOT)}:{line} ({own}) imports {module} ({layer})")
    return problems


# ----------------------------------------------------------------- layers

def test_every_module_lies_in_a_layer():
    outside = [str(p.relative_to(ROOT)) for p in MODULES
               if p not in TOP_LEVEL and p.relative_to(PACKAGE).parts[0] not in LAYERS]
    assert not outside


def test_no_module_imports_from_a_layer_above_its_own():
    problems = [problem for path in MODULES for problem in layering_violations(path)]
    assert not problems, "\n".join(problems)


def test_the_data_layer_imports_nothing_of_the_package_but_base_and_data():
    outside = [(str(path.relative_to(ROOT)), line, module) for path in sorted((PACKAGE / "data").rglob("*.py"))
               for line, module in package_imports(path) if _layer_of_module(module) not in ("base", "data")]
    assert not outside


def test_the_layer_check_sees_imports_inside_functions_relative_and_by_short_name():
    module = PACKAGE / "data" / "example.py"  # never written: its path only places the source in the data layer
    source = ("from fmnist_helpers.base import paths\n"
              "def f():\n    from fmnist_helpers.course import runner\n"
              "from ..analysis import plots\n"
              "from . import idx\n"
              "from fmnist_helpers import fit, start_notebook\n")
    found = sorted(package_imports(module, source))
    assert [m for _, m in found] == ["fmnist_helpers.base", "fmnist_helpers.course", "fmnist_helpers.analysis",
                                     "fmnist_helpers.data", "fmnist_helpers.fit", "fmnist_helpers.start_notebook"]
    assert [_layer_of_module(m) for _, m in found] == ["base", "course", "analysis", "data", "training", "course"]


# ----------------------------------------------------------------- short names

@pytest.mark.parametrize("name", sorted(SHORT_NAMES))
def test_each_short_name_is_the_module_of_its_layer(name):
    assert getattr(fmnist_helpers, name).__name__ == f"fmnist_helpers.{SHORT_NAMES[name]}.{name}"


def test_every_module_has_a_short_name_unless_it_is_a_package_face_or_an_exercise():
    missing = [str(p.relative_to(ROOT)) for p in MODULES
               if p not in TOP_LEVEL and p.name != "__init__.py" and p.parent.name != "exercises"
               and p.stem not in SHORT_NAMES]
    assert not missing, f"add to fmnist_helpers.SHORT_NAMES: {missing}"


# ----------------------------------------------------------------- honest imports

FRAMEWORKS = ("tensorflow", "keras", "keras_tuner")


def _frameworks_loaded_by(modules: list[str]) -> dict[str, list[str]]:
    """Import `modules` in order in a fresh interpreter: {module: the frameworks its import loaded first}."""
    code = ("import importlib, json, sys\n"
            f"loaded = {{}}\nfor name in {modules!r}:\n"
            "    before = set(sys.modules)\n    importlib.import_module(name)\n"
            f"    new = sorted(m for m in {FRAMEWORKS!r} if m in set(sys.modules) - before)\n"
            "    if new: loaded[name] = new\n"
            "print(json.dumps(loaded))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_importing_the_package_and_its_data_layer_leaves_tensorflow_and_keras_unloaded():
    assert _frameworks_loaded_by(["fmnist_helpers", "fmnist_helpers.data"]) == {}


def test_no_module_of_the_package_loads_tensorflow_keras_or_keras_tuner_on_import():
    modules = [_module_name(p) for p in MODULES if p.name != "__main__.py"]
    assert _frameworks_loaded_by(modules) == {}


def test_the_import_check_names_the_module_that_loaded_a_framework():
    loaded = _frameworks_loaded_by(["fmnist_helpers", "keras"])
    assert list(loaded) == ["keras"] and "keras" in loaded["keras"]


# ----------------------------------------------------------------- a non-editable install

@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package installed (not editable) into a folder of its own, built from a copy of the source."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    shutil.copytree(PACKAGE, source / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "--target", str(target), str(source)],
                   check=True, capture_output=True, text=True)
    return target


def test_a_non_editable_install_ships_every_sub_package_and_the_recorded_run(installed, tmp_path):
    packages = sorted(_module_name(p) for p in PACKAGE.rglob("__init__.py"))
    code = ("import importlib, json\nfrom importlib.resources import files\n"
            f"found = {{name: importlib.import_module(name).__file__ for name in {packages!r}}}\n"
            "recorded = files('fmnist_helpers.studies').joinpath('recorded/full_run.json').is_file()\n"
            "print(json.dumps({'found': found, 'recorded': recorded}))")
    env = {**os.environ, "PYTHONPATH": str(installed)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert sorted(result["found"]) == packages and result["recorded"] is True
    elsewhere = {name: where for name, where in result["found"].items() if not Path(where).is_relative_to(installed)}
    assert not elsewhere, f"imported from outside the install: {elsewhere}"
