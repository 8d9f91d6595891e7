"""`kerax.serialization`: Keras 3's object format, registration and name tables.

The bottom of kerax's package stack (it imports only `kerax.errors` and the standard
library), so every namespace can (de)serialize its objects without importing
`kerax.saving`. `kerax.saving` and `kerax.utils` re-export its public names under
Keras' spellings (`keras.saving.register_keras_serializable`, ...).
"""

from kerax import _exports
from kerax.serialization.object_registration import CustomObjectScope
from kerax.serialization.object_registration import custom_object_scope
from kerax.serialization.object_registration import get_custom_objects
from kerax.serialization.object_registration import get_registered_name
from kerax.serialization.object_registration import get_registered_object
from kerax.serialization.object_registration import register_keras_serializable
from kerax.serialization.registry import ObjectRegistry
from kerax.serialization.serialization_lib import SafeModeScope
from kerax.serialization.serialization_lib import deserialize_keras_object
from kerax.serialization.serialization_lib import enable_unsafe_deserialization
from kerax.serialization.serialization_lib import in_safe_mode
from kerax.serialization.serialization_lib import serialize_keras_object

__all__ = _exports.public_names(globals())
