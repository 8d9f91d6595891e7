"""`BaseTuner`: the search loop, storage under `directory/project_name`, and summaries.

It knows nothing of models: `run_trial(trial, *args, **kwargs)` returns the trial's
metrics. `Tuner` (in `tuner.py`) builds and fits kerax models.
"""

import copy
import os
import shutil
import traceback

from kerax.tuner import errors
from kerax.tuner import hypermodel as hm_module
from kerax.tuner import oracle as oracle_module
from kerax.tuner import population_search
from kerax.tuner import trial as trial_module
from kerax.tuner import tuner_utils

TrialStatus = trial_module.TrialStatus


class BaseTuner:
    """Runs trials from an `oracle` until it says STOPPED; saves after every trial.

    With `overwrite=False` (the default) and an existing project, the tuner reloads it:
    finished trials are kept, and a trial that was running when the process died is run
    again from the start.
    """

    def __init__(self, oracle, hypermodel=None, directory=None, project_name=None,
                 overwrite=False, **kwargs):
        if not isinstance(oracle, oracle_module.Oracle):
            raise ValueError(
                f"Expected `oracle` argument to be an instance of `Oracle`. Received: "
                f"oracle={oracle} (of type ({type(oracle)}).")
        kwargs.pop("logger", None)
        if kwargs:
            raise ValueError(
                f"Unrecognized arguments {list(kwargs)} for `{type(self).__name__}`.")
        self.oracle = oracle
        self.hypermodel = hm_module.get_hypermodel(hypermodel)
        self.directory = directory or "."
        self.project_name = project_name or "untitled_project"
        self.oracle._set_project_dir(self.directory, self.project_name)
        project = os.path.join(str(self.directory), self.project_name)
        if overwrite and os.path.exists(project):
            shutil.rmtree(project)
        self.tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "tuner0")
        if not overwrite and os.path.exists(self._get_tuner_fname()):
            print(f"Reloading Tuner from {self._get_tuner_fname()}")
            self.reload()
        else:
            self._populate_initial_space()

    def _activate_all_conditions(self):
        """Build once per conditional branch so the whole space is known before search."""
        never_active, once_active = [], []
        hp = self.oracle.get_space()
        while True:
            self.hypermodel.build(hp)
            self.oracle.update_space(hp)
            for conditions in hp.active_scopes:
                if conditions not in once_active:
                    once_active.append(copy.deepcopy(conditions))
                if conditions in never_active:
                    never_active.remove(conditions)
            for conditions in hp.inactive_scopes:
                if conditions not in once_active:
                    never_active.append(copy.deepcopy(conditions))
            if not never_active:
                break
            hp = self.oracle.get_space()
            for condition in never_active[0]:
                hp.values[condition.name] = condition.values[0]
            hp.ensure_active_values()

    def _populate_initial_space(self):
        if self.hypermodel is None:
            return
        hp = self.oracle.get_space()
        self.hypermodel.declare_hyperparameters(hp)
        self.oracle.update_space(hp)
        self._activate_all_conditions()

    def search(self, *fit_args, population=None, **fit_kwargs):
        """Run trials until the oracle stops; arguments go to each trial's `fit`.

        Args:
            population: None (the default) to run trials one at a time, or N >= 1 to run
                up to N trials at a time, those whose models have the same shapes trained
                together in one compiled program (see `docs/tuner.md`; a `Tuner` only).
        """
        population = population_search.check_population(population)
        if population is not None:
            return self._search_population(population, fit_args, fit_kwargs)
        if "verbose" in fit_kwargs:
            self.oracle.verbose = fit_kwargs["verbose"]
        self.on_search_begin()
        while True:
            self.pre_create_trial()
            trial = self.oracle.create_trial(self.tuner_id)
            if trial.status == TrialStatus.STOPPED:
                break
            if trial.status == TrialStatus.IDLE:
                continue
            self.on_trial_begin(trial)
            self._try_run_and_update_trial(trial, *fit_args, **fit_kwargs)
            self.on_trial_end(trial)
        self.on_search_end()

    def _search_population(self, population, fit_args, fit_kwargs):
        raise ValueError(
            f"`search(..., population={population})` trains kerax models together, so it "
            f"needs a `Tuner` (`RandomSearch`, `GridSearch`, `Hyperband`, "
            f"`BayesianOptimization`, or a `Tuner` subclass); `{type(self).__name__}` is a "
            f"`BaseTuner` whose `run_trial` is its own. Leave `population` out.")

    def _run_and_update_trial(self, trial, *fit_args, **fit_kwargs):
        results = self.run_trial(trial, *fit_args, **fit_kwargs)
        objective = self.oracle.objective
        if self.oracle.get_trial(trial.trial_id).metrics.exists(objective.name):
            return  # `run_trial` reported through `oracle.update_trial` itself
        tuner_utils.validate_trial_results(results, objective, "Tuner.run_trial()")
        self.oracle.update_trial(
            trial.trial_id, tuner_utils.convert_to_metrics_dict(results, objective),
            step=tuner_utils.get_best_step(results, objective))

    def _try_run_and_update_trial(self, trial, *fit_args, **fit_kwargs):
        try:
            self._run_and_update_trial(trial, *fit_args, **fit_kwargs)
            trial.status = TrialStatus.COMPLETED
        except Exception as e:
            if isinstance(e, errors.FatalError):
                raise
            failed = isinstance(e, errors.FailedTrialError)
            trial.status = TrialStatus.FAILED if failed else TrialStatus.INVALID
            trial.message = traceback.format_exc()

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        raise NotImplementedError(
            f"{type(self).__name__} must implement `run_trial(trial, *args, **kwargs)`.")

    def load_model(self, trial):
        raise NotImplementedError(f"{type(self).__name__} does not implement `load_model`.")

    def pre_create_trial(self):
        pass

    def on_trial_begin(self, trial):
        pass

    def on_trial_end(self, trial):
        self.oracle.end_trial(trial)
        self.save()

    def on_search_begin(self):
        pass

    def on_search_end(self):
        pass

    def get_best_models(self, num_models=1):
        """The best `num_models` models, each with the weights of its best epoch."""
        return [self.load_model(t) for t in self.oracle.get_best_trials(num_models)]

    def get_best_hyperparameters(self, num_trials=1):
        """The `HyperParameters` of the best `num_trials` trials, best first."""
        return [t.hyperparameters for t in self.oracle.get_best_trials(num_trials)]

    def search_space_summary(self, extended=False):
        """Print each hyperparameter of the search space and its configuration."""
        print("Search space summary")
        hp = self.oracle.get_space()
        print(f"Default search space size: {len(hp.space)}")
        for p in hp.space:
            config = p.get_config()
            name = config.pop("name")
            print(f"{name} ({type(p).__name__})")
            print(config)

    def results_summary(self, num_trials=10):
        """Print the best `num_trials` trials: values and score."""
        print("Results summary")
        print(f"Results in {self.project_dir}")
        print("Showing %d best trials" % num_trials)
        print(f"{self.oracle.objective}")
        for trial in self.oracle.get_best_trials(num_trials):
            print()
            trial.summary()

    @property
    def remaining_trials(self):
        return self.oracle.remaining_trials()

    def get_state(self):
        return {}

    def set_state(self, state):
        pass

    def save(self):
        self.oracle.save()
        trial_module.save_json(self._get_tuner_fname(), self.get_state())

    def reload(self):
        self.oracle.reload()
        self.set_state(trial_module.load_json(self._get_tuner_fname()))

    @property
    def project_dir(self):
        path = os.path.join(str(self.directory), self.project_name)
        os.makedirs(path, exist_ok=True)
        return path

    def get_trial_dir(self, trial_id):
        path = os.path.join(self.project_dir, f"trial_{trial_id}")
        os.makedirs(path, exist_ok=True)
        return path

    def _get_tuner_fname(self):
        return os.path.join(str(self.directory), self.project_name, f"{self.tuner_id}.json")
