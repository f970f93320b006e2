import math

import pytest
import torch

from skdae._dense_network import build_autoencoder
from skdae._network import count_parameters, summarize


def _net(**kw):
    args = dict(
        n_features=784,
        hidden_layer_sizes=(256, 128),
        latent_dim=64,
        activation="relu",
        output_activation="sigmoid",
    )
    return build_autoencoder(**{**args, **kw})


def test_reference_network_shapes_and_parameter_count():
    net = _net()
    rows = summarize(net)
    assert [(r.in_shape[0], r.out_shape[0]) for r in rows] == [
        (784, 256),
        (256, 128),
        (128, 64),
        (64, 128),
        (128, 256),
        (256, 784),
    ]
    assert str(rows[0]) == "DENSE 784 -> 256 [ReLU], 200960 parameters"
    assert rows[0].weight_shape == (256, 784) and rows[0].bias_shape == (256,)
    assert rows[-1].activation == "Sigmoid"
    assert (
        sum(r.n_parameters for r in rows) == count_parameters(net) == 484_944
    )  # 200960 + 32896 + 8256 + 8320 + 33024 + 201488


def test_glorot_uniform_weights_and_zero_biases():
    torch.manual_seed(0)
    net = _net()
    for layer in net.modules():
        if isinstance(layer, torch.nn.Linear):
            bound = math.sqrt(6 / (layer.in_features + layer.out_features))
            assert layer.weight.abs().max() <= bound
            assert layer.weight.abs().max() > 0.9 * bound  # uses the whole range
            assert torch.all(layer.bias == 0)


def test_no_hidden_layers_gives_one_layer_each_way():
    rows = summarize(_net(n_features=10, hidden_layer_sizes=(), latent_dim=3))
    assert [(r.in_shape[0], r.out_shape[0], r.activation) for r in rows] == [
        (10, 3, "ReLU"),
        (3, 10, "Sigmoid"),
    ]


def test_forward_equals_decode_of_encode():
    net = _net(n_features=12, hidden_layer_sizes=(8,), latent_dim=4)
    X = torch.rand(5, 12)
    assert torch.equal(net(X), net.decode(net.encoder(X)))
    assert net(X).min() >= 0 and net(X).max() <= 1


@pytest.mark.parametrize("activation", ["tanh", "gelu", "identity"])
def test_activations_are_applied_after_every_hidden_and_code_layer(activation):
    rows = summarize(
        _net(
            n_features=6,
            hidden_layer_sizes=(5,),
            latent_dim=2,
            activation=activation,
            output_activation="identity",
        )
    )
    names = [r.activation for r in rows]
    expected = {"tanh": "Tanh", "gelu": "GELU", "identity": "Identity"}[activation]
    assert names == [expected, expected, expected, "Identity"]


def test_latent_activation_follows_the_code_layer_only():
    rows = summarize(
        _net(n_features=6, hidden_layer_sizes=(5,), latent_dim=2, latent_activation="identity")
    )
    assert [r.activation for r in rows] == ["ReLU", "Identity", "ReLU", "Sigmoid"]


def test_latent_activation_none_means_the_hidden_activation():
    """Models saved before latent_activation existed rebuild with their one activation."""
    rows = summarize(_net(n_features=6, hidden_layer_sizes=(5,), latent_dim=2, activation="elu"))
    assert [r.activation for r in rows] == ["ELU", "ELU", "ELU", "Sigmoid"]


def test_the_state_dict_keys_do_not_depend_on_the_latent_activation():
    """Weights saved with one code activation load into a network built with another."""
    relu, linear = _net(), _net(latent_activation="identity")
    linear.load_state_dict(relu.state_dict())
