"""Benchmark: CPU time of every command that solves, in-process, on generated corpora.

Run: python bench/bench_engine.py [--sizes 10000,50000] [--code DIR] [--runs 3]

The corpus is :func:`bench_scale.node_texts` (evidence dated 2015-2025, six claim levels,
models, 2% of the claims closing a cycle), with one perspective ``bench`` that overrides the
credence of six claims and the weight of two edges. Per size, the best of ``--runs`` CPU times
(``time.process_time``: the machine may be shared, so wall time says little) of the Python call
behind each command, after the corpus is loaded:

- ``score``: :func:`graph.solving.propagation.score_graph` (qe);
- ``why``: :func:`graph.explaining.explain.why` of the most reached model, ``top=20``, given the scores,
  under qe, dfquad and eb;
- ``cruxes``: :func:`graph.explaining.explain.cruxes` of the two most reached models, ``top=5``;
- ``why`` and ``cruxes`` again on the hard case, :func:`bench_explain.make_graph` of the same
  size with cycles, whose most reached model is reached by over half the graph;
- ``history``: :func:`graph.solving.timeline.history`, monthly 2015 to 2026-01-01, and weekly;
- ``compare``: :func:`graph.explaining.perspective.compare` of ``bench`` and ``base`` (8 overrides:
  exact Shapley over 256 coalitions);
- ``robustness``: :func:`graph.solving.robustness.robustness`, 200 samples, every credence and weight
  with a spread of 0.1.

``--code DIR`` runs another checkout (``git archive`` of the branch start, for before/after
figures on the same machine in the same run).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = r"""
import datetime as dt, json, sys, time
import networkx as nx
from graph.files.corpus import Corpus
from graph.solving.propagation import score_graph
from graph.explaining.explain import why, cruxes
from graph.solving.timeline import history
from graph.explaining.perspective import compare
from graph.solving.robustness import robustness

folder, runs = sys.argv[1], int(sys.argv[2])
corpus = Corpus.load(folder).require_valid()
g = corpus.graph
models = [v for v, k in g.nodes(data="kind") if k == "model"]
reach = {m: len(nx.ancestors(g, m)) for m in models}
a, b = sorted(models, key=lambda m: (-reach[m], m))[:2]

def best(fn):
    times = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)

out = {}
result = {}
for sem in ("qe", "dfquad", "eb"):
    result[sem] = score_graph(g, sem)
out["score qe"] = best(lambda: score_graph(g, "qe"))
for sem in ("qe", "dfquad", "eb"):
    out[f"why {sem}"] = best(lambda: why(g, a, sem, top=20, result=result[sem]))
out["cruxes qe"] = best(lambda: cruxes(g, a, b, "qe", top=5, result=result["qe"]))
# The hard case for why and cruxes: bench_explain's layered graph with cycles, whose most
# reached model is reached by over half of it.
sys.path.insert(0, sys.argv[3])
from bench_explain import make_graph, most_reached_model
hard = make_graph(len(g), cyclic=True)
target = most_reached_model(hard)
second = max((v for v, k in hard.nodes(data="kind") if k == "model" and v != target),
             key=lambda v: (len(nx.ancestors(hard, v)), v))
for sem in ("qe", "dfquad", "eb"):
    scored = score_graph(hard, sem)
    out[f"why {sem} (hard)"] = best(lambda: why(hard, target, sem, top=20, result=scored))
    out[f"cruxes {sem} (hard)"] = best(lambda: cruxes(hard, target, second, sem, top=5,
                                                      result=scored))
out["history month"] = best(lambda: history(g, step="month", start=dt.date(2015, 1, 1),
                                            end=dt.date(2026, 1, 1)))
out["history week"] = best(lambda: history(g, step="week", start=dt.date(2015, 1, 1),
                                           end=dt.date(2026, 1, 1)))
out["compare"] = best(lambda: compare(corpus, "bench", "base"))
out["robustness 200"] = best(lambda: robustness(g, samples=200, spread=0.1, weight_spread=0.1))
print(json.dumps(out))
"""


def perspective(texts):
    """A perspective over six claims and two edges of the generated corpus."""
    claims = sorted((p for p in texts if p.startswith("claim/")),
                    key=lambda p: int(Path(p).stem[1:]))
    chosen = [Path(p).stem for p in claims[::max(1, len(claims) // 6)][:6]]
    lines = ["description: bench", "credences:"] + [f"  {c}: 0.9" for c in chosen]
    lines.append("weights:")
    edges = 0
    for path in claims:
        text = texts[path]
        if "  - target: " in text and edges < 2:
            target = text.split("  - target: ")[1].split("\n")[0]
            lines += [f"  - source: {Path(path).stem}", f"    target: {target}",
                      "    weight: 0.2"]
            edges += 1
    return "\n".join(lines) + "\n"


def measure(n, code, runs):
    from bench_scale import node_texts

    with tempfile.TemporaryDirectory() as folder:
        texts = node_texts(n)
        for rel, text in texts.items():
            path = Path(folder) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        (Path(folder) / "perspectives").mkdir()
        (Path(folder) / "perspectives" / "bench.yaml").write_text(perspective(texts))
        env = {**os.environ, "PYTHONPATH": str(code)}
        done = subprocess.run([sys.executable, "-c", CHILD, folder, str(runs), str(HERE)], env=env,
                              cwd=code, capture_output=True, text=True)
        if done.returncode:
            sys.exit(done.stderr[-2000:])
        return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; code {args.code}",
          flush=True)
    for n in (int(s) for s in args.sizes.split(",")):
        for name, seconds in measure(n, args.code.resolve(), args.runs).items():
            print(f"  {n:>6} {name:20s} {seconds:8.2f} s cpu", flush=True)


if __name__ == "__main__":
    main()
