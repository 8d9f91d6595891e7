"""`plot_history`: the curves of a `fit` history, one panel per metric (matplotlib)."""


def plot_history(history, metrics=None, path=None, show=False, figsize=None):
    """Plots the losses and metrics of a `fit` history, training beside validation.

    One panel per metric (`loss`, then the others in the order `fit` logged them), with
    the `val_` curve in the same panel; epochs are counted from 1, as the progress bar.
    An addition of kerax (Keras has no such helper). Needs `matplotlib`.

    Args:
        history: the `History` that `fit` returns, or its `history` dict.
        metrics: the names to plot (default: every logged name without `val_`).
        path: save the figure there (any format `matplotlib` writes: `.png`, `.pdf`, ...).
        show: also show it in a window (`matplotlib.pyplot.show()`).
        figsize: the figure's size in inches (default: 4 x 3 per panel).

    Returns:
        The `matplotlib` figure (displayed when it is a notebook cell's result).

    Raises:
        TypeError: if `history` is neither a `History` nor a dict of lists.
        ValueError: for an empty history or a name it did not log.
        ImportError: without matplotlib, with the install command.

    Example:
    >>> fig = plot_history({"loss": [1.0, 0.5], "val_loss": [1.2, 0.7]})  # doctest: +SKIP
    >>> [ax.get_title() for ax in fig.axes]  # doctest: +SKIP
    ['loss']
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError("`plot_history` expects the `History` returned by `fit` (or its "
                        f"`history` dict). Received: {type(history).__name__}.")
    if not logs or not any(len(v) for v in logs.values()):
        raise ValueError("The history is empty: `fit` recorded no epoch. Plot the history "
                         "of a `fit` that trained at least one epoch.")
    names = list(metrics) if metrics is not None else [
        k for k in logs if not k.startswith("val_")] or list(logs)
    unknown = [n for n in names if n not in logs]
    if unknown:
        raise ValueError(f"`metrics` names {unknown}, which the history did not log. "
                         f"Logged: {sorted(logs)}.")
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("`plot_history` draws with the optional package `matplotlib`, "
                          "which is not installed. Install it with "
                          "`pip install matplotlib`.") from None
    fig, axes = plt.subplots(1, len(names), squeeze=False,
                             figsize=figsize or (4 * len(names), 3))
    for axis, name in zip(axes[0], names):
        for key, label in ((name, "training"), ("val_" + name, "validation")):
            if key in logs:
                values = [float(v) for v in logs[key]]
                epochs = _epochs(history, len(values))
                axis.plot(epochs, values, marker="o" if len(values) < 30 else None,
                          label=label)
        axis.set_title(name)
        axis.set_xlabel("epoch")
        axis.legend()
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    if show:
        plt.show()
    plt.close(fig)  # returned, not left open in pyplot (a notebook shows it once)
    return fig


def _epochs(history, n):
    epochs = list(getattr(history, "epoch", None) or [])
    return [e + 1 for e in epochs] if len(epochs) == n else list(range(1, n + 1))


__all__ = ["plot_history"]
