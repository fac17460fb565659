"""The load cache: parsed front matter kept between commands, like git's index.

``Corpus.load`` reads every node file and parses its YAML; at 50,000 files that is most of
every command. The cache (``<corpus>/.takeoff/cache``, ignored by git through a ``.gitignore``
inside ``.takeoff/``) keeps, per file, its front matter text, body and *parsed* front matter,
keyed by the file's ``lstat``: device, inode, size, mtime and ctime in nanoseconds. A load
takes one ``lstat`` per file; a file whose key matches is not read or parsed, any other is read
and parsed as if there were no cache. Validation always runs in full on whatever the cache
holds (it is the parse that is saved, not its verdict), so a cache can never change a result.

What keeps it honest:

- **Racy entries.** A file changed within the same clock tick as it was read keeps the key it
  was read with. As in git, an entry is only kept if the file's mtime and ctime lie at least
  :data:`RACY_NS` before the moment it was read (more than any file system's timestamp
  granularity), so any later change to it has a different ctime. ``ctime`` cannot be set back
  by a user (``touch -d`` and ``os.utime`` move it to now), so a same-size edit whose mtime is
  put back is seen too.
- **Only regular files**, by ``lstat``: a symbolic link is read every time (its target can change
  without its own ``lstat`` changing).
- **A cache is never trusted.** It is JSON (never pickle or marshal, which are unsafe for a file
  someone else could have written), checked field by field; a file that is corrupt, of another
  format or version, or made by another version of the parser (a hash of the source of
  :mod:`graph.model` and :mod:`graph.validate` and PyYAML's version) is ignored and rebuilt. A
  parsed value is only cached if it survives the JSON round trip unchanged (a YAML set, binary,
  NaN or non-text key is parsed afresh every time instead).
- **Best effort.** The file is written to a temporary file and renamed into place (atomic); a
  corpus that cannot be written (read-only, full disk) simply is not cached. Set
  ``TAKEOFF_NO_CACHE=1`` to neither read nor write it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
import tempfile
import time
from pathlib import Path

import yaml

CACHE_DIR = ".takeoff"
CACHE_NAME = "cache"
FORMAT = "takeoff-load-cache"
VERSION = 1
# Two seconds: the coarsest timestamp granularity in use (FAT); ext4 and tmpfs tick in ms.
RACY_NS = 2_000_000_000
def _fingerprint():
    """What a verdict depends on besides the file: the code of the package (every module, so
    a change to parsing or validation anywhere makes a new cache) and PyYAML's version."""
    digest = hashlib.sha256(yaml.__version__.encode())
    for source in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(source.name.encode() + source.read_bytes())
    return digest.hexdigest()


_SCALARS = (str, int, float, bool, type(None))


def _plain(value, path, dates):
    """``value`` (a dict or list) with every date replaced by its ISO text, the place of each
    noted in ``dates``; anything JSON would not give back as it was (a tuple, a set, a key that
    is not text) raises TypeError (NaN and infinities are refused by the encoder)."""
    if type(value) is dict:
        items = value.items()
        if not all(type(k) is str for k in value):
            raise TypeError("a key that is not text")
        out = {}
    elif type(value) is list:
        items = enumerate(value)
        out = [None] * len(value)
    else:
        raise TypeError(f"{type(value).__name__} is not cached")
    for k, v in items:
        t = type(v)
        if t in _SCALARS:
            out[k] = v
        elif t is dt.date:
            out[k] = v.isoformat()
            dates.append(path + [k])
        else:
            out[k] = _plain(v, path + [k], dates)
    return out


def _encode(key, front, body, checked):
    """JSON text of an entry ``[key, front, body, [verdict, date places]]``."""
    dates = []
    plain = _plain(list(checked), [], dates)
    return json.dumps([key, front, body, [plain, dates]], ensure_ascii=False, allow_nan=False)


def _restore(entry):
    """The verdict of a decoded entry ``[key, front, body, [verdict, date places]]``."""
    verdict, dates = entry[3]
    for path in dates:
        holder = verdict
        for step in path[:-1]:
            holder = holder[step]
        holder[path[-1]] = dt.date.fromisoformat(holder[path[-1]])
    return verdict


def _is_entry(entry):
    """The shape of an entry: ``[key, front or None, body, [[attrs or None, [edges],
    [problems]], [date places]]]`` (a checksum already vouches for the bytes; the key is
    compared with the file's)."""
    return (type(entry) is list and len(entry) == 4
            and (entry[1] is None or type(entry[1]) is str) and type(entry[2]) is str
            and type(entry[3]) is list and len(entry[3]) == 2
            and type(entry[3][0]) is list and len(entry[3][0]) == 3
            and (entry[3][0][0] is None or type(entry[3][0][0]) is dict)
            and type(entry[3][0][1]) is list and type(entry[3][0][2]) is list
            and type(entry[3][1]) is list)


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
        self.enabled = not os.environ.get("TAKEOFF_NO_CACHE")
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

    def _read(self):
        """``{rel path: entry}`` (see :func:`_is_entry`), or {} for a missing or untrusted
        file."""
        try:
            with open(self.path, "rb") as f:
                head = json.loads(f.readline())
                if not (isinstance(head, dict) and head.get("format") == FORMAT
                        and head.get("version") == VERSION
                        and head.get("fingerprint") == self.fingerprint):
                    return {}
                # One entry a line, decoded one at a time: the file is never held whole.
                digest, entries = hashlib.sha256(), {}
                for line in f:
                    digest.update(line)
                    pair = json.loads(line)
                    if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                        return {}
                    entries[pair[0]] = pair[1]
            if digest.hexdigest() != head.get("sha256"):
                return {}
        except (OSError, ValueError, TypeError, RecursionError):
            return {}
        return entries

    def node_files(self, paths, read, overlay=None):
        """A :class:`graph.model.NodeFile` per path: ``read(path, overlay[path])`` for a path
        in ``overlay``; from the cache where the file's ``lstat`` matches its entry; else
        ``read(path)`` (and its ``lstat`` noted for :meth:`save`). A path ``read`` returns
        None for (a refused file) is left out."""
        from graph.model import NodeFile

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
                try:
                    checked = _restore(entry)
                except (KeyError, IndexError, TypeError, ValueError):
                    checked = None   # a malformed date place: read the file instead
                if checked is not None:
                    files.append(NodeFile(path, name[:-3], entry[1], entry[2], checked))
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
        new = {}
        for rel, (key, nf) in self._read_now.items():
            if nf.checked is None:
                continue
            try:
                new[rel] = _encode(key, nf.front, nf.body, nf.checked)
            except (TypeError, ValueError, RecursionError):
                continue   # would not come back exactly as it is: not cached
        try:
            for rel in self._hits:   # verdicts were restored in place: encode what they hold
                if rel not in new:
                    key, front, body, (verdict, _) = self.entries[rel]
                    new[rel] = _encode(key, front, body, verdict)
            self._write(new)
        except (OSError, TypeError, ValueError, RecursionError):
            pass

    def _write(self, new):
        folder = self.path.parent
        folder.mkdir(exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# The load cache of takeoff (graph/cache.py): never commit it.\n*\n")
        parts = []
        for rel, text in new.items():
            parts.append(f"[{json.dumps(rel)},{text}]\n")
        body = "".join(parts).encode("utf-8")
        head = json.dumps({"format": FORMAT, "version": VERSION, "fingerprint": self.fingerprint,
                           "sha256": hashlib.sha256(body).hexdigest()})
        fd, tmp = tempfile.mkstemp(prefix=".cache.", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(head.encode() + b"\n" + body)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
