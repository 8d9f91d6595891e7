"""`kerax.models`: `Model`, `Sequential`, and (de)serialization of models."""

from kerax import _exports
from kerax.models.model import Model  # noqa: F401
from kerax.models.sequential import Sequential  # noqa: F401
from kerax.saving.saving_api import load_model, save_model  # noqa: F401
from kerax.models.cloning import clone_model, model_from_json  # noqa: F401

__all__ = _exports.public_names(globals())
