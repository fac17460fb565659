"""Whose argument each edge is, what each evidence item is, and the corpus seen through both.

Every edge may name its source with ``from:`` (beside ``target``, ``weight``, ``note``) and
quote the source's words with ``quote:``. A source id is :data:`graph.core.model.EDITOR` (the corpus
editor's own reasoning, always known) or a source declared in ``takeoff.toml``::

    [sources.essay]
    title = "What is recursive self-improvement?"   # required
    url = "https://example.org/essay"               # optional: url, author, date
    author = "A. Writer"
    date = "2025-06-01"

Evidence nodes say what they are with ``evidence_kind:`` (observation, forecast or testimony).

:func:`filter_graph` is the one implementation of ``--edges-from`` and ``--evidence-kinds``:
every command that scores calls it through :func:`graph.explaining.perspective.scope`.
"""
from __future__ import annotations

import re
from pathlib import Path

from graph.core.model import (
    EDITOR, EVIDENCE_KINDS, Problem, TakeoffError, did_you_mean, display_path,
    id_problem, parse_date,
)
from graph.files.config import read_marker

SOURCE_FIELDS = ("title", "url", "author", "date")
SOURCES_TABLE = "sources"


def read_sources(marker):
    """The sources declared in a ``takeoff.toml`` and the problems found in them.

    Parameters
    ----------
    marker : path
        The ``takeoff.toml`` (a missing file declares no source).

    Returns
    -------
    sources : dict
        ``{id: {"title", "url", "author", "date"}}`` (absent fields are None; ``date`` a date).
    problems : list of graph.core.model.Problem
        ``takeoff.toml:LINE: ...`` errors (a bad id, no title, a field of the wrong type) and
        warnings (unknown fields). A file that is not TOML is reported by
        :func:`graph.files.config.read_settings`, not here.
    """
    marker = Path(marker)
    if not marker.is_file():
        return {}, []

    text, data = read_marker(marker, strict=False)   # one read and parse with read_settings's
    if data is None:  # not TOML: reported, with its line, by graph.files.config.read_settings
        return {}, []
    table = data.get(SOURCES_TABLE, {})
    where = display_path(marker)
    sources, found = check_source_table(table)
    return sources, [Problem(where, _header_line(text, source_id), message, level)
                     for source_id, message, level in found]


def check_source_table(table):
    """Check a table of sources ``{id: {"title", "url", "author", "date"}}`` (from takeoff.toml
    or an imported file): ``(sources, [(id or None, message, level)])``, the sources without
    errors kept, dates parsed."""
    if not isinstance(table, dict):
        return {}, [(None, "sources must be a table of [sources.ID] sections, each with a title",
                     "error")]
    sources, problems = {}, []
    for source_id, fields in table.items():
        source, found = _check_source(str(source_id), fields)
        problems += [(source_id, message, level) for message, level in found]
        if source is not None:
            sources[source_id] = source
    return sources, problems


def _check_source(source_id, fields):
    """One declared source: (fields or None, [(message, level)])."""
    found = []
    if source_id == EDITOR:
        return None, [(f"source {source_id!r} is always known: it is the corpus editor", "error")]
    if id_problem(source_id, "source id"):
        return None, [(f"[sources]: {id_problem(source_id, 'source id')}", "error")]
    if not isinstance(fields, dict):
        return None, [(f"[sources.{source_id}] must be a table with a title", "error")]
    for key in fields:
        if key not in SOURCE_FIELDS:
            hint = did_you_mean(key, SOURCE_FIELDS) or f"known fields: {', '.join(SOURCE_FIELDS)}"
            found.append((f"[sources.{source_id}]: unknown field {key!r} ({hint}); it is ignored",
                          "warning"))
    source = {}
    for key in SOURCE_FIELDS:
        value = fields.get(key)
        if key == "date" and value is not None:
            value = parse_date(value if isinstance(value, str) else getattr(value, "isoformat", str)())
            if value is None:
                found.append((f"[sources.{source_id}]: date must be an ISO date", "error"))
        elif value is not None and (not isinstance(value, str) or not value.strip()):
            found.append((f"[sources.{source_id}]: {key} must be non-empty text", "error"))
            value = None
        source[key] = value
    if source["title"] is None and not any(m.startswith(f"[sources.{source_id}]: title")
                                           for m, _ in found):
        found.append((f"[sources.{source_id}] needs a title", "error"))
    return (source if not any(level == "error" for _, level in found) else None), found


def _header_line(text, source_id):
    """The line of ``[sources.ID]`` (or of ``[sources]`` / ``sources =``), 1-based; 0 if none."""
    pattern = (re.compile(rf"^\s*\[\s*{SOURCES_TABLE}\s*\.\s*[\"']?{re.escape(source_id)}[\"']?\s*\]")
               if source_id is not None else re.compile(rf"^\s*(\[\s*)?{SOURCES_TABLE}\b"))
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return number
    return 0


def known_sources(graph):
    """``{id: fields}`` of every source an edge of ``graph`` may name: the editor, then the
    sources declared in takeoff.toml (``graph.graph["sources"]``)."""
    editor = {"title": "the corpus editor's own reasoning", "url": None, "author": None,
              "date": None}
    return {EDITOR: editor, **graph.graph.get("sources", {})}


def edge_source(attrs):
    """The source id of an edge's attributes (None when the edge names none)."""
    return attrs.get("from")


def parse_source_ids(text, graph, *, option="--edges-from"):
    """``"essay,notes"`` as a tuple of known source ids; an unknown one raises
    :class:`graph.core.model.TakeoffError` naming the option, with a did-you-mean."""
    ids = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not ids:
        raise TakeoffError(f"{option}: name at least one source id (e.g. {EDITOR})")
    known = known_sources(graph)
    for source_id in ids:
        if source_id not in known:
            hint = did_you_mean(source_id, known, n=2, cutoff=0.5)
            raise TakeoffError(f"{option}: unknown source {source_id!r} "
                               f"({hint or 'known: ' + ', '.join(known)})")
    return ids


def parse_evidence_kinds(text, *, option="--evidence-kinds"):
    """``"observation,forecast"`` as a tuple of evidence kinds (unknown ones raise)."""
    kinds = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not kinds:
        raise TakeoffError(f"{option}: name at least one of {', '.join(EVIDENCE_KINDS)}")
    for kind in kinds:
        if kind not in EVIDENCE_KINDS:
            hint = did_you_mean(kind, EVIDENCE_KINDS)
            raise TakeoffError(f"{option}: unknown evidence kind {kind!r} "
                               f"({hint or 'one of ' + ', '.join(EVIDENCE_KINDS)})")
    return kinds


def filter_graph(graph, *, edges_from=None, evidence_kinds=None):
    """The corpus graph with only the edges from some sources and the evidence of some kinds.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph; it is not modified.
    edges_from : iterable of str, optional
        Keep only the edges whose ``from`` is one of these source ids. An edge that names no
        source is left out too: nobody in the list argued it.
    evidence_kinds : iterable of str, optional
        Keep only the evidence nodes of these kinds (``("observation",)``: observations only);
        other evidence, and evidence of no kind, is left out with its edges. Models, claims and
        arguments always stay.

    Returns
    -------
    networkx.MultiDiGraph
        ``graph`` itself when both are None, else a copy (attribute dicts copied).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("e", kind="evidence", evidence_kind="forecast"); G.add_node("m", kind="model")
    >>> G.add_edge("e", "m", key="supports", **{"from": "essay"})
    'supports'
    >>> filter_graph(G, evidence_kinds=["observation"]).number_of_nodes()
    1
    >>> filter_graph(G, edges_from=["editor"]).number_of_edges()
    0
    """
    if edges_from is None and evidence_kinds is None:
        return graph
    nodes = list(graph)
    if evidence_kinds is not None:
        kinds = set(evidence_kinds)
        nodes = [n for n, attrs in graph.nodes(data=True)
                 if attrs.get("kind") != "evidence" or attrs.get("evidence_kind") in kinds]
    out = graph.subgraph(nodes).copy()
    if edges_from is not None:
        keep = set(edges_from)
        out.remove_edges_from([(s, t, k) for s, t, k, source in out.edges(keys=True, data="from")
                               if source not in keep])
    return out


def describe_filter(edges_from=None, evidence_kinds=None):
    """The filter as the JSON of every scoring command reports it (None: no filter)."""
    if edges_from is None and evidence_kinds is None:
        return None
    return {"edges_from": None if edges_from is None else list(edges_from),
            "evidence_kinds": None if evidence_kinds is None else list(evidence_kinds)}


def chain_sources(graph, nodes):
    """The ``from`` of each edge along a chain of node ids (None where an edge names none)."""
    return [next(iter(graph[a][b].values())).get("from") for a, b in zip(nodes, nodes[1:])]
