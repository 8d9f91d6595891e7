"""`Trainer`: Keras' `compile` / `fit` / `evaluate` / `predict` over compiled pure steps."""

import math
import time

import jax
import jax.numpy as jnp
import numpy as np

from kerax import optimizers as optimizers_module
from kerax.backend import random_state
from kerax.callbacks.callback_list import CallbackList
from kerax.distribution import placement
from kerax.errors import NonFiniteLossError, NotCompiledError
from kerax.metrics import Mean
from kerax.metrics.tracking import attribute_metrics
from kerax.trainer import batch_hooks
from kerax.trainer import compile_cache
from kerax.trainer import custom_steps
from kerax.trainer import epoch_loop
from kerax.trainer import regularization
from kerax.trainer import stateless
from kerax.trainer import steps as steps_lib
from kerax.backend import apply_scope as scope_lib
from kerax.trainer import stream_loops
from kerax.trainer.data_adapters import stream_data_adapter
from kerax.trainer.compile_utils import CompileLoss, CompileMetrics
from kerax.trainer.data_adapters import array_data_adapter as ada
from kerax.trainer.fit_run import FitRun
from kerax.trainer.train_state import TrainState

# "auto" steps_per_execution: aim for executions of about this many seconds, with the
# step time estimated from the compiled step's FLOPs and the backend's typical rate.
_TARGET_EXECUTION_SECONDS = 0.2
_TYPICAL_FLOPS = {"cpu": 1e11, "gpu": 2e13, "tpu": 5e13}


class Trainer:
    """The training half of `Model`. See `Model` for the user-facing docs."""

    def _init_trainer(self):
        self.compiled = False
        self.optimizer = None
        self.history = None
        self.stop_training = False
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = None
        self._programs = {}
        self._steps_per_execution = "auto"
        self._train_rng = None
        self.fit_run = None  # the `FitRun` of the current (or last) `fit`
        self.compile_counts = {}
        self.compile_stats = []  # per fit epoch: XLA compiles, cache hits, seconds

    # ---------------------------------------------------------------------- compile --
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution="auto",
                jit_compile="auto", auto_scale_loss=True):
        """Configures the model for training (Keras 3's arguments).

        Args:
            optimizer: a name (`"adam"`), a kerax optimizer, or any optax transformation.
            loss: a name, a `kerax.losses.Loss`, or a function `fn(y_true, y_pred)`.
            loss_weights: a scalar weight for the loss.
            metrics: a list of names (`"accuracy"`), metrics, or functions.
            weighted_metrics: metrics that also use `sample_weight`.
            steps_per_execution: steps fused into one compiled dispatch; `"auto"` (the
                default) picks it from the step's cost (one dispatch per step for
                convolutional models on CPU, where a rolled loop is slow).

        Example:
        >>> import kerax
        >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
        >>> model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        """
        self.optimizer = optimizers_module.get(optimizer)
        policy = getattr(self, "dtype_policy", None)
        if auto_scale_loss and policy is not None and policy.name == "mixed_float16":
            from kerax.optimizers.loss_scale_optimizer import LossScaleOptimizer

            if not isinstance(self.optimizer, LossScaleOptimizer):
                self.optimizer = LossScaleOptimizer(self.optimizer)
        names = getattr(self, "output_names", None)
        # As Keras, a re-`compile()` without `loss` keeps the previous loss, and one without
        # `metrics`/`weighted_metrics` keeps the previous metrics.
        if loss is not None:
            self._compile_loss = CompileLoss(loss, loss_weights, names)
        elif not hasattr(self, "_compile_loss"):
            self._compile_loss = None
        previous = self.__dict__.get("_compile_metrics")
        if metrics is None and weighted_metrics is None and previous is not None:
            metrics, weighted_metrics = previous.identifiers, previous.weighted_identifiers
            given = self._has_compile_metrics
        else:
            given = metrics is not None or weighted_metrics is not None
        self._compile_metrics = CompileMetrics(metrics, weighted_metrics, names)
        # Keras lists a "compile_metrics" container only when metrics were passed.
        self._has_compile_metrics = given
        self._loss_tracker = Mean(name="loss")
        if steps_per_execution != "auto" and (
                not isinstance(steps_per_execution, int) or steps_per_execution < 1):
            raise ValueError(
                "`steps_per_execution` must be 'auto' or a positive integer. Received: "
                f"steps_per_execution={steps_per_execution!r}"
            )
        self._steps_per_execution = steps_per_execution
        self.run_eagerly = run_eagerly
        self._programs = {}
        self.compiled = True

    def _require_compiled(self, what):
        if not self.compiled:
            raise NotCompiledError(
                f"You must call `compile()` before `{what}()`: the model needs an optimizer "
                "and a loss, e.g. `model.compile(optimizer='adam', loss='mse')`."
            )

    # ------------------------------------------------------------ pure pieces (steps) --
    def compute_loss_value(self, y, y_pred, sample_weight, row_mask):
        if self._compile_loss is None:
            return jnp.zeros((), jnp.float32)
        return self._compile_loss(y, y_pred, sample_weight=sample_weight, mask=row_mask)

    def regularization_loss(self, params, added_losses=()):
        """Weight regularization plus the forward pass's activity/`add_loss` terms (or None).

        See `kerax.trainer.regularization`; Keras sums these into the loss.
        """
        return regularization.regularization_loss(self, params, added_losses)

    def apply_constraints(self, params):
        """`params` with the layers' weight constraints applied (after each update)."""
        return regularization.apply_constraints(self, params)

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
        return dict(sorted(logs.items()))

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
        return metrics + attribute_metrics(self, skip=metrics + [self._compile_metrics])

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

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    # --------------------------------------------------------------- data checks --
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

    def _ensure_built(self, x):
        compile_cache.ensure_configured()  # before kerax compiles anything
        if self.variables is not None:
            return
        spec = jax.tree_util.tree_map(
            lambda a: jax.ShapeDtypeStruct((1,) + tuple(a.shape[1:]), a.dtype), x)
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
        key = (rows, _shapes(x), _shapes(y), _shapes(self.variables), self._compile_loss,
               placement.program_key())
        cache = self.__dict__.setdefault("_validation_cache", {})
        if key not in cache:
            cache[key] = self._trace_against_model(x, y, rows)
        out, self._exact_last_batch = cache[key]
        if y is not None and self._compile_loss is not None:
            self._check_label_range(y, out)
        return out

    def _trace_against_model(self, x, y, rows):
        """`(output spec, exact_last_batch)`; raises the shape errors of the model/loss."""
        spec = lambda a: jax.ShapeDtypeStruct((rows,) + tuple(a.shape[1:]), a.dtype)  # noqa
        x_spec = jax.tree_util.tree_map(spec, x)
        with scope_lib.record_forward() as record:
            out = jax.eval_shape(lambda v, xx: self.apply(v, xx)[0], self.variables, x_spec)
        # A user's `add_loss` sees every row of a batch, padded ones included: then a short
        # last batch runs at its real size (one more compile), as in Keras.
        exact = record.row_dependent and placement.current() is None
        if y is not None and self._compile_loss is not None:
            y_spec = jax.tree_util.tree_map(spec, y)
            jax.eval_shape(lambda a, b: self._compile_loss(a, b), y_spec, out)
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

    # ------------------------------------------------------------- train state --
    def _trainable_mask(self):
        """The trainable mask, cached per (params structure, trainable flags)."""
        params = self.variables["params"]
        flags = tuple(l.trainable for l in _all_layers(self))
        key = (jax.tree_util.tree_structure(params), flags)
        cached = getattr(self, "_mask_cache", None)
        if cached is None or cached[0] != key:
            self._mask_cache = (key, self.trainable_mask(params))
        return self._mask_cache[1]

    def _make_train_state(self):
        ts = self._base_train_state()._replace(metric_state=self._fresh_metric_state())
        return placement.place_train_state(self, _unalias(ts))

    def _base_train_state(self):
        """The train state without metric state: variables, optimizer state (a pure
        custom step's `init_optimizer_state`), RNG key and step."""
        variables = self.variables
        params = variables["params"]
        if stateless.custom_step(self, "train") == "pure":
            if self.__dict__.get("_pure_opt_state") is None:
                self._set_train_opt_state(self.init_optimizer_state(params))
            opt_state, step = self._pure_opt_state, self.__dict__.get("_pure_step", 0)
        else:
            mask = self._trainable_mask()
            trainable, _ = steps_lib.partition(params, mask)
            if self.optimizer.state is None or self._opt_mask_signature != _signature(mask):
                self.optimizer.build(trainable)
                self._opt_mask_signature = _signature(mask)
            opt_state, step = self.optimizer.state, self.optimizer.iterations
        if self._train_rng is None:
            self._train_rng = random_state.next_key()
        return TrainState(params, variables["state"], opt_state, {}, self._train_rng,
                          np.asarray(step, np.int32))

    def _fresh_metric_state(self):
        """`_init_metric_state()` as host arrays, made once per set of metric objects
        (creating device scalars every epoch is a visible share of a tiny model's)."""
        if stateless.custom_step(self, "train"):
            return self._init_metric_state("train")
        key = (id(self._loss_tracker), tuple(id(m) for m in self._compile_metrics.all()))
        cached = self.__dict__.get("_fresh_metric_cache")
        if cached is None or cached[0] != key:
            cached = (key, jax.tree_util.tree_map(np.asarray, self._init_metric_state()))
            self._fresh_metric_cache = cached
        return cached[1]

    def _store_train_state(self, ts):
        self._variables = {"params": ts.params, "state": ts.state}
        custom = custom_steps.custom_steps(self, "train")
        if isinstance(custom, custom_steps.PureSteps):
            self._pure_opt_state, self._pure_step = ts.opt_state, ts.step
            if type(self).init_optimizer_state is stateless.StatelessMixin.init_optimizer_state:
                self.optimizer.state = ts.opt_state  # `optimizer.iterations` counts
        else:
            self.optimizer.state = ts.opt_state
        self._store_metric_objects(ts.metric_state)
        self._train_rng = ts.rng
        self._metric_state = ts.metric_state

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
                self.variables["params"], self.variables["state"], None, {}, None,
                np.zeros((), np.int32)))
            self._custom_templates.update(
                custom_steps.custom_steps(self, kind).templates(ts, batch, [kind]))

    _opt_mask_signature = None

    # ------------------------------------------------------------ programs --
    def _program(self, kind, num_steps, example_args=None, contiguous=False, unguarded=False):
        """A jitted execution per (kind, steps, trainable mask); jit handles new shapes."""
        mask = self._trainable_mask()
        bulk = num_steps * self.__dict__.get("_batch_bytes", 0) <= steps_lib.BULK_GATHER_BYTES
        sig = (kind, num_steps, _signature(mask), placement.program_key(), bulk, contiguous,
               unguarded)
        fn = self._programs.get(sig)
        if fn is not None:
            return fn
        compile_cache.ensure_configured()
        step_fns = custom_steps.StepFunctions(self, self._trainable_mask())
        unroll = self._unroll_for(kind)
        if kind == "predict":
            body = steps_lib.make_predict_execution(step_fns.predict_step, num_steps, unroll)
            fn = jax.jit(body)
        else:
            step = step_fns.train_step if kind == "train" else step_fns.test_step
            flag = steps_lib.FIRST_BAD_STEP

            def logs_fn(ms):
                return {**self._metric_results(ms, kind), flag: ms[flag]}

            body = steps_lib.make_execution(
                step, num_steps, unroll, logs_fn, bulk, contiguous,
                step_fns.train_step_unguarded if kind == "train" and unguarded else None)
            fn = placement.jit_execution(body, example_args[0], self, kind == "train")
        self._programs[sig] = fn
        self.compile_counts[kind] = self.compile_counts.get(kind, 0) + 1
        return fn

    def _unroll_for(self, kind):
        return bool(getattr(self, "_unroll_scan", False))

    def _choose_steps_per_execution(self, steps_per_epoch, ts, adapter, idx, mask):
        """K for this fit: the user's int, or "auto" from the step's estimated cost,
        bounded by the compiled execution's memory (see `_bound_by_memory`)."""
        data = adapter.data
        key = (steps_per_epoch, self._steps_per_execution, _signature(self._trainable_mask()),
               _signature(jax.tree_util.tree_map(
                   lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), (data, idx[:1]))))
        cache = self.__dict__.setdefault("_k_cache", {})
        if key not in cache:
            k, self._unroll_scan = self._measure_steps_per_execution(steps_per_epoch, ts, data,
                                                                     idx, mask)
            if self._steps_per_execution == "auto" and k > 1:
                k = self._bound_by_memory(k, ts, adapter, idx, mask)
            cache[key] = k, self._unroll_scan
        k, self._unroll_scan = cache[key]
        return k

    def _bound_by_memory(self, k, ts, adapter, idx, mask):
        """Halves an "auto" K while its compiled execution needs more memory than
        `steps.execution_memory_budget()` (arguments + outputs + temporaries, from XLA's
        memory analysis; Keras rejected fusing steps with `lax.scan` for memory).

        The first execution's program is compiled here, ahead of its first call, which
        then reuses it: when K fits, the check adds no compile.
        """
        budget = steps_lib.execution_memory_budget()
        steps = idx.shape[0]
        while True:
            # The first execution as `_executions` will run it (`_segment`: exact batches).
            program, args = self._train_execution(ts, adapter,
                                                  *self._segment(idx, mask, 0, k)[:2])
            needed, fixed = steps_lib.execution_memory(program.lower(ts, *args).compile())
            self._execution_memory = {"steps_per_execution": k, "bytes": needed,
                                      "budget": budget}
            # Halve only while that can help: the data and the state do not shrink with K.
            if k == 1 or needed <= budget or fixed >= budget:
                return k
            k = math.ceil(steps / math.ceil(steps / math.ceil(k / 2)))

    def _measure_steps_per_execution(self, steps_per_epoch, ts, data, idx, mask):
        k = self._steps_per_execution
        backend = jax.default_backend()
        # The forward pass alone, traced at the batch size: a few ms, where tracing and
        # lowering the whole step for XLA's cost analysis took ~0.1 s (~1 s under load).
        x_spec = jax.tree_util.tree_map(
            lambda a: jax.ShapeDtypeStruct((idx.shape[1],) + tuple(a.shape[1:]), a.dtype),
            data[0])
        custom = custom_steps.custom_steps(self, "train")
        if custom is not None:  # the user's whole step: forward, backward and update
            batch = jax.tree_util.tree_map(
                lambda a: jax.ShapeDtypeStruct((idx.shape[1],) + tuple(a.shape[1:]), a.dtype),
                tuple(data)) + (jax.ShapeDtypeStruct((idx.shape[1],), jnp.bool_),)
            forward = jax.make_jaxpr(lambda t, b: custom.call_train(t, b)[0])(ts, batch)
        else:
            forward = jax.make_jaxpr(lambda v, xx: self.apply(v, xx)[0])(
                {"params": ts.params, "state": ts.state}, x_spec)
        conv_on_cpu = backend == "cpu" and steps_lib.has_convolution(forward)
        if k != "auto":
            # A rolled loop around a convolution is ~30x slower on XLA:CPU: unroll it.
            return max(1, min(int(k), steps_per_epoch)), conv_on_cpu
        if conv_on_cpu:
            return 1, False
        flops = (steps_lib.jaxpr_flops(forward) if custom is not None
                 else steps_lib.train_step_flops(forward, _num_elements(ts.params)))
        step_seconds = max(flops, 1e4) / _TYPICAL_FLOPS.get(backend, 1e11)
        target = max(1, int(_TARGET_EXECUTION_SECONDS / step_seconds))
        executions = math.ceil(steps_per_epoch / min(target, steps_per_epoch))
        return math.ceil(steps_per_epoch / executions), False

    # -------------------------------------------------------------------- fit --
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains the model for `epochs` epochs; returns a `History` (Keras 3's arguments).

        Each execution of `steps_per_execution` steps is one compiled XLA program; the last
        short batch is padded and masked, so no epoch after the first compiles anything.

        Example:
        >>> import numpy as np, kerax
        >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> history = model.fit(np.ones((8, 4)), np.ones((8, 1)), epochs=2, verbose=0)
        >>> len(history.history["loss"])
        2
        """
        self._require_compiled("fit")
        from kerax.backend import switches

        if switches.max_epochs() is not None:
            epochs = min(epochs, switches.max_epochs())
        if switches.max_steps_per_epoch() is not None:
            steps_per_epoch = min(steps_per_epoch or switches.max_steps_per_epoch(),
                                  switches.max_steps_per_epoch())
        if stream_data_adapter.is_stream(x):
            stream_loops._check_stream_args("fit", y, sample_weight, validation_split)
            return stream_loops.fit(self, x, epochs, 1 if verbose == "auto" else verbose,
                                    callbacks, validation_data, initial_epoch,
                                    steps_per_epoch, validation_steps, validation_batch_size,
                                    validation_freq, shuffle=shuffle,
                                    class_weight=class_weight)
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(
                "`validation_split` must be a float in [0, 1). Received: "
                f"validation_split={validation_split!r}"
            )
        if validation_split and validation_data is not None:
            validation_split = 0.0  # Keras: validation_data takes precedence
        x, y, sample_weight, batch_size = self._prepare_arrays(x, y, sample_weight, batch_size,
                                                               "fit")
        n = ada.num_samples(("x", x), ("y", y), ("sample_weight", sample_weight))
        val = None
        if validation_split:
            (x, y, sample_weight), val = ada.split_validation((x, y, sample_weight),
                                                              validation_split, n)
        elif validation_data is not None:
            val = _unpack_validation(validation_data)
        if class_weight is not None:  # the training rows only, as in Keras
            if y is None or isinstance(y, (dict, list, tuple)):
                raise ValueError("`class_weight` is only supported for a single target array.")
            if sample_weight is not None:
                raise ValueError(
                    "You cannot `class_weight` and `sample_weight` at the same time (as in "
                    "Keras): multiply the class weights into `sample_weight` instead.")
            sample_weight = ada.class_weights_to_sample_weights(y, class_weight)
        self._ensure_built(x)
        self._validate_against_model(x, y, sample_weight, batch_size)
        seed = _host_seed(random_state.next_key())
        self._batch_bytes = ada.batch_bytes((x, y, sample_weight), batch_size)
        adapter = ada.ArrayDataAdapter(x, y, sample_weight, batch_size, steps_per_epoch,
                                       shuffle, seed)
        self._check_exact_batches(adapter)
        self._build_metrics(adapter.data, adapter.batch_size)
        verbose = 1 if verbose == "auto" else verbose
        cbs = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self,
            verbose=verbose, epochs=epochs, steps=adapter.steps_per_epoch)
        self.stop_training = False
        run = self.fit_run = FitRun(self, adapter, cbs)  # read by callbacks, checkpoints
        ts = self._make_train_state()
        idx, mask = adapter.epoch_plan()
        if self._steps_per_execution == "auto" and batch_hooks.needs_each_batch(cbs, "train"):
            k, ahead = 1, None  # a callback sees every batch, as in Keras
        else:
            with compile_cache.track() as ahead:  # the first execution, compiled for memory
                k = self._choose_steps_per_execution(adapter.steps_per_epoch, ts, adapter,
                                                     idx, mask)
        self._fit_steps_per_execution = run.steps_per_execution = k
        cbs.on_train_begin()
        # A callback (BackupAndRestore) may have restored a mid-training state: resume at
        # its epoch and step with its epoch plan and partial-epoch metrics.
        resume = run.take_resume_point()
        start_step = 0
        if resume is not None:
            initial_epoch, start_step = resume["epoch"], resume["step"]
            idx, mask = resume["plan"] if resume["plan"] is not None else adapter.epoch_plan()
        logs = {}
        epoch = initial_epoch
        for epoch in range(initial_epoch, epochs):
            if epoch > initial_epoch:
                idx, mask = adapter.epoch_plan()
            run.epoch_plan = (idx, mask)
            cbs.on_epoch_begin(epoch)
            ts = self._make_train_state()
            if start_step:
                ts = ts._replace(metric_state=resume["metric_state"])
            with compile_cache.track() as compiled:
                logs, _ = epoch_loop.train_epoch(
                    self, ts, self._executions(ts, adapter, idx, mask, k, start_step), cbs,
                    start_step)
                start_step = 0
                if val is not None and _should_validate(epoch, validation_freq):
                    val_logs = self.evaluate(val[0], val[1], sample_weight=val[2],
                                             batch_size=validation_batch_size or batch_size,
                                             steps=validation_steps, verbose=0,
                                             return_dict=True, _callbacks=cbs)
                    logs.update({"val_" + k2: v for k2, v in val_logs.items()})
            if ahead is not None:  # counted with the first epoch, whose program it is
                for field in ("compiles", "cache_hits", "seconds"):
                    setattr(compiled, field, getattr(compiled, field) + getattr(ahead, field))
                ahead = None
            self._note_compiles(epoch, compiled)
            logs = {k2: _host_value(v) for k2, v in logs.items()}
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        return self.history

    def _note_compiles(self, epoch, compiled):
        self.__dict__.setdefault("compile_stats", []).append({
            "epoch": epoch, "compiles": compiled.compiles, "cache_hits": compiled.cache_hits,
            "seconds": compiled.seconds})
        if compiled.compiles and compile_cache.log_compiles():
            print(compile_cache.describe(compiled, f"Epoch {epoch + 1}"), flush=True)

    def _executions(self, ts, adapter, idx, mask, k, start=0, kind="train"):
        """The epoch loop's `(program, args, steps)` over an array epoch plan."""
        while start < idx.shape[0]:
            step_idx, step_mask, size = self._segment(idx, mask, start, k)
            if kind == "train":
                program, args = self._train_execution(ts, adapter, step_idx, step_mask)
            else:
                args = (adapter.data,) + adapter.place_plan(step_idx, step_mask)
                program = self._program("test", step_idx.shape[0], (ts,) + args)
            yield program, args, size
            start += size

    def _uses_own_opt_state(self):
        """Whether a pure custom step keeps its own optimizer state (`init_optimizer_state`
        overridden, e.g. one state per optimizer of a GAN)."""
        return (stateless.custom_step(self, "train") == "pure"
                and type(self).init_optimizer_state is not
                stateless.StatelessMixin.init_optimizer_state)

    def _train_opt_state(self):
        return self._pure_opt_state if self._uses_own_opt_state() else self.optimizer.state

    def _set_train_opt_state(self, opt_state):
        if stateless.custom_step(self, "train") == "pure":
            self._pure_opt_state = opt_state
        if not self._uses_own_opt_state():
            self.optimizer.state = opt_state

    def _with_callback_changes(self, ts):
        """`ts` with the optimizer state a callback replaced (a new learning rate), so the
        change applies from the next batch on, as in Keras."""
        current = self._train_opt_state()
        if current is ts.opt_state or current is None:
            return ts
        return placement.place_train_state(self, _unalias(ts._replace(opt_state=current)))

    def _segment(self, idx, mask, start, k):
        """`(idx, mask, steps)`: the plan of the next execution, which runs `steps` real
        steps from `start`: up to `k` steps of padded batches; or, when the steps need
        exact batches (`_exact_last_batch`: a custom step, or added losses over rows),
        the steps before the first short batch, or that short batch alone at its real
        rows. An exact execution is filled up to `k` steps with empty ones (skipped by
        the step), so wherever a short batch falls, executions have one of two shapes."""
        size = min(k, idx.shape[0] - start)
        if not getattr(self, "_exact_last_batch", False):
            return idx[start:start + size], mask[start:start + size], size
        full = mask[start:start + size].all(axis=1)
        rows = None
        if not full.all():
            size, rows = (int(np.argmin(full)), None) if full[0] else (1, int(mask[start].sum()))
        step_idx, step_mask = idx[start:start + size, :rows], mask[start:start + size, :rows]
        if size < k:
            fill = ((0, k - size), (0, 0))
            step_idx, step_mask = np.pad(step_idx, fill), np.pad(step_mask, fill)
        return step_idx, step_mask, size

    def _train_execution(self, ts, adapter, idx, mask):
        """The program and its arguments (after `ts`) for an execution's plan."""
        size = idx.shape[0]
        args = (adapter.data,) + adapter.place_plan(idx, mask)
        # An unshuffled plan slices its batches out of the data instead of gathering.
        contiguous = (adapter.shuffle is False and placement.current() is None
                      and steps_lib.is_contiguous(idx, mask, adapter.num_samples))
        # Tiny models run their steps unguarded when every step has real rows.
        unguarded = steps_lib.can_run_unguarded(mask, self._unroll_for("train"))
        return self._program("train", size, (ts,) + args, contiguous, unguarded), args

    def _stop_on_nonfinite(self, pending, cbs):
        """Stops (TerminateOnNaN) or raises once a step had a non-finite loss."""
        bad_step = int(pending)
        if bad_step < 0:
            return False
        from kerax.callbacks.terminate_on_nan import TerminateOnNaN

        if any(isinstance(c, TerminateOnNaN) for c in getattr(cbs, "callbacks", [])):
            print(f"Batch {bad_step}: Invalid loss, terminating training", flush=True)
            self.stop_training = True
            return True
        raise NonFiniteLossError(
            f"The loss became NaN or infinite at training step {bad_step}. Training stopped, "
            "and the model keeps the weights and optimizer state from before that step. "
            "Common causes: a learning rate that is too high, NaN or inf values in the data "
            "(check with `np.isfinite(x).all()`), or log(0) in a custom loss. To stop "
            "without an error, pass `callbacks=[kerax.callbacks.TerminateOnNaN()]`."
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
        out = jax.eval_shape(lambda v, xx: self.apply(v, xx)[0], self.variables,
                             jax.tree_util.tree_map(spec, x))
        loss = self._compile_loss.identifier if self._compile_loss else None
        self._compile_metrics.build(jax.tree_util.tree_map(spec, y), out, loss,
                                    self._compile_loss)

    # -------------------------------------------------------------- evaluate --
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, _callbacks=None, **kwargs):
        """Returns the loss and metrics on the given data (Keras 3's arguments).

        Example:
        >>> import numpy as np, kerax
        >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> sorted(model.evaluate(np.ones((8, 4)), np.ones((8, 1)), verbose=0,
        ...                       return_dict=True))
        ['loss']
        """
        self._require_compiled("evaluate")
        if stream_data_adapter.is_stream(x):
            stream_loops._check_stream_args("evaluate", y, sample_weight)
            return stream_loops.evaluate(self, x, 1 if verbose == "auto" else verbose, steps,
                                         callbacks, return_dict, _callbacks)
        x, y, sample_weight, batch_size = self._prepare_arrays(x, y, sample_weight, batch_size,
                                                               "evaluate")
        self._ensure_built(x)
        self._validate_against_model(x, y, sample_weight, batch_size)
        self._batch_bytes = ada.batch_bytes((x, y, sample_weight), batch_size)
        adapter = ada.ArrayDataAdapter(x, y, sample_weight, batch_size, steps, False)
        self._check_exact_batches(adapter)
        self._build_metrics(adapter.data, adapter.batch_size)
        verbose = 1 if verbose == "auto" else verbose
        in_fit = _callbacks is not None
        cbs = _callbacks if in_fit else CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
            steps=adapter.steps_per_epoch, mode="test")
        idx, mask = adapter.epoch_plan()
        cbs.on_test_begin()  # before reading the variables: SwapEMAWeights swaps them here
        ts = TrainState(self.variables["params"], self.variables["state"], None,
                        self._init_metric_state("test"), None, jnp.zeros((), jnp.int32))
        ts = placement.place_train_state(self, ts)
        k = self._eval_steps(idx.shape[0], cbs, "test")
        ts, logs, _ = epoch_loop.evaluate_epoch(
            ts, self._executions(ts, adapter, idx, mask, k, kind="test"), cbs)
        self._store_metric_objects(ts.metric_state, "test")
        logs = {k2: _host_value(v) for k2, v in logs.items()}
        cbs.on_test_end(logs)
        return logs if return_dict else self._flatten_logs(logs)

    def _eval_steps(self, steps, cbs=None, mode="test"):
        k = getattr(self, "_fit_steps_per_execution", None)
        if self._steps_per_execution != "auto":
            k = self._steps_per_execution
        elif batch_hooks.needs_each_batch(cbs, mode):
            k = 1
        if k is None:
            k = steps if jax.default_backend() != "cpu" else min(steps, 32)
        return max(1, min(k, steps))

    # -------------------------------------------------------------- predict --
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Generates outputs for the input samples, batch by batch (Keras 3's arguments).

        Example:
        >>> import numpy as np, kerax
        >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
        >>> model.predict(np.ones((5, 4)), verbose=0).shape
        (5, 2)
        """
        if stream_data_adapter.is_stream(x):
            return stream_loops.predict(self, x, 1 if verbose == "auto" else verbose, steps,
                                        callbacks)
        x, _, _, batch_size = self._prepare_arrays(x, None, None, batch_size, "predict")
        self._ensure_built(x)
        self._validate_against_model(x, None, None, batch_size)
        adapter = ada.ArrayDataAdapter(x, None, None, batch_size, steps, False)
        verbose = 1 if verbose == "auto" else verbose
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=1, steps=adapter.steps_per_epoch)
        idx, mask = adapter.epoch_plan()
        k = self._eval_steps(idx.shape[0], cbs, "predict")
        cbs.on_predict_begin()  # before reading the variables (SwapEMAWeights)
        placement.place_variables(self)
        params, state = self.variables["params"], self.variables["state"]
        x_data = adapter.data[0]
        outs, start = [], 0
        while start < idx.shape[0]:
            size = min(k, idx.shape[0] - start)
            step_idx = adapter.place_plan(idx[start:start + size], mask[start:start + size])[0]
            program = self._program("predict", size, (params, state, x_data, step_idx))
            cbs.on_predict_batch_begin(start)
            outs.append(placement.to_host(program(params, state, x_data, step_idx)))
            cbs.on_predict_batch_end(start + size - 1, {"outputs": steps_lib.real_rows(
                outs[-1], mask[start:start + size])})
            start += size
        cbs.on_predict_end()
        rows = mask.reshape(-1)
        return jax.tree_util.tree_map(
            lambda *o: np.concatenate([np.asarray(a).reshape((-1,) + a.shape[2:]) for a in o])[rows],
            *outs)

    # ------------------------------------------------------------ on-batch --
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """Runs one training step on one batch; returns the loss (and metrics).

        Example:
        >>> import numpy as np, kerax
        >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> loss = model.train_on_batch(np.ones((8, 4)), np.ones((8, 1)))
        """
        self._require_compiled("train_on_batch")
        x, y, sample_weight, _ = self._prepare_arrays(x, y, sample_weight, 1, "train_on_batch")
        if class_weight is not None:
            if sample_weight is not None:  # Keras' error
                raise ValueError(
                    "Arguments `sample_weight` and `class_weight` cannot be specified at the "
                    "same time. Multiply the class weights into `sample_weight` instead.")
            sample_weight = ada.class_weights_to_sample_weights(y, class_weight)
        n = ada.num_samples(("x", x), ("y", y))
        self._ensure_built(x)
        self._validate_against_model(x, y, sample_weight)
        data = placement.place_data((x, y, sample_weight))
        self._build_metrics(data)
        ts = self._make_train_state()
        idx = np.arange(n, dtype=np.int32)[None]
        mask = np.ones((1, n), bool)
        idx, mask = placement.place_plan(idx, mask, n)
        ts, logs = self._program("train", 1, (ts, data, idx, mask))(ts, data, idx, mask)
        logs = dict(logs)
        flag = logs.pop(steps_lib.FIRST_BAD_STEP)
        logs = steps_lib.flatten_logs(logs)
        self._store_train_state(ts)
        self._stop_on_nonfinite(flag, None)
        return _on_batch_result(logs, self, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Returns the loss (and metrics) on one batch, without training."""
        logs = self.evaluate(x, y, batch_size=ada.num_samples(("x", ada.standardize("x", x))),
                             sample_weight=sample_weight, verbose=0, return_dict=True)
        return _on_batch_result(logs, self, return_dict)

    def predict_on_batch(self, x):
        """Returns the outputs for one batch."""
        n = ada.num_samples(("x", ada.standardize("x", x)))
        return self.predict(x, batch_size=n, verbose=0)


def _host_value(v):
    """A log value on the host: a Python float for scalars, a NumPy array otherwise."""
    a = np.asarray(v)
    return float(a) if a.ndim == 0 else a


def _on_batch_result(logs, model, return_dict):
    logs = {k: _host_value(v) for k, v in logs.items()}
    return logs if return_dict else model._flatten_logs(logs)


def _in_variable_order(metric, state):
    """`state` (a dict whose keys a jitted program sorted) in the metric's own order."""
    order = metric.__dict__.get("_variable_order")
    if order is None:
        order = metric._variable_order = tuple(metric.init())
    return {k: state[k] for k in order}


def _shapes(tree):
    """The structure, shapes and dtypes of a pytree of arrays (a cache key)."""
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    return treedef, tuple((tuple(np.shape(a)), str(getattr(a, "dtype", type(a))))
                          for a in leaves)


def _signature(tree):
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    return (str(treedef), tuple(
        (tuple(getattr(a, "shape", ())), str(getattr(a, "dtype", type(a).__name__)))
        if hasattr(a, "shape") else a for a in leaves))


def _all_layers(layer):
    yield layer
    for child in layer._children().values():
        yield from _all_layers(child)


def _num_elements(tree):
    return sum(int(np.prod(a.shape)) for a in jax.tree_util.tree_leaves(tree))


def _host_seed(key):
    """A shuffle seed in [0, 2**31 - 1) read from a key's words on the host.

    Deterministic under `kerax.utils.set_random_seed`, like the key, without compiling
    and running a device program to draw it.
    """
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    words = np.asarray(key, np.uint32).reshape(-1).astype(np.uint64)
    mixed = 0
    for w in words:
        mixed = (mixed * 0x9E3779B1 + int(w)) % (2**61 - 1)
    return int(mixed % (2**31 - 1))


def _unalias(tree):
    """Copies leaves that share a buffer, so the whole tree can be donated."""
    seen = set()

    def fix(a):
        if isinstance(a, jax.Array):
            if id(a) in seen:  # a copy without compiling a program per shape
                return jax.device_put(a, may_alias=False)
            seen.add(id(a))
        return a

    return jax.tree_util.tree_map(fix, tree)


def _should_validate(epoch, freq):
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in freq


def _unpack_validation(data):
    if stream_data_adapter.is_stream(data):  # a PyDataset, generator, tf.data, grain, ...
        return data, None, None
    if isinstance(data, (list, tuple)):
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return tuple(data)
    raise ValueError(
        "`validation_data` must be a tuple `(x_val, y_val)` or `(x_val, y_val, "
        f"val_sample_weight)`, or a dataset. Received a {type(data).__name__}."
    )


__all__ = ["Trainer", "time"]
