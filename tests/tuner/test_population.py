"""`search(..., population=N)`: same-shape trials trained in one program, each with the
results of training it alone (`set_random_seed(tuner.trial_seed(trial))`, build, `fit`)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import kerax
import kerax.tuner as kt
from tests.tuner.helpers import data

FIT = dict(epochs=3, batch_size=16, validation_split=0.25, verbose=0)


def build(hp):
    model = kerax.Sequential([
        kerax.Input((4,)),
        kerax.layers.Dense(hp.Choice("units", [8, 4]), activation="relu"),
        kerax.layers.Dropout(hp.Choice("rate", [0.1, 0.3, 0.5])),
        kerax.layers.Dense(2, activation="softmax"),
    ])
    optimizer = kerax.optimizers.AdamW(hp.Float("lr", 1e-3, 1e-1, sampling="log"),
                                       weight_decay=hp.Choice("wd", [0.01, 0.1]))
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Recording:
    """Records every epoch's logs of every trial (`Tuner.on_epoch_end`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.logs = {}

    def on_epoch_end(self, trial, model, epoch, logs=None):
        self.logs.setdefault(trial.trial_id, []).append((epoch, dict(logs)))


class RecordingSearch(Recording, kt.RandomSearch):
    pass


class RecordingGrid(Recording, kt.GridSearch):
    pass


class RecordingHyperband(Recording, kt.Hyperband):
    pass


def _alone(tuner, trial, x, y, callbacks=(), **fit):
    """The trial trained by itself: seeded, built as the tuner builds it, `fit`."""
    kerax.utils.set_random_seed(tuner.trial_seed(trial))
    model = tuner._try_build(trial.hyperparameters.copy())
    weights = []
    saver = kerax.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: weights.append(model.get_weights()))
    history = model.fit(x, y, callbacks=list(callbacks) + [saver], **fit)
    return history, weights


def _assert_same_history(recorded, history, initial_epoch=0):
    assert [e for e, _ in recorded] == list(range(initial_epoch,
                                                  initial_epoch + len(history.epoch)))
    for i, (_, logs) in enumerate(recorded):
        assert sorted(logs) == sorted(history.history)
        for name, value in logs.items():
            np.testing.assert_allclose(value, history.history[name][i], rtol=1e-5)


def _search(cls, tmp_path, x, y, population, callbacks=None, **kwargs):
    tuner = cls(build, objective="val_loss", directory=str(tmp_path), overwrite=True,
                **kwargs)
    extra = {} if callbacks is None else {"callbacks": callbacks}
    tuner.search(x, y, population=population, **FIT, **extra)
    return tuner


@pytest.mark.slow
def test_each_trial_of_a_population_equals_training_it_alone(tmp_path):
    x, y = data(60)
    hp = kt.HyperParameters()
    hp.Fixed("units", 8)
    tuner = _search(RecordingSearch, tmp_path, x, y, population=2, max_trials=2, seed=1,
                    hyperparameters=hp)
    assert len(tuner._population_programs) == 1  # both trials in one program
    trials = list(tuner.oracle.trials.values())
    values = [t.hyperparameters.values for t in trials]
    assert values[0]["lr"] != values[1]["lr"]  # per-trial learning rate...
    assert {v["rate"] for v in values} | {v["wd"] for v in values}  # ...dropout, decay
    for trial in trials:
        history, weights = _alone(tuner, trial, x, y, **FIT)
        _assert_same_history(tuner.logs[trial.trial_id], history)
        assert trial.status == "COMPLETED"
        best = int(np.argmin(history.history["val_loss"]))
        stored = json.load(open(os.path.join(tmp_path, "untitled_project",
                                             f"trial_{trial.trial_id}", "trial.json")))
        np.testing.assert_allclose(stored["score"], history.history["val_loss"][best],
                                   rtol=1e-5)
        assert stored["best_step"] == best
        for got, want in zip(tuner.load_model(trial).get_weights(), weights[best]):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


@pytest.mark.slow
def test_early_stopping_masks_each_trial_as_its_fit_alone_stops(tmp_path):
    x, y = data(60)
    hp = kt.HyperParameters()
    hp.Fixed("units", 8)
    # Stops a trial once its loss improves by less than 0.03 in an epoch.
    stop = kerax.callbacks.EarlyStopping(monitor="loss", min_delta=0.03, patience=0)
    fit = {**FIT, "epochs": 4}
    tuner = RecordingSearch(build, objective="val_loss", max_trials=4, seed=5,
                            hyperparameters=hp, directory=str(tmp_path))
    tuner.search(x, y, population=4, callbacks=[stop], **fit)
    assert len(tuner._population_programs) == 1
    lengths = set()
    for trial in tuner.oracle.trials.values():
        history, _ = _alone(tuner, trial, x, y, callbacks=[stop], **fit)
        _assert_same_history(tuner.logs[trial.trial_id], history)
        np.testing.assert_allclose(trial.score, min(history.history["val_loss"]), rtol=1e-5)
        lengths.add(len(history.epoch))
    assert len(lengths) > 1  # some trials stopped early, others trained on


@pytest.mark.slow
def test_trials_of_different_shapes_train_in_groups_or_alone(tmp_path):
    x, y = data(60)
    hp = kt.HyperParameters()
    hp.Choice("units", [8, 4])
    hp.Choice("rate", [0.1, 0.3, 0.5])
    hp.Float("lr", 1e-3, 1e-1, sampling="log")
    hp.Fixed("wd", 0.01)
    tuner = _search(RecordingSearch, tmp_path, x, y, population=4, max_trials=4, seed=1,
                    hyperparameters=hp)
    units = [t.hyperparameters.values["units"] for t in tuner.oracle.trials.values()]
    # Three 8-unit trials share a program; the 4-unit trial trains alone.
    assert sorted(units) == [4, 8, 8, 8]
    assert len(tuner._population_programs) == 1
    for trial in tuner.oracle.trials.values():
        history, _ = _alone(tuner, trial, x, y, **FIT)
        _assert_same_history(tuner.logs[trial.trial_id], history)


@pytest.mark.slow
def test_hyperband_population_equals_each_trial_alone(tmp_path):
    x, y = data(60)
    hp = kt.HyperParameters()
    hp.Fixed("units", 8)
    tuner = RecordingHyperband(build, objective="val_loss", max_epochs=3, factor=3, seed=2,
                               hyperparameters=hp, directory=str(tmp_path))
    tuner.search(x, y, population=3, batch_size=16, validation_split=0.25, verbose=0)
    continued = 0
    for trial in tuner.oracle.trials.values():
        hp = trial.hyperparameters.values
        continued += "tuner/trial_id" in hp
        fit = dict(batch_size=16, validation_split=0.25, verbose=0,
                   epochs=hp["tuner/epochs"], initial_epoch=hp["tuner/initial_epoch"])
        history, _ = _alone(tuner, trial, x, y, **fit)
        _assert_same_history(tuner.logs[trial.trial_id], history,
                             initial_epoch=hp["tuner/initial_epoch"])
    # The continued trial (from its parent's checkpoint, epochs 1..2) trained in one
    # program with two new 3-epoch trials: masked out of their first epoch.
    assert continued == 1 and len(tuner._population_programs) == 1


@pytest.mark.parametrize("population,error,match", [
    (0, ValueError, r"positive integer .* Received: population=0\. Pass `population=1`"),
    (-2, ValueError, r"Received: population=-2"),
    (2.5, TypeError, r"Received: population=2\.5 of type float"),
    ("4", TypeError, r"Received: population='4' of type str"),
    (True, TypeError, r"Received: population=True of type bool"),
])
def test_bad_population_values_say_what_is_expected(tmp_path, population, error, match):
    tuner = kt.RandomSearch(build, objective="loss", max_trials=1, directory=str(tmp_path))
    with pytest.raises(error, match=match):
        tuner.search(*data(), epochs=1, population=population)
    assert not tuner.oracle.trials  # nothing ran


def test_population_needs_the_builtin_fit_loop_and_arrays(tmp_path):
    class OwnFit(kt.HyperModel):
        def build(self, hp):
            return build(hp)

        def fit(self, hp, model, *args, **kwargs):
            return model.fit(*args, **kwargs)

    tuner = kt.RandomSearch(OwnFit(), objective="loss", max_trials=1,
                            directory=str(tmp_path), project_name="a")
    with pytest.raises(ValueError, match="hypermodel `OwnFit` overrides `fit`"):
        tuner.search(*data(), epochs=1, population=2)

    class OwnTrial(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            return 0.0

    tuner = OwnTrial(build, objective="loss", max_trials=1, directory=str(tmp_path),
                     project_name="b")
    with pytest.raises(ValueError, match="`OwnTrial` overrides `run_trial`"):
        tuner.search(*data(), epochs=1, population=2)

    class Base(kt.BaseTuner):
        def run_trial(self, trial, *args, **kwargs):
            return 0.0

    tuner = Base(kt.oracles.RandomSearchOracle(objective="loss", max_trials=1),
                 directory=str(tmp_path), project_name="c")
    with pytest.raises(ValueError, match="needs a `Tuner`"):
        tuner.search(population=2)

    tuner = kt.RandomSearch(build, objective="loss", max_trials=1, directory=str(tmp_path),
                            project_name="d")
    x, y = data()
    with pytest.raises(ValueError, match="needs the training data as arrays"):
        tuner.search(((x[i:i + 8], y[i:i + 8]) for i in range(0, 64, 8)), epochs=1,
                     population=2)
    with pytest.raises(TypeError, match="has no argument `epoch`"):
        tuner.search(x, y, epoch=1, population=2)


def _sharded_search(tmp_path, population, max_trials):
    """A population search under `DataParallel`, each trial compared with its fit alone
    (without a distribution); returns the device counts the trial axis was laid on."""
    from kerax import distribution
    from kerax.tuner import population as pop

    x, y = data(64)
    hp = kt.HyperParameters()
    hp.Fixed("units", 8)
    laid_out = []
    put = pop._put

    def spy(tree, sharding):
        if sharding is not None:
            laid_out.append(len(sharding.mesh.devices.flat))
        return put(tree, sharding)

    pop._put = spy
    distribution.set_distribution(distribution.DataParallel())
    try:
        tuner = _search(RecordingSearch, tmp_path, x, y, population=population,
                        max_trials=max_trials, seed=1, hyperparameters=hp)
    finally:
        distribution.set_distribution(None)
        pop._put = put
    assert len(tuner._population_programs) == 1
    for trial in tuner.oracle.trials.values():
        history, _ = _alone(tuner, trial, x, y, **FIT)
        _assert_same_history(tuner.logs[trial.trial_id], history)
    return set(laid_out)


@pytest.mark.slow
def test_under_a_distribution_the_trial_axis_is_laid_on_its_devices(tmp_path):
    import jax

    assert _sharded_search(tmp_path, 2, 2) == {min(2, jax.device_count())}


@pytest.mark.slow
def test_the_trial_axis_is_sharded_over_8_simulated_devices(tmp_path):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8",
               KERAS_BACKEND="jax")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = ("import sys, pathlib; from tests.tuner import test_population as t; "
            "print('LAID OUT', t._sharded_search(pathlib.Path(sys.argv[1]), 4, 4))")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=root, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert "LAID OUT {4}" in result.stdout  # four trials, one per device


@pytest.mark.slow
def test_executions_per_trial_are_members_seeded_apart_and_averaged(tmp_path):
    x, y = data(60)
    hp = kt.HyperParameters()
    hp.Fixed("units", 8)
    fit = {**FIT, "epochs": 2}
    tuner = kt.RandomSearch(build, objective="val_loss", max_trials=1, seed=3,
                            executions_per_trial=2, hyperparameters=hp,
                            directory=str(tmp_path))
    tuner.search(x, y, population=2, **fit)
    assert len(tuner._population_programs) == 1  # the two executions in one program
    trial = tuner.oracle.trials["0"]
    best = []
    for execution in range(2):
        kerax.utils.set_random_seed(tuner.trial_seed(trial, execution))
        model = tuner._try_build(trial.hyperparameters.copy())
        best.append(min(model.fit(x, y, **fit).history["val_loss"]))
    assert best[0] != best[1]
    np.testing.assert_allclose(trial.score, np.mean(best), rtol=1e-5)
