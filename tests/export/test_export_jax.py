"""`model.export(path, format="jax")`, `kerax.export.load` and `ExportArchive`.

Each model is exported, reloaded (only its artifact: weights, StableHLO, JSON) and
compared with `model.predict` at batch sizes 1 and 7 (one artifact, symbolic batch).
"""

import json
import os
import pathlib
import subprocess
import sys

import jax
import numpy as np
import pytest

import kerax
from kerax import layers

ATOL = 1e-6


def _roundtrip(model, tmp_path, make_x):
    path = tmp_path / "artifact"
    model.export(path, format="jax", verbose=False)
    reloaded = kerax.export.load(path)
    for batch in (1, 7):
        x = make_x(batch)
        expected = model.predict(x, verbose=0)
        got = reloaded.serve(x)
        jax.tree_util.tree_map(
            lambda g, e: np.testing.assert_allclose(np.asarray(g), e, atol=ATOL, rtol=ATOL),
            _plain(got), _plain(expected))
    return path, reloaded


def _plain(tree):
    """Lists and tuples alike, so `predict`'s list output compares with the artifact's."""
    if isinstance(tree, dict):
        return {k: _plain(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_plain(v) for v in tree]
    return np.asarray(tree)


def _floats(*shape, seed=0):
    return lambda b: np.random.default_rng([b, seed]).normal(size=(b,) + shape).astype(
        "float32")


def test_sequential_with_batchnorm_and_dropout_runs_in_inference_mode(tmp_path):
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(4), layers.BatchNormalization(),
                              layers.Dropout(0.5), layers.Dense(2, activation="softmax")])
    model.compile("adam", "mse")
    model.fit(np.ones((8, 3), "float32"), np.ones((8, 2), "float32"), epochs=1, verbose=0)
    _roundtrip(model, tmp_path, _floats(3))


def test_functional_multi_input_dict_multi_output_list(tmp_path):
    a, b = kerax.Input((3,), name="a"), kerax.Input((2,), name="b")
    h = layers.Dense(4, activation="relu")(layers.Concatenate()([a, b]))
    model = kerax.Model({"a": a, "b": b}, [layers.Dense(1, name="y1")(h),
                                           layers.Dense(2, name="y2")(h)])
    path, reloaded = _roundtrip(
        model, tmp_path, lambda n: {"a": _floats(3)(n), "b": _floats(2, seed=1)(n)})
    sig = reloaded.serve.signature
    assert [(s["name"], s["shape"], s["dtype"]) for s in sig["inputs"]] == [
        ("a", [None, 3], "float32"), ("b", [None, 2], "float32")]
    assert [s["shape"] for s in sig["outputs"]] == [[None, 1], [None, 2]]


def test_subclassed_model(tmp_path):
    class MLP(kerax.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(5, activation="tanh")
            self.out = layers.Dense(2)

        def call(self, x, training=False):
            return self.out(self.hidden(x))

    model = MLP()
    model(np.ones((2, 4), "float32"))
    _roundtrip(model, tmp_path, _floats(4))


def test_rnn_and_conv_models(tmp_path):
    rnn = kerax.Sequential([kerax.Input((5, 3)), layers.LSTM(4, return_sequences=True),
                            layers.GRU(3)])
    _roundtrip(rnn, tmp_path / "rnn", _floats(5, 3))
    cnn = kerax.Sequential([kerax.Input((6, 6, 2)), layers.Conv2D(3, 3),
                            layers.MaxPooling2D(), layers.Flatten(), layers.Dense(2)])
    _roundtrip(cnn, tmp_path / "cnn", _floats(6, 6, 2))


def test_artifact_layout_signature_and_weights_are_arrays_not_constants(tmp_path):
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(1024, name="hidden"),
                              layers.Dense(2)])
    path, reloaded = _roundtrip(model, tmp_path, _floats(3))
    assert sorted(os.listdir(path)) == ["checksums.json", "serve.jaxexport",
                                        "signature.json", "variables.npz"]
    sig = json.loads((path / "signature.json").read_text())
    assert sig["jax_version"] == jax.__version__ and "kerax_version" in sig
    assert sig["endpoints"]["serve"]["platforms"] == ["cpu", "cuda", "tpu"]
    assert reloaded.serve.exported.platforms == ("cpu", "cuda", "tpu")
    # the kernels are inputs of the program, not constants baked into it
    i = [p.endswith("params/hidden/kernel") for p in sig["weight_paths"]].index(True)
    assert reloaded.serve.exported.in_avals[i].shape == (3, 1024)
    assert os.path.getsize(path / "serve.jaxexport") < 3 * 1024 * 4
    npz = np.load(path / "variables.npz")
    np.testing.assert_array_equal(npz[sig["weights"][i]],
                                  np.asarray(model.variables["params"]["hidden"]["kernel"]))


def _docs_recipe():
    text = (pathlib.Path(__file__).parents[2] / "docs" / "export.md").read_text()
    section = text.split("## Loading with plain `jax.export`", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_plain_jax_export_recipe_from_the_docs(tmp_path):
    """The recipe of docs/export.md, run as written in a process that never imports kerax."""
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    model.export(tmp_path / "m", verbose=False)
    x = np.arange(12, dtype="float32").reshape(4, 3)
    np.save(tmp_path / "x.npy", x)
    recipe = _docs_recipe()
    assert len(recipe.strip().splitlines()) <= 10
    program = (f"import numpy as np, sys\nx = np.load({str(tmp_path / 'x.npy')!r})\n"
               + recipe.replace('"path/to/artifact"', repr(str(tmp_path / "m")))
               + "assert 'kerax' not in sys.modules\n"
               + f"np.save({str(tmp_path / 'y.npy')!r}, np.asarray(y))\n")
    subprocess.run([sys.executable, "-c", program], check=True, timeout=120)
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), model.predict(x, verbose=0),
                               atol=ATOL, rtol=ATOL)


def test_missing_flatbuffers_gets_an_install_hint(tmp_path, monkeypatch):
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    model.export(tmp_path / "m", verbose=False)

    def no_flatbuffers(data):
        raise ImportError("Please install 'flatbuffers' in order to use Exported serialization")
    monkeypatch.setattr(jax.export, "deserialize", no_flatbuffers)
    with pytest.raises(ImportError, match=r"pip install kerax\[export\]"):
        kerax.export.load(tmp_path / "m")


def test_export_archive_several_endpoints_and_variable_collection(tmp_path):
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(4, name="embed"),
                              layers.Dense(2)])
    model.compile("adam", "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=1, verbose=0)
    archive = kerax.export.ExportArchive()
    archive.track(model)
    spec = kerax.InputSpec(shape=(None, 3), dtype="float32")
    archive.add_endpoint("serve", model.call, input_signature=[spec])
    archive.add_endpoint("embed", lambda x: model.get_layer("embed")(x),
                         input_signature=[jax.ShapeDtypeStruct((None, 3), np.float32)])
    archive.add_variable_collection("optimizer_variables", model.optimizer.variables)
    archive.write_out(tmp_path / "a", verbose=False)
    reloaded = kerax.export.load(tmp_path / "a")
    x = _floats(3)(7)
    np.testing.assert_allclose(reloaded.serve(x), model.predict(x, verbose=0), atol=ATOL)
    np.testing.assert_allclose(reloaded.embed(x), model.get_layer("embed")(x), atol=ATOL)
    assert len(reloaded.optimizer_variables) == len(model.optimizer.variables)
    np.testing.assert_array_equal(reloaded.optimizer_variables[0],
                                  np.asarray(model.optimizer.variables[0]))
    # the endpoints read the tracked weights from the file, not constants: the model's
    # own variables were restored after tracing
    assert not isinstance(model.variables["params"]["embed"]["kernel"], jax.core.Tracer)


def test_tampered_or_missing_file_is_named(tmp_path):
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    model.export(tmp_path / "m", verbose=False)
    with open(tmp_path / "m" / "variables.npz", "r+b") as f:
        f.seek(-3, 2)
        f.write(b"xyz")
    with pytest.raises(ValueError, match=r"the file 'variables.npz' has sha256 .* modified"):
        kerax.export.load(tmp_path / "m")
    model.export(tmp_path / "m", verbose=False)
    os.remove(tmp_path / "m" / "serve.jaxexport")
    with pytest.raises(ValueError, match=r"the file 'serve.jaxexport' .* is missing"):
        kerax.export.load(tmp_path / "m")
    with pytest.raises(ValueError, match=r"is not a kerax jax export: it has no "):
        kerax.export.load(tmp_path)


def test_wrong_inputs_get_clear_errors(tmp_path):
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    model.export(tmp_path / "m", verbose=False)
    serve = kerax.export.load(tmp_path / "m").serve
    with pytest.raises(ValueError, match=r"input 'input.*': expected shape \(None, 3\).*"
                                         r"received \(2, 4\)"):
        serve(np.ones((2, 4), "float32"))
    with pytest.raises(TypeError, match=r"expected dtype float32, received str32"):
        serve(np.array([["a", "b", "c"]]))
    with pytest.raises(ValueError, match=r"expected a list of 1 inputs, received 2 items"):
        serve(np.ones((2, 3)), np.ones((2, 3)))


def test_export_argument_errors(tmp_path):
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"Unsupported export format 'tf_saved_model'.*"
                                         r"kerax.serve"):
        model.export(tmp_path / "m", format="tf_saved_model")
    with pytest.raises(ValueError, match=r"is not built yet"):
        kerax.export.ExportArchive().track(layers.Dense(2))
    archive = kerax.export.ExportArchive()
    with pytest.raises(ValueError, match=r"no layer or model is tracked"):
        archive.add_endpoint("serve", lambda x: x, [kerax.InputSpec(shape=(None, 3),
                                                                     dtype="float32")])
    archive.track(model)
    with pytest.raises(ValueError, match=r"`input_signature` is required"):
        archive.add_endpoint("f", lambda x: model(x))
    with pytest.raises(ValueError, match=r"InputSpec without `shape` or `dtype`"):
        archive.add_endpoint("g", model.call, [kerax.InputSpec(ndim=2)])
        archive.write_out(tmp_path / "g", verbose=False)
    with pytest.raises(ValueError, match=r"no endpoint was added"):
        kerax.export.ExportArchive().write_out(tmp_path / "x")
    with pytest.raises(ValueError, match=r"must be a Python identifier"):
        archive.add_endpoint("not a name", model.call)


def test_other_none_dimensions_are_symbolic(tmp_path):
    model = kerax.Sequential([kerax.Input((None, 2)), layers.Conv1D(3, 2, padding="same"),
                              layers.GlobalAveragePooling1D(), layers.Dense(2)])
    model.export(tmp_path / "m", verbose=False)
    reloaded = kerax.export.load(tmp_path / "m")
    assert reloaded.serve.inputs[0]["shape"] == [None, None, 2]
    for batch, steps in ((1, 4), (7, 9)):
        x = np.random.default_rng(steps).normal(size=(batch, steps, 2)).astype("float32")
        np.testing.assert_allclose(reloaded.serve(x), model.predict(x, verbose=0),
                                   atol=ATOL, rtol=ATOL)


def test_rnn_with_free_time_steps(tmp_path):
    model = kerax.Sequential([kerax.Input((None, 2)), layers.SimpleRNN(3)])
    model.export(tmp_path / "m", verbose=False)
    serve = kerax.export.load(tmp_path / "m").serve
    for batch, steps in ((1, 3), (7, 5)):
        x = np.random.default_rng(steps).normal(size=(batch, steps, 2)).astype("float32")
        np.testing.assert_allclose(serve(x), model.predict(x, verbose=0), atol=ATOL, rtol=ATOL)


def test_a_dimension_that_cannot_be_symbolic_gets_a_clear_error(tmp_path):
    model = kerax.Sequential([kerax.Input((None, 2)), layers.Reshape((-1, 4))])
    with pytest.raises(ValueError, match=r"Exporting endpoint 'serve' failed while tracing "
                                         r"with symbolic dimensions.*Reshape.*fixed sizes"):
        model.export(tmp_path / "m", verbose=False)
    assert not os.path.exists(tmp_path / "m")  # nothing half-written
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".export-")]


def test_method_and_argument_names_match_keras(keras):
    import inspect

    from keras.src.export.saved_model import ExportArchive as KerasArchive

    for method in ("track", "add_endpoint", "track_and_add_endpoint",
                   "add_variable_collection", "write_out"):
        ours = list(inspect.signature(getattr(kerax.export.ExportArchive, method)).parameters)
        theirs = list(inspect.signature(getattr(KerasArchive, method)).parameters)
        assert ours == theirs, method
    ours = list(inspect.signature(kerax.Model.export).parameters)
    assert ours == list(inspect.signature(keras.Model.export).parameters)


def test_functional_list_inputs_and_dropout(tmp_path):
    a, b = kerax.Input((2,)), kerax.Input((3,))
    h = layers.Dropout(0.5)(layers.Concatenate()([layers.Dense(3)(a), b]))
    model = kerax.Model([a, b], layers.Dense(1)(h))
    _roundtrip(model, tmp_path, lambda n: [_floats(2)(n), _floats(3, seed=2)(n)])


def test_a_manifest_naming_a_path_outside_the_directory_is_refused(tmp_path):
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2)])
    model.export(tmp_path / "m", verbose=False)
    manifest = tmp_path / "m" / "checksums.json"
    data = json.loads(manifest.read_text())
    data["files"]["../secret"] = "0" * 64
    manifest.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"lists '../secret', which is not a plain file name"):
        kerax.export.load(tmp_path / "m")
