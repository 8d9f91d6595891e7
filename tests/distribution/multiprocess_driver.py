"""One rank of a two-process data-parallel run (started by test_multiprocess.py).

Usage: python -m tests.distribution.multiprocess_driver RANK PORT MODE OUT_DIR
MODE "train": a DataParallel fit of 1 epoch backed up by BackupAndRestore (and saved by
ModelCheckpoint), then a fresh model resumes from the backup for the 2nd epoch; writes
this rank's weights; then saves and restores an array sharded across both processes.
MODE "wait": joins, trains with a backup every 3 steps, prints "ready" after the first
epoch, then trains until it fails.
"""

import os
import sys

import jax

jax.config.update("jax_cpu_collectives_implementation", "gloo")

import numpy as np  # noqa: E402

import kerax  # noqa: E402
from kerax import distribution as kd  # noqa: E402


def _sharded_round_trip(directory):
    """An array split across both processes is saved by each process's shards and read
    back onto another layout: each process checks the shards it holds."""
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

    from kerax.checkpoint import CheckpointManager

    value = np.arange(32, dtype=np.float32).reshape(8, 4)
    rows = NamedSharding(Mesh(np.array(jax.devices()), ("x",)), P("x"))
    array = jax.make_array_from_callback(value.shape, rows, lambda index: value[index])
    assert not array.is_fully_addressable
    manager = CheckpointManager(directory)
    manager.save(1, {"w": array})
    other = NamedSharding(Mesh(np.array(jax.devices()).reshape(2, 2), ("a", "b")), P("b", "a"))
    tree, _ = manager.restore(1, like={"w": value}, shardings={"w": other})
    assert tree["w"].sharding == other
    for shard in tree["w"].addressable_shards:
        np.testing.assert_array_equal(shard.data, value[shard.index])


def _model_parallel_model_checkpoint(x, y, out_dir, rank):
    """ModelCheckpoint of a model whose kernels are split over a "model" axis: every
    process gathers, process 0 writes one whole .keras file."""
    mesh = kd.DeviceMesh((2, 2), axis_names=("batch", "model"))
    layout = kd.LayoutMap(mesh)
    layout[".*kernel"] = (None, "model")
    kd.set_distribution(kd.ModelParallel(layout_map=layout, batch_dim_name="batch"))
    model = kerax.Sequential([kerax.Input((16,)), kerax.layers.Dense(32, activation="relu"),
                              kerax.layers.Dense(8)])
    model.compile(optimizer="adam", loss="mse")
    path = os.path.join(out_dir, "model_parallel.keras")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False,
              callbacks=[kerax.callbacks.ModelCheckpoint(path)])
    kernel = model.layers[0].variables["params"]["kernel"]
    assert not kernel.is_fully_addressable and not kernel.is_fully_replicated
    np.savez(os.path.join(out_dir, f"model_parallel_rank{rank}.npz"), *model.get_weights())
    kd.set_distribution(kd.DataParallel())


def _streams_split_across_processes(x, y, out_dir, rank):
    """A PyDataset and a generator of 8-row batches: each process trains on every other
    batch (a global batch of 16 rows), and the PyDataset fetches only its own indices."""
    fetched = []

    class Batches(kerax.utils.PyDataset):
        def __len__(self):
            return 12

        def __getitem__(self, i):
            fetched.append(i)
            return x[8 * i:8 * i + 8], y[8 * i:8 * i + 8]

    out = {}
    for name, source in (("py_dataset", Batches), ("generator", None)):
        kerax.utils.set_random_seed(0)
        model = kerax.Sequential([kerax.Input((16,)), kerax.layers.Dense(8)])
        model.compile(optimizer="sgd", loss="mse")
        out[f"{name}_initial"] = model.get_weights()[0]
        data = Batches() if source else ((x[8 * i:8 * i + 8], y[8 * i:8 * i + 8])
                                         for i in range(12))
        history = model.fit(data, epochs=1, verbose=0, shuffle=False)
        out[f"{name}_kernel"] = model.get_weights()[0]
        out[f"{name}_loss"] = np.asarray(history.history["loss"])
    np.savez(os.path.join(out_dir, f"streams_rank{rank}.npz"), fetched=np.asarray(fetched),
             **out)


def main(rank, port, mode, out_dir):
    address = f"127.0.0.1:{port}"
    kd.initialize(address, num_processes=2, process_id=rank,
                  coordinator_bind_address=address, heartbeat_timeout_seconds=3,
                  initialization_timeout=60)
    assert jax.process_count() == 2 and jax.device_count() == 4
    kd.set_distribution(kd.DataParallel())
    rng = np.random.default_rng(0)  # every rank holds the same global arrays
    x = rng.normal(size=(96, 16)).astype("float32")
    y = rng.normal(size=(96, 8)).astype("float32")
    kerax.utils.set_random_seed(0)
    model = kerax.Sequential([kerax.Input((16,)), kerax.layers.Dense(32, activation="relu"),
                              kerax.layers.Dense(8)])
    model.compile(optimizer="adam", loss="mse")
    backup = os.path.join(out_dir, "backup")
    if mode == "train":
        np.savez(os.path.join(out_dir, "initial.npz"), *model.get_weights())
        first = model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False, callbacks=[
            kerax.callbacks.BackupAndRestore(backup, delete_checkpoint=False),
            kerax.callbacks.ModelCheckpoint(os.path.join(out_dir, "epoch1.weights.h5"),
                                            save_weights_only=True)])
        kerax.utils.set_random_seed(1)  # other weights: all must come from the backup
        model = kerax.Sequential([kerax.Input((16,)),
                                  kerax.layers.Dense(32, activation="relu"),
                                  kerax.layers.Dense(8)])
        model.compile(optimizer="adam", loss="mse")
        second = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False,
                           callbacks=[kerax.callbacks.BackupAndRestore(backup)])
        np.savez(os.path.join(out_dir, f"rank{rank}.npz"), *model.get_weights(),
                 loss=np.asarray(first.history["loss"] + second.history["loss"]))
        _sharded_round_trip(os.path.join(out_dir, "sharded"))
        _model_parallel_model_checkpoint(x, y, out_dir, rank)
        _streams_split_across_processes(x, y, out_dir, rank)
        print("done", flush=True)
        return

    class Ready(kerax.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                print("ready", flush=True)

    model.fit(x, y, batch_size=16, epochs=10**6, verbose=0, callbacks=[
        kerax.callbacks.BackupAndRestore(backup, save_freq=3, delete_checkpoint=False),
        Ready()])


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4])
