"""Public names of the Keras-ported image layers (RandomPerspective, RandomElasticTransform,
CLAHE, MaxNumBoundingBoxes, RandAugment, AugMix), re-exported by `kerax.layers`."""

from kerax.layers.preprocessing.aug_mix import AugMix
from kerax.layers.preprocessing.clahe import ContrastLimitedAdaptiveHistogramEqualization
from kerax.layers.preprocessing.max_num_bounding_boxes import MaxNumBoundingBoxes
from kerax.layers.preprocessing.rand_augment import RandAugment
from kerax.layers.preprocessing.random_elastic_transform import RandomElasticTransform
from kerax.layers.preprocessing.random_perspective import RandomPerspective

__all__ = ["AugMix", "ContrastLimitedAdaptiveHistogramEqualization", "MaxNumBoundingBoxes",
           "RandAugment", "RandomElasticTransform", "RandomPerspective"]
