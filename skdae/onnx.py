"""Export fitted skdae estimators, alone or inside pipelines, to ONNX.

Importing this module registers `skl2onnx <https://onnx.ai/sklearn-onnx/>`_ converters
for :class:`~skdae.DenoisingAutoencoder`, :class:`~skdae.ConvDenoisingAutoencoder` and
:class:`~skdae.DenoisingAutoencoderImputer`: after ``import skdae.onnx``,
``skl2onnx.to_onnx(model, X[:1])`` converts each of them alone, or inside a
:class:`~sklearn.pipeline.Pipeline`, a :class:`~sklearn.compose.ColumnTransformer` or
any other composite that skl2onnx knows. There, as in scikit-learn, an autoencoder
stands for its ``transform`` (its codes) and the imputer for its imputation.
:func:`to_onnx` exports what a pipeline cannot express: an autoencoder's ``predict``,
``inverse_transform`` or ``score_samples`` (alone, or after a pipeline's other steps),
and :func:`export_model_file` turns a ``.skdae`` model file into an ``.onnx`` file. The
module needs the ``onnx`` extra (``pip install 'skdae[onnx]'``: onnx, onnxruntime and
skl2onnx); ``import skdae`` never imports it.

**How the graph is built.** The converters write plain ONNX nodes of the default domain
from the fitted weights: ``Gemm`` for the dense layers, ``Conv`` and ``ConvTranspose``
with the network's strides, pads and output padding, ``Reshape``, ``Transpose`` and
``Flatten`` where the network reshapes, ``Relu``, ``Sigmoid``, ``Erf`` and the like for
the activations, through skl2onnx's own scope and container. The alternative, embedding
a ``torch.onnx.export`` of the module, was not chosen: it traces the module into a
model of its own that would then have to be spliced into the pipeline's graph, it puts
torch's exporter and its dependencies in the export path, and its graph changes with
the torch version. Written from the weights, a converter is a few dozen nodes that
skl2onnx places in a pipeline like any scikit-learn transformer's, for any opset from 9
on, and each node can be read against the layer it stands for
(``skdae/_onnx_graph.py``).

**What the graph computes.** skdae's inference, in float32: missing values (NaN) reach
the network as masked entries (0), as in ``transform`` and ``predict``; the decoder's
output goes through the output activation; the imputer keeps every observed value and
fills only the missing ones (with 0 for a feature that had no observed value at fit
time, and with the missing-value indicator appended when ``add_indicator=True``).
float64 inputs give float64 outputs, computed in float32 as skdae does. The batch
dimension is dynamic. onnxruntime agrees with skdae within 1e-5, not bit for bit: its
kernels sum in another order (about 1e-6 on outputs in [0, 1]; up to 8e-6 on the
pretrained models' codes, which reach 30).

**What an ONNX file guarantees.** An ``.onnx`` file is a protobuf message: the graph and
its weights, no code. Loading it in onnxruntime (or another ONNX runtime) parses it and
runs only the standard operators it names; nothing in it is executed as Python. It does
not carry what the ``.skdae`` format does: no checks of the data (a wrong width is
refused by the runtime, but infinities, values beyond float32's range and 8-bit images
not divided by 255 are computed on without a word), no digest or signature (anyone can
change the weights: trust the file as much as where it came from), no training state
(it cannot be fitted further) and no estimator to load back into skdae. In Python, keep
the ``.skdae`` file; ship the ONNX file where Python and PyTorch are not (C#, Java,
JavaScript, C++, phones, ONNX serving platforms).
"""

from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from skdae._architectures import AUTOENCODERS
from skdae._base import BaseAutoencoder
from skdae._conv_estimator import ConvDenoisingAutoencoder
from skdae._dense_estimator import DenoisingAutoencoder
from skdae._files import atomic_write
from skdae._imputer import DenoisingAutoencoderImputer
from skdae._onnx_graph import (
    METHODS,
    decode,
    encode,
    masked_input,
    reconstruct,
    score_samples,
)
from skdae._persistence import load_estimator
from skdae._version import __version__
from skdae.exceptions import DataFileError, InputError

try:
    import onnx
    import skl2onnx
    from onnx import helper, numpy_helper
    from skl2onnx import update_registered_converter
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
except ImportError as exc:
    raise ImportError(
        "skdae.onnx needs onnx and skl2onnx (and onnxruntime to run the models): "
        "pip install 'skdae[onnx]'"
    ) from exc

__all__ = ["export_model_file", "to_onnx"]

# The name of each export's output, by estimator kind and method.
_OUTPUT_NAMES = {
    "transform": "codes",
    "predict": "reconstruction",
    "inverse_transform": "reconstruction",
    "score_samples": "scores",
    "impute": "imputed",
}


# ----------------------------------------------------------------- the converters


class _ContainerWriter:
    """skl2onnx's scope and container, as the writer of :mod:`skdae._onnx_graph`."""

    def __init__(self, scope, container):
        self._scope = scope
        self._container = container
        self.opset = container.target_opset  # of the default domain

    def constant(self, array, hint):
        name = self._scope.get_unique_variable_name(hint)
        tensor = numpy_helper.from_array(np.asarray(array), name)
        self._container.add_initializer(name, tensor.data_type, list(tensor.dims), tensor)
        return name

    def node(self, op_type, inputs, hint, *, output=None, **attributes):
        if "to" in attributes:  # Cast's target: a numpy dtype here, an enum in ONNX
            attributes["to"] = helper.np_dtype_to_tensor_dtype(np.dtype(attributes["to"]))
        output = output or self._scope.get_unique_variable_name(hint)
        self._container.add_node(
            op_type,
            inputs,
            [output],
            name=self._scope.get_unique_operator_name(op_type),
            **attributes,
        )
        return output


def _element_type(variable, model):
    """float32 or float64: the numpy dtype of an input variable, else an InputError."""
    if isinstance(variable.type, FloatTensorType):
        return np.dtype(np.float32)
    if isinstance(variable.type, DoubleTensorType):
        return np.dtype(np.float64)
    raise InputError(
        f"{type(model).__name__} takes float32 or float64 inputs in ONNX, as in skdae; the "
        f"graph's input {variable.onnx_name!r} is {type(variable.type).__name__}. Convert "
        "with X.astype(np.float32) (images / 255 first), or pass initial_types="
        "[('X', FloatTensorType([None, n_features]))]."
    )


def _tensor_type(dtype, shape):
    kind = FloatTensorType if dtype == np.float32 else DoubleTensorType
    return kind(shape)


def _check_width(variable, expected, model, what):
    shape = variable.type.shape
    width = shape[1] if len(shape) == 2 else None
    if len(shape) != 2 or (isinstance(width, int) and width != expected):
        raise InputError(
            f"{type(model).__name__} takes {what} of shape (n_samples, {expected}) in "
            f"ONNX; the graph's input {variable.onnx_name!r} has shape {list(shape)}."
        )


def _method_of(operator):
    model = operator.raw_operator
    options = operator.scope_inst.get_options(model, {"method": "transform"})
    return options["method"]


def _autoencoder_shape(operator):
    """skl2onnx's shape calculator for the autoencoders: the output of ``method``."""
    model = operator.raw_operator
    check_is_fitted(model)
    method = _method_of(operator)
    variable = operator.inputs[0]
    dtype = _element_type(variable, model)
    if method == "inverse_transform":
        _check_width(variable, model._code_width(), model, "codes")
    else:
        _check_width(variable, model.n_features_in_, model, "rows")
    n_rows = variable.type.shape[0]
    if method == "transform":
        shape = [n_rows, model._code_width()]
    elif method == "score_samples":
        shape = [n_rows]
    else:
        shape = [n_rows, model.n_features_in_]
    operator.outputs[0].type = _tensor_type(dtype, shape)


def _convert_autoencoder(scope, operator, container):
    """skl2onnx's converter for the autoencoders: ``method``'s nodes from the weights."""
    model = operator.raw_operator
    method = _method_of(operator)
    writer = _ContainerWriter(scope, container)
    X = operator.inputs[0].full_name
    dtype = _element_type(operator.inputs[0], model)
    rows = X if dtype == np.float32 else writer.node("Cast", [X], "rows", to=np.float32)
    module = model.module_
    if method == "inverse_transform":
        result = decode(writer, module, rows)
    elif method == "transform":
        result = encode(writer, module, masked_input(writer, rows))
    else:
        result = reconstruct(writer, module, masked_input(writer, rows))
        if method == "score_samples":
            if dtype != np.float32:  # skdae compares its float32 output in X's dtype
                result = writer.node("Cast", [result], "reconstruction", to=dtype)
            missing = writer.node("IsNaN", [X], "missing")
            result = score_samples(writer, X, result, missing, dtype)
    _write_output(writer, result, operator.outputs[0].full_name, dtype)


def _write_output(writer, result, output, dtype):
    if dtype == np.float32:
        writer.node("Identity", [result], "output", output=output)
    else:
        writer.node("Cast", [result], "output", output=output, to=dtype)


def _imputer_autoencoder(imputer):
    autoencoder = imputer.autoencoder_
    if not isinstance(autoencoder, BaseAutoencoder):
        raise InputError(
            f"This DenoisingAutoencoderImputer imputes with a {type(autoencoder).__name__}, "
            "which skdae cannot export to ONNX: only imputers whose autoencoder is one of "
            f"{', '.join(cls.__name__ for cls in AUTOENCODERS)} can be exported."
        )
    return autoencoder


def _imputer_shape(operator):
    """skl2onnx's shape calculator for the imputer: the imputed rows (and indicator)."""
    imputer = operator.raw_operator
    check_is_fitted(imputer)
    _imputer_autoencoder(imputer)
    variable = operator.inputs[0]
    dtype = _element_type(variable, imputer)
    _check_width(variable, imputer.n_features_in_, imputer, "rows")
    width = imputer.n_features_in_
    if imputer.add_indicator:
        width += len(imputer.indicator_.features_)
    operator.outputs[0].type = _tensor_type(dtype, [variable.type.shape[0], width])


def _convert_imputer(scope, operator, container):
    """skl2onnx's converter for the imputer: observed values kept, missing ones filled."""
    imputer = operator.raw_operator
    autoencoder = _imputer_autoencoder(imputer)
    writer = _ContainerWriter(scope, container)
    X = operator.inputs[0].full_name
    dtype = _element_type(operator.inputs[0], imputer)
    rows = X if dtype == np.float32 else writer.node("Cast", [X], "rows", to=np.float32)
    reconstruction = reconstruct(writer, autoencoder.module_, masked_input(writer, rows))
    if dtype != np.float32:
        reconstruction = writer.node("Cast", [reconstruction], "reconstruction", to=dtype)
    empty = np.zeros(imputer.n_features_in_, dtype=bool)
    empty[imputer._empty_features] = True
    if empty.any():  # features never observed at fit time are imputed with 0
        reconstruction = writer.node(
            "Where",
            [
                writer.constant(empty, "empty_features"),
                writer.constant(np.array(0, dtype), "zero"),
                reconstruction,
            ],
            "reconstruction",
        )
    missing = writer.node("IsNaN", [X], "missing")
    result = writer.node("Where", [missing, reconstruction, X], "imputed")
    if imputer.add_indicator:
        features = np.asarray(imputer.indicator_.features_, dtype=np.int64)
        features = writer.constant(features, "indicator_features")
        chosen = writer.node("Gather", [missing, features], "indicator", axis=1)
        indicator = writer.node("Cast", [chosen], "indicator", to=dtype)
        result = writer.node("Concat", [result, indicator], "imputed", axis=1)
    writer.node("Identity", [result], "output", output=operator.outputs[0].full_name)


def _register():
    for estimator in (DenoisingAutoencoder, ConvDenoisingAutoencoder):
        update_registered_converter(
            estimator,
            f"Skdae{estimator.__name__}",
            _autoencoder_shape,
            _convert_autoencoder,
            options={"method": list(METHODS)},
        )
    update_registered_converter(
        DenoisingAutoencoderImputer,
        "SkdaeDenoisingAutoencoderImputer",
        _imputer_shape,
        _convert_imputer,
    )


_register()


# ----------------------------------------------------------------------- the helpers


def to_onnx(estimator, method="transform", *, X=None, target_opset=None):
    """Convert a fitted skdae estimator, or a pipeline ending in one, to ONNX.

    ``skl2onnx.to_onnx`` converts skdae's estimators once this module is imported, with
    an autoencoder standing for its ``transform``; this function also exports its other
    methods, which a pipeline cannot express. The graph computes what skdae computes,
    in float32 (see the module's documentation), with a dynamic batch dimension.

    Parameters
    ----------
    estimator : DenoisingAutoencoder, ConvDenoisingAutoencoder, \
DenoisingAutoencoderImputer or Pipeline
        A fitted estimator, or a fitted :class:`~sklearn.pipeline.Pipeline` whose last
        step is one (its earlier steps must be convertible by skl2onnx).

    method : {'transform', 'predict', 'inverse_transform', 'score_samples'}, \
default='transform'
        The method the graph computes: the codes, the denoised reconstruction, the
        decoding of codes, or each row's negated mean squared reconstruction error. For
        a pipeline, the last step's method after the other steps' ``transform``, as
        ``Pipeline.predict`` does; ``inverse_transform`` only for an autoencoder alone.
        The imputer has ``transform`` only.

    X : array-like or DataFrame, default=None
        A few rows of the input, from which skl2onnx reads the input's type: float32
        rows give a float32 graph, float64 rows a float64 graph (computed in float32),
        and a DataFrame one input per column (for a
        :class:`~sklearn.compose.ColumnTransformer`). None: one float32 input ``"X"``
        of ``n_features_in_`` columns (of the code's width for ``inverse_transform``).

    target_opset : int, default=None
        The ONNX opset of the graph (9 or later); None takes skl2onnx's default, the
        latest it supports. Lower it for an older runtime.

    Returns
    -------
    model : onnx.ModelProto
        The graph: input ``"X"`` (or the DataFrame's columns) and one output, named
        ``"codes"``, ``"reconstruction"``, ``"scores"`` or ``"imputed"``. Its
        metadata record the estimator, the method and the skdae version. Save it with
        ``onnx.save(model, path)``, or ``model.SerializeToString()``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        When the estimator is not fitted.
    InputError
        For an unknown method, a method the estimator lacks, an estimator that is not
        one of skdae's (or a pipeline that does not end in one), an imputer whose
        autoencoder is not skdae's, or an input that is not float32 or float64.

    See Also
    --------
    export_model_file : The same, from a ``.skdae`` file to an ``.onnx`` file.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime
    >>> from skdae import DenoisingAutoencoder
    >>> from skdae.onnx import to_onnx
    >>> X = np.random.RandomState(0).rand(50, 6).astype(np.float32)
    >>> dae = DenoisingAutoencoder(latent_dim=2, hidden_layer_sizes=(4,), max_iter=2,
    ...                            random_state=0).fit(X)
    >>> model = to_onnx(dae, method="predict")
    >>> session = onnxruntime.InferenceSession(
    ...     model.SerializeToString(), providers=["CPUExecutionProvider"])
    >>> [output.name for output in session.get_outputs()]
    ['reconstruction']
    >>> (reconstruction,) = session.run(None, {"X": X})
    >>> bool(np.abs(reconstruction - dae.predict(X)).max() < 1e-5)
    True
    """
    final = _final_step(estimator, method)
    check_is_fitted(estimator)
    options = None
    if isinstance(final, BaseAutoencoder):
        options = {id(final): {"method": method}}
    initial_types = None
    if X is None:
        initial_types = [("X", FloatTensorType([None, _input_width(estimator, final, method)]))]
    model = skl2onnx.to_onnx(
        estimator,
        X=X,
        initial_types=initial_types,
        options=options,
        target_opset=target_opset,
    )
    kind = "impute" if isinstance(final, DenoisingAutoencoderImputer) else method
    _rename_output(model, _OUTPUT_NAMES[kind])
    helper.set_model_props(
        model,
        {
            "skdae_version": __version__,
            "estimator": _describe(estimator),
            "method": method,
        },
    )
    model.doc_string = (
        f"{_describe(estimator)}.{method}, exported by skdae {__version__} (skdae.onnx.to_onnx)."
    )
    return model


def _final_step(estimator, method):
    if not isinstance(method, str) or method not in METHODS:
        raise InputError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    final = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if isinstance(final, DenoisingAutoencoderImputer):
        if method != "transform":
            raise InputError(
                f"DenoisingAutoencoderImputer has no {method!r} to export: its ONNX graph "
                "is its transform (the imputation). Pass method='transform', or export its "
                "autoencoder_ for the autoencoder's own methods."
            )
        return final
    if not isinstance(final, BaseAutoencoder):
        raise InputError(
            f"skdae.onnx.to_onnx exports skdae's estimators, alone or as a Pipeline's last "
            f"step; got {_describe(estimator)}. For other models, import skdae.onnx (which "
            "registers skdae's converters) and call skl2onnx.to_onnx."
        )
    if isinstance(estimator, Pipeline) and method == "inverse_transform":
        raise InputError(
            "method='inverse_transform' exports an autoencoder alone, not a Pipeline: "
            "export the pipeline's last step."
        )
    return final


def _input_width(estimator, final, method):
    if method == "inverse_transform":
        return final._code_width()
    try:
        return int(estimator.n_features_in_)
    except AttributeError:
        raise InputError(
            f"Cannot tell the width of {_describe(estimator)}'s input (its first step has "
            "no n_features_in_); pass a few rows as X=."
        ) from None


def _describe(estimator):
    if isinstance(estimator, Pipeline):
        return "Pipeline(" + ", ".join(type(step).__name__ for _, step in estimator.steps) + ")"
    return type(estimator).__name__


def _rename_output(model, name):
    """Give the graph's one output ``name`` (skl2onnx calls it ``variable``); a tensor
    of the graph that had the name already gets another one."""
    graph = model.graph
    if len(graph.output) != 1 or graph.output[0].name == name:  # one output, always
        return
    used = _tensor_names(graph)
    if name in used:
        fresh = next(f"{name}_{i}" for i in range(1, len(used) + 2) if f"{name}_{i}" not in used)
        _rename(graph, name, fresh)
    _rename(graph, graph.output[0].name, name)


def _tensor_names(graph):
    names = {tensor.name for tensor in [*graph.input, *graph.output, *graph.value_info]}
    names |= {tensor.name for tensor in graph.initializer}
    for node in graph.node:
        names |= {*node.input, *node.output}
    return names


def _rename(graph, old, new):
    for node in graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
        node.output[:] = [new if name == old else name for name in node.output]
    for tensor in [*graph.input, *graph.output, *graph.value_info, *graph.initializer]:
        if tensor.name == old:
            tensor.name = new


def export_model_file(model_path, onnx_path, *, method="predict", key=None, target_opset=None):
    """Write the ONNX graph of a ``.skdae`` model file's estimator to ``onnx_path``.

    The model is loaded as :meth:`~skdae.DenoisingAutoencoder.load` loads it (checked,
    never running code from the file), converted by :func:`to_onnx`, checked by
    ``onnx.checker`` and written atomically: an interrupted export leaves no partial
    file, and an existing ``onnx_path`` is replaced only by a complete graph.

    Parameters
    ----------
    model_path : str or path-like
        A model written by ``save`` (or ``skdae train``): a
        :class:`~skdae.DenoisingAutoencoder` or
        :class:`~skdae.ConvDenoisingAutoencoder`.

    onnx_path : str or path-like
        Where to write the ONNX file; its folder must exist. Never the model file
        itself.

    method : {'predict', 'transform', 'inverse_transform', 'score_samples'}, \
default='predict'
        The method the graph computes (see :func:`to_onnx`); by default the denoised
        reconstruction, as ``skdae denoise`` computes it.

    key : str or bytes, default=None
        The secret the model file was signed with; see
        :meth:`~skdae.DenoisingAutoencoder.load`.

    target_opset : int, default=None
        The ONNX opset of the graph; see :func:`to_onnx`.

    Returns
    -------
    path : pathlib.Path
        The path written.

    Raises
    ------
    FileNotFoundError
        When ``model_path`` does not exist, or ``onnx_path``'s folder does not.
    ModelFileError
        When ``model_path`` is not an intact skdae model file (or, with ``key``, not
        signed with it).
    DataFileError
        When ``onnx_path`` is the model file or a folder.
    InputError
        For an unknown method.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> import onnxruntime
    >>> from skdae import DenoisingAutoencoder
    >>> from skdae.onnx import export_model_file
    >>> X = np.random.RandomState(0).rand(50, 6).astype(np.float32)
    >>> dae = DenoisingAutoencoder(latent_dim=2, hidden_layer_sizes=(4,), max_iter=2,
    ...                            random_state=0).fit(X)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     model_file = dae.save(Path(folder) / "dae.skdae")
    ...     onnx_file = export_model_file(model_file, Path(folder) / "dae.onnx")
    ...     session = onnxruntime.InferenceSession(
    ...         onnx_file, providers=["CPUExecutionProvider"])
    >>> (denoised,) = session.run(None, {"X": X})
    >>> denoised.shape
    (50, 6)
    """
    model_path, onnx_path = Path(model_path), Path(onnx_path)
    if not isinstance(method, str) or method not in METHODS:  # before any work
        raise InputError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    if not model_path.is_file():
        raise FileNotFoundError(f"model file {model_path} does not exist.")
    if onnx_path.is_dir():
        raise DataFileError(f"cannot write {onnx_path}: it is a folder. Name a file in it.")
    if onnx_path.resolve() == model_path.resolve():
        raise DataFileError(
            f"the ONNX output {onnx_path} is the model file itself; name another file, so "
            "that the model is kept."
        )
    estimator = load_estimator(AUTOENCODERS, model_path, key=key)
    model = to_onnx(estimator, method, target_opset=target_opset)
    with atomic_write(onnx_path, validate=_check_onnx_file) as stream:
        stream.write(model.SerializeToString())
    return onnx_path


def _check_onnx_file(path):
    onnx.checker.check_model(str(path))
