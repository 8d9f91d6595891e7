"""`model.export(path, format="onnx")` through jax2onnx (an optional extra; no TensorFlow).

jax2onnx pins its own dependency versions (orbax-checkpoint among them), so it is not part
of the core install: `pip install jax2onnx onnxruntime`, ideally in its own environment.
"""

import collections
import os

import jax
import numpy as np

from kerax.export.export_archive import (get_input_signature, inference_function,
                                         spec_fields)
from kerax.export.onnx_lowering import onnx_compatible

# an input for jax2onnx: a shape whose symbolic dimensions are names ("B"), and a dtype
_Spec = collections.namedtuple("_Spec", ["shape", "dtype"])


def export_onnx(model, filepath, verbose=None, input_signature=None, opset_version=None,
                **kwargs):
    """Writes `model`'s inference call as an ONNX file (Keras 3's `export_onnx` arguments).

    `None` dimensions of the input signature (the batch, and others the model leaves free)
    become symbolic ONNX dimensions (`B`, `d1`, ...); the weights are the graph's
    initializers. Inputs are named after the model's inputs, outputs `output_0`, ... (or
    the keys of a dict output).

    Args:
        model: a built kerax model.
        filepath: the `.onnx` file to write.
        verbose: print where the file was written (default True).
        input_signature: as for `Model.export`; default: the model's inputs.
        opset_version: the ONNX opset (default: jax2onnx's).
    """
    try:
        import jax2onnx
    except ImportError as e:
        raise ImportError(
            f"format=\"onnx\" needs jax2onnx ({e}). Install it with `pip install jax2onnx "
            "onnxruntime` (or `pip install kerax[onnx]`); it pins its own versions of "
            "orbax-checkpoint and others, so a separate environment is safest.") from e
    if kwargs:
        raise ValueError(f"export(format=\"onnx\"): unknown arguments {sorted(kwargs)}.")
    if input_signature is None:
        input_signature = get_input_signature(model)
    elif not isinstance(input_signature, (list, tuple)):
        input_signature = [input_signature]
    weights = jax.tree_util.tree_leaves(model._variables)
    pure = inference_function(model, model, [model])
    leaves, treedef = jax.tree_util.tree_flatten(
        list(input_signature), is_leaf=lambda s: not isinstance(s, (list, tuple, dict)))
    specs, names, extra = [], [], [0]
    for i, leaf in enumerate(leaves):
        shape, dtype, name = spec_fields(leaf, "serve", i)
        dims = []
        for axis, d in enumerate(shape):
            if d is None:
                extra[0] += axis > 0
                dims.append("B" if axis == 0 else f"d{extra[0]}")
            else:
                dims.append(int(d))
        specs.append(_Spec(tuple(dims), np.dtype(dtype)))
        names.append(name or (f"input_{i}" if len(leaves) > 1 else "input"))

    def flat(*xs):
        out = pure(weights, *jax.tree_util.tree_unflatten(treedef, list(xs)))
        return tuple(jax.tree_util.tree_leaves(out))

    concrete = [jax.ShapeDtypeStruct(tuple(1 if d is None else d for d in spec_fields(
        leaf, "serve", i)[0]), np.dtype(spec_fields(leaf, "serve", i)[1]))
        for i, leaf in enumerate(leaves)]
    out_struct = jax.eval_shape(
        lambda *xs: pure(weights, *jax.tree_util.tree_unflatten(treedef, list(xs))), *concrete)
    out_names = _output_names(out_struct)
    inputs = specs
    kw = {} if opset_version is None else {"opset": opset_version}
    filepath = os.fspath(filepath)
    jax2onnx.to_onnx(onnx_compatible(flat), inputs, model_name=model.name, input_names=names,
                     output_names=out_names, return_mode="file", output_path=filepath, **kw)
    if verbose is None or verbose:
        print(f"Saved the ONNX model at '{filepath}' (inputs {names}, outputs {out_names}).")


def _output_names(out):
    if isinstance(out, dict):
        return [str(k) for k in out]
    leaves = jax.tree_util.tree_leaves(out)
    return ["output"] if len(leaves) == 1 else [f"output_{i}" for i in range(len(leaves))]
