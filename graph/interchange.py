"""The registry of file formats behind ``takeoff export`` and ``takeoff import``.

A format names an exporter ``fn(graph, **options) -> str`` and, if it can be read, an importer
``fn(text, **options) -> networkx.MultiDiGraph`` (corpus attributes), as ``"module:function"``
strings so that a format's libraries (rdflib...) are imported only when that format is used.
``fixed`` holds arguments the format always passes (the RDF syntax); ``options`` names the
user's options it takes (``base``, ``score``, ``store``), so one export command serves all.
An importer may leave ``graph.graph["warnings"]``: what the format could not carry over.
"""
from __future__ import annotations

import importlib
from typing import NamedTuple

from graph.model import TakeoffError


class Format(NamedTuple):
    exporter: str
    importer: str | None = None
    description: str = ""
    fixed: dict = {}
    options: tuple = ()


_RDF = ("base", "score", "store")

FORMATS = {
    "node-link": Format("graph.model:export_node_link", "graph.formats:import_node_link",
                        "networkx node-link JSON"),
    "turtle": Format("graph.rdf:serialize", "graph.rdf:parse",
                     "RDF Turtle (takeoff-graph vocabulary)", {"fmt": "turtle"}, _RDF),
    "jsonld": Format("graph.rdf:serialize", "graph.rdf:parse",
                     "JSON-LD with an inline context", {"fmt": "jsonld"}, _RDF),
    "nt": Format("graph.rdf:serialize", "graph.rdf:parse", "RDF N-Triples", {"fmt": "nt"}, _RDF),
    "aif": Format("graph.formats:export_aif", "graph.formats:parse_aif", "AIF JSON (AIFdb, OVA)"),
    "argdown": Format("graph.formats:export_argdown", "graph.formats:parse_argdown", "Argdown",
                      options=("title",)),
    "graphml": Format("graph.formats:export_graphml", None, "GraphML (Gephi, yEd)",
                      options=("score",)),
    "mermaid": Format("graph.formats:export_mermaid", None, "Mermaid flowchart"),
    "dot": Format("graph.formats:export_dot", None, "Graphviz DOT"),
}
IMPORTABLE = tuple(name for name, f in FORMATS.items() if f.importer)
# File extensions and the format they imply when --format is not given. ``.json`` is node-link
# (the format without loss); AIF, also JSON, is told apart by ``.aif`` or ``.aif.json``.
EXTENSIONS = {
    ".json": "node-link",
    ".aif": "aif",
    ".aif.json": "aif",
    ".jsonld": "jsonld",
    ".ttl": "turtle",
    ".nt": "nt",
    ".argdown": "argdown",
    ".ad": "argdown",
    ".graphml": "graphml",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".dot": "dot",
    ".gv": "dot",
}


def format_for_path(path):
    """The format a file name implies (see ``EXTENSIONS``), or None if it implies none."""
    name = str(path).lower()
    matches = [ext for ext in EXTENSIONS if name.endswith(ext)]
    return EXTENSIONS[max(matches, key=len)] if matches else None


def extensions_text():
    """``.json (node-link), .ttl (turtle), ...`` for messages and help."""
    return ", ".join(f"{ext} ({fmt})" for ext, fmt in EXTENSIONS.items())


def _resolve(spec):
    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


def _call(spec, first, fmt, options):
    taken = {k: v for k, v in options.items() if k in fmt.options and v is not None}
    return _resolve(spec)(first, **fmt.fixed, **taken)


def export_graph(graph, fmt, **options):
    """The text of ``graph`` in format ``fmt``; options the format does not take are ignored."""
    return _call(FORMATS[fmt].exporter, graph, FORMATS[fmt], options)


def parse_graph(text, fmt, **options):
    """A corpus graph from ``text`` in format ``fmt``; bad input raises :class:`TakeoffError`."""
    importer = FORMATS[fmt].importer
    if importer is None:
        raise TakeoffError(f"--format {fmt} can be exported but not imported")
    return _call(importer, text, FORMATS[fmt], options)
