"""kerax.checkpoint: atomic, checksummed, async training checkpoints; crash safety."""

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerax.checkpoint import CheckpointManager
from kerax.errors import CheckpointCorruptedError

HERE = os.path.dirname(__file__)


def tree_a():
    return {"w": np.arange(12, dtype=np.float32).reshape(3, 4),
            "b": {"k": np.array([1, 2, 3], np.int32), "s": np.float32(0.25)}}


def same_bits(x, y):
    lx, ly = jax.tree_util.tree_leaves(x), jax.tree_util.tree_leaves(y)
    return len(lx) == len(ly) and all(
        np.asarray(a).dtype == np.asarray(b).dtype
        and np.asarray(a).tobytes() == np.asarray(b).tobytes() for a, b in zip(lx, ly))


def test_round_trip_metadata_and_flat_restore(tmp_path):
    mgr = CheckpointManager(tmp_path, async_write=False)
    key = jax.random.key(3)
    mgr.save(5, {**tree_a(), "key": key}, metadata={"epoch": 2, "big": 2**80})
    like = {**tree_a(), "key": jax.random.key(0)}
    tree, meta = mgr.restore(like=like)
    assert same_bits({k: v for k, v in tree.items() if k != "key"}, tree_a())
    assert (jax.random.key_data(tree["key"]) == jax.random.key_data(key)).all()
    assert meta == {"epoch": 2, "big": 2**80}
    flat, _ = mgr.restore(5)
    assert sorted(flat) == ["b/k", "b/s", "key", "w"]


def test_max_to_keep_and_latest(tmp_path):
    mgr = CheckpointManager(tmp_path, max_to_keep=2, async_write=False)
    for step in (1, 2, 3):
        mgr.save(step, {"x": np.full(2, step, np.float32)})
    assert mgr.all_steps() == [2, 3] and mgr.latest_step() == 3
    assert mgr.restore(2)[0]["x"].tolist() == [2.0, 2.0]
    assert sorted(os.listdir(tmp_path)) == ["step_2", "step_3"]


def test_async_save_never_sees_later_updates(tmp_path):
    mgr = CheckpointManager(tmp_path, async_write=True)
    host = np.zeros(1000, np.float32)
    dev = jnp.ones(1000, jnp.float32)
    mgr.save(1, {"host": host, "dev": dev})
    host += 7  # mutated in place right after the call
    jax.jit(lambda a: a * 3, donate_argnums=0)(dev)  # the buffer is donated
    mgr.wait_until_finished()
    tree, _ = mgr.restore(1)
    assert (tree["host"] == 0).all() and (tree["dev"] == 1).all()


def _array_files(step_dir):
    found = []
    for root, _, files in os.walk(os.path.join(step_dir, "arrays")):
        found += [os.path.join(root, f) for f in files
                  if os.sep + "d" + os.sep in os.path.join(root, f) + os.sep]
    return sorted(found, key=os.path.getsize)


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_damaged_file_raises_naming_it(tmp_path, damage):
    mgr = CheckpointManager(tmp_path, async_write=False)
    mgr.save(1, {"w": np.arange(4096, dtype=np.float32)})
    victim = _array_files(mgr.step_dir(1))[-1]
    data = bytearray(open(victim, "rb").read())
    if damage == "flip":
        data[len(data) // 2] ^= 0x01
        open(victim, "wb").write(data)
    elif damage == "truncate":
        open(victim, "wb").write(data[: len(data) // 2])
    else:
        os.remove(victim)
    with pytest.raises(CheckpointCorruptedError, match=os.path.basename(victim)):
        mgr.restore(1)


def test_damaged_manifest_raises(tmp_path):
    mgr = CheckpointManager(tmp_path, async_write=False)
    mgr.save(1, tree_a())
    with open(os.path.join(mgr.step_dir(1), "manifest.json"), "w") as f:
        f.write("{not json")
    with pytest.raises(CheckpointCorruptedError, match="manifest.*missing or damaged"):
        mgr.restore(1)


def test_array_checksum_is_checked(tmp_path):
    mgr = CheckpointManager(tmp_path, async_write=False)
    mgr.save(1, tree_a())
    path = os.path.join(mgr.step_dir(1), "manifest.json")
    manifest = json.load(open(path))
    manifest["arrays"][0]["sha256"] = "0" * 64
    json.dump(manifest, open(path, "w"))
    with pytest.raises(CheckpointCorruptedError, match="does not match its sha256"):
        mgr.restore(1)


def test_structure_and_shape_validation(tmp_path):
    mgr = CheckpointManager(tmp_path, async_write=False)
    mgr.save(1, tree_a())
    wrong_shape = tree_a()
    wrong_shape["w"] = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError, match=r"saved with shape \(3, 4\).*has shape \(4, 3\)"):
        mgr.restore(1, like=wrong_shape)
    with pytest.raises(ValueError, match="holds 3 arrays but the model's training state has 1"):
        mgr.restore(1, like={"w": np.zeros((3, 4), np.float32)})


def test_missing_step_and_bad_arguments(tmp_path):
    mgr = CheckpointManager(tmp_path, async_write=False)
    with pytest.raises(FileNotFoundError, match="No committed checkpoint"):
        mgr.restore()
    mgr.save(1, tree_a())
    with pytest.raises(FileNotFoundError, match=r"step 9 does not exist.*\[1\]"):
        mgr.restore(9)
    with pytest.raises(ValueError, match="`max_to_keep` must be None or a positive integer"):
        CheckpointManager(tmp_path, max_to_keep=0)


def test_sigkill_during_writes_keeps_last_committed_step(tmp_path):
    """SIGKILL at seven points of a write; the last committed step loads bit-exact."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, os.path.join(HERE, "crash_driver.py"), str(tmp_path)],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    codes = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(codes) >= 3 and all(c == -9 for c in codes.values()), codes
    a = tree_a()
    b = {"w": a["w"] + 1, "b": {"k": a["b"]["k"] * 5, "s": np.float32(0.5)}}
    for point in codes:
        mgr = CheckpointManager(tmp_path / point)  # cleans up what the kill left
        assert not [n for n in os.listdir(tmp_path / point) if n.startswith(".")], point
        tree, meta = mgr.restore(like=a)
        expected = {"prune": (2, b)}.get(point, (1, a))
        if point == "async" and meta["tree"] == "b":
            expected = (2, b)  # the write may have committed before the kill
        assert mgr.latest_step() == expected[0], point
        assert same_bits(tree, expected[1]), point
        assert meta["tree"] == ("a" if expected[1] is a else "b")


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int8", "bool", "uint32"])
def test_device_checksum_sees_any_single_change(dtype):
    from kerax.checkpoint import checksums

    base = (np.arange(24) % 7 == 0) if dtype == "bool" else np.arange(24) % 100
    a = jnp.asarray(base.reshape(4, 6), dtype=dtype)
    variants = [a, jnp.array(a), a[::-1]] + [
        a.at[i // 6, i % 6].set(~a[i // 6, i % 6] if dtype == "bool" else a[i // 6, i % 6] + 1)
        for i in range(24)]
    digest, copy, swapped, *changed = map(checksums.to_hex,
                                          checksums.device_checksums(variants))
    assert copy == digest and swapped != digest
    assert digest not in changed and len(set(changed)) == 24


def test_device_arrays_restore_onto_a_given_sharding(tmp_path):
    mgr = CheckpointManager(tmp_path, async_write=False)
    mgr.save(1, {"w": jnp.arange(6.0), "h": np.ones(2)})
    device = jax.devices()[-1]
    tree, _ = mgr.restore(1, like={"w": np.zeros(6, np.float32), "h": np.zeros(2)},
                          shardings={"w": jax.sharding.SingleDeviceSharding(device),
                                     "h": None})
    assert tree["w"].devices() == {device} and isinstance(tree["h"], np.ndarray)
    assert tree["w"].tolist() == list(range(6))
