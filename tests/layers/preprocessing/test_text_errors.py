"""Bad arguments and inputs to the string layers raise errors that say what is wrong
(Keras' messages where Keras has one), and the adapt / vocabulary rules Keras enforces."""

import jax
import numpy as np
import pytest

import kerax

L = kerax.layers


@pytest.mark.parametrize("make, error, match", [
    (lambda: L.StringLookup(max_tokens=1), ValueError, "must be greater than 1"),
    (lambda: L.StringLookup(pad_to_max_tokens=True), ValueError, "must set `max_tokens`"),
    (lambda: L.StringLookup(num_oov_indices=-1), ValueError, "greater than or equal to 0"),
    (lambda: L.StringLookup(salt="x"), ValueError, "tuple of 2 integers"),
    (lambda: L.StringLookup(output_mode="sum"), ValueError, "Unknown output_mode"),
    (lambda: L.StringLookup(invert=True, output_mode="count"), ValueError,
     "must be `'int'` when `invert`"),
    (lambda: L.StringLookup(sparse=True, output_mode="count"), ValueError,
     "only be used with the TensorFlow backend"),
    (lambda: L.StringLookup(idf_weights=[1.0]), ValueError, "should only be set if"),
    (lambda: L.StringLookup(vocabulary=["a"], output_mode="tf_idf"), ValueError,
     "`idf_weights` argument must also be provided"),
    (lambda: L.StringLookup(foo=1), ValueError, "Unrecognized keyword argument"),
    (lambda: L.StringLookup(vocabulary=[]), ValueError, "Cannot set an empty vocabulary"),
    (lambda: L.StringLookup(vocabulary=["a", "b", "a"]), ValueError, "repeated term.*'a'"),
    (lambda: L.StringLookup(vocabulary=["a", ""], mask_token=""), ValueError,
     "reserved mask token at unexpected location"),
    (lambda: L.StringLookup(vocabulary=["a", "[UNK]"], invert=True), ValueError,
     "reserved OOV token at unexpected location"),
    (lambda: L.StringLookup(vocabulary=["a", "b", "c"], max_tokens=3), ValueError,
     "larger than the maximum vocab size"),
    (lambda: L.StringLookup(vocabulary=["a", "b"], output_mode="tf_idf", idf_weights=[1.0]),
     ValueError, "same length as vocabulary"),
    (lambda: L.IntegerLookup(max_tokens=0), ValueError, "it must be greater than 1"),
    (lambda: L.IntegerLookup(num_oov_indices=-2), ValueError, "must >= 0"),
    (lambda: L.IntegerLookup(vocabulary_dtype="int32"), ValueError,
     "Only `vocabulary_dtype='int64'`"),
    (lambda: L.IntegerLookup(salt=3), ValueError, "only be used when `oov_method='farmhash'`"),
    (lambda: L.IntegerLookup(oov_method="mod"), ValueError, "Unknown oov_method"),
    (lambda: L.TextVectorization(standardize="upper"), ValueError, "Unknown standardize"),
    (lambda: L.TextVectorization(split="comma"), ValueError, "Unknown split"),
    (lambda: L.TextVectorization(ngrams=[1, 2]), ValueError, "`ngrams` must be None"),
    (lambda: L.TextVectorization(ngrams=(0, 2)), ValueError, "widths must be at least 1"),
    (lambda: L.TextVectorization(output_sequence_length=2.5), ValueError,
     "either None or an integer"),
    (lambda: L.TextVectorization(output_mode="count", output_sequence_length=3), ValueError,
     "must not be set if `output_mode` is not 'int'"),
    (lambda: L.TextVectorization(sparse=True), ValueError, "TensorFlow backend"),
    (lambda: L.TextVectorization(ragged=True), ValueError, "`ragged=True` can only be used"),
    (lambda: L.HashedCrossing(num_bins=3, output_mode="count"), ValueError,
     "Unknown output_mode"),
    (lambda: L.HashedCrossing(num_bins=3, sparse=True), ValueError, "TensorFlow backend"),
])
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("layer, inputs, error, match", [
    (lambda: L.StringLookup(vocabulary=["a"]), np.array([1, 2]), TypeError,
     "Expected strings for StringLookup.*dtype int64"),
    (lambda: L.IntegerLookup(vocabulary=[1]), np.array(["a"]), TypeError,
     "IntegerLookup .* expects integers"),
    (lambda: L.IntegerLookup(vocabulary=[1]), np.array([1.5]), TypeError,
     "expects integers, received values of dtype float64"),
    (lambda: L.StringLookup(vocabulary=["a"], invert=True), np.array(["a"]), TypeError,
     "`invert=True` expects integer indices"),
    (lambda: L.StringLookup(output_mode="count"), np.array(["a"]), RuntimeError,
     "must set the layer's vocabulary before calling it"),
    (lambda: L.TextVectorization(vocabulary=["a"]), np.array([["a b", "c"]]), ValueError,
     "the last shape dimension must be 1"),
    (lambda: L.TextVectorization(vocabulary=["a"], split=None, ngrams=2), "a b", ValueError,
     "needs inputs of rank 1 or more"),
    (lambda: L.HashedCrossing(num_bins=3), np.array([1, 2]), ValueError,
     "should be called on a list or tuple"),
    (lambda: L.HashedCrossing(num_bins=3), [np.array([1, 2])], ValueError, "at least two"),
    (lambda: L.HashedCrossing(num_bins=3), [np.ones((2, 2), int), np.ones((2, 2), int)],
     ValueError, "should have shape"),
    (lambda: L.HashedCrossing(num_bins=3), [np.array([1, 2]), np.array([1])], ValueError,
     "equal shape"),
    (lambda: L.HashedCrossing(num_bins=3), [np.array([1.0]), np.array([1])], ValueError,
     "integer or string dtype"),
])
def test_bad_inputs(layer, inputs, error, match):
    with pytest.raises(error, match=match):
        layer()(inputs)


def test_traced_inputs_are_refused_with_a_fix():
    layer = L.IntegerLookup(vocabulary=[1, 2])
    with pytest.raises(TypeError, match="runs on the host and cannot process traced values"):
        jax.jit(lambda x: layer(x))(np.array([1, 2]))


def test_adapt_after_a_fixed_vocabulary_is_refused():
    layer = L.StringLookup(vocabulary=["a"])
    with pytest.raises(ValueError, match="Cannot adapt layer .* after setting a static"):
        layer.adapt(np.array(["b"]))


def test_encoded_vocabulary_size_cannot_change():
    layer = L.StringLookup(output_mode="multi_hot")
    layer.adapt(np.array(["a", "b"]))
    with pytest.raises(RuntimeError, match="vocabulary size cannot be changed"):
        layer.adapt(np.array(["a", "b", "c"]))


def test_idf_weights_are_required_to_set_a_tf_idf_vocabulary():
    layer = L.StringLookup(output_mode="tf_idf")
    with pytest.raises(ValueError, match="`idf_weights` must be set"):
        layer.set_vocabulary(["a"])
    with pytest.raises(ValueError, match="should only be set if output_mode"):
        L.StringLookup().set_vocabulary(["a"], idf_weights=[1.0])


def test_num_oov_indices_zero_names_the_oov_values():
    layer = L.StringLookup(vocabulary=["a"], num_oov_indices=0)
    with pytest.raises(ValueError, match=r"found OOV values \['zz'\]"):
        layer(np.array(["a", "zz"]))


def test_adapt_reads_streams_lists_and_steps():
    def batches():
        yield np.array(["a", "b"])
        yield ["b", "c"]
        raise AssertionError("steps=2 must stop before the third batch")

    layer = L.StringLookup()
    layer.adapt(batches(), steps=2)
    assert layer.get_vocabulary() == ["[UNK]", "b", "c", "a"]
    tv = L.TextVectorization()
    tv.adapt(iter([["x y", "y"], np.array(["z y"])]))
    assert tv.get_vocabulary() == ["", "[UNK]", "y", "z", "x"]


@pytest.mark.parametrize("num_bins", [1, 7, 64, 65537, 2**31 - 1])
@pytest.mark.parametrize("output_mode", ["int", "one_hot"])
def test_hashed_crossing_of_traced_integers_equals_the_host_hash(num_bins, output_mode):
    """A `HashedCrossing` of integer ids runs inside `jit` (a FeatureSpace's crosses of its
    lookups' ids), bin for bin as on the host (whose bins equal Keras-on-TF's goldens)."""
    if output_mode == "one_hot" and num_bins > 64:
        return
    rng = np.random.default_rng(num_bins)
    a = rng.integers(-2**31, 2**31, size=(50, 1)).astype("int32")
    b = rng.integers(0, 9, size=(50, 1)).astype("int32")
    layer = L.HashedCrossing(num_bins=num_bins, output_mode=output_mode)
    variables = layer.init(jax.random.PRNGKey(0), [a, b])
    traced = jax.jit(lambda a, b: layer.apply(variables, [a, b])[0])(a, b)
    np.testing.assert_array_equal(np.asarray(traced), np.asarray(layer([a, b])))


def test_hashed_crossing_of_traced_strings_or_floats_is_refused():
    layer = L.HashedCrossing(num_bins=3)
    with pytest.raises(TypeError, match="runs on the host and cannot process traced values"):
        jax.jit(lambda a, b: layer([a, b]))(np.array([1.0]), np.array([1]))
    with pytest.raises(ValueError, match="equal shape"):
        jax.jit(lambda a, b: layer([a, b]))(np.array([1, 2]), np.array([1]))
