"""The saving hooks a Keras 3 user overrides, as in the "Customizing Saving and
Serialization" guide: `save_own_variables` / `load_own_variables` (also their defaults),
`get_compile_config` / `compile_from_config`, and `.keras` files that move between kerax
and Keras with a layer's extra store entry."""

import warnings

import numpy as np
import pytest

import kerax


def _scaled_dense_class(lib):
    class ExtraScaleDense(lib.layers.Dense):
        """A Dense layer that saves one more array next to its weights."""

        def __init__(self, units, **kwargs):
            super().__init__(units, **kwargs)
            self.extra = np.arange(units, dtype="float32") + 1.0

        def save_own_variables(self, store):
            super().save_own_variables(store)
            store["extra"] = self.extra

        def load_own_variables(self, store):
            self.extra = np.array(store["extra"])
            for i, v in enumerate(self.weights):
                v.assign(store[str(i)])

        def call(self, x):
            return super().call(x) * self.extra

    ExtraScaleDense.__module__ = "custom_hooks_test"
    return ExtraScaleDense


def _model(lib, cls):
    return lib.Sequential([lib.Input((4,)), cls(3, name="extra_scale_dense")])


X = np.random.default_rng(0).random((5, 4)).astype("float32")


def test_default_save_and_load_own_variables_are_keras_store_entries(keras):
    store_keras, store_kerax = {}, {}
    km = keras.layers.Dense(2)
    km.build((None, 3))
    xm = kerax.layers.Dense(2)
    xm.build((None, 3))
    xm.set_weights(km.get_weights())
    km.save_own_variables(store_keras)
    xm.save_own_variables(store_kerax)
    assert list(store_kerax) == list(store_keras) == ["0", "1"]
    for k in store_keras:
        np.testing.assert_array_equal(store_kerax[k], np.asarray(store_keras[k]))
    other = kerax.layers.Dense(2)
    other.build((None, 3))
    other.load_own_variables(store_kerax)
    for a, b in zip(other.get_weights(), km.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_default_load_own_variables_names_the_missing_entries():
    layer = kerax.layers.Dense(2, name="short_store")
    layer.build((None, 3))
    with pytest.raises(ValueError, match="'short_store' expected 2 variables, but received "
                                         "1 variables during loading"):
        layer.load_own_variables({"0": np.zeros((3, 2))})


@pytest.mark.parametrize("writer,reader", [("kerax", "kerax"), ("keras", "kerax"),
                                           ("kerax", "keras")])
def test_overridden_store_round_trips_through_keras_files(keras, tmp_path, writer, reader):
    libs = {"keras": keras, "kerax": kerax}
    classes = {name: _scaled_dense_class(lib) for name, lib in libs.items()}
    src = _model(libs[writer], classes[writer])
    src.layers[0].extra = np.array([2.0, -1.0, 0.5], "float32")
    path = str(tmp_path / "extra.keras")
    src.save(path)
    objects = {"ExtraScaleDense": classes[reader]}
    back = libs[reader].models.load_model(path, custom_objects=objects)
    np.testing.assert_array_equal(back.layers[0].extra, [2.0, -1.0, 0.5])
    np.testing.assert_allclose(np.asarray(back(X)), np.asarray(src(X)), rtol=1e-6)


def test_overridden_store_in_weights_file(tmp_path):
    cls = _scaled_dense_class(kerax)
    src = _model(kerax, cls)
    src.layers[0].extra = np.array([3.0, 3.0, 3.0], "float32")
    src.save_weights(str(tmp_path / "w.weights.h5"))
    dst = _model(kerax, cls)
    dst.load_weights(str(tmp_path / "w.weights.h5"))
    np.testing.assert_array_equal(dst.layers[0].extra, [3.0, 3.0, 3.0])
    np.testing.assert_allclose(np.asarray(dst(X)), np.asarray(src(X)), rtol=1e-6)


def _custom_compile_class(lib):
    class OwnCompile(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = lib.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

        def compile(self, opt, loss_fn):
            super().compile(optimizer=opt, loss=loss_fn)
            self.opt, self.loss_fn = opt, loss_fn

        def get_compile_config(self):
            return {"opt": self.opt, "loss_fn": self.loss_fn}

        def compile_from_config(self, config):
            self.compile(lib.saving.deserialize_keras_object(config["opt"]),
                         lib.saving.deserialize_keras_object(config["loss_fn"]))

    OwnCompile.__module__ = "custom_hooks_test"
    return OwnCompile


def test_overridden_compile_config_is_saved_and_used_at_load(tmp_path):
    cls = _custom_compile_class(kerax)
    model = cls()
    model.compile("sgd", "mae")
    model.fit(X, np.ones((5, 2)), verbose=0)
    model.save(str(tmp_path / "own.keras"))
    back = kerax.models.load_model(str(tmp_path / "own.keras"),
                                   custom_objects={"OwnCompile": cls})
    assert (back.opt, back.loss_fn) == ("sgd", "mae")
    assert back.compiled


def test_custom_compile_without_compile_from_config_warns_and_stays_uncompiled(keras):
    for lib in (keras, kerax):
        class OnlyCompile(lib.Model):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.dense = lib.layers.Dense(2)

            def call(self, x):
                return self.dense(x)

            def compile(self, opt):
                super().compile(optimizer=opt, loss="mse")

        model = OnlyCompile()
        with pytest.warns(UserWarning, match="model's `compile\\(\\)` method is custom"):
            model.compile_from_config({"optimizer": "sgd", "loss": "mse"})
        assert not model.compiled


def test_get_compile_config_matches_keras(keras):
    configs = []
    for lib in (keras, kerax):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1)])
        assert model.get_compile_config() == {}
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        configs.append(model.get_compile_config())
    assert configs[1]["loss"] == configs[0]["loss"] == "mse"
    assert configs[1]["metrics"] == configs[0]["metrics"] == ["mae"]
    assert configs[1]["optimizer"]["class_name"] == configs[0]["optimizer"]["class_name"]


def test_deserialize_plain_strings_and_lists_as_keras(keras):
    for lib in (keras, kerax):
        assert lib.saving.deserialize_keras_object("SGD") == "SGD"
        assert lib.saving.deserialize_keras_object(["accuracy", 3]) == ["accuracy", 3]


def test_metric_function_returning_one_value_per_batch(keras):
    """`metrics=[fn]` where `fn` returns a scalar: one sample per batch, as Keras counts it
    (kerax passes its padding mask as weights: it must not fail to broadcast). Batches
    of equal size: on a padded short batch the function sees the padding rows too."""
    x = np.random.default_rng(1).random((8, 3)).astype("float32")
    y = np.random.default_rng(2).random((8, 2)).astype("float32")
    histories = []
    for lib in (keras, kerax):
        def mean_prediction(y_true, y_pred):
            return lib.ops.mean(y_pred)

        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
        histories.append((lib, model, mean_prediction))
    (km, kf), (xm, xf) = [(m, f) for _, m, f in histories]
    xm.set_weights(km.get_weights())
    results = []
    for model, fn in ((km, kf), (xm, xf)):
        model.compile(optimizer="sgd", loss="mse", metrics=[fn])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            h = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        results.append(h.history["mean_prediction"])
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5)


def test_a_store_entry_declaring_more_than_the_file_holds_is_refused(tmp_path):
    import h5py

    cls = _scaled_dense_class(kerax)
    src = _model(kerax, cls)
    path = str(tmp_path / "bomb.weights.h5")
    src.save_weights(path)
    with h5py.File(path, "r+") as f:  # as Keras writes it: no kerax checksums or digest
        for mark in ("kerax_checksums", "kerax_structure", "kerax_optimizer"):
            f.attrs.pop(mark, None)
        group = f["layers/extra_scale_dense/vars"]
        del group["extra"]
        group.create_dataset("extra", shape=(4096, 4096), dtype="float32",
                             compression="gzip", chunks=(256, 256), fillvalue=0.0)
    dst = _model(kerax, cls)
    with pytest.raises(kerax.errors.UnsafeModelError,
                       match=r"declare 67108924 bytes, more than the whole file \(\d+ bytes\)"):
        dst.load_weights(path)
