"""`kerax.saving`: registration and (de)serialization, as `keras.saving`."""

from kerax import _exports
from kerax.serialization.object_registration import (  # noqa: F401
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from kerax.serialization.serialization_lib import (  # noqa: F401
    deserialize_keras_object,
    enable_unsafe_deserialization,
    serialize_keras_object,
)
from kerax.saving.saving_api import (  # noqa: F401
    load_model,
    load_weights,
    save_model,
    save_weights,
)

__all__ = _exports.public_names(globals())
