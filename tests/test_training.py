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


def test_progress_is_silent_at_verbose_0():
    stream = io.StringIO()
    printer = ProgressPrinter(verbose=0, total_epochs=5, stream=stream)
    printer.start_epoch()
    printer.end_epoch(1, 0.5)
    assert stream.getvalue() == ""
