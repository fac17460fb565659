"""Interchange with argument-mapping tools: AIF JSON and Argdown (both ways), GraphML, Mermaid
and DOT (export).

AIF JSON is the ``{"nodes", "edges", "locutions"}`` form AIFdb serves and OVA reads: I-nodes
hold the statements, RA-nodes the arguments (inferences), and every other edge is an RA-node
("Default Inference") or CA-node ("Default Conflict") of its own, so an undercut is a CA-node
on an RA-node. Argdown is the text format of the Argdown tools: ``[title]: text`` statements,
``<title>: text`` arguments with their premise-conclusion structures, and relations below them
(``+`` / ``-`` / ``_``, or ``<+`` / ``+>``... with an explicit direction). docs/argdown.md maps
them construct by construct.

Both keep what takeoff-graph adds (kind, credence, date, tags, sources, body, weights, notes)
where the format leaves room for it: ``takeoff`` objects in AIF, YAML data ``{...}`` in
Argdown. Files from other tools have none of it: nodes become claims (or arguments) with
credence 0.5 and edges get weight 1. Every function is pure: graph in, text out, or text in,
graph out.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
import unicodedata

import networkx as nx

from graph.limits import (
    InputError, check_yaml_events, harden, load_json, might_break_yaml_limits, quote,
)
from graph.model import (
    DATE_FORMS, DEFAULT_CREDENCE, DEFAULT_WEIGHT, ID_PATTERN, KINDS, RELATIONS, TakeoffError, parse_date,
)


class FormatError(TakeoffError):
    """A file that is not valid AIF JSON or Argdown, or that takeoff-graph cannot represent."""


# ---- shared helpers -------------------------------------------------------------------------

def slugify(text, taken, fallback="node"):
    """A node id made from ``text``, unique among ``taken`` (which it is added to).

    The rule (deterministic, and never a path: no separator, no dot): the runs of ASCII
    letters and digits of ``text`` (accents dropped, NFKD), lower-cased and joined by single
    '-', at most 60 characters cut at a word boundary. A text with no letter or digit takes
    ``fallback`` under the same rule, else ``node``; ``-2``, ``-3``... is appended when the id
    is taken.
    """
    slug = _slug_words(text) or _slug_words(fallback) or "node"
    unique, n = slug, 2
    while unique in taken:
        unique, n = f"{slug}-{n}", n + 1
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


def _date_text(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def _json_sources(sources):
    return [{k: _date_text(v) for k, v in s.items() if v is not None} for s in sources or []]


def _node_extras(attrs):
    """The takeoff-only fields of a node, JSON-ready, without empty ones."""
    extras = {"kind": attrs["kind"],
              "credence": attrs.get("credence_dist") or attrs.get("credence", DEFAULT_CREDENCE)}
    if attrs.get("date") is not None:
        extras["date"] = _date_text(attrs["date"])
    if attrs.get("tags"):
        extras["tags"] = list(attrs["tags"])
    if attrs.get("sources"):
        extras["sources"] = _json_sources(attrs["sources"])
    if attrs.get("body"):
        extras["body"] = attrs["body"]
    return extras


class _Builder:
    """Collects nodes and edges read from a file, with the problems found on the way."""

    def __init__(self, what):
        self.what = what
        self.graph = nx.MultiDiGraph()
        self.problems = []
        self.warnings = []

    def add_node(self, node_id, title, data, where):
        """Add a node; ``data`` holds the takeoff fields found in the file (maybe none)."""
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
        self.graph.add_node(node_id, kind=kind, title=title, credence=float(credence), date=date,
                            tags=list(tags), sources=self.sources(data.get("sources"), where),
                            body=body if isinstance(body, str) else "",
                            **({"credence_dist": dist} if dist else {}))

    def uncertain(self, value, what, where):
        """A credence or weight written as a distribution (graph/uncertainty.py): (point, dist);
        a number passes through as (value, None)."""
        if not isinstance(value, dict):
            return value, None
        from graph.uncertainty import UncertaintyError, parse_distribution

        try:
            return parse_distribution(value)
        except UncertaintyError as exc:
            self.problems.append(f"{where}: {what}: {exc}")
            return (DEFAULT_CREDENCE if what == "credence" else DEFAULT_WEIGHT), None

    def date(self, value, where):
        if value is None:
            return None
        parsed = parse_date(_date_text(value))
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
            if isinstance(item, str) and re.match(r"https?://\S+$", item):
                item = {"url": item}
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

    def add_edge(self, source, target, relation, weight, note, where):
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
                            weight=float(weight), note=note, **({"weight_dist": dist} if dist else {}))

    def result(self):
        if self.problems:
            lines = self.problems[:50] + ([f"... and {len(self.problems) - 50} more"]
                                          if len(self.problems) > 50 else [])
            article = "an" if self.what[0].lower() in "aeiou" else "a"
            raise FormatError(f"not {article} {self.what} takeoff-graph can import:\n"
                              + "\n".join(f"  {p}" for p in lines))
        self.graph.graph["warnings"] = self.warnings
        return self.graph


# ---- node-link JSON -------------------------------------------------------------------------

NODE_LINK_NODE_KEYS = ("id", "kind", "title", "credence", "credence_dist", "date", "tags", "sources",
                       "body")
NODE_LINK_EDGE_KEYS = ("source", "target", "key", "relation", "weight", "weight_dist", "note")


def _uncertain(build, item, what, where):
    """``(point, distribution)`` from ``item[what + "_dist"]`` or a mapping under ``item[what]``,
    ``(None, None)`` if there is neither, or None if the distribution is bad (reported)."""
    from graph.uncertainty import UncertaintyError, parse_distribution

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
    build = _Builder("node-link JSON file")
    ignored = {}
    for i, node in enumerate(data["nodes"]):
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
            for key in edge:
                if key not in NODE_LINK_EDGE_KEYS:
                    ignored.setdefault(f"edge key {quote(key)}", []).append(i)
            note = edge.get("note")
            uncertain = _uncertain(build, edge, "weight", where)
            if uncertain is None:
                continue
            weight, dist = uncertain
            build.add_edge(*ends, relation, weight if dist else edge.get("weight", DEFAULT_WEIGHT),
                           "" if note is None else note, where)
            if dist and build.graph.has_edge(*ends, key=relation):
                build.graph.edges[(*ends, relation)]["weight_dist"] = dist
    for what, where in ignored.items():
        build.warnings.append(f"ignored the {what} of {len(where)} item(s): the corpus has no "
                              "place for it")
    return build.result()


# ---- AIF JSON -------------------------------------------------------------------------------

AIF_SCHEME = {"supports": ("RA", "Default Inference"), "undermines": ("CA", "Default Conflict")}
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
        ``{"nodes": [...], "edges": [...], "locutions": []}``. Statements are I-nodes and
        arguments RA-nodes (``nodeID``, ``text`` (the title), ``type``): a premise's support
        of an argument and an argument's support of its conclusion are plain AIF edges (I to
        RA, RA to I), every other edge an RA ("Default Inference") or CA ("Default Conflict")
        node linked from its source and to its target, so an undercut is a CA-node attacking
        an RA-node. The takeoff fields ride along in ``takeoff`` objects on nodes and edges
        (ignored by other tools). Node ids are numbers as text, as AIFdb makes them.

    Examples
    --------
    >>> json.dumps(to_aif(Corpus.load("claims").graph))   # doctest: +SKIP
    """
    number = {node: str(i) for i, node in enumerate(sorted(graph), start=1)}
    nodes = [{"nodeID": number[n], "text": graph.nodes[n]["title"],
              "type": "RA" if graph.nodes[n]["kind"] == "argument" else "I",
              "takeoff": {"id": n, **_node_extras(graph.nodes[n])}} for n in sorted(graph)]
    edges = []
    for source, target, attrs in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1])):
        extras = {"weight": attrs.get("weight_dist") or attrs.get("weight", DEFAULT_WEIGHT)}
        if attrs.get("note"):
            extras["note"] = attrs["note"]
        if _aif_direct(graph, source, target, attrs["relation"]):
            edges.append({"edgeID": str(len(edges) + 1), "fromID": number[source],
                          "toID": number[target], "formEdgeID": None, "takeoff": extras})
            continue
        scheme_id = str(len(nodes) + 1)
        node_type, text = AIF_SCHEME[attrs["relation"]]
        nodes.append({"nodeID": scheme_id, "text": text, "type": node_type, "takeoff": extras})
        for from_id, to_id in ((number[source], scheme_id), (scheme_id, number[target])):
            edges.append({"edgeID": str(len(edges) + 1), "fromID": from_id, "toID": to_id,
                          "formEdgeID": None})
    return {"nodes": nodes, "edges": edges, "locutions": []}


def export_aif(graph):
    """AIF JSON text of the corpus graph (see :func:`to_aif`)."""
    return json.dumps(to_aif(graph), indent=2, ensure_ascii=False) + "\n"


def parse_aif(text):
    """A corpus graph from AIF JSON (AIFdb's form, or xAIF with the graph under ``"AIF"``).

    I-nodes become statements (id from the ``takeoff`` object, else made from the text; kind
    claim and credence 0.5 unless the ``takeoff`` object says otherwise). An RA-node becomes an
    argument, supported by its premises and supporting its conclusion, when it links several
    premises (a linked argument), when a CA-node attacks it (an undercut), when another
    RA-node already links the same premise and conclusion, or when its ``takeoff`` object says
    so; any other RA-node is one supports edge from its premise to its conclusion. Each CA-node
    makes every conflicting node undermine the one in conflict; weight 1 unless a ``takeoff``
    object gives one. Locutions and dialogue nodes (L, TA, YA), rephrase and preference nodes
    (MA, PA) and attacks on CA-nodes have no counterpart: they are skipped and listed in
    ``graph.graph["warnings"]``.

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
    if isinstance(data, dict) and isinstance(data.get("AIF"), dict):
        data = data["AIF"]  # xAIF wraps the AIF graph
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list) \
            or not isinstance(data.get("edges"), list):
        raise FormatError('not AIF JSON: expected an object with "nodes" and "edges" lists')
    build = _Builder("AIF JSON file")
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
    if skipped:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(skipped.items()))
        build.warnings.append(f"skipped {counts} node(s): dialogue, rephrase and preference "
                              "nodes have no counterpart in a takeoff-graph corpus")
    return build.result()


def _aif_nodes(raw, build):
    nodes = {}
    for i, node in enumerate(raw):
        where = f"nodes[{i}]"
        if not isinstance(node, dict) or "nodeID" not in node or not isinstance(node.get("type"), str):
            build.problems.append(f"{where}: a node needs a nodeID and a type")
            continue
        node_id = str(node["nodeID"])
        if node_id in nodes:
            build.problems.append(f"{where}: nodeID {node_id} is used twice")
            continue
        extras = node.get("takeoff") if isinstance(node.get("takeoff"), dict) else {}
        nodes[node_id] = {**node, "where": where, "extras": extras}
    return nodes


class _AifLinks:
    """The edges of an AIF graph: by node, both ways, with the ``takeoff`` object of each."""

    def __init__(self, nodes):
        self.nodes = nodes
        self.incoming, self.outgoing, self.extras = {}, {}, {}

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
        links.outgoing.setdefault(start, []).append(end)
        links.incoming.setdefault(end, []).append(start)
        if isinstance(edge.get("takeoff"), dict):
            links.extras[start, end] = edge["takeoff"]
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
    ids, taken = {}, set()
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
        if isinstance(wanted, str) and ID_PATTERN.match(wanted) and wanted not in taken:
            taken.add(wanted)
            ids[node_id] = wanted
        else:
            ids[node_id] = slugify(text, taken, fallback=f"node-{node_id}")
        # Our own export keeps the title exact; other tools' texts may be broken over lines.
        title = text if node["extras"] else " ".join(text.split())
        data = extras if node_id not in arguments else {**extras, "kind": "argument"}
        build.add_node(ids[node_id], title, data, node["where"])
    return ids


def _aif_argument(node_id, links, ids, build):
    """Add the edges of an RA-node that became an argument: premises support it, it supports
    its conclusions; schemes and conflicts around it are added by their own nodes."""
    where = f"{links.nodes[node_id]['where']} (RA-node {node_id})"
    for premise in links.into(node_id, "I"):
        _aif_add(build, ids, premise, node_id, "supports", links.extras.get((premise, node_id), {}), where)
    for conclusion in links.out_of(node_id, "I"):
        _aif_add(build, ids, node_id, conclusion, "supports", links.extras.get((node_id, conclusion), {}), where)


def _aif_add(build, ids, source, target, relation, extras, where):
    if source in ids and target in ids:
        build.add_edge(ids[source], ids[target], relation, extras.get("weight", DEFAULT_WEIGHT),
                       extras.get("note", ""), where)


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
    if not premises or len(conclusions) != 1:
        build.problems.append(f"{where}: needs at least one premise and exactly one conclusion "
                              f"(has {len(premises)} and {len(conclusions)})")
        return
    for premise in premises:
        _aif_add(build, ids, premise, conclusions[0], relation, node["extras"], where)


# ---- Argdown --------------------------------------------------------------------------------

# An Argdown statement text that our importer reads back unchanged: no tags, data, comments,
# links, mentions or formatting characters, and nothing a line could start a relation, a
# numbered premise, a list item or an inference with.
_PLAIN_TEXT = re.compile(r"(?!\(\d+\)|\d+\.\s)[\w\"'(][\w \"'.,;:!?%&$€£()=+~^|-]*", re.UNICODE)
_HASHTAG = re.compile(r"[\w-]+", re.UNICODE)
# YAML data keys the importer reads; any other key is reported as ignored.
_DATA_KEYS = ("id", "kind", "title", "credence", "date", "tags", "sources", "body", "edges")
_INFERENCE_DATA_KEYS = ("uses",) + _DATA_KEYS


def export_argdown(graph, title="takeoff-graph corpus"):
    """Argdown text of the corpus graph.

    Each node is a statement ``[id]: title`` or, for arguments, ``<id>: title``, with its tags
    as hashtags and the takeoff fields as YAML data, followed by its outgoing relations
    (``+>`` supports, ``->`` undermines, ``_>`` undermines an argument that has a
    premise-conclusion structure: an undercut). An argument whose only outgoing edge supports
    a statement and that some statements support is written with a premise-conclusion
    structure instead: its supporters numbered as premises, the note of the conclusion edge as
    the inference rule, the conclusion last. Weights and notes go into the data's ``edges`` map,
    keyed by target.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
    title : str
        The document's title (the corpus's ``takeoff.toml`` title).

    Returns
    -------
    str
    """
    structures = {node: _pcs_of(graph, node) for node, kind in graph.nodes(data="kind")
                  if kind == "argument"}
    steps = _inline_steps(graph, structures)
    parts = [f"===\ntitle: {json.dumps(title, ensure_ascii=False)}\n===\n"]  # JSON: YAML-safe
    for kind in KINDS:
        ids = sorted(n for n, k in graph.nodes(data="kind") if k == kind and n not in steps)
        if ids:
            parts.append(f"// {kind} nodes\n")
            parts += [_argdown_member(graph, node, structures, steps) for node in ids]
    return "\n".join(parts)


def _pcs_of(graph, argument):
    """``(premises, conclusion)`` if ``argument`` can be written as a premise-conclusion
    structure, else None: its one outgoing edge supports a statement (Argdown reads any other
    relation of a reconstructed argument as its conclusion's), and statements support it."""
    out = list(graph.out_edges(argument, keys=True))
    if len(out) != 1 or out[0][2] != "supports" or graph.nodes[out[0][1]]["kind"] == "argument":
        return None
    premises = sorted(source for source, _, key in graph.in_edges(argument, keys=True)
                      if key == "supports" and graph.nodes[source]["kind"] != "argument")
    return (premises, out[0][1]) if premises else None


def _inline_steps(graph, structures):
    """``{step: argument}`` for the arguments written inside another's premise-conclusion
    structure, as the inference to an intermediate conclusion: an argument ``a-N`` (the id the
    importer gives step N of ``<a>``) whose conclusion is a premise of ``a`` or of another of
    its steps, and which nothing but its premises bears on."""
    steps = {}
    for argument, structure in sorted(structures.items()):
        if structure is None or re.search(r"-\d+$", argument):
            continue
        todo = list(structure[0])
        while todo:
            premise = todo.pop(0)
            for step, _, key in graph.in_edges(premise, keys=True):
                inner = structures.get(step)
                if key == "supports" and inner and step not in steps and re.fullmatch(
                        rf"{re.escape(argument)}-\d+", step) and all(
                        source in inner[0] for source, _ in graph.in_edges(step)):
                    steps[step] = argument
                    todo += inner[0]
    return steps


def _argdown_fields(graph, node):
    """The text Argdown shows for a node and the YAML data that keeps its takeoff fields."""
    attrs = graph.nodes[node]
    data = _node_extras(attrs)
    title = attrs["title"]
    plain = _PLAIN_TEXT.fullmatch(title) and title == " ".join(title.split()) and "//" not in title
    text = title if plain else None
    if text is None:  # keep the exact title in the data, show a cleaned one
        data["title"] = title
        text = " ".join(re.sub(r"[\[\]{}<>#@*_/\\`]", " ", title).split()).lstrip("-(0123456789.) ") or node
    tags = data.get("tags", [])
    if tags and all(_HASHTAG.fullmatch(t) for t in tags):
        text += "".join(f" #{t}" for t in data.pop("tags"))
    edges = {}
    for _, target, edge in sorted(graph.out_edges(node, data=True), key=lambda e: (e[2]["relation"], e[1])):
        extras = {"weight": edge.get("weight_dist") or edge.get("weight", DEFAULT_WEIGHT)}
        if edge.get("note"):
            extras["note"] = edge["note"]
        edges[target] = extras
    if edges:
        data["edges"] = edges
    return text, data


def _argdown_ref(graph, node):
    return f"<{node}>" if graph.nodes[node]["kind"] == "argument" else f"[{node}]"


def _argdown_member(graph, node, structures, steps):
    text, data = _argdown_fields(graph, node)
    lines = [f"{_argdown_ref(graph, node)}: {text}", "  " + _argdown_data(data)]
    out = sorted(graph.out_edges(node, data=True), key=lambda e: (e[2]["relation"], e[1]))
    for _, target, edge in out:
        structure = structures.get(target)
        if structure and node in structure[0] or structures.get(node):
            continue  # a premise of, or the conclusion of, a premise-conclusion structure
        mutual = (edge["relation"] == "undermines" and "argument" not in
                  (graph.nodes[node]["kind"], graph.nodes[target]["kind"])
                  and graph.has_edge(target, node, key="undermines"))
        if mutual and target < node:
            continue  # written once, as a contradiction, under the other statement
        if edge["relation"] == "supports":
            symbol = "+>"
        else:
            symbol = "><" if mutual else "_>" if structure else "->"
        lines.append(f"    {symbol} {_argdown_ref(graph, target)}")
    if structures.get(node):
        lines += [""] + _argdown_pcs(graph, node, structures, steps)
    return "\n".join(lines) + "\n"


def _argdown_pcs(graph, argument, structures, steps):
    """The numbered lines of ``argument``'s premise-conclusion structure, its inlined steps
    first; an inference names the statements it uses when they are not Argdown's default
    (those since the previous conclusion)."""
    inlined = {structures[s][1]: s for s, a in steps.items() if a == argument}
    order, lines, last_conclusion = [], [], 0

    def write(arg):
        nonlocal last_conclusion
        premises, conclusion = structures[arg]
        for premise in sorted(premises, key=lambda p: (p not in inlined, p)):
            if premise in inlined and premise not in order:
                write(inlined[premise])
            elif premise not in order:
                order.append(premise)
                lines.append(f"({len(order)}) [{premise}]")
        uses = sorted(order.index(p) + 1 for p in premises)
        data = {}
        if uses != list(range(last_conclusion or 1, len(order) + 1)):
            data["uses"] = uses
        if arg != argument:
            text, fields = _argdown_fields(graph, arg)
            data.update({"id": arg, "title": graph.nodes[arg]["title"], **fields})
        note = graph.edges[arg, conclusion, "supports"].get("note") or ""
        rule = note if _PLAIN_TEXT.fullmatch(note) and "--" not in note and "," not in note else ""
        inner = " ".join(filter(None, [rule, _argdown_data(data).replace("--", "-\\u002d") if data else ""]))
        lines.append(f"-- {inner} --" if inner else "----")
        order.append(conclusion)
        last_conclusion = len(order)
        lines.append(f"({len(order)}) [{conclusion}]")

    write(argument)
    return lines


def _argdown_data(data):
    """YAML data for an Argdown statement: JSON (a YAML flow mapping) on one line, with what
    Argdown would take for the start of a comment or an include escaped inside its strings."""
    text = json.dumps(data, ensure_ascii=False)
    text = (text.replace(" //", " \\/\\/").replace("/*", "\\/*").replace("<!--", "\\u003c!--")
            .replace("@include", "\\u0040include"))
    # YAML forbids these characters raw or reads them as line breaks (JSON allows them);
    # escaped, they read back the same.
    return re.sub("[\x7f-\x9f\u2028\u2029\ufffe\uffff]", lambda m: f"\\u{ord(m.group()):04x}", text)


class _Line:
    """A line of an Argdown block: its number, indentation, text without the indentation, and
    the raw line (YAML data in block style needs its indentation)."""

    __slots__ = ("number", "indent", "text", "raw")

    def __init__(self, number, indent, text, raw=None):
        self.number, self.indent, self.text = number, indent, text
        self.raw = text if raw is None else raw


_RELATION = re.compile(r"(<\+|<-|<_|\+>|->|_>|><|\+|-|_)\s+(.*)", re.S)
_MEMBER = re.compile(r"(?:\[(?P<statement>[^\[\]]+)\]|<(?P<argument>[^<>]+)>)(?:\s*:\s*(?P<text>.*))?$", re.S)
_NUMBERED = re.compile(r"\(\d+\)\s*(.*)", re.S)
_INFERENCE = re.compile(r"--(.*?)-{2,}\s*$")
_HEADING = re.compile(r"#+\s+(.*)")
# Relation symbol -> (relation, whether the parent is the source), for the child-parent pair.
_SYMBOLS = {"+": ("support", False), "<+": ("support", False), "+>": ("support", True),
            "-": ("attack", False), "<-": ("attack", False), "->": ("attack", True),
            "_": ("undercut", False), "<_": ("undercut", False), "_>": ("undercut", True),
            "><": ("contradiction", True)}


def parse_argdown(text):
    """A corpus graph from Argdown text.

    Reads statements (``[Title]: text``, references ``[Title]``, untitled text), arguments
    (``<Title>: text``, ``<Title>``), premise-conclusion structures (numbered statements with
    ``-- rule --`` inference lines, intermediate conclusions included) and the relations below
    any of them, nested by indentation: ``+`` / ``<+`` / ``+>`` support, ``-`` / ``<-`` /
    ``->`` attack, ``_`` / ``<_`` / ``_>`` undercut and ``><`` contradiction (each undermines
    the other). An argument is a node of kind ``argument``: its premises support it and it
    supports its conclusion; each intermediate conclusion gets an argument of its own
    (``<Title - 1>``, as Argdown's own "explode arguments" names them). As in Argdown, a
    relation from an argument that has a premise-conclusion structure is its conclusion's.
    An attack on an argument or an undercut undermines the argument node. Statements with the
    same title are one node (an equivalence class); hashtags and the innermost heading become
    tags; YAML data ``{...}`` may carry takeoff fields (kind, credence, date, sources, body,
    title and an ``edges`` map of weights and notes by target id). Without them a node has
    credence 0.5 and an edge weight 1. Comments are skipped wherever they are.

    Parameters
    ----------
    text : str

    Returns
    -------
    networkx.MultiDiGraph
        With ``graph.graph["summary"]`` counting what was read and
        ``graph.graph["warnings"]`` listing YAML data keys that were ignored.

    Raises
    ------
    FormatError
        With the line of each problem: bad YAML data, a relation with no parent, an undercut
        of a statement that no inference concludes, a premise-conclusion structure without a
        conclusion, and what has no meaning here: Argdown+ front matter and ``@include``.
    """
    build = _Builder("Argdown file")
    reader = _ArgdownReader(build)
    for block in _argdown_blocks(text, build):
        reader.block(block)
    reader.finish()
    return build.result()


def _strip_comments(text):
    """Blank out ``/* */``, ``<!-- -->`` and ``//`` comments, keeping every line break."""
    def blank(match):
        return re.sub(r"[^\n]", " ", match.group(0))

    text = re.sub(r"/\*.*?\*/|<!--.*?-->", blank, text, flags=re.S)
    return re.sub(r"(^|[ \t])//[^\n]*", lambda m: m.group(1), text, flags=re.M)


def _argdown_blocks(text, build):
    """Top-level blocks (runs of non-empty lines) as lists of :class:`_Line`, front matter left
    out. A line that held only a comment is dropped, so it does not end a block; a heading is
    a block of its own."""
    raw_lines = text.split("\n")
    lines = _strip_comments(text).split("\n")
    start = _front_matter_end(lines, build)
    for number, line in enumerate(lines[start:], start=start + 1):
        if "@include(" in line:
            build.problems.append(f"line {number}: @include is not supported: import the "
                                  "included file itself, or paste it in")
    block = []
    for number in range(start, len(lines)):
        raw = lines[number].rstrip()
        if not raw.strip():
            if raw_lines[number].strip():
                continue  # a comment line
            if block:
                yield block
            block = []
            continue
        stripped = raw.lstrip()
        if _HEADING.match(stripped) and len(raw) == len(stripped):
            if block:
                yield block
            yield [_Line(number + 1, 0, stripped)]
            block = []
            continue
        block.append(_Line(number + 1, len(raw) - len(stripped), stripped, raw))
    if block:
        yield block


def _front_matter_end(lines, build):
    """The index of the first line after the ``===`` front matter (0 if there is none)."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or lines[first].strip() != "===":
        return 0
    end = next((i for i in range(first + 1, len(lines)) if lines[i].strip() == "==="), None)
    if end is None:
        build.problems.append(f"line {first + 1}: the front matter (===) is never closed")
        return len(lines)
    for i in range(first + 1, end):
        if re.search(r"argdown\+", lines[i], re.I):
            build.problems.append(f"line {i + 1}: Argdown+ syntax is not supported: only plain "
                                  "Argdown (remove the 'syntax: argdown+' setting)")
    return end + 1


class _ArgdownReader:
    """The statements and arguments of an Argdown document, by title, their premise-conclusion
    structures and their relations."""

    def __init__(self, build):
        self.build = build
        self.members = {}  # key ("[" | "<" | "", title) -> dict(texts, data, tags, line)
        self.relations = []  # (parent key, symbol, child key, line)
        self.structures = {}  # argument key -> [(premise keys, conclusion key, step key, rule, line)]
        self.section = None  # the innermost heading
        self.previous = None  # the key of the member the previous block defined
        self.key_of = {}  # node id -> member key, once the nodes are made

    # -- blocks ----------------------------------------------------------------------------

    def block(self, block):
        heading = _HEADING.match(block[0].text) if block[0].indent == 0 else None
        if heading and len(block) == 1:
            text, _ = self._data(heading.group(1), block[0].number, _DATA_KEYS)
            text, _ = self._tags(text)
            self.section = " ".join(text.split()) or None
            return
        pcs_at = next((i for i, line in enumerate(block)
                       if line.indent == 0 and _NUMBERED.match(line.text)), None)
        head = self._tree(block[:pcs_at]) if pcs_at != 0 else self.previous
        if pcs_at is not None:
            if head is None or head[0] != "<":
                untitled = sum(k[0] == "<" and k[1].startswith("Untitled ") for k in self.members)
                head = ("<", f"Untitled {untitled + 1}")
                self._member(head, None, {}, [], block[pcs_at].number)
            self._pcs(head, block[pcs_at:])
        # A structure belongs to the argument right above it; after one, a new one is untitled.
        self.previous = head if pcs_at is None else None

    def _tree(self, lines, parent=None):
        """Read a member and the relations nested below it; returns the member's key (or
        ``parent``'s when the lines are only relations of ``parent``)."""
        elements = []  # (indent, symbol or None, [lines])
        for line in lines:
            if elements and _open_data("\n".join(x.text for x in elements[-1][2])):
                elements[-1][2].append(line)  # inside YAML data: not a relation or list item
                continue
            match = _RELATION.match(line.text)
            if re.match(r"(\*|\d+\.)\s", line.text) and (not elements or line.indent <= elements[0][0]):
                elements.append((line.indent, None, [_Line(line.number, line.indent, line.text.split(None, 1)[1])]))
            elif match:
                elements.append((line.indent, match.group(1),
                                 [_Line(line.number, line.indent, match.group(2))]))
            elif elements:
                elements[-1][2].append(line)
            else:
                elements.append((line.indent, None, [line]))
        stack = [(-1, parent)] if parent is not None else []
        head = parent
        for indent, symbol, member_lines in elements:
            key = self.read(member_lines)
            if symbol is None:
                stack, head = [(indent, key)], key
                continue
            while stack and stack[-1][0] >= indent:
                stack.pop()
            if not stack:
                self.build.problems.append(f"line {member_lines[0].number}: relation {symbol!r} has "
                                           "no statement or argument above it to belong to")
                stack = [(indent, key)]
                continue
            self.relations.append((stack[-1][1], symbol, key, member_lines[0].number))
            stack.append((indent, key))
        return head

    def _pcs(self, argument, lines):
        """Read a premise-conclusion structure of ``argument``: numbered statements (each with
        the relations below it) and inference lines between them."""
        items = []  # ("statement", key, number) or ("inference", rule, data, number)
        pending = []

        def flush():
            if pending:
                first = pending[0]
                text = _NUMBERED.match(first.text).group(1)
                cut = next((i for i in range(1, len(pending)) if _RELATION.match(pending[i].text)
                            and not _open_data("\n".join(x.text for x in pending[:i]))), len(pending))
                key = self.read([_Line(first.number, first.indent, text, text)] + pending[1:cut])
                items.append(("statement", key, first.number))
                self._tree(pending[cut:], parent=key)
                pending.clear()

        for line in lines:
            inference = _INFERENCE.match(line.text) if line.indent == 0 else None
            if _NUMBERED.match(line.text):
                flush()
                pending.append(line)
            elif inference:
                flush()
                text, data = self._data(inference.group(1), line.number, _INFERENCE_DATA_KEYS)
                rule = ", ".join(r.strip() for r in text.split(",") if r.strip())
                items.append(("inference", rule, data, line.number))
            elif pending:
                pending.append(line)
            else:
                self.build.problems.append(f"line {line.number}: expected a numbered statement "
                                           "or an inference line (-- rule --)")
        flush()
        self._steps(argument, items, lines[0].number)

    def _steps(self, argument, items, number):
        """Split a premise-conclusion structure into inference steps, as Argdown's "explode
        arguments" does: an inference uses the statements named by its ``uses`` data, else
        those since the previous conclusion (that one included)."""
        if argument in self.structures:
            self.build.problems.append(f"line {number}: argument <{argument[1]}> has a second "
                                       "premise-conclusion structure (Argdown allows one)")
            return
        statements = [item[1] for item in items if item[0] == "statement"]
        inferences = [i for i, item in enumerate(items) if item[0] == "inference"]
        if not inferences or inferences[-1] != len(items) - 2 or inferences[0] == 0 \
                or any(b - a < 2 for a, b in zip(inferences, inferences[1:])):
            self.build.problems.append(f"line {number}: the premise-conclusion structure of "
                                       f"<{argument[1]}> needs premises, then an inference line "
                                       "(---- or -- rule --) before each conclusion, and ends "
                                       "with its conclusion")
            return
        steps, since = [], 0
        for n, at in enumerate(inferences, start=1):
            _, rule, data, line = items[at]
            index = at - n + 1  # the number of statements before this inference
            uses = data.get("uses")
            if isinstance(uses, list) and uses and all(
                    isinstance(u, int) and 1 <= u <= index for u in uses):
                premises = [statements[u - 1] for u in uses]
            elif uses is not None:
                self.build.problems.append(f"line {line}: 'uses' must list the numbers of "
                                           f"statements above the inference (1 to {index})")
                return
            else:
                premises = statements[since:index]
            since = index
            last = n == len(inferences)
            step = argument if last else ("<", f"{argument[1]} - {n}")
            self._member(step, None, {k: v for k, v in data.items() if k != "uses"}, [], line)
            steps.append((premises, statements[index], step, rule, line))
        self.structures[argument] = steps

    # -- members ---------------------------------------------------------------------------

    def read(self, lines):
        """Parse a member from its lines; returns its key."""
        number = lines[0].number
        text = "\n".join([lines[0].text] + [line.raw for line in lines[1:]])
        text, data = self._data(text, number, _DATA_KEYS)
        text, tags = self._tags(text)
        text = " ".join(text.split())
        match = _MEMBER.match(text)
        if match and (match.group("statement") or match.group("argument")):
            title = " ".join((match.group("statement") or match.group("argument")).split())
            key = ("[" if match.group("statement") else "<", title)
            own_text = match.group("text")
        elif text:
            key, own_text = ("", f"{number}:{text}"), text  # untitled: a statement of its own
        else:
            self.build.problems.append(f"line {number}: expected a statement or an argument")
            key, own_text = ("", f"{number}:"), None
        if own_text and self.section and self.section not in tags:
            tags.append(self.section)  # a heading tags what is defined below it
        self._member(key, own_text, data, tags, number)
        return key

    def _member(self, key, own_text, data, tags, number):
        member = self.members.setdefault(key, {"texts": [], "data": {}, "tags": [], "line": number})
        if own_text and own_text not in member["texts"]:
            member["texts"].append(own_text)
        member["data"].update(data)
        member["tags"] += [t for t in tags if t not in member["tags"]]

    def _data(self, text, number, known):
        """Split the YAML data ``{...}`` off a member's text."""
        import yaml

        start = text.find("{")
        if start < 0:
            return text, {}
        end = _closing_brace(text, start)
        if end is None:
            self.build.problems.append(f"line {number}: the YAML data '{{' is never closed")
            return text[:start], {}
        inner = text[start + 1:end]
        source = textwrap.dedent(inner) if inner.lstrip(" \t").startswith("\n") else "{" + inner + "}"
        try:
            if might_break_yaml_limits(source):
                check_yaml_events(source)
            data = yaml.load(source, Loader=_yaml_loader()) if source.strip() else {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = number + text[:start].count("\n") + (mark.line if mark else 0)
            self.build.problems.append(f"line {line}: bad YAML data: "
                                       f"{getattr(exc, 'problem', None) or exc}")
            return text[:start] + text[end + 1:], {}
        if not isinstance(data, dict):
            self.build.problems.append(f"line {number}: YAML data must be a mapping of keys to values")
            data = {}
        ignored = sorted(str(k) for k in data if k not in known)
        if ignored:
            self.build.warnings.append(f"line {number}: YAML data {', '.join(ignored)} ignored "
                                       "(no meaning in a takeoff-graph corpus)")
        return text[:start] + " " + text[end + 1:], {k: v for k, v in data.items() if k in known}

    @staticmethod
    def _tags(text):
        tags = []

        def take(match):
            tags.append(match.group(1) or match.group(2))
            return " "

        text = re.sub(r"(?:(?<=\s)|^)#(?:\(([^)]*)\)|([\w-]+))", take, text, flags=re.UNICODE)
        return text, [t.strip() for t in tags if t.strip()]

    # -- nodes and edges -------------------------------------------------------------------

    def finish(self):
        """Turn the members into nodes, the structures and relations into edges."""
        ids = self._nodes()
        conclusion_of = {key: steps[-1][1] for key, steps in self.structures.items()}
        step_of, used_by = {}, {}  # statement -> the inference step concluding / using it
        for steps in self.structures.values():
            for premises, conclusion, step, rule, line in steps:
                step_of.setdefault(conclusion, step)
                for premise in premises:
                    used_by.setdefault(premise, step)
                for premise in premises:
                    self._edge(ids, premise, step, "supports", line)
                self._edge(ids, step, conclusion, "supports", line, rule)
        for parent, symbol, child, number in self.relations:
            kind, parent_first = _SYMBOLS[symbol]
            source, target = (parent, child) if parent_first else (child, parent)
            if kind == "undercut" and target[0] != "<":
                # As in Argdown: undercutting a statement of a premise-conclusion structure
                # attacks the inference that concludes it, or else the one that uses it.
                target = step_of.get(target) or used_by.get(target)
                if target is None:
                    self.build.problems.append(
                        f"line {number}: an undercut ({symbol}) attacks an inference: its target "
                        "must be an argument or a statement of a premise-conclusion structure")
                    continue
            if source in conclusion_of:  # Argdown: the relation is the conclusion's
                source = conclusion_of[source]
                if source == target:
                    continue  # a relation to its own conclusion: the structure says it
            relation = "supports" if kind == "support" else "undermines"
            self._edge(ids, source, target, relation, number)
            if kind == "contradiction":
                self._edge(ids, conclusion_of.get(target, target), source, relation, number)
        statements = sum(key[0] != "<" for key in self.members)
        self.build.graph.graph["summary"] = (
            f"read {statements} statement(s), {len(self.members) - statements} argument(s) "
            f"({len(self.structures)} with premise-conclusion structures), "
            f"{len(self.relations)} relation(s)")

    def _nodes(self):
        build, taken, ids = self.build, set(), {}
        for key, member in self.members.items():
            data = member["data"]
            wanted = data.get("id")
            if key[0] in "[<" and ID_PATTERN.match(key[1]) and key[1] not in taken:
                ids[key] = key[1]
                taken.add(key[1])
            elif isinstance(wanted, str) and ID_PATTERN.match(wanted) and wanted not in taken:
                ids[key] = wanted
                taken.add(wanted)
            else:
                ids[key] = slugify(key[1].split(":", 1)[-1] if key[0] == "" else key[1], taken)
            kind = data.get("kind", "argument" if key[0] == "<" else "claim")
            if (kind == "argument") != (key[0] == "<"):
                build.problems.append(f"line {member['line']}: kind {kind!r} does not fit "
                                      f"{'an argument <...>' if key[0] == '<' else 'a statement'}: "
                                      "arguments are written <title>, other kinds [title]")
            texts = member["texts"]
            # The first text is the title (unless the data gives the exact one); any other
            # formulations of the same statement or argument are kept in the body.
            title = data.get("title") if isinstance(data.get("title"), str) else (texts[0] if texts else key[1])
            extra = texts[1:]
            body = data.get("body") if isinstance(data.get("body"), str) else ""
            if extra:
                body = "\n\n".join(([body.rstrip("\n")] if body else []) + extra) + "\n"
            tags = data["tags"] if "tags" in data else member["tags"]
            build.add_node(ids[key], title, {**data, "kind": kind, "body": body, "tags": tags},
                           f"line {member['line']}")
        self.key_of = {node: key for key, node in ids.items()}
        return ids

    def _edge(self, ids, source, target, relation, number, note=""):
        where = f"line {number}"
        source, target = ids[source], ids[target]
        extras = self._edge_extras(source, target, where)
        self.build.add_edge(source, target, relation, extras.get("weight", DEFAULT_WEIGHT),
                            extras.get("note", note), where)

    def _edge_extras(self, source, target, where):
        """The weight and note the source's data gives the edge to ``target`` (maybe none)."""
        edges = self.members[self.key_of[source]]["data"].get("edges") or {}
        if not isinstance(edges, dict):
            self.build.problems.append(f"{where}: the 'edges' data must map target ids to "
                                       "{weight, note}")
            return {}
        extras = edges.get(target) or {}
        return extras if isinstance(extras, dict) else {"weight": extras}


def _open_data(text):
    """Whether ``text`` has a YAML data ``{`` that is not closed yet."""
    start = text.find("{")
    return start >= 0 and _closing_brace(text, start) is None


def _yaml_loader():
    """PyYAML's safe loader, also reading YAML 1.2 floats such as ``1e-20`` (YAML 1.1, which
    PyYAML implements, needs a dot): Argdown tools use YAML 1.2, and so does our JSON data."""
    import yaml

    @harden
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
        list("-+0123456789."))
    return Loader


def _closing_brace(text, start):
    """The index of the ``}`` closing the ``{`` at ``start`` (quotes respected), or None."""
    depth, open_quote, i, last = 0, None, start, ""  # last: the last non-blank character
    while i < len(text):
        char = text[i]
        if open_quote:
            if char == "\\" and open_quote == '"':
                i += 1
            elif char == open_quote:
                open_quote = None
        elif char == '"' or (char == "'" and last in ("{", "[", ",", ":")):
            open_quote = char  # an apostrophe inside a plain scalar (it's) opens no quote
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
        if not char.isspace():
            last = char
        i += 1
    return None


# ---- GraphML, Mermaid, DOT ------------------------------------------------------------------

def export_graphml(graph, *, score=None):
    """GraphML of the corpus graph for Gephi, yEd or Cytoscape.

    GraphML holds only plain values, so dates become ISO text (empty if none), tags and
    sources JSON text; ``label`` repeats the title for the tools that show it. Edge ids are
    ``source.relation.target``: unique NMTOKENs, as the GraphML schema wants. With
    ``score``, nodes also carry their ``strength``.
    """
    plain = nx.MultiDiGraph()
    for node, attrs in sorted(graph.nodes(data=True)):
        values = {"label": attrs["title"], "kind": attrs["kind"], "title": attrs["title"],
                  "credence": float(attrs.get("credence", DEFAULT_CREDENCE)),
                  "date": _date_text(attrs.get("date")) or "",
                  "tags": json.dumps(attrs.get("tags") or [], ensure_ascii=False),
                  "sources": json.dumps(_json_sources(attrs.get("sources")), ensure_ascii=False),
                  "body": attrs.get("body") or ""}
        if score is not None:
            values["strength"] = float(score.strengths[node])
        plain.add_node(node, **values)
    for source, target, key, attrs in sorted(graph.edges(keys=True, data=True)):
        # The key becomes the edge's id, which the schema wants unique and an NMTOKEN (ids
        # have no dots, so these are unique).
        plain.add_edge(source, target, key=f"{source}.{key}.{target}", relation=attrs["relation"],
                       weight=float(attrs.get("weight", DEFAULT_WEIGHT)), note=attrs.get("note") or "")
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
