"""Propagation: the strength of every node under a gradual argumentation semantics.

The argument graph is a quantitative bipolar argumentation framework: every node has a base
score (its ``credence``, written ``w`` below), every edge supports or undermines its target with
a ``weight`` ``u`` in [0, 1]. A semantics turns that into a ``strength`` in [0, 1] for every node.
Following the modular view of Mossakowski & Neuhaus (2018) and Potyka's Uncertainpy, a semantics
is an *aggregation* of the parents' strengths paired with an *influence* function of the base
score and that aggregate; one update of node ``i`` is ``f_i(s) = influence(w_i, aggregate_i(s))``
and the strengths are the limit of the continuous system ``ds/dt = f(s) - s`` started at the
credences, a fixed point ``s = f(s)``.

=========  ==========================================  =================================
name       aggregation                                 influence
=========  ==========================================  =================================
``qe``     ``E = sum u*s (supporters)                  ``w + (1-w) h(E)`` if ``E > 0`` else
           - sum u*s (attackers)``                     ``w - w h(-E)``, ``h(x)=x^2/(1+x^2)``
``dfquad`` ``D = v_s - v_a``, ``v = 1 - prod(1-u*s)``  ``w + (1-w) D`` if ``D > 0`` else
           over supporters / attackers                 ``w + w D``
``eb``     ``E`` as for ``qe``                         ``1 - (1-w^2) / (1 + w exp(E))``
=========  ==========================================  =================================

With every weight 1 these are the published semantics: quadratic energy (Potyka, KR 2018),
DF-QuAD (Rago, Toni, Aurisicchio & Baroni, KR 2016) and Euler-based (Amgoud & Ben-Naim, 2017).
A weight scales the source's strength inside the aggregation; parallel edges are separate parents.

The solver (:func:`solve`) takes the strongly connected components in topological order of the
condensation, grouped into *stages* (one generation of the condensation; components of one
generation never touch each other). Acyclic stages are evaluated once, exactly. A cyclic stage is
first *certified*: an interval iteration shrinks the box ``[0, 1]^n`` to boxes that hold every fixed
point, and if ``f`` is a contraction on such a box (its Jacobian bounded in a weighted max-norm
below 1) the fixed point is unique, the ODE from the credences converges to it, and the plain
iteration ``s <- f(s)`` started inside the box provably reaches it; that is what runs then.
Otherwise the ODE itself is integrated (Bogacki-Shampine 3(2), adaptive), and once the state is
certified to lie in a ball where ``f`` contracts (so the ODE's limit is the one fixed point of that
ball) the plain iteration finishes the job inside the ball. Every step is vectorised over the
stage with numpy / scipy.sparse. The integrator (:func:`integrate`) is the package's only one:
:mod:`graph.solving.batch`, the engine that solves many variants of one system at once, calls it too. :func:`_score_python` is a plain-Python reference (RK4 with a
fixed step on each cyclic component), held to this solver by the tests.

:class:`Sensitivity` gives exact derivatives at the fixed point: d strength[t] / d credence and
d strength[t] / d weight, by one adjoint solve with ``(I - J)^T``.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

from graph.core.model import DEFAULT_CREDENCE, DEFAULT_WEIGHT, TakeoffError

SUPPORTS, UNDERMINES = "supports", "undermines"
RELATION_CODE = {SUPPORTS: 0, UNDERMINES: 1}
DEFAULT_TOLERANCE = 1e-9
DEFAULT_MAX_STEPS = 10_000

# The ODE is integrated to this local accuracy per step (and to a tenth of the residual near the
# limit): enough to follow the trajectory into its basin, loose enough that steps stay long (the
# limit itself is exact whatever the step).
ODE_ATOL = 1e-4
ODE_RELATIVE = 0.1
# Beyond this step Bogacki-Shampine leaves its stability region for any f with Lipschitz
# constant near 1 or more, and its stages leave the cube.
ODE_MAX_STEP = 2.0
# Residual below which the ODE starts trying to certify a ball (see _certify_ball).
BALL_START = 1e-2
# Interval steps tried before the stage is handed to the ODE.
MAX_BOX_STEPS = 30
# Power iterations that tune the weights of the max-norm in a contraction test: more for the
# first test, fewer later (each test starts from the weights of the one before).
NORM_ITERATIONS = (4, 2)


class PropagationError(TakeoffError, ValueError):
    """Bad input to the solver: a credence or weight out of range, an unknown relation or id."""


# ---------------------------------------------------------------------------------------------
# Influence functions (vectorised). Each works on prepared base scores (see ``prepare``) and an
# aggregate array; ``slope`` is d influence / d aggregate, ``base_slope`` d influence / d w, and
# ``max_slope`` bounds ``slope`` over an interval of aggregates (for the contraction tests).
# ---------------------------------------------------------------------------------------------

def expit(z):
    """The logistic function ``1 / (1 + e^-z)``, without overflow and accurate in both tails
    (scipy.special's, which costs an import of its own for this one function)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def _h(x):
    x2 = x * x
    return x2 / (1.0 + x2)


def _h_prime(x):
    return 2.0 * x / (1.0 + x * x) ** 2


class QuadraticMaximumInfluence:
    """Potyka's quadratic-energy influence ``w + (1-w) h(E)`` / ``w - w h(-E)``."""

    name = "quadratic maximum"
    _PEAK = 1.0 / math.sqrt(3.0)  # h' rises on [0, 1/sqrt 3] and falls after

    def prepare(self, w):
        return w, 1.0 - w, -w

    def value(self, p, a):
        w, up, down = p
        out = _h(a)   # w + where(...) * h(a), in place: the batched solve's arrays are large
        out *= np.where(a > 0, up, down)
        out += w
        return out

    def slope(self, p, a):
        w, up, down = p
        return np.where(a > 0, up, w) * _h_prime(np.abs(a))

    def base_slope(self, p, a):
        return 1.0 - _h(a)

    def max_slope(self, p, lo, hi):
        w = p[0]
        up = _h_prime(np.clip(self._PEAK, np.maximum(lo, 0.0), np.maximum(hi, 0.0)))
        down = _h_prime(np.clip(self._PEAK, np.maximum(-hi, 0.0), np.maximum(-lo, 0.0)))
        return np.maximum(np.where(hi > 0, (1.0 - w) * up, 0.0), np.where(lo < 0, w * down, 0.0))


class LinearInfluence:
    """DF-QuAD's influence: ``w + (1-w) D`` if support wins, else ``w + w D`` (``D <= 0``)."""

    name = "linear"

    def prepare(self, w):
        return w, 1.0 - w

    def value(self, p, a):
        w, up = p
        out = np.where(a > 0, up, w)   # w + where(...) * a, in place
        out *= a
        out += w
        return out

    def slope(self, p, a):
        w, up = p
        return np.where(a > 0, up, w)

    def base_slope(self, p, a):
        return np.where(a > 0, 1.0 - a, 1.0 + a)

    def max_slope(self, p, lo, hi):
        w = p[0]
        return np.where(lo > 0, 1.0 - w, np.where(hi <= 0, w, np.maximum(w, 1.0 - w)))


class ExponentialInfluence:
    """The Euler-based influence ``1 - (1-w^2) / (1 + w e^E)``.

    Evaluated as ``w + w(1-w) expm1(E) / (1 + w e^E)`` (the same function), which is exactly
    ``w`` at ``E = 0`` and exactly 0 at ``w = 0``; ``E`` is clipped to +-700 to keep ``exp`` finite
    (beyond that the value is 1 or ``w^2`` to double precision). The slopes use
    ``expit(z) expit(-z)`` with ``z = E + ln w``.
    """

    name = "exponential"

    def prepare(self, w):
        with np.errstate(divide="ignore"):
            return w, np.log(w), 1.0 - w * w, w * (1.0 - w)

    def value(self, p, a):
        w, logw, c, spread = p
        a = np.clip(a, -700.0, 700.0)
        return w + spread * np.expm1(a) / (1.0 + w * np.exp(a))

    def slope(self, p, a):
        w, logw, c, _ = p
        z = a + logw
        return c * expit(z) * expit(-z)

    def base_slope(self, p, a):
        w, logw, c, _ = p
        z = a + logw
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # d/dw of 1 - (1-w^2)/(1+y), y = w e^E: 2w/(1+y) + (1-w^2) e^E/(1+y)^2.
            inner = np.where(w > 0, expit(z) * expit(-z) / w, np.exp(np.minimum(a, 700.0)))
        return 2.0 * w * expit(-z) + c * inner

    def max_slope(self, p, lo, hi):
        w, logw, c, _ = p
        z = np.clip(0.0, lo + logw, hi + logw)
        return c * expit(z) * expit(-z)


# ---------------------------------------------------------------------------------------------
# The structure the solver works on: edges grouped by (target row, relation).
# ---------------------------------------------------------------------------------------------

class _Segments:
    """In-edges of a set of rows, grouped by (row, relation): group ``2*row + relation``.

    ``src`` indexes the vector the sources are read from (local to a stage for internal edges,
    global for external ones). The edges come sorted by (row, relation), so each group is a run
    and a sum per row is one ``bincount``. For products (DF-QuAD) the edges are also bucketed by
    group size, on first use: the ``c`` groups with ``d`` edges form a ``d x c`` block whose
    columns are the groups, so a product over every group is ``d - 1`` vector operations instead
    of one tiny reduction per group.
    """

    def __init__(self, eid, src, row, rel, weight, k, matrices=False):
        self.eid, self.src, self.row, self.rel, self.k = eid, src, row, rel, k
        self.group = row * 2 + rel
        self._buckets = self._u_bucketed = None
        self.sign = np.where(rel == 0, 1.0, -1.0)
        self.u = np.take(weight, eid)
        self.matrices = matrices
        if matrices:   # CSR in the given (row-sorted) order: no sort, parallel edges kept
            self.indptr = np.zeros(k + 1, dtype=np.intp)
            np.cumsum(np.bincount(row, minlength=k), out=self.indptr[1:])
            self._set_matrices()

    def _set_matrices(self):
        k = self.k
        # Reweighted, M's index arrays are taken as they are: nothing is copied or cast.
        indices, indptr = (self.M.indices, self.M.indptr) if hasattr(self, "M") \
            else (self.src, self.indptr)
        self.M = sp.csr_matrix((self.sign * self.u, indices, indptr), shape=(k, k))
        self.absM = sp.csr_matrix((self.u, self.M.indices, self.M.indptr), shape=(k, k))

    def reweighted(self, weight):
        """The same segments with other edge weights: a few gathers, nothing sorted again."""
        other = copy.copy(self)
        other.u = np.take(weight, self.eid)
        other._u_bucketed = None
        if self.matrices:
            other._set_matrices()
        return other

    def __len__(self):
        return len(self.eid)

    def signed_sum(self, values):
        """Per row: sum over supports minus sum over attacks of ``values`` (one per edge)."""
        return np.bincount(self.row, weights=self.sign * values, minlength=self.k)

    def products(self, factors):
        """Per row: products of ``factors`` (one per edge) over supports and over attacks
        (empty product 1)."""
        perm, buckets, _ = self._bucketed()
        return self._products(np.take(factors, perm), buckets)

    def factor_products(self, x):
        """:meth:`products` of the factors ``q = 1 - u * x[src]``, made in bucket order; and
        those factors, in bucket order."""
        perm, buckets, src = self._bucketed()
        q = np.take(x, src)
        q *= self.u_bucketed()[1]
        q += 1.0
        return (*self._products(q, buckets), q)

    def u_bucketed(self):
        """The weights in bucket order and their negatives (made once per set of weights)."""
        if self._u_bucketed is None:
            u = np.take(self.u, self._bucketed()[0])
            self._u_bucketed = (u, -u)
        return self._u_bucketed

    def spread_bucketed(self, per_group):
        """Per edge, in bucket order: the value of its group in ``per_group`` (length 2k)."""
        out = np.empty(len(self.eid))
        for offset, d, c, groups in self._bucketed()[1]:
            out[offset:offset + d * c].reshape(d, c)[:] = per_group[groups]
        return out

    def unbucketed(self, values):
        """Values per edge in bucket order, put back in the edges' order."""
        out = np.empty(len(values))
        out[self._bucketed()[0]] = values
        return out

    def _products(self, factors, buckets):
        out = np.ones(2 * self.k)
        for offset, d, c, groups in buckets:
            out[groups] = factors[offset:offset + d * c].reshape(d, c).prod(axis=0)
        return out[0::2], out[1::2]

    def _bucketed(self):
        """The order of the edges bucketed by group size, per bucket ``(offset, d, c,
        groups)``, and the sources in that order; made once (none depends on the weights)."""
        if self._buckets is None:
            m = len(self.eid)
            starts = np.flatnonzero(np.r_[True, self.group[1:] != self.group[:-1]]) if m \
                else np.zeros(0, dtype=np.intp)
            sizes = np.diff(np.r_[starts, m])
            by_size = np.argsort(sizes, kind="stable")
            sorted_sizes = sizes[by_size]
            cuts = np.flatnonzero(np.r_[True, sorted_sizes[1:] != sorted_sizes[:-1], True]) \
                if m else np.zeros(1, dtype=np.intp)
            buckets, perms, offset = [], [], 0
            for a, b in zip(cuts[:-1], cuts[1:]):
                d, first = int(sorted_sizes[a]), starts[by_size[a:b]]
                perms.append((first[None, :] + np.arange(d)[:, None]).ravel())
                buckets.append((offset, d, b - a, self.group[first]))
                offset += d * (b - a)
            perm = np.concatenate(perms) if perms else np.zeros(0, dtype=np.intp)
            self._buckets = (perm, buckets, np.take(self.src, perm))
        return self._buckets

    def row_matrix(self, values):
        """``values`` (one per edge) as a k x k CSR matrix, for fast products; only for
        segments built with ``matrices``."""
        # The index arrays of M, already in scipy's index dtype: nothing is copied or cast.
        return sp.csr_matrix((values, self.M.indices, self.M.indptr), shape=(self.k, self.k))


class _Block:
    """One stage of the solve (or the whole graph): its rows and the edges into them."""

    def __init__(self, nodes, cyclic, internal, external):
        self.nodes, self.cyclic = nodes, cyclic
        self.k = len(nodes)
        self.int, self.ext = internal, external
        # The signed weights and their absolute values (None without internal edges).
        self.M, self.absM = getattr(internal, "M", None), getattr(internal, "absM", None)

    def reweighted(self, weight):
        return _Block(self.nodes, self.cyclic, self.int.reweighted(weight),
                      self.ext.reweighted(weight))


class SumAggregation:
    """``E = sum(u * s) over supporters - sum(u * s) over attackers`` (qe, eb)."""

    name = "sum"

    def external(self, block, s):
        ext = block.ext
        return ext.signed_sum(ext.u * s[ext.src])

    def value(self, block, const, x):
        return const + block.M @ x if block.M is not None else const

    def box(self, block, const, lo, hi):
        """Exact range of the aggregate over the box ``[lo, hi]``: supporters high and attackers
        low give the top, the reverse the bottom."""
        mid, rad = block.M @ (lo + hi), block.absM @ (hi - lo)
        return const + 0.5 * (mid - rad), const + 0.5 * (mid + rad), None

    def partials(self, block, const, x):
        """d aggregate_row / d x_src and d aggregate_row / d u, one per internal edge."""
        seg = block.int
        return seg.sign * seg.u, seg.sign * x[seg.src]

    def columns(self, stage, P, u):
        """The aggregates of a stage's rows in every column (:mod:`graph.solving.batch`): ``P`` holds
        the strengths of the stage's parents (parents x columns), ``u`` the weights of its
        in-edges, one each (shared by every column) or one row of columns each."""
        if u.ndim == 1:
            return stage.signed(u) @ P
        return stage.incidence @ (u * P[stage.src])  # incidence holds the signs

    def bound(self, block, lo, extra, slope):
        """``d -> B d`` for a matrix B >= |J| on the box (``slope`` bounds the influence's
        slope there; ``extra`` comes from :meth:`box`)."""
        return lambda d: slope * (block.absM @ d)


class ProductAggregation:
    """``D = v_s - v_a`` with ``v = 1 - prod(1 - u * s)`` over supporters / attackers (dfquad).

    Products are taken directly, so a factor ``1 - u*s`` of exactly 0 gives ``v = 1`` exactly,
    with no logarithm of 0.
    """

    name = "product"

    def external(self, block, s):
        ps, pa, _ = block.ext.factor_products(s)
        return ps, pa

    def value(self, block, const, x):
        ps, pa, _ = self._totals(block, const, x)
        return pa - ps

    def _totals(self, block, const, x):
        """Products over supporters and attackers (external factors included), and the internal
        factors ``1 - u * x_src`` (in the internal edges' bucket order)."""
        ps, pa = const
        q = None
        if len(block.int):
            qs, qa, q = block.int.factor_products(x)
            ps, pa = ps * qs, pa * qa
        return ps, pa, q

    def box(self, block, const, lo, hi):
        """Exact range of D over the box: supporters high and attackers low give the top."""
        ps_lo, pa_lo, q_lo = self._totals(block, const, lo)
        ps_hi, pa_hi, _ = self._totals(block, const, hi)
        return pa_hi - ps_lo, pa_lo - ps_hi, (ps_lo, pa_lo, q_lo)

    def _others(self, block, const, x):
        """Per internal edge: the product of the other factors of its group, exact when a
        factor is 0 (counted, not divided by)."""
        seg = block.int
        q = 1.0 - seg.u * x[seg.src]
        zero = q == 0.0
        nz_s, nz_a = seg.products(np.where(zero, 1.0, q))
        cs, ca = const
        nonzero = np.where(seg.rel == 0, (cs * nz_s)[seg.row], (ca * nz_a)[seg.row])
        zeros = np.bincount(seg.group, weights=zero, minlength=2 * block.k)[seg.group]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(zeros == 0, nonzero / np.where(zero, 1.0, q),
                            np.where((zeros == 1) & zero, nonzero, 0.0))

    def columns(self, stage, P, u):
        """As :meth:`SumAggregation.columns`: products over each (row, relation) group."""
        out = np.ones((2 * stage.k, P.shape[1]))  # no supporters (attackers): v = 0
        if len(stage.src):
            terms = P[stage.src] * (u[:, None] if u.ndim == 1 else u)
            out[stage.groups] = np.multiply.reduceat(1.0 - terms, stage.starts, axis=0)
        return out[1::2] - out[0::2]

    def partials(self, block, const, x):
        seg = block.int
        others = self._others(block, const, x)
        return seg.sign * seg.u * others, seg.sign * x[seg.src] * others

    def bound(self, block, lo, extra, slope):
        # d v / d x_j = u_j * prod_{k != j} (1 - u_k x_k) is largest where the other factors are,
        # at lo; there the product of the others is the group's product over this factor.
        # In the bucket order of the factors q_lo, put back in the edges' order at the end.
        seg = block.int
        ps_lo, pa_lo, q_lo = extra
        grouped = np.empty(2 * block.k)
        grouped[0::2], grouped[1::2] = ps_lo, pa_lo
        others = np.ones(len(q_lo))
        np.divide(seg.spread_bucketed(grouped), q_lo, out=others, where=q_lo > 0.0)
        np.minimum(others, 1.0, out=others)
        others *= seg.u_bucketed()[0]
        B = seg.row_matrix(seg.unbucketed(others))
        return lambda d: slope * (B @ d)


@dataclass(frozen=True)
class Semantics:
    """A gradual semantics: an aggregation paired with an influence function."""

    name: str
    title: str
    reference: str
    aggregation: object
    influence: object

    def __str__(self):
        return self.name


SEMANTICS = {
    "qe": Semantics("qe", "quadratic energy",
                    "N. Potyka, Continuous dynamical systems for weighted bipolar "
                    "argumentation, KR 2018",
                    SumAggregation(), QuadraticMaximumInfluence()),
    "dfquad": Semantics("dfquad", "DF-QuAD",
                        "A. Rago, F. Toni, M. Aurisicchio, P. Baroni, Discontinuity-free decision "
                        "support with quantitative argumentation debates, KR 2016",
                        ProductAggregation(), LinearInfluence()),
    "eb": Semantics("eb", "Euler-based",
                    "L. Amgoud, J. Ben-Naim, Evaluation of arguments in weighted bipolar graphs, "
                    "ECSQARU 2017",
                    SumAggregation(), ExponentialInfluence()),
}


def get_semantics(semantics):
    """The :class:`Semantics` named ``semantics`` (or ``semantics`` itself if it is one)."""
    if isinstance(semantics, Semantics):
        return semantics
    try:
        return SEMANTICS[semantics]
    except (KeyError, TypeError):
        raise PropagationError(f"unknown semantics {semantics!r} (choose from "
                               f"{', '.join(SEMANTICS)})") from None


# ---------------------------------------------------------------------------------------------
# The system: node index, edge arrays and the stage plan.
# ---------------------------------------------------------------------------------------------

class System:
    """A graph as arrays, ready to be solved any number of times.

    Attributes
    ----------
    ids : list
        Node ids; node ``i`` of every vector is ``ids[i]``.
    index : dict
        ``{id: i}``.
    base : numpy.ndarray
        The credences.
    src, dst : numpy.ndarray of int
        Source and target index of every edge.
    relation : numpy.ndarray of int8
        0 for supports, 1 for undermines.
    weight : numpy.ndarray
        Edge weights.
    edges : list of tuple
        ``(source id, target id, relation)`` of every edge, in the order of the arrays.
    cyclic : numpy.ndarray of bool
        Whether each node lies on a cycle (a strongly connected component with an edge inside).
    stages : list
        The solve plan: blocks of nodes in topological order of the condensation.
    """

    def __init__(self, ids, base, src, dst, relation, weight, edges=None, plan=None, index=None):
        self.ids = ids
        self.index = {v: i for i, v in enumerate(ids)} if index is None else index
        self.base = base
        self.src, self.dst, self.relation, self.weight = src, dst, relation, weight
        self._edges = edges
        self._plan = plan if plan is not None else _plan(len(ids), src, dst, relation)
        self.cyclic = self._plan.cyclic
        self._stages = self._whole = None

    @property
    def edges(self):
        """``(source id, target id, relation)`` of every edge, made on first use (a system
        made from columns has none until asked)."""
        if self._edges is None:
            ids, names = self.ids, (SUPPORTS, UNDERMINES)
            self._edges = [(ids[u], ids[v], names[r]) for u, v, r in
                           zip(self.src.tolist(), self.dst.tolist(), self.relation.tolist())]
        return self._edges

    @property
    def n_nodes(self):
        return len(self.ids)

    @property
    def n_edges(self):
        return len(self.src)

    @property
    def stages(self):
        """The solve plan: one block per stage (nodes and the edges into them), in topological
        order of the condensation; built on first use."""
        if self._stages is None:
            self._stages = [_block_from(self._plan, k, cyclic, self.weight)
                            for k, cyclic in enumerate(self._plan.cyclic_stages)]
        return self._stages

    @property
    def stage_cyclic(self):
        """Per stage: whether it is cyclic (its nodes lie on cycles)."""
        return self._plan.cyclic_stages

    def stage_nodes(self, k):
        """The node indices of stage ``k``."""
        return self._plan.nodes[self._plan.node_ptr[k]:self._plan.node_ptr[k + 1]]

    @property
    def whole(self):
        """The whole graph as one block (for ``f(s)`` and derivatives), built on first use."""
        if self._whole is None:
            if self._plan.whole is None:
                self._plan.whole = _whole_plan(self._plan)
            self._whole = _block_from(self._plan.whole, 0, True, self.weight)
        return self._whole

    def with_weights(self, weight):
        """The same graph with other edge weights (an array in the order of ``edges``); shares
        the stage plan and the blocks' structure, so it costs a few array gathers, not a
        rebuild."""
        weight = np.asarray(weight, dtype=float)
        _check_range(weight, "weight", lambda i: "edge {} -> {} ({})".format(*self.edges[i]))
        other = copy.copy(self)
        other.weight = weight
        other._stages = None if self._stages is None else [block.reweighted(weight)
                                                           for block in self._stages]
        other._whole = None
        return other

    @property
    def stage_of(self):
        """Per node: the position of its stage in :attr:`stages`."""
        return self._plan.stage_of

    @property
    def local(self):
        """Per node: its row within its stage."""
        return self._plan.local

    def stage_edges(self, k):
        """The edges into stage ``k``, sorted by (row within the stage, relation) and stably
        within that: their positions in the edge arrays, and their rows."""
        plan = self._plan
        a, b = plan.edge_ptr[k], plan.edge_ptr[k + 1]
        return plan.order[a:b], plan.row[a:b]

    def restricted(self, nodes, base=None):
        """The system of ``nodes`` (sorted node indices) and the edges among them, with its own
        stage plan, and ``base`` (credences of the whole system) if given. For a set closed
        upwards (every node that reaches one of them is among them) the strengths of its nodes
        are those of the whole system."""
        nodes = np.asarray(nodes, dtype=np.intp)
        base = self.base if base is None else np.asarray(base, dtype=float)
        position = np.full(self.n_nodes, -1, dtype=np.intp)
        position[nodes] = np.arange(len(nodes))
        inside = np.flatnonzero((position[self.src] >= 0) & (position[self.dst] >= 0))
        return System([self.ids[i] for i in nodes], base[nodes], position[self.src[inside]],
                      position[self.dst[inside]], self.relation[inside], self.weight[inside],
                      [self.edges[e] for e in inside])

    def edge_positions(self, source, target, relation):
        """Indices of the edges ``source -relation-> target`` (several if parallel)."""
        if self._edge_lookup is None:
            lookup = {}
            for i, key in enumerate(self.edges):
                lookup.setdefault(key, []).append(i)
            self._edge_lookup = lookup
        return self._edge_lookup.get((source, target, relation), [])

    _edge_lookup = None

    def base_vector(self, credences):
        """The credence vector with ``{id: credence}`` overrides applied."""
        base = self.base.copy()
        for node, value in credences.items():
            if node not in self.index:
                raise PropagationError(f"credence override for unknown node {node!r}")
            base[self.index[node]] = value
        _check_range(base, "credence", lambda i: f"node {self.ids[i]!r}")
        return base

    def weight_vector(self, weights):
        """The weight vector with ``{(source, target, relation): weight}`` overrides applied."""
        weight = self.weight.copy()
        for key, value in weights.items():
            if not isinstance(key, tuple) or len(key) != 3:
                raise PropagationError(f"weight override key {key!r} is not a "
                                       f"(source, target, relation) triple")
            positions = self.edge_positions(*key)
            if not positions:
                raise PropagationError("weight override for unknown edge {} -{}-> {}".format(
                    key[0], key[2], key[1]))
            weight[positions] = value
        return weight


@dataclass
class _Plan:
    n: int
    src: np.ndarray        # global edge order
    dst: np.ndarray
    relation: np.ndarray
    cyclic: np.ndarray     # per node
    order: np.ndarray      # edges sorted by (stage position of target, relation)
    row: np.ndarray        # local row of each sorted edge within its stage
    local: np.ndarray      # per node: position within its stage
    stage_of: np.ndarray   # per node
    nodes: np.ndarray      # nodes sorted by stage
    node_ptr: np.ndarray   # stage k holds nodes[node_ptr[k]:node_ptr[k+1]]
    edge_ptr: np.ndarray   # and sorted edges order[edge_ptr[k]:edge_ptr[k+1]]
    rel: np.ndarray        # relation of each sorted edge
    cyclic_stages: list    # per stage: whether it is cyclic
    whole: "_Plan" = None


def _plan(n, src, dst, relation):
    """Order the nodes by generation of the condensation, acyclic and cyclic stages apart."""
    cyclic, level = _levels(n, src, dst)
    # Stage key: two per generation, acyclic first (they never feed each other in one level).
    key = level * 2 + cyclic
    nodes = np.argsort(key, kind="stable")
    keys_sorted = key[nodes]
    cuts = np.flatnonzero(np.r_[True, keys_sorted[1:] != keys_sorted[:-1], True]) if n \
        else np.zeros(1, dtype=np.intp)
    stage_of = np.empty(n, dtype=np.intp)
    local = np.empty(n, dtype=np.intp)
    cyclic_stages = []
    for k, (a, b) in enumerate(zip(cuts[:-1], cuts[1:])):
        stage_of[nodes[a:b]] = k
        local[nodes[a:b]] = np.arange(b - a)
        cyclic_stages.append(bool(keys_sorted[a] % 2))
    node_ptr = cuts.astype(np.intp)
    position = np.empty(n, dtype=np.intp)
    position[nodes] = np.arange(n)
    return _sorted_plan(n, src, dst, relation, cyclic, position, stage_of, local, nodes,
                        node_ptr, cyclic_stages)


def _whole_plan(plan):
    """The plan of the whole graph as one block (for f(s) and derivatives)."""
    n = plan.n
    return _sorted_plan(n, plan.src, plan.dst, plan.relation, plan.cyclic, np.arange(n),
                        np.zeros(n, dtype=np.intp), np.arange(n), np.arange(n),
                        np.array([0, n], dtype=np.intp), [True])


def _sorted_plan(n, src, dst, relation, cyclic, position, stage_of, local, nodes, node_ptr,
                 cyclic_stages):
    """The plan with the edges sorted by (position of the target, relation)."""
    order = _counting_order(position[dst] * 2 + relation, 2 * n)
    dst_sorted = np.take(dst, order)
    edge_stage = stage_of[dst_sorted]
    edge_ptr = np.searchsorted(edge_stage, np.arange(len(cyclic_stages) + 1))
    return _Plan(n, src, dst, relation, cyclic, order, local[dst_sorted], local, stage_of, nodes,
                 node_ptr, edge_ptr, np.take(relation, order), cyclic_stages)


def _counting_order(key, size):
    """The permutation that sorts integer ``key`` (values in [0, size)) stably, in
    O(len + size): numpy's radix sort of 16-bit keys where they fit (a fraction of the scipy
    call's fixed cost on a small graph), else scipy's COO to CSR conversion, a counting sort."""
    if size <= 1 << 16:
        return np.argsort(key.astype(np.uint16), kind="stable")
    m = len(key)
    coo = sp.coo_matrix((np.ones(m, dtype=np.int8), (key, np.arange(m))), shape=(size, m))
    return coo.tocsr().indices.astype(np.intp)


def _levels(n, src, dst):
    """Per node: whether it lies on a cycle, and the generation of its strongly connected
    component in the condensation (longest path from a source component)."""
    if n == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=np.intp)
    adjacency = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    count, label = connected_components(adjacency, directed=True, connection="strong")
    size = np.bincount(label, minlength=count)
    comp_cyclic = size > 1
    comp_cyclic[label[src[src == dst]]] = True
    cs, cd = label[src], label[dst]
    between = cs != cd
    pairs = np.sort(cs[between].astype(np.int64) * count + cd[between])
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    cs, cd = pairs // count, pairs % count
    indegree = np.bincount(cd, minlength=count)
    out_ptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(cs, minlength=count), out=out_ptr[1:])   # pairs are sorted by cs
    comp_level = np.zeros(count, dtype=np.intp)
    frontier = np.flatnonzero(indegree == 0)
    generation = 0
    while len(frontier):   # Kahn's algorithm, one generation per pass
        comp_level[frontier] = generation
        starts, stops = out_ptr[frontier], out_ptr[frontier + 1]
        lengths = stops - starts
        edges = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        targets = cd[edges]
        hits = np.bincount(targets, minlength=count)
        indegree -= hits
        frontier = np.flatnonzero((indegree == 0) & (hits > 0))
        generation += 1
    return comp_cyclic[label], comp_level[label]


def _block_from(plan, k, cyclic, weight):
    """The block of stage ``k`` of ``plan`` with these edge weights."""
    a, b = plan.node_ptr[k], plan.node_ptr[k + 1]
    nodes = plan.nodes[a:b]
    ea, eb = plan.edge_ptr[k], plan.edge_ptr[k + 1]
    eid = plan.order[ea:eb]
    row, rel = plan.row[ea:eb], plan.rel[ea:eb]
    src = plan.src[eid]
    if not cyclic:   # no edge joins two nodes of one generation: every parent is outside
        empty = np.zeros(0, dtype=np.intp)
        return _Block(nodes, False, _Segments(empty, empty, empty, empty, weight, b - a),
                      _Segments(eid, src, row, rel, weight, b - a))
    inside = plan.stage_of[src] == k
    internal = _Segments(eid[inside], plan.local[src[inside]], row[inside], rel[inside], weight,
                         b - a, matrices=True)
    external = _Segments(eid[~inside], src[~inside], row[~inside], rel[~inside], weight, b - a)
    return _Block(nodes, True, internal, external)


def _check_range(values, what, where):
    bad = np.flatnonzero(~((values >= 0.0) & (values <= 1.0)))
    if len(bad):
        raise PropagationError(f"{what} of {where(bad[0])} is {float(values[bad[0]])!r}; "
                               f"it must be a number in [0, 1]")


def build_system(G):
    """Turn a graph into a :class:`System`: node index, edge arrays and the stage plan.

    Parameters
    ----------
    G : networkx.DiGraph or networkx.MultiDiGraph
        Node attribute ``credence`` (default 0.5); edge attributes ``relation``
        (``"supports"`` or ``"undermines"``) and ``weight`` (default 1). Parallel edges of a
        MultiDiGraph are separate parents.

    Returns
    -------
    System

    Raises
    ------
    PropagationError
        A credence or weight outside [0, 1] or not a number, or an unknown relation.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_node("a", credence=0.9); G.add_node("b", credence=0.5)
    >>> G.add_edge("a", "b", relation="supports", weight=1.0)
    >>> system = build_system(G)
    >>> system.ids, system.n_edges
    (['a', 'b'], 1)
    """
    nodes = list(G.nodes(data="credence", default=DEFAULT_CREDENCE))
    ids = [v for v, _ in nodes]
    index = {v: i for i, v in enumerate(ids)}
    try:   # float() of each, as _number: None or a list is refused, not made NaN by numpy
        base = np.array([float(c) for _, c in nodes], dtype=float).reshape(len(ids))
    except (TypeError, ValueError):
        base = np.array([_number(c, "credence", f"node {v!r}") for v, c in nodes], dtype=float)
    _check_range(base, "credence", lambda i: f"node {ids[i]!r}")
    # Comprehensions over the adjacency (not G.edges' views): walking networkx's dicts is most
    # of the build time.
    if G.is_multigraph():
        found = [(u, v, attrs) for u, neighbours in G.adjacency()
                 for v, keyed in neighbours.items() for attrs in keyed.values()]
    else:
        found = [(u, v, attrs) for u, neighbours in G.adjacency()
                 for v, attrs in neighbours.items()]
    m = len(found)
    edges = [(u, v, attrs.get("relation")) for u, v, attrs in found]
    weights = [attrs.get("weight", DEFAULT_WEIGHT) for _, _, attrs in found]
    try:
        relation = np.array([RELATION_CODE[r] for _, _, r in edges], dtype=np.int8).reshape(m)
    except (KeyError, TypeError):
        u, v, r = next(e for e in edges if e[2] not in RELATION_CODE)
        raise PropagationError(f"edge {u!r} -> {v!r} has relation {r!r}; "
                               f"it must be 'supports' or 'undermines'") from None
    src = np.array([index[u] for u, _, _ in found], dtype=np.intp).reshape(m)
    dst = np.array([index[v] for _, v, _ in found], dtype=np.intp).reshape(m)
    try:
        weight = np.array([float(x) for x in weights], dtype=float).reshape(m)
    except (TypeError, ValueError):
        weight = np.array([_number(x, "weight", "edge {!r} -> {!r} ({})".format(*e))
                           for x, e in zip(weights, edges)], dtype=float)
    _check_range(weight, "weight", lambda i: "edge {!r} -> {!r} ({})".format(*edges[i]))
    return System(ids, base, src, dst, relation, weight, edges, index=index)


def system_from_arrays(ids, base, src, dst, relation, weight, *, index=None):
    """The :class:`System` of node ids and arrays: what :func:`build_system` makes of a graph
    whose nodes are ``ids`` in this order and whose edges are ``src[e] -> dst[e]`` (indices)
    in this order, without walking a graph (a load from columns, graph.files.columns).

    Examples
    --------
    >>> import numpy as np
    >>> system = system_from_arrays(["a", "b"], np.array([0.9, 0.5]), np.array([0]),
    ...                             np.array([1]), np.array([0], dtype=np.int8), np.array([1.0]))
    >>> system.edges
    [('a', 'b', 'supports')]
    """
    base = np.asarray(base, dtype=float)
    weight = np.asarray(weight, dtype=float)
    _check_range(base, "credence", lambda i: f"node {ids[i]!r}")
    _check_range(weight, "weight", lambda i: f"edge {ids[src[i]]!r} -> {ids[dst[i]]!r}")
    return System(ids, base, np.asarray(src, dtype=np.intp), np.asarray(dst, dtype=np.intp),
                  np.asarray(relation, dtype=np.int8), weight, index=index)


def _number(value, what, where):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PropagationError(f"{what} of {where} is {value!r}; it must be a number in [0, 1]") \
            from None


# ---------------------------------------------------------------------------------------------
# Solving
# ---------------------------------------------------------------------------------------------

@dataclass
class SolveInfo:
    """How a solve went.

    ``converged``: every stage reached the tolerance and the final residual is below it.
    ``iterations``: evaluations of the update ``f`` (each plain-iteration step, Runge-Kutta stage
    and acyclic stage counts one; each interval step two, one per corner).
    ``residual``: ``max |f(s) - s|`` over all nodes at the returned state.
    ``methods``: per cyclic stage, how it was solved (``"certified"``: unique fixed point proved,
    plain iteration; ``"ode+ball"``: ODE until a contraction ball was proved, then plain
    iteration; ``"ode"``: ODE to the end).
    """

    converged: bool
    iterations: int
    residual: float
    tolerance: float
    methods: list = field(default_factory=list)


def check_options(tolerance, max_steps):
    """The step budget for ``max_steps`` (the default if None); raises
    :class:`PropagationError` for a tolerance outside (0, 1) or a budget below 1."""
    if not isinstance(tolerance, (int, float)) or not 0.0 < tolerance < 1.0:
        raise PropagationError(f"tolerance must be a number greater than 0 and less than 1, "
                               f"not {tolerance!r}")
    if max_steps is None:
        return DEFAULT_MAX_STEPS
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise PropagationError(f"max_steps must be a positive integer, not {max_steps!r}")
    return max_steps


def solve(system, semantics="qe", *, tolerance=DEFAULT_TOLERANCE, max_steps=None, base=None,
          weights=None):
    """Strengths of every node of ``system``: the limit of ``ds/dt = f(s) - s`` from the credences.

    Parameters
    ----------
    system : System
        From :func:`build_system`.
    semantics : str or Semantics
        A name in :data:`SEMANTICS`: ``"qe"`` (default), ``"dfquad"`` or ``"eb"``.
    tolerance : float
        Stop when ``max |f(s) - s| < tolerance`` (0 < tolerance < 1).
    max_steps : int, optional
        Budget of update evaluations per cyclic stage (default 10,000).
    base : array_like, optional
        Credences to use instead of ``system.base`` (cheap re-solves: nothing is rebuilt).
    weights : array_like, optional
        Edge weights (in the order of ``system.edges``) instead of ``system.weight``.

    Returns
    -------
    s : numpy.ndarray
        Strengths, in the order of ``system.ids``; always in [0, 1], never NaN. If a stage did not
        converge within its budget it holds the last state reached (and its descendants are
        computed from it).
    info : SolveInfo

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_node("a", credence=1.0); G.add_node("b", credence=0.5)
    >>> G.add_edge("a", "b", relation="supports", weight=1.0)
    >>> s, info = solve(build_system(G), "qe")
    >>> s.round(3).tolist(), info.converged
    ([1.0, 0.75], True)

    Notes
    -----
    Stages are taken in topological order of the condensation. An acyclic stage is evaluated
    once, exactly. For a cyclic stage the solver first runs the interval iteration
    ``[lo, hi] <- [f_lo, f_hi]`` (``f`` is increasing in supporters and decreasing in attackers,
    so the bounds are exact); every fixed point stays inside every box, and ``f`` maps each box
    into itself. When a bound on ``f``'s Jacobian over a box, in a max-norm with weights tuned by a
    few power iterations, falls below 1, ``f`` is a contraction there: the fixed point is unique,
    the ODE reaches it, and ``s <- f(s)`` from the credences clipped into the box converges to it.
    If the bound stalls above 1, the ODE is integrated with an adaptive Bogacki-Shampine 3(2)
    scheme; once the residual is below ``BALL_START``, and whenever it has fallen tenfold since,
    the solver tries to certify a ball around the current state in which ``f`` contracts and
    which the trajectory cannot leave; if it succeeds the plain iteration finishes inside the
    ball (same limit). Each cyclic stage starts from its credences with the stages before it at
    their final strengths (with several fixed points in one component, the one reached can
    depend on that order; this is the definition implemented).

    References
    ----------
    .. [1] N. Potyka, Continuous dynamical systems for weighted bipolar argumentation, KR 2018.
    .. [2] T. Mossakowski, F. Neuhaus, Modular semantics and characteristics for bipolar weighted
       argumentation graphs, arXiv:1807.06685, 2018.
    """
    sem = get_semantics(semantics)
    budget = check_options(tolerance, max_steps)
    if weights is not None:
        system = system.with_weights(weights)
    w = system.base if base is None else np.asarray(base, dtype=float)
    if base is not None:
        if w.shape != system.base.shape:
            raise PropagationError(f"base has shape {w.shape}, expected {system.base.shape}")
        _check_range(w, "credence", lambda i: f"node {system.ids[i]!r}")
    s = w.copy()
    return s, _summary(_solve_stages(system, sem, s, w, tolerance, budget), tolerance)


def _solve_stages(system, sem, s, w, tolerance, budget, first=0, records=()):
    """Solve the stages from ``first`` on, in place in ``s`` (the earlier stages must already
    hold their strengths); per stage ``(evaluations, converged, method, residual)``, the
    records of the earlier stages taken from ``records``.

    A stage's residual is taken as soon as it is solved: it reads only earlier stages, which
    are final by then, so it is the residual of the returned state.
    """
    records = list(records[:first])
    for block in system.stages[first:]:
        x, evaluations, ok, method = _solve_block(block, sem, s, w, tolerance, budget)
        s[block.nodes] = x
        residual = 0.0   # an acyclic stage is evaluated from final parents: exact
        if block.cyclic:
            fx = _Stage(block, sem, s, w).f(x)
            residual = float(np.max(np.abs(fx - x), initial=0.0))
        records.append((evaluations, ok, method, residual))
    return records


def _summary(records, tolerance):
    info = SolveInfo(True, 0, 0.0, tolerance)
    for evaluations, ok, method, residual in records:
        info.iterations += evaluations
        info.converged &= ok
        info.residual = max(info.residual, residual)
        if method:
            info.methods.append(method)
    info.converged = bool(info.converged and info.residual < tolerance)
    return info


def evaluate(system, semantics, s, *, base=None):
    """One update of every node: ``f(s)`` (a new array)."""
    sem = get_semantics(semantics)
    w = system.base if base is None else np.asarray(base, dtype=float)
    return _Stage(system.whole, sem, s, w).f(np.asarray(s, dtype=float))


class _Stage:
    """A block with its external parents fixed: ``f`` restricted to the block's rows."""

    def __init__(self, block, sem, s, w):
        self.block, self.agg, self.infl = block, sem.aggregation, sem.influence
        self.w = w[block.nodes]
        self.p = self.infl.prepare(self.w)
        self.const = self.agg.external(block, s)

    def f(self, x):
        a = self.agg.value(self.block, self.const, x)
        return np.clip(self.infl.value(self.p, a), 0.0, 1.0)

    def box_image(self, aggregates):
        """The box f maps [lo, hi] into, from the aggregate range ``box(lo, hi)``."""
        a_lo, a_hi, _ = aggregates
        return (np.clip(self.infl.value(self.p, a_lo), 0.0, 1.0),
                np.clip(self.infl.value(self.p, a_hi), 0.0, 1.0))

    def box(self, lo, hi):
        """The exact range of the aggregates over the box [lo, hi]."""
        return self.agg.box(self.block, self.const, lo, hi)

    def jacobian_bound(self, lo, hi, aggregates=None):
        """``d -> B d`` for a matrix B with B_ij >= |d f_i / d x_j| everywhere in [lo, hi]."""
        a_lo, a_hi, extra = aggregates if aggregates is not None else self.box(lo, hi)
        slope = self.infl.max_slope(self.p, a_lo, a_hi)
        return self.agg.bound(self.block, lo, extra, slope)


def _norm_bound(B, d, iterations):
    """``L = max_i (B d)_i / d_i`` and the weights ``d > 0`` used: L bounds ``f``'s Lipschitz
    constant in the max-norm ``max_i |x_i| / d_i`` (Collatz-Wielandt: any positive ``d`` gives a
    valid bound; a few power iterations from the last ``d`` make it tight). ``B`` is
    ``d -> B d``."""
    for _ in range(iterations):
        y = B(d)
        top = y.max(initial=0.0)
        if top == 0.0:
            return 0.0, np.ones_like(d)
        d = y / top + 1e-3
    return float(np.max(B(d) / d)), d


def _solve_block(block, sem, s, w, tolerance, budget):
    """Solve one stage; returns (x, evaluations, converged, method)."""
    stage = _Stage(block, sem, s, w)
    if not block.cyclic:
        return stage.f(s[block.nodes]), 1, True, None
    x0 = w[block.nodes]
    x, box, evaluations = _certified_iteration(stage, x0, tolerance, budget)
    if box is not None:
        lo, hi = box
        x, more, ok = _picard(stage, np.clip(x, lo, hi), lo, hi, tolerance, budget - evaluations)
        return x, evaluations + more, ok, "certified"
    x, more, ok, ball = _ode(stage, x0, tolerance, budget - evaluations)
    return x, evaluations + more, ok, "ode+ball" if ball else "ode"


def _certified_iteration(stage, x, tolerance, budget):
    """The plain iteration from the credences alongside the interval iteration from [0, 1]^k.

    The k-th iterate lies in the k-th box (each box holds the image of the one before), so when a
    box is certified (f contracts on it) the iterate is already inside it and its limit is the
    unique fixed point. Returns (x, box or None, evaluations); no box when the bound stalls.
    """
    lo, hi = np.zeros_like(x), np.ones_like(x)
    d = np.ones_like(x)
    history = []
    evaluations, settled = 0, False
    while evaluations + 3 <= budget and len(history) < MAX_BOX_STEPS:
        aggregates = stage.box(lo, hi)
        L, d = _norm_bound(stage.jacobian_bound(lo, hi, aggregates), d,
                           NORM_ITERATIONS[bool(history)])
        if L < 1.0:
            return x, (lo, hi), evaluations
        history.append(L)
        # Give up when the bound is not on course to drop below 1 within a few more steps.
        if len(history) >= 4 and (history[-2] - L) * 8 < L - 1.0:
            break
        new_lo, new_hi = stage.box_image(aggregates)
        lo, hi = np.maximum(lo, new_lo), np.minimum(hi, new_hi)
        evaluations += 2
        if not settled:
            fx = stage.f(x)
            evaluations += 1
            settled = np.max(np.abs(fx - x), initial=0.0) < tolerance
            if not settled:
                x = np.clip(fx, lo, hi)
    return x, None, evaluations


def _picard(stage, x, lo, hi, tolerance, budget):
    """``x <- f(x)`` inside a box on which f is a contraction; (x, evals, converged)."""
    for step in range(1, max(budget, 1) + 1):
        fx = stage.f(x)
        if np.max(np.abs(fx - x), initial=0.0) < tolerance:
            return x, step, True
        x = np.clip(fx, lo, hi)
    return x, max(budget, 1), False


# Bogacki-Shampine 3(2) tableau.
_BS_A = (0.5, 0.75)
_BS_B = (2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0)
_BS_E = (-5.0 / 72.0, 1.0 / 12.0, 1.0 / 9.0, -1.0 / 8.0)


def integrate(f, x, *, until, budget, watch=None):
    """Follow ``ds/dt = f(s) - s`` from ``x`` with adaptive Bogacki-Shampine 3(2): the one
    integrator of the package (:func:`solve` and :mod:`graph.solving.batch` both call it).

    Parameters
    ----------
    f : callable
        The update, ``f(x)`` of the shape of ``x``, defined on the cube ``[0, 1]``.
    x : numpy.ndarray, shape (k,) or (k, m)
        The start; with two dimensions every column is its own trajectory with its own step
        size.
    until : float
        A column stops moving once its residual ``max |f(s) - s|`` is below this.
    budget : int
        Evaluations of ``f`` allowed (each step costs three).
    watch : callable, optional
        ``watch(x, k1, residual)`` before every step (``k1 = f(x) - x``); if it returns True
        the integration stops there (the single solve tries to certify a ball).

    Returns
    -------
    x, residual, evaluations, watched
        The state, its residual per column (a scalar for one trajectory), the evaluations
        spent, and whether ``watch`` stopped it.
    """
    evaluations = 1
    k1 = f(x) - x
    residual = np.max(np.abs(k1), axis=0, initial=0.0)
    h = np.full(np.shape(residual), 0.5)
    while True:
        active = residual >= until
        if not active.any():
            break
        if watch is not None and watch(x, k1, residual):
            return x, residual, evaluations, True
        if evaluations + 3 > budget:
            break
        y1 = np.clip(x + h * _BS_A[0] * k1, 0.0, 1.0)  # f is defined on the cube only
        k2 = f(y1) - y1
        y2 = np.clip(x + h * _BS_A[1] * k2, 0.0, 1.0)
        k3 = f(y2) - y2
        new = np.clip(x + h * (_BS_B[0] * k1 + _BS_B[1] * k2 + _BS_B[2] * k3), 0.0, 1.0)
        k4 = f(new) - new
        evaluations += 3
        error = h * np.max(np.abs(_BS_E[0] * k1 + _BS_E[1] * k2 + _BS_E[2] * k3 + _BS_E[3] * k4),
                           axis=0, initial=0.0)
        # Near the limit the error allowed shrinks with the residual: otherwise the controller
        # parks the step at the edge of stability and the residual stalls near ODE_ATOL.
        atol = np.minimum(ODE_ATOL, ODE_RELATIVE * residual)
        accept = active & (error <= atol)
        x, k1 = np.where(accept, new, x), np.where(accept, k4, k1)
        residual = np.where(accept, np.max(np.abs(k4), axis=0, initial=0.0), residual)
        factor = np.clip(0.9 * (atol / np.maximum(error, 1e-300)) ** (1.0 / 3.0), 0.2, 4.0)
        h = np.where(active, np.minimum(ODE_MAX_STEP, h * factor), h)
    return x, residual, evaluations, False


def _ode(stage, x, tolerance, budget):
    """Integrate ds/dt = f(s) - s from x; (x, evals, converged, ball certified)."""
    # A ball is tried once the residual is small (far from the limit no ball of contraction
    # holds the rest of the path) and then whenever it has fallen tenfold.
    state = {"next_try": BALL_START, "attempted": False, "d": np.ones_like(x), "ball": None}

    def watch(x, k1, residual):
        if residual > state["next_try"]:
            return False
        state["next_try"] = residual / 10.0
        state["ball"], state["d"] = _certify_ball(stage, x, k1, state["d"],
                                                  NORM_ITERATIONS[state["attempted"]])
        state["attempted"] = True
        return state["ball"] is not None

    x, residual, evaluations, watched = integrate(stage.f, x, until=tolerance, budget=budget,
                                                  watch=watch)
    if watched:
        lo, hi = state["ball"]
        x, more, ok = _picard(stage, x, lo, hi, tolerance, budget - evaluations)
        return x, evaluations + more, ok, True
    return x, evaluations, bool(residual < tolerance), False


def _certify_ball(stage, x, r, d, iterations):
    """A box ``x +- rho*d`` on which f contracts and which holds the rest of the ODE's path.

    With ``L`` the Lipschitz bound of f on the box in the norm ``max |v_i|/d_i`` and
    ``R = max |f(x)-x|_i / d_i``, f has exactly one fixed point s* in the box, within R/(1-L) of x;
    the flow contracts towards it there (``d/dt |s - s*| <= -(1-L) |s - s*|``), so the trajectory
    from x stays within ``2R/(1-L)`` of x and its limit is s* if ``2R/(1-L) <= rho``.
    Returns (box or None, d).
    """
    L0, d = _norm_bound(stage.jacobian_bound(x, x), d, iterations)
    if L0 >= 1.0:
        return None, d
    R = float(np.max(np.abs(r) / d))
    for share in (0.25, 0.5, 0.75):
        target = L0 + share * (1.0 - L0)
        rho = 2.0 * R / (1.0 - target)
        lo, hi = np.clip(x - rho * d, 0.0, 1.0), np.clip(x + rho * d, 0.0, 1.0)
        if float(np.max(stage.jacobian_bound(lo, hi)(d) / d, initial=0.0)) <= target:
            return (lo, hi), d
    return None, d


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------

@dataclass
class ScoreResult:
    """Strengths of every node under one semantics, with how the solve went.

    Attributes
    ----------
    semantics : str
    strengths, credences : dict
        ``{id: float}``.
    converged : bool
    iterations : int
    residual : float
        ``max |f(s) - s|`` at the returned strengths.
    tolerance : float
    methods : list of str
        How each cyclic stage was solved (see :class:`SolveInfo`).
    system : System
        The arrays it was solved on (for :class:`Sensitivity`, :func:`edge_contributions`).
    vector : numpy.ndarray
        The strengths in the order of ``system.ids``.
    """

    semantics: str
    strengths: dict
    credences: dict
    converged: bool
    iterations: int
    residual: float
    tolerance: float
    methods: list = field(default_factory=list)
    system: System = field(repr=False, default=None)
    vector: np.ndarray = field(repr=False, default=None)
    base: np.ndarray = field(repr=False, default=None)

    @property
    def message(self):
        """A sentence for the user when the solve did not converge, else None."""
        if self.converged:
            return None
        return (f"the {self.semantics} strengths did not converge within the step budget "
                f"(residual {self.residual:.3g} >= tolerance {self.tolerance:g} after "
                f"{self.iterations} iterations); showing the last state reached")

    def ranked(self, G, kind="model"):
        """Ids of the nodes of ``kind`` (all nodes if None), strongest first (ties by id).
        ``G`` is the graph scored, or ``{id: kind}`` of its nodes."""
        kind_of = _kinds(G)
        ids = [v for v in self.strengths if kind is None or kind_of(v) == kind]
        return sorted(ids, key=lambda v: (-self.strengths[v], str(v)))

    def to_json(self, G):
        """``{"semantics", "converged", "iterations", "residual", "nodes": {id: {"kind",
        "credence", "strength"}}, "models": [ids ranked by strength]}``; ``G`` as for
        :meth:`ranked`."""
        kind_of = _kinds(G)
        return {
            "semantics": self.semantics,
            "converged": bool(self.converged),
            "iterations": int(self.iterations),
            "residual": float(self.residual),
            "nodes": {str(v): {"kind": kind_of(v), "credence": self.credences[v],
                               "strength": self.strengths[v]} for v in self.strengths},
            "models": [str(v) for v in self.ranked(G)],
        }


def _kinds(G):
    """The kind of a node, from a graph or from ``{id: kind}``."""
    if isinstance(G, dict):
        return G.get
    nodes = G.nodes
    return lambda v: nodes[v].get("kind")


def score_system(system, semantics="qe", *, tolerance=DEFAULT_TOLERANCE, max_steps=None,
                 credences=None, weights=None):
    """:func:`score_graph` on a prebuilt :class:`System` (build once, score many times)."""
    sem = get_semantics(semantics)
    base = system.base_vector(credences) if credences else system.base
    if weights:
        system = system.with_weights(system.weight_vector(weights))
    s, info = solve(system, sem, tolerance=tolerance, max_steps=max_steps, base=base)
    return ScoreResult(sem.name, dict(zip(system.ids, s.tolist())),
                       dict(zip(system.ids, base.tolist())), info.converged, info.iterations,
                       info.residual, tolerance, info.methods, system, s, base)


def score_graph(G, semantics="qe", *, tolerance=DEFAULT_TOLERANCE, max_steps=None,
                credences=None, weights=None):
    """Score every node of a graph with a gradual semantics.

    Parameters
    ----------
    G : networkx.DiGraph or networkx.MultiDiGraph
        Node attribute ``credence`` (default 0.5), edge attributes ``relation``
        (``"supports"``/``"undermines"``) and ``weight`` (default 1).
    semantics : str
        ``"qe"`` (quadratic energy, default), ``"dfquad"`` or ``"eb"`` (Euler-based).
    tolerance : float
        Residual ``max |f(s) - s|`` to reach, in (0, 1); default 1e-9.
    max_steps : int, optional
        Budget of update evaluations per cyclic stage (default 10,000).
    credences : dict, optional
        ``{id: credence}`` overriding node credences.
    weights : dict, optional
        ``{(source, target, relation): weight}`` overriding edge weights (all parallel edges
        with that key).

    Returns
    -------
    ScoreResult
        Never raises for non-convergence: ``converged`` is False and the strengths are the last
        state reached (callers should check it; ``message`` words it for users).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("m", credence=0.5, kind="model"); G.add_node("e", credence=1.0)
    >>> _ = G.add_edge("e", "m", key="undermines", relation="undermines", weight=1.0)
    >>> result = score_graph(G, "dfquad")
    >>> result.strengths["m"], result.converged
    (0.0, True)

    References
    ----------
    See :func:`solve` and :data:`SEMANTICS`.
    """
    return score_system(build_system(G), semantics, tolerance=tolerance, max_steps=max_steps,
                        credences=credences, weights=weights)


# ---------------------------------------------------------------------------------------------
# Derivatives and contributions
# ---------------------------------------------------------------------------------------------

class Sensitivity:
    """Exact derivatives of the strengths at a fixed point ``s = f(s, w, u)``.

    By the implicit function theorem ``ds = (I - J)^-1 (F_w dw + F_u du)`` with ``J = df/ds``
    (sparse, one entry per edge), ``F_w = df/dw`` (diagonal) and ``F_u = df/du`` (one entry per
    edge). For one target ``t`` the adjoint ``lam = (I - J)^-T e_t`` gives every derivative at once:
    ``d s_t / d w_i = lam_i F_w[i]`` and ``d s_t / d u_e = lam_{target(e)} F_u[e]``. ``I - J`` is
    factorised once (sparse LU), so each further target costs two triangular solves.

    Parameters
    ----------
    system : System
    semantics : str or Semantics
    s : array_like
        A fixed point (e.g. ``ScoreResult.vector``).
    base : array_like, optional
        The credences it was solved with (default ``system.base``).
    nodes : array_like of int, optional
        Sorted node indices closed upwards (every node that reaches one of them is among them):
        only targets among them are asked about, and only this part of ``I - J`` is factorised
        (the adjoint is 0 elsewhere).

    Raises
    ------
    PropagationError
        If ``I - J`` is singular at ``s`` (a degenerate fixed point: no derivative exists).

    Notes
    -----
    DF-QuAD's influence has a kink where support equals attack; there the derivative of the branch
    the published formula uses (attack wins ties) is taken. Aggregation and influence derivatives
    are analytic (``h'(x) = 2x/(1+x^2)^2``; ``expit(z) expit(-z)`` for Euler-based; products of
    the other factors for DF-QuAD, exact when a factor is 0).
    """

    def __init__(self, system, semantics, s, base=None, *, nodes=None):
        self.system, self.semantics = system, get_semantics(semantics)
        self.s = np.asarray(s, dtype=float)
        w = system.base if base is None else np.asarray(base, dtype=float)
        self.J, self.dw, self.du = _derivatives(system, self.semantics, self.s, w)

        # Restricted to ``nodes`` (closed upwards), the adjoint of a target among them is exact:
        # it is 0 on every node that does not reach the target.
        self.nodes = None if nodes is None else np.asarray(nodes, dtype=np.intp)
        J = self.J if self.nodes is None else self.J[self.nodes][:, self.nodes]
        size = J.shape[0]
        A = (sp.identity(size, format="csc") - J).T.tocsc()
        try:
            self._lu = splu(A) if size else None
        except RuntimeError as exc:
            raise PropagationError(f"the fixed point is degenerate (I - J is singular): {exc}") \
                from None

    def adjoint(self, target):
        """``(I - J)^-T e_target`` for a node index (``system.index[id]``)."""
        t = self._position(target)
        if self.nodes is None:
            e = np.zeros(self.system.n_nodes)
            e[t] = 1.0
            return self._lu.solve(e)
        at = int(np.searchsorted(self.nodes, t))
        if at == len(self.nodes) or self.nodes[at] != t:
            raise PropagationError(f"node {t} is outside the nodes this sensitivity covers")
        e = np.zeros(len(self.nodes))
        e[at] = 1.0
        full = np.zeros(self.system.n_nodes)
        full[self.nodes] = self._lu.solve(e)
        return full

    def credence_gradient(self, target):
        """``d strength[target] / d credence[i]`` for every node i (array, ``system.ids`` order)."""
        return self.adjoint(target) * self.dw

    def weight_gradient(self, target):
        """``d strength[target] / d weight[e]`` for every edge e (``system.edges`` order)."""
        return self.adjoint(target)[self.system.dst] * self.du

    def _position(self, target):
        if isinstance(target, bool) or not isinstance(target, (int, np.integer)) \
                or not 0 <= target < self.system.n_nodes:
            raise PropagationError(f"target must be a node index in [0, {self.system.n_nodes}) "
                                   f"(use system.index[id]), not {target!r}")
        return int(target)


def _derivatives(system, sem, s, w):
    """(J, df/dw, df/du) at s over the whole graph; J as CSR, the others as arrays."""
    block = system.whole
    stage = _Stage(block, sem, s, w)
    a = stage.agg.value(block, stage.const, s)
    slope = stage.infl.slope(stage.p, a)
    dw = stage.infl.base_slope(stage.p, a)
    seg = block.int
    d_src, d_u = stage.agg.partials(block, stage.const, s)
    J = seg.row_matrix(slope[seg.row] * d_src)
    du = np.empty(system.n_edges)
    du[seg.eid] = slope[seg.row] * d_u
    return J, dw, du


def jacobian(system, semantics, s, *, base=None):
    """The Jacobian ``J = df/ds`` at ``s`` (scipy CSR, n x n): ``J @ v`` is a Jacobian-vector
    product, ``J.T @ v`` a vector-Jacobian product."""
    w = system.base if base is None else np.asarray(base, dtype=float)
    return _derivatives(system, get_semantics(semantics), np.asarray(s, dtype=float), w)[0]


def gradient(system, semantics, s, target_index, *, wrt="credence", base=None):
    """Exact ``d strength[target] / d credence`` (or ``/ d weight``) at the fixed point ``s``.

    Parameters
    ----------
    system : System
    semantics : str
    s : array_like
        The strengths (a fixed point, e.g. from :func:`solve`).
    target_index : int
        Position of the target in ``system.ids`` (``system.index[id]``).
    wrt : {"credence", "weight"}
        Differentiate with respect to every node's credence (array over ``system.ids``) or every
        edge's weight (array over ``system.edges``).
    base : array_like, optional
        The credences ``s`` was solved with.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_node("a", credence=1.0); G.add_node("b", credence=0.5)
    >>> G.add_edge("a", "b", relation="supports", weight=1.0)
    >>> system = build_system(G)
    >>> s, _ = solve(system, "qe")
    >>> gradient(system, "qe", s, system.index["b"]).round(3).tolist()
    [0.25, 0.5]

    See Also
    --------
    Sensitivity : the same, factorising once for many targets.
    """
    sens = Sensitivity(system, semantics, s, base)
    if wrt == "credence":
        return sens.credence_gradient(target_index)
    if wrt == "weight":
        return sens.weight_gradient(target_index)
    raise PropagationError(f"wrt must be 'credence' or 'weight', not {wrt!r}")


def edge_contributions(result, target):
    """How much each edge into ``target`` moves its strength: ``strength(target)`` minus its
    strength with that one edge removed (weight 0), everything else re-solved.

    Parameters
    ----------
    result : ScoreResult
    target : node id

    Returns
    -------
    list of dict
        ``{"source", "relation", "weight", "contribution"}``, one per edge into ``target``.

    Notes
    -----
    Removing an edge into ``target`` changes nothing upstream of ``target``'s strongly connected
    component. For a node on no cycle the contribution is therefore exact from the node's own
    update; on a cycle only the stage holding it is solved again (from the credences, as
    :func:`solve` defines it), with the stages before it at their strengths.
    """
    system, sem = result.system, get_semantics(result.semantics)
    t = system.index[target]
    plan = system._plan
    positions = np.flatnonzero(system.dst == t)
    rows = []
    for e in positions:
        weight = system.weight.copy()
        weight[e] = 0.0
        if system.cyclic[t]:
            block = _block_from(plan, plan.stage_of[t], True, weight)
            x, _, _, _ = _solve_block(block, sem, result.vector, result.base, result.tolerance,
                                      DEFAULT_MAX_STEPS)
            without = x[plan.local[t]]
        else:
            without = _local_update(system, sem, result.vector, result.base, t, weight)
        rows.append({"source": system.ids[system.src[e]],
                     "relation": (SUPPORTS, UNDERMINES)[system.relation[e]],
                     "weight": float(system.weight[e]),
                     "contribution": float(result.vector[t] - without)})
    return rows


def ranking(G, result, *, kind="model"):
    """The rows of ``takeoff score``: nodes strongest first, with what moved each most.

    Parameters
    ----------
    G : networkx graph or dict
        The graph ``result`` scores, or ``{id: kind}`` of its nodes.
    result : ScoreResult
    kind : str or None
        Only nodes of this kind (default ``"model"``); None for every node.

    Returns
    -------
    list of dict
        ``{"id", "kind", "credence", "strength", "shift", "up", "down"}`` with
        ``shift = strength - credence``; ``up`` / ``down`` are the in-edges with the largest
        positive / negative contribution (see :func:`edge_contributions`), or None.
    """
    nodes = result.ranked(G, kind)
    kind_of = _kinds(G)
    system = result.system
    acyclic = [v for v in nodes if not system.cyclic[system.index[v]]]
    pushes = _acyclic_contributions(result, acyclic)
    rows = []
    for node in nodes:
        node_pushes = pushes[node] if node in pushes else edge_contributions(result, node)
        up = max((p for p in node_pushes if p["contribution"] > 0),
                 key=lambda p: p["contribution"], default=None)
        down = min((p for p in node_pushes if p["contribution"] < 0),
                   key=lambda p: p["contribution"], default=None)
        strength, credence = result.strengths[node], result.credences[node]
        rows.append({"id": node, "kind": kind_of(node), "credence": credence,
                     "strength": strength, "shift": strength - credence, "up": up, "down": down})
    return rows


def _acyclic_contributions(result, targets):
    """:func:`edge_contributions` of many targets on no cycle at once: each edge's target
    updated once with and once without that edge, all in a few vector operations."""
    system, sem = result.system, get_semantics(result.semantics)
    if not targets:
        return {}
    index = np.array([system.index[t] for t in targets], dtype=np.intp)
    wanted = np.zeros(system.n_nodes, dtype=bool)
    wanted[index] = True
    edges = np.flatnonzero(wanted[system.dst])
    edges = edges[np.lexsort((edges, system.dst[edges]))]
    t, u = system.dst[edges], system.weight[edges]
    x = result.vector[system.src[edges]]
    support = system.relation[edges] == 0
    w = result.base[t]
    if sem.aggregation.name == "sum":
        term = np.where(support, u * x, -u * x)
        total = np.bincount(t, weights=term, minlength=system.n_nodes)[t]
        with_all, without = total, total - term
    else:   # products over supporters and attackers; an edge's factor left out of its own
        q = 1.0 - u * x
        group = t * 2 + (~support)
        zero = q == 0.0
        nonzero = np.ones(2 * system.n_nodes)
        np.multiply.at(nonzero, group, np.where(zero, 1.0, q))
        zeros = np.bincount(group, weights=zero, minlength=2 * system.n_nodes)
        product = np.where(zeros[group] > 0, 0.0, nonzero[group])
        others = np.where(zero, np.where(zeros[group] == 1, nonzero[group], 0.0),
                          np.where(zeros[group] > 0, 0.0, nonzero[group] / np.where(zero, 1.0, q)))
        other_group = t * 2 + support
        other = np.where(zeros[other_group] > 0, 0.0, nonzero[other_group])
        ps, pa = np.where(support, product, other), np.where(support, other, product)
        ps_without, pa_without = np.where(support, others, other), np.where(support, other, others)
        with_all, without = pa - ps, pa_without - ps_without
    p = sem.influence.prepare(w)
    contribution = np.clip(sem.influence.value(p, with_all), 0.0, 1.0) \
        - np.clip(sem.influence.value(p, without), 0.0, 1.0)
    out = {v: [] for v in targets}
    ids, names = system.ids, (SUPPORTS, UNDERMINES)
    for e, c in zip(edges.tolist(), contribution.tolist()):
        out[ids[system.dst[e]]].append({"source": ids[system.src[e]],
                                        "relation": names[system.relation[e]],
                                        "weight": float(system.weight[e]), "contribution": c})
    return out


def _local_update(system, sem, s, w, t, weight):
    """f_t(s) with these edge weights (only the edges into t matter)."""
    into = np.flatnonzero(system.dst == t)
    into = into[np.argsort(system.relation[into], kind="stable")]  # groups must be contiguous
    seg = _Segments(into, system.src[into], np.zeros(len(into), dtype=np.intp),
                    system.relation[into], weight, 1)
    block = _Block(np.array([t]), False, _Segments(*_empty_segments(weight)), seg)
    return float(_Stage(block, sem, s, w).f(np.zeros(0))[0])


def _empty_segments(weight):
    empty = np.zeros(0, dtype=np.intp)
    return empty, empty, empty, np.zeros(0, dtype=np.int8), weight, 1


# ---------------------------------------------------------------------------------------------
# Plain-Python reference implementation
# ---------------------------------------------------------------------------------------------

def _py_influence(name, w, a):
    if name == "qe":
        h = lambda x: x * x / (1.0 + x * x)  # noqa: E731
        return w + (1.0 - w) * h(a) if a > 0 else w - w * h(-a)
    if name == "dfquad":
        return w + (1.0 - w) * a if a > 0 else w - w * (-a)
    try:
        return 1.0 - (1.0 - w * w) / (1.0 + w * math.exp(a))
    except OverflowError:
        return 1.0


def _py_update(name, w, parents, s):
    """f_v(s) for one node from its parent list [(source, relation, weight)]."""
    if name == "dfquad":
        prod = {SUPPORTS: 1.0, UNDERMINES: 1.0}
        for b, relation, u in parents:
            prod[relation] *= 1.0 - u * s[b]
        a = (1.0 - prod[SUPPORTS]) - (1.0 - prod[UNDERMINES])
    else:
        a = sum(u * s[b] if relation == SUPPORTS else -u * s[b] for b, relation, u in parents)
    return min(1.0, max(0.0, _py_influence(name, w, a)))


def _score_python(G, semantics="qe", *, tolerance=DEFAULT_TOLERANCE, max_steps=None, step=0.1):
    """Reference implementation of :func:`score_graph` in plain Python (no numpy).

    Strongly connected components in topological order of the condensation; an acyclic node is
    updated once; a cyclic component is integrated with classic RK4 at a fixed ``step`` from its
    credences until ``max |f(s) - s| < tolerance`` or ``max_steps`` RK4 steps (default 10**6).

    Returns
    -------
    (strengths dict, converged bool, steps int, residual float)
    """
    import networkx as nx

    name = get_semantics(semantics).name
    max_steps = 10 ** 6 if max_steps is None else max_steps
    w = {v: float(G.nodes[v].get("credence", DEFAULT_CREDENCE)) for v in G}
    parents = {v: [] for v in G}
    for u, v, d in G.edges(data=True):
        parents[v].append((u, d["relation"], float(d.get("weight", DEFAULT_WEIGHT))))
    s = dict(w)
    converged, steps, worst = True, 0, 0.0
    C = nx.condensation(G)
    for c in nx.topological_sort(C):
        members = sorted(C.nodes[c]["members"], key=str)
        if len(members) == 1 and not G.has_edge(members[0], members[0]):
            v = members[0]
            s[v] = _py_update(name, w[v], parents[v], s)
            continue

        def F(state):
            return {v: _py_update(name, w[v], parents[v], state) - state[v] for v in members}

        for v in members:
            s[v] = w[v]
        k = 0
        while True:
            k1 = F(s)
            residual = max(abs(x) for x in k1.values())
            if residual < tolerance or k >= max_steps:
                break
            k2 = F({**s, **{v: s[v] + step / 2 * k1[v] for v in members}})
            k3 = F({**s, **{v: s[v] + step / 2 * k2[v] for v in members}})
            k4 = F({**s, **{v: s[v] + step * k3[v] for v in members}})
            for v in members:
                s[v] = min(1.0, max(0.0, s[v] + step / 6 * (k1[v] + 2 * k2[v] + 2 * k3[v] + k4[v])))
            k += 1
        steps += k
        converged &= residual < tolerance
        worst = max(worst, residual)
    return s, converged, steps, worst
