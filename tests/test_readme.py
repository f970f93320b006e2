"""The README's Python blocks run as written."""

import re
import warnings
from pathlib import Path

from skdae.datasets import SampleDataWarning

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README.md has no python block"
    with warnings.catch_warnings():
        # Without $SKDAE_DATA the README's load_mnist(fallback="sample") warns, as it should.
        warnings.simplefilter("ignore", SampleDataWarning)
        for block in blocks:
            exec(compile(block, str(README), "exec"), {})
    out = capsys.readouterr().out
    noisy, denoised = map(float, re.search(r"noisy MSE (\S+) -> denoised (\S+)", out).groups())
    assert denoised < noisy
