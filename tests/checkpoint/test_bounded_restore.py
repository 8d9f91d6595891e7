"""`load_model(directory)` on an `OrbaxCheckpoint` bounds its work as `.keras` files do."""

import pytest

import kerax
from kerax.checkpoint import CheckpointManager
from kerax.errors import CheckpointCorruptedError, UnsafeModelError
from tests.checkpoint.test_no_partial_restore import X, Y, _model, _rewrite_metadata


@pytest.fixture
def step_dir(tmp_path):
    cb = kerax.callbacks.OrbaxCheckpoint(str(tmp_path / "ckpt"), save_on_background=False)
    _model().fit(X, Y, batch_size=4, epochs=1, callbacks=[cb], verbose=0)
    mgr = CheckpointManager(str(tmp_path / "ckpt"))
    return mgr.step_dir(mgr.latest_step())


def test_crafted_huge_config_is_refused_before_allocation(step_dir):
    def huge(metadata):
        metadata["model_config"]["config"]["layers"][-1]["config"]["units"] = 2_000_000_000
        return metadata

    _rewrite_metadata(step_dir, huge)
    with pytest.raises(UnsafeModelError, match=r"describes variables of 40,000,000,064 bytes"
                                               r", more than the 1,073,741,824 bytes"):
        kerax.models.load_model(step_dir)
    with pytest.raises(UnsafeModelError, match=r"\(`max_bytes=10`\)"):
        kerax.models.load_model(step_dir, max_bytes=10)


def test_malformed_model_config_is_checkpoint_corrupted(step_dir):
    _rewrite_metadata(step_dir, lambda m: {**m, "model_config": [1, 2]})
    with pytest.raises(CheckpointCorruptedError, match=r"metadata.json's 'model_config' must "
                                                       r"hold a JSON object"):
        kerax.models.load_model(step_dir)


def test_max_bytes_is_honoured_for_checkpoints(step_dir):
    with pytest.raises(UnsafeModelError, match=r"variables of \d+ bytes"):
        kerax.models.load_model(step_dir, max_bytes=8)
    model = kerax.models.load_model(step_dir, max_bytes=1 << 20)
    assert int(model.optimizer.iterations) == 2
