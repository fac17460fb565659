"""Benchmark: `takeoff evidence` and the parts of every strength on a generated corpus.

Run: python bench/bench_evidence.py [N ...]   (default 10000)

The corpus is bench/bench_scale.py's (45% evidence, dated, 2% of the claims closing a cycle),
written as N files. Printed per size, best of 3 in this process (the machine may be shared: the
load average is printed first):

- ``evidence_effects``: each evidence item's leave-one-out contribution to every model and to
  the gap between the top two (graph/solving/shares.py), the corpus already loaded;
- ``strength_shares``: the parts of every node's strength (2^k coalitions, one batch);
- the whole command ``takeoff evidence --json`` in a fresh process (start-up, loading and
  validating the files with a warm load cache, the work, the JSON to a pipe), once.
"""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scale import make_corpus  # noqa: E402
from timing import best_of  # noqa: E402

from graph.files.corpus import Corpus  # noqa: E402
from graph.solving.shares import evidence_effects, strength_shares  # noqa: E402


def command_seconds(folder):
    """Wall time of one `takeoff evidence --json` in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", "from cli import main; main()", "--corpus", str(folder),
            "evidence", "--json"]
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def main(sizes):
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            make_corpus(tmp, n)
            graph = Corpus.load(tmp).require_valid().graph
            effects_s, data = best_of(lambda: evidence_effects(graph))
            shares_s, _ = best_of(lambda: strength_shares(graph))
            whole_s = command_seconds(tmp)
            print(f"{n:>7,} nodes, {graph.number_of_edges():,} edges, {len(data['items']):,} "
                  f"evidence items ({data['method']}): evidence_effects {effects_s:.2f} s, "
                  f"strength_shares {shares_s:.2f} s, `takeoff evidence --json` {whole_s:.2f} s")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000])
