"""DataParallel on 8 simulated devices matches single-device training."""

import jax
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

import kerax
from kerax import distribution as kd
from tests.distribution.conftest import make_model


def _close(a, b, tol=1e-5):
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, atol=tol, rtol=tol)


@pytest.fixture(scope="module")
def trained(data, reference):
    x, y = data
    dist = kd.DataParallel()
    with dist.scope():
        model = make_model()
        model.set_weights(reference["w0"])
        history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
        out = {"model": model, "loss": history.history["loss"],
               "eval": model.evaluate(x, y, verbose=0, return_dict=True),
               "predict": model.predict(x, verbose=0, batch_size=16)}
    return out


def test_fit_matches_single_device(trained, reference):
    _close(trained["model"].get_weights(), reference["weights"])
    np.testing.assert_allclose(trained["loss"], reference["loss"], rtol=1e-5)


def test_evaluate_and_predict_match(trained, reference):
    for name, value in reference["eval"].items():
        np.testing.assert_allclose(trained["eval"][name], value, rtol=1e-5)
    np.testing.assert_allclose(trained["predict"], reference["predict"], atol=1e-5)


def test_params_and_optimizer_state_replicated_on_all_devices(trained):
    model = trained["model"]
    leaves = jax.tree_util.tree_leaves(
        (model.variables["params"], model.optimizer.state))
    for leaf in leaves:
        assert leaf.sharding.is_fully_replicated
        assert len(leaf.sharding.device_set) == 8


def test_index_plan_is_sharded_on_the_batch_axis():
    from kerax.distribution import placement

    with kd.DataParallel().scope():
        idx, mask = placement.place_plan(np.zeros((2, 16), np.int32), np.ones((2, 16), bool),
                                         16)
    assert idx.sharding.spec == P(None, "batch") and mask.sharding.spec == P(None, "batch")
    assert idx.addressable_shards[0].data.shape == (2, 2)


def test_stream_fit_matches_single_device(data, reference):
    x, y = data

    def batches():
        for i in range(0, len(x), 16):
            yield x[i:i + 16], y[i:i + 16]

    class Source:
        def __iter__(self):
            return batches()

    with kd.DataParallel().scope():
        model = make_model()
        model.set_weights(reference["w0"])
        model.fit(Source(), epochs=3, verbose=0)
        predicted = model.predict(Source(), verbose=0)
    _close(model.get_weights(), reference["weights"])
    np.testing.assert_allclose(predicted, reference["predict"], atol=1e-5)


def test_batch_size_not_divisible_by_data_axis_raises(data):
    x, y = data
    with kd.DataParallel().scope():
        model = make_model()
        with pytest.raises(ValueError, match=r"batch size 12 is not divisible by the 8 "
                                             r"devices of the 'batch' mesh axis"):
            model.fit(x, y, batch_size=12, epochs=1, verbose=0)


def test_train_on_batch_under_data_parallel(data, reference):
    x, y = data
    single = make_model(optimizer="sgd")
    single.set_weights(reference["w0"])
    expected = single.train_on_batch(x[:16], y[:16])
    with kd.DataParallel().scope():
        model = make_model(optimizer="sgd")
        model.set_weights(reference["w0"])
        loss = model.train_on_batch(x[:16], y[:16])
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    _close(model.get_weights(), single.get_weights())


def test_memory_report_reads_the_compiled_step(data):
    x, y = data
    with kd.DataParallel().scope():
        report = kd.memory_report(make_model(), x, y, batch_size=16)
    assert report["params"] == (16 * 32 + 32 + 32 * 8 + 8) * 4
    assert report["optimizer_state"] > 2 * report["params"]  # adam: two slots per param
    assert report["total"] > 0 and report["arguments"] > 0
