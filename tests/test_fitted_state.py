"""The fitted state has one owner: declared once, and restored whole when a fit fails."""

import numpy as np
import pytest
import torch
from fast_settings import FAST
from sklearn.exceptions import NotFittedError
from test_persistence import assert_same_fitted_state

from skdae import BaseCorruption, DenoisingAutoencoder
from skdae.exceptions import DivergenceError, FitInterrupted, InputError


class InterruptAt(BaseCorruption):
    """Raises KeyboardInterrupt (as Ctrl-C does) on its ``call``-th batch."""

    def __init__(self, call=1):
        self.call = call

    def corrupt_tensor(self, X, generator):
        self.__dict__["n_calls_"] = self.__dict__.get("n_calls_", 0) + 1
        if self.n_calls_ == self.call:
            raise KeyboardInterrupt
        return X.clone()


def _copy(dae):
    copy = DenoisingAutoencoder.__new__(DenoisingAutoencoder)
    copy.__setstate__(dae.__getstate__())
    return copy


def test_every_attribute_fit_sets_is_declared(small_X):
    dae = DenoisingAutoencoder(**FAST, early_stopping=True).fit(small_X)
    params = set(dae.get_params(deep=False))
    declared = {field.name for field in dae._fitted_fields} | {"device_"}
    assert {name for name in vars(dae) if name not in params} <= declared


def test_a_failed_refit_leaves_the_previous_model(small_X):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    before = _copy(dae)
    dae.set_params(device="cuda" if not torch.cuda.is_available() else "cuda:99")
    with pytest.raises(ValueError, match="device="):
        dae.fit(np.random.RandomState(1).rand(30, 7))  # other data, other width
    dae.set_params(device="auto")
    assert_same_fitted_state(dae, before)
    np.testing.assert_array_equal(dae.predict(small_X), before.predict(small_X))


def test_a_failed_refit_keeps_feature_names(small_X):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(small_X, columns=[f"c{i}" for i in range(small_X.shape[1])])
    dae = DenoisingAutoencoder(**FAST).fit(frame)
    with pytest.raises(ValueError):
        dae.fit(np.full((20, 3), np.nan))
    assert list(dae.feature_names_in_) == list(frame.columns)
    dae.transform(frame)  # no feature-name warning (warnings are errors here)


def test_divergence_in_a_first_fit_leaves_it_unfitted(small_X):
    dae = DenoisingAutoencoder(**FAST, loss="mse", learning_rate_init=1e30, solver="sgd")
    with pytest.raises(DivergenceError, match="left as it was before"):
        dae.fit(small_X * 1e20)
    with pytest.raises(NotFittedError):
        dae.predict(small_X)
    assert not hasattr(dae, "n_features_in_")


def test_divergence_in_a_warm_start_leaves_the_previous_model(small_X):
    dae = DenoisingAutoencoder(**FAST, loss="mse", warm_start=True).fit(small_X)
    before = _copy(dae)
    dae.set_params(learning_rate_init=1e30, solver="sgd")
    with pytest.raises((DivergenceError, ValueError)):
        dae.fit(small_X * 1e20)
    dae.set_params(learning_rate_init=FAST.get("learning_rate_init", 3e-3), solver="adam")
    assert_same_fitted_state(dae, before)


@pytest.mark.parametrize("how", ["warm_start", "partial_fit", "fresh fit"])
def test_a_failure_in_a_later_epoch_restores_the_model_of_before_the_call(
    small_X, monkeypatch, how
):
    """The rollback restores the start of the call, not of the epoch that failed: the
    network trained in place is loaded from the copy taken before its first step, and
    one built anew leaves the old one untouched."""
    import skdae._training as training

    dae = DenoisingAutoencoder(**{**FAST, "max_iter": 3}, warm_start=how == "warm_start")
    dae.fit(small_X)
    before = _copy(dae)
    failing_epoch = dae.n_iter_ + (2 if how == "warm_start" else 1)
    if how == "fresh fit":
        failing_epoch = 2
    original = training._check_finite

    def diverge_late(epoch, loss, validation_loss):
        if epoch == failing_epoch:
            raise DivergenceError(f"injected at epoch {epoch}")
        return original(epoch, loss, validation_loss)

    monkeypatch.setattr(training, "_check_finite", diverge_late)
    with pytest.raises(DivergenceError, match="injected"):
        dae.partial_fit(small_X) if how == "partial_fit" else dae.fit(small_X)
    assert_same_fitted_state(dae, before)


def test_a_snapshot_copies_no_tensor(small_X):
    """Taking the rollback point costs no copy of the weights or the optimizer."""
    from skdae._fitted_state import snapshot

    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    rollback = snapshot(dae)
    assert rollback.module is dae.module_ and rollback.optimizer is dae._optimizer
    assert "module_" not in rollback.state and "_optimizer" not in rollback.state
    assert rollback.start is None


@pytest.mark.parametrize(
    "change", [{"latent_dim": 3}, {"hidden_layer_sizes": (8,)}, {"loss": "mse"}]
)
@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_continuing_after_a_structural_change_is_refused(small_X, change, how):
    dae = DenoisingAutoencoder(**FAST, warm_start=how == "warm_start").fit(small_X)
    before = _copy(dae)
    dae.set_params(**change)
    with pytest.raises(InputError, match="warm_start=False"):
        dae.fit(small_X) if how == "warm_start" else dae.partial_fit(small_X)
    assert_same_fitted_state(dae, before)


# ------------------------------------------------------------------ Ctrl-C

CONSTANT = dict(FAST, learning_rate="constant", max_iter=5)  # 60 rows: 2 batches an epoch


def test_ctrl_c_keeps_the_completed_epochs_consistently(small_X):
    dae = DenoisingAutoencoder(**CONSTANT, corruption=InterruptAt(call=6))
    with pytest.raises(FitInterrupted, match=r"keeps the 2 epoch\(s\).*n_iter_=2") as info:
        dae.fit(small_X)
    assert info.value.model_kept and isinstance(info.value, KeyboardInterrupt)
    assert dae.n_iter_ == 2 and len(dae.loss_curve_) == len(dae.epoch_times_) == 2
    assert dae.best_epoch_ == 2
    # Exactly the model of two whole epochs: weights and optimizer state agree.
    two = DenoisingAutoencoder(**dict(CONSTANT, max_iter=2), corruption="none").fit(small_X)
    for mine, theirs in zip(
        dae.module_.state_dict().values(), two.module_.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=0)
    assert dae.loss_curve_ == two.loss_curve_
    step = next(iter(dae._optimizer.state.values()))["step"]
    assert float(step) == float(next(iter(two._optimizer.state.values()))["step"]) == 4


def test_ctrl_c_in_the_first_epoch_leaves_the_estimator_unfitted(small_X):
    dae = DenoisingAutoencoder(**CONSTANT, corruption=InterruptAt(call=2))
    with pytest.raises(FitInterrupted, match="left as it was") as info:
        dae.fit(small_X)
    assert not info.value.model_kept
    with pytest.raises(NotFittedError):
        dae.transform(small_X)


def test_ctrl_c_in_a_partial_fit_leaves_the_previous_model(small_X):
    dae = DenoisingAutoencoder(**CONSTANT).fit(small_X)
    before = _copy(dae)
    dae.set_params(corruption=InterruptAt(call=1))
    with pytest.raises(FitInterrupted):
        dae.partial_fit(small_X)
    dae.set_params(corruption=before.corruption)
    assert_same_fitted_state(dae, before)


_SIGINT_CHILD = """
import json, sys
import numpy as np
from skdae import DenoisingAutoencoder
from skdae.exceptions import FitInterrupted

X = np.random.RandomState(0).rand(20000, 64)
dae = DenoisingAutoencoder(latent_dim=8, max_iter=1000, verbose=1, random_state=0)
try:
    dae.fit(X)
    result = {"interrupted": False}
except FitInterrupted as exc:
    result = {"interrupted": True, "kept": exc.model_kept, "message": str(exc)}
except KeyboardInterrupt as exc:  # not what skdae promises: reported, not a crash
    result = {"interrupted": True, "kept": None, "message": repr(exc)}
result.update(
    n_iter=dae.n_iter_,
    curves=[len(dae.loss_curve_), len(dae.epoch_times_)],
    best_epoch=dae.best_epoch_,
    finite=bool(np.isfinite(dae.predict(X[:10])).all()),
)
dae.partial_fit(X[:500])  # and training goes on
result["after_partial_fit"] = dae.n_iter_
print("RESULT " + json.dumps(result), flush=True)
"""


def test_sigint_mid_fit_leaves_a_consistent_model_at_the_last_epoch(tmp_path):
    """Ctrl-C for real: SIGINT to a process that is fitting, after two epochs."""
    import json
    import os
    import signal
    import subprocess
    import sys

    child = subprocess.Popen(
        [sys.executable, "-c", _SIGINT_CHILD],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        for line in child.stdout:
            if line.startswith("epoch    2/"):
                child.send_signal(signal.SIGINT)
                break
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert "RESULT " in out, err
    result = json.loads(out.split("RESULT ", 1)[1])
    assert result["interrupted"] and result["kept"], result
    n = result["n_iter"]
    assert n >= 2 and result["curves"] == [n, n] and result["best_epoch"] == n
    assert result["finite"] and result["after_partial_fit"] == n + 1
    assert f"n_iter_={n}" in result["message"]


# --- Ctrl-C at every point of a fit ------------------------------------------------

import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from functools import partial  # noqa: E402

import skdae  # noqa: E402
from skdae import _interrupts  # noqa: E402

_PACKAGE = os.path.dirname(skdae.__file__)


def _sigint_at_line(line, action, completed):
    """Run ``action()`` and deliver a real SIGINT at the ``line``-th line of skdae's
    code that it executes, as Ctrl-C would: Python's handler (or one skdae installed)
    runs there. Returns the exception raised (or None), whether the signal was sent and
    what ``completed()`` (the epochs the estimator had then) said when it was."""
    count = 0
    completed_then = None

    def local(frame, event, arg):
        nonlocal count, completed_then
        if event == "line":
            count += 1
            if count == line:
                completed_then = completed()
                signal.raise_signal(signal.SIGINT)
        return local

    def calls(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(_PACKAGE) else None

    sys.settrace(calls)
    try:
        action()
        error = None
    except BaseException as exc:  # noqa: BLE001 - every outcome is checked by the caller
        error = exc
    finally:
        sys.settrace(None)
    # Nothing of the interrupt machinery outlives the call, wherever the signal landed:
    # a leak here is a lost Ctrl-C in some later fit.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, line
    assert _interrupts._deferral.depth == 0, line
    return error, count >= line, completed_then


def _same_model(dae, reference):
    if reference is None:
        return not hasattr(dae, "n_iter_")
    if not hasattr(dae, "n_iter_") or dae.n_iter_ != reference.n_iter_:
        return False
    state, expected = dae.module_.state_dict(), reference.module_.state_dict()
    optimizer, expected_optimizer = dae._optimizer.state_dict(), reference._optimizer.state_dict()
    return (
        dae.loss_curve_ == reference.loss_curve_
        and len(dae.epoch_times_) == dae.n_iter_
        and (dae.best_epoch_, dae.best_loss_) == (reference.best_epoch_, reference.best_loss_)
        and dae.validation_scores_ == reference.validation_scores_
        and all(torch.equal(state[k], expected[k]) for k in expected)
        and all(
            torch.equal(optimizer["state"][i][k], expected_optimizer["state"][i][k])
            for i in expected_optimizer["state"]
            for k in expected_optimizer["state"][i]
        )
    )


@pytest.mark.parametrize("early_stopping", [False, True])
def test_ctrl_c_at_any_line_of_a_fit_leaves_a_whole_model(small_X, early_stopping):
    """The class of failure, not one timing: a SIGINT at every 3rd line skdae runs during
    a 3-epoch fit. Whatever the point, the estimator is unfitted or exactly the model of
    some number of completed epochs (weights, optimizer, curves, best epoch), never fewer
    than had completed when the signal came, and FitInterrupted says which; no other
    exception escapes, nothing hangs."""
    params = dict(CONSTANT, max_iter=3, early_stopping=early_stopping, n_iter_no_change=99)
    references = [None] + [
        DenoisingAutoencoder(**dict(params, max_iter=k)).fit(small_X) for k in (1, 2, 3)
    ]
    outcomes = set()
    line = 1
    while True:
        dae = DenoisingAutoencoder(**params)
        error, sent, completed = _sigint_at_line(
            line, partial(dae.fit, small_X), partial(getattr, dae, "n_iter_", 0)
        )
        if not sent:
            assert error is None and _same_model(dae, references[3])
            break
        assert isinstance(error, KeyboardInterrupt), (line, error)
        if isinstance(error, FitInterrupted):
            kept = dae.n_iter_ if error.model_kept else 0
            assert error.model_kept == (kept > 0), line
            if kept:
                assert f"n_iter_={kept}" in str(error), (line, str(error))
        else:  # before the fit began, or delivered once it ended
            kept = getattr(dae, "n_iter_", 0)
            assert kept in (0, 3), (line, kept)
        assert kept >= completed, (line, kept, completed)  # a finished epoch is never lost
        assert _same_model(dae, references[kept]), (line, error)
        outcomes.add(kept)
        line += 3
    assert outcomes == {0, 1, 2, 3}  # the sweep reached every epoch


def test_ctrl_c_at_any_line_of_a_partial_fit_keeps_one_model_or_the_other(small_X):
    before = DenoisingAutoencoder(**dict(CONSTANT, max_iter=2)).fit(small_X)
    after = _copy(before).partial_fit(small_X)
    outcomes = set()
    line = 1
    while True:
        dae = _copy(before)
        error, sent, completed = _sigint_at_line(
            line, partial(dae.partial_fit, small_X), partial(getattr, dae, "n_iter_")
        )
        if not sent:
            assert error is None and _same_model(dae, after)
            break
        assert isinstance(error, KeyboardInterrupt), (line, error)
        if isinstance(error, FitInterrupted):
            assert _same_model(dae, after if error.model_kept else before), line
        else:
            assert _same_model(dae, before) or _same_model(dae, after), line
        assert dae.n_iter_ >= completed, line
        outcomes.add(dae.n_iter_)
        line += 2
    assert outcomes == {2, 3}
