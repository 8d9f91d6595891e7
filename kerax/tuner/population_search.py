"""`search(..., population=N)`: up to N trials at a time, same-shape ones in one program.

The loop asks the oracle for up to N trials (each under its own tuner id, as keras-tuner's
parallel workers do), builds every execution of each trial as if
`kerax.utils.set_random_seed(tuner.trial_seed(trial, execution))` had been called just
before, groups the fits whose models have the same `population.group_key`, and trains each
group in one compiled program (`population.train_group`); a fit with no partner trains
alone with `fit`. Each trial is then reported, saved and checkpointed as `run_trial` does.
"""

import collections
import gc
import traceback
import zlib

import numpy as np

from kerax.backend import random_state
from kerax.trainer.data_adapters import stream_data_adapter
from kerax.tuner import errors
from kerax.tuner import hypermodel as hm_module
from kerax.tuner import population as pop
from kerax.tuner import trial as trial_module
from kerax.tuner import tuner_utils

TrialStatus = trial_module.TrialStatus

FIT_ARGUMENTS = ("x", "y", "batch_size", "epochs", "verbose", "callbacks",
                 "validation_split", "validation_data", "shuffle", "class_weight",
                 "sample_weight", "initial_epoch", "steps_per_epoch", "validation_steps",
                 "validation_batch_size", "validation_freq")


def check_population(population):
    """`population` as an int >= 1, or None; a clear error for anything else.

    Example:
    >>> check_population(4), check_population(None)
    (4, None)
    """
    if population is None:
        return None
    if isinstance(population, bool) or not isinstance(population, (int, np.integer)):
        raise TypeError(
            "`population` must be a positive integer (the number of trials trained together "
            f"in one compiled program) or None. Received: population={population!r} of type "
            f"{type(population).__name__}. Pass e.g. `population=4`.")
    if population < 1:
        raise ValueError(
            "`population` must be a positive integer (the number of trials trained together "
            f"in one compiled program) or None. Received: population={population}. Pass "
            "`population=1` or more, or leave it out to run trials one at a time.")
    return int(population)


def trial_seed(oracle_seed, trial_id, execution=0):
    """The seed of one execution of a trial under `population`.

    Example:
    >>> trial_seed(3, "01") == trial_seed(3, "01"), trial_seed(3, "01") == trial_seed(3, "02")
    (True, False)
    """
    return zlib.crc32(f"{oracle_seed}/{trial_id}/{execution}".encode()) % (2**31 - 1)


def _fit_kwargs(fit_args, fit_kwargs):
    if len(fit_args) > len(FIT_ARGUMENTS):
        raise TypeError(f"`search` got {len(fit_args)} positional arguments for `fit`; it "
                        f"takes at most {len(FIT_ARGUMENTS)}.")
    kwargs = dict(zip(FIT_ARGUMENTS, fit_args))
    for name, value in fit_kwargs.items():
        if name not in FIT_ARGUMENTS:
            raise TypeError(
                f"`search(..., population=N)` passes its arguments to `fit`, which has no "
                f"argument `{name}`. Expected some of {list(FIT_ARGUMENTS)}.")
        if name in kwargs:
            raise TypeError(f"`search` got `{name}` both positionally and by name.")
        kwargs[name] = value
    if stream_data_adapter.is_stream(kwargs.get("x")):
        raise ValueError(
            "`search(..., population=N)` needs the training data as arrays (NumPy/JAX arrays, "
            "or lists/dicts of them): each trial of a group draws its own epoch plan over "
            f"them. Received x of type {type(kwargs.get('x')).__name__}. Convert the "
            "dataset to arrays, or leave `population` out to run trials one at a time.")
    return kwargs


def check_tuner(tuner, builtin_run_trial):
    """Raise where `population` cannot keep a tuner's semantics."""
    if type(tuner).run_trial is not builtin_run_trial:
        raise ValueError(
            f"`search(..., population=N)` trains trials inside kerax's own fit loop, but "
            f"`{type(tuner).__name__}` overrides `run_trial`, which it cannot run for "
            "several trials at once. Leave `population` out to run trials one at a time.")
    if type(tuner.hypermodel).fit is not hm_module.HyperModel.fit:
        raise ValueError(
            f"`search(..., population=N)` trains trials inside kerax's own fit loop, but the "
            f"hypermodel `{type(tuner.hypermodel).__name__}` overrides `fit`. Tune what "
            "`fit` does through `build` and `search`'s arguments instead, or leave "
            "`population` out to run trials one at a time.")


def search(tuner, population, fit_args, fit_kwargs):
    """The search loop of `BaseTuner.search` with `population` trials at a time."""
    kwargs = _fit_kwargs(fit_args, fit_kwargs)
    if "verbose" in kwargs:
        tuner.oracle.verbose = kwargs["verbose"]
    tuner.on_search_begin()
    while True:
        tuner.pre_create_trial()
        trials, stopped = [], False
        for j in range(population):
            trial = tuner.oracle.create_trial(
                tuner.tuner_id if j == 0 else f"{tuner.tuner_id}-{j}")
            if trial.status == TrialStatus.STOPPED:
                stopped = True
                break
            if trial.status == TrialStatus.IDLE:
                break
            trials.append(trial)
        if not trials:
            if stopped:
                break
            continue
        for trial in trials:
            tuner.on_trial_begin(trial)
        run_trials(tuner, trials, population, kwargs)
        for trial in trials:
            tuner.on_trial_end(trial)
    tuner.on_search_end()


class _TrialRun:
    def __init__(self, trial, checkpoint):
        self.trial = trial
        self.checkpoint = checkpoint
        self.members = []
        self.error = None


def run_trials(tuner, trials, population, kwargs):
    """Builds, groups and trains the executions of `trials`; reports each trial."""
    runs = []
    gc.collect()  # once for the batch (`clear_session` does it for every build otherwise)
    for trial in trials:
        run = _TrialRun(trial, tuner_utils.SaveBestEpoch(
            objective=tuner.oracle.objective,
            filepath=tuner._get_checkpoint_fname(trial.trial_id)))
        runs.append(run)
        trial_kwargs = tuner._trial_fit_kwargs(trial, kwargs)
        for execution in range(tuner.executions_per_trial):
            try:
                run.members.append(_member(tuner, run, execution, trial_kwargs))
            except errors.FatalError:
                raise
            except Exception as e:  # noqa: BLE001 - the trial fails, as in `run_trial`
                run.error = e
                break
    groups = collections.defaultdict(list)
    for run in runs:
        if run.error is None:
            for member in run.members:
                groups[member.key].append(member)
    for key, members in groups.items():
        chunks = [members[i:i + population] for i in range(0, len(members), population)]
        for chunk in chunks:
            if key is None or len(chunk) == 1:
                for member in chunk:
                    _fit_alone(tuner, member)
            else:
                programs = tuner._population_programs.get(key)
                if programs is None:
                    programs = tuner._population_programs[key] = pop.GroupPrograms(
                        chunk[0].model)
                pop.train_group(chunk, programs, chunk[0].fit_kwargs)
    for run in runs:
        _report(tuner, run)


def _member(tuner, run, execution, trial_kwargs):
    trial = run.trial
    random_state.set_random_seed(tuner.trial_seed(trial, execution))
    model = tuner._try_build(trial.hyperparameters, free_memory=False)
    callbacks = tuner._deepcopy_callbacks(trial_kwargs.get("callbacks") or [])
    callbacks += [tuner_utils.TunerCallback(tuner, trial), run.checkpoint]
    member = pop.Member(model, callbacks, epochs=trial_kwargs.get("epochs", 1),
                        initial_epoch=trial_kwargs.get("initial_epoch", 0))
    member.run = run
    member.fit_kwargs = {k: v for k, v in trial_kwargs.items()
                         if k not in ("callbacks", "epochs", "initial_epoch", "verbose")}
    member.all_kwargs = trial_kwargs
    member.prepare(member.fit_kwargs)
    member.key = pop.group_key(model)
    return member


def _fit_alone(tuner, member):
    """The member's own `fit`, from the RNG state right after its build."""
    np.random.set_state(member.np_before)
    kwargs = {**member.all_kwargs, "callbacks": member.callbacks}
    try:
        member.history = tuner.hypermodel.fit(member.run.trial.hyperparameters, member.model,
                                              **kwargs)
    except errors.FatalError:
        raise
    except Exception as e:  # noqa: BLE001 - the trial fails, as in `run_trial`
        member.error = e


def _report(tuner, run):
    """Records a trial's results (or its failure) as `_try_run_and_update_trial` does."""
    trial = run.trial
    error = run.error or next((m.error for m in run.members if m.error is not None), None)
    try:
        if error is not None:
            raise error
        model = run.members[-1].model
        if model.built:
            trial_module.save_json(tuner._get_build_config_fname(trial.trial_id),
                                   model.get_build_config())
        results = [m.history for m in run.members]
        objective = tuner.oracle.objective
        tuner_utils.validate_trial_results(results, objective, "HyperModel.fit()")
        tuner.oracle.update_trial(
            trial.trial_id, tuner_utils.convert_to_metrics_dict(results, objective),
            step=tuner_utils.get_best_step(results, objective))
        trial.status = TrialStatus.COMPLETED
    except errors.FatalError:
        raise
    except Exception as e:  # noqa: BLE001
        trial.status = (TrialStatus.FAILED if isinstance(e, errors.FailedTrialError)
                        else TrialStatus.INVALID)
        trial.message = "".join(traceback.format_exception(type(e), e, e.__traceback__))


__all__ = ["search", "check_population", "trial_seed", "run_trials"]
