import inspect

import skdae

DOCUMENTED = [
    "BaseCorruption",
    "Compose",
    "DenoisingAutoencoder",
    "GaussianNoise",
    "IdentityCorruption",
    "MaskingNoise",
    "SaltAndPepperNoise",
    "__version__",
]


def test_all_is_the_documented_list():
    assert sorted(skdae.__all__) == sorted(DOCUMENTED)
    for name in skdae.__all__:
        assert hasattr(skdae, name)


def test_every_public_object_has_a_docstring():
    for name in skdae.__all__:
        obj = getattr(skdae, name)
        if inspect.isclass(obj):
            assert inspect.getdoc(obj), name
            for method_name, method in inspect.getmembers(obj, inspect.isfunction):
                if not method_name.startswith("_") and method.__module__.startswith("skdae"):
                    assert inspect.getdoc(method), f"{name}.{method_name}"


def test_version_is_a_string():
    assert isinstance(skdae.__version__, str) and skdae.__version__.count(".") == 2
