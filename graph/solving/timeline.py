"""Evidence over time: the corpus as it stood on a date, and the strengths of the models since.

The rule behind ``--as-of DATE``: a node dated after DATE did not exist yet, so it is left out
together with every edge to or from it; an undated node (models, timeless claims) always counts.
A month-precision date (:class:`graph.core.model.MonthDate`) compares as its month's last day, so such
a node counts from the end of its month. Only a node's own ``date`` decides; the dates of its
sources do not.

:func:`history` scores the corpus at a series of dates (the end of each day, week, month or
quarter). It builds one solver system (:func:`graph.solving.propagation.build_system`) for the whole
graph and solves every distinct set of nodes as one column of one batch
(:class:`graph.solving.batch.Engine`), the nodes not yet dated in absent from it (a presence mask);
steps that see the same set share the column.
:func:`history_reference` scores every step from scratch with
:func:`graph.solving.propagation.score_graph` on :func:`as_of_graph`; the tests hold the two to each
other.
"""
from __future__ import annotations

import bisect
import calendar
import datetime as dt

from graph.core.model import TakeoffError, unknown_id_message

STEPS = ("day", "week", "month", "quarter")
# Steps one history may have (137 years of days, every quarter of the calendar); a range and
# step that make more are refused with a message.
MAX_STEPS = 50_000


def as_of_graph(graph, as_of):
    """The corpus graph as it stood on ``as_of``.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph (node attribute ``date``: :class:`datetime.date` or None).
    as_of : datetime.date or None
        The day to look from; None returns ``graph`` itself.

    Returns
    -------
    networkx.MultiDiGraph
        A copy holding the nodes that are undated or dated on or before ``as_of``, and the
        edges among them. Node and edge attribute dicts are copies, so changing them leaves
        ``graph`` alone.

    Examples
    --------
    >>> import datetime as dt, networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("m", date=None); G.add_node("e", date=dt.date(2025, 1, 1))
    >>> G.add_edge("e", "m", key="supports")
    'supports'
    >>> sorted(as_of_graph(G, dt.date(2024, 12, 31)))
    ['m']
    """
    if as_of is None:
        return graph
    return graph.subgraph(present_nodes(graph, as_of)).copy()


def present_nodes(graph, as_of):
    """The ids of the nodes that count on ``as_of`` (undated, or dated on or before it)."""
    return [n for n, date in graph.nodes(data="date") if date is None or date <= as_of]


def later_nodes(graph, as_of):
    """The ids of the nodes dated after ``as_of``, sorted by date then id."""
    later = [(date, n) for n, date in graph.nodes(data="date") if date is not None and date > as_of]
    return [n for _, n in sorted(later)]


def dated_nodes(graph, kind=None):
    """``(date, id)`` of every dated node (of ``kind`` if given), sorted."""
    return sorted((a["date"], n) for n, a in graph.nodes(data=True)
                  if a.get("date") is not None and (kind is None or a.get("kind") == kind))


def shifted(day, days):
    """``day`` moved by ``days``, held within the calendar (0001-01-01 to 9999-12-31)."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.min if days < 0 else dt.date.max


def period_end(day, step):
    """The last day of the ``step`` period holding ``day`` (weeks end on Sunday, as in ISO; the
    last week of the calendar ends on 9999-12-31)."""
    if step == "day":
        return day
    if step == "week":
        return shifted(day, 6 - day.weekday())
    if step == "month":
        return day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if step == "quarter":
        month = 3 * ((day.month - 1) // 3) + 3
        return dt.date(day.year, month, calendar.monthrange(day.year, month)[1])
    raise TakeoffError(f"unknown step {step!r} (one of {', '.join(STEPS)})")


def step_dates(start, end, step="month"):
    """The dates :func:`history` scores: the end of each period from ``start`` to ``end``.

    The last period is cut at ``end``, so nothing after ``end`` is ever looked at.

    Examples
    --------
    >>> [d.isoformat() for d in step_dates(dt.date(2024, 11, 15), dt.date(2025, 1, 10))]
    ['2024-11-30', '2024-12-31', '2025-01-10']
    """
    if start > end:
        raise TakeoffError(f"--from {start} is after --to {end}")
    dates = []
    day = period_end(start, step)
    while day < end:
        dates.append(day)
        day = period_end(day + dt.timedelta(days=1), step)
    dates.append(end)
    return dates


def step_count(start, end, step):
    """How many dates :func:`step_dates` gives from ``start`` to ``end`` (counted, not listed)."""
    if step == "day":
        return (end - start).days + 1
    if step == "week":
        return (period_end(end, step) - period_end(start, step)).days // 7 + 1
    months = (end.year - start.year) * 12 + end.month - start.month
    if step == "month":
        return months + 1
    if step == "quarter":
        return (end.year - start.year) * 4 + (end.month - 1) // 3 - (start.month - 1) // 3 + 1
    raise TakeoffError(f"unknown step {step!r} (one of {', '.join(STEPS)})")


def runs(data):
    """The steps of a :func:`history` result grouped into runs of identical rows: ``[(first,
    last)]`` step indices, a run going on while no strength, no convergence flag and no
    arrival changes (the table prints one row per run, so a history that runs on past the
    last evidence does not repeat one row for every step)."""
    out = []
    arrived = new_evidence(data)
    ids = list(data["strengths"])
    for i in range(len(data["dates"])):
        same = out and not arrived[i] and data["converged"][i] == data["converged"][i - 1] and \
            all(data["strengths"][n][i] == data["strengths"][n][i - 1] for n in ids)
        if same:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def default_range(graph, today=None):
    """``(start, end)`` of :func:`history` when not given: the earliest dated node to today,
    or to the latest dated node if that is later. None if no node is dated."""
    dated = dated_nodes(graph)
    if not dated:
        return None
    today = today or dt.date.today()
    return dated[0][0], max(today, dated[-1][0])


def _model_ids(graph):
    return sorted(n for n, kind in graph.nodes(data="kind") if kind == "model")


def _resolve_range(graph, start, end, today):
    default = default_range(graph, today)
    if default is None and (start is None or end is None):
        raise TakeoffError("no node of the corpus is dated: give both --from and --to")
    return start or default[0], end or default[1]


def _bounded_dates(start, end, step):
    """:func:`step_dates`, refused with a message beyond :data:`MAX_STEPS` steps."""
    if start <= end and step_count(start, end, step) > MAX_STEPS:
        raise TakeoffError(f"--step {step} from {start} to {end} makes "
                           f"{step_count(start, end, step):,} steps, more than {MAX_STEPS:,}: "
                           f"choose a longer --step or a shorter range (--from, --to)")
    return step_dates(start, end, step)


def history(graph, *, start=None, end=None, step="month", semantics="qe", tolerance=1e-9,
            max_steps=None, nodes=None, today=None, system=None):
    """Strengths of the models (or of ``nodes``) as of each step from ``start`` to ``end``.

    Each step's value is what ``takeoff score --as-of STEP`` gives: the strengths of
    :func:`as_of_graph` ``(graph, STEP)``. The whole graph is built into one solver system
    once; a step solves it with the nodes dated later absent (held at 0, the same as leaving
    them out with their edges). The graph changes only on the dates of dated nodes, so each distinct
    set of nodes is solved once and the result shared by every step that sees it.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The corpus graph, with a perspective applied if one is wanted
        (:func:`graph.explaining.perspective.apply_perspective`).
    start, end : datetime.date, optional
        The range. Default: the earliest dated node to today (or to the latest dated node if
        that is later); see :func:`default_range`.
    step : {"day", "week", "month", "quarter"}
        The step; a step's date is the last day of its period (see :func:`step_dates`).
    semantics : str
        A name in :data:`graph.solving.propagation.SEMANTICS`.
    tolerance : float
        Convergence tolerance of the solver.
    max_steps : int, optional
        Solver step limit (its default if None).
    nodes : iterable of str, optional
        The ids to report; default every model.
    today : datetime.date, optional
        What "today" is for the default end (for reproducible output).
    system : graph.solving.propagation.System, optional
        ``build_system(graph)``, if the caller has it already (``ScoreResult.system``).

    Returns
    -------
    dict
        ``{"semantics", "step", "from", "to": str, "dates": [iso str per step],
        "strengths": {id: [float, or None while the node is not yet in the corpus]},
        "converged": [bool per step], "solves": int (distinct graphs solved),
        "nodes": [{"id", "kind", "title"}], "evidence": [{"id", "date", "title"}] (the dated
        evidence from ``start`` to ``end``, by date)}``. ``dates`` and ``strengths`` are the shape the HTML page's
        date slider reads as its ``"timeline"``.

    Examples
    --------
    >>> h = history(corpus.graph, step="quarter")
    >>> h["dates"][0], h["strengths"]["naive-rlvr"][0]
    ('2023-06-30', 0.5)

    References
    ----------
    The solver: :mod:`graph.solving.propagation`. The as-of rule: :func:`as_of_graph`.
    """
    from graph.solving.propagation import build_system

    start, end = _resolve_range(graph, start, end, today)
    dates = _bounded_dates(start, end, step)
    ids = list(nodes) if nodes is not None else _model_ids(graph)
    _check_ids(graph, ids)
    dated = dated_nodes(graph)
    day_of = [d for d, _ in dated]
    counts = [bisect.bisect_right(day_of, day) for day in dates]   # dated nodes present
    system = build_system(graph) if system is None else system
    solved = _solve_counts(system, dated, sorted(set(counts)), ids, semantics, tolerance,
                           max_steps)
    strengths = {n: [] for n in ids}
    converged = []
    for count in counts:
        values, ok = solved[count]
        for n, v in zip(ids, values):
            strengths[n].append(v)
        converged.append(ok)
    return _history_data(graph, semantics, step, start, end, dates, strengths, converged,
                         len(solved), ids)


def _solve_counts(system, dated, counts, ids, semantics, tolerance, max_steps):
    """``{count: (strength of each of ids, None where absent; converged)}``: the graph with
    only the first ``count`` dated nodes (``dated``, in date order) present, for each count.

    One system for the whole graph, one column per count: a node not yet dated in is absent
    from the column (held at 0, the same as leaving it out with its edges).
    """
    import numpy as np

    from graph.solving.batch import Engine

    arrival = np.full(system.n_nodes, -1)  # rank of each dated node in date order
    for rank, (_, n) in enumerate(dated):
        arrival[system.index[n]] = rank
    distinct = np.array(counts)
    rows = np.array([system.index[n] for n in ids], dtype=np.intp)
    engine = Engine(system)
    values, ok = np.empty((len(rows), len(distinct))), np.empty(len(distinct), dtype=bool)
    for cols in engine.batches(len(distinct), system.n_nodes):
        present = arrival[:, None] < distinct[None, cols]   # undated (-1): always
        S, ok[cols] = engine.solve(semantics, present=present, tolerance=tolerance,
                                   max_steps=max_steps)
        values[:, cols] = S[rows]
    solved = {}
    for j, count in enumerate(distinct.tolist()):
        present = arrival[rows] < count
        solved[count] = ([float(v) if p else None for v, p in zip(values[:, j], present)],
                         bool(ok[j]))
    return solved


def history_reference(graph, *, start=None, end=None, step="month", semantics="qe",
                      tolerance=1e-9, nodes=None, today=None):
    """:func:`history` the plain way: :func:`graph.solving.propagation.score_graph` on
    :func:`as_of_graph` at every step, nothing shared. Same return value."""
    from graph.solving.propagation import score_graph

    start, end = _resolve_range(graph, start, end, today)
    dates = _bounded_dates(start, end, step)
    ids = list(nodes) if nodes is not None else _model_ids(graph)
    _check_ids(graph, ids)
    strengths = {n: [] for n in ids}
    converged = []
    for day in dates:
        result = score_graph(as_of_graph(graph, day), semantics, tolerance=tolerance)
        for n in ids:
            strengths[n].append(result.strengths.get(n))
        converged.append(bool(result.converged))
    return _history_data(graph, semantics, step, start, end, dates, strengths, converged,
                         len(dates), ids)


def _check_ids(graph, ids):
    for n in ids:
        if n not in graph:
            raise TakeoffError(unknown_id_message(n, graph))


def _history_data(graph, semantics, step, start, end, dates, strengths, converged, solves, ids):
    evidence = [
        {"id": n, "date": date.isoformat(), "title": graph.nodes[n]["title"]}
        for date, n in dated_nodes(graph, "evidence") if start <= date <= end
    ]
    return {
        "semantics": semantics, "step": step, "from": start.isoformat(), "to": end.isoformat(),
        "dates": [d.isoformat() for d in dates], "strengths": strengths,
        "converged": converged, "solves": solves,
        "nodes": [{"id": n, "kind": graph.nodes[n]["kind"], "title": graph.nodes[n]["title"]}
                  for n in ids],
        "evidence": evidence,
    }


def new_evidence(data):
    """For each step of a :func:`history` result, the ids of the evidence that arrived since
    the step before (for the first step: on or before it)."""
    out, i = [], 0
    evidence = data["evidence"]
    for day in data["dates"]:
        arrived = []
        while i < len(evidence) and evidence[i]["date"] <= day:
            arrived.append(evidence[i]["id"])
            i += 1
        out.append(arrived)
    return out
