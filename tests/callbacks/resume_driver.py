"""Driver for the bit-exact resume test (run as a script, not collected by pytest).

`python resume_driver.py OUT_DIR`: forks three training runs of the same script, one at
a time: (1) with BackupAndRestore(save_freq=2), SIGKILLed by a callback mid-epoch;
(2) the same run again, which resumes from the backup; (3) an uninterrupted run without
the callback. Prints the three exit statuses as JSON; weights go to OUT_DIR/*.npz.
"""

import json
import os
import signal
import sys

os.environ["JAX_PLATFORMS"] = "cpu"

import jax  # noqa: E402
import numpy as np  # noqa: E402

import kerax  # noqa: E402
from kerax.callbacks.backup_and_restore import BackupAndRestore  # noqa: E402


class KillAt(kerax.callbacks.Callback):
    """SIGKILLs its own process after `at` batches (counted over epochs)."""

    def __init__(self, at):
        super().__init__()
        self.at, self.seen, self.epoch_steps = at, 0, None

    def on_epoch_begin(self, epoch, logs=None):
        self.base = epoch * self.params["steps"]

    def on_train_batch_end(self, batch, logs=None):
        if self.base + batch + 1 >= self.at:
            os.kill(os.getpid(), signal.SIGKILL)


def train(out, backup_dir=None, kill_at=None):
    kerax.utils.set_random_seed(7)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3)).astype("float32")
    y = (x @ np.array([[1.0], [2.0], [-1.0]], "float32") + 0.5).astype("float32")
    model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(8, activation="relu"),
                              kerax.layers.Dropout(0.25), kerax.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"], steps_per_execution=2)
    callbacks = []
    if backup_dir:
        callbacks.append(BackupAndRestore(backup_dir, save_freq=2))
    if kill_at:
        callbacks.append(KillAt(kill_at))
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=callbacks)
    np.savez(out, *model.get_weights(), last_loss=np.float32(history.history["loss"][-1]),
             epochs_run=np.int32(len(history.history["loss"])))


def forked(fn, *args, **kwargs):
    pid = os.fork()
    if pid == 0:
        try:
            fn(*args, **kwargs)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


if __name__ == "__main__":
    out_dir = sys.argv[1]
    # The three runs compile the same programs: share them through the on-disk cache.
    jax.config.update("jax_compilation_cache_dir", os.path.join(out_dir, "jax_cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    backup = os.path.join(out_dir, "backup")
    # 8 steps per epoch (the last one padded), executions of 2: kill in epoch 1 after its
    # 4th step, between the backups of steps 10 and 12.
    codes = [
        forked(train, os.path.join(out_dir, "killed.npz"), backup, kill_at=12),
        forked(train, os.path.join(out_dir, "resumed.npz"), backup),
        forked(train, os.path.join(out_dir, "plain.npz")),
    ]
    print(json.dumps({"codes": codes, "backup_left": os.path.exists(backup)}))
