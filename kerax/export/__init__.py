"""Export for serving without TensorFlow: `ExportArchive`, `load` (see docs/export.md).

`model.export(path, format="jax")` writes a `jax.export` artifact, `load(path)` reloads
it, `python -m kerax.serve path` serves it over TF Serving's REST API, and
`format="onnx"` writes ONNX through jax2onnx (an optional extra).
"""

from kerax import _exports
from kerax.export.artifact import LoadedExport, load  # noqa: F401
from kerax.export.export_archive import ExportArchive  # noqa: F401
from kerax.export.export_lib import export_model as _export_model
from kerax.models import model as _model_lib

_model_lib.register_exporter(_export_model)

__all__ = _exports.public_names(globals())
