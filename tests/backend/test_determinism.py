import subprocess
import sys

import kerax

SCRIPT = r"""
import numpy as np, kerax
kerax.config.enable_determinism(seed=7)
x = np.random.standard_normal((64, 5)).astype("float32")
y = (x.sum(1) > 0).astype("float32")[:, None]
model = kerax.Sequential([kerax.Input((5,)), kerax.layers.Dense(8, activation="relu"),
                          kerax.layers.Dropout(0.3), kerax.layers.Dense(1, activation="sigmoid")])
model.compile("adam", "binary_crossentropy")
model.fit(x, y, epochs=2, batch_size=16, verbose=0)
print("".join(w.tobytes().hex() for w in model.get_weights()))
"""


def test_same_seed_gives_identical_bits():
    runs = [subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                           timeout=300) for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr[-2000:]
    assert runs[0].stdout == runs[1].stdout and len(runs[0].stdout) > 100


def test_switches():
    kerax.config.disable_interactive_logging()
    assert not kerax.utils.progbar.is_interactive()
    kerax.config.enable_interactive_logging()
    kerax.config.set_dtype_policy("mixed_bfloat16")
    assert kerax.config.dtype_policy().compute_dtype == "bfloat16"
    kerax.config.set_dtype_policy(None)
    assert kerax.config.dtype_policy().name == "float32"


def test_max_epochs_and_steps():
    import numpy as np

    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(1)])
    model.compile("sgd", "mse")
    kerax.config.set_max_epochs(2)
    kerax.config.set_max_steps_per_epoch(3)
    try:
        h = model.fit(np.ones((64, 3)), np.ones((64, 1)), batch_size=4, epochs=10, verbose=0)
    finally:
        kerax.config.set_max_epochs(None)
        kerax.config.set_max_steps_per_epoch(None)
    assert len(h.history["loss"]) == 2 and model.optimizer.iterations == 6
