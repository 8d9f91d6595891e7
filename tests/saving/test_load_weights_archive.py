"""`model.load_weights("m.keras")` reads only the weights into the existing model (as Keras
3 does: the file's config is not used, so unregistered custom layers are fine), and a
failed `load_weights` leaves the model exactly as it was."""

import shutil

import numpy as np
import pytest

import kerax
from kerax.saving import h5_store

X = np.random.default_rng(0).random((4, 3)).astype("float32")
Y = np.random.default_rng(1).random((4, 2)).astype("float32")


def _scale_class(lib):
    class Scale(lib.layers.Layer):  # never registered as serializable
        def build(self, input_shape):
            self.s = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="s")

        def call(self, x):
            return x * self.s

    return Scale


def _model(lib, units=2):
    scale = _scale_class(lib)
    inputs = lib.Input((3,))
    return lib.Model(inputs, lib.layers.Dense(units, name="d")(scale(name="scale")(inputs)))


def _trained(lib, path_stem):
    model = _model(lib)
    model.set_weights([np.full((3,), 0.5, "float32"), np.full((3, 2), 0.1, "float32"),
                       np.zeros(2, "float32")])
    model.compile(lib.optimizers.Adam(0.1), "mse")
    model.fit(X, Y, epochs=2, batch_size=4, verbose=0)
    model.save(f"{path_stem}.keras")
    model.save_weights(f"{path_stem}.weights.h5")
    return model


@pytest.mark.parametrize("src", ["keras", "kerax"])
@pytest.mark.parametrize("ext", [".keras", ".weights.h5"])
def test_load_weights_reads_only_weights_with_an_unregistered_custom_layer(
        keras, tmp_path, src, ext):
    libs = {"keras": keras, "kerax": kerax}
    saved = _trained(libs[src], str(tmp_path / "m"))
    path = str(tmp_path / f"m{ext}")
    ref = _model(keras)
    ref.load_weights(path if src == "keras" else _keras_copy(keras, saved, tmp_path, ext))
    model = _model(kerax)
    model.load_weights(path)
    for got, want, src_w in zip(model.get_weights(), ref.get_weights(), saved.get_weights()):
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(got, np.asarray(src_w))
    np.testing.assert_allclose(np.asarray(model(X)), np.asarray(ref(X)), rtol=1e-6)


def _keras_copy(keras, saved, tmp_path, ext):
    """The same trained weights written by Keras (the reference reads its own file)."""
    ref = _model(keras)
    ref.set_weights([np.asarray(w) for w in saved.get_weights()])
    path = str(tmp_path / f"ref{ext}")
    ref.save(path) if ext == ".keras" else ref.save_weights(path)
    return path


def test_load_weights_from_keras_restores_the_optimizer_state_into_a_compiled_model(tmp_path):
    saved = _trained(kerax, str(tmp_path / "m"))
    model = _model(kerax)
    model.compile(kerax.optimizers.Adam(0.1), "mse")
    model.load_weights(str(tmp_path / "m.keras"))
    assert int(model.optimizer.iterations) == int(saved.optimizer.iterations) == 2
    assert len(model.optimizer.variables) == len(saved.optimizer.variables) == 8
    for a, b in zip(model.optimizer.variables, saved.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("ext", [".keras", ".weights.h5"])
def test_a_mismatched_file_leaves_the_model_as_it_was(keras, tmp_path, ext):
    _trained(kerax, str(tmp_path / "m"))
    model = _model(kerax, units=5)
    before = [np.array(w) for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"weight 'layers/dense/vars/0' has shape \(3, 2\) in "
                                         r"the file, but the model's architecture expects "
                                         r"\(3, 5\)"):
        model.load_weights(str(tmp_path / f"m{ext}"))
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    # Keras raises a ValueError for the same file too.
    ref = _model(keras, units=5)
    with pytest.raises(ValueError):
        ref.load_weights(str(tmp_path / f"m{ext}"))


def test_a_bad_optimizer_state_leaves_weights_and_optimizer_as_they_were(tmp_path):
    h5py = pytest.importorskip("h5py")
    _trained(kerax, str(tmp_path / "m"))
    bad = str(tmp_path / "bad.weights.h5")
    shutil.copy(str(tmp_path / "m.weights.h5"), bad)
    with h5py.File(bad, "r+") as f:
        del f["optimizer/vars/2"]
        f["optimizer/vars"].create_dataset("2", data=np.zeros((7,), "float32"))
        # A crafted file, consistent with itself: its layout digest recomputed (without
        # it, kerax reports the changed layout as corruption before any shape).
        f.attrs[h5_store.STRUCTURE_MARK] = h5_store.structure_digest(f)
    model = _model(kerax)
    model.compile(kerax.optimizers.Adam(0.1), "mse")
    model.fit(X, Y, epochs=1, batch_size=4, verbose=0)
    before = [np.array(w) for w in model.get_weights()]
    opt_before = [np.array(v) for v in model.optimizer.variables]
    with pytest.raises(ValueError, match=r"weight 'optimizer/vars/2' has shape \(7,\) in the "
                                         r"file, but the model's architecture expects"):
        model.load_weights(bad)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(opt_before, model.optimizer.variables):
        np.testing.assert_array_equal(a, np.asarray(b))


def test_load_weights_of_a_missing_keras_file_says_so(tmp_path):
    model = _model(kerax)
    with pytest.raises(FileNotFoundError, match="No weights file found at .*missing.keras"):
        model.load_weights(str(tmp_path / "missing.keras"))
