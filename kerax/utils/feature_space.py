"""`FeatureSpace`: Keras' one-stop preprocessing of structured data, on the host.

Keras 3 runs FeatureSpace on TensorFlow. Here every feature's preprocessor runs eagerly on
the host (strings never enter XLA): the lookups and hashes in NumPy, the float layers
(`Normalization`, `Rescaling`, `Discretization`) eagerly, and the one-hot encoding and
concatenation in NumPy, output for output as Keras on TensorFlow (checked against
committed goldens). It sits above `saving` (its `save` writes a `.keras` file) and is
exported as `kerax.utils.FeatureSpace`.
"""

import jax
import jax.numpy as jnp
import numpy as np

from kerax.backend.naming import auto_name
from kerax.layers import (CategoryEncoding, Discretization, HashedCrossing, Hashing, Input,
                          IntegerLookup, Layer, Normalization, Rescaling, StringLookup,
                          TextVectorization)
from kerax.layers.preprocessing.text.host import (HostSpec, applied_in_pipeline, int_dtype,
                                                  refuse_traced)
from kerax.saving import saving_lib
from kerax.utils.feature_space_features import (Cross, Feature, TFDConcat, TFDIdentity,
                                                 deserialize, serialize)
from kerax.utils.feature_space_data import adapt_batches, as_columns


def _one_hot(ids, depth):
    """Keras' `CategoryEncoding(depth, "multi_hot")` of `(batch, 1)` ids, in NumPy."""
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() >= depth):
        raise ValueError(f"Expected ids in [0, {depth}), received values from {ids.min()} to "
                         f"{ids.max()}.")
    out = np.zeros(ids.shape[:-1] + (depth,), np.float32)
    np.put_along_axis(out, ids.astype(np.int64), 1.0, axis=-1)
    return out


def _run(layer, x):
    """A preprocessor on host values, as NumPy (host layers directly, others eagerly)."""
    out = layer.host_call(x) if hasattr(layer, "host_call") else layer(x)
    return np.asarray(out)


def _dtype_name(x):
    return "string" if x.dtype.kind in "USO" else x.dtype.name


class FeatureSpace(Layer):
    """One-stop preprocessing and encoding of structured data, as Keras' `FeatureSpace`.

    Runs on the host: call it on a dict of raw columns (NumPy arrays, lists, scalars)
    and it returns one concatenated float32 vector per example (`output_mode="concat"`)
    or a dict of encoded features (`"dict"`). `adapt` takes a dict of columns, a pandas
    DataFrame, or an iterable of dict batches (a generator, a `PyDataset`-like stream).

    Keras' tutorial preprocesses a `tf.data` pipeline with
    `ds.map(lambda x, y: (feature_space(x), y))`; with NumPy data the same is
    `[(feature_space(x), y) for x, y in batches]` (a list: re-iterable, so it trains for
    several epochs), or, without a preprocessed copy, a model built on
    `get_inputs()` / `get_encoded_features()` trained on the raw dicts: as in Keras, that
    model is the graph of the FeatureSpace's layers (its `.keras` file loads in Keras,
    and Keras' in kerax); `fit` runs the lookups and hashes in its input pipeline, on the
    host, and the rest as one XLA program (crosses included: their `HashedCrossing`
    hashes the lookups' integer ids inside the compiled step).

    Args:
        features: a dict from feature name to its type name (`"float"`,
            `"float_rescaled"`, `"float_normalized"`, `"float_discretized"`,
            `"integer_categorical"`, `"string_categorical"`, `"integer_hashed"`,
            `"string_hashed"`) or a `FeatureSpace.<type>(...)` feature.
        output_mode: `"concat"` or `"dict"`.
        crosses: feature-name tuples to cross, or `FeatureSpace.cross(...)` objects.
        crossing_dim: default hashing size of crosses.
        hashing_dim: default number of bins of the hashed features.
        num_discretization_bins: default bins of `"float_discretized"` features.

    Example:
    >>> fs = FeatureSpace({"x": "float_normalized", "c": "string_categorical"})
    >>> fs.adapt({"x": [0.0, 2.0], "c": ["a", "b"]})
    >>> fs({"x": [1.0, 2.0], "c": ["b", "q"]}).tolist()  # c one-hot (OOV, b, a), then x
    [[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.0]]
    """

    _keras_module = "keras.utils"

    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot"):
        """A cross of `feature_names` hashed into `crossing_dim` bins."""
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode):
        """A feature with your own preprocessing layer (`output_mode`: `"float"`,
        `"int"` or `"one_hot"`)."""
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None):
        """Float values, unchanged."""
        name = name or auto_name("float")
        return Feature("float32", TFDIdentity(dtype="float32", name=f"{name}_preprocessor"),
                       "float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None):
        """Float values rescaled by a `Rescaling(scale, offset)` layer."""
        name = name or auto_name("float_rescaled")
        return Feature("float32", Rescaling(scale=scale, offset=offset,
                                            name=f"{name}_preprocessor"), "float")

    @classmethod
    def float_normalized(cls, name=None):
        """Float values standardized by an adapted `Normalization` layer."""
        name = name or auto_name("float_normalized")
        return Feature("float32", Normalization(axis=-1, name=f"{name}_preprocessor"),
                       "float")

    @classmethod
    def float_discretized(cls, num_bins, bin_boundaries=None, output_mode="one_hot",
                          name=None):
        """Float values bucketized by a `Discretization` layer."""
        name = name or auto_name("float_discretized")
        return Feature("float32", Discretization(num_bins=num_bins,
                                                 bin_boundaries=bin_boundaries,
                                                 name=f"{name}_preprocessor"), output_mode)

    @classmethod
    def integer_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot",
                            name=None):
        """Integer values indexed by an adapted `IntegerLookup`."""
        name = name or auto_name("integer_categorical")
        return Feature("int32", IntegerLookup(name=f"{name}_preprocessor",
                                              max_tokens=max_tokens,
                                              num_oov_indices=num_oov_indices), output_mode)

    @classmethod
    def string_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot",
                           name=None):
        """String values indexed by an adapted `StringLookup`."""
        name = name or auto_name("string_categorical")
        return Feature("string", StringLookup(name=f"{name}_preprocessor",
                                              max_tokens=max_tokens,
                                              num_oov_indices=num_oov_indices), output_mode)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None):
        """String values hashed into `num_bins` bins."""
        name = name or auto_name("string_hashed")
        return Feature("string", Hashing(name=f"{name}_preprocessor", num_bins=num_bins),
                       output_mode)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None):
        """Integer values hashed into `num_bins` bins."""
        name = name or auto_name("integer_hashed")
        return Feature("int32", Hashing(name=f"{name}_preprocessor", num_bins=num_bins),
                       output_mode)

    def __init__(self, features, output_mode="concat", crosses=None, crossing_dim=32,
                 hashing_dim=32, num_discretization_bins=32, name=None):
        super().__init__(name=name, autocast=False)
        if not features:
            raise ValueError("The `features` argument cannot be None or empty.")
        self.crossing_dim, self.hashing_dim = crossing_dim, hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {n: self._standardize_feature(n, v) for n, v in features.items()}
        self.crosses = [self._standardize_cross(c, set(features)) for c in crosses or []]
        self.crosses_by_name = {c.name: c for c in self.crosses}
        if output_mode not in {"dict", "concat"}:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of "
                             f"{{'dict', 'concat'}}. Received: output_mode={output_mode}")
        self.output_mode = output_mode
        self.inputs = {n: Input(shape=(1,), dtype=f.dtype, name=n)
                       for n, f in self.features.items()}
        self.preprocessors = {n: f.preprocessor for n, f in self.features.items()}
        self.crossers = {c.name: HashedCrossing(c.crossing_dim, name=c.name)
                         for c in self.crosses}
        self.one_hot_encoders = {}
        self.encoded_features = None
        self._is_adapted = False
        self._sublayers_built = False

    def _standardize_feature(self, name, feature):
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return deserialize(feature)
        simple = {"float": self.float, "float_normalized": self.float_normalized,
                  "float_rescaled": self.float_rescaled,
                  "integer_categorical": self.integer_categorical,
                  "string_categorical": self.string_categorical}
        if feature in simple:
            return simple[feature](name=name)
        if feature == "float_discretized":
            return self.float_discretized(name=name, num_bins=self.num_discretization_bins)
        if feature == "integer_hashed":
            return self.integer_hashed(self.hashing_dim, name=name)
        if feature == "string_hashed":
            return self.string_hashed(self.hashing_dim, name=name)
        kinds = sorted(simple) + ["float_discretized", "integer_hashed", "string_hashed"]
        raise ValueError(f"Invalid feature type: {feature}. Expected a `FeatureSpace` feature "
                         f"or one of {kinds}.")

    def _standardize_cross(self, cross, names):
        if isinstance(cross, dict):
            cross = deserialize(cross)
        if isinstance(cross, Cross):
            return cross
        if not self.crossing_dim:
            raise ValueError("When specifying `crosses`, the argument `crossing_dim` "
                             "(dimensionality of the crossing space) should be specified as "
                             "well.")
        if any(key not in names for key in cross):
            raise ValueError("All features referenced in the `crosses` argument should be "
                             f"present in the `features` dict. Received unknown features: "
                             f"{cross}")
        return Cross(cross, crossing_dim=self.crossing_dim)

    # ------------------------------------------------------------------------ adapt --
    def _list_adaptable_preprocessors(self):
        names = []
        for name, layer in self.preprocessors.items():
            if isinstance(layer, Normalization) and layer.input_mean is not None:
                continue
            if isinstance(layer, TextVectorization) and \
                    layer._lookup_layer._has_input_vocabulary:
                continue
            if hasattr(layer, "adapt"):
                names.append(name)
        return names

    def adapt(self, dataset):
        """Adapts every adaptable preprocessor (lookups, `Normalization`,
        `Discretization`) to the data.

        Args:
            dataset: a dict of columns (NumPy arrays or lists, one value per example), a
                pandas DataFrame, or an iterable of batches that are such dicts (a
                generator, a list of dicts, a stream). Unbatched columns are read in
                batches of 32, as Keras batches an unbatched `tf.data.Dataset`.
        """
        names = self._list_adaptable_preprocessors()
        batches = adapt_batches(dataset, names)
        for name in names:
            self.preprocessors[name].adapt(iter([b[name] for b in batches]))
        self._is_adapted = True
        self._build_encoders()

    # ---------------------------------------------------------------------- calling --
    def _check_if_adapted(self):
        if not self._is_adapted:
            if self._list_adaptable_preprocessors():
                raise ValueError("You need to call `.adapt(dataset)` on the FeatureSpace "
                                 "before you can start using it.")
            self._is_adapted = True

    def _cardinality(self, name, spec):
        layer = self.preprocessors.get(name) or self.crossers.get(name)
        if isinstance(layer, (IntegerLookup, StringLookup)):
            # (a loaded lookup knows its size from its config before its vocabulary file)
            frozen = layer._frozen_vocab_size
            return layer.vocabulary_size() if frozen is None else frozen
        if isinstance(layer, CategoryEncoding):
            return layer.num_tokens
        if isinstance(layer, Discretization):
            return layer.num_bins
        if isinstance(layer, (HashedCrossing, Hashing)):
            return layer.num_bins
        raise ValueError(f"Feature '{name}' has `output_mode='one_hot'`. However it isn't a "
                         "standard feature and the dimensionality of its output space is not "
                         "known, thus it cannot be one-hot encoded. Try using "
                         "`output_mode='int'`.")

    def _build_encoders(self):
        """Creates the one-hot encoders (Keras' `CategoryEncoding` layers) once adapted."""
        if self._sublayers_built:
            return
        self._check_if_adapted()
        specs = {**self.features, **self.crosses_by_name}
        encoders = {}
        for name in self._output_names():
            if specs[name].output_mode == "one_hot":
                depth = self._cardinality(name, specs[name])
                if depth is not None:
                    encoders[name] = CategoryEncoding(num_tokens=depth, output_mode="multi_hot")
        self.one_hot_encoders = encoders  # assigned whole, so the layer tracks them
        for layer in [*self.preprocessors.values(), *self.crossers.values(),
                      *encoders.values()]:
            if layer._variables is None:  # (a float_normalized feature: built by adapt)
                layer.build((None, 1))
        self._sublayers_built = self.built = True

    def _output_names(self):
        return sorted(self.features) + sorted(self.crosses_by_name)

    def _columns(self, data):
        if isinstance(data, (list, tuple)) and len(data) == len(self.features):
            data = dict(zip(self.features, data))  # the pipeline's list, in input order
        if not isinstance(data, dict):
            raise ValueError("A FeatureSpace can only be called with a dict. "
                             f"Received: data={data} (of type {type(data)})")
        unknown = [k for k in data if k not in self.features]
        if unknown:
            raise ValueError(f"FeatureSpace '{self.name}' received unknown features "
                             f"{unknown}; it has {list(self.features)}. Pass only the "
                             "features (e.g. drop the label column).")
        missing = [k for k in self.features if k not in data]
        if missing:
            raise ValueError(f"FeatureSpace '{self.name}' is missing the features {missing} "
                             f"in its input; it needs a column for each of "
                             f"{list(self.features)}.")
        return as_columns(data)

    def host_call(self, data):
        """The FeatureSpace on a dict of raw host columns, as NumPy arrays."""
        self._build_encoders()
        data, rebatched = self._columns(data)
        pre = {name: _run(self.preprocessors[name], x) for name, x in data.items()}
        crossed = {c.name: _run(self.crossers[c.name], [pre[n] for n in c.feature_names])
                   for c in self.crosses}
        merged = {**pre, **crossed}
        out = {}
        for name in self._output_names():
            x = merged[name]
            spec = self.features.get(name) or self.crosses_by_name[name]
            if spec.output_mode == "one_hot" and x.dtype.kind not in "iu":
                raise ValueError(f"Feature '{name}' has `output_mode='one_hot'`. Thus its "
                                 "preprocessor should return an integer dtype. Instead it "
                                 f"returns a {_dtype_name(x)} dtype.")
            if name in self.one_hot_encoders:
                x = _one_hot(x, self.one_hot_encoders[name].num_tokens)
            if self.output_mode == "concat" and x.dtype.kind in "iuUSO":
                raise ValueError(f"Cannot concatenate features because feature '{name}' has "
                                 f"not been encoded (it has dtype {_dtype_name(x)}). "
                                 "Consider using `output_mode='dict'`.")
            out[name] = x
        if self.output_mode == "concat":
            cat = np.concatenate(list(out.values()), axis=-1)
            return cat[0] if rebatched else cat
        if rebatched:
            out = {k: v[0] if v.ndim == 2 and v.shape[0] == 1 else v for k, v in out.items()}
        return out

    def __call__(self, data):
        if isinstance(data, dict) and any(hasattr(v, "_keras_history")
                                          for v in data.values()):
            return super().__call__([data[n] for n in self.features])
        if isinstance(data, list) and any(hasattr(v, "_keras_history") for v in data):
            return super().__call__(data)
        out = self.host_call(data)
        return jax.tree_util.tree_map(
            lambda x: jnp.asarray(x, jax.dtypes.canonicalize_dtype(x.dtype)), out)

    def forward(self, params, state, inputs, training=False, rng=None, **kwargs):
        if applied_in_pipeline(self, inputs):  # the pipeline put the output in slot 0
            return inputs[0], state
        refuse_traced(self, inputs)
        out = self.host_call(inputs)
        return jax.tree_util.tree_map(jnp.asarray, out), state

    def _output_spec(self, name):
        """`(width, dtype)` of one encoded output, from the layers' configuration (a
        loaded FeatureSpace knows it before its vocabularies are read), or None."""
        spec = self.features.get(name) or self.crosses_by_name[name]
        layer = self.preprocessors.get(name) or self.crossers.get(name)
        if spec.output_mode == "one_hot":
            depth = self._cardinality(name, spec)
            return None if depth is None else (depth, "float32")
        if isinstance(layer, (TFDIdentity, Normalization, Rescaling)):
            return 1, "float32"
        if isinstance(layer, Discretization):
            return 1, "int32"
        if isinstance(layer, (IntegerLookup, StringLookup, HashedCrossing, Hashing)):
            return 1, int_dtype()
        return None

    def host_output_spec(self, inputs):
        """The symbolic output: the encoded features of symbolic `(batch, 1)` inputs."""
        names = self._output_names()
        specs = {n: self._output_spec(n) for n in names}
        if any(v is None for v in specs.values()):  # a custom preprocessor: run a sample
            return self._sampled_output_spec()
        if self.output_mode == "concat":
            return HostSpec((None, sum(w for w, _ in specs.values())), "float32")
        return {n: HostSpec((None, w), d) for n, (w, d) in specs.items()}

    def _sampled_output_spec(self):
        sample = {n: np.zeros((1, 1), np.float32 if f.dtype.startswith("float") else
                              (np.int64 if f.dtype.startswith("int") else object))
                  for n, f in self.features.items()}
        for n, f in self.features.items():
            if f.dtype == "string":
                sample[n][0, 0] = ""
        out = self.host_call(sample)
        spec = lambda x: HostSpec((None,) + x.shape[1:], x.dtype.name)  # noqa: E731
        return {k: spec(v) for k, v in out.items()} if isinstance(out, dict) else spec(out)

    def build_variables(self, key, *inputs):
        """The sub-layers' variables (a `Normalization`'s statistics), each built for
        `(batch, 1)` inputs if it is not yet (a FeatureSpace loaded inside a model)."""
        params, state = {}, {}
        for name, layer in self._children().items():
            if layer._variables is None:
                layer.build((None, 1))
            if layer._variables["params"]:
                params[name] = layer._variables["params"]
            if layer._variables["state"]:
                state[name] = layer._variables["state"]
        return params, state

    def get_inputs(self):
        """The dict of symbolic `Input`s, one `(batch, 1)` input per feature."""
        self._build_encoders()
        return self.inputs

    def get_encoded_features(self):
        """The symbolic encoded features of `get_inputs()` (a tensor, or a dict).

        As in Keras, they are the outputs of the FeatureSpace's own layers called on the
        inputs (each preprocessor, its one-hot encoder, a `TFDConcat`), so a model built on
        them is the graph Keras builds and saves: the files load both ways. Crosses are
        `HashedCrossing` layers on the preprocessors' integer ids, which run inside the
        compiled step."""
        self._build_encoders()
        if self.encoded_features is None:
            self.encoded_features = self._keras_graph(self.inputs)
        return self.encoded_features

    def _keras_graph(self, inputs):
        """Keras' `_merge_features` on symbolic inputs: the layers' nodes, in its order."""
        pre = {name: self.preprocessors[name](inputs[name]) for name in self.features}
        pre.update({c.name: self.crossers[c.name]([pre[n] for n in c.feature_names])
                    for c in self.crosses})
        out = {}
        for name in self._output_names():
            x = pre[name]
            spec = self.features.get(name) or self.crosses_by_name[name]
            if spec.output_mode == "one_hot" and \
                    not x.dtype.startswith(("int", "uint")):
                raise ValueError(f"Feature '{name}' has `output_mode='one_hot'`. Thus its "
                                 "preprocessor should return an integer dtype. Instead it "
                                 f"returns a {x.dtype} dtype.")
            if name in self.one_hot_encoders:
                x = self.one_hot_encoders[name](x)
            if self.output_mode == "concat" and x.dtype.startswith(("int", "uint", "string")):
                raise ValueError(f"Cannot concatenate features because feature '{name}' has "
                                 f"not been encoded (it has dtype {x.dtype}). Consider using "
                                 "`output_mode='dict'`.")
            out[name] = x
        if self.output_mode == "dict":
            return out
        self.concat = TFDConcat(axis=-1)
        return self.concat(list(out.values()))

    # ---------------------------------------------------------------------- saving --
    def get_config(self):
        return {
            "features": {n: serialize(f) for n, f in self.features.items()},
            "output_mode": self.output_mode,
            "crosses": [serialize(c) for c in self.crosses],
            "crossing_dim": self.crossing_dim, "hashing_dim": self.hashing_dim,
            "num_discretization_bins": self.num_discretization_bins,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_build_config(self):
        return {n: {"input_shape": [None, 1]} if not isinstance(
            f.preprocessor, (IntegerLookup, StringLookup)) else {}
            for n, f in self.features.items()}

    def build_from_config(self, config):
        """As Keras: a loaded FeatureSpace counts as adapted; its preprocessors are built
        so that the file's weights (a `Normalization`'s mean and variance) load into them."""
        for layer in [*self.preprocessors.values(), *self.crossers.values()]:
            if layer._variables is None:
                layer.build((None, 1))
        self._is_adapted = True  # the one-hot encoders follow on the first call, as in
        # Keras, once the vocabularies (assets, read after this) are known

    def save_own_variables(self, store):
        """Keras' FeatureSpace saves no arrays of its own (its sub-layers do)."""

    def own_variable_shapes(self):
        return {}

    def load_own_variables(self, store):
        """Read from a file: the FeatureSpace counts as adapted (its sub-layers' weights
        and vocabularies come with it), also inside a loaded model."""
        self._is_adapted = True

    def save(self, filepath):
        """Saves the FeatureSpace to a `.keras` file (reload with
        `kerax.models.load_model`), as Keras writes it."""
        saving_lib.save_model(self, filepath)
