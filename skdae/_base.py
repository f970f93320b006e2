"""What every skdae autoencoder shares: fitting, inference and persistence.

:class:`BaseAutoencoder` is the family's one implementation of the scikit-learn
contract (``fit``, ``partial_fit``, ``transform``, ``inverse_transform``, ``predict``,
``score``, ``summary``, ``save`` / ``load``, pickling). A member of the family supplies
its parameters, their constraints and its network, through the member protocol of
``skdae._member`` (:class:`~skdae._member.AutoencoderMember`). Training
runs through ``skdae._training.fit_loop``; the fitted state is declared once in
``_fitted_fields`` (``skdae._fitted_state``), and a fit that fails or is interrupted
before completing an epoch leaves the estimator exactly as it was.
"""

import math
import threading
from contextlib import contextmanager
from functools import partial

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_array, gen_batches
from sklearn.utils.validation import check_is_fitted

from skdae._callbacks import CallbackSupportMixin, EpochTasks
from skdae._corruption import CORRUPTION_ALIASES, BaseCorruption, make_corruption
from skdae._device import as_float32_tensor, resolve_device
from skdae._doc_links import DocLinkMixin
from skdae._fitted_state import (
    CORRUPTION,
    MODULE,
    NAMES,
    OPTIMIZER,
    Fitted,
    FittedStateMixin,
    count,
    mapping,
    number,
    numbers,
    one_of,
    restore,
    snapshot,
    strings,
)
from skdae._interrupts import check_interrupt, interrupts_deferred
from skdae._legacy import from_flat_pickle, is_flat_pickle, with_old_parameters
from skdae._member import AutoencoderMember
from skdae._network import OUTPUT_ACTIVATIONS, format_summary, load_state, summarize
from skdae._persistence import (
    library_versions,
    load_estimator,
    save_model,
    warn_on_version_mismatch,
)
from skdae._precision import (
    MATMUL_PRECISIONS,
    RESOLVED_PRECISIONS,
    full_precision,
    measure_precision,
    resolve_matmul_precision,
)
from skdae._random import make_generator, seed_from_random_state
from skdae._schedule import (
    LEARNING_RATE_SCHEDULES,
    LEARNING_RATE_SETTINGS,
    ScheduleWithinTime,
    learning_rate_at,
)
from skdae._sparse import check_dense_result_fits, densify, is_sparse
from skdae._time_budget import TimeBudget
from skdae._training import (
    LOSSES,
    MISSING_INPUT,
    OPTIMIZERS,
    EarlyStopping,
    ProgressPrinter,
    TrainingSettings,
    _EpochInterrupted,
    fit_loop,
    lost_ground,
    prepare_data,
)
from skdae._validation import (
    Integral,
    Interval,
    Real,
    StrOptions,
    check_bce_target,
    check_counts_are_not_bools,
    check_float32_range,
    check_network_fits_in_memory,
    fit_context,
    has_missing_values,
    validate_data_X,
    validate_training_input,
)
from skdae._warnings import warn
from skdae.exceptions import DivergenceWarning, FitInterrupted, InputError, PrecisionWarning

# The fits in progress: id of the estimator -> the thread fitting it.
_fits_in_progress = {}
_fits_lock = threading.Lock()

# Rows per inference block: a fixed number for a given width (never the number of rows
# that came in, see _run_in_batches), capped so that a block's float32 input stays near
# 16 MB whatever the width: memory stays flat however many rows come in.
_INFERENCE_BLOCK_VALUES = 1 << 22
_MAX_INFERENCE_BLOCK_ROWS = 1024  # see benchmarks: throughput as with 8192-row chunks


def inference_block_rows(n_features):
    """The rows of every inference block for inputs of ``n_features`` columns."""
    return max(1, min(_MAX_INFERENCE_BLOCK_ROWS, _INFERENCE_BLOCK_VALUES // n_features))


# The constraints of the parameters every member of the family takes, from the output
# activation to verbose; each estimator adds those of its network.
TRAINING_PARAMETER_CONSTRAINTS = {
    "output_activation": [StrOptions({"auto", *OUTPUT_ACTIVATIONS})],
    "loss": [StrOptions({"auto", *LOSSES})],
    "corruption": [StrOptions(set(CORRUPTION_ALIASES)), BaseCorruption, None],
    "solver": [StrOptions(set(OPTIMIZERS))],
    "learning_rate": [StrOptions(set(LEARNING_RATE_SETTINGS))],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "max_time": [Interval(Real, 0, None, closed="neither"), None],
    "shuffle": ["boolean"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "warm_start": ["boolean"],
    "device": [str],
    "matmul_precision": [StrOptions(set(MATMUL_PRECISIONS))],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


class BaseAutoencoder(
    AutoencoderMember,
    DocLinkMixin,
    CallbackSupportMixin,
    FittedStateMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Base class of skdae's autoencoders. Not for direct use: see the subclasses."""

    # Everything fit learns, declared once (see skdae._fitted_state). The defaults are
    # what models saved by skdae 0.1.0 (0.2.0 for matmul_precision_) had instead.
    _fitted_fields = (
        Fitted("n_features_in_", check=count(1)),
        Fitted("feature_names_in_", NAMES, optional=True, check=strings),
        Fitted("loss_", check=one_of(LOSSES)),
        Fitted("output_activation_", check=one_of(OUTPUT_ACTIVATIONS)),
        Fitted("matmul_precision_", default="float32", check=one_of(RESOLVED_PRECISIONS)),
        Fitted("corruption_", CORRUPTION),
        Fitted("loss_curve_", check=numbers()),
        Fitted("validation_scores_", check=numbers(allow_none=True)),
        Fitted("epoch_times_", check=numbers(low=0)),
        Fitted("best_loss_", check=number()),
        Fitted("best_epoch_", check=count(0)),
        Fitted("n_iter_", check=count(0)),
        Fitted("_seed", check=count(0, 2**32)),
        Fitted("_schedule_origin", default=0, check=count(0)),
        # The length in epochs of the schedule that a fit with max_time ran (None:
        # max_iter), along which partial_fit calls go on.
        Fitted("_schedule_length", default=None, check=count(1, allow_none=True)),
        # 0.2 and 0.3 had no 'auto': their fits ran the parameter's schedule, cosine
        # by default (0.1's files and pickles migrate to learning_rate='constant').
        Fitted("learning_rate_", default="cosine", check=one_of(LEARNING_RATE_SCHEDULES)),
        Fitted("_architecture", check=mapping),
        Fitted("module_", MODULE),
        Fitted("_optimizer", OPTIMIZER, default=None),
    )
    # What each member supplies (its network, described by its sizes) is declared in
    # skdae._member.AutoencoderMember.

    def _code_width(self):
        return type(self)._code_width_of(**self._architecture)

    # ------------------------------------------------------------------ training

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, X_noisy=None, sample_weight=None):
        """Fit the autoencoder to reconstruct clean ``X`` from corrupted ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Clean training data. NaN marks a missing value: it is left out of the loss
            and reaches the network as a masked entry (0, as
            :class:`~skdae.MaskingNoise` masks). A :mod:`scipy.sparse` matrix stays
            sparse: each batch is densified when it is taken (see the user guide's
            "Sparse data").

        y : None
            Ignored; present for API consistency (a Pipeline passes class labels).

        X_noisy : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
            Pre-corrupted inputs aligned row by row with ``X``. When given, the network
            learns ``X_noisy -> X`` and ``corruption`` is not applied. NaN marks a
            hidden input: the network sees it as a masked entry, as for ``X``.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss (the weighted mean within each batch);
            None weighs all alike. Requested through scikit-learn's metadata routing
            with ``set_fit_request(sample_weight=True)``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # Every fit runs the whole schedule, a warm-started one too.
        fresh = not (self.warm_start and self._is_fitted())
        return self._fit(
            X,
            X_noisy,
            sample_weight,
            fresh=fresh,
            n_epochs=self.max_iter,
            validate=self.early_stopping,
            restart_schedule=True,
        )

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, *, X_noisy=None, sample_weight=None):
        """Train for one epoch on ``X``, continuing from the current weights.

        The first call initializes the model. ``early_stopping`` is not used here:
        each call is one pass over the data it is given, which suits training on
        chunks of data too large for memory.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Clean training data.

        y : None
            Ignored; present for API consistency.

        X_noisy : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
            Pre-corrupted inputs aligned with ``X``; see :meth:`fit`.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss; see :meth:`fit`.

        Returns
        -------
        self : object
            The updated estimator.
        """
        # Each call is one more epoch of the schedule that the last fit (or the first
        # call) started.
        fresh = not self._is_fitted()
        return self._fit(
            X,
            X_noisy,
            sample_weight,
            fresh=fresh,
            n_epochs=1,
            validate=False,
            restart_schedule=False,
        )

    def _fit(self, X, X_noisy, sample_weight, *, fresh, n_epochs, validate, restart_schedule):
        # Ctrl-C stops the fit at the start of a batch, where the model can be left whole.
        with (
            interrupts_deferred(),
            self._one_fit_at_a_time(),
            self._rollback_on_error() as rollback,
        ):
            check_counts_are_not_bools(self, self._count_parameters)
            data = validate_training_input(self, X, X_noisy, sample_weight, reset=fresh)
            if fresh:
                self._initialize(data)
            else:
                self._check_continuable()
            if restart_schedule:
                self._schedule_origin = self.n_iter_
                self._schedule_length = None
            self.learning_rate_ = self._schedule_in_force(started_by_fit=restart_schedule)
            self._train(
                data,
                n_epochs=n_epochs,
                validate=validate,
                rollback=rollback,
                max_time=self.max_time if restart_schedule else None,
            )
        return self

    def _schedule_in_force(self, *, started_by_fit):
        """The learning-rate schedule of this call: the parameter, or for 'auto' the
        schedule of the call that started training: cosine over ``max_iter`` epochs
        for fit, a constant rate for a stream of partial_fit calls (whose number the
        estimator cannot know: a cosine over max_iter calls would stall at its floor)."""
        if self.learning_rate != "auto":
            return self.learning_rate
        if started_by_fit:
            return "cosine"
        return getattr(self, "learning_rate_", "constant")

    @contextmanager
    def _one_fit_at_a_time(self):
        """Refuse a fit of this estimator while another thread fits it: their epochs
        would interleave into a model that no file can describe (a fit nested in the
        same thread, from a callback, goes through)."""
        me = threading.get_ident()
        with _fits_lock:
            owner = _fits_in_progress.get(id(self))
            if owner is not None and owner != me:
                raise InputError(
                    f"This {type(self).__name__} is being fitted in another thread. Fit a "
                    "clone of it (sklearn.base.clone) in this one, or wait for that fit."
                )
            _fits_in_progress[id(self)] = me
        try:
            yield
        finally:
            if owner is None:
                with _fits_lock:
                    _fits_in_progress.pop(id(self), None)

    @contextmanager
    def _rollback_on_error(self):
        """On any exception, put the estimator back as it was (fitted or not).

        The one exception: Ctrl-C after at least one completed epoch of this call, when
        the estimator keeps those epochs (see :class:`~skdae.exceptions.FitInterrupted`).
        """
        saved = snapshot(self)
        try:
            yield saved
        except FitInterrupted as interrupt:
            if not interrupt.model_kept:
                restore(self, saved)
            raise
        except KeyboardInterrupt:
            # Outside the epochs (validation, setup, the callbacks' end of fit): nothing
            # of this call is kept.
            restore(self, saved)
            raise FitInterrupted(
                "fit interrupted outside its epochs: the estimator is left as it was "
                "before this call.",
                model_kept=False,
            ) from None
        except BaseException:
            restore(self, saved)
            raise

    def _validate_X(self, X, *, reset=False):
        """scikit-learn's checks of ``X`` (and of its width when fitted), and float32's
        range; a sparse ``X`` comes back as CSR."""
        X = validate_data_X(self, X, reset=reset)
        check_float32_range(X.data if is_sparse(X) else X)
        return X

    def _initialize(self, data):
        """Resolve the parameters into fitted state and build a fresh network for the
        validated input ``data`` (a :class:`~skdae._validation.TrainingInput`)."""
        self.loss_, self.output_activation_ = self._resolve_loss(data)
        self._architecture = self._make_architecture(data.X.shape[1], warn=True)
        self.device_ = resolve_device(self.device)
        self._seed = seed_from_random_state(self.random_state)
        self.module_ = self._build_module()
        self._optimizer = self._build_optimizer()
        self.loss_curve_ = []
        self.validation_scores_ = [] if self.early_stopping else None
        self.epoch_times_ = []
        self.best_loss_ = math.inf
        self.best_epoch_ = 0
        self.n_iter_ = 0
        # The epoch at which the current learning-rate schedule started: partial_fit
        # goes on along the schedule of the last fit (or of its own first call).
        self._schedule_origin = 0
        self._schedule_length = None

    def _check_continuable(self):
        """Refuse to continue training a network that the parameters no longer describe."""
        wanted = self._make_architecture(self.n_features_in_, warn=False)
        # Architectures saved before an entry existed lack it and were built with its
        # default, which is what the parameters that migrated with them ask for.
        changed = sorted(
            name for name in wanted if wanted[name] != self._architecture.get(name, wanted[name])
        )
        if self.loss not in ("auto", self.loss_):
            changed.append("loss")
        if self.output_activation not in ("auto", self.output_activation_):
            changed.append("output_activation")
        if changed:
            raise InputError(
                f"{type(self).__name__} was fitted with other values of "
                f"{', '.join(changed)} than it has now, so training cannot continue from "
                "the fitted network. Call fit with warm_start=False to train a new one, or "
                "set the parameters back."
            )

    def _resolve_loss(self, data):
        output_activation = self.output_activation
        loss = self.loss
        if loss == "auto":
            in_range = data.in_unit_range and output_activation in ("auto", "sigmoid")
            loss = "bce" if in_range else "mse"
        if output_activation == "auto":
            output_activation = "sigmoid" if loss == "bce" else "identity"
        if loss == "bce" and output_activation != "sigmoid":
            raise InputError(
                f"loss='bce' needs output_activation='sigmoid' (outputs in [0, 1]); got "
                f"output_activation={self.output_activation!r}. Pass "
                "output_activation='auto' or loss='mse'."
            )
        return loss, output_activation

    def _build_module(self):
        check_network_fits_in_memory(
            type(self)._parameter_count(**self._architecture),
            ", ".join(
                f"{name}={value!r}"
                for name, value in self._architecture.items()
                if name != "n_features" and not isinstance(value, str)
            )
            + f" for {self._architecture['n_features']} features",
        )
        # From a generator of its own: torch's global one is shared by every thread.
        generator = make_generator(self._seed, "cpu")
        module = type(self)._network_builder(**self._architecture, generator=generator)
        return module.to(self.device_)

    def _build_optimizer(self):
        return OPTIMIZERS[self.solver](
            self.module_.parameters(), float(self.learning_rate_init), float(self.alpha)
        )

    def _train(self, data, *, n_epochs, validate, rollback=None, max_time=None):
        if self.loss_ == "bce":
            check_bce_target(data.low, data.high)
        # Resolved at every call so that set_params(corruption__std=...) between
        # warm-started fits takes effect.
        self.corruption_ = make_corruption(self.corruption)
        self.corruption_.prepare(data.X)
        precision = resolve_matmul_precision(self.matmul_precision, self.device_)
        has_convolutions = any(
            isinstance(layer, torch.nn.modules.conv._ConvNd) for layer in self.module_.modules()
        )
        self.matmul_precision_ = measure_precision(
            precision, self.device_, convolutions=has_convolutions
        )
        if self.matmul_precision_ not in (precision, self.matmul_precision):
            warn(
                f"This fit asked for {precision} matrix products, but torch ran a probe "
                f"product in that mode at {self.matmul_precision_}: a process-wide switch "
                "of torch's (torch.backends.mkldnn.matmul.fp32_precision, "
                "torch.backends.cuda.matmul.fp32_precision, or for convolutions "
                "torch.backends.cudnn.conv.fp32_precision, TF32 by default on CUDA) "
                "changes them. matmul_precision_ says what ran; set that switch to 'ieee' "
                "for full float32 products.",
                PrecisionWarning,
            )
        budget = None if max_time is None else TimeBudget(max_time)
        tensors = prepare_data(
            data,
            self.device_,
            validation_fraction=self.validation_fraction if validate else None,
            corruption=self.corruption_,
            seed=self._seed,
        )
        settings = TrainingSettings(
            loss=self.loss_,
            corruption=self.corruption_,
            batch_size=self.batch_size,
            shuffle=self.shuffle,
            seed=self._seed,
            precision=precision,
            learning_rate=self._learning_rate(budget),
            schedule_origin=self._schedule_origin,
            max_grad_norm=None if self.max_grad_norm is None else float(self.max_grad_norm),
            time_budget=budget,
        )
        if validate and self.validation_scores_ is None:
            self.validation_scores_ = []
        stopper = EarlyStopping(self.n_iter_no_change, self.tol) if validate else None
        # With max_time, how many epochs the fit will run is not known.
        total = None if budget is not None else n_epochs
        progress = ProgressPrinter(self.verbose, None if total is None else self.n_iter_ + total)
        first_epoch = self.n_iter_ + 1
        tasks = EpochTasks(self, data.X, total)  # scikit-learn's callbacks, when set

        def callbacks_say_stop(result):
            if tasks.epoch_ends(result.loss):
                progress.note(f"A callback stopped the fit after epoch {result.epoch}.")
                return True
            return False

        try:
            fit_loop(
                self.module_,
                self._optimizer,
                tensors,
                settings,
                first_epoch=first_epoch,
                n_epochs=n_epochs,
                progress=progress,
                stopper=stopper,
                record=partial(self._record_epoch, stopper=stopper),
                on_epoch_start=tasks.epoch_begins,
                on_epoch_end=callbacks_say_stop,
                on_first_checkpoint=(
                    None if rollback is None else partial(rollback.keep_start, self.module_)
                ),
            )
        except _EpochInterrupted as interrupt:
            kept = self.n_iter_ >= first_epoch
            if kept:
                self._finish_training(stopper, budget, first_epoch)
                message = (
                    f"fit interrupted during epoch {interrupt.epoch}: the model keeps the "
                    f"{self.n_iter_ - first_epoch + 1} epoch(s) this call completed "
                    f"(n_iter_={self.n_iter_})."
                )
            else:
                message = (
                    f"fit interrupted during epoch {interrupt.epoch}, before completing "
                    "one: the estimator is left as it was before this call."
                )
            progress.note(message)
            raise FitInterrupted(message, model_kept=kept) from None
        self._finish_training(stopper, budget, first_epoch)
        if stopper is None:  # early stopping kept the best epoch's weights itself
            self._warn_if_ground_was_lost(
                first_epoch, last_cut_short=budget is not None and budget.cut_an_epoch
            )
        tasks.fit_ends()

    def _learning_rate(self, budget):
        """The rate at a position in epochs into the schedule in force, for this call."""
        initial = float(self.learning_rate_init)
        if budget is None:
            length = self._schedule_length or self.max_iter
            return partial(learning_rate_at, self.learning_rate_, initial=initial, n_epochs=length)

        return ScheduleWithinTime(
            self.learning_rate_, budget.fraction_spent, initial=initial, n_epochs=self.max_iter
        )

    def _warn_if_ground_was_lost(self, first_epoch, *, last_cut_short=False):
        """Warn when this call's loss rose and stayed up: the model it leaves is worse
        than one it had."""
        n_epochs = self.n_iter_ - first_epoch + 1
        losses = self.loss_curve_[len(self.loss_curve_) - n_epochs :]
        if last_cut_short:
            # An epoch that max_time cut short is the mean of a few batches, too noisy
            # to set against whole epochs.
            losses = losses[:-1]
        rise = lost_ground(losses, first_epoch)
        if rise is not None:
            warn(
                f"{rise} The model is worse than it was at that lowest epoch. Lower "
                "learning_rate_init, set max_grad_norm, or fit with early_stopping=True, "
                "which keeps the weights of the best epoch.",
                DivergenceWarning,
            )

    def _record_epoch(self, result, stopper=None):
        """Record a finished epoch, leaving every fitted attribute consistent: a model
        saved from a callback here loads (the best loss so far, not +inf)."""
        self.n_iter_ = result.epoch
        self.loss_curve_.append(result.loss)
        self.epoch_times_.append(result.seconds)
        if result.validation_loss is not None:
            self.validation_scores_.append(-result.validation_loss)
        if stopper is not None and stopper.best_epoch is not None:
            self.best_loss_, self.best_epoch_ = stopper.best_loss, stopper.best_epoch
        elif stopper is None:
            self.best_loss_, self.best_epoch_ = min(self.loss_curve_), result.epoch

    def _finish_training(self, stopper, budget, first_epoch):
        if stopper is not None and stopper.best_state is not None:
            load_state(self.module_, stopper.best_state)
            self.best_loss_, self.best_epoch_ = stopper.best_loss, stopper.best_epoch
        else:
            self.best_loss_ = min(self.loss_curve_)
            self.best_epoch_ = self.n_iter_
        if budget is not None:
            # The length in epochs that the schedule would have at the pace this fit
            # ran, so that partial_fit calls go on from where it left (at the floor when
            # the time ran out) rather than back up the cosine.
            n_epochs = self.n_iter_ - first_epoch + 1
            progress = min(1.0, max(n_epochs / self.max_iter, budget.fraction_spent()))
            self._schedule_length = max(1, round(n_epochs / progress))

    # ----------------------------------------------------------------- inference

    def transform(self, X):
        """Encode ``X`` into latent codes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        codes : ndarray of shape (n_samples, latent_dim)
            The codes, in the dtype of ``X`` (float32 or float64).
        """
        check_is_fitted(self)
        X = self._validate_X(X)
        return self._run_in_batches(self.module_.encode, X, self._code_width(), method="transform")

    def inverse_transform(self, X):
        """Decode latent codes back to input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, `n_features_in_`)
            The decoded data, in the dtype of the codes.
        """
        check_is_fitted(self)
        codes = check_array(X, dtype=[np.float32, np.float64])
        check_float32_range(codes, "the codes")
        width = self._code_width()
        if codes.shape[1] != width:
            raise InputError(
                f"inverse_transform expects codes of width {width}, as returned by "
                f"transform; got {codes.shape[1]} columns."
            )
        return self._run_in_batches(
            self.module_.decode, codes, self.n_features_in_, method="inverse_transform"
        )

    def predict(self, X):
        """Denoise ``X``: encode it, then decode the codes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Possibly noisy data.

        Returns
        -------
        X_denoised : ndarray of shape (n_samples, n_features)
            The reconstruction, in the dtype of ``X``.
        """
        check_is_fitted(self)
        X = self._validate_X(X)
        return self._run_in_batches(self.module_, X, self.n_features_in_, method="predict")

    def score(self, X, y=None):
        """Return the negated mean squared reconstruction error of ``X``.

        ``X`` is reconstructed without corruption and compared with itself, so higher
        is better and 0 is a perfect reconstruction. To measure denoising, compare
        ``predict(X_noisy)`` with the clean data instead. Missing values (NaN) are
        left out of the mean.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to reconstruct.

        y : None
            Ignored; present for API consistency.

        Returns
        -------
        score : float
            ``-mean((predict(X) - X) ** 2)`` over the observed values.
        """
        totals, counts = self._row_squared_errors(X)
        return -float(np.sum(totals) / np.sum(counts))

    def score_samples(self, X):
        """Return each row's negated mean squared reconstruction error.

        Higher means more typical of the training data, as for scikit-learn's outlier
        detectors (:meth:`sklearn.ensemble.IsolationForest.score_samples`): rank rows
        by it, or threshold it, to flag anomalies. Missing values are left out of each
        row's mean; a row with no observed value scores NaN.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``-mean((predict(X) - X) ** 2, axis=1)`` over each row's observed values.

        Examples
        --------
        >>> import numpy as np
        >>> from skdae import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).rand(200, 6) * 0.1 + 0.45  # tightly clustered
        >>> dae = DenoisingAutoencoder(latent_dim=2, hidden_layer_sizes=(8,), max_iter=50,
        ...                            random_state=0).fit(X)
        >>> outlier = np.ones((1, 6))
        >>> bool(dae.score_samples(outlier)[0] < dae.score_samples(X).min())
        True
        """
        totals, counts = self._row_squared_errors(X)
        with np.errstate(invalid="ignore", divide="ignore"):
            return -(totals / counts)

    def _row_squared_errors(self, X):
        """Each row's sum of ``(predict(X) - X) ** 2`` over its observed values, and
        their number, computed a block of rows at a time (float64 sums): never a
        dense copy of ``X`` or of its errors, so a sparse ``X`` is scored in memory that
        follows its nonzeros."""
        check_is_fitted(self)
        X = self._validate_X(X)
        totals = np.empty(X.shape[0], dtype=np.float64)
        counts = np.empty(X.shape[0], dtype=np.float64)

        def row_errors(rows, reconstruction):
            clean = X[rows].toarray() if is_sparse(X) else X[rows]
            errors = (reconstruction - clean) ** 2
            observed = ~np.isnan(errors)
            totals[rows] = np.sum(errors, axis=1, where=observed, dtype=np.float64)
            counts[rows] = observed.sum(axis=1)

        self._run_in_batches(self.module_, X, self.n_features_in_, consume=row_errors)
        return totals, counts

    def summary(self):
        """Describe the fitted network layer by layer.

        Returns
        -------
        summary : str
            A table with one row per dense layer (``DENSE 784 -> 256 [ReLU]``, the
            shapes of its weights and biases, its parameter count) and the total.

        Examples
        --------
        >>> import numpy as np
        >>> from skdae import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).rand(10, 8)
        >>> dae = DenoisingAutoencoder(latent_dim=2, hidden_layer_sizes=(4,), max_iter=1)
        >>> print(dae.fit(X).summary())
        part     layer                   weights  biases  parameters
        encoder  DENSE 8 -> 4 [ReLU]     (4, 8)   (4,)            36
        encoder  DENSE 4 -> 2 [ReLU]     (2, 4)   (2,)            10
        decoder  DENSE 2 -> 4 [ReLU]     (4, 2)   (4,)            12
        decoder  DENSE 4 -> 8 [Sigmoid]  (8, 4)   (8,)            40
        total                                                     98
        """
        check_is_fitted(self)
        return format_summary(summarize(self.module_))

    def _run_in_batches(self, fn, X, n_out, *, method=None, consume=None):
        """Apply ``fn`` block by block: numpy (or sparse) in, numpy out, no autograd,
        flat memory.

        Every block has the same number of rows, the last one padded with zeros, so each
        row goes through matrix products of one shape wherever it sits in ``X``. BLAS
        libraries choose their kernels (and so the order of the sums) by shape: without
        this, a row's output changed in the last bits with the rows that came with it.

        A sparse ``X`` is densified a block at a time. The output is refused before
        anything is computed when it would not fit in memory (``method`` names the
        public method in that error). With ``consume(rows, output_block)`` the blocks
        are handed to it instead and nothing is returned.
        """
        block = inference_block_rows(X.shape[1])
        sparse = is_sparse(X)
        out = None
        if consume is None:
            check_dense_result_fits(X.shape[0], n_out, X.dtype, method=method or "predict")
            out = np.empty((X.shape[0], n_out), dtype=X.dtype)
        has_missing = has_missing_values(X.data if sparse else X)
        self.module_.eval()
        # In float32, whatever precision a fit in this or another thread runs at.
        with torch.no_grad(), full_precision(self.device_):
            for rows in gen_batches(X.shape[0], block):
                check_interrupt()
                if sparse:
                    chunk = densify(X, rows, self.device_)
                else:
                    chunk = as_float32_tensor(X[rows], self.device_)
                if has_missing:  # presented as in training: masked entries
                    chunk = torch.nan_to_num(chunk, nan=MISSING_INPUT)
                n_rows = chunk.shape[0]
                if n_rows < block:
                    chunk = torch.cat([chunk, chunk.new_zeros((block - n_rows, chunk.shape[1]))])
                result = fn(chunk)[:n_rows].cpu().numpy()
                if consume is None:
                    out[rows] = result
                else:
                    consume(rows, result.astype(X.dtype, copy=False))
        return out

    @property
    def _n_features_out(self):
        # Read by ClassNamePrefixFeaturesOutMixin.get_feature_names_out.
        return self._code_width()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags

    # --------------------------------------------------------------- persistence

    def save(self, path, *, include_optimizer=True, key=None):
        """Save the fitted model to ``path`` in skdae's pickle-free format.

        The file is a `safetensors <https://huggingface.co/docs/safetensors>`_ file: the
        network's and the optimizer's tensors, and a JSON document of the parameters,
        fitted attributes and library versions. Loading it never runs code from the
        file and takes time and memory bounded by the file's size; damage is detected.
        ``joblib.dump`` still works for everything else (trusted files only).

        Parameters
        ----------
        path : str or path-like
            Where to write; the file is replaced atomically.

        include_optimizer : bool, default=True
            Store the optimizer's state, so that training continues exactly where it
            stopped. Without it the file is a third of the size and a loaded model
            continues with a fresh optimizer.

        key : str or bytes, default=None
            A secret to sign the file with (HMAC-SHA256). Whoever loads it with the
            same key knows that it was saved by someone holding the key and not
            changed since. Without a key, anyone can make a file that loads.

        Returns
        -------
        path : pathlib.Path
            The path written.

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from pathlib import Path
        >>> from skdae import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).rand(20, 6)
        >>> dae = DenoisingAutoencoder(latent_dim=2, hidden_layer_sizes=(4,), max_iter=1).fit(X)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = dae.save(Path(folder) / "dae.skdae", key="our team's secret")
        ...     loaded = DenoisingAutoencoder.load(path, key="our team's secret")
        >>> bool(np.array_equal(loaded.predict(X), dae.predict(X)))
        True
        """
        check_is_fitted(self)
        owner = _fits_in_progress.get(id(self))
        if owner is not None and owner != threading.get_ident():
            raise InputError(
                f"{type(self).__name__}.save was called while another thread is fitting "
                "this estimator, whose weights and curves change between any two of "
                "its lines. Save from a callback of that fit (its fitted_estimator), or "
                "after fit returns."
            )
        if not self.n_iter_:
            raise NotFittedError(
                f"This {type(self).__name__} has not completed an epoch of its first fit "
                "yet: there is no model to save. Save after the first epoch (a "
                "callback's on_fit_task_end) or after fit returns."
            )
        return save_model(self, path, include_optimizer=include_optimizer, key=key)

    @classmethod
    def load(cls, path, *, key=None):
        """Load a model written by :meth:`save` (or by skdae 0.1 to 0.3).

        Everything read from the file is checked before it is used: its sizes and
        structure, a digest that detects damage, the parameters (by the estimator's
        own validation), every fitted value, the shape of every tensor against the
        architecture, the optimizer's state against the network. Nothing in the file
        is executed. What this cannot tell is who made a file: weights chosen to
        mislead load like any others, unless the file is signed (``key``).

        Parameters
        ----------
        path : str or path-like
            A file written by :meth:`save`.

        key : str or bytes, default=None
            The secret the file was signed with; the file is refused unless it carries
            a valid signature under that key. None loads unsigned and signed files
            alike, without checking any signature.

        Returns
        -------
        estimator : object
            The fitted model, on ``device`` if available, else on the CPU (with a
            :class:`~skdae.exceptions.DeviceWarning`).

        Raises
        ------
        ModelFileError
            Whenever the file is not an intact skdae model file of this class: not
            one at all, truncated, damaged, altered so that a value is out of range or
            inconsistent, or (with ``key``) not signed with that key.
        """
        return load_estimator(cls, path, key=key)

    def __getstate__(self):
        # Parameters as they are, the fitted state as declared: CPU tensors, no module.
        state = {
            name: value
            for name, value in super().__getstate__().items()
            if name not in {field.name for field in self._fitted_fields} | {"device_"}
        }
        state["_fitted_state"] = self._get_fitted_state()
        state["_skdae_versions"] = library_versions()
        return state

    def __setstate__(self, state):
        state = dict(state)
        warn_on_version_mismatch(state.pop("_skdae_versions", {}), what="pickled model")
        if is_flat_pickle(state):
            state = from_flat_pickle(state, self._fitted_fields)
        fitted = state.pop("_fitted_state", None)
        super().__setstate__(with_old_parameters(type(self), state))
        if fitted is not None:
            self._set_fitted_state(fitted)
