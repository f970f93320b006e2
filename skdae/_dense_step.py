"""One training step of a DenseAutoencoder with its backward pass written out.

For a stack of dense layers the gradients are a few matrix products and element-wise
derivatives, all computable from the layers' outputs. Writing them out lets every
intermediate live in a buffer reused from batch to batch, with no autograd graph to
record and free: on MNIST (batch 128, 2 CPU threads) an epoch is about 10% faster than
through autograd. The results agree with autograd to float32 rounding (the tests hold
the gradients to it for every supported activation and loss).

With ``compute_dtype=torch.bfloat16`` the step runs its matrix products on bfloat16
copies of the weights and activations, made by the step itself for this call: the
precision travels with the tensors, and no process-wide switch is touched. The float32
weights (the master copy the optimizer updates), the gradients handed to the optimizer,
the loss and its gradient with respect to the logits stay float32.

Networks this does not cover (a GELU or ELU activation, an unexpected layer) are
trained through autograd by :class:`AutogradStep`, with the same interface; it applies
reduced precision through a thread-local :func:`torch.autocast`.
"""

import torch
import torch.nn.functional as F
from torch import nn

from skdae._sparse_layer import SparseBatch, first_layer_forward, first_layer_weight_grad

aten = torch.ops.aten


def _relu_backward(grad, out):
    aten.threshold_backward.grad_input(grad, out, 0, grad_input=grad)


def _leaky_relu_backward(slope):
    def backward(grad, out):
        aten.leaky_relu_backward.grad_input(grad, out, slope, True, grad_input=grad)

    return backward


def _tanh_backward(grad, out):
    aten.tanh_backward.grad_input(grad, out, grad_input=grad)


def _sigmoid_backward(grad, out):
    aten.sigmoid_backward.grad_input(grad, out, grad_input=grad)


def _activation(layer):
    """(forward in place, backward in place from the output), None for no activation,
    or False when ``layer`` is not one this step can differentiate by hand."""
    if layer is None or isinstance(layer, nn.Identity):
        return None
    if isinstance(layer, nn.ReLU):
        return torch.relu_, _relu_backward
    if isinstance(layer, nn.LeakyReLU) and layer.negative_slope > 0:
        slope = layer.negative_slope
        return (lambda z: F.leaky_relu_(z, slope)), _leaky_relu_backward(slope)
    if isinstance(layer, nn.Tanh):
        return torch.tanh_, _tanh_backward
    if isinstance(layer, nn.Sigmoid):
        return torch.sigmoid_, _sigmoid_backward
    return False


class AutogradStep:
    """Forward, loss and backward through autograd: any network, any loss function.

    With ``compute_dtype=torch.bfloat16`` the forward pass runs under a thread-local
    :func:`torch.autocast` to bfloat16; the loss is taken in float32.
    """

    def __init__(self, module, loss_fn, compute_dtype=torch.float32):
        self.module = module
        self.loss_fn = loss_fn
        self.parameters = list(module.parameters())
        self.compute_dtype = compute_dtype
        self._device_type = self.parameters[0].device.type if self.parameters else "cpu"
        # Autocast's cache of reduced weights (None: torch's setting); False for a step
        # captured in a CUDA graph.
        self.autocast_cache = None

    def __call__(self, inputs, target, weights=None):
        for parameter in self.parameters:
            parameter.grad = None
        with torch.autocast(
            self._device_type,
            dtype=torch.bfloat16,
            enabled=self.compute_dtype == torch.bfloat16,
            cache_enabled=self.autocast_cache,
        ):
            loss = self.loss_fn(self.module, inputs, target, weights)
        loss.backward()
        return loss.detach()


class DenseStep:
    """Forward, loss and backward of a dense stack by hand, into reused buffers.

    Call it with a batch of inputs and targets; it leaves the gradients in each
    parameter's ``.grad`` (overwritten, not accumulated) and returns the batch's mean
    loss as a 0-dim tensor. Inputs given as a
    :class:`~skdae._sparse_layer.SparseBatch` are multiplied sparse by the first layer,
    in float32 whatever ``compute_dtype``; ``sparse_batches`` counts them.
    """

    DEVICE_TYPES = ("cpu", "cuda")

    @classmethod
    def build(cls, module, loss, compute_dtype=torch.float32):
        """A DenseStep for ``module`` and ``loss`` ('bce' or 'mse') whose products run in
        ``compute_dtype`` (float32 or bfloat16), or None if the network or loss is
        outside what it differentiates by hand."""
        dense_layers = getattr(module, "dense_layers", None)
        layers = dense_layers() if dense_layers is not None else None
        if not layers:
            return None
        activations = [_activation(act) for _, act in layers]
        # The last layer gives the logits: its activation is the separate output one.
        if any(a is False for a in activations) or activations[-1] is not None:
            return None
        output_layer = module.output_activation
        if loss == "bce":
            if not isinstance(output_layer, nn.Sigmoid):
                return None
            output = None  # the loss takes the logits
        elif loss == "mse":
            output = _activation(output_layer)
            if output is False:
                return None
        else:
            return None
        device = layers[0][0].weight.device
        if device.type not in cls.DEVICE_TYPES:
            return None
        linears = [linear for linear, _ in layers]
        return cls(linears, activations, loss, output, compute_dtype)

    def __init__(self, linears, activations, loss, output, compute_dtype=torch.float32):
        self.linears = linears
        self.activations = activations
        self.loss = loss
        self.output = output
        self.compute_dtype = compute_dtype
        self._buffers = {}
        for linear in linears:
            for parameter in (linear.weight, linear.bias):
                if parameter.grad is None or parameter.grad.shape != parameter.shape:
                    parameter.grad = torch.zeros_like(parameter)
        self._reduced = compute_dtype != torch.float32
        self.sparse_batches = 0
        if self._reduced:
            self._low = _FlatCopies(linears, compute_dtype)

    def _buffers_for(self, inputs):
        """This batch size's buffers, made at its first batch (see :class:`_Buffers`)."""
        n = inputs.shape[0]
        if n not in self._buffers:
            self._buffers[n] = _Buffers(self, n, inputs.shape[1], inputs.device)
        return self._buffers[n]

    @torch.no_grad()
    def __call__(self, inputs, target, weights=None):
        """The batch's loss: the mean over all values, or with ``weights`` (one per value,
        summing to 1: missing values and sample weights) the weighted sum."""
        buffers = self._buffers_for(inputs)
        outputs, input_grads, grad = buffers.outputs, buffers.input_grads, buffers.grad
        activations = self.activations
        sparse = isinstance(inputs, SparseBatch)
        if sparse:
            self.sparse_batches += 1
        if self._reduced:
            low = self._low
            # A sparse first layer reads the float32 weight: no reduced copy of it.
            low.refresh(skip_first_weight=sparse)
            if not sparse:
                inputs = buffers.inputs.copy_(inputs)
            weights_, biases = low.weights, low.biases
        else:
            weights_ = [linear.weight for linear in self.linears]
            biases = [linear.bias for linear in self.linears]
        previous = inputs
        for weight, bias, activation, out in zip(
            weights_, biases, activations, outputs, strict=True
        ):
            if previous is inputs and sparse:
                # In float32 whatever the compute format: the sparse product costs
                # little, and float32 keeps it as exact as the rest of a float32 step.
                first = self.linears[0]
                first_layer_forward(inputs, first.weight, first.bias, out)
            else:
                torch.addmm(bias, previous, weight.t(), out=out)
            if activation is not None:
                activation[0](out)
            previous = out
        logits = outputs[-1] if not self._reduced else buffers.logits.copy_(outputs[-1])

        # grad: the loss's gradient with respect to the logits (mean over all values,
        # or the weighted sum), in float32 whatever the products ran in.
        reconstruction = buffers.reconstruction
        if self.loss == "bce":
            torch.sigmoid(logits, out=grad)
            grad.sub_(target)
            if weights is None:
                loss = F.binary_cross_entropy_with_logits(logits, target)
                grad.div_(target.numel())
            else:
                loss = F.binary_cross_entropy_with_logits(
                    logits, target, weight=weights, reduction="sum"
                )
                grad.mul_(weights)
        else:
            if self.output is None:
                reconstruction = logits
            else:
                self.output[0](reconstruction.copy_(logits))
            torch.sub(reconstruction, target, out=grad)
            if weights is None:
                loss = F.mse_loss(reconstruction, target)
                grad.mul_(2.0 / target.numel())
            else:
                loss = (grad.square() * weights).sum()
                grad.mul_(weights).mul_(2.0)
            if self.output is not None:
                self.output[1](grad, reconstruction)

        if self._reduced:
            grad = buffers.logit_grad.copy_(grad)
        for i in range(len(self.linears) - 1, -1, -1):
            linear = self.linears[i]
            layer_input = outputs[i - 1] if i else inputs
            if sparse and not i:
                pass  # after the others, in float32: see below
            elif self._reduced:
                torch.mm(grad.t(), layer_input, out=low.weight_grads[i])
            else:
                torch.mm(grad.t(), layer_input, out=linear.weight.grad)
                torch.sum(grad, 0, out=linear.bias.grad)
            if i:
                torch.mm(grad, weights_[i], out=input_grads[i])
                grad = input_grads[i]
                if activations[i - 1] is not None:
                    activations[i - 1][1](grad, layer_input)
        if self._reduced:
            low.hand_over_gradients(skip_first_weight=sparse)
            # The biases' gradients in float32 from the gradients kept in the buffers:
            # the logits' exactly, the other layers' from their outputs' gradients.
            torch.sum(buffers.grad, 0, out=self.linears[-1].bias.grad)
            for i in range(len(self.linears) - 1):
                torch.sum(input_grads[i + 1], 0, dtype=torch.float32, out=self.linears[i].bias.grad)
        if sparse:
            # grad: the gradient of the first layer's output.
            first = self.linears[0]
            first_layer_weight_grad(inputs, grad, first.weight.grad)
            if not self._reduced:
                torch.sum(grad, 0, out=first.bias.grad)
        return loss


class _FlatCopies:
    """The weights and biases of ``linears`` in a reduced format, and their gradients.

    The float32 parameters (and their gradients) are made views of one flat tensor each,
    so that bringing the reduced copy up to date after an optimizer step, and handing the
    reduced weight gradients back to the float32 ones, is one conversion each rather
    than one per tensor: per-tensor conversions cost the step more in dispatch than the
    bfloat16 products saved. The optimizer keeps its own state per parameter, as before.
    """

    def __init__(self, linears, dtype):
        self._linears, self._dtype = linears, dtype
        self.parameters = [p for linear in linears for p in (linear.weight, linear.bias)]
        self.master = _flatten_into_views(self.parameters)
        self.master_grad = torch.zeros_like(self.master)
        self.grad_views = _views_of(self.master_grad, self.parameters)
        self.low = torch.empty_like(self.master, dtype=dtype)
        views = _views_of(self.low, self.parameters)
        self.weights, self.biases = views[0::2], views[1::2]
        self.low_grad = torch.zeros_like(self.low)
        self.weight_grads = _views_of(self.low_grad, self.parameters)[0::2]

    def refresh(self, skip_first_weight=False):
        """Bring the reduced copy up to the float32 weights (after an optimizer step);
        all but the first layer's weight with ``skip_first_weight`` (it comes first)."""
        if self.parameters[0].data_ptr() != self.master.data_ptr():
            # Someone rebound the parameters (``module.to``, ``p.data = ...``): regroup.
            self.__init__(self._linears, self._dtype)
        start = self.parameters[0].numel() if skip_first_weight else 0
        self.low[start:].copy_(self.master[start:])

    def hand_over_gradients(self, skip_first_weight=False):
        """Convert the reduced weight gradients into the parameters' float32 ``.grad``
        (the biases' slots are overwritten by the caller); all but the first layer's
        weight's with ``skip_first_weight``."""
        for parameter, view in zip(self.parameters, self.grad_views, strict=True):
            if parameter.grad is not view:  # cleared or replaced since
                parameter.grad = view
        start = self.parameters[0].numel() if skip_first_weight else 0
        self.master_grad[start:].copy_(self.low_grad[start:])


def _views_of(flat, parameters):
    """Views of ``flat``, one shaped like each of ``parameters``, in order."""
    views, offset = [], 0
    for parameter in parameters:
        n = parameter.numel()
        views.append(flat[offset : offset + n].view(parameter.shape))
        offset += n
    return views


def _flatten_into_views(parameters):
    """One flat tensor holding the values of ``parameters``, which become views of it."""
    flat = torch.cat([p.detach().reshape(-1) for p in parameters])
    for parameter, view in zip(parameters, _views_of(flat, parameters), strict=True):
        parameter.data = view
    return flat


class _Buffers:
    """What one batch size's step writes, reused from batch to batch.

    ``outputs``: each layer's output; ``input_grads``: the gradient of each layer's input
    (none for the first: the data need none); ``grad``: the loss's gradient with respect
    to the logits; ``reconstruction``: the output activation's result (None without
    one). In the compute format: the outputs and input gradients; in float32: the rest.
    With a reduced compute format, also the batch's inputs in it (``inputs``), the
    float32 logits (``logits``) and the logit gradient in the compute format
    (``logit_grad``).
    """

    def __init__(self, step, n_rows, n_features, device):
        def empty(width, dtype=step.compute_dtype):
            return torch.empty((n_rows, width), dtype=dtype, device=device)

        n_outputs = step.linears[-1].out_features
        self.outputs = [empty(linear.out_features) for linear in step.linears]
        self.input_grads = [None] + [empty(linear.in_features) for linear in step.linears[1:]]
        self.grad = empty(n_outputs, torch.float32)
        self.reconstruction = empty(n_outputs, torch.float32) if step.output else None
        if step.compute_dtype != torch.float32:
            self.inputs = empty(n_features)
            self.logits = empty(n_outputs, torch.float32)
            self.logit_grad = empty(n_outputs)
