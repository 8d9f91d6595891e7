"""Tiny data and a two-layer MLP hypermodel, written once for kerax and for Keras 3."""

import numpy as np


def data(n=64):
    rs = np.random.RandomState(0)
    x = rs.randn(n, 4).astype("float32")
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int32")


def make_build(lib, calls=None, extra=None):
    """`build(hp)` for `lib` (kerax or keras); appends `hp.values` to `calls`."""

    def build(hp):
        model = lib.Sequential([
            lib.Input((4,)),
            lib.layers.Dense(hp.Int("units", 4, 8, step=4), activation="relu"),
            lib.layers.Dense(2, activation="softmax"),
        ])
        lr = hp.Float("lr", 1e-3, 1e-1, sampling="log")
        if extra is not None:
            extra(hp)
        model.compile(optimizer=lib.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        if calls is not None:
            calls.append(dict(hp.values))
        return model

    return build
