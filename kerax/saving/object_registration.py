"""Keras' `keras.saving.object_registration` names; the code lives in `kerax.serialization`
(the bottom of the package stack, so that layers and losses need not import saving)."""

from kerax.serialization.object_registration import CustomObjectScope  # noqa: F401
from kerax.serialization.object_registration import custom_object_scope  # noqa: F401
from kerax.serialization.object_registration import get_custom_objects  # noqa: F401
from kerax.serialization.object_registration import get_registered_name  # noqa: F401
from kerax.serialization.object_registration import get_registered_object  # noqa: F401
from kerax.serialization.object_registration import register_keras_serializable  # noqa: F401
