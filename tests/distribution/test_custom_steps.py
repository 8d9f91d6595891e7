"""Custom train steps (Keras 3's stateless `train_step` and kerax's `pure_train_step`) run
under a distribution with no code change: params keep the layout's sharding, batches are
split on the batch axis, and training matches one device."""

import importlib.util
import pathlib

import jax
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

import kerax
from kerax import distribution as kd
from tests.models.test_custom_train_step import _guide_models

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _gan_module():
    spec = importlib.util.spec_from_file_location("gan_example", ROOT / "examples" / "gan.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _keras_style(make_dist):
    r = np.random.default_rng(0)
    x, y = r.normal(size=(64, 4)).astype("float32"), r.normal(size=(64, 1)).astype("float32")
    kerax.utils.set_random_seed(0)
    model = _guide_models(kerax)
    kd.set_distribution(make_dist(model))
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    evaluated = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    return model, history.history, evaluated


def test_keras_style_train_step_under_data_and_model_parallel():
    single, want_hist, want_eval = _keras_style(lambda m: None)
    want = single.get_weights()

    def model_parallel(model):  # the first kernel (4, 5) split on its input axis
        layout = kd.LayoutMap(kd.DeviceMesh((2, 4), axis_names=("batch", "model")))
        layout[model.layers[1].name + "/kernel"] = ("model", None)
        return kd.ModelParallel(layout_map=layout, batch_dim_name="batch")

    for make_dist in (lambda m: kd.DataParallel(), model_parallel):
        model, hist, evaluated = _keras_style(make_dist)
        dist = kd.distribution()
        for a, b in zip(model.get_weights(), want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(hist["loss"], want_hist["loss"], rtol=1e-5)
        np.testing.assert_allclose(evaluated["mae"], want_eval["mae"], rtol=1e-5)
        kernel = model.layers[1].variables["params"]["kernel"]
        assert len(kernel.sharding.device_set) == 8
        if isinstance(dist, kd.ModelParallel):
            assert kernel.sharding.spec == P("model", None)
        kd.set_distribution(None)


def test_pure_train_step_gan_under_data_parallel():
    G = _gan_module()
    data = G.real_data(128)
    out = []
    for dist in (None, kd.DataParallel()):
        kd.set_distribution(dist)
        kerax.utils.set_random_seed(0)
        gan = G.make_gan()
        gan._train_rng = jax.random.PRNGKey(7)  # the same noise on both runs
        history = gan.fit(data, batch_size=32, epochs=2, shuffle=False, verbose=0)
        params = gan.variables["params"]
        out.append((history.history, jax.tree_util.tree_map(np.asarray, params)))
        if dist is not None:
            leaf = jax.tree_util.tree_leaves(params)[0]
            assert len(leaf.sharding.device_set) == 8
        kd.set_distribution(None)
    for k in ("d_loss", "g_loss"):
        np.testing.assert_allclose(out[1][0][k], out[0][0][k], rtol=1e-4)
    for a, b in zip(jax.tree_util.tree_leaves(out[1][1]), jax.tree_util.tree_leaves(out[0][1])):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_a_last_batch_that_cannot_be_split_fails_before_training():
    x = np.ones((20, 4), "float32")
    kd.set_distribution(kd.DataParallel())
    model = _guide_models(kerax)
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match="not divisible by the 8 devices"):
        model.fit(x, x[:, :1], batch_size=16, verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
