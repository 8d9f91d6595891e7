"""Table-driven parity of every `keras.ops` name: kerax vs Keras 3 on the same inputs.

Each op gets input specs from `CASES` (or a default from its signature); values must match
(rtol 1e-5) and dtypes must be equal. `KNOWN_GAPS` lists ops that are missing or differ:
it may only shrink (an op in it that now passes fails the test, so it gets removed).
"""

import inspect

import jax
import numpy as np
import pytest

import kerax.ops

R = np.random.default_rng(0)


def f32(*shape, lo=-1.0, hi=1.0):
    return R.uniform(lo, hi, shape).astype("float32")


def i32(*shape, lo=0, hi=5):
    return R.integers(lo, hi, shape).astype("int32")


def a(values, dtype="float32"):
    return np.asarray(values, dtype)


X = f32(2, 3)
P = f32(2, 3, lo=0.1, hi=0.9)  # valid for log, arccos, sqrt, ...
I = i32(2, 3, lo=1)
SQ = f32(3, 3) + 3 * np.eye(3, dtype="float32")
SPD = SQ @ SQ.T
IMG = f32(1, 6, 6, 3, lo=0, hi=1)
B = np.array([[True, False, True], [False, False, True]])

UNARY_INPUTS = [(P,), (I,), (X.astype("float16"),)]
BINARY_INPUTS = [(P, P[::-1]), (I, I[::-1]), (I, P), (X.astype("float16"), 2.0),
                 (I.astype("int8"), I), (I, 2)]
BITWISE_INPUTS = [(I, I[::-1]), (I.astype("uint8"), I.astype("uint8")[::-1]), (I, 1)]
REDUCE_INPUTS = [((X,), {}), ((X,), {"axis": 1, "keepdims": True}), ((I,), {"axis": 0}),
                 ((B,), {})]

# name -> list of (args, kwargs)
CASES = {
    "all": [((B,), {}), ((B,), {"axis": 1})], "any": [((B,), {}), ((B,), {"axis": 0})],
    "allclose": [((X, X + 1e-9), {})], "isclose": [((X, X + 1e-3), {"atol": 1e-2})],
    "append": [((X, X), {}), ((X, I), {"axis": 0})],
    "arange": [((5,), {}), ((1, 5, 2), {}), ((0.5, 3.0), {}), ((3,), {"dtype": "float16"})],
    "argmax": [((X,), {}), ((X,), {"axis": 1})], "argmin": [((X,), {"axis": 0})],
    "argpartition": [((X, 1), {})], "argsort": [((X,), {}), ((I,), {"axis": 0})],
    "array": [(([1, 2],), {}), ((X,), {"dtype": "float16"})],
    "array_split": [((np.arange(7), 3), {})],
    "average": [((X,), {}), ((X,), {"axis": 1, "weights": a([1, 2, 3])}), ((I,), {})],
    "bartlett": [((5,), {})], "blackman": [((5,), {})], "hamming": [((5,), {})],
    "hanning": [((5,), {})], "kaiser": [((5, 0.5), {})],
    "bincount": [((a([0, 1, 1, 3], "int32"),), {}),
                 ((a([0, 1, 1], "int32"),), {"weights": a([0.5, 1, 2]), "minlength": 5})],
    "bitwise_invert": [((I,), {})], "bitwise_not": [((I,), {})],
    "broadcast_to": [((a([1, 2, 3]), (2, 3)), {})],
    "clip": [((X, -0.5, 0.5), {}), ((I, 1, 3), {}), ((B, 0, 1), {})],
    "concatenate": [(([X, X],), {}), (([X, I],), {"axis": 1})],
    "corrcoef": [((X,), {})], "correlate": [((a([1, 2, 3]), a([0, 1, 0.5])), {"mode": "full"})],
    "count_nonzero": [((I - 2,), {}), ((I - 2,), {"axis": 1})],
    "cross": [((f32(2, 3), f32(2, 3)), {})],
    "cumprod": [((X,), {}), ((I,), {"axis": 1})], "cumsum": [((X,), {"axis": 0}), ((B,), {})],
    "nancumprod": [((X,), {})], "nancumsum": [((X,), {"axis": 1})],
    "diag": [((X,), {}), ((a([1, 2]),), {"k": 1})], "diagflat": [((a([1, 2]),), {})],
    "diagonal": [((X,), {"offset": 1})], "diff": [((X,), {}), ((I,), {"n": 2})],
    "digitize": [((X, a([-0.5, 0, 0.5])), {})],
    "divide_no_nan": [((X, a([[0, 1, 2], [1, 0, 3]])), {})],
    "dot": [((X, X.T), {}), ((I, I.T), {})],
    "dsplit": [((f32(2, 2, 4), 2), {})], "hsplit": [((X, 3), {})], "vsplit": [((f32(4, 2), 2), {})],
    "dstack": [(([X, X],), {})], "hstack": [(([X, X],), {})], "vstack": [(([X, I],), {})],
    "einsum": [(("ij,kj->ik", X, X), {})],
    "empty": [(((2, 3),), {})], "zeros": [(((2, 3),), {}), (((2,),), {"dtype": "int32"})],
    "ones": [(((2, 3),), {})], "empty_like": [((X,), {})], "zeros_like": [((I,), {})],
    "ones_like": [((X,), {"dtype": "int32"})], "full": [(((2,), 3), {}), (((2,), 1.5), {})],
    "full_like": [((X, 2), {}), ((I, 1.5), {})],
    "expand_dims": [((X, 0), {}), ((X, (0, 3)), {})],
    "eye": [((3,), {}), ((2, 3, 1), {"dtype": "int32"})], "identity": [((3,), {})],
    "tri": [((3,), {}), ((3, 4, -1), {})],
    "flip": [((X,), {}), ((X,), {"axis": 1})],
    "fliplr": [((X,), {})], "flipud": [((X,), {})],
    "geomspace": [((1, 100, 5), {})], "linspace": [((0, 1, 5), {}), ((0, 10, 4), {"endpoint": False})],
    "logspace": [((0, 2, 5), {})],
    "get_item": [((X, 1), {}), ((X, (slice(None), 1)), {})],
    "histogram": [((X[0],), {}), ((X[1],), {"bins": 3, "range": (-1, 1)}), ((X,), {})],
    "isin": [((I, a([1, 2], "int32")), {})],
    "kron": [((X, X), {})],
    "ldexp": [((X, I), {})],
    "matmul": [((X, X.T), {}), ((I.astype("int8"), I.T.astype("int8")), {})],
    "max": [((X,), {}), ((X,), {"axis": 0, "keepdims": True}), ((I,), {"initial": 3})],
    "min": [((X,), {}), ((I,), {"axis": 1})],
    "median": [((X,), {}), ((I,), {"axis": 1})],
    "meshgrid": [((a([1, 2]), a([3, 4, 5])), {}), ((a([1, 2]), a([3, 4, 5])), {"indexing": "ij"})],
    "moveaxis": [((f32(1, 2, 3), 0, -1), {})],
    "nan_to_num": [((a([np.nan, np.inf, -np.inf, 1.0]),), {}),
                   ((a([np.nan, np.inf]),), {"nan": 1.0, "posinf": 5.0})],
    "ndim": [((X,), {})], "size": [((X,), {})],
    "nonzero": [((I - 2,), {})],
    "outer": [((a([1, 2]), a([1, 2, 3])), {})], "inner": [((X, X), {})],
    "vdot": [((X, X), {})],
    "pad": [((X, 1), {}), ((X, ((0, 1), (2, 0))), {"mode": "reflect"}),
            ((X, 1), {"constant_values": 3})],
    "percentile": [((X, 50), {}), ((X, a([25, 75])), {"axis": 1})],
    "quantile": [((X, 0.5), {}), ((I, a([0.25, 0.75])), {"axis": 0})],
    "nanpercentile": [((X, 50), {})], "nanquantile": [((X, 0.3), {})],
    "prod": [((X,), {}), ((I,), {"axis": 0}), ((I,), {"dtype": "float32"})],
    "ravel": [((X,), {})],
    "repeat": [((X, 2), {}), ((X, 2), {"axis": 1})],
    "reshape": [((X, (3, 2)), {}), ((X, (-1,)), {})],
    "roll": [((X, 1), {}), ((X, 1), {"axis": 1})],
    "rot90": [((X,), {}), ((X,), {"k": 2})],
    "round": [((X * 10,), {}), ((X,), {"decimals": 1})],
    "searchsorted": [((a([1, 2, 3]), a([2.5, 0])), {}), ((a([1, 2, 3]), a([2])), {"side": "right"})],
    "select": [(([X > 0, X < -0.5], [X, -X]), {})],
    "slogdet": [((SQ,), {})],
    "sort": [((X,), {}), ((X,), {"axis": 0})],
    "split": [((np.arange(6), 3), {}), ((X, [1, 2]), {"axis": 1})],
    "squeeze": [((f32(1, 3, 1),), {}), ((f32(1, 3, 1),), {"axis": 0})],
    "stack": [(([X, X],), {}), (([X, X],), {"axis": 1})],
    "swapaxes": [((f32(1, 2, 3), 0, 2), {})],
    "take": [((X, a([0, 2], "int32")), {}), ((X, a([0, 2], "int32")), {"axis": 1})],
    "take_along_axis": [((X, a([[0], [2]], "int32")), {"axis": 1})],
    "tensordot": [((X, X), {}), ((X, X.T), {"axes": 1})],
    "tile": [((X, 2), {}), ((X, (2, 1)), {})],
    "trace": [((X,), {}), ((I,), {})],
    "transpose": [((X,), {}), ((f32(1, 2, 3), (2, 0, 1)), {})],
    "trapezoid": [((X,), {}), ((I,), {"dx": 0.5})],
    "tril": [((X,), {}), ((X,), {"k": -1})], "triu": [((X,), {})],
    "unique": [((a([3, 1, 1, 2], "int32"),), {}),
               ((a([3, 1, 1, 2], "int32"),), {"return_counts": True, "return_inverse": True})],
    "unravel_index": [((a([5, 1], "int32"), (2, 3)), {})],
    "vander": [((a([1, 2, 3]),), {}), ((a([1, 2, 3]),), {"N": 2, "increasing": True})],
    "view": [((X, "int32"), {})],
    "where": [((X > 0, X, 0.0), {}), ((I > 2,), {})],
    "std": [((X,), {}), ((I,), {"axis": 1})], "var": [((X,), {}), ((X,), {"keepdims": True})],
    "mean": [((X,), {}), ((I,), {"axis": 1}), ((X.astype("float16"),), {})],
    "nanmean": [((a([1, np.nan, 3]),), {})], "nanmedian": [((a([1, np.nan, 3]),), {})],
    "nanstd": [((a([1, np.nan, 3]),), {})], "nanvar": [((a([1, np.nan, 3]),), {})],
    "nansum": [((a([1, np.nan, 3]),), {})], "nanprod": [((a([1, np.nan, 3]),), {})],
    "nanmax": [((a([1, np.nan, 3]),), {})], "nanmin": [((a([1, np.nan, 3]),), {})],
    "nanargmax": [((a([1, np.nan, 3]),), {})], "nanargmin": [((a([1, np.nan, 3]),), {})],
    "cbrt": [((X,), {}), ((I,), {})],
    # Core ops.
    "associative_scan": [((lambda x, y: x + y, X), {}), ((lambda x, y: x * y, X), {"axis": 1, "reverse": True})],
    "cast": [((X, "int32"), {}), ((I, "bfloat16"), {}), ((B, "float16"), {})],
    "saturate_cast": [((X * 300, "uint8"), {}), ((I * 100, "int8"), {})],
    "cond": [((True, lambda: X, lambda: -X), {}), ((False, lambda: X, lambda: -X), {})],
    "convert_to_tensor": [((X,), {}), (([1, 2],), {}), ((1.5,), {}), ((X,), {"dtype": "bfloat16"}),
                          (([True],), {})],
    "convert_to_numpy": [((X,), {})], "is_tensor": [((X,), {})], "shape": [((X,), {})],
    "dtype": [((X,), {}), ((I,), {})],
    "fori_loop": [((0, 3, lambda i, v: v * 2 + i, X), {})],
    "while_loop": [((lambda x: x.sum() < 10, lambda x: x + 1, X), {}),
                   ((lambda x, y: x < 5, lambda x, y: (x + 1, y * 2), (0, X)), {"maximum_iterations": 3})],
    "map": [((lambda x: x * 2, X), {})],
    "scan": [((lambda c, x: (c + x, c * x), np.zeros(3, "float32"), X), {}),
             ((lambda c, x: (c + 1, c), 0), {"length": 3, "reverse": True})],
    "scatter": [((a([[0, 1], [1, 2], [0, 1]], "int32"), a([1, 2, 3]), (2, 3)), {})],
    "scatter_update": [((X, a([[0, 1], [1, 2]], "int32"), a([5, 6])), {}),
                       ((X, a([[0, 1], [0, 1]], "int32"), a([5, 6])), {"reduction": "add"})],
    "slice": [((X, (0, 1), (2, 2)), {})], "slice_update": [((X, (1, 1), a([[7, 8]])), {})],
    "stop_gradient": [((X,), {})],
    "switch": [((1, [lambda x: x, lambda x: -x], X), {}), ((5, [lambda x: x, lambda x: -x], X), {})],
    "unstack": [((X,), {}), ((X,), {"axis": 1})],
    "vectorized_map": [((lambda x: x.sum(), X), {})],
}
for _name in ("sum", "amax", "amin", "ptp"):
    CASES.setdefault(_name, REDUCE_INPUTS)

# Ops missing from kerax or differing from Keras. This list may only shrink.
KNOWN_GAPS = {
    "adaptive_average_pool", "adaptive_max_pool", "average_pool", "batch_normalization",
    "binary_crossentropy", "categorical_crossentropy", "cdist", "celu", "cholesky",
    "cholesky_inverse", "conv", "conv_transpose", "ctc_decode", "ctc_loss",
    "depth_to_space", "depthwise_conv", "det", "dot_product_attention", "eig", "eigh",
    "elu", "erf", "erfc", "erfinv", "extract_sequences", "fft", "fft2", "fold", "gelu",
    "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
    "ifft2", "in_top_k", "inv", "irfft", "istft", "jvp", "layer_normalization",
    "leaky_relu", "log_sigmoid", "log_softmax", "logdet", "logsumexp", "lstsq",
    "lu_factor", "matrix_rank", "max_pool", "moments", "multi_hot", "norm", "normalize",
    "one_hot", "pinv", "polar", "psnr", "qr", "rearrange", "relu", "relu6", "rfft",
    "rms_normalization", "rsqrt", "segment_max", "segment_min", "segment_prod",
    "segment_sum", "selu", "separable_conv", "sigmoid", "silu", "soft_shrink",
    "softmax", "softplus", "softsign", "solve", "solve_triangular", "space_to_depth",
    "sparse_categorical_crossentropy", "sparse_plus", "sparse_sigmoid", "sparsemax",
    "squareplus", "stft", "svd", "swish", "tanh_shrink", "threshold", "top_k", "unfold",
    "view_as_complex", "view_as_real",
}

# Ops whose results are random, opaque (functions, modules) or not comparable by value.
NOT_COMPARED = {"custom_gradient", "vectorize", "image", "linalg", "nn", "numpy", "empty",
                "empty_like"}


def _keras_names(keras):
    return sorted(n for n in dir(keras.ops) if not n.startswith("_"))


def _cases(name, keras):
    if name in CASES:
        return CASES[name]
    params = list(inspect.signature(getattr(keras.ops, name)).parameters)
    if params == ["x"]:
        return [(args, {}) for args in UNARY_INPUTS]
    if params in (["x1", "x2"], ["x", "y"]):
        inputs = BITWISE_INPUTS if name.startswith(("bitwise", "left", "right")) else BINARY_INPUTS
        return [(args, {}) for args in inputs]
    return None


def _run(fn, args, kwargs):
    try:
        return fn(*args, **kwargs), None
    except Exception as e:  # noqa: BLE001 - the error itself is compared
        return None, type(e).__name__


def _compare(name, ours, theirs):
    ours_leaves = jax.tree_util.tree_leaves(ours)
    theirs_leaves = jax.tree_util.tree_leaves(theirs)
    assert len(ours_leaves) == len(theirs_leaves), f"{name}: output structure differs"
    for o, t in zip(ours_leaves, theirs_leaves):
        o, t = np.asarray(o), np.asarray(t)
        assert o.shape == t.shape, f"{name}: shape {o.shape} != Keras' {t.shape}"
        assert str(o.dtype) == str(t.dtype), f"{name}: dtype {o.dtype} != Keras' {t.dtype}"
        if o.dtype.kind in "fc" or str(o.dtype) == "bfloat16":
            np.testing.assert_allclose(o.astype("complex128"), t.astype("complex128"),
                                       rtol=1e-5, atol=1e-5, equal_nan=True, err_msg=name)
        else:
            np.testing.assert_array_equal(o, t, err_msg=name)


def _check(name, keras):
    if not hasattr(kerax.ops, name):
        raise AssertionError(f"kerax.ops.{name} is missing")
    cases = _cases(name, keras)
    if cases is None:
        raise AssertionError(f"no input spec for {name}: add an entry to CASES")
    for args, kwargs in cases:
        theirs, their_err = _run(getattr(keras.ops, name), args, kwargs)
        ours, our_err = _run(getattr(kerax.ops, name), args, kwargs)
        assert our_err == their_err, f"{name}{args!r}: kerax raised {our_err}, Keras {their_err}"
        if their_err is None:
            _compare(name, ours, theirs)


def test_known_gaps_are_real_names(keras):
    assert KNOWN_GAPS <= set(_keras_names(keras))


def test_parity(keras, subtests=None):
    failures = {}
    for name in _keras_names(keras):
        if name in NOT_COMPARED:
            continue
        try:
            _check(name, keras)
        except AssertionError as e:
            failures[name] = str(e).splitlines()[0][:200]
    new = {n: m for n, m in failures.items() if n not in KNOWN_GAPS}
    fixed = sorted(KNOWN_GAPS - set(failures))
    assert not new, "ops differing from Keras:\n" + "\n".join(f"{n}: {m}" for n, m in new.items())
    assert not fixed, f"these ops now match Keras: remove them from KNOWN_GAPS: {fixed}"


def test_signatures_match_keras(keras):
    """Argument names, order and defaults are Keras' (for every op kerax has)."""
    differing = []
    for name in _keras_names(keras):
        theirs, ours = getattr(keras.ops, name), getattr(kerax.ops, name, None)
        if ours is None or inspect.ismodule(theirs) or name in KNOWN_GAPS:
            continue
        if str(inspect.signature(ours)) != str(inspect.signature(theirs)):
            differing.append(f"{name}{inspect.signature(ours)} vs {inspect.signature(theirs)}")
    assert not differing, "\n".join(differing)
