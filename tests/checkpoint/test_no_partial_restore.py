"""A checkpoint restore that fails leaves the model exactly as it was (orbax
`load_weights`, `BackupAndRestore`), and a damaged manifest is named as such."""

import hashlib
import json
import os

import jax
import numpy as np
import pytest

import kerax
from kerax.callbacks.backup_and_restore import BackupAndRestore
from kerax.checkpoint import CheckpointManager
from kerax.errors import CheckpointCorruptedError

X = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
Y = X.sum(1, keepdims=True)


def _model(optimizer="adam", units=4):
    m = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(units),
                          kerax.layers.Dense(1)])
    m.compile(optimizer=optimizer, loss="mse")
    return m


def snapshot(model):
    opt = model.optimizer
    state = None if opt.state is None else [np.asarray(x) for x in
                                            jax.tree_util.tree_leaves(opt.state)]
    return [np.asarray(w) for w in model.get_weights()], state, int(opt.iterations)


def assert_same(a, b):
    for x, y in zip(a[0], b[0]):
        np.testing.assert_array_equal(x, y)
    assert (a[1] is None) == (b[1] is None)
    if a[1] is not None:
        assert len(a[1]) == len(b[1])
        for x, y in zip(a[1], b[1]):
            np.testing.assert_array_equal(x, y)
    assert a[2] == b[2]


def _orbax_checkpoint(tmp_path):
    m = _model()
    cb = kerax.callbacks.OrbaxCheckpoint(str(tmp_path / "ckpt"), save_on_background=False)
    m.fit(X, Y, batch_size=4, epochs=1, callbacks=[cb], verbose=0)
    return m, str(tmp_path / "ckpt")


def test_orbax_load_weights_with_wrong_optimizer_changes_nothing(tmp_path):
    _, ckpt = _orbax_checkpoint(tmp_path)
    for target in (_model("rmsprop"), _model("rmsprop")):  # unbuilt, then trained
        before = snapshot(target)
        with pytest.raises(ValueError, match="does not match the model"):
            target.load_weights(ckpt)
        assert_same(before, snapshot(target))
        target.fit(X, Y, batch_size=4, epochs=1, verbose=0)


def test_orbax_load_weights_of_corrupted_array_changes_nothing(tmp_path):
    _, ckpt = _orbax_checkpoint(tmp_path)
    mgr = CheckpointManager(ckpt)
    step = mgr.step_dir(mgr.latest_step())
    manifest_path = os.path.join(step, "manifest.json")
    manifest = json.load(open(manifest_path))
    entry = next(e for e in manifest["arrays"] if e["name"].endswith("kernel"))
    entry["checksum"] = "0" * 16  # the array no longer matches what was recorded
    json.dump(manifest, open(manifest_path, "w"))
    target = _model()
    target.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    before = snapshot(target)
    with pytest.raises(CheckpointCorruptedError, match="does not match its checksum"):
        target.load_weights(ckpt)
    assert_same(before, snapshot(target))


@pytest.mark.parametrize("edit, match", [
    (lambda m: [m], "manifest .* is not as kerax writes it"),
    (lambda m: {**m, "arrays": {}}, "'arrays' is not as kerax writes it"),
    (lambda m: {**m, "arrays": [{**m["arrays"][0], "dtype": "<f5"}] + m["arrays"][1:]},
     r"the dtype '<f5' of array entry 0 is not as kerax writes it"),
    (lambda m: {**m, "arrays": [{**m["arrays"][0], "shape": [-1]}] + m["arrays"][1:]},
     "array entry 0 is not as kerax writes it"),
])
def test_malformed_manifest_is_checkpoint_corrupted(tmp_path, edit, match):
    _, ckpt = _orbax_checkpoint(tmp_path)
    mgr = CheckpointManager(ckpt)
    path = os.path.join(mgr.step_dir(mgr.latest_step()), "manifest.json")
    json.dump(edit(json.load(open(path))), open(path, "w"))
    with pytest.raises(CheckpointCorruptedError, match=match):
        _model().load_weights(ckpt)


def _rewrite_metadata(step_dir, edit):
    """Changes a committed step's metadata and re-signs it (a crafted, consistent step)."""
    path = os.path.join(step_dir, "metadata.json")
    metadata = edit(json.load(open(path)))
    json.dump(metadata, open(path, "w"))
    manifest_path = os.path.join(step_dir, "manifest.json")
    manifest = json.load(open(manifest_path))
    manifest["files"]["metadata.json"] = hashlib.sha256(open(path, "rb").read()).hexdigest()
    json.dump(manifest, open(manifest_path, "w"))


def test_backup_and_restore_checks_everything_before_assigning(tmp_path):
    backup = str(tmp_path / "backup")
    _model().fit(X, Y, batch_size=4, epochs=2, verbose=0,
                 callbacks=[BackupAndRestore(backup, delete_checkpoint=False)])
    mgr = CheckpointManager(backup)

    def bad_rng(metadata):
        metadata["data"]["rng_state"] = {"bit_generator": "NoSuchGenerator"}
        return metadata

    _rewrite_metadata(mgr.step_dir(mgr.latest_step()), bad_rng)
    target = _model()
    target.fit(X, Y, batch_size=4, epochs=1, verbose=0)  # some training of its own
    before = snapshot(target)
    with pytest.raises(ValueError, match="data-order RNG state cannot be restored"):
        target.fit(X, Y, batch_size=4, epochs=3, verbose=0,
                   callbacks=[BackupAndRestore(backup)])
    assert_same(before, snapshot(target))
