"""`Tuner`: builds a kerax model per trial, fits it, keeps the best epoch's weights."""

import copy
import math
import os

from kerax import backend, distribution, optimizers
from kerax.models import Model
from kerax.tuner import errors
from kerax.tuner import population_search
from kerax.tuner import tuner_utils
from kerax.tuner import trial as trial_module
from kerax.tuner.base_tuner import BaseTuner


def maybe_compute_model_size(model):
    """Trainable parameter count of a built model (0 when it is not built yet)."""
    if not model.built:
        return 0
    return int(sum(math.prod(w.shape) for w in model.trainable_weights))


class Tuner(BaseTuner):
    """Base class of `RandomSearch`, `GridSearch`, `Hyperband`.

    Each trial builds the model with `hypermodel.build(hp)`, fits it with
    `hypermodel.fit(hp, model, *args, **kwargs)` `executions_per_trial` times, with
    fresh deep copies of the callbacks each time (so `EarlyStopping` works per trial), and
    saves the weights of the best epoch to `trial_<id>/checkpoint.weights.h5`.

    Args:
        max_model_size: trials whose model has more trainable parameters fail.
        optimizer, loss, metrics: if given, override what `build` compiled with.
        executions_per_trial: fits per trial; the reported metrics are averaged.
        directory, project_name: results go to `directory/project_name`.
        overwrite: start afresh instead of resuming the project found there.
    """

    def __init__(self, oracle, hypermodel=None, max_model_size=None, optimizer=None,
                 loss=None, metrics=None, distribution_strategy=None, directory=None,
                 project_name=None, logger=None, tuner_id=None, overwrite=False,
                 executions_per_trial=1, **kwargs):
        if hypermodel is None and type(self).run_trial is Tuner.run_trial:
            raise ValueError(
                "Received `hypermodel=None`. We only allow not specifying `hypermodel` if the "
                "user defines the search space in `Tuner.run_trial()` by subclassing a "
                "`Tuner` class without using a `HyperModel` instance.")
        if distribution_strategy is not None:
            raise ValueError(
                "`distribution_strategy` (a tf.distribute strategy) has no kerax "
                "equivalent; set a `kerax.distribution` (e.g. "
                "`kerax.distribution.set_distribution(DataParallel())`) before `search`: "
                "every trial runs under it.")
        super().__init__(oracle=oracle, hypermodel=hypermodel, directory=directory,
                         project_name=project_name, logger=logger, overwrite=overwrite,
                         **kwargs)
        self.max_model_size = max_model_size
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.distribution_strategy = None
        self.executions_per_trial = executions_per_trial
        self.tuner_id = tuner_id or self.tuner_id
        self._population_programs = {}  # `search(population=N)`'s programs per group key

    def _build_hypermodel(self, hp):
        model = self.hypermodel.build(hp)
        self._override_compile_args(model)
        return model

    def _try_build(self, hp, free_memory=True):
        # As keras-tuner, each trial starts from a clear session (names count from zero
        # again), but the distribution the user set survives it.
        current = distribution.distribution()
        backend.clear_session(free_memory=free_memory)
        distribution.set_distribution(current)
        model = self._build_hypermodel(hp)
        if not isinstance(model, Model):
            raise errors.FatalTypeError(
                "Expected the model-building function, or HyperModel.build() to return a "
                f"valid kerax Model instance. Received: {model} of type {type(model)}.")
        size = maybe_compute_model_size(model)
        if self.max_model_size and size > self.max_model_size:
            raise errors.FailedTrialError(f"Oversized model: {size} parameters. Skip model.")
        return model

    def _override_compile_args(self, model):
        if not (self.optimizer or self.loss or self.metrics):
            return
        optimizer = self.optimizer or model.optimizer
        if optimizer is not None and not isinstance(optimizer, str):
            optimizer = optimizers.deserialize(optimizers.serialize(optimizer))
        # A re-compile without `loss` / `metrics` keeps the model's own.
        model.compile(optimizer=optimizer, loss=self.loss, metrics=self.metrics)

    def _build_and_fit_model(self, trial, *args, **kwargs):
        hp = trial.hyperparameters
        model = self._try_build(hp)
        results = self.hypermodel.fit(hp, model, *args, **kwargs)
        build_config = model.get_build_config() if model.built else None
        if build_config is not None:
            trial_module.save_json(self._get_build_config_fname(trial.trial_id), build_config)
        tuner_utils.validate_trial_results(results, self.oracle.objective, "HyperModel.fit()")
        return results

    def run_trial(self, trial, *args, **kwargs):
        """Fit the trial's model `executions_per_trial` times; return the histories."""
        checkpoint = tuner_utils.SaveBestEpoch(
            objective=self.oracle.objective,
            filepath=self._get_checkpoint_fname(trial.trial_id))
        kwargs = self._trial_fit_kwargs(trial, kwargs)
        original_callbacks = kwargs.pop("callbacks", [])
        histories = []
        for _ in range(self.executions_per_trial):
            copied = copy.copy(kwargs)
            callbacks = self._deepcopy_callbacks(original_callbacks)
            callbacks.append(tuner_utils.TunerCallback(self, trial))
            callbacks.append(checkpoint)
            copied["callbacks"] = callbacks
            histories.append(self._build_and_fit_model(trial, *args, **copied))
        return histories

    def _search_population(self, population, fit_args, fit_kwargs):
        population_search.check_tuner(self, Tuner.run_trial)
        population_search.search(self, population, fit_args, fit_kwargs)

    def trial_seed(self, trial, execution=0):
        """The seed of `trial`'s `execution` under `search(..., population=N)`: it is
        built and trained as after `kerax.utils.set_random_seed(seed)`, so training it
        alone after that call gives the same results."""
        return population_search.trial_seed(self.oracle.seed, trial.trial_id, execution)

    def _trial_fit_kwargs(self, trial, fit_kwargs):
        """The `fit` arguments of `trial` (Hyperband sets `epochs` and `initial_epoch`)."""
        return fit_kwargs

    def load_model(self, trial):
        """The trial's model with the weights of its best epoch."""
        model = self._try_build(trial.hyperparameters)
        self._load_trial_weights(model, trial.trial_id)
        return model

    def _load_trial_weights(self, model, trial_id):
        checkpoint = self._get_checkpoint_fname(trial_id)
        if not os.path.exists(checkpoint):
            raise FileNotFoundError(
                f"Trial {trial_id} has no checkpoint at {checkpoint}: it has not finished an "
                f"epoch (was it stopped, or did it fail?).")
        build_config = self._get_build_config_fname(trial_id)
        if not model.built and os.path.exists(build_config):
            model.build_from_config(trial_module.load_json(build_config))
        model.load_weights(checkpoint)

    def on_batch_begin(self, trial, model, batch, logs):
        pass

    def on_batch_end(self, trial, model, batch, logs=None):
        pass

    def on_epoch_begin(self, trial, model, epoch, logs=None):
        pass

    def on_epoch_end(self, trial, model, epoch, logs=None):
        pass

    def _deepcopy_callbacks(self, callbacks):
        try:
            return copy.deepcopy(callbacks)
        except Exception as e:
            raise errors.FatalValueError(
                "All callbacks used during a search should be deep-copyable (since they are "
                f"reused across trials). It is not possible to do `copy.deepcopy({callbacks})`"
            ) from e

    def _get_checkpoint_fname(self, trial_id):
        return os.path.join(self.get_trial_dir(trial_id), "checkpoint.weights.h5")

    def _get_build_config_fname(self, trial_id):
        return os.path.join(self.get_trial_dir(trial_id), "build_config.json")
