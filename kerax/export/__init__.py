"""Export for serving without TensorFlow: `ExportArchive`, `load` (see docs/export.md)."""

from kerax.export.artifact import LoadedExport, load  # noqa: F401
from kerax.export.export_archive import ExportArchive  # noqa: F401
from kerax.export.export_lib import export_model
from kerax.models import model as _model_lib

_model_lib.register_exporter(export_model)
