"""`kerax.utils`: Keras' utilities."""

from kerax.utils.dataset_utils import pack_x_y_sample_weight  # noqa: F401
from kerax.utils.dataset_utils import split_dataset  # noqa: F401
from kerax.utils.dataset_utils import unpack_x_y_sample_weight  # noqa: F401
from kerax.utils.file_utils import get_file  # noqa: F401
from kerax.utils.image_dataset_utils import image_dataset_from_directory  # noqa: F401
from kerax.utils.numerical_utils import normalize  # noqa: F401
from kerax.utils.numerical_utils import to_categorical  # noqa: F401
from kerax.utils.progbar import Progbar  # noqa: F401
from kerax.utils.py_dataset import PyDataset  # noqa: F401
from kerax.utils.py_dataset import Sequence  # noqa: F401
from kerax.utils.rng_utils import set_random_seed  # noqa: F401
from kerax.utils.sequence_utils import pad_sequences  # noqa: F401
from kerax.utils.text_dataset_utils import text_dataset_from_directory  # noqa: F401
from kerax.utils.timeseries_dataset_utils import timeseries_dataset_from_array  # noqa: F401
