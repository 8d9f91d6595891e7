"""Checkpoints of sharded training state: saved shard by shard, restored onto a layout."""

import json
import os

import jax
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

import kerax
from kerax import distribution as kd
from kerax.checkpoint import CheckpointManager
from kerax.distribution import placement
from kerax.errors import CheckpointCorruptedError
from tests.distribution.conftest import make_model

MEGATRON = {".*dense.*kernel": (None, "model"), ".*dense.*bias": ("model",)}
FSDP = {".*dense.*kernel": ("batch", "model")}


def _model_parallel(rules):
    layout_map = kd.LayoutMap(kd.DeviceMesh((2, 4), ("batch", "model")))
    for key, axes in rules.items():
        layout_map[key] = axes
    return kd.ModelParallel(layout_map=layout_map, batch_dim_name="batch")


def _host(tree):
    return [np.array(a) for a in jax.tree_util.tree_leaves(tree)]


class _Record(kerax.callbacks.Callback):
    """Copies the training state at (epoch, batch), or when training begins."""

    def __init__(self, at=None, crash_at=None):
        super().__init__()
        self.at, self.crash_at, self.epoch, self.seen = at, crash_at, 0, None

    def _take(self):
        m = self.model
        self.seen = {"params": m.variables["params"], "opt_state": m.optimizer.state,
                     "values": _host((m.variables["params"], m.optimizer.state)),
                     "kernel_shard": m.layers[0].variables["params"]["kernel"]
                     .addressable_shards[0].data.shape}

    def on_train_begin(self, logs=None):
        if self.at is None:
            self._take()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            self._take()
        if (self.epoch, batch) == self.crash_at:
            raise RuntimeError("simulated crash")


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory, data, reference):
    """A ModelParallel run backed up every 4 steps and killed at step 10 of 18: the last
    backup is step 8 (epoch 1, batch 1), with the state recorded right then."""
    backup = str(tmp_path_factory.mktemp("sharded") / "backup")
    x, y = data
    record = _Record(at=(1, 1), crash_at=(1, 3))
    with _model_parallel(MEGATRON).scope():
        model = make_model(steps_per_execution=2)  # batch hooks at odd batches
        model.set_weights(reference["w0"])
        with pytest.raises(RuntimeError, match="simulated crash"):
            model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False,
                      callbacks=[kerax.callbacks.BackupAndRestore(backup, save_freq=4),
                                 record])
    return backup, record.seen


def _expected_spec(rules, path, ndim):
    weight = path.split("/")[-1]
    return P(*kd.TensorLayout(rules.get(f".*dense.*{weight}", (None,) * ndim)).axes)


@pytest.mark.parametrize("rules", [MEGATRON, FSDP, None], ids=["same", "other", "none"])
def test_restore_lays_out_state_and_resumes_to_uninterrupted(rules, interrupted, data,
                                                            reference):
    backup, saved = interrupted
    x, y = data
    record = _Record()
    dist = _model_parallel(rules) if rules else None
    kd.set_distribution(dist)
    model = make_model(seed=7, steps_per_execution=2)  # weights must come from the backup
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False, callbacks=[
        kerax.callbacks.BackupAndRestore(backup, save_freq=False, delete_checkpoint=False),
        record])
    kd.set_distribution(None)
    restored = record.seen
    for got, want in zip(restored["values"], saved["values"]):
        np.testing.assert_array_equal(got, want)
    if rules:  # params and their optimizer slots are read onto the layout's shardings
        slots = restored["opt_state"].inner_state["inner"]["slots"]
        for path, leaf in placement.parameter_paths(model, restored["params"]).items():
            spec = _expected_spec(rules, path, leaf.ndim)
            assert leaf.sharding.spec == spec, path
            layer, weight = path.split("/")[1:]
            assert [s.sharding.spec for s in slots[layer][weight]] == [spec] * 2, path
        assert restored["kernel_shard"] == ((16, 8) if rules is MEGATRON else (8, 8))
    else:
        assert all(len(a.sharding.device_set) == 1 for a in jax.tree_util.tree_leaves(
            (restored["params"], restored["opt_state"])))
    for got, want in zip(model.get_weights(), reference["weights"]):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(history.history["loss"], reference["loss"][1:], rtol=1e-5)


def test_sharded_arrays_have_layout_independent_checksums(tmp_path):
    mesh = kd.DeviceMesh((2, 4), ("batch", "model")).backend_mesh
    value = np.arange(64, dtype=np.float32).reshape(8, 8)
    on = lambda spec: jax.device_put(value, jax.sharding.NamedSharding(mesh, spec))  # noqa
    mgr = CheckpointManager(tmp_path, async_write=False)
    mgr.save(1, {"w": on(P("batch", "model"))})
    mgr.save(2, {"w": on(P())})
    manifests = [json.load(open(os.path.join(mgr.step_dir(s), "manifest.json")))
                 for s in (1, 2)]
    assert manifests[0]["arrays"] == manifests[1]["arrays"]
    target = {"w": jax.sharding.NamedSharding(mesh, P("model", None))}
    tree, _ = mgr.restore(1, like={"w": value}, shardings=target)
    assert tree["w"].sharding.spec == P("model", None)
    np.testing.assert_array_equal(tree["w"], value)
    manifests[0]["arrays"][0]["checksum"] = "0" * 16
    json.dump(manifests[0], open(os.path.join(mgr.step_dir(1), "manifest.json"), "w"))
    with pytest.raises(CheckpointCorruptedError, match="'w' .* does not match its checksum"):
        mgr.restore(1, like={"w": value}, shardings=target)
