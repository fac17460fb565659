"""What every format shares: the error, the id rule for nodes from other tools, the takeoff
fields of a node as JSON, and :class:`Builder`, which checks every node and edge a reader finds
by the corpus's rules and collects the problems and warnings with their place in the file."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

import networkx as nx

from graph.core.limits import quote
from graph.core.model import (
    DATE_FORMS, DEFAULT_CREDENCE, DEFAULT_WEIGHT, EVIDENCE_KINDS, KINDS, MAX_LABEL,
    TakeoffError, id_problem, parse_date,
)
from graph.core.uncertainty import UncertaintyError, parse_distribution
from graph.files.provenance import check_source_table


class FormatError(TakeoffError):
    """A file that is not valid AIF JSON or Argdown, or that takeoff-graph cannot represent."""


class Taken(set):
    """The ids given so far, and for each slug the next ``-N`` to try: with it,
    :func:`slugify` makes n ids from one text in linear time, not quadratic (issue 28: 100,000
    relations to the same untitled text took 217 s)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.next = {}


def slugify(text, taken, fallback="node"):
    """A node id made from ``text``, unique among ``taken`` (which it is added to).

    The rule (deterministic, and never a path: no separator, no dot): the runs of ASCII
    letters and digits of ``text`` (accents dropped, NFKD), lower-cased and joined by single
    '-', at most 60 characters cut at a word boundary. A text with no letter or digit takes
    ``fallback`` under the same rule, else ``node``; ``-2``, ``-3``... is appended when the id
    is taken. Pass a :class:`Taken` when many ids are made.

    >>> taken = Taken()
    >>> [slugify("Same text", taken) for _ in range(3)]
    ['same-text', 'same-text-2', 'same-text-3']
    """
    slug = _slug_words(text) or _slug_words(fallback) or "node"
    counters = getattr(taken, "next", None)
    unique, n = slug, 2 if counters is None else counters.get(slug, 2)
    while unique in taken:
        unique, n = f"{slug}-{n}", n + 1
    if counters is not None:
        counters[slug] = n
    taken.add(unique)
    return unique


def _slug_words(text):
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    slug = ""
    for word in re.findall(r"[a-z0-9]+", ascii_text.lower()):
        if len(slug) + len(word) + 1 > 60 and slug:
            break
        slug = f"{slug}-{word}" if slug else word[:60]
    return slug


def date_text(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def json_sources(sources):
    return [{k: date_text(v) for k, v in s.items() if v is not None} for s in sources or []]


def node_extras(attrs):
    """The takeoff-only fields of a node, JSON-ready, without empty ones."""
    extras = {"kind": attrs["kind"],
              "credence": attrs.get("credence_dist") or attrs.get("credence", DEFAULT_CREDENCE)}
    if attrs.get("evidence_kind"):
        extras["evidence_kind"] = attrs["evidence_kind"]
    if attrs.get("label"):
        extras["label"] = attrs["label"]
    if attrs.get("date") is not None:
        extras["date"] = date_text(attrs["date"])
    if attrs.get("tags"):
        extras["tags"] = list(attrs["tags"])
    if attrs.get("sources"):
        extras["sources"] = json_sources(attrs["sources"])
    if attrs.get("body"):
        extras["body"] = attrs["body"]
    return extras


def edge_provenance(attrs):
    """The edge's ``from`` and ``quote``, those it has (docs/evidence.md)."""
    return {key: attrs[key] for key in ("from", "quote") if attrs.get(key)}


class ExportText(str):
    """Export text that also says what the format could not carry: ``losses``, a list of
    counts as text (``["12 supports edge(s)", ...]``), which ``takeoff export`` prints."""

    def __new__(cls, text, losses):
        self = super().__new__(cls, text)
        self.losses = list(losses)
        return self


class Builder:
    """Collects nodes and edges read from a file, with the problems found on the way."""

    def __init__(self, what):
        self.what = what
        self.graph = nx.MultiDiGraph()
        self.problems = []
        self.warnings = []

    def add_node(self, node_id, title, data, where):
        """Add a node; ``data`` holds the takeoff fields found in the file (maybe none)."""
        if id_problem(node_id):
            self.problems.append(f"{where}: {id_problem(node_id)}")
        kind = data.get("kind", "claim")
        if kind not in KINDS:
            self.problems.append(f"{where}: unknown kind {quote(kind)} (one of {', '.join(KINDS)})")
            kind = "claim"
        credence, dist = self.uncertain(data.get("credence", DEFAULT_CREDENCE), "credence", where)
        if isinstance(credence, bool) or not isinstance(credence, (int, float)) or not 0 <= credence <= 1:
            self.problems.append(f"{where}: credence {quote(credence)} must be a number in [0, 1]")
            credence = DEFAULT_CREDENCE
        date = self.date(data.get("date"), where)
        tags = data.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
            self.problems.append(f"{where}: tags must be a list of text")
            tags = []
        body = data.get("body")
        if body is not None and not isinstance(body, str):
            self.problems.append(f"{where}: body must be text, not {quote(body)}")
        evidence_kind = data.get("evidence_kind")
        if evidence_kind is not None and (kind != "evidence" or evidence_kind not in EVIDENCE_KINDS):
            self.problems.append(f"{where}: evidence_kind {quote(evidence_kind)} must be one of "
                                 f"{', '.join(EVIDENCE_KINDS)}, on evidence only")
            evidence_kind = None
        label = data.get("label")
        if label is not None and (not isinstance(label, str) or not label.strip()
                                  or "\n" in label or len(label) > MAX_LABEL):
            self.problems.append(f"{where}: label {quote(label)} must be one line of text, at "
                                 f"most {MAX_LABEL} characters")
            label = None
        self.graph.add_node(node_id, kind=kind, title=title, credence=float(credence), date=date,
                            tags=list(tags), sources=self.sources(data.get("sources"), where),
                            body=body if isinstance(body, str) else "",
                            **({"credence_dist": dist} if dist else {}),
                            **({"evidence_kind": evidence_kind} if evidence_kind else {}),
                            **({"label": label} if label else {}))

    def uncertain(self, value, what, where):
        """A credence or weight written as a distribution (graph/core/uncertainty.py): (point, dist);
        a number passes through as (value, None)."""
        if not isinstance(value, dict):
            return value, None

        try:
            return parse_distribution(value)
        except UncertaintyError as exc:
            self.problems.append(f"{where}: {what}: {exc}")
            return (DEFAULT_CREDENCE if what == "credence" else DEFAULT_WEIGHT), None

    def date(self, value, where):
        if value is None:
            return None
        parsed = parse_date(date_text(value))
        if parsed is None:
            self.problems.append(f"{where}: date {quote(value)} is not an ISO date ({DATE_FORMS})")
        return parsed

    def sources(self, raw, where):
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problems.append(f"{where}: sources must be a list")
            return []
        sources = []
        for item in raw:
            if isinstance(item, str) and item.strip():  # a URL, or a source named in words
                item = {"url": item} if re.match(r"https?://\S+$", item) else {"title": item}
            named = isinstance(item, dict) and item.get("url") is None and isinstance(item.get("title"), str)
            if not isinstance(item, dict) or not (isinstance(item.get("url"), str) or named):
                self.problems.append(f"{where}: a source needs a url (or, without one, a title): {quote(item)}")
                continue
            source = {"url": item.get("url")}
            for key in ("title", "quote"):
                if isinstance(item.get(key), str):
                    source[key] = item[key]
                elif item.get(key) is not None:
                    self.problems.append(f"{where}: a source's {key} must be text, not "
                                         f"{quote(item[key])}")
            source["date"] = self.date(item.get("date"), where)
            sources.append(source)
        return sources

    def add_edge(self, source, target, relation, weight, note, where, provenance=None):
        """Add an edge; ``provenance`` holds its ``from`` and ``quote`` if the file gave them."""
        if source == target:
            self.problems.append(f"{where}: {quote(source)} cannot {relation[:-1]} itself")
            return
        other = "undermines" if relation == "supports" else "supports"
        if self.graph.has_edge(source, target, key=other):
            self.problems.append(f"{where}: {quote(source)} both supports and undermines {quote(target)}")
            return
        if self.graph.has_edge(source, target, key=relation):
            return  # the same relation stated twice is one edge
        weight, dist = self.uncertain(weight, "weight", where)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= 1:
            self.problems.append(f"{where}: weight {quote(weight)} must be a number in (0, 1]")
            return
        if not isinstance(note, str):
            self.problems.append(f"{where}: note {quote(note)} must be text")
            return
        self.graph.add_edge(source, target, key=relation, relation=relation,
                            weight=float(weight), note=note, **({"weight_dist": dist} if dist else {}),
                            **self.provenance(provenance, where))

    def declared_sources(self, table, where):
        """Keep the sources the edges' ``from`` may name (``graph.graph["sources"]``), checked
        as takeoff.toml's [sources] are (:func:`graph.files.provenance.check_source_table`)."""
        if table is None:
            return

        sources, found = check_source_table(table)
        self.problems += [f"{where}: {message}" for _, message, level in found if level == "error"]
        if sources:
            self.graph.graph["sources"] = sources

    def provenance(self, data, where):
        """The edge's ``from`` (a source id) and ``quote`` (text) found in ``data``."""
        out = {}
        for key in ("from", "quote"):
            value = (data or {}).get(key)
            if value is None:
                continue
            if key == "from" and id_problem(value, "source id"):
                self.problems.append(f"{where}: an edge's from: {id_problem(value, 'source id')}")
                continue
            if not isinstance(value, str) or not value.strip():
                self.problems.append(f"{where}: an edge's {key} must be text, not {quote(value)}")
                continue
            out[key] = value
        return out

    def result(self):
        if self.problems:
            lines = self.problems[:50] + ([f"... and {len(self.problems) - 50} more"]
                                          if len(self.problems) > 50 else [])
            article = "an" if self.what[0].lower() in "aeiou" else "a"
            raise FormatError(f"not {article} {self.what} takeoff-graph can import:\n"
                              + "\n".join(f"  {p}" for p in lines))
        self.graph.graph["warnings"] = self.warnings
        return self.graph
