"""Benchmark: `takeoff robustness` on the bundled corpus and on a generated 10,000-node corpus.

Run: python bench/bench_robustness.py [--quick] [--code DIR]

Every plain credence and weight is given a spread of 0.1 (``--spread 0.1 --weight-spread
0.1``). Reported, CPU seconds (user + system):

- the whole command, a fresh process each time (``bench_scale.run``: start-up, imports,
  loading the corpus with its cache warm, the work, the table printed to a pipe), 1,000 samples
  on the generated corpus of ``bench_scale.make_corpus`` (target: under 3 s) and 10,000 on the
  bundled corpus; beside it the floor every command on that corpus pays, ``takeoff score``
  (start-up, imports, the load, one solve), and ``python -c "import numpy"``;
- in the same process as the loaded corpus, best of 3 (1 with ``--quick``), each phase of
  :func:`graph.solving.robustness.robustness`: the uncertain inputs, the Latin hypercube, drawing every
  input from its distribution, the batched solve, the point score, the summary and the Sobol
  indices; and the same samples solved one at a time by graph.solving.propagation.solve (extrapolated
  from 200), the peer inside the project.

``--code DIR`` times the whole commands of another checkout (e.g. ``git archive`` of the branch
start, for before/after figures on the same machine in the same run).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import make_corpus, run  # noqa: E402
from graph.files.corpus import Corpus  # noqa: E402
from graph.solving.propagation import build_system, score_system, solve  # noqa: E402
import graph.solving.robustness as rob  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SPREAD = ["--spread", "0.1", "--weight-spread", "0.1"]


def whole_command(folder, samples, code, runs):
    """Best CPU seconds of ``robustness`` and of ``score`` as fresh processes."""
    base = ["--corpus", str(folder)]
    time.sleep(2.5)   # files changed within 2 s of a read are not cached (graph/files/cache.py)
    run(base + ["check"], code, 600)   # fills the load cache
    robust = min(run(base + ["robustness", "--samples", str(samples)] + SPREAD, code, 600)[1]
                 for _ in range(runs))
    score = min(run(base + ["score"], code, 600)[1] for _ in range(runs))
    return robust, score


def numpy_import():
    """CPU seconds of ``python -c "import numpy"``."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", "import numpy"])
        _, _, usage = os.wait4(child.pid, 0)
        best = min(best, usage.ru_utime + usage.ru_stime)
    return best


def phases(graph, samples, runs):
    """Best CPU seconds of each phase of robustness(), in the order it runs them."""
    clock, best = time.process_time, {}

    def timed(name, fn):
        start = clock()
        out = fn()
        best[name] = min(best.get(name, float("inf")), clock() - start)
        return out

    from graph.solving.batch import Engine

    for _ in range(runs):
        system = timed("build the system", lambda: build_system(graph))
        inputs = timed("uncertain inputs", lambda: rob.uncertain_inputs(
            graph, system, spread=0.1, weight_spread=0.1))
        cube = timed("Latin hypercube", lambda: rob.LatinHypercube(len(inputs), 0).random(samples))
        base, weights = timed("draw the inputs", lambda: rob._Draw(system, inputs)(cube))

        def batched():
            engine, out = Engine(system), []
            for part in engine.batches(samples):
                out.append(engine.solve("qe", base=base[:, part], weights=weights[:, part])[0])
            return out

        timed("batched solve", batched)
        timed("point score", lambda: score_system(system, "qe"))
        timed("whole robustness()", lambda: rob.robustness(graph, samples=samples, spread=0.1,
                                                           weight_spread=0.1))
    return best


def one_at_a_time(graph, samples, spread=0.1):
    """Seconds per sample for plain solves of the same kind of samples."""
    system = build_system(graph)
    inputs = rob.uncertain_inputs(graph, system, spread=spread, weight_spread=spread)
    base, weights = rob._Draw(system, inputs)(rob.LatinHypercube(len(inputs), 0).random(samples))
    start = time.process_time()
    for c in range(samples):
        solve(system, "qe", base=base[:, c], weights=weights[:, c])
    return (time.process_time() - start) / samples


def report(name, folder, samples, code, runs):
    graph = Corpus.load(folder).graph
    robust, score = whole_command(folder, samples, code, runs)
    print(f"{name}: {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges, "
          f"{samples:,} samples")
    print(f"  takeoff robustness (whole command):  {robust:6.2f} s CPU")
    print(f"  takeoff score (the floor):           {score:6.2f} s CPU")
    if code != REPO:
        return
    for phase, seconds in phases(graph, samples, runs).items():
        print(f"  {phase + ':':36s} {seconds:6.2f} s CPU")
    per_sample = one_at_a_time(graph, min(200, samples))
    print(f"  one solve per sample:                {per_sample * samples:6.2f} s CPU "
          f"(extrapolated from 200)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--code", type=Path, default=REPO)
    args = parser.parse_args()
    runs = 1 if args.quick else 3
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"python -c 'import numpy': {numpy_import():.2f} s CPU", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        make_corpus(folder, 10_000)
        report("generated corpus", folder, 1_000, args.code.resolve(), runs)
    report("bundled corpus", REPO / "claims", 10_000, args.code.resolve(), runs)


if __name__ == "__main__":
    main()
