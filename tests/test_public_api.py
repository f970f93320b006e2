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


SUBMODULES = {
    "skdae.datasets": [
        "ChecksumError", "DownloadError", "IDXFormatError", "SampleDataWarning", "get_data_home",
        "load_idx_dataset", "load_mnist", "load_mnist_sample", "read_idx", "write_idx",
    ],
    "skdae.exceptions": [
        "DeviceWarning", "DivergenceError", "InconsistentVersionWarning", "ModelFileError",
        "OvercompleteWarning", "SkdaeError",
    ],
    "skdae.chunks": ["iter_chunks"],
    "skdae.metrics": ["denoising_report", "peak_signal_noise_ratio"],
    "skdae.plotting": [
        "CorruptionDisplay", "LatentSpaceDisplay", "LossCurveDisplay", "ReconstructionDisplay",
    ],
    "skdae.pretrained": ["PRETRAINED_MODELS", "load_pretrained"],
    "skdae.presets": ["PRESETS", "make_preset"],
}


def test_public_submodules_export_the_documented_names():
    import importlib

    for module_name, names in SUBMODULES.items():
        module = importlib.import_module(module_name)
        assert sorted(module.__all__) == sorted(names), module_name
        for name in names:
            obj = getattr(module, name)
            if callable(obj):
                assert inspect.getdoc(obj), f"{module_name}.{name}"


def test_error_classes_subclass_what_users_already_catch():
    from skdae.exceptions import DivergenceError, ModelFileError, SkdaeError

    assert issubclass(DivergenceError, (SkdaeError, ValueError))
    assert issubclass(ModelFileError, (SkdaeError, ValueError))
