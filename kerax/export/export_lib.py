"""`model.export(filepath, format=...)`: Keras 3's one-call export (no TensorFlow)."""

from kerax.export.export_archive import ExportArchive
from kerax.export.host_prefix import refuse_host_prefix
from kerax.export.litert import export_litert
from kerax.export.onnx import export_onnx


def export_model(model, filepath, format="jax", verbose=None, input_signature=None,
                 **kwargs):
    """Writes `model`'s inference call as the endpoint `serve` (see `Model.export`)."""
    if format in ("onnx", "litert"):
        refuse_host_prefix(model, format)
    if format == "onnx":
        return export_onnx(model, filepath, verbose=verbose, input_signature=input_signature,
                           **kwargs)
    if format == "litert":
        return export_litert(model, filepath, verbose=verbose,
                             input_signature=input_signature, **kwargs)
    if format != "jax":
        hint = (" kerax writes no SavedModel (it needs TensorFlow); the jax artifact is "
                "served by `python -m kerax.serve` over TF Serving's REST API."
                if format == "tf_saved_model" else "")
        raise ValueError(f"Unsupported export format {format!r}; expected \"jax\", "
                         f"\"onnx\" or \"litert\".{hint}")
    archive = ExportArchive()
    archive.track(model)
    if input_signature is not None and not isinstance(input_signature, (list, tuple)):
        input_signature = [input_signature]
    archive.add_endpoint("serve", model, input_signature, **kwargs)
    archive.write_out(filepath, verbose=True if verbose is None else verbose)
