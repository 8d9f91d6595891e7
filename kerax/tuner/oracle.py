"""`Oracle`: hands out trials, records their results, saves itself to `oracle.json`.

The base class keeps keras-tuner 1.4's bookkeeping: trial ids numbered from zero,
`trial_<id>/trial.json` written at every change, retries of invalid trials, the
consecutive-failure limit, and a reload that re-queues trials that were running when the
process died (so they restart from scratch instead of being lost or counted twice).
"""

import collections
import glob
import hashlib
import os
import random

import numpy as np

from kerax.tuner import hyperparameters as hp_module
from kerax.tuner import objective as obj_module
from kerax.tuner import trial as trial_module
from kerax.tuner.display import Display

TrialStatus = trial_module.TrialStatus


class Oracle:
    """Base class: subclasses implement `populate_space(trial_id)`.

    `populate_space` returns `{"status": "RUNNING", "values": {...}}` for a new trial,
    `{"status": "IDLE"}` to wait for running trials, or `{"status": "STOPPED"}`.
    """

    def __init__(self, objective=None, max_trials=None, hyperparameters=None,
                 allow_new_entries=True, tune_new_entries=True, seed=None,
                 max_retries_per_trial=0, max_consecutive_failed_trials=3):
        self.objective = obj_module.create_objective(objective)
        self.max_trials = max_trials
        if not hyperparameters:
            if not tune_new_entries:
                raise ValueError(
                    "If you set `tune_new_entries=False`, you must specify the search space "
                    "via the `hyperparameters` argument.")
            if not allow_new_entries:
                raise ValueError(
                    "If you set `allow_new_entries=False`, you must specify the search space "
                    "via the `hyperparameters` argument.")
            hyperparameters = hp_module.HyperParameters()
        self.hyperparameters = hyperparameters
        self.allow_new_entries = allow_new_entries
        self.tune_new_entries = tune_new_entries
        self.trials = {}
        self.ongoing_trials = {}
        self.start_order = []
        self.end_order = []
        self._run_times = collections.defaultdict(int)
        self._retry_queue = []
        self.tuner_ids = set()
        self.seed = seed or random.randint(1, 10000)
        self._seed_state = self.seed
        self._tried_so_far = set()
        self._id_to_hash = collections.defaultdict(lambda: None)
        self._max_collisions = 20
        self._directory = None
        self._project_name = None
        self.max_retries_per_trial = max_retries_per_trial
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        self._display = Display(self)

    @property
    def verbose(self):
        return self._display.verbose

    @verbose.setter
    def verbose(self, value):
        self._display.verbose = 1 if value == "auto" else value

    def populate_space(self, trial_id):
        raise NotImplementedError(
            f"{type(self).__name__} must implement `populate_space(trial_id)`.")

    def score_trial(self, trial):
        trial.score = trial.metrics.get_best_value(self.objective.name)
        trial.best_step = trial.metrics.get_best_step(self.objective.name)

    def create_trial(self, tuner_id):
        """The next trial for `tuner_id`: a retried one, a new one, or one marked STOPPED."""
        if tuner_id in self.ongoing_trials:
            return self.ongoing_trials[tuner_id]
        self.tuner_ids.add(tuner_id)
        if self._retry_queue:
            trial = self.trials[self._retry_queue.pop()]
            trial.status = TrialStatus.RUNNING
            trial.metrics = obj_module.MetricsTracker()
            trial.score, trial.best_step, trial.message = None, 0, None
            self.ongoing_trials[tuner_id] = trial
            self._save_trial(trial)
            self.save()
            self._display.on_trial_begin(trial)
            return trial
        trial_id = f"{{:0{len(str(self.max_trials))}d}}".format(len(self.trials))
        if self.max_trials and len(self.trials) >= self.max_trials:
            response = {"status": TrialStatus.STOPPED}
        else:
            response = self.populate_space(trial_id)
        status = response["status"]
        hyperparameters = self.hyperparameters.copy()
        hyperparameters.values = response.get("values") or {}
        trial = trial_module.Trial(hyperparameters, trial_id=trial_id, status=status)
        if status == TrialStatus.RUNNING:
            self._record_values(trial)
            self.ongoing_trials[tuner_id] = trial
            self.trials[trial_id] = trial
            self.start_order.append(trial_id)
            self._save_trial(trial)
            self.save()
            self._display.on_trial_begin(trial)
        if status == TrialStatus.STOPPED:
            self.tuner_ids.discard(tuner_id)
        return trial

    def update_trial(self, trial_id, metrics, step=0):
        """Record `metrics` (name -> value) at `step` for a trial."""
        trial = self.trials[trial_id]
        self._check_objective_found(metrics)
        for name, value in metrics.items():
            if not trial.metrics.exists(name):
                direction = next((o.direction for o in self._objectives() if o.name == name),
                                 None)
                trial.metrics.register(name, direction=direction)
            trial.metrics.update(name, value, step=step)
        self._save_trial(trial)
        return trial

    def _objectives(self):
        if isinstance(self.objective, obj_module.MultiObjective):
            return self.objective.objectives
        return [self.objective]

    def end_trial(self, trial):
        """Mark a trial finished (COMPLETED, INVALID or FAILED), score it and save."""
        old = self.trials[trial.trial_id]
        old.hyperparameters, old.status, old.message = (
            trial.hyperparameters, trial.status, trial.message)
        trial = old
        self.update_space(trial.hyperparameters)
        if trial.status == TrialStatus.COMPLETED:
            self.score_trial(trial)
            if trial.score is None or np.isnan(trial.score):
                trial.status = TrialStatus.INVALID
        self._record_values(trial)
        self._run_times[trial.trial_id] += 1
        if not self._retry(trial):
            self.end_order.append(trial.trial_id)
            self._check_consecutive_failures()
        self._save_trial(trial)
        self.save()
        self._display.on_trial_end(trial)
        for tuner_id, ongoing in list(self.ongoing_trials.items()):
            if ongoing.trial_id == trial.trial_id:
                self.ongoing_trials.pop(tuner_id)
                break

    def _retry(self, trial):
        if trial.status != TrialStatus.INVALID:
            return False
        max_run_times = self.max_retries_per_trial + 1
        if self._run_times[trial.trial_id] >= max_run_times:
            trial.status = TrialStatus.FAILED
            return False
        print(f"Trial {trial.trial_id} failed {self._run_times[trial.trial_id]} times. "
              f"{max_run_times - self._run_times[trial.trial_id]} retries left.")
        self._retry_queue.append(trial.trial_id)
        return True

    def _check_consecutive_failures(self):
        failures = 0
        for trial_id in self.end_order:
            trial = self.trials[trial_id]
            failures = failures + 1 if trial.status == TrialStatus.FAILED else 0
            if failures == self.max_consecutive_failed_trials:
                raise RuntimeError(
                    f"Number of consecutive failures exceeded the limit of "
                    f"{self.max_consecutive_failed_trials}.\n" + (trial.message or ""))

    def get_space(self):
        return self.hyperparameters.copy()

    def update_space(self, hyperparameters):
        """Add hyperparameters that a trial's build registered for the first time."""
        new = [hp for hp in hyperparameters.space
               if not self.hyperparameters._exists(hp.name, hp.conditions)]
        if new and not self.allow_new_entries:
            raise RuntimeError(f"`allow_new_entries` is `False`, but found new entries {new}")
        if self.tune_new_entries:
            self.hyperparameters.merge(new)

    def get_trial(self, trial_id):
        return self.trials[trial_id]

    def get_best_trials(self, num_trials=1):
        """The `num_trials` best completed trials (then unfinished ones, to fill)."""
        done = [t for t in self.trials.values() if t.status == TrialStatus.COMPLETED]
        ranked = sorted(done, key=lambda t: t.score, reverse=self.objective.direction == "max")
        if len(ranked) < num_trials:
            ranked += [t for t in self.trials.values() if t.status != TrialStatus.COMPLETED]
        return ranked[:num_trials]

    def remaining_trials(self):
        return self.max_trials - len(self.trials) if self.max_trials else None

    def get_state(self):
        return {
            "ongoing_trials": {k: t.trial_id for k, t in self.ongoing_trials.items()},
            "hyperparameters": self.hyperparameters.get_config(),
            "start_order": self.start_order, "end_order": self.end_order,
            "run_times": dict(self._run_times), "retry_queue": self._retry_queue,
            "seed": self.seed, "seed_state": self._seed_state,
            "tried_so_far": sorted(self._tried_so_far), "id_to_hash": dict(self._id_to_hash),
            "display": self._display.get_state(),
        }

    def set_state(self, state):
        self.ongoing_trials = {k: self.trials[i] for k, i in state["ongoing_trials"].items()}
        self.hyperparameters = hp_module.HyperParameters.from_config(state["hyperparameters"])
        self.start_order = state["start_order"]
        self.end_order = state["end_order"]
        self._run_times = collections.defaultdict(int, state["run_times"])
        self._retry_queue = state["retry_queue"]
        self.seed = state["seed"]
        self._seed_state = state["seed_state"]
        self._tried_so_far = set(state["tried_so_far"])
        self._id_to_hash = collections.defaultdict(lambda: None, state["id_to_hash"])
        self._display.set_state(state["display"])

    def _set_project_dir(self, directory, project_name):
        self._directory = directory
        self._project_name = project_name

    @property
    def _project_dir(self):
        path = os.path.join(str(self._directory), self._project_name)
        os.makedirs(path, exist_ok=True)
        return path

    def save(self):
        trial_module.save_json(os.path.join(self._project_dir, "oracle.json"), self.get_state())

    def reload(self):
        """Load every `trial.json` and `oracle.json`; running trials go back in the queue."""
        for fname in sorted(glob.glob(os.path.join(self._project_dir, "trial_*", "trial.json"))):
            trial = trial_module.Trial.load(fname)
            self.trials[trial.trial_id] = trial
        fname = os.path.join(self._project_dir, "oracle.json")
        try:
            self.set_state(trial_module.load_json(fname))
        except KeyError as e:
            raise RuntimeError(
                f"Error reloading `Oracle` from existing project. If you did not mean to "
                f"reload from an existing project, change the `project_name` or pass "
                f"`overwrite=True` when creating the `Tuner`. Found existing project at: "
                f"{self._project_dir}") from e
        for trial in self.ongoing_trials.values():
            self._retry_queue.append(trial.trial_id)
        self.ongoing_trials = {}

    def _compute_values_hash(self, values):
        s = "".join(f"{k}={values[k]}" for k in sorted(values))
        return hashlib.sha256(s.encode("utf-8")).hexdigest()[:32]

    def _check_objective_found(self, metrics):
        missing = [o.name for o in self._objectives() if o.name not in metrics]
        if missing:
            raise ValueError(
                f"Objective value missing in metrics reported to the Oracle, expected: "
                f"{missing}, found: {metrics.keys()}")

    def _get_trial_dir(self, trial_id):
        path = os.path.join(self._project_dir, f"trial_{trial_id}")
        os.makedirs(path, exist_ok=True)
        return path

    def _save_trial(self, trial):
        trial.save(os.path.join(self._get_trial_dir(trial.trial_id), "trial.json"))

    def _random_values(self):
        """Values for each active hyperparameter, seeded as keras-tuner seeds them;
        `None` after 20 draws that were all tried before."""
        collisions = 0
        while True:
            hps = hp_module.HyperParameters()
            for hp in self.hyperparameters.space:
                hps.merge([hp])
                if hps.is_active(hp):
                    hps.values[hp.name] = hp.random_sample(self._seed_state)
                    self._seed_state += 1
            if self._compute_values_hash(hps.values) not in self._tried_so_far:
                return hps.values
            collisions += 1
            if collisions > self._max_collisions:
                return None

    def _record_values(self, trial):
        hps = trial.hyperparameters
        hps.ensure_active_values()
        new_hash = self._compute_values_hash(hps.values)
        self._tried_so_far.add(new_hash)
        old_hash = self._id_to_hash[trial.trial_id]
        if old_hash != new_hash:
            self._id_to_hash[trial.trial_id] = new_hash
            self._tried_so_far.discard(old_hash)
