"""Shared settings for the tests (a uniquely named module: every conftest is 'conftest')."""

from skdae import GaussianNoise

# Tiny and fast settings for tests that only need a fitted model.
FAST = dict(latent_dim=4, hidden_layer_sizes=(16,), max_iter=3, batch_size=32, random_state=0)

# The noise under which learning is checked honestly on digits.
DIGITS_NOISE = GaussianNoise(std=0.3, clip=(0, 1))
