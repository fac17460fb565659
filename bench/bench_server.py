"""A shared map on a SPARQL server: publish, query and pull times against a real Oxigraph
server, side by side with the local stores, for the bundled corpus and a generated one.

    python bench/bench_server.py                  # bundled corpus and 50,000 generated nodes
    python bench/bench_server.py --nodes 5000     # a smaller generated corpus
    python bench/bench_server.py --publish-size 50000   # only `takeoff publish`, 1.3M triples

With ``--publish-size N`` only publishing is timed, on N generated nodes, against ``oxigraph
serve`` with its data on disk: the first publish (the graph does not exist), publishing the
same map again, and publishing after an edit of 1% of the nodes (titles, tags, an edge
removed), each with wall time, this process's CPU time and the server's CPU time. With
``--preload`` the first version is bulk-loaded (``oxigraph load``) instead of published.

Starts ``oxigraph serve`` on a free 127.0.0.1 port with its data in a temporary folder, then
for each corpus times: building the local store (rdflib in memory for the bundled corpus only:
at a million triples it needs minutes and gigabytes; Oxigraph in process), each named query
locally and on the server, publishing (serialize + Graph Store PUT: the server's load time),
and pulling the graph back (GET + parse). Above --put-max-nodes the generated corpus is loaded
with ``oxigraph load`` (the bulk loader) instead: Oxigraph's transactional PUT of a million
triples did not finish within 15 minutes on the shared machine. Also the cost of the time limit
on Oxigraph queries (each runs in a forked child) against a plain in-process query.
"""
import argparse
import copy
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_rdf import synthetic_corpus  # noqa: E402
from graph.page import endpoint as remote  # noqa: E402
from graph.formats import rdf  # noqa: E402
from graph.files.corpus import Corpus  # noqa: E402
from timing import best_of  # noqa: E402

TIMEOUT = 900.0


def timed(label, fn, runs=1):
    seconds, value = best_of(fn, runs)
    print(f"  {label:<58} {seconds:8.3f} s", flush=True)
    return value


def bench_corpus(name, graph, url, runs, bulk_folder=None):
    """Publish ``graph`` to the server at ``url`` and time the queries there and locally.

    With ``bulk_folder``, the graph is loaded by ``oxigraph load`` (the bulk loader, server
    stopped) into that folder instead, and a server is started on it: at a million triples
    the transactional Graph Store PUT takes longer than this benchmark can wait.
    """
    print(f"\n{name}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges", flush=True)
    iri = f"https://example.org/bench/{name}"
    stores = ["memory", "oxigraph"] if graph.number_of_nodes() < 10_000 else ["oxigraph"]
    local = {store: timed(f"[{store}] build the local store",
                          lambda: rdf.to_rdf(graph, store=store), runs) for store in stores}
    nt = timed("[client] serialize N-Triples", lambda: rdf.serialize(graph, "nt"), runs)
    print(f"    {nt.count(chr(10))} triples, {len(nt.encode()) / 1e6:.1f} MB")
    process = None
    if bulk_folder is None:
        endpoint = remote.Endpoint(url, timeout=TIMEOUT)
        timed("[server] publish (serialize + Graph Store PUT) = load time",
              lambda: remote.publish(graph, endpoint, iri, force=True), runs)
        timed("[server] publish again (replaces the graph)",
              lambda: remote.publish(graph, endpoint, iri, force=True), runs)
    else:
        Path(bulk_folder).mkdir()
        source = Path(bulk_folder) / "corpus.nt"
        source.write_text(nt, encoding="utf-8")
        location = Path(bulk_folder) / "store"
        timed("[server] oxigraph load (bulk loader, server stopped) = load time",
              lambda: subprocess.run(["oxigraph", "load", "--location", str(location), "--file",
                                      str(source), "--graph", iri], check=True,
                                     capture_output=True))
        process, url = remote.start_server(0, location)
        endpoint = remote.Endpoint(url, timeout=TIMEOUT)
    try:
        for query, (_, text) in rdf.named_queries().items():
            if query == "models-by-strength":
                continue  # needs strengths; the same shape as the others
            for store, g in local.items():
                result = timed(f"[{store}] {query}",
                               lambda: rdf.run_query(g, text, timeout=TIMEOUT), runs)
            there = timed(f"[server] {query}", lambda: remote.query(endpoint, text, iri), runs)
            assert len(there.rows) == len(result.rows), query
            print(f"    {len(result.rows)} rows")
        pulled = timed("[server] pull: GET + parse into a corpus graph",
                       lambda: remote.fetch_graph(endpoint, iri), runs)
        assert pulled.number_of_nodes() == graph.number_of_nodes()
    finally:
        if process is not None:
            process.terminate()
            process.wait()


def fork_overhead(graph, runs):
    """The time limit's cost on Oxigraph: a forked child per query vs. a direct call."""
    g = rdf.to_rdf(graph, store="oxigraph")
    text = "SELECT ?m WHERE { ?m a tg:Model }"
    inner = g.store._inner
    namespaces = rdf.query_namespaces()
    print("\ntime limit on Oxigraph (a small query)")
    timed("[oxigraph] direct pyoxigraph query, no time limit",
          lambda: list(inner.query(text, prefixes=namespaces)), runs * 5)
    timed("[oxigraph] run_query (parse + policy + forked child)",
          lambda: rdf.run_query(g, text), runs * 5)
    timed("[memory] run_query (parse + policy + thread)",
          lambda: rdf.run_query(rdf.to_rdf(graph, store="memory"), text), runs * 5)


def server_cpu(pid):
    """CPU seconds (user + system) the process ``pid`` has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def edited(graph, share=0.01, seed=2):
    """A copy of ``graph`` with ``share`` of its nodes edited: a new title, a tag added, one
    outgoing edge removed."""
    import random

    rng = random.Random(seed)
    graph = copy.deepcopy(graph)
    for node in rng.sample(sorted(graph), max(1, round(share * graph.number_of_nodes()))):
        attrs = graph.nodes[node]
        attrs["title"] += " (revised)"
        attrs["tags"] = [*attrs["tags"], "revised"]
        out = list(graph.out_edges(node, keys=True))
        if out:
            graph.remove_edge(*out[0])
    return graph


def bench_publish(nodes, timeout, preload=False):
    """`takeoff publish` of ``nodes`` generated nodes: first publish, again unchanged, after an
    edit; wall, client CPU and server CPU of each. With ``preload`` the first version is put
    in place by ``oxigraph load`` (the bulk loader, server stopped) instead of being published:
    the first publish of a million triples is one transaction of the server's that takes many
    minutes."""
    graph = synthetic_corpus(nodes)
    changed = edited(graph)
    print(f"publish: {nodes} nodes, {graph.number_of_edges()} edges", flush=True)
    iri = "https://example.org/bench/publish"
    steps = [("publish again, unchanged", graph),
             ("publish after editing 1% of the nodes", changed)]
    with tempfile.TemporaryDirectory() as folder:
        location = Path(folder) / "store"
        if preload:
            source = Path(folder) / "map.nt"
            source.write_bytes(rdf.serialize(graph, "nt").encode("utf-8"))
            timed("[server] first version: oxigraph load (bulk loader, server stopped)",
                  lambda: subprocess.run(["oxigraph", "load", "--location", str(location),
                                          "--file", str(source), "--graph", iri],
                                         check=True, capture_output=True))
        else:
            steps.insert(0, ("first publish (no graph yet)", graph))
        process, url = remote.start_server(0, location)
        endpoint = remote.Endpoint(url, timeout=timeout)
        try:
            for label, version in steps:
                wall, cpu, server = time.perf_counter(), time.process_time(), server_cpu(process.pid)
                try:
                    info = remote.publish(version, endpoint, iri)
                    done = f"{info['triples']} triples"
                    if "method" in info:  # what publish did (since it compares versions)
                        done += f"; {info['method']}: +{info['added']} -{info['removed']}"
                except remote.EndpointError as exc:
                    done = f"failed: {exc}"
                print(f"  {label:<40} {time.perf_counter() - wall:8.1f} s wall "
                      f"{time.process_time() - cpu:7.1f} s client CPU "
                      f"{server_cpu(process.pid) - server:7.1f} s server CPU  ({done})", flush=True)
        finally:
            process.terminate()
            process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=1, help="best of this many runs")
    parser.add_argument("--put-max-nodes", type=int, default=10_000,
                        help="above this, load with oxigraph's bulk loader instead of PUT")
    parser.add_argument("--publish-size", type=int, metavar="N",
                        help="only time publishing N generated nodes (first, again, after an edit)")
    parser.add_argument("--preload", action="store_true",
                        help="with --publish-size: bulk-load the first version instead of timing "
                             "its publish")
    parser.add_argument("--timeout", type=float, default=TIMEOUT,
                        help="seconds a request may take (default %(default)g)")
    args = parser.parse_args()
    if args.publish_size:
        bench_publish(args.publish_size, args.timeout, args.preload)
        return
    bundled = Corpus.load(Path(__file__).resolve().parent.parent / "claims").graph
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        process, url = remote.start_server(0, folder)
        print(f"oxigraph serve started in {time.perf_counter() - started:.2f} s at {url}")
        try:
            fork_overhead(bundled, args.runs)
            bench_corpus("bundled", bundled, url, args.runs)
            bulk = Path(folder) / "bulk" if args.nodes > args.put_max_nodes else None
            bench_corpus(f"generated-{args.nodes}", synthetic_corpus(args.nodes), url, args.runs,
                         bulk)
        finally:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
