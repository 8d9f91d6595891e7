"""`SwapEMAWeights`: evaluate and predict with the optimizer's moving-average weights."""

import jax

from kerax.callbacks.callback import Callback
from kerax.optimizers.optax_state import find_hyper_state, replace_hyper_state


def _partition(params, mask):
    """(trainable, frozen) trees, with None where a leaf belongs to the other one (the
    optimizer's EMA averages cover the trainable leaves)."""
    trainable = jax.tree_util.tree_map(lambda m, p: p if m else None, mask, params)
    frozen = jax.tree_util.tree_map(lambda m, p: None if m else p, mask, params)
    return trainable, frozen


def _combine(mask, trainable, frozen):
    return jax.tree_util.tree_map(lambda m, t, f: t if m else f, mask, trainable, frozen,
                                  is_leaf=lambda x: x is None)


class SwapEMAWeights(Callback):
    """Swaps the model's weights with their EMA (`use_ema=True`) for evaluation/prediction.

    Args:
        swap_on_epoch: also swap at each epoch's end (so `ModelCheckpoint` saves the EMA
            weights) and back at the next epoch's start; after the last epoch the model
            keeps the EMA weights.

    Example:
    >>> import kerax
    >>> model = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    >>> model.compile(optimizer=kerax.optimizers.SGD(use_ema=True), loss="mse")
    >>> cb = SwapEMAWeights(swap_on_epoch=True)
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _optimizer(self):
        opt = self.model.optimizer
        opt = getattr(opt, "inner_optimizer", opt)
        if not getattr(opt, "use_ema", False) or opt.state is None:
            raise ValueError(
                "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. "
                f"Received: use_ema={getattr(opt, 'use_ema', False)}"
            )
        return opt

    def _swap(self, finalize=False):
        opt = self._optimizer()
        mask = self.model._trainable_mask()
        params = self.model._variables["params"]
        trainable, frozen = _partition(params, mask)
        hs = find_hyper_state(opt.state)
        inner = dict(hs.inner_state)
        average = inner["average"]
        inner["average"] = average if finalize else trainable
        opt.state = replace_hyper_state(opt.state, hs._replace(inner_state=inner))
        self.model.variables = {"params": _combine(mask, average, frozen),
                                "state": self.model._variables["state"]}

    def _finalize(self):
        """Makes the stored averages equal to the (EMA) weights now in the model."""
        opt = self._optimizer()
        trainable, _ = _partition(self.model._variables["params"],
                                           self.model._trainable_mask())
        hs = find_hyper_state(opt.state)
        opt.state = replace_hyper_state(opt.state, hs._replace(
            inner_state={**hs.inner_state, "average": trainable}))

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True
            if epoch == self.params["epochs"] - 1:
                self._finalize()

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    on_predict_begin = on_test_begin
    on_predict_end = on_test_end
