"""How streamed batches become executions: "auto" K from the step's cost within the
stream's bounds, and full batches stacked in one copy (the same values as the padded
path, in the first batch's dtype)."""

import jax
import numpy as np

import kerax
from kerax.trainer import steps_per_execution as spe
from kerax.trainer.data_adapters import stream_data_adapter as sda
from kerax.trainer.data_adapters.stream_data_adapter import StreamDataAdapter


class Batches(kerax.utils.PyDataset):
    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.y, self.b = x, y, batch_size

    def __len__(self):
        return -(-len(self.x) // self.b)

    def __getitem__(self, i):
        s = slice(i * self.b, (i + 1) * self.b)
        return self.x[s], self.y[s]


def _model(features):
    m = kerax.Sequential([kerax.Input((features,)), kerax.layers.Dense(3)])
    m.compile("sgd", "mse")
    return m


def _adapter(n, features, batch):
    x = np.ones((n, features), "float32")
    y = np.zeros((n, 3), "float32")
    return StreamDataAdapter(Batches(x, y, batch))


def test_auto_k_of_a_cheap_stream_is_many_steps():
    adapter = _adapter(4096, 4, 8)
    k = spe._stream_auto(_model(4), adapter, "train")
    assert spe._DEFAULT_STREAM_K < k <= spe._MAX_STREAM_K


def test_auto_k_of_large_batches_keeps_the_default(monkeypatch):
    monkeypatch.setattr(spe, "_STREAM_BUFFER_BYTES", 1024)  # two batches at most
    adapter = _adapter(512, 4, 16)
    assert spe._stream_auto(_model(4), adapter, "train") == spe._DEFAULT_STREAM_K


def test_full_batches_stack_like_the_padded_path():
    rng = np.random.default_rng(0)
    chunk = [(rng.standard_normal((4, 2)).astype("float32"), np.arange(4, dtype="int32") + i, None)
             for i in range(3)]
    chunk[1] = (chunk[1][0], chunk[1][1].astype("int16"), None)  # cast to the first's
    adapter = StreamDataAdapter(iter([]))
    (x, y, sw), mask, real = adapter._stack(chunk, 3)
    assert real == 3 and sw is None and np.asarray(mask).all()
    assert y.dtype == chunk[0][1].dtype
    np.testing.assert_array_equal(x, np.stack([c[0] for c in chunk]))
    np.testing.assert_array_equal(y, np.stack([c[1] for c in chunk]).astype(y.dtype))
    # One short batch: the padded path, whose real rows hold the same values.
    short = chunk[:2] + [(chunk[2][0][:3], chunk[2][1][:3], None)]
    (px, py, _), pmask, _ = StreamDataAdapter(iter([]))._stack(short, 3)
    np.testing.assert_array_equal(np.asarray(pmask).sum(1), [4, 4, 3])
    np.testing.assert_array_equal(px[:2], x[:2])
    np.testing.assert_array_equal(px[2, :3], x[2, :3])


def test_full_batches_of_different_feature_shapes_take_the_padded_path():
    chunk = [(np.ones((2, 3), "float32"), None, None), (np.ones((2, 4), "float32"), None, None)]
    try:
        StreamDataAdapter(iter([]))._stack(chunk, 2)
    except ValueError as e:  # numpy's broadcast error, as before the one-copy path
        assert "broadcast" in str(e)
    else:
        raise AssertionError("batches of different feature shapes were stacked")


def test_plain_pairs_stack_like_the_general_path_into_the_device_array_itself():
    rng = np.random.default_rng(1)
    chunk = [(rng.standard_normal((4, 2)).astype("float32"), np.arange(4) + i) for i in range(3)]
    adapter = StreamDataAdapter(iter([]))
    (x, y, sw), mask, real = adapter._stack_pairs(chunk, 3)
    (gx, gy, gsw), gmask, greal = StreamDataAdapter(iter([]))._stack(
        adapter._unpack_all(chunk), 3)
    assert (real, sw, gsw) == (greal, None, None)
    np.testing.assert_array_equal(np.asarray(mask), np.asarray(gmask))
    for a, b in ((x, gx), (y, gy)):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
        # the host buffer itself goes to the compiled execution (no device_put per execution)
        assert type(a) is np.ndarray and a.ctypes.data % 64 == 0
    host = sda._stack_full(*[c[0] for c in chunk])
    if jax.devices()[0].platform == "cpu":  # the stacked host buffer is used in place
        assert jax.device_put(host).unsafe_buffer_pointer() == host.ctypes.data


def test_other_chunks_take_the_general_path():
    a = np.ones((4, 2), "float32")
    adapter = StreamDataAdapter(iter([]))
    for chunk in ([(a, a[:, 0])] * 2 + [(a[:3], a[:3, 0])],  # a short batch
                  [({"x": a}, a)] * 3,  # a dict of inputs
                  [(a, a[:, 0], a[:, 0])] * 3,  # sample weights
                  [a] * 3):  # x alone
        assert adapter._stack_pairs(chunk, 3) is None
    assert adapter._stack_pairs([(a, a)] * 2, 3) is None  # fewer than k batches
