"""`.keras` files move both ways between kerax and Keras 3, optimizer state included."""

import json
import zipfile

import numpy as np
import pytest

import kerax
from kerax.saving import optimizer_vars

X = np.random.default_rng(0).random((8, 4)).astype("float32")
Y = np.random.default_rng(1).random((8, 2)).astype("float32")


def _seq(lib):
    return lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, activation="relu"),
                           lib.layers.BatchNormalization(), lib.layers.Dense(2)])


@pytest.fixture(scope="module")
def keras_file(keras, tmp_path_factory):
    model = _seq(keras)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.fit(X, Y, epochs=2, batch_size=4, verbose=0)
    path = str(tmp_path_factory.mktemp("k") / "seq.keras")
    model.save(path)
    return path, model


@pytest.fixture(scope="module")
def kerax_file(tmp_path_factory):
    model = _seq(kerax)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.fit(X, Y, epochs=2, batch_size=4, verbose=0)
    path = str(tmp_path_factory.mktemp("x") / "seq.keras")
    model.save(path)
    return path, model


def _keras_opt_vars(model):
    return [np.asarray(v) for v in model.optimizer.variables]


def test_keras_to_kerax_sequential(keras_file):
    path, kmodel = keras_file
    model = kerax.models.load_model(path)
    np.testing.assert_array_equal(model.predict(X, verbose=0), kmodel.predict(X, verbose=0))
    for a, b in zip(model.get_weights(), kmodel.get_weights()):
        np.testing.assert_array_equal(a, b)
    ours, theirs = optimizer_vars.keras_variables(model), _keras_opt_vars(kmodel)
    assert len(ours) == len(theirs) == 14
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=0)
    assert model.optimizer.iterations == int(kmodel.optimizer.iterations)


def test_kerax_to_keras_sequential(keras, kerax_file):
    path, model = kerax_file
    kmodel = keras.models.load_model(path)
    np.testing.assert_array_equal(kmodel.predict(X, verbose=0), model.predict(X, verbose=0))
    assert int(kmodel.optimizer.iterations) == model.optimizer.iterations == 4
    for a, b in zip(_keras_opt_vars(kmodel), optimizer_vars.keras_variables(model)):
        np.testing.assert_allclose(a, b, rtol=0, atol=0)


def test_file_layout(kerax_file):
    path, _ = kerax_file
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        config = json.loads(zf.read("config.json"))
        metadata = json.loads(zf.read("metadata.json"))
    assert set(metadata) == {"keras_version", "date_saved"}
    assert config["module"] == "keras" and config["class_name"] == "Sequential"
    assert config["build_config"] == {"input_shape": [None, 4]}
    assert config["compile_config"]["loss"] == "mse"
    assert config["compile_config"]["metrics"] == ["mae"]
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"


def test_kerax_round_trip_resumes_training_exactly(kerax_file, tmp_path):
    path, model = kerax_file
    a = kerax.models.load_model(path)
    b = kerax.models.load_model(path)
    a.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    b.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.optimizer.iterations == 6


def test_compile_false_skips_optimizer(kerax_file):
    model = kerax.models.load_model(kerax_file[0], compile=False)
    assert not model.compiled
    np.testing.assert_array_equal(model.predict(X, verbose=0), kerax_file[1].predict(X, verbose=0))


def _registered(lib, package):
    @lib.saving.register_keras_serializable(package=package)
    class TwoDense(lib.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.hidden = lib.layers.Dense(units, activation="tanh")
            self.out = lib.layers.Dense(2)

        def call(self, x):
            return self.out(self.hidden(x))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return TwoDense


@pytest.mark.parametrize("src", ["keras", "kerax"])
def test_subclassed_registered_both_ways(keras, tmp_path, src):
    libs = {"keras": keras, "kerax": kerax}
    classes = {name: _registered(lib, "KxSaveTest") for name, lib in libs.items()}
    model = classes[src](units=5)
    model(X)
    path = str(tmp_path / "sub.keras")
    model.save(path)
    dst = "kerax" if src == "keras" else "keras"
    loaded = libs[dst].models.load_model(path)
    assert type(loaded) is classes[dst] and loaded.units == 5
    np.testing.assert_allclose(np.asarray(loaded(X)), np.asarray(model(X)), rtol=0, atol=0)


def _functional(lib):
    inp = lib.Input((4,))
    h = lib.layers.Dense(3, activation="relu")(inp)
    out = lib.layers.Dense(2)(lib.layers.Dense(3)(h))
    return lib.Model(inp, out)


@pytest.mark.parametrize("src", ["keras", "kerax"])
def test_functional_both_ways(keras, tmp_path, src):
    pytest.importorskip("kerax.models.functional",
                        reason="the functional API (kerax.models.functional) is not there yet")
    libs = {"keras": keras, "kerax": kerax}
    model = _functional(libs[src])
    path = str(tmp_path / "fn.keras")
    model.save(path)
    loaded = libs["kerax" if src == "keras" else "keras"].models.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(X)), np.asarray(model(X)), rtol=0, atol=0)


class Unregistered(kerax.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_custom_objects_and_scope(tmp_path):
    model = kerax.Sequential([kerax.Input((4,)), Unregistered(3.0), kerax.layers.Dense(2)])
    path = str(tmp_path / "custom.keras")
    model.save(path)
    with pytest.raises(ValueError, match="Could not locate class or function 'Unregistered'"):
        kerax.models.load_model(path)
    a = kerax.models.load_model(path, custom_objects={"Unregistered": Unregistered})
    with kerax.saving.CustomObjectScope({"Unregistered": Unregistered}):
        b = kerax.models.load_model(path)
    for m in (a, b):
        assert m.layers[0].factor == 3.0
        np.testing.assert_array_equal(m.predict(X, verbose=0), model.predict(X, verbose=0))


def test_to_json_and_model_from_json():
    model = _seq(kerax)
    clone = kerax.models.model_from_json(model.to_json())
    assert [type(l).__name__ for l in clone.layers] == [type(l).__name__ for l in model.layers]
    assert clone.get_weights()[0].shape == (4, 3)


@pytest.mark.parametrize("call, match", [
    (lambda m, p: m.save(p + "/m.txt"), "Invalid filepath extension"),
    (lambda m, p: kerax.models.load_model(p + "/w.weights.h5"), "holds weights only"),
    (lambda m, p: kerax.models.load_model(p + "/missing.keras"), "File not found"),
    (lambda m, p: m.save(p + "/m.keras", zipped=False), "zipped only"),
])
def test_argument_errors(tmp_path, call, match):
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
    with pytest.raises(ValueError, match=match):
        call(model, str(tmp_path))


def test_overwrite_false(tmp_path):
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
    path = str(tmp_path / "m.keras")
    model.save(path)
    with pytest.raises(FileExistsError, match="already exists and `overwrite=False`"):
        model.save(path, overwrite=False)


def test_subclassed_model_whose_config_does_not_fit_init(tmp_path):
    @kerax.saving.register_keras_serializable(package="KxSaveTest")
    class NoConfig(kerax.Model):
        def __init__(self, units):
            super().__init__()
            self.units = units
            self.dense = kerax.layers.Dense(units)

        def call(self, x):
            return self.dense(x)

    model = NoConfig(2)
    model(X)
    path = str(tmp_path / "noconfig.keras")
    model.save(path)
    with pytest.raises(TypeError, match="Unable to revive model NoConfig from its config"):
        kerax.models.load_model(path)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_keras_file_of_a_compiled_untrained_model_loads_without_warning(keras, tmp_path,
                                                                         optimizer):
    """Keras saves an unused optimizer as `iterations` (+ `learning_rate`) only."""
    import warnings

    model = _seq(keras)
    model.compile(optimizer=optimizer, loss="mse")
    model.save(tmp_path / "untrained.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = kerax.saving.load_model(tmp_path / "untrained.keras")
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0),
                               atol=1e-5)
    assert loaded.optimizer.iterations == 0
