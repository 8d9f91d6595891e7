"""keras-tuner itself driving kerax models through a custom `run_trial` (the recipe in
docs/tuner.md, for code that already uses keras-tuner)."""

import numpy as np
import pytest

import kerax
from tests.tuner.helpers import data

keras_tuner = pytest.importorskip("keras_tuner")


class KeraxRandomSearch(keras_tuner.RandomSearch):
    """keras-tuner's oracle and storage; the model is built and trained with kerax."""

    def run_trial(self, trial, x, y, validation_split=0.25, epochs=1):
        hp = trial.hyperparameters
        model = kerax.Sequential([
            kerax.Input((4,)),
            kerax.layers.Dense(hp.Int("units", 4, 8, step=4), activation="relu"),
            kerax.layers.Dense(2, activation="softmax"),
        ])
        model.compile(kerax.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1, sampling="log")),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, validation_split=validation_split, epochs=epochs, verbose=0)
        # The last epoch's weights (kerax.tuner's own tuners keep the best epoch's).
        model.save_weights(self.get_trial_dir(trial.trial_id) + "/model.weights.h5")
        # keras-tuner accepts a dict of the best epoch's metrics.
        best = int(np.argmin(history.history["val_loss"]))
        return {name: float(values[best]) for name, values in history.history.items()}


def test_keras_tuner_drives_kerax_models(tmp_path):
    tuner = KeraxRandomSearch(objective="val_loss", max_trials=2, seed=1,
                              directory=str(tmp_path), project_name="interop")
    tuner.search(*data(), epochs=2)
    trials = tuner.oracle.get_best_trials(2)
    assert [t.status for t in trials] == ["COMPLETED", "COMPLETED"]
    assert trials[0].score <= trials[1].score
    best = tuner.get_best_hyperparameters(1)[0]
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(best.get("units"),
                              activation="relu"), kerax.layers.Dense(2, activation="softmax")])
    model.load_weights(str(tmp_path / "interop" / f"trial_{trials[0].trial_id}"
                           / "model.weights.h5"))
    assert model.predict(data()[0], verbose=0).shape == (64, 2)
