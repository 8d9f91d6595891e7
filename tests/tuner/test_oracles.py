"""The oracles against keras-tuner 1.4's, driven with the same fake scores (no models):
same trial values in the same order, same Hyperband brackets, epochs and promotions."""

import shutil
import zlib

import pytest

import kerax.tuner as kt
from kerax.tuner import objective as objective_module

kt_ref = pytest.importorskip("keras_tuner")
from keras_tuner.src.engine import objective as kt_objective  # noqa: E402


def _space(lib):
    hp = lib.HyperParameters()
    hp.Choice("model", ["mlp", "cnn"])
    hp.Int("units", 8, 32, step=8)
    hp.Float("lr", 1e-4, 1e-2, sampling="log")
    hp.Boolean("bn", parent_name="model", parent_values=["cnn"])
    hp.Float("dropout", 0.0, 0.5, step=0.25)
    return hp


def _grid_space(lib):
    hp = lib.HyperParameters()
    hp.Choice("act", ["relu", "tanh"])
    hp.Int("layers", 1, 2)
    hp.Int("units", 4, 8, step=4, parent_name="layers", parent_values=[2])
    hp.Boolean("bn", default=True)
    return hp


def _score(values):
    """A deterministic fake loss for a set of values."""
    key = ",".join(f"{k}={values[k]}" for k in sorted(values) if not k.startswith("tuner/"))
    return (zlib.crc32(key.encode()) % 1000) / 1000 + 0.001 * values.get("tuner/epochs", 0)


def _drive(oracle, tmp_path, limit=200):
    oracle._set_project_dir(str(tmp_path), "p")
    oracle.verbose = 0
    log = []
    for _ in range(limit):
        trial = oracle.create_trial("tuner0")
        if trial.status == "STOPPED":
            break
        values = dict(trial.hyperparameters.values)
        log.append((trial.trial_id, values))
        oracle.update_trial(trial.trial_id, {"loss": _score(values)}, step=0)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return log, [(t.trial_id, t.score) for t in oracle.get_best_trials(3)]


def test_random_search_draws_the_same_values_as_keras_tuner(tmp_path):
    ours = _drive(kt.RandomSearchOracle(objective="loss", max_trials=12, seed=7,
                                        hyperparameters=_space(kt)), tmp_path / "a")
    ref = _drive(kt_ref.oracles.RandomSearchOracle(
        objective="loss", max_trials=12, seed=7, hyperparameters=_space(kt_ref)),
        tmp_path / "b")
    assert len(ours[0]) == 12
    assert ours == ref
    for _, values in ours[0]:
        assert 1e-4 <= values["lr"] <= 1e-2 and values["units"] in (8, 16, 24, 32)
        assert ("bn" in values) == (values["model"] == "cnn")


def test_random_search_stops_when_the_space_is_exhausted(tmp_path):
    def small(lib):
        hp = lib.HyperParameters()
        hp.Choice("a", [1, 2, 3])
        return hp

    ours = _drive(kt.RandomSearchOracle(objective="loss", max_trials=50, seed=3,
                                        hyperparameters=small(kt)), tmp_path / "a")
    ref = _drive(kt_ref.oracles.RandomSearchOracle(
        objective="loss", max_trials=50, seed=3, hyperparameters=small(kt_ref)),
        tmp_path / "b")
    assert sorted(v["a"] for _, v in ours[0]) == [1, 2, 3]
    assert ours == ref


def test_grid_search_order_matches_keras_tuner(tmp_path):
    ours = _drive(kt.GridSearchOracle(objective="loss", hyperparameters=_grid_space(kt)),
                  tmp_path / "a")
    ref = _drive(kt_ref.oracles.GridSearchOracle(
        objective="loss", hyperparameters=_grid_space(kt_ref)), tmp_path / "b")
    # act (2) x [layers=1, or layers=2 x units (2)] x bn (2) = 12 combinations.
    assert len(ours[0]) == 12
    assert ours == ref
    assert ours[0][0][1] == {"act": "relu", "layers": 1, "bn": True}


def test_grid_search_respects_max_trials(tmp_path):
    ours = _drive(kt.GridSearchOracle(objective="loss", max_trials=5,
                                      hyperparameters=_grid_space(kt)), tmp_path / "a")
    ref = _drive(kt_ref.oracles.GridSearchOracle(
        objective="loss", max_trials=5, hyperparameters=_grid_space(kt_ref)), tmp_path / "b")
    assert len(ours[0]) == 5 and ours == ref


@pytest.mark.parametrize("max_epochs, factor, iterations", [(9, 3, 1), (10, 3, 1), (8, 2, 1),
                                                            (3, 3, 2), (27, 3, 1)])
def test_hyperband_brackets_match_keras_tuner(tmp_path, max_epochs, factor, iterations):
    kwargs = dict(objective="loss", max_epochs=max_epochs, factor=factor,
                  hyperband_iterations=iterations, seed=11)
    ours = _drive(kt.HyperbandOracle(hyperparameters=_space(kt), **kwargs), tmp_path / "a")
    ref = _drive(kt_ref.oracles.HyperbandOracle(hyperparameters=_space(kt_ref), **kwargs),
                 tmp_path / "b")
    assert ours == ref
    epochs = [v["tuner/epochs"] for _, v in ours[0]]
    assert max(epochs) == max_epochs and min(epochs) >= 1


def test_hyperband_schedule_for_nine_epochs(tmp_path):
    """Brackets of Li et al. with R=9, f=3: 9 trials x 1 epoch -> 3 x 3 -> 1 x 9, then
    5 x 3 -> 1 x 9 (ceil(3 / 2 * 3) = 5 and ceil(3 / 2) = 2 promoted), then 3 x 9."""
    log, _ = _drive(kt.HyperbandOracle(objective="loss", max_epochs=9, factor=3, seed=1,
                                       hyperparameters=_space(kt)), tmp_path)
    rounds = [(v["tuner/bracket"], v["tuner/round"], v["tuner/epochs"],
               v["tuner/initial_epoch"]) for _, v in log]
    expected = ([(2, 0, 1, 0)] * 9 + [(2, 1, 3, 1)] * 3 + [(2, 2, 9, 3)]
                + [(1, 0, 3, 0)] * 5 + [(1, 1, 9, 3)] * 2 + [(0, 0, 9, 0)] * 3)
    assert rounds == expected
    # A promoted trial continues the best of the previous round.
    first_round = {tid: _score(v) for tid, v in log[:9]}
    assert {v["tuner/trial_id"] for _, v in log[9:12]} == set(
        sorted(first_round, key=first_round.get)[:3])


NAMES = ["loss", "val_loss", "accuracy", "val_accuracy", "acc", "val_acc", "mse", "val_mae",
         "auc", "val_auc", "precision", "recall", "sparse_categorical_accuracy",
         "categorical_crossentropy", "binary_accuracy", "weighted_loss",
         "val_weighted_accuracy", "top_k_categorical_accuracy", "AUC", "MeanSquaredError",
         "crossentropy", "r2_score", "f1_score", "hinge", "true_positives", "val_foo"]


def test_objective_direction_is_inferred_as_keras_tuner_does():
    from keras_tuner.src.engine.metrics_tracking import infer_metric_direction

    assert ([objective_module.infer_metric_direction(n) for n in NAMES]
            == [infer_metric_direction(n) for n in NAMES])
    assert str(objective_module.create_objective("val_accuracy")) == str(
        kt_objective.create_objective("val_accuracy"))


def test_unknown_objective_names_the_fix():
    with pytest.raises(ValueError, match='unknown metric "val_foo".*Objective\\("val_foo", '
                                         'direction="min"\\)'):
        kt.RandomSearchOracle(objective="val_foo")
    with pytest.raises(TypeError, match="expected str or `Objective`"):
        kt.RandomSearchOracle(objective=3)
    with pytest.raises(ValueError, match="factor needs to be a int larger than 1"):
        kt.HyperbandOracle(objective="loss", factor=1)


def test_multi_objective_sums_with_signs():
    obj = objective_module.create_objective(["val_loss", "val_accuracy"])
    assert obj.get_value({"val_loss": 0.5, "val_accuracy": 0.75, "x": 9}) == -0.25
    ref = kt_objective.create_objective(["val_loss", "val_accuracy"])
    assert str(obj) == str(ref)


def test_multi_objective_ranks_trials_as_keras_tuner(tmp_path):
    def drive(oracle, path):
        oracle._set_project_dir(str(path), "p")
        oracle.verbose = 0
        for i in range(4):
            trial = oracle.create_trial("tuner0")
            logs = {"val_loss": 0.1 * i, "val_accuracy": 0.3 * i}
            # What a `History` reports: the metrics plus the combined objective.
            logs["multi_objective"] = oracle.objective.get_value(logs)
            oracle.update_trial(trial.trial_id, logs)
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
        return [(t.trial_id, float(t.score)) for t in oracle.get_best_trials(4)]

    objective = ["val_loss", "val_accuracy"]
    ours = drive(kt.RandomSearchOracle(objective=objective, max_trials=4, seed=1,
                                       hyperparameters=_space(kt)), tmp_path / "a")
    ref = drive(kt_ref.oracles.RandomSearchOracle(
        objective=objective, max_trials=4, seed=1, hyperparameters=_space(kt_ref)),
        tmp_path / "b")
    assert ours == ref and ours[0][0] == "3"
    with pytest.raises(ValueError, match="Objective value missing.*expected: \\['val_accuracy'\\]"):
        oracle = kt.RandomSearchOracle(objective=objective, hyperparameters=_space(kt))
        oracle._set_project_dir(str(tmp_path / "c"), "p")
        oracle.verbose = 0
        oracle.update_trial(oracle.create_trial("t").trial_id, {"val_loss": 1.0})


@pytest.mark.parametrize("name", ["RandomSearchOracle", "HyperbandOracle"])
def test_a_keras_tuner_project_resumes_under_kerax_as_under_keras_tuner(tmp_path, name):
    kwargs = (dict(max_trials=6) if name == "RandomSearchOracle"
              else dict(max_epochs=9, factor=3))
    first = getattr(kt_ref.oracles, name)(objective="loss", seed=5,
                                          hyperparameters=_space(kt_ref), **kwargs)
    first._set_project_dir(str(tmp_path), "p")
    first.verbose = 0
    for _ in range(3):
        trial = first.create_trial("tuner0")
        first.update_trial(trial.trial_id, {"loss": _score(trial.hyperparameters.values)})
        trial.status = "COMPLETED"
        first.end_trial(trial)

    def resume(oracle, path):
        oracle._set_project_dir(str(path), "p")
        oracle.reload()
        oracle.verbose = 0
        log = []
        for _ in range(40):
            trial = oracle.create_trial("tuner0")
            if trial.status == "STOPPED":
                break
            log.append((trial.trial_id, dict(trial.hyperparameters.values)))
            oracle.update_trial(trial.trial_id, {"loss": _score(trial.hyperparameters.values)})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
        return log

    # Each resume writes to the project, so the second reader gets a copy.
    shutil.copytree(tmp_path / "p", tmp_path / "copy" / "p")
    ours = resume(getattr(kt, name)(objective="loss", hyperparameters=_space(kt), **kwargs),
                  tmp_path)
    ref = resume(getattr(kt_ref.oracles, name)(objective="loss",
                                               hyperparameters=_space(kt_ref), **kwargs),
                 tmp_path / "copy")
    assert len(ours) > 0 and ours == ref
