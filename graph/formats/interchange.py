"""The registry of file formats behind ``takeoff export`` and ``takeoff import``.

A format names an exporter ``fn(graph, **options) -> str`` and, if it can be read, an importer
``fn(text, **options) -> networkx.MultiDiGraph`` (corpus attributes), as ``"module:function"``
strings so that a format's libraries (rdflib...) are imported only when that format is used.
``fixed`` holds arguments the format always passes (the RDF syntax); ``options`` names the
user's options it takes (``base``, ``score``, ``store``), so one export command serves all.
An importer may leave ``graph.graph["warnings"]``: what the format could not carry over; an
exporter may return a :class:`graph.formats.common.ExportText` whose ``losses`` count what the
format has no place for. A file's format comes from ``--format``, else from its content where
the content tells (:func:`guess_format`: AIF in a ``.json`` file, Argdown blocks in Markdown,
a Kialo outline), else from its extension.
"""
from __future__ import annotations

import importlib
import re
from typing import NamedTuple

from graph.core.model import TakeoffError


class Format(NamedTuple):
    exporter: str
    importer: str | None = None
    description: str = ""
    fixed: dict = {}
    options: tuple = ()


_RDF = ("base", "score", "store")

FORMATS = {
    "node-link": Format("graph.formats.nodelink:export_node_link", "graph.formats.nodelink:import_node_link",
                        "networkx node-link JSON"),
    "turtle": Format("graph.formats.rdf:serialize", "graph.formats.rdf:parse",
                     "RDF Turtle (takeoff-graph vocabulary)", {"fmt": "turtle"}, _RDF),
    "jsonld": Format("graph.formats.rdf:serialize", "graph.formats.rdf:parse",
                     "JSON-LD with an inline context", {"fmt": "jsonld"}, _RDF),
    "nt": Format("graph.formats.rdf:serialize", "graph.formats.rdf:parse", "RDF N-Triples", {"fmt": "nt"}, _RDF),
    "aif": Format("graph.formats.aif:export_aif", "graph.formats.aif:parse_aif", "AIF JSON (AIFdb, OVA)"),
    "xaif": Format("graph.formats.aif:export_xaif", "graph.formats.aif:parse_aif",
                   "xAIF JSON (arg-tech's argument mining tools, the xaif package)"),
    "argdown": Format("graph.formats.argdown_write:export_argdown",
                      "graph.formats.argdown_read:parse_argdown", "Argdown", options=("title",)),
    "kialo": Format("graph.formats.kialo:export_kialo", "graph.formats.kialo:parse_kialo",
                    "Kialo's text export (1.1. Pro: ...)", options=("thesis",)),
    "graphml": Format("graph.formats.drawings:export_graphml", None, "GraphML (Gephi, yEd)",
                      options=("score",)),
    "mermaid": Format("graph.formats.drawings:export_mermaid", None, "Mermaid flowchart"),
    "dot": Format("graph.formats.drawings:export_dot", None, "Graphviz DOT"),
    "tgf": Format("graph.formats.tgf:export_tgf", None, "ICCMA TGF: the attack graph"),
    "apx": Format("graph.formats.tgf:export_apx", None, "ICCMA APX (ASPARTIX): the attack graph"),
}
IMPORTABLE = tuple(name for name, f in FORMATS.items() if f.importer)
# File extensions and the format they imply when --format is not given. ``.json`` is node-link
# (the format without loss); AIF, also JSON, is told apart by ``.aif`` or ``.aif.json``.
EXTENSIONS = {
    ".json": "node-link",
    ".aif": "aif",
    ".aif.json": "aif",
    ".xaif": "xaif",
    ".xaif.json": "xaif",
    ".kialo": "kialo",
    ".tgf": "tgf",
    ".apx": "apx",
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


_KIALO_START = re.compile(r"\s*(Discussion Title:.*\n\s*)?1\.[ \t]+\S")
_ARGDOWN_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*argdown\b", re.M | re.I)


def guess_format(path, text):
    """``(format, why)`` when the content of ``text`` tells its format, else None.

    A JSON file (``.json``, standard input) with AIF's ``nodeID`` is AIF (or xAIF, under an
    ``"AIF"`` key); Markdown with ```` ```argdown ```` blocks is Argdown; a ``.txt`` or
    extensionless file that opens like a Kialo outline (``Discussion Title:`` or ``1. ``) is
    Kialo. Only the first 64 KB are looked at."""
    head = text[:65536]
    implied = format_for_path(path) if path not in (None, "-", "<stdin>") else "node-link"
    if implied in (None, "node-link") and head.lstrip()[:1] in ("{", "[") and '"nodeID"' in head:
        fmt = "xaif" if re.match(r'\s*\{\s*"AIF"\s*:', head) else "aif"
        return fmt, f"read as {fmt} because it holds AIF nodes (nodeID)"
    if str(path).lower().endswith((".md", ".markdown")) and _ARGDOWN_FENCE.search(head):
        return "argdown", "read as argdown because it holds ```argdown blocks"
    if implied in (None, "kialo") and _KIALO_START.match(head):
        return "kialo", "read as kialo because it opens like a Kialo outline"
    return None


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
