"""Safe writes: every file is replaced atomically, and writers take the corpus lock in turn."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from filelock import FileLock, Timeout

from graph.model import TakeoffError

LOCK_NAME = ".takeoff.lock"
LOCK_TIMEOUT = 60


def atomic_write(path, text):
    """Write ``text`` (str, or bytes) to ``path``: readers see the old file or the new one,
    never half of one.

    The text goes to a temporary file in the same folder, is flushed to disk, and replaces the
    target with :func:`os.replace` (atomic on POSIX and Windows).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        binary = isinstance(text, bytes)
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8",
                       newline=None if binary else "") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def corpus_lock(root, timeout=LOCK_TIMEOUT):
    """A lock on the corpus folder, held by every writer for its read-check-write cycle."""
    return _Lock(Path(root) / LOCK_NAME, timeout)


class _Lock:
    def __init__(self, path, timeout):
        self._lock = FileLock(str(path), timeout=timeout)
        self._path = path

    def __enter__(self):
        try:
            self._lock.acquire()
        except Timeout:
            raise TakeoffError(f"{self._path}: another takeoff process has held the corpus lock "
                               "for too long; try again") from None
        return self

    def __exit__(self, *exc):
        self._lock.release()
