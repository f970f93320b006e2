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


def test_the_main_job_runs_as_written_on_a_newcomers_machine():
    """The main job's commands name nothing that exists only beside this repository's CI
    (they once read SKDAE_DATA=../shared/data): `skdae train` downloads full MNIST into
    the data home itself, and `make run` runs that same command."""
    text = README.read_text()
    section = text.split("## The main job", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines()]
    assert commands == ["make run", "skdae train --output skdae_output"]
    makefile = (README.parent / "Makefile").read_text()
    assert "\t$(BIN)/skdae train --output skdae_output\n" in makefile
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        assert "../shared" not in block, block
