"""Every gallery example runs to the end, in smoke mode, on the bundled MNIST sample."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


def _example_env(empty_data_home):
    env = dict(os.environ)
    # An empty data home rather than none: with SKDAE_DATA unset, a ~/skdae_data/mnist/
    # on the machine would be used. Here the examples always get the bundled sample.
    env["SKDAE_DATA"] = str(empty_data_home)
    env["SKDAE_EXAMPLES_SMOKE"] = "1"  # fewer images and epochs: seconds per example
    env["MPLBACKEND"] = "Agg"
    # The examples' networks are small: one thread each is about as fast as two and
    # does not fight over cores with whatever else the machine is running.
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def test_examples_are_found():
    assert EXAMPLES, "no examples/plot_*.py found next to tests/"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(path, tmp_path):
    # -W error, as the test suite: an example must not trigger a deprecation or any
    # other warning, but the SampleDataWarning that the bundled sample is meant to give.
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-W",  # the SampleDataWarning (-W can only name built-in categories)
            "ignore:Full MNIST is not available:UserWarning",
            str(path),
        ],
        cwd=tmp_path,
        env=_example_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if "load_mnist(" in path.read_text():
        assert "this run uses the sample bundled with skdae" in result.stdout
    assert result.returncode == 0, (
        f"{path.name} exited with {result.returncode}\n"
        f"--- stdout ---\n{result.stdout[-3000:]}\n--- stderr ---\n{result.stderr[-5000:]}"
    )
