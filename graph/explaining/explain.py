"""Query and explain the argument structure: trees, chains, attributions, cruxes and lint.

Every function takes a corpus graph (a :class:`networkx.MultiDiGraph` with the node and edge
attributes of :mod:`graph.core.model`) and returns plain data (dicts and lists of JSON-safe values);
``cli.py`` formats it. The numbers come from :mod:`graph.solving.propagation`:

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
import re
from collections import deque

import numpy as np

from graph.core.limits import quote
from graph.core.model import DEFAULT_CREDENCE, TakeoffError, unknown_id_message

DIRECTIONS = ("in", "out")
# Enumerating simple paths is exponential in the worst case: past this many we stop and ask
# for a shorter --max-length rather than run for minutes.
PATH_LIMIT = 100_000
DEFAULT_MAX_LENGTH = 6


def _require_node(graph, node_id):
    if node_id not in graph:
        raise TakeoffError(unknown_id_message(node_id, graph))


def _node_row(graph, node_id, strengths, result=None):
    """id, kind, title, credence and strength of a node; with a ScoreResult, the credence it
    was scored with (a perspective may override the file's)."""
    attrs = graph.nodes[node_id]
    credence = result.credences[node_id] if result is not None else attrs.get("credence", DEFAULT_CREDENCE)
    return {"id": node_id, "kind": attrs.get("kind"), "title": attrs.get("title", ""),
            "credence": float(credence),
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
        raise TakeoffError(f"direction must be 'in' or 'out' (got {quote(direction)})")
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
        raise TakeoffError(f"FROM and TO are the same node ({quote(source)}); "
                           "`takeoff lint` lists the cycles through a node")
    if max_length < 1:
        raise TakeoffError(f"the maximum length must be at least 1 (got {max_length})")
    found = []
    for edge_path in nx.all_simple_edge_paths(graph, source, target, cutoff=max_length):
        if len(found) == limit:
            raise TakeoffError(f"more than {limit} paths of up to {max_length} edges from "
                               f"{quote(source)} to {quote(target)}; give a smaller maximum length")
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
    successor = _strongest_successors(graph, target)
    return {node: chain_from(successor, node) for node in successor}


def _strongest_successors(graph, target):
    """``{node: (next node, relation, weight)}``: the first edge of each node's strongest chain
    to ``target`` (Dijkstra backwards on the costs ``-log(weight)``). The chains form a tree,
    so these pointers hold all of them in space linear in the graph; :func:`chain_from`
    spells one out."""
    # Costs are compared rounded so that equal products (0.8 * 0.5 and 0.4) tie exactly and
    # the shorter chain wins.
    best = {target: (0.0, 0)}
    successor = {}
    queue = [(0.0, 0, target)]
    pred = graph.pred
    while queue:
        cost, hops, node = heapq.heappop(queue)
        if (cost, hops) > best[node]:
            continue
        for source, keyed in pred[node].items():
            for edge in keyed.values():
                weight = edge["weight"]
                # A perspective may switch an edge off (weight 0): it costs more than any other.
                step = -math.log(weight) if weight > 0 else math.inf
                candidate = (round(cost + step, 12), hops + 1)
                if source not in best or candidate < best[source]:
                    best[source] = candidate
                    successor[source] = (node, edge["relation"], float(weight))
                    heapq.heappush(queue, (*candidate, source))
    return successor


def chain_from(successor, node):
    """The strongest chain from ``node`` as in :func:`paths`, from the pointers of
    :func:`_strongest_successors` (time linear in its length)."""
    nodes, relations, weights = [node], [], []
    while node in successor:
        node, relation, weight = successor[node]
        nodes.append(node)
        relations.append(relation)
        weights.append(weight)
    product = 1.0
    for weight in reversed(weights):   # the order the products were formed in before
        product = weight * product
    return {"nodes": nodes, "relations": relations, "weights": weights, "weight": product,
            "sign": _sign(relations), "length": len(relations)}


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
    "double-counting": "a node with a direct edge to a target that it also reaches, with the "
                       "same sign, through a chain of other nodes (its argument counts twice)",
    "uncited-note": "edges whose note names no node id, quotes nothing and cites no source "
                    "(URL or arXiv number)",
    "undated-claim": "undated claims with an edge from a dated node (evidence or claim)",
    "edge-without-source": "edges that do not say whose argument they are (no `from:`)",
    "evidence-without-kind": "evidence that does not say whether it is an observation, a "
                             "forecast or testimony (no `evidence_kind:`)",
}
# An edge the author means to count twice says so in its note: "independent of ID", ID being a
# node on the other route (docs/bundled-corpus.md, "Lint").
INTENDED_TWICE = re.compile(r"independent of `?([a-z0-9]+(?:-[a-z0-9]+)*)`?")
# What counts as citing in an edge note: a node id (whole word), a quotation in double quotes
# (straight or curly) or in single quotes of two words or more (an apostrophe inside a word
# opens or closes nothing), a URL or a bare web address
# (epoch.ai), an arXiv number, or parentheses holding a year or date ("(METR, 2025-03-19)").
_QUOTED = re.compile(r"\"[^\"]+\"|“[^”]+”|(?<!\w)'[^']*\s[^']*'(?!\w)|(?<!\w)‘[^’]*\s[^’]*’(?!\w)")
_SOURCE_REF = re.compile(r"https?://\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|ai|io|google)\b"
                         r"|arXiv:? ?\d{4}\.\d{4,5}|\([^()]*\b(?:19|20)\d{2}(?:-\d{2}){0,2}\b[^()]*\)", re.I)
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_TLD = re.compile(r"\.(?:com|org|net|ai|io|google)\b", re.I)


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
            warnings.append(_warning("unsupported-claim", [node],
                                     f"{node}: nothing supports this claim"))
    models = {n for n in connected if kinds.get(n) == "model"}
    evidence = {n for n in connected if kinds.get(n) == "evidence"}
    reaches_model = _reaching(graph.predecessors, models)
    reached_by_evidence = _reaching(graph.successors, evidence)
    for node in sorted(evidence - reaches_model):
        warnings.append(_warning("evidence-reaches-no-model", [node],
                                 f"{node}: this evidence reaches no model"))
    for node in sorted(models - reached_by_evidence):
        warnings.append(_warning("model-without-evidence", [node],
                                 f"{node}: no evidence reaches this model"))
    warnings += _contested(graph, connected, strengths, threshold)
    warnings += _cycles(graph)
    warnings += double_counting(graph)
    warnings += _uncited_notes(graph)
    warnings += _undated_claims(graph)
    warnings += provenance_warnings(graph)
    order = list(LINT_CHECKS)
    return sorted(warnings, key=lambda w: order.index(w["check"]))


def provenance_warnings(graph):
    """Edges with no ``from`` and evidence with no ``evidence_kind`` (docs/evidence.md)."""
    found = [_warning("edge-without-source", [s, t],
                      f"{s} -> {t}: no `from:` says whose argument this edge is")
             for s, t, source in sorted(graph.edges(data="from"), key=lambda e: e[:2])
             if source is None]
    found += [_warning("evidence-without-kind", [n],
                       f"{n}: no `evidence_kind:` (observation, forecast or testimony)")
              for n, attrs in sorted(graph.nodes(data=True))
              if attrs.get("kind") == "evidence" and attrs.get("evidence_kind") is None]
    return found


def _warning(check, nodes, message, **extra):
    return {"check": check, "nodes": list(nodes), "message": message, **extra}


def double_counting(graph, *, max_length=DEFAULT_MAX_LENGTH):
    """Edges whose source also reaches their target through other nodes, with the same sign.

    A direct edge ``s -> t`` counts ``s`` twice when there is also a chain
    ``s -> m1 -> ... -> t`` of two to ``max_length`` edges, with distinct nodes, whose sign (a
    ``supports`` is +, an ``undermines`` is -, multiplied along the chain) equals the direct
    edge's: ``s`` then moves ``t`` the same way once directly and once through ``m1``, which
    already carries ``s``'s weight. A chain of the opposite sign is not reported (that is a
    tension, not a repetition). The edge is intended, and not reported, when its note says
    ``independent of ID`` for a node ID on the chain.

    One breadth-first search per node with two or more out-edges, over (node, sign) states, so
    the chain reported is a shortest one.

    Returns
    -------
    list of dict
        ``{check: "double-counting", nodes: [s, t], message, direct: [s, t], route: [s, ..., t]}``
        per edge, sorted by source then target.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> for s, t in [("e", "c"), ("c", "m"), ("e", "m")]:
    ...     _ = G.add_edge(s, t, key="supports", relation="supports", weight=1.0, note="")
    >>> [w["route"] for w in double_counting(G)]
    [['e', 'c', 'm']]
    """
    found = []
    for source in sorted(graph):
        direct = {t: (e["relation"], e.get("note") or "")
                  for _, t, e in graph.out_edges(source, data=True)}
        if len(direct) < 2:
            continue
        routes = _signed_routes(graph, source, max_length)
        for target, (relation, note) in sorted(direct.items()):
            route = routes.get((target, _SIGN[relation]))
            if route is None or set(route[1:-1]) & set(INTENDED_TWICE.findall(note)):
                continue
            chain = " -> ".join(route)
            found.append(_warning(
                "double-counting", [source, target],
                f"{source} -> {target}: counted twice, directly ({relation}) and through {chain}; "
                f"drop one route, or say 'independent of {route[1]}' in the edge's note",
                direct=[source, target], route=route))
    return found


_SIGN = {"supports": 1, "undermines": -1}


def _signed_routes(graph, source, max_length):
    """``{(node, sign): [source, ..., node]}``: a shortest chain of at least two edges, with
    distinct nodes, from ``source`` to each (node, sign) it reaches within ``max_length``."""
    first = [((t, _SIGN[e["relation"]]), [source, t]) for _, t, e in graph.out_edges(source, data=True)]
    queue, found = deque(first), {}
    while queue:
        (node, sign), route = queue.popleft()
        if len(route) > max_length:
            continue
        for _, nxt, edge in graph.out_edges(node, data=True):
            state = (nxt, sign * _SIGN[edge["relation"]])
            if nxt in route or state in found:
                continue
            found[state] = route + [nxt]
            queue.append((state, found[state]))
    return found


def _cites(note, ids):
    """Whether an edge note names a node, quotes something or cites a source (see LINT_CHECKS)."""
    if any(word in ids for word in _WORD.findall(note.lower())):
        return True
    # Cheap membership tests first: most notes hold no quote mark, parenthesis or address.
    if any(mark in note for mark in "\"“'‘") and _QUOTED.search(note):
        return True
    maybe_source = "(" in note or "://" in note or "arxiv" in note.lower() or _TLD.search(note)
    return bool(maybe_source and _SOURCE_REF.search(note))


def _uncited_notes(graph):
    ids = set(graph)
    found = []
    for source, target, edge in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1])):
        note = edge.get("note") or ""
        if not _cites(note, ids):
            what = "has no note" if not note.strip() else "note cites no node, quote or source"
            found.append(_warning("uncited-note", [source, target],
                                  f"{source} -> {target}: {what}"))
    return found


def _undated_claims(graph):
    found = []
    for node, attrs in sorted(graph.nodes(data=True)):
        if attrs.get("kind") != "claim" or attrs.get("date") is not None:
            continue
        dated = sorted((graph.nodes[s]["date"], s) for s in set(graph.predecessors(node))
                       if graph.nodes[s].get("date") is not None)
        if dated:
            day, first = dated[0]
            found.append(_warning(
                "undated-claim", [node],
                f"{node}: undated, but fed by dated nodes from {day.isoformat()} ({first}); "
                f"date it from when its argument was available, or it counts at every date",
                fed_by=[s for _, s in dated]))
    return found


def _reaching(step, targets):
    """The nodes with a path of at least one edge to (``step=graph.predecessors``) or from
    (``graph.successors``) some node of ``targets``: one search from all of them at once."""
    found = set()
    stack = [v for t in targets for v in step(t)]
    while stack:
        node = stack.pop()
        if node not in found:
            found.add(node)
            stack.extend(step(node))
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


# ---------------------------------------------------------------------------------------------
# The part of a graph that reaches some targets, and its variants (removal impacts, scans)
# ---------------------------------------------------------------------------------------------

def _upward_closure(system, targets):
    """Sorted indices of ``targets`` and every node that reaches one of them."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order

    n = system.n_nodes
    reverse = sp.csr_matrix((np.ones(system.n_edges), (system.dst, system.src)), shape=(n, n))
    keep = np.zeros(n, dtype=bool)
    for t in targets:
        keep[breadth_first_order(reverse, t, directed=True, return_predecessors=False)] = True
    return np.flatnonzero(keep)


class _Part:
    """The part of a scored graph that can influence some targets: they and the nodes that
    reach them. Nothing outside it changes their strengths, so every question about them is
    answered on it alone, by the engine (:class:`graph.solving.batch.Engine`) on its system.

    Attributes: ``ids``, ``index``, ``n_nodes``; ``keep`` (their positions in
    ``result.system``); ``system`` (the part's own, :meth:`graph.solving.propagation.System.restricted`);
    ``base`` (credences) and ``reference`` (strengths) from ``result``.
    """

    def __init__(self, result, targets):
        from graph.solving.batch import Engine

        self.result = result
        whole = result.system
        keep = self.keep = _upward_closure(whole, [whole.index[t] for t in targets])
        self.system = whole.restricted(keep, result.base)
        self.ids, self.index, self.n_nodes = self.system.ids, self.system.index, len(keep)
        self.base, self.reference = result.base[keep], result.vector[keep]
        self.engine = Engine(self.system)

    def credence_gradients(self, semantics, targets):
        """Per target, ``d strength[target] / d credence`` over the part (one factorisation of
        the adjoint system restricted to the part)."""
        from graph.solving.propagation import Sensitivity

        result, whole = self.result, self.result.system
        sensitivity = Sensitivity(whole, semantics, result.vector, result.base, nodes=self.keep)
        return [sensitivity.credence_gradient(whole.index[t])[self.keep] for t in targets]

    def batches(self, count):
        """Slices of ``range(count)`` small enough to solve as one batch of columns."""
        return self.engine.batches(count, self.n_nodes)

    def without(self, semantics, removed, tolerance):
        """Strengths (nodes x columns) with ``removed[c]`` left out in column ``c``, and
        per column whether it converged."""
        present = np.ones((self.n_nodes, len(removed)), dtype=bool)
        present[removed, np.arange(len(removed))] = False
        return self.engine.solve(semantics, present=present, reference=self.reference,
                                 tolerance=tolerance)

    def with_credences(self, semantics, nodes, values, tolerance):
        """Strengths (nodes x columns) with the credence of ``nodes[c]`` set to ``values[c]``
        in column ``c``, and per column whether it converged."""
        base = np.repeat(self.base[:, None], len(nodes), axis=1)
        base[nodes, np.arange(len(nodes))] = values
        return self.engine.solve(semantics, base=base, reference=self.reference,
                                 tolerance=tolerance)


# ---------------------------------------------------------------------------------------------
# Attributions: why a node is as strong as it is
# ---------------------------------------------------------------------------------------------

def _scored(graph, semantics, result, tolerance):
    """``result`` if given (it must be of this semantics), else a fresh score of ``graph``."""
    from graph.solving.propagation import score_graph

    if result is None:
        return score_graph(graph, semantics, tolerance=tolerance)
    if result.semantics != semantics:
        raise TakeoffError(f"the scores given are {result.semantics} scores, not {semantics}")
    return result


def removal_impacts(graph, target, semantics="qe", *, result=None, tolerance=1e-9):
    """The removal impact of every node that reaches ``target``.

    The impact of ``b`` is ``strength(target)`` minus ``strength(target)`` in the graph without
    ``b`` and its edges. All of them come from one batched solve of the part of the graph that
    reaches ``target`` (see :class:`graph.solving.batch.Engine`), not one solve per node.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
    target : str
    semantics : str
    result : ScoreResult, optional
        The scores of ``graph`` under ``semantics`` (computed if not given).
    tolerance : float
        Residual to reach on cyclic parts.

    Returns
    -------
    dict
        ``{id: (impact, strength of target without it, converged)}``.
    """
    _require_node(graph, target)
    result = _scored(graph, semantics, result, tolerance)
    return _removal_impacts(_Part(result, [target]), target, semantics, result.tolerance)


def _removal_impacts(part, target, semantics, tolerance):
    t = part.index[target]
    reference = part.reference
    # In topological order, so that each batch starts as late in the graph as it can.
    stage_of = part.system.stage_of
    others = np.array(sorted((i for i in range(part.n_nodes) if i != t),
                             key=lambda i: stage_of[i]), dtype=np.intp)
    impacts = {}
    for cols in part.batches(len(others)):
        removed = others[cols]
        S, converged = part.without(semantics, removed, tolerance)
        for i, without, ok in zip(removed, S[t], converged):
            impacts[part.ids[i]] = (float(reference[t] - without), float(without), bool(ok))
    return impacts


def removal_impacts_reference(graph, target, semantics="qe", *, tolerance=1e-9):
    """:func:`removal_impacts` the plain way: remove each node in turn and score the graph.

    One full :func:`graph.solving.propagation.score_graph` per node that reaches ``target``; the tests
    hold :func:`removal_impacts` to it.
    """
    import networkx as nx
    from graph.solving.propagation import score_graph

    _require_node(graph, target)
    present = score_graph(graph, semantics, tolerance=tolerance).strengths[target]
    impacts = {}
    for node in nx.ancestors(graph, target):
        smaller = graph.copy()
        smaller.remove_node(node)
        without = score_graph(smaller, semantics, tolerance=tolerance)
        impacts[node] = (present - without.strengths[target], without.strengths[target],
                         without.converged)
    return impacts


def credence_gradients(graph, target, semantics="qe", *, result=None, tolerance=1e-9):
    """``d strength[target] / d credence[b]`` for every node ``b`` that reaches ``target``.

    Exact at the fixed point: one adjoint solve (:class:`graph.solving.propagation.Sensitivity`).

    Returns
    -------
    dict
        ``{id: derivative}``, ``target`` itself excluded.
    """
    _require_node(graph, target)
    result = _scored(graph, semantics, result, tolerance)
    return _credence_gradients(_Part(result, [target]), target, semantics)


def _credence_gradients(part, target, semantics):
    (gradient,) = part.credence_gradients(semantics, [target])
    return {node: float(g) for node, g in zip(part.ids, gradient) if node != target}


def why(graph, target, semantics="qe", *, top=None, result=None, tolerance=1e-9):
    """Why ``target`` is as strong as it is: an attribution to every node that reaches it.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph.
    target : str
        The node to explain.
    semantics : str
        ``"qe"``, ``"dfquad"`` or ``"eb"``.
    top : int, optional
        Return only the ``top`` most influential nodes.
    result : ScoreResult, optional
        The scores of ``graph`` under ``semantics``; computed if not given.
    tolerance : float
        Residual to reach on cyclic parts of the graph.

    Returns
    -------
    list of dict
        One row per node that reaches ``target`` (``target`` itself excluded), most
        influential first (largest of ``|impact|`` and ``|gradient|``, then id):

        - ``id``, ``kind``, ``title``, ``credence``, ``strength``: the node;
        - ``impact``: ``strength(target)`` minus its strength with the node and its edges
          removed (positive: the node holds ``target`` up);
        - ``without``: ``strength(target)`` with the node removed;
        - ``gradient``: ``d strength(target) / d credence(node)``;
        - ``chain``: the strongest chain from the node to ``target`` (highest product of
          weights), as in :func:`paths`: ``nodes``, ``relations``, ``weights``, ``weight``,
          ``sign`` (``supports`` if it holds an even number of undermines edges), ``length``;
        - ``converged``: False if, without the node, a cyclic part did not converge (then
          ``impact`` is from the last state reached).

    Notes
    -----
    Both numbers are exact on acyclic graphs and taken at the fixed point on cyclic ones. The
    gradients come from one adjoint solve; the removal impacts from batched solves of the part
    of the graph that reaches ``target``, in which only the descendants of a removed node are
    recomputed (1 to 3 s for 10,000 nodes, see ``bench/bench_explain.py``).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("e", kind="evidence", title="E", credence=1.0)
    >>> G.add_node("m", kind="model", title="M", credence=0.5)
    >>> _ = G.add_edge("e", "m", key="supports", relation="supports", weight=1.0, note="")
    >>> row = why(G, "m")[0]
    >>> row["id"], row["impact"], row["gradient"]
    ('e', 0.25, 0.25)

    References
    ----------
    .. [1] removal-based and gradient-based attributions of argument strength, as surveyed in
       Yin, Potyka, Toni, Argument attribution explanations in quantitative bipolar
       argumentation frameworks, ECAI 2023.
    """
    count, rows = iter_why(graph, target, semantics, top=top, result=result, tolerance=tolerance)
    return list(rows)


def iter_why(graph, target, semantics="qe", *, top=None, result=None, tolerance=1e-9):
    """:func:`why` as ``(number of nodes that reach target, iterator of rows)``.

    The numbers of every node are computed first (they decide the order); each row, with its
    strongest chain, is only made when the iterator reaches it, so printing ``top`` rows
    costs time and memory for those rows only, and streaming all of them never holds more
    than one chain at a time.
    """
    _require_node(graph, target)
    if top is not None and top < 1:
        raise TakeoffError(f"top must be at least 1 (got {top})")
    result = _scored(graph, semantics, result, tolerance)
    part = _Part(result, [target])
    impacts = _removal_impacts(part, target, semantics, result.tolerance)
    gradients = _credence_gradients(part, target, semantics)
    order = sorted(impacts, key=lambda v: (-max(abs(impacts[v][0]), abs(gradients[v])), str(v)))
    count = len(order)
    order = order if top is None else order[:top]
    successor = _strongest_successors(graph, target)

    def rows():
        for node in order:
            impact, without, converged = impacts[node]
            yield {**_node_row(graph, node, result.strengths, result), "impact": impact,
                   "without": without, "gradient": gradients[node],
                   "chain": chain_from(successor, node), "converged": converged}

    return count, rows()


# ---------------------------------------------------------------------------------------------
# Cruxes: which credences decide whether A or B ranks higher
# ---------------------------------------------------------------------------------------------

# Each candidate's credence is scanned at 0, 0.05, ..., 1 (and its current value); a flip seen
# between two neighbouring points is then located by bisection to CRUX_RESOLUTION.
CRUX_GRID = np.linspace(0.0, 1.0, 21)
CRUX_RESOLUTION = 1e-7
# Candidates scanned per crux asked for: the gradient ranks them, the scan decides.
CRUX_CANDIDATES_PER_TOP = 3


def cruxes(graph, a, b, semantics="qe", *, top=5, result=None, tolerance=1e-9):
    """The nodes whose credence most changes the gap ``strength(a) - strength(b)``.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph.
    a, b : str
        Two different nodes (typically two models).
    semantics : str
        ``"qe"``, ``"dfquad"`` or ``"eb"``.
    top : int
        How many cruxes to return.
    result : ScoreResult, optional
        The scores of ``graph`` under ``semantics``; computed if not given.
    tolerance : float
        Residual to reach on cyclic parts of the graph.

    Returns
    -------
    list of dict
        Per crux, the most decisive first (widest ``gap_range``, then largest ``|gradient|``):

        - ``id``, ``kind``, ``title``, ``credence``, ``strength``: the node;
        - ``gradient``: ``d gap / d credence`` at the current credences;
        - ``gap_at_0``, ``gap_at_1``: the gap with the node's credence set to 0 and to 1;
        - ``gap_range``: ``[min, max]`` of the gap over the credences scanned;
        - ``flip``: a credence in [0, 1] at which the other node ranks higher (the one nearest
          the current credence, rounded to 3 decimals when the rounded value still flips), or
          None if no credence scanned flips the ranking;
        - ``converged``: False if some variant's cyclic part did not converge.

    Notes
    -----
    Candidates are the nodes that reach ``a`` or ``b`` (``a`` and ``b`` themselves excluded).
    The gradient of the gap (two adjoint solves, :class:`graph.solving.propagation.Sensitivity`) picks
    the ``3 * top`` most sensitive; each one's credence is then scanned at 0, 0.05, ..., 1 and
    wherever the ranking flips between neighbouring points, the flip is located by bisection to
    1e-7 (all candidates solved together by :class:`graph.solving.batch.Engine`). The gap may be
    non-monotone in a credence, so a flip narrower than the grid step can go unseen. "Flips"
    means: ``a`` ranks strictly lower if it now ranks higher or ties, and strictly higher if it
    now ranks lower.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> for node, credence in (("e", 0.8), ("m1", 0.5), ("m2", 0.5)):
    ...     G.add_node(node, kind="model" if node[0] == "m" else "evidence", title=node,
    ...                credence=credence)
    >>> _ = G.add_edge("e", "m1", key="supports", relation="supports", weight=1.0, note="")
    >>> _ = G.add_edge("e", "m2", key="undermines", relation="undermines", weight=1.0, note="")
    >>> [(c["id"], c["flip"]) for c in cruxes(G, "m1", "m2")]
    [('e', None)]
    """
    _check_pair(graph, a, b, top)
    result = _scored(graph, semantics, result, tolerance)
    part = _Part(result, [a, b])
    ia, ib = part.index[a], part.index[b]
    grad_a, grad_b = part.credence_gradients(semantics, [a, b])
    gradient = grad_a - grad_b
    candidates = _crux_candidates(part, gradient, (ia, ib), CRUX_CANDIDATES_PER_TOP * top)
    if not len(candidates):
        return []
    search = _CruxSearch(part, semantics, result.tolerance, ia, ib,
                         part.reference[ia] - part.reference[ib])
    scan = search.scan(candidates, part.base[candidates])
    flips = search.flips(candidates, part.base[candidates], scan)
    rows = [_crux_row(graph, result, part.ids[i], gradient[i], scan, flips, j)
            for j, i in enumerate(candidates)]
    rows.sort(key=lambda r: (r["gap_range"][0] - r["gap_range"][1], -abs(r["gradient"]), r["id"]))
    return rows[:top]


def _check_pair(graph, a, b, top):
    """Refuse, with a message, an unknown node, the same node twice, or ``top`` below 1."""
    _require_node(graph, a)
    _require_node(graph, b)
    if a == b:
        raise TakeoffError(f"the two nodes are the same ({quote(a)}); give two different ids")
    if top < 1:
        raise TakeoffError(f"top must be at least 1 (got {top})")


def _crux_candidates(part, gradient, pair, count):
    """The ``count`` indices of ``part`` (the pair excluded) whose credence moves the gap
    most by ``gradient``, then by id."""
    candidates = sorted((i for i in range(part.n_nodes) if i not in pair),
                        key=lambda i: (-abs(gradient[i]), part.ids[i]))
    return np.array(candidates[:count], dtype=np.intp)


def _crux_row(graph, result, node, gradient, scan, flips, j):
    """The row of :func:`cruxes` for ``node``, the ``j``-th candidate of ``scan`` and ``flips``."""
    gaps, ok = scan["gaps"][j], scan["converged"][j] and flips["converged"][j]
    return {**_node_row(graph, node, result.strengths, result),
            "gradient": float(gradient),
            "gap_at_0": float(scan["at_0"][j]), "gap_at_1": float(scan["at_1"][j]),
            "gap_range": [float(gaps.min()), float(gaps.max())],
            "flip": flips["flip"][j], "converged": bool(ok)}


class _CruxSearch:
    """Scans and bisections over single credences, all candidates solved together."""

    def __init__(self, part, semantics, tolerance, ia, ib, gap):
        self.part, self.semantics, self.tolerance = part, semantics, tolerance
        self.ia, self.ib, self.gap = ia, ib, gap

    def flipped(self, gaps):
        """Whether ``gaps`` rank the pair the other way round from now."""
        return gaps < 0 if self.gap >= 0 else gaps > 0

    def gaps(self, nodes, values):
        """The gap with ``nodes[j]``'s credence set to ``values[j]``, per j; and convergence."""
        out, converged = np.empty(len(nodes)), np.empty(len(nodes), dtype=bool)
        for cols in self.part.batches(len(nodes)):
            S, ok = self.part.with_credences(self.semantics, nodes[cols], values[cols],
                                             self.tolerance)
            out[cols], converged[cols] = S[self.ia] - S[self.ib], ok
        return out, converged

    def scan(self, candidates, current):
        """The gap at every grid credence and at the current one (the last column)."""
        points = np.column_stack([np.tile(CRUX_GRID, (len(candidates), 1)), current])
        gaps, ok = self.gaps(np.repeat(candidates, points.shape[1]), points.ravel())
        gaps = gaps.reshape(points.shape)
        # The current credence gives the current gap; pin it so rounding cannot make the
        # starting point of the search look flipped when the gap is 0.
        gaps[:, -1] = self.gap
        return {"points": points, "gaps": gaps, "at_0": gaps[:, 0],
                "at_1": gaps[:, len(CRUX_GRID) - 1],
                "converged": ok.reshape(points.shape).all(axis=1)}

    def flips(self, candidates, current, scan):
        """Per candidate: the flipping credence nearest its current one (or None)."""
        inside, outside = [], []
        for points, gaps, c in zip(scan["points"], scan["gaps"], current):
            bracket = self._bracket(points, gaps, c)
            inside.append(bracket[0] if bracket else np.nan)
            outside.append(bracket[1] if bracket else np.nan)
        lo, hi = np.array(inside), np.array(outside)
        searching = np.flatnonzero(~np.isnan(hi))
        converged = np.ones(len(candidates), dtype=bool)
        while len(searching) and np.abs(hi - lo)[searching].max() > CRUX_RESOLUTION:
            mid = 0.5 * (lo[searching] + hi[searching])
            gaps, ok = self.gaps(candidates[searching], mid)
            converged[searching] &= ok
            flip = self.flipped(gaps)
            hi[searching[flip]], lo[searching[~flip]] = mid[flip], mid[~flip]
        flip = [None] * len(candidates)
        if len(searching):
            rounded = np.where(hi[searching] > lo[searching], np.ceil(hi[searching] * 1000),
                               np.floor(hi[searching] * 1000)) / 1000
            rounded = np.clip(rounded, 0.0, 1.0)
            gaps, _ = self.gaps(candidates[searching], rounded)
            for j, r, g in zip(searching, rounded, gaps):
                flip[j] = float(r) if self.flipped(g) else float(hi[j])
        return {"flip": flip, "converged": converged}

    def _bracket(self, points, gaps, current):
        """(credence that does not flip, neighbouring credence that does), nearest ``current``,
        or None if no scanned credence flips."""
        order = np.argsort(points, kind="stable")
        points, gaps = points[order], gaps[order]
        start = int(np.flatnonzero(points == current)[-1])
        best = None
        for step in (-1, 1):
            j = start
            while 0 <= j + step < len(points) and not self.flipped(gaps[j + step]):
                j += step
            if 0 <= j + step < len(points):
                candidate = (points[j], points[j + step])
                if best is None or abs(candidate[1] - current) < abs(best[1] - current):
                    best = candidate
        return best
