"""Download files from a list of mirrors: atomic, verified, with progress on stderr.

Only the standard library is used, so downloading adds no dependency. Every attempt
streams into a temporary file beside the destination, is checked against the expected
MD5 of its uncompressed content, and only then takes the final name: a failed, timed
out, truncated or interrupted attempt leaves nothing behind. The tests serve files from
a local HTTP server on 127.0.0.1; the network is never needed to exercise this module.
"""

import http.client
import socket
import sys
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from skdae.datasets._base import atomic_write, md5_file
from skdae.exceptions import ChecksumError, DownloadError

# Looked up at call time, so tests can monkeypatch them.
_urlopen = urllib.request.urlopen
# Seconds to wait for a connection, and then for each read: a mirror that does not
# answer within this is given up on (pip waits as long). It bounds each attempt's
# silence, not its length, so a slow but steady connection still finishes; offline, the
# first file's attempts at the two public mirrors take at most twice this.
DOWNLOAD_TIMEOUT_S = 15
_CHUNK = 1 << 16
_USER_AGENT = "skdae-datasets (Python urllib)"
_BAR_WIDTH = 30
# What a failed attempt can raise: network and file errors (OSError, urllib's URLError
# and HTTPError among them), http.client's protocol errors (not OSErrors), and
# ChecksumError for bytes that are not the expected file.
_ATTEMPT_ERRORS = (OSError, http.client.HTTPException, ChecksumError)


def download_file(urls, dest, *, md5, stream=None, timeout=None):
    """Fetch ``dest`` from the first URL in ``urls`` that serves the right bytes.

    Each attempt streams into a temporary file beside ``dest``, checks the MD5 of
    the uncompressed content, and only then renames it to ``dest``. A failed or
    interrupted attempt leaves nothing behind. Progress goes to ``stream``
    (default: ``sys.stderr`` at call time): a bar on a terminal, a line per
    attempt otherwise. ``timeout`` (default :data:`DOWNLOAD_TIMEOUT_S`) bounds the
    wait for a connection and for each read. Returns ``dest``.
    """
    return _download(urls, Path(dest), md5=md5, stream=stream, timeout=timeout)[0]


def download_files(names, mirrors, folder, *, md5, stream=None, timeout=None):
    """Download each of ``names`` from the base URLs ``mirrors`` into ``folder``.

    ``md5`` maps each name to the expected MD5 of its uncompressed content. The
    mirror that served a file is tried first for the next one, so a mirror that is
    down costs one time-out, not one per file. The first file that no mirror
    delivers raises :class:`DownloadError`; the files fetched before it stay (each
    is complete and verified). Returns the paths, in order.
    """
    mirrors = list(mirrors)
    paths = []
    for name in names:
        urls = [mirror + name for mirror in mirrors]
        path, url = _download(
            urls, Path(folder) / name, md5=md5[name], stream=stream, timeout=timeout
        )
        paths.append(path)
        mirrors.insert(0, mirrors.pop(urls.index(url)))
    return paths


def _download(urls, dest, *, md5, stream, timeout):
    """Try each URL in turn; return ``(dest, the URL that served it)``."""
    stream = sys.stderr if stream is None else stream
    timeout = DOWNLOAD_TIMEOUT_S if timeout is None else timeout
    errors = []
    for url in urls:
        problem = _attempt(url, dest, md5=md5, stream=stream, timeout=timeout)
        if problem is None:
            return dest, url
        errors.append(f"  {url}: {problem}")
    tried = "\n".join(errors)
    raise DownloadError(
        f"Could not download {dest.name}; every mirror failed:\n{tried}\n"
        f"Check your network or proxy settings, or download the file by hand from one of "
        f"the URLs above and put it in {dest.parent}/."
    )


def _attempt(url, dest, *, md5, stream, timeout):
    """One try at ``url``: None on success, else what went wrong, in a few words."""
    progress = _Progress(stream, dest.name, urlsplit(url).netloc or url)
    try:
        with atomic_write(dest, validate=lambda tmp: _check_content(tmp, md5)) as out:
            _copy_url(url, out, progress=progress, timeout=timeout)
    except _ATTEMPT_ERRORS as exc:
        problem = describe_failure(exc, timeout)
        progress.close(f"failed: {problem}")
        return problem
    except BaseException:  # Ctrl-C: end the progress line, leave nothing, go on up
        progress.close("interrupted")
        raise
    progress.close("done")
    return None


def _copy_url(url, out, *, progress, timeout):
    """Copy the body at ``url`` into the binary file ``out``, reporting progress."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    done = 0
    with _urlopen(request, timeout=timeout) as response:
        total = _content_length(response.headers)
        progress.start(total)
        for chunk in iter(lambda: response.read(_CHUNK), b""):
            out.write(chunk)
            done += len(chunk)
            progress.update(done)
    if total and done != total:
        raise DownloadError(f"the connection closed after {done:,} of {total:,} bytes")


def _content_length(headers):
    """The body's announced size in bytes, or 0 when unknown (absent or not a number)."""
    try:
        return max(int(headers.get("Content-Length") or 0), 0)
    except ValueError:
        return 0


def _check_content(path, expected):
    """Raise ChecksumError unless the (uncompressed) content of ``path`` hashes to
    ``expected``. A body that is not the file at all (a truncated gzip stream, an
    HTML error page) is said to be so, without the temporary file's name."""
    try:
        actual = md5_file(path)
    except (OSError, EOFError, zlib.error) as exc:  # gzip's errors for a damaged stream
        raise ChecksumError(f"the bytes served are not a complete gzip file ({exc})") from None
    if actual != expected:
        raise ChecksumError(
            f"the file served is not the expected one: the MD5 of its content is {actual}, "
            f"expected {expected}"
        )


def describe_failure(exc, timeout):
    """What went wrong with one attempt, in a few words a user can act on."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"no answer within {timeout:g} s (time-out)"
    if isinstance(exc, http.client.IncompleteRead):  # a chunked body cut short
        return "the connection closed before the end of the file"
    if isinstance(exc, http.client.HTTPException):
        return f"the server broke the HTTP protocol ({type(exc).__name__}: {exc})"
    return str(reason) or type(reason).__name__


class _Progress:
    """One download's progress on ``stream``.

    On a terminal, a bar redrawn in place (``\\r``) when the percentage changes; in a
    log or a pipe, where ``\\r`` would pile every redraw onto one line, one line when
    the transfer starts and one when it ends.
    """

    def __init__(self, stream, label, host):
        self._stream = stream
        self._label = f"Downloading {label} from {host}"
        self._tty = _isatty(stream)
        self._total = 0
        self._done = 0
        self._shown = None
        self._started = None
        self._open = False

    def start(self, total):
        self._total, self._started, self._open = total, time.perf_counter(), True
        if not self._tty:
            size = f" ({_size(total)})" if total else ""
            self._write(f"{self._label}{size} ...\n")
        self.update(0)

    def update(self, done):
        self._done = done
        if not self._tty:
            return
        step = done * 100 // self._total if self._total else done >> 20
        if step == self._shown:
            return
        self._shown = step
        if self._total:
            filled = _BAR_WIDTH * done // self._total
            bar = "#" * filled + "." * (_BAR_WIDTH - filled)
            text = f"[{bar}] {step:3d}% {_size(done)} of {_size(self._total)}"
        else:
            text = _size(done)
        self._write(f"\r{self._label}: {text}")

    def close(self, outcome):
        """End the display: ``done``, ``failed: ...`` or ``interrupted``."""
        if outcome == "done" and self._started is not None:
            seconds = time.perf_counter() - self._started
            outcome = f"done, {_size(self._done)} in {seconds:.1f} s"
        if self._open:  # after the bar, or on the line below "Downloading ... (N MB) ..."
            self._write(f"  {outcome}\n")
        else:  # failed before the transfer started (no connection, HTTP error)
            self._write(f"{self._label}: {outcome}\n")
        self._open = False

    def _write(self, text):
        self._stream.write(text)
        self._stream.flush()


def _size(n_bytes):
    """``9.9 MB``, ``28.9 kB`` or ``512 bytes``."""
    if n_bytes >= 1e6:
        return f"{n_bytes / 1e6:.1f} MB"
    if n_bytes >= 1e3:
        return f"{n_bytes / 1e3:.1f} kB"
    return f"{n_bytes} bytes"


def _isatty(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
