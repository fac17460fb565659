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

A journal found on disk is a claim to check, never an order (:func:`_check_journal`): it is
obeyed only if it is exactly what this tool could have written: every target a node or
perspective file of this corpus by :func:`layout_error` (the rule every write obeys), every
temporary named as the tool names them and holding the size and SHA-256 the journal recorded,
the journal, its folder and the temporaries owned by the user running the command, and no
link anywhere on the way. Anything else stops the command with a message naming the journal,
and nothing is touched. The same holds for the rest of the state under ``.takeoff/``
(:func:`state_dir`).

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
import tempfile
from pathlib import Path

from graph.core.limits import InputError, decode_text, quote
from graph.core.model import (
    PERSPECTIVES_DIR, NodeFile, TakeoffError, display_path, is_id, split_front_matter,
)

LOCK_NAME = ".takeoff.lock"
LOCK_TIMEOUT = 60
STATE_DIR = ".takeoff"
TXN_DIR = f"{STATE_DIR}/txn"
JOURNAL = "journal.json"
LAST = "last.json"  # the journal of the last finished transaction
MAX_FILE_BYTES = 10 * 1024 * 1024
JOURNAL_VERSION = 2

_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_BINARY", 0))
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_KIND_OF_FILE = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                 (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                 (stat.S_ISSOCK, "a socket"))


class UnsafeFileError(TakeoffError):
    """A corpus file that is refused without being read; the message names it."""

    def __init__(self, path, reason, line=0):
        self.path = Path(path)
        self.reason = reason
        self.line = line
        super().__init__(f"{display_path(path)}{f':{line}' if line else ''}: {reason}")


# ---- reading -------------------------------------------------------------------------------

def read_bytes(path, root=None, limit=MAX_FILE_BYTES, *, state=False):
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
    state : bool
        A file of the tool's own state (``.takeoff/``, a staged temporary, a key): never
        followed through a link, and it must belong to the user running the command.

    Raises
    ------
    UnsafeFileError
        The file is a folder, FIFO, device or socket, a symbolic link resolving outside
        ``root`` (any link, for ``state``), larger than ``limit``, or (``state``) another
        user's. A FIFO is opened non-blocking, so it never hangs.
    """
    return _read_checked(path, root, limit, state)[0]


def _read_checked(path, root, limit, state):
    """:func:`read_bytes`'s bytes and the ``fstat`` of the file they were read from, None if
    it was reached through a symbolic link (whose own ``lstat`` differs)."""
    fd, info, linked = _open_checked(path, root, limit, state)
    try:
        size = info.st_size
        info = None if linked else info
        data = os.read(fd, size + 1)   # one read for a file that does not grow
        if len(data) == size:
            return data, info
        chunks = [data]
        size = len(data)
        while data and size <= limit:
            data = os.read(fd, min(1 << 20, limit + 1 - size))
            chunks.append(data)
            size += len(data)
        if size > limit:  # it grew while being read
            raise UnsafeFileError(path, f"over the {_size_text(limit)} limit of a corpus file; refused")
        return b"".join(chunks), info
    finally:
        os.close(fd)


def open_regular(path, root=None, limit=MAX_FILE_BYTES, *, state=False):
    """The checks of :func:`read_bytes`, returning the open descriptor (for a reader that
    streams a large file, as the load cache does); the caller closes it."""
    return _open_checked(path, root, limit, state)[0]


def _open_checked(path, root, limit, state):
    """:func:`open_regular`'s descriptor, its ``fstat``, and whether a symbolic link was
    followed to it."""
    linked = False
    try:
        fd = os.open(path, _READ_FLAGS | _NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO with no writer on some systems
            raise UnsafeFileError(path, "not a regular file; refused") from None
        if exc.errno not in (errno.ELOOP, errno.EMLINK) or not _NOFOLLOW:
            raise UnsafeFileError(path, f"cannot read: {exc.strerror}") from None
        if state:
            raise UnsafeFileError(path, "a symbolic link where takeoff keeps its own files; "
                                        "refused") from None
        fd, linked = _open_link(Path(path), root), True
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KIND_OF_FILE if test(info.st_mode)), "not a file")
            raise UnsafeFileError(path, f"{kind}, not a regular file; refused")
        if info.st_size > limit:
            raise UnsafeFileError(path, f"{info.st_size} bytes, over the {_size_text(limit)} "
                                        "limit of a corpus file; refused")
        if state and not owned(info):
            raise UnsafeFileError(path, f"belongs to {owner_name(info.st_uid)}, not to you; refused")
    except BaseException:
        os.close(fd)
        raise
    return fd, info, linked


def owned(info):
    """Whether a ``stat`` result belongs to the user running the command (always, where the
    system has no user ids)."""
    return not hasattr(os, "geteuid") or info.st_uid == os.geteuid()


def owner_name(uid):
    """A user id as a name where the system knows one (``alice (uid 1001)``)."""
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


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
    """The UTF-8 text of a corpus file, read with :func:`read_bytes`'s checks and decoded by
    :func:`graph.core.limits.decode_text` (a UTF-8 byte-order mark skipped, line ends as ``\\n``)."""
    return _decoded(path, read_bytes(path, root))


def _decoded(path, data):
    try:
        return decode_text(data)
    except InputError as exc:
        raise UnsafeFileError(path, exc.message, exc.line) from None


def _size_text(limit):
    return f"{limit // (1024 * 1024)} MB" if limit % (1024 * 1024) == 0 else f"{limit} byte"


def _is_inside(real, base):
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


# ---- confinement ---------------------------------------------------------------------------

def confine(root, path):
    """``path`` if it stays inside the corpus folder ``root`` once every link is resolved;
    otherwise a :class:`TakeoffError` naming it."""
    path = Path(path)
    base = os.path.realpath(root)
    real = os.path.realpath(path)
    if not _is_inside(real, base) or real == base:
        raise TakeoffError(f"{display_path(path)}: outside the corpus {display_path(root)}; refused")
    return path


def corpus_file(root, path):
    """Check a file a transaction is to write or delete: a node or perspective file of the
    corpus at ``root`` by :func:`layout_error`, reached without a symbolic link, and not a
    link itself (a write never replaces a link, nor writes through one). Returns ``path``."""
    root, path = Path(root), Path(path)
    confine(root, path)
    rel = _rel(os.path.abspath(root), path)
    why = layout_error(rel) or link_error(root, rel)
    if why:
        raise TakeoffError(f"{display_path(path)}: {why}; refused")
    return path


def layout_error(rel):
    """Why the corpus-relative path ``rel`` is not a file a transaction may write, or None.

    The one rule for every write and every journal entry: ``perspectives/NAME.yaml``, or a
    node file ``[FOLDER/...]ID.md`` outside ``perspectives/``, where NAME and ID are slugs
    (:func:`graph.core.model.is_id`) and no folder name starts with a dot (``.git``,
    ``.takeoff``). Paths are made from ids by ``graph.files.edit.new_node_path`` and
    ``graph.files.perspectives.perspective_path``, which obey it.
    """
    if not isinstance(rel, str) or not rel or os.path.isabs(rel):
        return "not a path inside the corpus"
    parts = rel.split(os.sep) if os.altsep is None else re.split(r"[\\/]", rel)
    if any(not part or part.startswith(".") for part in parts):
        return "not a node or perspective file (a hidden or empty path part)"
    name = parts[-1]
    if parts[0] == PERSPECTIVES_DIR and len(parts) > 1:
        if len(parts) == 2 and name.endswith(".yaml") and is_id(name[:-5]):
            return None
        return "not a node or perspective file (perspectives/NAME.yaml, NAME a slug)"
    if name.endswith(".md") and is_id(name[:-3]):
        return None
    return "not a node or perspective file (ID.md or perspectives/NAME.yaml, ID a slug)"


def link_error(root, rel):
    """Why the way from ``root`` to ``rel`` is not free of symbolic links (one of its folders,
    or the file itself, is a link), or None. Missing parts are fine: they will be made."""
    path = Path(root)
    for part in Path(rel).parts:
        path = path / part
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return f"cannot look at {display_path(path)}: {exc.strerror}"
        if stat.S_ISLNK(info.st_mode):
            target = os.path.realpath(path)
            return (f"{display_path(path)} is a symbolic link (to {display_path(target)}); takeoff "
                    "never writes through a link nor replaces one: edit the file it points at, "
                    "or put the file itself in its place")
    return None


def is_perspective_file(root, path):
    """Whether ``path`` is ``ROOT/perspectives/NAME.yaml``."""
    path = Path(path)
    return (path.suffix == ".yaml"
            and os.path.abspath(path.parent) == os.path.abspath(Path(root) / PERSPECTIVES_DIR))


def state_dir(root, *parts, create=False):
    """The folder ``ROOT/.takeoff[/PARTS]`` where the tool keeps its state, checked level by
    level: each a real folder (not a link), owned by the user running the command. Returns
    None if it is missing (created, without following anything, if ``create``).

    Raises
    ------
    UnsafeStateError
        A level is a link, not a folder, or another user's: the message names it and says how
        to remove it.
    """
    path = Path(root)
    for part in (STATE_DIR, *parts):
        path = path / part
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            if not create:
                return None
            try:
                os.mkdir(path, 0o755)  # never follows a link: a planted one makes it fail
                info = os.lstat(path)
            except OSError as exc:
                raise TakeoffError(f"{display_path(path)}: cannot create: {exc.strerror}") from None
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
            raise UnsafeStateError(path, "a symbolic link" if stat.S_ISLNK(info.st_mode)
                                   else "not a folder")
        if not owned(info):
            raise UnsafeStateError(path, f"belongs to {owner_name(info.st_uid)}, not to you")
        if create and part == STATE_DIR:
            _make_gitignore(path / ".gitignore")
    return path


def _make_gitignore(path):
    """``.takeoff/.gitignore``, so that git never commits the state; made only if nothing is
    there, never through a link (dangling or not)."""
    if os.path.lexists(path):
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
                     | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError:
        return
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("# The state of takeoff (graph/files/store.py, graph/files/cache.py): never commit it.\n*\n")


class UnsafeStateError(TakeoffError):
    """State under ``.takeoff/`` that the tool did not make: refused, with how to remove it."""

    def __init__(self, path, reason):
        self.path = Path(path)
        super().__init__(f"{display_path(path)}: {reason}; takeoff keeps its own state there "
                         f"and will not use this: look at it, then remove it (rm -r "
                         f"{display_path(path)}) to go on")


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
        try:
            info = os.lstat(self._path)
        except FileNotFoundError:
            info = None
        if info is not None and not stat.S_ISREG(info.st_mode):
            raise TakeoffError(f"{display_path(self._path)}: the corpus lock is not a regular "
                               "file; refused (remove it to go on)")
        if info is not None and not owned(info):
            raise TakeoffError(f"{display_path(self._path)}: the corpus lock belongs to "
                               f"{owner_name(info.st_uid)}, not to you; refused (remove it to go on)")
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
        info = os.lstat(Path(root) / TXN_DIR / LAST)
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
    try:
        state_dir(root, "txn")
    except UnsafeStateError as exc:
        raise _journal_refused(path, str(exc)) from None
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
    import hashlib
    import secrets

    crash = _Steps()
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
            data = text.encode("utf-8") if isinstance(text, str) else text
            if len(data) > MAX_FILE_BYTES:  # the tool would refuse to read it back
                raise TakeoffError(f"{display_path(path)}: the new text is {len(data)} bytes, over "
                                   f"the {_size_text(MAX_FILE_BYTES)} limit of a corpus file; "
                                   "nothing was written")
            writes.append([rel, os.path.join(folder, f".{name}.{txid}.new.tmp"), len(data),
                           hashlib.sha256(data).hexdigest()])
            texts.append(data)
            folders.add(folder)
    created = sorted({d for folder in folders for d in _missing_dirs(base, folder)},
                     key=lambda d: (d.count(os.sep), d))
    journal = {"version": JOURNAL_VERSION, "state": "prepare", "writes": writes,
               "deletes": deletes, "dirs": created}
    state_dir(root, "txn", create=True)  # a planted link must not take the journal elsewhere
    try:
        _write_journal(root, journal)
        crash.step()
        for rel in created:
            os.mkdir(os.path.join(base, rel))
        for (_, temp, _, _), text in zip(writes, texts):
            _stage(os.path.join(base, temp), text)
            crash.step()
        for _, marker in deletes:
            _stage(os.path.join(base, marker), b"")
            crash.step()
        staged = [os.path.join(base, entry[1]) for entry in writes + deletes]
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


_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{16}\.(?P<kind>new|del)\.tmp$")


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
    for rel, temp, *_ in entries:
        if exc.filename and os.path.abspath(exc.filename) == os.path.abspath(root / temp):
            target = root / rel
    if target == root and exc.filename and not str(exc.filename).endswith(".tmp") and (
            Path(TXN_DIR).parts[0] not in Path(exc.filename).parts):
        target = exc.filename
    return f"{display_path(target)}: cannot write: {exc.strerror or exc}; nothing was written"


def _apply(root, journal, crash=None):
    base = os.path.abspath(root)
    folders = set()
    for rel, temp, *_ in journal["writes"]:
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
    for entry in journal["writes"] + journal["deletes"]:
        try:
            os.unlink(os.path.join(base, entry[1]))
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
    """The journal, checked by :func:`_check_journal` before anything it names is touched."""
    import json

    try:
        data = read_bytes(path, limit=64 * MAX_FILE_BYTES, state=True)
    except UnsafeFileError as exc:
        raise _journal_refused(path, exc.reason) from None
    try:
        journal = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _journal_refused(path, "not JSON") from None
    why = _check_journal(Path(root), journal)
    if why:
        raise _journal_refused(path, why)
    return journal


def _journal_refused(path, why):
    return TakeoffError(
        f"{display_path(path)}: not a journal this tool wrote ({why}); nothing was changed. "
        f"A journal is only obeyed if it is exactly what takeoff could have written; look at "
        f"it, then remove it (rm {display_path(path)}) to go on")


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _check_journal(root, journal):
    """Why ``journal`` is not one this tool could have written for the corpus at ``root``,
    or None. Checked whole before anything is touched: the shape; every target a node or
    perspective file (:func:`layout_error`), reached without a link and not a link; every
    temporary beside its target, named as :func:`write_files` names them, a regular file of
    the running user holding the recorded size and SHA-256 (a delete marker: empty); every
    created folder a folder of the node layout that holds a target."""
    if not isinstance(journal, dict) or journal.get("version") != JOURNAL_VERSION:
        return f"not a version {JOURNAL_VERSION} journal"
    if journal.get("state") not in ("prepare", "commit"):
        return "no state"
    writes, deletes, dirs = journal.get("writes"), journal.get("deletes"), journal.get("dirs")
    if not (type(writes) is list and type(deletes) is list and type(dirs) is list):
        return "writes, deletes and dirs must be lists"
    entries = [(entry, "new") for entry in writes] + [(entry, "del") for entry in deletes]
    for entry, kind in entries:
        why = _check_entry(root, entry, kind, journal["state"] == "commit")
        if why:
            return why
    folders = {os.path.dirname(entry[0]) for entry in writes}
    for folder in dirs:
        if not isinstance(folder, str) or layout_error(os.path.join(folder, "x.md")) \
                or not any(f == folder or f.startswith(folder + os.sep) for f in folders):
            return f"a folder to create that no write needs: {quote(folder)}"
    return None


def _check_entry(root, entry, kind, committed):
    """Why one ``[target, temporary, size, sha256]`` (a delete: ``[target, marker]``) entry is
    not the tool's, or None."""
    size = 4 if kind == "new" else 2
    if type(entry) is not list or len(entry) != size \
            or not all(isinstance(x, str) for x in entry[:2]):
        return "an entry of the wrong shape"
    rel, temp = entry[:2]
    why = layout_error(rel) or link_error(root, rel)
    if why:
        return f"{quote(rel)}: {why}"
    match = _TEMP_NAME.match(os.path.basename(temp))
    if not match or match["name"] != os.path.basename(rel) or match["kind"] != kind \
            or os.path.dirname(temp) != os.path.dirname(rel):
        return f"{quote(temp)} is not named as takeoff names its temporaries"
    target = root / rel
    try:
        info = os.lstat(target)
        if not stat.S_ISREG(info.st_mode):
            return f"{quote(rel)} is not a regular file"
    except FileNotFoundError:
        pass
    staged = root / temp
    if not os.path.lexists(staged):
        return None  # already renamed or removed: the step is done
    if kind == "new" and not (type(entry[2]) is int and isinstance(entry[3], str)
                              and _SHA256.match(entry[3])):
        return "an entry without the size and checksum of its temporary"
    expected = entry[2] if kind == "new" else 0
    if not committed:  # to be removed: it may be half written, but it must be ours
        try:
            os.close(open_regular(staged, limit=max(expected, 0), state=True))
        except UnsafeFileError as exc:
            return f"{quote(temp)}: {exc.reason}"
        return None
    try:
        data = read_bytes(staged, limit=max(expected, 0), state=True)
    except UnsafeFileError as exc:
        return f"{quote(temp)}: {exc.reason}"
    if len(data) != expected:
        return f"{quote(temp)} does not hold the {expected} bytes recorded"
    if kind == "new":
        import hashlib

        if hashlib.sha256(data).hexdigest() != entry[3]:
            return f"{quote(temp)} does not hold the text recorded (checksum)"
    return None


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


def step_hook(count):
    """Called after the ``count``-th step of a transaction (counted from 1 over prepare, each
    staged file, sync, commit, each applied file, sync, journal removal). It does nothing;
    tests/test_crash.py replaces it (in its own process) to crash between any two steps. No
    environment variable or file can set it."""


class _Steps:
    def __init__(self):
        self.count = 0

    def step(self):
        self.count += 1
        step_hook(self.count)


# ---- single files outside the corpus -------------------------------------------------------

def atomic_write(path, text):
    """Write ``text`` (str, or bytes) to ``path``: readers see the old file or the new one,
    never half of one. For files outside a corpus (exports, pages, plots); corpus files are
    written by :func:`write_files`.

    What is at ``path`` decides how (an output never replaces what is not a regular file):

    - nothing, or a regular file: the text goes to a temporary file in the same folder, is
      flushed to disk, and replaces the target with :func:`os.replace` (atomic on POSIX and
      Windows);
    - a symbolic link to a regular file (or to nothing): the file it points at is written so,
      and the link is kept;
    - a FIFO or a character device (``/dev/stdout``, ``/dev/null``, a terminal), itself or
      through a link: written in place, as a shell redirection would;
    - anything else (a folder, a socket, a block device): refused with its path.
    """
    path = Path(path)
    try:
        info = os.stat(path)   # what the path leads to, through links
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise TakeoffError(f"{display_path(path)}: cannot write: {exc.strerror}") from None
    if info is not None and (stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode)):
        _write_in_place(path, text)
        return
    if info is not None and not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KIND_OF_FILE if test(info.st_mode)), "not a file")
        raise TakeoffError(f"{display_path(path)}: {kind}, not a regular file; refused (an "
                           "output replaces only a regular file)")
    if os.path.islink(path):
        path = Path(os.path.realpath(path))
    _replace_atomically(path, text)


def _write_in_place(path, text):
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
                     | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise TakeoffError(f"{display_path(path)}: cannot write: {exc.strerror}") from None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _replace_atomically(path, text):
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


# ---- node files ------------------------------------------------------------------------------

def iter_node_files(root):
    """Every ``*.md`` file below ``root`` (sorted, perspective folder and dot-folders skipped).

    A folder named ``*.md`` is listed too (not entered), so that reading refuses it by name;
    symbolic links to folders are not followed.
    """
    return [path for path, _, _ in walk_node_files(root)]


def walk_node_files(root):
    """:func:`iter_node_files` as ``(path, name as text, name relative to root)`` triples,
    for the loader: the texts come from the walk, so no path is turned into text again."""
    return [(Path(text), text, rel) for text, rel in node_file_names(root)]


def node_file_names(root):
    """:func:`walk_node_files` without a ``Path`` each: ``(name as text, name relative to
    root)`` pairs (a warm load of a large corpus needs no more, and a ``Path`` per file was a
    tenth of it)."""
    top = os.fspath(root)
    cut = len(top) if top.endswith(os.sep) else len(top) + 1
    found = []
    for dirpath, dirnames, filenames in os.walk(top):
        rel = "" if dirpath == top else dirpath[cut:] + os.sep
        found += [(f"{dirpath}{os.sep}{d}", rel + d)
                  for d in dirnames if d.endswith(".md") and not d.startswith(".")]
        dirnames[:] = sorted(
            d for d in dirnames
            if not d.startswith(".") and not d.endswith(".md")
            and not (dirpath == top and d == PERSPECTIVES_DIR)
        )
        found += [(f"{dirpath}{os.sep}{f}", rel + f) for f in sorted(filenames) if f.endswith(".md")]
    return found


def read_node_file(path, text=None, root=None):
    """A node file split into front matter and body. Without ``text`` the file is read with
    :func:`read_text`'s checks (raises ``UnsafeFileError``), and the digest of its bytes
    (:func:`digest`) is kept as ``NodeFile.digest``, the ``fstat`` of the file read (unless
    reached through a symbolic link) as ``NodeFile.stat``."""
    digest_of = info = None
    if text is None:
        data, info = _read_checked(path, root, MAX_FILE_BYTES, False)
        digest_of = digest(data)
        text = _decoded(path, data)
    front, body = split_front_matter(text)
    path = path if isinstance(path, Path) else Path(path)
    return NodeFile(path, path.name[:-3], front, body, digest_of, info)


def digest(data):
    """The digest of a file's bytes that keys its verdict in the load cache (BLAKE2b, 128
    bits, as text)."""
    import hashlib

    return hashlib.blake2b(data, digest_size=16).hexdigest()
