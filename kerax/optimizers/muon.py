import re

import jax.numpy as jnp

from kerax.backend import host_constants
from kerax.optimizers.adam import adam_leaf_update
from kerax.optimizers.base_optimizer import Optimizer
from kerax.optimizers.optax_state import SLOTS, simple_transform
from kerax.optimizers.optimizer_variables import Slot


def _swap_last_axes(x):
    return jnp.swapaxes(x, -1, -2)


class Muon(Optimizer):
    """Muon as Keras 3: Newton-Schulz-orthogonalized momentum for 2-D weights, AdamW else.

    A leaf uses AdamW (with `adam_weight_decay` and `learning_rate * adam_lr_ratio`) when
    it is not 2-D, when `exclude_embeddings` and its path contains "embedding", or when
    its path matches a regex in `exclude_layers`; paths are like `"dense/kernel"`.

    Args:
        learning_rate: float or `LearningRateSchedule`. Defaults to 0.001.
        adam_beta_1, adam_beta_2: AdamW's betas. Default to 0.9 and 0.999.
        adam_weight_decay: weight decay of the AdamW leaves. Defaults to 0.004.
        epsilon: AdamW's epsilon. Defaults to 1e-7.
        weight_decay: weight decay of the Muon leaves. Defaults to 0.004.
        exclude_layers: list of regexes of paths that use AdamW.
        exclude_embeddings: embeddings use AdamW. Defaults to True.
        muon_a, muon_b, muon_c: Newton-Schulz coefficients.
        adam_lr_ratio: AdamW's rate relative to `learning_rate`. Defaults to 1.
        momentum: Muon's momentum. Defaults to 0.95.
        ns_steps: Newton-Schulz iterations. Defaults to 5.
        nesterov: Nesterov momentum. Defaults to True.
        rms_rate: scale so the update's RMS matches AdamW's (None: no scaling).
        **kwargs: the common optimizer arguments (`clipnorm`, `use_ema`, ...).

    Example:
    >>> Muon()._should_use_adamw("embedding/embeddings", (10, 4))
    True
    """

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999,
                 adam_weight_decay=0.004, epsilon=1e-7, weight_decay=0.004,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, exclude_layers=None,
                 exclude_embeddings=True, muon_a=3.4445, muon_b=-4.775, muon_c=2.0315,
                 adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True, rms_rate=0.2,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.adam_beta_1, self.adam_beta_2, self.epsilon = adam_beta_1, adam_beta_2, epsilon
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio, self.momentum, self.ns_steps = adam_lr_ratio, momentum, ns_steps
        self.nesterov, self.exclude_embeddings = nesterov, exclude_embeddings
        self.exclude_layers = exclude_layers or []
        self.adam_weight_decay, self.rms_rate = adam_weight_decay, rms_rate

    def _should_use_adamw(self, path, shape):
        if len(shape) != 2:
            return True
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def _weight_decay_rate(self, path, param):
        if not self._use_weight_decay(path):
            return None
        use_adam = self._should_use_adamw(path, param.shape)
        return self.adam_weight_decay if use_adam else self.weight_decay

    def keras_slot_groups(self):
        # Keras creates a `velocity` only for the variables that use AdamW.
        return [[("momentum", SLOTS, (0,)), Slot("velocity", SLOTS, (1,), optional=True)]]

    def zeropower_via_newtonschulz5(self, x, steps):
        """Approximately orthogonalizes `x` (rank >= 2) with a quintic Newton-Schulz."""
        if x.ndim < 2:
            raise ValueError(
                "Expected gradient or momentum to have at least 2 dimensions. "
                f"Received: shape={x.shape}"
            )
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = _swap_last_axes(x)
        x = x / (jnp.linalg.norm(x, axis=(-2, -1), keepdims=True) + 1e-7)
        for _ in range(steps):
            temp_a = x @ _swap_last_axes(x)
            temp_b = b * temp_a + c * temp_a @ temp_a
            x = a * x + temp_b @ x
        return _swap_last_axes(x) if tall else x

    def update_transform(self, learning_rate):
        b1, b2, eps = self.adam_beta_1, self.adam_beta_2, self.epsilon

        def init_leaf(path, p):
            if self._should_use_adamw(path, p.shape):
                return (host_constants.full_like(p), host_constants.full_like(p))
            return (host_constants.full_like(p),)

        def update_leaf(path, step, g, p, slots):
            if len(slots) == 2:
                d, m, v, _ = adam_leaf_update(learning_rate * self.adam_lr_ratio, step, g,
                                              *slots, b1, b2, eps)
                return d, (m, v)
            (m,) = slots
            m = m + (g + m * (self.momentum - 1))
            direction = g + self.momentum * m if self.nesterov else m
            update = learning_rate * self.zeropower_via_newtonschulz5(direction, self.ns_steps)
            if self.rms_rate is not None:
                update = update * jnp.sqrt(max(update.shape[0], update.shape[1])) * self.rms_rate
            return -update, (m,)

        return simple_transform(init_leaf, update_leaf, with_path=True)

    def get_config(self):
        return {**super().get_config(), "adam_beta_1": self.adam_beta_1,
                "adam_beta_2": self.adam_beta_2, "epsilon": self.epsilon,
                "exclude_layers": self.exclude_layers,
                "exclude_embeddings": self.exclude_embeddings, "muon_a": self.muon_a,
                "muon_b": self.muon_b, "muon_c": self.muon_c,
                "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
                "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                "adam_weight_decay": self.adam_weight_decay, "rms_rate": self.rms_rate}
