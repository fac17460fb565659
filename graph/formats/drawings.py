"""Drawings of the corpus for other tools, export only: GraphML, Mermaid and DOT."""
from __future__ import annotations

import json
import textwrap

import networkx as nx

from graph.formats.common import date_text, json_sources
from graph.core.model import DEFAULT_CREDENCE, DEFAULT_WEIGHT

def export_graphml(graph, *, score=None):
    """GraphML of the corpus graph for Gephi, yEd or Cytoscape.

    GraphML holds only plain values, so dates become ISO text (empty if none), tags and
    sources JSON text; ``label``, which the tools show, is the node's label, else its title. Edge ids are
    ``source.relation.target``: unique NMTOKENs, as the GraphML schema wants. With
    ``score``, nodes also carry their ``strength``.
    """
    plain = nx.MultiDiGraph()
    for node, attrs in sorted(graph.nodes(data=True)):
        values = {"label": attrs.get("label") or attrs["title"], "kind": attrs["kind"], "title": attrs["title"],
                  "credence": float(attrs.get("credence", DEFAULT_CREDENCE)),
                  "date": date_text(attrs.get("date")) or "",
                  "tags": json.dumps(attrs.get("tags") or [], ensure_ascii=False),
                  "sources": json.dumps(json_sources(attrs.get("sources")), ensure_ascii=False),
                  "body": attrs.get("body") or "",
                  "evidence_kind": attrs.get("evidence_kind") or ""}
        if score is not None:
            values["strength"] = float(score.strengths[node])
        plain.add_node(node, **values)
    for source, target, key, attrs in sorted(graph.edges(keys=True, data=True)):
        # The key becomes the edge's id, which the schema wants unique and an NMTOKEN (ids
        # have no dots, so these are unique).
        plain.add_edge(source, target, key=f"{source}.{key}.{target}", relation=attrs["relation"],
                       weight=float(attrs.get("weight", DEFAULT_WEIGHT)), note=attrs.get("note") or "",
                       **{"from": attrs.get("from") or "", "quote": attrs.get("quote") or ""})
    if graph.graph.get("sources"):  # whom the edges' `from` names: takeoff.toml's [sources]
        plain.graph["sources"] = json.dumps(
            {k: {f: date_text(v) for f, v in fields.items()} for k, fields in graph.graph["sources"].items()},
            ensure_ascii=False)
    return "\n".join(nx.generate_graphml(plain)) + "\n"


_COLOURS = {"model": "#fde68a", "claim": "#e0e7ff", "evidence": "#dcfce7", "argument": "#f3f4f6"}
_EDGE_COLOURS = {"supports": "#15803d", "undermines": "#b91c1c"}


def _mermaid_text(text):
    """Text inside a quoted Mermaid label: entity codes for what Mermaid would interpret."""
    text = " ".join(text.split())
    return "".join(f"#{ord(c)};" if c in '"#<>&`' else c for c in text)


def export_mermaid(graph):
    """A Mermaid flowchart of the corpus graph (paste into Markdown on GitHub, GitLab...).

    Supports are solid green arrows, undermines dotted red ones, labelled with their weight;
    nodes are coloured by kind.
    """
    name = {node: "n_" + node.replace("-", "_") for node in graph}
    lines = ["flowchart BT"]
    lines += [f"  classDef {kind} fill:{colour},stroke:#374151,color:#111827"
              for kind, colour in _COLOURS.items()]
    for node in sorted(graph):
        attrs = graph.nodes[node]
        left, right = ("{{", "}}") if attrs["kind"] == "argument" else ("[", "]")  # a hexagon
        lines.append(f'  {name[node]}{left}"{_mermaid_text(attrs["title"])}"{right}:::{attrs["kind"]}')
    styles = []
    edges = sorted(graph.edges(data=True), key=lambda e: (e[0], e[1]))
    for index, (source, target, attrs) in enumerate(edges):
        relation = attrs["relation"]
        arrow = "-->" if relation == "supports" else "-.->"
        sign = "+" if relation == "supports" else "−"
        lines.append(f'  {name[source]} {arrow}|"{sign}{attrs.get("weight", DEFAULT_WEIGHT):g}"| {name[target]}')
        styles.append(f"  linkStyle {index} stroke:{_EDGE_COLOURS[relation]}")
    return "\n".join(lines + styles) + "\n"


def _dot_text(text):
    """A double-quoted DOT string body (backslash and quote escaped, lines as ``\\n``)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")


def export_dot(graph):
    """Graphviz DOT of the corpus graph (``dot -Tsvg corpus.dot > corpus.svg``).

    Titles are wrapped at 40 characters; supports are green, undermines red and dashed, each
    labelled with its weight and with the note as tooltip.
    """
    lines = ["digraph takeoff {", "  rankdir=BT;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for node in sorted(graph):
        attrs = graph.nodes[node]
        label = "\n".join(textwrap.wrap(" ".join(attrs["title"].split()), 40)) or node
        shape = ", shape=hexagon" if attrs["kind"] == "argument" else ""
        lines.append(f'  "{node}" [label="{_dot_text(label)}"{shape}, fillcolor="{_COLOURS[attrs["kind"]]}", '
                     f'tooltip="{_dot_text(node)} ({attrs["kind"]})"];')
    for source, target, attrs in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1])):
        relation = attrs["relation"]
        style = "solid" if relation == "supports" else "dashed"
        sign = "+" if relation == "supports" else "−"
        lines.append(f'  "{source}" -> "{target}" [label="{sign}{attrs.get("weight", DEFAULT_WEIGHT):g}", '
                     f'color="{_EDGE_COLOURS[relation]}", style={style}, '
                     f'tooltip="{_dot_text(attrs.get("note") or relation)}"];')
    return "\n".join(lines + ["}"]) + "\n"
