"""Many solves of one system at once: one column per set of credences and weights.

:func:`solve_columns` gives, for every column ``c`` of ``base`` (credences) and ``weights``, the
strengths :func:`graph.propagation.solve` gives for them. Stages are taken in the same
topological order; an acyclic stage is evaluated once, exactly, for all columns together (one
sparse product per stage); a cyclic stage integrates ``ds/dt = f(s) - s`` from the credences in
every column at once (the ODE that defines the strengths) until every column's residual is below
the tolerance. A column that does not settle within the budget is handed to
:func:`graph.propagation.solve` itself.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from graph.propagation import (
    DEFAULT_MAX_STEPS, DEFAULT_TOLERANCE, ODE_ATOL, ODE_MAX_STEP, ODE_RELATIVE, PropagationError,
    _BS_A, _BS_B, _BS_E, _semantics, solve,
)


class _StageEdges:
    """The edges into one stage, grouped by (row, relation), with a row-incidence matrix."""

    def __init__(self, system, rows, stage_of, local, k):
        into = np.flatnonzero(stage_of[system.dst] == k)
        row = local[system.dst[into]]
        relation = system.relation[into].astype(np.intp)
        order = np.lexsort((relation, row))
        self.edges = into[order]                      # positions in system's edge arrays
        self.src = system.src[self.edges]
        self.row, self.rel = row[order], relation[order]
        self.sign = np.where(self.rel == 0, 1.0, -1.0)
        self.rows = rows
        n = len(self.edges)
        self.incidence = sp.csr_matrix((np.ones(n), (self.row, np.arange(n))), shape=(len(rows), n))
        group = self.row * 2 + self.rel
        self.starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if n else group
        self.groups = group[self.starts]


def _aggregate(sem, stage, S, U):
    """The aggregate of every row of ``stage`` in every column: (rows, columns)."""
    m = S.shape[1]
    if not len(stage.edges):
        return np.zeros((len(stage.rows), m))
    terms = U[stage.edges] * S[stage.src]
    if sem.aggregation.name == "sum":
        return stage.incidence @ (stage.sign[:, None] * terms)
    products = np.multiply.reduceat(1.0 - terms, stage.starts, axis=0)
    v = np.zeros((2 * len(stage.rows), m))  # no supporters (attackers): v = 0
    v[stage.groups] = 1.0 - products
    return v[0::2] - v[1::2]


def _evaluate(sem, stage, S, W, U):
    """One update of the stage's rows in every column."""
    p = sem.influence.prepare(W[stage.rows])
    return np.clip(sem.influence.value(p, _aggregate(sem, stage, S, U)), 0.0, 1.0)


def solve_columns(system, semantics="qe", *, base=None, weights=None,
                  tolerance=DEFAULT_TOLERANCE, max_steps=None):
    """Strengths for many credence and weight vectors of one system, solved together.

    Parameters
    ----------
    system : graph.propagation.System
        From :func:`graph.propagation.build_system`.
    semantics : str
        ``"qe"``, ``"dfquad"`` or ``"eb"``.
    base : array_like, shape (n_nodes, m), optional
        Credences, one column per solve (default: the system's, in every column).
    weights : array_like, shape (n_edges, m), optional
        Edge weights in the order of ``system.edges``, one column per solve.
    tolerance : float
        Each column stops when ``max |f(s) - s| < tolerance``, as in :func:`solve`.
    max_steps : int, optional
        Budget of update evaluations per cyclic stage.

    Returns
    -------
    S : numpy.ndarray, shape (n_nodes, m)
        Column ``c`` holds the strengths of ``solve(system, semantics, base=base[:, c],
        weights=weights[:, c])``.
    converged : numpy.ndarray of bool, shape (m,)

    Examples
    --------
    >>> import networkx as nx
    >>> from graph.propagation import build_system
    >>> G = nx.DiGraph()
    >>> G.add_node("a", credence=1.0); G.add_node("b", credence=0.5)
    >>> G.add_edge("a", "b", relation="supports", weight=1.0)
    >>> S, ok = solve_columns(build_system(G), "qe", weights=[[1.0, 0.5]])
    >>> S.round(3).tolist(), ok.tolist()
    ([[1.0, 1.0], [0.75, 0.6]], [True, True])
    """
    sem = _semantics(semantics)
    W, U = _columns(system, base, weights)
    budget = max_steps or DEFAULT_MAX_STEPS
    stage_of = np.empty(system.n_nodes, dtype=np.intp)
    local = np.empty(system.n_nodes, dtype=np.intp)
    for k, block in enumerate(system.stages):
        stage_of[block.nodes] = k
        local[block.nodes] = np.arange(len(block.nodes))
    S = W.copy()
    converged = np.ones(W.shape[1], dtype=bool)
    for k, block in enumerate(system.stages):
        stage = _StageEdges(system, block.nodes, stage_of, local, k)
        if not block.cyclic:
            S[block.nodes] = _evaluate(sem, stage, S, W, U)
            continue
        ok = _integrate(sem, stage, S, W, U, tolerance, budget)
        converged &= ok
    for c in np.flatnonzero(~converged):  # rare: the reference solver, column by column
        S[:, c], info = solve(system, sem, base=W[:, c], weights=U[:, c], tolerance=tolerance,
                              max_steps=max_steps)
        converged[c] = info.converged
    return S, converged


def _columns(system, base, weights):
    if base is None and weights is None:
        raise PropagationError("solve_columns needs base or weights with one column per solve")
    m = np.shape(base)[1] if base is not None else np.shape(weights)[1]
    W = np.repeat(system.base[:, None], m, axis=1) if base is None else np.array(base, dtype=float)
    U = (np.repeat(system.weight[:, None], m, axis=1) if weights is None
         else np.array(weights, dtype=float))
    if W.shape != (system.n_nodes, m) or U.shape != (system.n_edges, m):
        raise PropagationError(f"base must be ({system.n_nodes}, m) and weights "
                               f"({system.n_edges}, m), not {W.shape} and {U.shape}")
    for values, what in ((W, "credence"), (U, "weight")):
        if not np.all(np.isfinite(values)) or values.min(initial=0) < 0 or values.max(initial=0) > 1:
            raise PropagationError(f"every {what} must be a number in [0, 1]")
    return W, U


def _integrate(sem, stage, S, W, U, tolerance, budget):
    """Bogacki-Shampine 3(2) on ds/dt = f(s) - s for a cyclic stage, every column at once (each
    column with its own step size), from the credences; writes S and returns converged flags."""
    rows = stage.rows
    m = S.shape[1]

    def rate(x):
        S[rows] = x
        return _evaluate(sem, stage, S, W, U) - x

    x = W[rows].copy()
    k1 = rate(x)
    residual = np.max(np.abs(k1), axis=0, initial=0.0)
    h = np.full(m, 0.5)
    evaluations = 1
    while evaluations + 3 <= budget:
        active = residual >= tolerance
        if not active.any():
            break
        y1 = np.clip(x + h * _BS_A[0] * k1, 0.0, 1.0)
        k2 = rate(y1)
        y2 = np.clip(x + h * _BS_A[1] * k2, 0.0, 1.0)
        k3 = rate(y2)
        new = np.clip(x + h * (_BS_B[0] * k1 + _BS_B[1] * k2 + _BS_B[2] * k3), 0.0, 1.0)
        k4 = rate(new)
        evaluations += 3
        error = h * np.max(np.abs(_BS_E[0] * k1 + _BS_E[1] * k2 + _BS_E[2] * k3 + _BS_E[3] * k4),
                           axis=0, initial=0.0)
        atol = np.minimum(ODE_ATOL, ODE_RELATIVE * residual)
        accept = active & (error <= atol)
        x[:, accept], k1[:, accept] = new[:, accept], k4[:, accept]
        residual[accept] = np.max(np.abs(k4[:, accept]), axis=0, initial=0.0)
        factor = np.clip(0.9 * (atol / np.maximum(error, 1e-300)) ** (1.0 / 3.0), 0.2, 4.0)
        h = np.where(active, np.minimum(ODE_MAX_STEP, h * factor), h)
    S[rows] = x
    return residual < tolerance
