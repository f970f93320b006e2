"""The inference of a fitted skdae network, written out as ONNX nodes.

This module knows skdae's networks and ONNX's operators, but no converter framework:
it writes through a small *writer* (:class:`skdae.onnx` adapts skl2onnx's scope and
container to it), so it imports neither onnx nor skl2onnx and the rules of the graph
live in one place. A writer has

- ``constant(array, hint)``: an initializer holding ``array``; returns its name;
- ``node(op_type, inputs, hint, **attributes)``: one node with one output; returns the
  output's name;
- ``opset``: the opset of the default domain the graph targets.

Every function takes and returns names of tensors. The graph reproduces
:meth:`skdae._base.BaseAutoencoder._run_in_batches`: float32 products, NaN presented to
the network as :data:`skdae._training.MISSING_INPUT`, the output activation after the
decoder's logits.
"""

import math

import numpy as np
import torch
from torch import nn

from skdae._conv_network import (
    _CONV,
    _CONV_TRANSPOSE,
    _Flatten,
    _Residual,
    _SubPixelUpsample,
    _ToImage,
)
from skdae._training import MISSING_INPUT
from skdae.exceptions import InputError

# The methods of an autoencoder that a graph can compute.
METHODS = ("transform", "predict", "inverse_transform", "score_samples")

_ELEMENTWISE = {nn.ReLU: "Relu", nn.Tanh: "Tanh", nn.Sigmoid: "Sigmoid"}
# torch's convolutions and skdae's (which differ only in running one-pixel inputs in
# float32 under autocast): a subclass with another forward could compute anything.
_CONVOLUTIONS = (
    nn.Conv1d,
    nn.Conv2d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    *_CONV.values(),
    *_CONV_TRANSPOSE.values(),
)


def _weights(tensor):
    """A float32, C-ordered numpy copy of a parameter (channels-last ones included)."""
    return np.ascontiguousarray(tensor.detach().to("cpu", torch.float32).numpy())


def masked_input(writer, X):
    """``X`` with its NaN replaced by the masked value, as skdae's inference does."""
    missing = writer.node("IsNaN", [X], "missing")
    fill = writer.constant(np.array(MISSING_INPUT, dtype=np.float32), "missing_input")
    return writer.node("Where", [missing, fill, X], "masked")


def _unsupported(layer, where):
    return InputError(
        f"Cannot export the network to ONNX: its {where} holds a {type(layer).__name__} "
        f"layer ({layer!r}), which skdae's ONNX export does not know. Only networks built "
        "by skdae's estimators can be exported."
    )


class _Stack:
    """Writes the layers of one ``nn.Sequential``, keeping track of the tensor's rank."""

    def __init__(self, writer, rank):
        self.writer = writer
        self.rank = rank

    def run(self, layers, x, where):
        for layer in layers:
            x = self.layer(layer, x, where)
        return x

    def layer(self, layer, x, where):
        w = self.writer
        if isinstance(layer, nn.Linear):
            weight = w.constant(_weights(layer.weight), "weight")
            bias = w.constant(_weights(layer.bias), "bias")
            return w.node("Gemm", [x, weight, bias], "dense", transB=1)
        if isinstance(layer, nn.modules.conv._ConvNd):
            return self._convolution(layer, x, where)
        if type(layer) is _Residual:
            branch = self.run([layer.conv1, layer.activation, layer.conv2], x, where)
            return w.node("Add", [x, branch], "residual")
        if type(layer) is _SubPixelUpsample:
            return self._sub_pixel(layer, x, where)
        if isinstance(layer, _ToImage):
            return self._to_image(layer, x)
        if isinstance(layer, _Flatten):
            if self.rank == 4:  # 2-D feature maps are flattened channels last
                x = w.node("Transpose", [x], "channels_last", perm=[0, 2, 3, 1])
            self.rank = 2
            return w.node("Flatten", [x], "rows", axis=1)
        if type(layer) is nn.Flatten:
            if (layer.start_dim, layer.end_dim) != (1, -1):
                raise _unsupported(layer, where)
            self.rank = 2
            return w.node("Flatten", [x], "rows", axis=1)
        return activation(w, layer, x, where)

    def _to_image(self, layer, x):
        w = self.writer
        shape = tuple(layer.image_shape)
        self.rank = 1 + len(shape)
        if len(shape) == 3 and layer.rows_channels_last:
            channels, height, width = shape
            target = w.constant(np.array([-1, height, width, channels], np.int64), "shape")
            x = w.node("Reshape", [x, target], "image")
            return w.node("Transpose", [x], "channels_first", perm=[0, 3, 1, 2])
        target = w.constant(np.array([-1, *shape], np.int64), "shape")
        return w.node("Reshape", [x, target], "image")

    def _sub_pixel(self, layer, x, where):
        """The convolution, then ``PixelShuffle(2)`` as reshapes and a transpose (the
        same in every opset, where ``DepthToSpace`` changed its order in opset 11),
        then the crop to odd sizes."""
        w = self.writer
        x = self._convolution(layer.conv, x, where)
        out, size = layer.out_channels, layer.size
        before = [(s + 1) // 2 for s in size]  # the stage's input size
        if len(size) == 2:
            (h, wd), perm = before, [0, 1, 4, 2, 5, 3]
            split, merged = [0, out, 2, 2, h, wd], [0, out, 2 * h, 2 * wd]
        else:
            (length,), perm = before, [0, 1, 3, 2]
            split, merged = [0, out, 2, length], [0, out, 2 * length]
        x = w.node("Reshape", [x, w.constant(np.array(split, np.int64), "shape")], "split")
        x = w.node("Transpose", [x], "interleave", perm=perm)
        x = w.node("Reshape", [x, w.constant(np.array(merged, np.int64), "shape")], "upsampled")
        if all(2 * b == s for b, s in zip(before, size, strict=True)):
            return x
        axes = list(range(2, 2 + len(size)))
        starts, ends = [0] * len(size), list(size)
        if w.opset < 10:  # the bounds became inputs in opset 10
            return w.node("Slice", [x], "cropped", starts=starts, ends=ends, axes=axes)
        bounds = [w.constant(np.array(v, np.int64), "bounds") for v in (starts, ends, axes)]
        return w.node("Slice", [x, *bounds], "cropped")

    def _convolution(self, layer, x, where):
        padding = layer.padding
        if (
            isinstance(padding, str)
            or layer.padding_mode != "zeros"
            or type(layer) not in _CONVOLUTIONS
        ):
            raise _unsupported(layer, where)
        w = self.writer
        weight = w.constant(_weights(layer.weight), "weight")
        inputs = [x, weight]
        if layer.bias is not None:
            inputs.append(w.constant(_weights(layer.bias), "bias"))
        attributes = {
            "kernel_shape": list(layer.kernel_size),
            "strides": list(layer.stride),
            "dilations": list(layer.dilation),
            "pads": [*padding, *padding],  # the same at the start and end of each axis
            "group": layer.groups,
        }
        if layer.transposed:
            attributes["output_padding"] = list(layer.output_padding)
            return w.node("ConvTranspose", inputs, "deconvolution", **attributes)
        return w.node("Conv", inputs, "convolution", **attributes)


def activation(writer, layer, x, where="network"):
    """The nodes of one activation module (nothing for the identity)."""
    if isinstance(layer, nn.Identity):
        return x
    if type(layer) in _ELEMENTWISE:
        return writer.node(_ELEMENTWISE[type(layer)], [x], type(layer).__name__.lower())
    if isinstance(layer, nn.LeakyReLU):
        return writer.node("LeakyRelu", [x], "leaky_relu", alpha=float(layer.negative_slope))
    if isinstance(layer, nn.ELU):
        return writer.node("Elu", [x], "elu", alpha=float(layer.alpha))
    if isinstance(layer, nn.GELU) and layer.approximate == "none":
        # torch's exact GELU, as it computes it: x * 0.5 * (1 + erf(x / sqrt(2))).
        scale = writer.constant(np.array(1 / math.sqrt(2), np.float32), "inv_sqrt2")
        one = writer.constant(np.array(1.0, np.float32), "one")
        half = writer.constant(np.array(0.5, np.float32), "half")
        erf = writer.node("Erf", [writer.node("Mul", [x, scale], "gelu_scaled")], "gelu_erf")
        halved = writer.node("Mul", [x, half], "gelu_half")
        return writer.node("Mul", [halved, writer.node("Add", [erf, one], "gelu_sum")], "gelu")
    raise _unsupported(layer, where)


def encode(writer, module, x):
    """The codes of the (masked) float32 rows ``x``: ``module.encode``."""
    return _Stack(writer, rank=2).run(module.encoder, x, "encoder")


def decode(writer, module, codes):
    """The reconstruction of float32 ``codes``: ``module.decode``."""
    logits = _Stack(writer, rank=2).run(module.decoder, codes, "decoder")
    return activation(writer, module.output_activation, logits, "output activation")


def reconstruct(writer, module, x):
    """The reconstruction of the (masked) float32 rows ``x``: ``module(x)``.

    The purely convolutional network's feature map goes from the encoder to the decoder
    without its flattening and unflattening, as in ``ConvAutoencoder.logits``.
    """
    if getattr(module, "spatial_code", False):
        stack = _Stack(writer, rank=2)
        x = stack.run(module.encoder[:-1], x, "encoder")
        logits = stack.run(module.decoder[1:], x, "decoder")
    else:
        logits = _Stack(writer, rank=2).run(module.decoder, encode(writer, module, x), "decoder")
    return activation(writer, module.output_activation, logits, "output activation")


def reduce_rows(writer, x, hint):
    """The sum of each row of the 2-D ``x`` (a 1-D tensor)."""
    if writer.opset >= 13:  # the axes became an input in opset 13
        axes = writer.constant(np.array([1], np.int64), "axes")
        return writer.node("ReduceSum", [x, axes], hint, keepdims=0)
    return writer.node("ReduceSum", [x], hint, axes=[1], keepdims=0)


def score_samples(writer, X, reconstruction, missing, dtype):
    """Each row's negated mean squared error over its observed values (NaN for none).

    ``X`` and ``reconstruction`` share the element type ``dtype`` (a numpy dtype).
    """
    zero = writer.constant(np.array(0, dtype), "zero")
    errors = writer.node("Sub", [reconstruction, X], "error")
    squared = writer.node("Mul", [errors, errors], "squared_error")
    observed_errors = writer.node("Where", [missing, zero, squared], "observed_error")
    totals = reduce_rows(writer, observed_errors, "total_error")
    observed = writer.node("Cast", [writer.node("Not", [missing], "observed")], "n", to=dtype)
    counts = reduce_rows(writer, observed, "n_observed")
    return writer.node("Neg", [writer.node("Div", [totals, counts], "mean_error")], "score")
