"""What running rdflib's evaluator in a forked child (so that --timeout can stop a catastrophic
regular expression) costs per query, on the bundled corpus.

    python bench/bench_query_child.py

Prints milliseconds per query (mean of 20 runs after one warm-up) for a trivial ASK, a
SELECT of every triple (the answer crosses the pipe pickled) and a shipped query.
"""
import time

from graph.formats import rdf
from graph.files.corpus import Corpus
from pathlib import Path

RUNS = 20


def main():
    corpus = Corpus.load(Path(__file__).resolve().parent.parent / "claims")
    store = rdf.to_rdf(corpus.graph, store="memory")
    queries = {"ASK {}": "ASK {}",
               "SELECT ?s ?p ?o (every triple)": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",
               "unsupported-claims": rdf.named_queries()["unsupported-claims"][1]}
    for name, text in queries.items():
        result = rdf.run_query(store, text)
        started = time.perf_counter()
        for _ in range(RUNS):
            result = rdf.run_query(store, text)
        ms = (time.perf_counter() - started) / RUNS * 1000
        rows = len(result.rows) if result.kind == "SELECT" else 0
        print(f"{name}: {ms:.1f} ms ({rows} rows)")


if __name__ == "__main__":
    main()
