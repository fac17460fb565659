"""Benchmark: `why` (removal impacts and gradients for every node that reaches a target) on a
generated argument graph of N nodes (default 10,000), side by side with the plain way and a peer.

Run: python bench/bench_explain.py [N] [--cli]

The graph is the random layered argument graph of ``bench/bench_load.py`` (evidence, claims and
models; each node supports or undermines up to 3 of the next 50 nodes, random weights), built in
memory; a second, cyclic variant turns one edge in 20 backwards (strongly connected groups of
2 to 13 nodes). The target is the model that the most nodes reach (over half the graph): the
worst case for removal impacts, since nearly every node must be removed once.

Printed per semantics, best of 3: scoring the whole graph, and ``why`` on the target given the
scores (as the CLI calls it), wall-clock and CPU time (the machine may be shared; the load
average is printed first). Side by side: the plain way
(:func:`graph.explaining.explain.removal_impacts_reference`: remove each node, re-score the graph) timed on
20 removals and extrapolated to all of them; and the peer, formal-argumentation 0.3.0
(``argumentation.gradual.quadratic_energy_strengths``, pure-Python quadratic energy with
adaptive RK4; unit weights since it has no edge weights), timed on 5 removals of a 150-node
graph and extrapolated, with the largest difference between its impacts and ours.
With ``--cli``: also ``takeoff why`` end to end on the same corpus written as 10,000 files by
``bench_load.make_corpus`` (loading and validating the files included).
"""
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import networkx as nx  # noqa: E402

from graph.explaining.explain import removal_impacts, why  # noqa: E402
from graph.solving.propagation import score_graph  # noqa: E402
from timing import best_of  # noqa: E402

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


def plain_removal_time(graph, target, semantics, sample):
    """Seconds per removal the plain way (copy, remove, re-score), on ``sample`` nodes."""
    nodes = sorted(nx.ancestors(graph, target))[:sample]
    start = time.perf_counter()
    for node in nodes:
        smaller = graph.copy()
        smaller.remove_node(node)
        score_graph(smaller, semantics)
    return (time.perf_counter() - start) / len(nodes), len(nx.ancestors(graph, target))


def peer_comparison(n=150, sample=5):
    """formal-argumentation vs ``removal_impacts`` on an n-node graph with unit weights."""
    from argumentation.gradual.gradual import WeightedBipolarGraph, quadratic_energy_strengths

    graph = make_graph(n, unit_weights=True)
    target = most_reached_model(graph)
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
    start = time.perf_counter()
    peer = {v: present - quadratic_energy_strengths(peer_graph(v)).strengths[target]
            for v in ancestors[:sample]}
    peer_each = (time.perf_counter() - start) / sample
    ours_time, ours = best_of(lambda: removal_impacts(graph, target, "qe"), 3)
    gap = max(abs(peer[v] - ours[v][0]) for v in peer)
    return n, len(ancestors), peer_each * len(ancestors), ours_time, gap


def most_reached_model(graph):
    models = [v for v, k in graph.nodes(data="kind") if k == "model"]
    return max(models, key=lambda v: (len(nx.ancestors(graph, v)), v))


def cli_time(n, target):
    """Seconds for `takeoff why TARGET --top 10` on the bench_load corpus of n files."""
    import subprocess
    import tempfile

    from bench_load import make_corpus

    with tempfile.TemporaryDirectory() as folder:
        make_corpus(folder, n)
        start = time.perf_counter()
        subprocess.run(["takeoff", "--corpus", folder, "why", target, "--top", "10"], check=True,
                       capture_output=True)
        return time.perf_counter() - start


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 10_000
    # The machine may be shared: the load says how much the wall-clock times are inflated.
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for cyclic in (False, True):
        graph = make_graph(n, cyclic=cyclic)
        target = most_reached_model(graph)
        print(f"{'cyclic' if cyclic else 'acyclic'} graph: {graph.number_of_nodes()} nodes, "
              f"{graph.number_of_edges()} edges; target {target}, reached by "
              f"{len(nx.ancestors(graph, target))} nodes")
        for semantics in ("qe", "dfquad", "eb"):
            score_time, result = best_of(lambda: score_graph(graph, semantics), 3)
            why_time, rows = best_of(lambda: why(graph, target, semantics, result=result), 3)
            why_cpu, _ = best_of(lambda: why(graph, target, semantics, result=result), 3,
                                 time.process_time)
            each, count = plain_removal_time(graph, target, semantics, sample=20)
            print(f"  {semantics:7s} score {score_time:.2f} s   why {why_time:.2f} s "
                  f"(cpu {why_cpu:.2f} s)   the plain way ~{each * count:.0f} s "
                  f"({each * 1000:.0f} ms per removal)")
    size, count, peer_time, ours_time, gap = peer_comparison()
    print(f"peer on {size} nodes ({count} reach the target), qe removal impacts: "
          f"formal-argumentation ~{peer_time:.0f} s, graph.explaining.explain {ours_time:.3f} s; "
          f"largest difference {gap:.1e}")
    if "--cli" in sys.argv:
        print(f"takeoff why n{n - 1} --top 10 on {n} files: {cli_time(n, f'n{n - 1}'):.1f} s")


if __name__ == "__main__":
    main()
