"""numpydoc validation of every public class and method."""

import importlib
import inspect
import pkgutil
from importlib.util import find_spec

import pytest

import skdae

numpydoc_validate = pytest.importorskip("numpydoc.validate")

# Codes not enforced, as in scikit-learn's own docstring test:
# SA01 (See Also on every method), ES01 (extended summary), EX01 (Examples on every
# method: the classes carry them), RT02 (sklearn's "self : object" return style).
IGNORED = {"SA01", "ES01", "EX01", "RT02"}


# Every public module: its __all__ is what users import.
PUBLIC_MODULES = [
    "skdae",
    "skdae.chunks",
    "skdae.datasets",
    "skdae.exceptions",
    "skdae.metrics",
    "skdae.plotting",
    "skdae.presets",
    "skdae.pretrained",
]
# skdae.onnx imports only with the onnx extra (pip install 'skdae[onnx]').
HAS_ONNX_EXTRA = all(find_spec(name) for name in ("onnx", "onnxruntime", "skl2onnx"))
if HAS_ONNX_EXTRA:
    PUBLIC_MODULES.append("skdae.onnx")


def _public_targets():
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            yield f"{module_name}.{name}"
            if not inspect.isclass(obj):
                continue
            for method_name, method in inspect.getmembers(obj):
                if method_name.startswith("_"):
                    continue
                is_routine = inspect.isfunction(method) or inspect.ismethod(method)
                if is_routine and getattr(method, "__module__", "").startswith("skdae"):
                    yield f"{module_name}.{name}.{method_name}"


def test_every_module_has_a_docstring():
    for info in pkgutil.walk_packages(skdae.__path__, "skdae."):
        if info.name == "skdae.onnx" and not HAS_ONNX_EXTRA:
            continue
        module = importlib.import_module(info.name)
        assert inspect.getdoc(module), info.name


@pytest.mark.parametrize("target", list(_public_targets()))
def test_docstring_is_valid_numpydoc(target):
    errors = [
        f"{code}: {message}"
        for code, message in numpydoc_validate.validate(target)["errors"]
        if code not in IGNORED
    ]
    assert not errors, "\n".join(errors)


def test_every_public_class_has_an_examples_section():
    for name in skdae.__all__:
        obj = getattr(skdae, name)
        if inspect.isclass(obj):
            assert "Examples\n    --------" in obj.__doc__, name
