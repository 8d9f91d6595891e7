"""Keras' `keras.saving.serialization_lib` names; the code lives in `kerax.serialization`
(the bottom of the package stack, so that layers and losses need not import saving)."""

from kerax.serialization.serialization_lib import SafeModeScope  # noqa: F401
from kerax.serialization.serialization_lib import check_config_safety  # noqa: F401
from kerax.serialization.serialization_lib import deserialize_keras_object  # noqa: F401
from kerax.serialization.serialization_lib import enable_unsafe_deserialization  # noqa: F401
from kerax.serialization.serialization_lib import in_safe_mode  # noqa: F401
from kerax.serialization.serialization_lib import serialize_keras_object  # noqa: F401
