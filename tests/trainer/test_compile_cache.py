"""Compile counting (zero compiles after the first epoch) and the persistent cache switch."""

import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

import kerax
from kerax.trainer import compile_cache


def _model(**compile_kw):
    model = kerax.Sequential([kerax.Input((6,)), kerax.layers.Dense(8, activation="relu"),
                              kerax.layers.Dropout(0.1), kerax.layers.Dense(3)])
    model.compile(optimizer="adam",
                  loss=kerax.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], **compile_kw)
    return model


def _data(n=50):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, 6)).astype("float32"),
            rng.integers(0, 3, n).astype("int32"))


# n=50 with batch 16: a short, padded last batch; spe=2 also leaves a short execution.
@pytest.mark.parametrize("steps_per_execution", ["auto", 2])
def test_no_compilation_after_the_first_epoch(steps_per_execution):
    x, y = _data()
    model = _model(steps_per_execution=steps_per_execution)
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, validation_split=0.2)
    compiles = [e["compiles"] for e in model.compile_stats]
    assert compiles[0] > 0, "the first epoch compiles the train and test executions"
    assert compiles[1:] == [0, 0], f"later epochs recompiled: {model.compile_stats}"


def test_second_fit_call_compiles_nothing():
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    with compile_cache.track() as stats:
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert stats.compiles == 0


def test_track_counts_compilations_and_nests():
    f = jax.jit(lambda a: a * 2 + 1)
    with compile_cache.track() as outer:
        f(np.arange(3.0))
        with compile_cache.track() as inner:
            f(np.arange(4.0))  # a new shape: one more compile
            f(np.arange(4.0))  # cached in memory: none
    assert (outer.compiles, inner.compiles) == (2, 1)
    assert outer.seconds >= inner.seconds > 0
    assert "compiled 1 XLA program in" in compile_cache.describe(inner, "Epoch 1")


def test_log_compiles_prints_one_line_for_the_compiling_epoch(capsys, monkeypatch):
    monkeypatch.setitem(compile_cache._STATE, "log", None)
    monkeypatch.setenv(compile_cache.ENV_LOG, "1")
    x, y = _data()
    _model().fit(x, y, epochs=2, batch_size=16, verbose=0)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Epoch 1: compiled ")


@pytest.fixture
def fresh_jax_cache_config(monkeypatch):
    """An unconfigured cache (restored afterwards); nothing compiles while it is changed."""
    saved = (jax.config.jax_compilation_cache_dir,
             jax.config.jax_persistent_cache_min_compile_time_secs)
    monkeypatch.setattr(compile_cache, "_STATE",
                        {"enabled": None, "dir": None, "configured": False, "log": None})
    jax.config.update("jax_compilation_cache_dir", None)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    yield
    jax.config.update("jax_compilation_cache_dir", saved[0])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", saved[1])


def test_cache_defaults_to_kerax_home(fresh_jax_cache_config, monkeypatch, tmp_path):
    monkeypatch.setenv("KERAX_HOME", str(tmp_path))
    monkeypatch.delenv(compile_cache.ENV_SWITCH, raising=False)
    expected = str(tmp_path / "jax_cache")
    assert compile_cache.ensure_configured() == expected
    assert jax.config.jax_compilation_cache_dir == expected and os.path.isdir(expected)
    assert jax.config.jax_persistent_cache_min_compile_time_secs == 0.5
    assert compile_cache.ensure_configured() == expected  # idempotent


@pytest.mark.parametrize("value", ["0", "false", "off"])
def test_env_var_opts_out(fresh_jax_cache_config, monkeypatch, tmp_path, value):
    monkeypatch.setenv("KERAX_HOME", str(tmp_path))
    monkeypatch.setenv(compile_cache.ENV_SWITCH, value)
    assert compile_cache.ensure_configured() is None
    assert jax.config.jax_compilation_cache_dir is None and not os.listdir(tmp_path)


def test_disable_switch_and_explicit_path(fresh_jax_cache_config, tmp_path):
    compile_cache.disable_compilation_cache()
    assert compile_cache.ensure_configured() is None
    compile_cache.enable_compilation_cache(tmp_path / "mine")
    assert compile_cache.ensure_configured() == str(tmp_path / "mine")


def test_user_configured_directory_is_respected(fresh_jax_cache_config, tmp_path):
    jax.config.update("jax_compilation_cache_dir", str(tmp_path / "user"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 3.0)
    assert compile_cache.ensure_configured() == str(tmp_path / "user")
    assert jax.config.jax_persistent_cache_min_compile_time_secs == 3.0


def test_bad_path_error():
    with pytest.raises(TypeError, match=r"`path` must be a directory path .* Received: "
                                        r"path=3 of type int"):
        compile_cache.enable_compilation_cache(3)


_SCRIPT = textwrap.dedent("""
    import jax, numpy as np, kerax
    from kerax.trainer import compile_cache
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 4), "float32"), np.ones((8, 2), "float32"), verbose=0)
    s = model.compile_stats[0]
    print(jax.config.jax_compilation_cache_dir, s["compiles"], s["cache_hits"])
""")


def test_a_second_process_loads_programs_from_the_cache(tmp_path):
    env = {**os.environ, "KERAX_HOME": str(tmp_path), "JAX_PLATFORMS": "cpu"}
    env.pop(compile_cache.ENV_SWITCH, None)
    runs = [subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                           text=True, check=True).stdout.split() for _ in range(2)]
    assert runs[0][0] == str(tmp_path / "jax_cache")
    (_, compiles1, hits1), (_, compiles2, hits2) = runs
    assert int(compiles1) > 0 and int(hits1) == 0
    assert int(hits2) == int(compiles2) > 0
