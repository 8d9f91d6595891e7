"""`MetricsMixin`: Keras' `model.metrics` and the metric state the compiled steps carry.

The loss tracker and the compiled metrics accumulate inside the step as a pure state
(`update_metric_state`); after an execution the state is put back into the metric
objects, so `model.metrics[i].result()` reads the live values, as in Keras.
"""

import jax.numpy as jnp

from kerax.metrics.tracking import attribute_metrics
from kerax.trainer import custom_steps
from kerax.trainer import steps as steps_lib
from kerax.trainer.compile_metrics import CompileMetrics


class MetricsMixin:
    """The metric half of `Trainer` (see `Model`)."""

    def update_metric_state(self, metric_state, loss, y, y_pred, sample_weight, row_mask,
                            output_mask=None):
        row_weight = row_mask.astype(jnp.float32)
        new = {"loss": self._loss_tracker.update(metric_state["loss"], loss,
                                                 sample_weight=jnp.sum(row_weight))}
        if output_mask is not None:  # Keras weights metrics by the output's mask
            row_weight = steps_lib.combine_masks(row_mask, output_mask).astype(jnp.float32)
            if sample_weight is not None and not isinstance(sample_weight, dict):
                sample_weight = jnp.reshape(sample_weight, jnp.shape(sample_weight) + (1,) * (
                    row_weight.ndim - jnp.ndim(sample_weight)))
        new.update(self._compile_metrics.update(
            {k: v for k, v in metric_state.items() if k != "loss"}, y, y_pred, row_weight,
            sample_weight))
        return new

    def _metric_results(self, metric_state, kind="train"):
        """The logs of a `kind` ("train"/"test") execution's metric state."""
        custom = custom_steps.custom_steps(self, kind)
        if custom is not None:
            return custom.logs(metric_state)
        logs = {"loss": self._loss_tracker.result(metric_state["loss"])}
        logs.update(self._compile_metrics.result(metric_state))
        # As Keras' built-in steps (`get_metrics_result`): every metric of `model.metrics`,
        # a metric held as an attribute too; the built-in step never updates it, and `fit`
        # and `evaluate` reset it, so it logs its reset value (a `Mean`: 0.0).
        for m in self._attribute_metrics():
            logs[m.name] = m.result(m.init())
        return dict(sorted(logs.items()))

    def _attribute_metrics(self):
        """The metrics of `self.metrics` the model holds as attributes (after the
        compiled ones)."""
        compiled = [self._loss_tracker, self._compile_metrics]
        compiled += [m for _, m in self._compile_metrics.loss_trackers]
        return attribute_metrics(self, skip=compiled)

    def _init_metric_state(self, kind="train"):
        custom = custom_steps.custom_steps(self, kind)
        if custom is not None:
            return custom.init_metric_state(self._custom_templates[kind])
        return {"loss": self._loss_tracker.init(), **self._compile_metrics.init(),
                steps_lib.FIRST_BAD_STEP: jnp.asarray(-1, jnp.int32)}

    def _flatten_logs(self, logs):
        """Keras' `_flatten_metrics_in_order`: the values of `self.metrics` by name (those
        of the "compile_metrics" container by theirs), then the other logs by sorted key;
        a single value alone."""
        names = []
        for m in self.metrics:
            names += ([s.name for s in m.metrics] if isinstance(m, CompileMetrics)
                      else [m.name])
        results = [logs[n] for n in names if n in logs]
        results += [logs[k] for k in sorted(logs) if k not in names]
        return results[0] if len(results) == 1 else results

    @property
    def metrics(self):
        """Keras' `model.metrics`: the loss tracker (`Mean` named "loss"), the
        "compile_metrics" container of `compile(metrics=..., weighted_metrics=...)` (its
        `result()` is a dict), each output's loss tracker (several losses), then the
        metrics the model and its non-model sub-layers hold as attributes.

        They read the values of the last `fit` epoch or `evaluate`.

        Example:
        >>> import numpy as np, kerax
        >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        >>> _ = model.evaluate(np.ones((8, 4)), np.ones((8, 1)), verbose=0)
        >>> [m.name for m in model.metrics], sorted(model.metrics[1].result())
        (['loss', 'compile_metrics'], ['mae'])
        """
        if not self.compiled:
            return attribute_metrics(self)
        metrics = [self._loss_tracker]
        if self.__dict__.get("_has_compile_metrics", True):
            metrics.append(self._compile_metrics)
        metrics += [m for _, m in self._compile_metrics.loss_trackers]
        return metrics + self._attribute_metrics()

    def get_metrics_result(self):
        """Keras' `get_metrics_result`: `{name: value}` of `self.metrics`, a container's
        dict merged in."""
        out = {}
        for m in self.metrics:
            result = m.result()
            if isinstance(result, dict):
                out.update(result)
            else:
                out[m.name] = result
        return out

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def _store_metric_objects(self, metric_state, kind="train"):
        """Puts an execution's metric state into the metric objects, so that
        `model.metrics[i].result()` reads the live values, as in Keras."""
        custom = custom_steps.custom_steps(self, kind)
        if custom is not None:
            custom.store_metrics(metric_state)
            return
        for m in [self._loss_tracker] + self._compile_metrics.all():
            m.state = _in_variable_order(m, metric_state["loss" if m is self._loss_tracker
                                                        else m.name])

    def _reset_attribute_metrics(self):
        """Resets the metrics held as attributes, as Keras' `reset_metrics()` at each
        `fit` epoch and `evaluate` (the built-in steps never update them)."""
        for m in self._attribute_metrics():
            m.reset_state()

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]


def _in_variable_order(metric, state):
    """`state` (a dict whose keys a jitted program sorted) in the metric's own order."""
    order = metric.__dict__.get("_variable_order")
    if order is None:
        order = metric._variable_order = tuple(metric.init())
    return {k: state[k] for k in order}


__all__ = ["MetricsMixin"]
