"""Every environment variable the course pack reads or sets, in one list.

A module that reads a variable takes its name from here (`settings.DATA_DIR.name`), so this list is the whole
set of switches outside the notebooks' parameters; a test checks that no module reads one that is not listed.
`markdown_table()` renders the list for the README.

Usage:
    from fmnist_helpers.base import settings
    os.environ.get(settings.DATA_DIR.name)   # "FMNIST_DATA_DIR"
    print(settings.markdown_table())
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, what it does, what it accepts, what happens when it is unset,
    and who reads or sets it."""

    name: str
    purpose: str
    values: str
    default: str
    used_by: str


DATA_DIR = Setting(
    "FMNIST_DATA_DIR",
    "a folder that holds the dataset files, searched after a `data_dir` argument and before the default folder",
    "a folder path; empty counts as unset",
    "`<checkout>/data`, or `$XDG_CACHE_HOME/fmnist_helpers/data` for an installed package",
    "`data.datasets`; set by `make` and `.ci/run` to `../shared/data` when that folder exists",
)
PROFILE = Setting(
    "FMNIST_PROFILE",
    "the profile of a notebook whose `profile` parameter is None (nbval cannot pass parameters)",
    "`smoke`, `quick`, `full`; empty counts as unset",
    "`quick`",
    "`base.params.get_profile`; the pytest plugin sets `smoke` when unset",
)
PROGRESS = Setting(
    "FMNIST_PROGRESS",
    "how much training prints when a notebook asks for `progress=\"auto\"`",
    "`bar`, `epochs`, `summary`, `none`",
    "`epochs` (one line per epoch)",
    "`training.fit.progress_mode`; the runner gives its kernels `summary` and the pytest plugin sets `summary`, "
    "each when unset",
)
QUIET = Setting(
    "FMNIST_QUIET",
    "whether TensorFlow's and the kernel's harmless start-up lines (oneDNN, CUDA drivers, cuInit, unencrypted "
    "kernel) are kept out of the runner's terminal and the notebooks' outputs; real errors always show",
    "`0` shows everything; anything else filters",
    "filtered",
    "`course.quiet`: the runner's terminal and, when `fmnist_helpers` is imported in a Jupyter kernel, the notebook",
)
TF_LOG_LEVEL = Setting(
    "TF_CPP_MIN_LOG_LEVEL",
    "how much TensorFlow's C++ core logs at start-up",
    "`0` (all) to `3` (none)",
    "`2` (errors only): importing `fmnist_helpers` sets it when unset",
    "TensorFlow; set by `fmnist_helpers/__init__.py`",
)
CACHE_HOME = Setting(
    "XDG_CACHE_HOME",
    "the cache folder under which an installed (not checked-out) package keeps the datasets",
    "a folder path",
    "`~/.cache`",
    "`base.paths.default_data_dir`",
)
TUNER_ID = Setting(
    "KERASTUNER_TUNER_ID",
    "this process's role in a distributed hyperparameter search",
    "`chief`, or `tuner0`, `tuner1`, ...",
    "unset: a search in one process (`local`)",
    "Keras Tuner and `training.search.worker_name`; each process gets it from `training.search.distributed_env`",
)
ORACLE_IP = Setting(
    "KERASTUNER_ORACLE_IP",
    "the address of the chief that hands out trials in a distributed search",
    "a host name or IP address",
    "unset: a search in one process",
    "Keras Tuner; each process gets it from `training.search.distributed_env`",
)
ORACLE_PORT = Setting(
    "KERASTUNER_ORACLE_PORT",
    "the port of the chief in a distributed search",
    "a port number",
    "unset: a search in one process",
    "Keras Tuner; each process gets it from `training.search.distributed_env`",
)
MPL_BACKEND = Setting(
    "MPLBACKEND",
    "Matplotlib's backend; `Agg` draws no window but also keeps figures out of executed notebooks",
    "a Matplotlib backend name",
    "unset: the notebook's inline backend",
    "Matplotlib (the pack never reads it); `.ci/run` sets `Agg`, the prose and editions tests unset it",
)
IPYTHON_DIR = Setting(
    "IPYTHONDIR",
    "IPython's folder for a kernel's profile and start-up files",
    "a folder",
    "unset: `~/.ipython`",
    "IPython; the prose test and `make check-lessons` point it at a start-up file that lints every figure shown",
)

NBGRADER = Setting(
    "NBGRADER_EXECUTION",
    "set by nbgrader in the kernels it starts to validate or autograde a notebook: a check that is not yet right "
    "then ends its cell with a one-line error after the verdict, so that nbgrader counts the cell as failed, and the "
    "hidden tests grade the answers in a fresh process",
    "`validate`, `autograde` (nbgrader sets it; never set it by hand)",
    "unset: a check shows its verdict and never raises",
    "nbgrader; read by `exercises.core.grading_run` and `exercises.grading`",
)

ALL: tuple[Setting, ...] = (DATA_DIR, PROFILE, PROGRESS, QUIET, TF_LOG_LEVEL, CACHE_HOME, TUNER_ID, ORACLE_IP, ORACLE_PORT,
                            MPL_BACKEND, IPYTHON_DIR, NBGRADER)
"""Every environment variable of the pack, the pack's own first."""

NAMES: frozenset[str] = frozenset(s.name for s in ALL)


def markdown_table(settings: tuple[Setting, ...] = ALL) -> str:
    """The variables as a Markdown table: variable, what it does, values, when unset, read or set by."""
    rows = ["| Variable | What it does | Values | When unset | Read or set by |", "|---|---|---|---|---|"]
    for s in settings:
        cells = (f"`{s.name}`", s.purpose, s.values, s.default, s.used_by)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"
