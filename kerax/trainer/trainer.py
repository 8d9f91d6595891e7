"""`Trainer`: Keras' `compile` / `fit` / `evaluate` / `predict` over compiled pure steps.

The pieces live one concern per module: `fit` (`prepare_fit` -> `FitRun`, `run_fit`),
`evaluate` (`evaluate`, `predict`), the executions every input provides
(`executions`), K (`steps_per_execution`), the compiled programs (`programs`), the live
train state (`train_state_store`), the checks before compiling (`data_checks`) and the
metric objects (`model_metrics`).
"""

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kerax import optimizers as optimizers_module
from kerax.distribution import placement
from kerax.errors import NotCompiledError
from kerax.metrics import Mean
from kerax.optimizers.loss_scale_optimizer import LossScaleOptimizer
from kerax.trainer import eager_call, epoch_loop
from kerax.trainer import evaluate as evaluate_lib
from kerax.trainer import fit as fit_lib
from kerax.trainer import host_prefix
from kerax.trainer import predict_plan
from kerax.layers import weight_rules as regularization
from kerax.trainer import steps as steps_lib
from kerax.trainer.compile_metrics import CompileMetrics
from kerax.trainer.compile_utils import CompileLoss
from kerax.trainer.data_adapters import array_data_adapter as ada
from kerax.trainer.data_checks import DataChecksMixin
from kerax.trainer.model_metrics import MetricsMixin
from kerax.trainer.programs import ProgramsMixin
from kerax.trainer.pytrees import host_value, signature as _signature  # noqa: F401
from kerax.trainer.train_state_store import TrainStateMixin


class Trainer(MetricsMixin, DataChecksMixin, TrainStateMixin, ProgramsMixin):
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
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None,
                metrics: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
                steps_per_execution: int | str = "auto", jit_compile: bool | str = "auto",
                auto_scale_loss: bool = True) -> None:
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

        See `kerax.layers.weight_rules`; Keras sums these into the loss.
        """
        return regularization.regularization_loss(self, params, added_losses)

    def apply_constraints(self, params):
        """`params` with the layers' weight constraints applied (after each update)."""
        return regularization.apply_constraints(self, params)

    # -------------------------------------------------------- fit / evaluate / predict --
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: int | str = "auto", callbacks: Sequence[Any] | None = None,
            validation_split: float = 0.0, validation_data: Any = None, shuffle: bool = True,
            class_weight: Mapping[int, float] | None = None, sample_weight: Any = None,
            initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1) -> Any:
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
        plan = host_prefix.prefix(self)  # host layers in front run in the input pipeline
        x = host_prefix.transform(self, x, plan)
        validation_data = host_prefix.transform_validation(self, validation_data, plan)
        with host_prefix.in_pipeline(self, plan):
            return fit_lib.run_fit(self.prepare_fit(
                x, y, batch_size, epochs, verbose, callbacks, validation_split,
                validation_data, shuffle, class_weight, sample_weight, initial_epoch,
                steps_per_epoch, validation_steps, validation_batch_size, validation_freq))

    def prepare_fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto",
                    callbacks=None, validation_split=0.0, validation_data=None, shuffle=True,
                    class_weight=None, sample_weight=None, initial_epoch=0,
                    steps_per_epoch=None, validation_steps=None, validation_batch_size=None,
                    validation_freq=1):
        """kerax: the `FitRun` a `fit` with these arguments would run, without training.

        Checks the data, builds the model and its metrics and chooses
        `steps_per_execution`; `run.first_execution()` gives the compiled program of the
        first step(s) (see `kerax.distribution.memory_report`). Sets `model.fit_run`.

        Example:
        >>> import numpy as np, kerax
        >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> run = model.prepare_fit(np.ones((8, 4)), np.ones((8, 1)), batch_size=4)
        >>> run.steps_in_epoch if run.epoch_plan else run.first_plan[0].shape
        (2, 4)
        """
        return fit_lib.prepare_fit(
            self, x, y, batch_size, epochs, verbose, callbacks, validation_split,
            validation_data, shuffle, class_weight, sample_weight, initial_epoch,
            steps_per_epoch, validation_steps, validation_batch_size, validation_freq)

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: int | str = "auto", sample_weight: Any = None,
                 steps: int | None = None, callbacks: Sequence[Any] | None = None,
                 return_dict: bool = False, _callbacks=None, _adapter=None,
                 **kwargs) -> float | list[float] | dict[str, float]:
        """Returns the loss and metrics on the given data (Keras 3's arguments).

        Example:
        >>> import numpy as np, kerax
        >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> sorted(model.evaluate(np.ones((8, 4)), np.ones((8, 1)), verbose=0,
        ...                       return_dict=True))
        ['loss']
        """
        plan = host_prefix.prefix(self) if _adapter is None else None
        x = host_prefix.transform(self, x, plan)
        with host_prefix.in_pipeline(self, plan):
            return evaluate_lib.evaluate(self, x, y, batch_size, verbose, sample_weight,
                                         steps, callbacks, return_dict, _callbacks, _adapter)

    def __call__(self, *args, **kwargs):
        """Calls the model; raw strings go through its host prefix first (as in `predict`),
        so `model(np.array(["some text"]))` works for a model starting with
        `TextVectorization`, as in Keras."""
        if args and host_prefix.has_strings(args[0]):
            plan = host_prefix.prefix(self)
            if plan is not None:
                x = host_prefix.transform(self, args[0], plan, rows="first")
                with host_prefix.applied_eagerly(self, plan):
                    return super().__call__(x, *args[1:], **kwargs)
        return super().__call__(*args, **kwargs)

    def _call_eager(self, args, kwargs):
        # A repeated call of a built model with a pure forward: one jitted `apply`.
        out = eager_call.call(self, args, kwargs)
        return super()._call_eager(args, kwargs) if out is eager_call.EAGER else out

    def predict(self, x: Any, batch_size: int | None = None, verbose: int | str = "auto",
                steps: int | None = None, callbacks: Sequence[Any] | None = None) -> Any:
        """Generates outputs for the input samples, batch by batch (Keras 3's arguments).

        Example:
        >>> import numpy as np, kerax
        >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
        >>> model.predict(np.ones((5, 4)), verbose=0).shape
        (5, 2)
        """
        # A model without a host prefix never gains one (until its layers change, which
        # resets `_programs`): that answer is kept.
        plan = self._programs.get("host_prefix", False)
        if plan is False:
            plan = host_prefix.prefix(self)
            if plan is None:
                self._programs["host_prefix"] = None
        if plan is None:
            return evaluate_lib.predict(self, x, batch_size, verbose, steps, callbacks)
        x = host_prefix.transform(self, x, plan, rows=batch_size or 32)
        with host_prefix.in_pipeline(self, plan):
            return evaluate_lib.predict(self, x, batch_size, verbose, steps, callbacks)

    def _stop_on_nonfinite(self, pending, callbacks):
        return epoch_loop.stop_on_nonfinite(self, pending, callbacks)

    # ------------------------------------------------------------ on-batch --
    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: Mapping[int, float] | None = None,
                       return_dict: bool = False) -> float | list[float] | dict[str, float]:
        """Runs one training step on one batch; returns the loss (and metrics).

        Example:
        >>> import numpy as np, kerax
        >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> loss = model.train_on_batch(np.ones((8, 4)), np.ones((8, 1)))
        """
        self._require_compiled("train_on_batch")
        plan = host_prefix.prefix(self)
        x = host_prefix.transform(self, x, plan, rows="first")
        with host_prefix.in_pipeline(self, plan):
            return self._train_on_batch(x, y, sample_weight, class_weight, return_dict)

    def _train_on_batch(self, x, y, sample_weight, class_weight, return_dict):
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

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False) -> float | list[float] | dict[str, float]:
        """Returns the loss (and metrics) on one batch, without training."""
        plan = host_prefix.prefix(self)
        x = host_prefix.transform(self, x, plan)
        with host_prefix.in_pipeline(self, plan):
            logs = self.evaluate(x, y, batch_size=ada.num_samples(
                ("x", ada.standardize("x", x))), sample_weight=sample_weight, verbose=0,
                return_dict=True)
        return _on_batch_result(logs, self, return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        """Returns the outputs for one batch: `predict(x, batch_size=len(x), verbose=0)`.

        The first call for arrays (one, or a list or dict of them) of given shapes and
        dtypes runs `predict`'s checks (and raises its errors); later calls run the one
        jitted predict step it planned.

        Example:
        >>> import numpy as np, kerax
        >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
        >>> model.predict_on_batch(np.ones((3, 4))).shape
        (3, 2)
        """
        sig = predict_plan.signature(x)  # numeric arrays: straight to `predict`
        if sig is not None:
            return self.predict(x, batch_size=sig[2], verbose=0)
        plan = host_prefix.prefix(self)
        x = host_prefix.transform(self, x, plan)
        with host_prefix.in_pipeline(self, plan):
            return self.predict(x, batch_size=ada.num_samples(
                ("x", ada.standardize("x", x))), verbose=0)


def _on_batch_result(logs, model, return_dict):
    logs = {k: host_value(v) for k, v in logs.items()}
    return logs if return_dict else model._flatten_logs(logs)


__all__ = ["Trainer"]
