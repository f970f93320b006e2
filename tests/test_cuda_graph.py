"""The CUDA-graph training path (skdae._cuda_graph), checked on the CPU: how an epoch is
cut into graphs, when the path is taken, and that its steps, run eagerly from the same
static buffers, train exactly what the eager path trains. tests/test_cuda.py checks
the captured graphs themselves on a GPU."""

import numpy as np
import pytest
import torch

import skdae._cuda_graph as cuda_graph
import skdae._training as training
from skdae import (
    Compose,
    ConvDenoisingAutoencoder,
    DenoisingAutoencoder,
    GaussianNoise,
    MaskingNoise,
    SwapNoise,
)
from skdae._corruption import BaseCorruption
from skdae._cuda_graph import EpochPlan, GraphedEpochs, StreamedDenseStep
from skdae._dense_network import build_autoencoder
from skdae._dense_step import DenseStep
from skdae._time_budget import TimeBudget
from skdae._training import TrainingData, TrainingSettings


@pytest.mark.parametrize(
    "n, batch, chunks, tail_start, sizes",
    [
        (60000, 128, 18, 450, [128, 96]),  # MNIST: 468 whole batches and one of 96
        (3200, 128, 1, 25, [128]),  # 25 whole batches: one chunk, no tail
        (1000, 128, 0, 0, [128, 104]),  # under one chunk: the whole epoch is the tail
        (50, 128, 0, 0, [50]),  # fewer rows than a batch
    ],
)
def test_an_epoch_is_cut_into_chunks_and_a_tail(n, batch, chunks, tail_start, sizes):
    plan = EpochPlan(n, batch)
    assert (plan.n_chunks, plan.tail_start, plan.batch_sizes()) == (chunks, tail_start, sizes)
    assert plan.n_batches == -(-n // batch)
    assert plan.fractions()[-1] == 1.0 and len(plan.fractions()) == plan.n_batches
    assert plan.captured_steps() == (25 if chunks else 0) + plan.n_batches - tail_start


def _settings(**changes):
    return TrainingSettings(
        **{
            "loss": "bce",
            "corruption": GaussianNoise(0.2, clip=(0, 1)),
            "batch_size": 8,
            "shuffle": True,
            "seed": 3,
            "precision": "float32",
            "learning_rate": lambda position: 1e-3,
            **changes,
        }
    )


def _why_not(optimizer=None, settings=None, on_batch=None, n_epochs=50):
    """Why the fit would not replay graphs, were it on a GPU."""
    module = build_autoencoder(6, (5,), 2, "relu", "sigmoid")
    return cuda_graph.why_not_capture(
        optimizer or torch.optim.Adam(module.parameters(), fused=True),
        training.make_training_step(module, "bce"),
        TrainingData(torch.rand(300, 6)),
        settings or _settings(),
        n_epochs=n_epochs,
        on_batch=on_batch,
    )


def _unsupported():
    module = build_autoencoder(6, (5,), 2, "relu", "sigmoid")
    return cuda_graph.unsupported(
        module,
        torch.optim.Adam(module.parameters(), fused=True),
        training.make_training_step(module, "bce"),
        TrainingData(torch.rand(300, 6)),
        _settings(),
        n_epochs=50,
        on_batch=None,
    )


def test_the_cpu_trains_eagerly():
    assert _unsupported() == "not a CUDA device"
    assert _why_not() is None  # all else would do


def test_the_graphs_can_be_switched_off(monkeypatch):
    monkeypatch.setattr(cuda_graph, "ENABLED", False)
    assert "switched off" in _unsupported()


class _Flip(BaseCorruption):
    def corrupt_tensor(self, X, generator):
        return 1 - X


def _parameter():
    return [torch.nn.Parameter(torch.zeros(2))]


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        ({"on_batch": print}, "batch progress"),
        ({"optimizer": torch.optim.SGD(_parameter(), lr=0.1)}, "fused Adam"),
        ({"optimizer": torch.optim.Adam(_parameter(), fused=False)}, "fused Adam"),
        ({"settings": _settings(corruption=_Flip())}, "corruption of the user's own"),
        ({"settings": _settings(corruption=Compose([MaskingNoise(), _Flip()]))}, "own"),
        ({"n_epochs": 1}, "too short"),
        ({"settings": _settings(max_grad_norm=1.0)}, "gradient clipping"),
        ({"settings": _settings(time_budget=TimeBudget(60))}, "max_time"),
    ],
)
def test_what_the_graphs_cannot_hold_runs_eagerly(kwargs, reason):
    assert reason in _why_not(**kwargs)


def test_the_built_in_corruptions_are_known_to_stay_on_the_device():
    for corruption in (GaussianNoise(), SwapNoise(), Compose([MaskingNoise(), GaussianNoise()])):
        assert cuda_graph._device_only(corruption)
    assert not cuda_graph._device_only(_Flip())


# ------------------------------------------------------------------ the streamed step


STEP_CASES = [
    # hidden, activation, output activation, loss
    ((8, 5), "relu", "sigmoid", "bce"),
    ((8,), "tanh", "identity", "mse"),
    ((8,), "leaky_relu", "sigmoid", "mse"),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("hidden, activation, output, loss", STEP_CASES)
def test_the_streamed_step_computes_what_the_dense_step_computes(
    hidden, activation, output, loss, weighted, dtype
):
    """Without streams (the CPU), the same operations: the same bits."""
    grads, losses = [], []
    for streamed in (False, True):
        torch.manual_seed(0)
        module = build_autoencoder(7, hidden, 3, activation, output)
        step = DenseStep.build(module, loss, dtype)
        if streamed:
            step = StreamedDenseStep(step, fuse_relu=True)
        generator = torch.Generator().manual_seed(1)
        for n in (16, 5, 16):
            inputs = torch.rand((n, 7), generator=generator)
            target = torch.rand((n, 7), generator=generator)
            weights = None
            if weighted:
                weights = torch.rand((n, 7), generator=generator)
                weights = weights / weights.sum()
            losses.append(step(inputs, target, weights))
            grads.append([p.grad.clone() for p in module.parameters()])
    half = len(losses) // 2
    for a, b in zip(losses[:half], losses[half:], strict=True):
        assert torch.equal(a, b)
    for a, b in zip(grads[:half], grads[half:], strict=True):
        for x, y in zip(a, b, strict=True):
            assert torch.equal(x, y)


# ---------------------------------------------- the graphed epochs, run eagerly on the CPU


def _fit_both_ways(monkeypatch, estimator, X, **fit_params):
    from sklearn.base import clone

    eager = clone(estimator).fit(X, **fit_params)
    made = []

    def graphed(module, optimizer, step, data, settings, *, n_epochs, on_batch):
        made.append(GraphedEpochs(module, optimizer, step, data, settings, capture=False))
        return made[-1]

    monkeypatch.setattr(training, "graphed_epochs", graphed)
    fast = clone(estimator).fit(X, **fit_params)
    monkeypatch.undo()
    assert made and not made[0].failed
    return eager, fast, made[0]


def _assert_same_fit(eager, fast):
    assert eager.loss_curve_ == fast.loss_curve_
    for (name, a), b in zip(
        eager.module_.state_dict().items(), fast.module_.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name


_DENSE = dict(
    latent_dim=3, hidden_layer_sizes=(9,), max_iter=3, batch_size=8, device="cpu", random_state=0
)


@pytest.mark.parametrize(
    "n_rows, params",
    [
        (300, {}),  # one chunk of 25 batches, then a tail with a ragged batch
        (200, {}),  # exactly one chunk
        (90, {"shuffle": False}),
        (90, {"corruption": SwapNoise(0.3), "learning_rate": "constant"}),
        (90, {"matmul_precision": "bfloat16"}),
        (90, {"loss": "mse", "activation": "tanh", "solver": "adamw"}),
        (90, {"activation": "gelu"}),  # autograd
    ],
)
def test_graphed_epochs_train_exactly_what_the_eager_path_trains(monkeypatch, n_rows, params):
    X = np.random.RandomState(0).rand(n_rows, 12).astype(np.float32)
    eager, fast, _ = _fit_both_ways(monkeypatch, DenoisingAutoencoder(**{**_DENSE, **params}), X)
    _assert_same_fit(eager, fast)


def test_missing_values_sample_weights_and_given_noisy_inputs_too(monkeypatch):
    rng = np.random.RandomState(1)
    X = rng.rand(90, 12).astype(np.float32)
    X[rng.rand(*X.shape) < 0.1] = np.nan
    weights = rng.rand(90) * 2
    noisy = np.clip(X + 0.1 * rng.randn(*X.shape), 0, 1).astype(np.float32)
    estimator = DenoisingAutoencoder(**_DENSE)
    for fit_params in ({"sample_weight": weights}, {"X_noisy": noisy}):
        eager, fast, _ = _fit_both_ways(monkeypatch, estimator, X, **fit_params)
        _assert_same_fit(eager, fast)


def test_a_warm_start_continues_as_the_eager_path_does(monkeypatch):
    X = np.random.RandomState(2).rand(90, 12).astype(np.float32)
    estimator = DenoisingAutoencoder(**{**_DENSE, "warm_start": True})
    eager, fast, _ = _fit_both_ways(monkeypatch, estimator, X)
    eager.fit(X)
    monkeypatch.setattr(
        training,
        "graphed_epochs",
        lambda *args, n_epochs, on_batch: GraphedEpochs(*args, capture=False),
    )
    fast.fit(X)
    _assert_same_fit(eager, fast)


def test_the_conv_network_through_autograd(monkeypatch):
    X = np.random.RandomState(3).rand(40, 64).astype(np.float32)
    estimator = ConvDenoisingAutoencoder(
        channels=(2, 3), latent_dim=4, max_iter=2, batch_size=16, device="cpu", random_state=0
    )
    eager, fast, _ = _fit_both_ways(monkeypatch, estimator, X)
    _assert_same_fit(eager, fast)


def test_the_warm_up_is_undone():
    torch.manual_seed(0)
    module = build_autoencoder(6, (5,), 2, "relu", "sigmoid")
    optimizer = torch.optim.Adam(module.parameters(), fused=True)
    step = training.make_training_step(module, "bce")
    data = TrainingData(torch.rand(60, 6))
    before = {k: v.clone() for k, v in module.state_dict().items()}
    epochs = GraphedEpochs(module, optimizer, step, data, _settings(), capture=False)
    epochs._warm_up()
    for key, value in module.state_dict().items():
        assert torch.equal(value, before[key]), key
    # The state the warm-up made is a fresh one: zeros, as Adam's first step finds it.
    assert optimizer.state and all(
        not value.any() for state in optimizer.state.values() for value in state.values()
    )
    assert optimizer.param_groups[0]["lr"] == 1e-3


@pytest.mark.parametrize(
    "solver, options",
    [
        (torch.optim.Adam, {}),
        (torch.optim.Adam, {"weight_decay": 0.01, "amsgrad": True}),
        (torch.optim.AdamW, {"weight_decay": 0.05, "maximize": True}),
    ],
)
def test_adam_in_pieces_takes_torch_s_fused_step_exactly(solver, options):
    """Parameters cut into pieces for the kernel (one channels-last), the same values."""
    generator = torch.Generator().manual_seed(0)
    shapes = [(784, 256), (256,), (64, 32, 3, 3), (5000,)]
    runs = []
    for split in (False, True):
        params = [torch.nn.Parameter(torch.randn(s, generator=generator)) for s in shapes]
        with torch.no_grad():
            params[2].data = params[2].data.contiguous(memory_format=torch.channels_last)
        generator.manual_seed(0)
        for p in params:
            p.data.copy_(torch.randn(p.shape, generator=generator))
        optimizer = solver(params, lr=1e-2, fused=True, **options)
        for step in range(3):
            for p in params:
                p.grad = torch.randn(p.shape, generator=generator).to(
                    memory_format=torch.preserve_format
                )
                p.grad = p.grad.contiguous(
                    memory_format=torch.channels_last if p.dim() == 4 else torch.contiguous_format
                )
            if not (split and cuda_graph.split_fused_adam_step(optimizer)):
                assert step == 0 or not split  # only the first step makes the state
                optimizer.step()
        runs.append((params, optimizer))
    (plain, plain_opt), (pieces, pieces_opt) = runs
    for a, b in zip(plain, pieces, strict=True):
        assert torch.equal(a, b)
        for key, value in plain_opt.state[a].items():
            assert torch.equal(value, pieces_opt.state[b][key]), key
