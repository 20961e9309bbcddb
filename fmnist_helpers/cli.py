"""Command line of the course pack: `python -m fmnist_helpers run|tidy`.

Usage:
    python -m fmnist_helpers run --profile quick            # the whole course
    python -m fmnist_helpers run --only 01 -p dataset=mnist  # one notebook, one parameter
    python -m fmnist_helpers tidy --check                    # are the stored notebooks clean?
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .params import DEFAULT_PROFILE, PROFILES


def _run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .runner import CourseRunError, parse_param, run_course

    try:
        params = dict(parse_param(p) for p in args.param)
        outcomes = run_course(args.profile, only=args.only, params=params, force=args.force,
                              output_dir=args.output_dir, progress=not args.no_progress, report=tqdm.write)
    except CourseRunError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print("\nnotebook                    status     wall time")
    for o in outcomes:
        print(f"{o.notebook:27s} {o.status:9s} {o.wall_s:8.1f} s")
    print(f"total {sum(o.wall_s for o in outcomes if o.status == 'ran'):.1f} s of execution in this run; "
          f"index: {Path(outcomes[0].params['output_dir']) / 'index.html'}")
    return 0


def _tidy(args: argparse.Namespace) -> int:
    import nbformat

    from .notebooks import course_notebooks, hygiene_problems, tidy_notebook
    from .paths import notebooks_dir

    paths = [Path(p) for p in args.notebooks] or course_notebooks(notebooks_dir())
    if args.check:
        bad = {p: hygiene_problems(p) for p in paths}
        for p, problems in bad.items():
            for line in problems:
                print(f"{p}: {line}")
        return 1 if any(bad.values()) else 0
    for p in paths:
        nb = nbformat.read(p, as_version=4)
        if args.refresh:
            _refresh_checked(p, nb)
        tidy_notebook(nb)
        nbformat.write(nb, p)
        print(f"tidied {p}")
    return 0


def _refresh_checked(path: Path, nb) -> None:
    """Execute a notebook in the smoke profile and store the outputs of its checked cells."""
    import tempfile

    import nbformat
    import papermill

    from .notebooks import copy_checked_outputs

    with tempfile.TemporaryDirectory() as tmp:
        executed = Path(tmp) / path.name
        papermill.execute_notebook(str(path), str(executed), parameters={"profile": "smoke", "output_dir": tmp},
                                   cwd=str(path.parent), progress_bar=False)
        n = copy_checked_outputs(nbformat.read(executed, as_version=4), nb)
    print(f"{path}: refreshed {n} checked cell(s)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fmnist_helpers", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute the course notebooks in order (the main job)")
    run.add_argument("--profile", choices=list(PROFILES), default=DEFAULT_PROFILE,
                     help=f"how much work each notebook does (default: {DEFAULT_PROFILE})")
    run.add_argument("--only", nargs="+", metavar="NOTEBOOK", help="run only these notebooks (e.g. 01 02)")
    run.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                     help="set a notebook parameter (repeatable), e.g. -p dataset=mnist")
    run.add_argument("--force", action="store_true", help="re-run notebooks even if already executed")
    run.add_argument("--output-dir", help="where to write (default: build/<profile>)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(func=_run)
    tidy = sub.add_parser("tidy", help="strip stored outputs except nbval-checked cells")
    tidy.add_argument("notebooks", nargs="*", help="notebooks to tidy (default: all course notebooks)")
    tidy.add_argument("--check", action="store_true", help="only report problems; exit 1 if any")
    tidy.add_argument("--refresh", action="store_true", help="re-execute (smoke) to refresh checked outputs")
    tidy.set_defaults(func=_tidy)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
