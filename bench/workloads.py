"""The benchmark workloads W1-W4, and each of them as kerax `fit`, hand-written JAX, Keras 3.

Every way trains the same model (same layer sizes, Glorot-uniform kernels / zero biases,
Keras' LSTM initializers), with Adam(1e-3, epsilon=1e-7) and the same loss from logits, on
the same random data, in the same order (no shuffling). The hand-written ways are the
idiomatic jax+optax loop: the whole epoch on the device, `jax.jit` with donated state,
either one dispatch per step or the step fused with `lax.scan` over the epoch (unrolled
for convolutions, where a rolled loop is ~30x slower on XLA:CPU).
"""

import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

# n: examples per epoch; quick_n: with --quick; reps: epochs per timed sample (W4 is tiny).
WORKLOADS = {
    "W1": dict(title="MLP 784-512-512-10", kind="mlp", d=784, hidden=(512, 512), classes=10,
               batch=128, n=60_000, quick_n=6_400, reps=1),
    "W2": dict(title="CNN 28x28x1 conv32-conv64-pool-128-10", kind="cnn", classes=10,
               batch=128, n=2_560, quick_n=256, reps=1),
    "W3": dict(title="Embedding(20000,128)+LSTM(128)+Dense(1), len 200", kind="lstm",
               vocab=20_000, length=200, units=128, batch=64, n=1_280, quick_n=320, reps=1),
    "W4": dict(title="Dense(10) on 32 features", kind="mlp", d=32, hidden=(), classes=10,
               batch=32, n=64_000, quick_n=64_000, reps=5),
    # Causal transformer LM (pre-LN blocks: MHA with a causal mask, 4x GELU MLP).
    "W5": dict(title="causal transformer LM, 2 blocks, d=128, 4 heads, seq 64, vocab 1000",
               kind="lm", layers=2, dim=128, heads=4, length=64, vocab=1000, batch=16,
               n=1_280, quick_n=320, reps=1),
    # An application CNN, weights=None (the floor: kerax's own pure `apply` in a hand
    # jax+optax loop, so it measures the training loop, not the layers).
    "W6": dict(title="MobileNetV2 96x96x3, 10 classes (kerax.applications, weights=None)",
               kind="app", app="MobileNetV2", size=96, classes=10, batch=32, n=320,
               quick_n=96, reps=1, skip=("hand scan",), extra=("kerax fit spe=4",)),
    # The same at a size for accelerators (not run on CPU unless named).
    "W5L": dict(title="causal transformer LM, 8 blocks, d=512, 8 heads, seq 256, vocab 1000",
                kind="lm", layers=8, dim=512, heads=8, length=256, vocab=1000, batch=16,
                n=1_280, quick_n=160, reps=1, accelerator=True),
}


def tiny(spec):
    """The workload at a dry run's size (`python -m bench --tiny`)."""
    spec = dict(spec)
    if spec["kind"] == "lm":
        spec.update(layers=1, dim=32, heads=2, length=16)
    if spec["kind"] == "app":
        spec.update(size=32)
    spec["title"] += " [--tiny: shrunk, numbers mean nothing]"
    return spec


def lm_flops_per_step(spec):
    """Training FLOPs of one W5 step (matmuls only, 3x the forward's; attention counted
    in full, without the causal half skipped), for MFU."""
    d, t, layers = spec["dim"], spec["length"], spec["layers"]
    per_token = 2 * (layers * 12 * d * d + d * spec["vocab"]) + layers * 4 * t * d
    return 3 * per_token * t * spec["batch"]


def make_data(spec, n, seed=0):
    """Random inputs and labels for a workload (NumPy, on the host)."""
    rng = np.random.default_rng(seed)
    if spec["kind"] == "mlp":
        x = rng.standard_normal((n, spec["d"])).astype("float32")
    elif spec["kind"] == "cnn":
        x = rng.standard_normal((n, 28, 28, 1)).astype("float32")
    elif spec["kind"] == "app":
        x = rng.uniform(-1, 1, (n, spec["size"], spec["size"], 3)).astype("float32")
    elif spec["kind"] == "lm":  # next-token targets of random token sequences
        tokens = rng.integers(0, spec["vocab"], (n, spec["length"] + 1)).astype("int32")
        return tokens[:, :-1], tokens[:, 1:]
    else:
        x = rng.integers(0, spec["vocab"], (n, spec["length"])).astype("int32")
        return x, rng.integers(0, 2, (n, 1)).astype("float32")
    return x, rng.integers(0, spec["classes"], n).astype("int32")


# ------------------------------------------------------------------ Keras / kerax models --
def build_model(lib, spec, style="sequential"):
    """The workload's model in `lib` (kerax or keras): Sequential, or the same layers as a
    functional model or a subclassed model (`style`), to show neither adds step overhead."""
    L = lib.layers
    if spec["kind"] == "lm":
        return _lm_model(lib, spec)
    if spec["kind"] == "app":
        return getattr(lib.applications, spec["app"])(
            input_shape=(spec["size"], spec["size"], 3), weights=None, classes=spec["classes"],
            classifier_activation=None)
    if spec["kind"] == "mlp":
        layers = [lib.Input((spec["d"],))]
        layers += [L.Dense(h, activation="relu") for h in spec["hidden"]]
        layers += [L.Dense(spec["classes"])]
    elif spec["kind"] == "cnn":
        layers = [lib.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"),
                  L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(),
                  L.Dense(128, activation="relu"), L.Dense(spec["classes"])]
    else:
        layers = [lib.Input((spec["length"],), dtype="int32"),
                  L.Embedding(spec["vocab"], 128), L.LSTM(spec["units"]), L.Dense(1)]
    if style == "functional":
        x = layers[0]
        for layer in layers[1:]:
            x = layer(x)
        return lib.Model(layers[0], x)
    if style == "subclassed":
        return _stack_model(lib)(layers[1:])
    return lib.Sequential(layers)


def _lm_model(lib, spec):
    """W5 with Keras' layers, as keras.io's text-generation example writes it."""
    L, d = lib.layers, spec["dim"]

    class TokenAndPositionEmbedding(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.token_emb = L.Embedding(spec["vocab"], d)
            self.pos_emb = L.Embedding(spec["length"], d)

        def call(self, x):
            positions = lib.ops.arange(0, lib.ops.shape(x)[-1], 1)
            return self.token_emb(x) + self.pos_emb(positions)

    tokens = lib.Input((spec["length"],), dtype="int32")
    h = TokenAndPositionEmbedding()(tokens)
    for _ in range(spec["layers"]):
        a = L.LayerNormalization()(h)
        a = L.MultiHeadAttention(spec["heads"], d // spec["heads"])(a, a, use_causal_mask=True)
        h = L.Add()([h, a])
        m = L.LayerNormalization()(h)
        m = L.Dense(4 * d, activation="gelu")(m)
        m = L.Dense(d)(m)
        h = L.Add()([h, m])
    logits = L.Dense(spec["vocab"])(L.LayerNormalization()(h))
    return lib.Model(tokens, logits)


def _stack_model(lib):
    class Stack(lib.Model):
        """A subclassed model holding its layers in a list attribute."""

        def __init__(self, layers):
            super().__init__()
            self.stack = layers

        def call(self, x):
            for layer in self.stack:
                x = layer(x)
            return x

    return Stack


def compile_model(lib, model, spec, **kw):
    if spec["kind"] == "lstm":
        loss = lib.losses.BinaryCrossentropy(from_logits=True)
    else:
        loss = lib.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=lib.optimizers.Adam(1e-3), loss=loss, **kw)
    return model


# ---------------------------------------------------------------- hand-written JAX --
def _glorot(key, shape, fan_in, fan_out):
    lim = np.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, shape, jnp.float32, -lim, lim)


def _dense(key, a, b):
    return {"kernel": _glorot(key, (a, b), a, b), "bias": jnp.zeros(b)}


def init_params(spec, key):
    """Parameters with Keras' default initializers for the workload's layers."""
    keys = jax.random.split(key, 8)
    if spec["kind"] == "lm":
        return _lm_params(spec, key)
    if spec["kind"] == "app":
        return _app_model(spec["title"]).variables["params"]
    if spec["kind"] == "mlp":
        sizes = (spec["d"],) + spec["hidden"] + (spec["classes"],)
        return [_dense(k, a, b) for k, a, b in zip(keys, sizes[:-1], sizes[1:])]
    if spec["kind"] == "cnn":
        conv = lambda k, cin, cout: {"kernel": _glorot(k, (3, 3, cin, cout), 9 * cin,  # noqa
                                                        9 * cout), "bias": jnp.zeros(cout)}
        return {"conv1": conv(keys[0], 1, 32), "conv2": conv(keys[1], 32, 64),
                "dense1": _dense(keys[2], 12 * 12 * 64, 128),
                "dense2": _dense(keys[3], 128, spec["classes"])}
    u = spec["units"]
    bias = jnp.zeros(4 * u).at[u:2 * u].set(1.0)  # unit_forget_bias
    return {"embedding": jax.random.uniform(keys[0], (spec["vocab"], 128), jnp.float32,
                                            -0.05, 0.05),
            "lstm": {"kernel": _glorot(keys[1], (128, 4 * u), 128, 4 * u),
                     "recurrent": jax.nn.initializers.orthogonal()(keys[2], (u, 4 * u)),
                     "bias": bias},
            "dense": _dense(keys[3], u, 1)}


_APP_MODELS = {}


def _app_model(title):
    """The kerax model whose pure `apply` the W6 floor trains (one per workload)."""
    if title not in _APP_MODELS:
        import kerax

        spec = next(s for s in WORKLOADS.values() if s["title"] == title)
        _APP_MODELS[title] = build_model(kerax, spec)
    return _APP_MODELS[title]


def _lm_params(spec, key):
    d, v = spec["dim"], spec["vocab"]
    keys = iter(jax.random.split(key, 8 * spec["layers"] + 4))
    emb = lambda n: jax.random.uniform(next(keys), (n, d), jnp.float32, -0.05, 0.05)  # noqa
    ln = lambda: {"gamma": jnp.ones(d), "beta": jnp.zeros(d)}  # noqa: E731
    blocks = [{"ln1": ln(), "ln2": ln(), "q": _dense(next(keys), d, d),
               "k": _dense(next(keys), d, d), "v": _dense(next(keys), d, d),
               "o": _dense(next(keys), d, d), "mlp1": _dense(next(keys), d, 4 * d),
               "mlp2": _dense(next(keys), 4 * d, d)} for _ in range(spec["layers"])]
    return {"tok": emb(v), "pos": emb(spec["length"]), "blocks": blocks, "ln": ln(),
            "head": _dense(next(keys), d, v)}


def _layer_norm(x, p, eps=1e-3):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) * lax.rsqrt(var + eps) * p["gamma"] + p["beta"]


def _lm_forward(spec, params, x, remat=False):
    """The naive hand-written transformer: einsum attention with a causal mask
    (`remat`: each block inside `jax.checkpoint`)."""
    b, t = x.shape
    heads = spec["heads"]
    h = params["tok"][x] + params["pos"][jnp.arange(t)]
    causal = jnp.tril(jnp.ones((t, t), bool))
    split = lambda z: z.reshape(b, t, heads, -1)  # noqa: E731

    def block(h, p):
        a = _layer_norm(h, p["ln1"])
        q, k, v = (split(a @ p[n]["kernel"] + p[n]["bias"]) for n in "qkv")
        s = jnp.einsum("bthd,bshd->bhts", q, k) / np.sqrt(q.shape[-1])
        w = jax.nn.softmax(jnp.where(causal, s, -1e9), axis=-1)
        a = jnp.einsum("bhts,bshd->bthd", w, v).reshape(b, t, -1)
        h = h + a @ p["o"]["kernel"] + p["o"]["bias"]
        m = _layer_norm(h, p["ln2"])
        m = jax.nn.gelu(m @ p["mlp1"]["kernel"] + p["mlp1"]["bias"], approximate=False)
        return h + m @ p["mlp2"]["kernel"] + p["mlp2"]["bias"]

    for p in params["blocks"]:
        h = (jax.checkpoint(block) if remat else block)(h, p)
    h = _layer_norm(h, params["ln"])
    return h @ params["head"]["kernel"] + params["head"]["bias"]


def _conv(x, p):
    y = lax.conv_general_dilated(x, p["kernel"], (1, 1), "VALID",
                                 dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return jax.nn.relu(y + p["bias"])


def forward(spec, params, x):
    """Logits of the hand-written model."""
    if spec["kind"] == "lm":
        return _lm_forward(spec, params, x)
    if spec["kind"] == "app":  # batch statistics; the moving averages are not kept
        model = _app_model(spec["title"])
        return model.apply({**model.variables, "params": params}, x, training=True)[0]
    if spec["kind"] == "mlp":
        for layer in params[:-1]:
            x = jax.nn.relu(x @ layer["kernel"] + layer["bias"])
        return x @ params[-1]["kernel"] + params[-1]["bias"]
    if spec["kind"] == "cnn":
        x = _conv(_conv(x, params["conv1"]), params["conv2"])
        x = lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        x = jax.nn.relu(x.reshape(x.shape[0], -1) @ params["dense1"]["kernel"]
                        + params["dense1"]["bias"])
        return x @ params["dense2"]["kernel"] + params["dense2"]["bias"]
    p = params["lstm"]
    emb = params["embedding"][x]                                   # (batch, time, 128)
    xw = jnp.einsum("btd,dg->tbg", emb, p["kernel"]) + p["bias"]   # all input projections
    u = spec["units"]

    def cell(carry, xw_t):
        h, c = carry
        z = xw_t + h @ p["recurrent"]
        i, f, g, o = (z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:])
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), None

    zeros = jnp.zeros((x.shape[0], u))
    (h, _), _ = lax.scan(cell, (zeros, zeros), xw)
    return h @ params["dense"]["kernel"] + params["dense"]["bias"]


def loss_fn(spec, params, x, y):
    logits = forward(spec, params, x)
    if spec["kind"] == "lstm":
        return optax.sigmoid_binary_cross_entropy(logits, y).mean()
    # (B, T, V) for W5: the mean over every position, as Keras' loss reduces it
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def has_conv(spec):
    return spec["kind"] in ("cnn", "app")


class HandWritten:
    """The jax+optax loop: `fused=False` one `jit` dispatch per step, `True` `lax.scan`."""

    def __init__(self, spec, x, y, fused):
        self.spec, self.fused = spec, fused
        b = spec["batch"]
        self.steps = x.shape[0] // b
        self.examples = self.steps * b
        tx = optax.adam(1e-3, eps=1e-7)
        params = init_params(spec, jax.random.PRNGKey(0))
        self.carry = (params, tx.init(params))
        self.xb = jnp.asarray(x[:self.examples].reshape((self.steps, b) + x.shape[1:]))
        self.yb = jnp.asarray(y[:self.examples].reshape((self.steps, b) + y.shape[1:]))

        def step(carry, batch):
            params, opt_state = carry
            loss, grads = jax.value_and_grad(lambda p: loss_fn(spec, p, *batch))(params)
            updates, opt_state = tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        if fused:  # unrolled around convolutions: a rolled loop is ~30x slower on XLA:CPU
            unroll = True if has_conv(spec) else 1
            self._run = jax.jit(lambda c, xs, ys: lax.scan(step, c, (xs, ys), unroll=unroll),
                                donate_argnums=0)
        else:
            self._one = jax.jit(step, donate_argnums=0)

    def first_step(self):
        """Runs until the first result exists (one step, or the whole fused epoch)."""
        if self.fused:
            self.carry, losses = self._run(self.carry, self.xb, self.yb)
            jax.block_until_ready(losses)
            return self.steps
        self.carry, loss = self._one(self.carry, (self.xb[0], self.yb[0]))
        jax.block_until_ready(loss)
        return 1

    def epoch(self, start=0):
        t = time.perf_counter()
        if self.fused:
            self.carry, losses = self._run(self.carry, self.xb, self.yb)
        else:
            for i in range(start, self.steps):
                self.carry, losses = self._one(self.carry, (self.xb[i], self.yb[i]))
        jax.block_until_ready((self.carry, losses))
        return time.perf_counter() - t


class Fit:
    """kerax or Keras 3 `fit`; epoch time from `on_epoch_begin` to `on_epoch_end`."""

    def __init__(self, lib, spec, x, y, style="sequential", **compile_kw):
        self.lib, self.spec, self.x, self.y = lib, spec, x, y
        self.examples = x.shape[0]
        self.model = compile_model(lib, build_model(lib, spec, style), spec, **compile_kw)
        self.first_batch_end = None
        self.epoch_seconds = []
        outer = self

        class Timer(lib.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.t = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                outer.epoch_seconds.append(time.perf_counter() - self.t)

        class FirstStepTimer(Timer):
            # A batch hook: kerax then runs one step per dispatch, as Keras shows every
            # batch to such callbacks, so only the first-step probe uses this timer.
            def on_train_batch_end(self, batch, logs=None):
                if outer.first_batch_end is None:
                    jax.block_until_ready(logs)  # the step's results exist, not just queued
                    outer.first_batch_end = time.perf_counter()

        self.timer = Timer()
        self.first_step_timer = FirstStepTimer()

    def watch_first_step(self):
        """Time the first step's end too (adds a batch hook to the next `fit`)."""
        self.timer = self.first_step_timer

    def fit(self, epochs=1):
        self.epoch_seconds = []
        self.model.fit(self.x, self.y, batch_size=self.spec["batch"], epochs=epochs,
                       shuffle=False, verbose=0, callbacks=[self.timer])
        return sum(self.epoch_seconds)

    def epoch(self):
        return self.fit(1)


class PyDatasetFit(Fit):
    """`kerax fit` on a `PyDataset` over the same arrays and batches: the cost of a
    host-side input pipeline (batches read in Python, padded, stacked, prefetched)."""

    def __init__(self, lib, spec, x, y, **compile_kw):
        super().__init__(lib, spec, x, y, **compile_kw)
        b = spec["batch"]

        class Batches(lib.utils.PyDataset):
            def __len__(self):
                return -(-len(x) // b)

            def __getitem__(self, i):
                return x[i * b:(i + 1) * b], y[i * b:(i + 1) * b]

        self.dataset = Batches()

    def source(self):
        return self.dataset

    def fit(self, epochs=1):
        self.epoch_seconds = []
        self.model.fit(self.source(), epochs=epochs, verbose=0, callbacks=[self.timer])
        return sum(self.epoch_seconds)


class GeneratorFit(PyDatasetFit):
    """`fit` on a Python generator of the same batches (a new one per call)."""

    def source(self):
        b, x, y = self.spec["batch"], self.x, self.y
        return ((x[i:i + b], y[i:i + b]) for i in range(0, len(x), b))


class IterableFit(PyDatasetFit):
    """`fit` on a re-iterable (a class with `__iter__`, like a torch DataLoader)."""

    def source(self):
        b, x, y = self.spec["batch"], self.x, self.y

        class Batches:
            def __iter__(self):
                return ((x[i:i + b], y[i:i + b]) for i in range(0, len(x), b))

        return Batches()


class GrainFit(PyDatasetFit):
    """`fit` on a grain `MapDataset` of the same batches (grain's own batching)."""

    def __init__(self, lib, spec, x, y, **compile_kw):
        import grain

        super().__init__(lib, spec, x, y, **compile_kw)
        b = spec["batch"]
        self.grain = grain.MapDataset.range(-(-len(x) // b)).map(
            lambda i: (x[i * b:(i + 1) * b], y[i * b:(i + 1) * b]))

    def source(self):
        return self.grain


def make_way(way, spec, x, y):
    """A ready-to-run way (built, not yet compiled) by its bench name."""
    if way == "kerax fit":
        import kerax

        return Fit(kerax, spec, x, y)
    if way in ("kerax functional fit", "kerax subclassed fit"):
        import kerax

        return Fit(kerax, spec, x, y, style=way.split()[1])
    if way.startswith("kerax fit ") and way.split()[-1] in STREAMS:
        import kerax

        return STREAMS[way.split()[-1]](kerax, spec, x, y)
    if way == "kerax fit bf16":  # mixed_bfloat16: float32 variables, bfloat16 compute
        import kerax

        kerax.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            return Fit(kerax, spec, x, y)
        finally:
            kerax.mixed_precision.set_global_policy("float32")
    if way.startswith("kerax fit spe="):  # an explicit steps_per_execution (vs "auto")
        import kerax

        return Fit(kerax, spec, x, y, steps_per_execution=int(way.split("=")[1]))
    if way.startswith("Keras 3 fit"):
        import keras

        spe = 32 if way.endswith("spe=32") else 1
        return Fit(keras, spec, x, y, steps_per_execution=spe)
    if way == "hand jit/step":
        return HandWritten(spec, x, y, fused=False)
    if way == "hand scan":
        return HandWritten(spec, x, y, fused=True)
    raise ValueError(f"Unknown way {way!r}.")


STREAMS = {"PyDataset": PyDatasetFit, "generator": GeneratorFit, "iterable": IterableFit,
           "grain": GrainFit}

WAYS = ["kerax fit", "hand jit/step", "hand scan", "Keras 3 fit", "Keras 3 fit spe=32",
        "kerax fit bf16", "kerax functional fit", "kerax subclassed fit",
        "kerax fit PyDataset", "kerax fit generator", "kerax fit iterable", "kerax fit grain"]
