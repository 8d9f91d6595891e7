"""Exporting a model whose first layers run on the host (strings): the jax artifact
carries those layers, and `kerax.export.load(...).serve(strings)` and `kerax.serve`
apply them in NumPy before the program, giving what `predict` gives on the strings.
ONNX and LiteRT cannot hold them and refuse with a message naming them."""

import json
import os
import urllib.error
import urllib.request

import re

import numpy as np
import pytest

import kerax
from kerax import layers as L
from kerax.errors import ExportCorruptedError
from kerax.export import artifact
from kerax.export.serving import ModelServer

ATOL = 1e-6
TEXT = ["the cat sat on the mat", "the dog ran far away", "a bird sang", "cats and dogs"]


def _text_model():
    vectorize = L.TextVectorization(max_tokens=20, output_sequence_length=6)
    vectorize.adapt(TEXT)
    return kerax.Sequential([kerax.Input((1,), dtype="string", name="text"), vectorize,
                             L.Embedding(20, 4, mask_zero=True), L.GlobalAveragePooling1D(),
                             L.Dense(2)])


def _mixed_model():
    """Functional, dict inputs: a StringLookup on one, a plain float input beside it."""
    text, num = kerax.Input((1,), dtype="string", name="word"), kerax.Input((2,), name="num")
    ids = L.StringLookup(vocabulary=["red", "green", "blue"], output_mode="one_hot")(text)
    return kerax.Model({"word": text, "num": num},
                       L.Dense(3)(L.Concatenate()([ids, num])))


def _post(server, body):
    req = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/v1/models/{server.name}:predict",
        data=json.dumps(body).encode())
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def test_text_vectorization_prefix_is_carried_by_the_jax_artifact(tmp_path, capsys):
    model = _text_model()
    model.export(tmp_path / "text")
    assert re.search(r"then TextVectorization 'text_vectorization(_\d+)?' on the host",
                     capsys.readouterr().out)  # (the name's counter depends on earlier tests)
    x = np.array([["the cat ran"], ["a dog and a bird"], ["unknown words only"]])
    want = model.predict(x, verbose=0)
    reloaded = kerax.export.load(tmp_path / "text")
    np.testing.assert_allclose(np.asarray(reloaded.serve(x)), want, atol=ATOL)
    np.testing.assert_allclose(np.asarray(reloaded.serve(x[:, 0].tolist())), want, atol=ATOL)
    assert reloaded.serve.inputs == [{"name": "text", "shape": [None, 1],
                                      "dtype": "string"}]
    with pytest.raises(TypeError, match=r"Endpoint 'serve': the host layer TextVectorization "
                                        r"'text_vectorization.*' could not process its input: "
                                        r"Expected strings"):
        reloaded.serve([[1.5], [2.0]])
    # the model still predicts on strings after export (the prefix flags are restored)
    np.testing.assert_allclose(model.predict(x, verbose=0), want, atol=ATOL)


def test_functional_prefix_with_a_plain_input_beside_it(tmp_path):
    model = _mixed_model()
    model.export(tmp_path / "mixed", verbose=False)
    x = {"word": np.array([["blue"], ["red"], ["pink"]]),
         "num": np.arange(6, dtype="float32").reshape(3, 2)}
    want = model.predict(x, verbose=0)
    got = kerax.export.load(tmp_path / "mixed").serve(x)
    np.testing.assert_allclose(np.asarray(got), want, atol=ATOL)


def test_rest_server_answers_string_instances(tmp_path):
    model = _text_model()
    model.export(tmp_path / "text", verbose=False)
    mixed = _mixed_model()
    mixed.export(tmp_path / "mixed", verbose=False)
    server = ModelServer(tmp_path / "text", port=0, idle_timeout_s=120).start()
    server2 = ModelServer(tmp_path / "mixed", port=0, idle_timeout_s=120).start()
    try:
        rows = [["the cat ran"], ["a dog and a bird"]]
        status, reply = _post(server, {"instances": rows})
        assert status == 200
        np.testing.assert_allclose(reply["predictions"],
                                   model.predict(np.array(rows), verbose=0), atol=ATOL)
        status, reply = _post(server, {"inputs": ["the cat ran", "a dog and a bird"]})
        assert status == 200
        np.testing.assert_allclose(reply["outputs"],
                                   model.predict(np.array(rows), verbose=0), atol=ATOL)
        status, reply = _post(server2, {"instances": [{"word": ["green"], "num": [1, 2]},
                                                      {"word": ["pink"], "num": [3, 4]}]})
        assert status == 200
        want = mixed.predict({"word": np.array([["green"], ["pink"]]),
                              "num": np.array([[1, 2], [3, 4]], "float32")}, verbose=0)
        np.testing.assert_allclose(reply["predictions"], want, atol=ATOL)
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/v1/models/"
                                    f"{server.name}/metadata", timeout=60) as r:
            inputs = json.load(r)["metadata"]["signature_def"]["signature_def"][
                "serving_default"]["inputs"]
        assert inputs["text"]["dtype"] == "string"
        status, reply = _post(server2, {"instances": [{"word": ["green"], "num": [1, 2, 3]}]})
        assert status == 400 and "input 'num': expected shape (None, 2)" in reply["error"]
        status, reply = _post(server, {"instances": [[1.5], [2.0]]})
        assert status == 400 and "host layer TextVectorization" in reply["error"]
        status, _ = _post(server, {"instances": rows})  # still serving
        assert status == 200
    finally:
        server.stop()
        server2.stop()


@pytest.mark.parametrize("fmt,path", [("onnx", "m.onnx"), ("litert", "m.tflite")])
def test_onnx_and_litert_refuse_a_host_prefix_naming_the_layer(tmp_path, fmt, path):
    with pytest.raises(ValueError, match=rf"Cannot export 'sequential.*' with format="
                                         rf"'{fmt}': its first layers \(TextVectorization "
                                         r"'text_vectorization.*'\) process strings on the "
                                         r"host.*Export the model after them"):
        _text_model().export(tmp_path / path, format=fmt)


def test_an_input_signature_is_refused_for_a_host_prefix(tmp_path):
    spec = kerax.InputSpec(shape=(None, 1), dtype="string")
    with pytest.raises(ValueError, match=r"with an `input_signature`: its first layers "
                                         r"\('text_vectorization.*'\) run on the host"):
        _text_model().export(tmp_path / "m", input_signature=[spec])


def test_a_host_file_replaced_by_another_layer_is_refused(tmp_path):
    _text_model().export(tmp_path / "m", verbose=False)
    dense = kerax.layers.Dense(2)
    dense.build((None, 3))
    kerax.saving.save_model(dense, tmp_path / "m" / "serve.host_0.keras")
    manifest = json.loads((tmp_path / "m" / "checksums.json").read_text())
    manifest["files"]["serve.host_0.keras"] = artifact.sha256_of(
        os.path.join(tmp_path, "m", "serve.host_0.keras"))
    (tmp_path / "m" / "checksums.json").write_text(json.dumps(manifest))
    with pytest.raises(ExportCorruptedError, match=r"'serve.host_0.keras' holds a Dense, "
                                                   r"not a host layer"):
        kerax.export.load(tmp_path / "m")


@pytest.mark.parametrize("entry", [
    [], {"inputs": [], "steps": []},
    {"inputs": [{"name": "text", "shape": [None, 1], "dtype": "string"}],
     "steps": [{"file": "elsewhere.keras", "inputs": [0], "output": 0}]},
    {"inputs": [{"name": "text", "shape": [None, 1], "dtype": "string"}],
     "steps": [{"file": "serve.host_0.keras", "inputs": [3], "output": 3}]},
], ids=["not_an_object", "no_input", "file_not_covered", "index_out_of_range"])
def test_a_malformed_host_prefix_entry_is_refused(tmp_path, entry):
    _text_model().export(tmp_path / "m", verbose=False)
    sig_path = tmp_path / "m" / "signature.json"
    signature = json.loads(sig_path.read_text())
    signature["endpoints"]["serve"]["host_prefix"] = entry
    sig_path.write_text(json.dumps(signature))
    manifest = json.loads((tmp_path / "m" / "checksums.json").read_text())
    manifest["files"]["signature.json"] = artifact.sha256_of(str(sig_path))
    (tmp_path / "m" / "checksums.json").write_text(json.dumps(manifest))
    with pytest.raises(ExportCorruptedError, match=r"endpoint 'serve': signature.json's "
                                                   r"\"host_prefix\" (is not an object|has "
                                                   r"the step)"):
        kerax.export.load(tmp_path / "m")
