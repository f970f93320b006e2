"""Reading the model files of skdae 0.1 to 0.3 (format 1) within bounded memory.

Format 1 is a zip archive of ``skdae-model.json`` and ``weights.pt`` (``torch.save`` of
``{"module": state dict, "optimizer": state dict}``), deflated. Before anything is
inflated the archive must hold exactly those two members, the document at most
:data:`MAX_DOCUMENT_BYTES` and the weights no more than :data:`MAX_COMPRESSION_RATIO`
times their compressed size (float weights barely compress; a bomb compresses a
thousandfold). Inflation stops at the declared size, the inner torch archive must
store its records uncompressed, and torch reads it with ``weights_only=True``, which
accepts tensors and plain containers only. The result has the tensor names of
format 2, so both formats go through the same checks afterwards.
"""

import hashlib
import io
import zipfile

import torch

from skdae.exceptions import ModelFileError

DOCUMENT_MEMBER = "skdae-model.json"
WEIGHTS_MEMBER = "weights.pt"
MAX_DOCUMENT_BYTES = 16 * 2**20
MAX_COMPRESSION_RATIO = 4
_SMALL = 2**16  # members this small may compress better: headers, tiny networks


def is_legacy_model_file(path):
    """True when ``path`` starts like a zip archive (format 1); format 2 never does."""
    with open(path, "rb") as stream:
        return stream.read(4) == b"PK\x03\x04"


def read_legacy_model_file(path, parse_json):
    """Return ``(document, tensors)`` from a format-1 file; ModelFileError otherwise.

    ``parse_json(raw, what)`` parses the document (refusing duplicate keys).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = _check_members(path, archive)
            document = parse_json(
                _inflate(archive, members[DOCUMENT_MEMBER]), f"{path}'s {DOCUMENT_MEMBER}"
            )
            weights = _inflate(archive, members[WEIGHTS_MEMBER])
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


def _check_members(path, archive):
    infos = archive.infolist()
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
    document, weights = members[DOCUMENT_MEMBER], members[WEIGHTS_MEMBER]
    if document.file_size > MAX_DOCUMENT_BYTES:
        raise ModelFileError(
            f"{path}: its {DOCUMENT_MEMBER} declares {document.file_size:,} bytes; skdae "
            f"writes well under {MAX_DOCUMENT_BYTES:,}. The file is not a model skdae made."
        )
    if weights.file_size > MAX_COMPRESSION_RATIO * weights.compress_size + _SMALL:
        raise ModelFileError(
            f"{path}: its weights inflate from {weights.compress_size:,} to "
            f"{weights.file_size:,} bytes, far more than float weights compress. The file "
            "is not a model skdae made."
        )
    return members


def _inflate(archive, info):
    """The member's bytes; zipfile stops at the declared size and checks the CRC."""
    with archive.open(info) as stream:
        data = stream.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise ModelFileError(f"{info.filename} is not the size its archive declares.")
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
