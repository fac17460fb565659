"""Benchmark: `takeoff robustness` on the bundled corpus and on a generated 10,000-node corpus.

Run: python bench/bench_robustness.py [--quick]

Times :func:`graph.robustness.robustness` (sampling, the batched solve, the summary and the
Sobol estimator with its bootstrap), best of 3, with every plain credence and weight given a
spread of 0.1: 10,000 samples on the bundled corpus (targets: under 2 s), 1,000 samples on the
generated corpus of bench_load.py (under 10 s). Side by side, the same samples solved one at a
time by graph.propagation.solve (extrapolated from 200), the peer inside the project.
"""
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_load import make_corpus  # noqa: E402
from graph.model import Corpus  # noqa: E402
from graph.propagation import build_system, solve  # noqa: E402
from graph.robustness import LatinHypercube, _Draw, robustness, uncertain_inputs  # noqa: E402
from timing import best_of  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def one_at_a_time(graph, samples, spread=0.1):
    """Seconds per sample for plain solves of the same kind of samples."""
    system = build_system(graph)
    inputs = uncertain_inputs(graph, system, spread=spread, weight_spread=spread)
    base, weights = _Draw(system, inputs)(LatinHypercube(len(inputs), 0).random(samples))
    start = time.perf_counter()
    for c in range(samples):
        solve(system, "qe", base=base[:, c], weights=weights[:, c])
    return (time.perf_counter() - start) / samples


def measure(name, graph, samples, runs):
    seconds, out = best_of(lambda: robustness(graph, samples=samples, spread=0.1,
                                              weight_spread=0.1), runs=runs)
    per_sample = one_at_a_time(graph, min(200, samples))
    print(f"{name}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges, "
          f"{out['inputs']} uncertain inputs, {samples} samples")
    print(f"  robustness (batched):        {seconds:8.2f} s")
    print(f"  one solve per sample:        {per_sample * samples:8.2f} s (extrapolated from 200)")
    top = out["models"][0]
    print(f"  top path {top['id']}: mean {top['mean']:.3f}, 90% [{top['low']:.3f}, "
          f"{top['high']:.3f}], P(first) {top['p_first']:.3f}")


def main():
    quick = "--quick" in sys.argv
    import scipy.stats  # noqa: F401  (imported once, outside the timings)

    measure("bundled corpus", Corpus.load(REPO / "claims").graph, 10_000, 1 if quick else 3)
    with tempfile.TemporaryDirectory() as folder:
        make_corpus(folder, 10_000)
        graph = Corpus.load(folder).graph
        measure("generated corpus", graph, 1_000, 1 if quick else 3)


if __name__ == "__main__":
    main()
