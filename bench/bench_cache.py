"""Benchmark: a load of N node files (default 10,000) with and without the load cache, and
where the time of each goes.

Run: python bench/bench_cache.py [N]

The cache keeps each unchanged file's verdict in signed columns (graph/files/cache.py). This
times, best of 3 and in CPU seconds of this process, a load that reads, parses and checks
every file (``TAKEOFF_NO_CACHE=1``) and a load served from the cache, on the corpus of
bench_scale.py; then the parts of each: listing the files, reading them, parsing their front
matter (the plain fast path, and PyYAML's C loader on a sample for comparison), checking them
on their own, writing the cache; and for the warm load, reading and checking the cache's
columns, ``lstat`` of every file, the checks across files on columns and the solver's system
made from them (what ``check`` and ``score`` do), then what a command that needs the graph
adds: the verdicts made from the columns and the graph built from them. The cache's clock is
moved a minute ahead so that freshly written files count as older than its racy window.
"""
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import graph.files.cache as cache  # noqa: E402
from bench_scale import make_corpus  # noqa: E402
from graph.core.frontmatter import _Loader, parse_front
from graph.core.model import gc_paused
from graph.files import columns, store, validate  # noqa: E402
from graph.files.corpus import Corpus  # noqa: E402


def cpu(work, runs=3):
    """(best CPU seconds of ``runs`` calls, the last result)."""
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.process_time()
        result = work()
        best = min(best, time.process_time() - start)
    return best, result


def main(n):
    import yaml

    real = time.time_ns
    cache.time.time_ns = lambda: real() + 60 * 10 ** 9
    with tempfile.TemporaryDirectory() as folder, gc_paused():
        root = Path(folder)
        make_corpus(root, n)
        os.environ["TAKEOFF_NO_CACHE"] = "1"
        cold, _ = cpu(lambda: Corpus.load(root))
        del os.environ["TAKEOFF_NO_CACHE"]
        Corpus.load(root)   # writes the cache
        warm, corpus = cpu(lambda: Corpus.load(root))
        assert len(corpus.graph) == n and not corpus.errors
        print(f"{n} files: load reading every file {cold:.2f} s, from the cache {warm:.2f} s "
              f"(CPU, best of 3)")
        walk, files = cpu(lambda: store.walk_node_files(root))
        read, nfs = cpu(lambda: [store.read_node_file(p, None, root) for p, _, _ in files])
        parse, _ = cpu(lambda: [parse_front(nf.front) for nf in nfs])
        sample = [nf.front for nf in nfs[:1000]]
        pyyaml, _ = cpu(lambda: [yaml.load(text, Loader=_Loader) for text in sample], 1)
        check, verdicts = cpu(lambda: [validate.check_file(nf) for nf in nfs])
        kept = {rel: (None, nf.digest, v, None) for (_, _, rel), nf, v in zip(files, nfs, verdicts)}
        encode, _ = cpu(lambda: cache._columns(kept))
        print(f"  without the cache: list {walk:.3f} s, read {read:.3f} s, parse {parse:.3f} s "
              f"(PyYAML's C loader: ~{pyyaml * n / len(sample):.3f} s), check each file "
              f"(parse included) {check:.3f} s, columns for the cache {encode:.3f} s")
        listing, names = cpu(lambda: store.node_file_names(root))
        loaded, lc = cpu(lambda: cache.LoadCache(root))
        stats, found = cpu(lambda: lc.columns(names))
        across, cols = cpu(lambda: columns.assemble_columns(names, found))
        system, _ = cpu(lambda: cols.system())
        print(f"  from the cache's columns (no graph): list {listing:.3f} s, read and check the "
              f"columns {loaded:.3f} s, lstat every file {stats:.3f} s, checks across files "
              f"{across:.3f} s, the solver's system {system:.3f} s")
        verdicts, rows = cpu(lambda: cache._rows(cache._full(lc._fast, lc._slow)), 1)
        lookup, found = cpu(lambda: cache.LoadCache.lookup(lc, files))
        rows = [(p, rel[rel.rfind(os.sep) + 1:-3], v) for (p, _, rel), (v, _) in zip(files, found)]
        build, _ = cpu(lambda: validate.assemble([(p, i, validate.Verdict(dict(v.attrs), v.edges,
                                                                         v.problems, v.links))
                                                  for p, i, v in rows]))
        print(f"  the graph from the cache: verdicts from the columns {verdicts:.3f} s, "
              f"checks across files and the graph {build:.3f} s")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
