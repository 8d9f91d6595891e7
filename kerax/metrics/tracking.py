"""Which metrics an object holds as attributes: Keras tracks them into `model.metrics`."""

from kerax.metrics.metric import Metric


def attribute_metrics(obj, skip=()):
    """The metrics held by `obj`'s attributes (directly or in lists, tuples and dicts), in
    assignment order, then those of its sub-layers that are not models, as Keras'
    `model.metrics` lists them after the compiled ones (`self.loss_tracker =
    keras.metrics.Mean(name="loss")` in a custom `train_step`).

    Args:
        obj: a layer or model.
        skip: metrics to leave out (the model's own compiled trackers).

    Returns:
        A list of `Metric`s, each once.

    Example:
    >>> import kerax
    >>> class Net(kerax.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.tracker = kerax.metrics.Mean(name="tracked")
    ...     def call(self, x):
    ...         return x
    >>> [m.name for m in attribute_metrics(Net())]
    ['tracked']
    """
    seen = {id(m) for m in skip}
    out = []

    def add(value):
        if isinstance(value, Metric):
            if id(value) not in seen:
                seen.add(id(value))
                out.append(value)
        elif isinstance(value, (list, tuple)):
            for v in value:
                add(v)
        elif isinstance(value, dict):
            for v in value.values():
                add(v)

    def walk(layer):
        for value in vars(layer).values():
            add(value)
        children = getattr(layer, "_children", None)
        for child in (children() if children is not None else {}).values():
            if not hasattr(type(child), "fit"):  # a nested model has its own metrics
                walk(child)

    walk(obj)
    return out
