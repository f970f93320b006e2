"""pytest's settings for the whole tree; the tests' fixtures are in tests/conftest.py."""

from importlib.util import find_spec

# skdae/onnx.py imports only with the onnx extra, and its examples run onnxruntime:
# without them its doctests are not collected, as tests/test_onnx.py skips itself.
if not all(find_spec(name) for name in ("onnx", "onnxruntime", "skl2onnx")):
    collect_ignore = ["skdae/onnx.py"]
