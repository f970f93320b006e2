"""Downloading MNIST: from a mirror on 127.0.0.1 that serves the files, and from ones
that serve wrong bytes, stop mid-file, stall or never answer; the mirror's URL from the
argument, SKDAE_MNIST_MIRROR or the public list; what is left on disk when it fails."""

import hashlib
import io
import shutil
import time

import numpy as np
import pytest
from mirror_server import MirrorServer

from skdae.datasets import DownloadError, SampleDataWarning, _download, _mnist, load_mnist
from skdae.exceptions import InputError

NAMES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]
GZ_NAMES = [f"{name}.gz" for name in NAMES]


@pytest.fixture
def served(tmp_path, make_idx_folder, monkeypatch):
    """Four small MNIST-layout files on a local HTTP server, with MNIST's MD5 table
    replaced by theirs. ``served.arrays`` holds what was written."""
    folder = tmp_path / "served"
    arrays, md5 = make_idx_folder(folder)
    monkeypatch.setattr(_mnist, "MNIST_MD5", md5)
    monkeypatch.setattr(_download, "DOWNLOAD_TIMEOUT_S", 0.5)  # the silent mirrors' wait
    with MirrorServer(folder) as server:
        server.arrays = arrays
        yield server


def _left_in(folder):
    """Every file and folder under ``folder`` (hidden temporary files included)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# --- a mirror that works ----------------------------------------------------------------


def test_downloads_the_four_files_verified_into_the_data_home(tmp_path, served, capsys):
    home = tmp_path / "home"
    bunch = load_mnist(data_home=home, download=True, mirror=served.url("ok"))
    assert bunch.source == str(home / "mnist")
    np.testing.assert_array_equal(bunch.y_train, served.arrays["train_labels"])
    np.testing.assert_array_equal(
        bunch.X_test, served.arrays["test_images"].reshape(4, -1).astype(np.float32) / 255
    )
    assert _left_in(home) == ["mnist", *(f"mnist/{name}" for name in sorted(GZ_NAMES))]
    err = capsys.readouterr().err
    assert f"Full MNIST is not in {home / 'mnist'}/: downloading the four official files" in err
    host = served.url("ok").split("/")[2]
    assert f"Downloading train-images-idx3-ubyte.gz from {host} (4.7 kB) ...\n  done, " in err
    assert "\r" not in err  # not a terminal: a line per file, no bar redrawn in place

    # Files that are there are not downloaded again.
    asked = len(served.requests)
    load_mnist(data_home=home, download=True, mirror=served.url("ok"))
    assert len(served.requests) == asked
    assert "Downloading" not in capsys.readouterr().err


def test_only_the_missing_files_are_downloaded(tmp_path, served, make_idx_folder, capsys):
    home = tmp_path / "home"
    (home / "mnist").mkdir(parents=True)
    for name in GZ_NAMES[:2]:
        shutil.copy(served.folder / name, home / "mnist" / name)
    load_mnist(data_home=home, download=True, mirror=served.url("ok"))
    assert [name for _, name in served.requests] == GZ_NAMES[2:]
    assert "downloading the missing t10k-images-idx3-ubyte.gz, t10k-labels" in (
        capsys.readouterr().err
    )


def test_the_mirror_comes_from_the_environment_variable(tmp_path, served, monkeypatch):
    monkeypatch.setenv("SKDAE_MNIST_MIRROR", served.url("ok").rstrip("/"))  # "/" is added
    load_mnist(data_home=tmp_path, download=True)
    assert served.requests == [("ok", name) for name in GZ_NAMES]


def test_the_argument_comes_before_the_environment_variable(tmp_path, served, monkeypatch):
    monkeypatch.setenv("SKDAE_MNIST_MIRROR", served.url("missing"))
    load_mnist(data_home=tmp_path, download=True, mirror=served.url("ok"))
    assert {mode for mode, _ in served.requests} == {"ok"}


def test_without_either_the_public_mirrors_are_tried_in_turn(tmp_path, served, monkeypatch, capsys):
    monkeypatch.delenv("SKDAE_MNIST_MIRROR")
    monkeypatch.setattr(_mnist, "MNIST_MIRRORS", (served.url("silent"), served.url("ok")))
    load_mnist(data_home=tmp_path, download=True)
    # The mirror that did not answer costs one time-out: the one that served a file is
    # asked first for the next.
    assert served.requests == [("silent", GZ_NAMES[0])] + [("ok", name) for name in GZ_NAMES]
    assert capsys.readouterr().err.count("failed: no answer within 0.5 s") == 1


def test_a_file_url_mirror(tmp_path, served):
    bunch = load_mnist(data_home=tmp_path, download=True, mirror=served.folder.as_uri())
    assert bunch.X_train.shape == (6, 784) and served.requests == []


# --- mirrors that do not work: refused, and nothing kept -----------------------------------


@pytest.mark.parametrize(
    "mode, problem",
    [
        ("wrong", "the file served is not the expected one: the MD5 of its content is"),
        ("html", "the file served is not the expected one"),
        ("truncated", "the connection closed after 2,"),
        ("unsized", "the bytes served are not a complete gzip file"),
        ("stall", "no answer within 0.5 s (time-out)"),
        ("silent", "no answer within 0.5 s (time-out)"),
        ("missing", "HTTP 404 Not Found"),
    ],
)
def test_a_bad_mirror_is_refused_and_leaves_nothing(tmp_path, served, capsys, mode, problem):
    home = tmp_path / "home"
    url = served.url(mode)
    started = time.monotonic()
    with pytest.raises(DownloadError) as info:
        load_mnist(data_home=home, download=True, mirror=url)
    assert time.monotonic() - started < 10  # a few time-outs of 0.5 s at most
    message = str(info.value)
    assert message.startswith("Could not download train-images-idx3-ubyte.gz; every mirror")
    assert f"{url}train-images-idx3-ubyte.gz: {problem}" in message
    assert "point SKDAE_MNIST_MIRROR (skdae train --mirror) at a copy" in message
    assert not home.exists()  # neither a partial file nor the folders made for it
    assert f"failed: {problem}" in capsys.readouterr().err


def test_files_fetched_before_a_failure_stay_complete(tmp_path, served):
    (served.folder / GZ_NAMES[3]).unlink()  # the mirror lacks the last file
    home = tmp_path / "home"
    with pytest.raises(DownloadError, match="Could not download t10k-labels-idx1-ubyte.gz"):
        load_mnist(data_home=home, download=True, mirror=served.url("ok"))
    # The three verified files stay (the next call fetches only the last), and no
    # temporary file is left beside them.
    assert _left_in(home / "mnist") == sorted(GZ_NAMES[:3])


def test_a_failed_download_falls_back_to_the_sample_and_says_why(tmp_path, served, capsys):
    with pytest.warns(SampleDataWarning) as record:
        bunch = load_mnist(
            data_home=tmp_path / "home",
            download=True,
            mirror=served.url("silent"),
            fallback="sample",
        )
    assert bunch.source == "bundled sample"
    message = str(record[0].message)
    assert "Full MNIST is not available (Could not download train-images-idx3-ubyte.gz" in message
    assert "point SKDAE_MNIST_MIRROR (skdae train --mirror) at a mirror you can reach" in message
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("blocker", ["home", "home/mnist"])
def test_a_data_home_that_cannot_hold_the_files(tmp_path, served, blocker):
    (tmp_path / blocker).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / blocker).write_text("a file, not a folder")
    with pytest.raises(DownloadError, match=r"Cannot download MNIST into .*home/mnist/: .*Set "):
        load_mnist(data_home=tmp_path / "home", download=True, mirror=served.url("ok"))
    assert served.requests == []
    assert (tmp_path / blocker).read_text() == "a file, not a folder"
    with pytest.warns(SampleDataWarning, match="Cannot download MNIST into"):
        load_mnist(
            data_home=tmp_path / "home", download=True, mirror=served.url("ok"), fallback="sample"
        )


# --- the mirror's URL: bad input --------------------------------------------------------------


BAD_MIRRORS = [
    ("ftp://mirror.example.org/mnist/", "not a URL skdae can download from"),
    ("mirror.example.org/mnist", "not a URL skdae can download from"),
    ("/srv/mnist", "not a URL skdae can download from"),
    ("https:///mnist/", "names no host"),
    ("https://mirror.example.org/mnist/?key=1", "has a query or fragment"),
    ("https://mirror.example.org/mnist/#files", "has a query or fragment"),
    ("https://mirror.example.org:99999/mnist/", "is not a valid URL"),
    ("https://mirror.example.org/my mnist/", "contains spaces or control characters"),
    ("https://mirror.example.org/\x1b[31m/", "contains spaces or control characters"),
]


@pytest.mark.parametrize("url, problem", BAD_MIRRORS)
def test_a_bad_mirror_argument_is_a_clear_error(tmp_path, url, problem):
    with pytest.raises(InputError, match="mirror=") as info:
        load_mnist(data_home=tmp_path, download=True, mirror=url, fallback="sample")
    assert problem in str(info.value)
    assert "http://, https:// or file:// URL of a folder that holds the four" in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url, problem", BAD_MIRRORS[:3])
def test_a_bad_mirror_in_the_environment_is_named(tmp_path, monkeypatch, url, problem):
    monkeypatch.setenv("SKDAE_MNIST_MIRROR", url)
    with pytest.raises(InputError, match=f"SKDAE_MNIST_MIRROR='{url}' is {problem}"):
        load_mnist(data_home=tmp_path, download=True, fallback="sample")
    # Not downloading, the variable is not consulted.
    with pytest.warns(SampleDataWarning):
        load_mnist(data_home=tmp_path, fallback="sample")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"mirror": "https://mirror.example.org/"}, "pass download=True as well"),
        ({"mirror": "", "download": True}, "mirror is empty"),
        ({"mirror": 3, "download": True}, "mirror must be a URL string; got int 3"),
    ],
)
def test_other_bad_mirror_arguments(tmp_path, kwargs, match):
    with pytest.raises(InputError, match=match):
        load_mnist(data_home=tmp_path, fallback="sample", **kwargs)


def test_an_empty_environment_variable_counts_as_unset(tmp_path, served, monkeypatch):
    monkeypatch.setenv("SKDAE_MNIST_MIRROR", "")
    monkeypatch.setattr(_mnist, "MNIST_MIRRORS", (served.url("ok"),))
    load_mnist(data_home=tmp_path, download=True)
    assert len(served.requests) == 4


# --- progress -----------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_progress_is_a_bar_redrawn_in_place(tmp_path, served):
    terminal = _Terminal()
    name = GZ_NAMES[0]
    _download.download_file(
        [served.url("ok") + name],
        tmp_path / name,
        md5=_mnist.MNIST_MD5[NAMES[0]],
        stream=terminal,
    )
    text = terminal.getvalue()
    assert text.startswith(f"\rDownloading {name} from 127.0.0.1:")
    assert "[" + "#" * 30 + "] 100% 4.7 kB of 4.7 kB  done, 4.7 kB in " in text
    assert text.endswith(" s\n") and text.count("\n") == 1


def test_on_a_terminal_a_failure_ends_the_line(tmp_path, served):
    terminal = _Terminal()
    with pytest.raises(DownloadError):
        _download.download_file(
            [served.url("truncated") + GZ_NAMES[0]],
            tmp_path / "x.gz",
            md5="0" * 32,
            stream=terminal,
        )
    assert "  failed: the connection closed after" in terminal.getvalue()
    assert terminal.getvalue().endswith("\n") and not (tmp_path / "x.gz").exists()
    assert not list(tmp_path.glob(".x.gz*"))  # nor its temporary file


# --- without a server: what urlopen can do that a server cannot easily ----------------------


class _FakeResponse:
    """A urlopen response serving ``body`` in chunks, optionally raising after the first."""

    def __init__(self, body, *, length=None, fail=None):
        self._stream = io.BytesIO(body)
        self.headers = {"Content-Length": str(len(body) if length is None else length)}
        self._fail = fail

    def read(self, size):
        if self._fail is not None and self._stream.tell() > 0:
            raise self._fail
        return self._stream.read(min(size, 10))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize(
    "response_kwargs, error, match",
    [
        ({"fail": ConnectionResetError("reset by peer")}, DownloadError, "reset by peer"),
        ({"length": 10_000}, DownloadError, "the connection closed after 100 of 10,000 bytes"),
        ({"fail": KeyboardInterrupt()}, KeyboardInterrupt, None),
    ],
)
def test_an_interrupted_download_leaves_no_file(
    tmp_path, monkeypatch, capsys, response_kwargs, error, match
):
    def opener(request, timeout):
        assert request.full_url.startswith("https://mirror.example/")
        return _FakeResponse(bytes(100), **response_kwargs)

    monkeypatch.setattr(_download, "_urlopen", opener)
    with pytest.raises(error, match=match):
        _download.download_file(["https://mirror.example/x.gz"], tmp_path / "x.gz", md5="0" * 32)
    assert list(tmp_path.iterdir()) == []
    assert capsys.readouterr().err.endswith("\n")  # the progress line is ended


@pytest.mark.parametrize("length", [None, "many", "-5"])
def test_a_missing_or_nonsense_content_length_means_unknown(tmp_path, monkeypatch, capsys, length):
    body = b"payload" * 10
    response = _FakeResponse(body)
    response.headers = {} if length is None else {"Content-Length": length}
    monkeypatch.setattr(_download, "_urlopen", lambda request, timeout: response)
    md5 = hashlib.md5(body).hexdigest()
    path = _download.download_file(["https://mirror.example/x"], tmp_path / "x", md5=md5)
    assert path.read_bytes() == body
    assert capsys.readouterr().err.startswith("Downloading x from mirror.example ...\n  done")


# --- the official files (needs SKDAE_DATA) --------------------------------------------------


def test_the_official_files_pass_the_official_checksums_through_a_mirror(
    tmp_path, official_data_home, monkeypatch
):
    """The MD5 table is right for the real files: served from 127.0.0.1, downloaded."""
    monkeypatch.setattr(_download, "DOWNLOAD_TIMEOUT_S", 10)
    with MirrorServer(official_data_home / "mnist") as server:
        if not all((server.folder / name).is_file() for name in GZ_NAMES):
            pytest.skip("the official files in SKDAE_DATA are not gzipped")
        bunch = load_mnist(data_home=tmp_path, download=True, mirror=server.url("ok"))
    assert bunch.X_train.shape == (60_000, 784) and bunch.X_test.shape == (10_000, 784)
