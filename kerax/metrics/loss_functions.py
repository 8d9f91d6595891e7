"""The loss functions Keras also exports as metrics (`keras.metrics.mean_absolute_error`, ...).

They are `kerax.losses`' per-sample functions, re-exported under Keras' metric names.
"""

from kerax.losses import (  # noqa: F401
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
