"""`model.export(path, format="litert")`: a `.tflite` flatbuffer without TensorFlow.

The route litert-torch takes, from JAX: the inference function is lowered with
`jax.export` (for the CPU, `None` dimensions symbolic, the weights baked in as
constants as a TFLite file holds them), its portable StableHLO artifact is read into
the converter of the `litert-converter` package, converted to the TFLite dialect and
written as a flatbuffer. Nothing imports TensorFlow, and jax's configuration (e.g.
`jax_enable_x64`) is left as it was.

`litert-converter` (with `ai-edge-litert`, its interpreter) is an optional extra:
`pip install litert-converter ai-edge-litert` (or `kerax[litert]`).
"""

import os

import jax

from kerax.export.export_archive import (get_input_signature, inference_function,
                                         lower_endpoint)

SIGNATURE_KEY = "serving_default"


def _converter():
    try:
        from litert_converter import converter_api_ext
        from litert_converter.mlir import ir, passmanager
        from litert_converter.mlir.dialects import stablehlo
    except ImportError as e:
        raise ImportError(
            f"format=\"litert\" needs the LiteRT converter ({e}). Install it with `pip "
            "install litert-converter ai-edge-litert` (or `pip install kerax[litert]`); no "
            "TensorFlow is needed. litert-converter pins typing-extensions<4.13 through "
            "xdsl, older than chex asks for, so a separate environment is safest.") from e
    return converter_api_ext, ir, passmanager, stablehlo


def export_litert(model, filepath, verbose=None, input_signature=None, **kwargs):
    """Writes `model`'s inference call as a LiteRT (TFLite) flatbuffer (no TensorFlow).

    The file has one signature, `serving_default`, whose inputs are named after the
    model's inputs and whose outputs are `output` (or `output_0`, ..., or the keys of a
    dict output). Dimensions left `None` (the batch, and others the model leaves free)
    stay dynamic: the interpreter's signature runner resizes them per call.

    Args:
        model: a built kerax model.
        filepath: the file to write; must end with `.tflite` (as in Keras 3).
        verbose: print where the file was written (default True).
        input_signature: as for `Model.export`; default: the model's inputs.

    Raises:
        ImportError: `litert-converter` is not installed (the message says how).
        ValueError: the path does not end with `.tflite`, an unknown argument was
            given, or the converter refused the program (its message is included).
    """
    filepath = os.fspath(filepath)
    if not str(filepath).endswith(".tflite"):
        raise ValueError("The LiteRT export requires the filepath to end with '.tflite'. "
                         f"Got: {filepath}")
    if kwargs:
        raise ValueError(f"export(format=\"litert\"): unknown arguments {sorted(kwargs)}; "
                         "kerax's converter takes none (TensorFlow's converter options do "
                         "not apply).")
    converter, ir, passmanager, stablehlo = _converter()
    if input_signature is None:
        input_signature = get_input_signature(model)
    elif not isinstance(input_signature, (list, tuple)):
        input_signature = [input_signature]
    weights = jax.tree_util.tree_leaves(model._variables)
    pure = inference_function(model, model, [model])
    exported, sig = lower_endpoint(SIGNATURE_KEY, lambda _, *xs: pure(weights, *xs), [],
                                   list(input_signature), ("cpu",))
    context = ir.Context()
    converter.prepare_mlir_context(context)
    try:
        with context:
            module = stablehlo.deserialize_portable_artifact(
                context, exported.mlir_module_serialized)
            converter.set_signature(module.operation, SIGNATURE_KEY,
                                    [s["name"] for s in sig["inputs"]],
                                    [s["name"] for s in sig["outputs"]])
            converter.run_convert_to_tfl_passes(module, passmanager.PassManager(),
                                                converter.ConvertToTFLConfig())
            flatbuffer = converter.export_flatbuffer_to_bytes(module.operation)
    except Exception as e:  # the converter's own message, where it gives one
        detail = str(e).strip().rstrip(":") or type(e).__name__
        raise ValueError(
            f"The LiteRT converter could not convert model '{model.name}' ({detail}). "
            "litert-converter 0.5 fails this way, without naming the op, on loops (a "
            "recurrent layer, `lax.scan`) and on unrolled recurrent layers with a dynamic "
            "batch: build recurrent layers with `unroll=True` and pass an `input_signature` "
            "with a fixed batch size, or export with format=\"jax\" or \"onnx\".") from e
    with open(filepath, "wb") as f:
        f.write(flatbuffer)
    if verbose is None or verbose:
        print(f"Saved the LiteRT model at '{filepath}' (signature '{SIGNATURE_KEY}', "
              f"inputs {[s['name'] for s in sig['inputs']]}, outputs "
              f"{[s['name'] for s in sig['outputs']]}).")
