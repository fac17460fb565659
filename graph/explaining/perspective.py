"""Perspectives compared: a corpus scored through a perspective, and two perspectives side by
side with each model's difference attributed to the overrides on which they differ.

What a perspective is, and how its file is read and checked, is :mod:`graph.files.perspectives`;
how one is changed, :mod:`graph.files.perspective_edit`.

:func:`compare` scores two perspectives and attributes each model's difference to the
overrides on which they differ, with Shapley values: the average change the override makes
when switched from the first perspective's value to the second's, over every order of switching
(exact when at most ``exact_limit`` overrides differ, else estimated from random orders).
:func:`shapley_reference` is the textbook sum over all orders, held to :func:`shapley` in the
tests.
"""
from __future__ import annotations

import dataclasses
import itertools
import math

from graph.files.perspectives import Perspective, base_value, item_label, load_perspective
from graph.solving.timeline import as_of_graph

EXACT_LIMIT = 12  # 2**12 solves take about a second on the bundled corpus
SAMPLES = 200


# ---- applying ----------------------------------------------------------------------------

def apply_perspective(graph, perspective):
    """A copy of ``graph`` with the perspective's credences and edge weights in place.

    Overrides of nodes or edges that ``graph`` lacks (e.g. left out by ``--as-of``) are
    skipped. The base perspective returns ``graph`` itself.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph; it is not modified.
    perspective : Perspective

    Returns
    -------
    networkx.MultiDiGraph
    """
    if not perspective.credences and not perspective.weights:
        return graph
    out = graph.copy()
    # An override is a point: it replaces the file's distribution too (see graph/core/uncertainty.py).
    for node, value in perspective.credences.items():
        if node in out:
            out.nodes[node]["credence"] = value
            out.nodes[node].pop("credence_dist", None)
    for (source, target), value in perspective.weights.items():
        if out.has_edge(source, target):
            for attrs in out[source][target].values():
                attrs["weight"] = value
                attrs.pop("weight_dist", None)
    return out


def scope(corpus, *, as_of=None, perspective=None):
    """``corpus`` seen through a perspective and as of a date: what ``--perspective`` and
    ``--as-of`` give every command.

    Parameters
    ----------
    corpus : graph.files.corpus.Corpus
    as_of : datetime.date, optional
        Leave out the nodes dated after this day (see :func:`graph.solving.timeline.as_of_graph`).
    perspective : str or Perspective, optional
        A perspective name (or ``"base"``) or a loaded perspective.

    Returns
    -------
    graph.files.corpus.Corpus
        A corpus with the same root and problems whose graph is a changed copy (or the
        original graph if neither option is given).
    """
    graph = corpus.graph
    if perspective is not None:
        if isinstance(perspective, str):
            perspective = load_perspective(corpus, perspective)
        graph = apply_perspective(graph, perspective)
    graph = as_of_graph(graph, as_of)
    return dataclasses.replace(corpus, graph=graph)


# ---- comparing ---------------------------------------------------------------------------

def differing_overrides(graph, first, second):
    """``{item: (value under first, value under second)}`` for every override on which the
    two perspectives disagree (an item one of them leaves alone takes the corpus value)."""
    a, b = first.overrides(), second.overrides()
    out = {}
    for item in sorted(set(a) | set(b)):
        if item[0] == "weight" and not graph.has_edge(item[1], item[2]) or (
                item[0] == "credence" and item[1] not in graph):
            continue  # left out by --as-of
        va, vb = a.get(item, base_value(graph, item)), b.get(item, base_value(graph, item))
        if va != vb:
            out[item] = (va, vb)
    return out


class _Mixes:
    """The models' strengths under many mixes of override values, one column per mix, solved
    together by the engine (:class:`graph.solving.batch.Engine`) on one system of the graph.

    A mix ``{item: value}`` becomes a column of credences and, if it changes weights, a column
    of weights (an edge override sets every parallel edge of its first relation, as
    :func:`apply_perspective` does); other items keep the corpus value. The corpus's own
    strengths are the reference, so a stage no override reaches is not solved again. That is
    what :func:`graph.solving.propagation.score_graph` gives with the same overrides, to the tolerance
    (the tests hold the two together).
    """

    def __init__(self, graph, semantics, tolerance, models):
        from graph.solving.batch import Engine
        from graph.solving.propagation import build_system, solve

        self.graph, self.semantics, self.tolerance = graph, semantics, tolerance
        self.system = build_system(graph)
        self.engine = Engine(self.system)
        self.rows = [self.system.index[m] for m in models]
        self.reference, _ = solve(self.system, semantics, tolerance=tolerance)

    def solve(self, mixes):
        """``(strengths, converged)``: models x mixes, and per mix."""
        import numpy as np

        system = self.system
        base = np.repeat(system.base[:, None], len(mixes), axis=1)
        weighted = any(item[0] == "weight" for mix in mixes for item in mix)
        weights = np.repeat(system.weight[:, None], len(mixes), axis=1) if weighted else None
        for c, mix in enumerate(mixes):
            for item, value in mix.items():
                if item[0] == "credence":
                    base[system.index[item[1]], c] = value
                else:
                    relation = next(iter(self.graph[item[1]][item[2]]))
                    weights[system.edge_positions(item[1], item[2], relation), c] = value
        strengths = np.empty((len(self.rows), len(mixes)))
        converged = np.empty(len(mixes), dtype=bool)
        for cols in self.engine.batches(len(mixes)):
            S, converged[cols] = self.engine.solve(
                self.semantics, base=base[:, cols],
                weights=None if weights is None else weights[:, cols],
                reference=self.reference, tolerance=self.tolerance)
            strengths[:, cols] = S[self.rows]
        return strengths, converged


def batched_shapley(solve_many, players, **options):
    """:func:`shapley` with every coalition's value computed in one call.

    ``solve_many(list of frozensets) -> array (outputs x coalitions)``. :func:`shapley` asks
    for coalitions in an order fixed by its arguments (and seed), so a first pass with a
    recording game learns which it needs; they are solved together, and the second pass reads
    the answers. Returns what :func:`shapley` returns, and ``{coalition: value}`` of every
    coalition solved (the empty and the full one among them).
    """
    import numpy as np

    needed = {frozenset(): None, frozenset(players): None}
    shapley(lambda c: needed.setdefault(c) or np.zeros(1), players, **options)
    coalitions = list(needed)
    values = solve_many(coalitions)
    table = {c: values[:, j] for j, c in enumerate(coalitions)}
    return (*shapley(table.__getitem__, players, **options), table)


def shapley(value, players, *, exact_limit=EXACT_LIMIT, samples=SAMPLES, seed=0):
    """Shapley values of ``players`` in the game ``value``.

    Parameters
    ----------
    value : callable
        ``value(frozenset of players) -> numpy array`` (one number per output, here per model).
    players : sequence
        The players (here: the overrides on which two perspectives differ).
    exact_limit : int
        Up to this many players the values are exact: every coalition is evaluated
        (``2**n`` calls) and weighted by ``|S|! (n - |S| - 1)! / n!``. Above it they are
        estimated from ``samples`` random orders of the players, taken in antithetic pairs (an
        order and its reverse), which cancels most of the noise when the game is close to
        additive (``samples * n`` calls at most).
    samples : int
        Random orders for the estimate (rounded up to an even number).
    seed : int
        Seed of the random orders, so that the estimate is reproducible.

    Returns
    -------
    (dict, dict or None, str)
        ``{player: numpy array}``; for the estimate, the standard error of each value
        (``{player: numpy array}``, from the spread over the antithetic pairs), else None; and
        the method: ``"exact"`` or ``"sampled"``. The values add up to
        ``value(all) - value(none)`` either way.

    References
    ----------
    L. S. Shapley, "A value for n-person games", 1953. Sampling by random orders: Castro,
    Gomez & Tejada, "Polynomial calculation of the Shapley value based on sampling", 2009;
    antithetic orders: Mitchell, Cooper, Frank & Holmes, "Sampling permutations for Shapley
    value estimation", JMLR 2022.
    """
    import numpy as np

    players = list(players)
    n = len(players)
    if n <= exact_limit:
        weights = [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n)
                   for s in range(n)]
        totals = {p: 0.0 for p in players}
        for size in range(n):
            for coalition in itertools.combinations(players, size):
                before = value(frozenset(coalition))
                for p in players:
                    if p not in coalition:
                        gain = value(frozenset(coalition + (p,))) - before
                        totals[p] = totals[p] + weights[size] * gain
        return totals, None, "exact"
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range((samples + 1) // 2):
        order = rng.permutation(n)
        pair = [_marginals(value, players, o) for o in (order, order[::-1])]
        pairs.append({p: (pair[0][p] + pair[1][p]) / 2 for p in players})
    mean = {p: sum(x[p] for x in pairs) / len(pairs) for p in players}
    spread = {p: np.sqrt(sum((x[p] - mean[p]) ** 2 for x in pairs) / max(len(pairs) - 1, 1)
                         / len(pairs)) for p in players}
    return mean, spread, "sampled"


def _marginals(value, players, order):
    """Each player's marginal contribution when they join in ``order``."""
    out, coalition, before = {}, frozenset(), value(frozenset())
    for index in order:
        coalition = coalition | {players[index]}
        after = value(coalition)
        out[players[index]] = after - before
        before = after
    return out


def shapley_reference(value, players):
    """Exact Shapley values by averaging marginal contributions over all ``n!`` orders."""
    players = list(players)
    totals = {p: 0.0 for p in players}
    orders = list(itertools.permutations(players))
    for order in orders:
        coalition = frozenset()
        for p in order:
            totals[p] = totals[p] + value(coalition | {p}) - value(coalition)
            coalition = coalition | {p}
    return {p: t / len(orders) for p, t in totals.items()}


def _ranks(strengths, ids):
    order = sorted(ids, key=lambda n: (-strengths[n], n))
    return {n: i + 1 for i, n in enumerate(order)}


def compare(corpus, first, second, *, semantics="qe", tolerance=1e-9, as_of=None,
            exact_limit=EXACT_LIMIT, samples=SAMPLES, seed=0, top=3):
    """Compare two perspectives on the models of ``corpus``.

    Parameters
    ----------
    corpus : graph.files.corpus.Corpus
        A valid corpus.
    first, second : str or Perspective
        Perspective names (``"base"`` for the corpus as written) or loaded perspectives.
    semantics, tolerance
        As for :func:`graph.solving.propagation.score_graph`.
    as_of : datetime.date, optional
        Compare the corpus as it stood on this day.
    exact_limit, samples, seed
        How the attribution is computed; see :func:`shapley`.
    top : int
        How many drivers to list per model.

    Returns
    -------
    dict
        ``{"first", "second": name, "semantics", "as_of", "method": "exact"|"sampled"|"none",
        "solves": int, "converged": bool, "rank_agreement": {"kendall_tau", "changed"},
        "models": [{"id", "title", "strength": {first, second}, "difference" (second - first),
        "rank": {first, second}, "drivers": [{"override", "contribution"}]}],
        "overrides": [{"override", "kind", "node" | "source"+"target", "values": {first,
        second}, "contributions": {model id: float}, "total": sum of absolute
        contributions}]}``, models in the first perspective's rank order, overrides by total.
        A model's contributions add up to its difference.

    Examples
    --------
    >>> first = compare(corpus, "rlvr-optimist", "bottlenecks-sceptic")["models"][0]
    >>> first["id"], round(first["difference"], 3)
    ('bottlenecks', 0.044)
    """
    p = first if isinstance(first, Perspective) else load_perspective(corpus, first)
    q = second if isinstance(second, Perspective) else load_perspective(corpus, second)
    graph = as_of_graph(corpus.graph, as_of)
    models = sorted(n for n, kind in graph.nodes(data="kind") if kind == "model")
    differing = differing_overrides(graph, p, q)
    start = {item: a for item, (a, _) in differing.items()}
    shared = {i: v for i, v in p.overrides().items() if i not in differing and _in(graph, i)}
    mixes = _Mixes(graph, semantics, tolerance, models)
    converged = []

    def solve_many(coalitions):
        values, ok = mixes.solve([{**shared, **start, **{i: differing[i][1] for i in c}}
                                  for c in coalitions])
        converged.extend(ok.tolist())
        return values

    attribution, error, method, values = batched_shapley(
        solve_many, list(differing), exact_limit=exact_limit, samples=samples, seed=seed)
    if not differing:
        method = "none"
    s_first, s_second = values[frozenset()], values[frozenset(differing)]
    data = _comparison(graph, p, q, models, s_first, s_second, differing, attribution, method,
                       semantics, as_of, len(values), all(converged), top)
    data["standard_error"] = max((float(e.max()) for e in error.values()), default=0.0) \
        if error else None
    data["samples"] = samples if method == "sampled" else None
    return data


def _in(graph, item):
    return item[1] in graph if item[0] == "credence" else graph.has_edge(item[1], item[2])


def _comparison(graph, p, q, models, s_first, s_second, differing, attribution, method,
                semantics, as_of, solves, converged, top):
    first = dict(zip(models, map(float, s_first)))
    second = dict(zip(models, map(float, s_second)))
    rank_p, rank_q = _ranks(first, models), _ranks(second, models)
    overrides = []
    for item, (a, b) in differing.items():
        contributions = {m: float(c) for m, c in zip(models, attribution[item])}
        row = {"override": item_label(item), "kind": item[0], "values": {p.name: a, q.name: b},
               "contributions": contributions,
               "total": sum(abs(c) for c in contributions.values())}
        row.update({"node": item[1]} if item[0] == "credence" else
                   {"source": item[1], "target": item[2]})
        overrides.append(row)
    overrides.sort(key=lambda r: (-r["total"], r["override"]))
    rows = []
    for m in sorted(models, key=rank_p.get):
        drivers = sorted(((r["override"], r["contributions"][m]) for r in overrides),
                         key=lambda d: -abs(d[1]))
        rows.append({
            "id": m, "title": graph.nodes[m]["title"],
            "strength": {p.name: first[m], q.name: second[m]},
            "difference": second[m] - first[m], "rank": {p.name: rank_p[m], q.name: rank_q[m]},
            "drivers": [{"override": o, "contribution": c} for o, c in drivers[:top]
                        if abs(c) > 1e-12],
        })
    return {
        "first": p.name, "second": q.name, "semantics": semantics,
        "as_of": as_of.isoformat() if as_of else None, "method": method, "solves": solves,
        "converged": converged,
        "rank_agreement": {"kendall_tau": _kendall_tau([rank_p[m] for m in models],
                                                       [rank_q[m] for m in models]),
                           "changed": sum(rank_p[m] != rank_q[m] for m in models)},
        "models": rows, "overrides": overrides,
    }


def _kendall_tau(a, b):
    """Kendall's tau between two rankings without ties (1.0 = same order, -1.0 = reversed;
    None for fewer than two). Rankings are permutations, so tau-a is the whole formula; this
    saves importing scipy.stats (over a second) for a handful of models."""
    n = len(a)
    if n < 2:
        return None
    pairs = list(itertools.combinations(range(n), 2))
    concordant = sum(1 if (a[i] - a[j]) * (b[i] - b[j]) > 0 else -1 for i, j in pairs)
    return concordant / len(pairs)


# ---- writing -----------------------------------------------------------------------------


