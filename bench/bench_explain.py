"""Benchmark: `why` (removal impacts and gradients for every node that reaches a target) on a
generated argument graph of N nodes (default 10,000), side by side with the plain way.

Run: python bench/bench_explain.py [N] [--cyclic]

The graph is the random layered argument graph of ``bench/bench_load.py`` (evidence, claims and
models; each node supports or undermines up to 3 of the next 50 nodes, random weights), built in
memory. With ``--cyclic`` one edge in 20 points back instead, so the graph has cycles. The
target is the last model, which almost every node reaches: the worst case for removal impacts.

Printed, best of 3: scoring the graph, ``why`` on the target (given the scores, as the CLI calls
it), and, side by side, the plain way (:func:`graph.explain.removal_impacts_reference`: remove
each node and re-score, the method of the removal-based attributions in the literature) on a
sample of 20 removals, extrapolated to all of them; and the peer, formal-argumentation 0.3.0
(``argumentation.gradual.quadratic_energy_strengths``, pure-Python quadratic energy with
adaptive RK4, unit weights), timed the same way on a 300-node graph where both are checked to
agree.
"""
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import networkx as nx  # noqa: E402

from graph.explain import removal_impacts, why  # noqa: E402
from graph.propagation import score_graph  # noqa: E402

KINDS = ["evidence"] * 4 + ["claim"] * 5 + ["model"]


def make_graph(n, *, seed=1, cyclic=False, unit_weights=False):
    """A random layered argument graph of ``n`` nodes (see the module docstring)."""
    rng = random.Random(seed)
    graph = nx.MultiDiGraph()
    for i in range(n):
        graph.add_node(f"n{i}", kind=KINDS[i % len(KINDS)], title=f"node {i}",
                       credence=round(rng.random(), 3))
    for i in range(n):
        later = range(i + 1, min(n, i + 50))
        for k, j in enumerate(rng.sample(later, min(len(later), rng.randint(0, 3)))):
            if cyclic and rng.random() < 0.05:
                i, j = j, i  # an edge backwards closes cycles
            relation = "supports" if k < 2 else "undermines"
            weight = 1.0 if unit_weights else round(rng.uniform(0.1, 1), 2)
            if not graph.has_edge(f"n{i}", f"n{j}"):
                graph.add_edge(f"n{i}", f"n{j}", key=relation, relation=relation, weight=weight,
                               note="generated")
    return graph


def best_of(runs, fn):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def plain_removal_time(graph, target, semantics, sample):
    """Seconds per removal the plain way (copy, remove, re-score), on ``sample`` nodes."""
    nodes = sorted(nx.ancestors(graph, target))[:sample]
    start = time.perf_counter()
    for node in nodes:
        smaller = graph.copy()
        smaller.remove_node(node)
        score_graph(smaller, semantics)
    return (time.perf_counter() - start) / len(nodes), len(nx.ancestors(graph, target))


def peer_comparison(n=300):
    """formal-argumentation vs ``removal_impacts`` on an n-node graph with unit weights."""
    from argumentation.gradual.gradual import WeightedBipolarGraph, quadratic_energy_strengths

    graph = make_graph(n, unit_weights=True)
    target = max((v for v, k in graph.nodes(data="kind") if k == "model"), key=lambda v: int(v[1:]))
    ancestors = sorted(nx.ancestors(graph, target))

    def peer_graph(skip):
        keep = [v for v in graph if v != skip]
        return WeightedBipolarGraph(
            arguments=frozenset(keep),
            initial_weights={v: graph.nodes[v]["credence"] for v in keep},
            supports=frozenset((a, b) for a, b, r in graph.edges(keys=True)
                               if r == "supports" and skip not in (a, b)),
            attacks=frozenset((a, b) for a, b, r in graph.edges(keys=True)
                              if r == "undermines" and skip not in (a, b)))

    present = quadratic_energy_strengths(peer_graph(None)).strengths[target]
    sample = ancestors[:10]
    start = time.perf_counter()
    peer = {v: present - quadratic_energy_strengths(peer_graph(v)).strengths[target] for v in sample}
    peer_each = (time.perf_counter() - start) / len(sample)
    ours_time, ours = best_of(3, lambda: removal_impacts(graph, target, "qe"))
    gap = max(abs(peer[v] - ours[v][0]) for v in sample)
    return n, len(ancestors), peer_each * len(ancestors), ours_time, gap


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 10_000
    cyclic = "--cyclic" in sys.argv
    graph = make_graph(n, cyclic=cyclic)
    target = max((v for v, k in graph.nodes(data="kind") if k == "model"), key=lambda v: int(v[1:]))
    shape = "cyclic" if cyclic else "acyclic"
    print(f"{shape} graph: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges; "
          f"target {target}")
    for semantics in ("qe", "dfquad", "eb"):
        score_time, result = best_of(3, lambda: score_graph(graph, semantics))
        why_time, rows = best_of(3, lambda: why(graph, target, semantics, result=result))
        each, count = plain_removal_time(graph, target, semantics, sample=20)
        print(f"{semantics:7s} score {score_time:.2f} s; why over {len(rows)} ancestors "
              f"{why_time:.2f} s; the plain way ~{each * count:.0f} s "
              f"({each * 1000:.0f} ms per removal x {count})")
    if not cyclic:
        size, count, peer_time, ours_time, gap = peer_comparison()
        print(f"peer, {size} nodes ({count} ancestors), qe removal impacts: formal-argumentation "
              f"~{peer_time:.1f} s, graph.explain {ours_time:.3f} s; largest difference {gap:.1e}")


if __name__ == "__main__":
    main()
