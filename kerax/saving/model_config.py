"""A model as Keras 3's `config.json` object, and back (with build and compile configs).

The model classes are registered here by `kerax.models` (`register_model_class`): models
sit above saving, which builds them from configs by name, as it does layers.
"""

from kerax import layers as layers_lib
from kerax import losses, metrics, optimizers
from kerax.saving import object_registration, serialization_lib

_MODEL_CLASSES = {}  # "Model", "Sequential", "Functional" -> the class


def register_model_class(cls):
    """Makes `cls` (`Model`, `Sequential`, `Functional`) a model class that configs name.

    Example:
    >>> import kerax
    >>> model_class("Sequential") is kerax.Sequential
    True
    """
    _MODEL_CLASSES[cls.__name__] = cls
    return cls


def model_class(name):
    """The registered model class `name` ("Model", "Sequential" or "Functional")."""
    return _MODEL_CLASSES[name]


def serialize_model(model):
    """Keras 3's serialized model dict: module, class_name, config, build/compile configs.

    Example:
    >>> import kerax
    >>> m = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    >>> d = serialize_model(m)
    >>> d["module"], d["class_name"], d["build_config"]
    ('keras', 'Sequential', {'input_shape': [None, 3]})
    """
    cls = type(model)
    config = serialization_lib.serialize_keras_object(model)
    if cls.__name__ == "Sequential" and cls.__module__.startswith("kerax."):
        config.update(module="keras", registered_name=None)
    elif cls.__name__ == "Functional" and cls.__module__.startswith("kerax."):
        config.update(module="keras.src.models.functional", registered_name="Functional")
    config["build_config"] = _build_config(model)
    # The model's own `get_compile_config` (a subclass may override it), serialized.
    compile_config = (model.get_compile_config() if hasattr(model, "get_compile_config")
                      else get_compile_config(model))
    if compile_config:
        config["compile_config"] = serialization_lib.serialize_keras_object(compile_config)
    return config


def _build_config(model):
    layer = getattr(model, "_input_layer", None)
    if layer is not None:
        return {"input_shape": list(layer.batch_shape)}
    build = model.get_build_config() if model.built else None
    if build is None:
        return {"input_shape": None}
    if "input_shape" not in build:
        return build  # a layer's own build config (FeatureSpace: one per feature)
    shape = build["input_shape"]
    if shape and isinstance(shape[0], int) and type(model).__name__ == "Sequential":
        shape = [None] + list(shape[1:])
    return {"input_shape": shape}


def _identifier(obj):
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [_identifier(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _identifier(v) for k, v in obj.items()}
    return serialization_lib.serialize_keras_object(obj)


def get_compile_config(model):
    """Keras 3's `compile_config` of a compiled kerax model (None if not compiled)."""
    if not getattr(model, "compiled", False) or model.optimizer is None:
        return None
    try:
        optimizer = optimizers.serialize(model.optimizer)
    except NotImplementedError:
        return None  # a raw optax transformation has no config
    loss = model._compile_loss
    metrics = model._compile_metrics
    spe = model._steps_per_execution
    return {
        "optimizer": optimizer,
        "loss": _identifier(loss.identifier) if loss is not None else None,
        "loss_weights": loss.loss_weights if loss is not None else None,
        "metrics": _identifier(metrics.identifiers) or None,
        "weighted_metrics": _identifier(metrics.weighted_identifiers) or None,
        "run_eagerly": bool(getattr(model, "run_eagerly", False)),
        "steps_per_execution": spe if isinstance(spe, int) else 1,
        "jit_compile": True,
    }


def model_from_config(config, custom_objects=None):
    """Builds the model of a serialized dict (`config.json`), built from `build_config`.

    Names resolve only to kerax's built-in classes and registered or passed objects.
    """
    objects = {**layers_lib._builtin_layers(), **_MODEL_CLASSES}
    class_name = config.get("class_name")
    if class_name in ("Functional", "Model") and "Functional" in objects:
        inner = config.get("config") or {}
        if "input_layers" in inner:
            model = objects["Functional"].from_config(inner, custom_objects=custom_objects)
            return _build(model, config)
    cls = object_registration.get_registered_object(
        config.get("registered_name") or class_name, custom_objects, objects)
    if _is_plain_subclassed(cls):
        return _build(_revive_subclassed(cls, config.get("config") or {}), config)
    model = serialization_lib.deserialize_keras_object(
        config, module_objects=objects, custom_objects=custom_objects)
    return _build(model, config)


def _is_plain_subclassed(cls):
    Model = _MODEL_CLASSES["Model"]  # noqa: N806
    if not isinstance(cls, type) or not issubclass(cls, Model):
        return False
    if cls.__name__ in ("Sequential", "Functional"):
        return False
    return getattr(cls.from_config, "__func__", None) is getattr(Model.from_config, "__func__")


def _revive_subclassed(cls, config):
    """Keras' `Model.from_config` for subclassed models: `cls(**config)`."""
    config = dict(config)
    if isinstance(config.get("dtype"), dict):
        config["dtype"] = config["dtype"].get("config", {}).get("name")
    try:
        return cls(**config)
    except TypeError as e:
        raise TypeError(
            f"Unable to revive model {cls.__name__} from its config {config}: {e}. A "
            "subclassed model's `__init__` must accept every key of its `get_config()` "
            "(override `get_config()` to return the constructor arguments, and "
            "`from_config()` if they need converting)."
        ) from e


def _build(model, config):
    build = config.get("build_config") or {}
    shape = build.get("input_shape")
    if model._variables is None and shape is not None:
        model.build(tuple(shape) if shape and not isinstance(shape[0], list) else shape)
    return model


def compile_loaded(model, compile_config):
    """Compiles a loaded model from its file's `compile_config` with the model's own
    `compile_from_config` (a subclass may override it), as Keras does."""
    if not compile_config:
        return
    if hasattr(model, "compile_from_config"):
        model.compile_from_config(compile_config)
    else:
        compile_from_config(model, compile_config)


def compile_from_config(model, compile_config):
    """Compiles `model` from Keras 3's `compile_config` (optimizer, loss, metrics)."""
    if not compile_config:
        return

    def des(value, module):
        if isinstance(value, dict) and "class_name" in value:
            return module.deserialize(value)
        if isinstance(value, list):
            return [des(v, module) for v in value]
        return value

    spe = compile_config.get("steps_per_execution") or 1
    model.compile(
        optimizer=optimizers.deserialize(compile_config["optimizer"])
        if isinstance(compile_config.get("optimizer"), dict)
        else compile_config.get("optimizer") or "rmsprop",
        loss=des(compile_config.get("loss"), losses),
        loss_weights=compile_config.get("loss_weights"),
        metrics=des(compile_config.get("metrics"), metrics),
        weighted_metrics=des(compile_config.get("weighted_metrics"), metrics),
        steps_per_execution="auto" if spe == 1 else spe,
    )
