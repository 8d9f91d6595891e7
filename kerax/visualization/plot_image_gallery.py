"""`plot_image_gallery`: a grid of images with matplotlib, as Keras 3."""

import math

import numpy as np

from kerax.backend import image_data_format


def pyplot(what):
    """`matplotlib.pyplot`, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            f"`{what}` draws with the optional package `matplotlib`, which is not "
            "installed. Install it with `pip install matplotlib`.") from None
    return plt


def channels_last_batch(images, data_format):
    """`images` as a NumPy batch in channels-last order; a ValueError unless it is 4D."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(
            f"`images` must be batched 4D tensor. Received: images.shape={images.shape}")
    if (data_format or image_data_format()) == "channels_first":
        images = np.transpose(images, (0, 2, 3, 1))
    return images


def plot_image_gallery(images, y_true=None, y_pred=None, label_map=None, rows=None, cols=None,
                       value_range=(0, 255), scale=2, path=None, show=None, transparent=True,
                       dpi=60, legend_handles=None, data_format=None):
    """Plots a batch of images in a grid (Keras 3's function; needs matplotlib).

    Args:
        images: a batch of images `(batch, height, width, channels)`.
        y_true, y_pred: optional class ids per image, shown through `label_map`.
        label_map: a dict from class id to name (required with `y_true`/`y_pred`).
        rows, cols: the grid (default: about square).
        value_range: the images' value range, mapped to [0, 255].
        scale: the size of each image in inches.
        path: save the figure there (then not shown).
        show: show the figure (default: when no `path` is given).
        transparent, dpi: `savefig` arguments.
        legend_handles: matplotlib handles for a legend.
        data_format: `"channels_last"` or `"channels_first"` (default: the config's).

    Raises:
        ValueError: for both `path` and `show`, labels without `label_map`, or images
            that are not 4D.

    Example:
    >>> import tempfile, os
    >>> plot_image_gallery(np.zeros((4, 8, 8, 3)), path=os.path.join(tempfile.mkdtemp(),
    ...                    "g.png"))  # doctest: +SKIP
    """
    plt = pyplot("plot_image_gallery")
    if path is not None and show:
        raise ValueError("plot_gallery() expects either `path` to be set, or `show` to be "
                         "true.")
    if (y_true is not None or y_pred is not None) and label_map is None:
        raise ValueError("If `y_true` or `y_pred` are provided, a `label_map` must also be "
                         "provided.")
    show = show if show is not None else path is None
    data_format = data_format or image_data_format()
    images = np.asarray(images)
    batch_size = images.shape[0] if images.ndim == 4 else 1
    rows = rows or int(math.ceil(math.sqrt(batch_size)))
    cols = cols or int(math.ceil(batch_size // rows))
    if images.ndim != 4:
        raise ValueError("`plot_images_gallery()` requires you to batch your `np.array` "
                         "samples together.")
    images = images[:min(rows * cols, batch_size)]
    if data_format == "channels_first":
        images = np.transpose(images, (0, 2, 3, 1))
    fig, axes = plt.subplots(nrows=rows, ncols=cols, figsize=(cols * scale, rows * scale),
                             frameon=False, layout="tight", squeeze=True, sharex="row",
                             sharey="col")
    fig.subplots_adjust(wspace=0, hspace=0)
    if isinstance(axes, np.ndarray) and axes.ndim == 1:
        axes = np.expand_dims(axes, 0 if rows == 1 else -1)
    if legend_handles is not None:
        fig.legend(handles=legend_handles, loc="lower center")
    images = images.astype("float32")
    if tuple(value_range) != (0, 255):
        low, high = np.float32(value_range[0]), np.float32(value_range[1])
        images = (images - low) / (high - low) * np.float32(255)
    y_true = None if y_true is None else np.asarray(y_true)
    y_pred = None if y_pred is None else np.asarray(y_pred)
    for row in range(rows):
        for col in range(cols):
            index = row * cols + col
            axis = axes[row, col] if isinstance(axes, np.ndarray) else axes
            axis.imshow(images[index].astype("uint8"))
            axis.margins(x=0, y=0)
            axis.axis("off")
            title = []
            if y_true is not None and index < len(y_true):
                title.append(f"Label: {label_map.get(y_true[index], 'Unknown')}")
            if y_pred is not None and index < len(y_pred):
                title.append(f"Pred: {label_map.get(y_pred[index], 'Unknown')}")
            if title:
                axis.set_title("  ".join(title), fontsize=8)
    if path is not None:
        plt.savefig(fname=path, pad_inches=0, bbox_inches="tight", transparent=transparent,
                    dpi=dpi)
        plt.close()
    elif show:
        plt.show()
        plt.close()


__all__ = ["plot_image_gallery"]
