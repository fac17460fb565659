"""Benchmark: loading and validating a corpus of N node files (default 10,000).

Run: python bench/bench_load.py [N]

Writes a generated corpus (a random layered argument graph, ~2 edges per node, sources and
bodies like the bundled corpus) into a temporary folder, then times ``Corpus.load`` (read,
parse with PyYAML's C loader, validate, build the networkx graph), best of 3, and, side by
side, the same files read with ruamel.yaml's round-trip loader (what an editor-grade parser
would cost) on a 1,000-file sample.
"""
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graph.files.corpus import Corpus
from graph.core.model import split_front_matter
from timing import best_of  # noqa: E402

KINDS = ["evidence"] * 4 + ["claim"] * 5 + ["model"]


def node_file(i, n, rng):
    kind = KINDS[i % len(KINDS)]
    lines = ["---", f"kind: {kind}", f"title: Generated {kind} number {i}",
             f"credence: {rng.random():.3f}"]
    if kind == "evidence":
        lines += [f"date: 20{rng.randint(10, 25)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                  "tags: [rl, compute]", "sources:", f"  - url: https://example.org/{i}",
                  f"    title: Source {i}", '    quote: "a short quote"']
    later = range(i + 1, min(n, i + 50))
    picked = rng.sample(later, min(len(later), rng.randint(0, 3)))
    for relation, targets in (("supports", picked[:2]), ("undermines", picked[2:])):
        if targets:
            lines.append(f"{relation}:")
            for t in sorted(targets):
                lines += [f"  - target: n{t}", f"    weight: {rng.uniform(0.1, 1):.2f}",
                          "    note: generated edge"]
    return "\n".join(lines) + "\n---\nA generated annotation with *Markdown*.\n"


def make_corpus(folder, n, seed=1):
    rng = random.Random(seed)
    for i in range(n):
        text = node_file(i, n, rng)
        sub = Path(folder) / f"part{i % 10}"
        sub.mkdir(exist_ok=True)
        (sub / f"n{i}.md").write_text(text, encoding="utf-8")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as folder:
        make_corpus(folder, n)
        seconds, corpus = best_of(lambda: Corpus.load(folder))
        assert not corpus.errors, corpus.errors[:3]
        g = corpus.graph
        print(f"Corpus.load: {n} files, {g.number_of_nodes()} nodes, {g.number_of_edges()} edges: "
              f"{seconds:.2f} s (best of 3)")
        from ruamel.yaml import YAML

        sample = sorted(Path(folder).rglob("*.md"))[:1000]
        rt = YAML(typ="rt")
        seconds_rt, _ = best_of(lambda: [rt.load(split_front_matter(p.read_text())[0]) for p in sample], 1)
        print(f"ruamel.yaml round-trip parse of 1,000 of the same files: {seconds_rt:.2f} s "
              f"(~{seconds_rt * n / 1000:.1f} s for {n})")


if __name__ == "__main__":
    main()
