"""The engine: many variants of one system solved at once, one column per variant.

Every command that solves more than one graph solves variants of one system (from
:func:`graph.solving.propagation.build_system`): ``why`` removes one node per column, ``cruxes`` sets
one credence per column, ``history`` keeps the nodes dated by each step, ``compare`` switches
perspective overrides, ``robustness`` samples credences and weights. :class:`Engine` solves any
such batch: columns of credences and edge weights, a per-column edge mask and a per-column
presence mask of nodes; :func:`solve_columns` is the one-call form.

The strengths of a column are those :func:`graph.solving.propagation.solve` defines for its inputs (an
absent node is held at 0, which under every semantics is the same as leaving it out with its
edges: a parent of strength 0 adds nothing to a sum and a factor 1 to a product). Stages are
taken in the system's topological order. An acyclic stage is evaluated once, exactly, for every
column together. A cyclic stage follows ``ds/dt = f(s) - s`` from the credences in every column
(:func:`graph.solving.propagation.integrate`, each column with its own step) until the residual is below
``HANDOVER``; the plain iteration ``s <- f(s)`` then finishes where ``f`` contracts. A column
that does not settle is handed to :func:`graph.solving.propagation.solve` itself.

Given ``reference``, the strengths of the system's own inputs, a stage that no changed input
reaches keeps them, and a cyclic stage is solved only in the columns whose inputs there differ:
a variant costs in proportion to what it changes.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from graph.solving.propagation import (
    DEFAULT_TOLERANCE, PropagationError, check_options, get_semantics, integrate, solve,
)

# Floats held by one batch of columns (rows x columns): 128 MB.
BATCH_FLOATS = 16_000_000
# On a cyclic stage the ODE hands over to the plain iteration below this residual, and the plain
# iteration gives up after this many steps without halving any column's residual.
HANDOVER = 1e-3
PICARD_PATIENCE = 50


class _Stage:
    """What the update of one stage needs in every column: its rows; ``parents``, the distinct
    sources of its in-edges; the in-edges (``eid``) sorted by (row, relation), with ``src``
    indexing ``parents``, as groups (for products) and as a row incidence matrix (for sums);
    and which parents are rows of the stage itself (``inner`` in ``parents``, ``inner_rows``
    in the stage)."""

    def __init__(self, system, k):
        self.index = k
        self.rows, self.cyclic = system.stage_nodes(k), system.stage_cyclic[k]
        self.k = len(self.rows)
        self.eid, self.row = system.stage_edges(k)
        relation = system.relation[self.eid].astype(np.intp)
        self.parents, src = np.unique(system.src[self.eid], return_inverse=True)
        self.src = src.reshape(-1)
        self.sign = np.where(relation == 0, 1.0, -1.0)
        self.indptr = np.zeros(self.k + 1, dtype=np.intp)
        np.cumsum(np.bincount(self.row, minlength=self.k), out=self.indptr[1:])
        group = self.row * 2 + relation
        self.starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(group) \
            else group
        self.groups = group[self.starts]
        self.inner = np.flatnonzero(system.stage_of[self.parents] == k)
        self.inner_rows = system.local[self.parents[self.inner]]
        self._shared = (None, None, None)
        self._incidence = None

    @property
    def incidence(self):
        """Rows x in-edges, the sign of each edge (for sums with weights per column)."""
        if self._incidence is None:
            n = len(self.eid)
            self._incidence = sp.csr_matrix((self.sign, np.arange(n), self.indptr),
                                            shape=(self.k, n))
        return self._incidence

    def weights(self, U):
        """The weights of the stage's in-edges from ``U`` (all edges: a vector, or columns);
        for a vector the same array each time, so :meth:`signed` keeps its matrix."""
        if U.ndim == 2:
            return U[self.eid]
        if self._shared[0] is not U:
            self._shared = (U, U[self.eid], None)
        return self._shared[1]

    def signed(self, u):
        """The signed weights ``u`` (from :meth:`weights`) as a rows x parents matrix."""
        whole, mine, matrix = self._shared
        if mine is not u:
            return sp.csr_matrix((self.sign * u, self.src, self.indptr),
                                 shape=(self.k, len(self.parents)))
        if matrix is None:
            matrix = sp.csr_matrix((self.sign * u, self.src, self.indptr),
                                   shape=(self.k, len(self.parents)))
            self._shared = (whole, mine, matrix)
        return matrix


class Engine:
    """One system, ready to be solved for any batch of columns.

    Parameters
    ----------
    system : graph.solving.propagation.System
        From :func:`graph.solving.propagation.build_system`; the columns vary its inputs.

    Examples
    --------
    >>> import networkx as nx
    >>> from graph.solving.propagation import build_system
    >>> G = nx.DiGraph()
    >>> G.add_node("a", credence=1.0); G.add_node("b", credence=0.5)
    >>> G.add_edge("a", "b", relation="supports", weight=1.0)
    >>> engine = Engine(build_system(G))
    >>> S, ok = engine.solve("qe", present=[[True, False], [True, True]])
    >>> S.round(3).tolist(), ok.tolist()
    ([[1.0, 0.0], [0.75, 0.5]], [True, True])
    """

    def __init__(self, system):
        self.system = system
        self.stages = [_Stage(system, k) for k in range(len(system.stage_cyclic))]

    def batches(self, count, height=None):
        """Slices of ``range(count)`` holding at most ``BATCH_FLOATS // height`` columns each
        (``height`` defaults to nodes plus edges: one column of credences and weights)."""
        height = height or self.system.n_nodes + self.system.n_edges
        size = max(1, BATCH_FLOATS // max(height, 1))
        return [slice(lo, min(lo + size, count)) for lo in range(0, count, size)]

    def solve(self, semantics="qe", *, base=None, weights=None, edge_mask=None, present=None,
              reference=None, tolerance=DEFAULT_TOLERANCE, max_steps=None):
        """Strengths of every column of inputs.

        Parameters
        ----------
        semantics : str or graph.solving.propagation.Semantics
            ``"qe"``, ``"dfquad"`` or ``"eb"``.
        base : array_like, shape (n_nodes, K) or (n_nodes,), optional
            Credences, one column per variant, or one vector for every column (default: the
            system's).
        weights : array_like, shape (n_edges, K) or (n_edges,), optional
            Edge weights in the order of ``system.edges``, per column or shared.
        edge_mask : array_like of bool, shape (n_edges, K), optional
            Whether each edge counts in each column (an edge masked out has weight 0, the same
            as removing it under every semantics).
        present : array_like of bool, shape (n_nodes, K), optional
            Whether each node is in each column's graph; an absent node is held at strength 0
            (as if removed with its edges) and reported as 0.
        reference : array_like, shape (n_nodes,), optional
            The strengths of the system's own inputs (``solve(system)``): stages no changed
            input reaches keep them, so a variant costs what it changes.
        tolerance : float
            Each column stops when ``max |f(s) - s| < tolerance``, as in
            :func:`graph.solving.propagation.solve`.
        max_steps : int, optional
            Budget of update evaluations per cyclic stage.

        Returns
        -------
        S : numpy.ndarray, shape (n_nodes, K)
            Column ``c`` holds the strengths :func:`graph.solving.propagation.solve` gives for the
            inputs of column ``c`` (to the tolerance).
        converged : numpy.ndarray of bool, shape (K,)

        Raises
        ------
        graph.solving.propagation.PropagationError
            No input with columns, inputs of the wrong shape, or a credence or weight outside
            [0, 1].

        Notes
        -----
        Memory is a few arrays of (n_nodes + n_edges) x K floats: solve a large K in the
        slices :meth:`batches` gives.
        """
        sem = get_semantics(semantics)
        budget = check_options(tolerance, max_steps)
        batch = _Batch(self.system, base, weights, edge_mask, present, reference)
        S = batch.changes.start()
        converged = np.ones(batch.count, dtype=bool)
        for stage in self.stages:
            touched = batch.changes.touched(stage)
            if touched is None:
                continue
            if stage.cyclic:
                _solve_cyclic(sem, stage, batch, S, converged, tolerance, budget)
            else:
                S[stage.rows[touched]] = _evaluate_acyclic(sem, stage, batch, S)[touched]
        for c in np.flatnonzero(~converged):  # rare: the single solve, column by column
            S[:, c], converged[c] = self._single(sem, batch, c, tolerance, max_steps)
        return S, converged

    def _single(self, sem, batch, c, tolerance, max_steps):
        """Column ``c`` of ``batch`` solved by :func:`graph.solving.propagation.solve` (an absent
        node's edges get weight 0, which leaves every other node as if it were gone)."""
        system, W, U, held = self.system, batch.W, batch.U, batch.held
        weight = U[:, c] if U.ndim == 2 else U
        if held is not None:
            weight = np.where(held[system.src, c], 0.0, weight)
        s, info = solve(system, sem, tolerance=tolerance, max_steps=max_steps,
                        base=W[:, c] if W.ndim == 2 else W, weights=weight)
        if held is not None:
            s[held[:, c]] = 0.0
        return s, info.converged


class _Batch:
    """The inputs of one :meth:`Engine.solve`, checked: ``count`` columns of credences ``W``
    and weights ``U`` (each a vector shared by every column, or one column per variant, an
    edge masked out at weight 0), the absent nodes (``held``: nodes x columns, or None; and
    ``absent``, by stage), and where the columns differ from the reference (``changes``)."""

    def __init__(self, system, base, weights, edge_mask, present, reference):
        self.count = count = _column_count(base, weights, edge_mask, present)
        self.W = _values(base, system.base, count, "credence")
        U = _values(weights, system.weight, count, "weight")
        if edge_mask is not None:
            mask = _mask(edge_mask, system.n_edges, count, "edge_mask")
            U = np.where(mask, U if U.ndim == 2 else U[:, None], 0.0)
        self.U = U
        self.held = None if present is None else ~_mask(present, system.n_nodes, count,
                                                         "present")
        self.absent = {} if self.held is None else _absent_by_stage(system, self.held)
        self.changes = _Changes(system, self.W, U, self.held, self.absent, reference, count)

    def credences(self, stage):
        """The credences of the stage's rows: rows x columns, or one column for all."""
        W = self.W
        return W[stage.rows] if W.ndim == 2 else W[stage.rows][:, None]


def _evaluate_acyclic(sem, stage, batch, S):
    """The strengths of an acyclic stage's rows in every column (a new array): one update from
    its parents' strengths in ``S``, absent nodes held at 0."""
    w = batch.credences(stage)
    hold = batch.absent.get(stage.index)
    if len(stage.eid):
        return _update(sem, stage, S[stage.parents], sem.influence.prepare(w),
                       stage.weights(batch.U), hold)
    # No parents: under every semantics the strength is the credence.
    value = w if w.shape[1] == batch.count else np.repeat(w, batch.count, axis=1)
    if hold is not None:
        value[hold] = 0.0
    return value


def _solve_cyclic(sem, stage, batch, S, converged, tolerance, budget):
    """A cyclic stage's fixed point (:func:`_cyclic`) in the columns where its inputs differ
    from the reference, written into ``S``; ``converged`` loses the columns that did not
    settle."""
    cols = batch.changes.columns(stage, S)
    if not len(cols):
        return
    w, u = batch.credences(stage), stage.weights(batch.U)
    X, ok = _cyclic(sem, stage, S[stage.parents][:, cols], w if w.shape[1] == 1 else w[:, cols],
                    u if u.ndim == 1 else u[:, cols],
                    _in_columns(batch.absent.get(stage.index), cols), tolerance, budget)
    S[np.ix_(stage.rows, cols)] = X
    converged[cols] &= ok


def solve_columns(system, semantics="qe", **columns):
    """Solve K columns of credences, edge weights, edge masks or presence masks of one system.

    ``solve_columns(system, semantics, base=..., weights=..., edge_mask=..., present=...,
    reference=..., tolerance=..., max_steps=...)`` is ``Engine(system).solve(...)``; see
    :meth:`Engine.solve` for the parameters and the result. Build an :class:`Engine` once to
    solve several batches of one system.

    Examples
    --------
    >>> import networkx as nx
    >>> from graph.solving.propagation import build_system
    >>> G = nx.DiGraph()
    >>> G.add_node("a", credence=1.0); G.add_node("b", credence=0.5)
    >>> G.add_edge("a", "b", relation="supports", weight=1.0)
    >>> S, ok = solve_columns(build_system(G), "qe", weights=[[1.0, 0.5]])
    >>> S.round(3).tolist(), ok.tolist()
    ([[1.0, 1.0], [0.75, 0.6]], [True, True])
    >>> S, ok = solve_columns(build_system(G), "qe", edge_mask=[[True, False]])
    >>> S.round(3).tolist()
    [[1.0, 1.0], [0.75, 0.5]]
    """
    return Engine(system).solve(semantics, **columns)


def _column_count(*inputs):
    counts = {np.shape(x)[1] for x in inputs if x is not None and np.ndim(x) == 2}
    if len(counts) != 1:
        raise PropagationError("solve_columns needs inputs with one column per variant (base, "
                               "weights, edge_mask or present of shape (rows, K)), all with "
                               f"the same K, not {sorted(counts) or 'none'}")
    return counts.pop()


def _values(given, default, count, what):
    """``given`` as floats (one vector, or one column per variant), checked; else ``default``."""
    if given is None:
        return default
    values = np.asarray(given, dtype=float)
    if values.shape not in ((len(default),), (len(default), count)):
        raise PropagationError(f"{what} values must have shape ({len(default)},) or "
                               f"({len(default)}, {count}), not {values.shape}")
    # Two reductions, no temporaries (NaN fails both comparisons).
    if values.size and not (values.min() >= 0.0 and values.max() <= 1.0):
        raise PropagationError(f"every {what} must be a number in [0, 1]")
    return values


def _mask(given, rows, count, what):
    mask = np.asarray(given)
    if mask.shape != (rows, count) or mask.dtype != bool:
        raise PropagationError(f"{what} must be booleans of shape ({rows}, {count}), not "
                               f"{mask.dtype} {mask.shape}")
    return mask


class _Changes:
    """Where the columns differ from the reference: which stages must be solved, and on a
    cyclic stage in which columns. Without a reference, everything everywhere."""

    def __init__(self, system, W, U, held, absent, reference, count):
        self.system, self.W, self.U, self.absent, self.count = system, W, U, absent, count
        self.reference = None if reference is None else np.asarray(reference, dtype=float)
        if self.reference is None:
            return
        if self.reference.shape != (system.n_nodes,):
            raise PropagationError(f"reference must have shape ({system.n_nodes},), "
                                   f"not {self.reference.shape}")
        # Per node: whether its own inputs (credence, presence, in-edge weights) differ from the
        # system's in some column; per node, whether its strength may differ (``dirty``).
        self.inputs = _differs(W, system.base)
        if held is not None:
            self.inputs |= held.any(axis=1)
        edges = _differs(U, system.weight)
        self.inputs[system.dst[edges]] = True
        self.dirty = np.zeros(system.n_nodes, dtype=bool)

    def start(self):
        if self.reference is None:
            return np.zeros((self.system.n_nodes, self.count))
        return np.repeat(self.reference[:, None], self.count, axis=1)

    def touched(self, stage):
        """The rows of ``stage`` some changed input reaches (a boolean mask, or a slice of them
        all), or None if there are none; marks them as changed."""
        if self.reference is None:
            return slice(None)
        parent = self.dirty[stage.parents][stage.src].astype(float)
        touched = self.inputs[stage.rows] | (np.bincount(stage.row, weights=parent,
                                                         minlength=stage.k) > 0)
        if not touched.any():
            return None
        self.dirty[stage.rows] = True if stage.cyclic else touched
        return touched

    def columns(self, stage, S):
        """The columns in which a cyclic stage's inputs differ from the reference: only there
        can its fixed point differ (elsewhere it is the reference's)."""
        if self.reference is None:
            return np.arange(self.count)
        rows, parents = stage.rows, stage.parents
        changed = (S[parents] != self.reference[parents][:, None]).any(axis=0)
        if self.W.ndim == 2:
            changed |= (self.W[rows] != self.system.base[rows][:, None]).any(axis=0)
        if self.U.ndim == 2:
            changed |= (self.U[stage.eid] != self.system.weight[stage.eid][:, None]).any(axis=0)
        if stage.index in self.absent:
            changed[self.absent[stage.index][1]] = True
        return np.flatnonzero(changed)


def _differs(values, default):
    """Per row: whether ``values`` (a vector or columns) differs from ``default`` anywhere."""
    if values is default:
        return np.zeros(len(default), dtype=bool)
    if values.ndim == 1:
        return values != default
    return (values != default[:, None]).any(axis=1)


def _absent_by_stage(system, held):
    """``{stage: (rows within the stage, columns)}`` of the absent nodes (``held``: nodes x
    columns), so that holding them costs what they number, not a mask of the whole stage."""
    nodes, cols = np.nonzero(held)
    stage = system.stage_of[nodes]
    order = np.argsort(stage, kind="stable")
    nodes, cols, stage = nodes[order], cols[order], stage[order]
    cuts = np.flatnonzero(np.r_[True, stage[1:] != stage[:-1], True]) if len(stage) else []
    return {int(stage[a]): (system.local[nodes[a:b]], cols[a:b])
            for a, b in zip(cuts[:-1], cuts[1:])}


def _in_columns(hold, cols):
    """The absent ``(rows, columns)`` among the columns ``cols`` (sorted), renumbered."""
    if hold is None:
        return None
    keep = np.isin(hold[1], cols)
    return hold[0][keep], np.searchsorted(cols, hold[1][keep])


def _update(sem, stage, P, p, u, hold):
    """One update of the stage's rows in every column, absent ``(rows, columns)`` held at 0."""
    value = sem.influence.value(p, sem.aggregation.columns(stage, P, u))
    np.clip(value, 0.0, 1.0, out=value)
    if hold is not None:
        value[hold] = 0.0
    return value


def _cyclic(sem, stage, P, w, u, hold, tolerance, budget):
    """The fixed point of a cyclic stage in every column, as ``solve`` defines it.

    ``P`` holds the strengths of the stage's parents (those inside the stage are overwritten as
    the state moves). The ODE is followed from the credences until the residual is below
    :data:`HANDOVER`; the plain iteration then finishes from there, converging to the fixed
    point the trajectory was approaching wherever ``f`` contracts around it. Returns the
    stage's strengths and, per column, whether the residual fell below the tolerance.
    """
    p = sem.influence.prepare(w)

    def f(x):
        P[stage.inner] = x[stage.inner_rows]
        return _update(sem, stage, P, p, u, hold)

    x = np.repeat(w, P.shape[1], axis=1) if w.shape[1] != P.shape[1] else w.copy()
    if hold is not None:
        x[hold] = 0.0
    x, residual, evaluations, _ = integrate(f, x, until=max(HANDOVER, tolerance),
                                            budget=budget // 2)
    best, stalled = np.full(x.shape[1], np.inf), 0
    while evaluations < budget and stalled < PICARD_PATIENCE:
        fx = f(x)
        evaluations += 1
        residual = np.abs(fx - x).max(axis=0, initial=0.0)
        if residual.max(initial=0.0) < tolerance:
            break
        stalled = 0 if (residual < 0.5 * best).any() else stalled + 1
        best = np.minimum(best, residual)
        x = fx
    return x, np.abs(f(x) - x).max(axis=0, initial=0.0) < tolerance
