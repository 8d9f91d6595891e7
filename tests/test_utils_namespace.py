"""kerax.utils / kerax.backend / top-level helpers against Keras 3 on the same inputs."""

import io
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax

PIL = pytest.importorskip("PIL.Image")


# ------------------------------------------------------------------ re-exports --
@pytest.mark.parametrize("name", [
    "register_keras_serializable", "get_custom_objects", "custom_object_scope",
    "CustomObjectScope", "serialize_keras_object", "deserialize_keras_object",
    "get_registered_name", "get_registered_object",
])
def test_utils_reexports_saving_objects(name):
    assert getattr(kerax.utils, name) is getattr(kerax.saving, name)


def test_utils_and_backend_share_objects():
    assert kerax.utils.clear_session is kerax.backend.clear_session
    assert kerax.utils.is_keras_tensor is kerax.backend.is_keras_tensor
    assert kerax.utils.standardize_dtype is kerax.backend.standardize_dtype
    assert kerax.utils.disable_interactive_logging is kerax.config.disable_interactive_logging


def test_interactive_logging_is_one_switch(capsys):
    from kerax.utils import io_utils

    kerax.config.disable_interactive_logging()
    try:
        assert not kerax.utils.is_interactive_logging_enabled()
        io_utils.print_msg("hidden")  # goes to `logging`, as in Keras
        assert capsys.readouterr().out == ""
    finally:
        kerax.utils.enable_interactive_logging()
    io_utils.print_msg("shown")
    assert capsys.readouterr().out == "shown\n"


# ---------------------------------------------------------------------- dtypes --
DTYPES = ["bool", "uint8", "uint16", "uint32", "int8", "int16", "int32", "int64",
          "bfloat16", "float16", "float32", "float64", "complex64", "float8_e4m3fn"]


def _outcome(fn, *args):
    try:
        return fn(*args)
    except ValueError:
        return "ValueError"


@pytest.mark.parametrize("dtype", [
    None, "float32", "int", np.float32, np.dtype("int64"), jnp.bfloat16, jnp.uint8,
    int, float, bool, complex, str, "float8_e5m2", np.complex128,
])
def test_standardize_dtype_matches_keras(keras, dtype):
    assert kerax.backend.standardize_dtype(dtype) == keras.backend.standardize_dtype(dtype)


def test_standardize_dtype_rejects_unknown(keras):
    with pytest.raises(ValueError, match="Invalid dtype: 'float12'. Expected one of"):
        kerax.backend.standardize_dtype("float12")
    with pytest.raises(ValueError):
        keras.backend.standardize_dtype("float12")


def test_result_type_table_matches_keras(keras):
    operands = DTYPES + [int, float]
    mismatches = []
    for a, b in itertools.product(operands, repeat=2):
        ours = _outcome(kerax.backend.result_type, a, b)
        theirs = _outcome(keras.backend.result_type, a, b)
        if ours != theirs:
            mismatches.append((a, b, ours, theirs))
    for args in [(), ("int8",), (int,), (float,), ("int8", "uint8", float)]:
        if kerax.backend.result_type(*args) != keras.backend.result_type(*args):
            mismatches.append((args, kerax.backend.result_type(*args),
                               keras.backend.result_type(*args)))
    assert not mismatches


@pytest.mark.parametrize("dtype", DTYPES + [int, float, bool, "string"])
def test_dtype_kind_tests_match_keras(keras, dtype):
    assert kerax.backend.is_float_dtype(dtype) == keras.backend.is_float_dtype(dtype)
    assert kerax.backend.is_int_dtype(dtype) == keras.backend.is_int_dtype(dtype)


# ------------------------------------------------------------ symbolic tensors --
def test_is_keras_tensor(keras):
    assert kerax.utils.is_keras_tensor(kerax.Input((3,)))
    assert keras.utils.is_keras_tensor(keras.Input((3,)))
    for value in (np.ones(3), jnp.ones(3), 1.0, None):
        assert kerax.utils.is_keras_tensor(value) is keras.utils.is_keras_tensor(value)


def _graph(lib):
    a, b, c = (lib.Input((2,), name=n) for n in ("a", "b", "c"))
    shared = lib.layers.Dense(2)
    inner_in = lib.Input((2,), name="inner_in")
    inner = lib.Model(inner_in, lib.layers.Dense(2)(inner_in))
    x = lib.layers.Add()([shared(c), shared(a)])
    y = lib.layers.Concatenate()([inner(b), x, lib.layers.Dense(2)(a)])
    return {"a": a, "x": x, "y": y, "inner": inner(a)}


@pytest.mark.parametrize("which", ["a", "x", "y", "inner"])
def test_get_source_inputs_matches_keras(keras, which):
    ours = kerax.utils.get_source_inputs(_graph(kerax)[which])
    theirs = keras.utils.get_source_inputs(_graph(keras)[which])
    assert [t.name for t in ours] == [t.name for t in theirs]
    assert all(kerax.utils.is_keras_tensor(t) for t in ours)


def test_get_source_inputs_returns_non_tensors_as_given(keras):
    x = np.ones(2)
    assert kerax.utils.get_source_inputs(x) is x
    assert keras.utils.get_source_inputs(x) is x


def test_get_source_inputs_of_a_bare_tensor():
    t = kerax.KerasTensor((None, 2))
    assert kerax.utils.get_source_inputs(t) == [t]


# --------------------------------------------------------------- clear_session --
def test_clear_session_resets_names_like_keras(keras):
    for lib in (kerax, keras):
        lib.utils.clear_session()
        names = [lib.layers.Dense(1).name for _ in range(3)]
        lib.utils.clear_session(free_memory=False)
        names.append(lib.layers.Dense(1).name)
        names.append(lib.layers.Dense(1).name)
        assert names == ["dense", "dense_1", "dense_2", "dense", "dense_1"], lib


def test_clear_session_resets_global_state_like_keras(keras):
    for lib in (kerax, keras):
        lib.config.set_dtype_policy("mixed_bfloat16")
        lib.distribution.set_distribution(lib.distribution.DataParallel())
        lib.config.disable_interactive_logging()
        lib.config.enable_unsafe_deserialization()
        lib.config.set_epsilon(1e-3)
        try:
            lib.utils.clear_session()
            assert lib.config.dtype_policy().name == "float32"
            assert lib.distribution.distribution() is None
            assert lib.config.is_interactive_logging_enabled()
            assert lib.config.epsilon() == 1e-3  # kept
        finally:
            lib.config.set_epsilon(1e-7)
    from kerax.saving.serialization_lib import in_safe_mode

    assert in_safe_mode()


def test_clear_session_inside_scopes_closes_them():
    # (Keras 3.15 fails when a RematScope exits after clear_session; kerax exits cleanly.)
    from kerax.backend.name_scope import current_path
    from kerax.backend.remat import get_current_remat_mode

    with kerax.name_scope("outer"), kerax.RematScope("full"):
        kerax.utils.clear_session()
        assert current_path() == "" and get_current_remat_mode() is None
    assert current_path() == "" and get_current_remat_mode() is None


def test_clear_session_keeps_the_seeded_stream_reproducible():
    def run():
        kerax.utils.set_random_seed(5)
        first = kerax.random.normal((3,))
        kerax.utils.clear_session()
        return first, kerax.random.normal((3,))

    (a1, b1), (a2, b2) = run(), run()
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(b1, b2)
    assert not np.array_equal(a1, b1)  # new numbers after clear_session, as in Keras


# ---------------------------------------------------------------------- Config --
def test_config_behaves_like_keras(keras):
    def use(lib):
        c = lib.utils.Config(b=1, a=2)
        c.lr = 0.1
        c["seed"] = 3
        out = [list(c), c.to_json(), c.as_dict(), len(c), "lr" in c, c.get("nope", 7),
               c.lr, c["a"], c.pop("b"), repr(c)]
        c.update(z=1)
        del c["z"]
        c.freeze()
        out.append(c.frozen)
        for change in (lambda: setattr(c, "x", 1), lambda: c.__setitem__("x", 1),
                       lambda: c.pop("a"), lambda: c.update(a=1),
                       lambda: c.__delitem__("a")):
            with pytest.raises(ValueError):
                change()
        c.unfreeze()
        c.x = 1
        out.append(c.as_dict())
        return out

    assert use(kerax) == use(keras)


def test_config_errors():
    c = kerax.utils.Config(learning_rate=0.1)
    with pytest.raises(AttributeError, match="Unknown attribute: 'learning_rat'. Did you mean "
                                             "'learning_rate'"):
        c.learning_rat
    c.freeze()
    with pytest.raises(ValueError, match=r"Cannot set 'momentum': this Config is frozen\. "
                                         r"Call `config.unfreeze\(\)`"):
        c.momentum = 0.9


# ---------------------------------------------------------------- image utils --
@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Small PNG files written with Pillow: RGB, RGBA, 8-bit and 16-bit grayscale."""
    rng = np.random.default_rng(0)
    root = tmp_path_factory.mktemp("img")
    paths = {}
    for name, mode, shape, dtype in [("rgb", "RGB", (7, 10, 3), np.uint8),
                                     ("rgba", "RGBA", (6, 5, 4), np.uint8),
                                     ("gray", "L", (8, 9), np.uint8),
                                     ("gray16", "I;16", (5, 6), np.uint16)]:
        arr = rng.integers(0, 255 if dtype == np.uint8 else 60000, shape).astype(dtype)
        paths[name] = str(root / f"{name}.png")
        img = PIL.fromarray(arr)
        assert img.mode == mode
        img.save(paths[name])
    return paths


LOAD_CASES = [
    ("rgb", {}),
    ("rgb", {"color_mode": "grayscale"}),
    ("rgb", {"color_mode": "rgba"}),
    ("rgba", {"color_mode": "rgb"}),
    ("gray", {}),
    ("gray16", {"color_mode": "grayscale"}),
    ("rgb", {"target_size": (4, 6)}),
    ("rgb", {"target_size": (7, 10)}),
    ("rgb", {"target_size": (5, 5), "interpolation": "bilinear"}),
    ("rgb", {"target_size": (9, 4), "interpolation": "bicubic", "keep_aspect_ratio": True}),
    ("rgb", {"target_size": (3, 8), "interpolation": "lanczos", "keep_aspect_ratio": True}),
    ("rgba", {"target_size": (4, 4), "interpolation": "box", "color_mode": "rgba"}),
    ("gray", {"target_size": (6, 3), "interpolation": "hamming", "keep_aspect_ratio": True}),
]


@pytest.mark.parametrize("name,kwargs", LOAD_CASES)
def test_load_img_and_img_to_array_match_keras(keras, images, name, kwargs):
    ours, theirs = kerax.utils.load_img(images[name], **kwargs), keras.utils.load_img(
        images[name], **kwargs)
    assert (ours.mode, ours.size) == (theirs.mode, theirs.size)
    for data_format in ("channels_last", "channels_first"):
        a = kerax.utils.img_to_array(ours, data_format=data_format)
        b = keras.utils.img_to_array(theirs, data_format=data_format)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_load_img_accepts_pathlib_bytes_and_bytesio(images):
    import pathlib

    expected = np.asarray(kerax.utils.load_img(images["rgb"]))
    with open(images["rgb"], "rb") as f:
        buffer = io.BytesIO(f.read())
    for path in (pathlib.Path(images["rgb"]), images["rgb"].encode(), buffer):
        np.testing.assert_array_equal(np.asarray(kerax.utils.load_img(path)), expected)


@pytest.mark.parametrize("shape,kwargs", [
    ((4, 5, 3), {}),
    ((4, 5, 4), {}),
    ((4, 5, 1), {}),
    ((4, 5, 1), {"scale": False}),  # values above 255: a 32-bit "I" image
    ((3, 4, 5), {"data_format": "channels_first"}),
    ((4, 5, 3), {"dtype": "float64"}),
    ((4, 5, 3), {"scale": False}),
])
def test_array_to_img_matches_keras(keras, shape, kwargs):
    x = np.random.default_rng(1).uniform(0, 400, shape)
    ours, theirs = kerax.utils.array_to_img(x, **kwargs), keras.utils.array_to_img(x, **kwargs)
    assert (ours.mode, ours.size) == (theirs.mode, theirs.size)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_array_to_img_of_a_constant_image(keras):
    x = np.full((2, 3, 3), 7.0)
    np.testing.assert_array_equal(np.asarray(kerax.utils.array_to_img(x)),
                                  np.asarray(keras.utils.array_to_img(x)))


@pytest.mark.parametrize("suffix,shape", [("png", (4, 5, 3)), ("jpg", (4, 5, 3)),
                                          ("png", (4, 5, 1)), ("bmp", (4, 5, 3))])
def test_save_img_writes_what_keras_writes(keras, tmp_path, suffix, shape):
    x = np.random.default_rng(2).uniform(0, 1, shape)
    kerax.utils.save_img(str(tmp_path / f"ours.{suffix}"), x)
    keras.utils.save_img(str(tmp_path / f"theirs.{suffix}"), x)
    assert (tmp_path / f"ours.{suffix}").read_bytes() == (tmp_path / f"theirs.{suffix}").read_bytes()


def test_save_img_rgba_as_jpeg_warns_and_drops_alpha(tmp_path):
    path = tmp_path / "a.jpeg"
    with pytest.warns(UserWarning, match="JPEG cannot store an alpha channel"):
        kerax.utils.save_img(path, np.ones((2, 2, 4)))
    assert kerax.utils.load_img(path, color_mode="rgba").size == (2, 2)


def test_save_img_to_a_file_object_and_back():
    x = np.random.default_rng(3).integers(0, 256, (3, 4, 3)).astype("float32")
    buffer = io.BytesIO()
    kerax.utils.save_img(buffer, x, file_format="png", scale=False)
    buffer.seek(0)
    np.testing.assert_array_equal(kerax.utils.img_to_array(kerax.utils.load_img(buffer)), x)


def test_image_util_errors(images):
    with pytest.raises(ValueError, match=r"expects one image of rank 3 .* shape \(2, 4, 5, 3\)"):
        kerax.utils.array_to_img(np.ones((2, 4, 5, 3)))
    with pytest.raises(ValueError, match=r"supports 1, 3 or 4 channels.*\(2 channels"):
        kerax.utils.array_to_img(np.ones((4, 5, 2)))
    with pytest.raises(ValueError, match=r"img_to_array\(\) expects .* rank 2 or 3. Received "
                                         r"shape \(1, 2, 2, 3\)"):
        kerax.utils.img_to_array(np.ones((1, 2, 2, 3)))
    with pytest.raises(ValueError, match="Unknown color_mode identifier: 'greyscale'. Did you "
                                         "mean: 'grayscale'"):
        kerax.utils.load_img(images["rgb"], color_mode="greyscale")
    with pytest.raises(ValueError, match="Unknown interpolation identifier: 'bilinar'. Did you "
                                         "mean: 'bilinear'"):
        kerax.utils.load_img(images["rgb"], target_size=(2, 2), interpolation="bilinar")
    with pytest.raises(TypeError, match="`path` must be a path .* Received: 3 of type int"):
        kerax.utils.load_img(3)
    with pytest.raises(ValueError, match="data_format"):
        kerax.utils.img_to_array(np.ones((2, 2)), data_format="channels_middle")


def test_missing_pillow_error_names_the_fix(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"load_img\(\) needs Pillow.*pip install pillow"):
        kerax.utils.load_img("x.png")


# ------------------------------------------------------------------ name_scope --
def test_name_scope_path_and_deduplication():
    from kerax.backend.name_scope import current_path

    owner = object()
    with kerax.name_scope("encoder", caller=owner) as outer:
        assert outer.name == "encoder"
        with kerax.name_scope("encoder", caller=owner):  # same caller and name: no new level
            assert current_path() == "encoder"
        with kerax.name_scope("encoder"):  # no caller: a new level
            assert current_path() == "encoder/encoder"
        with kerax.name_scope("block", override_parent="model/stage1"):
            assert current_path() == "model/stage1/block"
        assert current_path() == "encoder"
    assert current_path() == ""


def test_name_scope_names_traced_operations():
    def f(x):
        with kerax.name_scope("my_block"):
            return jnp.sin(x) * 2

    text = jax.jit(f).lower(jnp.ones(2)).as_text(debug_info=True)
    assert "my_block" in text


@pytest.mark.parametrize("name", ["a/b", 3])
def test_name_scope_rejects_bad_names(keras, name):
    with pytest.raises(ValueError, match=r"`name` must be a string without '/'. Received: "):
        kerax.name_scope(name)
    with pytest.raises(ValueError):
        keras.name_scope(name)


# ---------------------------------------------------------------------- device --
def test_device_places_arrays():
    cpu = jax.devices("cpu")[0]
    for name in ("cpu:0", "CPU", cpu):
        with kerax.device(name):
            x = jnp.ones((2,)) + 1
        assert x.devices() == {cpu}


@pytest.mark.parametrize("name,match", [
    ("cpu:99", r"no device 'cpu:99' is present. Available devices: \['cpu:0'"),
    ("warp:0", r"no device 'warp:0' is present"),
    ("cpu:first", r"the index in 'cpu:first' must be an integer"),
    (3, r"takes a string like 'cpu:0' .* Received: device_name=3 of type int"),
])
def test_device_errors(name, match):
    with pytest.raises(ValueError, match=match):
        kerax.device(name)


# ----------------------------------------------------------------------- remat --
def test_remat_keeps_values_and_gradients_like_keras(keras):
    def f(x):
        return jnp.sum(jnp.tanh(x) * jnp.sin(x) ** 2)

    x = jnp.linspace(-1.0, 1.0, 5)
    g = jax.grad(kerax.remat(f))(x)
    np.testing.assert_allclose(g, jax.grad(f)(x), rtol=1e-6)
    np.testing.assert_allclose(g, jax.grad(keras.remat(f))(x), rtol=1e-6)
    assert "remat" in str(jax.make_jaxpr(kerax.remat(f))(x))  # a jax.checkpoint region
    assert "remat" not in str(jax.make_jaxpr(f)(x))


def test_remat_rejects_non_callables():
    with pytest.raises(TypeError, match=r"remat\(\) takes a callable .* Received: 3 of type int"):
        kerax.remat(3)


def test_remat_scope_records_modes():
    from kerax.backend.remat import get_current_remat_mode

    assert get_current_remat_mode() is None
    with kerax.RematScope(mode="list_of_layers", layer_names=["dense"]):
        assert get_current_remat_mode() == ("list_of_layers", 1024, ["dense"])
        with kerax.RematScope(mode=None):
            assert get_current_remat_mode().mode is None
        assert get_current_remat_mode().mode == "list_of_layers"
    assert get_current_remat_mode() is None


def test_remat_scope_rejects_unknown_modes(keras):
    with pytest.raises(ValueError, match="RematScope: unknown mode 'ful'. Expected one of 'full'"):
        kerax.RematScope(mode="ful")
    with pytest.raises(ValueError):
        keras.RematScope(mode="ful")


def test_result_type_refuses_float8_like_keras():
    with pytest.raises(ValueError, match=r"float8 dtypes do not promote implicitly. Received: "
                                         r"\('float8_e5m2',\). Cast"):
        kerax.backend.result_type("float8_e5m2")
