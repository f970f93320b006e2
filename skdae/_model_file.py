"""The container of a model file: safetensors, with skdae's JSON document in its header.

A safetensors file is an 8-byte little-endian header length, a JSON header (each
tensor's dtype, shape and byte range, plus a ``__metadata__`` table of strings) and the
raw tensor bytes. Nothing in it is compressed and nothing is code, so reading is bounded
by the file's own size. skdae's metadata holds:

- ``skdae``: the JSON document (format, versions, parameters, fitted values);
- ``skdae.sha256``: a SHA-256 digest of that document and of every tensor (name, dtype,
  shape and bytes), which detects damage, not deliberate edits: anyone can recompute it;
- ``skdae.hmac-sha256``, when the file was saved with a key: an HMAC-SHA256 of the same
  message under that key, which a reader holding the key checks to know that the file
  was made by someone holding it and not changed since.

:func:`read_model_file` checks the header's length and structure before reading the
tensors, refuses duplicate JSON keys, and turns every failure into
:class:`~skdae.exceptions.ModelFileError`.
"""

import hashlib
import hmac
import json
import os
import struct

import numpy as np
import safetensors.torch
import torch

from skdae.exceptions import InputError, ModelFileError

DOCUMENT_KEY = "skdae"
DIGEST_KEY = "skdae.sha256"
HMAC_KEY = "skdae.hmac-sha256"

# skdae's header is a few kilobytes (a long training history adds ~20 bytes an epoch);
# safetensors itself allows 100 MB. Anything longer is not a file skdae wrote.
MAX_HEADER_BYTES = 16 * 2**20
# Tensors skdae stores: float32 weights, moments and step counts.
_DTYPES = {"F32": (torch.float32, 4)}


def write_model_file(stream, document, tensors, *, key=None):
    """Write ``document`` (a JSON-able dict) and ``tensors`` (name -> CPU tensor)."""
    text = json.dumps(document, indent=1, allow_nan=True)
    tensors = {name: tensor.detach().contiguous() for name, tensor in tensors.items()}
    digest = _digest(text, tensors)
    metadata = {DOCUMENT_KEY: text, DIGEST_KEY: digest.hexdigest()}
    if key is not None:
        metadata[HMAC_KEY] = _signature(key, digest)
    stream.write(safetensors.torch.save(tensors, metadata=metadata))


def read_model_file(path, *, key=None):
    """Return ``(document, tensors)`` from a model file, or raise ModelFileError.

    The header's length and structure are checked before any tensor is read, and the
    tensors (as many bytes as the file holds, nothing inflated) are checked against the
    header and the digest before they are returned. With ``key``, the file must carry
    that key's signature.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as stream:
        prefix = stream.read(8)
        if len(prefix) < 8:
            raise ModelFileError(f"{path} is not an skdae model file: it is {size} bytes long.")
        (header_length,) = struct.unpack("<Q", prefix)
        if not 2 <= header_length <= min(MAX_HEADER_BYTES, size - 8):
            raise ModelFileError(
                f"{path} is not an skdae model file (or is truncated): its header length "
                f"field reads {header_length} bytes, for a file of {size} bytes."
            )
        header = _parse_json(stream.read(header_length), f"{path}'s header")
        table = _check_tensor_table(path, header, size - 8 - header_length)
        metadata = header["__metadata__"]
        document = _parse_json(metadata[DOCUMENT_KEY].encode(), f"{path}'s document")
        stream.seek(0)
        raw = stream.read(size + 1)
    if len(raw) != size:
        raise ModelFileError(f"{path} changed while it was being read; read it again.")
    tensors = safetensors.torch.load(raw)
    del raw
    _check_integrity(path, metadata, tensors, table, key)
    return document, tensors


def _parse_json(raw, what):
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_refuse_duplicate_keys)
    except _DuplicateKey as exc:
        raise ModelFileError(f"{what} names {exc} twice; the file was altered.") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelFileError(
            f"{what} is not valid JSON ({type(exc).__name__}); this is not an skdae model "
            "file, or it is damaged."
        ) from None
    if not isinstance(value, dict):
        raise ModelFileError(f"{what} is not a JSON object; this is not an skdae model file.")
    return value


class _DuplicateKey(Exception):
    pass


def _refuse_duplicate_keys(pairs):
    seen = {}
    for name, value in pairs:
        if name in seen:
            raise _DuplicateKey(repr(name[:80]))
        seen[name] = value
    return seen


def _check_tensor_table(path, header, data_length):
    """Each tensor's dtype and shape; the byte ranges must tile the data exactly."""
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ModelFileError(f"{path} is not an skdae model file: it has no skdae metadata.")
    if DOCUMENT_KEY not in metadata or DIGEST_KEY not in metadata:
        raise ModelFileError(
            f"{path} is a safetensors file but not an skdae model file (its metadata lacks "
            f"{sorted({DOCUMENT_KEY, DIGEST_KEY} - set(metadata))})."
        )
    table, ranges = {}, []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not (
            isinstance(entry, dict)
            and set(entry) == {"dtype", "shape", "data_offsets"}
            and entry["dtype"] in _DTYPES
            and _is_list_of_ints(entry["shape"])
            and _is_list_of_ints(entry["data_offsets"])
            and len(entry["data_offsets"]) == 2
        ):
            raise ModelFileError(f"{path}: the header entry of tensor {name[:80]!r} is malformed.")
        begin, end = entry["data_offsets"]
        n_bytes = _DTYPES[entry["dtype"]][1] * int(np.prod(entry["shape"], dtype=object))
        if end - begin != n_bytes:
            raise ModelFileError(
                f"{path}: tensor {name[:80]!r} declares shape {entry['shape']} but "
                f"{end - begin} bytes; the file is damaged."
            )
        table[name] = (entry["dtype"], tuple(entry["shape"]))
        ranges.append((begin, end))
    position = 0
    for begin, end in sorted(ranges):
        if begin != position:
            break
        position = end
    if position != data_length or len(ranges) != len(table):
        raise ModelFileError(
            f"{path} is truncated or damaged: its tensors do not cover its {data_length} "
            "data bytes exactly."
        )
    return table


def _is_list_of_ints(value):
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63 for v in value
    )


def _check_integrity(path, metadata, tensors, table, key):
    loaded = {name: (_dtype_name(t), tuple(t.shape)) for name, t in tensors.items()}
    if loaded != table:
        raise ModelFileError(f"{path}: the tensors read differ from the header's table.")
    digest = _digest(metadata[DOCUMENT_KEY], tensors)
    if not hmac.compare_digest(digest.hexdigest(), metadata[DIGEST_KEY]):
        raise ModelFileError(
            f"{path} is damaged: its content does not match the digest saved with it. "
            "Copy or download the file again, or save the model again from its source."
        )
    if key is None:
        return
    signature = metadata.get(HMAC_KEY)
    if signature is None:
        raise ModelFileError(
            f"{path} is not signed, so it cannot be verified with the key given. Load it "
            "without a key only if you trust where it came from."
        )
    if not hmac.compare_digest(_signature(key, digest), signature):
        raise ModelFileError(
            f"{path} was not signed with this key, or was changed after it was signed. "
            "Do not use it unless you trust where it came from."
        )


def _dtype_name(tensor):
    return next((name for name, (dtype, _) in _DTYPES.items() if dtype == tensor.dtype), None)


def _digest(document_text, tensors):
    """SHA-256 over the document and each tensor's name, dtype, shape and bytes."""
    digest = hashlib.sha256()
    digest.update(document_text.encode("utf-8"))
    for name in sorted(tensors):
        tensor = tensors[name]
        digest.update(b"\0" + name.encode("utf-8") + b"\0")
        digest.update(f"{tensor.dtype}{tuple(tensor.shape)}".encode())
        digest.update(memoryview(tensor.contiguous().numpy()).cast("B"))
    return digest


def _signature(key, digest):
    return hmac.new(key, digest.digest(), hashlib.sha256).hexdigest()


def check_key(key):
    """The signing key as bytes (None stays None); a clear error for anything else."""
    if key is None:
        return None
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, (bytes, bytearray)) or len(key) == 0:
        raise InputError(
            f"key must be a non-empty str or bytes (a secret shared by who saves and who "
            f"loads); got {type(key).__name__}."
        )
    return bytes(key)
