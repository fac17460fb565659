"""How sure is the ranking? Every uncertain input sampled at once, every sample solved at once.

:func:`robustness` draws joint samples of the uncertain credences and weights (a Latin
hypercube, seeded), solves them all as the columns of one batched solve
(:class:`graph.solving.batch.Engine`), and summarises each model's strength over the samples: mean,
90% interval, the probability that it ranks first and its rank distribution. It then says which
inputs' uncertainty explains most of the variance of the top path, by first-order Sobol indices
estimated from the same samples (:func:`first_order_indices`).
"""
from __future__ import annotations

import math

import numpy as np

from graph.core.model import TakeoffError
from graph.core.uncertainty import Sampler, default_distribution
from graph.solving.shares import share_intervals

DEFAULT_SAMPLES = 2000
MAX_SAMPLES = 1_000_000
# Floats of sampled inputs (credences, weights, uniforms and the sampler's own) per chunk: 128 MB.
CHUNK_FLOATS = 16_000_000
# Samples per chunk at least (each chunk costs a call per input to draw it).
MIN_CHUNK = DEFAULT_SAMPLES
# Model strengths kept over all samples for the summary: 400 MB.
MAX_STRENGTHS = 50_000_000
TOP_INPUTS = 10
BOOTSTRAP = 100
# Strengths this close count as a tie for the ranking (the solver's default tolerance).
TIE = 1e-9


def uncertain_inputs(graph, system, *, spread=0.0, weight_spread=0.0):
    """The inputs to sample: ``[{"kind", "index", "label", "dist"}]``.

    A credence or weight written as a distribution is one; with ``spread`` (``weight_spread``)
    above 0, so is every plain credence (weight), as a Beta with that standard deviation around
    the number (shrunk near 0 and 1, see :func:`graph.core.uncertainty.default_distribution`).
    """
    inputs = []
    for node_id in system.ids:
        attrs = graph.nodes[node_id]
        dist = attrs.get("credence_dist") or default_distribution(attrs["credence"], spread)
        if dist is not None:
            inputs.append({"kind": "credence", "index": system.index[node_id],
                           "label": f"credence {node_id}", "dist": dist})
    # The system's edges are the graph's in its adjacency order: their attributes without a
    # look-up each.
    for position, ((source, target, _), (_, _, attrs)) in enumerate(
            zip(system.edges, graph.edges(data=True))):
        dist = attrs.get("weight_dist") or default_distribution(attrs["weight"], weight_spread)
        if dist is not None:
            inputs.append({"kind": "weight", "index": position,
                           "label": f"weight {source} -> {target}", "dist": dist})
    return inputs


def robustness(graph, *, samples=DEFAULT_SAMPLES, seed=0, semantics=("qe",), spread=0.0,
               weight_spread=0.0, top_inputs=TOP_INPUTS, tolerance=1e-9, shares=False):
    """The models' strengths under joint uncertainty of the credences and weights.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph (``credence_dist`` / ``weight_dist`` attributes mark uncertain inputs).
    samples : int
        Number of joint samples (Latin hypercube over every uncertain input).
    seed : int
        Seed of the sampler: the same seed gives the same result.
    semantics : sequence of str
        One semantics, or several: then the semantics is one more uncertain input, drawn
        uniformly among them.
    spread, weight_spread : float
        Default standard deviation for plain credences / weights (0: they stay fixed).
    top_inputs : int
        How many inputs to report for the top path.
    tolerance : float
        Of each solve, as in :func:`graph.solving.propagation.solve`.
    shares : bool
        Also give an interval for each part of each model's strength (``"shares"``: see
        :func:`graph.solving.shares.share_intervals`), over the first chunk of samples.

    Returns
    -------
    dict
        ``{"samples", "seed", "semantics", "inputs": count, "models": [{"id", "point", "mean",
        "low", "high", "p_first", "ranks"}] (by mean strength), "top": id, "sensitivity":
        [{"input", "index", "error"}], "sensitivity_samples": int, "converged": bool}``.
        ``low``/``high`` are the 5% and 95% quantiles; ``ranks[k]`` the probability of rank
        ``k + 1``. The samples are drawn and solved in chunks (memory stays bounded: about
        128 MB of inputs, or 2,000 samples' worth if more, and 8 bytes per model and sample); the sensitivity comes from the
        first chunk, one Latin hypercube of ``sensitivity_samples`` samples (all of them
        unless there are tens of thousands).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("m", kind="model", credence=0.5)
    >>> G.add_node("e", kind="evidence", credence=0.8, credence_dist={"mean": 0.8, "spread": 0.1})
    >>> _ = G.add_edge("e", "m", key="supports", relation="supports", weight=1.0)
    >>> out = robustness(G, samples=500)
    >>> out["models"][0]["id"], round(out["models"][0]["p_first"], 2)
    ('m', 1.0)
    """
    from graph.solving.propagation import build_system, score_system

    system = build_system(graph)
    inputs = uncertain_inputs(graph, system, spread=spread, weight_spread=weight_spread)
    semantics = list(dict.fromkeys(semantics))
    models = [i for i, n in enumerate(system.ids) if graph.nodes[n].get("kind") == "model"]
    _check_samples(samples, len(models))
    run = _Samples(system, inputs, semantics, models, seed)
    strengths = run.solve(samples, tolerance)
    point = score_system(system, semantics[0], tolerance=tolerance).strengths
    ids = [system.ids[i] for i in models]
    summary = _summary(ids, strengths, point)
    top = summary[0]["id"] if summary else None
    sensitivity = []
    if top is not None and run.dims:
        labels = [i["label"] for i in inputs] + (["semantics"] if len(semantics) > 1 else [])
        sensitivity = indices_from_ranks(run.first_strata,
                                         strengths[ids.index(top), :run.first_strata.shape[1]],
                                         labels, top=top_inputs, seed=seed)
    out = {"samples": samples, "seed": seed, "semantics": semantics, "inputs": len(inputs),
           "spread": spread, "weight_spread": weight_spread, "models": summary, "top": top,
           "sensitivity": sensitivity, "sensitivity_samples": run.first_strata.shape[1],
           "converged": run.converged}
    if shares:
        out["shares"] = share_intervals(graph, system, semantics, *run.first_inputs, models,
                                        tolerance=tolerance)
    return out


class _Samples:
    """The samples of one :func:`robustness` run, drawn and solved a chunk at a time.

    Memory does not grow with the samples: each chunk is a Latin hypercube of its own (the
    first holds every sample up to :data:`CHUNK_FLOATS` floats of inputs, and is kept for the
    sensitivity: ``first_strata``, and for the shares: ``first_inputs``, the semantics chosen
    per sample, credences and weights). With several semantics, the semantics is the last
    dimension of the hypercube.
    """

    def __init__(self, system, inputs, semantics, models, seed):
        from graph.solving.batch import Engine

        self.system, self.semantics, self.models = system, semantics, models
        self.dims = len(inputs) + (len(semantics) > 1)
        self.hypercube = LatinHypercube(self.dims, seed)
        self.draw = _Draw(system, inputs)
        self.engine = Engine(system)
        self.converged = True
        self.first_strata = self.first_inputs = None

    def solve(self, samples, tolerance):
        """The models' strengths, models x samples."""
        system = self.system
        strengths = np.empty((len(self.models), samples))
        chunk = max(MIN_CHUNK,
                    CHUNK_FLOATS // (system.n_nodes + system.n_edges + 4 * self.dims + 1))
        for lo in range(0, samples, chunk):
            count = min(chunk, samples - lo)
            choice, base, weights = self._draw(count)
            self._solve_chunk(strengths[:, lo:lo + count], choice, base, weights, tolerance)
        return strengths

    def _draw(self, count):
        """The next ``count`` samples: (semantics chosen per sample, credences, weights)."""
        cube = self.hypercube.random(count)
        base, weights = self.draw(cube)
        if len(self.semantics) > 1:
            choice = np.minimum((cube.uniforms(self.dims - 1, self.dims)[0]
                                 * len(self.semantics)).astype(int), len(self.semantics) - 1)
        else:
            choice = np.zeros(count, dtype=int)
        if self.first_strata is None:
            self.first_strata, self.first_inputs = cube.strata, (choice, base, weights)
        return choice, base, weights  # the jitters go: memory for the solve

    def _solve_chunk(self, out, choice, base, weights, tolerance):
        """Solve the chunk's samples, each under its semantics, into ``out`` (models x
        samples), in the engine's batches."""
        for k, name in enumerate(self.semantics):
            chosen = np.flatnonzero(choice == k)
            for part in self.engine.batches(len(chosen)):
                cols = chosen[part]
                view = part if len(self.semantics) == 1 else cols  # a range of columns: no copy
                S, ok = self.engine.solve(name, base=base[:, view], weights=weights[:, view],
                                          tolerance=tolerance)
                out[:, cols] = S[self.models]
                self.converged &= bool(ok.all())


def _check_samples(samples, models):
    """Refuse more samples than :data:`MAX_SAMPLES`, or than the strengths kept for the summary
    (models x samples) allow."""
    limit = min(MAX_SAMPLES, MAX_STRENGTHS // max(models, 1))
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= limit:
        raise TakeoffError(f"samples must be a whole number from 1 to {limit:,}"
                           + (f" (with {models:,} models)" if limit < MAX_SAMPLES else "")
                           + f", not {samples!r}")


class LatinHypercube:
    """Latin hypercube samples in ``[0, 1)^dims``, drawn a chunk at a time from one stream.

    The draws of ``scipy.stats.qmc.LatinHypercube(d=dims, seed=np.random.default_rng(seed))``
    (numpy's generator spawned once; per chunk, every jitter, then one permutation of the
    strata per dimension) made with numpy alone: importing scipy.stats costs about a second.

    Examples
    --------
    >>> cube = LatinHypercube(2, seed=0).random(4)
    >>> (cube.uniforms(0, 2) * 4).astype(int).tolist() == cube.strata.tolist()  # one a stratum
    True
    >>> sorted(cube.strata[0].tolist())
    [0, 1, 2, 3]
    """

    def __init__(self, dims, seed):
        self.dims = dims
        self.rng = np.random.default_rng(seed).spawn(1)[0]

    def random(self, count):
        """The next ``count`` samples, as a :class:`Cube`."""
        jitter = self.rng.random(size=(count, self.dims))  # uniform(0, 1)'s draws, unscaled
        # The narrowest integers that hold every stratum and one more (uniforms() adds 1): the
        # shuffle draws the same numbers whatever the type, and moves less memory.
        dtype = np.uint16 if count < 2 ** 16 else np.int32 if count < 2 ** 31 else np.intp
        strata = np.broadcast_to(np.arange(count, dtype=dtype), (self.dims, count))
        return Cube(jitter, self.rng.permuted(strata, axis=1))


class Cube:
    """One chunk of a Latin hypercube: sample ``i`` of dimension ``j`` lies in stratum
    ``strata[j, i]`` (its rank in that dimension), ``jitter[i, j]`` of a stratum's width below
    the stratum's top. The uniforms are made a block of dimensions at a time
    (:meth:`uniforms`)."""

    def __init__(self, jitter, strata):
        self.jitter, self.strata = jitter, strata
        self.count = len(jitter)

    def uniforms(self, lo, hi):
        """The uniforms of dimensions ``lo`` to ``hi - 1``, one row each (dimensions x
        samples): ``(stratum + 1 - jitter) / count``, scipy's formula."""
        return (self.strata[lo:hi] + 1 - self.jitter[:, lo:hi].T) / self.count


class _Draw:
    """The credences and weights of the samples of a :class:`Cube`: the system's own, with the
    uncertain inputs' rows drawn from their distributions."""

    # Inputs drawn at once: the block's arrays stay in the processor's cache.
    BLOCK = 32

    def __init__(self, system, inputs):
        self.system = system
        self.sampler = Sampler([item["dist"] for item in inputs])
        self.credence = np.array([item["kind"] == "credence" for item in inputs], dtype=bool)
        self.index = np.array([item["index"] for item in inputs], dtype=np.intp)
        self.fixed_nodes = np.ones(system.n_nodes, dtype=bool)
        self.fixed_nodes[self.index[self.credence]] = False
        self.fixed_edges = np.ones(system.n_edges, dtype=bool)
        self.fixed_edges[self.index[~self.credence]] = False

    def __call__(self, cube):
        """(credences: nodes x samples, weights: edges x samples)."""
        system, count = self.system, cube.count
        base, weights = np.empty((system.n_nodes, count)), np.empty((system.n_edges, count))
        base[self.fixed_nodes] = system.base[self.fixed_nodes, None]
        weights[self.fixed_edges] = system.weight[self.fixed_edges, None]
        for lo in range(0, len(self.index), self.BLOCK):
            rows = np.arange(lo, min(lo + self.BLOCK, len(self.index)))
            values = self.sampler(rows, cube.uniforms(lo, rows[-1] + 1))
            credence = self.credence[rows]
            base[self.index[rows[credence]]] = values[credence]
            weights[self.index[rows[~credence]]] = values[~credence]
        return base, weights


def _summary(ids, strengths, point):
    """Per model: point, mean, 5%/95% quantiles, P(first) and the rank distribution."""
    n, m = strengths.shape
    if not n:
        return []
    ranks = rank_shares(strengths)
    low, high = np.quantile(strengths, [0.05, 0.95], axis=1).tolist()
    mean = strengths.mean(axis=1).tolist()
    rows = [{"id": node_id, "point": float(point[node_id]), "mean": mean[i], "low": low[i],
             "high": high[i], "p_first": float(ranks[i, 0]), "ranks": ranks[i].tolist()}
            for i, node_id in enumerate(ids)]
    rows.sort(key=lambda r: (-r["mean"], r["id"]))
    return rows


def rank_shares(strengths, tie=TIE):
    """``P[i, k]``: the share of the columns in which row ``i`` ranks ``k + 1`` (1 = strongest).

    Rows whose strengths differ by at most ``tie`` in a column share the ranks they span
    equally (two paths both saturated at 1.0 are each first half the time), so every row and
    every column of the result sums to 1.
    """
    n, m = strengths.shape
    order = np.argsort(-strengths, axis=0, kind="stable")
    ordered = np.take_along_axis(strengths, order, axis=0)
    position = np.arange(n)[:, None]
    starts = np.ones((n, m), dtype=bool)
    starts[1:] = ordered[:-1] - ordered[1:] > tie
    ends = np.ones((n, m), dtype=bool)
    ends[:-1] = starts[1:]
    first = np.maximum.accumulate(np.where(starts, position, 0), axis=0)
    last = np.minimum.accumulate(np.where(ends, position, n - 1)[::-1], axis=0)[::-1]
    share = 1.0 / (last - first + 1)
    # Each row adds ``share`` to every rank from ``first`` to ``last``: a difference array.
    acc = np.zeros((n, n + 1))
    np.add.at(acc, (order.ravel(), first.ravel()), share.ravel())
    np.add.at(acc, (order.ravel(), last.ravel() + 1), -share.ravel())
    # The running sums come back to 0 past a row's ranks only to rounding: never below it.
    return np.maximum(np.cumsum(acc, axis=1)[:, :n] / m, 0.0)


def first_order_indices(x, y, labels, *, top=TOP_INPUTS, bins=None, bootstrap=BOOTSTRAP, seed=0):
    """First-order Sobol indices ``S_j = Var(E[y | x_j]) / Var(y)``, from one sample.

    The given-data estimator (the correlation ratio; Plischke, Borgonovo & Smith 2013): sort the
    samples by ``x_j``, cut them into ``bins`` equal-count classes, and take the variance of the
    class means of ``y`` over the variance of ``y``, less the part of it that sampling noise
    alone puts there (the mean within-class variance over the class size). With a Latin
    hypercube each class holds one stratum of ``x_j``. Standard errors by bootstrap over the
    samples, for the ``top`` inputs reported.

    Parameters
    ----------
    x : numpy.ndarray, shape (m, d)
        The inputs (any monotone transform of them gives the same classes: uniforms will do).
    y : numpy.ndarray, shape (m,)
    labels : sequence of str, length d
    top : int
        How many inputs to return, largest index first.
    bins : int, optional
        Classes per input (default ``sqrt(m)``, at most 50).

    Returns
    -------
    list of dict
        ``{"input", "index", "error"}``.

    References
    ----------
    .. [1] E. Plischke, E. Borgonovo, C. L. Smith, Global sensitivity measures from given data,
       European Journal of Operational Research 226 (2013) 536-550.
    """
    order = np.argsort(x, axis=0, kind="stable")
    ranks = np.empty_like(order.T)
    np.put_along_axis(ranks, order.T, np.arange(len(x)), axis=1)
    return indices_from_ranks(ranks, y, labels, top=top, bins=bins, bootstrap=bootstrap,
                              seed=seed)


def indices_from_ranks(ranks, y, labels, *, top=TOP_INPUTS, bins=None, bootstrap=BOOTSTRAP,
                       seed=0):
    """:func:`first_order_indices` given the rank of every sample in every input instead of
    the inputs: ``ranks[j, i]`` is the rank of sample ``i`` in input ``j`` (0 for the
    smallest), as a Latin hypercube's strata are."""
    d, m = ranks.shape
    if m < 4 or d == 0 or np.var(y) == 0:
        return [{"input": labels[j], "index": 0.0, "error": 0.0} for j in range(min(d, top))]
    bins = bins or int(min(50, max(2, math.isqrt(m))))
    class_of_rank = np.arange(m) * bins // m
    estimate = _correlation_ratios(ranks, class_of_rank, y, bins)
    chosen = np.argsort(-estimate, kind="stable")[:top]
    classes = class_of_rank[ranks[chosen]]
    rng = np.random.default_rng(seed)
    replicates = np.array([
        _correlation_ratio(classes, y, bins,
                           np.bincount(rng.integers(m, size=m), minlength=m).astype(float))
        for _ in range(bootstrap)])
    errors = replicates.std(axis=0, ddof=1) if bootstrap > 1 else np.zeros(len(chosen))
    return [{"input": labels[j], "index": float(estimate[j]), "error": float(e)}
            for j, e in zip(chosen, errors)]


def _correlation_ratios(ranks, class_of_rank, y, bins):
    """:func:`_correlation_ratio` of every input with every sample counted once, the same
    numbers with less work: every input has the same class sizes, and it is done a block of
    inputs at a time, so the keys and sums of a block stay in the processor's cache."""
    d, m = ranks.shape
    step = min(d, max(1, 2 ** 18 // m))
    ones = np.ones(m)
    total = ones.sum()
    mean = y.sum() / total
    var = ((y - mean) ** 2).sum() / total
    if var <= 0:
        return np.zeros(d)
    sizes = np.bincount(class_of_rank, minlength=bins).astype(float)
    offsets = bins * np.arange(step)[:, None]
    y_tiled, y2_tiled = np.tile(y, step), np.tile(y * y, step)
    out = np.empty(d)
    for lo in range(0, d, step):
        block = ranks[lo:lo + step]
        size = len(block)
        keys = class_of_rank[block]
        keys += offsets[:size]
        keys = keys.ravel()
        s1 = np.bincount(keys, weights=y_tiled[:keys.size], minlength=size * bins)
        s2 = np.bincount(keys, weights=y2_tiled[:keys.size], minlength=size * bins)
        n = np.broadcast_to(sizes, (size, bins))
        out[lo:lo + size] = _ratio(n, s1.reshape(size, bins), s2.reshape(size, bins), mean, var,
                                   total)
    return out


def _correlation_ratio(classes, y, bins, counts):
    """Bias-corrected Var(class means) / Var(y) for each row of ``classes`` (inputs x
    samples), the samples weighted by ``counts`` (bootstrap multiplicities)."""
    total = counts.sum()
    mean = (counts * y).sum() / total
    var = (counts * (y - mean) ** 2).sum() / total
    d = classes.shape[0]
    keys = (classes + bins * np.arange(d)[:, None]).ravel()
    w = np.tile(counts, d)
    n = np.bincount(keys, weights=w, minlength=d * bins).reshape(d, bins)
    s1 = np.bincount(keys, weights=w * np.tile(y, d), minlength=d * bins).reshape(d, bins)
    s2 = np.bincount(keys, weights=w * np.tile(y * y, d), minlength=d * bins).reshape(d, bins)
    return _ratio(n, s1, s2, mean, var, total) if var > 0 else np.zeros(d)


def _ratio(n, s1, s2, mean, var, total):
    """The bias-corrected ratio from the class counts ``n`` and the sums of ``y`` and ``y^2``
    per class (inputs x classes)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        class_mean = np.where(n > 0, s1 / n, mean)
        within = np.where(n > 1, (s2 - n * class_mean ** 2) / np.maximum(n - 1, 1), 0.0)
        between = (n * (class_mean - mean) ** 2).sum(axis=1) / total
        noise = (np.where(n > 0, within, 0.0)).sum(axis=1) / total
    return np.clip((between - noise) / var, 0.0, 1.0)


