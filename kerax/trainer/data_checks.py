"""`DataChecksMixin`: the checks `fit`/`evaluate`/`predict` run before compiling.

The model is built from the first batch, the model and loss are traced abstractly on it
(errors name the user's shapes), the compiled metrics and a custom step's log shapes are
built — once per set of shapes, so a repeated `fit(epochs=1)` traces nothing.
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from kerax.backend import apply_scope as scope_lib
from kerax.backend import random_state
from kerax.distribution import placement
from kerax.trainer import compile_cache
from kerax.trainer import custom_steps
from kerax.trainer import stateless
from kerax.trainer.data_adapters import array_data_adapter as ada
from kerax.trainer.pytrees import shapes
from kerax.trainer.train_state import TrainState


class DataChecksMixin:
    """The input checks of `Trainer` (see `Model`)."""

    def _prepare_arrays(self, x, y, sample_weight, batch_size, what):
        if x is None:
            raise ValueError(f"`{what}()` needs input data: pass `x`.")
        if batch_size is None:
            batch_size = 32
        if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(
                f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}"
            )
        x = ada.standardize("x", x)
        y = ada.standardize("y", y)
        sample_weight = ada.standardize("sample_weight", sample_weight)
        ada.num_samples(("x", x), ("y", y), ("sample_weight", sample_weight))
        return x, y, sample_weight, int(batch_size)

    def _ensure_built(self, x, rows=None):
        """Builds the model (if not yet) on a probe batch of 1 row like `x`.

        `rows` is the size of the first batch (default: `x`'s); `summary()` shows it as the
        batch of the sub-layers' output shapes, as Keras, which builds on that batch."""
        compile_cache.ensure_configured()  # before kerax compiles anything
        if not self.built and self._variables is None:
            leaves = jax.tree_util.tree_leaves(x)
            self._summary_batch = int(leaves[0].shape[0]) if rows is None else int(rows)
        spec = jax.tree_util.tree_map(
            lambda a: jax.ShapeDtypeStruct((1,) + tuple(a.shape[1:]), a.dtype), x)
        if self._variables is not None:
            if not self.built:  # given variables from a pure `init`
                self.write_build_record(spec)
            return
        if placement.current() is not None and getattr(self, "_initial_weights", None) is None:
            # Under a distribution: initialize straight into the parameters' shardings.
            self.variables = placement.init_variables(self, spec, random_state.next_key())
            return
        self.build_eagerly(spec)

    def _validate_against_model(self, x, y, sample_weight, rows=None):
        """Shape checks that run before anything is compiled, with first-line errors.

        Traced abstractly at the first batch's size (`rows`, default: all of `x`'s rows),
        so an error shows the shapes of the user's batches."""
        if any(stateless.custom_step(self, kind) for kind in ("train", "test", "predict")):
            # A custom step sees every row of its batch: a short batch runs at its size.
            self._exact_last_batch = True
            return None
        n = len(jax.tree_util.tree_leaves(x)[0])
        rows = n if rows is None else min(int(rows), n)
        # The abstract traces are cached per shapes: a repeated `fit(epochs=1)` on the
        # same shapes traces nothing (they were most of its fixed cost).
        key = (rows, shapes(x), shapes(y), shapes(sample_weight), shapes(self._variables),
               self._compile_loss, placement.program_key())
        cache = self.__dict__.setdefault("_validation_cache", {})
        if key not in cache:
            cache[key] = self._trace_against_model(x, y, rows, sample_weight)
        out, self._exact_last_batch = cache[key]
        if y is not None and self._compile_loss is not None:
            self._check_label_range(y, out)
        return out

    def _trace_against_model(self, x, y, rows, sample_weight=None):
        """`(output spec, exact_last_batch)`; raises the shape errors of the model/loss
        (and of `sample_weight`, at the user's batch size rather than a padded one)."""
        spec = lambda a: jax.ShapeDtypeStruct((rows,) + tuple(a.shape[1:]), a.dtype)  # noqa
        x_spec = jax.tree_util.tree_map(spec, x)
        with scope_lib.record_forward() as record:
            out = jax.eval_shape(lambda v, xx: self.apply(v, xx)[0], self._variables, x_spec)
        # A user's `add_loss` sees every row of a batch, padded ones included: then a short
        # last batch runs at its real size (one more compile), as in Keras.
        exact = record.row_dependent and placement.current() is None
        if y is not None and self._compile_loss is not None:
            y_spec = jax.tree_util.tree_map(spec, y)
            w_spec = jax.tree_util.tree_map(spec, sample_weight)
            jax.eval_shape(lambda a, b, w: self._compile_loss(a, b, sample_weight=w),
                           y_spec, out, w_spec)
        return out, exact

    def _check_label_range(self, y, out):
        loss = self._compile_loss.loss
        name = type(loss).__name__ + str(getattr(loss, "fn", ""))
        if "sparse_categorical" not in name.lower() and "SparseCategorical" not in name:
            return
        if not hasattr(out, "shape") or not hasattr(y, "dtype"):
            return
        num_classes = out.shape[-1]
        labels = np.asarray(y)
        ignore = getattr(loss, "ignore_class", None)
        if ignore is not None:
            labels = labels[labels != ignore]
        if labels.size == 0:
            return
        lo, hi = labels.min(), labels.max()
        if lo < 0 or hi >= num_classes or not np.all(np.equal(np.mod(labels, 1), 0)):
            raise ValueError(
                f"Labels for sparse categorical cross-entropy must be integers in [0, "
                f"{num_classes - 1}] (the model outputs {num_classes} classes), but `y` "
                f"contains values from {lo} to {hi}. Check the labels, or the size of the "
                "last layer."
            )

    def _check_exact_batches(self, adapter):
        """Under a distribution, a short last batch that runs at its real size (custom
        steps) must split evenly over the devices: checked before the first step."""
        dist = placement.current()
        last = adapter.num_samples % adapter.batch_size * jax.process_count()
        if dist is not None and last and getattr(self, "_exact_last_batch", False):
            placement.check_batch_size(dist, last)

    def _build_metrics(self, data, rows=None):
        if self._compile_metrics is not None:
            self._build_compiled_metrics(data)
        self._prepare_custom_steps(data, rows)

    def _build_compiled_metrics(self, data):
        x, y, _ = data
        if self._compile_metrics.built or y is None:
            if not self._compile_metrics.built:
                self._compile_metrics.build(None, None, None)
            return
        spec = lambda a: jax.ShapeDtypeStruct((2,) + tuple(a.shape[1:]), a.dtype)  # noqa
        out = jax.eval_shape(lambda v, xx: self.apply(v, xx)[0], self._variables,
                             jax.tree_util.tree_map(spec, x))
        loss = self._compile_loss.identifier if self._compile_loss else None
        self._compile_metrics.build(jax.tree_util.tree_map(spec, y), out, loss,
                                    self._compile_loss)

    def _prepare_custom_steps(self, data, rows=None):
        """Traces a custom train/test step abstractly once per `fit`/`evaluate` for the
        shapes of its logs (the execution carries the last step's logs)."""
        kinds = [k for k in ("train", "test") if stateless.custom_step(self, k)]
        if not kinds:
            return
        rows = rows or len(jax.tree_util.tree_leaves(data[0])[0])
        spec = lambda a: jax.ShapeDtypeStruct((rows,) + tuple(a.shape[1:]), a.dtype)  # noqa
        batch = jax.tree_util.tree_map(spec, tuple(data)) + (
            jax.ShapeDtypeStruct((rows,), jnp.bool_),)
        self._custom_templates = {}
        for kind in kinds:
            ts = (self._base_train_state() if kind == "train" else TrainState(
                self._variables["params"], self._variables["state"], None, {}, None,
                np.zeros((), np.int32)))
            self._custom_templates.update(
                custom_steps.custom_steps(self, kind).templates(ts, batch, [kind]))
        train = self._custom_templates.get("train")
        if train is not None and not any(jnp.issubdtype(t.dtype, jnp.inexact)
                                         for t in jax.tree_util.tree_leaves(train)):
            warnings.warn(
                f"Model '{self.name}': its custom train step returns no floating-point logs "
                f"(received logs {sorted(train)}), so `fit` cannot detect a NaN or infinite "
                "loss: it checks every floating value the step returns. Return the loss in "
                "the logs, e.g. `{'loss': loss}`.", stacklevel=2)


__all__ = ["DataChecksMixin"]
