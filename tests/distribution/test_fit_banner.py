"""`fit` on several devices prints one line (when verbose): the distribution, the devices,
the mesh, and the global and per-device batch; nothing with verbose=0 or on one device."""

import numpy as np

from kerax import distribution as kd
from kerax.distribution.fit_banner import fit_banner
from tests.distribution.conftest import make_model


def _fit_output(capsys, dist, verbose):
    x, y = np.ones((32, 16), "float32"), np.ones((32, 8), "float32")
    with dist.scope():
        make_model().fit(x, y, batch_size=16, epochs=1, verbose=verbose)
    return capsys.readouterr().out.splitlines()


def test_data_parallel_banner(capsys):
    lines = _fit_output(capsys, kd.DataParallel(), verbose=1)
    assert lines[0] == ("DataParallel on 8 cpu devices, mesh {'batch': 8}; global batch 16, "
                        "2 per device (split over 'batch')")
    assert lines[1].startswith("2/2 ")


def test_model_parallel_banner(capsys):
    mesh = kd.DeviceMesh((2, 4), ("batch", "model"))
    dist = kd.ModelParallel(layout_map=kd.LayoutMap(mesh), batch_dim_name="batch")
    lines = _fit_output(capsys, dist, verbose=2)
    assert lines[0] == ("ModelParallel on 8 cpu devices, mesh {'batch': 2, 'model': 4}; global "
                        "batch 16, 8 per device (split over 'batch')")


def test_silent_when_not_verbose(capsys):
    assert _fit_output(capsys, kd.DataParallel(), verbose=0) == []


def test_none_on_one_device():
    one = kd.DataParallel(devices=kd.list_devices()[:1])
    assert fit_banner(16, one) is None
    assert fit_banner(16, None) is None  # no distribution set (the fixture unsets it)
