"""What every network of the family shares: the activations, initialisation from a
generator of its own, the layer summary, and copies of a network's state.

The networks themselves are each member's: ``skdae._dense_network`` and
``skdae._conv_network``.
"""

import math
from dataclasses import dataclass

import torch
from torch import nn

# Names -> classes (never instances): the same table builds the layers, validates the
# parameter and documents the options, so they cannot drift apart.
ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}

OUTPUT_ACTIVATIONS = {"sigmoid": nn.Sigmoid, "identity": nn.Identity, "tanh": nn.Tanh}


def init_glorot(module, generator=None):
    """Give ``module`` (built on the meta device) CPU parameters: Glorot-uniform weights
    drawn from ``generator`` and zero biases, for every linear and convolutional layer.

    Torch's global generator, shared by every thread, is never read or seeded: networks
    built at once in several threads get the weights their seeds say, and a user's own
    seeded draws are left alone. Without a generator, a fresh one with torch's default
    seed is used.
    """
    module = module.to_empty(device="cpu")
    generator = torch.Generator() if generator is None else generator
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.Linear | nn.modules.conv._ConvNd):
                nn.init.xavier_uniform_(layer.weight, generator=generator)
                nn.init.zeros_(layer.bias)
            elif list(layer.parameters(recurse=False)) or list(layer.buffers(recurse=False)):
                raise TypeError(f"init_glorot has no rule for a {type(layer).__name__} layer.")
    return module


# Activations that may overwrite the linear layer's output: the layer's backward needs
# its input, not its output, so in place saves an allocation per layer and batch.
_IN_PLACE = {"relu", "leaky_relu", "elu"}


def _activation_layer(name):
    if name in _IN_PLACE:
        return ACTIVATIONS[name](inplace=True)
    return ACTIVATIONS[name]()


@dataclass(frozen=True)
class LayerSummary:
    """One layer with weights of a fitted autoencoder, as printed by ``summary``.

    ``in_shape`` and ``out_shape`` are the shape of one sample before and after the
    layer: ``(784,)`` for a dense layer, ``(32, 14, 14)`` for a convolution.
    """

    part: str
    kind: str
    in_shape: tuple
    out_shape: tuple
    activation: str
    weight_shape: tuple
    bias_shape: tuple
    n_parameters: int

    @property
    def label(self):
        shapes = " -> ".join("x".join(map(str, shape)) for shape in (self.in_shape, self.out_shape))
        return f"{self.kind} {shapes} [{self.activation}]"

    def __str__(self):
        return f"{self.label}, {self.n_parameters} parameters"


_KINDS = {
    nn.Linear: "DENSE",
    nn.Conv1d: "CONV1D",
    nn.Conv2d: "CONV2D",
    nn.ConvTranspose1d: "CONVT1D",
    nn.ConvTranspose2d: "CONVT2D",
}


def _kind_of(layer):
    """The summary's name for ``layer`` (its torch class or a subclass), or None."""
    for cls in type(layer).__mro__:
        if cls in _KINDS:
            return _KINDS[cls]
    return None


def summarize(module):
    """List the layers with weights of ``module`` in order, each with what follows it.

    A residual block of the convolutional network shows as its two convolutions, the
    second one's output summed with the block's input (``[+ input]``); a sub-pixel
    upsampling as one ``SUBPIXEL`` layer, from its input to the upsampled map.
    """
    rows = []
    shape = None
    for part, stack in (("encoder", module.encoder), ("decoder", module.decoder)):
        layers = list(stack)
        for i, layer in enumerate(layers):
            in_shape, shape = shape, _shape_after(layer, shape)
            follower = layers[i + 1] if i + 1 < len(layers) else None
            if not isinstance(follower, tuple(ACTIVATIONS.values())):
                follower = None
            if follower is None and part == "decoder" and _is_last_weighted(layers, i):
                follower = module.output_activation
            if hasattr(layer, "conv1") and hasattr(layer, "conv2"):  # a residual block
                rows.append(
                    _row(part, layer.conv1, in_shape, shape, _activation_name(layer.activation))
                )
                rows.append(_row(part, layer.conv2, in_shape, shape, "+ input"))
                continue
            if hasattr(layer, "conv") and hasattr(layer, "size"):  # a sub-pixel upsampling
                kind = f"SUBPIXEL{len(layer.size)}D"
                rows.append(
                    _row(part, layer.conv, in_shape, shape, _activation_name(follower), kind)
                )
                continue
            kind = _kind_of(layer)
            if kind is None:
                continue
            if isinstance(layer, nn.Linear):
                in_shape = (layer.in_features,)
            rows.append(_row(part, layer, in_shape, shape, _activation_name(follower), kind))
    return rows


def _row(part, layer, in_shape, out_shape, activation, kind=None):
    return LayerSummary(
        part=part,
        kind=kind or _kind_of(layer),
        in_shape=in_shape,
        out_shape=out_shape,
        activation=activation,
        weight_shape=tuple(layer.weight.shape),
        bias_shape=tuple(layer.bias.shape),
        n_parameters=layer.weight.numel() + layer.bias.numel(),
    )


def _shape_after(layer, shape):
    """The shape of one sample after ``layer``, given its shape before (arithmetic only)."""
    if isinstance(layer, nn.Linear):
        return (layer.out_features,)
    if isinstance(layer, nn.Flatten):
        return (math.prod(shape),)
    if hasattr(layer, "image_shape"):  # the convolutional network's rows -> images
        return tuple(layer.image_shape)
    if hasattr(layer, "conv") and hasattr(layer, "size"):  # a sub-pixel upsampling
        return (layer.out_channels, *layer.size)
    if isinstance(layer, nn.modules.conv._ConvNd):
        spatial = []
        for axis, size in enumerate(shape[1:]):
            k, stride = layer.kernel_size[axis], layer.stride[axis]
            pad, dilation = layer.padding[axis], layer.dilation[axis]
            if layer.transposed:
                size = (size - 1) * stride - 2 * pad + dilation * (k - 1)
                size += layer.output_padding[axis] + 1
            else:
                size = (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1
            spatial.append(size)
        return (layer.out_channels, *spatial)
    return shape  # activations


def _is_last_weighted(layers, i):
    return not any(
        _kind_of(layer) is not None or hasattr(layer, "conv") for layer in layers[i + 1 :]
    )


def format_summary(rows):
    """The layer table printed by ``DenoisingAutoencoder.summary`` and ``skdae summary``."""
    table = [("part", "layer", "weights", "biases", "parameters")]
    table += [
        (r.part, r.label, str(r.weight_shape), str(r.bias_shape), str(r.n_parameters)) for r in rows
    ]
    table.append(("total", "", "", "", str(sum(r.n_parameters for r in rows))))
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    lines = [
        "  ".join([*(row[i].ljust(widths[i]) for i in range(4)), row[4].rjust(widths[4])])
        for row in table
    ]
    return "\n".join(lines)


def _activation_name(layer):
    if layer is None or isinstance(layer, nn.Identity):
        return "Identity"
    return type(layer).__name__


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())


def copy_state(module):
    """A detached copy of the weights on their own device (cheap best-epoch snapshots)."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def load_state(module, state):
    with torch.no_grad():
        module.load_state_dict(state)
