"""`Model`: a `Layer` with Keras' training shell (`compile`, `fit`, ...) and `summary`."""

import inspect
import json
import os
import warnings
from typing import Any

from kerax.backend import apply_scope as scope_lib
from kerax.layers.layer import Layer
from kerax.models import quantize as quantize_lib
from kerax.models import summary_utils
from kerax.saving import model_config, saving_api, serialization_lib
from kerax.trainer.stateless import StatelessMixin
from kerax.trainer.trainer import Trainer


_EXPORTER = []  # `kerax.export` (a package above models) registers `export_model` here


def register_exporter(fn):
    """Sets the function behind `Model.export` (called by `kerax.export`)."""
    _EXPORTER[:] = [fn]


def _functional():
    """`Functional` (defined in `kerax.models.functional`, a subclass of `Model`)."""
    return model_config.model_class("Functional")


@model_config.register_model_class
class Model(StatelessMixin, Trainer, Layer):
    """A layer that trains: Keras 3's `Model`, built on pure `init` / `apply`.

    Subclass it with sub-layers as attributes and a `call(self, x, training=False)`;
    `Model(inputs, outputs)` builds a functional model; see `Sequential` for stacks.

    Custom training, two ways (both run compiled by `fit`/`evaluate`/`predict`; see
    `kerax.trainer.stateless`):

    - Keras 3's JAX API, unchanged: override `train_step(self, state, data) -> (logs,
      state)` with `state = (trainable_variables, non_trainable_variables,
      optimizer_variables, metrics_variables)` (lists in Keras' order) and use
      `self.stateless_call`, `self.compute_loss`, `self.optimizer.stateless_apply` and
      `metric.stateless_update_state`/`stateless_result` over `self.metrics`;
      `test_step(self, (trainable, non_trainable, metrics_variables), data)` and
      `predict_step(self, (trainable, non_trainable), data)` likewise.
    - The kerax way: override `pure_train_step(self, ts, batch) -> (ts, logs)` over one
      named `TrainState(params, state, opt_state, metric_state, rng, step)`, with
      `batch = (x, y, sample_weight)`; `init_optimizer_state(params)` builds
      `ts.opt_state` (one state per optimizer for a GAN, see `examples/gan.py`); logs are
      averaged over the epoch. `pure_test_step(ts, batch) -> logs` and
      `pure_predict_step(ts, x) -> outputs` likewise.

    For your own loop, `model.init(key, x)` and `model.apply(variables, x, training=...)`
    are pure; `kerax.layers.weight_rules.apply_with_losses` also returns the layer
    losses (regularizers, `add_loss`) to add to your loss.

    Example:
    >>> import numpy as np, kerax
    >>> class MLP(kerax.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = kerax.layers.Dense(8, activation="relu")
    ...         self.out = kerax.layers.Dense(1)
    ...     def call(self, x, training=False):
    ...         return self.out(self.hidden(x))
    >>> model = MLP()
    >>> model(np.ones((2, 3))).shape
    (2, 1)
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            return super().__new__(_functional())
        if args and not _is_functional_class(cls) and _symbolic(args[0]):
            # Keras' idiom `class M(Model)` + `M(inputs, outputs)`: M becomes functional.
            cls = type(cls.__name__, (cls, _functional()), {"__module__": cls.__module__})
            return super().__new__(cls)
        obj = super().__new__(cls)
        obj.__dict__["_auto_init_args"] = _capture_init_args(cls, args, kwargs)
        return obj

    def __init__(self, *args, trainable=True, name=None, dtype=None, **kwargs):
        Layer.__init__(self, trainable=trainable, name=name, dtype=dtype, **kwargs)
        self._init_trainer()

    def compile(self, *args, **kwargs):
        super().compile(*args, **kwargs)
        if hasattr(self.optimizer, "_bind_owner"):  # `optimizer.variables` in Keras' order
            self.optimizer._bind_owner(self)

    compile.__doc__ = Trainer.compile.__doc__
    compile.__signature__ = inspect.signature(Trainer.compile)  # (for help() and IDEs)
    compile.__annotations__ = Trainer.compile.__annotations__

    def get_compile_config(self):
        """Keras' `get_compile_config`: the arguments `compile` was given, serialized (`{}`
        before `compile`). Saving stores it and loading hands it to `compile_from_config`;
        a model whose `compile` takes other arguments overrides both.

        Example:
        >>> import kerax
        >>> m = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(1)])
        >>> m.get_compile_config()
        {}
        >>> m.compile(optimizer="sgd", loss="mse")
        >>> m.get_compile_config()["loss"]
        'mse'
        """
        return model_config.get_compile_config(self) or {}

    def compile_from_config(self, config):
        """Keras' `compile_from_config`: compiles a loaded model from the config
        `get_compile_config` returned when it was saved. A model with its own `compile`
        is left uncompiled, with a warning, unless it overrides this method too."""
        if type(self).compile is not Model.compile:
            warnings.warn(
                "`compile()` was not called as part of model loading because the model's "
                "`compile()` method is custom. All subclassed Models that have `compile()` "
                "overridden should also override `get_compile_config()` and "
                "`compile_from_config(config)`. Alternatively, you can call `compile()` "
                "manually after loading.", stacklevel=2)
            return
        model_config.compile_from_config(self, config)

    @property
    def layers(self):
        """The model's direct sub-layers, in the order they were set."""
        return list(self._children().values())

    def get_layer(self, name=None, index=None):
        """Returns a sub-layer by name or index (Keras' `get_layer`)."""
        if index is not None and name is not None:
            raise ValueError("Provide only one of `name` and `index` to `get_layer`.")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(self.layers)} layers."
                )
            return self.layers[index]
        if isinstance(name, int):
            return self.get_layer(index=name)
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}."
        )

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints Keras' summary table: layers, output shapes, parameter counts.

        Args:
            line_length: total width of the table (default: 88, or 108 with "Connected
                to", capped at the terminal width minus 4).
            positions: column ends, as fractions of `line_length` (or absolute).
            print_fn: called once with the whole text (default: print it; a notebook shows
                an HTML table).
            expand_nested: also list the layers of nested models.
            show_trainable: add a "Trainable" column (Y, N, or - for no weights).
            layer_range: two layer names or regexes: the first and last rows to show.
        """
        summary_utils.print_summary(self, line_length=line_length, positions=positions,
                                    print_fn=print_fn, expand_nested=expand_nested,
                                    show_trainable=show_trainable, layer_range=layer_range)

    def summary_rows(self):
        """`(layer, output_shape)` per direct sub-layer (None where not derivable)."""
        return [(layer, None) for layer in self.layers]

    # --------------------------------------------------------------------- saving --
    def save(self, filepath: str | os.PathLike, overwrite: bool = True,
             zipped: bool | None = None, **kwargs) -> None:
        """Saves the model to a `.keras` file (Keras 3's format; crash-safe)."""
        saving_api.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def export(self, filepath: str | os.PathLike, format: str = "jax",
               verbose: bool | None = None, input_signature: Any = None, **kwargs) -> Any:
        """Writes the inference call for serving without TensorFlow (`format="jax"`).

        `format`: `"jax"` (default), a `jax.export` artifact with a symbolic batch; reload
        it with `kerax.export.load(filepath).serve(x)` or serve it with
        `python -m kerax.serve`. `"onnx"` (through jax2onnx, `pip install kerax[onnx]`) or
        `"litert"` (a `.tflite` file through litert-converter, `pip install kerax[litert]`;
        no TensorFlow). See `kerax.export.ExportArchive` and docs/export.md.
        """
        return _EXPORTER[0](self, filepath, format=format, verbose=verbose,
                            input_signature=input_signature, **kwargs)

    def quantize(self, mode=None, config=None, filters=None, **kwargs):
        """Quantizes the built model's weights in place (Keras 3's `Model.quantize`).

        Every Dense, EinsumDense (`"int8"`, `"int4"`, `"float8"`) and Embedding (`"int8"`,
        `"int4"`) layer is quantized; see `kerax.layers.core.quantization`.

        Args:
            mode: `"int8"`, `"int4"` or `"float8"` (optional when `config` is given).
            config: a `kerax.quantizers.QuantizationConfig` (weight and input quantizers).
            filters: a regex on layer names, a list of them, or a predicate on layers:
                only the layers it selects are quantized.

        Raises:
            ValueError: an unknown mode, an unbuilt model, a layer already quantized.
            NotImplementedError: a mode kerax does not implement (`"gptq"`, `"awq"`).

        Example:
        >>> import kerax
        >>> model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
        >>> model.quantize("int8")
        >>> [str(w.dtype) for w in model.weights]
        ['float32', 'int8', 'float32']
        """
        quantize_lib.quantize_model(self, mode, config, filters, **kwargs)

    def save_weights(self, filepath: str | os.PathLike, overwrite: bool = True,
                     **kwargs) -> None:
        """Saves the weights to a `.weights.h5` file (Keras 3's layout; crash-safe)."""
        saving_api.save_weights(self, filepath, overwrite=overwrite, **kwargs)

    def load_weights(self, filepath: str | os.PathLike, skip_mismatch: bool = False,
                     **kwargs) -> None:
        """Loads weights from a `.weights.h5` or `.keras` file, or an `OrbaxCheckpoint`
        directory (shapes checked first)."""
        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def get_config(self):
        """Keras 3's config: for a subclassed model, its `__init__` arguments (captured
        automatically when they are plain values, as Keras does)."""
        config = {"name": self.name, "trainable": self.trainable}
        captured = self.__dict__.get("_auto_init_args")
        if captured is None:
            raise NotImplementedError(
                f"Model {type(self).__name__} has non-serializable arguments in `__init__()` "
                "and therefore must override `get_config()` (and `from_config()` if needed)."
            )
        config.update(captured)
        return config

    def to_json(self, **kwargs):
        """The model's config as a JSON string (Keras 3's format); see `model_from_json`."""
        return json.dumps(serialization_lib.serialize_keras_object(self), **kwargs)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds a model; a functional config (with `input_layers`) gives `Functional`."""
        if "input_layers" in config and "output_layers" in config:
            return _functional().from_config(config, custom_objects=custom_objects)
        try:
            return cls(**config)
        except TypeError as e:
            raise TypeError(
                f"Unable to revive model {cls.__name__} from config: {e}. When overriding "
                "`get_config()`, make sure the returned config contains all the arguments of "
                f"the constructor of {cls.__name__}, or define a `from_config(cls, config)` "
                "class method."
            ) from None


def _capture_init_args(cls, args, kwargs):
    """The subclass's `__init__` arguments if they are plain JSON values, else None."""
    if cls is Model or cls.__module__.startswith("kerax."):
        return {}
    try:
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
    except TypeError:
        return None
    params = inspect.signature(cls.__init__).parameters
    var_kw = [n for n, p in params.items() if p.kind is inspect.Parameter.VAR_KEYWORD]
    var_pos = [n for n, p in params.items() if p.kind is inspect.Parameter.VAR_POSITIONAL]
    values = {k: v for k, v in list(bound.arguments.items())[1:]
              if k not in var_kw + var_pos}
    for name in var_kw:
        values.update(bound.arguments.get(name, {}))
    try:
        json.dumps(values)
    except TypeError:
        return None
    return values


def _is_functional_class(cls):
    return issubclass(cls, _functional()) or cls.__module__.startswith("kerax.")


def _symbolic(value):
    return scope_lib.any_symbolic(value)
