"""Linked data at 100,000 triples: rdflib's in-memory store against Oxigraph (pyoxigraph through
oxrdflib), behind the same graph.formats.rdf functions the CLI uses.

    python bench/bench_rdf.py                     # 100,000 triples, each step timed once
    python bench/bench_rdf.py --cli               # then the takeoff commands on files
    python bench/bench_rdf.py --triples 20000 --slow

Steps: build the RDF graph from a synthetic corpus graph, write Turtle / N-Triples / JSON-LD,
read the Turtle back into a corpus graph (``takeoff import``), run a GROUP BY and the named
SPARQL queries, and validate with SHACL. rdflib's SPARQL engine needs many minutes for the
named queries at this size (joins of four patterns, a transitive property path); on its store
they are timed only with ``--slow``.
"""
import argparse
import datetime as dt
import random
import time

import networkx as nx

from graph.formats import rdf


COUNT_BY_CLASS = "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class"
NAMED = ("contested-claims", "unsupported-claims", "evidence-without-source-or-date",
         "evidence-reaching-model")


def synthetic_corpus(nodes, seed=1):
    """A corpus graph shaped like the bundled one: 2% models, 1/3 claims, the rest evidence
    with a date and a source; two or three edges a node towards earlier nodes."""
    rng = random.Random(seed)
    G = nx.MultiDiGraph()
    for i in range(nodes):
        kind = "model" if i % 50 == 0 else "claim" if i % 3 == 0 else "evidence"
        G.add_node(f"{kind}-{i}", kind=kind, title=f"Statement {i} about AI takeoff",
                   credence=round(rng.random(), 2),
                   date=dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(2000)) if kind == "evidence" else None,
                   tags=rng.sample(["rsi", "compute", "data", "automation", "hardware"], rng.randrange(3)),
                   sources=[{"url": f"https://example.org/{i}", "title": "A report", "date": None}]
                   if kind == "evidence" else [],
                   body=f"Why statement {i} matters.\n")
    ids = list(G)
    for i, source in enumerate(ids[1:], start=1):
        if G.nodes[source]["kind"] == "model":
            continue
        for target in sorted({ids[rng.randrange(i)] for _ in range(rng.choice((2, 3)))}):
            relation = "supports" if rng.random() < 0.7 else "undermines"
            G.add_edge(source, target, key=relation, relation=relation,
                       weight=round(rng.uniform(0.1, 1), 2), note="because")
    return G


def timed(label, fn, results):
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    results.append((label, seconds))
    print(f"{label:<52} {seconds:8.2f} s", flush=True)
    return value


def cli_figures(G, results):
    """End to end, as a user runs them: the corpus written as files, then `takeoff export` and
    `takeoff sparql` (default --store auto, so Oxigraph at this size), each a new process."""
    import subprocess
    import sys
    import tempfile

    from graph.files.edit import import_graph

    with tempfile.TemporaryDirectory() as folder:
        timed("write the corpus as files (import_graph)", lambda: import_graph(folder, G), results)
        for label, args in (
                ("takeoff check", ["check"]),
                ("takeoff export --format turtle", ["export", "--format", "turtle"]),
                ("takeoff export --format nt", ["export", "--format", "nt"]),
                ("takeoff sparql evidence-reaching-model --csv",
                 ["sparql", "evidence-reaching-model", "--csv"]),
                ("takeoff sparql contested-claims --csv", ["sparql", "contested-claims", "--csv"])):
            command = [sys.executable, "-c", "import cli; cli.main()", "--corpus", folder, *args]
            timed(label, lambda: subprocess.run(command, check=True, capture_output=True), results)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--cli", action="store_true",
                        help="also write the corpus as files and time the takeoff commands")
    parser.add_argument("--slow", action="store_true",
                        help="also time rdflib's in-memory store on the transitive query")
    args = parser.parse_args()
    sample = synthetic_corpus(1000)
    per_node = sum(1 for _ in rdf.triples(sample)) / 1000
    G = synthetic_corpus(round(args.triples / per_node))
    results = []
    named = rdf.named_queries()
    for store in rdf.STORES:
        g = timed(f"[{store}] build the RDF graph", lambda: rdf.to_rdf(G, store=store), results)
        print(f"  {G.number_of_nodes()} nodes, {G.number_of_edges()} edges, {len(g)} triples")
        turtle = timed(f"[{store}] write Turtle", lambda: rdf.serialize(G, "turtle", store=store), results)
        timed(f"[{store}] write N-Triples", lambda: rdf.serialize(G, "nt", store=store), results)
        queries = [("count by class (GROUP BY)", COUNT_BY_CLASS)]
        queries += [(name, named[name][1]) for name in NAMED]
        for name, text in queries:
            if store == "memory" and name in NAMED and not args.slow:
                print(f"[{store}] query {name:<40} skipped (minutes; use --slow)")
                continue
            rows = timed(f"[{store}] query {name}", lambda: rdf.run_query(g, text), results)
            print(f"  {len(rows.rows)} rows")
    timed("[rdflib] write JSON-LD (compacted, inline context)", lambda: rdf.serialize(G, "jsonld"), results)
    timed("[auto] read Turtle back into a corpus graph", lambda: rdf.parse(turtle, "turtle"), results)
    timed("[rdflib] SHACL validation (pySHACL)", lambda: rdf.validate_shacl(rdf.to_rdf(G, store="memory")),
          results)
    if args.cli:
        cli_figures(G, results)


if __name__ == "__main__":
    main()
