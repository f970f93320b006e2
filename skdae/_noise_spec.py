"""Parse the command line's noise specification: ``gaussian:0.4+masking:0.1``.

The names are the ``corruption`` parameter's string shortcuts (``CORRUPTION_ALIASES``),
and the number after the colon sets each class's first parameter (its strength), so a
corruption added to the registry is reachable from the command line with no table here.
"""

import inspect
import math

from skdae._corruption import CORRUPTION_ALIASES, Compose
from skdae.exceptions import InputError


def _strength_parameter(cls):
    """The first parameter of ``cls.__init__`` (``std``, ``amount``, ``fraction``), or None."""
    parameters = [
        p
        for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return parameters[0].name if parameters else None


# Shortcut -> (class, the parameter the number sets); shortcuts without one are left out.
_SPEC_CORRUPTIONS = {
    name: (cls, _strength_parameter(cls))
    for name, cls in CORRUPTION_ALIASES.items()
    if _strength_parameter(cls) is not None
}

# The largest strength a specification may set. Fractions stop at 1 by their own checks;
# a standard deviation beyond this is no noise level for data (the corrupted values
# would overflow float32 near 3e38) and is refused rather than computed.
MAX_STRENGTH = 1e6

NOISE_SPEC_HELP = (
    ", ".join(f"{name}:{parameter.upper()}" for name, (_, parameter) in _SPEC_CORRUPTIONS.items())
    + ", joined with '+' to apply several in turn (e.g. gaussian:0.2+masking:0.1)"
)


def parse_noise_spec(spec, *, clip=None):
    """Build the corruption that ``spec`` names; noise that takes a ``clip`` gets ``clip``."""
    steps = [_parse_one(part.strip(), clip) for part in spec.split("+")]
    return steps[0] if len(steps) == 1 else Compose(steps)


def _parse_one(part, clip):
    name, _, value = part.partition(":")
    if name not in _SPEC_CORRUPTIONS:
        raise InputError(f"Unknown noise {name!r} in {part!r}; use {NOISE_SPEC_HELP}.")
    try:
        level = float(value)
    except ValueError:
        raise InputError(
            f"Noise {part!r} needs a number after the colon, e.g. {name}:0.3."
        ) from None
    if not math.isfinite(level) or level > MAX_STRENGTH:
        raise InputError(
            f"Noise {part!r}: the number must be finite and at most {MAX_STRENGTH:g}, "
            f"e.g. {name}:0.3."
        )
    cls, parameter = _SPEC_CORRUPTIONS[name]
    params = {parameter: level}
    if clip is not None and "clip" in inspect.signature(cls.__init__).parameters:
        params["clip"] = clip
    return cls(**params).validate()
