"""skdae._noise_spec: the command line's noise specification."""

import pytest

from skdae import Compose, GaussianNoise, MaskingNoise, SaltAndPepperNoise
from skdae._corruption import CORRUPTION_ALIASES
from skdae._noise_spec import NOISE_SPEC_HELP, parse_noise_spec
from skdae._validation import InvalidParameterError
from skdae.exceptions import InputError


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("gaussian:0.4", GaussianNoise(0.4)),
        ("salt_and_pepper:0.2", SaltAndPepperNoise(0.2)),
        ("masking:0.3", MaskingNoise(0.3)),
    ],
)
def test_each_name_sets_its_strength(spec, expected):
    assert repr(parse_noise_spec(spec)) == repr(expected)


def test_clip_reaches_only_the_noises_that_take_it():
    noise = parse_noise_spec("gaussian:0.2+masking:0.1", clip=(0.0, 1.0))
    assert isinstance(noise, Compose)
    assert repr(noise.corruptions) == repr([GaussianNoise(0.2, clip=(0.0, 1.0)), MaskingNoise(0.1)])


def test_the_names_are_the_registry_shortcuts():
    named = {name for name in CORRUPTION_ALIASES if name != "none"}  # 'none' has no strength
    assert all(f"{name}:" in NOISE_SPEC_HELP for name in named)
    assert "none:" not in NOISE_SPEC_HELP


@pytest.mark.parametrize(
    "spec, error, match",
    [
        ("blur:0.2", InputError, "Unknown noise 'blur'"),
        ("gaussian", InputError, "needs a number after the colon"),
        ("gaussian:x", InputError, "needs a number after the colon"),
        ("masking:2", InvalidParameterError, "'fraction' parameter"),
        # Numbers that are none, or that overflow the data (a traceback once).
        ("gaussian:1e308", InputError, "must be finite and at most 1e\\+06"),
        ("gaussian:inf", InputError, "must be finite"),
        ("gaussian:nan", InputError, "must be finite"),
        ("gaussian:0.1+masking:nan", InputError, "'masking:nan'"),
    ],
)
def test_bad_specifications_say_what_to_write(spec, error, match):
    with pytest.raises(error, match=match):
        parse_noise_spec(spec)
