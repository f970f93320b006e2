"""Reading and forging model files for the tests (a uniquely named module).

Also writes zip archives like those of skdae 0.1-0.3, lying in any field on request.
"""

import io
import json
import struct
import zipfile
from pathlib import Path

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


# ------------------------------------------------------- zip archives of skdae 0.1-0.3

_LOCAL = struct.Struct("<4sHHHHHLLLHH")
_CENTRAL = struct.Struct("<4sHHHHHHLLLHHHHHLL")
_END = struct.Struct("<4sHHHHLLH")


def compressed_member(name, blocks, method):
    """A zip member as zipfile compresses it, declared truthfully.

    ``blocks`` is an iterable of bytes (a bomb need not be held whole). Returns a dict
    of what :func:`write_zip` declares: ``name``, ``data`` (the compressed bytes),
    ``method``, ``crc``, ``size`` and ``compressed_size``.
    """
    buffer = io.BytesIO()
    info = zipfile.ZipInfo(name)
    info.compress_type = method
    with zipfile.ZipFile(buffer, "w") as archive, archive.open(info, "w") as member:
        for block in blocks:
            member.write(block)
    raw = buffer.getvalue()
    fields = _LOCAL.unpack_from(raw)
    start = _LOCAL.size + fields[-2] + fields[-1]
    data = raw[start : start + info.compress_size]
    return {
        "name": name,
        "data": data,
        "method": method,
        "crc": info.CRC,
        "size": info.file_size,
        "compressed_size": len(data),
    }


def write_zip(path, members):
    """Write ``members`` as a zip archive that declares exactly what each says, true or not.

    Each member is a dict as :func:`compressed_member` returns; edit it to make the
    archive lie. Optional keys: ``flags``, ``offset_shift`` (added to the local header
    offset in the central directory) and ``local_method`` (the local header's method).
    """
    body, index = bytearray(), bytearray()
    for member in members:
        name = member["name"].encode()
        declared = (member["crc"], member["compressed_size"], member["size"], len(name))
        offset = len(body)
        method = member["method"]
        flags = member.get("flags", 0)
        local_method = member.get("local_method", method)
        body += _LOCAL.pack(b"PK\x03\x04", 20, flags, local_method, 0, 0x21, *declared, 0)
        body += name + member["data"]
        unused = (0, 0, 0, 0, 0)  # extra and comment lengths, disk, attributes
        shifted = offset + member.get("offset_shift", 0)
        index += _CENTRAL.pack(
            b"PK\x01\x02", 20, 20, flags, method, 0, 0x21, *declared, *unused, shifted
        )
        index += name
    end = _END.pack(b"PK\x05\x06", 0, 0, len(members), len(members), len(index), len(body), 0)
    Path(path).write_bytes(bytes(body + index + end))
    return path
