"""The hand-written training step: the same loss and gradients as autograd, for every
network and loss it accepts; autograd for the rest."""

import numpy as np
import pytest
import torch

import skdae._dense_step as dense_step
from skdae import DenoisingAutoencoder
from skdae._dense_network import build_autoencoder
from skdae._dense_step import AutogradStep, DenseStep
from skdae._training import LOSSES, make_training_step


def _network(hidden, activation, latent_activation, output_activation, seed=0):
    torch.manual_seed(seed)
    return build_autoencoder(7, hidden, 3, activation, output_activation, latent_activation)


def _batch(n, seed, device="cpu"):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.rand((n, 7), generator=generator)
    return inputs.to(device), torch.rand((n, 7), generator=generator).to(device)


DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
    ),
]


def _autograd_reference(module, loss, inputs, target):
    value = AutogradStep(module, LOSSES[loss])(inputs, target)
    return value, [p.grad.clone() for p in module.parameters()]


CASES = [
    # hidden, activation, latent activation, output activation, loss
    ((8, 5), "relu", "relu", "sigmoid", "bce"),
    ((8, 5), "relu", "identity", "sigmoid", "bce"),
    ((8,), "leaky_relu", "tanh", "sigmoid", "bce"),
    ((8,), "tanh", "sigmoid", "identity", "mse"),
    ((8,), "sigmoid", "identity", "sigmoid", "mse"),
    ((8,), "identity", "relu", "tanh", "mse"),
    ((), "relu", "relu", "sigmoid", "bce"),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("hidden, activation, latent, output, loss", CASES)
def test_loss_and_gradients_match_autograd(hidden, activation, latent, output, loss, device):
    module = _network(hidden, activation, latent, output).to(device)
    step = DenseStep.build(module, loss)
    assert step is not None
    # Two batch sizes (a full and a last, partial batch), each checked after the other:
    # gradients are overwritten, never accumulated, and buffers are per batch size.
    for n, seed in ((16, 1), (5, 2), (16, 3)):
        inputs, target = _batch(n, seed, device)
        inputs_before = inputs.clone()
        expected_loss, expected_grads = _autograd_reference(module, loss, inputs, target)
        got_loss = step(inputs, target)
        torch.testing.assert_close(got_loss, expected_loss, rtol=1e-5, atol=1e-7)
        for parameter, expected in zip(module.parameters(), expected_grads, strict=True):
            torch.testing.assert_close(parameter.grad, expected, rtol=1e-4, atol=1e-7)
        torch.testing.assert_close(inputs, inputs_before, rtol=0, atol=0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("hidden, activation, latent, output, loss", CASES)
def test_bfloat16_steps_match_float32_within_bfloat16_rounding(
    hidden, activation, latent, output, loss, device
):
    """With bfloat16 operands (the hand-written step's own casts, autograd's autocast)
    the loss and gradients stay within bfloat16's rounding of the float32 ones, the
    gradients handed to the optimizer are float32, and the weights stay float32."""
    module = _network(hidden, activation, latent, output).to(device)
    inputs, target = _batch(32, 6, device)
    expected_loss, expected_grads = _autograd_reference(module, loss, inputs, target)
    steps = [
        DenseStep.build(module, loss, torch.bfloat16),
        AutogradStep(module, LOSSES[loss], torch.bfloat16),
    ]
    for step in steps:
        for _ in range(2):  # the second call reuses the buffers and weight copies
            got_loss = step(inputs, target)
        assert got_loss.dtype == torch.float32
        torch.testing.assert_close(got_loss, expected_loss, rtol=2e-2, atol=1e-3)
        rounded = False
        for parameter, expected in zip(module.parameters(), expected_grads, strict=True):
            assert parameter.dtype == parameter.grad.dtype == torch.float32
            # As a whole: single small entries are sums that cancel, with any rounding.
            error = torch.linalg.norm(parameter.grad - expected) / torch.linalg.norm(expected)
            assert float(error) < 0.05
            rounded |= not torch.equal(parameter.grad, expected)
        assert rounded  # bfloat16 really ran: not the float32 result under another name


def test_a_bfloat16_step_follows_parameters_rebound_after_it_was_built():
    """The step makes the float32 parameters views of one flat tensor; one rebound since
    (``p.data = ...``) is regrouped, and its new values are the ones trained on."""
    module = _network((8, 5), "relu", "relu", "sigmoid")
    step = DenseStep.build(module, "bce", torch.bfloat16)
    inputs, target = _batch(32, 7)
    step(inputs, target)
    first = module.encoder[0]
    first.weight.data = torch.full_like(first.weight, 0.01)  # rebound, new values
    expected_loss, expected_grads = _autograd_reference(module, "bce", inputs, target)
    got_loss = step(inputs, target)
    torch.testing.assert_close(got_loss, expected_loss, rtol=2e-2, atol=1e-3)
    assert torch.equal(first.weight, torch.full_like(first.weight, 0.01))
    for parameter, expected in zip(module.parameters(), expected_grads, strict=True):
        error = torch.linalg.norm(parameter.grad - expected) / torch.linalg.norm(expected)
        assert float(error) < 0.05


def _masked_reference(module, loss, inputs, target, observed, row_weights):
    """The weighted loss written from its definition, differentiated by autograd: only
    observed values count, each weighted by its row's weight, normalized to sum 1."""
    for parameter in module.parameters():
        parameter.grad = None
    if loss == "bce":
        values = torch.nn.functional.binary_cross_entropy_with_logits(
            module.logits(inputs), target, reduction="none"
        )
    else:
        values = (module(inputs) - target) ** 2
    weights = observed * row_weights[:, None]
    value = (values * weights)[observed].sum() / weights.sum()
    value.backward()
    return value.detach(), [p.grad.clone() for p in module.parameters()]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("hidden, activation, latent, output, loss", CASES)
def test_masked_and_weighted_loss_and_gradients_match_their_definition(
    hidden, activation, latent, output, loss, device
):
    """Missing values count for nothing, whatever the target holds there (NaN included);
    the hand-written and the autograd steps agree with the definition."""
    module = _network(hidden, activation, latent, output).to(device)
    generator = torch.Generator().manual_seed(4)
    inputs, target = _batch(16, 5, device)
    observed = (torch.rand((16, 7), generator=generator) > 0.3).to(device)
    row_weights = torch.rand(16, generator=generator).to(device) * 3
    expected_loss, expected_grads = _masked_reference(
        module, loss, inputs, target, observed, row_weights
    )
    weights = observed * row_weights[:, None]
    weights = weights / weights.sum()
    garbage = torch.where(observed, target, torch.full_like(target, 0.77))  # not NaN: BCE
    for step in (DenseStep.build(module, loss), AutogradStep(module, LOSSES[loss])):
        got_loss = step(inputs, garbage, weights)
        torch.testing.assert_close(got_loss, expected_loss, rtol=1e-5, atol=1e-7)
        for parameter, expected in zip(module.parameters(), expected_grads, strict=True):
            torch.testing.assert_close(parameter.grad, expected, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("activation", ["gelu", "elu"])
def test_activations_without_a_hand_written_derivative_train_through_autograd(activation):
    module = _network((8,), activation, None, "sigmoid")
    assert DenseStep.build(module, "bce") is None
    assert isinstance(make_training_step(module, "bce"), AutogradStep)


def test_a_module_that_is_not_a_plain_dense_stack_trains_through_autograd():
    module = _network((8,), "relu", "relu", "sigmoid")
    module.encoder.insert(1, torch.nn.Dropout(0.1))
    assert DenseStep.build(module, "bce") is None
    assert isinstance(make_training_step(module, "bce"), AutogradStep)


def test_the_default_network_takes_the_hand_written_step():
    module = build_autoencoder(784, (256, 128), 64, "relu", "sigmoid")
    assert isinstance(make_training_step(module, "bce"), DenseStep)


@pytest.mark.parametrize("activation, loss", [("relu", "bce"), ("tanh", "mse")])
def test_a_fit_gives_the_same_model_either_way(monkeypatch, activation, loss):
    """Whole fits, through the optimizer and the schedule: the hand-written step and
    autograd differ only by float32 rounding."""
    X = np.random.RandomState(0).rand(200, 12)
    params = dict(
        latent_dim=3,
        hidden_layer_sizes=(16,),
        activation=activation,
        loss=loss,
        max_iter=5,
        batch_size=32,
        device="cpu",
        matmul_precision="float32",
        random_state=0,
    )
    fast = DenoisingAutoencoder(**params).fit(X)
    monkeypatch.setattr(
        dense_step.DenseStep, "build", classmethod(lambda cls, module, loss, dtype=None: None)
    )
    reference = DenoisingAutoencoder(**params).fit(X)
    np.testing.assert_allclose(fast.loss_curve_, reference.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(fast.predict(X), reference.predict(X), rtol=1e-3, atol=1e-5)
