"""The runnable programs in examples/ run and reach what they state."""

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).parents[1]


def _example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}",
                                                  ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # about 40 s on 2 cores: three training phases compile
def test_transfer_learning_quick_reaches_its_accuracy():
    results = _example("transfer_learning").main(quick=True)
    # main() asserts fine-tuned accuracy >= 0.75 itself; the phases also did their part:
    assert results["source"] > 0.9  # the "pretrained" base learned its source task
    assert results["fine_tuned"] > results["frozen"]
