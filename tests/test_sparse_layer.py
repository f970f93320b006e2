"""The sparse first layer: the dense step's loss and gradients on the same batch, masking
with its dense meaning, fits that take it where it applies and the densified path
everywhere else."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import skdae._sparse_layer as sparse_layer
import skdae._training as training
from skdae import (
    Compose,
    DenoisingAutoencoder,
    GaussianNoise,
    IdentityCorruption,
    MaskingNoise,
    SaltAndPepperNoise,
    SwapNoise,
)
from skdae._dense_network import build_autoencoder
from skdae._dense_step import DenseStep
from skdae._sparse import SparseRows
from skdae._sparse_layer import SparseBatch, stored_value_corruption

N_COLUMNS = 300
FAST = dict(
    latent_dim=3,
    hidden_layer_sizes=(16,),
    loss="mse",
    max_iter=4,
    batch_size=32,
    device="cpu",
    matmul_precision="float32",
    random_state=0,
)


def _sparse_X(n_rows=256, n_columns=N_COLUMNS, density=0.02, seed=0):
    return sp.random(
        n_rows, n_columns, density=density, format="csr", random_state=seed, dtype=np.float64
    )


def _topics(n_rows=256, n_columns=2000, n_topics=8, seed=0):
    """Documents of a few topics, each using four of its topic's ten words on average
    (0.2% nonzero, as text): sparse, and with something to learn."""
    rng = np.random.default_rng(seed)
    topic = rng.integers(0, n_topics, n_rows)
    words = topic[:, None] * 10 + np.arange(10)
    used = rng.random(words.shape) < 0.4
    rows = np.repeat(np.arange(n_rows), used.sum(axis=1))
    values = rng.uniform(0.2, 1.0, rows.size)
    return sp.csr_matrix((values, (rows, words[used])), shape=(n_rows, n_columns))


def _network(hidden, activation, latent, output, seed=0, n_columns=N_COLUMNS):
    torch.manual_seed(seed)
    return build_autoencoder(n_columns, hidden, 3, activation, output, latent)


CASES = [
    # hidden, activation, latent activation, output activation, loss
    ((8, 5), "relu", "relu", "sigmoid", "bce"),
    ((8,), "tanh", "sigmoid", "identity", "mse"),
    ((8,), "leaky_relu", "identity", "sigmoid", "mse"),
    ((), "relu", "relu", "sigmoid", "bce"),
]


def _batches():
    """Batches of sparse rows: ordinary ones, one with an empty row and a last, partial
    one, and one with no stored value at all."""
    X = _sparse_X(n_rows=40, seed=1).tolil()
    X[3, :] = 0
    X = X.tocsr()
    X.eliminate_zeros()
    return [X[:16], X[16:32], X[32:37], sp.csr_matrix((4, N_COLUMNS))]


@pytest.mark.parametrize("weighted", [False, True], ids=["mean", "weighted"])
@pytest.mark.parametrize("hidden, activation, latent, output, loss", CASES)
def test_the_sparse_step_gives_the_dense_steps_loss_and_gradients(
    hidden, activation, latent, output, loss, weighted
):
    module = _network(hidden, activation, latent, output)
    sparse_step, dense_step = DenseStep.build(module, loss), DenseStep.build(module, loss)
    corrupt = stored_value_corruption(MaskingNoise(0.3))
    generator = torch.Generator().manual_seed(0)
    for block in _batches():
        batch = SparseBatch.from_scipy(block)
        batch = batch.with_values(corrupt(batch.values, generator))
        target = torch.from_numpy(block.toarray().astype(np.float32))
        weights = None
        if weighted:
            weights = torch.rand(target.shape, generator=generator)
            weights /= weights.sum()
        expected_loss = dense_step(batch.to_dense(), target, weights)
        expected = [p.grad.clone() for p in module.parameters()]
        got_loss = sparse_step(batch, target, weights)
        torch.testing.assert_close(got_loss, expected_loss, rtol=1e-5, atol=1e-8)
        for parameter, grad in zip(module.parameters(), expected, strict=True):
            torch.testing.assert_close(parameter.grad, grad, rtol=1e-4, atol=1e-7)
    assert sparse_step.sparse_batches == len(_batches()) and dense_step.sparse_batches == 0


@pytest.mark.parametrize("hidden, activation, latent, output, loss", CASES)
def test_a_bfloat16_step_takes_the_sparse_first_layer_in_float32(
    hidden, activation, latent, output, loss
):
    """The other layers in bfloat16, the first one in float32: within bfloat16's
    rounding of the float32 step, with float32 gradients; and the first layer's
    weight gradient is the float32 sum over the stored values, not a bfloat16 product."""
    module = _network(hidden, activation, latent, output)
    block = _sparse_X(n_rows=32, seed=2)
    batch, target = SparseBatch.from_scipy(block), torch.from_numpy(block.toarray()).float()
    expected_loss = DenseStep.build(module, loss)(batch.to_dense(), target)
    expected = [p.grad.clone() for p in module.parameters()]
    step = DenseStep.build(module, loss, torch.bfloat16)
    for _ in range(2):  # the second call reuses the buffers and weight copies
        got_loss = step(batch, target)
    assert step.sparse_batches == 2 and got_loss.dtype == torch.float32
    torch.testing.assert_close(got_loss, expected_loss, rtol=2e-2, atol=1e-3)
    for parameter, grad in zip(module.parameters(), expected, strict=True):
        assert parameter.dtype == parameter.grad.dtype == torch.float32
        error = torch.linalg.norm(parameter.grad - grad) / torch.linalg.norm(grad)
        assert float(error) < 0.05
    # The first layer's weight gradient from the bfloat16 gradient of its output, summed
    # in float32 over the stored values.
    first = module.dense_layers()[0][0]
    output_grad = step._buffers[32].input_grads[1].float()
    torch.testing.assert_close(first.weight.grad, output_grad.t() @ batch.to_dense())
    # A dense batch after sparse ones brings the first layer's reduced copy up to date.
    dense_loss = step(batch.to_dense(), target)
    torch.testing.assert_close(dense_loss, expected_loss, rtol=2e-2, atol=1e-3)


def test_a_sparse_batch_is_the_scipy_rows_it_came_from():
    block = _sparse_X(n_rows=20)
    batch = SparseBatch.from_scipy(block)
    np.testing.assert_array_equal(batch.to_dense().numpy(), block.toarray().astype(np.float32))
    assert batch.shape == block.shape and batch.values.dtype == torch.float32


def test_masking_drops_stored_values_as_the_dense_masking_does():
    values = torch.rand(20_000) + 0.5
    corrupt = stored_value_corruption(MaskingNoise(0.3))
    first = corrupt(values, torch.Generator().manual_seed(0))
    again = corrupt(values, torch.Generator().manual_seed(0))
    torch.testing.assert_close(first, again)  # from the generator alone
    dropped = first == 0
    assert 0.28 < float(dropped.float().mean()) < 0.32  # the dense one's probability
    torch.testing.assert_close(first[~dropped], values[~dropped])  # kept as they were
    assert not values.eq(0).any()  # the input is not modified in place
    assert stored_value_corruption(MaskingNoise(0.0))(values, None).equal(values)


@pytest.mark.parametrize(
    "corruption, applies",
    [
        (MaskingNoise(0.5), True),
        (IdentityCorruption(), True),
        (Compose([MaskingNoise(0.2), MaskingNoise(0.3)]), True),
        (MaskingNoise(0.5, value=0.5), False),  # fills zeros
        (GaussianNoise(0.1), False),
        (SaltAndPepperNoise(0.1), False),
        (SwapNoise(0.2), False),
        (Compose([MaskingNoise(0.2), GaussianNoise(0.1)]), False),
    ],
    ids=lambda value: repr(value) if not isinstance(value, bool) else str(value),
)
def test_only_corruptions_that_keep_zeros_have_a_stored_value_form(corruption, applies):
    assert (stored_value_corruption(corruption) is not None) is applies

    class OwnMasking(MaskingNoise):  # a user's subclass may mean something else
        pass

    assert stored_value_corruption(OwnMasking(0.5)) is None


def _recording_steps(monkeypatch):
    """The training steps the fits of this test build, recorded as they are made."""
    steps = []
    make = training.make_training_step

    def recording(*args, **kwargs):
        steps.append(make(*args, **kwargs))
        return steps[-1]

    monkeypatch.setattr(training, "make_training_step", recording)
    return steps


def _batches_per_fit(n_rows, params):
    return params["max_iter"] * -(-n_rows // params["batch_size"])


def test_a_fit_on_sparse_data_with_masking_takes_the_sparse_first_layer(monkeypatch):
    steps = _recording_steps(monkeypatch)
    X = _topics()
    params = dict(FAST, corruption=MaskingNoise(0.3), max_iter=15, learning_rate_init=1e-2)
    # (in bfloat16 where the CPU computes it: the first layer still in float32)
    assert DenoisingAutoencoder(**dict(params, matmul_precision="auto", max_iter=1)).fit(X)
    assert steps[-1].sparse_batches == _batches_per_fit(X.shape[0], dict(params, max_iter=1))
    dae = DenoisingAutoencoder(**params).fit(X)
    # Every batch went through the sparse first layer: this fails if it silently stops.
    assert steps[-1].sparse_batches == _batches_per_fit(X.shape[0], params)
    assert dae.loss_curve_[-1] < 0.8 * dae.loss_curve_[0]  # it learns
    assert dae.predict(X).shape == X.shape and dae.transform(X).shape == (X.shape[0], 3)

    monkeypatch.setattr(sparse_layer, "FORCE", "dense")
    densified = DenoisingAutoencoder(**params).fit(X)
    assert steps[-1].sparse_batches == 0
    # Other draws of the masks, the same training: losses of the same size.
    np.testing.assert_allclose(dae.loss_curve_, densified.loss_curve_, rtol=0.1)


def test_pre_corrupted_sparse_inputs_train_as_their_densified_batches(monkeypatch):
    """The same inputs both ways (no draw differs): the same fit to float32 rounding,
    with sample weights and early stopping's held-out rows."""
    steps = _recording_steps(monkeypatch)
    X = _topics()
    noisy = MaskingNoise(0.3).corrupt(X, random_state=1)
    weights = np.linspace(0.1, 1.0, X.shape[0])
    params = dict(FAST, early_stopping=True, n_iter_no_change=10)
    fits = []
    for path in ("sparse", "dense"):
        monkeypatch.setattr(sparse_layer, "FORCE", path)
        fits.append(DenoisingAutoencoder(**params).fit(X, X_noisy=noisy, sample_weight=weights))
        assert (steps[-1].sparse_batches > 0) is (path == "sparse")
    sparse, densified = fits
    np.testing.assert_allclose(sparse.loss_curve_, densified.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(sparse.validation_scores_, densified.validation_scores_, rtol=1e-4)
    np.testing.assert_allclose(sparse.transform(X), densified.transform(X), rtol=1e-3, atol=1e-5)


def _with_missing(X):
    X = X.copy()
    X.data[::7] = np.nan
    return X


@pytest.mark.parametrize(
    "case",
    ["gaussian noise", "missing values", "too dense", "dense X", "autograd step"],
)
def test_everything_else_keeps_the_densified_path(monkeypatch, case):
    steps = _recording_steps(monkeypatch)
    X, params = _topics(), dict(FAST, corruption=MaskingNoise(0.3))
    if case == "gaussian noise":
        params["corruption"] = GaussianNoise(0.1)
    elif case == "missing values":
        X = _with_missing(X)
    elif case == "too dense":
        X = _sparse_X(density=2 * sparse_layer.MAX_DENSITY[torch.float32])
    elif case == "dense X":
        X = X.toarray()
    else:
        params["activation"] = "gelu"
    dae = DenoisingAutoencoder(**params).fit(X)
    assert np.isfinite(dae.loss_curve_).all()
    assert getattr(steps[-1], "sparse_batches", 0) == 0


def test_the_choice_needs_the_hand_written_step_and_a_sparse_input():
    module = _network((8,), "relu", "relu", "sigmoid")
    data = training.TrainingData(SparseRows(_topics(), "cpu", fill=0.0))
    float32 = DenseStep.build(module, "bce")
    bfloat16 = DenseStep.build(module, "bce", torch.bfloat16)
    assert sparse_layer.sparse_inputs(float32, data, MaskingNoise(0.5)) is not None
    assert sparse_layer.sparse_inputs(bfloat16, data, MaskingNoise(0.5)) is not None
    assert sparse_layer.sparse_inputs(float32, data, GaussianNoise(0.1)) is None
    dense = training.TrainingData(torch.zeros(4, 2000))
    assert sparse_layer.sparse_inputs(float32, dense, MaskingNoise(0.5)) is None


def test_the_density_rule_depends_on_the_format_the_other_layers_compute_in():
    """Between the two measured limits the float32 step takes the sparse layer and the
    bfloat16 step, whose dense products are twice as fast, densifies."""
    module = _network((8,), "relu", "relu", "sigmoid", n_columns=1000)
    float32_limit = sparse_layer.MAX_DENSITY[torch.float32]
    bfloat16_limit = sparse_layer.MAX_DENSITY[torch.bfloat16]
    X = _sparse_X(n_rows=400, n_columns=1000, density=(float32_limit + bfloat16_limit) / 2)
    data = training.TrainingData(SparseRows(X, "cpu", fill=0.0))
    float32 = DenseStep.build(module, "bce")
    bfloat16 = DenseStep.build(module, "bce", torch.bfloat16)
    assert sparse_layer.sparse_inputs(float32, data, MaskingNoise(0.5)) is not None
    assert sparse_layer.sparse_inputs(bfloat16, data, MaskingNoise(0.5)) is None
