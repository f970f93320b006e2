"""numpydoc validation of every public class and method."""

import inspect

import pytest

import skdae

numpydoc_validate = pytest.importorskip("numpydoc.validate")

# Codes not enforced, as in scikit-learn's own docstring test:
# SA01 (See Also on every method), ES01 (extended summary), EX01 (Examples on every
# method: the classes carry them), RT02 (sklearn's "self : object" return style).
IGNORED = {"SA01", "ES01", "EX01", "RT02"}


def _public_targets():
    for name in skdae.__all__:
        obj = getattr(skdae, name)
        if not inspect.isclass(obj):
            continue
        yield f"skdae.{name}"
        for method_name, method in inspect.getmembers(obj, inspect.isfunction):
            if not method_name.startswith("_") and method.__module__.startswith("skdae"):
                yield f"skdae.{name}.{method_name}"


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
