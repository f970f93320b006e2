"""Reading and forging model files for the tests (a uniquely named module)."""

import json

from safetensors import safe_open

from skdae._model_file import DOCUMENT_KEY, check_key, write_model_file


def read_raw(path):
    """The document and the tensors of a model file, bypassing every check of skdae."""
    with safe_open(str(path), framework="pt") as f:
        document = json.loads(f.metadata()[DOCUMENT_KEY])
        # Copies: the file is mapped, and forge() rewrites it.
        tensors = {name: f.get_tensor(name).clone() for name in f.keys()}
    return document, tensors


def forge(path, edit, *, key=None):
    """Rewrite ``path`` after ``edit(document, tensors)``, with a valid digest: what a
    deliberate edit looks like (anyone can recompute the digest)."""
    document, tensors = read_raw(path)
    edit(document, tensors)
    with open(path, "wb") as stream:
        write_model_file(stream, document, tensors, key=check_key(key))
    return path
