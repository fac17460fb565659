"""Benchmark: `takeoff history` and `takeoff compare`.

Run: python bench/bench_history.py

1. The bundled corpus, 100 weekly steps: :func:`graph.solving.timeline.history` (one solver system,
   one solve per distinct set of nodes) beside :func:`graph.solving.timeline.history_reference`
   (``score_graph`` on the as-of graph at every step, nothing shared), best of 5; and the
   whole command (``takeoff history --step week --json``, process start and imports included).
2. A generated 1,000-node corpus (bench_load's generator) whose evidence dates spread over
   15 years, scored monthly: nearly every step sees a new graph, so this is the cost per solve.
3. ``compare`` of the shipped perspectives: exact Shapley values (2**k solves) and sampled
   ones (200 random orders).
"""
import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from bench_load import make_corpus  # noqa: E402
from graph.files.corpus import Corpus  # noqa: E402
from graph.explaining.perspective import compare  # noqa: E402
from graph.solving.timeline import history, history_reference  # noqa: E402
from timing import best_of  # noqa: E402

BUNDLED = HERE.parent / "claims"
START = dt.date(2024, 1, 1)


def bundled():
    graph = Corpus.load(BUNDLED).require_valid().graph
    end = START + dt.timedelta(weeks=99)
    fast, data = best_of(lambda: history(graph, start=START, end=end, step="week"))
    slow, _ = best_of(lambda: history_reference(graph, start=START, end=end, step="week"))
    steps = len(data["dates"])
    print(f"bundled corpus ({graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges), "
          f"{steps} weekly steps {START}..{end}:")
    print(f"  history (shared system, {data['solves']} solves): {fast * 1000:.1f} ms")
    print(f"  history_reference (score_graph at every step):  {slow * 1000:.1f} ms")
    command = [sys.executable, "-c", "from cli import main; main()", "--corpus", str(BUNDLED),
               "history", "--step", "week", "--from", str(START), "--to", str(end), "--json"]
    wall, _ = best_of(lambda: subprocess.run(command, check=True, capture_output=True,
                                             cwd=HERE.parent), runs=3)
    print(f"  takeoff history --step week --json (whole process): {wall:.2f} s")


def generated(n=1000):
    with tempfile.TemporaryDirectory() as folder:
        make_corpus(folder, n)
        graph = Corpus.load(folder).require_valid().graph
        fast, data = best_of(lambda: history(graph, step="month", today=dt.date(2026, 1, 1)), 3)
        slow, _ = best_of(lambda: history_reference(graph, step="month",
                                                    today=dt.date(2026, 1, 1)), 1)
        print(f"generated corpus ({graph.number_of_nodes()} nodes, {graph.number_of_edges()} "
              f"edges), {len(data['dates'])} monthly steps, {data['solves']} distinct graphs:")
        print(f"  history: {fast:.2f} s   history_reference: {slow:.2f} s")


def comparisons():
    corpus = Corpus.load(BUNDLED).require_valid()
    for first, second in (("rlvr-optimist", "base"), ("rlvr-optimist", "bottlenecks-sceptic")):
        seconds, data = best_of(lambda: compare(corpus, first, second), 3)
        print(f"compare {first} {second}: {len(data['overrides'])} differing overrides, "
              f"{data['method']} Shapley, {data['solves']} solves: {seconds:.2f} s")


if __name__ == "__main__":
    bundled()
    generated()
    comparisons()
