"""`kerax.utils`: Keras' utilities."""

from kerax import _exports
from kerax.backend.dtypes import standardize_dtype  # noqa: F401
from kerax.backend.global_state import clear_session  # noqa: F401
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
    serialize_keras_object,
)
from kerax.utils.config import Config  # noqa: F401
from kerax.utils.dataset_utils import pack_x_y_sample_weight  # noqa: F401
from kerax.utils.dataset_utils import split_dataset  # noqa: F401
from kerax.utils.dataset_utils import unpack_x_y_sample_weight  # noqa: F401
from kerax.utils.file_utils import get_file  # noqa: F401
from kerax.utils.image_dataset_utils import image_dataset_from_directory  # noqa: F401
from kerax.utils.image_utils import array_to_img  # noqa: F401
from kerax.utils.image_utils import img_to_array  # noqa: F401
from kerax.utils.image_utils import load_img  # noqa: F401
from kerax.utils.image_utils import save_img  # noqa: F401
from kerax.utils.io_utils import disable_interactive_logging  # noqa: F401
from kerax.utils.io_utils import enable_interactive_logging  # noqa: F401
from kerax.utils.io_utils import is_interactive_logging_enabled  # noqa: F401
from kerax.utils.numerical_utils import normalize  # noqa: F401
from kerax.utils.numerical_utils import to_categorical  # noqa: F401
from kerax.utils.operation_utils import get_source_inputs  # noqa: F401
from kerax.utils.operation_utils import is_keras_tensor  # noqa: F401
from kerax.utils.progbar import Progbar  # noqa: F401
from kerax.utils.py_dataset import PyDataset  # noqa: F401
from kerax.utils.py_dataset import Sequence  # noqa: F401
from kerax.utils.rng_utils import set_random_seed  # noqa: F401
from kerax.utils.sequence_utils import pad_sequences  # noqa: F401
from kerax.utils.text_dataset_utils import text_dataset_from_directory  # noqa: F401
from kerax.utils.timeseries_dataset_utils import timeseries_dataset_from_array  # noqa: F401

__all__ = _exports.public_names(globals())
