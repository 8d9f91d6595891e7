"""Several fits of same-shape models trained together in one compiled program.

`search(..., population=N)` (see `population_search.py`) builds each trial's model, then
hands the fits ("members") whose models have the same structure to `train_group`. The
members' train states are stacked on a leading trial axis and the model's own execution
(`kerax.trainer.steps.make_execution` over the built-in train step, as `fit` compiles it)
runs under `jax.vmap`: one program, one dispatch per epoch, for the whole group.

What may differ between the members of a group is what the step reads from its state or
from a traced value: the learning rate (the optimizer's `inject_hyperparams` state), the
weights, the optimizer state, the RNG key, the epoch plan (each member shuffles as its own
`fit` would), the rate of each `Dropout` layer and the optimizer's `weight_decay` (set to
the member's traced value while the step is traced). Everything else (layers, shapes,
dtypes, loss, metrics, the other optimizer arguments) is in `group_key`, and only models
with equal keys share a program. Under a distribution the trial axis is sharded over its
devices (`_layout`).
"""

import contextlib
import json
import math

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from kerax.backend import switches
from kerax.callbacks.callback_list import CallbackList
from kerax.distribution import distribution_lib
from kerax.layers import Dropout
from kerax.optimizers.base_optimizer import Optimizer as BaseOptimizer
from kerax.saving.model_config import get_compile_config
from kerax.trainer import custom_steps
from kerax.trainer import epoch_loop
from kerax.trainer import inputs
from kerax.trainer import stateless
from kerax.trainer import steps as steps_lib
from kerax.trainer.pytrees import all_layers, host_value, signature
from kerax.trainer.train_state import TrainState

_FLAG = steps_lib.FIRST_BAD_STEP


class Member:
    """One `fit` of one trial's model, trained as part of a group.

    `prepare` does what `fit` does before its first epoch (open the data, make the train
    state, draw the first epoch's plan); the NumPy RNG state after that is kept so that
    later plans are drawn as this fit alone would draw them.
    """

    def __init__(self, model, callbacks, epochs=1, initial_epoch=0):
        self.model = model
        self.callbacks = callbacks
        if switches.max_epochs() is not None:
            epochs = min(epochs, switches.max_epochs())
        self.epochs = epochs
        self.initial_epoch = initial_epoch
        self.history = None
        self.error = None  # the exception a fit alone would have raised
        self.active = True

    def prepare(self, fit_kwargs):
        model = self.model
        model._require_compiled("fit")
        k = fit_kwargs
        self.adapter, self.validation = inputs.open_input(
            model, "fit", k.get("x"), k.get("y"), k.get("sample_weight"), k.get("batch_size"),
            k.get("steps_per_epoch"), k.get("shuffle", True), k.get("class_weight"),
            k.get("validation_split", 0.0), k.get("validation_data"))
        model._make_train_state()  # draws the train RNG key as `fit` does here
        # (The first call may draw from NumPy too, e.g. after `load_weights`; a second
        # one does not: a fit alone (`np_before`) starts from the state after it.)
        self.np_before = np.random.get_state()
        self.plan = self.adapter.epoch_plan()
        self.np_after = np.random.get_state()

    def next_plan(self):
        """This member's plan for its next epoch, drawn with its own NumPy RNG state."""
        if self.plan is not None:
            plan, self.plan = self.plan, None
            return plan
        saved = np.random.get_state()
        np.random.set_state(self.np_after)
        try:
            return self.adapter.epoch_plan()
        finally:
            self.np_after = np.random.get_state()
            np.random.set_state(saved)


def _dropouts(model):
    """The model's `Dropout` layers (exactly that class) in a fixed order."""
    return [layer for layer in all_layers(model) if type(layer) is Dropout]


def _traced_rate(rate):
    """Whether a `Dropout` rate can be a traced value (0 and 1 take other branches)."""
    return 0 < rate < 1


def _decay_is_traceable(optimizer):
    return (isinstance(optimizer, BaseOptimizer) and optimizer.weight_decay is not None
            and type(optimizer)._weight_decay_rate is BaseOptimizer._weight_decay_rate)


def _strip_rates(config):
    """A model config without the `rate` of `Dropout` layers that `tunables` traces."""
    if isinstance(config, dict):
        out = {k: _strip_rates(v) for k, v in config.items()}
        inner = out.get("config")
        if (config.get("class_name") == "Dropout" and isinstance(inner, dict)
                and _traced_rate(inner.get("rate", 0))):
            out["config"] = {k: v for k, v in inner.items() if k != "rate"}
        return out
    if isinstance(config, (list, tuple)):
        return [_strip_rates(v) for v in config]
    return config


def group_key(model):
    """A string equal for models that can be trained in one program, or None for a model
    that trains alone (a custom train/test step, a model without a config, an optimizer
    that is not a kerax optimizer).

    Example:
    >>> import kerax
    >>> def build(lr, rate):  # as a tuner builds: layer names count from zero again
    ...     kerax.utils.clear_session()
    ...     m = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2),
    ...                           kerax.layers.Dropout(rate)], name="m")
    ...     m.compile(kerax.optimizers.Adam(lr), "mse")
    ...     return m
    >>> group_key(build(0.1, 0.2)) == group_key(build(0.01, 0.5))
    True
    >>> group_key(build(0.1, 0.2)) == group_key(build(0.1, 0.0))
    False
    """
    if any(stateless.custom_step(model, kind) for kind in ("train", "test")):
        return None
    if not isinstance(model.optimizer, BaseOptimizer) or not model.built:
        return None
    try:
        config = _strip_rates(model.get_config())
        compile_config = get_compile_config(model)
    except (NotImplementedError, TypeError, ValueError):
        return None
    if compile_config is None:
        return None
    opt = dict(compile_config["optimizer"].get("config", {}))
    if not callable(model.optimizer._initial_learning_rate):
        opt.pop("learning_rate", None)  # in the optimizer state
    if _decay_is_traceable(model.optimizer):
        opt.pop("weight_decay", None)  # traced
    compile_config = {**compile_config, "optimizer": {
        **compile_config["optimizer"], "config": opt}}
    variables = model._variables
    parts = {"class": f"{type(model).__module__}.{type(model).__qualname__}",
             "config": config, "compile": compile_config,
             "mask": model._trainable_mask_signature(),
             "variables": signature(variables), "optimizer_state": signature(
                 model._make_train_state().opt_state)}
    try:
        return json.dumps(parts, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return None


def tunables(model):
    """The values a grouped model traces per member: `{"dropout": f32[layers],
    "weight_decay": f32[]}` (entries only where the model has them)."""
    out = {}
    rates = [layer.rate for layer in _dropouts(model) if _traced_rate(layer.rate)]
    if rates:
        # `1 - rate` in float32 then equals Python's `1.0 - rate` rounded to float32 (what
        # the layer computes alone) for every rate up to 0.5; above it, within one ulp.
        out["dropout"] = np.float32(1) - np.asarray([1.0 - r for r in rates], np.float32)
    if _decay_is_traceable(model.optimizer):
        out["weight_decay"] = np.asarray(model.optimizer.weight_decay, np.float32)
    return out


class _Traced:
    """Sets a template model's dropout rates and weight decay to traced values while
    its step is traced, and puts the Python values back after."""

    def __init__(self, model, values):
        self.layers = [layer for layer in _dropouts(model) if _traced_rate(layer.rate)]
        self.optimizer = model.optimizer
        self.values = values

    def __enter__(self):
        self.saved = ([layer.rate for layer in self.layers], self.optimizer.weight_decay)
        for i, layer in enumerate(self.layers):
            layer.rate = self.values["dropout"][i]
        if "weight_decay" in self.values:
            self.optimizer.weight_decay = self.values["weight_decay"]

    def __exit__(self, *exc):
        for layer, rate in zip(self.layers, self.saved[0]):
            layer.rate = rate
        self.optimizer.weight_decay = self.saved[1]


# The members' states are stacked and split on the host (NumPy): a jitted stack or split
# of a whole train state is one more program to compile per group size, and on a CPU it
# takes longer to compile (seconds, for 16 members) than the copies it saves.
def _stack(trees):
    return jax.tree_util.tree_map(lambda *a: np.stack([np.asarray(x) for x in a]), *trees)


def _unstack(tree, n):
    host = jax.device_get(tree)
    return [jax.tree_util.tree_map(lambda a: np.array(a[i]), host) for i in range(n)]


class GroupPrograms:
    """The compiled train and test executions of one group key (reused by every later
    group with that key: a search compiles once per architecture and population size)."""

    def __init__(self, template):
        self.template = template
        model = template
        fns = custom_steps.StepFunctions(model, model._trainable_mask())
        unroll = model._unroll_for("train")
        self._train, self._test = {}, {}

        def vmapped(step, kind, num_steps, plan_axis):
            execute = steps_lib.make_execution(step, num_steps, unroll, model._logs_fn(kind))

            def one(ts, values, data, idx, mask):
                with _Traced(model, values):
                    return execute(ts, data, idx, mask)

            return jax.jit(jax.vmap(one, in_axes=(0, 0, None, plan_axis, plan_axis)),
                           donate_argnums=0)

        self._make = lambda kind, n: (
            vmapped(fns.train_step, "train", n, 0) if kind == "train"
            else vmapped(fns.test_step, "test", n, None))

    def get(self, kind, num_steps):
        cache = self._train if kind == "train" else self._test
        if num_steps not in cache:
            cache[num_steps] = self._make(kind, num_steps)
        return cache[num_steps]


@contextlib.contextmanager
def _without_distribution():
    """The group's programs are traced as on one device (no batch constraints); the
    trial axis, not the batch, is what a distribution shards (`_layout`)."""
    current = distribution_lib.distribution()
    distribution_lib.set_distribution(None)
    try:
        yield
    finally:
        distribution_lib.set_distribution(current)


def _layout(n):
    """`(per_trial, replicated)` shardings over the current distribution's devices (as
    many as divide `n`), or None without a distribution: each device trains whole trials,
    so a trial's numbers are those of one device."""
    dist = distribution_lib.distribution()
    if dist is None:
        return None
    devices = np.asarray(dist.device_mesh.backend_mesh.devices).reshape(-1)
    mesh = Mesh(devices[:math.gcd(n, len(devices))], ("trials",))
    return NamedSharding(mesh, PartitionSpec("trials")), NamedSharding(mesh, PartitionSpec())


def _put(tree, sharding):
    return tree if sharding is None else jax.device_put(tree, sharding)


def _host_logs(logs, i):
    return steps_lib.flatten_logs({k: float(np.asarray(v)[i]) for k, v in logs.items()})


def _should_validate(epoch, freq):
    return (epoch + 1) % freq == 0 if isinstance(freq, int) else (epoch + 1) in freq


def train_group(members, programs, fit_kwargs):
    """Trains prepared `members` (same `group_key`) together; sets each one's `history`,
    or its `error` where its fit alone would have raised.

    Each member's callbacks see what they see in a `fit` of their own, at epoch level:
    `on_train_begin`, `on_epoch_begin`, `on_epoch_end` with the member's logs and its
    model holding its weights, `on_train_end`. Batch-level hooks are not called. A member
    whose model sets `stop_training` (EarlyStopping), or whose epochs are done, sits out
    the later epochs: its steps are masked and its state is not read again.
    """
    n = len(members)
    values = _stack([tunables(m.model) for m in members])
    first = min(m.initial_epoch for m in members)
    last = max(m.epochs for m in members)
    for m in members:
        m.callbacks = CallbackList(m.callbacks, add_history=True, add_progbar=False,
                                   model=m.model, verbose=0, epochs=m.epochs,
                                   steps=m.adapter.steps_per_epoch)
        m.model.stop_training = False
        m.logs = {}
        m.callbacks.on_train_begin()
    layout = _layout(n)
    per_trial, replicated = layout if layout is not None else (None, None)
    values = _put(values, per_trial)
    validation = _open_validation(members[0], fit_kwargs, replicated)
    data = members[0].adapter.data
    if layout is not None:
        data = jax.device_put(jax.device_get(data), replicated)
    for epoch in range(first, last):
        running = [m for m in members
                   if m.active and m.initial_epoch <= epoch < m.epochs and m.error is None]
        if not running:
            break
        plans = []
        for m in members:
            if m in running:
                plans.append(m.next_plan())
                m.callbacks.on_epoch_begin(epoch)
                m.model._reset_attribute_metrics()
            else:
                plans.append(None)
        plans = _padded(plans)
        ts = _put(_stack([m.model._make_train_state() for m in members]), per_trial)
        idx = _put(np.stack([p[0] for p in plans]), per_trial)
        mask = _put(np.stack([p[1] for p in plans]), per_trial)
        with _without_distribution():
            ts, logs = programs.get("train", idx.shape[1])(ts, values, data, idx, mask)
        logs = jax.device_get(logs)
        states = _unstack(ts, n)  # before validating, which donates `ts`'s arrays
        val_logs = None
        if validation is not None and _should_validate(epoch, fit_kwargs.get(
                "validation_freq", 1)):
            val_logs, val_states = _validate(programs, ts, values, validation, n,
                                             per_trial)
            states = [s._replace(state=v) for s, v in zip(states, val_states)]
        for i, m in enumerate(members):
            if m not in running:
                continue
            _end_epoch(m, epoch, states[i], logs, val_logs, i)
    for m in members:
        if m.error is None:
            m.callbacks.on_train_end(m.logs)
            m.history = m.model.history


def _padded(plans):
    """The members' plans as one `(members, steps, batch)` pair: a member that sits the
    epoch out, or whose epoch is shorter (the end of a pass with `steps_per_epoch`), gets
    steps without rows, which the step skips (its RNG key still advances: such a
    member's later dropout masks differ from its fit alone)."""
    real = [p for p in plans if p is not None]
    steps = max(p[0].shape[0] for p in real)
    batch = real[0][0].shape[1]
    out = []
    for p in plans:
        idx, mask = (np.zeros((0, batch), np.int32), np.zeros((0, batch), bool)) \
            if p is None else p
        pad = ((0, steps - idx.shape[0]), (0, 0))
        out.append((np.pad(idx, pad), np.pad(mask, pad)))
    return out


def _end_epoch(member, epoch, ts, logs, val_logs, i):
    try:
        _report_epoch(member, epoch, ts, logs, val_logs, i)
    except Exception as e:  # noqa: BLE001 - the member's fit alone raises it
        member.error = e


def _report_epoch(member, epoch, ts, logs, val_logs, i):
    model, cbs = member.model, member.callbacks
    model._store_train_state(ts)
    if epoch_loop.stop_on_nonfinite(model, int(np.asarray(logs[_FLAG])[i]), cbs):
        member.active = False  # TerminateOnNaN: the epoch still ends, as in `fit`
    out = _host_logs({k: v for k, v in logs.items() if k != _FLAG}, i)
    if val_logs is not None:
        out.update({"val_" + k: v for k, v in _host_logs(val_logs, i).items()})
    out = {name: host_value(v) for name, v in out.items()}
    member.logs = out
    cbs.on_epoch_end(epoch, out)
    if model.stop_training:
        member.active = False


def _open_validation(member, fit_kwargs, replicated=None):
    if member.validation is None:
        return None
    model = member.model
    x, y, sw = member.validation
    batch_size = fit_kwargs.get("validation_batch_size") or fit_kwargs.get("batch_size")
    adapter, _ = inputs.open_input(model, "evaluate", x, y, sw, batch_size,
                                   fit_kwargs.get("validation_steps"))
    plan = adapter.epoch_plan()
    metric_state = model._init_metric_state("test")
    data = adapter.data
    if replicated is not None:
        data, plan = jax.device_put((jax.device_get(data), plan), replicated)
    return data, plan, metric_state


def _validate(programs, ts, values, validation, n, per_trial):
    data, (idx, mask), metric_state = validation
    fresh = _put((_stack([metric_state] * n), np.zeros((n,), np.int32)), per_trial)
    test_ts = TrainState(ts.params, ts.state, None, fresh[0], None, fresh[1])
    with _without_distribution():
        test_ts, logs = programs.get("test", idx.shape[0])(test_ts, values, data, idx, mask)
    logs = jax.device_get({k: v for k, v in logs.items() if k != _FLAG})
    return logs, _unstack(test_ts.state, n)


__all__ = ["Member", "GroupPrograms", "group_key", "tunables", "train_group"]
