"""The registry of file formats behind ``takeoff export`` and ``takeoff import``.

A format names an exporter ``fn(graph, **options) -> str`` and, if it can be read, an importer
``fn(text) -> networkx.MultiDiGraph`` (corpus attributes), as ``"module:function"`` strings so
that a format's libraries (rdflib...) are imported only when that format is used.
"""
from __future__ import annotations

import importlib
from typing import NamedTuple

from graph.model import TakeoffError


class Format(NamedTuple):
    exporter: str
    importer: str | None = None
    description: str = ""


FORMATS = {
    "node-link": Format("graph.model:export_node_link", "graph.model:import_node_link",
                        "networkx node-link JSON"),
}


def _resolve(spec):
    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


def export_graph(graph, fmt, **options):
    """The text of ``graph`` in format ``fmt``."""
    return _resolve(FORMATS[fmt].exporter)(graph, **options)


def parse_graph(text, fmt):
    """A corpus graph from ``text`` in format ``fmt``; bad input raises :class:`TakeoffError`."""
    importer = FORMATS[fmt].importer
    if importer is None:
        raise TakeoffError(f"--format {fmt} can be exported but not imported")
    return _resolve(importer)(text)
