"""Training epochs on a CUDA device, replayed from captured CUDA graphs.

An eager training step of the dense default network (MNIST, batch 128) is about fifty
small kernels, each launched from Python: about 1 ms a step on an H200, nearly all of
it launching. Here a fit captures its steps once as CUDA graphs and replays them, so
an epoch costs the GPU's own time and a few launches from the host:

- a *chunk* graph of :data:`CHUNK_STEPS` whole batches, replayed for each chunk of the
  epoch after the chunk's row indices and learning rates are copied into its static
  buffers (two copies on the device), and a *tail* graph for the batches after the
  last whole chunk, the ragged last batch included, which reads the epoch's own
  buffers;
- a step is what :func:`skdae._training.train_one_epoch` does for a batch: the rows
  gathered on the device, corrupted with numbers drawn from the epoch's generator
  (registered with the graphs, so that every replay draws fresh numbers, the ones the
  eager path draws), the training step, the loss summed on the device, and the fused
  Adam step, which reads its rate from device memory: the schedule's rate for each
  batch, computed on the host once per epoch;
- the epoch's permutation is drawn on the device from the same generator before the
  first step, as the eager path draws it. The host synchronises once per epoch, when
  the fit loop reads the loss.

Before the first capture a few steps run eagerly on the capture stream, so that the
libraries' handles, workspaces and plans exist and the optimizer has its state, and
are then undone (weights, buffers and optimizer state copied back in place): the fit
trains exactly the steps the eager path would. The graphs are captured again if
something rebinds the weights or the optimizer's state between epochs.

The hand-written dense step runs as :class:`StreamedDenseStep`: the loss value and
the weight gradients go to two side streams (branches of the graph that run beside
the chain of input gradients), and ReLU layers take their activation in the matrix
product's epilogue. Adam's step is torch's fused kernel given the parameters in pieces
(:func:`split_fused_adam_step`), which fills the GPU where whole parameters did not.
On an H200 (benchmarks/GPU.md) the default dense step took 1112 microseconds eagerly,
189 in plain graphs, 114 with these three (151 without the pieces, 146 on one stream,
121 without the epilogue).

What differs from the eager path, at rounding level: the rate reaches Adam as a
float32 on the device rather than a Python float, and Adam's subnormal moments are
not flushed every 25 batches (a fix for x86 CPUs, where subnormal arithmetic is
slow; GPUs compute them at full speed). Where capture is not possible the eager path
runs, unchanged: on other devices, with batch progress drawn between batches
(``verbose >= 2``), for sparse rows, for an optimizer other than fused Adam or AdamW,
for a corruption of the user's own (it may need the host), for fits too short to
repay the capture, and, with a :class:`~skdae.exceptions.DeviceWarning`, where a
capture fails.
"""

import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from skdae._corruption import (
    Compose,
    GaussianNoise,
    IdentityCorruption,
    MaskingNoise,
    SaltAndPepperNoise,
    SwapNoise,
)
from skdae._dense_step import AutogradStep, DenseStep
from skdae._interrupts import check_interrupt
from skdae._warnings import warn
from skdae.exceptions import DeviceWarning

# Private switches, for benchmarks and tests: the graphs at all, the side streams and
# the ReLU epilogue of the dense step, and how many steps of a whole fit (in units of
# the steps captured and warmed up) make capturing worth it.
ENABLED = True
SIDE_STREAMS = True
FUSE_RELU = True
SPLIT_ADAM = True
MIN_STEPS_PER_CAPTURED_STEP = 2

# Batches per chunk graph: the host launches one graph per this many steps.
CHUNK_STEPS = 25
# Eager steps before the first capture (then undone): for whole batches and the ragged one.
WARMUP_STEPS = 2

# Corruptions known to run on the device alone (no host synchronisation).
_DEVICE_ONLY_CORRUPTIONS = (
    IdentityCorruption,
    GaussianNoise,
    SwapNoise,
    SaltAndPepperNoise,
    MaskingNoise,
)

# What the last fit did, for benchmarks and tests: whether graphs ran, why not, how
# many steps were captured and how long the warm-up and the capture took.
last_fit = {}


@dataclass(frozen=True)
class EpochPlan:
    """How an epoch of ``n_samples`` rows in batches of ``batch_size`` is cut into
    graphs: ``n_chunks`` chunks of ``chunk_steps`` whole batches, then the tail (from
    batch ``tail_start`` to the end, the ragged batch included)."""

    n_samples: int
    batch_size: int
    chunk_steps: int = CHUNK_STEPS

    @property
    def n_batches(self):
        return -(-self.n_samples // self.batch_size)

    @property
    def n_chunks(self):
        return (self.n_samples // self.batch_size) // self.chunk_steps

    @property
    def tail_start(self):
        return self.n_chunks * self.chunk_steps

    def batch_rows(self, batch):
        """``(start, stop)`` of batch number ``batch`` (from 0) in the epoch's order."""
        start = batch * self.batch_size
        return start, min(start + self.batch_size, self.n_samples)

    def fractions(self):
        """The fraction of the epoch done after each batch (what the schedule reads)."""
        return [self.batch_rows(b)[1] / self.n_samples for b in range(self.n_batches)]

    def batch_sizes(self):
        """The distinct batch sizes of an epoch, the whole one first."""
        sizes = [self.batch_size] if self.n_samples >= self.batch_size else []
        if self.n_samples % self.batch_size:
            sizes.append(self.n_samples % self.batch_size)
        return sizes

    def captured_steps(self):
        """Steps the graphs hold: one chunk (if any) and the tail."""
        return (self.chunk_steps if self.n_chunks else 0) + self.n_batches - self.tail_start


def unsupported(module, optimizer, step, data, settings, *, n_epochs, on_batch):
    """Why this fit cannot (or should not) replay CUDA graphs, or None if it can."""
    if not ENABLED:
        return "CUDA graphs are switched off"
    tensors = (data.target, data.inputs, data.observed, data.sample_weight)
    if not all(t is None or isinstance(t, torch.Tensor) for t in tensors):
        return "the rows are not dense tensors"
    if data.target.device.type != "cuda" or not torch.cuda.is_available():
        return "not a CUDA device"
    return why_not_capture(optimizer, step, data, settings, n_epochs=n_epochs, on_batch=on_batch)


def why_not_capture(optimizer, step, data, settings, *, n_epochs, on_batch):
    """Why a fit on a CUDA device cannot (or should not) replay graphs, or None."""
    if on_batch is not None:
        return "batch progress (verbose >= 2) is drawn between batches"
    if settings.max_grad_norm is not None:
        return "gradient clipping (max_grad_norm) runs eagerly"
    if settings.time_budget is not None:
        # Graphs replay whole chunks of an epoch at rates fixed before it starts; a time
        # budget sets the rate and may stop the fit at any batch.
        return "a time limit (max_time) is checked between batches"
    if type(optimizer) not in (torch.optim.Adam, torch.optim.AdamW) or not all(
        group.get("fused") and not group.get("differentiable") for group in optimizer.param_groups
    ):
        return "the optimizer is not torch's fused Adam or AdamW"
    if data.inputs is None and not _device_only(settings.corruption):
        return "a corruption of the user's own may need the host"
    if not isinstance(step, (DenseStep, AutogradStep)):
        return "an unknown training step"
    plan = EpochPlan(data.target.shape[0], settings.batch_size)
    captured = plan.captured_steps() + WARMUP_STEPS * len(plan.batch_sizes())
    if n_epochs * plan.n_batches < MIN_STEPS_PER_CAPTURED_STEP * captured:
        return "the fit is too short to repay the capture"
    return None


def _device_only(corruption):
    if type(corruption) is Compose:
        return all(_device_only(part) for part in corruption.corruptions)
    return type(corruption) in _DEVICE_ONLY_CORRUPTIONS


def graphed_epochs(module, optimizer, step, data, settings, *, n_epochs, on_batch):
    """A :class:`GraphedEpochs` for this fit, or None where the eager path must run."""
    reason = unsupported(
        module, optimizer, step, data, settings, n_epochs=n_epochs, on_batch=on_batch
    )
    last_fit.clear()
    last_fit.update(used=reason is None, reason=reason)
    if reason is not None:
        return None
    return GraphedEpochs(module, optimizer, step, data, settings)


class GraphedEpochs:
    """The epochs of one fit, run from CUDA graphs captured at the first epoch.

    ``capture=False`` runs the same steps eagerly from the same static buffers, on any
    device: what the tests compare with the eager path on the CPU.
    """

    def __init__(self, module, optimizer, step, data, settings, *, capture=True):
        self.module, self.optimizer, self.data, self.settings = module, optimizer, data, settings
        self.capture = capture
        self.device = device = data.target.device
        self.plan = plan = EpochPlan(data.target.shape[0], settings.batch_size)
        if isinstance(step, DenseStep):
            step = StreamedDenseStep(step, side_streams=SIDE_STREAMS, fuse_relu=FUSE_RELU)
        else:
            step.autocast_cache = False  # autocast's weight cache cannot live in a graph
        self.step = step
        # The fused CUDA kernel reads a float32 rate; the CPU's reads a double.
        rate_dtype = torch.float32 if device.type == "cuda" else torch.float64
        self.generator = torch.Generator(device=device)
        self.order = torch.arange(plan.n_samples, device=device)
        self.rates = torch.zeros(plan.n_batches, dtype=rate_dtype, device=device)
        self.chunk_rows = torch.zeros(
            plan.chunk_steps * plan.batch_size, dtype=torch.int64, device=device
        )
        self.chunk_rates = torch.zeros(plan.chunk_steps, dtype=rate_dtype, device=device)
        self.total = torch.zeros((), dtype=torch.float64, device=device)
        self.mass = torch.zeros((), dtype=torch.float64, device=device)
        self.weighted = data.observed is not None or data.sample_weight is not None
        self._chunk = self._tail = None
        self._signature = None
        self._graphs = []
        self.failed = False

    # ---------------------------------------------------------------- an epoch

    def train_epoch(self, epoch, rate):
        """Train epoch ``epoch`` (``rate(fraction)``: the schedule within it) and return
        its mean loss, or None when the graphs could not be made: then the caller runs
        the epoch eagerly (and every later one: :attr:`failed` stays set)."""
        if self.failed:
            return None
        self.module.train()
        plan, optimizer = self.plan, self.optimizer
        rates = [rate(fraction) for fraction in plan.fractions()]
        if self._signature is None or self._signature != self._state_signature():
            try:
                self._prepare()
            except Exception as error:  # noqa: BLE001 - any failure: train eagerly
                self._give_up(error)
                return None
        self.generator.manual_seed(self.settings.seed + epoch)
        if self.settings.shuffle:
            torch.randperm(
                plan.n_samples, generator=self.generator, device=self.device, out=self.order
            )
        self.rates.copy_(torch.tensor(rates, dtype=self.rates.dtype))
        self.total.zero_()
        self.mass.zero_()
        rows_per_chunk = plan.chunk_steps * plan.batch_size
        for chunk in range(plan.n_chunks):
            check_interrupt()
            self.chunk_rows.copy_(self.order[chunk * rows_per_chunk : (chunk + 1) * rows_per_chunk])
            first = chunk * plan.chunk_steps
            self.chunk_rates.copy_(self.rates[first : first + plan.chunk_steps])
            self._chunk()
        if self._tail is not None:
            check_interrupt()
            self._tail()
        for group in optimizer.param_groups:
            group["lr"] = rates[-1]  # where the eager path leaves it
        if self.weighted:
            return float(self.total) / max(float(self.mass), 1e-30)
        return float(self.total) / plan.n_samples

    def _give_up(self, error):
        self.failed = True
        self._chunk = self._tail = None
        self._graphs = []
        last_fit.update(used=False, reason=f"capture failed: {error!r}")
        warn(
            f"skdae could not capture this fit's training steps as CUDA graphs "
            f"({type(error).__name__}: {error}); it trains them one by one, as fast as "
            "before this feature, with the same results.",
            DeviceWarning,
        )

    # ------------------------------------------------------------ one step

    def _train_step(self, rows, rate, n_rows, generator):
        """One batch, as train_one_epoch takes it, from device tensors only."""
        from skdae._training import MISSING_INPUT

        data, step = self.data, self.step
        target = torch.index_select(data.target, 0, rows)
        observed = None
        with torch.no_grad():
            if data.inputs is None:
                inputs = self.settings.corruption.corrupt_tensor(target, generator)
            else:
                inputs = torch.index_select(data.inputs, 0, rows)
            if data.observed is not None:
                observed = torch.index_select(data.observed, 0, rows)
                inputs = torch.where(observed, inputs, MISSING_INPUT)
        for group in self.optimizer.param_groups:
            group["lr"] = rate
        if not self.weighted:
            loss = step(inputs, target)
            with _on_loss_stream(step):
                self.total.add_(loss, alpha=n_rows)
        else:
            weights = torch.ones_like(target) if observed is None else observed.to(target.dtype)
            if data.sample_weight is not None:
                weights = weights * torch.index_select(data.sample_weight, 0, rows)[:, None]
            batch_mass = weights.sum()
            # Kept until the step is joined: a side stream may still read it.
            scaled = weights / batch_mass.clamp_min(1e-30)
            loss = step(inputs, target, scaled)
            with _on_loss_stream(step):
                self.total.add_(loss * batch_mass)
                self.mass.add_(batch_mass)
        if not (SPLIT_ADAM and split_fused_adam_step(self.optimizer)):
            self.optimizer.step()
        if isinstance(step, StreamedDenseStep):
            step.join()

    def _run(self, steps, generator=None):
        for rows, rate, n_rows in steps:
            self._train_step(rows, rate, n_rows, generator or self.generator)

    # ------------------------------------------------------------ capture

    def _units(self):
        """The steps of the chunk graph and of the tail graph: (rows, rate, n_rows)."""
        plan = self.plan
        size = plan.batch_size
        chunk = [
            (self.chunk_rows[i * size : (i + 1) * size], self.chunk_rates[i], size)
            for i in range(plan.chunk_steps)
        ]
        tail = []
        for batch in range(plan.tail_start, plan.n_batches):
            start, stop = plan.batch_rows(batch)
            tail.append((self.order[start:stop], self.rates[batch], stop - start))
        return (chunk if plan.n_chunks else None), (tail or None)

    def _prepare(self):
        started = time.perf_counter()
        self._chunk = self._tail = None
        self._graphs = []
        chunk, tail = self._units()
        if not self.capture:
            self._warm_up()
            self._chunk = None if chunk is None else (lambda: self._run(chunk))
            self._tail = None if tail is None else (lambda: self._run(tail))
        else:
            current = torch.cuda.current_stream(self.device)
            stream = _streams(self.device)[0]
            torch.cuda.synchronize(self.device)
            stream.wait_stream(current)
            with torch.cuda.device(self.device), torch.cuda.stream(stream):
                self._warm_up()
                self._chunk = None if chunk is None else self._capture(chunk)
                self._tail = None if tail is None else self._capture(tail)
            current.wait_stream(stream)
        self._signature = self._state_signature()
        last_fit.update(
            capture_seconds=last_fit.get("capture_seconds", 0.0) + time.perf_counter() - started,
            captured_steps=len(chunk or ()) + len(tail or ()),
            graphs=len(self._graphs),
        )

    def _capture(self, steps):
        graph = torch.cuda.CUDAGraph()
        graph.register_generator_state(self.generator)
        groups = self.optimizer.param_groups
        capturable = [group["capturable"] for group in groups]
        rates = [group["lr"] for group in groups]
        for group in groups:
            group["capturable"] = True
        try:
            # thread_local: another thread's work (a prediction served meanwhile) does
            # not break this capture.
            graph.capture_begin(capture_error_mode="thread_local")
            try:
                self._run(steps)
            except BaseException:
                try:
                    graph.capture_end()
                except Exception:  # noqa: BLE001, S110 - the first error is the one to tell
                    pass
                raise
            graph.capture_end()
        finally:
            for group, flag, rate in zip(groups, capturable, rates, strict=True):
                group["capturable"], group["lr"] = flag, rate
        self._graphs.append(graph)
        return graph.replay

    def _warm_up(self):
        """A few real steps of each batch size, then undone in place."""
        module, optimizer, plan = self.module, self.optimizer, self.plan
        saved_module = [t.clone() for t in module.state_dict().values()]
        saved_state = {
            parameter: {k: v.clone() for k, v in state.items() if isinstance(v, torch.Tensor)}
            for parameter, state in optimizer.state.items()
        }
        rates = [group["lr"] for group in optimizer.param_groups]
        scratch = torch.Generator(device=self.device).manual_seed(0)
        try:
            for size in plan.batch_sizes():
                rows = self.order[plan.n_samples - size :]
                self._run([(rows, self.rates[0], size)] * WARMUP_STEPS, scratch)
        finally:
            self._restore(saved_module, saved_state, rates)

    @torch.no_grad()
    def _restore(self, saved_module, saved_state, rates):
        module, optimizer = self.module, self.optimizer
        for tensor, saved in zip(module.state_dict().values(), saved_module, strict=True):
            tensor.copy_(saved)
        for parameter, state in optimizer.state.items():
            saved = saved_state.get(parameter, {})
            for key, value in state.items():
                if isinstance(value, torch.Tensor):
                    # A state made by the warm-up is a fresh one: Adam's is zeros.
                    value.copy_(saved[key]) if key in saved else value.zero_()
        for group, rate in zip(optimizer.param_groups, rates, strict=True):
            group["lr"] = rate
        self.total.zero_()
        self.mass.zero_()

    def _state_signature(self):
        """Where the weights and the optimizer's state live, and its constants: what
        the graphs hold, so that a change means capturing again."""
        tensors = list(self.module.state_dict().values())
        for state in self.optimizer.state.values():
            tensors += [v for v in state.values() if isinstance(v, torch.Tensor)]
        constants = [
            (
                tuple(group["betas"]),
                group["eps"],
                group["weight_decay"],
                group.get("amsgrad"),
                group.get("maximize"),
                tuple(p.data_ptr() for p in group["params"]),
            )
            for group in self.optimizer.param_groups
        ]
        return tuple(t.data_ptr() for t in tensors), tuple(constants), self.module.training


_THREAD = threading.local()


def _streams(device):
    """This thread's capture stream and two side streams on ``device``, made once.

    cuBLAS keeps a workspace (32 MiB on Hopper) for each stream it has run on, for the
    life of the process: streams made afresh for every fit added 64 MiB a fit.
    """
    cache = _THREAD.__dict__.setdefault("streams", {})
    if device not in cache:
        cache[device] = tuple(torch.cuda.Stream(device) for _ in range(3))
    return cache[device]


# Pieces per parameter group that torch's fused Adam kernel is given (see below).
ADAM_PIECES = 128
_MIN_PIECE, _MAX_PIECE = 2048, 65536


@torch.no_grad()
def split_fused_adam_step(optimizer):
    """Take a fused Adam or AdamW step of ``optimizer`` as torch does, but hand the
    kernel each parameter cut into pieces; return False (nothing done) when a
    parameter has no state yet (its first step: ``optimizer.step()`` makes it).

    torch's kernel gives each block of 512 threads a chunk of 65536 values, so the
    default network's 470k parameters kept 8 to 14 of the H200's 132 multiprocessors
    busy: 71 microseconds a step, half the step. Pieces of a few thousand values make
    a block each; the arithmetic on each value is the same, so are the results.
    """
    decoupled_default = isinstance(optimizer, torch.optim.AdamW)
    for group in optimizer.param_groups:
        if any(p.grad is not None and not optimizer.state.get(p) for p in group["params"]):
            return False
    for group in optimizer.param_groups:
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            continue
        amsgrad = group["amsgrad"]
        states = [optimizer.state[p] for p in params]
        steps = [state["step"] for state in states]
        torch._foreach_add_(steps, 1)
        total = sum(p.numel() for p in params)
        size = -(-total // ADAM_PIECES)
        size = min(max(-(-size // _MIN_PIECE) * _MIN_PIECE, _MIN_PIECE), _MAX_PIECE)
        lists = [[] for _ in range(5 if amsgrad else 4)]
        piece_steps = []
        for parameter, state, step in zip(params, states, steps, strict=True):
            tensors = [parameter, parameter.grad, state["exp_avg"], state["exp_avg_sq"]]
            if amsgrad:
                tensors.append(state["max_exp_avg_sq"])
            flat = _memory_order_views(tensors) if parameter.numel() > size else None
            pieces = [t.split(size) for t in flat] if flat else [[t] for t in tensors]
            for column, tensor_pieces in zip(lists, pieces, strict=True):
                column.extend(tensor_pieces)
            piece_steps += [step] * len(pieces[0])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        decoupled = group.get("decoupled_weight_decay", decoupled_default)
        kernel = torch._fused_adamw_ if decoupled else torch._fused_adam_
        kernel(
            lists[0],
            lists[1],
            lists[2],
            lists[3],
            lists[4] if amsgrad else [],
            piece_steps,
            amsgrad=amsgrad,
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=group["maximize"],
            grad_scale=None,
            found_inf=None,
        )
    return True


def _memory_order_views(tensors):
    """1-D views of ``tensors`` (alike in shape and strides) in their memory order, or
    None where they are not laid out alike and densely."""
    first = tensors[0]
    if any(t.shape != first.shape or t.stride() != first.stride() for t in tensors[1:]):
        return None
    order = sorted(range(first.dim()), key=lambda d: first.stride(d), reverse=True)
    try:
        return [t.permute(order).view(-1) for t in tensors]
    except RuntimeError:
        return None


def _on_loss_stream(step):
    return step.on_loss_stream() if isinstance(step, StreamedDenseStep) else nullcontext()


def _fork(stream):
    """Run what follows on ``stream`` (None: where it is), after all that the current
    stream has been given so far."""
    if stream is None:
        return nullcontext()
    stream.wait_stream(torch.cuda.current_stream(stream.device))
    return torch.cuda.stream(stream)


def _join(stream):
    """Make the current stream wait for everything given to ``stream`` so far."""
    if stream is not None:
        torch.cuda.current_stream(stream.device).wait_stream(stream)


class StreamedDenseStep(DenseStep):
    """:class:`~skdae._dense_step.DenseStep` with its work spread over streams.

    The chain that each step waits for runs where it is called: the forward pass, the
    loss's gradient and the input gradients layer by layer. The weight and bias
    gradients of each layer go to ``grad_stream`` as soon as that layer's output
    gradient is known, and the loss value to ``loss_stream``; inside a CUDA graph
    these are branches that run beside the chain. ReLU layers take their activation
    in the product's epilogue (``torch._addmm_activation``, cuBLASLt on CUDA) when
    ``fuse_relu``. Every value is computed by the same operations as DenseStep's, so
    on the CPU (no streams) the two agree exactly.

    The caller adds the returned loss up under :meth:`on_loss_stream` and calls
    :meth:`join` once the batch is done (after the optimizer's step).
    """

    def __init__(self, step, *, side_streams=True, fuse_relu=True):
        self.__dict__.update(step.__dict__)
        device = self.linears[0].weight.device
        streams = _streams(device)[1:] if side_streams and device.type == "cuda" else (None, None)
        self.grad_stream, self.loss_stream = streams
        self.fuse_relu = fuse_relu
        if self._reduced:
            # The biases' float32 gradients, summed beside the chain and copied into
            # place once the weights' gradients have been handed over.
            self._bias_sums = [
                torch.zeros(linear.out_features, dtype=torch.float32, device=device)
                for linear in self.linears
            ]

    def on_loss_stream(self):
        """Where to use the returned loss: the stream it was computed on."""
        return nullcontext() if self.loss_stream is None else torch.cuda.stream(self.loss_stream)

    def join(self):
        """Wait (on the device) for the loss stream's work of this batch."""
        _join(self.loss_stream)

    @torch.no_grad()
    def __call__(self, inputs, target, weights=None):
        buffers = self._buffers_for(inputs)
        outputs, input_grads = buffers.outputs, buffers.input_grads
        activations, n_layers, reduced = self.activations, len(self.linears), self._reduced
        if reduced:
            low = self._low
            low.refresh()
            inputs = buffers.inputs.copy_(inputs)
            weights_, biases = low.weights, low.biases
        else:
            weights_ = [linear.weight for linear in self.linears]
            biases = [linear.bias for linear in self.linears]
        previous = inputs
        for weight, bias, activation, out in zip(
            weights_, biases, activations, outputs, strict=True
        ):
            if activation is not None and self.fuse_relu and activation[0] is torch.relu_:
                torch._addmm_activation(bias, previous, weight.t(), out=out)
            else:
                torch.addmm(bias, previous, weight.t(), out=out)
                if activation is not None:
                    activation[0](out)
            previous = out
        logits = outputs[-1] if not reduced else buffers.logits.copy_(outputs[-1])
        loss = self._loss_and_gradient(logits, target, weights, buffers)

        grad = buffers.logit_grad.copy_(buffers.grad) if reduced else buffers.grad
        bias_grads = self._bias_sums if reduced else [linear.bias.grad for linear in self.linears]
        for i in range(n_layers - 1, -1, -1):
            layer_input = outputs[i - 1] if i else inputs
            with _fork(self.grad_stream):
                if reduced:
                    torch.mm(grad.t(), layer_input, out=low.weight_grads[i])
                    # The logits' bias gradient from the float32 gradient, the others
                    # from their outputs' gradients, summed in float32.
                    if i == n_layers - 1:
                        torch.sum(buffers.grad, 0, out=bias_grads[i])
                    else:
                        torch.sum(grad, 0, dtype=torch.float32, out=bias_grads[i])
                else:
                    torch.mm(grad.t(), layer_input, out=self.linears[i].weight.grad)
                    torch.sum(grad, 0, out=bias_grads[i])
            if i:
                torch.mm(grad, weights_[i], out=input_grads[i])
                grad = input_grads[i]
                if activations[i - 1] is not None:
                    activations[i - 1][1](grad, layer_input)
        if reduced:
            with nullcontext() if self.grad_stream is None else torch.cuda.stream(self.grad_stream):
                low.hand_over_gradients()
                torch._foreach_copy_([linear.bias.grad for linear in self.linears], bias_grads)
        _join(self.grad_stream)
        return loss

    def _loss_and_gradient(self, logits, target, weights, buffers):
        """The batch's loss (on the loss stream) and, in ``buffers.grad``, its gradient
        with respect to the logits, as DenseStep computes them."""
        grad = buffers.grad
        if self.loss == "bce":
            torch.sigmoid(logits, out=grad)
            grad.sub_(target)
            with _fork(self.loss_stream):
                if weights is None:
                    loss = F.binary_cross_entropy_with_logits(logits, target)
                else:
                    loss = F.binary_cross_entropy_with_logits(
                        logits, target, weight=weights, reduction="sum"
                    )
            if weights is None:
                grad.div_(target.numel())
            else:
                grad.mul_(weights)
            return loss
        reconstruction = buffers.reconstruction
        if self.output is None:
            reconstruction = logits
        else:
            self.output[0](reconstruction.copy_(logits))
        torch.sub(reconstruction, target, out=grad)
        with _fork(self.loss_stream):
            if weights is None:
                loss = F.mse_loss(reconstruction, target)
            else:
                loss = (grad.square() * weights).sum()
        if weights is None:
            grad.mul_(2.0 / target.numel())
        else:
            _join(self.loss_stream)  # that loss reads grad, scaled in place next
            grad.mul_(weights).mul_(2.0)
        if self.output is not None:
            self.output[1](grad, reconstruction)
        return loss
