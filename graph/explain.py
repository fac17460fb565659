"""Query and explain the argument structure: trees, chains, attributions, cruxes and lint.

Every function takes a corpus graph (a :class:`networkx.MultiDiGraph` with the node and edge
attributes of :mod:`graph.model`) and returns plain data (dicts and lists of JSON-safe values);
``cli.py`` formats it. The numbers come from :mod:`graph.propagation`:

- :func:`tree` and :func:`paths` read the structure (relation, weight, strength on each line);
- :func:`why` attributes a node's strength to every node that reaches it, two ways: the removal
  impact (strength with the node present minus with it removed) and the gradient (derivative of
  the strength with respect to the node's credence), each with its strongest chain of edges;
- :func:`cruxes` names the nodes whose credence decides which of two nodes ranks higher, and
  searches for the credence that flips the ranking;
- :func:`lint` lists structural warnings for authors.
"""
from __future__ import annotations

import heapq
import math

from graph.model import TakeoffError, unknown_id_message

DIRECTIONS = ("in", "out")
# Enumerating simple paths is exponential in the worst case: past this many we stop and ask
# for a shorter --max-length rather than run for minutes.
PATH_LIMIT = 100_000
DEFAULT_MAX_LENGTH = 6


def _require_node(graph, node_id):
    if node_id not in graph:
        raise TakeoffError(unknown_id_message(node_id, graph))


def _node_row(graph, node_id, strengths):
    attrs = graph.nodes[node_id]
    return {"id": node_id, "kind": attrs.get("kind"), "title": attrs.get("title", ""),
            "credence": float(attrs.get("credence", 0.5)),
            "strength": None if strengths is None else float(strengths[node_id])}


def _sign(relations):
    """``supports`` if the chain holds an even number of undermines edges, else ``undermines``."""
    return "undermines" if sum(r == "undermines" for r in relations) % 2 else "supports"


def _chain(nodes, edges):
    """A chain of edges as data: nodes, relations, weights, their product and overall sign."""
    relations = [e["relation"] for e in edges]
    weights = [float(e["weight"]) for e in edges]
    return {"nodes": list(nodes), "relations": relations, "weights": weights,
            "weight": math.prod(weights), "sign": _sign(relations), "length": len(edges)}


def _edge(graph, source, target):
    """The attributes of the edge source -> target (a valid corpus has at most one)."""
    return next(iter(graph[source][target].values()))


# ---------------------------------------------------------------------------------------------
# Structure: tree, paths, strongest chains
# ---------------------------------------------------------------------------------------------

def tree(graph, node_id, *, depth=None, direction="in", strengths=None):
    """The supports/undermines tree into (or out of) a node.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph.
    node_id : str
        The root of the tree.
    depth : int, optional
        How many levels of edges to follow (at least 1); all of them if None.
    direction : {"in", "out"}
        ``"in"``: the children of a node are the nodes that support or undermine it (its
        argument); ``"out"``: the nodes it supports or undermines (what it bears on).
    strengths : dict, optional
        ``{id: strength}`` to show on each line (e.g. ``ScoreResult.strengths``).

    Returns
    -------
    dict
        The root: ``{id, kind, title, credence, strength, relation, weight, note, cycle,
        repeat, children}``. ``relation``/``weight``/``note`` describe the edge between a node
        and its parent (None at the root). A node already on the way from the root is listed
        with ``cycle: True`` and not expanded; a node expanded earlier in the tree is listed
        again with ``repeat: True`` and not expanded (as ``cargo tree`` does), so the tree
        stays as small as the graph. Children are ordered supports first, heavier edges first.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("e", kind="evidence", title="E", credence=0.9)
    >>> G.add_node("m", kind="model", title="M", credence=0.5)
    >>> _ = G.add_edge("e", "m", key="supports", relation="supports", weight=0.8, note="")
    >>> [c["id"] for c in tree(G, "m")["children"]]
    ['e']
    """
    _require_node(graph, node_id)
    if depth is not None and depth < 1:
        raise TakeoffError(f"depth must be at least 1 (got {depth})")
    if direction not in DIRECTIONS:
        raise TakeoffError(f"direction must be 'in' or 'out' (got {direction!r})")
    expanded = set()

    def grow(node, edge, on_path, level):
        row = {**_node_row(graph, node, strengths), "relation": None, "weight": None,
               "note": None, "cycle": node in on_path, "repeat": False, "children": []}
        if edge is not None:
            row.update(relation=edge["relation"], weight=float(edge["weight"]),
                       note=edge.get("note", ""))
        if row["cycle"] or (depth is not None and level >= depth):
            return row
        if node in expanded:
            row["repeat"] = bool(_neighbours(graph, node, direction))
            return row
        expanded.add(node)
        for other, other_edge in _neighbours(graph, node, direction):
            row["children"].append(grow(other, other_edge, on_path | {node}, level + 1))
        return row

    return grow(node_id, None, frozenset(), 0)


def _neighbours(graph, node, direction):
    """(neighbour, edge) pairs in tree order: supports first, heavier first, then by id."""
    if direction == "in":
        pairs = [(s, e) for s, _, e in graph.in_edges(node, data=True)]
    else:
        pairs = [(t, e) for _, t, e in graph.out_edges(node, data=True)]
    return sorted(pairs, key=lambda p: (p[1]["relation"] != "supports", -p[1]["weight"], p[0]))


def paths(graph, source, target, *, max_length=DEFAULT_MAX_LENGTH, top=None, limit=PATH_LIMIT):
    """The chains of edges from one node to another, strongest first.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph.
    source, target : str
        Where the chains start and end (two different nodes).
    max_length : int
        The most edges a chain may have (at least 1).
    top : int, optional
        Return only the first ``top`` chains.
    limit : int
        Give up (with an error asking for a smaller ``max_length``) past this many chains.

    Returns
    -------
    list of dict
        ``{nodes, relations, weights, weight, sign, length}`` per simple path: ``weight`` is the
        product of the edge weights, ``sign`` is ``supports`` when the path holds an even number
        of undermines edges, else ``undermines``. Sorted by weight (descending), then length,
        then node ids.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> _ = G.add_edge("a", "b", key="undermines", relation="undermines", weight=0.5)
    >>> _ = G.add_edge("b", "c", key="undermines", relation="undermines", weight=0.8)
    >>> [(p["sign"], p["weight"]) for p in paths(G, "a", "c")]
    [('supports', 0.4)]
    """
    import networkx as nx

    _require_node(graph, source)
    _require_node(graph, target)
    if source == target:
        raise TakeoffError(f"FROM and TO are the same node ({source!r}); "
                           "`takeoff lint` lists the cycles through a node")
    if max_length < 1:
        raise TakeoffError(f"the maximum length must be at least 1 (got {max_length})")
    found = []
    for edge_path in nx.all_simple_edge_paths(graph, source, target, cutoff=max_length):
        if len(found) == limit:
            raise TakeoffError(f"more than {limit} paths of up to {max_length} edges from "
                               f"{source!r} to {target!r}; give a smaller maximum length")
        nodes = [source] + [t for _, t, _ in edge_path]
        found.append(_chain(nodes, [graph.edges[e] for e in edge_path]))
    found.sort(key=lambda p: (-p["weight"], p["length"], p["nodes"]))
    return found if top is None else found[:top]


def strongest_chains(graph, target):
    """For every node that reaches ``target``, its strongest chain of edges to it.

    The strongest chain is the path with the highest product of edge weights (ties: fewer
    edges). Weights lie in (0, 1], so it is a shortest path for the costs ``-log(weight)``, and
    one Dijkstra search backwards from ``target`` finds it for every node at once.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph.
    target : str
        The node the chains end at.

    Returns
    -------
    dict
        ``{id: chain}`` with ``chain`` as in :func:`paths` (``nodes`` runs from ``id`` to
        ``target``); ``target`` itself is absent.
    """
    _require_node(graph, target)
    # Costs are compared rounded so that equal products (0.8 * 0.5 and 0.4) tie exactly and
    # the shorter chain wins.
    best = {target: (0.0, 0)}
    successor = {}
    queue = [(0.0, 0, target)]
    while queue:
        cost, hops, node = heapq.heappop(queue)
        if (cost, hops) > best[node]:
            continue
        for source, _, edge in graph.in_edges(node, data=True):
            candidate = (round(cost - math.log(edge["weight"]), 12), hops + 1)
            if source not in best or candidate < best[source]:
                best[source] = candidate
                successor[source] = node
                heapq.heappush(queue, (*candidate, source))
    chains = {}
    for node in successor:
        nodes = [node]
        while nodes[-1] != target:
            nodes.append(successor[nodes[-1]])
        chains[node] = _chain(nodes, [_edge(graph, a, b) for a, b in zip(nodes, nodes[1:])])
    return chains


# ---------------------------------------------------------------------------------------------
# Lint: structural warnings for authors
# ---------------------------------------------------------------------------------------------

# A side (supports or undermines) of a node is strong when the weighted strengths of its edges
# add up to at least this: the quantity the `qe` and `eb` semantics aggregate. 0.5 is one edge of
# weight 1 from a node of strength 0.5, or two half-weight edges from nodes believed outright;
# alone it would move a node of credence 0.5 to 0.6 under `qe`.
CONTESTED_THRESHOLD = 0.5

LINT_CHECKS = {
    "isolated": "nodes with no edges at all",
    "unsupported-claim": "claims that nothing supports",
    "evidence-reaches-no-model": "evidence with no chain of edges to any model",
    "model-without-evidence": "models that no evidence reaches",
    "contested": f"nodes whose supporters and underminers both weigh at least "
                 f"{CONTESTED_THRESHOLD} (sum of weight x strength)",
    "cycle": "groups of nodes that reach each other (strengths there are a fixed point)",
}


def lint(graph, strengths, *, threshold=CONTESTED_THRESHOLD):
    """Structural warnings for authors of a corpus.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph.
    strengths : dict
        ``{id: strength}`` (``ScoreResult.strengths``), used to weigh the sides of a node.
    threshold : float
        How much weight (sum of ``weight * strength`` over the edges of one relation into a
        node) makes a side strong; a node is contested when both sides are strong.

    Returns
    -------
    list of dict
        ``{check, nodes, message}`` per warning, ``check`` being a key of
        :data:`LINT_CHECKS`, in the order of that table. A node with no edges is reported as
        isolated only, not also under the checks it fails for the same reason.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("lonely", kind="claim", title="L", credence=0.5)
    >>> [w["check"] for w in lint(G, {"lonely": 0.5})]
    ['isolated']
    """
    import networkx as nx

    isolated = sorted(nx.isolates(graph))
    connected = [n for n in sorted(graph) if graph.degree(n)]
    kinds = nx.get_node_attributes(graph, "kind")
    warnings = [_warning("isolated", [n], f"{n}: no edges in or out") for n in isolated]
    for node in connected:
        if kinds.get(node) == "claim" and not any(
                e["relation"] == "supports" for _, _, e in graph.in_edges(node, data=True)):
            warnings.append(_warning("unsupported-claim", [node], f"{node}: nothing supports this claim"))
    models = {n for n in connected if kinds.get(n) == "model"}
    evidence = {n for n in connected if kinds.get(n) == "evidence"}
    reaches_model = _reaching(graph, models)
    reached_by_evidence = _reaching(graph.reverse(copy=False), evidence)
    for node in sorted(evidence - reaches_model):
        warnings.append(_warning("evidence-reaches-no-model", [node],
                                 f"{node}: this evidence reaches no model"))
    for node in sorted(models - reached_by_evidence):
        warnings.append(_warning("model-without-evidence", [node],
                                 f"{node}: no evidence reaches this model"))
    warnings += _contested(graph, connected, strengths, threshold)
    warnings += _cycles(graph)
    return warnings


def _warning(check, nodes, message):
    return {"check": check, "nodes": list(nodes), "message": message}


def _reaching(graph, targets):
    """The nodes with a path of at least one edge to some node of ``targets``."""
    import networkx as nx

    found = set()
    for target in targets:
        # The ancestors of a target already found are already in.
        if target not in found:
            found |= nx.ancestors(graph, target)
    return found


def _contested(graph, nodes, strengths, threshold):
    found = []
    for node in nodes:
        sides = {"supports": 0.0, "undermines": 0.0}
        for source, _, edge in graph.in_edges(node, data=True):
            sides[edge["relation"]] += edge["weight"] * strengths[source]
        if min(sides.values()) >= threshold:
            found.append(_warning("contested", [node],
                                  f"{node}: contested (support {sides['supports']:.2f}, "
                                  f"undermining {sides['undermines']:.2f})"))
    return found


def _cycles(graph):
    import networkx as nx

    found = []
    components = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    for component in sorted(components):
        cycle = nx.find_cycle(graph.subgraph(component), source=component[0])
        loop = " -> ".join([u for u, *_ in cycle] + [cycle[0][0]])
        size = f" (a group of {len(component)} nodes)" if len(component) > len(cycle) else ""
        found.append(_warning("cycle", component, f"cycle: {loop}{size}"))
    return found
