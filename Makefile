# The two commands of the course pack (see README.md), and a quick check for the edit-test loop:
#   make course     runs every notebook in order (the main job; PROFILE=quick|smoke|full, ARGS="--only 01")
#   make test       runs every test: the unit tests, nbval over every notebook (smoke profile), the papermill runs
#   make check-lessons  runs the lessons in quick on both datasets over 3 seeds; does each lesson's effect show?
#   make test-fast  leaves out the tests marked `slow` (notebook runs, real training, several processes):
#                   under 3 minutes, for the edit-test loop; `make test` still runs everything
# Both run pytest in TEST_WORKERS processes (pytest-xdist; TEST_WORKERS=0 runs in this one process). The plugin
# fmnist_helpers/course/pytest_plugin.py groups the tests so that those sharing a build folder run in one.
# All create .venv and install the pack into it on first use, and again when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= quick
ARGS ?=
TEST_WORKERS ?= 2

# The data: $FMNIST_DATA_DIR if set, else a sibling shared/data folder (the CI layout) if there is one;
# otherwise the loader uses data/ and downloads the official files into it.
export FMNIST_DATA_DIR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data))

.PHONY: course test test-fast check-lessons install clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $@

install: $(VENV)/.installed

course: $(VENV)/.installed
	$(PY) -m fmnist_helpers run --profile $(PROFILE) $(ARGS)

test: $(VENV)/.installed
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope $(ARGS)

test-fast: $(VENV)/.installed
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope -m "not slow" $(ARGS)

check-lessons: $(VENV)/.installed
	$(PY) -m fmnist_helpers effects $(ARGS)

clean:
	rm -rf build
