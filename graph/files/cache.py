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
  what a verdict without errors can hold (:func:`_check_columns`): kinds, relations and
  evidence kinds among the known ones, credences in [0, 1] and weights in (0, 1] (finite: the
  JSON reader refuses NaN and infinities), dates that parse, distributions that
  :func:`graph.core.uncertainty.parse_distribution` accepts, text where text belongs, source
  URLs that are http(s) or absent with a title. One that fails makes the whole cache ignored, so
  even a cache signed with your own key cannot put a value into the graph that no valid file
  could give, nor end a command in a traceback.
- **A cache is data.** It is JSON (never pickle or marshal), read with the guarded read
  (:func:`graph.files.store.open_regular`: a FIFO, device or link there is ignored, never
  opened or followed); one that is corrupt, of another format or version is ignored and
  rebuilt. ``.takeoff/`` must be a real folder of the running user
  (:func:`graph.files.store.state_dir`), else nothing is read or written there.
- **Best effort.** The file is written to a temporary file and renamed into place (atomic); a
  corpus that cannot be written (read-only, full disk) simply is not cached. Set
  ``TAKEOFF_NO_CACHE=1`` to neither read nor write it.

The layout (one JSON object, one list per column, row ``r`` the ``r``-th cached file): ``rel``,
``stat`` (the trusted ``lstat`` key, or null for a racy file), ``digest``; the node's ``kind``
and ``evidence_kind`` (indices into :data:`graph.core.model.KINDS` and ``EVIDENCE_KINDS``),
``title``, ``label``, ``credence``, ``credence_dist``, ``date`` (ISO text), ``tags``,
``sources`` (dates as ISO text), ``body``; ``edges`` (how many edges each file has) and, one
entry per edge, ``target``, ``relation`` (index into ``RELATIONS``), ``weight``, ``note``,
``extra`` (``weight_dist``, ``from``, ``quote`` when given) and ``index`` (its place in its
list); ``warnings`` and ``links`` as ``[row, line, text]`` triples.
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
from itertools import accumulate, chain
from pathlib import Path

import yaml

from graph.core.model import (
    EVIDENCE_KINDS, ID_PATTERN, KINDS, MAX_LABEL, RELATIONS, SOURCE_KEYS, TakeoffError, parse_date,
)

CACHE_DIR = ".takeoff"
CACHE_NAME = "cache"
FORMAT = "takeoff-load-cache"
VERSION = 3
KEY_BYTES = 32
# Two seconds: the coarsest timestamp granularity in use (FAT); ext4 and tmpfs tick in ms.
RACY_NS = 2_000_000_000
NODE_COLUMNS = ("rel", "stat", "digest", "kind", "evidence_kind", "title", "label", "credence",
                "credence_dist", "date", "tags", "sources", "body", "edges")
EDGE_COLUMNS = ("target", "relation", "weight", "note", "extra", "index")
EDGE_EXTRAS = {"weight_dist", "from", "quote"}


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
    """The signature of a cache: its format, version and code fingerprint with its columns."""
    return hmac.new(key, f"{FORMAT}\n{VERSION}\n{fingerprint}\n".encode() + body,
                    hashlib.sha256).hexdigest()


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


class _Untrusted(ValueError):
    """A cache whose columns break what a verdict can hold."""


def _refuse_constant(name):
    raise _Untrusted(f"{name} in a cache")


class LoadCache:
    """The cache of one corpus folder for one load.

    Example::

        cache = LoadCache(root)
        verdict, key = cache.lookup(path, rel)        # None: read the file
        if verdict is None:
            nf = read_node_file(path)
            verdict = cache.verdict_for(rel, nf.digest) or check_file(nf)
            cache.keep(rel, key, nf.digest, verdict)
        ...
        cache.save()                                  # if anything changed
    """

    def __init__(self, root):
        self.root = Path(root)
        self.path = self.root / CACHE_DIR / CACHE_NAME
        self.key = user_key() if not os.environ.get("TAKEOFF_NO_CACHE") else None
        self.enabled = self.key is not None
        self.fingerprint = _fingerprint() if self.enabled else None
        self.rows = self._read() if self.enabled else {}
        self.now = time.time_ns()   # before any file is read: the racy rule's "read at"
        self._kept = {}       # rel -> (stat key or None, digest, Verdict or None, row or None)
        self.changed = False

    # ---- a load -------------------------------------------------------------------------

    def lookup(self, path, rel):
        """``(verdict, key)``: the kept verdict of the file at ``path`` (named ``rel`` relative
        to the corpus) if its ``lstat`` matches its entry, else None; and the ``lstat`` key to
        give :meth:`keep` (None for a file that is not a regular file)."""
        try:
            st = os.lstat(path)
        except OSError:
            return None, None
        key = _key(st) if stat.S_ISREG(st.st_mode) else None
        row = self.rows.get(rel)
        if row is not None and key is not None and row[0] == key:
            self._kept[rel] = row
            return row[2], key
        return None, key

    def verdict_for(self, rel, digest):
        """The kept verdict of ``rel`` if its bytes have ``digest``, else None."""
        row = self.rows.get(rel)
        if row is None or digest is None or row[1] != digest:
            return None
        return row[2]

    def keep(self, rel, key, digest, verdict):
        """Keep the ``verdict`` of a file just read (``key`` its ``lstat`` key from
        :meth:`lookup`, ``digest`` that of its bytes) for the next load, if it can be kept: a
        verdict without errors; its ``lstat`` trusted only outside the racy window."""
        if not self.enabled or digest is None or verdict.attrs is None or verdict.has_errors:
            return
        if key is not None and max(key[3], key[4]) >= self.now - RACY_NS:
            key = None
        row = self.rows.get(rel)
        if row is not None and row[0] == key and row[1] == digest:
            self._kept[rel] = row   # the same entry (a racy file read again)
            return
        self._kept[rel] = (key, digest, verdict, None)
        self.changed = True

    # ---- reading --------------------------------------------------------------------------

    def _folder(self, create=False):
        """``.takeoff/`` if it is a real folder of this user (see graph.files.store.state_dir)."""
        from graph.files.store import state_dir

        try:
            return state_dir(self.root, create=create)
        except TakeoffError:
            return None

    def _read(self):
        """``{rel: (stat key, digest, Verdict, row)}``, or {} for a missing or untrusted
        cache."""
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
                body = f.read()
            if not hmac.compare_digest(_mac(self.key, self.fingerprint, body), head["mac"]):
                return {}
            columns = json.loads(body, parse_constant=_refuse_constant)
            return _rows(columns)
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError,
                RecursionError):
            return {}

    # ---- writing --------------------------------------------------------------------------

    def save(self):
        """Write the cache if this load changed it: the entries served plus every verdict
        kept this load (best effort: any error leaves the old cache or none)."""
        if not self.enabled:
            return
        if not self.changed and len(self._kept) == len(self.rows):
            return   # nothing changed, nothing to write
        try:
            body = json.dumps(_columns(self._kept), separators=(",", ":"),
                              allow_nan=False).encode("ascii")
            self._write(body)
        except (OSError, TypeError, ValueError, RecursionError, TakeoffError):
            pass

    def _write(self, body):
        folder = self._folder(create=True)
        if folder is None or (os.path.lexists(self.path) and not os.path.isfile(self.path)) \
                or os.path.islink(self.path):
            return   # not ours to write (a link, a FIFO, another user's folder)
        head = json.dumps({"format": FORMAT, "version": VERSION, "fingerprint": self.fingerprint,
                           "mac": _mac(self.key, self.fingerprint, body)})
        fd, tmp = tempfile.mkstemp(prefix=".cache.", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(head.encode() + b"\n" + body)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# ---- columns <-> verdicts ---------------------------------------------------------------------

def _columns(kept):
    """The columns of the entries ``{rel: (stat, digest, Verdict, row)}``."""
    cols = {name: [] for name in (*NODE_COLUMNS, *EDGE_COLUMNS)}
    cols["warnings"], cols["links"] = [], []
    node = [cols[name] for name in NODE_COLUMNS[3:13]]
    edge = [cols[name] for name in EDGE_COLUMNS]
    for row, (rel, (key, digest, verdict, _)) in enumerate(kept.items()):
        cols["rel"].append(rel)
        cols["stat"].append(key)
        cols["digest"].append(digest)
        a = verdict.attrs
        values = (KINDS.index(a["kind"]),
                  EVIDENCE_KINDS.index(a["evidence_kind"]) if "evidence_kind" in a else None,
                  a["title"], a.get("label"), a["credence"], a.get("credence_dist"),
                  a["date"].isoformat() if a["date"] is not None else None, a["tags"],
                  [{**s, "date": s["date"].isoformat()} if s.get("date") is not None else s
                   for s in a["sources"]],
                  a["body"])
        for column, value in zip(node, values):
            column.append(value)
        cols["edges"].append(len(verdict.edges))
        for target, relation, weight, note, extra, index in verdict.edges:
            for column, value in zip(edge, (target, RELATIONS.index(relation), weight, note,
                                            extra, index)):
                column.append(value)
        cols["warnings"] += [[row, line, message] for line, message, _ in verdict.problems]
        cols["links"] += [[row, line, target] for target, line in verdict.links]
    return cols


def _rows(cols):
    """``{rel: (stat key, digest, Verdict, row)}`` from the columns, after
    :func:`_check_columns` (raises ``_Untrusted`` or another ValueError, TypeError, KeyError or
    IndexError for columns that are not a cache's)."""
    from graph.files.validate import Verdict

    dates = _check_columns(cols)
    n = len(cols["rel"])
    warnings = [[] for _ in range(n)]
    for row, line, message in cols["warnings"]:
        warnings[row].append((line, message, "warning"))
    links = [[] for _ in range(n)]
    for row, line, target in cols["links"]:
        links[row].append((target, line))
    edge_rows = list(zip(cols["target"], [RELATIONS[r] for r in cols["relation"]],
                         cols["weight"], cols["note"], cols["extra"], cols["index"]))
    ends = list(accumulate(cols["edges"]))
    rows = {}
    for r, (rel, key, digest, kind, ev, title, label, credence, dist, _, tags, sources, body,
            date, count) in enumerate(zip(*(cols[c] for c in NODE_COLUMNS[:13]), dates,
                                         cols["edges"])):
        attrs = {"kind": KINDS[kind]}
        if ev is not None:
            attrs["evidence_kind"] = EVIDENCE_KINDS[ev]
        attrs["title"] = title
        if label is not None:
            attrs["label"] = label
        attrs["credence"] = credence
        if dist is not None:
            attrs["credence_dist"] = dist
        attrs["date"] = date
        attrs["tags"] = tags
        attrs["sources"] = sources
        attrs["body"] = body
        stop = ends[r]
        rows[rel] = (key, digest,
                     Verdict(attrs, edge_rows[stop - count:stop], warnings[r], links[r]), r)
    if len(rows) != n:
        raise _Untrusted("a path twice")
    return rows


def _is(column, kind):
    return all(type(v) is kind for v in column)


def _check_columns(cols):
    """Check the columns against what a verdict without errors can hold; returns the node
    dates (parsed). Raises ``_Untrusted`` (or another ValueError, TypeError, KeyError or
    IndexError) at the first thing no valid file could give."""
    from graph.core.uncertainty import parse_distribution

    n = len(cols["rel"])
    if any(len(cols[c]) != n for c in NODE_COLUMNS):
        raise _Untrusted("columns of different lengths")
    m = len(cols["target"])
    if any(len(cols[c]) != m for c in EDGE_COLUMNS) or not _is(cols["edges"], int) \
            or min(cols["edges"], default=0) < 0 or sum(cols["edges"]) != m:
        raise _Untrusted("edges that do not add up")
    kinds = cols["kind"]
    for text_column in ("rel", "digest", "title", "body", "target", "note"):
        if not _is(cols[text_column], str):
            raise _Untrusted(f"{text_column} that is not text")
    if not (_is(kinds, int) and set(kinds) <= set(range(len(KINDS)))
            and _is(cols["credence"], float) and 0 <= min(cols["credence"], default=0)
            and max(cols["credence"], default=0) <= 1
            and all(title.strip() for title in cols["title"])
            and _is(cols["relation"], int) and set(cols["relation"]) <= set(range(len(RELATIONS)))
            and _is(cols["weight"], float) and 0 < min(cols["weight"], default=1)
            and max(cols["weight"], default=1) <= 1 and all(cols["target"])
            and _is(cols["index"], int) and min(cols["index"], default=0) >= 0
            and _is(cols["tags"], list) and _is(cols["sources"], list)):
        raise _Untrusted("a kind, number or list out of its range")
    tags = list(chain.from_iterable(cols["tags"]))
    if not (_is(tags, str) and all(t.strip() for t in tags)):
        raise _Untrusted("a tag that is not text")
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
    for source in chain.from_iterable(cols["sources"]):
        _check_source(source)
    dates = [_date(text) for text in cols["date"]]
    if any(date is None and kind == evidence for kind, date in zip(kinds, dates)):
        raise _Untrusted("evidence without a date")
    for triples, middle in ((cols["warnings"], int), (cols["links"], int)):
        for triple in triples:
            if not (type(triple) is list and len(triple) == 3 and type(triple[0]) is int
                    and 0 <= triple[0] < n and type(triple[1]) is middle
                    and type(triple[2]) is str):
                raise _Untrusted("a warning or link out of place")
    return dates


def _date(text):
    if text is None:
        return None
    date = parse_date(text) if type(text) is str else None
    if date is None or date.isoformat() != text:
        raise _Untrusted("a date that does not parse")
    return date


def _good_extra(extra, parse_distribution):
    if type(extra) is not dict or not extra or not set(extra) <= EDGE_EXTRAS:
        return False
    if "from" in extra and (type(extra["from"]) is not str or not ID_PATTERN.match(extra["from"])):
        return False
    if "quote" in extra and (type(extra["quote"]) is not str or not extra["quote"].strip()):
        return False
    dist = extra.get("weight_dist")
    return "weight_dist" not in extra or (type(dist) is dict and parse_distribution(dist)[1] == dist)


def _check_source(source):
    """A source as validation gives it: an http(s) URL, or none and a title; text fields;
    its date parsed back in place."""
    if type(source) is not dict or not set(source) <= set(SOURCE_KEYS) or "url" not in source \
            or "date" not in source:
        raise _Untrusted("a source no file could give")
    url, title = source["url"], source.get("title")
    if url is None:
        if type(title) is not str or not title.strip():
            raise _Untrusted("a source with neither URL nor title")
    elif type(url) is not str or not url.startswith(("http://", "https://")) or url != url.strip():
        raise _Untrusted("a source URL that is not http(s)")
    if any(type(source[k]) is not str for k in ("title", "quote") if k in source):
        raise _Untrusted("source text that is not text")
    source["date"] = _date(source["date"])
