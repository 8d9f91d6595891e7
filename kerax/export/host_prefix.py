"""The host prefix of an exported model: string layers that run in NumPy before the program.

Strings never enter XLA. A model whose first layers are host layers (`TextVectorization`,
`StringLookup`, `IntegerLookup`, `Hashing`, `HashedCrossing`; see
`kerax.trainer.host_prefix`) is exported as two halves, as `fit` and `predict` run it:

- the compiled remainder, lowered with `jax.export` for what the prefix outputs;
- the prefix: each host layer saved as a `.keras` file (its JSON config, vocabulary and
  IDF weights; no code) beside the program, with one JSON step per layer in
  `signature.json` saying which inputs it reads and which it replaces.

`kerax.export.load(path).serve(strings)` and `python -m kerax.serve` rebuild the layers
(`safe_mode`: built-in host layers only) and apply them before the program runs.
"""

import contextlib
import os

import jax
import numpy as np

from kerax.backend.keras_tensor import KerasTensor
from kerax.export import verify
from kerax.layers.input_spec import InputSpec
from kerax.saving import saving_api
from kerax.trainer import host_prefix


class HostPrefix:
    """The host layers in front of a model, as export steps over the flat inputs.

    Args:
        steps: a list of `(layer, input_indices, output_index)`: the layer reads the flat
            inputs at `input_indices` (one, or several for `HashedCrossing`) and its
            output replaces input `output_index`; the other inputs it read become
            placeholders (zeros of shape `(batch,)`, as in `fit`).
        raw_inputs: the specs of the inputs the caller passes (before the prefix).
    """

    def __init__(self, steps, raw_inputs):
        self.steps, self.raw_inputs = steps, raw_inputs

    def __call__(self, flat, endpoint):
        """The flat raw inputs with the prefix applied (NumPy; errors name the layer)."""
        flat = list(flat)
        for layer, indices, output in self.steps:
            args = [flat[i] for i in indices]
            try:
                out = layer.host_call(args[0] if len(args) == 1 else args)
            except (TypeError, ValueError) as e:
                raise type(e)(f"Endpoint '{endpoint}': the host layer "
                              f"{type(layer).__name__} '{layer.name}' could not process "
                              f"its input: {e}") from None
            for i in indices:
                flat[i] = np.zeros(len(out), np.int32)
            flat[output] = np.asarray(out)
        return flat


def of_model(model, input_signature):
    """The `(HostPrefix, program input signature)` of a model whose first layers run on
    the host, or `(None, input_signature)` for one without such layers.

    Raises:
        ValueError: the model has a host prefix and `input_signature` was given (the
            prefix's output specs are derived from the model's own inputs).
    """
    plan = host_prefix.prefix(model)
    if plan is None:
        return None, input_signature
    layers = plan[1] if plan[0] == "sequential" else [layer for layer, _ in plan[1].values()]
    if input_signature is not None:
        raise ValueError(
            f"Cannot export '{model.name}' with an `input_signature`: its first layers "
            f"({', '.join(repr(layer.name) for layer in layers)}) run on the host, and "
            "the export derives the program's inputs from the model's own. Omit "
            "`input_signature`.")
    struct = getattr(model, "_inputs_struct", None)
    inputs = list(model.inputs)
    tensors = struct if struct is not None else inputs
    flat_tensors = jax.tree_util.tree_leaves(
        tensors, is_leaf=lambda t: isinstance(t, KerasTensor))
    position = {id(t): k for k, t in enumerate(flat_tensors)}
    raw = [_spec(t.shape, t.dtype, t._keras_history[0].name) for t in flat_tensors]
    program = list(raw)
    steps = []
    if plan[0] == "sequential":
        spec = flat_tensors[0]
        for layer in plan[1]:
            spec = layer.host_output_spec(spec)
            steps.append((layer, [0], 0))
        program[0] = _spec(spec.shape, spec.dtype, raw[0].name)
    else:
        for i, (layer, others) in plan[1].items():
            ks = [position[id(inputs[i])]] + [position[id(inputs[j])] for j in others or []]
            specs = [flat_tensors[k] for k in ks]
            spec = layer.host_output_spec(specs[0] if len(specs) == 1 else specs)
            for k in ks[1:]:
                program[k] = _spec((None,), "int32", raw[k].name)
            program[ks[0]] = _spec(spec.shape, spec.dtype, raw[ks[0]].name)
            steps.append((layer, ks, ks[0]))
    structure = jax.tree_util.tree_structure(
        tensors, is_leaf=lambda t: isinstance(t, KerasTensor))
    signature = jax.tree_util.tree_unflatten(structure, program)
    signature = [signature] if struct is not None else list(signature)
    return HostPrefix(steps, raw), signature


def refuse_host_prefix(model, format):
    """A clear error for formats that cannot carry host layers (ONNX, LiteRT).

    Raises:
        ValueError: `model`'s first layers run on the host; names them and the fixes.
    """
    plan = host_prefix.prefix(model)
    if plan is None:
        return
    layers = plan[1] if plan[0] == "sequential" else [layer for layer, _ in plan[1].values()]
    names = ", ".join(f"{type(layer).__name__} '{layer.name}'" for layer in layers)
    raise ValueError(
        f"Cannot export '{model.name}' with format={format!r}: its first layers ({names}) "
        "process strings on the host, which the file cannot hold. Export the model after "
        "them (a model of the following layers, taking what they output) and apply them "
        "on the client, or use format=\"jax\", whose artifact carries them.")


def running_on_host(model):
    """While active, `model`'s host layers pass traced inputs through (they run before
    the program), as in `predict`; a no-op for `None`."""
    return contextlib.nullcontext() if model is None else host_prefix.in_pipeline(model)


def _spec(shape, dtype, name):
    return InputSpec(shape=(None,) + tuple(shape[1:]), dtype=dtype, name=name)


def write(prefix, dirpath, endpoint):
    """Saves the prefix's layers into `dirpath`; returns its `signature.json` entry."""
    steps = []
    for n, (layer, indices, output) in enumerate(prefix.steps):
        file = f"{endpoint}.host_{n}.keras"
        saving_api.save_model(layer, os.path.join(dirpath, file))
        steps.append({"file": file, "layer": layer.name, "class_name": type(layer).__name__,
                      "inputs": list(indices), "output": int(output)})
    inputs = [{"name": s.name, "shape": [None if d is None else int(d) for d in s.shape],
               "dtype": str(s.dtype)} for s in prefix.raw_inputs]
    return {"inputs": inputs, "steps": steps}


def read(dirpath, endpoint, entry, files, n_inputs):
    """The `HostPrefix` that `write` described in `entry` (checked before loading).

    Raises:
        ExportCorruptedError: the entry is malformed, names a file the checksums do not
            cover, or a file holds something other than a built-in host layer.
    """
    where = f"endpoint '{endpoint}': signature.json's \"host_prefix\""
    if not (isinstance(entry, dict) and isinstance(entry.get("inputs"), list)
            and isinstance(entry.get("steps"), list) and len(entry["inputs"]) == n_inputs):
        raise verify.corrupt(dirpath, f"{where} is not an object with \"inputs\" (one per "
                                      f"input, {n_inputs}) and \"steps\" lists")
    steps = []
    for step in entry["steps"]:
        ok = (isinstance(step, dict) and step.get("file") in files
              and isinstance(step.get("inputs"), list) and step["inputs"]
              and all(isinstance(i, int) and 0 <= i < n_inputs for i in step["inputs"])
              and step.get("output") in step["inputs"])
        if not ok:
            raise verify.corrupt(dirpath, f"{where} has the step {str(step)[:200]}; expected "
                                          "a \"file\" covered by the checksums, \"inputs\" "
                                          "indices and an \"output\" among them")
        with verify.reading(dirpath, step["file"]):
            layer = saving_api.load_model(os.path.join(dirpath, step["file"]), compile=False)
        if not hasattr(type(layer), "host_output_spec"):
            raise verify.corrupt(dirpath, f"'{step['file']}' holds a {type(layer).__name__}, "
                                          "not a host layer (TextVectorization, StringLookup, "
                                          "IntegerLookup, Hashing, HashedCrossing)")
        steps.append((layer, list(step["inputs"]), step["output"]))
    with verify.reading(dirpath, "signature.json"):
        raw = [InputSpec(shape=tuple(s["shape"]), dtype=s["dtype"], name=str(s["name"]))
               for s in entry["inputs"]]
    return HostPrefix(steps, raw)
