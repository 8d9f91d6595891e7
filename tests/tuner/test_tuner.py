"""Tuners driving kerax models: storage layout, best-epoch checkpoints, callbacks per
trial, executions_per_trial, max_model_size, HyperModel.fit, Hyperband's continuation."""

import contextlib
import io
import json
import os
import re

import numpy as np
import pytest

import kerax
import kerax.tuner as kt
from tests.tuner.helpers import data, make_build

kt_ref = pytest.importorskip("keras_tuner")


def _printed(fn):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        fn()
    return out.getvalue()


def test_search_space_summary_matches_keras_tuner(tmp_path, keras):
    def extra(hp):
        hp.Choice("act", ["relu", "tanh"])
        hp.Boolean("bn", parent_name="act", parent_values=["tanh"])

    ours = kt.RandomSearch(make_build(kerax, extra=extra), objective="val_loss",
                           max_trials=1, directory=str(tmp_path), project_name="a")
    ref = kt_ref.RandomSearch(make_build(keras, extra=extra), objective="val_loss",
                              max_trials=1, directory=str(tmp_path), project_name="b")
    text = _printed(ours.search_space_summary)
    assert text == _printed(ref.search_space_summary)
    assert "Default search space size: 4" in text and "bn (Boolean)" in text


class RecordingSearch(kt.RandomSearch):
    """Records each epoch a trial runs and the weights at the end of each epoch."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.epochs = []
        self.weights = {}
        self.logs = []

    def on_epoch_end(self, trial, model, epoch, logs=None):
        self.epochs.append((trial.trial_id, epoch))
        self.weights[(trial.trial_id, epoch)] = (model.get_weights(), dict(logs))
        self.logs.append(float(logs["loss"]))


def test_random_search_stores_trials_as_keras_tuner_and_reloads_the_best_epoch(tmp_path):
    x, y = data()
    tuner = RecordingSearch(make_build(kerax), objective="val_accuracy", max_trials=2,
                            seed=3, directory=str(tmp_path), project_name="p")
    tuner.search(x, y, epochs=3, validation_split=0.25, verbose=0)
    project = tmp_path / "p"
    assert sorted(os.listdir(project)) == ["oracle.json", "trial_0", "trial_1", "tuner0.json"]
    assert {"trial.json", "checkpoint.weights.h5"} <= set(os.listdir(project / "trial_0"))
    # keras-tuner reads our trial files.
    ref_trial = kt_ref.engine.trial.Trial.load(str(project / "trial_0" / "trial.json"))
    trial = tuner.oracle.trials["0"]
    assert ref_trial.status == "COMPLETED" and ref_trial.score == trial.score
    assert ref_trial.hyperparameters.values == trial.hyperparameters.values
    # keras-tuner's oracle reloads the whole project (oracle.json and every trial.json).
    ref_oracle = kt_ref.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=2)
    ref_oracle._set_project_dir(str(tmp_path), "p")
    ref_oracle.reload()
    assert ([(t.trial_id, t.score, t.best_step) for t in ref_oracle.get_best_trials(2)]
            == [(t.trial_id, t.score, t.best_step) for t in tuner.oracle.get_best_trials(2)])
    # `tried_so_far` is a set written as a list: its order is the set's, not meaningful.
    assert (sorted(ref_oracle.get_state()["tried_so_far"])
            == sorted(tuner.oracle.get_state()["tried_so_far"]))

    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score == max(t.score for t in tuner.oracle.trials.values())
    # The checkpoint holds the first epoch with the best val_accuracy, as keras-tuner's.
    history = [tuner.weights[(best.trial_id, e)] for e in range(3)]
    accs = [logs["val_accuracy"] for _, logs in history]
    best_epoch = int(np.argmax(accs))
    assert best.best_step == best_epoch and best.score == pytest.approx(max(accs))
    model = tuner.get_best_models(1)[0]
    for got, want in zip(model.get_weights(), history[best_epoch][0]):
        np.testing.assert_array_equal(got, want)
    assert tuner.get_best_hyperparameters(1)[0].values == best.hyperparameters.values
    summary = _printed(tuner.results_summary)
    assert 'Objective(name="val_accuracy", direction="max")' in summary
    assert f"Trial {best.trial_id} summary" in summary


def test_callbacks_are_copied_per_trial_and_early_stopping_stops_each_trial(tmp_path):
    x, y = data()
    stop = kerax.callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=1)
    tuner = RecordingSearch(make_build(kerax), objective="loss", max_trials=2, seed=1,
                            directory=str(tmp_path))
    tuner.search(x, y, epochs=6, verbose=0, callbacks=[stop])
    # patience=1 with an unreachable min_delta: every trial stops after two epochs.
    assert tuner.epochs == [("0", 0), ("0", 1), ("1", 0), ("1", 1)]
    assert stop.model is None  # the user's callback object is never used itself


def test_executions_per_trial_average_the_objective(tmp_path):
    x, y = data()
    tuner = RecordingSearch(make_build(kerax), objective="loss", max_trials=1,
                            executions_per_trial=2, directory=str(tmp_path))
    tuner.search(x, y, epochs=1, verbose=0)
    trial = tuner.oracle.trials["0"]
    assert tuner.epochs == [("0", 0), ("0", 0)]
    ((step, values),) = trial.metrics.get_history("loss")
    assert step == 0 and len(values) == 1
    # Two executions from fresh initial weights: the trial reports their mean.
    assert tuner.logs[0] != tuner.logs[1]
    assert trial.score == pytest.approx(values[0]) == pytest.approx(np.mean(tuner.logs))


def test_max_model_size_fails_trials_and_stops_after_consecutive_failures(tmp_path):
    x, y = data()
    tuner = kt.RandomSearch(make_build(kerax), objective="loss", max_trials=5,
                            max_model_size=10, directory=str(tmp_path))
    with pytest.raises(RuntimeError, match="(?s)Number of consecutive failures exceeded the "
                                           "limit of 3.*Oversized model: \\d+ parameters"):
        tuner.search(x, y, epochs=1, verbose=0)
    assert [t.status for t in tuner.oracle.trials.values()] == ["FAILED"] * 3


def test_hypermodel_fit_override_and_default_objective(tmp_path):
    x, y = data()

    class MyHyperModel(kt.HyperModel):
        def build(self, hp):
            return make_build(kerax)(hp)

        def fit(self, hp, model, *args, **kwargs):
            model.fit(*args, batch_size=hp.Choice("batch_size", [16, 32]), **kwargs)
            return float(model.evaluate(x, y, verbose=0)[0])

    tuner = kt.RandomSearch(MyHyperModel(), max_trials=2, seed=5, directory=str(tmp_path))
    tuner.search(x, y, epochs=1, verbose=0)
    assert "batch_size" in [hp.name for hp in tuner.oracle.hyperparameters.space]
    assert str(tuner.oracle.objective) == 'Objective(name="default_objective", direction="min")'
    scores = sorted(t.score for t in tuner.oracle.trials.values())
    assert tuner.oracle.get_best_trials(1)[0].score == scores[0]


@pytest.mark.slow  # ~20 s on 2 cores
def test_hyperband_continues_promoted_trials_from_their_checkpoint(tmp_path):
    x, y = data()

    class HB(kt.Hyperband):
        first_weights = {}
        epochs = []

        def on_epoch_begin(self, trial, model, epoch, logs=None):
            self.epochs.append((trial.trial_id, epoch))
            self.first_weights.setdefault(trial.trial_id, model.get_weights())

    tuner = HB(make_build(kerax), objective="val_loss", max_epochs=3, factor=3, seed=2,
               directory=str(tmp_path))
    tuner.search(x, y, validation_split=0.25, verbose=0)
    # Bracket 1: three 1-epoch trials, the best continued for epochs 1..2; bracket 0: two
    # 3-epoch trials.
    assert tuner.epochs == ([("0000", 0), ("0001", 0), ("0002", 0), ("0003", 1), ("0003", 2)]
                            + [("0004", e) for e in range(3)] + [("0005", e) for e in range(3)])
    promoted = tuner.oracle.trials["0003"].hyperparameters.values
    parent = promoted["tuner/trial_id"]
    first = {t: tuner.oracle.trials[t].score for t in ("0000", "0001", "0002")}
    assert parent == min(first, key=first.get)
    for got, want in zip(tuner.first_weights["0003"],
                         tuner.load_model(tuner.oracle.trials[parent]).get_weights()):
        np.testing.assert_array_equal(got, want)


def test_bad_hypermodels_and_results_stop_the_search(tmp_path):
    with pytest.raises(kt.FatalValueError, match="should be either a callable"):
        kt.RandomSearch(hypermodel=3, objective="loss", directory=str(tmp_path))
    with pytest.raises(ValueError, match="Received `hypermodel=None`"):
        kt.RandomSearch(objective="loss", directory=str(tmp_path))

    def build(hp):
        hp.Int("units", 1, 2)
        return "not a model"

    tuner = kt.RandomSearch(build, objective="loss", directory=str(tmp_path),
                            project_name="bad")
    with pytest.raises(kt.FatalTypeError, match="return a valid kerax Model instance"):
        tuner.search(*data(), epochs=1, verbose=0)

    class NoReturn(kt.HyperModel):
        def build(self, hp):
            return make_build(kerax)(hp)

        def fit(self, hp, model, *args, **kwargs):
            model.fit(*args, **kwargs)

    tuner = kt.RandomSearch(NoReturn(), objective="loss", directory=str(tmp_path),
                            project_name="none")
    with pytest.raises(kt.FatalTypeError, match="Did you forget to return the metrics"):
        tuner.search(*data(), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="`distribution_strategy`.*kerax.distribution"):
        kt.RandomSearch(make_build(kerax), objective="loss", directory=str(tmp_path),
                        distribution_strategy=object())


def test_trial_json_round_trips(tmp_path):
    x, y = data()
    tuner = kt.GridSearch(make_build(kerax), objective="val_loss", max_trials=1,
                          directory=str(tmp_path))
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    path = tmp_path / "untitled_project" / "trial_0" / "trial.json"
    state = json.loads(path.read_text())
    assert state["hyperparameters"]["values"] == {"units": 4, "lr": 0.001}
    assert kt.Trial.load(str(path)).get_state() == state


def test_compile_overrides_replace_what_build_compiled(tmp_path):
    tuner = kt.RandomSearch(make_build(kerax), objective="val_mae", max_trials=1,
                            optimizer="sgd", loss="mse", metrics=["mae"],
                            directory=str(tmp_path))
    x, y = data()
    y = np.eye(2, dtype="float32")[y]
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    model = tuner.get_best_models(1)[0]
    assert type(model.optimizer).__name__ == "SGD"
    assert set(model.evaluate(x, y, verbose=0, return_dict=True)) == {"loss", "mae"}
    assert tuner.oracle.trials["0"].metrics.exists("val_mae")


def test_run_trial_override_declares_the_space_itself(tmp_path):
    class MyTuner(kt.RandomSearch):
        def run_trial(self, trial, offset):
            hp = trial.hyperparameters
            return {"score": (hp.Float("a", -1.0, 1.0) - offset) ** 2}

    tuner = MyTuner(objective=kt.Objective("score", "min"), max_trials=4, seed=1,
                    directory=str(tmp_path))
    tuner.search(0.25)
    trials = list(tuner.oracle.trials.values())
    assert [hp.name for hp in tuner.oracle.hyperparameters.space] == ["a"]
    assert all(t.status == "COMPLETED" for t in trials)
    best = tuner.get_best_hyperparameters(1)[0]
    assert tuner.oracle.get_best_trials(1)[0].score == min(t.score for t in trials[1:])
    assert -1.0 <= best.get("a") <= 1.0


def test_progress_lines_as_keras_tuner(tmp_path):
    tuner = kt.RandomSearch(make_build(kerax), objective="loss", max_trials=1,
                            directory=str(tmp_path))
    text = _printed(lambda: tuner.search(*data(), epochs=1, verbose=1))
    assert "Search: Running Trial #1" in text
    assert "Value             |Best Value So Far |Hyperparameter" in text
    # As keras-tuner, "best so far" falls back to the running trial itself.
    # (the value is drawn at random: the line repeats whichever value the trial ran)
    assert re.search(r"^(\d+) +\|\1 +\|units$", text, re.M), text
    assert "Trial 1 Complete [" in text and "Best loss So Far: " in text


def test_a_trial_without_checkpoint_says_why(tmp_path):
    class FailsToFit(kt.HyperModel):
        def build(self, hp):
            return make_build(kerax)(hp)

        def fit(self, hp, model, *args, **kwargs):
            if hp.Boolean("fail"):
                raise kt.FailedTrialError("no fit today")
            return model.fit(*args, **kwargs)

    tuner = kt.GridSearch(FailsToFit(), objective="loss", max_trials=2,
                          directory=str(tmp_path))
    tuner.search(*data(), epochs=1, verbose=0)
    failed = [t for t in tuner.oracle.trials.values() if t.status == "FAILED"]
    assert len(failed) == 1 and "no fit today" in failed[0].message
    assert len(tuner.get_best_models(1)) == 1
    with pytest.raises(FileNotFoundError, match="has no checkpoint.*has not finished an epoch"):
        tuner.load_model(failed[0])


def test_a_list_of_objectives_through_search(tmp_path):
    tuner = kt.RandomSearch(make_build(kerax), objective=["val_loss", "val_accuracy"],
                            max_trials=1, directory=str(tmp_path))
    tuner.search(*data(), epochs=2, validation_split=0.25, verbose=0)
    trial = tuner.oracle.trials["0"]
    logs = {name: trial.metrics.get_history(name)[0][1][0]
            for name in ("val_loss", "val_accuracy")}
    assert trial.score == pytest.approx(logs["val_loss"] - logs["val_accuracy"])


def test_trials_run_under_the_distribution_set_before_search(tmp_path):
    from kerax import distribution

    class Record(kt.RandomSearch):
        seen = []

        def on_epoch_end(self, trial, model, epoch, logs=None):
            self.seen.append(distribution.distribution())

    parallel = distribution.DataParallel()
    distribution.set_distribution(parallel)
    try:
        tuner = Record(make_build(kerax), objective="loss", max_trials=2,
                       directory=str(tmp_path))
        tuner.search(*data(), epochs=1, verbose=0)
    finally:
        distribution.set_distribution(None)
    assert Record.seen == [parallel, parallel]
