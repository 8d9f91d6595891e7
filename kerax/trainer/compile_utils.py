"""What `compile` resolves for the loss, and the output/target matching it shares with
the metrics (`compile_metrics.CompileMetrics`).

`CompileLoss(y_true, y_pred, sample_weight, mask) -> scalar`, a pure function over
batches.

With several outputs, `loss`, `loss_weights`, `metrics` and `weighted_metrics` may be
dicts keyed by output name or lists with one entry per output (a single loss applies to
every output). Logs are named as Keras names them: `digit_loss` (the unweighted loss of
output `digit`, when there are several losses) and `digit_accuracy`.
"""

import jax.numpy as jnp

from kerax import losses as losses_module

def _is_nested(x):
    return isinstance(x, (dict, list, tuple))


def output_items(y_pred, output_names=None):
    """`[(name, value)]` for each model output, in the model's output order."""
    if isinstance(y_pred, dict):
        return list(y_pred.items())
    if isinstance(y_pred, (list, tuple)):
        names = list(output_names or [])
        if len(names) != len(y_pred):
            names = [f"output_{i}" for i in range(len(y_pred))]
        return list(zip(names, y_pred))
    names = list(output_names or [])
    return [(names[0] if len(names) == 1 else "output", y_pred)]


def match_targets(y_true, y_pred, output_names=None, needed=None, what="y"):
    """`[(name, y_true_i, y_pred_i)]`, matching targets to outputs by key or position.

    `needed` lists the names that must have a target (outputs with a loss or metric).
    """
    outputs = output_items(y_pred, output_names)
    if not _is_nested(y_pred):
        if isinstance(y_true, dict) and len(y_true) == 1:
            y_true = next(iter(y_true.values()))
        elif isinstance(y_true, (list, tuple)) and len(y_true) == 1:
            y_true = y_true[0]
        return [(outputs[0][0], y_true, outputs[0][1])]
    names = [n for n, _ in outputs]
    if isinstance(y_true, dict):
        missing = [n for n in (needed if needed is not None else names) if n not in y_true]
        if missing:
            raise ValueError(
                f"Missing data for output '{missing[0]}': `{what}` is a dict with keys "
                f"{sorted(y_true)}, but the model's outputs are {names}. Pass one target per "
                "output, keyed by output name."
            )
        return [(n, y_true.get(n), p) for n, p in outputs]
    if isinstance(y_true, (list, tuple)):
        if len(y_true) != len(outputs):
            raise ValueError(
                f"The model has {len(outputs)} outputs {names}, but `{what}` is a list of "
                f"{len(y_true)} arrays. Pass one target per output."
            )
        return [(n, t, p) for (n, p), t in zip(outputs, y_true)]
    raise ValueError(
        f"The model has {len(outputs)} outputs {names}, but `{what}` is a single array. Pass "
        "a list or a dict of targets, one per output."
    )


def per_output(spec, names, what):
    """Spreads a compile argument over the outputs: `{name: entry}`."""
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(
                f"`{what}` has an entry for '{unknown[0]}', which is not an output of the "
                f"model. The model's outputs are {names}."
            )
        return {n: spec.get(n) for n in names}
    if isinstance(spec, (list, tuple)) and len(names) > 1 and what in ("loss", "loss_weights"):
        if len(spec) != len(names):
            raise ValueError(
                f"`{what}` is a list of {len(spec)} entries, but the model has {len(names)} "
                f"outputs {names}. Pass one entry per output, or a dict keyed by output name."
            )
        return dict(zip(names, spec))
    return {n: spec for n in names}


def _resolve_loss(identifier):
    fn = losses_module.get(identifier)
    if fn is not None and not isinstance(fn, losses_module.Loss):
        fn = losses_module.LossFunctionWrapper(fn, name=getattr(fn, "__name__", "loss"))
    return fn


def _leaves_of(spec):
    if isinstance(spec, dict):
        return list(spec.values())
    if isinstance(spec, (list, tuple)):
        return list(spec)
    return [spec]


class CompileLoss:
    """The compiled loss: one Keras loss, or one per output (dict or list), weighted."""

    def __init__(self, loss, loss_weights=None, output_names=None):
        self.identifier = loss
        self.loss_weights = loss_weights
        self.output_names = list(output_names) if output_names else None
        self.nested = _is_nested(loss)
        for entry in _leaves_of(loss):
            if entry is not None:
                _resolve_loss(entry)
        self.loss = None if self.nested else _resolve_loss(loss)
        self._cache = {}

    def _fn(self, identifier):
        key = id(identifier)
        if key not in self._cache:
            self._cache[key] = (identifier, _resolve_loss(identifier))
        return self._cache[key][1]

    def loss_names(self, y_pred):
        """Names of the outputs that have a loss."""
        names = [n for n, _ in output_items(y_pred, self.output_names)]
        losses = per_output(self.identifier, names, "loss")
        return [n for n in names if losses[n] is not None]

    def per_output(self, y_true, y_pred, sample_weight=None, mask=None):
        """`{output_name: (unweighted_loss, weight)}` for each output with a loss."""
        names = [n for n, _ in output_items(y_pred, self.output_names)]
        losses = per_output(self.identifier, names, "loss")
        weights = per_output(self.loss_weights, names, "loss_weights")
        needed = [n for n in names if losses[n] is not None]
        out = {}
        for name, yt, yp in match_targets(y_true, y_pred, self.output_names, needed):
            if losses[name] is None:
                continue
            sw = sample_weight.get(name) if isinstance(sample_weight, dict) else sample_weight
            value = self._fn(losses[name])(yt, yp, sample_weight=sw, mask=mask)
            out[name] = (value, weights[name])
        return out

    def __call__(self, y_true, y_pred, sample_weight=None, mask=None):
        if self.identifier is None:
            return jnp.zeros((), jnp.float32)
        total = jnp.zeros((), jnp.float32)
        for value, weight in self.per_output(y_true, y_pred, sample_weight, mask).values():
            total = total + (value * weight if weight is not None else value)
        return total


__all__ = ["CompileLoss", "match_targets", "output_items", "per_output"]
