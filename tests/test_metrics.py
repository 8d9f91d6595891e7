"""kerax.metrics against Keras 3: same batches, same results; pure, jit-able, pad-safe."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kerax
from kerax import metrics

B = 8  # rows per batch


def _probs(rng, n, c):
    p = rng.uniform(0.05, 1.0, (n, c)).astype("float32")
    return p / p.sum(-1, keepdims=True)


def _onehot(rng, n, c):
    return np.eye(c, dtype="float32")[rng.integers(0, c, n)]


# Each data kind maps a generator to one batch `(y_true, y_pred)`.
DATA = {
    "binary": lambda r: (r.integers(0, 2, (B, 3)).astype("float32"),
                         r.uniform(0, 1, (B, 3)).astype("float32")),
    "binary_col": lambda r: (r.integers(0, 2, (B, 1)).astype("float32"),
                             r.uniform(0, 1, (B, 1)).astype("float32")),
    "binary_flat": lambda r: (r.integers(0, 2, (B,)).astype("float32"),
                              r.uniform(0, 1, (B,)).astype("float32")),
    "binary_logits": lambda r: (r.integers(0, 2, (B, 3)).astype("float32"),
                                r.normal(0, 2, (B, 3)).astype("float32")),
    "onehot": lambda r: (_onehot(r, B, 5), _probs(r, B, 5)),
    "onehot_logits": lambda r: (_onehot(r, B, 5), r.normal(0, 2, (B, 5)).astype("float32")),
    "sparse": lambda r: (r.integers(0, 5, (B,)), _probs(r, B, 5)),
    "sparse_col": lambda r: (r.integers(0, 5, (B, 1)), _probs(r, B, 5)),
    "sparse_logits": lambda r: (r.integers(0, 5, (B,)), r.normal(0, 2, (B, 5)).astype("float32")),
    "ints": lambda r: (r.integers(0, 3, (B, 2)), r.integers(0, 3, (B, 2))),
    "classes": lambda r: (r.integers(0, 3, (B,)), r.integers(0, 3, (B,))),
    "regression": lambda r: (r.normal(0, 1, (B, 3)).astype("float32"),
                             r.normal(0, 1, (B, 3)).astype("float32")),
    "positive": lambda r: (r.uniform(0, 2, (B, 3)).astype("float32"),
                           r.uniform(0.01, 2, (B, 3)).astype("float32")),
    "distribution": lambda r: (_probs(r, B, 4), _probs(r, B, 4)),
    "signs": lambda r: (r.choice([-1.0, 1.0], (B, 3)).astype("float32"),
                        r.normal(0, 1, (B, 3)).astype("float32")),
    "values": lambda r: (r.normal(0, 1, (B, 3)).astype("float32"), None),
}

# (class name, constructor kwargs, data kind, rtol)
CASES = [
    ("Mean", {}, "values", 1e-5),
    ("Sum", {}, "values", 1e-5),
    ("Accuracy", {}, "ints", 1e-5),
    ("BinaryAccuracy", {}, "binary", 1e-5),
    ("BinaryAccuracy", {"threshold": 0.3}, "binary_col", 1e-5),
    ("BinaryAccuracy", {}, "binary_flat", 1e-5),
    ("CategoricalAccuracy", {}, "onehot", 1e-5),
    ("SparseCategoricalAccuracy", {}, "sparse", 1e-5),
    ("SparseCategoricalAccuracy", {}, "sparse_col", 1e-5),
    ("TopKCategoricalAccuracy", {}, "onehot", 1e-5),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot", 1e-5),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse", 1e-5),
    ("SparseTopKCategoricalAccuracy", {"k": 1}, "sparse_col", 1e-5),
    ("MeanSquaredError", {}, "regression", 1e-5),
    ("RootMeanSquaredError", {}, "regression", 1e-5),
    ("MeanAbsoluteError", {}, "regression", 1e-5),
    ("MeanAbsolutePercentageError", {}, "regression", 1e-5),
    ("MeanSquaredLogarithmicError", {}, "positive", 1e-5),
    ("CosineSimilarity", {}, "regression", 1e-5),
    ("CosineSimilarity", {"axis": 1}, "regression", 1e-5),
    ("LogCoshError", {}, "regression", 1e-5),
    ("R2Score", {}, "regression", 1e-5),
    ("R2Score", {"class_aggregation": None}, "regression", 1e-5),
    ("R2Score", {"class_aggregation": "variance_weighted_average", "num_regressors": 2},
     "regression", 1e-5),
    ("PearsonCorrelation", {}, "regression", 1e-5),
    ("ConcordanceCorrelation", {}, "regression", 1e-5),
    ("Hinge", {}, "signs", 1e-5),
    ("Hinge", {}, "binary", 1e-5),
    ("SquaredHinge", {}, "signs", 1e-5),
    ("CategoricalHinge", {}, "onehot", 1e-5),
    ("KLDivergence", {}, "distribution", 1e-5),
    ("Poisson", {}, "positive", 1e-5),
    ("BinaryCrossentropy", {}, "binary", 1e-5),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "binary_logits", 1e-5),
    ("CategoricalCrossentropy", {}, "onehot", 1e-5),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2},
     "onehot_logits", 1e-5),
    ("SparseCategoricalCrossentropy", {}, "sparse", 1e-5),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits", 1e-5),
    ("TruePositives", {}, "binary", 1e-5),
    ("TruePositives", {"thresholds": [0.2, 0.5, 0.8]}, "binary", 1e-5),
    ("FalsePositives", {"thresholds": 0.3}, "binary_flat", 1e-5),
    ("TrueNegatives", {}, "binary_col", 1e-5),
    ("FalseNegatives", {"thresholds": [0.0, 0.5, 1.0]}, "binary", 1e-5),
    ("Precision", {}, "binary", 1e-5),
    ("Precision", {"thresholds": [0.3, 0.7]}, "binary_flat", 1e-5),
    ("Precision", {"top_k": 2}, "binary", 1e-5),
    ("Precision", {"class_id": 1, "thresholds": 0.4}, "binary", 1e-5),
    ("Recall", {}, "binary", 1e-5),
    ("Recall", {"top_k": 1, "class_id": 2}, "binary", 1e-5),
    ("AUC", {}, "binary_flat", 1e-4),
    ("AUC", {"curve": "PR"}, "binary", 1e-4),
    ("AUC", {"curve": "PR", "summation_method": "majoring", "num_thresholds": 20}, "binary", 1e-4),
    ("AUC", {"summation_method": "minoring", "label_weights": [0.2, 0.3, 0.5]}, "binary", 1e-4),
    ("AUC", {"curve": "PRGAIN", "num_thresholds": 50}, "binary", 1e-4),
    ("AUC", {"multi_label": True}, "binary", 1e-4),
    ("AUC", {"multi_label": True, "num_labels": 3, "label_weights": [0.2, 0.3, 0.5],
             "curve": "PR"}, "binary", 1e-4),
    ("AUC", {"from_logits": True, "thresholds": [0.1, 0.4, 0.9]}, "binary_logits", 1e-4),
    ("PrecisionAtRecall", {"recall": 0.5}, "binary", 1e-4),
    ("RecallAtPrecision", {"precision": 0.6, "num_thresholds": 30}, "binary", 1e-4),
    ("SensitivityAtSpecificity", {"specificity": 0.4, "class_id": 1}, "binary", 1e-4),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7, "num_thresholds": 1}, "binary", 1e-4),
    ("F1Score", {}, "onehot", 1e-5),
    ("F1Score", {"average": "micro", "threshold": 0.5}, "binary", 1e-5),
    ("FBetaScore", {"average": "macro", "beta": 2.0, "threshold": 0.3}, "binary", 1e-5),
    ("FBetaScore", {"average": "weighted", "beta": 0.5}, "onehot", 1e-5),
    ("IoU", {"num_classes": 3, "target_class_ids": [0, 2]}, "classes", 1e-5),
    ("IoU", {"num_classes": 5, "target_class_ids": [1], "sparse_y_pred": False}, "sparse", 1e-5),
    ("MeanIoU", {"num_classes": 3, "ignore_class": 0}, "classes", 1e-5),
    ("BinaryIoU", {}, "binary_col", 1e-5),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3}, "binary_flat", 1e-5),
    ("OneHotIoU", {"num_classes": 5, "target_class_ids": [0, 3]}, "onehot", 1e-5),
    ("OneHotMeanIoU", {"num_classes": 5}, "onehot", 1e-5),
]


def _case_id(case):
    name, kwargs, kind, _ = case
    args = ",".join(f"{k}={v}" for k, v in kwargs.items())
    return f"{name}({args})-{kind}"


def _batches(kind, weighted, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(3):
        y_true, y_pred = DATA[kind](rng)
        sw = rng.uniform(0, 2, (B,)).astype("float32") if weighted else None
        out.append((y_true, y_pred, sw))
    return out


def _args(y_true, y_pred):
    return (y_true,) if y_pred is None else (y_true, y_pred)


def _run_stateful(metric, batches):
    for y_true, y_pred, sw in batches:
        metric.update_state(*_args(y_true, y_pred), sample_weight=sw)
    return np.asarray(metric.result())


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_keras(keras, case, weighted):
    name, kwargs, kind, rtol = case
    batches = _batches(kind, weighted)
    got = _run_stateful(getattr(metrics, name)(**kwargs), batches)
    want = _run_stateful(getattr(keras.metrics, name)(**kwargs), batches)
    np.testing.assert_allclose(got, np.asarray(want), rtol=rtol, atol=rtol)


def _padded(y, n_pad):
    return None if y is None else np.concatenate([y, y[:n_pad]], axis=0)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_jit_and_zero_weight_padding(case):
    """The pure `update` under jit gives the stateful result; zero-weight rows change nothing."""
    name, kwargs, kind, rtol = case
    metric = getattr(metrics, name)(**kwargs)
    batches = _batches(kind, weighted=True, seed=1)
    want = _run_stateful(metric, batches)

    update = jax.jit(metric.update)
    state = metric.init()
    for y_true, y_pred, sw in batches:
        n = 3  # pad each batch with 3 repeated rows of zero weight, as the engine does
        padded_sw = np.concatenate([sw, np.zeros((n,), "float32")])
        state = update(state, *_args(_padded(y_true, n), _padded(y_pred, n)), padded_sw)
    np.testing.assert_allclose(np.asarray(metric.result(state)), want, rtol=rtol, atol=rtol)

    # Keras' JAX-backend stateless API runs on the same pure functions.
    variables = metric.stateless_reset_state()
    for y_true, y_pred, sw in batches:
        variables = metric.stateless_update_state(variables, *_args(y_true, y_pred),
                                                  sample_weight=sw)
    np.testing.assert_allclose(np.asarray(metric.stateless_result(variables)), want,
                               rtol=rtol, atol=rtol)
    metric.reset_state()
    assert all(np.all(np.asarray(v) == 0) for v in metric.variables)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_config_round_trip_and_state_layout(keras, case):
    name, kwargs, kind, _ = case
    ours = getattr(metrics, name)(**kwargs)
    theirs = getattr(keras.metrics, name)(**kwargs)
    # Same variables, in Keras' order and shapes, once Keras' are built by one update.
    batch = _batches(kind, weighted=False)[0]
    ours.update_state(*_args(batch[0], batch[1]))
    theirs.update_state(*_args(batch[0], batch[1]))
    assert list(ours.state) == [v.name for v in theirs.variables]
    assert [v.shape for v in ours.variables] == [tuple(v.shape) for v in theirs.variables]
    # Same config as Keras (apart from auto-generated names), and it round-trips.
    config = ours.get_config()
    keras_config = theirs.get_config()
    assert _plain(config, drop="name") == _plain(keras_config, drop="name")
    clone = type(ours).from_config(config)
    assert clone.get_config() == config
    assert metrics.deserialize(metrics.serialize(ours)).get_config() == config


def _plain(config, drop=()):
    """Arrays as rounded lists, so configs compare as plain values."""
    def plain(v):
        if hasattr(v, "shape"):
            return np.round(np.asarray(v, "float64"), 6).tolist()
        if isinstance(v, list):
            return [round(x, 6) if isinstance(x, float) else x for x in v]
        return v
    return {k: plain(v) for k, v in config.items() if k not in drop}


def test_functions_match_keras(keras):
    rng = np.random.default_rng(3)
    for kind, fn_names in {
        "binary": ["binary_accuracy"],
        "onehot": ["categorical_accuracy", "top_k_categorical_accuracy"],
        "sparse": ["sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy"],
    }.items():
        y_true, y_pred = DATA[kind](rng)
        for fn_name in fn_names:
            got = getattr(metrics, fn_name)(y_true, y_pred)
            want = getattr(keras.metrics, fn_name)(y_true, y_pred)
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5,
                                       err_msg=fn_name)


def test_iou_broadcasts_per_row_weights_over_dense_labels(keras):
    """kerax accepts (batch,) weights with (batch, ...) labels, as the engine passes them."""
    (y_true, y_pred, sw), = _batches("binary", weighted=True)[:1]
    ours, theirs = metrics.BinaryIoU(), keras.metrics.BinaryIoU()
    ours.update_state(y_true, y_pred, sample_weight=sw)
    theirs.update_state(y_true, y_pred, sample_weight=np.broadcast_to(sw[:, None], y_true.shape))
    np.testing.assert_allclose(np.asarray(ours.result()), np.asarray(theirs.result()), rtol=1e-5)


def test_mean_metric_wrapper_of_a_function(keras):
    def my_error(y_true, y_pred):
        return jnp.abs(y_true - y_pred)

    m = metrics.as_metric(my_error)
    assert isinstance(m, metrics.MeanMetricWrapper) and m.name == "my_error"
    m.update_state(np.zeros((2, 2)), np.ones((2, 2)), sample_weight=[1.0, 0.0])
    assert float(m.result()) == 1.0
    assert metrics.get(my_error) is my_error  # as Keras' `get`
    wrapped = metrics.MeanMetricWrapper(metrics.binary_accuracy, threshold=0.7)
    config = wrapped.get_config()
    assert config["fn"]["config"] == "binary_accuracy" and config["threshold"] == 0.7
    clone = metrics.MeanMetricWrapper.from_config(config)
    assert clone._fn is metrics.binary_accuracy and clone._fn_kwargs == {"threshold": 0.7}


def test_no_keras_metric_is_missing(keras):
    public = {n for n in dir(keras.metrics) if not n.startswith("_")}
    missing = sorted(n for n in public if not hasattr(metrics, n))
    assert missing == []


def test_every_class_has_a_parity_case(keras):
    covered = {case[0] for case in CASES}
    untested = sorted(set(metrics.ALL) - covered - {"Metric", "MeanMetricWrapper"})
    assert untested == []


def test_get_resolves_every_keras_string_identifier(keras):
    from keras.src.metrics import ALL_OBJECTS_DICT

    needs_args = {"IoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU", "MeanMetricWrapper", "Metric",
                  "PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity",
                  "SpecificityAtSensitivity"}
    assert set(ALL_OBJECTS_DICT) == set(metrics.ALL_OBJECTS_DICT)
    for name, cls in ALL_OBJECTS_DICT.items():
        if cls.__name__ in needs_args:
            continue
        ours, theirs = metrics.get(name), keras.metrics.get(name)
        assert type(ours).__name__ == type(theirs).__name__, name
        if not re.fullmatch(r".*_\d+", theirs.name):  # auto-numbered ("auc_3"): history
            assert ours.name == theirs.name, name
    m = metrics.BinaryAccuracy()
    assert metrics.get(m) is m
    assert metrics.get(None) is None
    assert isinstance(metrics.get(metrics.Accuracy), metrics.Accuracy)
    config = metrics.serialize(metrics.BinaryAccuracy(threshold=0.2))
    assert metrics.get(config).threshold == 0.2
    assert metrics.get("mse").name == "mean_squared_error"


def test_unknown_identifier_errors():
    with pytest.raises(kerax.errors.UnknownIdentifierError, match="Did you mean: 'binary_accuracy'"):
        metrics.get("binary_acuracy")
    with pytest.raises(ValueError, match="Unknown metric identifier: 'nonsense'"):
        metrics.get("nonsense")
    with pytest.raises(ValueError, match="Could not interpret metric identifier: 3"):
        metrics.get(3)
    with pytest.raises(TypeError, match="expects a function"):
        metrics.metric_from_function(3)
    m = metrics.Mean()
    with pytest.raises(ValueError, match="expects 2 metric variables"):
        m.stateless_result([jnp.zeros(())])


@pytest.mark.parametrize("build, match", [
    (lambda: metrics.R2Score(class_aggregation="median"), "Invalid value for argument `class_aggregation`"),
    (lambda: metrics.R2Score(num_regressors=-1), "expected a value >= 0"),
    (lambda: metrics.AUC(curve="XY"), 'Invalid AUC curve value: "XY"'),
    (lambda: metrics.AUC(summation_method="trapz"), "Invalid AUC summation method value"),
    (lambda: metrics.AUC(num_thresholds=1), "must be an integer > 1"),
    (lambda: metrics.AUC(num_labels=3), "`num_labels` is needed only when `multi_label` is True"),
    (lambda: metrics.FBetaScore(average="mean"), "Invalid `average` argument value"),
    (lambda: metrics.FBetaScore(beta=2), "It should be a Python float|should be a Python float"),
    (lambda: metrics.FBetaScore(beta=-1.0), "it should be > 0"),
    (lambda: metrics.F1Score(threshold=1), "should be a Python float"),
    (lambda: metrics.F1Score(threshold=1.5), "0 < threshold <= 1"),
    (lambda: metrics.IoU(num_classes=2, target_class_ids=[2]), "Target class id 2 is out of range"),
    (lambda: metrics.Precision(thresholds=[0.5, 1.5]), r"Threshold values must be in \[0, 1\]"),
    (lambda: metrics.PrecisionAtRecall(recall=1.5), "`recall` must be in the range"),
    (lambda: metrics.SensitivityAtSpecificity(0.5, num_thresholds=0), "must be an integer > 0"),
])
def test_constructor_errors(build, match):
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize("metric, y_true, y_pred, match", [
    (metrics.R2Score(), np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), "R2Score expects 2D inputs"),
    (metrics.F1Score(), np.zeros((4,)), np.zeros((4,)), "F1Score expects 2D inputs"),
    (metrics.AUC(multi_label=True), np.zeros((4,)), np.zeros((4,)), "must have rank 2"),
    (metrics.Recall(class_id=1), np.zeros((4,)), np.zeros((4,)), "When `class_id` is given"),
    (metrics.BinaryCrossentropy(), np.zeros((4, 2)), np.zeros((4, 3)), "must have the same shape"),
])
def test_update_errors(metric, y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        metric.update_state(y_true, y_pred)


def test_init_like_shapes_lazily_built_state():
    m = metrics.F1Score()
    state = m.init_like(jnp.zeros((4, 3)), jnp.zeros((4, 3)))
    assert {k: v.shape for k, v in state.items()} == {k: (3,) for k in state}
    assert all(float(jnp.sum(v)) == 0 for v in state.values())
