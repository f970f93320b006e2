"""max_time: fit trains for so many seconds, whatever the machine, with the schedule
laid over them.

The budget's clock is replaced by one that each optimizer step moves on by a fixed
number of seconds, so that what a fit does with its time is exact and the same on
every machine.
"""

import math

import numpy as np
import pytest
import torch
from fast_settings import FAST
from sklearn.utils._param_validation import InvalidParameterError

from skdae import BaseCorruption, ConvDenoisingAutoencoder, DenoisingAutoencoder
from skdae._schedule import FINAL_FRACTION
from skdae._time_budget import TimeBudget

PEAK = 1e-2


class _StepClock:
    """A clock that moves only when the optimizer takes a step; records each step's
    learning rate."""

    def __init__(self, seconds_per_step):
        self.seconds_per_step = seconds_per_step
        self.now = 0.0
        self.rates = []

    def install(self, estimator_class, monkeypatch):
        monkeypatch.setattr(TimeBudget, "clock", staticmethod(lambda: self.now))
        build = estimator_class._build_optimizer

        def timed(estimator):
            optimizer = build(estimator)
            step = optimizer.step

            def step_taking_time(*args, **kwargs):
                self.rates.append(optimizer.param_groups[0]["lr"])
                self.now += self.seconds_per_step
                return step(*args, **kwargs)

            optimizer.step = step_taking_time
            return optimizer

        monkeypatch.setattr(estimator_class, "_build_optimizer", timed)
        return self

    @property
    def steps(self):
        return len(self.rates)


def _dense(**params):
    # 60 samples in batches of 32 (small_X): two steps an epoch.
    return DenoisingAutoencoder(**{**FAST, "learning_rate_init": PEAK, **params})


@pytest.mark.parametrize(
    "seconds_per_step, max_time, epochs",
    [(1.0, 5, 3), (0.5, 5, 5), (3.0, 5, 1), (1.0, 4, 2), (2.5, 0.1, 1)],
)
def test_fit_stops_at_the_first_batch_after_its_time_is_spent(
    small_X, monkeypatch, seconds_per_step, max_time, epochs
):
    clock = _StepClock(seconds_per_step).install(DenoisingAutoencoder, monkeypatch)
    dae = _dense(max_iter=1000, max_time=max_time).fit(small_X)
    # At least one step, and never one begun after the time was spent.
    assert clock.steps == max(1, math.ceil(max_time / seconds_per_step))
    # An epoch cut short counts as one.
    assert dae.n_iter_ == len(dae.loss_curve_) == len(dae.epoch_times_) == epochs
    assert np.isfinite(dae.loss_curve_).all()


def test_the_convolutional_estimator_keeps_time_too(monkeypatch):
    clock = _StepClock(1.0).install(ConvDenoisingAutoencoder, monkeypatch)
    X = np.random.RandomState(0).rand(64, 64)  # 8x8 images, as rows; 4 steps an epoch
    dae = ConvDenoisingAutoencoder(
        latent_dim=4, channels=(4,), batch_size=16, max_iter=1000, max_time=6, random_state=0
    ).fit(X)
    assert (clock.steps, dae.n_iter_) == (6, 2)


def test_the_rate_reaches_its_floor_when_the_time_runs_out(small_X, monkeypatch):
    clock = _StepClock(1.0).install(DenoisingAutoencoder, monkeypatch)
    _dense(max_iter=1000, max_time=200).fit(small_X)
    rates = np.array(clock.rates)
    assert len(rates) == 200
    # Up over the first epoch (two steps), then down with the time, not with the
    # 1000 epochs (after 100 of them that cosine would still be at 98% of the peak).
    assert rates[0] < rates[1] == pytest.approx(PEAK)
    assert np.all(np.diff(rates[1:]) < 0)
    assert rates[100] == pytest.approx(PEAK * (1 + FINAL_FRACTION) / 2, rel=0.02)
    assert rates[-1] < 1.1 * FINAL_FRACTION * PEAK


def test_the_warm_up_ends_after_a_tenth_of_the_time_when_an_epoch_is_longer(small_X, monkeypatch):
    clock = _StepClock(1.0).install(DenoisingAutoencoder, monkeypatch)
    _dense(max_iter=1000, max_time=10, batch_size=4).fit(small_X)  # 15 steps an epoch
    # Step k is taken k - 1 seconds in: one second is a tenth of the time.
    assert clock.rates[0] == pytest.approx(PEAK * 4 / 60)  # 4 of the epoch's 60 samples
    assert clock.rates[1] == pytest.approx(PEAK)
    assert np.all(np.diff(clock.rates[1:]) < 0)


class _WildAfter(BaseCorruption):
    """No corruption for the first ``calm`` batches, then noise a hundred times the
    data's scale."""

    def __init__(self, calm):
        self.calm = calm

    def corrupt_tensor(self, X, generator):
        self.batches_ = getattr(self, "batches_", 0) + 1
        if self.batches_ <= self.calm:
            return X.clone()
        return X + 100 * torch.randn(X.shape, generator=generator, dtype=X.dtype)


def test_an_epoch_cut_short_is_not_taken_for_a_fit_that_lost_ground(small_X, monkeypatch):
    """The last epoch, one batch of three epochs' worth, is a noisy mean: here a wild
    one, which a whole epoch's loss would have been taken for a divergence."""
    _StepClock(1.0).install(DenoisingAutoencoder, monkeypatch)
    dae = _dense(max_iter=1000, max_time=7, loss="mse", corruption=_WildAfter(calm=6))
    dae.fit(small_X)  # warnings are errors in the suite
    assert dae.n_iter_ == 4
    assert dae.loss_curve_[-1] > 1.5 * min(dae.loss_curve_)


def test_a_time_limit_the_fit_never_nears_changes_nothing(small_X):
    timed = _dense(max_iter=6, max_time=1e6).fit(small_X)
    untimed = _dense(max_iter=6).fit(small_X)
    assert timed.n_iter_ == 6
    assert timed.loss_curve_ == untimed.loss_curve_
    np.testing.assert_array_equal(timed.predict(small_X), untimed.predict(small_X))


def test_partial_fit_after_a_fit_that_ran_out_of_time_goes_on_at_the_floor(small_X, monkeypatch):
    clock = _StepClock(1.0).install(DenoisingAutoencoder, monkeypatch)
    dae = _dense(max_iter=1000, max_time=20).fit(small_X)
    assert dae._schedule_length == dae.n_iter_ == 10
    clock.rates.clear()
    dae.partial_fit(small_X)
    assert clock.rates == pytest.approx([FINAL_FRACTION * PEAK] * 2)


def test_partial_fit_trains_a_whole_epoch_whatever_max_time(small_X, monkeypatch):
    clock = _StepClock(1.0).install(DenoisingAutoencoder, monkeypatch)
    dae = _dense(max_time=0.5)
    dae.partial_fit(small_X)
    dae.partial_fit(small_X)
    assert (clock.steps, dae.n_iter_) == (4, 2)


def test_a_timed_fit_on_the_real_clock_ends(digits):
    X_train = digits[0]
    dae = DenoisingAutoencoder(**{**FAST, "max_iter": 100_000, "max_time": 0.5})
    dae.fit(X_train)
    assert 1 <= dae.n_iter_ < 100_000
    # The epochs' own clock agrees: the time was spent, and not much more (a batch of
    # this network takes milliseconds; the bound leaves room for a busy machine).
    assert 0.5 <= sum(dae.epoch_times_) < 5


def test_a_fitted_model_with_its_schedule_length_survives_a_model_file(
    small_X, monkeypatch, tmp_path
):
    _StepClock(1.0).install(DenoisingAutoencoder, monkeypatch)
    dae = _dense(max_iter=1000, max_time=20).fit(small_X)
    dae.save(tmp_path / "model.skdae")
    loaded = DenoisingAutoencoder.load(tmp_path / "model.skdae")
    assert loaded.get_params()["max_time"] == 20
    assert loaded._schedule_length == 10


@pytest.mark.parametrize("max_time", [0, -1.0, "60", float("nan")])
def test_a_time_limit_that_is_not_a_positive_number_is_refused(small_X, max_time):
    with pytest.raises(InvalidParameterError, match="max_time"):
        _dense(max_time=max_time).fit(small_X)


def test_a_warm_started_fit_gets_its_own_time_and_schedule(small_X, monkeypatch):
    clock = _StepClock(1.0).install(DenoisingAutoencoder, monkeypatch)
    dae = _dense(max_iter=1000, max_time=7, warm_start=True).fit(small_X)
    first = list(clock.rates)
    clock.rates.clear()
    dae.fit(small_X)
    # The same seven seconds again, from the top of the cosine: fit starts a schedule.
    assert clock.rates == pytest.approx(first)
    assert (len(first), dae.n_iter_, len(dae.loss_curve_)) == (7, 8, 8)
    assert dae._schedule_origin == 4 and dae._schedule_length == 4


def test_early_stopping_within_a_time_limit_keeps_the_best_epoch(small_X, monkeypatch):
    clock = _StepClock(1.0).install(DenoisingAutoencoder, monkeypatch)
    dae = _dense(max_iter=1000, max_time=9, early_stopping=True, validation_fraction=0.2)
    dae.fit(small_X)  # 48 training rows: two steps an epoch, each epoch validated
    assert (clock.steps, dae.n_iter_) == (9, 5)
    assert len(dae.validation_scores_) == 5
    assert dae.best_epoch_ == 1 + int(np.argmax(dae.validation_scores_))
    assert dae.best_loss_ == pytest.approx(-max(dae.validation_scores_))
