"""RandAugment and AugMix on Keras' dict input (bounding boxes, segmentation masks) and
their variables against Keras 3: seeded calls equal Keras', in `jit` without retracing;
the sub-layers' seed states are listed as Keras lists them; weight files go both ways."""

import zipfile

import chex
import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
import kerax.layers as kl
from kerax.layers import seed_state
from tests.layers.test_image_aug import _close, _copy
from tests.layers.test_rand_augment import _keras_chains

RNG = np.random.default_rng(2)
IMAGES = RNG.uniform(0, 255, (2, 9, 7, 3)).astype("float32")
MASKS = RNG.integers(0, 4, (2, 9, 7, 1)).astype("int32")
XYXY = np.array([[[1, 1, 4, 5], [2, 0, 6, 8], [0, 0, 0, 0]]] * 2, "float32")
BOX_LABELS = np.array([[1, 2, -1]] * 2, "int32")


def _data(keras, fmt, channels_first=False):
    boxes = np.asarray(keras.utils.bounding_boxes.convert_format(XYXY, "xyxy", fmt,
                                                                 height=9, width=7))
    data = {"images": IMAGES, "labels": np.arange(2, dtype="float32"),
            "segmentation_masks": MASKS, "bounding_boxes": {"boxes": boxes,
                                                            "labels": BOX_LABELS}}
    if channels_first:
        data["images"] = np.moveaxis(IMAGES, -1, 1)
        data["segmentation_masks"] = np.moveaxis(MASKS, -1, 1)
    return data


def _keras_in_xyxy(keras, layer, data, fmt):
    """Keras' call on the boxes converted to "xyxy" (Keras 3.15's RandomRotation reads
    boxes as "xyxy" whatever the format; kerax converts them), converted back."""
    convert = keras.utils.bounding_boxes.convert_format
    data = _copy(data)
    data["bounding_boxes"]["boxes"] = np.asarray(
        convert(data["bounding_boxes"]["boxes"], fmt, "xyxy", height=9, width=7))
    out = layer(data)
    out["bounding_boxes"]["boxes"] = np.asarray(
        convert(out["bounding_boxes"]["boxes"], "xyxy", fmt, height=9, width=7))
    return out


# Picks of the two calls: seed 7 [rotation, equalization, translation] then [shear,
# rotation, sharpness] (the boxes move translation then rotation, as Keras moves them);
# seed 1 [contrast, shear, sharpness] then posterization thrice; seed 2 [solarization,
# translation] then [colour degeneration, sharpness].
CASES = [("xyxy", dict(seed=7, num_ops=3)), ("rel_xyxy", dict(seed=7, num_ops=3)),
         ("center_yxhw", dict(seed=1, num_ops=3)),
         ("xyxy", dict(seed=2, data_format="channels_first", interpolation="nearest"))]


@pytest.mark.parametrize("fmt,kwargs", CASES, ids=[f"{f}-{k['seed']}" for f, k in CASES])
def test_rand_augment_boxes_and_masks_as_keras(keras, fmt, kwargs):
    data = _data(keras, fmt, kwargs.get("data_format") == "channels_first")
    ours = kl.RandAugment(bounding_box_format=fmt, name="ra", **kwargs)
    theirs = keras.layers.RandAugment(bounding_box_format="xyxy" if fmt != "xyxy" else fmt,
                                      name="ra", **kwargs)
    moved = False
    for _ in range(2):  # the second call draws from the advanced seed state
        got = ours(data)
        _close(got, _keras_in_xyxy(keras, theirs, data, fmt))
        moved |= not np.allclose(got["bounding_boxes"]["boxes"],
                                 data["bounding_boxes"]["boxes"])
    assert moved
    single = {"images": data["images"][0], "segmentation_masks": data["segmentation_masks"][0],
              "bounding_boxes": {k: v[0] for k, v in data["bounding_boxes"].items()}}
    _close(ours(single), _keras_in_xyxy(keras, theirs, single, fmt))
    assert np.asarray(ours.generator.state).tolist() == np.asarray(
        theirs.generator.state.value).tolist()
    config = ours.get_config()
    assert config == {**theirs.get_config(), "bounding_box_format": fmt}
    assert kl.RandAugment.from_config(config).get_config() == config
    out = ours(data, training=False)  # inference: everything as it is
    _close(out["bounding_boxes"], data["bounding_boxes"])
    _close(out["segmentation_masks"], data["segmentation_masks"])


def test_rand_augment_boxes_move_once_per_picked_operation(keras):
    """Keras 3.15 moves the boxes by each geometric operation picked, once, in the order
    of its operations (the images go through the picks in turn)."""
    draws = seed_state.Draws(None, {"generator": jnp.array([4, 0], jnp.uint32)}, None)
    ours = kl.RandAugment(num_ops=3, bounding_box_format="xyxy", seed=4)
    theirs = keras.layers.RandAugment(num_ops=3, bounding_box_format="xyxy", seed=4)
    t = ours.get_random_transformation(jnp.asarray(IMAGES), True, draws)
    kt = theirs.get_random_transformation(IMAGES)  # the same draws (seed 4)
    boxes = {"boxes": jnp.asarray(XYXY), "labels": jnp.asarray(BOX_LABELS)}
    for picks in ([1, 1, 1], [2, 5, 1], [0, 2, 0], [4, 5, 6]):
        picks = jnp.asarray(picks, "int32")
        got = ours.transform_bounding_boxes(dict(boxes), {**t, "layer_idxes": picks})
        _close(got, theirs.transform_bounding_boxes(dict(boxes), {**kt, "layer_idxes": picks}))
        assert np.allclose(got["boxes"], XYXY) == (picks.tolist() == [4, 5, 6])


@pytest.mark.parametrize("name", ["RandAugment",
                                  pytest.param("AugMix", marks=pytest.mark.slow)])
def test_dict_input_in_jit_traces_once(keras, name):
    """`apply` on the dict inside `jit`: from the seed state (no `rng`) it returns Keras'
    output; new keys, seed states and data do not retrace."""
    chex.clear_trace_counter()  # the counters are per function body, across parameters
    kwargs = dict(seed=7, bounding_box_format="xyxy")
    ours = getattr(kl, name)(**kwargs, num_ops=3) if name == "RandAugment" else \
        getattr(kl, name)(**kwargs, num_chains=2, chain_depth=1, all_ops=False)
    data = _data(keras, "xyxy")
    variables = ours.init(jax.random.PRNGKey(0), data)

    @jax.jit
    @chex.assert_max_traces(n=1)
    def seeded(v, x):
        return ours.apply(v, x, training=True)

    @jax.jit
    @chex.assert_max_traces(n=1)
    def keyed(v, x, key):
        return ours.apply(v, x, training=True, rng=key)

    got, state = seeded(variables, data)
    again, _ = seeded({**variables, "state": state}, data)
    assert not np.allclose(got["images"], again["images"])
    if name == "RandAugment":
        theirs = keras.layers.RandAugment(**kwargs, num_ops=3)
        _close(got, theirs(_copy(data)))
        _close(again, theirs(_copy(data)))
    else:  # Keras picks AugMix's operations with Python's `random`: the eager call
        _close(got, getattr(kl, name).from_config(ours.get_config())(data))
    first, _ = keyed(variables, data, jax.random.PRNGKey(1))
    second, _ = keyed(variables, _copy(data), jax.random.PRNGKey(2))
    assert not np.allclose(first["images"], second["images"])
    for out in (first, second):
        assert out["segmentation_masks"].dtype == (
            np.int32 if name == "RandAugment" else np.float32)


@pytest.mark.parametrize("kwargs", [dict(seed=1), dict(seed=3, all_ops=False, num_chains=2)],
                         ids=["all_ops", "basic"])
def test_aug_mix_masks_and_boxes_as_keras(keras, kwargs):
    """Masks are blended as Keras blends them (given the same picks and draws: Keras
    picks with Python's `random`); boxes and labels come back as Keras returns them."""
    ours = kl.AugMix(bounding_box_format="xyxy", **kwargs)
    theirs = keras.layers.AugMix(bounding_box_format="xyxy", **kwargs)
    draws = seed_state.Draws(None, {"generator": jnp.array([kwargs["seed"], 0], jnp.uint32)},
                             None)
    t = ours.get_random_transformation(jnp.asarray(IMAGES), True, draws)
    kt = {**theirs.get_random_transformation(IMAGES), "chain_transforms": _keras_chains(ours, t)}
    for masks in (MASKS, MASKS.astype("float32")):
        _close(ours.transform_segmentation_masks(jnp.asarray(masks), t),
               theirs.transform_segmentation_masks(jnp.asarray(masks), kt))
    data = _data(keras, "xyxy")
    got, want = ours(data), theirs(_copy(data))
    _close(got["bounding_boxes"], want["bounding_boxes"])
    _close(got["labels"], want["labels"])
    assert got["segmentation_masks"].dtype == want["segmentation_masks"].dtype
    # the eager call blends the masks with the draws it blends the images with
    layer = kl.AugMix(bounding_box_format="xyxy", **kwargs)
    _close(layer(data)["segmentation_masks"],
           layer.transform_segmentation_masks(jnp.asarray(MASKS), t))


SUBLAYERS = ("random_shear", "random_translation", "random_rotation", "random_brightness",
             "random_color_degeneration", "random_contrast", "random_sharpness",
             "solarization", "random_posterization", "auto_contrast", "equalization")


def _variables(layer):
    return [(v.path, tuple(v.shape), str(v.dtype), np.asarray(v).tolist())
            for v in layer.non_trainable_variables]


@pytest.mark.parametrize("name,kwargs", [("RandAugment", {}), ("AugMix", {}),
                                         ("AugMix", dict(all_ops=False))],
                         ids=["RandAugment", "AugMix", "AugMix-basic"])
def test_variables_as_keras(keras, name, kwargs):
    """The layer's seed state, then its sub-layers' in Keras' order of creation (ten for
    RandAugment and AugMix, six for AugMix(all_ops=False)); no weights. The sub-layers'
    states stay at their seed: the layer draws from its own generator."""
    listed = []
    for lib in (keras, kerax):
        lib.utils.clear_session(free_memory=False)
        layer = getattr(lib.layers, name)(seed=5, **kwargs)
        layer(IMAGES)
        model = lib.Sequential([lib.Input((9, 7, 3)), getattr(lib.layers, name)(seed=6)])
        variables = _variables(layer)
        if name == "AugMix":  # Keras draws for the operations Python's `random` picks
            variables[0] = variables[0][:3] + (variables[0][3][0],)
        listed.append((variables, [v.path for v in model.non_trainable_variables],
                       len(layer.weights), layer.trainable_variables,
                       [getattr(layer, n).name for n in SUBLAYERS if hasattr(layer, n)]))
    assert listed[1] == listed[0]
    assert len(listed[0][0]) == (6 if kwargs else 10)


def _h5_names(path):
    names = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: names.append(n))
    return sorted(names)


@pytest.mark.parametrize("fmt", ["weights.h5", "keras"])
@pytest.mark.parametrize("name", ["RandAugment", "AugMix"])
def test_weight_files_both_ways(keras, tmp_path, name, fmt):
    """Files written by Keras load in kerax and the other way round; both write the same
    groups (one per sub-layer, no seed states) and the loaded model predicts the same."""
    libs = {"keras": keras, "kerax": kerax}

    def model(lib):
        return lib.Sequential([lib.Input((9, 7, 3)), getattr(lib.layers, name)(seed=3),
                               lib.layers.Flatten(), lib.layers.Dense(2)])

    layouts = []
    for src, dst in (("keras", "kerax"), ("kerax", "keras")):
        a = model(libs[src])
        a.set_weights([np.random.default_rng(i).random(w.shape).astype("float32")
                       for i, w in enumerate(a.get_weights())])
        path = tmp_path / f"{src}.{fmt}"
        if fmt == "keras":
            a.save(str(path))
            b = libs[dst].models.load_model(str(path))
            with zipfile.ZipFile(path) as z:
                z.extract("model.weights.h5", tmp_path / src)
            layouts.append(_h5_names(tmp_path / src / "model.weights.h5"))
        else:
            a.save_weights(str(path))
            b = model(libs[dst])
            b.load_weights(str(path))
            layouts.append(_h5_names(path))
        np.testing.assert_allclose(np.asarray(b.predict(IMAGES, verbose=0)),
                                   np.asarray(a.predict(IMAGES, verbose=0)), rtol=1e-5)
        assert [np.asarray(v).tolist() for v in b.non_trainable_variables] == [[3, 0]] * 10
    assert layouts[0] == layouts[1]
    assert f"layers/{'rand_augment' if name == 'RandAugment' else 'aug_mix'}/random_shear" \
        in layouts[0]


@pytest.mark.parametrize("layer", [kl.RandAugment(), kl.AugMix()], ids=["RandAugment",
                                                                        "AugMix"])
def test_boxes_need_a_format(layer):
    with pytest.raises(ValueError, match=r"you didn't specify a bounding box format"):
        layer({"images": IMAGES, "bounding_boxes": {"boxes": XYXY, "labels": BOX_LABELS}})
