"""AIF JSON both ways: AIFdb's ``{"nodes", "edges", "locutions"}`` form (OVA reads it) and
xAIF, the ``{"AIF": {...}, "text": ...}`` form of arg-tech's argument-mining tools and their
``xaif`` package."""
from __future__ import annotations

import json

from graph.formats.common import Builder, FormatError, Taken, edge_provenance, node_extras, slugify
from graph.core.limits import InputError, load_json
from graph.core.model import DEFAULT_WEIGHT, is_id

AIF_SCHEME = {"supports": ("RA", "Default Inference"), "undermines": ("CA", "Default Conflict")}
# The scheme text of a default RA- or CA-node says nothing an edge note would.
_DEFAULT_SCHEMES = {"", "default inference", "default conflict", "ra", "ca", "inference", "conflict"}
AIF_RELATION = {"RA": "supports", "CA": "undermines"}
# Dialogue (locutions and the transitions and illocutions between them) and the other scheme
# nodes have no counterpart in a takeoff-graph corpus: they are skipped, with a warning.
AIF_DIALOGUE = {"L", "TA", "YA"}


def _aif_direct(graph, source, target, relation):
    """Whether an edge is an AIF edge of its own (premise -> RA-node -> conclusion: a supports
    edge into or out of an argument, never between two) rather than a scheme node."""
    kinds = (graph.nodes[source]["kind"] == "argument", graph.nodes[target]["kind"] == "argument")
    return relation == "supports" and kinds[0] != kinds[1]


def to_aif(graph):
    """The corpus graph as an AIF JSON object (AIFdb's nodes/edges form).

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph.

    Returns
    -------
    dict
        ``{"nodes": [...], "edges": [...], "locutions": []}``. Statements are I-nodes (``text``
        the title) and arguments RA-nodes: a premise's support of an argument and an
        argument's support of its conclusion are plain AIF edges (I to RA, RA to I), every
        other edge an RA or CA node linked from its source and to its target, so an undercut
        is a CA-node attacking an RA-node. The ``text`` of an RA- or CA-node is its scheme:
        the note of the edge (for an argument, of its edge to its conclusion) when it is one
        line, as an imported scheme name is, else "Default Inference" or "Default Conflict".
        The takeoff fields ride along in ``takeoff`` objects on nodes and edges (ignored by
        other tools). Node ids are numbers as text, as AIFdb makes them.

    Examples
    --------
    >>> sorted(to_aif(Corpus.load("claims").graph))
    ['edges', 'locutions', 'nodes']
    """
    number = {node: str(i) for i, node in enumerate(sorted(graph), start=1)}
    nodes = [{"nodeID": number[n], "type": "RA" if graph.nodes[n]["kind"] == "argument" else "I",
              "text": _argument_scheme(graph, n) if graph.nodes[n]["kind"] == "argument"
              else graph.nodes[n]["title"],
              "takeoff": _node_takeoff(graph, n)} for n in sorted(graph)]
    edges = []
    for source, target, attrs in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1])):
        extras = {"weight": attrs.get("weight_dist") or attrs.get("weight", DEFAULT_WEIGHT)}
        if attrs.get("note"):
            extras["note"] = attrs["note"]
        extras.update(edge_provenance(attrs))
        if _aif_direct(graph, source, target, attrs["relation"]):
            edges.append({"edgeID": str(len(edges) + 1), "fromID": number[source],
                          "toID": number[target], "formEdgeID": None, "takeoff": extras})
            continue
        scheme_id = str(len(nodes) + 1)
        node_type, default = AIF_SCHEME[attrs["relation"]]
        nodes.append({"nodeID": scheme_id, "text": _scheme_text(attrs.get("note"), default),
                      "type": node_type, "takeoff": extras})
        for from_id, to_id in ((number[source], scheme_id), (scheme_id, number[target])):
            edges.append({"edgeID": str(len(edges) + 1), "fromID": from_id, "toID": to_id,
                          "formEdgeID": None})
    return {"nodes": nodes, "edges": edges, "locutions": []}


def _node_takeoff(graph, node):
    """The ``takeoff`` object of a node: its id and fields, and the title of an argument
    (whose ``text`` is its scheme)."""
    attrs = graph.nodes[node]
    title = {"title": attrs["title"]} if attrs["kind"] == "argument" else {}
    return {"id": node, **title, **node_extras(attrs)}


def _scheme_text(note, default):
    note = note or ""
    return note if note.strip() and "\n" not in note and len(note) <= 200 else default


def _argument_scheme(graph, argument):
    """The scheme an argument applies: the note of its one edge to a conclusion, if any."""
    out = [attrs.get("note") for _, _, attrs in graph.out_edges(argument, data=True)]
    return _scheme_text(out[0] if len(out) == 1 else "", "Default Inference")


def export_aif(graph):
    """AIF JSON text of the corpus graph (see :func:`to_aif`)."""
    return json.dumps(to_aif(graph), indent=2, ensure_ascii=False) + "\n"


def to_xaif(graph):
    """The corpus graph as xAIF: :func:`to_aif`'s graph under ``"AIF"`` with the (empty)
    participant and fulfilment lists xAIF has, no source text and no dialogue, the form
    arg-tech's ``xaif`` package loads (``xaif.AIF(data)``)."""
    aif = {**to_aif(graph), "participants": [], "schemefulfillments": [],
           "descriptorfulfillments": [], "cqdescriptorfulfillments": []}
    return {"AIF": aif, "text": "", "dialog": False}


def export_xaif(graph):
    """xAIF JSON text of the corpus graph (see :func:`to_xaif`)."""
    return json.dumps(to_xaif(graph), indent=2, ensure_ascii=False) + "\n"


def parse_aif(text):
    """A corpus graph from AIF JSON (AIFdb's form, or xAIF with the graph under ``"AIF"``).

    I-nodes become statements (id from the ``takeoff`` object, else made from the text; kind
    claim and credence 0.5 unless the ``takeoff`` object says otherwise). An RA-node becomes an
    argument, supported by its premises and supporting its conclusion, when it links several
    premises (a linked argument), when a CA-node attacks it (an undercut), when another
    RA-node already links the same premise and conclusion, or when its ``takeoff`` object says
    so; any other RA-node is one supports edge from its premise to its conclusion. Each CA-node
    makes every conflicting node undermine the one in conflict; weight 1 unless a ``takeoff``
    object gives one. The text of an RA- or CA-node that is not a default ("Argument From
    Expert Opinion") is kept as the note of its edge (for an argument, of its edge to its
    conclusion); :func:`to_aif` writes it back. A node or edge repeated exactly (as AIFdb
    corpus merges make them) is read once, and an RA- or CA-node without a premise or a
    conclusion is skipped. Locutions and dialogue nodes (L, TA, YA), rephrase and preference
    nodes (MA, PA), attacks on CA-nodes and xAIF's source text and participants have no
    counterpart. Everything skipped or merged is counted in ``graph.graph["warnings"]``.

    Parameters
    ----------
    text : str

    Returns
    -------
    networkx.MultiDiGraph

    Raises
    ------
    FormatError
        Not JSON (with its line), not AIF's nodes/edges form, or not representable.
    """
    try:
        data = load_json(text)
    except InputError as exc:
        raise FormatError(str(exc)) from None
    outer = data if isinstance(data, dict) else {}
    if isinstance(outer.get("AIF"), dict) and "nodes" in outer["AIF"]:
        data = outer["AIF"]  # xAIF wraps the AIF graph (elsewhere "AIF" may be metadata)
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) \
            or not isinstance(data.get("edges"), list):
        raise FormatError('not AIF JSON: expected an object with "nodes" and "edges" lists '
                          '(or xAIF: {"AIF": {"nodes": [...], "edges": [...]}})')
    build = Builder("AIF JSON file")
    if data is not outer:
        _xaif_losses(outer, data, build)
    nodes = _aif_nodes(data["nodes"], build)
    links = _aif_edges(data["edges"], nodes, build)
    arguments = _aif_arguments(nodes, links, build)
    ids = _aif_statements(nodes, arguments, links, build)
    skipped = {}
    for node_id, node in nodes.items():
        kind = node["type"]
        if node_id in arguments:
            _aif_argument(node_id, links, ids, build)
        elif kind in AIF_RELATION:
            _aif_scheme(node_id, node, links, ids, build)
        elif kind != "I":
            skipped[kind] = skipped.get(kind, 0) + 1
    if links.dangling:
        named = ", ".join(f"{t} {n}" for t, n in links.dangling[:10])
        build.warnings.append(f"skipped {len(links.dangling)} scheme node(s) without a premise or "
                              f"a conclusion ({named}): they relate nothing")
    if skipped:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(skipped.items()))
        build.warnings.append(f"skipped {counts} node(s): dialogue, rephrase and preference "
                              "nodes have no counterpart in a takeoff-graph corpus")
    return build.result()


def _xaif_losses(outer, aif, build):
    """Count what an xAIF file holds that a corpus has no place for."""
    text = outer.get("text")
    text = text.get("txt") if isinstance(text, dict) else text
    lost = [f"the source text ({len(text):,} characters)"] if isinstance(text, str) and text.strip() else []
    for key in ("participants", "locutions", "schemefulfillments", "descriptorfulfillments"):
        if isinstance(aif.get(key), list) and aif[key]:
            lost.append(f"{len(aif[key])} {key}")
    if lost:
        build.warnings.append(f"left out what xAIF holds beside the graph: {', '.join(lost)} (a "
                              "takeoff-graph corpus has no place for the dialogue; the I-nodes "
                              "keep their text)")


def _aif_nodes(raw, build):
    nodes, merged = {}, 0
    for i, node in enumerate(raw):
        where = f"nodes[{i}]"
        if not isinstance(node, dict) or "nodeID" not in node or not isinstance(node.get("type"), str):
            build.problems.append(f"{where}: a node needs a nodeID and a type")
            continue
        node_id = str(node["nodeID"])
        if node_id in nodes:
            if nodes[node_id]["raw"] == node:
                merged += 1
                continue
            build.problems.append(f"{where}: nodeID {node_id} is used twice, by different nodes")
            continue
        extras = node.get("takeoff") if isinstance(node.get("takeoff"), dict) else {}
        nodes[node_id] = {**node, "where": where, "extras": extras, "raw": node}
    if merged:
        build.warnings.append(f"merged {merged} node(s) repeated exactly (same nodeID, same "
                              "content), as AIFdb corpus merges make them")
    return nodes


class _AifLinks:
    """The edges of an AIF graph: by node, both ways, with the ``takeoff`` object of each."""

    def __init__(self, nodes):
        self.nodes = nodes
        self.incoming, self.outgoing, self.extras = {}, {}, {}
        self.pairs, self.repeated = set(), 0
        self.dangling = []  # (type, nodeID) of scheme nodes without a premise or a conclusion

    def into(self, node_id, *types):
        return [n for n in self.incoming.get(node_id, []) if self.nodes[n]["type"] in types]

    def out_of(self, node_id, *types):
        return [n for n in self.outgoing.get(node_id, []) if self.nodes[n]["type"] in types]


def _aif_edges(raw, nodes, build):
    links = _AifLinks(nodes)
    for i, edge in enumerate(raw):
        where = f"edges[{i}]"
        if not isinstance(edge, dict) or "fromID" not in edge or "toID" not in edge:
            build.problems.append(f"{where}: an edge needs a fromID and a toID")
            continue
        start, end = str(edge["fromID"]), str(edge["toID"])
        missing = [n for n in (start, end) if n not in nodes]
        if missing:
            build.problems.append(f"{where}: no node with nodeID {missing[0]}")
            continue
        if (start, end) in links.pairs:
            links.repeated += 1  # the same link twice says nothing more
            continue
        links.pairs.add((start, end))
        links.outgoing.setdefault(start, []).append(end)
        links.incoming.setdefault(end, []).append(start)
        if isinstance(edge.get("takeoff"), dict):
            links.extras[start, end] = edge["takeoff"]
    if links.repeated:
        build.warnings.append(f"merged {links.repeated} edge(s) repeating another's fromID and toID")
    return links


def _aif_arguments(nodes, links, build):
    """The nodeIDs of the RA-nodes that become arguments (see :func:`parse_aif`)."""
    arguments = {n for n, node in nodes.items()
                 if node["type"] == "RA" and node["extras"].get("kind") == "argument"}

    def linked(ids):
        return tuple(n for n in ids if nodes[n]["type"] == "I" or n in arguments)

    pairs, duplicates = set(), 0
    for node_id, node in nodes.items():
        if node["type"] != "RA" or node_id in arguments:
            continue
        pair = (linked(links.incoming.get(node_id, [])), linked(links.outgoing.get(node_id, [])))
        if len(pair[0]) > 1 or links.into(node_id, "CA"):
            arguments.add(node_id)
        elif pair in pairs:
            arguments.add(node_id)
            duplicates += 1
        pairs.add(pair)
    if duplicates:
        build.warnings.append(f"{duplicates} RA-node(s) link the same premise and conclusion "
                              "as another: each became an argument, so none is merged")
    return arguments


def _aif_statements(nodes, arguments, links, build):
    """Add every I-node and every argument to the graph; returns ``{nodeID: takeoff id}``."""
    ids, taken = {}, Taken()
    for node_id, node in nodes.items():
        if node["type"] != "I" and node_id not in arguments:
            continue
        extras, text = node["extras"], node.get("text")
        if node_id in arguments and not extras:  # another tool's RA-node: name it by its use
            conclusions = links.out_of(node_id, "I")
            target = nodes[conclusions[0]].get("text") if len(conclusions) == 1 else None
            scheme = text if isinstance(text, str) and text.strip() else "Inference"
            text = f"{scheme}: {target}" if isinstance(target, str) and target.strip() else scheme
            extras = {"kind": "argument"}
        if not isinstance(text, str) or not text.strip():
            build.problems.append(f"{node['where']}: I-node {node_id} has no text")
            continue
        wanted = extras.get("id")
        if is_id(wanted) and wanted not in taken:
            taken.add(wanted)
            ids[node_id] = wanted
        else:
            ids[node_id] = slugify(text, taken, fallback=f"node-{node_id}")
        # Our own export keeps the title exact; other tools' texts may be broken over lines.
        title = text if node["extras"] else " ".join(text.split())
        if isinstance(extras.get("title"), str):
            title = extras["title"]
        data = extras if node_id not in arguments else {**extras, "kind": "argument"}
        build.add_node(ids[node_id], title, data, node["where"])
    return ids


def _aif_argument(node_id, links, ids, build):
    """Add the edges of an RA-node that became an argument: premises support it, it supports
    its conclusions; schemes and conflicts around it are added by their own nodes."""
    node = links.nodes[node_id]
    where = f"{node['where']} (RA-node {node_id})"
    scheme = _scheme_name(node)
    for premise in links.into(node_id, "I"):
        _aif_add(build, ids, premise, node_id, "supports", links.extras.get((premise, node_id), {}), where)
    for conclusion in links.out_of(node_id, "I"):
        extras = links.extras.get((node_id, conclusion)) or {"note": scheme}
        _aif_add(build, ids, node_id, conclusion, "supports", extras, where)


def _scheme_name(node):
    """The scheme an RA- or CA-node names in its text ("" for a default one)."""
    text = node.get("text")
    text = " ".join(text.split()) if isinstance(text, str) else ""
    return "" if text.lower() in _DEFAULT_SCHEMES else text


def _aif_add(build, ids, source, target, relation, extras, where):
    if source in ids and target in ids:
        build.add_edge(ids[source], ids[target], relation, extras.get("weight", DEFAULT_WEIGHT),
                       extras.get("note", ""), where, provenance=extras)


def _aif_scheme(node_id, node, links, ids, build):
    """Add the edges an RA- or CA-node that is not an argument stands for."""
    relation = AIF_RELATION[node["type"]]
    where = f"{node['where']} ({node['type']}-node {node_id})"
    # A premise or conclusion is a statement or an argument; YA-nodes anchor the scheme in the
    # dialogue and are neither.
    conclusions = [n for n in links.outgoing.get(node_id, []) if n in ids]
    if any(links.nodes[n]["type"] == "CA" for n in links.outgoing.get(node_id, [])):
        build.warnings.append(f"{where}: skipped, it attacks a conflict (a CA-node), which "
                              "takeoff-graph cannot represent")
        return
    premises = [n for n in links.incoming.get(node_id, []) if n in ids]
    if not premises or not conclusions:
        links.dangling.append((node["type"], node_id))
        return
    if len(conclusions) != 1:
        build.problems.append(f"{where}: has {len(conclusions)} conclusions (AIF allows one)")
        return
    extras = node["extras"] or {"note": _scheme_name(node)}
    for premise in premises:
        _aif_add(build, ids, premise, conclusions[0], relation, extras, where)
