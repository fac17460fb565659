"""The load cache: each unchanged file's verdict kept between commands, like git's index.

``Corpus.load`` reads, parses and checks every node file; at 50,000 files that was most of every
command. The cache (``<corpus>/.takeoff/cache``, ignored by git through a ``.gitignore`` inside
``.takeoff/``) keeps, per file, its :class:`graph.files.validate.Verdict` (the node's
attributes, its edges, the file's own warnings, its annotation's links) in columns, keyed by
the file's path, its ``lstat`` (device, inode, size, mtime and ctime in nanoseconds) and a
digest of its bytes. A load takes one ``lstat`` per file; a file whose ``lstat`` matches its
entry is neither read, parsed nor checked on its own; a file whose ``lstat`` does not match is
read, and if its bytes have the entry's digest (a ``touch``, a checkout that rewrote it, a copy
of the corpus) its verdict is reused, else it is parsed and checked afresh. What depends on
other files (duplicate ids, unknown targets, undeclared sources, links to unknown ids,
arguments without a conclusion) is checked on every load (:func:`graph.files.validate.assemble`).

When every file of the corpus is an entry, in the entries' order, with its trusted ``lstat``
(:meth:`LoadCache.columns`, the usual case), the load makes no verdict at all: the columns
scoring and counting need (paths, kinds, credences, edge targets, relations, weights, and the
few warnings, links and edge provenances) are read as arrays, checked across files with arrays
(:mod:`graph.files.columns`) and kept; the graph, built from the verdicts, is made only for a
command that asks for it.

Why a kept verdict is as trustworthy as checking the file again:

- **A verdict is a function of the file's bytes, its name and the code.** It is kept under the
  file's path and the digest of the bytes it was made from, and the cache is bound to the
  code: its header holds a hash of every module of the package, PyYAML's version and
  Python's (:func:`_fingerprint`), and a cache made by other code is ignored and rebuilt. Only
  verdicts without errors are kept: a file with an error is checked again on every load.
- **Racy entries.** A file changed within the same clock tick as it was read keeps the
  ``lstat`` it was read with. As in git, an entry's ``lstat`` is only trusted if the file's
  mtime and ctime lie at least :data:`RACY_NS` before the moment it was read (more than any
  file system's timestamp granularity), so any later change to it has a different ctime; a
  racy file is read again on every load (and its verdict reused only if its bytes have the
  same digest). ``ctime`` cannot be set back by a user (``touch -d`` and ``os.utime`` move it
  to now), so a same-size edit whose mtime is put back is seen too.
- **Only regular files**, by ``lstat``: a symbolic link is read every time (its target can change
  without its own ``lstat`` changing).
- **Only what this user's takeoff wrote.** The cache is signed: its header holds an
  HMAC-SHA256, under a per-user secret kept outside every corpus (``$XDG_CACHE_HOME/takeoff/key``,
  else ``~/.cache/takeoff/key``, mode 0600), of the format, the code's fingerprint and every
  column. A cache committed to a map repository, left in a shared folder, edited by hand or
  relabelled as made by other code fails the check and is ignored. Whoever can sign a cache
  can read that key, so can already run commands as you and edit the files and the code
  themselves: a signed verdict is one your own takeoff made from those bytes with this code,
  the verdict checking the file again would give. Where no secret can be kept, nothing is
  cached.
- **Checked on the way in all the same.** Every column is checked before it is used against
  what a verdict without errors can hold (:func:`_fast_columns` for the ones a load of
  unchanged files reads, :func:`_check_columns` for all of them when verdicts are made):
  kinds, relations and evidence kinds among the known ones, credences in [0, 1] and weights in
  (0, 1] (NaN and the infinities fail both), dates that parse, distributions that
  :func:`graph.core.uncertainty.parse_distribution` accepts, text where text belongs, source
  URLs that are http(s) or absent with a title. One that fails makes the whole cache ignored, so
  even a cache signed with your own key cannot put a value into the graph that no valid file
  could give, nor end a command in a traceback.
- **A cache is data.** It is arrays of numbers, text and JSON (never pickle or marshal),
  read with the guarded read
  (:func:`graph.files.store.open_regular`: a FIFO, device or link there is ignored, never
  opened or followed); one that is corrupt, of another format or version is ignored and
  rebuilt. ``.takeoff/`` must be a real folder of the running user
  (:func:`graph.files.store.state_dir`), else nothing is read or written there.
- **Best effort.** The file is written to a temporary file and renamed into place (atomic); a
  corpus that cannot be written (read-only, full disk) simply is not cached. Set
  ``TAKEOFF_NO_CACHE=1`` to neither read nor write it.

The layout: a JSON header line (format, version, fingerprint, the name and length of each
section, the signature), then the sections (:data:`SECTIONS`) one after the other. The columns
(row ``r`` is the ``r``-th cached file): ``rel`` (the paths, joined by NUL), ``stat`` (the
trusted ``lstat``: device, inode, size, mtime, ctime as 64-bit integers), ``trusted`` (0 for a
racy file), ``kind`` (an index into :data:`graph.core.model.KINDS`), ``credence``, ``edges``
(how many edges the file has); per edge ``target`` (NUL-joined), ``relation`` (an index into
``RELATIONS``), ``weight``; ``sparse``: JSON of the few ``warnings`` and annotation ``links``
(``[row, line, text]`` triples) and edge provenance (``extra``: ``[edge, {weight_dist, from,
quote}]``); ``digest`` (of each file's bytes); ``text``: JSON of the other columns, read only
when verdicts are made: ``evidence_kind``, ``title``, ``label``, ``credence_dist``, ``date``
(ISO text), ``body``, ``tags`` and ``sources`` (how many of each the file has in the columns
that follow), ``tag``, ``url``, ``source_title``, ``source_quote``, ``source_date``, and per
edge ``note`` and ``index`` (its place in its list). Numbers are little-endian arrays read with
numpy without a Python object per value.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import sys
import tempfile
import time
from itertools import chain
from operator import attrgetter
from pathlib import Path

import numpy as np
import yaml

from graph.core.model import (
    EVIDENCE_KINDS, ID_PATTERN, KINDS, MAX_LABEL, RELATIONS, TakeoffError, parse_date,
)
from graph.core.uncertainty import parse_distribution
from graph.files.store import UnsafeFileError, open_regular, read_bytes, state_dir
from graph.files.validate import Verdict

CACHE_DIR = ".takeoff"
CACHE_NAME = "cache"
FORMAT = "takeoff-load-cache"
VERSION = 4
KEY_BYTES = 32
# Two seconds: the coarsest timestamp granularity in use (FAT); ext4 and tmpfs tick in ms.
RACY_NS = 2_000_000_000
# One entry per file; ``tags``, ``sources`` and ``edges`` say how many of the following each has.
FILE_COLUMNS = ("rel", "stat", "digest", "kind", "evidence_kind", "title", "label", "credence",
                "credence_dist", "date", "tags", "sources", "body", "edges")
TAG_COLUMNS = ("tag",)
SOURCE_COLUMNS = ("url", "source_title", "source_quote", "source_date")
EDGE_COLUMNS = ("target", "relation", "weight", "note", "extra", "index")
# ``[row, line, text]`` triples: a file's warnings, its annotation's links.
SPARSE_COLUMNS = ("warnings", "links")
EDGE_EXTRAS = {"weight_dist", "from", "quote"}
# The sections of the file, in this order: how each is stored (``text``: its values joined by
# NUL, which no path, id or digest holds; ``json``; else the numpy type of a little-endian
# array). The ones before ``digest`` are all a load of unchanged files reads; ``text`` (one
# JSON object of the remaining columns: titles, bodies, notes, sources...) is decoded only
# when a command needs the verdicts (the graph, or a file to read again).
SECTIONS = (("rel", "text"), ("stat", "<i8"), ("trusted", "u1"), ("kind", "i1"),
            ("credence", "<f8"), ("edges", "<i4"), ("target", "text"), ("relation", "i1"),
            ("weight", "<f8"), ("sparse", "json"), ("digest", "text"), ("text", "json"))
TEXT_COLUMNS = ("evidence_kind", "title", "label", "credence_dist", "date", "tags", "sources",
                "body", "tag", "url", "source_title", "source_quote", "source_date", "note",
                "index")
# The fields of a file's ``lstat`` a trusted entry keeps (the file type is checked apart).
STAT_FIELDS = ("st_dev", "st_ino", "st_size", "st_mtime_ns", "st_ctime_ns")
_stat_of = attrgetter("st_mode", *STAT_FIELDS)


def _fingerprint():
    """What a verdict depends on besides the file: the code of the package (every module, so
    a change to parsing or validation anywhere makes a new cache), PyYAML's version and
    Python's (its URL parser, its JSON)."""
    digest = hashlib.sha256(f"{yaml.__version__}\n{sys.version}\n".encode())
    package = Path(__file__).resolve().parents[1]
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + source.read_bytes())
    return digest.hexdigest()


def _mac(key, fingerprint, body):
    """The signature of a cache: its format, version and code fingerprint with its sections."""
    return hmac.new(key, f"{FORMAT}\n{VERSION}\n{fingerprint}\n".encode() + body,
                    hashlib.sha256).hexdigest()


def user_key():
    """This user's secret for signing caches (made on first use), or None where none can be
    kept. It lives outside every corpus, so no corpus can bring one."""
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
    """A file's ``lstat`` as the cache keeps it."""
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


class _Untrusted(ValueError):
    """A cache whose columns break what a verdict can hold."""


def _refuse_constant(name):
    raise _Untrusted(f"{name} in a cache")


class LoadCache:
    """The cache of one corpus folder for one load.

    Example::

        cache = LoadCache(root)
        columns = cache.columns(names)    # every file unchanged: the corpus as columns
        if columns is None:
            for (path, text, rel), (verdict, st) in zip(files, cache.lookup(files)):
                if verdict is None:                   # not kept, or changed: read it
                    nf = read_node_file(path)
                    verdict = cache.verdict_for(rel, nf.digest) or check_file(nf)
                    cache.keep(rel, st, nf.digest, verdict)
            ...
            cache.save()                              # if anything changed
    """

    def __init__(self, root, *, columns=True):
        self.root = Path(root)
        self.path = self.root / CACHE_DIR / CACHE_NAME
        self.key = user_key() if not os.environ.get("TAKEOFF_NO_CACHE") else None
        self.enabled = self.key is not None
        self.fingerprint = _fingerprint() if self.enabled else None
        self.now = time.time_ns()   # before any file is read: the racy rule's "read at"
        # The sections as read and checked for a load of unchanged files (None: no trusted
        # cache); the verdicts of every entry are made from them only when needed (rows).
        self._fast, self._slow = self._read() if self.enabled else (None, None)
        self._columns = columns   # False: every file goes through lookup()
        self._rows = None
        self._stats = None    # the lstat of each file, from columns(), for lookup()
        self._kept = {}       # rel -> (stat key or None, digest, Verdict or None, row or None)
        self.changed = False

    # ---- a load of unchanged files --------------------------------------------------------

    def columns(self, names):
        """The columns of every file of ``names`` (``(name as text, name relative to the
        corpus)`` pairs) if they are exactly the cache's entries, in its order, each regular
        and with its trusted ``lstat``; else None (then :meth:`lookup` reuses the ``lstat``
        results). Raises nothing: a file gone meanwhile is the slow path's to report."""
        fast = self._fast
        if fast is None or not self._columns or len(names) != len(fast["rel"]) \
                or [rel for _, rel in names] != fast["rel"]:
            return None
        try:
            self._stats = stats = list(map(os.lstat, [text for text, _ in names]))
            now = np.array(list(map(_stat_of, stats)), dtype=np.int64).reshape(len(stats), 6)
        except (OSError, OverflowError, ValueError):
            self._stats = None
            return None
        same = ((now[:, 0] & 0o170000) == stat.S_IFREG) & fast["trusted"] \
            & (now[:, 1:] == fast["stat"]).all(axis=1)
        if not same.all():
            return None
        return {name: fast[name] for name in ("rel", "kind", "credence", "edges", "target",
                                              "relation", "weight", "warnings", "links",
                                              "extra")} | {"verdicts": self.verdicts}

    def verdicts(self):
        """``{rel: Verdict}`` of every entry (decoding and checking the ``text`` section), or
        None if that section cannot be trusted."""
        rows = self.rows
        if self._fast is None or len(rows) != len(self._fast["rel"]):
            return None
        return {rel: row[2] for rel, row in rows.items()}

    @property
    def rows(self):
        """``{rel: (stat key, digest, Verdict, row)}`` of every entry ({} if the cache is
        missing or untrusted)."""
        if self._rows is None:
            self._rows = {}
            if self._slow is not None:
                try:
                    self._rows = _rows(_full(self._fast, self._slow))
                except (ValueError, TypeError, KeyError, IndexError, AttributeError,
                        RecursionError):
                    pass
        return self._rows

    # ---- a load ---------------------------------------------------------------------------

    def lookup(self, files):
        """For each ``(path, name as text, name relative to the corpus)`` of ``files``,
        ``(verdict, lstat)``: the kept verdict if the file's ``lstat`` matches its entry,
        else None; and the ``lstat`` result to give :meth:`keep` (None if there is none or
        the file is not a regular file)."""
        rows, kept, lstat, is_regular = self.rows, self._kept, os.lstat, stat.S_ISREG
        stats = self._stats if self._stats is not None and len(self._stats) == len(files) \
            else [None] * len(files)
        found = []
        for (_, text, rel), st in zip(files, stats):
            if st is None:
                try:
                    st = lstat(text)
                except (OSError, TypeError, ValueError):
                    found.append((None, None))
                    continue
            if not is_regular(st.st_mode):
                found.append((None, None))
                continue
            row = rows.get(rel)
            if row is not None and row[0] == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns,
                                              st.st_ctime_ns):
                kept[rel] = row
                found.append((row[2], st))
            else:
                found.append((None, st))
        return found

    def verdict_for(self, rel, digest):
        """The kept verdict of ``rel`` if its bytes have ``digest``, else None."""
        row = self.rows.get(rel)
        if row is None or digest is None or row[1] != digest:
            return None
        return row[2]

    def keep(self, rel, st, digest, verdict):
        """Keep the ``verdict`` of a file just read (``st`` its ``lstat`` from
        :meth:`lookup`, ``digest`` that of its bytes) for the next load, if it can be kept: a
        verdict without errors; its ``lstat`` trusted only outside the racy window."""
        if not self.enabled or digest is None or verdict.attrs is None or verdict.has_errors:
            return
        key = None
        if st is not None and max(st.st_mtime_ns, st.st_ctime_ns) < self.now - RACY_NS:
            key = _key(st)
        row = self.rows.get(rel)
        if row is not None and row[0] == key and row[1] == digest:
            self._kept[rel] = row   # the same entry (a racy file read again)
            return
        self._kept[rel] = (key, digest, verdict, None)
        self.changed = True

    # ---- reading --------------------------------------------------------------------------

    def _folder(self, create=False):
        """``.takeoff/`` if it is a real folder of this user (see graph.files.store.state_dir)."""
        try:
            return state_dir(self.root, create=create)
        except TakeoffError:
            return None

    def _read(self):
        """The sections a load of unchanged files needs, decoded and checked, and the bytes of
        the others; (None, None) for a missing or untrusted cache."""
        if self._folder() is None:
            return None, None
        try:
            fd = open_regular(self.path, limit=1 << 40, state=True)
        except UnsafeFileError:
            return None, None
        try:
            with os.fdopen(fd, "rb") as f:
                head = json.loads(f.readline())
                if not (isinstance(head, dict) and head.get("format") == FORMAT
                        and head.get("version") == VERSION
                        and head.get("fingerprint") == self.fingerprint
                        and isinstance(head.get("mac"), str)
                        and isinstance(head.get("sections"), list)):
                    return None, None
                body = f.read()
            if not hmac.compare_digest(_mac(self.key, self.fingerprint, body), head["mac"]):
                return None, None
            sections = _split(body, head["sections"])
            return _fast_columns(sections), sections
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError,
                RecursionError):
            return None, None

    # ---- writing --------------------------------------------------------------------------

    def save(self):
        """Write the cache if this load changed it: the entries served plus every verdict
        kept this load (best effort: any error leaves the old cache or none)."""
        if not self.enabled:
            return
        if not self.changed and len(self._kept) == len(self.rows):
            return   # nothing changed, nothing to write
        try:
            self._write(*_encode(_columns(self._kept)))
        except (OSError, TypeError, ValueError, RecursionError, TakeoffError):
            pass

    def _write(self, lengths, body):
        folder = self._folder(create=True)
        if folder is None or (os.path.lexists(self.path) and not os.path.isfile(self.path)) \
                or os.path.islink(self.path):
            return   # not ours to write (a link, a FIFO, another user's folder)
        head = json.dumps({"format": FORMAT, "version": VERSION, "fingerprint": self.fingerprint,
                           "sections": lengths, "mac": _mac(self.key, self.fingerprint, body)})
        fd, tmp = tempfile.mkstemp(prefix=".cache.", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(head.encode() + b"\n" + body)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# ---- the file's sections <-> columns ---------------------------------------------------------

def _encode(cols):
    """The sections of the columns ``cols`` (as :func:`_columns` gives them): ``([[name,
    length]...], body)``. A file whose ``lstat`` does not fit the integers kept is kept
    untrusted (read again on every load, its verdict reused by digest)."""
    n = len(cols["rel"])
    stats = [key or (0,) * 5 for key in cols["stat"]]
    try:
        stat_array = np.array(stats, dtype=np.int64).reshape(n, 5)
        trusted = np.array([key is not None for key in cols["stat"]], dtype=np.uint8)
    except OverflowError:
        fits = [key is not None and all(-2 ** 63 <= v < 2 ** 63 for v in key)
                for key in cols["stat"]]
        stat_array = np.array([s if ok else (0,) * 5 for s, ok in zip(stats, fits)],
                              dtype=np.int64).reshape(n, 5)
        trusted = np.array(fits, dtype=np.uint8)
    extra = cols["extra"]
    values = {
        "stat": stat_array, "trusted": trusted,
        "sparse": {"warnings": cols["warnings"], "links": cols["links"],
                   "extra": [[e, x] for e, x in enumerate(extra) if x is not None]},
        "text": {name: cols[name] for name in TEXT_COLUMNS},
    }
    parts, lengths = [], []
    for name, how in SECTIONS:
        value = values.get(name, cols.get(name))
        if how == "text":
            if any("\0" in v for v in value):
                raise ValueError(f"a NUL in {name}")
            data = "\0".join(value).encode("utf-8")
        elif how == "json":
            data = json.dumps(value, separators=(",", ":"), allow_nan=False).encode("ascii")
        else:
            data = np.ascontiguousarray(value, dtype=how).tobytes()
        parts.append(data)
        lengths.append([name, len(data)])
    return lengths, b"".join(parts)


def _split(body, lengths):
    """``{name: bytes}`` of a body whose header lists ``lengths`` (the sections, in order)."""
    if [name for name, _ in lengths] != [name for name, _ in SECTIONS]:
        raise _Untrusted("sections of another layout")
    sections, at, body = {}, 0, memoryview(body)   # views: no section is copied
    for name, length in lengths:
        if type(length) is not int or length < 0:
            raise _Untrusted("a section of no length")
        sections[name] = body[at:at + length]
        at += length
    if at != len(body):
        raise _Untrusted("a body of another length")
    return sections


def _decoded(sections, name):
    data, how = sections[name], dict(SECTIONS)[name]
    if how == "text":
        return str(data, "utf-8").split("\0") if data else []
    if how == "json":
        return json.loads(bytes(data), parse_constant=_refuse_constant)
    return np.frombuffer(data, dtype=how)


def _fast_columns(sections):
    """The sections a load of unchanged files reads, decoded and checked against what
    verdicts without errors can hold (raises ``_Untrusted`` or another ValueError, TypeError,
    KeyError or IndexError): the numbers as arrays, the paths and targets as lists."""
    cols = {name: _decoded(sections, name) for name, _ in SECTIONS[:10]}
    n, m = len(cols["rel"]), len(cols["target"])
    cols["stat"] = cols["stat"].reshape(n, 5)
    if not (cols["trusted"] <= 1).all():
        raise _Untrusted("a trusted flag that is neither 0 nor 1")
    cols["trusted"] = cols["trusted"].astype(bool)
    if not (len(cols["trusted"]) == len(cols["kind"]) == len(cols["credence"])
            == len(cols["edges"]) == n and len(cols["relation"]) == len(cols["weight"]) == m):
        raise _Untrusted("columns of different lengths")
    kind, credence, weight, edges = cols["kind"], cols["credence"], cols["weight"], cols["edges"]
    if not (((kind >= 0) & (kind < len(KINDS))).all() and len(set(cols["rel"])) == n
            and ((credence >= 0.0) & (credence <= 1.0)).all()
            and ((weight > 0.0) & (weight <= 1.0)).all()
            and ((cols["relation"] == 0) | (cols["relation"] == 1)).all()
            and (edges >= 0).all() and int(edges.sum(dtype=np.int64)) == m
            and all(cols["target"])):
        raise _Untrusted("a kind, number or text out of its range")
    sparse = cols.pop("sparse")
    if not (type(sparse) is dict and set(sparse) == {"warnings", "links", "extra"}):
        raise _Untrusted("sparse columns of another layout")
    cols["warnings"], cols["links"] = sparse["warnings"], sparse["links"]
    _check_triples(cols, n)

    cols["extra"] = extra = {}
    for pair in sparse["extra"]:
        if not (type(pair) is list and len(pair) == 2 and type(pair[0]) is int
                and 0 <= pair[0] < m and pair[0] not in extra
                and _good_extra(pair[1], parse_distribution)):
            raise _Untrusted("edge provenance no file could give")
        extra[pair[0]] = pair[1]
    return cols


def _full(fast, sections):
    """The columns of every entry, as :func:`_columns` makes them, from the sections."""
    if fast is None:
        raise _Untrusted("no columns")
    text = _decoded(sections, "text")
    if not (type(text) is dict and set(text) == set(TEXT_COLUMNS)):
        raise _Untrusted("text columns of another layout")
    m = len(fast["target"])
    cols = dict(text)
    cols.update(rel=fast["rel"], digest=_decoded(sections, "digest"),
                stat=[tuple(key) if ok else None
                      for key, ok in zip(fast["stat"].tolist(), fast["trusted"].tolist())],
                target=fast["target"], warnings=fast["warnings"], links=fast["links"],
                extra=[fast["extra"].get(e) for e in range(m)])
    for name in ("kind", "credence", "edges", "relation", "weight"):
        cols[name] = fast[name].tolist()
    return cols


# ---- columns <-> verdicts ---------------------------------------------------------------------

def _columns(kept):
    """The columns of the entries ``{rel: (stat, digest, Verdict, row)}``: a row of values per
    file (per tag, source, edge), turned into columns at once."""
    files, tags, sources, edges, warnings, links = [], [], [], [], [], []
    kind_index = {kind: i for i, kind in enumerate(KINDS)}
    evidence_index = {kind: i for i, kind in enumerate(EVIDENCE_KINDS)}
    relation_index = {relation: i for i, relation in enumerate(RELATIONS)}
    for row, (rel, (key, digest, verdict, _)) in enumerate(kept.items()):
        a = verdict.attrs
        files.append((rel, key, digest, kind_index[a["kind"]],
                      evidence_index[a["evidence_kind"]] if "evidence_kind" in a else None,
                      a["title"], a.get("label"), a["credence"], a.get("credence_dist"),
                      _iso(a["date"]), len(a["tags"]), len(a["sources"]), a["body"],
                      len(verdict.edges)))
        tags += a["tags"]
        sources += [(s["url"], s.get("title"), s.get("quote"), _iso(s["date"]))
                    for s in a["sources"]]
        edges += [(target, relation_index[relation], weight, note, extra, index)
                  for target, relation, weight, note, extra, index in verdict.edges]
        if verdict.problems:
            warnings += [[row, line, message] for line, message, _ in verdict.problems]
        if verdict.links:
            links += [[row, line, target] for target, line in verdict.links]
    cols = {"tag": tags, "warnings": warnings, "links": links}
    for names, rows in ((FILE_COLUMNS, files), (SOURCE_COLUMNS, sources), (EDGE_COLUMNS, edges)):
        columns = list(zip(*rows)) or [()] * len(names)
        cols.update(zip(names, columns))
    return cols


def _iso(date):
    return None if date is None else date.isoformat()


def _rows(cols):
    """``{rel: (stat key, digest, Verdict, row)}`` from the columns, after
    :func:`_check_columns` (raises ``_Untrusted`` or another ValueError, TypeError, KeyError or
    IndexError for columns that are not a cache's)."""
    dates, sources = _check_columns(cols)
    n = len(cols["rel"])
    warnings, links = {}, {}
    for row, line, message in cols["warnings"]:
        warnings.setdefault(row, []).append((line, message, "warning"))
    for row, line, target in cols["links"]:
        links.setdefault(row, []).append((target, line))
    edges = list(zip(cols["target"], [RELATIONS[r] for r in cols["relation"]],
                     cols["weight"], cols["note"], cols["extra"], cols["index"]))
    tags, kinds, evidence_kinds = cols["tag"], KINDS, EVIDENCE_KINDS
    rows = {}
    tag_end = source_end = edge_end = 0
    for r, (rel, key, digest, kind, ev, title, label, credence, dist, _, n_tags, n_sources,
            body, n_edges, date) in enumerate(zip(*(cols[c] for c in FILE_COLUMNS), dates)):
        attrs = {"kind": kinds[kind]}
        if ev is not None:
            attrs["evidence_kind"] = evidence_kinds[ev]
        attrs["title"] = title
        if label is not None:
            attrs["label"] = label
        attrs["credence"] = credence
        if dist is not None:
            attrs["credence_dist"] = dist
        attrs["date"] = date
        attrs["tags"] = tags[tag_end:tag_end + n_tags]
        attrs["sources"] = sources[source_end:source_end + n_sources]
        attrs["body"] = body
        tag_end += n_tags
        source_end += n_sources
        edge_end += n_edges
        rows[rel] = (key, digest, Verdict(attrs, edges[edge_end - n_edges:edge_end],
                                          warnings.get(r, ()), links.get(r, ())), r)
    if len(rows) != n:
        raise _Untrusted("a path twice")
    return rows


def _is(column, kind):
    """Whether every value of ``column`` is exactly of type ``kind`` (at C speed)."""
    return set(map(type, column)) <= {kind}


def _within(column, low, high, *, open_low=False):
    """Whether every value of ``column`` is a float in [low, high] ((low, high] if
    ``open_low``); the JSON reader has refused NaN and the infinities already."""
    if not column:
        return True
    if not _is(column, float):
        return False
    least = min(column)
    return (least > low if open_low else least >= low) and max(column) <= high


def _counts(column, total):
    return _is(column, int) and min(column, default=0) >= 0 and sum(column) == total


def _check_columns(cols):
    """Check the columns against what a verdict without errors can hold; returns the node
    dates and the sources (dates parsed). Raises ``_Untrusted`` (or another ValueError,
    TypeError, KeyError or IndexError) at the first thing no valid file could give."""
    n = len(cols["rel"])
    for group in (FILE_COLUMNS, TAG_COLUMNS, SOURCE_COLUMNS, EDGE_COLUMNS):
        if len({len(cols[c]) for c in group}) != 1:
            raise _Untrusted("columns of different lengths")
    if len(cols["title"]) != n or not (_counts(cols["tags"], len(cols["tag"]))
                                       and _counts(cols["sources"], len(cols["url"]))
                                       and _counts(cols["edges"], len(cols["target"]))):
        raise _Untrusted("counts that do not add up")
    for text_column in ("rel", "digest", "title", "body", "target", "note", "tag"):
        if not _is(cols[text_column], str):
            raise _Untrusted(f"{text_column} that is not text")
    kinds = cols["kind"]
    if not (_is(kinds, int) and set(kinds) <= set(range(len(KINDS)))
            and _within(cols["credence"], 0.0, 1.0) and _within(cols["weight"], 0.0, 1.0, open_low=True)
            and all(map(str.strip, cols["title"])) and all(cols["target"])
            and all(map(str.strip, cols["tag"]))
            and _is(cols["relation"], int) and set(cols["relation"]) <= set(range(len(RELATIONS)))
            and _is(cols["index"], int) and min(cols["index"], default=0) >= 0
            and set(map(type, cols["stat"])) <= {tuple, type(None)}):
        raise _Untrusted("a kind, number or text out of its range")
    _check_sparse(cols, kinds)
    parse = _date_parser()
    dates = list(map(parse, cols["date"]))
    evidence = KINDS.index("evidence")
    if any(date is None and kind == evidence for kind, date in zip(kinds, dates)):
        raise _Untrusted("evidence without a date")
    return dates, _sources(cols, parse)


def _check_sparse(cols, kinds):
    """The columns that are mostly empty: evidence kinds, labels, distributions, edge
    provenance, warnings and links."""
    evidence = KINDS.index("evidence")
    for kind, ev in zip(kinds, cols["evidence_kind"]):
        if ev is not None and (kind != evidence or type(ev) is not int
                               or not 0 <= ev < len(EVIDENCE_KINDS)):
            raise _Untrusted("an evidence kind out of place")
    for label in cols["label"]:
        if label is not None and (type(label) is not str or not label.strip() or "\n" in label
                                  or len(label) > MAX_LABEL):
            raise _Untrusted("a label that is not one line of text")
    for credence, dist in zip(cols["credence"], cols["credence_dist"]):
        if dist is not None and parse_distribution(dist) != (credence, dist):
            raise _Untrusted("a distribution no file could give")
    for extra in cols["extra"]:
        if extra is not None and not _good_extra(extra, parse_distribution):
            raise _Untrusted("edge provenance no file could give")
    _check_triples(cols, len(kinds))


def _check_triples(cols, n):
    """The ``[row, line, text]`` triples of warnings and links: each of one of the ``n``
    files."""
    for triple in chain(cols["warnings"], cols["links"]):
        if not (type(triple) is list and len(triple) == 3 and type(triple[0]) is int
                and 0 <= triple[0] < n and type(triple[1]) is int
                and type(triple[2]) is str):
            raise _Untrusted("a warning or link out of place")


def _date_parser():
    """A date from its ISO text (None from None), the same object for the same text (dates
    repeat: a corpus of 50,000 files has a few thousand); raises ``_Untrusted`` for text that
    is not a date :func:`graph.core.model.parse_date` gives back as it is."""
    seen = {None: None}

    def parse(text):
        date = seen.get(text) if type(text) is str or text is None else None
        if date is None and text is not None:
            date = parse_date(text) if type(text) is str else None
            if date is None or date.isoformat() != text:
                raise _Untrusted("a date that does not parse")
            seen[text] = date
        return date
    return parse


def _sources(cols, parse):
    """The sources as validation gives them (an http(s) URL, or none and a title; text
    fields; dates parsed), in order."""
    sources = []
    for url, title, words, date in zip(*(cols[c] for c in SOURCE_COLUMNS)):
        if url is None:
            if type(title) is not str or not title.strip():
                raise _Untrusted("a source with neither URL nor title")
        elif type(url) is not str or not url.startswith(("http://", "https://")) \
                or url != url.strip():
            raise _Untrusted("a source URL that is not http(s)")
        source = {"url": url}
        if title is not None:
            source["title"] = title
        if words is not None:
            source["quote"] = words
        if type(source.get("title", "")) is not str or type(source.get("quote", "")) is not str:
            raise _Untrusted("source text that is not text")
        source["date"] = parse(date)
        sources.append(source)
    return sources


def _good_extra(extra, parse_distribution):
    if type(extra) is not dict or not extra or not set(extra) <= EDGE_EXTRAS:
        return False
    if "from" in extra and (type(extra["from"]) is not str or not ID_PATTERN.match(extra["from"])):
        return False
    if "quote" in extra and (type(extra["quote"]) is not str or not extra["quote"].strip()):
        return False
    dist = extra.get("weight_dist")
    return "weight_dist" not in extra or (type(dist) is dict and parse_distribution(dist)[1] == dist)
