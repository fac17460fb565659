"""Benchmark: reading and checking a perspective file of N credences and N weights (default
5,000 each) against a chain of N nodes.

Run: python bench/bench_perspective.py [N]

A perspective is read by the one YAML loader (graph.core.model.parse_front_marked: PyYAML's C
loader, one parse for the values and their lines); ruamel.yaml, which read it before, is kept
for rewriting a file. Prints the best of 3 of graph.files.perspectives.parse_perspective.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import networkx as nx  # noqa: E402

from graph.files.perspectives import parse_perspective  # noqa: E402
from timing import best_of  # noqa: E402


def main(n):
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(f"n{i}" for i in range(n))
    graph.add_edges_from((f"n{i}", f"n{i + 1}", "supports") for i in range(n - 1))
    text = "description: bench\ncredences:\n" + "".join(f"  n{i}: 0.{i % 9 + 1}\n" for i in range(n))
    text += "weights:\n" + "".join(f"  - source: n{i}\n    target: n{i + 1}\n    weight: 0.5\n"
                                   for i in range(n - 1))
    seconds, (perspective, problems) = best_of(lambda: parse_perspective(text, "bench.yaml", graph))
    assert not problems and len(perspective.credences) == n
    print(f"parse_perspective: {n} credences, {n - 1} weights, {len(text) // 1024} KB: {seconds:.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
