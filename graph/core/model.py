"""The vocabulary: node kinds, relations and keys, the id rule, the one date type
(:class:`MonthDate` beside :class:`datetime.date`), the errors and problems every layer reports,
and the one YAML loader for front matter (:func:`parse_front`).

A corpus is a folder (``claims/`` by default) of ``ID.md`` files, subfolders allowed, each a
node: YAML front matter between ``---`` lines, then a Markdown body. Reading them is
:mod:`graph.files.corpus`; this module only says what they may hold.
"""
from __future__ import annotations

import calendar
import datetime as dt
import gc
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from graph.core.limits import (
    check_yaml_events, harden, might_break_yaml_limits, quote,
)
from graph.core.plainyaml import DEFER, plain_loader

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
    # A digest of the file's bytes as read (graph.files.store.read_node_file), the key of its
    # verdict in the load cache (graph/files/cache.py); None for text that was not read.
    digest: str | None = None


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


_plain = plain_loader(_Loader.yaml_implicit_resolvers)


def parse_front(front):
    """Parse front-matter text (raises ``yaml.YAMLError``).

    The plain subset nearly every file is written in is read by
    :func:`graph.core.plainyaml.plain_loader`, which gives exactly what the loader gives; the
    rest by PyYAML's C loader. Anchors, aliases, deep nesting, long numbers and duplicate keys
    raise :class:`graph.core.limits.YAMLLimitError` before anything is expanded.
    """
    value = _plain(front)
    if value is not DEFER:
        return value
    if might_break_yaml_limits(front):
        check_yaml_events(front)
    return yaml.load(front, Loader=_Loader)


def compose_front(front):
    """The YAML node tree of front-matter text, by the same loader as :func:`parse_front`
    (the validator reads line numbers from it)."""
    return yaml.compose(front, Loader=_Loader)


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
def gc_paused():
    """Pause the cyclic garbage collector: loading makes hundreds of thousands of small
    containers and no cycles, and the collections they trigger cost a third of a large load."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def did_you_mean(word, choices, *, n=1, cutoff=0.6, show=quote):
    """``did you mean 'a', 'b'?`` for the choices closest to ``word``, or None if none is close."""
    import difflib

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=n, cutoff=cutoff)
    return f"did you mean {', '.join(show(c) for c in close)}?" if close else None


def unknown_id_message(node_id, ids):
    """``unknown id 'x'`` with the closest known ids suggested."""
    hint = did_you_mean(node_id, ids, n=3, cutoff=0.5)
    return f"unknown id {quote(node_id)}" + (f" ({hint})" if hint else "")
