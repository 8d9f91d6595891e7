"""`TensorBoard`'s graph, weight images, embeddings and profiles, read back with
TensorBoard's own readers (`tensorboard` is TF-free for reading); the graph is compared
with the one TensorBoard draws from Keras' JSON of the same model."""

import glob
import gzip
import io
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kerax

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator")
from kerax.callbacks import TensorBoard  # noqa: E402

x = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
y = x.sum(1, keepdims=True)


def _accumulator(directory):
    acc = event_accumulator.EventAccumulator(str(directory), size_guidance={"tensors": 0})
    acc.Reload()
    return acc


def _functional(lib):
    inputs = lib.Input((2,), name="x")
    a = lib.layers.Dense(3, name="a")(inputs)
    b = lib.layers.Dense(3, name="b")(inputs)
    out = lib.layers.Dense(1, name="out")(lib.layers.Add(name="add")([a, b]))
    return lib.Model(inputs, out, name="fn")


def _sequential(lib):
    return lib.Sequential([lib.Input((2,), name="x"), lib.layers.Dense(3, name="a"),
                           lib.layers.Dense(1, name="out")], name="seq")


def _graph_nodes(model_json):
    from tensorboard.plugins.graph import keras_util

    graph = keras_util.keras_model_to_graph_def(json.loads(model_json))
    return sorted((n.name, n.op, tuple(n.input)) for n in graph.node)


@pytest.mark.parametrize("build", [_functional, _sequential])
def test_write_graph_is_tensorboards_conceptual_graph_as_keras(keras, tmp_path, build):
    model = build(kerax)
    model.compile("sgd", "mse")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path)])
    acc = _accumulator(tmp_path / "train")
    assert acc.SummaryMetadata("keras").plugin_data.plugin_name == "graph_keras_model"
    (event,) = acc.Tensors("keras")
    assert event.step == 0
    ours = _graph_nodes(event.tensor_proto.string_val[0])
    assert ours == _graph_nodes(build(keras).to_json())
    assert {"a", "out"} <= {name.split("/")[-1] for name, _, _ in ours}


def test_no_graph_for_a_subclassed_model_or_without_write_graph(tmp_path):
    class Net(kerax.Model):
        def __init__(self):
            super().__init__()
            self.d = kerax.layers.Dense(1)

        def call(self, inputs):
            return self.d(inputs)

    for model, kw in ((Net(), {}), (_sequential(kerax), {"write_graph": False})):
        model.compile("sgd", "mse")
        model.fit(x, y, verbose=0, callbacks=[TensorBoard(tmp_path / "logs", **kw)])
        assert "keras" not in _accumulator(tmp_path / "logs" / "train").Tags()["tensors"]


def _png(data):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)))


def test_write_images_draws_each_weight_as_keras(tmp_path):
    pytest.importorskip("PIL")
    from tensorboard.plugins.image import metadata

    model = kerax.Sequential([kerax.Input((4, 4, 1)),
                              kerax.layers.Conv2D(4, 3, name="conv"), kerax.layers.Flatten(),
                              kerax.layers.Dense(3, name="d")], name="m")
    model.compile("sgd", "mse")
    model.fit(np.ones((2, 4, 4, 1)), np.ones((2, 3)), verbose=0,
              callbacks=[TensorBoard(tmp_path, histogram_freq=1, write_images=True)])
    acc = _accumulator(tmp_path / "train")
    assert metadata.parse_plugin_metadata(
        acc.SummaryMetadata("m/d/kernel/image").plugin_data.content).version == 0
    assert acc.SummaryMetadata("m/d/kernel/image").plugin_data.plugin_name == "images"
    kernel, conv = model.get_layer("d").kernel.numpy(), model.get_layer("conv").kernel.numpy()

    def pixels(w):  # `tf.image.convert_image_dtype(w, uint8, saturate=True)`
        return np.clip(w * 255.5, 0, 255).astype(np.uint8)

    # Dense kernel (16, 3): transposed to be wide, one 3 x 16 image.
    (event,) = acc.Tensors("m/d/kernel/image")
    width, height, *images = event.tensor_proto.string_val
    assert (width, height, len(images)) == (b"16", b"3", 1)
    np.testing.assert_array_equal(_png(images[0]), pixels(kernel.T))
    # Conv kernel (3, 3, 1, 4): squeezed, one 3 x 3 image per filter, the first 3 kept.
    (event,) = acc.Tensors("m/conv/kernel/image")
    width, height, *images = event.tensor_proto.string_val
    assert (width, height, len(images)) == (b"3", b"3", 3)
    for i, image in enumerate(images):
        np.testing.assert_array_equal(_png(image), pixels(conv[:, :, 0, i]))
    # A bias (3,) is one column of 3 pixels.
    (event,) = acc.Tensors("m/d/bias/image")
    assert event.tensor_proto.string_val[:2] == [b"1", b"3"]
    assert "m/d/kernel/histogram" in acc.Tags()["histograms"]


def test_embeddings_are_read_by_tensorboards_projector(tmp_path):
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.projector import projector_plugin

    model = kerax.Sequential([kerax.Input((2,), dtype="int32"),
                              kerax.layers.Embedding(10, 3, name="emb"),
                              kerax.layers.Flatten(), kerax.layers.Dense(1)], name="m")
    model.compile("sgd", "mse")
    (tmp_path / "meta.tsv").write_text("".join(f"word{i}\n" for i in range(10)))
    model.fit(np.array([[1, 2], [3, 4]]), np.ones((2, 1)), epochs=2, verbose=0,
              callbacks=[TensorBoard(tmp_path, embeddings_freq=1,
                                     embeddings_metadata={"emb": "meta.tsv"})])
    plugin = projector_plugin.ProjectorPlugin(base_plugin.TBContext(logdir=str(tmp_path)))
    plugin._update_configs()
    (embedding,) = plugin._configs["."].embeddings
    assert embedding.tensor_name == "emb" and list(embedding.tensor_shape) == [10, 3]
    assert embedding.tensor_path == os.path.join("train", "embeddings-1", "emb.tsv")
    assert embedding.metadata_path == "meta.tsv"
    np.testing.assert_allclose(plugin.tensor_cache.get((".", "emb")),
                               model.get_layer("emb").embeddings.numpy(), rtol=1e-6)


def test_embeddings_metadata_for_unknown_layers_raises(tmp_path):
    model = _sequential(kerax)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"Unrecognized `Embedding` layer names .*\['nope'\]"):
        model.fit(x, y, verbose=0, callbacks=[TensorBoard(
            tmp_path, embeddings_freq=1, embeddings_metadata={"nope": "m.tsv"})])


@pytest.mark.parametrize("value, expected", [(0, None), (3, (3, 3)), ((2, 5), (2, 5)),
                                             ("2,4", (2, 4)), ("3", (3, 3)), (True, (1, 1))])
def test_profile_batch_forms_as_keras(value, expected):
    assert TensorBoard(profile_batch=value).profile_range == expected


@pytest.mark.parametrize("value", [-1, (5, 2), (1, 2, 3), "a,b", 1.5])
def test_bad_profile_batch_raises(value):
    with pytest.raises(ValueError, match="profile_batch must be a non-negative integer or "
                                         "2-tuple of positive integers.*Found"):
        TensorBoard(profile_batch=value)


PROFILED_FIT = """
import sys
import numpy as np
import kerax
model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
model.compile("sgd", "mse", steps_per_execution=int(sys.argv[2]))
x = np.ones((8, 2), "float32")
model.fit(x, x[:, :1], batch_size=2, epochs=2, verbose=0,
          callbacks=[kerax.callbacks.TensorBoard(sys.argv[1], profile_batch=(3, 6))])
model.evaluate(x, x[:, :1], batch_size=2, verbose=0)
print("done")
"""


@pytest.mark.parametrize("k, steps, batches", [
    # Batches 3..6 of the fit (counted from 1): epoch 0's batches 2, 3, epoch 1's 0, 1.
    (1, [2, 3, 4, 5], [0, 1, 2, 3]),
    # Two steps per execution: the executions of batches 3-4 and 5-6.
    (2, [2, 4], [0, 2]),
])
def test_profile_batch_writes_a_jax_trace_with_named_steps(tmp_path, k, steps, batches):
    # Keras 3 turns JAX profiling off below Python 3.12 after a segfault report: run it in
    # a subprocess, so that a crash fails this test only.
    script = tmp_path / "fit.py"
    script.write_text(textwrap.dedent(PROFILED_FIT))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, "-X", "faulthandler", str(script),
                           str(tmp_path / "logs"), str(k)], capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0 and "done" in done.stdout, done.stderr[-3000:]
    runs = glob.glob(str(tmp_path / "logs" / "train" / "plugins" / "profile" / "*"))
    assert len(runs) == 1
    assert glob.glob(os.path.join(runs[0], "*.xplane.pb"))
    (trace,) = glob.glob(os.path.join(runs[0], "*.trace.json.gz"))
    events = json.load(gzip.open(trace))["traceEvents"]
    assert sorted(int(e["args"]["step_num"]) for e in events
                  if e.get("name") == "train") == steps
    assert sorted(e["name"] for e in events if e.get("name", "").startswith("Profiled")) == [
        f"Profiled batch {b}" for b in batches]


def test_batch_scalars_and_steps_per_second_as_keras(tmp_path):
    # Keras logs `batch_<name>` and, with `write_steps_per_second`, `batch_steps_per_second`
    # at every `update_freq`-th batch of the fit (counted from 1), and epoch scalars.
    model = _sequential(kerax)
    model.compile("sgd", "mse", steps_per_execution=1)
    h = model.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[
        TensorBoard(tmp_path, update_freq=3, write_steps_per_second=True, write_graph=False)])
    acc = _accumulator(tmp_path / "train")
    assert [e.step for e in acc.Scalars("batch_loss")] == [3, 6]
    assert [e.step for e in acc.Scalars("batch_steps_per_second")] == [3, 6]
    assert all(e.value > 0 for e in acc.Scalars("batch_steps_per_second"))
    np.testing.assert_allclose([e.value for e in acc.Scalars("epoch_loss")], h.history["loss"],
                               rtol=1e-6)
    assert [e.step for e in acc.Scalars("epoch_steps_per_second")] == [0, 1]


def test_a_model_that_cannot_be_serialized_still_trains(tmp_path, monkeypatch):
    model = _sequential(kerax)
    model.compile("sgd", "mse")

    def fail():
        raise TypeError("not serializable")

    monkeypatch.setattr(model, "to_json", fail)
    with pytest.warns(UserWarning, match="Model failed to serialize as JSON. Ignoring... not"):
        model.fit(x, y, verbose=0, callbacks=[TensorBoard(tmp_path)])
    assert "keras" not in _accumulator(tmp_path / "train").Tags()["tensors"]
