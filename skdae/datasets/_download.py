"""Download one file from a list of mirrors: atomic, verified, with progress on stderr.

Only the standard library is used, so downloading adds no dependency. Tests
replace ``_urlopen`` with a fake serving local bytes; the network is never
needed to exercise this module.
"""

import http.client
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from skdae.datasets._base import atomic_write, check_md5
from skdae.exceptions import ChecksumError, DownloadError

# Looked up at call time, so tests can monkeypatch it.
_urlopen = urllib.request.urlopen
_TIMEOUT_S = 60
_CHUNK = 1 << 16
_USER_AGENT = "skdae-datasets (Python urllib)"


def download_file(urls, dest, *, md5, stream=None):
    """Fetch ``dest`` from the first URL in ``urls`` that serves the right bytes.

    Each attempt streams into a temporary file beside ``dest``, checks the MD5 of
    the uncompressed content, and only then renames it to ``dest``. A failed or
    interrupted attempt leaves nothing behind. Progress goes to ``stream``
    (default: ``sys.stderr`` at call time).
    """
    dest = Path(dest)
    stream = sys.stderr if stream is None else stream
    errors = []
    for url in urls:
        try:
            with atomic_write(dest, validate=lambda tmp: check_md5(tmp, md5)) as out:
                _copy_url(url, out, label=dest.name, stream=stream)
            return dest
        # http.client.HTTPException (e.g. IncompleteRead) is not an OSError.
        except (OSError, ChecksumError, http.client.HTTPException) as exc:
            print(f"  failed: {exc}", file=stream)
            errors.append(f"  {url}: {exc}")
    tried = "\n".join(errors)
    raise DownloadError(
        f"Could not download {dest.name}; every mirror failed:\n{tried}\n"
        f"Check your network or proxy settings, or download the file by hand from one of "
        f"the URLs above and put it in {dest.parent}/."
    )


def _copy_url(url, out, *, label, stream):
    """Copy the body at ``url`` into the binary file ``out``, reporting progress."""
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    host = urlsplit(url).netloc or url
    done, total, shown = 0, 0, None
    try:
        with _urlopen(request, timeout=_TIMEOUT_S) as response:
            total = int(response.headers.get("Content-Length") or 0)
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                done += len(chunk)
                shown = _report(stream, label, host, done, total, shown)
    finally:
        if shown is not None:  # end the progress line, whatever happened
            stream.write("\n")
            stream.flush()
    if total and done != total:
        raise DownloadError(f"connection closed after {done} of {total} bytes")


def _report(stream, label, host, done, total, shown):
    """Rewrite the progress line when the percentage (or MB, if no size) changes."""
    step = done * 100 // total if total else done >> 20
    if step != shown:
        size = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
        percent = f"{step:3d}% " if total else ""
        stream.write(f"\rDownloading {label} from {host}: {percent}({size})")
        stream.flush()
    return step
