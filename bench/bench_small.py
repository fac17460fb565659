"""Benchmark: the fixed cost of a small graph, end to end, against the plain-Python reference.

Run: python bench/bench_small.py [--edges 1000] [--runs 5]

On a random graph with about ``--edges`` edges (:func:`bench_propagation.random_edges`: five
edges per node, half supports, weights in [0.05, 1]), once with cycles (as drawn: nearly every
node on one big cycle) and once acyclic (every edge turned to point from the lower to the higher
node number), per semantics, CPU seconds (``time.process_time``, best of ``--runs``, each run
averaged over enough calls to last 0.2 s):

- ``build``: :func:`graph.solving.propagation.build_system` from the networkx MultiDiGraph;
- ``solve``: :func:`graph.solving.propagation.solve` on a fresh system (its stage blocks included);
- ``end to end``: :func:`graph.solving.propagation.score_graph` (build, solve, the result's dicts);
- ``reference``: ``graph.solving.propagation._score_python`` (plain Python, RK4 with a fixed step on each
  cyclic component), the same semantics on the same graph.

The agreement column is the largest difference between the two sets of strengths, both solved
to a residual below 1e-12. QBAF-Py (the C implementation of these semantics) would be the other
peer, but it does not install here (no distribution on the package index this machine reaches),
so the plain-Python reference stands in for it.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_propagation import random_edges, to_networkx  # noqa: E402
from graph.solving.propagation import SEMANTICS, _score_python, build_system, score_graph, solve  # noqa: E402

AGREE_TOLERANCE = 1e-12


def cpu(fn, runs, least=0.2):
    """Best of ``runs`` CPU seconds per call of ``fn``, each run repeating it for ``least`` s."""
    calls, start = 0, time.process_time()
    while time.process_time() - start < least / 4:
        fn()
        calls += 1
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        for _ in range(max(calls * 4, 1)):
            fn()
        best = min(best, (time.process_time() - start) / max(calls * 4, 1))
    return best


def graphs(edges, seed=1):
    n, credences, src, dst, relation, weight = random_edges(edges, seed=seed)
    yield "with cycles", to_networkx(n, credences, src, dst, relation, weight)
    low, high = np.minimum(src, dst), np.maximum(src, dst)
    yield "acyclic", to_networkx(n, credences, low, high, relation, weight)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| graph | semantics | build | solve | end to end | reference | ratio | agreement |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, G in graphs(args.edges):
        build = cpu(lambda: build_system(G), args.runs)
        system = build_system(G)

        def fresh_solve(semantics):
            system._stages = None   # the stage blocks are built on a system's first solve
            return solve(system, semantics)

        for semantics in SEMANTICS:
            solve_time = cpu(lambda: fresh_solve(semantics), args.runs)
            ours = cpu(lambda: score_graph(G, semantics), args.runs)
            start = time.process_time()
            _score_python(G, semantics)
            reference = time.process_time() - start
            exact = score_graph(G, semantics, tolerance=AGREE_TOLERANCE).strengths
            theirs, converged, _, _ = _score_python(G, semantics, tolerance=AGREE_TOLERANCE)
            assert converged
            gap = max(abs(exact[v] - theirs[v]) for v in G)
            print(f"| {name}, {G.number_of_nodes()} nodes, {G.number_of_edges()} edges "
                  f"| {semantics} | {build * 1e3:.2f} ms | {solve_time * 1e3:.2f} ms "
                  f"| {ours * 1e3:.2f} ms | {reference * 1e3:.1f} ms | {reference / ours:.0f}x "
                  f"| {gap:.1e} |", flush=True)


if __name__ == "__main__":
    main()
