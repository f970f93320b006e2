"""The model file is safe to load: bounded, checked, and every failure a ModelFileError.

Damage (flips, truncation) is caught by the digest and the structure checks; deliberate
edits (the digest recomputed, see ``forge``) by the validation of every value; signed
files by the key. Memory stays bounded for files built to exhaust it.
"""

import functools
import json
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from fast_settings import FAST
from model_file_helpers import compressed_member, forge, read_raw, write_zip

from skdae import DenoisingAutoencoder, GaussianNoise, MaskingNoise
from skdae._corruption import Compose
from skdae.exceptions import InconsistentVersionWarning, InputError, ModelFileError

DATA = Path(__file__).parent / "data"
LEGACY = DATA / "skdae-0.3.0-format1.skdae"  # written by skdae 0.3.0 (format 1)


@pytest.fixture
def model(small_X, tmp_path):
    corruption = Compose([GaussianNoise(0.2, clip=(0, 1)), MaskingNoise(0.1)])
    dae = DenoisingAutoencoder(**FAST, corruption=corruption, early_stopping=True).fit(small_X)
    return dae, dae.save(tmp_path / "model.skdae")


def _load_refused(path, match=None, **kwargs):
    with pytest.raises(ModelFileError, match=match) as info:
        DenoisingAutoencoder.load(path, **kwargs)
    assert str(path) in str(info.value)
    return info.value


# ------------------------------------------------------------------ deliberate edits


def _set(*keys, value):
    def edit(document, tensors):
        target = document
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


def _tensor(name, transform):
    def edit(document, tensors):
        tensors[name] = transform(tensors[name])

    return edit


EDITS = {
    # parameters go through the estimator's constraint table
    "batch_size 0": (_set("params", "batch_size", value=0), "parameter skdae refuses"),
    "latent_dim a bool": (_set("params", "latent_dim", value=True), "is a bool"),
    "unknown parameter": (_set("params", "evil", value=1), "does not have"),
    "unknown solver": (_set("params", "solver", value="lbfgs"), "parameter skdae refuses"),
    # fitted values go through their declared checks and must agree with each other
    "output activation alone": (
        _set("fitted", "output_activation_", value="identity"),
        "needs output_activation_='sigmoid'",
    ),
    "unknown output activation": (
        _set("fitted", "output_activation_", value="os.system"),
        "output_activation_ must be one of",
    ),
    "negative n_iter_": (_set("fitted", "n_iter_", value=-1), "n_iter_ must be an integer"),
    "n_iter_ a float": (_set("fitted", "n_iter_", value=3.0), "n_iter_ must be an integer"),
    "curve shorter than n_iter_": (_set("fitted", "n_iter_", value=7), "n_iter_ entries"),
    "NaN in the loss curve": (
        _set("fitted", "loss_curve_", value=[0.5, float("nan"), 0.4]),
        "finite number",
    ),
    "best epoch beyond": (_set("fitted", "best_epoch_", value=99), "best_epoch_"),
    "seed out of range": (_set("fitted", "_seed", value=2**40), "_seed"),
    "unknown fitted value": (_set("fitted", "__class__", value="x"), "does not know"),
    "feature names of another width": (
        _set("fitted", "feature_names_in_", value=["a", "b"]),
        "feature_names_in_",
    ),
    "architecture wider than its tensors": (
        _set("fitted", "_architecture", "hidden_layer_sizes", value=[5_000_000]),
        "150,000,014 parameters but the file stores 494",
    ),
    "architecture and parameters both wider": (
        lambda d, t: (
            d["params"].update(hidden_layer_sizes=[5_000_000]),
            d["fitted"]["_architecture"].update(hidden_layer_sizes=[5_000_000]),
        ),
        "5,000,000|parameters but the file stores",
    ),
    "zero-width layer": (
        _set("fitted", "_architecture", "hidden_layer_sizes", value=[0]),
        "architecture",
    ),
    "unknown architecture entry": (
        _set("fitted", "_architecture", "extra", value=1),
        "does not match",
    ),
    # corruptions are rebuilt from a fixed table and validated
    "foreign corruption class": (
        _set("fitted", "corruption_", "class", value="os.system"),
        "Unknown corruption class 'os.system'",
    ),
    "negative noise": (
        _set(
            "fitted",
            "corruption_",
            value={"class": "GaussianNoise", "params": {"std": -1, "clip": None}},
        ),
        "corruption skdae refuses",
    ),
    "deeply nested Compose": (
        _set(
            "fitted",
            "corruption_",
            value=json.loads('{"class": "Compose", "params": {"corruptions": [' * 50 + "]}}" * 50),
        ),
        "malformed",
    ),
    # the header
    "newer format": (_set("format_version", value=99), "Upgrade skdae"),
    "not skdae": (_set("format", value="keras"), "not an skdae model file"),
    "another estimator": (_set("estimator", value="PCA"), "holds a PCA"),
    # tensors: the network's shapes come from the architecture, never the other way round
    "weights transposed": (_tensor("module.encoder.0.weight", lambda t: t.T), "shapes"),
    "weights missing": (
        lambda d, t: t.pop("module.decoder.2.bias"),
        "parameters but the file stores|shapes",
    ),
    "NaN weight": (
        _tensor("module.encoder.0.bias", lambda t: torch.full_like(t, float("nan"))),
        "not finite",
    ),
    "unknown tensor": (
        lambda d, t: t.update({"evil.payload": torch.zeros(3)}),
        "does not know",
    ),
    # the optimizer's state: a wrong shape here crashed the fused Adam kernel in 0.3
    "moment of the wrong shape": (
        _tensor("optimizer.0.exp_avg", lambda t: t[:2]),
        "must be finite float32 of shape",
    ),
    "negative second moment": (
        _tensor("optimizer.0.exp_avg_sq", lambda t: -t - 1),
        ">= 0",
    ),
    "fractional step": (_tensor("optimizer.1.step", lambda t: t + 0.5), "step count"),
    "steps that disagree": (_tensor("optimizer.1.step", lambda t: t + 1), "different numbers"),
    "state for a parameter that does not exist": (
        lambda d, t: t.update({"optimizer.99.step": torch.tensor(1.0)}),
        "covers parameters",
    ),
    "a key another solver keeps": (
        lambda d, t: t.update({"optimizer.0.momentum_buffer": t["optimizer.0.exp_avg"].clone()}),
        "keeps",
    ),
    "learning rate": (_set("fitted", "_optimizer", "lr", value=[-1]), "learning rate"),
}


@pytest.mark.parametrize("edit, match", EDITS.values(), ids=EDITS.keys())
def test_every_deliberate_edit_is_refused_before_use(model, edit, match):
    _, path = model
    forge(path, edit)
    _load_refused(path, match)


def test_the_forge_itself_makes_loadable_files(model, small_X):
    """The edits above are refused for what they change, not for how they were made."""
    dae, path = model
    forge(path, lambda document, tensors: None)
    np.testing.assert_array_equal(
        DenoisingAutoencoder.load(path).predict(small_X), dae.predict(small_X)
    )


def test_a_consistent_edit_of_the_output_activation_loads_and_is_documented_as_possible(
    model, small_X
):
    """What the format cannot promise: a deliberate, consistent change loads. Only a
    signature (key) rules it out; see the next tests."""
    _, path = model

    def to_identity(document, tensors):
        document["fitted"]["output_activation_"] = "identity"
        document["fitted"]["loss_"] = "mse"
        document["fitted"]["_architecture"]["output_activation"] = "identity"

    forge(path, to_identity)
    assert DenoisingAutoencoder.load(path).output_activation_ == "identity"


# -------------------------------------------------------------------------- signatures


def test_a_signed_file_loads_with_its_key_only(small_X, tmp_path):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    path = dae.save(tmp_path / "signed.skdae", key="s3cret")
    loaded = DenoisingAutoencoder.load(path, key=b"s3cret")
    np.testing.assert_array_equal(loaded.predict(small_X), dae.predict(small_X))
    DenoisingAutoencoder.load(path)  # without a key nothing is verified
    _load_refused(path, "not signed with this key", key="guess")
    unsigned = dae.save(tmp_path / "unsigned.skdae")
    _load_refused(unsigned, "is not signed", key="s3cret")


def test_an_edit_of_a_signed_file_is_refused_even_with_a_fresh_digest(small_X, tmp_path):
    path = DenoisingAutoencoder(**FAST).fit(small_X).save(tmp_path / "m.skdae", key="k")
    forge(path, _set("params", "alpha", value=0.5), key="not the key")
    _load_refused(path, "not signed with this key", key="k")


@pytest.mark.parametrize("key", ["", b"", 42])
def test_a_key_must_be_a_non_empty_secret(small_X, tmp_path, key):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    with pytest.raises(InputError, match="key must be a non-empty str or bytes"):
        dae.save(tmp_path / "m.skdae", key=key)
    assert not (tmp_path / "m.skdae").exists()


def test_saving_without_the_optimizer_continues_with_a_fresh_one(small_X, tmp_path):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    path = dae.save(tmp_path / "m.skdae", include_optimizer=False)
    _, tensors = read_raw(path)
    assert not any(name.startswith("optimizer.") for name in tensors)
    loaded = DenoisingAutoencoder.load(path)
    assert loaded._optimizer.state_dict()["state"] == {}
    loaded.partial_fit(small_X)


# ---------------------------------------------------------------- damage: the fuzz test


def test_random_flips_and_truncations_are_refused_or_harmless(small_X, tmp_path):
    """Thousands of single-byte changes and cuts: each ends in ModelFileError or, where
    the byte did not matter (JSON whitespace in the header), in the very same model."""
    dae = DenoisingAutoencoder(**dict(FAST, max_iter=1)).fit(small_X)
    good = dae.save(tmp_path / "good.skdae").read_bytes()
    expected = dae.predict(small_X)
    rng = np.random.default_rng(0)
    target = tmp_path / "fuzzed.skdae"
    outcomes = {"refused": 0, "same model": 0}
    cuts = rng.integers(0, len(good), 300)
    flips = rng.integers(0, len(good), 2700)
    header_end = 8 + struct.unpack("<Q", good[:8])[0]
    flips[:900] = rng.integers(0, header_end, 900)  # the header holds most of the logic
    candidates = [good[:cut] for cut in cuts]
    for position in flips:
        damaged = bytearray(good)
        damaged[position] ^= 1 << int(rng.integers(8))
        candidates.append(bytes(damaged))
    for content in candidates:
        target.write_bytes(content)
        try:
            loaded = DenoisingAutoencoder.load(target)
        except ModelFileError:
            outcomes["refused"] += 1
            continue
        np.testing.assert_array_equal(loaded.predict(small_X), expected)
        assert repr(loaded) == repr(dae)
        outcomes["same model"] += 1
    assert outcomes["refused"] >= 0.95 * len(candidates), outcomes


# -------------------------------------------------------------- containers and bombs


def _write(path, content):
    path.write_bytes(content)
    return path


def _safetensors_with_header(header_bytes, data=b""):
    return struct.pack("<Q", len(header_bytes)) + header_bytes + data


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", "0 bytes long"),
        (b"\x80\x04K\x01.", "5 bytes long"),  # a pickle: never unpickled
        (struct.pack("<Q", 2**60) + b"{}", "header length field"),
        (_safetensors_with_header(b"[1, 2]"), "not a JSON object"),
        (_safetensors_with_header(b"{" * 4096), "not valid JSON"),
        (_safetensors_with_header(b'{"a": 1, "a": 2}'), "twice"),
        (_safetensors_with_header(b'{"__metadata__": {"x": "y"}}'), "lacks"),
        (
            _safetensors_with_header(
                b'{"__metadata__": {"skdae": "{}", "skdae.sha256": "0"},'
                b' "w": {"dtype": "F32", "shape": [100000, 100000], "data_offsets": [0, 16]}}',
                bytes(16),
            ),
            "declares shape",
        ),
        (
            _safetensors_with_header(
                b'{"__metadata__": {"skdae": "{}", "skdae.sha256": "0"},'
                b' "w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}',
                bytes(8),
            ),
            "do not cover",
        ),
        (
            _safetensors_with_header(
                b'{"__metadata__": {"skdae": "{}", "skdae.sha256": "0"},'
                b' "w": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]}}',
                bytes(16),
            ),
            "malformed",
        ),
    ],
    ids=[
        "empty",
        "a pickle",
        "header length beyond the file",
        "header not an object",
        "deep nesting",
        "duplicate key",
        "safetensors but not skdae",
        "a tensor larger than the file",
        "tensors short of the data",
        "a dtype skdae never writes",
    ],
)
def test_malformed_containers_are_refused(tmp_path, content, match):
    _load_refused(_write(tmp_path / "bad.skdae", content), match)


def test_a_duplicate_key_in_the_document_is_refused(model):
    _, path = model

    def duplicate(document, tensors):
        document["fitted"]["n_iter_"] = 3

    forge(path, duplicate)
    raw = path.read_bytes()
    text = raw.replace(b'\\"n_iter_\\": 3', b'\\"n_iter_\\": 3, \\"n_iter_\\": 3', 1)
    assert text != raw
    # The header grew: rewrite its length so that only the duplicate is wrong.
    length = struct.unpack("<Q", text[:8])[0] + len(text) - len(raw)
    path.write_bytes(struct.pack("<Q", length) + text[8:])
    _load_refused(path, "twice")


_MEMORY_PROBE = textwrap.dedent(
    """
    import resource, sys
    from skdae import DenoisingAutoencoder
    from skdae.exceptions import ModelFileError
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for path in sys.argv[1:]:
        try:
            DenoisingAutoencoder.load(path)
        except ModelFileError:
            pass
        else:
            raise SystemExit(f"{path} loaded")
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(grown // 1024)
    """
)


def _zip_bomb(path, uncompressed_bytes):
    """A format-1 archive whose weights member inflates to ``uncompressed_bytes``."""
    document = json.loads(zipfile.ZipFile(LEGACY).read("skdae-model.json"))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("skdae-model.json", json.dumps(document))
        with archive.open("weights.pt", "w", force_zip64=True) as member:
            block = bytes(2**24)
            for _ in range(uncompressed_bytes // len(block)):
                member.write(block)
    return path


def test_memory_bombs_are_refused_within_bounded_memory(model, tmp_path):
    """A file that inflates, or declares a network, far beyond its own size."""
    _, path = model
    wide = tmp_path / "wide.skdae"
    wide.write_bytes(path.read_bytes())
    forge(wide, EDITS["architecture and parameters both wider"][0])
    bomb = _zip_bomb(tmp_path / "bomb.skdae", 2**30)  # 1 GiB of zeros in about 1 MB
    assert bomb.stat().st_size < 2**21
    result = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(wide), str(bomb)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert int(result.stdout) < 100, f"peak memory grew by {result.stdout.strip()} MB"


# ------------------------------------------------------------------ files of 0.1-0.3


def test_a_file_of_skdae_0_3_0_loads_and_predicts_as_it_did(tmp_path):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(np.load(DATA / "format1-inputs.npy"), columns=[f"c{i}" for i in range(10)])
    with pytest.warns(InconsistentVersionWarning, match="skdae 0.3.0"):
        loaded = DenoisingAutoencoder.load(LEGACY)
    # Numbers written on another machine: equal within float32 rounding, not bit for
    # bit (BLAS kernels, and so the order of the sums, differ between CPUs).
    expected = np.load(DATA / "format1-predictions.npy")
    np.testing.assert_allclose(loaded.predict(X), expected, rtol=1e-5, atol=1e-6)
    assert loaded.feature_names_in_[0] == "c0"
    converted = DenoisingAutoencoder.load(loaded.save(tmp_path / "converted.skdae"))
    np.testing.assert_array_equal(converted.predict(X), loaded.predict(X))


def _rewrite_legacy(tmp_path, member, transform):
    with zipfile.ZipFile(LEGACY) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    contents[member] = transform(contents[member])
    path = tmp_path / "legacy.skdae"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:  # as skdae wrote them
        for name, data in contents.items():
            archive.writestr(name, data)
    return path


@pytest.mark.filterwarnings("ignore::skdae.exceptions.InconsistentVersionWarning")
@pytest.mark.parametrize(
    "damage, match",
    [
        ("tamper_weights", "do not match the checksum"),
        ("batch_size_0", "parameter skdae refuses"),
        ("foreign_zip", "not an skdae model file"),
        ("duplicate_member", "twice"),
        ("truncate", "not a readable skdae model file"),
    ],
)
def test_damaged_or_edited_files_of_0_3_are_refused(tmp_path, damage, match):
    if damage == "tamper_weights":
        path = _rewrite_legacy(tmp_path, "weights.pt", lambda b: b[:-30] + bytes(30))
    elif damage == "batch_size_0":
        path = _rewrite_legacy(
            tmp_path,
            "skdae-model.json",
            lambda b: b.replace(b'"batch_size": 32', b'"batch_size": 0'),
        )
    elif damage == "foreign_zip":
        path = tmp_path / "legacy.skdae"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "hi")
    elif damage == "duplicate_member":
        path = _rewrite_legacy(tmp_path, "weights.pt", lambda b: b)
        with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
            archive.writestr("weights.pt", b"again")
    else:
        path = _write(tmp_path / "legacy.skdae", LEGACY.read_bytes()[:4000])
    _load_refused(path, match)


def test_a_file_of_0_3_cannot_be_verified_with_a_key():
    _load_refused(LEGACY, "carry no signature", key="k")


# ------------------------------------------------- hostile archives in the format of 0.3

_DOCUMENT, _WEIGHTS = "skdae-model.json", "weights.pt"
_BOMB_MB = {zipfile.ZIP_DEFLATED: 200, zipfile.ZIP_BZIP2: 64, zipfile.ZIP_LZMA: 64}


@functools.cache
def _legacy_contents():
    with zipfile.ZipFile(LEGACY) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@functools.cache
def _member(name, method=zipfile.ZIP_DEFLATED, bomb=False):
    """A member of the 0.3.0 file recompressed, or a bomb of zeros in its place (made
    once: compressing hundreds of megabytes takes a second)."""
    blocks = [bytes(2**20)] * _BOMB_MB[method] if bomb else [_legacy_contents()[name]]
    return compressed_member(name, blocks, method)


def _hostile(tmp_path, member, lies, method=zipfile.ZIP_DEFLATED, bomb=False):
    """The 0.3.0 file rewritten with one member (``member``) declaring ``lies``."""
    members = []
    for name in (_DOCUMENT, _WEIGHTS):
        entry = dict(_member(name, method, bomb) if name == member else _member(name))
        if name == member:
            entry.update(lies(entry) if callable(lies) else lies)
        members.append(entry)
    return write_zip(tmp_path / "hostile.skdae", members)


def _refused_within_memory(path, match):
    """Refused, and Python's allocations (zlib's output among them) peak below 20 times
    the file's size plus a few megabytes, whatever the file declares."""
    tracemalloc.start()
    try:
        _load_refused(path, match)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = path.stat().st_size
    assert peak < 20 * size + 4 * 2**20, f"{peak:,} bytes at peak for a file of {size:,}"


@pytest.mark.filterwarnings("ignore::skdae.exceptions.InconsistentVersionWarning")
def test_the_hostile_archives_are_0_3_files_until_they_lie(tmp_path):
    """The control: written honestly, the archive of these tests loads."""
    loaded = DenoisingAutoencoder.load(_hostile(tmp_path, _WEIGHTS, {}))
    assert loaded.n_features_in_ == 10


def _honest_size(entry):
    """A bomb declaring the size of the member it replaces."""
    content = _legacy_contents()[entry["name"]]
    return {"size": len(content), "crc": zlib.crc32(content)}


@pytest.mark.parametrize("member", [_DOCUMENT, _WEIGHTS])
@pytest.mark.parametrize(
    "method, name, bomb",
    [
        (zipfile.ZIP_BZIP2, "bzip2", True),
        (zipfile.ZIP_LZMA, "LZMA", True),
        (zipfile.ZIP_STORED, "stored", False),
    ],
)
def test_members_compressed_otherwise_than_skdae_did_are_refused_unread(
    tmp_path, member, method, name, bomb
):
    """skdae 0.1-0.3 deflated every member; zipfile inflates bzip2 and LZMA in one call,
    whatever is declared, so a few kilobytes would inflate to 64 MB."""
    path = _hostile(tmp_path, member, _honest_size if bomb else {}, method, bomb)
    _refused_within_memory(path, rf"{member} is compressed with {name} \(zip method {method}\)")


@pytest.mark.parametrize("member", [_DOCUMENT, _WEIGHTS])
@pytest.mark.parametrize("method, name", [(9, "deflate64"), (99, "an unknown method")])
def test_methods_zipfile_cannot_read_are_refused_by_name(tmp_path, member, method, name):
    _refused_within_memory(
        _hostile(tmp_path, member, {"method": method}), f"{member} is compressed with {name}"
    )


def _at_the_other_member(entry):
    step = 30 + len(_DOCUMENT) + len(_member(_DOCUMENT)["data"])  # the document's extent
    return {"offset_shift": step if entry["name"] == _DOCUMENT else -step}


def _appended(extra):
    return lambda e: {
        "data": e["data"] + extra,
        "compressed_size": e["compressed_size"] + len(extra),
    }


_LIES = {
    "compressed size beyond the file": ({"compressed_size": 2**31}, "beyond the end of the file"),
    "compressed size short of the stream": (
        lambda e: {"compressed_size": e["compressed_size"] - 10},
        "ends before its deflate stream",
    ),
    "bytes after the stream": (_appended(b"junk"), "bytes after the end of its deflate"),
    "offset beyond the file": ({"offset_shift": 2**20}, "beyond the end of the file"),
    "offset one byte on": ({"offset_shift": 1}, "local header that disagrees"),
    "offset at the other member": (_at_the_other_member, "local header that disagrees"),
    "local method": ({"local_method": zipfile.ZIP_BZIP2}, "local header that disagrees"),
    "size one byte short": (lambda e: {"size": e["size"] - 1}, "more than the .* it declares"),
    "size one byte long": (lambda e: {"size": e["size"] + 1}, r"inflates to [\d,]+ bytes, not"),
    "crc": (lambda e: {"crc": e["crc"] ^ 1}, "does not match the CRC"),
    "encrypted": ({"flags": 0x1}, "is encrypted"),
    "not deflate": ({"data": bytes(range(256)), "compressed_size": 256}, "not a valid deflate"),
}


@pytest.mark.parametrize("member", [_DOCUMENT, _WEIGHTS])
@pytest.mark.parametrize("lie", _LIES)
def test_a_member_that_lies_in_any_field_is_refused(tmp_path, member, lie):
    """Every declared field is checked against the file or the inflated bytes."""
    lies, match = _LIES[lie]
    _refused_within_memory(_hostile(tmp_path, member, lies), rf"{member} .*{match}")


def _ratio_limit(entry):
    return {"size": 4 * entry["compressed_size"] + 2**16}


@pytest.mark.parametrize(
    "member, declared, match",
    [
        (_DOCUMENT, _honest_size, "inflates to more than"),
        (_WEIGHTS, _honest_size, "inflates to more than"),
        (_DOCUMENT, {"size": 2**32 - 16}, "skdae writes well under"),
        (_WEIGHTS, {"size": 2**32 - 16}, "far more than float weights compress"),
        (_WEIGHTS, _ratio_limit, "inflates to more than"),
    ],
)
def test_deflate_bombs_stop_at_the_declared_size(tmp_path, member, declared, match):
    """200 MB of zeros deflated to about 200 KB: inflation stops one byte past what is
    declared, and no more than a few times the file's size is ever declared."""
    path = _hostile(tmp_path, member, declared, zipfile.ZIP_DEFLATED, bomb=True)
    assert path.stat().st_size < 2**18
    _refused_within_memory(path, match)
