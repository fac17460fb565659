"""Uncertain credences and weights: a number, or a distribution written in the node file.

``credence: 0.7`` is a point. ``credence: {mean: 0.7, spread: 0.15}`` is a Beta distribution
with that mean and standard deviation; ``credence: {low: 0.5, high: 0.9}`` is a Beta whose 5%
and 95% quantiles are those numbers (a 90% interval). Edge weights take the same forms. The point
value used by every command but ``robustness`` is the distribution's mean, so plain scoring is
unchanged by writing a spread around a number.

Plain numbers can be given a corpus-wide default spread (``takeoff robustness --spread``); near 0
and 1, where no Beta has that spread, the spread is shrunk to the largest one that fits.
"""
from __future__ import annotations

import functools
import math

# A Beta with mean m has variance below m(1-m); we keep a margin so that a and b stay >= 0.5%
# of the way to the degenerate two-point distribution.
_MAX_VARIANCE_SHARE = 0.99
INTERVAL = (0.05, 0.95)


class UncertaintyError(ValueError):
    """A distribution that no Beta has (the message says why)."""


def describe(dist):
    """``{mean: 0.7, spread: 0.15}`` / ``{low: 0.5, high: 0.9}`` as short text."""
    if "spread" in dist:
        return f"{_g(dist['mean'])} ± {_g(dist['spread'])}"
    return f"[{_g(dist['low'])}, {_g(dist['high'])}] (90%)"


def _g(x):
    return f"{x:.3g}"


def parse_distribution(value):
    """Check a ``{mean, spread}`` or ``{low, high}`` mapping; returns ``(point, dist)``.

    Parameters
    ----------
    value : dict
        As read from YAML.

    Returns
    -------
    point : float
        The mean of the distribution: the value plain scoring uses.
    dist : dict
        ``{"mean", "spread"}`` or ``{"low", "high"}`` with float values.

    Raises
    ------
    UncertaintyError
        Unknown or missing keys, values that are not numbers in [0, 1], or a spread that no Beta
        with that mean has.
    """
    keys = set(value)
    if keys == {"mean", "spread"}:
        mean, spread = _number(value["mean"], "mean"), _number(value["spread"], "spread")
        if spread > 0 and (mean <= 0 or mean >= 1):
            raise UncertaintyError(f"no distribution on [0, 1] has mean {_g(mean)} and a spread")
        limit = math.sqrt(_MAX_VARIANCE_SHARE * mean * (1 - mean))
        if spread > limit:
            raise UncertaintyError(f"no Beta distribution has mean {_g(mean)} and spread (standard "
                                   f"deviation) {_g(spread)}: at that mean the spread must be "
                                   f"below {limit:.3f}")
        dist, point = {"mean": mean, "spread": spread}, mean
    elif keys == {"low", "high"}:
        low, high = _number(value["low"], "low"), _number(value["high"], "high")
        if low > high:
            raise UncertaintyError(f"low {_g(low)} is above high {_g(high)}")
        dist = {"low": low, "high": high}
        point = beta_mean(*beta_parameters(dist)) if low < high else low
    else:
        raise UncertaintyError("a distribution is {mean: M, spread: S} (a Beta with that mean and "
                               "standard deviation) or {low: L, high: H} (a 90% interval), not "
                               "{" + ", ".join(sorted(map(str, keys))) + "}")
    return point, dist


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UncertaintyError(f"{what} must be a number in [0, 1]")
    if not 0 <= value <= 1:
        raise UncertaintyError(f"{what} {_g(value)} must be in [0, 1]")
    return float(value)


def beta_mean(a, b):
    return a / (a + b)


def beta_parameters(dist):
    """The Beta ``(a, b)`` of a distribution, or None for a point (zero spread / low == high).

    ``{mean, spread}`` by moments; ``{low, high}`` by matching the 5% and 95% quantiles (solved
    in log-parameters with scipy; an interval touching 0 or 1 matches the other end and a mass
    of 5% beyond the bound the Beta cannot have, so there the bound's side is fitted alone).
    """
    if "spread" in dist:
        m, sd = dist["mean"], dist["spread"]
        if sd == 0:
            return None
        nu = m * (1 - m) / (sd * sd) - 1
        return m * nu, (1 - m) * nu
    low, high = dist["low"], dist["high"]
    if low == high:
        return None
    return _fit_quantiles(low, high)


def _fit_quantiles(low, high):
    from scipy.optimize import least_squares
    from scipy.stats import beta

    q = [INTERVAL[0] if low > 0 else None, INTERVAL[1] if high < 1 else None]
    targets = [(p, x) for p, x in zip(q, (low, high)) if p is not None]
    mid = (low + high) / 2
    sd0 = max((high - low) / 3.29, 1e-3)  # a normal's 90% interval is 3.29 sd wide
    nu0 = max(mid * (1 - mid) / sd0 ** 2 - 1, 0.5)
    start = [math.log(max(mid * nu0, 1e-3)), math.log(max((1 - mid) * nu0, 1e-3))]

    def residuals(log_ab):
        a, b = math.exp(log_ab[0]), math.exp(log_ab[1])
        out = [beta.ppf(p, a, b) - x for p, x in targets]
        if len(out) < 2:  # one end open: pin the centre of the interval too
            out.append(beta.ppf(0.5, a, b) - mid)
        return out

    fit = least_squares(residuals, start, xtol=1e-12, ftol=1e-12)
    return math.exp(fit.x[0]), math.exp(fit.x[1])


# A plain number this close to 0 or 1 keeps its value under a default spread.
FIXED_NEAR = 1e-12


def default_distribution(point, spread):
    """A plain number with a corpus-wide default spread: ``{mean, spread}``, the spread shrunk
    where the mean is too close to 0 or 1 for it (None when nothing is left: within
    ``FIXED_NEAR`` of 0 or 1 the Beta's parameters underflow and its quantiles are NaN)."""
    if spread <= 0 or point <= FIXED_NEAR or point >= 1 - FIXED_NEAR:
        return None
    limit = math.sqrt(_MAX_VARIANCE_SHARE * point * (1 - point))
    return {"mean": point, "spread": min(spread, limit * 0.999)}


def sample(dist, uniforms):
    """Samples of ``dist`` at the given uniforms in (0, 1) (an array), by its quantile function.

    An exact Beta inversion costs ~7 microseconds a sample, which 10,000 samples of 150 inputs
    cannot afford; so the quantile function is tabulated once per distinct distribution at
    :data:`QUANTILE_POINTS` points, evenly spaced in logit(u), with its exact slope
    ``dq/dt = u (1 - u) / pdf(q)``, and evaluated by cubic Hermite interpolation (error below
    1e-5 against scipy's exact inversion, except for Betas with both parameters far below 1,
    whose quantile function is nearly a step; tested). :class:`Sampler` does the same for many
    distributions at once.
    """
    import numpy as np

    u = np.asarray(uniforms, dtype=float)
    return Sampler([dist])(np.zeros(1, dtype=np.intp), u.reshape(1, -1))[0].reshape(u.shape)


QUANTILE_POINTS = 257
_T0, _T1 = -30.0, 30.0  # logit of 1e-13 .. 1 - 1e-13
_STEP = (_T1 - _T0) / (QUANTILE_POINTS - 1)


class Sampler:
    """The quantile functions of many distributions, evaluated together (see :func:`sample`).

    Each distinct Beta is tabulated once, and only at the table's points that some uniform
    needs: a Latin hypercube of a thousand samples never reaches the far tails, so most of the
    costly exact inversions are never made. A sample costs one logarithm (the cell of the
    table it falls in), four look-ups (the quantiles and slopes at the cell's ends) and the
    cell's cubic in Horner form. Every sample is the number :func:`sample` gives.

    Parameters
    ----------
    dists : sequence of dict
        ``{mean, spread}`` or ``{low, high}`` (see :func:`parse_distribution`).

    Examples
    --------
    >>> import numpy as np
    >>> sampler = Sampler([{"mean": 0.5, "spread": 0.1}, {"low": 0.2, "high": 0.2}])
    >>> sampler(np.array([0, 1]), np.array([[0.5, 0.9], [0.5, 0.9]])).round(3).tolist()
    [[0.5, 0.63], [0.2, 0.2]]
    """

    def __init__(self, dists):
        import numpy as np

        tables, self.table, self.points = {}, np.zeros(len(dists), dtype=np.intp), {}
        for j, dist in enumerate(dists):
            params = _parameters(tuple(sorted(dist.items())))
            if params is None:   # a point: every sample is its value (table 0 stands in)
                self.points[j] = dist["mean"] if "spread" in dist else dist["low"]
            else:
                self.table[j] = tables.setdefault(params, len(tables))
        params = list(tables) or [(1.0, 1.0)]
        self.a = np.array([a for a, _ in params])
        self.b = np.array([b for _, b in params])
        self.q = np.zeros((len(params), QUANTILE_POINTS))
        self.slope = np.zeros((len(params), QUANTILE_POINTS))
        self.known = np.zeros((len(params), QUANTILE_POINTS), dtype=bool)

    def __call__(self, rows, uniforms):
        """Row ``i`` of the result: samples of distribution ``rows[i]`` at ``uniforms[i]``.

        Parameters
        ----------
        rows : numpy.ndarray of int
            Positions in ``dists``.
        uniforms : numpy.ndarray, shape (len(rows), samples)

        Returns
        -------
        numpy.ndarray, shape (len(rows), samples)
        """
        import numpy as np

        table = self.table[rows]
        cell, x = _cells(uniforms)
        self._tabulate(table, cell.min(axis=1, initial=QUANTILE_POINTS),
                       cell.max(axis=1, initial=0))
        cell += (table * QUANTILE_POINTS)[:, None]
        q, slope = self.q.ravel(), self.slope.ravel()
        q0, s0 = q[cell], slope[cell]
        cell += 1
        q1, s1 = q[cell], slope[cell]
        s0 *= _STEP
        s1 *= _STEP
        # Cubic Hermite, q0 (1 - 3x^2 + 2x^3) + s0 (x - 2x^2 + x^3) + q1 (3x^2 - 2x^3)
        # + s1 (x^3 - x^2), by powers of x: q0 + s0 x + (3d - 2 s0 - s1) x^2
        # + (s0 + s1 - 2d) x^3 with d = q1 - q0. In place: the blocks are large.
        d = np.subtract(q1, q0, out=q1)
        value = np.add(s0, s1)
        value -= d
        value -= d
        value *= x
        s1 += s0
        s1 += s0
        d *= 3
        d -= s1
        value += d
        value *= x
        value += s0
        value *= x
        value += q0
        np.clip(value, 0.0, 1.0, out=value)
        if self.points:
            for i, j in enumerate(rows.tolist()):
                if j in self.points:
                    value[i] = self.points[j]
        return value

    def _tabulate(self, table, first, last):
        """Make sure table ``table[i]`` holds its cells ``first[i]`` to ``last[i]`` (both
        ends of a cell: points ``first[i]`` to ``last[i] + 1``)."""
        import numpy as np

        counts = last - first + 2
        which = np.repeat(table, counts)
        point = np.arange(counts.sum()) + np.repeat(first - np.cumsum(counts) + counts, counts)
        missing = ~self.known[which, point]
        if missing.any():   # once per point: two rows of a block may share a table
            which, point = np.divmod(np.unique(which[missing] * QUANTILE_POINTS
                                               + point[missing]), QUANTILE_POINTS)
            self.q[which, point], self.slope[which, point] = _quantile_points(
                self.a[which], self.b[which], point)
            self.known[which, point] = True


def _cells(uniforms):
    """The table cell of each uniform and its place within the cell (0 to 1): the table's
    points are evenly spaced in logit(u) = log(u / (1 - u))."""
    import numpy as np

    u = np.clip(uniforms, 1e-300, 1.0 - 1e-16)
    t = np.subtract(1.0, u)
    np.divide(u, t, out=t)
    np.log(t, out=t)
    t -= _T0
    t /= _STEP
    np.clip(t, 0.0, QUANTILE_POINTS - 1 - 1e-9, out=t)
    cell = t.astype(np.intp)
    return cell, np.subtract(t, cell, out=t)


@functools.lru_cache(maxsize=4096)
def _parameters(items):
    """:func:`beta_parameters` of a distribution given as sorted items (fitted once each)."""
    return beta_parameters(dict(items))


@functools.lru_cache(maxsize=1)
def _grid():
    """The uniforms of the table's points."""
    import numpy as np
    from scipy.special import expit

    return expit(np.linspace(_T0, _T1, QUANTILE_POINTS))


def _quantile_points(a, b, point):
    """Quantiles of Beta(a, b) and their slopes in logit space at the table's points ``point``
    (arrays of one length: one point of one Beta each)."""
    import numpy as np
    from scipy.special import betaincinv, betaln

    u = _grid()[point]
    q = betaincinv(a, b, u)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_pdf = (a - 1) * np.log(q) + (b - 1) * np.log1p(-q) - betaln(a, b)
        slope = np.where(np.isfinite(log_pdf), u * (1 - u) * np.exp(-log_pdf), 0.0)
    slope = np.nan_to_num(slope, nan=0.0, posinf=0.0)
    return q, slope
