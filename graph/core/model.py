"""The corpus: one Markdown file with YAML front matter per node, loaded into a networkx graph.

A corpus is a folder (``claims/`` by default) of ``ID.md`` files, subfolders allowed. Each file
is parsed with PyYAML's C loader (10,000 files load in 2.4-3.0 s here: bench/bench_load.py) and
checked by :mod:`graph.files.validate`; the result is a :class:`networkx.MultiDiGraph` whose edge keys
are the relations, so a node can neither support nor undermine the same target twice.
"""
from __future__ import annotations

import calendar
import datetime as dt
import gc
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from graph.core.limits import (
    check_yaml_events, harden, might_break_yaml_limits, quote,
)

if TYPE_CHECKING:  # networkx is imported where it is used, to keep `takeoff --help` fast
    import networkx

# An argument is one inference (an AIF RA-node, an Argdown <argument>): its premises support it,
# it supports (or undermines) its conclusion, and an undercut undermines it (docs/argdown.md).
KINDS = ("model", "claim", "evidence", "argument")
RELATIONS = ("supports", "undermines")
NODE_KEYS = ("kind", "evidence_kind", "title", "label", "credence", "date", "tags", "sources",
             "supports", "undermines")
# A label is a node's short name, as an Argdown statement's [title]: one line, this long at most.
MAX_LABEL = 100
SOURCE_KEYS = ("url", "title", "quote", "date")
# `from` names whose argument an edge is (a source of takeoff.toml's [sources], or the editor),
# `quote` gives that source's words (docs/evidence.md).
EDGE_KEYS = ("target", "weight", "note", "from", "quote")
# What an evidence node is: a measurement, release or result; a model's output; a statement.
EVIDENCE_KINDS = ("observation", "forecast", "testimony")
# The source every corpus knows: the corpus editor's own reasoning.
EDITOR = "editor"
DEFAULT_CREDENCE = 0.5
DEFAULT_WEIGHT = 1.0
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Perspective overlays live beside the nodes but are not nodes.
PERSPECTIVES_DIR = "perspectives"
# The date forms a file, `takeoff set` and `takeoff add --date` accept.
DATE_FORMS = "YYYY-MM-DD, or YYYY-MM for a month"


class TakeoffError(Exception):
    """An error the user can act on: the CLI prints its message and exits with status 1."""


class CorpusError(TakeoffError):
    """The corpus (or the corpus a write would leave) has errors; ``problems`` lists them."""

    where = "the corpus"

    def __init__(self, problems, action=None):
        self.problems = list(problems)
        head = f"{action}: " if action else ""
        count = len(self.problems)
        lines = [f"{head}{count} problem{'s' if count != 1 else ''} in {self.where}"]
        lines += [str(p) for p in self.problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Problem:
    """One finding of validation, printed as ``path:line: message``."""

    path: str
    line: int
    message: str
    level: str = "error"

    def __str__(self):
        where = f"{self.path}:{self.line}" if self.line else self.path
        prefix = "warning: " if self.level == "warning" else ""
        return f"{where}: {prefix}{self.message}"

    def to_json(self):
        return {"path": self.path, "line": self.line, "message": self.message, "level": self.level}


@harden
class _Loader(yaml.CSafeLoader):
    """The C loader without implicit timestamps: dates stay text so that a bad one becomes a
    validation problem with a line number rather than an exception from the YAML library.
    Long numbers and duplicate keys are refused (see :mod:`graph.core.limits`)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}
# YAML 1.1 wants a dot in a float's mantissa; ruamel.yaml writes 1e-05 without one.
_Loader.add_implicit_resolver("tag:yaml.org,2002:float",
                              re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$"),
                              list("-+0123456789."))


# The front matter starts on the line after the opening `---`.
FIRST_YAML_LINE = 2


@dataclass
class NodeFile:
    """A node file split into its front matter (None if it has none) and its body."""

    path: Path
    id: str
    front: str | None
    body: str
    # The parsed front matter (a dict), once parsed, or as the load cache gives it
    # (graph/files/cache.py): content only; graph.files.validate checks it on every load.
    parsed: dict | None = None


_CLOSING_MARKER = re.compile(r"^---[ \t]*\r?$", re.M)


def split_front_matter(text):
    """Split ``text`` into (front matter, body); front matter is None if the file has none.

    The body is everything after the closing ``---`` line, byte for byte.
    """
    if not (text.startswith("---\n") or text.startswith("---\r\n")):
        return None, text
    start = text.index("\n") + 1
    match = _CLOSING_MARKER.search(text, start)
    if match is None:
        return None, text
    end_of_marker = text.find("\n", match.end())
    body = "" if end_of_marker < 0 else text[end_of_marker + 1:]
    return text[start:match.start()], body


def display_path(path):
    """A path as the user would type it: relative to the working folder when inside it."""
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel


def node_id(path):
    """The node id of a file: its name without ``.md``."""
    return Path(path).name[:-3]


def iter_node_files(root):
    """Every ``*.md`` file below ``root`` (sorted, perspective folder and dot-folders skipped).

    A folder named ``*.md`` is listed too (not entered), so that reading refuses it by name;
    symbolic links to folders are not followed.
    """
    root = Path(root)
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        found += [here / d for d in dirnames if d.endswith(".md") and not d.startswith(".")]
        dirnames[:] = sorted(
            d for d in dirnames
            if not d.startswith(".") and not d.endswith(".md")
            and not (here == root and d == PERSPECTIVES_DIR)
        )
        found += [here / f for f in sorted(filenames) if f.endswith(".md")]
    return found


def read_node_file(path, text=None, root=None):
    """A node file split into front matter and body. Without ``text`` the file is read with
    :func:`graph.files.store.read_text`'s checks (raises ``UnsafeFileError``)."""
    if text is None:
        from graph.files.store import read_text

        text = read_text(path, root)
    front, body = split_front_matter(text)
    return NodeFile(Path(path), node_id(path), front, body)


def parse_front(front):
    """Parse front-matter text with the fast loader (raises ``yaml.YAMLError``).

    Anchors, aliases, deep nesting, long numbers and duplicate keys raise
    :class:`graph.core.limits.YAMLLimitError` before anything is expanded.
    """
    if might_break_yaml_limits(front):
        check_yaml_events(front)
    return yaml.load(front, Loader=_Loader)


class MonthDate(dt.date):
    """A date known only to the month (``2025-05`` in a file): precision ``"month"``.

    It compares, sorts and hashes as the **last day** of its month, so ``--as-of``, ``history``
    and the date slider count a month-dated item as present from the end of that month: it
    existed by then, whereas on the first it most likely did not yet (see
    docs/bundled-corpus.md, "Dates"). It prints as ``YYYY-MM`` (:meth:`isoformat`), so every
    export writes the precision back. Arithmetic and :meth:`replace` give plain dates.

    >>> MonthDate(2025, 2).isoformat(), MonthDate(2025, 2) == dt.date(2025, 2, 28)
    ('2025-02', True)
    """

    precision = "month"

    def __new__(cls, year, month):
        return super().__new__(cls, year, month, calendar.monthrange(year, month)[1])

    def isoformat(self):
        return f"{self.year:04d}-{self.month:02d}"

    __str__ = isoformat

    def __repr__(self):
        return f"MonthDate({self.year}, {self.month})"

    def __reduce__(self):
        return (MonthDate, (self.year, self.month))

    def as_day(self):
        """The plain date this month counts as (its last day)."""
        return dt.date(self.year, self.month, self.day)

    def replace(self, *args, **kwargs):
        return self.as_day().replace(*args, **kwargs)

    def __add__(self, other):
        return self.as_day() + other

    __radd__ = __add__

    def __sub__(self, other):
        return self.as_day() - other


def date_precision(value):
    """``"month"`` for a :class:`MonthDate`, ``"day"`` for another date, None for None."""
    if value is None:
        return None
    return getattr(value, "precision", "day")


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"\d{4}-\d{2}")


def parse_date(value):
    """An ISO date from text: ``YYYY-MM-DD`` (a :class:`datetime.date`) or ``YYYY-MM`` (a
    :class:`MonthDate`, month precision); None if it is neither."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if _DAY.fullmatch(text):
            return dt.date.fromisoformat(text)
        if _MONTH.fullmatch(text):
            year, month = int(text[:4]), int(text[5:])
            return MonthDate(year, month) if 1 <= month <= 12 and year >= 1 else None
    except ValueError:
        return None
    return None


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector: loading makes hundreds of thousands of small
    containers and no cycles, and the collections they trigger cost a third of a large load."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class Corpus:
    """A loaded corpus: the graph, where it came from, and what validation found.

    Loading never raises for problems in the files; call :meth:`require_valid` before relying
    on the graph. Example::

        corpus = Corpus.load("claims")
        corpus.require_valid()
        corpus.graph.nodes["bottlenecks"]["credence"]
    """

    root: Path
    graph: "networkx.MultiDiGraph"
    problems: list = field(default_factory=list)

    @classmethod
    def load(cls, root, overlay=None):
        """Load and validate the corpus below ``root``.

        Parameters
        ----------
        root : path
            The corpus folder. It must exist.
        overlay : dict, optional
            ``{path: text or None}``: files to read as if they held ``text`` (None: as if
            deleted). Writers validate the corpus a change would leave without touching disk.
        """
        from graph.files.store import is_perspective_file, stable_read

        root = Path(root)
        if not root.is_dir():
            raise TakeoffError(f"{root}: no such corpus folder (create one with `takeoff init {root}`)")
        overlay = {Path(p): t for p, t in (overlay or {}).items()
                   if not is_perspective_file(root, p)}
        return stable_read(root, lambda: cls._read(root, overlay))

    @classmethod
    def _read(cls, root, overlay):
        from graph.files.cache import LoadCache
        from graph.files.config import MARKER
        from graph.files.provenance import read_sources
        from graph.files.store import UnsafeFileError
        from graph.files.validate import build_graph

        paths = on_disk = iter_node_files(root)
        if overlay:
            paths = [p for p in on_disk if overlay.get(p, "") is not None]
            known = set(on_disk)
            paths += sorted(p for p, t in overlay.items() if t is not None and p not in known)
        refused = []

        def read(p, text=None):
            try:
                return read_node_file(p, text, root)
            except UnsafeFileError as exc:
                refused.append(Problem(display_path(p), exc.line, exc.reason))
                return None

        with _gc_paused():
            cache = LoadCache(root)   # graph/files/cache.py: unchanged files are not read again
            files = cache.node_files(paths, read, overlay)
            sources, source_problems = read_sources(root / MARKER)
            graph, problems = build_graph(files, sources)
            cache.save()
        return cls(root, graph, refused + source_problems + problems)

    @property
    def errors(self):
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self):
        return [p for p in self.problems if p.level == "warning"]

    def require_valid(self, action=None):
        """Raise :class:`CorpusError` listing every error, if there is any."""
        if self.errors:
            raise CorpusError(self.errors, action)
        return self

    def node(self, node_id):
        """The attributes of node ``node_id``; an unknown id raises with a did-you-mean."""
        if node_id not in self.graph:
            broken = [p for p in self.errors if Path(p.path).name == f"{node_id}.md"]
            if broken:  # the file is there but could not be read as a node
                raise TakeoffError(f"{quote(node_id)} cannot be used until its file is fixed: "
                                   f"{broken[0]}")
            raise TakeoffError(unknown_id_message(node_id, self.graph))
        return self.graph.nodes[node_id]

    @property
    def settings(self):
        """The settings of the corpus's ``takeoff.toml`` (see :func:`graph.files.config.read_settings`,
        the one place they are read)."""
        from graph.files.config import corpus_settings

        return corpus_settings(self.root)

    def score(self, semantics=None, **options):
        """Strengths of every node; see :func:`graph.solving.propagation.score_graph`. The semantics
        defaults to the corpus's setting (``takeoff.toml``), else qe."""
        from graph.solving.propagation import score_graph

        return score_graph(self.graph, semantics or self.settings.get("semantics", "qe"),
                           **options)


def did_you_mean(word, choices, *, n=1, cutoff=0.6, show=quote):
    """``did you mean 'a', 'b'?`` for the choices closest to ``word``, or None if none is close."""
    import difflib

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=n, cutoff=cutoff)
    return f"did you mean {', '.join(show(c) for c in close)}?" if close else None


def unknown_id_message(node_id, ids):
    """``unknown id 'x'`` with the closest known ids suggested."""
    hint = did_you_mean(node_id, ids, n=3, cutoff=0.5)
    return f"unknown id {quote(node_id)}" + (f" ({hint})" if hint else "")


def graph_to_node_link(graph):
    """networkx node-link data for a corpus graph, with JSON-safe attribute values."""
    import networkx as nx

    data = nx.node_link_data(graph, edges="edges")
    if data["graph"].get("sources"):  # the sources edges name (takeoff.toml's [sources])
        data["graph"] = {**data["graph"], "sources": {
            key: {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in fields.items()}
            for key, fields in data["graph"]["sources"].items()}}
    for node in data["nodes"]:
        node.pop("path", None)
        if node.get("date") is not None:
            node["date"] = node["date"].isoformat()
        node["sources"] = [
            {**s, "date": s["date"].isoformat()} if s.get("date") else {k: v for k, v in s.items() if k != "date"}
            for s in node.get("sources", [])
        ]
    return data


def export_node_link(graph, **_options):
    """networkx node-link JSON of a corpus graph (the ``node-link`` export format)."""
    import json

    return json.dumps(graph_to_node_link(graph), indent=2, ensure_ascii=False) + "\n"
