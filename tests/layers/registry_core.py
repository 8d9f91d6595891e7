from tests.layers.conformance import Case

CASES = [
    Case("Dense", dict(units=3), (2, 4), bad_input_shape=(4,)),
    Case("Dense", dict(units=3, activation="tanh", use_bias=False), (2, 5, 4), id="3d-nobias"),
    Case("Dense", dict(units=3, lora_rank=2), (2, 4), id="lora"),
    Case("Activation", dict(activation="relu"), (2, 4), grad=False),
    Case("Dropout", dict(rate=0.3), (2, 4), training_parity=False),
    Case("Flatten", {}, (2, 3, 4), bad_input_shape=()),
    Case("Reshape", dict(target_shape=(3, 4)), (2, 12), bad_input_shape=(2, 10)),
    Case("Reshape", dict(target_shape=(-1, 2)), (2, 3, 4), id="minus-one"),
]
