import io

import torch

from skdae._training import EarlyStopping, ProgressPrinter


def test_early_stopping_counts_only_improvements_beyond_tol():
    module = torch.nn.Linear(2, 2)
    stopper = EarlyStopping(patience=2, tol=0.1)
    assert not stopper.update(1.0, module, 1)
    assert not stopper.update(0.95, module, 2)  # better, but not by more than tol
    assert stopper.best_epoch == 2 and stopper.best_loss == 0.95
    assert stopper.update(0.99, module, 3)  # second epoch without improvement


def test_early_stopping_snapshots_the_best_weights():
    module = torch.nn.Linear(2, 2)
    stopper = EarlyStopping(patience=5, tol=0.0)
    stopper.update(1.0, module, 1)
    best_weight = module.weight.detach().clone()
    with torch.no_grad():
        module.weight.add_(1.0)
    stopper.update(2.0, module, 2)
    assert torch.equal(stopper.best_state["weight"], best_weight)


def test_progress_line_format():
    stream = io.StringIO()
    printer = ProgressPrinter(verbose=1, total_epochs=50, stream=stream)
    printer.start_epoch()
    seconds = printer.end_epoch(7, 0.1234567, 0.2)
    assert seconds >= 0
    assert stream.getvalue().startswith("epoch  7/50  loss 0.123457  val_loss 0.200000  ")


def test_progress_of_a_fit_whose_length_is_not_known_counts_epochs_alone():
    stream = io.StringIO()
    printer = ProgressPrinter(verbose=1, total_epochs=None, stream=stream)
    printer.start_epoch()
    printer.end_epoch(12, 0.5)
    assert stream.getvalue().startswith("epoch 12  loss 0.500000  ")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_batch_counter_left_by_an_epoch_cut_short_is_wiped_before_the_next_line(
    monkeypatch,
):
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    printer = ProgressPrinter(verbose=2, total_epochs=None, stream=io.StringIO())
    printer.start_epoch()
    printer.batch_done(3, 10)  # the epoch stops here (max_time)
    assert terminal.getvalue().endswith("3/10 samples ( 30%)")
    printer.end_epoch(1, 0.5)
    assert terminal.getvalue().endswith("\r" + " " * 40 + "\r")


def test_progress_is_silent_at_verbose_0():
    stream = io.StringIO()
    printer = ProgressPrinter(verbose=0, total_epochs=5, stream=stream)
    printer.start_epoch()
    printer.end_epoch(1, 0.5)
    assert stream.getvalue() == ""


def test_flush_subnormal_state_zeroes_only_subnormals():
    from skdae._training import flush_subnormal_state

    param = torch.nn.Parameter(torch.zeros(4))
    optimizer = torch.optim.Adam([param])
    tiny = torch.finfo(torch.float32).tiny
    optimizer.state[param] = {
        "step": torch.tensor(3.0),
        "exp_avg": torch.tensor([tiny / 4, -tiny / 8, 1e-30, -2e-5]),
        "exp_avg_sq": torch.tensor([1e-40, 0.0, 1e-12, 3.0]),
    }
    flush_subnormal_state(optimizer)
    state = optimizer.state[param]
    assert state["exp_avg"].tolist() == [
        0.0,
        0.0,
        torch.tensor(1e-30).item(),
        torch.tensor(-2e-5).item(),
    ]
    assert state["exp_avg_sq"].tolist() == [0.0, 0.0, torch.tensor(1e-12).item(), 3.0]
    assert state["step"].item() == 3.0


def _train_with_a_unit_that_dies(flush):
    import skdae._training as training
    from skdae import IdentityCorruption
    from skdae._dense_network import build_autoencoder

    torch.manual_seed(0)
    module = build_autoencoder(
        6, (4,), 2, "relu", "sigmoid", generator=torch.Generator().manual_seed(0)
    )
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    X = torch.rand(4000, 6)

    step = training.make_training_step(module, "bce")

    def epoch(rows):
        training.train_one_epoch(
            module,
            optimizer,
            step,
            X[:rows],
            X_input=None,
            corruption=IdentityCorruption(),
            batch_size=2,
            generator=torch.Generator().manual_seed(0),
            shuffle=False,
        )

    epoch(20)  # 10 steps with every unit alive: Adam's moments are non-zero
    with torch.no_grad():  # kill hidden unit 0: from now on its gradients are zero
        module.encoder[0].weight[0] = -1.0
        module.encoder[0].bias[0] = -10.0
    original = training.flush_subnormal_state
    if not flush:
        training.flush_subnormal_state = lambda optimizer: None
    try:
        epoch(4000)  # 2,000 steps: 0.9 ** 2000 underflows far below float32's range
    finally:
        training.flush_subnormal_state = original
    tiny = torch.finfo(torch.float32).tiny
    return sum(
        int(((value != 0) & (value.abs() < tiny)).sum())
        for state in optimizer.state.values()
        for value in (state["exp_avg"], state["exp_avg_sq"])
    )


def test_training_leaves_no_subnormal_adam_state():
    """A dead unit's Adam moment would otherwise stick at the smallest subnormal."""
    assert _train_with_a_unit_that_dies(flush=False) > 0  # the problem is real
    assert _train_with_a_unit_that_dies(flush=True) == 0
