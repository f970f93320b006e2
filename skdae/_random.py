"""Seeds and torch generators derived from a scikit-learn ``random_state``."""

import numpy as np
import torch
from sklearn.utils import check_random_state

_MAX_SEED = np.iinfo(np.int32).max


def seed_from_random_state(random_state):
    """Draw one integer seed from ``random_state`` (None, int or RandomState)."""
    return int(check_random_state(random_state).randint(_MAX_SEED))


def make_generator(seed, device):
    """A torch generator on ``device``, so random numbers never leave the device."""
    return torch.Generator(device=device).manual_seed(int(seed))
