import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
from importlib.util import find_spec

import skdae

# skdae.onnx imports only with the onnx extra (pip install 'skdae[onnx]').
HAS_ONNX_EXTRA = all(find_spec(name) for name in ("onnx", "onnxruntime", "skl2onnx"))


def importable_modules():
    """Every module of the package that imports here: skdae.onnx only with its extra."""
    for info in pkgutil.walk_packages(skdae.__path__, "skdae."):
        if info.name == "skdae.onnx" and not HAS_ONNX_EXTRA:
            continue
        yield importlib.import_module(info.name)


DOCUMENTED = [
    "BaseCorruption",
    "Compose",
    "DenoisingAutoencoder",
    "DenoisingAutoencoderImputer",
    "ConvDenoisingAutoencoder",
    "GaussianNoise",
    "IdentityCorruption",
    "MaskingNoise",
    "SaltAndPepperNoise",
    "SwapNoise",
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


SUBMODULES = {
    "skdae.datasets": [
        "ChecksumError",
        "DownloadError",
        "IDXFormatError",
        "SampleDataWarning",
        "get_data_home",
        "load_idx_dataset",
        "load_mnist",
        "load_mnist_sample",
        "read_idx",
        "write_idx",
    ],
    "skdae.exceptions": [
        "ChecksumError",
        "DataFileError",
        "DeviceWarning",
        "DivergenceError",
        "DivergenceWarning",
        "DownloadError",
        "EmptyFeatureWarning",
        "FitInterrupted",
        "IDXFormatError",
        "ImageShapeWarning",
        "InconsistentVersionWarning",
        "InputError",
        "IntegerDataWarning",
        "ModelFileError",
        "OvercompleteWarning",
        "PrecisionWarning",
        "SampleDataWarning",
        "SkdaeError",
        "WriteError",
    ],
    "skdae.chunks": ["iter_chunks"],
    "skdae.image": ["denoise_image"],
    "skdae.metrics": ["data_range_of", "denoising_report", "peak_signal_noise_ratio"],
    "skdae.plotting": [
        "CorruptionDisplay",
        "LatentSpaceDisplay",
        "LossCurveDisplay",
        "ReconstructionDisplay",
    ],
    "skdae.pretrained": ["PRETRAINED_MODELS", "load_pretrained"],
    "skdae.presets": ["PRESETS", "make_preset"],
}
if HAS_ONNX_EXTRA:
    SUBMODULES["skdae.onnx"] = ["export_model_file", "to_onnx"]


def test_public_submodules_export_the_documented_names():
    for module_name, names in SUBMODULES.items():
        module = importlib.import_module(module_name)
        assert sorted(module.__all__) == sorted(names), module_name
        for name in names:
            obj = getattr(module, name)
            if callable(obj):
                assert inspect.getdoc(obj), f"{module_name}.{name}"


def test_every_skdae_error_is_an_skdae_error_and_a_standard_one():
    """One tree: every exception class skdae defines, anywhere in the package, derives
    from SkdaeError and from the standard type users already catch."""
    from skdae import exceptions

    found = set()
    for module in importable_modules():
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, Exception)
                and obj.__module__.startswith("skdae")
                and not obj.__name__.startswith("_")  # private control flow, never escapes
            ):
                found.add(obj)
    errors = {cls for cls in found if not issubclass(cls, Warning)}
    assert {cls.__module__ for cls in found} == {"skdae.exceptions"}
    for cls in errors - {exceptions.SkdaeError}:
        assert issubclass(cls, exceptions.SkdaeError), cls
        assert issubclass(cls, (ValueError, OSError)), cls
    for name in ("ChecksumError", "IDXFormatError", "DownloadError", "SampleDataWarning"):
        assert getattr(importlib.import_module("skdae.datasets"), name) is getattr(exceptions, name)


def test_skdae_imports_without_the_onnx_extra_and_skdae_onnx_says_how_to_get_it():
    """With or without the extra installed: hidden from this subprocess."""
    code = """
import sys
import skdae
assert "skdae.onnx" not in sys.modules and "onnx" not in sys.modules
assert "skl2onnx" not in sys.modules
for name in ("onnx", "skl2onnx", "onnxruntime"):
    sys.modules[name] = None  # as if not installed
try:
    import skdae.onnx
except ImportError as error:
    assert "pip install 'skdae[onnx]'" in str(error), error
else:
    raise AssertionError("skdae.onnx imported without onnx")
print("ok")
"""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
