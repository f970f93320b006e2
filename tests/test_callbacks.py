"""scikit-learn's callbacks (1.9): one task per fit, one subtask per epoch, alone, in a
Pipeline and in a search; a callback can stop the fit."""

import numpy as np
import pytest
from fast_settings import FAST
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skdae import DenoisingAutoencoder
from skdae._callbacks import CALLBACKS_SUPPORTED

pytestmark = pytest.mark.skipif(
    not CALLBACKS_SUPPORTED, reason="scikit-learn's callbacks need scikit-learn 1.9"
)


class Recorder:
    """A callback that writes down every hook call it gets, and can ask to stop."""

    def __init__(self, stop_after=None):
        self.calls = []
        self.stop_after = stop_after

    def setup(self, estimator, context):
        self.calls.append(("setup", context.task_name, context.max_subtasks))

    def on_fit_task_begin(self, estimator, context, *, X=None):
        self.calls.append(("begin", context.task_name, context.task_id))

    def on_fit_task_end(self, estimator, context, *, metadata=None, fitted_estimator=None):
        self.calls.append(("end", context.task_name, context.task_id, metadata))
        if context.task_name == "epoch":
            self.fitted = fitted_estimator
            return self.stop_after is not None and context.task_id + 1 >= self.stop_after
        return False

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context.task_name))


def test_a_fit_is_a_task_of_one_subtask_per_epoch(small_X):
    recorder = Recorder()
    dae = DenoisingAutoencoder(**FAST).set_callbacks(recorder).fit(small_X)
    epochs = FAST["max_iter"]
    assert recorder.calls[0] == ("setup", "fit", epochs)
    assert recorder.calls[1] == ("begin", "fit", 0)
    for i in range(epochs):
        begin, end = recorder.calls[2 + 2 * i : 4 + 2 * i]
        assert begin == ("begin", "epoch", i)
        assert end[:3] == ("end", "epoch", i)
        assert end[3] == {"loss": dae.loss_curve_[i]}
    assert recorder.calls[-2][:2] == ("end", "fit")
    assert recorder.calls[-1] == ("teardown", "fit")
    # the fitted estimator a callback gets is a working model
    np.testing.assert_array_equal(recorder.fitted.predict(small_X), dae.predict(small_X))


def test_the_epochs_of_a_fit_with_max_time_are_not_known_beforehand(small_X):
    recorder = Recorder()
    DenoisingAutoencoder(**FAST, max_time=1e6).set_callbacks(recorder).fit(small_X)
    assert recorder.calls[0] == ("setup", "fit", None)


def test_a_callback_can_stop_the_fit(small_X):
    dae = DenoisingAutoencoder(**dict(FAST, max_iter=10)).set_callbacks(Recorder(stop_after=2))
    dae.fit(small_X)
    assert dae.n_iter_ == 2 and len(dae.loss_curve_) == 2


def test_partial_fit_is_a_task_of_one_epoch(small_X):
    recorder = Recorder()
    DenoisingAutoencoder(**FAST).set_callbacks(recorder).partial_fit(small_X)
    assert [call[:2] for call in recorder.calls] == [
        ("setup", "fit"),
        ("begin", "fit"),
        ("begin", "epoch"),
        ("end", "epoch"),
        ("end", "fit"),
        ("teardown", "fit"),
    ]


def test_teardown_runs_when_the_fit_fails_during_training(small_X):
    from skdae.exceptions import DivergenceError

    recorder = Recorder()
    dae = DenoisingAutoencoder(**FAST, loss="mse").set_callbacks(recorder)
    with pytest.raises(DivergenceError):
        dae.fit(small_X * 1e25)
    assert recorder.calls[0][0] == "setup" and recorder.calls[-1] == ("teardown", "fit")
    assert not hasattr(dae, "module_")  # and the fit still rolled back


def test_without_callbacks_nothing_is_left_on_the_estimator(small_X):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    assert not hasattr(dae, "_callback_fit_ctx") and not hasattr(dae, "_skl_callbacks")


def _progress_bar():
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    return ProgressBar()


def test_the_progress_bar_draws_the_epochs(small_X, capsys):
    dae = DenoisingAutoencoder(**FAST).set_callbacks(_progress_bar()).fit(small_X)
    assert dae.n_iter_ == FAST["max_iter"]


def test_the_progress_bar_reaches_the_autoencoder_in_a_pipeline_and_a_search(digits):
    X, y = digits[0], digits[2]
    pipe = Pipeline(
        [("dae", DenoisingAutoencoder(**FAST)), ("clf", LogisticRegression(max_iter=2000))]
    )
    pipe.set_callbacks(_progress_bar()).fit(X, y)
    assert pipe["dae"].n_iter_ == FAST["max_iter"]
    search = GridSearchCV(
        Pipeline(
            [("dae", DenoisingAutoencoder(**FAST)), ("clf", LogisticRegression(max_iter=2000))]
        ),
        {"dae__latent_dim": [2, 4]},
        cv=2,
    )
    search.set_callbacks(_progress_bar()).fit(X, y)
    assert search.best_params_["dae__latent_dim"] in (2, 4)


# ------------------------------------------------- saving during a fit (issue 29.4)


class Saver:
    """Saves the estimator (the live one and the callback's fitted copy) at every hook
    where it gets one, and loads each file back at once."""

    def __init__(self, folder):
        self.folder, self.saved, self.refused = folder, [], []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def _save(self, estimator, where):
        path = self.folder / f"{len(self.saved) + len(self.refused)}-{where}.skdae"
        try:
            estimator.save(path)
        except ValueError as exc:  # NotFittedError: no epoch completed yet
            self.refused.append((where, str(exc)))
            return
        loaded = type(estimator).load(path)
        self.saved.append((where, estimator.n_iter_, loaded))

    def on_fit_task_begin(self, estimator, context, *, X=None):
        self._save(estimator, f"begin-{context.task_name}")

    def on_fit_task_end(self, estimator, context, *, metadata=None, fitted_estimator=None):
        self._save(estimator, f"end-{context.task_name}")
        if fitted_estimator is not None:
            self._save(fitted_estimator, f"fitted-{context.task_name}")
        return False


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("second", ["none", "warm_start", "partial_fit"])
def test_whatever_save_writes_during_a_fit_load_reads_back(
    small_X, tmp_path, early_stopping, second
):
    saver = Saver(tmp_path)
    dae = DenoisingAutoencoder(
        **FAST, early_stopping=early_stopping, warm_start=second == "warm_start"
    ).set_callbacks(saver)
    dae.fit(small_X)
    if second == "warm_start":
        dae.fit(small_X)
    elif second == "partial_fit":
        dae.partial_fit(small_X)
    # Before the first epoch of the first fit there is no model: refused, clearly.
    assert [where for where, _ in saver.refused] == ["begin-fit", "begin-epoch"]
    assert all("has not completed an epoch" in message for _, message in saver.refused)
    assert len(saver.saved) >= 3 * FAST["max_iter"]
    for where, n_iter, loaded in saver.saved:
        assert loaded.n_iter_ == n_iter, where
        assert np.isfinite(loaded.best_loss_), where
        assert loaded.predict(small_X).shape == small_X.shape


def test_save_from_another_thread_during_a_fit_is_refused_and_the_fit_goes_on(small_X, tmp_path):
    import threading

    started, release = threading.Event(), threading.Event()

    class Pause:
        def setup(self, estimator, context):
            pass

        def teardown(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context, *, X=None):
            pass

        def on_fit_task_end(self, estimator, context, *, metadata=None, fitted_estimator=None):
            if context.task_name == "epoch" and not started.is_set():
                started.set()
                release.wait(10)
            return False

    dae = DenoisingAutoencoder(**FAST).set_callbacks(Pause())
    thread = threading.Thread(target=dae.fit, args=(small_X,))
    thread.start()
    started.wait(10)
    try:
        with pytest.raises(ValueError, match="another thread is fitting"):
            dae.save(tmp_path / "mid-fit.skdae")
        with pytest.raises(ValueError, match="being fitted in another thread"):
            dae.fit(small_X)
    finally:
        release.set()
        thread.join(30)
    assert dae.n_iter_ == FAST["max_iter"]
    loaded = DenoisingAutoencoder.load(dae.save(tmp_path / "after.skdae"))
    np.testing.assert_array_equal(loaded.predict(small_X), dae.predict(small_X))
