"""`TrainState`: everything a training step reads and writes, as one pytree."""

from typing import Any, NamedTuple


class TrainState(NamedTuple):
    """The pure step's state: `train_step(TrainState, batch) -> (TrainState, logs)`.

    Attributes:
        params: trainable and frozen parameters (the model's `variables["params"]`).
        state: the model's non-trainable state (`variables["state"]`).
        opt_state: the optimizer's state (for the trainable params only).
        metric_state: `{metric_name: state}` for the loss tracker and compiled metrics.
        rng: the key that random layers draw from; split every step.
        step: the number of steps taken (an int32 scalar).
    """

    params: Any
    state: Any
    opt_state: Any
    metric_state: Any
    rng: Any
    step: Any
