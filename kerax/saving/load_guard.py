"""A failed load leaves the model exactly as it was.

Loaders read and check everything before assigning anything; `unchanged_on_error` makes
that hold also when an optimizer is built on the way (`optimizer_vars.ensure_built`) or
an assignment fails late: the model's variables, its optimizer state and its training
RNG are put back.
"""

import contextlib

_MODEL_STATE = ("_opt_mask_signature", "_train_rng")


@contextlib.contextmanager
def unchanged_on_error(model):
    """Puts the model's variables and optimizer state back if the block raises.

    Example:
    >>> import kerax
    >>> m = kerax.Sequential([kerax.Input((2,)), kerax.layers.Dense(1)])
    >>> before = m.get_weights()[0].copy()
    >>> try:
    ...     with unchanged_on_error(m):
    ...         m.set_weights([w * 0 for w in m.get_weights()])
    ...         raise OSError("disk gone")
    ... except OSError:
    ...     pass
    >>> bool((m.get_weights()[0] == before).all())
    True
    """
    opt = getattr(model, "optimizer", None)
    variables = model._variables
    opt_state = getattr(opt, "state", None)
    attrs = {k: model.__dict__[k] for k in _MODEL_STATE if k in model.__dict__}
    try:
        yield
    except BaseException:
        model._variables = variables
        if opt is not None:
            opt.state = opt_state
        for k in _MODEL_STATE:
            if k in attrs:
                model.__dict__[k] = attrs[k]
            else:
                model.__dict__.pop(k, None)
        raise
