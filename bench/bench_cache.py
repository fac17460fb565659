"""Benchmark: a load of N node files (default 10,000) with and without the load cache.

Run: python bench/bench_cache.py [N]

The cache keeps parsed front matter (never a verdict: every load validates it again) under
an HMAC of the user's key (graph/files/cache.py). This times, best of 3, a load that parses every
file (``TAKEOFF_NO_CACHE=1``) and a load served from the cache, on the corpus of
bench_load.py. The cache's clock is moved a minute ahead so that freshly written files count
as older than its racy window and are cached at once.
"""
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import graph.files.cache  # noqa: E402
from bench_load import node_file  # noqa: E402
from graph.files.corpus import Corpus  # noqa: E402
from timing import best_of  # noqa: E402


def main(n):
    rng = random.Random(1)
    real = time.time_ns
    graph.files.cache.time.time_ns = lambda: real() + 60 * 10 ** 9
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for i in range(n):
            (root / f"n{i}.md").write_text(node_file(i, n, rng), encoding="utf-8")
        os.environ["TAKEOFF_NO_CACHE"] = "1"
        parsed, _ = best_of(lambda: Corpus.load(root))
        del os.environ["TAKEOFF_NO_CACHE"]
        Corpus.load(root)   # writes the cache
        cached, corpus = best_of(lambda: Corpus.load(root))
        assert len(corpus.graph) == n
    print(f"{n} files: load parsing every file {parsed:.2f} s, from the cache {cached:.2f} s "
          f"(best of 3)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
