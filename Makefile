# The two commands of the README, each doing its own setup (idempotent: the
# environment is made once and remade only when pyproject.toml changes).
#
#   make run     the main job: train, evaluate, write model, metrics, figures, report
#   make test    lint, format check, the test suite, the benchmarks end to end
#   make docs    the documentation site, warnings as errors, links and images checked
#
# Full MNIST is read from $SKDAE_DATA (default ~/skdae_data); the main job downloads it
# there when it is missing (from $SKDAE_MNIST_MIRROR if set, else the public mirrors of
# the official files), and offline says so and uses the sample bundled with skdae.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.skdae-installed

.PHONY: run test docs screenshots clean-env

# The CPU build of torch first: a plain `pip install torch` pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/skdae train --output skdae_output

# The tests that touch numerics and precision, once more with torch behaving like a CPU
# without AVX-512 and bfloat16 (ATen's kernels, oneDNN's and MKL's held to AVX2), so a
# test that assumes this machine's hardware fails here rather than on another CPU.
OTHER_CPU := ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2
NUMERICS_TESTS := tests/test_precision.py tests/test_dense_step.py tests/test_training.py \
	tests/test_conv.py tests/test_model_file.py tests/test_persistence.py \
	tests/test_network.py tests/test_pretrained.py tests/test_estimator.py

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest
	$(OTHER_CPU) $(BIN)/python -m pytest $(NUMERICS_TESTS)
	$(BIN)/python -m pytest -m e2e

docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html
	$(BIN)/python docs/check_html.py docs/_build/html

# To look at the built site as a reader does (needs Debian's chromium package).
SHOTS := docs/_build/screenshots
screenshots:
	mkdir -p $(SHOTS)
	for page in index auto_examples/plot_mnist_denoising generated/skdae.DenoisingAutoencoder; do \
	  chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	    --no-first-run --hide-scrollbars --window-size=1280,2200 \
	    --screenshot=$(SHOTS)/$$(basename $$page).png "file://$(CURDIR)/docs/_build/html/$$page.html"; \
	done

clean-env:
	rm -rf $(VENV)
