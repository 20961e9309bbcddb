"""Run a hyperparameter search with Keras Tuner: random search, Hyperband or a grid; seeded and resumable.

Each search writes to its own folder `<output_dir>/searches/<name>-<fingerprint>/`, where the fingerprint
covers the plan and the split. Running the same plan again resumes an interrupted search where it stopped
(Keras Tuner reloads its oracle; the trial that was cut off runs again) and reuses a finished one without
training; a changed plan gets a new folder and starts fresh, so nothing earlier is overwritten.

`SpaceHyperModel` turns a search space (`tuning`) into the Keras Tuner hypermodel a strategy runs: it builds a
trial's model in the plan's precision and compiles it with the space's recipe. It is defined on first use, so
importing this module loads neither TensorFlow nor Keras Tuner.

Every trial appends one line to `trials-<worker>.jsonl` (epochs trained, seconds, worker), which is how
the compute of a search is counted, also when several machines share one search (see `distributed_env`).

Usage:
    plan = SearchPlan("wits", "hyperband", epochs=9, batch_size=128, seed=42)
    result = run_search(plan, split, output_dir="build/full")
    result.trials                      # one row per trial: hyperparameters, score, epochs, seconds
    best_trials(result, 5)
    best_epoch(retrained.history)      # the best validation epoch of a run (from `history`, shared with training)
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fmnist_helpers.base.settings import ORACLE_IP, ORACLE_PORT, TUNER_ID
from fmnist_helpers.base.atomic import write_json_atomic
from fmnist_helpers.base.results import to_jsonable
from fmnist_helpers.data.splits import Split, subsample
from fmnist_helpers.models.registry import compile_model
from fmnist_helpers.models.tuning import Space, get_space, space_recipe
from fmnist_helpers.training.fit import progress_mode, quiet_retracing_warnings
from fmnist_helpers.training.history import best_epoch
from fmnist_helpers.training.pipeline import steps_per_call, steps_per_epoch, train_val_datasets, training_precision
from fmnist_helpers.training.precision import precision_policy
from fmnist_helpers.training.store import fingerprint, indices_sha256

__all__ = [
    "OBJECTIVE", "PROFILE_PLANS", "REPLAY", "STRATEGIES", "SearchPlan", "SearchResult", "SpaceHyperModel",
    "best_epoch", "best_trials",
    "distributed_env", "make_tuner", "profile_plan", "read_trial_log", "replay_images", "run_search", "search_cost",
    "search_folder", "search_split", "trial_seed", "trial_table", "wits_plan", "worker_name",
]

STRATEGIES = ("random", "hyperband", "grid")
OBJECTIVE = "val_accuracy"
TUNER_ID_ENV = TUNER_ID.name


@dataclass(frozen=True)
class SearchPlan:
    """What to search and how much compute to spend.

    - `strategy`: "random" (`max_trials` trials, each trained `executions_per_trial` times for `epochs`),
      "hyperband" (`epochs` is the most any trial trains; `factor` and `hyperband_iterations` as in Keras
      Tuner), or "grid" (every point of the space once, for `epochs`).
    - `batch_size`: None keeps the space's recipe (the study's); `train_size`/`val_size` cut the split to a
      stratified subset for a cheaper, lower-fidelity search.
    """

    space: str
    strategy: str
    max_trials: int | None = 20
    executions_per_trial: int = 1
    epochs: int = 10
    factor: int = 3
    hyperband_iterations: int = 1
    batch_size: int | None = None
    train_size: int | None = None
    val_size: int | None = None
    seed: int = 42
    precision: str = "auto"
    flip: bool = True

    def check(self) -> None:
        """Raise a ValueError naming the setting if the plan cannot run."""
        get_space(self.space)
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy {self.strategy!r} is not accepted; choose one of: {', '.join(STRATEGIES)}")
        for name in ("epochs", "executions_per_trial", "hyperband_iterations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.strategy == "random" and (not isinstance(self.max_trials, int) or self.max_trials < 1):
            raise ValueError(f"a random search needs max_trials, a positive integer; got {self.max_trials!r}")
        if self.strategy == "hyperband" and (not isinstance(self.factor, int) or self.factor < 2):
            raise ValueError(f"hyperband's factor must be an integer of at least 2, got {self.factor!r}")
        for name in ("batch_size", "train_size", "val_size"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be None or a positive integer, got {value!r}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SearchResult:
    """A finished search: its tuner, its trials and what it cost."""

    name: str
    plan: SearchPlan
    directory: Path
    tuner: Any
    trials: pd.DataFrame
    wall_s: float
    n_train: int
    reused: bool
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def best_values(self) -> dict[str, Any]:
        """The winning trial's hyperparameters (without Keras Tuner's bookkeeping keys)."""
        trial_id = best_trials(self, 1)["trial"].iloc[0]  # ties go to the earlier trial, also after a reload
        values = self.tuner.oracle.trials[trial_id].hyperparameters.values
        return {k: v for k, v in values.items() if not k.startswith("tuner/")}

    @property
    def best_score(self) -> float:
        return float(self.trials["score"].max())

    @property
    def images_trained(self) -> int:
        return int(self.trials["epochs"].sum() * self.n_train)


def trial_seed(seed: int, trial_id: str, execution: int) -> int:
    """The seed for one training of one trial: fixed by the search seed, the trial and the execution."""
    digest = hashlib.sha256(f"{seed}/{trial_id}/{execution}".encode()).hexdigest()
    return int(digest[:8], 16) % (2**31 - 1)


def worker_name() -> str:
    """This process's tuner id in a distributed search (`$KERASTUNER_TUNER_ID`), else "local"."""
    return os.environ.get(TUNER_ID_ENV, "local")


def distributed_env(role: str, port: int, host: str = "127.0.0.1") -> dict[str, str]:
    """Environment variables for one process of a distributed search: role "chief" or "tuner0", "tuner1", ...

    The chief runs the oracle (it trains nothing and returns when every trial is done); each worker asks it
    for trials over gRPC at host:port. All processes run the same plan with the same output folder.
    """
    if role != "chief" and not (role.startswith("tuner") and role[5:].isdigit()):
        raise ValueError(f"role {role!r} is not accepted; use 'chief' or 'tuner<N>' (tuner0, tuner1, ...)")
    return {TUNER_ID_ENV: role, ORACLE_IP.name: host, ORACLE_PORT.name: str(port)}


@functools.cache
def _hypermodel_class():
    """SpaceHyperModel, defined on first use so that importing this module does not load Keras Tuner."""
    import keras_tuner as kt

    class SpaceHyperModel(kt.HyperModel):
        """A Keras Tuner hypermodel for one space: builds, then compiles with the space's recipe.

        `steps_per_epoch` and `steps_per_execution` set how each trial trains (the learning-rate schedule of the
        pack's recipe is laid out over `epochs`); `precision` is the Keras dtype policy the models are built in.
        """

        def __init__(self, space: str | Space, precision: str = "float32", steps_per_epoch: int = 100,
                     epochs: int | None = None, steps_per_execution: int = 1):
            self.space = space if isinstance(space, Space) else get_space(space)
            super().__init__(name=self.space.name, tunable=True)
            self.precision, self.steps_per_epoch, self.epochs = precision, steps_per_epoch, epochs
            self.steps_per_execution = steps_per_execution

        def build(self, hp):
            with precision_policy(self.precision):
                model = self.space.build(hp)
                recipe = space_recipe(self.space, hp.values)
                compile_model(model, recipe, steps_per_epoch=self.steps_per_epoch,
                              epochs=self.epochs or recipe.epochs, steps_per_execution=self.steps_per_execution)
            return model

    return SpaceHyperModel


def __getattr__(name: str) -> Any:
    """`SpaceHyperModel`, the class, made on first use (see `_hypermodel_class`)."""
    if name == "SpaceHyperModel":
        return _hypermodel_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _recording(base):
    """A Keras Tuner tuner class that seeds every execution and logs each trial's compute."""

    class Recording(base):
        def __init__(self, *args, seed: int, n_train: int, say, **kwargs):
            self._seed, self._n_train, self._say = seed, n_train, say
            self._trial_id, self._execution = "space", 0
            super().__init__(*args, seed=seed, **kwargs)

        def run_trial(self, trial, *args, **kwargs):
            self._trial_id, self._execution = trial.trial_id, 0
            start = time.perf_counter()
            histories = super().run_trial(trial, *args, **kwargs)
            runs = histories if isinstance(histories, list) else [histories]
            epochs = sum(len(getattr(h, "epoch", [])) for h in runs)
            scores = [max(h.history[OBJECTIVE]) for h in runs if hasattr(h, "history")]
            line = {"trial_id": trial.trial_id, "epochs": epochs, "seconds": round(time.perf_counter() - start, 3),
                    "worker": worker_name(), "score": float(np.mean(scores)) if scores else None}
            _append_line(Path(self.project_dir) / f"trials-{worker_name()}.jsonl", line)
            self._say(f"{self.project_name} trial {trial.trial_id}: {OBJECTIVE} {line['score']:.4f} "
                      f"({epochs} epochs, {line['seconds']:.0f} s, {worker_name()})")
            return histories

        def _build_hypermodel(self, hp):
            import keras

            keras.utils.set_random_seed(trial_seed(self._seed, self._trial_id, self._execution))
            self._execution += 1
            return super()._build_hypermodel(hp)

    Recording.__name__ = f"Recording{base.__name__}"
    return Recording


def _append_line(path: Path, line: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(to_jsonable(line)) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_trial_log(directory: str | os.PathLike) -> pd.DataFrame:
    """Every trial line written by every worker of a search (a torn last line is skipped)."""
    rows = []
    for path in sorted(Path(directory).glob("trials-*.jsonl")):
        for text in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(text))
            except json.JSONDecodeError:
                continue
    return pd.DataFrame(rows, columns=["trial_id", "epochs", "seconds", "worker", "score"])


def search_split(plan: SearchPlan, split: Split) -> Split:
    """The split a plan searches on: cut to its train/validation sizes when it asks for a subset."""
    if plan.train_size is None and plan.val_size is None:
        return split
    return subsample(split, plan.train_size, plan.val_size, seed=plan.seed)


def search_folder(plan: SearchPlan, split: Split, output_dir: str | os.PathLike, name: str | None = None) -> Path:
    """Where the search of `plan` on `split` lives: a new folder whenever the plan or the split changes."""
    name = name or f"{plan.space}-{plan.strategy}"
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"search name must be letters, digits, '-' and '_', got {name!r}")
    data = search_split(plan, split)
    key = fingerprint({"plan": plan.as_dict(), "split": data.name, "sizes": data.sizes(),
                       "train": indices_sha256(data.train_indices)})
    return Path(output_dir) / "searches" / f"{name}-{key[:10]}"


def make_tuner(plan: SearchPlan, folder: Path, n_train: int, say=print):
    """The Keras Tuner tuner for `plan`, reloading whatever state `folder` already holds."""
    import keras_tuner as kt

    space = get_space(plan.space)
    steps = steps_per_epoch(n_train, plan.batch_size or space.recipe.batch_size)
    hypermodel = _hypermodel_class()(space, precision=training_precision(plan.precision, space.recipe),
                                 steps_per_epoch=steps, epochs=plan.epochs, steps_per_execution=steps_per_call(steps))
    common = dict(hypermodel=hypermodel, objective=OBJECTIVE, directory=str(folder.parent), project_name=folder.name,
                  overwrite=False, seed=plan.seed, n_train=n_train, say=say)
    if plan.strategy == "random":
        return _recording(kt.RandomSearch)(max_trials=plan.max_trials, executions_per_trial=plan.executions_per_trial,
                                           **common)
    if plan.strategy == "hyperband":
        return _recording(kt.Hyperband)(max_epochs=plan.epochs, factor=plan.factor,
                                        hyperband_iterations=plan.hyperband_iterations,
                                        executions_per_trial=plan.executions_per_trial, **common)
    return _recording(kt.GridSearch)(max_trials=plan.max_trials, executions_per_trial=plan.executions_per_trial,
                                     **common)


def run_search(plan: SearchPlan, split: Split, output_dir: str | os.PathLike, name: str | None = None,
               progress: str = "auto") -> SearchResult:
    """Run (or resume, or reuse) the search of `plan` on `split`; see the module doc."""
    plan.check()
    mode = progress_mode(progress)
    quiet_retracing_warnings()
    say = print if mode != "none" else (lambda *_: None)
    folder = search_folder(plan, split, output_dir, name)
    data = search_split(plan, split)
    n_train = len(data.y_train)
    summary_path = folder / "summary.json"
    finished = summary_path.is_file()
    folder.parent.mkdir(parents=True, exist_ok=True)
    if not finished:
        write_json_atomic(folder.parent / f"{folder.name}.plan.json", {"plan": plan.as_dict(), "split": data.name,
                                                                      "sizes": data.sizes()})
    tuner = make_tuner(plan, folder, n_train, say=say)
    done_before = read_trial_log(folder)
    if finished:
        say(f"{folder.name}: reusing the finished search ({len(done_before)} trials)")
    elif len(done_before):
        say(f"{folder.name}: resuming after {len(done_before)} finished trials")
    start = time.perf_counter()
    if not finished:
        import keras

        keras.utils.set_random_seed(plan.seed)  # the shuffling order depends on TensorFlow's global seed too
        space = get_space(plan.space)
        train, val = train_val_datasets(data, space.recipe, plan.batch_size or space.recipe.batch_size, plan.seed,
                                        plan.flip, space.num_classes)
        tuner.search(train, validation_data=val, epochs=plan.epochs, verbose=1 if mode == "bar" else 0,
                     shuffle=False)  # the tf.data pipeline shuffles; Keras ignores (and warns about) its own
    spent = time.perf_counter() - start
    log = read_trial_log(folder)
    wall = float(log["seconds"].sum()) if len(log) else spent
    trials = trial_table(tuner, log)
    summary = json.loads(summary_path.read_text()) if finished else {}
    if not finished and _is_local_or_chief():
        summary = {"plan": plan.as_dict(), "trials": len(trials), "trials_logged_here": len(log),
                   "wall_s": round(wall, 2), "n_train": n_train, "finished_at": time.strftime("%Y-%m-%d %H:%M:%S")}
        write_json_atomic(summary_path, summary)
    return SearchResult(folder.name, plan, folder, tuner, trials, wall, n_train, finished, summary)


def _is_local_or_chief() -> bool:
    name = worker_name()
    return name == "local" or "chief" in name


def trial_table(tuner, log: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per finished trial, in the order they started: score, hyperparameters, epochs and seconds."""
    oracle = tuner.oracle
    if not hasattr(oracle, "start_order"):  # a distributed worker's proxy: the chief holds the trials
        return pd.DataFrame(columns=["trial", "order", "score", "epochs", "seconds", "worker"])
    rows = []
    for order, trial_id in enumerate(oracle.start_order, start=1):
        trial = oracle.trials[trial_id]
        if trial.score is None:
            continue
        values = {k: v for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")}
        budget = trial.hyperparameters.values.get("tuner/epochs")
        rows.append({"trial": trial_id, "order": order, "score": float(trial.score), **values,
                     **({"budget epochs": budget} if budget is not None else {})})
    table = pd.DataFrame(rows)
    if log is not None and len(log) and len(table):
        spent = log.groupby("trial_id").agg(epochs=("epochs", "sum"), seconds=("seconds", "sum"),
                                            worker=("worker", "last"))
        table = table.join(spent, on="trial")
    elif len(table):
        table["epochs"], table["seconds"], table["worker"] = np.nan, np.nan, None
    return table


def best_trials(result: SearchResult, n: int = 5) -> pd.DataFrame:
    """The `n` best trials by validation accuracy, best first, ranked 1..n."""
    table = result.trials.sort_values(["score", "order"], ascending=[False, True]).head(n).reset_index(drop=True)
    table.index = pd.RangeIndex(1, len(table) + 1, name="rank")
    return table


def search_cost(result: SearchResult, full_train: int, reference_images: int) -> dict[str, float]:
    """What a search cost: images trained, as epochs of the `full_train`-image training set, and as a share
    of a reference budget in images (e.g. the faithful replay's 20 trials x 2 executions x 10 epochs)."""
    return {"images trained": result.images_trained, "epochs of the full training set": result.images_trained / full_train,
            "share of the reference budget": result.images_trained / reference_images, "wall time (s)": result.wall_s}


REPLAY = SearchPlan("wits", "random", max_trials=20, executions_per_trial=2, epochs=10, batch_size=32)
"""The `wits` study's own search: 20 random trials, each trained twice for 10 epochs (batch 32, Keras's default)."""


def replay_images(n_train: int = 48_000) -> int:
    """Training images the faithful replay costs: trials x executions x epochs x training-set size."""
    return REPLAY.max_trials * REPLAY.executions_per_trial * REPLAY.epochs * n_train


PROFILE_PLANS: dict[str, dict[str, dict[str, Any]]] = {
    "smoke": {"wits": dict(space="wits", strategy="random", max_trials=2, epochs=1, batch_size=128, train_size=1_000,
                           val_size=300),
              "kh": dict(space="kh-sample", strategy="grid", max_trials=None, epochs=1, train_size=500, val_size=300),
              "pack": dict(space="pack", strategy="random", max_trials=2, epochs=1, train_size=1_000, val_size=300)},
    "quick": {"wits": dict(space="wits", strategy="hyperband", epochs=3, factor=3, batch_size=128, train_size=8_000,
                           val_size=3_000),
              "kh": dict(space="kh-sample", strategy="grid", max_trials=None, epochs=1, train_size=4_000,
                         val_size=2_000),
              "pack": dict(space="pack", strategy="random", max_trials=3, epochs=2, train_size=6_000, val_size=2_000)},
    "full": {"wits": dict(space="wits", strategy="hyperband", epochs=9, factor=3, batch_size=128),
             "kh": dict(space="kh", strategy="grid", max_trials=None, epochs=2, train_size=10_000, val_size=5_000),
             "pack": dict(space="pack-fast", strategy="random", max_trials=6, epochs=4, train_size=15_000,
                          val_size=5_000)},
}
"""The searches the studies track's s05 runs in each profile, by role. `full` searches the wits space with Hyperband on
all the data, runs the whole kh grid at lower fidelity (2 epochs on 10,000 images) and screens the space around
`pack_cnn_fast` on subsets, so that its winner trains with that model's 12-epoch recipe (about 3.5 minutes a run on 2
cores without AMX; the space around `pack_cnn_wide`, `full`'s until 2026-12-07, has a 28-epoch recipe that takes an
estimated 18 there); `smoke` and `quick` run a 10-point sample of the kh grid and search around `pack_cnn`, whose
untuned run s04 makes on the same subset."""


def profile_plan(role: str, profile: str, seed: int = 42, **changes: Any) -> SearchPlan:
    """The plan s05 uses for `role` ("wits", "kh" or "pack") in `profile`, with optional changes."""
    if profile not in PROFILE_PLANS:
        raise ValueError(f"profile {profile!r} has no search plans; choose one of: {', '.join(PROFILE_PLANS)}")
    if role not in PROFILE_PLANS[profile]:
        raise ValueError(f"no search plan for {role!r}; choose one of: {', '.join(PROFILE_PLANS[profile])}")
    settings = {**PROFILE_PLANS[profile][role], "seed": seed, **changes}
    plan = SearchPlan(**settings)
    plan.check()
    return plan


def wits_plan(profile: str, seed: int = 42, strategy: str | None = None) -> SearchPlan:
    """s05's search of the wits space: the profile's plan, another strategy, or "replay" (the study's)."""
    from dataclasses import replace

    if strategy == "replay":
        return replace(REPLAY, seed=seed)
    return profile_plan("wits", profile, seed, **({"strategy": strategy} if strategy else {}))
