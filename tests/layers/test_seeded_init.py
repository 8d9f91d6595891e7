import numpy as np

import kerax


def test_seeded_initializers_give_keras_weights(keras):
    kd = keras.layers.Dense(5, kernel_initializer=keras.initializers.GlorotUniform(seed=42),
                            bias_initializer=keras.initializers.RandomNormal(seed=3))
    kd.build((None, 4))
    xd = kerax.layers.Dense(5, kernel_initializer=kerax.initializers.GlorotUniform(seed=42),
                            bias_initializer=kerax.initializers.RandomNormal(seed=3))
    xd.build((None, 4))
    for a, b in zip(xd.get_weights(), kd.get_weights()):
        np.testing.assert_array_equal(a, b)
