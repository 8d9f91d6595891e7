"""Data integrity of the files kerax writes: a checksum per array (that Keras ignores),
verified on load; no partial loads; temporaries of killed saves are cleaned up."""

import os
import subprocess
import sys
import zipfile

import h5py
import jax
import numpy as np
import pytest

import kerax
from kerax.errors import CheckpointCorruptedError, UnsafeModelError, WeightsMismatchError
from kerax.saving import h5_store, optimizer_vars, saving_lib

X = np.random.default_rng(0).random((6, 5)).astype("float32")
Y = np.ones((6, 3), "float32")


def _model(lib=kerax, units=4, compile=True):
    m = lib.Sequential([lib.Input((5,)), lib.layers.Dense(units),
                        lib.layers.BatchNormalization(), lib.layers.Dense(3)])
    if compile:
        m.compile(optimizer="adam", loss="mse")
    return m


def _trained(seed=0):
    kerax.utils.set_random_seed(seed)
    m = _model()
    m.fit(X, Y, epochs=1, batch_size=3, verbose=0)
    return m


def snapshot(model):
    """Every number a load could change: weights, optimizer state, iterations."""
    opt = model.optimizer
    return ([np.asarray(w) for w in model.get_weights()],
            None if opt is None or opt.state is None
            else [np.asarray(x) for x in jax.tree_util.tree_leaves(opt.state)],
            None if opt is None else int(opt.iterations))


def assert_same(a, b):
    assert len(a[0]) == len(b[0])
    for x, y in zip(a[0], b[0]):
        np.testing.assert_array_equal(x, y)
    assert (a[1] is None) == (b[1] is None)
    if a[1] is not None:
        assert len(a[1]) == len(b[1])
        for x, y in zip(a[1], b[1]):
            np.testing.assert_array_equal(x, y)
    assert a[2] == b[2]


def _flip_in_dataset(path, name, bit=4):
    with h5py.File(path, "r") as f:
        offset = f[name].id.get_offset()
    data = bytearray(open(path, "rb").read())
    data[offset + 1] ^= 1 << bit
    open(path, "wb").write(bytes(data))


def _keras_members(path):
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write_keras(path, members):
    # zipfile recomputes the CRC: only kerax's own checksums can notice a changed array.
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return str(path)


# ---------------------------------------------------------------- checksums --
def test_every_array_has_a_checksum_and_keras_still_loads_the_files(keras, tmp_path):
    m = _trained()
    wpath, kpath = str(tmp_path / "m.weights.h5"), str(tmp_path / "m.keras")
    m.save_weights(wpath)
    m.save(kpath)
    with h5py.File(wpath, "r") as f:
        assert f.attrs[h5_store.CHECKSUMS_MARK] == h5_store.CHECKSUMS_SCHEME
        found = []
        f.visititems(lambda n, o: found.append((n, dict(o.attrs)))
                     if isinstance(o, h5py.Dataset) else None)
    assert len(found) == len(m.get_weights()) + len(m.optimizer.variables)
    assert all(h5_store.CHECKSUM_ATTR in attrs for _, attrs in found)
    # Keras 3 reads both files (it ignores the attributes) and gets the same numbers.
    k = _model(keras)
    k.load_weights(wpath)
    for a, b in zip(m.get_weights(), k.get_weights()):
        np.testing.assert_array_equal(a, b)
    loaded = keras.saving.load_model(kpath)
    for a, b in zip(m.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(loaded.optimizer.iterations) == int(m.optimizer.iterations)


def test_keras_written_files_have_no_checksums_and_still_load(keras, tmp_path):
    k = _model(keras)
    k.fit(X, Y, epochs=1, batch_size=3, verbose=0)
    path = str(tmp_path / "k.weights.h5")
    k.save_weights(path)
    with h5py.File(path, "r") as f:
        assert h5_store.CHECKSUMS_MARK not in f.attrs
    m = _model()
    m.load_weights(path)
    for a, b in zip(k.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_flipped_byte_in_weights_h5_is_refused_naming_the_array(tmp_path):
    path = str(tmp_path / "m.weights.h5")
    _trained().save_weights(path)
    _flip_in_dataset(path, "layers/dense/vars/0")
    target = _trained(seed=1)
    before = snapshot(target)
    with pytest.raises(CheckpointCorruptedError,
                       match=r"weight 'layers/dense/vars/0' does not match its checksum"):
        target.load_weights(path)
    assert_same(before, snapshot(target))


@pytest.mark.parametrize("how", ["load_model", "load_weights"])
def test_flipped_byte_inside_keras_archive_with_matching_crc_is_refused(tmp_path, how):
    src = str(tmp_path / "m.keras")
    _trained().save(src)
    members = _keras_members(src)
    inner = str(tmp_path / "inner.h5")
    open(inner, "wb").write(members["model.weights.h5"])
    _flip_in_dataset(inner, "optimizer/vars/3")
    members["model.weights.h5"] = open(inner, "rb").read()
    path = _write_keras(tmp_path / "flipped.keras", members)
    with pytest.raises(CheckpointCorruptedError,
                       match=r"weight 'optimizer/vars/3' does not match its checksum"):
        if how == "load_model":
            kerax.models.load_model(path)
        else:
            _trained(seed=1).load_weights(path)


@pytest.mark.parametrize("damage, match", [
    ("drop_checksum", r"weight 'layers/dense(_\d+)?/vars/1' has no checksum, but the file"),
    ("bad_scheme", r"checksum scheme is 'sha999', expected 'sha256/1'"),
])
def test_damaged_checksum_metadata_is_refused(tmp_path, damage, match):
    m = _model(compile=False)
    path = str(tmp_path / "m.weights.h5")
    m.save_weights(path)
    with h5py.File(path, "a") as f:
        if damage == "drop_checksum":
            name = next(k for k in f["layers"] if k.startswith("dense"))
            del f[f"layers/{name}/vars/1"].attrs[h5_store.CHECKSUM_ATTR]
        else:
            f.attrs[h5_store.CHECKSUMS_MARK] = "sha999"
    with pytest.raises(CheckpointCorruptedError, match=match):
        _model(compile=False).load_weights(path)


def test_checksum_covers_byte_order_and_bfloat16(tmp_path):
    assert h5_store.array_digest(np.arange(3, dtype=">f4")) == \
        h5_store.array_digest(np.arange(3, dtype="<f4"))
    assert h5_store.array_digest(np.arange(3, dtype="f4")) != \
        h5_store.array_digest(np.arange(3, dtype="i4"))
    m = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2, dtype="bfloat16")])
    path = str(tmp_path / "bf16.weights.h5")
    m.save_weights(path)
    other = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2, dtype="bfloat16")])
    other.load_weights(path)
    for a, b in zip(m.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(np.asarray(a, "float32"), np.asarray(b, "float32"))


# --------------------------------------------------------- no partial loads --
def _wrong_adam_slot(src, dst, resign=True):
    """A copy of `src` whose optimizer part has one Adam slot of the wrong shape (with
    its checksum and layout digest recomputed, as a crafted file would have them)."""
    with h5py.File(src, "r") as f_in, h5py.File(dst, "w") as f_out:
        for key in f_in:
            f_in.copy(key, f_out)
        for k, v in f_in.attrs.items():
            f_out.attrs[k] = v
        slot = f_out["optimizer/vars/3"]
        attrs = dict(slot.attrs)
        del f_out["optimizer/vars/3"]
        new = f_out["optimizer/vars"].create_dataset("3", data=np.zeros((2, 2), "float32"))
        new.attrs.update({**attrs, h5_store.CHECKSUM_ATTR:
                          h5_store.array_digest(np.zeros((2, 2), "float32"))})
        if resign:
            f_out.attrs[h5_store.STRUCTURE_MARK] = h5_store.structure_digest(f_out)


@pytest.mark.parametrize("fmt", ["weights.h5", "keras"])
def test_wrong_optimizer_slot_raises_before_any_weight_is_replaced(tmp_path, fmt):
    src = str(tmp_path / "src.weights.h5")
    _trained().save_weights(src)
    bad = str(tmp_path / "bad.weights.h5")
    _wrong_adam_slot(src, bad)
    if fmt == "keras":
        full = str(tmp_path / "m.keras")
        _trained().save(full)
        members = _keras_members(full)
        members["model.weights.h5"] = open(bad, "rb").read()
        bad = _write_keras(tmp_path / "bad.keras", members)
    target = _trained(seed=1)
    before = snapshot(target)
    with pytest.raises(WeightsMismatchError, match=r"weight 'optimizer/vars/3' has shape "
                                                   r"\(2, 2\) in the file"):
        target.load_weights(bad)
    assert_same(before, snapshot(target))
    if fmt == "keras":
        with pytest.raises(WeightsMismatchError, match="optimizer/vars/3"):
            kerax.models.load_model(bad)


def test_changed_layout_of_a_kerax_file_is_corruption_not_mismatch(tmp_path):
    src = str(tmp_path / "src.weights.h5")
    _trained().save_weights(src)
    bad = str(tmp_path / "bad.weights.h5")
    _wrong_adam_slot(src, bad, resign=False)
    target = _trained(seed=1)
    before = snapshot(target)
    with pytest.raises(CheckpointCorruptedError, match=r"the file's layout \(its groups and "
                                                       r"datasets\) is not the one it was"):
        target.load_weights(bad)
    assert_same(before, snapshot(target))


def test_failure_while_assigning_puts_everything_back(tmp_path, monkeypatch):
    path = str(tmp_path / "m.weights.h5")
    _trained().save_weights(path)
    # An optimizer that was never built must stay unbuilt after a failed load.
    for target in (_trained(seed=1), _model()):
        before = snapshot(target)

        def fail(model, arrays):
            model.optimizer.state = None
            raise RuntimeError("device lost while assigning")

        monkeypatch.setattr(optimizer_vars, "assign_keras_variables", fail)
        with pytest.raises(CheckpointCorruptedError, match="device lost while assigning"):
            target.load_weights(path)
        assert_same(before, snapshot(target))
        monkeypatch.undo()
    target = _model()
    target.load_weights(path)  # and the same file loads once nothing fails
    assert int(target.optimizer.iterations) == 2


@kerax.saving.register_keras_serializable(package="integrity_test")
class Scale(kerax.layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, x):
        return x * self.w


def test_load_model_with_custom_objects_refuses_a_wrong_optimizer_part(tmp_path):
    m = kerax.Sequential([kerax.Input((5,)), Scale(), kerax.layers.Dense(3)])
    m.compile(optimizer="adam", loss="mse")
    m.fit(X, Y, epochs=1, batch_size=3, verbose=0)
    path = str(tmp_path / "custom.keras")
    m.save(path)
    members = _keras_members(path)
    inner, bad = str(tmp_path / "w.h5"), str(tmp_path / "bad.h5")
    open(inner, "wb").write(members["model.weights.h5"])
    _wrong_adam_slot(inner, bad)
    members["model.weights.h5"] = open(bad, "rb").read()
    path = _write_keras(tmp_path / "bad.keras", members)
    known = dict(kerax.saving.get_custom_objects())
    with pytest.raises(WeightsMismatchError, match="optimizer/vars/3"):
        kerax.models.load_model(path, custom_objects={"Scale": Scale})
    assert kerax.saving.get_custom_objects() == known
    good = kerax.models.load_model(str(tmp_path / "custom.keras"))
    np.testing.assert_array_equal(good.predict(X, verbose=0), m.predict(X, verbose=0))


# ------------------------------------------------------ killed saves' temporaries --
def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.mark.parametrize("name", ["m.keras", "m.weights.h5"])
def test_next_save_removes_only_temporaries_of_dead_saves(tmp_path, name):
    host = saving_lib._HOST
    dead = tmp_path / f".{name}.{host}-{_dead_pid()}.abc123_x.tmp"
    alive = tmp_path / f".{name}.{host}-{os.getpid()}.abc123_y.tmp"  # a save in progress
    other_host = tmp_path / f".{name}.otherhost-{_dead_pid()}.abc123_z.tmp"
    unrelated = [tmp_path / ".other.keras.x-1.abc.tmp", tmp_path / f"{name}.tmp",
                 tmp_path / f".{name}.notes.txt"]
    for p in [dead, alive, other_host] + unrelated:
        p.write_bytes(b"partial")
    m = _model(compile=False)
    path = str(tmp_path / name)
    m.save(path) if name.endswith(".keras") else m.save_weights(path)
    assert not dead.exists()
    assert alive.exists() and other_host.exists() and all(p.exists() for p in unrelated)


def test_remove_stale_temporaries_ignores_missing_directory(tmp_path):
    saving_lib.remove_stale_temporaries(str(tmp_path / "nowhere"), "m.keras")


# ------------------------------------------------------------- bounded loads --
def _config_bomb(tmp_path, edit):
    good = str(tmp_path / "good.keras")
    kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)]).save(good)
    members = _keras_members(good)
    members["config.json"] = edit(members["config.json"])
    return _write_keras(tmp_path / "bomb.keras", members)


def test_huge_dense_in_config_is_refused_before_allocation(tmp_path):
    import json

    def huge(raw):
        config = json.loads(raw)
        config["config"]["layers"][1]["config"]["units"] = 2_000_000_000
        return json.dumps(config).encode()

    path = _config_bomb(tmp_path, huge)
    # 4 * 2e9 + 2e9 float32 values: 40 GB, refused from shapes alone.
    with pytest.raises(UnsafeModelError, match=r"describes variables of 40,000,000,000 "
                                               r"bytes, more than the 1,073,741,824 bytes"):
        kerax.models.load_model(path)
    with pytest.raises(UnsafeModelError, match=r"\(`max_bytes=1000`\)"):
        kerax.models.load_model(path, max_bytes=1000)


def test_max_bytes_raises_or_lowers_the_limit(tmp_path):
    path = str(tmp_path / "m.keras")
    m = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])  # 40 bytes
    m.save(path)
    with pytest.raises(UnsafeModelError, match=r"variables of 40 bytes.*`max_bytes=40`"):
        kerax.models.load_model(path, max_bytes=39)
    loaded = kerax.models.load_model(path, max_bytes=40)
    np.testing.assert_array_equal(loaded.get_weights()[0], m.get_weights()[0])


@pytest.mark.parametrize("raw, match", [
    (b"[" * 200_000 + b"]" * 200_000, r"config.json is nested deeper than 256 levels"),
    (b'{"a": ' * 300 + b"1" + b"}" * 300, r"config.json is nested deeper than 256 levels"),
    (b"[1, 2]", r"config.json must hold a JSON object .* but it holds a JSON array"),
    (b'"text"', r"but it holds a JSON string"),
    (b'{"config": {}}', r"config.json has no string 'class_name' and 'config' object"),
    (b'{"class_name": "Sequential", "config": 3}', r"has no string 'class_name'"),
    (b"\xff\xfe", r"config.json is not valid JSON"),
])
def test_malformed_configs_raise_checkpoint_corrupted(tmp_path, raw, match):
    path = _config_bomb(tmp_path, lambda _: raw)
    with pytest.raises(CheckpointCorruptedError, match=match):
        kerax.models.load_model(path)


def test_keras_h5_store_roundtrip_is_byte_stable(tmp_path):
    """Two saves of the same model hold the same arrays and checksums (reproducible)."""
    m = _model(compile=False)
    digests = []
    for i in range(2):
        path = str(tmp_path / f"{i}.weights.h5")
        m.save_weights(path)
        with h5py.File(path, "r") as f:
            digests.append(sorted(
                (n, o.attrs[h5_store.CHECKSUM_ATTR]) for n, o in _datasets(f)))
    assert digests[0] == digests[1]


def _datasets(f):
    out = []
    f.visititems(lambda n, o: out.append((n, o)) if isinstance(o, h5py.Dataset) else None)
    return out


def test_truncated_keras_weights_member_is_refused(tmp_path):
    path = str(tmp_path / "m.keras")
    _trained().save(path)
    members = _keras_members(path)
    members["model.weights.h5"] = members["model.weights.h5"][:1000]
    bad = _write_keras(tmp_path / "t.keras", members)
    with pytest.raises(CheckpointCorruptedError, match="not a readable HDF5 file"):
        kerax.models.load_model(bad)


@kerax.saving.register_keras_serializable(package="integrity_test")
class NeedsValues(kerax.layers.Layer):
    """Reads a concrete weight while it builds, so it cannot be built abstractly."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
        self.total = float(np.asarray(self.w).sum())

    def call(self, x):
        return x * self.w * self.total


def test_model_that_needs_values_to_build_still_loads(tmp_path):
    from kerax.saving import load_limits, model_config

    m = kerax.Sequential([kerax.Input((3,)), NeedsValues()])
    assert load_limits.variable_bytes(model_config.serialize_model(m)) is None
    path = str(tmp_path / "values.keras")
    m.save(path)
    ones = np.ones((1, 3), "float32")
    np.testing.assert_array_equal(kerax.models.load_model(path).predict(ones, verbose=0),
                                  m.predict(ones, verbose=0))


def test_size_check_does_not_move_a_seeded_programs_draws(tmp_path):
    """`load_model` builds the config abstractly to size it; a seeded program still draws
    the same initial weights afterwards as without that check."""
    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    path = str(tmp_path / "m.keras")
    model.save(path)

    def kernel_after_load():
        kerax.utils.set_random_seed(7)
        kerax.saving.load_model(path)
        layer = kerax.layers.Dense(4)
        layer.build((None, 3))
        return np.asarray(layer.kernel)

    first = kernel_after_load()
    np.testing.assert_array_equal(first, kernel_after_load())
    kerax.utils.set_random_seed(7)
    kerax.models.model_from_json(model.to_json())  # one real build, no size check
    layer = kerax.layers.Dense(4)
    layer.build((None, 3))
    np.testing.assert_array_equal(first, np.asarray(layer.kernel))


# --------------------------------------------------- config and weights disagree --
def _edited_units(tmp_path, layer_index):
    import json

    good = str(tmp_path / "good.keras")
    kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(3), kerax.layers.Dense(2)]).save(good)
    members = _keras_members(good)
    config = json.loads(members["config.json"])
    config["config"]["layers"][layer_index]["config"]["units"] = 5
    members["config.json"] = json.dumps(config).encode()
    return _write_keras(tmp_path / "edited.keras", members)


def test_edited_units_of_the_last_layer_say_config_and_weights_disagree(tmp_path):
    path = _edited_units(tmp_path, layer_index=-1)
    with pytest.raises(WeightsMismatchError, match=r"config and its weights disagree.*"
                                                   r"shape \(3, 2\) in the file.*expects \(3, 5\)"):
        kerax.models.load_model(path)


def test_edited_units_that_break_the_next_layers_build_is_a_damaged_file(tmp_path):
    # The next layer's recorded build shape still says 3 inputs: the config contradicts itself.
    path = _edited_units(tmp_path, layer_index=1)
    with pytest.raises(CheckpointCorruptedError, match=r"edited\.keras: the model's config is "
                                                       r"inconsistent.*Dense .*axis to be 3"):
        kerax.models.load_model(path)
