"""Keras 3's distribution API objects and their errors."""

import jax
import jax.numpy as jnp
import pytest
from jax.sharding import PartitionSpec as P

from kerax import distribution as kd


def test_list_devices_and_mesh():
    assert kd.list_devices()[:2] == ["cpu:0", "cpu:1"] and kd.get_device_count() == 8
    mesh = kd.DeviceMesh((2, 4), ("batch", "model"))
    assert mesh.backend_mesh.shape == {"batch": 2, "model": 4}


def test_axis_names_kept_as_given_like_keras(keras):
    """Keras keeps `axis_names` as passed (a list stays a list), so the guides' printed
    meshes and distributions read the same; the JAX mesh still gets a tuple."""
    for names in (["data", "model"], ("data", "model")):
        mesh = kd.DeviceMesh((2, 4), names)
        want = keras.distribution.DeviceMesh((2, 4), names, keras.distribution.list_devices())
        assert mesh.axis_names == want.axis_names and type(mesh.axis_names) is type(names)
        assert repr(mesh) == repr(want)
        assert mesh.backend_mesh.axis_names == ("data", "model")
    assert repr(kd.DataParallel()) == repr(keras.distribution.DataParallel())


@pytest.mark.parametrize("make, message", [
    (lambda: kd.DeviceMesh((), ()), r"needs a non-empty shape and axis_names"),
    (lambda: kd.DeviceMesh((8,), ("a", "b")), r"has 1 axes but axis_names \('a', 'b'\) has 2"),
    (lambda: kd.DeviceMesh((3, 2), ("a", "b")), r"needs 6 devices, but 8 were given"),
    (lambda: kd.DeviceMesh((1,), ("a",), ["cpu:99"]).backend_mesh,
     r"Device 'cpu:99' was not found"),
    (lambda: kd.TensorLayout(("x",), kd.DeviceMesh((8,), ("batch",))),
     r"name mesh axes \['x'\] that the mesh does not have"),
    (lambda: kd.TensorLayout((None,)).backend_layout, r"This TensorLayout has no device mesh"),
    (lambda: kd.DataParallel(device_mesh="mesh"), r"must be a kerax.distribution.DeviceMesh"),
    (lambda: kd.ModelParallel(layout_map={}), r"ModelParallel needs `layout_map=`"),
    (lambda: kd.ModelParallel(layout_map=kd.LayoutMap(kd.DeviceMesh((8,), ("m",))),
                              batch_dim_name="batch"), r"batch_dim_name='batch' is not an axis"),
    (lambda: kd.set_distribution("data"), r"set_distribution\(\) takes"),
    (lambda: kd.initialize("a:1,b:2", num_processes=3, process_id=0),
     r"`job_addresses` lists 2 jobs"),
])
def test_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_layout_map_rules():
    layout_map = kd.LayoutMap(kd.DeviceMesh((2, 4), ("batch", "model")))
    layout_map[".*dense.*kernel"] = (None, "model")
    layout_map[".*kernel"] = ("batch", None)
    assert layout_map[".*kernel"].axes == ("batch", None)  # an exact key wins
    with pytest.raises(ValueError, match=r"matches several LayoutMap keys"):
        layout_map["sequential/dense_1/kernel"]
    with pytest.raises(ValueError, match=r"is already in the LayoutMap"):
        layout_map[".*kernel"] = (None, None)
    with pytest.raises(ValueError, match=r"must be a TensorLayout or a tuple"):
        layout_map["bias"] = "model"
    assert layout_map["conv/bias"] is None and len(layout_map) == 2
    del layout_map[".*kernel"]
    assert layout_map["sequential/dense_1/kernel"].axes == (None, "model")


def test_scope_restores_the_previous_distribution():
    outer, inner = kd.DataParallel(), kd.DataParallel(devices=kd.list_devices()[:4])
    kd.set_distribution(outer)
    with inner.scope():
        assert kd.distribution() is inner and inner.num_model_replicas == 4
    assert kd.distribution() is outer


def test_distribute_tensor_inside_and_outside_jit():
    layout = kd.TensorLayout(("batch", None), kd.DeviceMesh((8,), ("batch",)))
    x = kd.distribute_tensor(jnp.ones((8, 2)), layout)
    assert x.sharding.spec == P("batch", None)
    y = jax.jit(lambda a: kd.distribute_tensor(a * 2, layout))(jnp.ones((8, 2)))
    assert y.sharding.is_equivalent_to(layout.backend_layout, 2)
