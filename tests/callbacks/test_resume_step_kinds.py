"""BackupAndRestore resumes mid-epoch for every step kind (built-in, Keras 3's
`train_step`, kerax's `pure_train_step`) on arrays and on a PyDataset, ending with the
weights, optimizer iterations and history of an uninterrupted run."""

import numpy as np
import pytest

import kerax
from kerax.callbacks.backup_and_restore import BackupAndRestore
from tests.trainer.test_step_kinds import X, Y, _Batches, _model


class Interrupt(kerax.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if self.model.fit_run is not None and self._epoch == 1 and batch == 1:
            raise RuntimeError("interrupted")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch


def _fit(model, data, callbacks):
    x = (X, Y) if data == "arrays" else (_Batches(kerax, X, Y, batch_size=6),)
    kwargs = {"batch_size": 6} if data == "arrays" else {}
    return model.fit(*x, epochs=3, shuffle=False, verbose=0, callbacks=callbacks, **kwargs)


@pytest.mark.parametrize("data", ["arrays", "py_dataset"])
@pytest.mark.parametrize("kind", ["builtin", "keras", "pure"])
def test_mid_epoch_resume_for_every_step_kind(tmp_path, kind, data):
    weights = _model(kerax, kind).get_weights()
    plain = _model(kerax, kind)
    plain.set_weights(weights)
    want = _fit(plain, data, [BackupAndRestore(tmp_path / "plain", save_freq=1)])

    backup = tmp_path / "resumed"
    first = _model(kerax, kind)
    first.set_weights(weights)
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(first, data, [BackupAndRestore(backup, save_freq=1), Interrupt()])
    resumed = _model(kerax, kind)
    resumed.set_weights(weights)
    got = _fit(resumed, data, [BackupAndRestore(backup, save_freq=1)])

    assert resumed.fit_run.steps_in_epoch == 4
    assert int(resumed.optimizer.iterations) == int(plain.optimizer.iterations) == 12
    np.testing.assert_allclose(got.history["loss"][-1], want.history["loss"][-1], rtol=1e-5)
    for a, b in zip(resumed.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
