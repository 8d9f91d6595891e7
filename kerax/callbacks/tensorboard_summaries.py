"""The summaries `TensorBoard` writes beyond scalars and histograms, without TensorFlow.

Each is built as the protocol buffer TensorFlow's summary ops write (with tensorboardX's
copies of the protos), so TensorBoard's plugins read them as they read Keras' files:

- `keras_model_summary`: the model's JSON under the tag `"keras"` for the graph plugin's
  "conceptual graph" (plugin `graph_keras_model`), as Keras' `write_graph`.
- `weight_image_summary`: a weight drawn as Keras' `write_images` draws it, as the image
  plugin's tensor of `[width, height, png, ...]` (at most 3 images, as `tf.summary.image`).
- `projector_config`: the embedding projector's `projector_config.pbtxt`, pointing at
  tab-separated tensor files (`write_embedding_tsv`), which the projector reads without a
  TensorFlow checkpoint.
"""

import io
import json
import os

import numpy as np


def _protos():
    from tensorboardX.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

    return summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2


def _string_summary(tag, plugin_name, content, strings, scalar=False):
    summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2 = _protos()
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin_name,
                                                           content=content))
    tensor = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_STRING, string_val=list(strings),
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(strings))]))
    if scalar:  # one string of shape (), as `tf.summary.write` writes a Python string
        del tensor.tensor_shape.dim[:]
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(
        tag=tag, metadata=metadata, tensor=tensor)])


def keras_model_summary(model):
    """The `"keras"` summary of Keras' `write_graph`: the model's JSON for TensorBoard's
    conceptual graph (Keras writes it for Functional and Sequential models only).

    Example:
    >>> import kerax
    >>> m = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    >>> keras_model_summary(m).value[0].metadata.plugin_data.plugin_name
    'graph_keras_model'
    """
    return _string_summary("keras", "graph_keras_model", b"1",
                           [model.to_json().encode("utf-8")], scalar=True)


def weight_image(weight, data_format="channels_last"):
    """A weight as Keras' `write_images` draws it: NHWC images, or None where Keras
    writes none (3D convolutions and other shapes it cannot show).

    A bias becomes one `1 x n` column, a kernel one image (transposed to be wide), a
    squeezed 3D kernel one image per output channel.

    Example:
    >>> weight_image(np.zeros((4, 2))).shape  # a Dense kernel, transposed to be wide
    (1, 2, 4, 1)
    """
    image = np.squeeze(np.asarray(weight, "float32"))
    shape = image.shape
    if len(shape) == 1:
        image = image.reshape(1, shape[0], 1, 1)
    elif len(shape) == 2:
        if shape[0] > shape[1]:
            image = image.T
        image = image.reshape(1, image.shape[0], image.shape[1], 1)
    elif len(shape) == 3:
        if data_format == "channels_last":
            image = np.transpose(image, (2, 0, 1))
        image = image.reshape(image.shape + (1,))
    if image.ndim == 4 and image.shape[-1] in (1, 3, 4):
        return image
    return None


def weight_image_summary(tag, images, max_outputs=3):
    """The image plugin's summary of float `images` (NHWC) as `tf.summary.image` writes
    it: values in [0, 1] scaled to bytes (others clipped), the first `max_outputs`
    encoded as PNG. Needs Pillow.

    Example:
    >>> s = weight_image_summary("d/kernel/image", np.ones((1, 2, 4, 1), "float32"))
    >>> s.value[0].tensor.string_val[:2]
    [b'4', b'2']
    """
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "TensorBoard(write_images=True) encodes the weight images as PNG with the "
            "optional package `pillow`, which is not installed. Install it with "
            "`pip install pillow`, or pass `write_images=False`.") from None
    # `tf.image.convert_image_dtype(..., tf.uint8, saturate=True)`: x * 255.5, clipped.
    pixels = np.clip(np.asarray(images, "float32") * 255.5, 0, 255).astype(np.uint8)
    encoded = []
    for image in pixels[:max_outputs]:
        mode = {1: "L", 3: "RGB", 4: "RGBA"}[image.shape[-1]]
        buffer = io.BytesIO()
        Image.fromarray(image[..., 0] if mode == "L" else image, mode).save(buffer, "PNG")
        encoded.append(buffer.getvalue())
    height, width = pixels.shape[1:3]
    return _string_summary(tag, "images", b"", [str(width).encode(), str(height).encode()]
                           + encoded)


def write_embedding_tsv(path, matrix):
    """Writes a 2D matrix as the projector's tensor file (tab-separated rows)."""
    matrix = np.asarray(matrix, "float32").reshape(len(matrix), -1)
    with open(path, "w") as f:
        for row in matrix:
            f.write("\t".join(repr(float(v)) for v in row) + "\n")


def projector_config(embeddings):
    """`projector_config.pbtxt`'s text for `embeddings`: a list of dicts with
    `tensor_name`, `tensor_path` (relative to the config file), `tensor_shape` and, when
    given, `metadata_path`.

    Example:
    >>> print(projector_config([{"tensor_name": "emb", "tensor_path": "emb.tsv",
    ...                          "tensor_shape": (10, 2)}]), end="")
    embeddings {
      tensor_name: "emb"
      tensor_shape: 10
      tensor_shape: 2
      tensor_path: "emb.tsv"
    }
    """
    lines = []
    for e in embeddings:
        lines.append("embeddings {")
        lines.append(f"  tensor_name: {json.dumps(e['tensor_name'])}")
        if e.get("metadata_path"):
            lines.append(f"  metadata_path: {json.dumps(os.fspath(e['metadata_path']))}")
        lines += [f"  tensor_shape: {int(d)}" for d in e["tensor_shape"]]
        lines.append(f"  tensor_path: {json.dumps(e['tensor_path'])}")
        lines.append("}")
    return "".join(line + "\n" for line in lines)


__all__ = ["keras_model_summary", "weight_image", "weight_image_summary",
           "write_embedding_tsv", "projector_config"]
