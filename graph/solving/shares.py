"""Every strength split into its parts: the credence it starts from, what reasoning adds, and
what evidence adds, by kind (docs/evidence.md).

The parts are exact Shapley values of a game over a few **groups** of nodes:

- ``reasoning``: the models, claims and arguments;
- ``observation``, ``forecast``, ``testimony``: the evidence of each kind;
- ``unkinded``: evidence that does not say its kind.

A coalition is a set of groups that are *switched on*; a group that is *switched off* keeps its
nodes but loses their outgoing edges (their weights are 0, so they add nothing to any
aggregate), so it no longer moves any other node. The value of a coalition for a node is the
node's strength with only those groups switched on. With every group off no edge is left and
every strength is its credence (under qe, dfquad and eb alike), so the base part is the
credence and, by the efficiency of Shapley values, ``base + sum of the group shares`` is the
strength. All ``2^k`` coalitions (``k`` the groups with at least one edge, at most 5: 32
columns) are solved as one batch, for every node at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations
from math import factorial

import numpy as np

from graph.core.model import DEFAULT_CREDENCE

GROUPS = ("reasoning", "observation", "forecast", "testimony", "unkinded")
EVIDENCE_GROUPS = GROUPS[1:]
# What the terminal and JSON call the sum of the evidence groups' shares.
EVIDENCE = "evidence"


def node_group(attrs):
    """The group of a node's attributes: ``reasoning`` or its evidence kind."""
    if attrs.get("kind") != "evidence":
        return "reasoning"
    return attrs.get("evidence_kind") or "unkinded"


def solve_batch(system, semantics, base, weights, tolerance):
    """Strengths for many columns of credences and weights: the one place this module calls the
    batched solver (see :func:`graph.solving.batch.solve_columns`); returns ``(S, converged)``."""
    from graph.solving.batch import solve_columns

    return solve_columns(system, semantics, base=base, weights=weights, tolerance=tolerance)


def shapley_matrix(k):
    """``M`` of shape ``(2**k, k)``: for values ``v`` over the coalitions (bit ``i`` of a
    column's index: player ``i`` is on), ``v @ M`` are the players' Shapley values.

    >>> shapley_matrix(2).tolist()   # v(0), v({0}), v({1}), v({0, 1})
    [[-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5], [0.5, 0.5]]
    """
    M = np.zeros((2 ** k, k))
    weight = [factorial(s) * factorial(k - s - 1) / factorial(k) for s in range(k)]
    for mask in range(2 ** k):
        size = bin(mask).count("1")
        for i in range(k):
            if not mask >> i & 1:
                M[mask | 1 << i, i] += weight[size]
                M[mask, i] -= weight[size]
    return M


def coalition_weights(weights, edge_player, k):
    """Edge weights of every coalition for each column of ``weights`` (``(n_edges, d)``):
    ``(n_edges, d * 2**k)``, column ``j * 2**k + mask`` being column ``j`` with the edges of
    the players not in ``mask`` at 0. ``edge_player[e]`` is the player of edge ``e``'s source."""
    masks = np.arange(2 ** k)
    on = (masks[None, :] >> edge_player[:, None]) & 1          # (n_edges, 2**k)
    return (weights[:, :, None] * on[:, None, :]).reshape(len(edge_player), weights.shape[1] * 2 ** k)


@dataclass
class Players:
    """The groups that play (those whose nodes have an outgoing edge) and each edge's player."""

    groups: list
    edge_player: np.ndarray

    @classmethod
    def of(cls, graph, system):
        node_groups = np.array([GROUPS.index(node_group(graph.nodes[n])) for n in system.ids],
                               dtype=np.intp)
        edge_groups = node_groups[system.src] if system.n_edges else np.zeros(0, dtype=np.intp)
        present = sorted(set(edge_groups.tolist()))
        position = {g: i for i, g in enumerate(present)}
        return cls([GROUPS[g] for g in present],
                   np.array([position[g] for g in edge_groups.tolist()], dtype=np.intp))

    @property
    def k(self):
        return len(self.groups)


def split_columns(system, players, semantics, base, weights, *, tolerance=1e-9):
    """The parts of every node's strength in each column of ``base`` / ``weights``.

    Parameters
    ----------
    system : graph.solving.propagation.System
    players : Players
    semantics : str
    base : numpy.ndarray, shape (n_nodes, d)
    weights : numpy.ndarray, shape (n_edges, d)

    Returns
    -------
    strength : numpy.ndarray, shape (n_nodes, d)
        With every group on.
    parts : numpy.ndarray, shape (n_nodes, d, k)
        The Shapley value of each player (in ``players.groups`` order).
    converged : bool
    """
    k, d = players.k, base.shape[1]
    columns = 2 ** k
    S, ok = solve_batch(system, semantics, np.repeat(base, columns, axis=1),
                        coalition_weights(weights, players.edge_player, k), tolerance)
    values = S.reshape(system.n_nodes, d, columns)
    return values[:, :, -1], values @ shapley_matrix(k), bool(np.all(ok))


@dataclass
class Shares:
    """The parts of every node's strength (see the module's docstring).

    Attributes
    ----------
    ids : list
    semantics : str
    base, strength : numpy.ndarray, shape (n_nodes,)
    parts : dict
        ``{group: numpy.ndarray (n_nodes,)}`` for every group of :data:`GROUPS` (0 for the
        groups without edges).
    converged : bool
    """

    ids: list
    semantics: str
    base: np.ndarray
    strength: np.ndarray
    parts: dict
    converged: bool

    def row(self, node):
        """``{"base", "reasoning", ..., "unkinded", "evidence", "strength"}`` of one node."""
        i = self._index[node]
        out = {"base": float(self.base[i])}
        out.update({g: float(self.parts[g][i]) for g in GROUPS})
        out[EVIDENCE] = float(sum(self.parts[g][i] for g in EVIDENCE_GROUPS))
        out["strength"] = float(self.strength[i])
        return out

    def __post_init__(self):
        self._index = {n: i for i, n in enumerate(self.ids)}

    def to_json(self, nodes=None):
        """``{node: row}`` for ``nodes`` (default: every node)."""
        return {n: self.row(n) for n in (self.ids if nodes is None else nodes)}


def strength_shares(graph, semantics="qe", *, tolerance=1e-9):
    """The parts of every node's strength: base, reasoning and each kind of evidence.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph (filter it first with :func:`graph.files.provenance.filter_graph` to split the
        strengths of a filtered map).
    semantics : str
    tolerance : float
        Of each solve, as in :func:`graph.solving.propagation.solve`.

    Returns
    -------
    Shares

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("m", kind="model", credence=0.5)
    >>> G.add_node("e", kind="evidence", evidence_kind="observation", credence=1.0)
    >>> _ = G.add_edge("e", "m", key="supports", relation="supports", weight=1.0)
    >>> row = strength_shares(G).row("m")
    >>> row["base"], row["observation"], row["strength"]
    (0.5, 0.25, 0.75)
    """
    from graph.solving.propagation import build_system

    system = build_system(graph)
    players = Players.of(graph, system)
    strength, parts, ok = split_columns(system, players, semantics, system.base[:, None],
                                        system.weight[:, None], tolerance=tolerance)
    zero = np.zeros(system.n_nodes)
    by_group = {g: (parts[:, 0, players.groups.index(g)] if g in players.groups else zero)
                for g in GROUPS}
    return Shares(list(system.ids), semantics, system.base.copy(), strength[:, 0], by_group, ok)


def shapley_reference(graph, node, semantics="qe"):
    """The same parts for one node by brute force: one :func:`graph.solving.propagation.score_graph`
    per coalition, on a copy of the graph without the switched-off groups' outgoing edges, and
    the Shapley formula over permutations. For tests; exponential in the number of groups."""
    from graph.solving.propagation import score_graph

    groups = sorted({node_group(graph.nodes[s]) for s, _ in graph.edges()}, key=GROUPS.index)
    cache = {}

    def value(on):
        if on not in cache:
            G = graph.copy()
            G.remove_edges_from([(s, t, key) for s, t, key in graph.edges(keys=True)
                                 if node_group(graph.nodes[s]) not in on])
            cache[on] = score_graph(G, semantics, tolerance=1e-12).strengths[node]
        return cache[on]

    totals = dict.fromkeys(groups, 0.0)
    orders = list(permutations(groups))
    for order in orders:
        on = frozenset()
        for group in order:
            totals[group] += value(on | {group}) - value(on)
            on = on | {group}
    return {"base": graph.nodes[node].get("credence", DEFAULT_CREDENCE),
            **{g: totals.get(g, 0.0) / len(orders) for g in GROUPS}}


def _chunks(count, height):
    """Column ranges for batches whose work arrays stay near :data:`BATCH_FLOATS` floats."""
    size = max(1, BATCH_FLOATS // max(height, 1))
    return [range(i, min(i + size, count)) for i in range(0, count, size)]


# Columns per batched solve: bounds the (nodes + edges) x columns work arrays to ~64 MB.
BATCH_FLOATS = 8_000_000


def share_history(graph, dates, semantics="qe", *, nodes, tolerance=1e-9):
    """The parts of the strengths of ``nodes`` as of each day of ``dates``.

    A node dated after the day is switched off for good (its edges weigh 0, the same as leaving
    it out: see :func:`graph.solving.timeline.history`), so every (day, coalition) pair is one column
    of a batch (:func:`share_samples`).

    Returns
    -------
    dict
        ``{id: {part: [float, or None while the node is not in the corpus]}}``, parts being
        ``base``, each group of :data:`GROUPS` and ``evidence`` (their evidence sum).
    """
    from graph.solving.propagation import build_system

    system = build_system(graph)
    players = Players.of(graph, system)
    days = [graph.nodes[n].get("date") for n in system.ids]
    present = np.array([[day is None or day <= when for day in days] for when in dates],
                       dtype=bool).reshape(len(dates), system.n_nodes).T        # (n_nodes, d)
    edge_on = present[system.src] & present[system.dst]
    weights = np.where(edge_on, system.weight[:, None], 0.0)
    base = np.repeat(system.base[:, None], len(dates), axis=1)
    indices = [system.index[node] for node in nodes]
    parts, _ = share_samples(system, players, semantics, base, weights, indices,
                             tolerance=tolerance)
    out = {}
    for r, (node, i) in enumerate(zip(nodes, indices)):
        rows = {"base": [], **{g: [] for g in GROUPS}, EVIDENCE: []}
        for j in range(len(dates)):
            here = bool(present[i, j])
            rows["base"].append(float(system.base[i]) if here else None)
            for g in GROUPS:
                value = float(parts[r, j, players.groups.index(g)]) if g in players.groups else 0.0
                rows[g].append(value if here else None)
            rows[EVIDENCE].append(sum(rows[g][-1] for g in EVIDENCE_GROUPS) if here else None)
        out[node] = rows
    return out


def share_samples(system, players, semantics, base, weights, rows, *, tolerance=1e-9):
    """The parts of the strengths of ``rows`` (node indices) in every sampled column of
    ``base`` / ``weights``: ``(len(rows), samples, k)``, solved in batches of bounded size."""
    columns = 2 ** players.k
    samples = base.shape[1]
    out = np.empty((len(rows), samples, players.k))
    ok = True
    for chunk in _chunks(samples, (system.n_nodes + system.n_edges) * columns):
        cols = np.arange(chunk.start, chunk.stop)
        _, parts, converged = split_columns(system, players, semantics, base[:, cols],
                                            weights[:, cols], tolerance=tolerance)
        out[:, cols] = parts[rows]
        ok &= converged
    return out, ok


def evidence_effects(graph, semantics="qe", *, since=None, exact_limit=8, tolerance=1e-9):
    """What each evidence item does to the ranking of the models.

    Each item's contribution to a model is the model's strength with every item minus its
    strength with that item switched off (its outgoing edges at 0): **leave-one-out**. With at
    most ``exact_limit`` items the contributions are instead their exact Shapley values over
    the items (every other node stays on), which add up to what the items add together. The
    ``method`` says which. The contribution to the **gap** is the contribution to the first
    model minus that to the second (by strength).

    Parameters
    ----------
    graph : networkx.MultiDiGraph
    semantics : str
    since : datetime.date, optional
        Only the items dated after this day. ``together`` is what the listed items add jointly
        (every strength minus the strength with all of them switched off).
    exact_limit : int
    tolerance : float

    Returns
    -------
    dict
        ``{"semantics", "method": "shapley"|"leave-one-out", "since", "models": [{"id",
        "strength"}] (by strength), "top": [first, second] ids, "gap": float,
        "items": [{"id", "title", "date", "evidence_kind", "contributions": {model: float},
        "gap": float}] (by the size of their largest effect), "together": {"contributions",
        "gap"}, "converged": bool}``. An item's ``contributions`` name only the models it
        reaches by a chain of edges (by strength); it cannot move the others.
    """
    from graph.solving.propagation import build_system

    system = build_system(graph)
    models = np.array([i for i, n in enumerate(system.ids) if graph.nodes[n].get("kind") == "model"],
                      dtype=np.intp)
    items = np.array([i for i, n in enumerate(system.ids) if graph.nodes[n].get("kind") == "evidence"
                      and (since is None or (graph.nodes[n].get("date") is not None
                                             and graph.nodes[n]["date"] > since))], dtype=np.intp)
    reached, cyclic = _reach(graph, system, items, models)
    if len(items) <= exact_limit:
        full, none, effects, converged = _item_shapley(system, semantics, items, models, tolerance)
    else:
        full, none, effects, converged = _leave_one_out(system, semantics, items, models, cyclic,
                                                        tolerance)
    return _effects_data(graph, system, semantics, since, models, items, full, none, effects,
                         converged, "shapley" if len(items) <= exact_limit else "leave-one-out",
                         reached)


def _reach(graph, system, items, models):
    """For each item, the rows of ``models`` it reaches by a chain of edges (the only models it
    can move), and whether it reaches a node on a cycle: one pass over the solver's stages (in
    topological order; a cyclic stage is passed over until nothing changes), with the items
    that reach each node as the bits of an int."""
    reach = [0] * system.n_nodes
    for j, node in enumerate(items.tolist()):
        reach[node] |= 1 << j
    stage_of = np.empty(system.n_nodes, dtype=np.intp)
    for k, block in enumerate(system.stages):
        stage_of[block.nodes] = k
    into = stage_of[system.dst]
    order = np.argsort(into, kind="stable")
    bounds = np.searchsorted(into[order], np.arange(len(system.stages) + 1))
    src, dst = system.src[order].tolist(), system.dst[order].tolist()
    for k, block in enumerate(system.stages):
        edges = range(bounds[k], bounds[k + 1])
        changed = True
        while changed:
            changed = False
            for e in edges:
                before = reach[dst[e]]
                reach[dst[e]] = before | reach[src[e]]
                changed |= block.cyclic and reach[dst[e]] != before
    reached = [[] for _ in items]
    for row, model in enumerate(models.tolist()):
        for j in _bits(reach[model]):
            reached[j].append(row)
    into_cycles = 0
    for node in np.flatnonzero(system.cyclic).tolist():
        into_cycles |= reach[node]
    cyclic = np.zeros(len(items), dtype=bool)
    cyclic[list(_bits(into_cycles))] = True
    return reached, cyclic


def _bits(number):
    """The positions of the set bits of an int."""
    while number:
        low = number & -number
        yield low.bit_length() - 1
        number ^= low


def _off_columns(system, items, columns, off):
    """Edge weights with, in column ``c``, the edges of the items ``off(c)`` at 0 (``off``:
    ``"each"``, item ``c`` in column ``c``; ``"all"``, every item in the one column; or a
    function of ``c`` giving item positions)."""
    weights = np.repeat(system.weight[:, None], columns, axis=1)
    position = np.full(system.n_nodes, -1)
    position[items] = np.arange(len(items))
    item_of_edge = position[system.src]
    edges = np.flatnonzero(item_of_edge >= 0)
    if off == "each":
        weights[edges, item_of_edge[edges]] = 0.0
    elif off == "all":
        weights[edges, 0] = 0.0
    else:
        for c in range(columns):
            weights[edges[np.isin(item_of_edge[edges], list(off(c)))], c] = 0.0
    return weights


def _item_shapley(system, semantics, items, models, tolerance):
    """Exact Shapley values of few items: every subset of them switched on, one batch."""
    k = len(items)
    weights = _off_columns(system, items, 2 ** k,
                           lambda mask: [j for j in range(k) if not mask >> j & 1])
    S, ok = solve_batch(system, semantics, np.repeat(system.base[:, None], 2 ** k, axis=1),
                        weights, tolerance)
    S = S[models]
    return S[:, -1], S[:, 0], S @ shapley_matrix(k), bool(np.all(ok))


# Items switched off together in one batch of leave-one-out columns: the items that reach no
# cycle (whose subsystems are solved in one pass: the work grows with the group), and those that
# do (where each batch integrates the cycles again: fewer, larger batches) (bench/bench_evidence.py).
GROUP, CYCLIC_GROUP = 64, 512


def _leave_one_out(system, semantics, items, models, cyclic, tolerance):
    """Each item's leave-one-out effect on the models, solving only what it can change.

    The whole system is solved once. Then, for a group of items, only their descendants can
    change: they are solved as a subsystem whose other parents pass on what they pass on in the
    whole solve (:func:`_subsystem`), one column per item of the group with that item's edges
    at 0 (and once with every item at 0, for ``together``). The equations of the descendants
    are those of the whole system, so the values are the same; the work is the descendants',
    not the whole corpus's, per item. The items that reach a cycle are grouped
    apart (``cyclic``): the others' subsystems are acyclic and solved in one pass.
    """
    full, ok = solve_batch(system, semantics, system.base[:, None], system.weight[:, None],
                           tolerance)
    full = full[:, 0]
    converged = bool(np.all(ok))
    is_model = np.zeros(system.n_nodes, dtype=bool)
    is_model[models] = True
    row_of_model = np.full(system.n_nodes, -1)
    row_of_model[models] = np.arange(len(models))
    effects = np.zeros((len(models), len(items)))
    none = full[models].copy()
    reached, values, ok_all = _switched_off(system, semantics, items, full, is_model, tolerance,
                                            each=False)
    none[row_of_model[reached]] = values[:, 0]
    converged &= ok_all
    for members, size in ((np.flatnonzero(~cyclic), GROUP), (np.flatnonzero(cyclic), CYCLIC_GROUP)):
        for start in range(0, len(members), size):
            positions = members[start:start + size]
            reached, values, ok_group = _switched_off(system, semantics, items[positions], full,
                                                      is_model, tolerance, each=True)
            effects[np.ix_(row_of_model[reached], positions)] = full[reached][:, None] - values
            converged &= ok_group
    return full[models], none, effects, converged


def _descendants(system, sources):
    """Boolean mask of the nodes reachable from ``sources`` (``sources`` included)."""
    seen = np.zeros(system.n_nodes, dtype=bool)
    frontier = np.zeros(system.n_nodes, dtype=bool)
    frontier[sources] = True
    while frontier.any():
        seen |= frontier
        reached = np.zeros(system.n_nodes, dtype=bool)
        reached[system.dst[frontier[system.src]]] = True
        frontier = reached & ~seen
    return seen


def _subsystem(system, semantics, group, full):
    """The descendants of ``group`` as a system of their own: (System, their indices in
    ``system``, sorted; local node ``i`` is ``nodes[i]``).

    A parent outside the descendants keeps its strength in ``full`` whatever the group does, so
    what all such parents of a node pass on through one relation is a constant. It enters as
    edges from one extra node of credence 1 (no parents, so strength 1): for a sum aggregation
    (qe, eb) edges whose weights add up to the sum of ``weight x strength`` (at most 1 each),
    for the product aggregation (dfquad) one edge of weight ``1 - prod(1 - weight x strength)``.
    The descendants' equations are unchanged, so are their strengths.
    """
    from graph.solving.propagation import System, get_semantics

    inside = _descendants(system, group)
    nodes = np.flatnonzero(inside)
    local = np.full(system.n_nodes, -1)
    local[nodes] = np.arange(len(nodes))
    into = np.flatnonzero(inside[system.dst])
    live = into[inside[system.src[into]]]
    fixed = into[~inside[system.src[into]]]
    passed = system.weight[fixed] * full[system.src[fixed]]
    key = system.dst[fixed] * 2 + system.relation[fixed]
    keys, which = np.unique(key, return_inverse=True)
    if get_semantics(semantics).aggregation.name == "sum":
        total = np.bincount(which, weights=passed, minlength=len(keys))
        pieces = np.maximum(np.ceil(total), 1).astype(np.intp)
        keys, weight = np.repeat(keys, pieces), np.repeat(total / pieces, pieces)
    else:
        kept = np.ones(len(keys))
        np.multiply.at(kept, which, 1.0 - passed)
        weight = 1.0 - kept
    keys, weight = keys[weight > 0], np.clip(weight[weight > 0], 0.0, 1.0)
    one = len(nodes)   # the extra node
    src = np.concatenate([local[system.src[live]], np.full(len(keys), one)])
    dst = np.concatenate([local[system.dst[live]], local[keys // 2]])
    relation = np.concatenate([system.relation[live], (keys % 2).astype(system.relation.dtype)])
    # Local indices are the ids: the caller maps them back through ``nodes``.
    edges = list(zip(src.tolist(), dst.tolist(), relation.tolist()))
    sub = System(list(range(one + 1)), np.append(system.base[nodes], 1.0), src.astype(np.intp),
                 dst.astype(np.intp), relation, np.concatenate([system.weight[live], weight]), edges)
    return sub, nodes


def _switched_off(system, semantics, group, full, is_model, tolerance, *, each):
    """The strengths of the models ``group`` reaches with, per column, one item of the group
    switched off (``each``) or all of them (one column): (model indices, values (models x
    columns), converged)."""
    sub, nodes = _subsystem(system, semantics, group, full)
    at = np.flatnonzero(is_model[nodes])
    local = np.searchsorted(nodes, group)
    columns = len(group) if each else 1
    weights = _off_columns(sub, local, columns, "each" if each else "all")
    S, ok = solve_batch(sub, semantics, np.repeat(sub.base[:, None], columns, axis=1), weights,
                        tolerance)
    return nodes[at], S[at], bool(np.all(ok))


def _effects_data(graph, system, semantics, since, models, items, full, none, effects, converged,
                  method, reached):
    order = np.argsort(-full, kind="stable")
    ranked = [system.ids[models[i]] for i in order]
    first, second = (order[0], order[1]) if len(order) > 1 else (None, None)

    def gap(values):
        return float(values[first] - values[second]) if second is not None else None

    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    rows = []
    for j, node in enumerate(items):
        attrs = graph.nodes[system.ids[node]]
        rows_reached = sorted(reached[j], key=lambda i: rank[i])
        effect = np.zeros(len(models))
        effect[rows_reached] = effects[rows_reached, j]   # 0 exactly where it cannot reach
        rows.append({"id": system.ids[node], "title": attrs.get("title"),
                     "date": attrs["date"].isoformat() if attrs.get("date") else None,
                     "evidence_kind": attrs.get("evidence_kind"),
                     "contributions": {system.ids[models[i]]: float(effect[i]) for i in rows_reached},
                     "gap": gap(effect), "largest": float(np.abs(effect).max(initial=0.0))})
    rows.sort(key=lambda r: (-r.pop("largest"), r["id"]))
    return {"semantics": semantics, "method": method,
            "since": since.isoformat() if since else None,
            "models": [{"id": system.ids[models[i]], "strength": float(full[i])} for i in order],
            "top": ranked[:2], "gap": gap(full), "items": rows,
            "together": {"contributions": {system.ids[models[i]]: float(full[i] - none[i])
                                           for i in order}, "gap": gap(full - none)},
            "converged": converged}


def share_intervals(graph, system, semantics, choice, base, weights, rows, *, tolerance=1e-9):
    """Each part of the strengths of ``rows`` over the samples of ``takeoff robustness``:
    ``{id: {part: {"mean", "low", "high"}}}`` (5% and 95% quantiles), parts being ``base``,
    each group of :data:`GROUPS` with an edge and ``evidence``. Column ``c`` of ``base`` / ``weights`` is
    solved under ``semantics[choice[c]]``."""
    players = Players.of(graph, system)
    samples = base.shape[1]
    parts = np.zeros((len(rows), samples, players.k))
    for k, name in enumerate(semantics):
        cols = np.flatnonzero(choice == k)
        if len(cols):
            parts[:, cols], _ = share_samples(system, players, name, base[:, cols],
                                              weights[:, cols], rows, tolerance=tolerance)
    evidence = [j for j, g in enumerate(players.groups) if g in EVIDENCE_GROUPS]
    out = {}
    for i, node in enumerate(rows):
        series = {"base": base[node], **{g: parts[i, :, j] for j, g in enumerate(players.groups)}}
        series[EVIDENCE] = parts[i][:, evidence].sum(axis=1)
        out[system.ids[node]] = {
            part: {"mean": float(v.mean()), "low": float(np.quantile(v, 0.05)),
                   "high": float(np.quantile(v, 0.95))} for part, v in series.items()}
    return out
