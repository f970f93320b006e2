"""Compatibility with skdae 0.1 to 0.3, in one place: their model files and pickles.

Everything here exists only to read what those versions wrote, and can go in the
release that stops reading them (announced one release ahead). What the rest of skdae
keeps for them is declared, not coded: each member's ``_parameters_of_old_models`` and
``_architecture_entries_added`` (see ``skdae._member``) and the defaults of the fitted
fields that older models lack (``Fitted(..., default=...)`` in ``skdae._base``).

* :func:`with_old_parameters`: the parameters a model of those versions lacks, with
  the values that reproduce how it was trained.
* :func:`from_flat_pickle`: the flat pickle layout of 0.1 to 0.3.
* :func:`read_legacy_model_file`: format 1, within bounded memory (below).

Format 1 is a zip archive of ``skdae-model.json`` and ``weights.pt`` (``torch.save`` of
``{"module": state dict, "optimizer": state dict}``), deflated. Nothing the archive
declares is trusted: before anything is inflated it must hold exactly those two
members, each deflated (the only method skdae wrote; zipfile inflates bzip2 and LZMA
whole, whatever size is declared), unencrypted, lying within the file, the document
at most :data:`MAX_DOCUMENT_BYTES` and the weights no more than
:data:`MAX_COMPRESSION_RATIO` times their compressed size (float weights barely
compress; a bomb compresses a thousandfold). zipfile only lists the members: skdae
reads each one's bytes itself and inflates them in chunks with an output limit, so
memory stays within a small multiple of the file size whatever the Python version.
The inner torch archive must store its records uncompressed, and torch reads it with
``weights_only=True``, which accepts tensors and plain containers only. The result
has the tensor names of format 2, so both formats go through the same checks
afterwards.
"""

import hashlib
import io
import os
import struct
import zipfile
import zlib

import torch

from skdae.exceptions import ModelFileError

DOCUMENT_MEMBER = "skdae-model.json"
WEIGHTS_MEMBER = "weights.pt"
MAX_DOCUMENT_BYTES = 16 * 2**20
MAX_COMPRESSION_RATIO = 4
_SMALL = 2**16  # members this small may compress better: headers, tiny networks
_CHUNK = 2**16  # compressed bytes read at a time
_LOCAL_HEADER = struct.Struct("<4sHHHHHLLLHH")  # a zip member's local file header
_LOCAL_SIGNATURE = b"PK\x03\x04"
_ENCRYPTED = 0x1 | 0x40  # flag bits: traditional and strong encryption
_METHOD_NAMES = {0: "stored", 8: "deflate", 9: "deflate64", 12: "bzip2", 14: "LZMA"}


def is_legacy_model_file(path):
    """True when ``path`` starts like a zip archive (format 1); format 2 never does."""
    with open(path, "rb") as stream:
        return stream.read(4) == _LOCAL_SIGNATURE


def read_legacy_model_file(path, parse_json):
    """Return ``(document, tensors)`` from a format-1 file; ModelFileError otherwise.

    ``parse_json(raw, what)`` parses the document (refusing duplicate keys).
    """
    try:
        # zipfile reads the central directory only (it lies within the file); the
        # members' bytes are read below, by offsets checked against the file's length.
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
        with open(path, "rb") as stream:
            length = os.fstat(stream.fileno()).st_size
            members = _check_members(path, infos, length)
            raw = _inflate(path, stream, length, members[DOCUMENT_MEMBER])
            document = parse_json(raw, f"{path}'s {DOCUMENT_MEMBER}")
            weights = _inflate(path, stream, length, members[WEIGHTS_MEMBER])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(
            f"{path} is not a readable skdae model file ({type(exc).__name__}); it may be "
            "truncated or of another kind."
        ) from None
    if hashlib.sha256(weights).hexdigest() != document.get("weights_sha256"):
        raise ModelFileError(
            f"The weights in {path} do not match the checksum recorded beside them: the "
            "file was altered or damaged. Save the model again from its source."
        )
    _check_inner_archive(path, weights)
    saved = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    return document, _flat_tensors(path, saved)


def _refused(path, info, problem):
    """The error for a member whose declarations skdae 0.1-0.3 could not have written."""
    return ModelFileError(
        f"{path}: its member {info.filename} {problem}. skdae 0.1 to 0.3 never wrote "
        "such a file: it is damaged or was made by something else. Do not use it; load "
        "a copy you trust, or save the model again from its source."
    )


def _check_members(path, infos, length):
    """The two members by name, once every size they declare is within bounds."""
    names = [info.filename for info in infos]
    expected = {DOCUMENT_MEMBER, WEIGHTS_MEMBER}
    if len(names) != len(set(names)):
        raise ModelFileError(f"{path} names a member twice; the file was altered.")
    if set(names) != expected:
        raise ModelFileError(
            f"{path} is a zip archive but not an skdae model file: it holds "
            f"{sorted(names)[:5]}, not {sorted(expected)}."
        )
    members = {info.filename: info for info in infos}
    for info in infos:
        _check_method(path, info)
        _check_extent(path, info, length)
    document, weights = members[DOCUMENT_MEMBER], members[WEIGHTS_MEMBER]
    if document.file_size > MAX_DOCUMENT_BYTES:
        raise ModelFileError(
            f"{path}: its {DOCUMENT_MEMBER} declares {document.file_size:,} bytes; skdae "
            f"writes well under {MAX_DOCUMENT_BYTES:,}. The file is not a model skdae made."
        )
    # compress_size is within the file (_check_extent), so this bounds the weights by
    # a multiple of the file's own size.
    if weights.file_size > MAX_COMPRESSION_RATIO * weights.compress_size + _SMALL:
        raise ModelFileError(
            f"{path}: its weights inflate from {weights.compress_size:,} to "
            f"{weights.file_size:,} bytes, far more than float weights compress. The file "
            "is not a model skdae made."
        )
    return members


def _check_method(path, info):
    """Deflate only: skdae 0.1-0.3 deflated every member, and zipfile would inflate
    the other methods (bzip2, LZMA) in one call, however large."""
    if info.compress_type != zipfile.ZIP_DEFLATED:
        name = _METHOD_NAMES.get(info.compress_type, "an unknown method")
        raise _refused(
            path, info, f"is compressed with {name} (zip method {info.compress_type}), not deflate"
        )
    if info.flag_bits & _ENCRYPTED:
        raise _refused(path, info, "is encrypted")


def _check_extent(path, info, length):
    """The member's local header and compressed bytes must lie within the file."""
    end = info.header_offset + _LOCAL_HEADER.size + info.compress_size
    if info.header_offset < 0 or end > length:
        raise _refused(
            path,
            info,
            f"declares {info.compress_size:,} compressed bytes at offset "
            f"{info.header_offset:,}, beyond the end of the file ({length:,} bytes)",
        )


def _inflate(path, stream, length, info):
    """The member's bytes, read from its own local header on and inflated in bounds."""
    start = _data_start(path, stream, info)
    if start + info.compress_size > length:
        raise _refused(path, info, "runs past the end of the file")
    stream.seek(start)
    try:
        data = _inflate_bounded(path, stream, info)
    except zlib.error:
        raise _refused(path, info, "is not a valid deflate stream") from None
    if zlib.crc32(data) != info.CRC:
        raise _refused(path, info, "does not match the CRC its archive declares")
    return bytes(data)


def _data_start(path, stream, info):
    """Where the compressed bytes begin: after the local header, checked against the
    central directory's entry (zipfile trusts the central one; the two must agree)."""
    stream.seek(info.header_offset)
    header = stream.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size:
        raise _refused(path, info, "has a truncated local header")
    signature, _, _, method, _, _, _, _, _, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    name = info.filename.encode("utf-8")
    if (
        signature != _LOCAL_SIGNATURE
        or method != info.compress_type
        or name_length != len(name)
        or stream.read(name_length) != name
    ):
        raise _refused(path, info, "has a local header that disagrees with the archive's index")
    return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length


def _inflate_bounded(path, stream, info):
    """Raw deflate, fed in chunks, never producing more than the declared size + 1.

    Each call may only return one byte beyond what the member still declares, so a bomb
    is stopped there; zlib consumes all input unless its output limit is reached, so
    the inner loop always ends.
    """
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    data = bytearray()
    left = info.compress_size
    while left and not inflater.eof:
        chunk = stream.read(min(_CHUNK, left))
        if not chunk:
            raise _refused(path, info, "runs past the end of the file")
        left -= len(chunk)
        while chunk and not inflater.eof:
            room = info.file_size - len(data)
            piece = inflater.decompress(chunk, room + 1)
            if len(piece) > room:
                raise _refused(
                    path, info, f"inflates to more than the {info.file_size:,} bytes it declares"
                )
            data += piece
            chunk = inflater.unconsumed_tail
    if not inflater.eof:
        raise _refused(path, info, "ends before its deflate stream does (truncated)")
    if left or inflater.unused_data:
        raise _refused(path, info, "has bytes after the end of its deflate stream")
    if len(data) != info.file_size:
        raise _refused(
            path, info, f"inflates to {len(data):,} bytes, not the {info.file_size:,} it declares"
        )
    return data


def _check_inner_archive(path, weights):
    """torch.save writes an archive of stored (uncompressed) records: nothing to inflate."""
    with zipfile.ZipFile(io.BytesIO(weights)) as inner:
        infos = inner.infolist()
    if any(info.compress_type != zipfile.ZIP_STORED for info in infos) or (
        sum(info.file_size for info in infos) > len(weights)
    ):
        raise ModelFileError(f"{path}: its weights are not a plain torch archive.")


def _flat_tensors(path, saved):
    """``{"module": ..., "optimizer": ...}`` as format 2's flat tensor names."""
    if not isinstance(saved, dict) or not set(saved) <= {"module", "optimizer"}:
        raise ModelFileError(f"{path}: its weights member is not an skdae state.")
    tensors = {}
    for name, tensor in dict(saved.get("module", {})).items():
        tensors[f"module.{name}"] = tensor
    optimizer = saved.get("optimizer")
    if optimizer is not None:
        for index, state in dict(optimizer["state"]).items():
            for key, value in dict(state).items():
                tensors[f"optimizer.{index}.{key}"] = value
    if not all(isinstance(t, torch.Tensor) for t in tensors.values()):
        raise ModelFileError(f"{path}: its weights member holds values that are not tensors.")
    return tensors


def with_old_parameters(estimator_class, params):
    """``params`` completed with what models of 0.1 to 0.3 lack (a newer model's own
    values win)."""
    return {**estimator_class._parameters_of_old_models, **params}


def is_flat_pickle(state):
    """Whether an unpickled ``__dict__`` has the flat layout of 0.1 to 0.3."""
    return "_module_state" in state


def from_flat_pickle(state, fields):
    """Parameters and a fitted-state dict from a pickle written by skdae 0.1 to 0.3."""
    state = dict(state)
    fitted = {"module_": state.pop("_module_state"), "_optimizer": state.pop("_optimizer_state")}
    for field in fields:
        if field.name in state:
            fitted[field.name] = state.pop(field.name)
    state.pop("device_", None)
    state["_fitted_state"] = fitted
    return state
