"""The corpus as linked data: vocabulary, lossless RDF round trips, import errors, SPARQL,
SHACL, and the CLI commands (export/import --format turtle|jsonld|nt, sparql, check --shacl)."""
import datetime as dt
import json
import subprocess
import sys
import types

import networkx as nx
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings, strategies as st
from rdflib import Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS

from graph.files.edit import init_corpus
from graph.formats import rdf
from graph.files.edit import import_graph
from graph.files.corpus import Corpus
from graph.core.model import TakeoffError
from helpers import REPO, assert_same_graph, corpora, edge, full_graph, node, snapshot, write_node

TG = Namespace(rdf.VOCAB)
AIF = Namespace(rdf.PREFIXES["aif"])
SCHEMA = Namespace(rdf.PREFIXES["schema"])
NODE = Namespace(rdf.DEFAULT_BASE)
STORES = ["memory", "oxigraph"]


# ---- corpus graphs --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundled():
    corpus = Corpus.load(REPO / "claims")
    corpus.require_valid()
    return corpus


# ---- vocabulary -----------------------------------------------------------------------------

def test_vocabulary_aligns_nodes_and_edges_with_aif_and_schema():
    vocab = rdflib.Graph().parse(data=rdf.vocabulary_text(), format="turtle")
    for cls in (TG.Model, TG.Claim, TG.Evidence):
        assert (cls, RDFS.subClassOf, AIF["I-node"]) in vocab
        assert (cls, RDFS.subClassOf, SCHEMA.Claim) in vocab
    assert (TG.Support, RDFS.subClassOf, AIF["RA-node"]) in vocab
    assert (TG.Undermining, RDFS.subClassOf, AIF["CA-node"]) in vocab
    assert (TG.Argument, RDFS.subClassOf, AIF["RA-node"]) in vocab
    assert (TG.Source, RDFS.subClassOf, URIRef("http://www.w3.org/ns/prov#Entity")) in vocab


def test_every_vocabulary_term_the_export_uses_is_declared():
    vocab = rdflib.Graph().parse(data=rdf.vocabulary_text(), format="turtle")
    declared = set(vocab.subjects(RDF.type, None))
    score = types.SimpleNamespace(strengths={n: 0.5 for n in full_graph()}, semantics="qe",
                                  converged=True, iterations=3)
    g = rdf.to_rdf(full_graph(), score=score)
    used = {t for triple in g for t in triple if isinstance(t, URIRef) and str(t).startswith(rdf.VOCAB)}
    assert used and used <= declared, used - declared


def test_export_states_each_edge_as_a_resource_and_a_direct_triple():
    g = rdf.to_rdf(full_graph())
    resource = URIRef(rdf.DEFAULT_BASE + "alpha-evolve/supports/loops")
    assert (resource, RDF.type, TG.Support) in g
    assert (resource, TG.source, NODE["alpha-evolve"]) in g
    assert (resource, TG.target, NODE["loops"]) in g
    assert float(g.value(resource, TG.weight)) == 0.8
    assert str(g.value(resource, TG.note)) == "why\nit matters"
    assert (NODE["alpha-evolve"], TG.supports, NODE["loops"]) in g
    assert (NODE["naive"], TG.undermines, NODE["fast-takeoff"]) in g
    assert (URIRef(rdf.DEFAULT_BASE + "naive/undermines/fast-takeoff"), RDF.type, TG.Undermining) in g


def test_export_uses_dublin_core_prov_and_xsd_dates():
    g = rdf.to_rdf(full_graph())
    e = NODE["alpha-evolve"]
    assert g.value(e, DCTERMS.title) == Literal("AlphaEvolve recovers 0.7% of Google's compute")
    assert g.value(e, DCTERMS.date) == Literal("2025-05-14", datatype=rdflib.XSD.date)
    source = URIRef(rdf.DEFAULT_BASE + "alpha-evolve/source/1")
    assert (e, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"), source) in g
    assert g.value(source, SCHEMA.url) == Literal("https://deepmind.google/x?a=1&b=2#frag",
                                                  datatype=rdflib.XSD.anyURI)
    assert g.value(source, DCTERMS.title) == Literal("Blog «post»")
    assert g.value(source, DCTERMS.date).toPython() == dt.date(2025, 5, 14)


def test_custom_base_puts_every_node_iri_under_it():
    g = rdf.to_rdf(full_graph(), "urn:example:corpus:")
    nodes = set(g.subjects(DCTERMS.identifier, None))
    assert nodes == {URIRef("urn:example:corpus:" + n) for n in full_graph()}
    with pytest.raises(TakeoffError, match="--base"):
        rdf.to_rdf(full_graph(), "https://example.org/no-separator")


def test_strengths_are_exported_with_their_semantics_and_ignored_on_import():
    G = full_graph()
    score = types.SimpleNamespace(strengths={n: i / 10 for i, n in enumerate(sorted(G))},
                                  semantics="dfquad", converged=True, iterations=7)
    g = rdf.to_rdf(G, score=score)
    for n, value in score.strengths.items():
        assert float(g.value(NODE[n], TG.strength)) == value
    run = g.value(None, RDF.type, TG.Scoring)
    assert str(g.value(run, TG.semantics)) == "dfquad"
    assert_same_graph(G, rdf.parse(rdf.serialize(G, "turtle", score=score), "turtle"))


def test_jsonld_has_an_inline_context_and_nothing_remote():
    text = rdf.serialize(full_graph(), "jsonld")
    data = json.loads(text)
    assert isinstance(data["@context"], dict)
    assert data["@context"]["tg"] == rdf.VOCAB
    ids = [item["@id"] for item in data["@graph"]]
    assert ids == sorted(ids)
    first = next(i for i in data["@graph"] if i["@id"] == "node:fast-takeoff")
    assert first["tags"] == ["rsi", "speed", "rsi"] and first["title"].startswith("Fast takeoff")


# ---- lossless round trips -------------------------------------------------------------------

@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("fmt", list(rdf.RDF_FORMATS))
def test_round_trip_keeps_every_field(fmt, store):
    G = full_graph()
    assert_same_graph(G, rdf.parse(rdf.serialize(G, fmt, store=store), fmt))


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("fmt", list(rdf.RDF_FORMATS))
def test_round_trip_of_the_bundled_corpus(bundled, fmt, store):
    assert_same_graph(bundled.graph, rdf.parse(rdf.serialize(bundled.graph, fmt, store=store), fmt))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora(), st.sampled_from(list(rdf.RDF_FORMATS)), st.sampled_from(STORES))
def test_round_trip_of_generated_corpora(G, fmt, store):
    assert_same_graph(G, rdf.parse(rdf.serialize(G, fmt, store=store), fmt))


@settings(max_examples=60, deadline=None)
@given(corpora())
def test_both_stores_hold_the_same_graph(G):
    # Oxigraph writes literals in canonical form ("1" for 1.0, "x"^^xsd:string for "x"), so
    # the stores are compared by what they read back as, and by size.
    a, b = rdf.to_rdf(G, store="memory"), rdf.to_rdf(G, store="oxigraph")
    assert len(a) == len(b)
    assert_same_graph(rdf.from_rdf(a), rdf.from_rdf(b))


# File-level: corpus files -> RDF -> new corpus files, through the real writer and loader. The
# text keeps to what YAML writes and reads back the same (numbers with few digits).
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(G=corpora(unit=st.integers(0, 1000).map(lambda i: i / 1000),
                 weight=st.integers(1, 100).map(lambda i: i / 100), max_nodes=5),
       fmt=st.sampled_from(list(rdf.RDF_FORMATS)))
def test_corpus_files_to_rdf_to_corpus_files(tmp_path_factory, G, fmt):
    first, second = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    written = import_graph(first, G)
    written.require_valid()
    text = rdf.serialize(written.graph, fmt)
    import_graph(second, rdf.parse(text, fmt)).require_valid()
    assert_same_graph(Corpus.load(first).graph, Corpus.load(second).graph)


def test_rdf_without_identifiers_takes_ids_from_the_base():
    text = """
        @prefix tg: <https://w3id.org/takeoff-graph/vocab#> .
        @prefix dcterms: <http://purl.org/dc/terms/> .
        <https://example.org/map/a> a tg:Evidence ; dcterms:title "A" ; dcterms:date "2024-01-02" ;
            tg:supports <https://example.org/map/b> .
        <https://example.org/map/b> a tg:Model ; dcterms:title "B"@en .
    """
    G = rdf.parse(text, "turtle", "https://example.org/map/")
    assert G.nodes["a"]["date"] == dt.date(2024, 1, 2) and G.nodes["b"]["title"] == "B"
    assert G.nodes["a"]["credence"] == 0.5
    assert G.edges["a", "b", "supports"] == {"relation": "supports", "weight": 1.0, "note": ""}
    with pytest.raises(TakeoffError, match="not under the base"):
        rdf.parse(text, "turtle")


# ---- bad input ------------------------------------------------------------------------------

PREFIXES = "@prefix tg: <https://w3id.org/takeoff-graph/vocab#> .\n" \
           "@prefix dcterms: <http://purl.org/dc/terms/> .\n" \
           "@prefix node: <https://w3id.org/takeoff-graph/node/> .\n"


@pytest.mark.parametrize("text, fmt, message", [
    (PREFIXES + 'node:a a tg:Claim ;\n dcterms:title "unterminated .\n', "turtle",
     r"line 5: not valid Turtle: newline found in string literal"),
    (PREFIXES + "node:a a tg:Claim ; undeclared:x 1 .\nnode:b a tg:Claim .\n", "turtle",
     r'line 4: not valid Turtle: Prefix "undeclared:" not bound'),
    ('<https://a/x> <https://a/p> "o" .\n<https://a/x> <https://a/p> o .\n', "nt",
     r"line 2: not valid N-Triples"),
    ('{\n  "@id": "x",\n  "a": \n}', "jsonld", r"line 4: not valid JSON-LD"),
])
def test_syntax_errors_give_the_parsers_message_and_line(text, fmt, message):
    with pytest.raises(rdf.RDFError, match=message):
        rdf.parse(text, fmt)


def test_large_files_use_oxigraphs_parser_and_keep_the_line(monkeypatch):
    monkeypatch.setattr(rdf, "AUTO_OXIGRAPH_TRIPLES", 0)
    with pytest.raises(rdf.RDFError, match=r"line 5: not valid Turtle: Parser error"):
        rdf.parse(PREFIXES + 'node:a a tg:Claim ;\n dcterms:title "unterminated .\n', "turtle")


def test_remote_jsonld_context_is_refused_without_fetching(monkeypatch):
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("the network was used")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    text = json.dumps({"@context": ["https://schema.org/", {"tg": rdf.VOCAB}], "@id": "x"})
    with pytest.raises(rdf.RDFError, match="remote context 'https://schema.org/'"):
        rdf.parse(text, "jsonld")
    nested = json.dumps({"@context": {"@import": "https://example.org/ctx.jsonld"}, "@id": "x"})
    with pytest.raises(rdf.RDFError, match="remote context"):
        rdf.parse(nested, "jsonld")


@pytest.mark.parametrize("body, message", [
    ("node:a a tg:Claim .", r"node:a: no dcterms:title"),
    ('node:a a tg:Claim ; dcterms:title "A" ; tg:credence "high" .',
     r'node:a: tg:credence "high" is not a number'),
    ('node:a a tg:Claim ; dcterms:title "A" ; tg:credance 0.5 .',
     r"tg:credance is not a node property of the vocabulary \(did you mean tg:credence\?\)"),
    ('node:a a tg:Claim, tg:Model ; dcterms:title "A" .', r"more than one of the types"),
    ('node:a a tg:Claim ; dcterms:title "A", "B" .', r"2 values of dcterms:title"),
    ('node:a a tg:Claim ; dcterms:title "A" ; tg:supports node:ghost .',
     r"tg:supports links node:ghost, which is not a tg:Model"),
    ('node:a a tg:Claim ; dcterms:title "A" ; dcterms:date "soon" .', r"is not an xsd:date"),
    ('node:a a tg:Claim ; dcterms:title "A" ; dcterms:identifier "Not An Id" .',
     r"'Not An Id' is not a valid id"),
    ('node:a a tg:Claim ; dcterms:title "A" ; tg:tags "x" .', r"tg:tags must be an rdf:List"),
    ('node:a a tg:Claim ; dcterms:title "A" . [] a tg:Support ; tg:source node:a .',
     r"no tg:target"),
    ('<https://w3id.org/takeoff-graph/node/x> a <https://schema.org/Thing> .',
     r"no tg:Model, tg:Claim or tg:Evidence"),
])
def test_rdf_that_does_not_fit_the_vocabulary_is_refused(body, message):
    with pytest.raises(rdf.RDFError, match=message):
        rdf.parse(PREFIXES + body, "turtle")


# ---- SPARQL ---------------------------------------------------------------------------------

def query_graph():
    """A corpus built so that each named query has a known answer."""
    G = nx.MultiDiGraph()
    node(G, "m", "model", "The model")
    node(G, "mid", "claim", "Between", 0.6)
    node(G, "contested", "claim", "Contested", 0.4)
    node(G, "lonely", "claim", "Nothing supports me", 0.7, tags=["x", "y"])
    node(G, "weak-fight", "claim", "Weakly contested", 0.5)
    node(G, "e-deep", "evidence", "Deep evidence", 0.9, date=dt.date(2024, 1, 1),
         sources=[{"url": "https://example.org/deep", "date": None}])
    node(G, "e-nosource", "evidence", "No source", 0.8, date=dt.date(2024, 2, 1))
    node(G, "e-nodate", "evidence", "No date", 0.8,
         sources=[{"url": "https://example.org/a", "date": None}, {"url": "https://example.org/b", "date": None}])
    node(G, "e-island", "evidence", "Reaches nothing", 0.8, date=dt.date(2024, 3, 1),
         sources=[{"url": "https://example.org/c", "date": None}])
    edge(G, "e-deep", "contested", "supports", 0.9)
    edge(G, "e-nosource", "contested", "undermines", 0.7)
    edge(G, "contested", "mid", "supports", 0.5)
    edge(G, "mid", "m", "supports", 0.5)
    edge(G, "e-nodate", "weak-fight", "supports", 0.9)
    edge(G, "e-island", "weak-fight", "undermines", 0.3)
    edge(G, "lonely", "contested", "undermines", 0.2)
    return G


def ids(rows, column=0):
    return [str(row[column]).rsplit("/", 1)[-1] for row in rows]


@pytest.mark.parametrize("store", STORES)
def test_named_queries_answer_what_they_promise(store):
    g = rdf.to_rdf(query_graph(), store=store)
    named = rdf.named_queries()
    reach = rdf.run_query(g, named["evidence-reaching-model"][1])
    assert sorted(ids(reach.rows, 2)) == ["e-deep", "e-nosource"]  # two hops and three
    contested = rdf.run_query(g, named["contested-claims"][1])
    assert ids(contested.rows) == ["contested"]
    assert [float(v) for v in contested.rows[0][2:4]] == [0.9, 0.7]
    missing = rdf.run_query(g, named["evidence-without-source-or-date"][1])
    assert {(i, str(r[2])) for i, r in zip(ids(missing.rows), missing.rows)} == {
        ("e-nosource", "source"), ("e-nodate", "date")}
    unsupported = rdf.run_query(g, named["unsupported-claims"][1])
    assert ids(unsupported.rows) == ["lonely"]
    tagged = rdf.run_query(g, named["tagged"][1])
    assert [str(r[3]) for r in tagged.rows] == ["x", "y"]


def test_named_queries_give_the_same_rows_on_both_stores(bundled):
    memory, oxigraph = rdf.to_rdf(bundled.graph, store="memory"), rdf.to_rdf(bundled.graph, store="oxigraph")
    for name, (_, text) in rdf.named_queries().items():
        a = rdf.run_query(memory, text).to_json()
        b = rdf.run_query(oxigraph, text).to_json()
        assert a == b, name


def test_malformed_queries_raise_the_parsers_message():
    for store in STORES:
        g = rdf.to_rdf(query_graph(), store=store)
        with pytest.raises(TakeoffError, match=r"bad SPARQL query: line 1, column 33 at the end: [Ee]xpected"):
            rdf.run_query(g, "SELECT ?x WHERE { ?x a tg:Model ")
        with pytest.raises(TakeoffError, match="bad SPARQL query: .*(foo|Prefix not found)"):
            rdf.run_query(g, "SELECT ?x WHERE { ?x foo:bar ?y }")


# ---- SPARQL: query forms, SERVICE policy, time limit ------------------------------------

@pytest.mark.parametrize("query, count", [
    ("CONSTRUCT WHERE { ?s tg:supports ?o }", 4),
    ("CONSTRUCT # no template\n WHERE { ?s tg:supports ?o . ?o a tg:Model }", 2),
    ("CONSTRUCT WHERE { ?s tg:supports ?o } ORDER BY ?s LIMIT 2", 2),
    ("CONSTRUCT { ?o tg:supports ?s } WHERE { ?s tg:supports ?o } ORDER BY ?s ?o LIMIT 3", 3),
    ("CONSTRUCT {} WHERE { ?s ?p ?o }", 0),
    ("prefix construct: <http://example.org/> construct{}where{ ?s ?p 'construct where' }", 0),
    ("CONSTRUCT {} WHERE { ?s ?p ?o FILTER(true) }", 0),
    ("PREFIX ex: <http://example.org/> CONSTRUCT WHERE { ?s a tg:Model }", 1),
])
def test_every_construct_form_gives_the_same_graph_on_both_stores(query, count):
    answers = [rdf.run_query(rdf.to_rdf(query_graph(), store=s), query) for s in STORES]
    assert [a.kind for a in answers] == ["CONSTRUCT", "CONSTRUCT"]
    assert len(answers[0].to_json()) == count
    assert answers[0].to_json() == answers[1].to_json()


@pytest.mark.parametrize("store", STORES)
def test_describe_and_ask_forms(store):
    g = rdf.to_rdf(query_graph(), store=store)
    for query in ("DESCRIBE node:m", "DESCRIBE ?x WHERE { ?x a tg:Model }",
                  "DESCRIBE * WHERE { ?x a tg:Model } LIMIT 1"):
        result = rdf.run_query(g, query)
        assert result.kind == "DESCRIBE"
        assert [rdf.DEFAULT_BASE + "m", rdf.PREFIXES["dcterms"] + "title", "The model"] in result.to_json()
    assert rdf.run_query(g, "ASK { node:mid tg:supports node:m }").answer is True
    assert rdf.run_query(g, "ASK { node:m tg:supports node:mid }").answer is False


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("text", ["INSERT DATA { node:a tg:supports node:b }",
                                  "DELETE WHERE { ?s ?p ?o }", "CLEAR ALL"])
def test_updates_are_refused_clearly(store, text):
    with pytest.raises(TakeoffError, match="SPARQL update .* runs queries only"):
        rdf.run_query(rdf.to_rdf(query_graph(), store=store), text)


class _FakeEndpoint:
    """A SPARQL endpoint on 127.0.0.1 that answers every request with one binding of ?x and
    records what it was sent: what a SERVICE clause would reach."""

    def __init__(self):
        import http.server
        import threading

        requests = self.requests = []
        answer = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": [
            {"x": {"type": "literal", "value": "from afar"}}]}}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                requests.append((self.path, self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_endpoint():
    endpoint = _FakeEndpoint()
    yield endpoint
    endpoint.close()


@pytest.mark.parametrize("store", STORES)
def test_service_is_refused_unless_allowed_and_nothing_is_sent(store, fake_endpoint):
    g = rdf.to_rdf(query_graph(), store=store)
    url = fake_endpoint.url
    for query in (f"SELECT ?x WHERE {{ SERVICE <{url}> {{ ?x ?p ?o }} }}",
                  f"SELECT * WHERE {{ ?m a tg:Model OPTIONAL {{ SERVICE SILENT <{url}> {{ ?x ?p ?m }} }} }}",
                  f"ASK {{ {{ SELECT ?x WHERE {{ SERVICE <{url}> {{ ?x ?p ?o }} }} }} }}"):
        with pytest.raises(TakeoffError, match=rf"SERVICE <{url}> would send corpus values .* "
                                               rf"--allow-service {url}"):
            rdf.run_query(g, query)
    with pytest.raises(TakeoffError, match=r"SERVICE \?where: a SERVICE with a variable"):
        rdf.run_query(g, "SELECT * WHERE { VALUES ?where { <http://127.0.0.1:1/> } "
                         "SERVICE ?where { ?s ?p ?o } }", allow_service=[url])
    with pytest.raises(TakeoffError, match="SERVICE <http://127.0.0.1:1/sparql>"):
        rdf.run_query(g, "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
                      allow_service=[url])
    assert fake_endpoint.requests == []
    allowed = rdf.run_query(g, f"SELECT ?x WHERE {{ SERVICE <{url}> {{ ?x ?p ?o }} }}",
                            allow_service=[url])
    assert [str(row[0]) for row in allowed.rows] == ["from afar"]
    assert len(fake_endpoint.requests) == 1


CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f . ?g ?s ?h }"


@pytest.mark.parametrize("store", STORES)
def test_a_query_stops_at_its_time_limit(store):
    import time

    g = rdf.to_rdf(query_graph(), store=store)
    start = time.monotonic()
    with pytest.raises(rdf.QueryTimeout, match="did not finish within 0.5 s and was stopped; "
                                               "pass --timeout"):
        rdf.run_query(g, CROSS_JOIN, timeout=0.5)
    assert time.monotonic() - start < 10
    # The store still answers afterwards (the stopped evaluation left nothing behind).
    assert rdf.run_query(g, "ASK { node:mid tg:supports node:m }", timeout=5).answer is True


# ---- SHACL ----------------------------------------------------------------------------------

def test_the_exported_bundled_corpus_conforms_to_the_shapes(bundled):
    score = bundled.score("qe")
    assert rdf.validate_shacl(rdf.to_rdf(bundled.graph, score=score)) == []


def test_shacl_reports_each_violation_readably():
    g = rdf.to_rdf(full_graph(), store="memory")
    g.remove((NODE["loops"], TG.credence, None))
    g.add((NODE["loops"], TG.credence, Literal("1.5", datatype=rdflib.XSD.decimal)))
    g.remove((NODE["alpha-evolve"], DCTERMS.date, None))
    g.remove((NODE["alpha-evolve"], TG.supports, None))
    g.add((NODE["naive"], TG.supports, NODE["fast-takeoff"]))
    g.add((NODE["naive"], RDF.type, TG.Model))
    g.add((NODE["loops"], TG.undermines, NODE["loops"]))
    messages = [str(v) for v in rdf.validate_shacl(g)]
    expected = [
        "node:loops tg:credence: credence (tg:credence) must be one xsd:decimal in [0, 1] "
        '(value: "1.5"^^xsd:decimal)',
        "node:alpha-evolve dcterms:date: evidence needs a date",
        "node:alpha-evolve/supports/loops: the support edge has no direct triple",
        "node:naive tg:supports: tg:supports must link to a model, claim, evidence or argument "
        "that the node does not also undermine (value: node:fast-takeoff)",
        "node:naive: a node has exactly one kind",
        "node:loops: a node cannot support or undermine itself",
    ]
    for text in expected:
        assert any(text in m for m in messages), (text, messages)
    assert len(messages) == len(expected)


# ---- large corpora --------------------------------------------------------------------------

def large_graph(n):
    G = nx.MultiDiGraph()
    for i in range(n):
        kind = "model" if i % 50 == 0 else "evidence" if i % 3 else "claim"
        node(G, f"n{i}", kind, f"Node {i}", (i % 10) / 10, date=dt.date(2024, 1, 1) if kind == "evidence" else None,
             tags=["a", "b"], sources=[{"url": f"https://example.org/{i}", "date": None}] if kind == "evidence" else [],
             body=f"Body {i}\n")
        if i:
            edge(G, f"n{i}", f"n{i // 2}", "supports" if i % 4 else "undermines", 0.5, "n")
    return G


def test_a_100000_triple_graph_exports_and_answers_queries():
    G = large_graph(5300)
    g = rdf.to_rdf(G)  # auto: Oxigraph at this size
    assert len(g) >= 100_000 and type(g.store).__name__ == "OxigraphStore"
    turtle = rdf.serialize(G, "turtle")
    assert turtle.count("a tg:Model") == 106
    reach = rdf.run_query(g, rdf.named_queries()["evidence-reaching-model"][1])
    kind = dict(G.nodes(data="kind"))
    expected = {(m, e) for e in G if kind[e] == "evidence"
                for m in nx.descendants(G, e) if kind[m] == "model"}
    assert {(str(r[0]).rsplit("/", 1)[1], str(r[2]).rsplit("/", 1)[1]) for r in reach.rows} == expected


# ---- CLI ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", list(rdf.RDF_FORMATS))
def test_cli_export_then_import_into_an_empty_corpus_is_lossless(run, small_corpus, tmp_path, fmt):
    out = tmp_path / f"corpus.{fmt}"
    result = run(small_corpus, "export", "--format", fmt, "-o", out)
    assert result.exit_code == 0, result.output
    target = tmp_path / "copy"
    init_corpus(target)
    result = run(target, "import", out, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert_same_graph(Corpus.load(small_corpus).graph, Corpus.load(target).graph)


def test_cli_export_with_base_and_strengths(run, small_corpus):
    result = run(small_corpus, "export", "--format", "nt", "--base", "urn:x:", "--with-strengths",
                 "--semantics", "dfquad")
    assert result.exit_code == 0, result.output
    g = rdflib.Graph().parse(data=result.stdout, format="nt")
    strengths = Corpus.load(small_corpus).score("dfquad").strengths
    for n, value in strengths.items():
        assert float(g.value(URIRef("urn:x:" + n), TG.strength)) == pytest.approx(value, abs=1e-15)
    assert str(g.value(g.value(None, RDF.type, TG.Scoring), TG.semantics)) == "dfquad"
    back = run(small_corpus, "import", "-", "--format", "nt", "--base", "urn:x:", "--replace",
               input=result.stdout)
    assert back.exit_code == 0, back.output


@pytest.mark.parametrize("content, fmt, message", [
    ('@prefix tg: <https://w3id.org/takeoff-graph/vocab#> .\n<a> tg:x "bad .\n', "turtle", "line 2: not valid Turtle"),
    ("{ not json", "jsonld", "line 1: not valid JSON-LD"),
    ("<https://a/x> <https://a/p> o .\n", "nt", "line 1: not valid N-Triples"),
    (PREFIXES + 'node:zz a tg:Claim ; dcterms:title "Z" ; tg:supports node:ghost .\n', "turtle",
     "does not fit the takeoff-graph vocabulary"),
    (PREFIXES + 'node:zz a tg:Evidence ; dcterms:title "Z" .\n', "turtle", "evidence needs a date"),
])
def test_cli_bad_rdf_exits_1_with_the_message_and_writes_nothing(run, small_corpus, tmp_path,
                                                                  content, fmt, message):
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    before = snapshot(small_corpus)
    result = run(small_corpus, "import", path, "--format", fmt)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.output
    assert snapshot(small_corpus) == before


def test_cli_sparql_answers_the_issue_example(run, small_corpus):
    result = run(small_corpus, "sparql", "SELECT ?e WHERE { ?e tg:supports ?m . ?m a tg:Model }")
    assert result.exit_code == 0, result.output
    assert "node:c1" in result.stdout and "node:e1" not in result.stdout


def test_cli_sparql_outputs_csv_json_and_runs_files_and_names(run, small_corpus, tmp_path):
    query = "SELECT ?n ?title WHERE { ?n a tg:Claim ; dcterms:title ?title } ORDER BY ?n"
    as_json = run(small_corpus, "sparql", query, "--json")
    assert json.loads(as_json.stdout) == [
        {"n": rdf.DEFAULT_BASE + "c1", "title": "A claim"},
        {"n": rdf.DEFAULT_BASE + "c2", "title": "Another claim"}]
    as_csv = run(small_corpus, "sparql", query, "--csv")
    # Short ids as the table prints them (issue 21); --json keeps the full IRIs.
    assert as_csv.stdout.splitlines() == ["n,title", "node:c1,A claim", "node:c2,Another claim"]
    path = tmp_path / "q.rq"
    path.write_text(query, encoding="utf-8")
    assert run(small_corpus, "sparql", f"@{path}", "--json").stdout == as_json.stdout
    named = run(small_corpus, "sparql", "unsupported-claims", "--json")
    assert [r["claim"].rsplit("/", 1)[1] for r in json.loads(named.stdout)] == ["c2"]
    listed = run(small_corpus, "sparql", "--list", "--json")
    assert {r["name"] for r in json.loads(listed.stdout)} >= {
        "evidence-reaching-model", "contested-claims", "evidence-without-source-or-date",
        "unsupported-claims"}
    ask = run(small_corpus, "sparql", "ASK { node:e1 tg:supports node:c1 }")
    assert ask.stdout.strip() == "true"
    construct = run(small_corpus, "sparql", "CONSTRUCT { ?a tg:supports ?b } WHERE { ?a tg:supports ?b }")
    assert len(rdflib.Graph().parse(data=construct.stdout, format="turtle")) == 2


def test_cli_sparql_with_strengths(run, small_corpus):
    result = run(small_corpus, "sparql", "models-by-strength", "--with-strengths", "--json")
    rows = json.loads(result.stdout)
    strength = Corpus.load(small_corpus).score("qe").strengths["m1"]
    assert rows[0]["strength"] == pytest.approx(strength) and rows[0]["semantics"] == "qe"


@pytest.mark.parametrize("args, message", [
    (["SELECT ?x WHERE { ?x a tg:Model "], "bad SPARQL query"),
    (["unsupported-claim"], "no named query 'unsupported-claim' (did you mean 'unsupported-claims'?)"),
    (["@/nonexistent/q.rq"], "cannot read"),
    (["SELECT * WHERE { ?s ?p ?o }", "--base", "not-an-iri"], "--base"),
])
def test_cli_sparql_errors_exit_1_without_traceback(run, small_corpus, args, message):
    result = run(small_corpus, "sparql", *args)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.output


def test_cli_sparql_prints_every_form_in_every_output_format(run, small_corpus):
    ask = "ASK { node:e1 tg:supports node:c1 }"
    assert run(small_corpus, "sparql", ask, "--csv").stdout == "answer\ntrue\n"
    assert json.loads(run(small_corpus, "sparql", ask, "--json").stdout) == {"answer": True}
    for store in STORES:
        construct = "CONSTRUCT WHERE { ?a tg:supports ?b } ORDER BY ?a LIMIT 1"
        turtle = run(small_corpus, "sparql", construct, "--store", store)
        assert turtle.exit_code == 0, turtle.output
        assert len(rdflib.Graph().parse(data=turtle.stdout, format="turtle")) == 1
        assert '^^xsd:string' not in turtle.stdout
        rows = run(small_corpus, "sparql", construct, "--store", store, "--csv").stdout.splitlines()
        assert rows == ["subject,predicate,object", "node:c1,tg:supports,node:m1"]
        assert json.loads(run(small_corpus, "sparql", construct, "--store", store, "--json").stdout) \
            == [[f"{rdf.DEFAULT_BASE}c1", f"{rdf.VOCAB}supports", f"{rdf.DEFAULT_BASE}m1"]]
        described = run(small_corpus, "sparql", "DESCRIBE node:e1", "--store", store, "--json")
        assert [rdf.DEFAULT_BASE + "e1", rdf.PREFIXES["dcterms"] + "title", "An observation"] \
            in json.loads(described.stdout)


@pytest.mark.parametrize("args, message", [
    (["SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }"],
     "SERVICE <http://127.0.0.1:1/sparql> would send corpus values to that endpoint: refused; "
     "pass --allow-service http://127.0.0.1:1/sparql"),
    (["INSERT DATA { node:a tg:supports node:b }"], "takeoff sparql runs queries only"),
    ([CROSS_JOIN, "--timeout", "0.5"], "did not finish within 0.5 s"),
    ([CROSS_JOIN, "--timeout", "0.5", "--store", "oxigraph"], "did not finish within 0.5 s"),
])
def test_cli_sparql_refusals_exit_1_with_one_line(run, small_corpus, args, message):
    result = run(small_corpus, "sparql", *args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert result.stderr.count("\n") == 1


def test_cli_sparql_names_a_query_file_that_is_not_utf8(run, small_corpus, tmp_path):
    path = tmp_path / "latin1.rq"
    path.write_bytes("SELECT ?x WHERE { ?x dcterms:title 'Zürich' }".encode("latin-1"))
    result = run(small_corpus, "sparql", f"@{path}")
    assert result.exit_code == 1
    assert f"QUERY: {path}:1: not UTF-8 text (byte 0xfc at column 38)" in result.stderr


def test_cli_sparql_timeout_must_be_positive(run, small_corpus):
    result = run(small_corpus, "sparql", "ASK {}", "--timeout", "0")
    assert result.exit_code == 2 and "--timeout" in result.stderr


def test_cli_check_shacl(run, small_corpus):
    result = run(small_corpus, "check", "--shacl")
    assert result.exit_code == 0, result.output
    assert "conforms to the SHACL shapes" in result.stdout
    as_json = json.loads(run(small_corpus, "check", "--shacl", "--json").stdout)
    assert as_json["ok"] is True and as_json["violations"] == [] and as_json["nodes"] == 4
    plain = run(small_corpus, "check")
    assert plain.exit_code == 0 and "SHACL" not in plain.output


def test_cli_check_shacl_stops_at_corpus_errors(run, small_corpus):
    write_node(small_corpus, "broken", "---\nkind: claim\n---\n")
    result = run(small_corpus, "check", "--shacl")
    assert result.exit_code == 1 and "missing title" in result.stderr


def test_help_does_not_import_rdflib():
    code = ("import sys, cli\n"
            "from click.testing import CliRunner\n"
            "for args in (['--help'], ['export', '--help'], ['sparql', '--help'], ['publish', '--help'],\n"
            "             ['pull', '--help'], ['serve', '--help']):\n"
            "    assert CliRunner().invoke(cli.cli, args).exit_code == 0\n"
            "assert 'rdflib' not in sys.modules and 'pyshacl' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# A regular expression that backtracks exponentially on a title of a's followed by a b:
# Python's re (rdflib's REGEX) cannot be interrupted by a thread, only by killing a process.
# Oxigraph's regular expressions run in linear time: it answers (no rows) well within the limit.
CATASTROPHIC = 'SELECT ?n WHERE { ?n dcterms:title ?t FILTER REGEX(?t, "^(a+)+$") }'


@pytest.mark.parametrize("store", STORES)
def test_a_catastrophic_regex_stops_at_its_time_limit(store):
    import time

    graph = nx.MultiDiGraph()
    node(graph, "slow", "claim", "a" * 40 + "b")
    g = rdf.to_rdf(graph, store=store)
    start = time.monotonic()
    if store == "memory":
        with pytest.raises(rdf.QueryTimeout, match="did not finish within 2 s"):
            rdf.run_query(g, CATASTROPHIC, timeout=2)
    else:
        assert rdf.run_query(g, CATASTROPHIC, timeout=2).rows == []
    assert time.monotonic() - start < 6
    assert rdf.run_query(g, "ASK { node:slow a tg:Claim }", timeout=5).answer is True


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("clause", ["FROM <https://example.org/g>", "FROM NAMED <https://example.org/g>"])
def test_from_is_refused_by_both_stores_with_the_same_message(store, clause):
    g = rdf.to_rdf(query_graph(), store=store)
    with pytest.raises(TakeoffError, match="the local corpus is one graph, so FROM and FROM NAMED "
                                           "are refused.*--endpoint"):
        rdf.run_query(g, f"SELECT ?s {clause} WHERE {{ ?s ?p ?o }}")


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e308, -1, 0, "x"])
def test_an_unusable_timeout_is_refused(value):
    with pytest.raises(TakeoffError, match="number of seconds"):
        rdf.run_query(rdf.to_rdf(query_graph(), store="memory"), "ASK {}", timeout=value)
