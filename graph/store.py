"""Safe files: transactions over many corpus files, confined paths, and careful reads.

A change of the corpus is one transaction (:func:`write_files`), all or nothing even after
``kill -9`` or a power cut, designed like a database's redo log:

1. *prepare*: a journal ``.takeoff/txn/journal.json`` names every file to write (with the
   temporary it is staged in, beside the target), every file to delete and every folder to
   create; it is written to a temporary, flushed and renamed into place.
2. *stage*: each new text goes to its temporary (a marker temporary for a delete, which proves
   the folder is writable); all are flushed to disk. Any failure here rolls back: the
   temporaries go, the journal goes, the corpus is byte-identical and the message names the
   corpus file, never a temporary.
3. *commit*: the journal is rewritten, atomically, with ``"state": "commit"``.
4. *apply*: each temporary is renamed over its target and each deleted file unlinked; the
   folders are flushed; the journal is removed.

Every command, read or write, first looks for a journal (one ``stat``). If it finds one it
takes the corpus lock and finishes the transaction: a committed journal is rolled forward
(renames and deletes are idempotent), a prepared one rolled back (its temporaries removed).

Reads are careful too (:func:`read_bytes`): a file that is not a regular file (FIFO, device,
folder, socket), a symbolic link that resolves outside the corpus, or a file over
:data:`MAX_FILE_BYTES` is refused with its path, without being read or followed.
"""
from __future__ import annotations

import errno
import functools
import os
import re
import stat
import sys
from pathlib import Path

from graph.model import ID_PATTERN, PERSPECTIVES_DIR, TakeoffError, display_path

LOCK_NAME = ".takeoff.lock"
LOCK_TIMEOUT = 60
STATE_DIR = ".takeoff"
TXN_DIR = f"{STATE_DIR}/txn"
JOURNAL = "journal.json"
LAST = "last.json"  # the journal of the last finished transaction
MAX_FILE_BYTES = 10 * 1024 * 1024
# Test-only: ``TAKEOFF_TEST_CRASH_STEP=k`` makes the k-th step of a transaction (counted from 1
# over prepare, each staged file, sync, commit, each applied file, sync, journal removal) end
# the process with os._exit(77), as kill -9 would. tests/test_reliability.py uses it to crash
# deterministically between any two steps. Never set it for real work.
CRASH_ENV = "TAKEOFF_TEST_CRASH_STEP"
CRASH_STATUS = 77

_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_BINARY", 0))
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_KIND_OF_FILE = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                 (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                 (stat.S_ISSOCK, "a socket"))


class UnsafeFileError(TakeoffError):
    """A corpus file that is refused without being read; the message names it."""

    def __init__(self, path, reason):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{display_path(path)}: {reason}")


# ---- reading -------------------------------------------------------------------------------

def read_bytes(path, root=None, limit=MAX_FILE_BYTES):
    """The bytes of a corpus file, read only if it is safe to read.

    Parameters
    ----------
    path : path
        The file.
    root : path, optional
        The corpus folder: a symbolic link is followed only if it resolves inside it (default:
        the file's own folder).
    limit : int
        The size cap in bytes.

    Raises
    ------
    UnsafeFileError
        The file is a folder, FIFO, device or socket, a symbolic link resolving outside
        ``root``, or larger than ``limit``. A FIFO is opened non-blocking, so it never hangs.
    """
    path = Path(path)
    try:
        fd = os.open(path, _READ_FLAGS | _NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO with no writer on some systems
            raise UnsafeFileError(path, "not a regular file; refused") from None
        if exc.errno not in (errno.ELOOP, errno.EMLINK) or not _NOFOLLOW:
            raise UnsafeFileError(path, f"cannot read: {exc.strerror}") from None
        fd = _open_link(path, root)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KIND_OF_FILE if test(info.st_mode)), "not a file")
            raise UnsafeFileError(path, f"{kind}, not a regular file; refused")
        if info.st_size > limit:
            raise UnsafeFileError(path, f"{info.st_size} bytes, over the {_size_text(limit)} "
                                        "limit of a corpus file; refused")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while being read
            raise UnsafeFileError(path, f"over the {_size_text(limit)} limit of a corpus file; refused")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _open_link(path, root):
    """Open the file a symbolic link points at, if it lies inside the corpus."""
    real = os.path.realpath(path)
    base = os.path.realpath(root if root is not None else path.parent)
    if not _is_inside(real, base):
        raise UnsafeFileError(path, f"a symbolic link to {real}, outside the corpus; refused")
    try:
        return os.open(real, _READ_FLAGS)
    except OSError as exc:
        raise UnsafeFileError(path, f"cannot read: {exc.strerror}") from None


def read_text(path, root=None):
    """The UTF-8 text of a corpus file, read with :func:`read_bytes`'s checks."""
    data = read_bytes(path, root)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsafeFileError(path, f"not UTF-8 text (byte {exc.start + 1})") from None


def _size_text(limit):
    return f"{limit // (1024 * 1024)} MB" if limit % (1024 * 1024) == 0 else f"{limit} byte"


def _is_inside(real, base):
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


# ---- confinement ---------------------------------------------------------------------------

def check_id(node_id, what="id"):
    """Refuse, by name, anything that is not a slug (lower-case letters, digits, single '-')."""
    if not isinstance(node_id, str) or not ID_PATTERN.match(node_id):
        shown = repr(node_id) if len(repr(node_id)) <= 82 else repr(node_id)[:80] + "..."
        raise TakeoffError(f"{shown} is not a valid {what}: use lower-case letters, digits "
                           "and single '-' (e.g. compute-bottleneck)")
    return node_id


def confine(root, path):
    """``path`` if it stays inside the corpus folder ``root`` once every link is resolved;
    otherwise a :class:`TakeoffError` naming it."""
    path = Path(path)
    base = os.path.realpath(root)
    real = os.path.realpath(path)
    if not _is_inside(real, base) or real == base:
        raise TakeoffError(f"{display_path(path)}: outside the corpus {display_path(root)}; refused")
    return path


def corpus_file(root, path, *, delete=False):
    """Check a file a transaction is to write (or delete): inside ``root``, and named by a
    valid id (``ID.md``, or ``perspectives/NAME.yaml``). Deletes need only the first."""
    root, path = Path(root), Path(path)
    confine(root, path)
    if delete:
        return path
    if path.name.endswith(".md"):
        check_id(path.name[:-3])
        return path
    if path.name.endswith(".yaml") and is_perspective_file(root, path):
        check_id(path.name[:-5], "perspective name")
        return path
    raise TakeoffError(f"{display_path(path)}: not a node or perspective file; refused")


def is_perspective_file(root, path):
    """Whether ``path`` is ``ROOT/perspectives/NAME.yaml``."""
    path = Path(path)
    return (path.suffix == ".yaml"
            and os.path.abspath(path.parent) == os.path.abspath(Path(root) / PERSPECTIVES_DIR))


# ---- the lock ------------------------------------------------------------------------------

def corpus_lock(root, timeout=LOCK_TIMEOUT):
    """A lock on the corpus folder, held by every writer for its read-check-write cycle."""
    return _Lock(Path(root) / LOCK_NAME, timeout)


class _Lock:
    def __init__(self, path, timeout):
        from filelock import FileLock  # only writers and recovery lock: keep reads light

        self._lock = FileLock(str(path), timeout=timeout)
        self._path = path

    def __enter__(self):
        # The lock file is opened for writing and truncated: a planted link would truncate
        # whatever it points at.
        if os.path.islink(self._path) or (os.path.lexists(self._path)
                                          and not os.path.isfile(self._path)):
            raise TakeoffError(f"{display_path(self._path)}: the corpus lock is not a regular "
                               "file; refused (remove it to go on)")
        from filelock import Timeout

        try:
            self._lock.acquire()
        except Timeout:
            raise TakeoffError(f"{self._path}: another takeoff process has held the corpus lock "
                               "for too long; try again") from None
        return self

    def __exit__(self, *exc):
        self._lock.release()


# ---- transactions --------------------------------------------------------------------------

def journal_path(root):
    return Path(root) / TXN_DIR / JOURNAL


def pending(root):
    """Whether an unfinished transaction waits to be finished (one ``stat``)."""
    return os.path.lexists(journal_path(root))


def txn_marker(root):
    """What changes whenever a transaction starts or ends: whether a journal is pending, and
    the identity of the last finished one. Readers compare it before and after loading and
    read again if a writer ran in between."""
    if pending(root):
        return True
    try:
        info = os.stat(Path(root) / TXN_DIR / LAST)
    except OSError:
        return None
    return info.st_ino, info.st_dev, info.st_ctime_ns


def stable_read(root, read, attempts=5):
    """``read()`` as of one state of the corpus: an unfinished transaction is finished first,
    and the read is repeated (up to ``attempts`` times) if a writer ran while it read."""
    for _ in range(attempts):
        before = txn_marker(root)
        if before is True:
            recover(root)
            continue
        result = read()
        if txn_marker(root) == before:
            return result
    with corpus_lock(root):  # writers keep coming: read between two of them
        recover_locked(root)
        return read()


def recover(root):
    """Finish an unfinished transaction, if there is one: roll a committed journal forward,
    a prepared one back. Takes the corpus lock; cheap when there is nothing to do."""
    if not pending(root):
        return False
    with corpus_lock(root):
        return recover_locked(root)


def recover_locked(root):
    """:func:`recover` for a caller that holds the corpus lock."""
    root = Path(root)
    path = journal_path(root)
    if not os.path.lexists(path):
        return False
    journal = _read_journal(root, path)
    if journal["state"] == "commit":
        _apply(root, journal)
    else:
        _roll_back(root, journal)
    _remove_journal(root)
    return True


def write_files(root, changes):
    """Apply ``{path: text (str or bytes) or None to delete}`` to the corpus at ``root`` as one
    transaction. The caller holds the corpus lock and has checked every path (see
    :func:`corpus_file`).

    Raises
    ------
    TakeoffError
        A file could not be staged (read-only folder, full disk...): nothing was changed; the
        message names the corpus file.
    """
    root = Path(root)
    if not changes:
        return
    import secrets

    crash = _CrashPoint()
    txid = secrets.token_hex(8)
    base = os.path.abspath(root)
    writes, texts, deletes, folders = [], [], [], set()
    for path, text in sorted(changes.items(), key=lambda item: str(item[0])):
        rel = _rel(base, path)
        folder, name = os.path.split(rel)
        if text is None:
            if os.path.lexists(path):
                deletes.append([rel, os.path.join(folder, f".{name}.{txid}.del.tmp")])
        else:
            writes.append([rel, os.path.join(folder, f".{name}.{txid}.new.tmp")])
            texts.append(text)
            folders.add(folder)
    created = sorted({d for folder in folders for d in _missing_dirs(base, folder)},
                     key=lambda d: (d.count(os.sep), d))
    journal = {"version": 1, "state": "prepare", "writes": writes, "deletes": deletes,
               "dirs": created}
    confine(root, root / TXN_DIR)  # a planted link must not take the journal elsewhere
    try:
        (root / TXN_DIR).mkdir(parents=True, exist_ok=True)
        _write_journal(root, journal)
        crash.step()
        for rel in created:
            os.mkdir(os.path.join(base, rel))
        for (_, temp), text in zip(writes, texts):
            _stage(os.path.join(base, temp), text)
            crash.step()
        for _, marker in deletes:
            _stage(os.path.join(base, marker), b"")
            crash.step()
        staged = [os.path.join(base, temp) for _, temp in writes + deletes]
        _sync(root, staged, {os.path.dirname(path) for path in staged})
        crash.step()
        journal["state"] = "commit"
        _write_journal(root, journal)
    except BaseException as exc:
        journal["state"] = "prepare"
        _undo(root, journal)
        if isinstance(exc, OSError):
            raise TakeoffError(_stage_error(root, exc, writes + deletes)) from None
        raise
    crash.step()
    try:
        _apply(root, journal, crash)
        _remove_journal(root)
    except OSError as exc:
        raise TakeoffError(f"{display_path(exc.filename or root)}: {exc.strerror}; the change is "
                           "committed and the next takeoff command will finish it") from None
    crash.step()


def _undo(root, journal):
    """Roll back a transaction that failed before it was committed, as far as the disk lets
    (what is left, the next command rolls back)."""
    try:
        _roll_back(root, journal)
        _remove_journal(root)
    except OSError:
        pass


def _rel(base, path):
    """``path`` relative to the absolute folder ``base``."""
    path = os.path.abspath(path)
    if path.startswith(base + os.sep):
        return path[len(base) + 1:]
    return os.path.relpath(path, base)


_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{16}\.(new|del)\.tmp$")


def _missing_dirs(base, folder):
    """The folders from ``base`` down to ``base/folder`` (relative) that do not exist."""
    missing = []
    while folder and not os.path.isdir(os.path.join(base, folder)):
        missing.append(folder)
        folder = os.path.dirname(folder)
    return missing


def _stage(path, text):
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
                 | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0), 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if _syncfs() is None:
            os.fsync(fd)
    finally:
        os.close(fd)


def _stage_error(root, exc, entries):
    """The message of a write that failed before its commit, naming the corpus file (or the
    corpus), never a temporary."""
    target = root
    for rel, temp in entries:
        if exc.filename and os.path.abspath(exc.filename) == os.path.abspath(root / temp):
            target = root / rel
    if target == root and exc.filename and not str(exc.filename).endswith(".tmp") and (
            Path(TXN_DIR).parts[0] not in Path(exc.filename).parts):
        target = exc.filename
    return f"{display_path(target)}: cannot write: {exc.strerror or exc}; nothing was written"


def _apply(root, journal, crash=None):
    base = os.path.abspath(root)
    folders = set()
    for rel, temp in journal["writes"]:
        target, staged = os.path.join(base, rel), os.path.join(base, temp)
        if os.path.lexists(staged):
            os.replace(staged, target)
        folders.add(os.path.dirname(target))
        if crash:
            crash.step()
    for rel, marker in journal["deletes"]:
        for path in (os.path.join(base, rel), os.path.join(base, marker)):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        folders.add(os.path.dirname(os.path.join(base, rel)))
        if crash:
            crash.step()
    _sync(root, [], folders)
    if crash:
        crash.step()


def _roll_back(root, journal):
    base = os.path.abspath(root)
    for _, temp in journal["writes"] + journal["deletes"]:
        try:
            os.unlink(os.path.join(base, temp))
        except FileNotFoundError:
            pass
    for rel in sorted(journal["dirs"], key=lambda d: -d.count(os.sep)):
        try:
            os.rmdir(os.path.join(base, rel))
        except OSError:
            pass  # not empty (someone else's file) or already gone


def _write_journal(root, journal):
    import json

    txn = root / TXN_DIR
    temp = txn / f"{JOURNAL}.tmp"
    data = json.dumps(journal, separators=(",", ":")).encode("utf-8")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW
                 | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, txn / JOURNAL)
    _fsync_dir(txn)


def _remove_journal(root):
    """End a transaction: the journal becomes ``last.json``. Its inode is new with every
    transaction (the journal is written while the previous one still holds the old inode), so
    readers tell exactly whether a writer ran while they read (see :func:`txn_marker`)."""
    txn = Path(root) / TXN_DIR
    try:
        os.replace(txn / JOURNAL, txn / LAST)
    except FileNotFoundError:
        pass
    try:
        os.unlink(txn / f"{JOURNAL}.tmp")
    except FileNotFoundError:
        pass
    _fsync_dir(txn)


def _read_journal(root, path):
    """The journal, checked: a journal is data from disk and could have been planted, so every
    path it names must lie inside the corpus and every temporary must be named as ours are."""
    import json

    try:
        journal = json.loads(read_bytes(path, root / TXN_DIR, limit=64 * MAX_FILE_BYTES))
    except (ValueError, UnicodeDecodeError):
        journal = None
    if not _journal_ok(root, journal):
        raise TakeoffError(f"{display_path(path)}: not a journal this tool wrote; look at it, "
                           "then remove it to go on")
    return journal


def _journal_ok(root, journal):
    if not isinstance(journal, dict) or journal.get("state") not in ("prepare", "commit"):
        return False
    pairs = journal.get("writes"), journal.get("deletes")
    dirs = journal.get("dirs")
    if not all(isinstance(p, list) for p in pairs) or not isinstance(dirs, list):
        return False
    for rel, temp in (entry if isinstance(entry, list) and len(entry) == 2 else (None, None)
                      for entries in pairs for entry in entries):
        if not (_safe_rel(root, rel) and _safe_rel(root, temp)):
            return False
        match = _TEMP_NAME.match(Path(temp).name)
        if not match or match["name"] != Path(rel).name or Path(temp).parent != Path(rel).parent:
            return False
    return all(_safe_rel(root, d) for d in dirs)


def _safe_rel(root, rel):
    if not isinstance(rel, str) or os.path.isabs(rel) or ".." in Path(rel).parts or not rel:
        return False
    try:
        confine(root, root / rel)
    except TakeoffError:
        return False
    return True


# ---- flushing to disk ----------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _syncfs():
    """Linux's syncfs(2): one call flushes a whole file system, where an fsync per file of a
    5,000-file import would take seconds. Looked up when first needed (ctypes is slow to
    import, and reads never need it)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syncfs
    except (OSError, AttributeError):
        return None


def _sync(root, files, folders):
    """Make staged files and folder entries durable."""
    syncfs = _syncfs()
    if syncfs is not None:
        fd = os.open(root, os.O_RDONLY)
        try:
            if syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
        for path in files:  # syncfs failed: fall back to one fsync each
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    for folder in folders:
        _fsync_dir(folder)


def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open folders; its renames are durable on their own
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _CrashPoint:
    """Test-only crash injection (see :data:`CRASH_ENV`)."""

    def __init__(self):
        value = os.environ.get(CRASH_ENV, "")
        self.at = int(value) if value.isdigit() else None
        self.count = 0

    def step(self):
        self.count += 1
        if self.count == self.at:
            os._exit(CRASH_STATUS)


# ---- single files outside the corpus -------------------------------------------------------

def atomic_write(path, text):
    """Write ``text`` (str, or bytes) to ``path``: readers see the old file or the new one,
    never half of one. For files outside a corpus (exports, pages, plots); corpus files are
    written by :func:`write_files`.

    The text goes to a temporary file in the same folder, is flushed to disk, and replaces the
    target with :func:`os.replace` (atomic on POSIX and Windows).
    """
    import tempfile

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
