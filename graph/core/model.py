"""The vocabulary: node kinds, relations and keys, the id rule, the one date type
(:class:`MonthDate` beside :class:`datetime.date`), the errors and problems every layer reports,
and a node file split into front matter and body. It imports no YAML library: the loader of
front matter is :mod:`graph.core.frontmatter`, and what only lists files (a Tab completing an
id) needs none.

A corpus is a folder (``claims/`` by default) of ``ID.md`` files, subfolders allowed, each a
node: YAML front matter between ``---`` lines, then a Markdown body. Reading them is
:mod:`graph.files.corpus`; this module only says what they may hold.
"""
from __future__ import annotations

import datetime as dt
import gc
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from graph.core.limits import quote

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
# The id rule (ids of nodes, perspectives and sources): test it with is_id, report it with
# id_problem / check_id. `\Z`, not `$`, which also matches before a final newline.
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*\Z")
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


def is_id(text):
    """Whether ``text`` is an id: lower-case letters and digits in words joined by single '-'.

    >>> is_id("compute-bottleneck"), is_id("Compute"), is_id("a--b"), is_id("a\\n")
    (True, False, False, False)
    """
    return isinstance(text, str) and ID_PATTERN.match(text) is not None


def id_problem(text, what="id"):
    """The one message for a ``text`` that breaks the id rule (None if it keeps it); ``what``
    names the id (``"id"``, ``"perspective name"``, ``"source id"``)."""
    if is_id(text):
        return None
    return (f"{quote(text)} is not a valid {what}: use lower-case letters, digits and single '-' "
            "(e.g. compute-bottleneck)")


def check_id(text, what="id"):
    """``text`` if it is an id, else a :class:`TakeoffError` with :func:`id_problem`'s
    message."""
    problem = id_problem(text, what)
    if problem:
        raise TakeoffError(problem)
    return text


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
        last = 31 if month == 12 else (dt.date(year, month + 1, 1) - dt.timedelta(days=1)).day
        return super().__new__(cls, year, month, last)

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
