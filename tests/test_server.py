"""A shared map on a real SPARQL server: publish, query and pull against `oxigraph serve`
started by the tests on a free 127.0.0.1 port, and every way talking to a server can fail
(a stopped server, a wrong port or path, 401/403 from a proxy, a missing or foreign graph, a
timeout, an answer that is not SPARQL results). Requests go only to 127.0.0.1."""
import base64
import datetime as dt
import http.server
import json
import random
import shutil
import socket
import subprocess
import threading
import time
import types
import urllib.error
import urllib.parse
import urllib.request

import networkx as nx
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings, strategies as st
from rdflib.compare import isomorphic

from graph.page import endpoint as remote
from graph.formats import rdf
from graph.files.corpus import Corpus
from helpers import REPO, corpora, snapshot

OXIGRAPH = shutil.which("oxigraph")
pytestmark = pytest.mark.skipif(OXIGRAPH is None, reason="the oxigraph server binary is not "
                                "installed (pip install oxigraph)")


def free_port():
    """A loopback port free now, below the kernel's ephemeral range: a port the kernel handed
    out for port 0 could be handed to another test worker's server (port 0) before it is used
    here, and that server would then get this test's requests."""
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    for port in random.sample(range(10_000, low), 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port below the ephemeral range")


def start_oxigraph(folder):
    """`oxigraph serve` on a free loopback port: (process, base URL) once it answers."""
    return remote.start_server(0, folder)


def stop(process):
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """Requests go to 127.0.0.1 itself, never through a proxy the environment names."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    process, url = start_oxigraph(tmp_path_factory.mktemp("oxigraph"))
    yield url
    stop(process)


@pytest.fixture(scope="module")
def bundled():
    corpus = Corpus.load(REPO / "claims")
    corpus.require_valid()
    return corpus


@pytest.fixture
def corpus_copy(tmp_path):
    folder = tmp_path / "claims"
    shutil.copytree(REPO / "claims", folder)
    return folder


_graphs = iter(range(10**6))


@pytest.fixture
def graph_iri():
    """A graph of its own for each test (they share one server)."""
    return f"https://example.org/test-graph/{next(_graphs)}"


def attrs_of(G):
    return {n: {k: v for k, v in d.items() if k != "path"} for n, d in G.nodes(data=True)}


def assert_same_graph(G, H):
    assert attrs_of(G) == attrs_of(H)
    assert sorted(G.edges(keys=True, data=True)) == sorted(H.edges(keys=True, data=True))


def one_line_error(result, *parts):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.stderr.count("\n") == 1, result.stderr
    for part in parts:
        assert part in result.stderr, (part, result.stderr)


# ---- publish, query, pull -------------------------------------------------------------------

def test_every_named_query_gives_the_local_rows_on_the_server(server, bundled, graph_iri):
    score = bundled.score("qe")
    info = remote.publish(bundled.graph, remote.Endpoint(server), graph_iri, score=score)
    local = rdf.to_rdf(bundled.graph, score=score, store="memory")
    assert info["triples"] == len(local) and info["semantics"] == "qe" and info["created"]
    for name, (_, text) in rdf.named_queries().items():
        here = rdf.run_query(local, text).to_json()
        there = remote.query(remote.Endpoint(server), text, graph_iri).to_json()
        assert there == here, name
    assert any(rdf.run_query(local, text).rows for _, text in rdf.named_queries().values())


def test_cli_sparql_endpoint_prints_what_the_local_store_prints(run, server, corpus_copy, graph_iri):
    published = run(corpus_copy, "publish", "--endpoint", server, "--graph", graph_iri,
                    "--with-strengths", "--semantics", "dfquad")
    assert published.exit_code == 0, published.output
    assert f"to {server}/store: created graph <{graph_iri}>" in published.stdout
    assert "strengths under dfquad" in published.stdout
    for name in rdf.named_queries():
        for fmt in ("--json", "--csv"):
            here = run(corpus_copy, "sparql", name, fmt, "--with-strengths", "--semantics", "dfquad")
            there = run(corpus_copy, "sparql", name, fmt, "--endpoint", f"{server}/query",
                        "--graph", graph_iri)
            assert there.exit_code == 0, there.output
            assert there.stdout == here.stdout, (name, fmt)
    for query in ("ASK { ?m a tg:Model }", "CONSTRUCT WHERE { ?m a tg:Model } ORDER BY ?m LIMIT 2"):
        for fmt in ("--json", "--csv"):
            there = run(corpus_copy, "sparql", query, fmt, "--endpoint", server, "--graph", graph_iri)
            here = run(corpus_copy, "sparql", query, fmt, "--store", "oxigraph", "--with-strengths",
                       "--semantics", "dfquad")
            assert there.exit_code == 0 and there.stdout == here.stdout, (query, fmt)
    # DESCRIBE answers hold the tags' list cells: blank nodes, equal up to their labels.
    described = [run(corpus_copy, "sparql", "DESCRIBE node:bottlenecks", *where).stdout
                 for where in (["--store", "oxigraph", "--with-strengths", "--semantics", "dfquad"],
                               ["--endpoint", server, "--graph", graph_iri])]
    here, there = (rdflib.Graph().parse(data=text, format="turtle") for text in described)
    assert len(here) > 10 and isomorphic(here, there)


def test_pull_rebuilds_the_corpus_losslessly(run, server, bundled, corpus_copy, graph_iri, tmp_path):
    assert run(corpus_copy, "publish", "--endpoint", server, "--graph", graph_iri).exit_code == 0
    target = tmp_path / "pulled"
    result = run(corpus_copy, "pull", target, "--endpoint", server, "--graph", graph_iri)
    assert result.exit_code == 0, result.output
    assert f"{bundled.graph.number_of_nodes()} added, 0 changed, 0 removed" in result.stdout
    pulled = Corpus.load(target)
    pulled.require_valid()
    assert_same_graph(pulled.graph, bundled.graph)
    again = run(corpus_copy, "pull", target, "--endpoint", server, "--graph", graph_iri, "--json")
    summary = json.loads(again.stdout)
    assert summary["added"] == summary["changed"] == summary["removed"] == []
    assert summary["unchanged"] == bundled.graph.number_of_nodes()


def test_republishing_after_an_edit_replaces_the_old_version(run, server, corpus_copy, graph_iri):
    endpoint = remote.Endpoint(server)
    assert run(corpus_copy, "publish", "--endpoint", server, "--graph", graph_iri).exit_code == 0
    victim = sorted(Corpus.load(corpus_copy).graph)[0]
    assert run(corpus_copy, "set", "bottlenecks", "title", "A brand-new title").exit_code == 0
    assert run(corpus_copy, "rm", victim, "--force").exit_code == 0
    again = run(corpus_copy, "publish", "--endpoint", server, "--graph", graph_iri)
    assert again.exit_code == 0 and "replaced graph" in again.stdout

    def ask(text):
        return remote.query(endpoint, text, graph_iri).answer

    assert ask('ASK { node:bottlenecks dcterms:title "A brand-new title" }')
    assert not ask('ASK { node:bottlenecks dcterms:title ?t FILTER(?t != "A brand-new title") }')
    assert not ask(f"ASK {{ {{ node:{victim} ?p ?o }} UNION {{ ?s ?p node:{victim} }} }}")
    count = remote.query(endpoint, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", graph_iri)
    local = rdf.to_rdf(Corpus.load(corpus_copy).graph, store="memory")
    assert int(count.rows[0][0]) == len(local)


def test_pull_keeps_local_changes_unless_replace(run, server, corpus_copy, graph_iri):
    assert run(corpus_copy, "publish", "--endpoint", server, "--graph", graph_iri).exit_code == 0
    assert run(corpus_copy, "set", "bottlenecks", "credence", "0.11").exit_code == 0
    before = snapshot(corpus_copy)
    refused = run(corpus_copy, "pull", "--endpoint", server, "--graph", graph_iri)
    one_line_error(refused, "1 node(s) differ from the published graph", "bottlenecks",
                   "--replace")
    assert snapshot(corpus_copy) == before
    replaced = run(corpus_copy, "pull", "--endpoint", server, "--graph", graph_iri, "--replace",
                   "--json")
    assert replaced.exit_code == 0, replaced.output
    assert json.loads(replaced.stdout)["changed"] == ["bottlenecks"]
    assert Corpus.load(corpus_copy).graph.nodes["bottlenecks"]["credence"] != 0.11
    changed = {p for p, data in snapshot(corpus_copy).items()
               if before.get(p) != data and p.suffix == ".md"}
    assert [p.name for p in changed] == ["bottlenecks.md"]


def test_a_graph_that_is_not_ours_is_neither_pulled_nor_overwritten(run, server, corpus_copy,
                                                                    graph_iri, tmp_path):
    endpoint = remote.Endpoint(server)
    endpoint.request("PUT", endpoint.graph_url(graph_iri), content_type="application/n-triples",
                     data=b"<http://example.org/a> <http://example.org/b> \"someone's data\" .\n")
    target = tmp_path / "pulled"
    pulled = run(corpus_copy, "pull", target, "--endpoint", server, "--graph", graph_iri)
    one_line_error(pulled, f"graph <{graph_iri}> is not a takeoff-graph map")
    assert not target.exists()
    published = run(corpus_copy, "publish", "--endpoint", server, "--graph", graph_iri)
    one_line_error(published, f"graph <{graph_iri}> holds data that is not a takeoff-graph map",
                   "--force")
    assert remote.query(endpoint, "ASK { ?s ?p \"someone's data\" }", graph_iri).answer
    forced = run(corpus_copy, "publish", "--endpoint", server, "--graph", graph_iri, "--force")
    assert forced.exit_code == 0, forced.output
    assert not remote.query(endpoint, "ASK { ?s ?p \"someone's data\" }", graph_iri).answer


def test_the_server_default_graph_can_be_used(run, server, corpus_copy, tmp_path):
    published = run(corpus_copy, "publish", "--endpoint", server, "--graph", "default", "--force")
    assert published.exit_code == 0, published.output
    there = run(corpus_copy, "sparql", "unsupported-claims", "--json", "--endpoint", server,
                "--graph", "default")
    assert there.stdout == run(corpus_copy, "sparql", "unsupported-claims", "--json").stdout


# ---- publishing replaces atomically, writing only what changed ------------------------------

def generated_map(nodes, seed=1):
    """A corpus graph of ``nodes`` nodes shaped like the bundled one: tags (lists of blank
    nodes), sources, two or three edges a node towards earlier nodes."""
    rng = random.Random(seed)
    G = nx.MultiDiGraph()
    for i in range(nodes):
        kind = "model" if i % 50 == 0 else "claim" if i % 3 == 0 else "evidence"
        G.add_node(f"{kind}-{i}", kind=kind, title=f"Statement {i}", credence=round(rng.random(), 2),
                   date=dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(2000))
                   if kind == "evidence" else None,
                   tags=rng.sample(["rsi", "compute", "data", "automation"], rng.randrange(3)),
                   sources=[{"url": f"https://example.org/{i}", "title": "A report", "date": None}]
                   if kind == "evidence" else [], body=f"Why {i} matters.\n")
    ids = list(G)
    for i, source in enumerate(ids[1:], start=1):
        for target in sorted({ids[rng.randrange(i)] for _ in range(rng.choice((2, 3)))}):
            relation = "supports" if rng.random() < 0.7 else "undermines"
            G.add_edge(source, target, key=relation, relation=relation,
                       weight=round(rng.uniform(0.1, 1), 2), note="because")
    return G


def revised(G, every=10):
    """A copy of ``G`` with every ``every``-th node retitled and retagged, and its first edge gone."""
    H = G.copy()
    for node_id in sorted(H)[::every]:
        H.nodes[node_id].update(title=H.nodes[node_id]["title"] + " (revised)", tags=["revised"])
        out = list(H.out_edges(node_id, keys=True))
        if out:
            H.remove_edge(*out[0])
    return H


def server_graph(endpoint, graph_iri):
    """The graph as the server holds it, in rdflib."""
    _, _, body = endpoint.request("GET", endpoint.graph_url(graph_iri), accept=rdf.RESULTS_GRAPH)
    return rdflib.Graph().parse(data=body.decode("utf-8"), format="nt")


def put_graph(endpoint, graph_iri, G, score=None):
    """``G`` written the way publish wrote every map before it compared versions: one PUT."""
    endpoint.request("PUT", endpoint.graph_url(graph_iri), content_type=rdf.RESULTS_GRAPH,
                     data=rdf.serialize(G, "nt", score=score).encode("utf-8"))


def staging_graphs(endpoint):
    found = remote.query(endpoint, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                         remote.SERVER_DEFAULT_GRAPH)
    return [str(g) for (g,) in found.rows if str(g).startswith(remote.STAGING_GRAPH)]


def test_a_reader_sees_the_old_map_or_the_new_one_never_a_mix(server, graph_iri, monkeypatch):
    endpoint = remote.Endpoint(server, timeout=120)
    first_map = generated_map(400)
    versions = [revised(first_map), generated_map(200, seed=2)]
    seen, stop = [], threading.Event()

    def read():
        while not stop.is_set():
            seen.append(int(remote.query(endpoint, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                                         graph_iri).rows[0][0]))
            time.sleep(0.05)

    def polls_after():
        """Wait until a poll has begun and ended after this moment; the index it starts at."""
        count, deadline = len(seen), time.monotonic() + 60
        while len(seen) < count + 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        return count + 1

    first = remote.publish(first_map, endpoint, graph_iri)
    assert first["method"] == "put" and first["created"]
    sizes = {first["triples"]}
    reader = threading.Thread(target=read)
    reader.start()
    try:
        # The reader does see a replacement in two requests, with an empty graph between them.
        remote._update(endpoint, f"DROP GRAPH <{graph_iri}>".encode())
        polls_after()
        put_graph(endpoint, graph_iri, first_map)
        assert 0 in seen
        start = polls_after()
        edit = remote.publish(versions[0], endpoint, graph_iri)
        # Everything changes: too large for one update here, so uploaded beside and moved in.
        monkeypatch.setattr(remote, "MAX_UPDATE_BYTES", 1000)
        monkeypatch.setattr(remote, "STAGING_CHUNK_BYTES", 100_000)
        whole = remote.publish(versions[1], endpoint, graph_iri)
        end = polls_after()
    finally:
        stop.set()
        reader.join()
    sizes |= {edit["triples"], whole["triples"]}
    assert edit["method"] == "update" and 0 < edit["added"] < edit["triples"] // 5
    assert whole["method"] == "staged" and len(sizes) == 3
    assert len(seen[start:]) > 5 and set(seen[start:]) <= sizes, sorted(set(seen[start:]) - sizes)
    assert seen[end] == whole["triples"] and staging_graphs(endpoint) == []
    # The server holds what one PUT of the last version gives.
    put_graph(endpoint, graph_iri + "/put", versions[1])
    assert isomorphic(server_graph(endpoint, graph_iri), server_graph(endpoint, graph_iri + "/put"))


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(old=corpora(), new=corpora(), kept=st.floats(0, 1), scored=st.booleans(),
       default=st.booleans())
def test_publishing_over_a_version_gives_what_one_put_gives(server, old, new, kept, scored, default):
    """Each published version ends as the graph a PUT of it makes: kept nodes (some edited),
    removed and new ones, tag lists and the scoring run (blank nodes), texts with quotes,
    escapes and control characters, on a named graph or the server's default graph."""
    endpoint = remote.Endpoint(server)
    target = remote.SERVER_DEFAULT_GRAPH if default else f"https://example.org/versions/{next(_graphs)}"
    stay = sorted(old)[:round(kept * len(old))]
    new = nx.compose(old.subgraph(stay).copy(), new)
    for version, G in enumerate((old, new)):
        score = types.SimpleNamespace(strengths={n: 0.5 for n in G}, semantics="qe",
                                      converged=True, iterations=version) if scored else None
        info = remote.publish(G, endpoint, target, score=score, force=default)
        # Every line the server writes is read (none sends publish the long way round).
        assert info["method"] in ("put", "update", "unchanged"), info
        put_graph(endpoint, "https://example.org/versions/put", G, score)
        assert isomorphic(server_graph(endpoint, target),
                          server_graph(endpoint, "https://example.org/versions/put")), version


def test_a_graph_whose_blank_nodes_are_not_trees_is_replaced_whole(server, bundled, graph_iri):
    endpoint = remote.Endpoint(server)
    # _:x hangs from two triples, _:y and _:z form a cycle: not what a map holds.
    foreign = ("<urn:a> <urn:p> _:x .\n<urn:b> <urn:p> _:x .\n_:x <urn:q> \"v\" .\n"
               "_:y <urn:next> _:z .\n_:z <urn:next> _:y .\n")
    endpoint.request("PUT", endpoint.graph_url(graph_iri), content_type=rdf.RESULTS_GRAPH,
                     data=foreign.encode())
    info = remote.publish(bundled.graph, endpoint, graph_iri, force=True)
    assert info["method"] == "staged" and info["removed"] == 5
    put_graph(endpoint, graph_iri + "/put", bundled.graph)
    assert isomorphic(server_graph(endpoint, graph_iri), server_graph(endpoint, graph_iri + "/put"))
    assert staging_graphs(endpoint) == []
    # A line the comparison cannot read is never guessed at.
    with pytest.raises(remote._NotTrees):
        remote._Triples(b'<urn:a> <urn:p> <urn:b> .\n_:y <urn:q> "unterminated .\n')


def test_lines_a_server_sends_never_become_operations(server, stub, bundled, graph_iri):
    """The lines of the published graph that publish deletes are pasted into an update; one
    that could end its string or IRI there (a SPARQL parser may decode \\u0022 first) is not
    pasted: the graph is replaced whole instead."""
    real = remote.Endpoint(server)
    real.request("PUT", real.graph_url("urn:precious"), content_type=rdf.RESULTS_GRAPH,
                 data=b'<urn:keep> <urn:p> "precious" .\n')
    attacks = [b'<urn:a> <urn:b> "x\\u0022 } } ; DROP ALL ; INSERT DATA { GRAPH <urn:g> '
               b'{ <urn:a> <urn:b> \\u0022y" .',
               b"<urn:a\\u003E } } ; DROP ALL ; # > <urn:b> <urn:c> ."]
    passing = forward(server)
    for attack in attacks:
        def append_the_attack(request, body):
            status, headers, data = passing(request, body)
            if request.command == "GET" and request.path.startswith("/store"):
                data += attack + b"\n"
            return status, headers, data

        endpoint = remote.Endpoint(stub(append_the_attack).url)
        remote.publish(revised(bundled.graph, every=3), real, graph_iri)
        info = remote.publish(bundled.graph, endpoint, graph_iri)
        assert info["method"] == "staged"
        assert remote.query(real, 'ASK { <urn:keep> <urn:p> "precious" }', "urn:precious").answer
        put_graph(real, graph_iri + "/put", bundled.graph)
        assert isomorphic(server_graph(real, graph_iri), server_graph(real, graph_iri + "/put"))


def test_a_failed_switch_leaves_the_old_map_and_no_staging_graph(server, stub, bundled, graph_iri,
                                                                 monkeypatch):
    passing = forward(server)

    def refuse_the_move(request, body):
        if request.path == "/update" and body.startswith(b"MOVE"):
            return 500, {"Content-Type": "text/plain"}, b"disk full"
        return passing(request, body)

    endpoint = remote.Endpoint(stub(refuse_the_move).url)
    remote.publish(revised(bundled.graph, every=3), endpoint, graph_iri)
    before = server_graph(endpoint, graph_iri)
    monkeypatch.setattr(remote, "MAX_UPDATE_BYTES", 100)
    with pytest.raises(remote.EndpointError, match="answered 500 .*disk full"):
        remote.publish(bundled.graph, endpoint, graph_iri)
    assert isomorphic(server_graph(endpoint, graph_iri), before)
    assert staging_graphs(remote.Endpoint(server)) == []


# ---- errors ---------------------------------------------------------------------------------

class Stub:
    """An HTTP server on 127.0.0.1 answering with ``handler(request) -> (status, headers,
    body)``; it records each request's method, path, headers and body."""

    def __init__(self, handler, port=0):
        requests = self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def respond(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                requests.append((self.command, self.path, dict(self.headers), body))
                status, headers, data = handler(self, body)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = respond

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub():
    made = []

    def make(handler, port=0):
        made.append(Stub(handler, port))
        return made[-1]

    yield make
    for s in made:
        s.close()


def forward(to):
    """A handler that passes a request on to ``to`` (a real server) and returns its answer."""

    def handler(request, body):
        upstream = urllib.request.Request(to + request.path, data=body or None,
                                          method=request.command, headers={
                                              k: v for k, v in request.headers.items()
                                              if k in ("Content-Type", "Accept")})
        try:
            with urllib.request.urlopen(upstream, timeout=30) as answer:
                return answer.status, {"Content-Type": answer.headers["Content-Type"]}, answer.read()
        except urllib.error.HTTPError as exc:
            return exc.code, {"Content-Type": "text/plain"}, exc.read()

    return handler


TOKEN = "s3cret-token-value"


def guarded(to, allowed):
    """A proxy to ``to`` that answers 401 without credentials, 403 for a known but refused
    account, and forwards requests carrying one of the ``allowed`` Authorization values."""
    passing = forward(to)

    def handler(request, body):
        given = request.headers.get("Authorization")
        if given in allowed:
            return passing(request, body)
        if given == "Basic " + base64.b64encode(b"reader:pw").decode():
            return 403, {"Content-Type": "text/plain"}, b"forbidden"
        return 401, {"WWW-Authenticate": 'Bearer realm="takeoff"', "Content-Type": "text/plain"}, b"no"

    return handler


def test_credentials_from_the_environment_or_netrc_reach_the_server_and_are_never_printed(
        run, server, stub, corpus_copy, graph_iri, tmp_path, monkeypatch):
    basic = "Basic " + base64.b64encode(b"editor:pass word").decode()
    proxy = stub(guarded(server, {f"Bearer {TOKEN}", basic}))
    monkeypatch.delenv("NETRC", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc of the machine's user
    for var in (remote.TOKEN_VARIABLE, remote.USER_VARIABLE, remote.PASSWORD_VARIABLE):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(remote.HOST_VARIABLE, "127.0.0.1")
    http = "--allow-http-credentials"  # the stub speaks plain http
    before = snapshot(corpus_copy)
    none = run(corpus_copy, "publish", "--endpoint", proxy.url, "--graph", graph_iri)
    one_line_error(none, f"{proxy.url}/query: the server needs credentials (401",
                   remote.TOKEN_VARIABLE, "netrc")
    monkeypatch.setenv(remote.TOKEN_VARIABLE, "wrong")
    wrong = run(corpus_copy, "sparql", "ASK {}", "--endpoint", proxy.url, http)
    one_line_error(wrong, "refused the credentials (401")
    monkeypatch.setenv(remote.TOKEN_VARIABLE, TOKEN)
    ok = run(corpus_copy, "publish", "--endpoint", proxy.url, "--graph", graph_iri, http)
    assert ok.exit_code == 0, ok.output
    assert TOKEN not in ok.output
    monkeypatch.delenv(remote.TOKEN_VARIABLE)
    netrc = tmp_path / "netrc"
    netrc.write_text('machine 127.0.0.1 login editor password "pass word"\n')
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    pulled = run(corpus_copy, "pull", tmp_path / "copy", "--endpoint", proxy.url, "--graph",
                 graph_iri, http)
    assert pulled.exit_code == 0, pulled.output
    monkeypatch.setenv(remote.USER_VARIABLE, "reader")
    monkeypatch.setenv(remote.PASSWORD_VARIABLE, "pw")
    forbidden = run(corpus_copy, "sparql", "ASK {}", "--endpoint", proxy.url, "--graph", graph_iri,
                    http)
    one_line_error(forbidden, "does not allow this account to do that (403")
    assert "pw" not in forbidden.stderr.replace(proxy.url, "")
    assert snapshot(corpus_copy) == before
    assert {r[2].get("Authorization") for r in proxy.requests} >= {f"Bearer {TOKEN}", basic}


def test_a_stopped_server_and_a_wrong_port_say_so(run, corpus_copy, tmp_path):
    process, url = start_oxigraph(tmp_path / "store")
    stop(process)
    before = snapshot(corpus_copy)
    for args in (["publish"], ["sparql", "ASK {}"], ["pull", "--replace"]):
        result = run(corpus_copy, *args, "--endpoint", url)
        one_line_error(result, f"{url}/", "connection refused: is the server running")
    wrong = f"http://127.0.0.1:{free_port()}/query"
    one_line_error(run(corpus_copy, "sparql", "tagged", "--endpoint", wrong),
                   wrong, "connection refused")
    assert snapshot(corpus_copy) == before


def test_a_wrong_path_a_missing_graph_and_a_bad_url(run, server, corpus_copy, tmp_path):
    one_line_error(run(corpus_copy, "sparql", "ASK {}", "--endpoint", f"{server}/nothing/query"),
                   f"{server}/nothing/query: not found (404)")
    target = tmp_path / "pulled"
    one_line_error(run(corpus_copy, "pull", target, "--endpoint", server, "--graph",
                       "https://example.org/never-published"),
                   f"{server}/store: there is no graph <https://example.org/never-published>")
    assert not target.exists()
    for url in ("127.0.0.1:7878", "ftp://127.0.0.1/x", "http://"):
        one_line_error(run(corpus_copy, "sparql", "ASK {}", "--endpoint", url),
                       f"--endpoint {url!r}: give an http:// or https:// URL")


def test_timeouts_non_results_and_redirects(run, stub, corpus_copy):
    def slow(request, body):
        time.sleep(8)
        return 200, {"Content-Type": remote.RESULTS_JSON}, b'{"boolean": true}'

    started = time.monotonic()
    sleepy = stub(slow)
    one_line_error(run(corpus_copy, "sparql", "ASK {}", "--endpoint", sleepy.url, "--timeout", "0.5"),
                   f"{sleepy.url}/query: no complete answer within 0.5 s", "--timeout")
    assert time.monotonic() - started < 6   # the answer would take 8 s; a loaded CI needs slack
    page = stub(lambda r, b: (200, {"Content-Type": "text/html"}, b"<html>hello</html>"))
    one_line_error(run(corpus_copy, "sparql", "tagged", "--endpoint", page.url),
                   f"{page.url}/query: the answer (text/html) is not SPARQL results")
    garbled = stub(lambda r, b: (200, {"Content-Type": remote.RESULTS_JSON}, b"{not json"))
    one_line_error(run(corpus_copy, "sparql", "tagged", "--endpoint", garbled.url),
                   "is not SPARQL results")
    moved = stub(lambda r, b: (302, {"Location": "http://127.0.0.1:1/elsewhere"}, b""))
    one_line_error(run(corpus_copy, "sparql", "ASK {}", "--endpoint", moved.url),
                   "redirects to 'http://127.0.0.1:1/elsewhere'", "redirects are not followed")
    broken = stub(lambda r, b: (500, {"Content-Type": "text/plain"}, b"disk full\nat line 3"))
    one_line_error(run(corpus_copy, "sparql", "ASK {}", "--endpoint", broken.url),
                   "the server answered 500 Internal Server Error: disk full at line 3")


def test_the_query_policy_holds_before_anything_is_sent(run, stub, corpus_copy):
    listener = stub(lambda r, b: (200, {"Content-Type": remote.RESULTS_JSON}, b'{"boolean": true}'))
    for query, message in (
            ("SELECT * WHERE { SERVICE <http://127.0.0.1:1/s> { ?s ?p ?o } }",
             "SERVICE <http://127.0.0.1:1/s> would send corpus values"),
            ("SELECT ?x WHERE { ?x a tg:Model ", "bad SPARQL query: line 1"),
            ("DELETE WHERE { ?s ?p ?o }", "runs queries only")):
        one_line_error(run(corpus_copy, "sparql", query, "--endpoint", listener.url), message)
    assert listener.requests == []
    for option in (["--with-strengths"], ["--as-of", "2024-01-01"], ["--store", "memory"]):
        result = run(corpus_copy, "sparql", "ASK {}", "--endpoint", listener.url, *option)
        assert result.exit_code == 2 and "not with --endpoint" in result.stderr
    allowed = run(corpus_copy, "sparql", "ASK { SERVICE <http://127.0.0.1:1/s> { ?s ?p ?o } }",
                  "--endpoint", listener.url, "--allow-service", "http://127.0.0.1:1/s")
    assert allowed.exit_code == 0 and allowed.stdout == "true\n"
    sent = listener.requests[0]
    assert sent[0] == "POST" and sent[1] == "/query"
    form = urllib.parse.parse_qs(sent[3].decode())
    assert form["default-graph-uri"] == [remote.DEFAULT_GRAPH]
    assert form["query"][0].startswith("PREFIX tg: <https://w3id.org/takeoff-graph/vocab#>\n")


def test_publish_refuses_a_corpus_with_errors_and_sends_nothing(run, stub, corpus_copy):
    listener = stub(lambda r, b: (204, {}, b""))
    (corpus_copy / "broken.md").write_text("---\nkind: claim\n---\n", encoding="utf-8")
    result = run(corpus_copy, "publish", "--endpoint", listener.url)
    assert result.exit_code == 1 and "missing title" in result.stderr
    assert listener.requests == []


def start_serve(corpus, *args):
    """`takeoff serve ARGS` in a process of its own: (process, the lines it printed up to
    "Ctrl-C stops the server.", its base URL)."""
    import os
    import re
    import sys

    process = subprocess.Popen(
        [sys.executable, "-c", "import cli; cli.main()", "--corpus", str(corpus), "serve", *args],
        cwd=REPO, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    lines = []
    while not lines or lines[-1] and not lines[-1].startswith(("Ctrl-C", "Error")):
        lines.append(process.stderr.readline())
    found = re.search(r"SPARQL query: (http://\S+)/query", "".join(lines))
    return process, lines, found.group(1) if found else None


def end(process):
    import signal

    process.send_signal(signal.SIGTERM)
    process.wait(30)


def test_serve_loads_the_corpus_into_a_local_server_and_stops_with_it(corpus_copy):
    port = free_port()
    process, lines, url = start_serve(corpus_copy, "--port", str(port), "--with-strengths")
    try:
        nodes = Corpus.load(corpus_copy).graph.number_of_nodes()
        assert lines[0].startswith(f"serving {nodes} nodes"), lines
        assert url == f"http://127.0.0.1:{port}"
        assert "only this machine's users can reach it; read-only: nobody can change it" in lines[3]
        endpoint = remote.Endpoint(url)
        local = rdf.to_rdf(Corpus.load(corpus_copy).graph, score=Corpus.load(corpus_copy).score("qe"),
                           store="memory")
        for name, (_, text) in rdf.named_queries().items():
            there = remote.query(endpoint, text, remote.SERVER_DEFAULT_GRAPH).to_json()
            assert there == rdf.run_query(local, text).to_json(), name
        # Read-only: neither a SPARQL update nor a Graph Store write is taken.
        update = urllib.parse.urlencode({"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"})
        with pytest.raises(remote.EndpointError, match="403"):
            endpoint.request("POST", url + "/update", data=update.encode(),
                             content_type="application/x-www-form-urlencoded")
        with pytest.raises(remote.EndpointError, match="403"):
            endpoint.request("PUT", endpoint.graph_url(remote.DEFAULT_GRAPH), data=b"",
                             content_type="application/n-triples")
        assert not remote.query(endpoint, "ASK { <urn:a> ?p ?o }", remote.SERVER_DEFAULT_GRAPH).answer
    finally:
        end(process)
    with pytest.raises(remote.EndpointError, match="connection refused"):
        remote.query(endpoint, "ASK {}")


def test_serve_writable_on_another_address_says_who_can_write(corpus_copy):
    process, lines, url = start_serve(corpus_copy, "--port", "0", "--host", "127.0.0.2",
                                      "--writable")
    try:
        assert url.startswith("http://127.0.0.2:"), lines
        assert ("anyone who can reach 127.0.0.2 can query it; writable: anyone who can reach it "
                "can change it (no authentication)") in lines[3]
        endpoint = remote.Endpoint(url)
        endpoint.request("PUT", endpoint.graph_url("urn:other"), content_type="application/n-triples",
                         data=b"<urn:a> <urn:b> <urn:c> .\n")
        assert remote.query(endpoint, "ASK { <urn:a> ?p ?o }", remote.SERVER_DEFAULT_GRAPH).answer
    finally:
        end(process)


def test_serve_on_a_taken_port_sends_nothing_to_whoever_holds_it(run, stub, corpus_copy):
    # Below the ephemeral range: a port the kernel handed out for port 0 and took back may
    # still get a request meant for its last holder, from whatever else runs on the machine.
    impostor = stub(lambda r, b: (200, {"Content-Type": remote.RESULTS_JSON}, b'{"boolean": true}'),
                    free_port())
    port = impostor.url.rsplit(":", 1)[1]
    result = run(corpus_copy, "serve", "--port", port)
    one_line_error(result, f"cannot listen on 127.0.0.1:{port}", "pass another --port")
    assert impostor.requests == []
    # Whoever holds the port is not taken for the server: only a listening socket of the
    # child itself counts.
    assert remote._listens(subprocess.os.getpid(), int(port)) is True
    assert remote._listens(1, int(port)) is False


def test_after_kill_9_of_serve_the_oxigraph_child_dies_too(corpus_copy):
    import os
    import signal

    process, lines, url = start_serve(corpus_copy, "--port", "0")
    assert url, lines
    with open(f"/proc/{process.pid}/task/{process.pid}/children") as children:
        child = int(children.read().split()[0])
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)

    def alive(pid):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(child)
    with pytest.raises(remote.EndpointError, match="connection refused"):
        remote.query(remote.Endpoint(url), "ASK {}")


def test_the_sharing_page_commands_run_as_written(tmp_path):
    import os
    import re

    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", 7878)) == 0:
            pytest.skip("port 7878, which docs/sharing.md uses, is taken")
    page = (REPO / "docs" / "sharing.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", page, re.S)
    assert blocks
    shutil.copytree(REPO / "claims", tmp_path / "claims")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for block in blocks:
        done = subprocess.run(["bash", "-ec", block], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, (block, done.stdout, done.stderr)
    assert "published" in done.stdout and "pulled" in done.stdout and "ok:" in done.stdout
    assert_same_graph(Corpus.load(tmp_path / "shared-copy").graph,
                      Corpus.load(tmp_path / "claims").graph)


def test_a_pull_refused_by_validation_leaves_no_folder(run, server, corpus_copy, graph_iri, tmp_path):
    # A published graph whose edge points at a node that is not in it: valid RDF, invalid corpus.
    endpoint = remote.Endpoint(server)
    nt = (f"<{rdf.DEFAULT_BASE}a> <{rdf.PREFIXES['rdf']}type> <{rdf.VOCAB}Claim> .\n"
          f"<{rdf.DEFAULT_BASE}a> <{rdf.PREFIXES['dcterms']}title> \"A\" .\n"
          f"<{rdf.DEFAULT_BASE}a> <{rdf.VOCAB}credence> \"1.5\"^^<{rdf.PREFIXES['xsd']}decimal> .\n")
    endpoint.request("PUT", endpoint.graph_url(graph_iri), data=nt.encode(),
                     content_type="application/n-triples")
    target = tmp_path / "new-folder"
    result = run(corpus_copy, "pull", target, "--endpoint", server, "--graph", graph_iri)
    assert result.exit_code == 1 and "credence" in result.stderr, result.output
    assert not target.exists()
