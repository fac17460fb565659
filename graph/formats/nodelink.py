"""networkx node-link JSON, the format without loss (``takeoff export`` writes it with
:func:`export_node_link`)."""
from __future__ import annotations

import networkx as nx

from graph.formats.common import Builder, FormatError
from graph.core.limits import InputError, load_json, quote
from graph.core.model import DEFAULT_WEIGHT, RELATIONS
from graph.core.uncertainty import UncertaintyError, parse_distribution

NODE_LINK_NODE_KEYS = ("id", "kind", "evidence_kind", "title", "label", "credence", "credence_dist", "date", "tags", "sources",
                       "body")
NODE_LINK_EDGE_KEYS = ("source", "target", "key", "relation", "weight", "weight_dist", "note", "from", "quote")


def _uncertain(build, item, what, where):
    """``(point, distribution)`` from ``item[what + "_dist"]`` or a mapping under ``item[what]``,
    ``(None, None)`` if there is neither, or None if the distribution is bad (reported)."""
    value = item.get(f"{what}_dist", item.get(what) if isinstance(item.get(what), dict) else None)
    if value is None:
        return None, None
    if not isinstance(value, dict):
        build.problems.append(f"{where}: {what}_dist must be {{mean, spread}} or {{low, high}}, "
                              f"not {quote(value)}")
        return None
    try:
        return parse_distribution(value)
    except UncertaintyError as exc:
        build.problems.append(f"{where}: {what} {quote(value)}: {exc}")
        return None


def import_node_link(text):
    """A corpus graph from networkx node-link JSON (what ``takeoff export`` writes).

    Every node needs a text ``id`` and ``title``; ``kind`` defaults to claim and ``credence``
    to 0.5. Every edge (under ``edges`` or networkx's older ``links``) needs a ``source``, a
    ``target`` and a ``relation`` (supports or undermines). Nothing is dropped quietly: a value
    of the wrong type, an unknown relation or a repeated edge is an error, and keys the corpus
    has no room for (``strength``...) are listed in a warning.

    Parameters
    ----------
    text : str

    Returns
    -------
    networkx.MultiDiGraph

    Raises
    ------
    FormatError
        Not JSON (with its line), not node-link's form, or a node or edge that cannot be
        imported as it is (each listed with its index).
    """
    try:
        data = load_json(text)
    except InputError as exc:
        raise FormatError(str(exc)) from None
    edges = data.get("edges", data.get("links", [])) if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) or not isinstance(edges, list):
        raise FormatError("not node-link JSON: expected an object with a 'nodes' list and an "
                          "'edges' (or 'links') list")
    build = Builder("node-link JSON file")
    meta = data.get("graph")
    build.declared_sources(meta.get("sources") if isinstance(meta, dict) else None, "graph.sources")
    ignored = {}   # "node key 'x'" -> indexes of the items that had it
    _read_nodes(build, data["nodes"], ignored)
    _read_edges(build, edges, ignored)
    for what, where in ignored.items():
        build.warnings.append(f"ignored the {what} of {len(where)} item(s): the corpus has no "
                              "place for it")
    return build.result()


def _read_nodes(build, nodes, ignored):
    """Add node-link's ``nodes`` to ``build``; problems and ignored keys are recorded."""
    for i, node in enumerate(nodes):
        where = f"nodes[{i}]"
        if not isinstance(node, dict) or not isinstance(node.get("id"), str):
            build.problems.append(f"{where}: a node needs a text 'id'")
            continue
        if node["id"] in build.graph and build.graph.nodes[node["id"]]:
            build.problems.append(f"{where}: id {quote(node['id'])} is used by another node too")
            continue
        if not isinstance(node.get("title"), str) or not node["title"].strip():
            build.problems.append(f"{where}: node {quote(node['id'])} needs a text 'title'")
            continue
        for key in node:
            if key not in NODE_LINK_NODE_KEYS:
                ignored.setdefault(f"node key {quote(key)}", []).append(i)
        uncertain = _uncertain(build, node, "credence", where)
        if uncertain is None:
            continue
        credence, dist = uncertain
        build.add_node(node["id"], node["title"], {**node, "credence": credence} if dist else node, where)
        if dist:
            build.graph.nodes[node["id"]]["credence_dist"] = dist


def _read_edges(build, edges, ignored):
    """Add node-link's ``edges`` (or ``links``) to ``build``; problems and ignored keys are
    recorded."""
    for i, edge in enumerate(edges):
        where = f"edges[{i}]"
        if not isinstance(edge, dict):
            build.problems.append(f"{where}: an edge must be an object with source, target, relation")
            continue
        ends = [edge.get("source"), edge.get("target")]
        relation = edge.get("relation")
        if not all(isinstance(e, str) for e in ends):
            build.problems.append(f"{where}: an edge needs a text 'source' and 'target'")
        elif relation not in RELATIONS:
            what = "has no 'relation'" if relation is None else f"has the relation {quote(relation)}"
            build.problems.append(f"{where}: the edge {ends[0]} -> {ends[1]} {what} "
                                  f"(one of {', '.join(RELATIONS)})")
        elif build.graph.has_edge(*ends, key=relation):
            build.problems.append(f"{where}: a second {relation} edge from {quote(ends[0])} to "
                                  f"{quote(ends[1])}")
        else:
            _add_edge(build, edge, ends, relation, where, i, ignored)


def _add_edge(build, edge, ends, relation, where, index, ignored):
    for key in edge:
        if key not in NODE_LINK_EDGE_KEYS:
            ignored.setdefault(f"edge key {quote(key)}", []).append(index)
    note = edge.get("note")
    uncertain = _uncertain(build, edge, "weight", where)
    if uncertain is None:
        return
    weight, dist = uncertain
    build.add_edge(*ends, relation, weight if dist else edge.get("weight", DEFAULT_WEIGHT),
                   "" if note is None else note, where, provenance=edge)
    if dist and build.graph.has_edge(*ends, key=relation):
        build.graph.edges[(*ends, relation)]["weight_dist"] = dist


def graph_to_node_link(graph):
    """networkx node-link data for a corpus graph, with JSON-safe attribute values."""
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
