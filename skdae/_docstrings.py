"""Docstring sections that every skdae autoencoder shares, written once.

The estimators' docstrings hold ``%(training_parameters)s`` and
``%(fitted_attributes)s`` where these go, and :func:`fill` puts them in when the class
is defined, so that ``help()``, numpydoc and the API pages all read the whole text.
"""

TRAINING_PARAMETERS = """\
    output_activation : {'auto', 'sigmoid', 'identity', 'tanh'}, default='auto'
        Activation of the reconstruction. ``'auto'`` is ``'sigmoid'`` with the BCE loss
        and ``'identity'`` otherwise.

    loss : {'auto', 'bce', 'mse'}, default='auto'
        Reconstruction loss. ``'auto'`` picks binary cross-entropy when the training
        data at the first fit lie in [0, 1] (images) and mean squared error otherwise.
        ``'bce'`` needs a sigmoid output and clean data in [0, 1].

    corruption : {'gaussian', 'salt_and_pepper', 'masking', 'none'}, BaseCorruption \
or None, default='gaussian'
        How each training batch is corrupted. A string selects that corruption with its
        default parameters; pass an object such as ``GaussianNoise(std=0.4, clip=(0,
        1))`` to set them, and to let a grid search reach ``corruption__std``.
        ``None`` or ``'none'`` trains a plain autoencoder.

    solver : {'adam', 'adamw', 'sgd'}, default='adam'
        Optimizer. ``'sgd'`` uses Nesterov momentum 0.9.

    learning_rate : {'auto', 'cosine', 'constant'}, default='auto'
        Learning-rate schedule. ``'cosine'`` runs over the ``max_iter`` epochs: it
        warms up linearly over the first tenth of them (at most one epoch), peaks at
        ``learning_rate_init``, then decays along a half cosine to 1% of it by the last
        epoch. ``'constant'`` keeps ``learning_rate_init`` throughout. ``'auto'`` is
        ``'cosine'`` for :meth:`fit`, and ``'constant'`` for training that starts with
        :meth:`partial_fit`, whose number of calls the estimator cannot know (a cosine
        over ``max_iter`` calls would leave a long stream of chunks learning at 1%).
        With ``max_time`` the cosine runs over the time as well (see there).
        Each :meth:`fit` runs the whole schedule; each :meth:`partial_fit` call counts
        as one epoch of the schedule in force (``learning_rate_``), so calls after a fit
        go on at its floor, which suits fine-tuning.

    learning_rate_init : float, default=3e-3
        Peak learning rate of the optimizer (the rate itself when
        ``learning_rate='constant'``).

    alpha : float, default=0.0
        L2 penalty, passed to the optimizer as ``weight_decay`` (decoupled for
        ``'adamw'``).

    max_grad_norm : float or None, default=None
        Clip each step's gradient to this norm (over all the weights together, as
        :func:`torch.nn.utils.clip_grad_norm_` does) before the optimizer takes it.
        None: no clipping. It bounds what one batch with an outsized gradient can do to
        the weights and to the optimizer's running averages; set it a few times above
        the gradient norms of a healthy fit's steps. On a CUDA device a fit that clips
        runs eagerly, without CUDA graphs.

    batch_size : int, default=128
        Samples per training batch.

    max_iter : int, default=%(max_iter)d
        Number of epochs (passes over the data). Training runs all of them unless early
        stopping or ``max_time`` ends it sooner.

    max_time : float or None, default=None
        Seconds of training that :meth:`fit` may take, whatever the machine: no batch
        starts once they are spent (the last epoch may be cut short; with early
        stopping its validation loss is still computed), and the ``'cosine'`` schedule
        runs on whichever of ``max_iter`` and ``max_time`` runs out first, so that the
        rate reaches its floor as the time does. The clock runs inside the epochs, as
        ``epoch_times_`` counts them: not in the setup before the first nor in
        callbacks. None: no limit. With ``max_time``, how many epochs a fit runs
        depends on the machine's speed, so the model does too; ``max_iter`` still caps
        them (set it high to let the time decide). Each :meth:`partial_fit` call is
        one epoch, whatever ``max_time``. On a CUDA device a fit with ``max_time`` runs
        eagerly, without CUDA graphs: a small network's steps then take several times
        as long (see the user guide's "Training speed").

    shuffle : bool, default=True
        Whether to shuffle the samples in each epoch.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its loss has not
        improved by ``tol`` for ``n_iter_no_change`` epochs, and restore the weights of
        the best epoch. The validation inputs are corrupted once, so the validation
        loss is comparable from epoch to epoch.

    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping=True``.

    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.

    tol : float, default=1e-4
        Smallest decrease of the validation loss counted as an improvement.

    warm_start : bool, default=False
        If True, :meth:`fit` continues from the previous solution (weights, optimizer
        state, ``loss_curve_``) instead of starting afresh.

    device : str, default='auto'
        Torch device for training and inference: ``'auto'`` (CUDA when available, else
        CPU), ``'cpu'``, ``'cuda'`` or ``'cuda:N'``. The data are moved to the device
        once; batches and noise are made there.

    matmul_precision : {'auto', 'float32', 'bfloat16', 'tf32'}, default='auto'
        Precision of the matrix products and convolutions while training. Weights,
        gradients, the optimizer and the loss stay float32; ``'bfloat16'`` multiplies
        bfloat16 copies of the weights and activations, made for each training step
        (the hand-written dense step casts them itself, other networks run under a
        thread-local :func:`torch.autocast`). ``'auto'`` picks ``'bfloat16'`` where
        the libraries compute it natively (oneDNN's bfloat16 kernels on the CPU, as
        oneDNN reports them; CUDA devices with bfloat16) and ``'float32'`` elsewhere.
        ``'bfloat16'`` where it would only be emulated trains in float32 with a
        :class:`~skdae.exceptions.PrecisionWarning`. ``'tf32'`` exists in torch only
        as a process-wide switch, which skdae never sets: it trains with float32
        operands and a warning that says how to set the switch yourself. On MNIST the
        denoised PSNR after 50 epochs is within a few hundredths of a dB either way.
        :meth:`transform` and :meth:`predict` always run in float32. Nothing
        process-wide changes: another thread's fit or inference computes exactly as it
        would alone, and none waits for another.

    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the shuffling, the noise and the validation split. With an
        int, results on the CPU are reproducible bit for bit.

    verbose : int, default=0
        0 is silent; 1 prints one line per epoch (loss, validation loss, seconds);
        2 also shows a live sample counter within each epoch on stderr.
"""

FITTED_ATTRIBUTES = """\
    corruption_ : BaseCorruption
        The corruption used by the last call to :meth:`fit` or :meth:`partial_fit`.

    loss_ : {'bce', 'mse'}
        The resolved loss.

    output_activation_ : str
        The resolved output activation.

    device_ : torch.device
        Where the model lives.

    learning_rate_ : {'cosine', 'constant'}
        The schedule in force (``learning_rate`` resolved by the call that started it).

    matmul_precision_ : {'float32', 'bfloat16', 'tf32'}
        The precision the matrix products really ran at in the last call to
        :meth:`fit` or :meth:`partial_fit`: measured by a probe product in the fit's
        mode, so a process-wide torch switch set by the user shows up as what it does
        on this hardware (with a :class:`~skdae.exceptions.PrecisionWarning` when that
        is not what ``matmul_precision`` asked for).

    loss_curve_ : list of float
        Mean training loss of each epoch.

    validation_scores_ : list of float or None
        Negated validation loss of each epoch (higher is better, as in scikit-learn's
        MLP), or None when ``early_stopping=False``.

    best_loss_ : float
        The lowest validation loss with early stopping (the restored weights), else the
        lowest training loss.

    best_epoch_ : int
        The epoch whose weights the model holds after early stopping, else ``n_iter_``.

    n_iter_ : int
        Number of epochs trained so far.

    epoch_times_ : list of float
        Wall-clock seconds of each epoch.

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when ``X`` has string column names.
"""


def fill(*, max_iter):
    """Class decorator: put the shared sections, with the estimator's default of
    ``max_iter``, into the class docstring."""

    def decorate(cls):
        parameters = TRAINING_PARAMETERS.replace("%(max_iter)d", str(max_iter))
        cls.__doc__ = cls.__doc__.replace("%(training_parameters)s\n", parameters).replace(
            "%(fitted_attributes)s\n", FITTED_ATTRIBUTES
        )
        return cls

    return decorate
