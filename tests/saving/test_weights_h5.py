"""`.weights.h5` files in Keras 3's layout, both ways, with shape checks before reading."""

import numpy as np
import pytest

import kerax

X = np.random.default_rng(0).random((6, 5)).astype("float32")


def _seq(lib):
    return lib.Sequential([lib.Input((5,)), lib.layers.Dense(4, activation="relu"),
                           lib.layers.BatchNormalization(), lib.layers.Dense(3)])


@pytest.mark.parametrize("src", ["keras", "kerax"])
def test_sequential_weights_both_ways(keras, tmp_path, src):
    libs = {"keras": keras, "kerax": kerax}
    dst = "kerax" if src == "keras" else "keras"
    a, b = _seq(libs[src]), _seq(libs[dst])
    a.set_weights([np.random.default_rng(i).random(w.shape).astype("float32")
                   for i, w in enumerate(a.get_weights())])
    path = str(tmp_path / "seq.weights.h5")
    a.save_weights(path)
    b.load_weights(path)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(np.asarray(a(X)), np.asarray(b(X)))


def _random_layers(lib):
    return lib.Sequential([lib.Input((3, 5)), lib.layers.LSTM(4, dropout=0.2, seed=3,
                                                             return_sequences=True),
                           lib.layers.Dropout(0.5, seed=1), lib.layers.GaussianNoise(0.1),
                           lib.layers.Flatten(), lib.layers.Dense(2)])


def _h5_datasets(path):
    import h5py

    names = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    return sorted(names)


@pytest.mark.parametrize("fmt", ["weights.h5", "keras"])
@pytest.mark.parametrize("src", ["keras", "kerax"])
def test_seed_states_are_not_in_weight_files_as_keras(keras, tmp_path, src, fmt):
    """Keras saves no `seed_generator_state`: files with Dropout/noise/RNN seed states load
    both ways, and a loaded model keeps its own seed states (from its `seed`)."""
    libs = {"keras": keras, "kerax": kerax}
    dst = "kerax" if src == "keras" else "keras"
    a = _random_layers(libs[src])
    a.set_weights([np.random.default_rng(i).random(w.shape).astype("float32")
                   for i, w in enumerate(a.get_weights())])
    a(np.ones((1, 3, 5), "float32"), training=True)  # moves the seed states
    path = str(tmp_path / f"m.{fmt}")
    if fmt == "keras":
        a.save(path)
        b = libs[dst].models.load_model(path)
    else:
        a.save_weights(path)
        b = _random_layers(libs[dst])
        b.load_weights(path)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    x = np.random.default_rng(5).random((2, 3, 5)).astype("float32")
    np.testing.assert_allclose(np.asarray(a(x)), np.asarray(b(x)), rtol=1e-5, atol=1e-6)
    # `a`'s seed states moved in its training call; `b`'s come from its own seeds (Keras'
    # LSTM also draws in an inference call: only its seed word is compared).
    seeds = [np.asarray(v).tolist() for v in b.non_trainable_variables]
    assert len(seeds) == 3 and seeds[0][0] == 3 and seeds[1] == [1, 0] and seeds[2][1] == 0
    if fmt == "weights.h5":
        other = _random_layers(libs[dst])
        other.set_weights(b.get_weights())
        other_path = str(tmp_path / "other.weights.h5")
        other.save_weights(other_path)
        assert _h5_datasets(other_path) == _h5_datasets(path)


def _attention(lib):
    inp = lib.Input((2, 5))
    out = lib.layers.MultiHeadAttention(num_heads=2, key_dim=3)(inp, inp)
    return lib.Model(inp, out)


@pytest.mark.parametrize("src", ["keras", "kerax"])
def test_composite_layer_paths_match_keras(keras, tmp_path, src):
    pytest.importorskip("kerax.models.functional", reason="needs the functional API")
    libs = {"keras": keras, "kerax": kerax}
    a, b = _attention(libs[src]), _attention(libs["kerax" if src == "keras" else "keras"])
    path = str(tmp_path / "mha.weights.h5")
    a.save_weights(path)
    b.load_weights(path)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_weights_with_optimizer_state_round_trip(tmp_path):
    a = _seq(kerax)
    a.compile("adam", "mse")
    a.fit(X, np.ones((6, 3)), epochs=1, batch_size=3, verbose=0)
    path = str(tmp_path / "w.weights.h5")
    a.save_weights(path)
    b = _seq(kerax)
    b.compile("adam", "mse")
    b.load_weights(path)
    assert b.optimizer.iterations == a.optimizer.iterations == 2
    np.testing.assert_array_equal(b.predict(X, verbose=0), a.predict(X, verbose=0))


def test_unmappable_optimizer_state_uses_kerax_group(tmp_path):
    def make():
        m = _seq(kerax)
        m.compile(kerax.optimizers.Adam(amsgrad=True), "mse")
        return m

    a = make()
    a.fit(X, np.ones((6, 3)), epochs=1, batch_size=3, verbose=0)
    path = str(tmp_path / "ams.weights.h5")
    a.save_weights(path)
    b = make()
    b.load_weights(path)
    import jax

    for x, y in zip(jax.tree_util.tree_leaves(a.optimizer.state),
                    jax.tree_util.tree_leaves(b.optimizer.state)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_mismatched_architecture_is_refused(tmp_path):
    path = str(tmp_path / "seq.weights.h5")
    _seq(kerax).save_weights(path)
    other = kerax.Sequential([kerax.Input((5,)), kerax.layers.Dense(2),
                              kerax.layers.BatchNormalization(), kerax.layers.Dense(3)])
    with pytest.raises(ValueError, match=r"has shape \(5, 4\) in the file, but the model's "
                                         r"architecture expects \(5, 2\)"):
        other.load_weights(path)
    more = kerax.Sequential([kerax.Input((5,)), kerax.layers.Dense(4),
                             kerax.layers.BatchNormalization(), kerax.layers.Dense(3),
                             kerax.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"layer 'dense_\d+' expects 2 weight arrays at "
                                         r"'layers/dense_2/vars', but the file has 0"):
        more.load_weights(path)


@pytest.mark.parametrize("action, match", [
    ("save_bad_name", "must end in `.weights.h5`"),
    ("save_unbuilt", "is not built yet, so it has no weights"),
    ("load_unbuilt", "is not built yet: build it"),
    ("load_bad_name", "File format not supported"),
])
def test_weights_argument_errors(tmp_path, action, match):
    built = _seq(kerax)
    unbuilt = kerax.Sequential([kerax.layers.Dense(2)])
    path = str(tmp_path / "w.weights.h5")
    built.save_weights(path)
    with pytest.raises(ValueError, match=match):
        if action == "save_bad_name":
            built.save_weights(str(tmp_path / "w.h5"))
        elif action == "save_unbuilt":
            unbuilt.save_weights(path)
        elif action == "load_unbuilt":
            unbuilt.load_weights(path)
        else:
            built.load_weights(str(tmp_path / "w.npz"))
