"""Legacy Keras 2 HDF5 files (`.h5`/`.hdf5`): weights files and full-model files, both
ways with Keras 3, by layer order and by name, and refused safely when damaged."""

import os
import warnings

import h5py
import numpy as np
import pytest

import kerax
from kerax.errors import CheckpointCorruptedError, UnsafeModelError

RNG = np.random.default_rng(0)
X_IMG = RNG.normal(size=(2, 8, 8, 3)).astype("float32")
X_SEQ = RNG.normal(size=(2, 5, 4)).astype("float32")


def _cnn(lib):
    return lib.Sequential([lib.Input((8, 8, 3)), lib.layers.Conv2D(4, 3, name="c"),
                           lib.layers.BatchNormalization(name="bn"), lib.layers.ReLU(),
                           lib.layers.GlobalAveragePooling2D(), lib.layers.Dense(3, name="d")])


def _rnn(lib):
    i = lib.Input((5, 4))
    x = lib.layers.LSTM(6, return_sequences=True, name="l")(i)
    x = lib.layers.GRU(3, name="g")(x)
    return lib.Model(i, lib.layers.Dense(2, name="d")(x))


MODELS = [(_cnn, X_IMG), (_rnn, X_SEQ)]


def _randomize(model, seed=1):
    rng = np.random.default_rng(seed)
    model.set_weights([np.abs(rng.normal(size=w.shape)).astype("float32") + 0.5
                       for w in model.get_weights()])
    return model


def _keras_weights_file(keras, model, path):
    """Keras 3's own writer of the legacy weights layout (that of the ImageNet files)."""
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return path


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("build,x", MODELS, ids=["cnn_bn", "rnn"])
@pytest.mark.parametrize("kind", ["weights", "model"])
def test_keras_written_files_load_with_same_predictions(keras, tmp_path, build, x, kind):
    ref = _randomize(build(keras))
    path = str(tmp_path / "w.h5")
    if kind == "weights":
        _keras_weights_file(keras, ref, path)
    else:
        ref.save(path)  # full model: weights under `model_weights`
    model = build(kerax)
    model.load_weights(path)
    _close(model.predict(x, verbose=0), ref.predict(x, verbose=0))
    by_name = build(kerax)
    by_name.load_weights(path, by_name=True)
    _close(by_name.predict(x, verbose=0), ref.predict(x, verbose=0))


@pytest.mark.parametrize("build,x", MODELS, ids=["cnn_bn", "rnn"])
def test_keras_model_file_loads_with_load_model(keras, tmp_path, build, x):
    ref = _randomize(build(keras))
    path = str(tmp_path / "m.hdf5")
    ref.save(path)
    model = kerax.models.load_model(path)
    assert [l.name for l in model.layers] == [l.name for l in ref.layers]
    _close(model.predict(x, verbose=0), ref.predict(x, verbose=0))


def test_keras_compiled_model_file_restores_optimizer_state(keras, tmp_path):
    x, y = X_SEQ[:, 0], RNG.normal(size=(2, 2)).astype("float32")

    def build(lib):
        m = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, name="d"),
                            lib.layers.BatchNormalization(name="bn"),
                            lib.layers.Dense(2, name="o")])
        m.compile(lib.optimizers.Adam(0.01), "mse", metrics=["mae"])
        return m

    ref = build(keras)
    ref.fit(x, y, epochs=2, verbose=0)
    path = str(tmp_path / "m.h5")
    ref.save(path)
    model = kerax.models.load_model(path)
    _close(model.predict(x, verbose=0), ref.predict(x, verbose=0))
    assert model.optimizer.learning_rate == pytest.approx(0.01)
    assert int(model.optimizer.iterations) == 2
    for a, b in zip(model.optimizer.variables, ref.optimizer.variables):
        _close(a, b)


@pytest.mark.parametrize("build,x", MODELS, ids=["cnn_bn", "rnn"])
def test_kerax_written_model_file_loads_in_keras_and_kerax(keras, tmp_path, build, x):
    model = _randomize(build(kerax))
    path = str(tmp_path / "m.h5")
    model.save(path)
    ref = keras.models.load_model(path)
    _close(ref.predict(x, verbose=0), model.predict(x, verbose=0))
    ref_w = build(keras)
    ref_w.load_weights(path)  # Keras' `load_weights` of a full-model file
    _close(ref_w.predict(x, verbose=0), model.predict(x, verbose=0))
    again = kerax.models.load_model(path)
    _close(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_kerax_written_optimizer_state_loads_in_keras(keras, tmp_path):
    x, y = X_SEQ[:, 0], RNG.normal(size=(2, 2)).astype("float32")
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(3, name="d"),
                              kerax.layers.Dense(2, name="o")])
    model.compile(kerax.optimizers.Adam(0.01), kerax.losses.MeanSquaredError())
    model.fit(x, y, epochs=3, verbose=0)
    path = str(tmp_path / "m.h5")
    model.save(path)
    ref = keras.models.load_model(path)
    assert int(ref.optimizer.iterations.numpy()) == 3
    for a, b in zip(ref.optimizer.variables, model.optimizer.variables):
        _close(a, b)
    assert kerax.models.load_model(path).optimizer.iterations == 3
    without = str(tmp_path / "no_opt.h5")
    model.save(without, include_optimizer=False)
    with h5py.File(without, "r") as f:
        assert "training_config" not in f.attrs and "optimizer_weights" not in f


def test_save_weights_to_legacy_name_is_refused_as_in_keras(keras, tmp_path):
    ref, model = _cnn(keras), _cnn(kerax)
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        ref.save_weights(str(tmp_path / "w.h5"))
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        model.save_weights(str(tmp_path / "w.h5"))


def _dense_stack(lib, names, units):
    return lib.Sequential([lib.Input((4,))] + [lib.layers.Dense(u, name=n)
                                               for n, u in zip(names, units)])


def test_by_name_and_skip_mismatch_match_keras(keras, tmp_path):
    src = _randomize(_dense_stack(keras, ["a", "b", "c"], [3, 5, 2]))
    path = _keras_weights_file(keras, src, str(tmp_path / "w.h5"))
    # "z" is not in the file; "b"'s kernel has another shape (its bias still loads, as
    # Keras skips weight by weight); "c" takes its weights by name.
    names, units = ["z", "b", "c"], [4, 5, 2]
    ref, model = _dense_stack(keras, names, units), _dense_stack(kerax, names, units)
    model.set_weights(ref.get_weights())
    with pytest.raises(ValueError, match=r"Shape mismatch in layer #1 \(named b\)"):
        model.load_weights(path, by_name=True)
    with pytest.warns(UserWarning, match=r"Skipping loading weights for layer #1 \(named b\) "
                                         r"due to mismatch in shape"):
        model.load_weights(path, by_name=True, skip_mismatch=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.load_weights(path, by_name=True, skip_mismatch=True)
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)
    for layer, i in (("c", 0), ("c", 1), ("b", 1)):
        np.testing.assert_array_equal(model.get_layer(layer).get_weights()[i],
                                      src.get_layer(layer).get_weights()[i])


def test_topological_skip_mismatch_matches_keras(keras, tmp_path):
    src = _randomize(_dense_stack(keras, ["a", "b"], [3, 2]))
    path = _keras_weights_file(keras, src, str(tmp_path / "w.h5"))
    ref, model = (_dense_stack(lib, ["x", "y"], [3, 5]) for lib in (keras, kerax))
    model.set_weights(ref.get_weights())
    with pytest.raises(ValueError, match=r"Shape mismatch in layer #1 \(named y\)"):
        model.load_weights(path)
    with pytest.warns(UserWarning, match="Skipping loading weights for layer #1"):
        model.load_weights(path, skip_mismatch=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.load_weights(path, skip_mismatch=True)
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_count_mismatches_are_named(keras, tmp_path):
    src = _randomize(_dense_stack(keras, ["a", "b"], [3, 2]))
    path = _keras_weights_file(keras, src, str(tmp_path / "w.h5"))
    model = _dense_stack(kerax, ["a"], [3])
    with pytest.raises(ValueError, match="Layer count mismatch when loading weights from "
                                         "file. Model expected 1 layers, found 2 saved"):
        model.load_weights(path)
    no_bias = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(3, name="a",
                                                                      use_bias=False)])
    with pytest.raises(ValueError, match=r"Weight count mismatch for layer #0 \(named a\)"):
        no_bias.load_weights(path, by_name=True)
    with pytest.warns(UserWarning, match="mismatch in number of weights"):
        no_bias.load_weights(path, by_name=True, skip_mismatch=True)


def test_by_name_is_refused_for_other_formats(tmp_path):
    model = _dense_stack(kerax, ["a"], [3])
    path = str(tmp_path / "w.weights.h5")
    model.save_weights(path)
    with pytest.raises(ValueError, match="`by_name` only supports loading legacy '.h5'"):
        model.load_weights(path, by_name=True)


# ----------------------------------------------------------- damaged or hostile files --
def _unchanged(model, before):
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_truncated_file_is_refused_and_model_unchanged(keras, tmp_path):
    path = _keras_weights_file(keras, _randomize(_cnn(keras)), str(tmp_path / "w.h5"))
    data = open(path, "rb").read()
    model = _cnn(kerax)
    before = model.get_weights()
    for n in (0, 100, len(data) // 2, len(data) - 64):
        bad = str(tmp_path / f"t{n}.h5")
        with open(bad, "wb") as f:
            f.write(data[:n])
        with pytest.raises(CheckpointCorruptedError, match="truncated or corrupted"):
            model.load_weights(bad)
        _unchanged(model, before)


def test_missing_dataset_is_refused_before_anything_is_assigned(keras, tmp_path):
    path = _keras_weights_file(keras, _randomize(_cnn(keras)), str(tmp_path / "w.h5"))
    with h5py.File(path, "a") as f:
        name = f["d"].attrs["weight_names"][1]  # the last layer's bias
        del f["d"][name.decode() if isinstance(name, bytes) else name]
    model = _cnn(kerax)
    before = model.get_weights()
    with pytest.raises(CheckpointCorruptedError, match=r"weight '/d/.*bias.*' is listed in "
                                                       "'weight_names' but is missing"):
        model.load_weights(path)
    _unchanged(model, before)


def test_external_link_and_non_numeric_data_are_refused(tmp_path):
    model = _dense_stack(kerax, ["a"], [3])
    path = str(tmp_path / "w.h5")
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"a"]
        g = f.create_group("a")
        g.attrs["weight_names"] = [b"a/kernel:0", b"a/bias:0"]
        g["a/kernel:0"] = h5py.ExternalLink("/etc/passwd", "/x")
        g.create_dataset("a/bias:0", data=np.zeros(3, "float32"))
    with pytest.raises(UnsafeModelError, match="ExternalLink, which would read another"):
        model.load_weights(path)
    with h5py.File(path, "a") as f:
        del f["a/a/kernel:0"]
        f["a/a"].create_dataset("kernel:0", data=np.array([["x"] * 3] * 4, dtype="S1"))
    with pytest.raises(UnsafeModelError, match="not a numeric array type"):
        model.load_weights(path)


def test_declared_shape_checked_before_reading(tmp_path):
    model = _dense_stack(kerax, ["a"], [3])
    path = str(tmp_path / "w.h5")
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"a"]
        g = f.create_group("a")
        g.attrs["weight_names"] = [b"kernel", b"bias"]
        g.create_dataset("kernel", shape=(100_000, 100_000), dtype="float32")  # never written
        g.create_dataset("bias", data=np.zeros(3, "float32"))
    with pytest.raises(ValueError, match=r"Weight expects shape \(4, 3\). Received saved "
                                         r"weight with shape \(100000, 100000\)"):
        model.load_weights(path)


def test_model_file_with_lambda_needs_safe_mode_off(tmp_path):
    inp = kerax.Input((3,))
    model = kerax.Model(inp, kerax.layers.Lambda(lambda t: t * 2.0)(inp))
    path = str(tmp_path / "lambda.h5")
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode"):
        kerax.models.load_model(path)
    loaded = kerax.models.load_model(path, safe_mode=False)
    x = np.ones((1, 3), "float32")
    _close(loaded.predict(x, verbose=0), 2 * x)


def test_model_file_config_is_bounded(tmp_path):
    path = str(tmp_path / "m.h5")
    _dense_stack(kerax, ["a"], [3]).save(path)
    with h5py.File(path, "a") as f:  # a crafted file: no kerax checksum of its config
        del f.attrs["kerax_model_config_sha256"]
        config = f.attrs["model_config"]
        config = config.decode() if isinstance(config, bytes) else config
        f.attrs["model_config"] = config.replace('"units": 3', '"units": 2000000000')
    with pytest.raises(UnsafeModelError, match="more than the"):
        kerax.models.load_model(path)
    with h5py.File(path, "a") as f:
        f.attrs["model_config"] = b"[" * 100_000
    with pytest.raises(CheckpointCorruptedError, match="model_config"):
        kerax.models.load_model(path)
    with h5py.File(path, "a") as f:
        del f.attrs["model_config"]
    with pytest.raises(ValueError, match="No model config found in the file"):
        kerax.models.load_model(path)
    assert os.path.exists(path)


def test_missing_h5_files_are_named(tmp_path):
    model = _dense_stack(kerax, ["a"], [3])
    with pytest.raises(FileNotFoundError, match="No model file found at .*old.h5"):
        kerax.models.load_model(str(tmp_path / "old.h5"))
    with pytest.raises(FileNotFoundError, match="No weights file found at .*w.hdf5"):
        model.load_weights(str(tmp_path / "w.hdf5"))


def test_kerax_written_arrays_carry_checksums(tmp_path):
    model = _randomize(_dense_stack(kerax, ["a", "b"], [3, 2]))
    path = str(tmp_path / "m.h5")
    model.save(path)
    with h5py.File(path, "r") as f:
        group = f["model_weights/b"]
        ds = group[group.attrs["weight_names"][0]]
        offset = ds.id.get_offset()
    data = bytearray(open(path, "rb").read())
    data[offset] ^= 0x40  # one bit of one float: a silently wrong value without a checksum
    with open(path, "wb") as f:
        f.write(data)
    target = _dense_stack(kerax, ["a", "b"], [3, 2])
    before = target.get_weights()
    with pytest.raises(CheckpointCorruptedError, match="does not match its checksum"):
        target.load_weights(path)
    _unchanged(target, before)
    with pytest.raises(CheckpointCorruptedError, match="does not match its checksum"):
        kerax.models.load_model(path)


def test_names_split_over_several_attributes_are_read(tmp_path):
    model = _dense_stack(kerax, ["a", "b"], [3, 2])
    src = _randomize(_dense_stack(kerax, ["a", "b"], [3, 2]))
    path = str(tmp_path / "w.h5")
    src.save(path)
    with h5py.File(path, "a") as f:  # as Keras writes lists above 64 KB
        group = f["model_weights"]
        names = list(group.attrs["layer_names"])
        del group.attrs["layer_names"]
        group.attrs["layer_names0"] = names[:1]
        group.attrs["layer_names1"] = names[1:]
        del f.attrs["model_config"]
    model.load_weights(path)
    for a, b in zip(model.get_weights(), src.get_weights()):
        np.testing.assert_array_equal(a, b)
