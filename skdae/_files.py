"""File writing that never leaves a half-written file behind."""

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path, *, validate=None):
    """Write ``path`` through a temporary file in the same folder, then rename it.

    Yields a binary file object. After the block, ``validate(temp_path)`` may
    raise to reject the content. On any exception (KeyboardInterrupt included)
    the temporary file is removed and ``path`` is left as it was, so an
    interrupted write or download never leaves a partial file under the final
    name. ``os.replace`` is atomic on one file system, hence the same folder.
    """
    path = Path(path)
    if not path.parent.is_dir():
        # Otherwise mkstemp fails naming a temporary file the user never asked for.
        raise FileNotFoundError(
            f"Cannot write {path}: the folder {path.parent} does not exist; create it first."
        )
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        if validate is not None:
            validate(tmp)
        # mkstemp creates the file owner-only (0600): a replaced file keeps its own
        # permissions (a private 0600 model stays private), a new one gets the usual
        # 0666 less the umask.
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _mode_for(path):
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
