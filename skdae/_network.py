"""The torch module: a dense encoder and its mirrored decoder, built from sizes."""

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


class DenseAutoencoder(nn.Module):
    """Encoder ``n_features -> *hidden -> latent_dim`` and the mirrored decoder.

    ``activation`` follows every hidden layer; ``latent_activation`` (by default the
    same) follows the code layer. ``decoder`` ends with a plain linear layer
    (pre-activation outputs, "logits"), and ``output_activation`` maps them to the
    data's range. Keeping the two apart lets the training loss use the numerically
    stable ``binary_cross_entropy_with_logits``.
    """

    def __init__(
        self,
        n_features,
        hidden_layer_sizes,
        latent_dim,
        activation,
        output_activation,
        latent_activation=None,
    ):
        super().__init__()
        encoder_sizes = [n_features, *hidden_layer_sizes, latent_dim]
        decoder_sizes = encoder_sizes[::-1]
        self.encoder = _dense_stack(encoder_sizes, activation)
        self.encoder.append(_activation_layer(latent_activation or activation))
        self.decoder = _dense_stack(decoder_sizes, activation)
        self.output_activation = OUTPUT_ACTIVATIONS[output_activation]()

    def forward(self, X):
        return self.output_activation(self.logits(X))

    def logits(self, X):
        """The reconstruction before the output activation (what the BCE loss takes)."""
        return self.decoder(self.encoder(X))

    def encode(self, X):
        return self.encoder(X)

    def decode(self, codes):
        return self.output_activation(self.decoder(codes))

    def dense_layers(self):
        """``[(linear, activation or None)]`` from the input to the logits, or None when
        the stacks hold anything but linear layers each followed by at most one
        activation (what a hand-written backward pass can rely on)."""
        layers = []
        for layer in [*self.encoder, *self.decoder]:
            if isinstance(layer, nn.Linear):
                layers.append([layer, None])
            elif layers and layers[-1][1] is None:
                layers[-1][1] = layer
            else:
                return None
        return [tuple(pair) for pair in layers]


def build_autoencoder(
    n_features,
    hidden_layer_sizes,
    latent_dim,
    activation,
    output_activation,
    latent_activation=None,
):
    """Build a :class:`DenseAutoencoder` with Glorot-uniform weights and zero biases.

    Glorot-uniform is Keras's default; it trains this network measurably faster than
    torch's default (Kaiming-uniform with a=sqrt(5)) on MNIST. ``latent_activation``
    None means ``activation`` (models saved before it existed have no such entry).
    """
    module = DenseAutoencoder(
        n_features,
        hidden_layer_sizes,
        latent_dim,
        activation,
        output_activation,
        latent_activation,
    )
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return module


# Activations that may overwrite the linear layer's output: the layer's backward needs
# its input, not its output, so in place saves an allocation per layer and batch.
_IN_PLACE = {"relu", "leaky_relu", "elu"}


def _activation_layer(name):
    if name in _IN_PLACE:
        return ACTIVATIONS[name](inplace=True)
    return ACTIVATIONS[name]()


def _dense_stack(sizes, activation):
    """Dense layers through ``sizes``, ``activation`` between them, none after the last."""
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(n_in, n_out), _activation_layer(activation)]
    return nn.Sequential(*layers[:-1])


@dataclass(frozen=True)
class LayerSummary:
    """One dense layer of a fitted autoencoder, as printed by ``summary``."""

    part: str
    n_in: int
    n_out: int
    activation: str
    weight_shape: tuple
    bias_shape: tuple
    n_parameters: int

    @property
    def label(self):
        return f"DENSE {self.n_in} -> {self.n_out} [{self.activation}]"

    def __str__(self):
        return f"{self.label}, {self.n_parameters} parameters"


def summarize(module):
    """List the dense layers of ``module`` in order, each with what follows it."""
    rows = []
    for part, stack in (("encoder", module.encoder), ("decoder", module.decoder)):
        layers = list(stack)
        for i, layer in enumerate(layers):
            if not isinstance(layer, nn.Linear):
                continue
            follower = layers[i + 1] if i + 1 < len(layers) else None
            if follower is None and part == "decoder":
                follower = module.output_activation
            rows.append(
                LayerSummary(
                    part=part,
                    n_in=layer.in_features,
                    n_out=layer.out_features,
                    activation=_activation_name(follower),
                    weight_shape=tuple(layer.weight.shape),
                    bias_shape=tuple(layer.bias.shape),
                    n_parameters=layer.weight.numel() + layer.bias.numel(),
                )
            )
    return rows


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


def dense_parameter_count(n_features, hidden_layer_sizes, latent_dim, **_):
    """Parameters of the network :func:`build_autoencoder` makes, counted before building."""
    sizes = [n_features, *hidden_layer_sizes, latent_dim]
    encoder = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))
    decoder = sum((n_out + 1) * n_in for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))
    return encoder + decoder


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())


def copy_state(module):
    """A detached copy of the weights on their own device (cheap best-epoch snapshots)."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def load_state(module, state):
    with torch.no_grad():
        module.load_state_dict(state)
