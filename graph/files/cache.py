"""The load cache: parsed front matter kept between commands, like git's index.

``Corpus.load`` reads every node file and parses its YAML; at 50,000 files that is most of
every command. The cache (``<corpus>/.takeoff/cache``, ignored by git through a ``.gitignore``
inside ``.takeoff/``) keeps, per file, its front matter text, body and *parsed* front matter,
keyed by the file's ``lstat``: device, inode, size, mtime and ctime in nanoseconds. A load
takes one ``lstat`` per file; a file whose key matches is not read or parsed, any other is read
and parsed as if there were no cache. The cache keeps parsed content, never a verdict:
validation (:func:`graph.files.validate.check_front`) runs in full on every load, on what the cache
gives as on what was parsed, so a cache can never make a bad value pass.

What keeps it honest:

- **Racy entries.** A file changed within the same clock tick as it was read keeps the key it
  was read with. As in git, an entry is only kept if the file's mtime and ctime lie at least
  :data:`RACY_NS` before the moment it was read (more than any file system's timestamp
  granularity), so any later change to it has a different ctime. ``ctime`` cannot be set back
  by a user (``touch -d`` and ``os.utime`` move it to now), so a same-size edit whose mtime is
  put back is seen too.
- **Only regular files**, by ``lstat``: a symbolic link is read every time (its target can change
  without its own ``lstat`` changing).
- **Only what this user wrote.** The cache is signed: its header holds an HMAC-SHA256 of its
  entries under a per-user secret kept outside every corpus (``$XDG_CACHE_HOME/takeoff/key``,
  else ``~/.cache/takeoff/key``, mode 0600). A cache committed to a map repository, left in a
  shared folder or edited by hand fails the check and is ignored: it cannot make a command show
  a title, body or source the file does not hold. Where no secret can be kept, nothing is
  cached.
- **A cache is data, never trusted further.** It is JSON (never pickle or marshal), read with
  the guarded read (:func:`graph.files.store.open_regular`: a FIFO, device or link there is ignored,
  never opened or followed), checked field by field; one that is corrupt, of another format
  or version, or made by another version of the package (a hash of its source and PyYAML's
  version) is ignored and rebuilt. ``.takeoff/`` must be a real folder of the running user
  (:func:`graph.files.store.state_dir`), else nothing is read or written there. A parsed value is
  only cached if it survives the JSON round trip unchanged (a YAML set, binary, NaN or non-text
  key is parsed afresh every time instead).
- **Best effort.** The file is written to a temporary file and renamed into place (atomic); a
  corpus that cannot be written (read-only, full disk) simply is not cached. Set
  ``TAKEOFF_NO_CACHE=1`` to neither read nor write it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import tempfile
import time
from pathlib import Path

import yaml

from graph.core.model import TakeoffError

CACHE_DIR = ".takeoff"
CACHE_NAME = "cache"
FORMAT = "takeoff-load-cache"
VERSION = 2
KEY_BYTES = 32
# Two seconds: the coarsest timestamp granularity in use (FAT); ext4 and tmpfs tick in ms.
RACY_NS = 2_000_000_000
def _fingerprint():
    """What a verdict depends on besides the file: the code of the package (every module, so
    a change to parsing or validation anywhere makes a new cache) and PyYAML's version."""
    digest = hashlib.sha256(yaml.__version__.encode())
    package = Path(__file__).resolve().parents[1]
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + source.read_bytes())
    return digest.hexdigest()


_SCALARS = (str, int, float, bool, type(None))


def _survives_json(value, depth=0):
    """Whether JSON gives ``value`` back exactly (a tuple, a set, a date, a key that is not
    text would come back as something else; NaN and infinities are refused by the encoder)."""
    t = type(value)
    if t in _SCALARS:
        return True
    if depth > 64:
        return False
    if t is dict:
        return all(type(k) is str and _survives_json(v, depth + 1) for k, v in value.items())
    if t is list:
        return all(_survives_json(v, depth + 1) for v in value)
    return False


def _is_entry(entry):
    """The shape of an entry: ``[key, front or None, body, parsed front matter (a dict)]``."""
    return (type(entry) is list and len(entry) == 4
            and (entry[1] is None or type(entry[1]) is str) and type(entry[2]) is str
            and type(entry[3]) is dict)


def user_key():
    """This user's secret for signing caches (made on first use), or None where none can be
    kept. It lives outside every corpus, so no corpus can bring one."""
    from graph.files.store import UnsafeFileError, read_bytes

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "takeoff"
    path = folder / "key"
    try:
        return _checked_key(read_bytes(path, limit=KEY_BYTES, state=True))
    except UnsafeFileError:
        if os.path.lexists(path):
            return None   # something is there that is not our key: never overwrite it
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(os.urandom(KEY_BYTES))
        return _checked_key(read_bytes(path, limit=KEY_BYTES, state=True))
    except (OSError, UnsafeFileError):
        return None


def _checked_key(data):
    return data if len(data) == KEY_BYTES else None


def _key(st):
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


class LoadCache:
    """The cache of one corpus folder for one load.

    Example::

        cache = LoadCache(root)
        files = cache.node_files(paths, read_node_file)   # unchanged files from the cache
        ...validate files (parsing those that were read)...
        cache.save()                      # keep what was parsed, if anything changed
    """

    def __init__(self, root):
        self.root = Path(root)
        self.path = self.root / CACHE_DIR / CACHE_NAME
        self.key = user_key() if not os.environ.get("TAKEOFF_NO_CACHE") else None
        self.enabled = self.key is not None
        self.fingerprint = _fingerprint() if self.enabled else None
        self.entries = self._read() if self.enabled else {}
        root_text = str(self.root)
        self._prefix = "" if root_text == "." else root_text.rstrip(os.sep) + os.sep
        self._hits = set()    # rel paths served from the cache this load
        self._read_now = {}   # rel -> (key, NodeFile) of the files read this load, to keep

    def _rel(self, path):
        text = str(path)
        return text[len(self._prefix):] if text.startswith(self._prefix) \
            else os.path.relpath(path, self.root)

    def _folder(self, create=False):
        """``.takeoff/`` if it is a real folder of this user (see graph.files.store.state_dir)."""
        from graph.files.store import state_dir

        try:
            return state_dir(self.root, create=create)
        except TakeoffError:
            return None

    def _read(self):
        """``{rel path: entry}`` (see :func:`_is_entry`), or {} for a missing or untrusted
        file."""
        from graph.files.store import UnsafeFileError, open_regular

        if self._folder() is None:
            return {}
        try:
            fd = open_regular(self.path, limit=1 << 40, state=True)
        except UnsafeFileError:
            return {}
        try:
            with os.fdopen(fd, "rb") as f:
                head = json.loads(f.readline())
                if not (isinstance(head, dict) and head.get("format") == FORMAT
                        and head.get("version") == VERSION
                        and head.get("fingerprint") == self.fingerprint
                        and isinstance(head.get("mac"), str)):
                    return {}
                # One entry a line, decoded one at a time: the file is never held whole.
                mac, entries = hmac.new(self.key, digestmod=hashlib.sha256), {}
                for line in f:
                    mac.update(line)
                    pair = json.loads(line)
                    if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                        return {}
                    entries[pair[0]] = pair[1]
            if not hmac.compare_digest(mac.hexdigest(), head["mac"]):
                return {}
        except (OSError, ValueError, TypeError, RecursionError):
            return {}
        return entries

    def node_files(self, paths, read, overlay=None):
        """A :class:`graph.core.model.NodeFile` per path: ``read(path, overlay[path])`` for a path
        in ``overlay``; from the cache where the file's ``lstat`` matches its entry; else
        ``read(path)`` (and its ``lstat`` noted for :meth:`save`). A path ``read`` returns
        None for (a refused file) is left out."""
        from graph.core.model import NodeFile

        files = []
        entries, hits, fresh = self.entries, self._hits, self._read_now
        now = time.time_ns()
        for path in paths:
            if overlay and path in overlay:
                nf = read(path, overlay[path])
                if nf is not None:
                    files.append(nf)
                continue
            text = str(path)
            rel = text[len(self._prefix):] if text.startswith(self._prefix) else self._rel(path)
            try:
                st = os.lstat(text)
            except OSError:
                nf = read(path)   # reports the error as an uncached load would
                if nf is not None:
                    files.append(nf)
                continue
            key = _key(st)
            entry = entries.get(rel)
            if entry is not None and _is_entry(entry) and entry[0] == key \
                    and stat.S_ISREG(st.st_mode):
                name = text[text.rfind(os.sep) + 1:]
                files.append(NodeFile(path, name[:-3], entry[1], entry[2], parsed=entry[3]))
                hits.add(rel)
                continue
            nf = read(path)
            if nf is None:
                continue   # refused (``read`` said why): never cached
            if stat.S_ISREG(st.st_mode) and max(st.st_mtime_ns, st.st_ctime_ns) < now - RACY_NS:
                fresh[rel] = (key, nf)
            files.append(nf)
        return files

    @property
    def hits(self):
        """How many files this load took from the cache."""
        return len(self._hits)

    def save(self):
        """Write the cache if this load changed it: the entries served plus every file read
        and parsed this load (best effort: any error leaves the old cache or none)."""
        if not self.enabled or (not self._read_now and len(self._hits) == len(self.entries)):
            return   # nothing changed, nothing to write
        new = {rel: self.entries[rel] for rel in self._hits}
        for rel, (key, nf) in self._read_now.items():
            if type(nf.parsed) is dict and _survives_json(nf.parsed):
                new[rel] = [key, nf.front, nf.body, nf.parsed]
        try:
            self._write(new)
        except (OSError, TypeError, ValueError, RecursionError, TakeoffError):
            pass

    def _write(self, new):
        folder = self._folder(create=True)
        if folder is None or (os.path.lexists(self.path) and not os.path.isfile(self.path)) \
                or os.path.islink(self.path):
            return   # not ours to write (a link, a FIFO, another user's folder)
        body = "".join(f"{json.dumps([rel, entry], ensure_ascii=False, allow_nan=False)}\n"
                       for rel, entry in new.items()).encode("utf-8")
        head = json.dumps({"format": FORMAT, "version": VERSION, "fingerprint": self.fingerprint,
                           "mac": hmac.new(self.key, body, hashlib.sha256).hexdigest()})
        fd, tmp = tempfile.mkstemp(prefix=".cache.", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(head.encode() + b"\n" + body)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
