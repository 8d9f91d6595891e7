"""`kerax.saving`: registration and (de)serialization, as `keras.saving`."""

from kerax.saving.object_registration import (  # noqa: F401
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from kerax.saving.serialization_lib import (  # noqa: F401
    deserialize_keras_object,
    serialize_keras_object,
)
from kerax.saving.saving_api import (  # noqa: F401
    load_model,
    load_weights,
    save_model,
    save_weights,
)
from kerax.saving.serialization_lib import enable_unsafe_deserialization  # noqa: F401
