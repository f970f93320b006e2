"""The learning-rate schedule: its shape, and how fit, partial_fit and warm starts use it."""

import numpy as np
import pytest
from fast_settings import FAST

from skdae import DenoisingAutoencoder
from skdae._schedule import FINAL_FRACTION, learning_rate_at

PEAK = 1e-2


def _record_rates(dae):
    """Collect the learning rate of every optimizer step from now on."""
    rates = []
    dae._optimizer.register_step_pre_hook(
        lambda optimizer, args, kwargs: rates.append(optimizer.param_groups[0]["lr"])
    )
    return rates


def test_constant_is_the_initial_rate_everywhere():
    assert {learning_rate_at("constant", p, initial=PEAK, n_epochs=5) for p in (0, 2.5, 9)} == {
        PEAK
    }


@pytest.mark.parametrize("n_epochs, warmup", [(50, 1.0), (5, 0.5), (1, 0.1)])
def test_cosine_warms_up_linearly_then_decays_to_its_floor(n_epochs, warmup):
    def rate(p):
        return learning_rate_at("cosine", p, initial=PEAK, n_epochs=n_epochs)

    assert rate(warmup / 4) == pytest.approx(PEAK / 4)
    assert rate(warmup) == pytest.approx(PEAK)
    after = [rate(p) for p in np.linspace(warmup, n_epochs, 200)]
    assert np.all(np.diff(after) < 0)
    assert rate(warmup + (n_epochs - warmup) / 2) == pytest.approx(PEAK * (1 + FINAL_FRACTION) / 2)
    assert rate(n_epochs) == rate(3 * n_epochs) == pytest.approx(FINAL_FRACTION * PEAK)


def test_fit_takes_each_step_at_the_scheduled_rate(small_X):
    # 60 samples in batches of 32: each epoch is 2 steps, at 32/60 and 60/60 of the epoch.
    dae = DenoisingAutoencoder(
        **dict(FAST, max_iter=4, learning_rate_init=PEAK, learning_rate="cosine")
    )
    dae.partial_fit(small_X)
    rates = _record_rates(dae)
    for _ in range(3):
        dae.partial_fit(small_X)
    positions = [epoch + fraction for epoch in (1, 2, 3) for fraction in (32 / 60, 1.0)]
    expected = [learning_rate_at("cosine", p, initial=PEAK, n_epochs=4) for p in positions]
    assert rates == pytest.approx(expected, rel=1e-12)
    assert rates[-1] == pytest.approx(FINAL_FRACTION * PEAK)


def test_partial_fit_after_fit_goes_on_at_the_floor(small_X):
    dae = DenoisingAutoencoder(**dict(FAST, max_iter=2, learning_rate_init=PEAK)).fit(small_X)
    rates = _record_rates(dae)
    dae.partial_fit(small_X)
    assert rates == pytest.approx([FINAL_FRACTION * PEAK] * 2)


def test_a_warm_started_fit_runs_the_schedule_again(small_X):
    params = dict(FAST, max_iter=10, learning_rate_init=PEAK, warm_start=True)
    dae = DenoisingAutoencoder(**params).fit(small_X)
    rates = _record_rates(dae)
    dae.fit(small_X)
    assert dae.n_iter_ == 20
    # Warm-up over the first epoch again: the first step is taken at 32/60 of the peak.
    assert rates[0] == pytest.approx(PEAK * 32 / 60)
    assert max(rates) == pytest.approx(PEAK)
    assert rates[-1] == pytest.approx(FINAL_FRACTION * PEAK)


def test_constant_rate_follows_learning_rate_init_between_warm_starts(small_X):
    params = dict(FAST, learning_rate="constant", learning_rate_init=PEAK, warm_start=True)
    dae = DenoisingAutoencoder(**params).fit(small_X)
    rates = _record_rates(dae)
    dae.set_params(learning_rate_init=PEAK / 10).fit(small_X)
    assert rates == [PEAK / 10] * (2 * FAST["max_iter"])


def test_the_schedule_changes_training(small_X):
    constant = DenoisingAutoencoder(**dict(FAST, learning_rate="constant")).fit(small_X)
    cosine = DenoisingAutoencoder(**FAST).fit(small_X)
    assert constant.loss_curve_ != cosine.loss_curve_


def test_by_default_fit_runs_the_cosine_and_a_stream_a_constant_rate(small_X):
    """A stream of partial_fit calls once sat at 1% of the rate after max_iter calls."""
    assert DenoisingAutoencoder(**FAST).fit(small_X).learning_rate_ == "cosine"
    streamed = DenoisingAutoencoder(**dict(FAST, learning_rate_init=PEAK))
    streamed.partial_fit(small_X)
    rates = _record_rates(streamed)
    for _ in range(3 * FAST["max_iter"]):
        streamed.partial_fit(small_X)
    assert streamed.learning_rate_ == "constant"
    assert rates == [PEAK] * (2 * 3 * FAST["max_iter"])


def test_an_explicit_schedule_is_the_one_in_force(small_X):
    dae = DenoisingAutoencoder(**dict(FAST, learning_rate="constant")).fit(small_X)
    assert dae.learning_rate_ == "constant"
    dae.set_params(learning_rate="cosine").partial_fit(small_X)
    assert dae.learning_rate_ == "cosine"


def test_a_long_stream_with_the_defaults_keeps_learning(digits):
    """Ten chunks streamed eight times (80 calls, max_iter=5): the loss keeps falling
    well after max_iter calls, where the cosine would have reached its floor."""
    X_train = digits[0]
    dae = DenoisingAutoencoder(latent_dim=16, hidden_layer_sizes=(64,), max_iter=5, random_state=0)
    for _ in range(8):
        for chunk in np.array_split(X_train, 10):
            dae.partial_fit(chunk)
    early = np.mean(dae.loss_curve_[5:15])
    late = np.mean(dae.loss_curve_[-10:])
    assert late < 0.9 * early
