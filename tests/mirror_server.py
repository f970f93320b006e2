"""An HTTP server on 127.0.0.1 that plays MNIST mirrors, good and bad, for the download tests.

``MirrorServer(folder)`` serves the files of ``folder`` under one path prefix per
behaviour, so one server is every kind of mirror a download can meet::

    /ok/NAME          the file
    /wrong/NAME       a well-formed gzip of other bytes (refused by its checksum)
    /html/NAME        an HTML page with status 200, as a captive portal sends
    /truncated/NAME   half the file, then the connection closes (Content-Length: all of it)
    /unsized/NAME     half the file, then the connection closes (no Content-Length)
    /stall/NAME       half the file, then silence
    /silent/NAME      reads the request and never answers
    /missing/NAME     404

Nothing here reaches beyond the loopback interface.
"""

import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np

from skdae.datasets import write_idx

_MODES = ("ok", "wrong", "html", "truncated", "unsized", "stall", "silent", "missing")


def write_mnist_like(folder, *, n_train=20, n_test=10, seed=0):
    """Write four small gzipped IDX files with MNIST's names into ``folder``; return the
    MD5 of each one's uncompressed content by name (to stand in for MNIST's table)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8),
    }
    md5 = {}
    for name, array in arrays.items():
        write_idx(folder / f"{name}.gz", array, compress=True)
        with gzip.open(folder / f"{name}.gz", "rb") as stream:
            md5[name] = hashlib.md5(stream.read()).hexdigest()
    return md5


class MirrorServer:
    """Serve ``folder`` on 127.0.0.1 (a free port) from a thread; use as a context manager."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.requests = []  # (mode, name) of every request, in order
        self._release = threading.Event()  # set at shutdown: silent handlers return
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                _, mode, name = (self.path.split("/", 2) + ["", ""])[:3]
                server.requests.append((mode, name))
                path = server.folder / name
                if mode not in _MODES or mode == "missing" or not path.is_file():
                    self.send_error(404)
                    return
                body = path.read_bytes()
                if mode == "silent":
                    server._release.wait(30)
                    self.close_connection = True
                    return
                if mode == "wrong":
                    body = gzip.compress(b"not the file you are looking for" * 100, mtime=0)
                if mode == "html":
                    body = b"<html><body>Please log in to the network.</body></html>"
                self.send_response(200)
                if mode != "unsized":
                    self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if mode in ("truncated", "unsized", "stall"):
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    if mode == "stall":
                        server._release.wait(30)
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args):  # keep the test output clean
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, mode):
        """The base URL of the mirror that behaves as ``mode`` (ends in ``/``)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/{mode}/"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        return False
