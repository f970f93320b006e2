"""Files for the command line: inputs that are files, outputs that replace no input,
and writes that never leave a half-written file (or folder) behind."""

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

from skdae.exceptions import DataFileError, SkdaeError, WriteError


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


@contextlib.contextmanager
def staged_folder(folder):
    """Yield a temporary folder inside ``folder`` to write files into; at the end, move
    each of them into ``folder`` (created if missing, replacing files of the same name).

    On any exception nothing reaches ``folder``: the temporary folder is removed, and so
    are the folders this call created, so a failed run leaves no partial output and
    keeps the files of an earlier one.
    """
    folder = Path(folder)
    created = [p for p in (folder, *folder.parents) if not os.path.lexists(p)]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder, prefix=".skdae-", suffix=".part"))
        try:
            yield staging
            for item in sorted(staging.iterdir()):
                os.replace(item, folder / item.name)
            staging.rmdir()
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    except BaseException:
        for path in created:  # the deepest first; a folder that is not empty stays
            try:
                path.rmdir()
            except OSError:
                break
        raise


@contextlib.contextmanager
def reporting_write_errors(path):
    """Turn an ``OSError`` raised in the block (a full disk, a read-only file system, no
    permission) into a :class:`~skdae.exceptions.WriteError` that names ``path``."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, SkdaeError):
            raise
        raise WriteError(f"could not write {path}: {exc.strerror or exc}.") from exc


def file_problem(path):
    """None when ``path`` is a regular file (after symbolic links); else what it is, as
    the end of a sentence: 'does not exist', 'is a folder, not a file', ..."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        if os.path.islink(path):
            return "is a symbolic link to a file that does not exist"
        return "does not exist"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a file"
    return "is not a regular file"


def check_output_file(path, inputs=()):
    """Refuse, before any work, an output file that cannot be written or that is one of
    ``inputs`` (pairs of what the input is and its path), however either is spelled."""
    path = Path(path)
    if path.is_dir():
        raise DataFileError(f"cannot write {path}: it is a folder. Name a file in it.")
    _check_not_an_input(path, inputs)
    if os.path.lexists(path.parent) and not path.parent.is_dir():
        raise DataFileError(f"cannot write {path}: {path.parent} is a file, not a folder.")
    if not path.parent.is_dir():
        raise DataFileError(
            f"cannot write {path}: the folder {path.parent} does not exist; create it first."
        )
    _check_can_create_files_in(path.parent, path)


def check_output_folder(folder, names, inputs=()):
    """Refuse, before any work, an output folder that cannot be created or written in,
    or one where the files ``names`` would replace one of ``inputs``."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DataFileError(
            f"the output {folder} is a file, and the results are a folder of files. Name a "
            "folder (it is created if missing)."
        )
    for name in names:
        _check_not_an_input(folder / name, inputs)
    existing = folder
    while not os.path.lexists(existing):
        existing = existing.parent
    if not existing.is_dir():
        raise DataFileError(
            f"cannot create the output folder {folder}: {existing} is a file, not a folder."
        )
    _check_can_create_files_in(existing, folder)


def _check_not_an_input(path, inputs):
    for what, source in inputs:
        if _same_file(path, source):
            raise DataFileError(
                f"cannot write {path}: it is the {what} {source}. Name another output, so "
                f"that the {what} is kept."
            )


def _same_file(a, b):
    """Whether ``a`` and ``b`` name one file: one path however spelled, through symbolic
    links, or one file under two names (a hard link)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def _check_can_create_files_in(folder, target):
    """Create and remove a file in ``folder``: writing ``target`` there can work."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".skdae-write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise WriteError(
            f"cannot write {target}: creating a file in {folder} failed ({exc.strerror or exc})."
        ) from exc


def quoted(value, limit=200):
    """``repr(value)`` for a message, cut to ``limit`` characters and printable (a value
    read from a file may hold anything)."""
    text = printable(repr(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def printable(text):
    """``text`` on one line, every other control character escaped as ``repr`` does,
    so that a message can quote what a file holds without driving the terminal."""
    text = " ".join(line.strip() for line in str(text).split("\n") if line.strip())
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
