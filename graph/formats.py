"""Interchange with argument-mapping tools: AIF JSON and Argdown (both ways), GraphML, Mermaid
and DOT (export).

AIF JSON is the ``{"nodes", "edges", "locutions"}`` form AIFdb serves and OVA reads: I-nodes
hold the statements, each supports edge is an RA-node ("Default Inference") and each undermines
edge a CA-node ("Default Conflict") between them. Argdown is the text format of the Argdown
tools: ``[title]: text`` statements, ``<title>: text`` arguments, and relations below them
(``+`` / ``-``, or ``<+`` / ``<-`` / ``+>`` / ``->`` with an explicit direction).

Both keep what takeoff-graph adds (kind, credence, date, tags, sources, body, weights, notes)
where the format leaves room for it: a ``takeoff`` object on AIF nodes, YAML data ``{...}`` on
Argdown statements. Files from other tools have none of it: nodes become claims with credence
0.5 and edges get weight 1. Every function is pure: graph in, text out, or text in, graph out.
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
    extras = {"kind": attrs["kind"], "credence": attrs.get("credence", DEFAULT_CREDENCE)}
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
        credence = data.get("credence", DEFAULT_CREDENCE)
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
                            body=body if isinstance(body, str) else "")

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
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= 1:
            self.problems.append(f"{where}: weight {quote(weight)} must be a number in (0, 1]")
            return
        if not isinstance(note, str):
            self.problems.append(f"{where}: note {quote(note)} must be text")
            return
        self.graph.add_edge(source, target, key=relation, relation=relation,
                            weight=float(weight), note=note)

    def result(self):
        if self.problems:
            lines = self.problems[:50] + ([f"... and {len(self.problems) - 50} more"]
                                          if len(self.problems) > 50 else [])
            raise FormatError(f"cannot import this {self.what}:\n"
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


def to_aif(graph):
    """The corpus graph as an AIF JSON object (AIFdb's nodes/edges form).

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph.

    Returns
    -------
    dict
        ``{"nodes": [...], "edges": [...], "locutions": []}``. I-nodes have ``nodeID``,
        ``text`` (the title) and ``type`` "I"; each edge is an RA ("Default Inference") or CA
        ("Default Conflict") node linked from its source and to its target. The takeoff fields
        ride along in a ``takeoff`` object (ignored by other tools). Node ids are numbers as
        text, as AIFdb makes them.

    Examples
    --------
    >>> json.dumps(to_aif(Corpus.load("claims").graph))   # doctest: +SKIP
    """
    number = {node: str(i) for i, node in enumerate(sorted(graph), start=1)}
    nodes = [{"nodeID": number[n], "text": graph.nodes[n]["title"], "type": "I",
              "takeoff": {"id": n, **_node_extras(graph.nodes[n])}} for n in sorted(graph)]
    edges = []
    for source, target, attrs in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1])):
        scheme_id = str(len(nodes) + 1)
        node_type, text = AIF_SCHEME[attrs["relation"]]
        extras = {"weight": attrs.get("weight", DEFAULT_WEIGHT)}
        if attrs.get("note"):
            extras["note"] = attrs["note"]
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

    I-nodes become nodes (id from the ``takeoff`` object, else made from the text; kind claim
    and credence 0.5 unless the ``takeoff`` object says otherwise). Each RA-node makes every
    premise support its conclusion, each CA-node makes every conflicting node undermine the
    one in conflict; weight 1 unless the ``takeoff`` object gives one. Locutions and dialogue
    nodes (L, TA, YA), rephrase and preference nodes (MA, PA) and attacks on RA/CA-nodes
    (undercuts) have no counterpart: they are skipped and listed in
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
    incoming, outgoing = _aif_edges(data["edges"], nodes, build)
    ids = _aif_inodes(nodes, build)
    skipped = {}
    for node_id, node in nodes.items():
        kind = node["type"]
        if kind in AIF_RELATION:
            _aif_scheme(node_id, node, incoming.get(node_id, []), outgoing.get(node_id, []),
                        nodes, ids, build)
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
        nodes[node_id] = {**node, "where": where}
    return nodes


def _aif_edges(raw, nodes, build):
    incoming, outgoing = {}, {}
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
        outgoing.setdefault(start, []).append(end)
        incoming.setdefault(end, []).append(start)
    return incoming, outgoing


def _aif_inodes(nodes, build):
    """Add every I-node to the graph; returns ``{nodeID: takeoff id}``."""
    ids, taken = {}, set()
    for node_id, node in nodes.items():
        if node["type"] != "I":
            continue
        extras = node.get("takeoff") if isinstance(node.get("takeoff"), dict) else {}
        text = node.get("text")
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
        title = text if extras else " ".join(text.split())
        build.add_node(ids[node_id], title, extras, node["where"])
    return ids


def _aif_scheme(node_id, node, premises, conclusions, nodes, ids, build):
    """Add the edges an RA- or CA-node stands for."""
    relation = AIF_RELATION[node["type"]]
    where = f"{node['where']} ({node['type']}-node {node_id})"
    extras = node.get("takeoff") if isinstance(node.get("takeoff"), dict) else {}
    if any(nodes[n]["type"] != "I" for n in conclusions):
        build.warnings.append(f"{where}: skipped, it targets a scheme node (an undercut), "
                              "which takeoff-graph cannot represent")
        return
    # Incoming scheme nodes attack or back this inference (undercuts), and YA-nodes anchor it
    # in the dialogue: neither is a premise.
    premises = [n for n in premises if nodes[n]["type"] == "I"]
    if not premises or len(conclusions) != 1:
        build.problems.append(f"{where}: needs at least one premise and exactly one conclusion "
                              f"(has {len(premises)} and {len(conclusions)})")
        return
    for premise in premises:
        if premise in ids and conclusions[0] in ids:
            build.add_edge(ids[premise], ids[conclusions[0]], relation,
                           extras.get("weight", DEFAULT_WEIGHT), extras.get("note", ""), where)


# ---- Argdown --------------------------------------------------------------------------------

# An Argdown statement text that our importer reads back unchanged: no tags, data, comments,
# links, mentions or formatting characters, and nothing a line could start a relation with.
_PLAIN_TEXT = re.compile(r"[\w\"'(][\w \"'.,;:!?%&$€£()=+~^|-]*", re.UNICODE)
_HASHTAG = re.compile(r"[\w-]+", re.UNICODE)
_KIND_HEADINGS = {"model": "Models", "claim": "Claims", "evidence": "Evidence"}


def export_argdown(graph):
    """Argdown text of the corpus graph.

    Nodes are grouped under a heading per kind; each is a statement ``[id]: title`` with its
    tags as hashtags and the takeoff fields as YAML data, followed by its outgoing relations
    (``+> [target]`` supports, ``-> [target]`` undermines). Weights and notes go into the
    data's ``edges`` map, keyed by target.

    Parameters
    ----------
    graph : networkx.MultiDiGraph

    Returns
    -------
    str
    """
    parts = ["===\ntitle: takeoff-graph corpus\n===\n"]
    for kind in KINDS:
        ids = sorted(n for n, k in graph.nodes(data="kind") if k == kind)
        if ids:
            parts.append(f"# {_KIND_HEADINGS[kind]}\n")
            parts += [_argdown_statement(graph, node) for node in ids]
    return "\n".join(parts)


def _argdown_statement(graph, node):
    attrs = graph.nodes[node]
    data = _node_extras(attrs)
    title = attrs["title"]
    plain = _PLAIN_TEXT.fullmatch(title) and title == " ".join(title.split()) and "//" not in title
    text = title if plain else None
    if text is None:  # keep the exact title in the data, show a cleaned one
        data["title"] = title
        text = " ".join(re.sub(r"[\[\]{}<>#@*_/\\`]", " ", title).split()) or node
    tags = data.get("tags", [])
    if tags and all(_HASHTAG.fullmatch(t) for t in tags):
        text += "".join(f" #{t}" for t in data.pop("tags"))
    out = sorted(graph.out_edges(node, data=True), key=lambda e: (e[2]["relation"], e[1]))
    edges = {}
    for _, target, edge in out:
        extras = {"weight": edge.get("weight", DEFAULT_WEIGHT)}
        if edge.get("note"):
            extras["note"] = edge["note"]
        edges[target] = extras
    if edges:
        data["edges"] = edges
    lines = [f"[{node}]: {text}", "  " + _argdown_data(data)]
    symbol = {"supports": "+>", "undermines": "->"}
    lines += [f"    {symbol[e['relation']]} [{target}]" for _, target, e in out]
    return "\n".join(lines) + "\n"


def _argdown_data(data):
    """YAML data for an Argdown statement: JSON (a YAML flow mapping) on one line, with what
    Argdown would take for the start of a comment escaped inside its strings."""
    text = json.dumps(data, ensure_ascii=False)
    text = text.replace(" //", " \\/\\/").replace("/*", "\\/*").replace("<!--", "\\u003c!--")
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


def parse_argdown(text):
    """A corpus graph from Argdown text.

    Reads statements (``[Title]: text``, references ``[Title]``, untitled text), arguments
    (``<Title>: text``, ``<Title>``) and the relations below them, nested by indentation:
    ``+`` / ``<+`` (the child supports the parent), ``-`` / ``<-`` (the child undermines the
    parent), ``+>`` / ``->`` (the parent supports / undermines the child) and ``><``
    (contradiction: each undermines the other). Hashtags become tags and YAML data
    ``{...}`` may carry takeoff fields (kind, credence, date, sources, body, title and an
    ``edges`` map of weights and notes by target id); without them a node is a claim with
    credence 0.5 and an edge has weight 1. Comments, headings and front matter are skipped.
    Titles become ids (slugified; a statement and an argument with the same title get
    different ids). A title defined with several texts keeps the first as its title and the
    others in its body.

    Parameters
    ----------
    text : str

    Returns
    -------
    networkx.MultiDiGraph

    Raises
    ------
    FormatError
        With the line of each problem: bad YAML data, a relation with no parent, undercuts
        (``_``), premise-conclusion structures (numbered premises), which takeoff-graph
        cannot represent.
    """
    build = _Builder("Argdown file")
    members = _ArgdownMembers(build)
    for block in _argdown_blocks(_strip_comments(text), build):
        _argdown_block(block, members, build)
    members.finish()
    return build.result()


def _strip_comments(text):
    """Blank out ``/* */``, ``<!-- -->`` and ``//`` comments, keeping every line break."""
    def blank(match):
        return re.sub(r"[^\n]", " ", match.group(0))

    text = re.sub(r"/\*.*?\*/|<!--.*?-->", blank, text, flags=re.S)
    return re.sub(r"(^|[ \t])//[^\n]*", lambda m: m.group(1), text, flags=re.M)


def _argdown_blocks(text, build):
    """Top-level blocks (runs of non-empty lines) as lists of :class:`_Line`, front matter and
    headings left out."""
    lines = text.split("\n")
    start = 0
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].strip() == "===":
        end = next((i for i in range(first + 1, len(lines)) if lines[i].strip() == "==="), None)
        if end is None:
            build.problems.append(f"line {first + 1}: the front matter (===) is never closed")
            return
        start = end + 1
    block = []
    for number in range(start, len(lines)):
        raw = lines[number].rstrip()
        if not raw.strip():
            if block:
                yield block
            block = []
            continue
        stripped = raw.lstrip()
        if not block and re.match(r"#+\s", stripped):
            continue  # a heading
        block.append(_Line(number + 1, len(raw) - len(stripped), stripped, raw))
    if block:
        yield block


def _argdown_block(block, members, build):
    """Read one top-level block: a member, then relation lines nested by indentation."""
    if re.match(r"\(\d+\)", block[0].text):
        build.problems.append(f"line {block[0].number}: premise-conclusion structures (numbered "
                              "premises) are not supported: sketch the argument with a "
                              "description (<Title>: text) and relations instead")
        return
    elements = []  # (indent, symbol or None, [lines])
    for line in block:
        if elements and _open_data("\n".join(x.text for x in elements[-1][2])):
            elements[-1][2].append(line)  # inside YAML data: not a relation or list item
            continue
        match = _RELATION.match(line.text) if elements else None
        if re.match(r"(\*|\d+\.)\s", line.text) and (not elements or line.indent <= elements[0][0]):
            elements.append((line.indent, None, [_Line(line.number, line.indent, line.text.split(None, 1)[1])]))
        elif match:
            elements.append((line.indent, match.group(1),
                             [_Line(line.number, line.indent, match.group(2))]))
        elif elements:
            elements[-1][2].append(line)
        else:
            elements.append((line.indent, None, [line]))
    stack = []  # (indent, member key)
    for indent, symbol, lines in elements:
        key = members.read(lines)
        if symbol is None:
            stack = [(indent, key)]
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if not stack:
            build.problems.append(f"line {lines[0].number}: relation {quote(symbol)} has no statement "
                                  "or argument above it to belong to")
            stack = [(indent, key)]
            continue
        members.relate(stack[-1][1], symbol, key, lines[0].number)
        stack.append((indent, key))


class _ArgdownMembers:
    """The statements and arguments of an Argdown document, by title, and their relations."""

    def __init__(self, build):
        self.build = build
        self.members = {}  # key ("[", title) or ("<", title) -> dict(texts, data, tags, line)
        self.relations = []  # (parent key, symbol, child key, line)
        self.key_of = {}  # node id -> member key, once finished

    def read(self, lines):
        """Parse a member from its lines; returns its key."""
        number = lines[0].number
        text = "\n".join([lines[0].text] + [line.raw for line in lines[1:]])
        text, data = self._data(text, number)
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
        member = self.members.setdefault(key, {"texts": [], "data": {}, "tags": [], "line": number})
        if own_text and own_text not in member["texts"]:
            member["texts"].append(own_text)
        member["data"].update(data)
        member["tags"] += [t for t in tags if t not in member["tags"]]
        return key

    def _data(self, text, number):
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
        return text[:start] + " " + text[end + 1:], data

    @staticmethod
    def _tags(text):
        tags = []

        def take(match):
            tags.append(match.group(1) or match.group(2))
            return " "

        text = re.sub(r"(?:(?<=\s)|^)#(?:\(([^)]*)\)|([\w-]+))", take, text, flags=re.UNICODE)
        return text, [t.strip() for t in tags if t.strip()]

    def relate(self, parent, symbol, child, number):
        self.relations.append((parent, symbol, child, number))

    def finish(self):
        """Turn the members into nodes and the relations into edges."""
        build, taken, ids = self.build, set(), {}
        for key, member in self.members.items():
            data = member["data"]
            wanted = data.get("id")
            if key[0] == "[" and ID_PATTERN.match(key[1]) and key[1] not in taken:
                ids[key] = key[1]
                taken.add(key[1])
            elif isinstance(wanted, str) and ID_PATTERN.match(wanted) and wanted not in taken:
                ids[key] = wanted
                taken.add(wanted)
            else:
                ids[key] = slugify(key[1].split(":", 1)[-1] if key[0] == "" else key[1], taken)
            texts = member["texts"]
            # The first text is the title (unless the data gives the exact one); any other
            # formulations of the same statement or argument are kept in the body.
            title = data.get("title") if isinstance(data.get("title"), str) else (texts[0] if texts else key[1])
            extra = texts[1:]
            body = data.get("body") if isinstance(data.get("body"), str) else ""
            if extra:
                body = "\n\n".join(([body.rstrip("\n")] if body else []) + extra) + "\n"
            tags = data["tags"] if "tags" in data else member["tags"]
            build.add_node(ids[key], title, {**data, "body": body, "tags": tags},
                           f"line {member['line']}")
        self.key_of = {node: key for key, node in ids.items()}
        for parent, symbol, child, number in self.relations:
            self._edges(ids[parent], symbol, ids[child], number)

    def _edges(self, parent, symbol, child, number):
        where = f"line {number}"
        if "_" in symbol:
            self.build.problems.append(f"{where}: undercuts ({symbol}) attack an inference, which "
                                       "takeoff-graph cannot represent")
            return
        pairs = {"+": [(child, parent, "supports")], "<+": [(child, parent, "supports")],
                 "-": [(child, parent, "undermines")], "<-": [(child, parent, "undermines")],
                 "+>": [(parent, child, "supports")], "->": [(parent, child, "undermines")],
                 "><": [(parent, child, "undermines"), (child, parent, "undermines")]}[symbol]
        for source, target, relation in pairs:
            extras = self._edge_extras(source, target, where)
            self.build.add_edge(source, target, relation, extras.get("weight", DEFAULT_WEIGHT),
                                extras.get("note", ""), where)

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
    sources JSON text; ``label`` repeats the title for the tools that show it. With
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
        plain.add_edge(source, target, key=key, relation=attrs["relation"],
                       weight=float(attrs.get("weight", DEFAULT_WEIGHT)), note=attrs.get("note") or "")
    return "\n".join(nx.generate_graphml(plain)) + "\n"


_COLOURS = {"model": "#fde68a", "claim": "#e0e7ff", "evidence": "#dcfce7"}
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
        lines.append(f'  {name[node]}["{_mermaid_text(attrs["title"])}"]:::{attrs["kind"]}')
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
        lines.append(f'  "{node}" [label="{_dot_text(label)}", fillcolor="{_COLOURS[attrs["kind"]]}", '
                     f'tooltip="{_dot_text(node)} ({attrs["kind"]})"];')
    for source, target, attrs in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1])):
        relation = attrs["relation"]
        style = "solid" if relation == "supports" else "dashed"
        sign = "+" if relation == "supports" else "−"
        lines.append(f'  "{source}" -> "{target}" [label="{sign}{attrs.get("weight", DEFAULT_WEIGHT):g}", '
                     f'color="{_EDGE_COLOURS[relation]}", style={style}, '
                     f'tooltip="{_dot_text(attrs.get("note") or relation)}"];')
    return "\n".join(lines + ["}"]) + "\n"
