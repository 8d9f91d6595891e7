"""kerax.losses against Keras 3 itself: values, gradients, configs, names, masks and errors."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kerax import errors
from kerax import losses

B, C = 4, 3  # batch size, classes
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "none", "mean_with_sample_weight"]


# Inputs: each maker returns (y_true, y_pred) as float32 numpy arrays for a batch of `b`.

def _regression(r, b):
    return r.normal(size=(b, C)), r.normal(size=(b, C))


def _square(r, b):  # for `axis=0` cases: per-sample values along the other axis
    return r.normal(size=(b, b)), r.normal(size=(b, b))


def _square_binary(r, b):
    return (r.uniform(size=(b, b)) > 0.5) * 1.0, r.uniform(0.05, 0.95, size=(b, b))


def _square_one_hot(r, b):
    return np.eye(b)[r.permutation(b)], _probs(r, (b, b)).T


def _positive(r, b):
    return r.uniform(0.1, 2.0, size=(b, C)), r.uniform(0.1, 2.0, size=(b, C))


def _rank1_vs_column(r, b):  # (b,) labels against a (b, 1) output: Keras reconciles these
    return r.normal(size=(b,)), r.normal(size=(b, 1))


def _binary(r, b):
    return (r.uniform(size=(b, C)) > 0.5) * 1.0, r.uniform(0.05, 0.95, size=(b, C))


def _binary_logits(r, b):
    return (r.uniform(size=(b, C)) > 0.5) * 1.0, r.normal(size=(b, C)) * 2


def _signed(r, b):
    return np.sign(r.normal(size=(b, C))), r.normal(size=(b, C))


def _probs(r, shape):
    p = r.uniform(0.05, 1.0, size=shape)
    return p / p.sum(-1, keepdims=True)


def _one_hot(r, b):
    return np.eye(C)[r.integers(0, C, size=b)], _probs(r, (b, C))


def _one_hot_logits(r, b):
    return np.eye(C)[r.integers(0, C, size=b)], r.normal(size=(b, C)) * 2


def _distributions(r, b):
    return _probs(r, (b, C)), _probs(r, (b, C))


def _sparse(r, b):
    return r.integers(0, C, size=(b,)) * 1.0, _probs(r, (b, C))


def _sparse_column(r, b):
    return r.integers(0, C, size=(b, 1)) * 1.0, _probs(r, (b, C))


def _sparse_logits(r, b):
    return r.integers(0, C, size=(b,)) * 1.0, r.normal(size=(b, C))


def _sparse_sequence(r, b):  # (b, 5) labels with some -1 (ignored) against (b, 5, C) logits
    return r.integers(-1, C, size=(b, 5)) * 1.0, r.normal(size=(b, 5, C))


def _segmentation(r, b):
    return (r.uniform(size=(b, 5, 2)) > 0.5) * 1.0, r.uniform(size=(b, 5, 2))


def _ctc(r, b):
    labels = r.integers(1, 5, size=(b, 4))
    labels[:, 3] = 0
    labels[0, 2:] = 0
    return labels * 1.0, r.normal(size=(b, 7, 5))


def _embeddings(r, b):
    labels = np.arange(b) % 2
    e = r.normal(size=(b, 4))
    return labels * 1.0, e / np.linalg.norm(e, axis=-1, keepdims=True)


CASES = [  # (class name, constructor kwargs, input maker)
    ("MeanSquaredError", {}, _regression),
    ("MeanSquaredError", {}, _rank1_vs_column),
    ("MeanAbsoluteError", {}, _regression),
    ("MeanAbsoluteError", {}, _rank1_vs_column),
    ("MeanAbsolutePercentageError", {}, _positive),
    ("MeanSquaredLogarithmicError", {}, _positive),
    ("CosineSimilarity", {}, _regression),
    ("CosineSimilarity", {"axis": 0}, _square),
    ("Huber", {}, _regression),
    ("Huber", {"delta": 0.3}, _regression),
    ("LogCosh", {}, _regression),
    ("Hinge", {}, _binary_logits),
    ("Hinge", {}, _signed),
    ("SquaredHinge", {}, _binary_logits),
    ("SquaredHinge", {}, _signed),
    ("CategoricalHinge", {}, _one_hot_logits),
    ("KLDivergence", {}, _distributions),
    ("Poisson", {}, _positive),
    ("BinaryCrossentropy", {}, _binary),
    ("BinaryCrossentropy", {"from_logits": True}, _binary_logits),
    ("BinaryCrossentropy", {"label_smoothing": 0.2, "axis": 0}, _square_binary),
    ("BinaryFocalCrossentropy", {}, _binary),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5,
                                 "from_logits": True, "label_smoothing": 0.1}, _binary_logits),
    ("CategoricalCrossentropy", {}, _one_hot),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, _one_hot_logits),
    ("CategoricalCrossentropy", {"axis": 0}, _square_one_hot),
    ("CategoricalFocalCrossentropy", {}, _one_hot),
    ("CategoricalFocalCrossentropy", {"alpha": 0.5, "gamma": 1.0, "from_logits": True,
                                      "label_smoothing": 0.1}, _one_hot_logits),
    ("CategoricalGeneralizedCrossEntropy", {}, _sparse),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.8}, _sparse),
    ("SparseCategoricalCrossentropy", {}, _sparse),
    ("SparseCategoricalCrossentropy", {}, _sparse_column),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, _sparse_logits),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": -1}, _sparse_sequence),
    ("SparseCategoricalCrossentropy", {"ignore_class": 0}, _sparse),
    ("CTC", {}, _ctc),
    ("Dice", {}, _segmentation),
    ("Dice", {"axis": (1, 2)}, _segmentation),
    ("Tversky", {}, _segmentation),
    ("Tversky", {"alpha": 0.3, "beta": 0.7, "axis": (1, 2)}, _segmentation),
    ("Circle", {}, _embeddings),
    ("Circle", {"gamma": 10.0, "margin": 0.25, "remove_diagonal": False}, _embeddings),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)]


def _inputs(maker, b=B, seed=0):
    y_true, y_pred = maker(np.random.default_rng(seed), b)
    return np.asarray(y_true, np.float32), np.asarray(y_pred, np.float32)


def _weights(shape, seed=1):
    return np.random.default_rng(seed).uniform(0.0, 2.0, size=shape).astype(np.float32)


def _weights_for(loss, y_true, y_pred):
    """One weight per loss value (per row when the loss gives one value for the batch)."""
    shape = np.shape(type(loss).from_config({**loss.get_config(), "reduction": "none"})
                     .call(jnp.asarray(y_true), jnp.asarray(y_pred)))
    return _weights(shape or (len(y_true),))


@functools.lru_cache(maxsize=None)
def _keras_ctc_values():
    """Keras' CTC recompiles its scan on every eager call (~2 s), so it is called once."""
    import keras

    y_true, y_pred = _inputs(_ctc)
    return np.asarray(keras.losses.CTC(reduction="none")(y_true, y_pred))


def _keras_loss(keras, name, kwargs, reduction, y_true, y_pred, sample_weight):
    if name == "CTC":  # Keras' CTC is a LossFunctionWrapper: its values, reduced as Keras does
        from keras.src.losses.loss import reduce_weighted_values

        return reduce_weighted_values(_keras_ctc_values(), sample_weight, reduction=reduction)
    loss = getattr(keras.losses, name)(reduction=reduction, **kwargs)
    return loss(y_true, y_pred, sample_weight=sample_weight)


def _close(actual, expected, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs,maker", CASES, ids=IDS)
def test_class_matches_keras(keras, name, kwargs, maker, reduction):
    y_true, y_pred = _inputs(maker)
    ours = getattr(losses, name)(reduction=reduction, **kwargs)
    for sw in (None, _weights_for(ours, y_true, y_pred)):
        expected = _keras_loss(keras, name, kwargs, reduction, y_true, y_pred, sw)
        actual = ours(y_true, y_pred, sample_weight=sw)
        assert np.shape(actual) == np.shape(expected)
        _close(actual, expected)


def _representative(cases):
    """The first case of each class, and every case with logits (a different gradient path)."""
    seen, chosen = set(), []
    for case, case_id in zip(cases, IDS):
        if case[0] not in seen or case[1].get("from_logits"):
            chosen.append(pytest.param(*case, id=case_id))
        seen.add(case[0])
    return chosen


@pytest.mark.parametrize("name,kwargs,maker", _representative(CASES))
def test_gradient_matches_keras(keras, name, kwargs, maker):
    y_true, y_pred = _inputs(maker)
    ours = getattr(losses, name)(**kwargs)
    sw = _weights_for(ours, y_true, y_pred)
    theirs = getattr(keras.losses, name)(**kwargs)
    expected = jax.jit(jax.grad(lambda p: theirs(y_true, p, sample_weight=sw)))(y_pred)
    actual = jax.jit(jax.grad(lambda p: ours(y_true, p, sample_weight=sw)))(y_pred)
    _close(actual, expected, atol=1e-5)


def test_jit_matches_eager():
    y_true, y_pred = _inputs(_sparse_sequence)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    _close(jax.jit(loss)(y_true, y_pred), loss(y_true, y_pred))


FUNCTION_CASES = [  # (function name, kwargs, input maker)
    ("mean_squared_error", {}, _regression),
    ("mean_absolute_error", {}, _regression),
    ("mean_absolute_percentage_error", {}, _positive),
    ("mean_squared_logarithmic_error", {}, _positive),
    ("cosine_similarity", {"axis": 0}, _regression),
    ("huber", {"delta": 0.5}, _regression),
    ("log_cosh", {}, _regression),
    ("hinge", {}, _binary_logits),
    ("squared_hinge", {}, _signed),
    ("categorical_hinge", {}, _one_hot_logits),
    ("kl_divergence", {}, _distributions),
    ("poisson", {}, _positive),
    ("binary_crossentropy", {"from_logits": True, "label_smoothing": 0.1}, _binary_logits),
    ("binary_focal_crossentropy", {"apply_class_balancing": True}, _binary),
    ("categorical_crossentropy", {"label_smoothing": 0.2}, _one_hot),
    ("categorical_focal_crossentropy", {"from_logits": True}, _one_hot_logits),
    ("categorical_generalized_cross_entropy", {"q": 0.3}, _sparse),
    ("sparse_categorical_crossentropy", {"from_logits": True, "ignore_class": 1}, _sparse_logits),
    ("ctc", {}, _ctc),
    ("dice", {"axis": -1}, _segmentation),
    ("tversky", {"alpha": 0.2, "beta": 0.8}, _segmentation),
    ("circle", {"gamma": 20}, _embeddings),
]


@pytest.mark.parametrize("name,kwargs,maker", FUNCTION_CASES, ids=[c[0] for c in FUNCTION_CASES])
def test_function_matches_keras(keras, name, kwargs, maker):
    y_true, y_pred = _inputs(maker)
    if name == "ctc":
        expected = _keras_ctc_values()
    else:
        expected = getattr(keras.losses, name)(y_true, y_pred, **kwargs)
    actual = getattr(losses, name)(y_true, y_pred, **kwargs)
    assert np.shape(actual) == np.shape(expected)
    _close(actual, expected)


def test_circle_with_reference_set_matches_keras(keras):
    y_true, y_pred = _inputs(_embeddings, b=6)
    kwargs = {"ref_labels": y_true[:4], "ref_embeddings": y_pred[:4], "remove_diagonal": False}
    _close(losses.circle(y_true, y_pred, **kwargs), keras.losses.circle(y_true, y_pred, **kwargs))


def test_keras_loss_names_missing_from_kerax(keras):
    public = {n for n in dir(keras.losses) if not n.startswith("_")}
    missing = sorted(n for n in public if not hasattr(losses, n))
    assert missing == []


def test_keras_string_identifiers_resolve_like_keras(keras):
    from keras.src.losses import ALL_OBJECTS_DICT

    for identifier in set(ALL_OBJECTS_DICT) - {"Loss", "LossFunctionWrapper"}:
        theirs, ours = keras.losses.get(identifier), losses.get(identifier)
        their_name = getattr(theirs, "__name__", type(theirs).__name__)
        our_name = getattr(ours, "__name__", type(ours).__name__)
        assert our_name == their_name, identifier
    for legacy, fn in [("logcosh", "log_cosh"), ("kullback_leibler_divergence", "kl_divergence"),
                       ("huber_loss", "huber")]:
        assert losses.get(legacy) is getattr(losses, fn)


def test_get_accepts_instances_configs_callables_and_none():
    huber = losses.Huber()
    assert losses.get(huber) is huber
    assert losses.get(None) is None
    assert losses.get(jnp.square) is jnp.square
    cce = losses.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert isinstance(cce, losses.CategoricalCrossentropy) and cce.from_logits
    assert isinstance(losses.get(losses.Dice), losses.Dice)


@pytest.mark.parametrize("name,kwargs,maker", CASES, ids=IDS)
def test_config_matches_keras_and_round_trips(keras, name, kwargs, maker):
    ours = getattr(losses, name)(name="my_loss", reduction="sum", **kwargs)
    theirs = getattr(keras.losses, name)(name="my_loss", reduction="sum", **kwargs)
    config = ours.get_config()
    their_config = theirs.get_config()
    assert {k: config[k] for k in their_config} == their_config
    assert set(config) - set(their_config) <= {"axis"}  # kerax also saves SCCE's `axis`
    assert type(ours).from_config(config).get_config() == config
    rebuilt = losses.deserialize(losses.serialize(ours))
    assert type(rebuilt) is type(ours) and rebuilt.get_config() == config


def test_default_names_and_dtype_match_keras(keras):
    for name, _, _ in CASES:
        ours, theirs = getattr(losses, name)(), getattr(keras.losses, name)()
        assert (ours.name, ours.reduction, ours.dtype) == (theirs.name, theirs.reduction,
                                                           theirs.dtype)


def test_loss_function_wrapper_matches_keras_and_round_trips(keras):
    y_true, y_pred = _inputs(_rank1_vs_column)
    ours = losses.LossFunctionWrapper(losses.huber, delta=0.5, name="h")
    from keras.src.losses.losses import LossFunctionWrapper

    theirs = LossFunctionWrapper(keras.losses.huber, delta=0.5, name="h")
    _close(ours(y_true, y_pred), theirs(y_true, y_pred))
    rebuilt = losses.LossFunctionWrapper.from_config(ours.get_config())
    assert rebuilt.fn is losses.huber and rebuilt.get_config() == ours.get_config()
    _close(rebuilt(y_true, y_pred), ours(y_true, y_pred))


def test_serialize_function_round_trips():
    assert losses.deserialize(losses.serialize(losses.log_cosh)) is losses.log_cosh
    assert losses.deserialize("mse") is losses.mean_squared_error


# Masks: padded rows with mask=False change nothing.

ROW_CASES = [(c, i) for c, i in zip(CASES, IDS) if c[1].get("axis") != 0]  # not over the batch


@pytest.mark.parametrize("name,kwargs,maker", [c for c, _ in ROW_CASES],
                         ids=[i for _, i in ROW_CASES])
def test_padded_rows_masked_out_change_nothing(name, kwargs, maker):
    y_true, y_pred = _inputs(maker, b=B + 2)
    sw = _weights((B + 2,))
    mask = np.arange(B + 2) < B
    for reduction in REDUCTIONS:
        loss = getattr(losses, name)(reduction=reduction, **kwargs)
        for weights in (None, sw):
            padded = loss(y_true, y_pred, sample_weight=weights, mask=mask)
            real = loss(y_true[:B], y_pred[:B],
                        sample_weight=None if weights is None else weights[:B])
            if reduction == "none" and np.ndim(padded) > 0:
                padded = padded[:B]
            _close(padded, real, atol=1e-5)


def test_row_weights_apply_to_every_step_of_a_sequence_loss(keras):
    y_true, y_pred = _inputs(_sparse_sequence)
    kwargs = {"from_logits": True, "ignore_class": -1}
    sw = _weights((B,))
    expected = keras.losses.SparseCategoricalCrossentropy(**kwargs)(
        y_true, y_pred, sample_weight=np.repeat(sw[:, None], 5, axis=1))
    _close(losses.SparseCategoricalCrossentropy(**kwargs)(y_true, y_pred, sample_weight=sw),
           expected)


def test_mask_divides_by_the_number_of_valid_entries():
    values = jnp.array([[1.0, 2.0], [3.0, 4.0], [100.0, jnp.nan]])
    mask = jnp.array([True, True, False])
    _close(losses.reduce_weighted_values(values, mask=mask), 2.5)
    _close(losses.reduce_weighted_values(values, mask=mask, reduction="sum"), 10.0)


def test_mask_matches_keras_reduce_weighted_values(keras):
    from keras.src.losses.loss import reduce_weighted_values

    values, sw = _weights((B,), seed=3), _weights((B,))
    mask = np.array([True, False, True, True])
    for reduction in REDUCTIONS:
        for weights in (None, sw):
            _close(losses.reduce_weighted_values(values, weights, mask, reduction),
                   reduce_weighted_values(values, weights, mask, reduction))


# Errors.

def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"y_true.shape=\(4, 1\) and y_pred.shape=\(4, 3\)"):
        losses.MeanSquaredError()(np.zeros((4, 1)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"binary_crossentropy: .*same shape"):
        losses.binary_crossentropy(np.zeros((4,)), np.zeros((4, 3)))


def test_reconciled_shapes_are_accepted(keras):
    y_true, y_pred = _inputs(_rank1_vs_column, b=32)
    _close(losses.MeanSquaredError()(y_true, y_pred), keras.losses.MeanSquaredError()(y_true, y_pred))
    _close(losses.MeanSquaredError()(y_pred, y_true), keras.losses.MeanSquaredError()(y_pred, y_true))


def test_sparse_labels_shape_mismatch():
    with pytest.raises(ValueError, match=r"integer labels .* y_true.shape=\(4, 2\) and "
                                         r"y_pred.shape=\(4, 3\) \(expected y_true.shape=\(4,\)"):
        losses.SparseCategoricalCrossentropy()(np.zeros((4, 2)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="must be at least rank 1"):
        losses.sparse_categorical_crossentropy(np.zeros(()), np.ones(()))


def test_unknown_identifier_lists_close_matches():
    with pytest.raises(errors.UnknownIdentifierError,
                       match="Unknown loss identifier: 'mean_sqared_error'.*Did you mean.*"
                             "'mean_squared_error'"):
        losses.get("mean_sqared_error")


def test_uninterpretable_identifier():
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 42"):
        losses.get(42)


def test_sample_weight_shape_mismatch():
    with pytest.raises(ValueError, match=r"`sample_weight` of shape \(3,\) does not fit the "
                                         r"per-sample losses of shape \(4,\)"):
        losses.MeanSquaredError()(np.zeros((4, 2)), np.ones((4, 2)), sample_weight=np.ones(3))
    with pytest.raises(ValueError, match=r"`mask` of shape \(5,\) does not fit"):
        losses.MeanSquaredError()(np.zeros((4, 2)), np.ones((4, 2)), mask=np.ones(5, bool))


def test_invalid_arguments():
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        losses.MeanSquaredError(reduction="average")
    with pytest.raises(ValueError, match=r"`q` must be in the open interval \(0, 1\); received"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.5)
    with pytest.raises(ValueError, match="`axis` must be of type `int`"):
        losses.categorical_crossentropy(np.ones((2, 3)), np.ones((2, 3)), axis=True)
    with pytest.raises(NotImplementedError, match=r"must implement `call\(self, y_true, y_pred\)`"):
        losses.Loss()(np.ones(2), np.ones(2))


def test_ctc_and_circle_shape_errors():
    with pytest.raises(ValueError, match=r"ctc: targets `y_true` must have shape"):
        losses.ctc(np.ones((2, 3, 1)), np.ones((2, 5, 4)))
    with pytest.raises(ValueError, match=r"ctc: logits `y_pred` must have shape"):
        losses.ctc(np.ones((2, 3)), np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"ctc: .*same batch size"):
        losses.ctc(np.ones((3, 3)), np.ones((2, 5, 4)))
    with pytest.raises(ValueError, match=r"circle: expected integer labels of shape"):
        losses.circle(np.ones((3,)), np.ones((4, 2)))


def test_single_class_categorical_warns():
    with pytest.warns(SyntaxWarning, match="Consider using 'binary_crossentropy'"):
        losses.categorical_crossentropy(np.ones((2, 1)), np.ones((2, 1)))
