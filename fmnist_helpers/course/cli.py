"""Command line of the course pack: `python -m fmnist_helpers run|student|tidy|minutes|effects|search`.

Usage:
    python -m fmnist_helpers run --profile quick            # the whole course
    python -m fmnist_helpers run --only 01 -p dataset=mnist  # one notebook, one parameter
    python -m fmnist_helpers student                         # the student edition, in build/student/
    python -m fmnist_helpers run --student --profile smoke   # write it, then run it (build/smoke-student/)
    python -m fmnist_helpers tidy --check                    # are the stored notebooks clean?
    python -m fmnist_helpers minutes                         # each lesson's minutes; does it fit a 90-minute lab?
    python -m fmnist_helpers effects --seeds 42 43 44        # does each lesson's effect show in quick runs?
    python -m fmnist_helpers search --space wits --strategy hyperband --epochs 9 --batch-size 128
    python -m fmnist_helpers reference build/full              # record a full run's figures for the notebooks
    python -m fmnist_helpers site build/full site              # a static site of a run's HTML pages
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fmnist_helpers.base.params import DEFAULT_PROFILE, PROFILES
from fmnist_helpers.base.paths import build_dir, notebooks_dir
from fmnist_helpers.training.precision import PRECISIONS


def _run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from fmnist_helpers.course.editions import EditionError
    from fmnist_helpers.course.runner import CourseRunError, parse_param, run_course

    try:
        params = dict(parse_param(p) for p in args.param)
        notebook_dir, output_dir = None, args.output_dir
        if args.student:
            notebook_dir = _write_student(args.student_dir)
            output_dir = output_dir or str(build_dir(f"{args.profile}-student"))
        outcomes = run_course(args.profile, only=args.only, params=params, force=args.force,
                              output_dir=output_dir, notebook_dir=notebook_dir, track=args.track,
                              progress=not args.no_progress, report=tqdm.write)
    except (CourseRunError, EditionError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as err:  # the runner's RunInterrupted says what was kept and how to go on
        print(f"interrupted: {err}" if str(err) else "interrupted", file=sys.stderr)
        return 130
    print("\nnotebook                    status     wall time")
    for o in outcomes:
        print(f"{o.notebook:27s} {o.status:9s} {o.wall_s:8.1f} s")
    print(f"total {sum(o.wall_s for o in outcomes if o.status == 'ran'):.1f} s of execution in this run; "
          f"index: {Path(outcomes[0].params['output_dir']) / 'index.html'}")
    return 0


def _write_student(out_dir: str | None) -> Path:
    """Write the student edition and say where; returns its folder."""
    from fmnist_helpers.course.editions import write_student_edition

    target = Path(out_dir) if out_dir else build_dir("student")
    paths = write_student_edition(notebooks_dir(), target)
    print(f"student edition: {len(paths)} notebooks in {target} (solutions replaced by stubs, hidden tests removed)")
    return target


def _student(args: argparse.Namespace) -> int:
    from fmnist_helpers.course.editions import EditionError

    try:
        _write_student(args.output_dir)
    except EditionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _read_notebook(path: Path):
    """The notebook at `path`, or a ValueError whose one line names the file and what is wrong with it."""
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises many kinds (JSON, schema, encoding, OS): each means "unreadable"
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path}: cannot be read as a notebook ({reason})") from err


def _write_notebook(nb, path: Path) -> None:
    """Write `nb` to `path` atomically: a reader, or a kill mid-write, sees the old file or the new one."""
    import nbformat

    from fmnist_helpers.base.atomic import write_text_atomic

    text = nbformat.writes(nb)
    write_text_atomic(path, text if text.endswith("\n") else text + "\n")


def _minutes(args: argparse.Namespace) -> int:
    from fmnist_helpers.course.minutes import RULE, lesson_minutes, minutes_table, write_stated_line
    from fmnist_helpers.course.notebooks import lesson_notebooks

    paths = lesson_notebooks(notebooks_dir())
    if args.write:
        for p in paths:
            print(f"{p.name}: {write_stated_line(p)}")
    print(minutes_table(paths))
    print(f"minutes by the rule: {RULE}")
    problems = [line for p in paths for line in lesson_minutes(p).problems()]
    for line in problems:
        print(f"over: {line}")
    return 1 if problems else 0


def _effects(args: argparse.Namespace) -> int:
    from fmnist_helpers.course.effects import check_lessons, effects_table
    from fmnist_helpers.course.runner import CourseRunError

    try:
        rows = check_lessons(args.datasets, args.seeds, only=args.only, profile=args.profile,
                             output_root=args.output_dir)
    except (CourseRunError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(effects_table(rows))
    return 0 if all(r.holds for r in rows) else 1


def _tidy(args: argparse.Namespace) -> int:
    from fmnist_helpers.course.notebooks import (course_notebooks, exercise_problems, hygiene_problems, tidy_notebook,
                                                 track_of)

    paths = [Path(p) for p in args.notebooks] or course_notebooks(notebooks_dir())
    failed = False
    for p in paths:
        try:
            nb = _read_notebook(p)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            failed = True
            continue
        if args.check:
            lesson_rules = exercise_problems(p) if track_of(p) == "lessons" else []  # studies have no exercises
            for line in hygiene_problems(p) + lesson_rules:
                print(f"{p}: {line}")
                failed = True
            continue
        if args.refresh:
            _refresh_checked(p, nb)
        tidy_notebook(nb)
        try:
            _write_notebook(nb, p)
        except OSError as err:
            print(f"error: {p}: could not be written ({err}); the file is unchanged", file=sys.stderr)
            failed = True
            continue
        print(f"tidied {p}")
    return 1 if failed else 0


def _refresh_checked(path: Path, nb) -> None:
    """Execute a notebook in the smoke profile and store the outputs of its checked cells."""
    import tempfile

    import nbformat
    import papermill

    from fmnist_helpers.course.notebooks import copy_checked_outputs

    with tempfile.TemporaryDirectory() as tmp:
        executed = Path(tmp) / path.name
        papermill.execute_notebook(str(path), str(executed), parameters={"profile": "smoke", "output_dir": tmp},
                                   cwd=str(path.parent), progress_bar=False)
        n = copy_checked_outputs(nbformat.read(executed, as_version=4), nb)
    print(f"{path}: refreshed {n} checked cell(s)")


def _search(args: argparse.Namespace) -> int:
    from fmnist_helpers.data.datasets import load_dataset
    from fmnist_helpers.training.search import SearchPlan, best_trials, run_search, worker_name
    from fmnist_helpers.data.splits import make_split
    from fmnist_helpers.data.preprocess import flips_suit
    from fmnist_helpers.models.tuning import get_space

    try:
        if args.precision not in PRECISIONS:
            raise ValueError(f"precision {args.precision!r} is not accepted; choose one of: {', '.join(PRECISIONS)}")
        plan = SearchPlan(args.space, args.strategy, max_trials=args.max_trials, executions_per_trial=args.executions,
                          epochs=args.epochs, factor=args.factor, batch_size=args.batch_size,
                          train_size=args.train_size, val_size=args.val_size, seed=args.seed,
                          precision=args.precision, flip=flips_suit(args.dataset))
        plan.check()
    except (ValueError, KeyError) as err:
        print(f"error: {err.args[0]}", file=sys.stderr)
        return 2
    ds = load_dataset(args.dataset, data_dir=args.data_dir)
    split = make_split(ds, get_space(args.space).recipe.split, seed=args.seed)
    result = run_search(plan, split, args.output_dir, name=args.name, progress="summary")
    if len(result.trials):
        print(best_trials(result, 5).to_string())
        print(f"{len(result.trials)} trials, {result.images_trained:,} training images, {result.wall_s:.0f} s of "
              f"training; folder {result.directory}")
    else:
        print(f"{worker_name()}: no more trials; folder {result.directory}")
    return 0


def _reference(args: argparse.Namespace) -> int:
    from fmnist_helpers.studies.reference import RECORDED, ReferenceError, write_reference

    try:
        payload = write_reference(args.run_dir, args.target or RECORDED, data_dir=args.data_dir, commit=args.commit,
                                  machine=args.machine, update=args.update)
    except ReferenceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    written = payload["updates"][-1]["models"] if args.update else payload["models"]
    for dataset, keys in written.items():
        for key in keys:
            fig = payload["models"][dataset][key]
            print(f"{dataset:14s} {key:12s} {fig['test_accuracy'] * 100:6.2f}%  ({fig['runs']} run(s))")
    print(f"wrote {args.target or RECORDED}")
    return 0


def _site(args: argparse.Namespace) -> int:
    from fmnist_helpers.course.site import write_site

    try:
        written = write_site(Path(args.run_dir), Path(args.site_dir))
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} pages to {args.site_dir}; open {Path(args.site_dir) / 'index.html'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fmnist_helpers", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute the course notebooks in order (the main job)")
    run.add_argument("--profile", choices=list(PROFILES), default=DEFAULT_PROFILE,
                     help=f"how much work each notebook does (default: {DEFAULT_PROFILE})")
    run.add_argument("--only", nargs="+", metavar="NOTEBOOK", help="run only these notebooks (e.g. 01 02 s04)")
    run.add_argument("--track", choices=["lessons", "studies", "all"], default="all",
                     help="the lessons, the studies track, or both, the lessons first (default: all)")
    run.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                     help="set a notebook parameter (repeatable), e.g. -p dataset=mnist")
    run.add_argument("--force", action="store_true", help="re-run notebooks even if already executed")
    run.add_argument("--output-dir", help="where to write (default: build/<profile>)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--student", action="store_true",
                     help="run the student edition (written first; output default: build/<profile>-student)")
    run.add_argument("--student-dir", help="where --student writes the edition (default: build/student)")
    run.set_defaults(func=_run)
    student = sub.add_parser("student", help="write the student edition: solutions replaced by stubs, "
                                             "hidden tests removed")
    student.add_argument("--output-dir", help="where to write it (default: build/student)")
    student.set_defaults(func=_student)
    tidy = sub.add_parser("tidy", help="strip stored outputs except nbval-checked cells")
    tidy.add_argument("notebooks", nargs="*", help="notebooks to tidy (default: all course notebooks)")
    tidy.add_argument("--check", action="store_true", help="only report problems; exit 1 if any")
    tidy.add_argument("--refresh", action="store_true", help="re-execute (smoke) to refresh checked outputs")
    tidy.set_defaults(func=_tidy)
    mins = sub.add_parser("minutes", help="each lesson's minutes by the pack's rule; exit 1 if one breaks a lab's limits")
    mins.add_argument("--write", action="store_true", help="also write each lesson's stated **Lab time:** line")
    mins.set_defaults(func=_minutes)
    eff = sub.add_parser("effects", help="run the lessons per dataset and seed and check that each lesson's effect "
                                         "shows; exit 1 if one does not")
    eff.add_argument("--datasets", nargs="+", default=["fashion_mnist", "mnist"], choices=["fashion_mnist", "mnist"])
    eff.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44], help="default: 42 43 44")
    eff.add_argument("--only", nargs="+", metavar="LESSON", help="only these lessons' effects (e.g. 04)")
    eff.add_argument("--profile", choices=list(PROFILES), default=DEFAULT_PROFILE,
                     help=f"the profile the lessons run in (default: {DEFAULT_PROFILE}, the student's)")
    eff.add_argument("--output-dir", help="where the runs go, one folder each (default: build/effects)")
    eff.set_defaults(func=_effects)
    srch = sub.add_parser("search", help="run, resume or join a hyperparameter search (see docs/distributed-search.md)")
    srch.add_argument("--space", required=True, help="wits, kh or pack")
    srch.add_argument("--strategy", required=True, help="random, hyperband or grid")
    srch.add_argument("--max-trials", type=int, default=20, help="random search: trials (default 20)")
    srch.add_argument("--executions", type=int, default=1, help="trainings per trial, averaged (default 1)")
    srch.add_argument("--epochs", type=int, default=10, help="epochs per trial; hyperband: the most (default 10)")
    srch.add_argument("--factor", type=int, default=3, help="hyperband's reduction factor (default 3)")
    srch.add_argument("--batch-size", type=int, help="default: the space's recipe")
    srch.add_argument("--train-size", type=int, help="search on a subset of this many training images")
    srch.add_argument("--val-size", type=int, help="... and this many validation images")
    srch.add_argument("--seed", type=int, default=42)
    srch.add_argument("--precision", default="auto", help=f"one of: {', '.join(PRECISIONS)} (default: auto)")
    srch.add_argument("--dataset", default="fashion_mnist", choices=["fashion_mnist", "mnist"])
    srch.add_argument("--data-dir", help="folder with the IDX files (default: $FMNIST_DATA_DIR, then data/)")
    srch.add_argument("--output-dir", default="build/search", help="searches go to OUTPUT_DIR/searches/")
    srch.add_argument("--name", help="the search's name (default: SPACE-STRATEGY)")
    srch.set_defaults(func=_search)
    ref = sub.add_parser("reference", help="record a full run's figures as the notebooks' reference column")
    ref.add_argument("run_dir", help="the output folder of a full run, e.g. build/full")
    ref.add_argument("--target", help="the file to write (default: the package's recorded/full_run.json)")
    ref.add_argument("--data-dir", help="folder with the IDX files, to tell the datasets apart")
    ref.add_argument("--commit", help="the commit the run used (default: the run folder's git HEAD)")
    ref.add_argument("--machine", help="describe the machine (default: from the run's results files)")
    ref.add_argument("--update", action="store_true",
                     help="re-record only the models this run trained and keep the rest of the file "
                          "(e.g. after --only 04 with the full profile)")
    ref.set_defaults(func=_reference)
    site = sub.add_parser("site", help="copy a run's HTML pages into a static site with navigation")
    site.add_argument("run_dir", help="a run's output folder, e.g. build/full")
    site.add_argument("site_dir", help="where to write the site")
    site.set_defaults(func=_site)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
