"""Parse the command line's noise specification: ``gaussian:0.4+masking:0.1``."""

from skdae._corruption import Compose, GaussianNoise, MaskingNoise, SaltAndPepperNoise

NOISE_SPEC_HELP = (
    "gaussian:STD, salt_and_pepper:AMOUNT or masking:FRACTION, joined with '+' to "
    "apply several in turn (e.g. gaussian:0.2+masking:0.1)"
)


def parse_noise_spec(spec, *, clip=None):
    """Build the corruption that ``spec`` names; Gaussian noise is clipped to ``clip``."""
    steps = [_parse_one(part.strip(), clip) for part in spec.split("+")]
    return steps[0] if len(steps) == 1 else Compose(steps)


def _parse_one(part, clip):
    name, _, value = part.partition(":")
    makers = {
        "gaussian": lambda v: GaussianNoise(std=v, clip=clip),
        "salt_and_pepper": lambda v: SaltAndPepperNoise(amount=v),
        "masking": lambda v: MaskingNoise(fraction=v),
    }
    if name not in makers:
        raise ValueError(f"Unknown noise {name!r} in {part!r}; use {NOISE_SPEC_HELP}.")
    try:
        level = float(value)
    except ValueError:
        raise ValueError(
            f"Noise {part!r} needs a number after the colon, e.g. {name}:0.3."
        ) from None
    return makers[name](level).validate()
