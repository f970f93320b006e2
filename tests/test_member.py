"""The member protocol: every autoencoder supplies it, and one that lacks a part of it
cannot be made (the error names what is missing)."""

import inspect

import numpy as np
import pytest

import skdae
from skdae._base import BaseAutoencoder
from skdae._member import AutoencoderMember

AUTOENCODERS = [skdae.DenoisingAutoencoder, skdae.ConvDenoisingAutoencoder]


@pytest.mark.parametrize("cls", AUTOENCODERS, ids=lambda cls: cls.__name__)
def test_every_autoencoder_supplies_the_whole_protocol(cls):
    assert issubclass(cls, AutoencoderMember)
    assert not inspect.isabstract(cls)
    X = np.random.RandomState(0).rand(20, 64)
    fitted = cls(latent_dim=8, max_iter=1).fit(X)
    architecture = fitted._make_architecture(64, warn=False)
    assert architecture == fitted._architecture
    assert architecture["n_features"] == 64
    n_parameters = cls._parameter_count(**architecture)
    module = cls._network_builder(**architecture)
    assert n_parameters == sum(p.numel() for p in module.parameters())
    for method in ("forward", "logits", "encode", "decode"):
        assert callable(getattr(module, method))


def test_a_member_without_its_network_cannot_be_made_and_is_told_what_is_missing():
    class Incomplete(BaseAutoencoder):
        pass

    with pytest.raises(TypeError) as error:
        Incomplete()
    for hook in ("_make_architecture", "_network_builder", "_parameter_count"):
        assert hook in str(error.value)
