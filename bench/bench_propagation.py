"""Benchmark: propagation (gradual semantics) on random graphs with cycles.

Run: python bench/bench_propagation.py [--sizes 10000 100000 1000000] [--repeat 3] [--no-peer]

For each size, a random graph with that many edges and five edges per node on average (sources
and targets uniform, no self-loops or repeated pairs, supports and undermines half each,
credences uniform in [0, 1]); at this density nearly every node lies on one big cycle. Two weight
settings on the same edges: *weighted* (weights uniform in [0.05, 1]) and *unit* (every weight 1,
the published unweighted semantics). Reported, best of ``--repeat``:

- ``solve``: :func:`graph.solving.propagation.solve` on a prebuilt system to a residual
  ``max |f(s) - s| < 1e-9``, per semantics, with the update evaluations it took and how the
  cyclic part was solved (certified plain iteration, or the ODE);
- ``build``: :func:`graph.solving.propagation.build_system` from a networkx MultiDiGraph, and
  ``end-to-end``: :func:`graph.solving.propagation.score_graph` on it (build, qe solve, result dicts);
- ``matvec``: one sparse matrix-vector product with the graph's weight matrix, the unit of work.

On the 10k-edge unit graph, side by side in one run: the quadratic-energy strengths of the PyPI
package formal-argumentation 0.3.0 (pure Python, adaptive RK4; ``pip install
formal-argumentation==0.3.0``, in the ``bench`` extra), its time against ours, and the largest
difference between the two sets of strengths. It has no edge weights, hence the unit graph.
"""
import argparse
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graph.solving.propagation import SEMANTICS, build_system, score_graph, solve  # noqa: E402
from timing import best_of  # noqa: E402

TOLERANCE = 1e-9
RELATIONS = ("supports", "undermines")


def random_edges(m, seed=0):
    """(n, credences, src, dst, relation code, weights) of a random graph with about m edges."""
    rng = np.random.default_rng(seed)
    n = m // 5
    src, dst = rng.integers(0, n, int(m * 1.01)), rng.integers(0, n, int(m * 1.01))
    keys = src[src != dst].astype(np.int64) * n + dst[src != dst]
    _, first = np.unique(keys, return_index=True)
    keys = keys[np.sort(first)][:m]           # distinct pairs, in random order
    src, dst = keys // n, keys % n
    relation = rng.integers(0, 2, len(src))
    weight = rng.uniform(0.05, 1.0, len(src))
    return n, rng.random(n), src, dst, relation, weight


def to_networkx(n, credences, src, dst, relation, weight, unit=False):
    """A MultiDiGraph like a corpus graph: edge key = relation."""
    G = nx.MultiDiGraph()
    G.add_nodes_from((f"n{i}", {"credence": float(c)}) for i, c in enumerate(credences))
    G.add_edges_from(
        (f"n{s}", f"n{t}", RELATIONS[r], {"relation": RELATIONS[r], "weight": 1.0 if unit else w})
        for s, t, r, w in zip(src.tolist(), dst.tolist(), relation.tolist(), weight.tolist()))
    return G


def matvec_time(system, repeat=20):
    M = max((b.M for b in system.stages if b.M is not None), key=lambda M: M.nnz, default=None)
    if M is None:
        return float("nan")
    x = np.random.default_rng(0).random(M.shape[1])
    return best_of(lambda: M @ x, repeat)[0]


def peer_strengths(G):
    """formal-argumentation's quadratic energy on G (unweighted): (seconds, result)."""
    from argumentation.gradual.gradual import WeightedBipolarGraph, quadratic_energy_strengths

    graph = WeightedBipolarGraph(
        arguments=frozenset(G.nodes),
        initial_weights={v: G.nodes[v]["credence"] for v in G},
        attacks=frozenset((u, v) for u, v, k in G.edges(keys=True) if k == "undermines"),
        supports=frozenset((u, v) for u, v, k in G.edges(keys=True) if k == "supports"))
    start = time.perf_counter()
    result = quadratic_energy_strengths(graph, tolerance=TOLERANCE)
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-peer", action="store_true", help="Skip formal-argumentation.")
    args = parser.parse_args()

    solves, builds, peer = [], [], None
    for m in args.sizes:
        n, credences, src, dst, relation, weight = random_edges(m)
        G = to_networkx(n, credences, src, dst, relation, weight)
        build, system = best_of(lambda: build_system(G), args.repeat)
        end_to_end, _ = best_of(lambda: score_graph(G, "qe", tolerance=TOLERANCE), args.repeat)
        cyclic = int(system.cyclic.sum())
        builds.append((len(src), n, cyclic, build, end_to_end, matvec_time(system)))
        for setting, sys_ in (("weighted", system),
                              ("unit", system.with_weights(np.ones(system.n_edges)))):
            for name in SEMANTICS:
                seconds, (s, info) = best_of(
                    lambda: solve(sys_, name, tolerance=TOLERANCE), args.repeat)
                solves.append((len(src), setting, name, seconds, info))
        if not args.no_peer and m == min(args.sizes):
            unit = to_networkx(n, credences, src, dst, relation, weight, unit=True)
            ours_e2e, ours = best_of(lambda: score_graph(unit, "qe", tolerance=TOLERANCE),
                                     args.repeat)
            unit_system = build_system(unit)
            ours_solve, _ = best_of(lambda: solve(unit_system, "qe", tolerance=TOLERANCE),
                                    args.repeat)
            seconds, theirs = peer_strengths(unit)
            diff = max(abs(ours.strengths[v] - theirs.strengths[v]) for v in unit)
            peer = (len(src), seconds, theirs, ours_solve, ours_e2e, diff, ours)
        del G

    print("Solve to max |f(s) - s| < 1e-9 (prebuilt system), best of", args.repeat)
    print()
    print("| edges | weights | semantics | solve | evaluations | cyclic part | residual |")
    print("|---:|---|---|---:|---:|---|---:|")
    for edges, setting, name, seconds, info in solves:
        method = ", ".join(sorted(set(info.methods))) or "acyclic"
        flag = "" if info.converged else " (NOT converged)"
        print(f"| {edges:,} | {setting} | {name} | {seconds * 1000:.0f} ms | {info.iterations} "
              f"| {method}{flag} | {info.residual:.1e} |")
    print()
    print("| edges | nodes | nodes on cycles | build_system | end-to-end (qe) | one matvec |")
    print("|---:|---:|---:|---:|---:|---:|")
    for edges, n, cyclic, build, end_to_end, mv in builds:
        print(f"| {edges:,} | {n:,} | {cyclic:,} | {build * 1000:.0f} ms "
              f"| {end_to_end * 1000:.0f} ms | {mv * 1000:.2f} ms |")
    if peer:
        edges, seconds, theirs, ours_solve, ours_e2e, diff, ours = peer
        print()
        print(f"formal-argumentation 0.3.0 quadratic energy, {edges:,}-edge unit graph, same run:")
        print()
        print("| | time | converged | iterations | ratio to its time |")
        print("|---|---:|---|---:|---:|")
        print(f"| formal-argumentation | {seconds:.1f} s | {theirs.converged} | "
              f"{theirs.iterations} RK4 steps | 1x |")
        print(f"| takeoff-graph solve | {ours_solve * 1000:.1f} ms | {ours.converged} | "
              f"{ours.iterations} evaluations | {seconds / ours_solve:,.0f}x faster |")
        print(f"| takeoff-graph score_graph (from networkx) | {ours_e2e * 1000:.1f} ms | "
              f"{ours.converged} | | {seconds / ours_e2e:,.0f}x faster |")
        print()
        print(f"Largest difference between the two sets of strengths: {diff:.1e}")


if __name__ == "__main__":
    main()
