"""The dense member's network: :class:`DenseAutoencoder`, built from its sizes.

An encoder stack of linear layers, a mirrored decoder and a separate output
activation, laid out so that the hand-written training step (``skdae._dense_step``)
can ask it for its layers (``dense_layers``). What every network shares (activations,
initialisation, summaries, state copies) is in ``skdae._network``.
"""

import torch
from torch import nn

from skdae._network import OUTPUT_ACTIVATIONS, _activation_layer, init_glorot


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
    *,
    generator=None,
):
    """Build a :class:`DenseAutoencoder` with Glorot-uniform weights and zero biases.

    Glorot-uniform is Keras's default; it trains this network measurably faster than
    torch's default (Kaiming-uniform with a=sqrt(5)) on MNIST. ``latent_activation``
    None means ``activation`` (models saved before it existed have no such entry). The
    weights are drawn from ``generator`` (see :func:`init_glorot`).
    """
    with torch.device("meta"):  # no values and no random draws until init_glorot
        module = DenseAutoencoder(
            n_features,
            hidden_layer_sizes,
            latent_dim,
            activation,
            output_activation,
            latent_activation,
        )
    return init_glorot(module, generator)


def _dense_stack(sizes, activation):
    """Dense layers through ``sizes``, ``activation`` between them, none after the last."""
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(n_in, n_out), _activation_layer(activation)]
    return nn.Sequential(*layers[:-1])


def dense_parameter_count(n_features, hidden_layer_sizes, latent_dim, **_):
    """Parameters of the network :func:`build_autoencoder` makes, counted before building."""
    sizes = [n_features, *hidden_layer_sizes, latent_dim]
    encoder = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))
    decoder = sum((n_out + 1) * n_in for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))
    return encoder + decoder
