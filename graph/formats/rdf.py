"""The corpus graph as linked data: RDF in the takeoff-graph vocabulary, SPARQL, SHACL.

The vocabulary (``graph/formats/vocab.ttl``, prefix ``tg``) makes every node an AIF I-node (an argument:
an RA-node) and a schema.org claim, every edge a resource of its own (``tg:Support`` /
``tg:Undermining``, the AIF RA- and CA-nodes) carrying weight and note, plus a direct ``tg:supports`` /
``tg:undermines`` triple for easy querying. Sources are PROV-O entities described with Dublin
Core and schema.org terms. Ids become IRIs under a base the caller chooses.

:func:`to_rdf` and :func:`from_rdf` are inverses on every valid corpus graph: nothing is lost
(tags keep their order as an ``rdf:List``, sources theirs by ``schema:position``, numbers are
written as the shortest decimal that reads back as the same float).

rdflib is imported inside the functions, so importing this module costs nothing.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import select
import signal
import time
from decimal import Decimal
from importlib import resources
from pathlib import Path

import networkx as nx

from graph.core.limits import InputError, check_turtle, load_json, quote
from graph.core.model import (
    DEFAULT_CREDENCE, DEFAULT_WEIGHT, EDITOR, KINDS, TakeoffError, date_precision, did_you_mean,
    id_problem, is_id, parse_date,
)
from graph.core.uncertainty import UncertaintyError, parse_distribution
from graph.files.provenance import known_sources
from graph.files.store import UnsafeFileError, read_text

VOCAB = "https://w3id.org/takeoff-graph/vocab#"
DEFAULT_BASE = "https://w3id.org/takeoff-graph/node/"
PREFIXES = {
    "tg": VOCAB,
    "aif": "http://www.arg.dundee.ac.uk/aif#",
    "schema": "http://schema.org/",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
}
# The prefix bound to the base, so node IRIs print as ``node:fast-takeoff``.
BASE_PREFIX = "node"
# takeoff format name -> (rdflib parser, Oxigraph parser through oxrdflib).
RDF_FORMATS = {
    "turtle": ("turtle", "ox-turtle"),
    "jsonld": ("json-ld", "ox-json-ld"),
    "nt": ("nt", "ox-nt"),
}
STORES = ("memory", "oxigraph")
# Above this many triples ``--store auto`` uses Oxigraph (when installed): rdflib's Turtle
# writer needs about 1 s per 10,000 triples and its SPARQL engine minutes for property paths.
AUTO_OXIGRAPH_TRIPLES = 10_000
KIND_CLASS = {"model": "Model", "claim": "Claim", "evidence": "Evidence", "argument": "Argument"}
EDGE_CLASS = {"supports": "Support", "undermines": "Undermining"}
# tg: terms a node may carry; any other tg: predicate on a node is a mistake worth reporting.
# The parts of an uncertain credence or weight (graph/core/uncertainty.py): tg:credenceSpread, ...
DISTRIBUTION_PARTS = ("mean", "spread", "low", "high")
NODE_TERMS = ("label", "credence", "tags", "body", "supports", "undermines", "strength",
              "credenceSpread", "credenceLow", "credenceHigh", "evidenceKind")
# An evidence node's evidence_kind is tg:evidenceKind with one of these individuals.
EVIDENCE_KIND_TERM = {"observation": "Observation", "forecast": "Forecast", "testimony": "Testimony"}
# Whose argument an edge is (its `from`): a prov:Agent at this path under the base, linked from
# the edge resource by prov:wasAttributedTo (and prov:wasQuotedFrom when the edge quotes it).
SOURCE_PATH = "sources/"


class RDFError(TakeoffError):
    """RDF that cannot be read (syntax) or does not fit the vocabulary."""


# ---- terms ----------------------------------------------------------------------------------

def _ns():
    """The namespaces as rdflib ``Namespace`` objects (imported lazily)."""
    from rdflib import Namespace

    return {prefix: Namespace(iri) for prefix, iri in PREFIXES.items()}


def check_base(base):
    """Return ``base`` if node IRIs can be made from it, else raise :class:`TakeoffError`.

    A base must be an absolute http(s) IRI ending in ``/`` or ``#``, or a ``urn:`` ending in
    ``:``, ``/`` or ``#``, so that the id after it stays readable and can be recovered.
    """
    plain = r"[^\s<>\"{}|\\^`]+"
    if not re.match(rf"^(https?://{plain}[/#]|urn:{plain}[:/#])$", base or ""):
        raise TakeoffError(f"--base {quote(base)}: give an absolute IRI ending in '/' or '#' "
                           f"(e.g. {DEFAULT_BASE}) or a urn ending in ':'")
    return base


def _decimal_text(number):
    """The xsd:decimal lexical form that reads back as exactly ``float(number)``.

    ``repr`` gives the shortest string that round-trips a float; ``format(.., 'f')`` removes
    the exponent, which the xsd:decimal lexical form does not allow.
    """
    return format(Decimal(repr(float(number))), "f")


class _RdflibTerms:
    """Makes rdflib terms (for rdflib's in-memory store)."""

    def __init__(self):
        from rdflib import BNode, Literal, URIRef

        self.iri, self.text, self.bnode, self._literal = URIRef, Literal, BNode, Literal

    def typed(self, value, datatype):
        return self._literal(value, datatype=self.iri(datatype))

    @staticmethod
    def triple(s, p, o):
        return s, p, o


class _OxigraphTerms:
    """Makes pyoxigraph terms: several times faster than rdflib's, for large graphs."""

    def __init__(self):
        import pyoxigraph as ox

        self.iri, self.text, self.bnode, self._literal = ox.NamedNode, ox.Literal, ox.BlankNode, ox.Literal
        self.triple = ox.Triple

    def typed(self, value, datatype):
        return self._literal(value, datatype=self.iri(datatype))


def _predicates(T):
    """``{short name: IRI term}`` of every predicate and class :func:`triples` writes."""
    return {name: T.iri(PREFIXES[prefix] + local) for name, (prefix, local) in {
        "type": ("rdf", "type"), "first": ("rdf", "first"), "rest": ("rdf", "rest"),
        "nil": ("rdf", "nil"), "identifier": ("dcterms", "identifier"),
        "title": ("dcterms", "title"), "date": ("dcterms", "date"),
        "derived": ("prov", "wasDerivedFrom"), "position": ("schema", "position"),
        "url": ("schema", "url"), "author": ("schema", "author"),
        "attributed": ("prov", "wasAttributedTo"), "quoted": ("prov", "wasQuotedFrom"),
        "Agent": ("prov", "Agent"), **{t: ("tg", t) for t in (
            "credence", "tags", "body", "label", "quote", "strength", "source", "target", "weight",
            "note", "supports", "undermines", "semantics", "converged", "iterations",
            *(f"{what}{part.title()}" for what in ("credence", "weight")
              for part in DISTRIBUTION_PARTS[1:]),
            "Source", "Scoring", "evidenceKind", *EVIDENCE_KIND_TERM.values(),
            *KIND_CLASS.values(), *EDGE_CLASS.values())},
    }.items()}


def triples(graph, base=DEFAULT_BASE, *, score=None, terms=None):
    """Yield the RDF triples of a corpus graph, grouped by subject, in id order.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph (node attributes ``kind, title, credence, date, tags, sources, body``;
        edge attributes ``relation, weight, note``).
    base : str
        The IRI the node ids are appended to.
    score : ScoreResult, optional
        Propagated strengths to include (``tg:strength``), with a ``tg:Scoring`` resource
        naming the semantics that produced them.
    terms : optional
        Term factory; rdflib terms by default (pyoxigraph terms inside :func:`serialize`).

    Yields
    ------
    tuple
        ``(subject, predicate, object)``.
    """
    maker = _TripleMaker(terms or _RdflibTerms(), base)
    strengths = score.strengths if score is not None else {}
    for node_id in sorted(graph):
        yield from maker.node(graph, node_id, strengths)
    yield from maker.agents(graph)
    if score is not None:
        yield from maker.scoring(score)


class _TripleMaker:
    """The triples of one corpus graph, a part at a time, for :func:`triples`: a node, its
    tags, its sources, its edges, the agents edges are attributed to, the scoring run."""

    def __init__(self, terms, base):
        self.T, self.base, self.P = terms, base, _predicates(terms)
        self.triple = terms.triple

    def decimal(self, number):
        """An xsd:decimal that reads back as exactly ``float(number)``."""
        return self.T.typed(_decimal_text(number), PREFIXES["xsd"] + "decimal")

    def date(self, value):
        """A month-precision date as an xsd:gYearMonth ("2025-05"), a day as an xsd:date."""
        kind = "gYearMonth" if date_precision(value) == "month" else "date"
        return self.T.typed(value.isoformat(), PREFIXES["xsd"] + kind)

    def distribution(self, subject, what, dist):
        """An uncertain credence or weight: its spread, or its 90% interval (the point value,
        the distribution's mean, is tg:credence / tg:weight itself)."""
        for part in DISTRIBUTION_PARTS[1:]:
            if dist and part in dist:
                predicate = self.P[f"{what}{part.title()}"]
                yield self.triple(subject, predicate, self.decimal(dist[part]))

    def node(self, graph, node_id, strengths):
        """Every triple whose subject is the node or one of its parts (tag list cells, source
        entities, edge resources), in that order."""
        attrs = graph.nodes[node_id]
        node = self.T.iri(self.base + node_id)
        out = sorted(graph.out_edges(node_id, data=True), key=lambda e: (e[2]["relation"], e[1]))
        sources = attrs.get("sources") or []
        entities = [self.T.iri(f"{self.base}{node_id}/source/{i}")
                    for i in range(1, len(sources) + 1)]
        yield from self.attributes(node, node_id, attrs, strengths.get(node_id))
        for _, target, edge in out:
            yield self.triple(node, self.P[edge["relation"]], self.T.iri(self.base + target))
        for entity in entities:
            yield self.triple(node, self.P["derived"], entity)
        yield from self.tags(node, attrs.get("tags") or [])
        for position, (entity, source) in enumerate(zip(entities, sources), start=1):
            yield from self.source(entity, position, source)
        for _, target, edge in out:
            yield from self.edge(node, node_id, target, edge)

    def attributes(self, node, node_id, attrs, strength):
        """The node's class, id, title, label, credence, evidence kind, date, body, strength."""
        T, P, triple = self.T, self.P, self.triple
        yield triple(node, P["type"], P[KIND_CLASS[attrs["kind"]]])
        yield triple(node, P["identifier"], T.text(node_id))
        yield triple(node, P["title"], T.text(attrs["title"]))
        if attrs.get("label"):
            yield triple(node, P["label"], T.text(attrs["label"]))
        yield triple(node, P["credence"], self.decimal(attrs.get("credence", DEFAULT_CREDENCE)))
        yield from self.distribution(node, "credence", attrs.get("credence_dist"))
        if attrs.get("evidence_kind") in EVIDENCE_KIND_TERM:
            yield triple(node, P["evidenceKind"], P[EVIDENCE_KIND_TERM[attrs["evidence_kind"]]])
        if attrs.get("date") is not None:
            yield triple(node, P["date"], self.date(attrs["date"]))
        if attrs.get("body"):
            yield triple(node, P["body"], T.text(attrs["body"]))
        if strength is not None:
            yield triple(node, P["strength"], self.decimal(strength))

    def tags(self, node, tags):
        """The tags as an ``rdf:List`` (blank-node cells), so their order is kept."""
        cells = [self.T.bnode() for _ in tags]
        if cells:
            yield self.triple(node, self.P["tags"], cells[0])
        for cell, tag, rest in zip(cells, tags, [*cells[1:], self.P["nil"]]):
            yield self.triple(cell, self.P["first"], self.T.text(tag))
            yield self.triple(cell, self.P["rest"], rest)

    def source(self, entity, position, source):
        """One of the node's sources: a tg:Source entity at its ``schema:position``."""
        T, P, triple = self.T, self.P, self.triple
        yield triple(entity, P["type"], P["Source"])
        yield triple(entity, P["position"], T.typed(str(position), PREFIXES["xsd"] + "integer"))
        if source.get("url"):
            yield triple(entity, P["url"], T.typed(source["url"], PREFIXES["xsd"] + "anyURI"))
        for key, predicate in (("title", P["title"]), ("quote", P["quote"])):
            if source.get(key) is not None:
                yield triple(entity, predicate, T.text(source[key]))
        if source.get("date") is not None:
            yield triple(entity, P["date"], self.date(source["date"]))

    def edge(self, node, node_id, target, edge):
        """An edge as a resource of its own (tg:Support / tg:Undermining): its ends, weight,
        note, and whose argument it is."""
        T, P, triple = self.T, self.P, self.triple
        relation = edge["relation"]
        resource = T.iri(f"{self.base}{node_id}/{relation}/{target}")
        yield triple(resource, P["type"], P[EDGE_CLASS[relation]])
        yield triple(resource, P["source"], node)
        yield triple(resource, P["target"], T.iri(self.base + target))
        yield triple(resource, P["weight"], self.decimal(edge.get("weight", DEFAULT_WEIGHT)))
        yield from self.distribution(resource, "weight", edge.get("weight_dist"))
        if edge.get("note"):
            yield triple(resource, P["note"], T.text(edge["note"]))
        if edge.get("from"):
            agent = T.iri(self.base + SOURCE_PATH + edge["from"])
            yield triple(resource, P["attributed"], agent)
            if edge.get("quote"):
                yield triple(resource, P["quoted"], agent)
        if edge.get("quote"):
            yield triple(resource, P["quote"], T.text(edge["quote"]))

    def agents(self, graph):
        """The sources edges are attributed to, as prov:Agent resources: every declared source
        (``graph.graph["sources"]``, with its title, url, author and date) and every other id
        an edge names (the editor, with its title)."""
        T, P, triple = self.T, self.P, self.triple
        declared = graph.graph.get("sources", {})
        named = {source for _, _, source in graph.edges(data="from") if source}
        known = known_sources(graph)
        for source_id in sorted(set(declared) | named):
            agent = T.iri(self.base + SOURCE_PATH + source_id)
            yield triple(agent, P["type"], P["Agent"])
            yield triple(agent, P["identifier"], T.text(source_id))
            fields = known.get(source_id, {})
            for key in ("title", "author"):
                if fields.get(key):
                    yield triple(agent, P[key], T.text(fields[key]))
            if fields.get("url"):
                yield triple(agent, P["url"], T.typed(fields["url"], PREFIXES["xsd"] + "anyURI"))
            if fields.get("date"):
                yield triple(agent, P["date"], self.date(fields["date"]))

    def scoring(self, score):
        """The tg:Scoring run that produced the strengths: semantics, convergence, iterations."""
        T, P, triple, xsd = self.T, self.P, self.triple, PREFIXES["xsd"]
        run = T.bnode()
        yield triple(run, P["type"], P["Scoring"])
        yield triple(run, P["semantics"], T.text(score.semantics))
        yield triple(run, P["converged"], T.typed("true" if score.converged else "false", xsd + "boolean"))
        yield triple(run, P["iterations"], T.typed(str(int(score.iterations)), xsd + "integer"))


def estimated_triples(graph):
    """About how many triples :func:`triples` yields (to pick a store before building)."""
    return 8 * graph.number_of_nodes() + 7 * graph.number_of_edges()


def oxigraph_available():
    """Whether the ``oxigraph`` extra (pyoxigraph and oxrdflib) is installed."""
    try:
        import oxrdflib  # noqa: F401
        import pyoxigraph  # noqa: F401
    except ImportError:
        return False
    return True


def pick_store(store, triples_count):
    """The store to use: ``auto`` means rdflib's in-memory store for small graphs (its Turtle
    is sorted and grouped, good for git) and Oxigraph above :data:`AUTO_OXIGRAPH_TRIPLES`
    triples, where rdflib takes minutes for a transitive SPARQL query."""
    if store not in (*STORES, "auto"):
        raise TakeoffError(f"--store {quote(store)}: one of auto, {', '.join(STORES)}")
    if store == "auto":
        return "oxigraph" if triples_count > AUTO_OXIGRAPH_TRIPLES and oxigraph_available() else "memory"
    if store == "oxigraph" and not oxigraph_available():
        raise TakeoffError("--store oxigraph needs the oxigraph extra: "
                           "pip install 'takeoff-graph[oxigraph]'")
    return store


def to_rdf(graph, base=DEFAULT_BASE, *, score=None, store="auto"):
    """The corpus graph as an rdflib graph in the takeoff-graph vocabulary.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph, e.g. ``Corpus.load("claims").graph``.
    base : str, default ``https://w3id.org/takeoff-graph/node/``
        Node ids become IRIs ``base + id``; it must end in ``/`` or ``#``.
    score : ScoreResult, optional
        Include the propagated strengths (``Corpus.score(semantics)``).
    store : {"auto", "memory", "oxigraph"}
        rdflib's in-memory store, or Oxigraph behind rdflib's API (the ``oxigraph`` extra),
        far faster to query at 100,000 triples; ``auto`` picks by size (:func:`pick_store`).

    Returns
    -------
    rdflib.Graph
        With the ``tg, aif, schema, dcterms, prov, xsd, rdfs, rdf`` prefixes and ``node`` (the
        base) bound.

    Examples
    --------
    >>> from graph.files.corpus import Corpus
    >>> g = to_rdf(Corpus.load("claims").graph)
    >>> len(g.query("SELECT ?m WHERE { ?m a tg:Model }"))
    6
    """
    check_base(base)
    store = pick_store(store, estimated_triples(graph))
    if store == "oxigraph":
        import pyoxigraph as ox

        inner = ox.Store()
        inner.bulk_extend(ox.Quad(s, p, o, ox.DefaultGraph())
                          for s, p, o in triples(graph, base, score=score, terms=_OxigraphTerms()))
        rdf_graph = new_graph(base, store, inner)
    else:
        rdf_graph = new_graph(base, store)
        rdf_graph.addN((s, p, o, rdf_graph) for s, p, o in triples(graph, base, score=score))
    return rdf_graph


def new_graph(base=DEFAULT_BASE, store="memory", inner=None):
    """An rdflib graph on ``store`` with the vocabulary prefixes bound.

    ``inner`` is a filled ``pyoxigraph.Store`` to wrap (oxigraph store only); its default
    graph becomes the rdflib graph.
    """
    from rdflib import Graph

    if store == "oxigraph":
        from oxrdflib.store import OxigraphStore
        from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

        rdf_graph = Graph(store=OxigraphStore(store=inner), identifier=DATASET_DEFAULT_GRAPH_ID,
                          bind_namespaces="none")
    else:
        rdf_graph = Graph(bind_namespaces="none")
    for prefix, iri in {**PREFIXES, BASE_PREFIX: base}.items():
        rdf_graph.bind(prefix, iri, override=True, replace=True)
    return rdf_graph


def jsonld_context(base=DEFAULT_BASE):
    """The inline JSON-LD context of takeoff-graph documents (nothing remote is referenced)."""
    typed = {
        "credence": ("tg:credence", "xsd:decimal"), "weight": ("tg:weight", "xsd:decimal"),
        "strength": ("tg:strength", "xsd:decimal"), "date": ("dcterms:date", "xsd:date"),
        "url": ("schema:url", "xsd:anyURI"), "position": ("schema:position", "xsd:integer"),
        "supports": ("tg:supports", "@id"), "undermines": ("tg:undermines", "@id"),
        "source": ("tg:source", "@id"), "target": ("tg:target", "@id"),
        "wasDerivedFrom": ("prov:wasDerivedFrom", "@id"),
    }
    context = {**PREFIXES, BASE_PREFIX: base,
               "identifier": "dcterms:identifier", "title": "dcterms:title",
               "body": "tg:body", "label": "tg:label", "note": "tg:note", "quote": "tg:quote",
               "semantics": "tg:semantics",
               "tags": {"@id": "tg:tags", "@container": "@list"}}
    context.update({term: {"@id": iri, "@type": kind} for term, (iri, kind) in typed.items()})
    return context


def serialize(graph, fmt="turtle", base=DEFAULT_BASE, *, score=None, store="auto"):
    """The corpus graph as RDF text.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        A corpus graph.
    fmt : {"turtle", "jsonld", "nt"}
        Turtle, JSON-LD (compacted with the inline context of :func:`jsonld_context`, nodes
        in id order) or N-Triples.
    base, score : as for :func:`to_rdf`
    store : {"auto", "memory", "oxigraph"}
        ``memory`` writes rdflib's sorted "long" Turtle; ``oxigraph`` streams the triples
        through Oxigraph's writers, about 100 times faster at 100,000 triples. JSON-LD is
        always compacted by rdflib.

    Returns
    -------
    str

    Examples
    --------
    >>> print(serialize(Corpus.load("claims").graph, "turtle"))   # doctest: +ELLIPSIS
    PREFIX dcterms: <http://purl.org/dc/terms/>
    ...
    """
    if fmt not in RDF_FORMATS:
        raise TakeoffError(f"unknown RDF format {quote(fmt)} (one of {', '.join(RDF_FORMATS)})")
    check_base(base)
    if fmt == "jsonld":
        return _compact_jsonld(to_rdf(graph, base, score=score, store="memory"), base)
    if pick_store(store, estimated_triples(graph)) == "oxigraph":
        import pyoxigraph as ox

        data = ox.serialize(triples(graph, base, score=score, terms=_OxigraphTerms()),
                            format=ox.RdfFormat.TURTLE if fmt == "turtle" else ox.RdfFormat.N_TRIPLES,
                            prefixes={**PREFIXES, BASE_PREFIX: base} if fmt == "turtle" else None)
        return data.decode("utf-8")
    rdf_graph = to_rdf(graph, base, score=score, store="memory")
    return rdf_graph.serialize(format="longturtle" if fmt == "turtle" else "nt")


def _compact_jsonld(rdf_graph, base):
    """JSON-LD compacted with the inline context, its nodes sorted by ``@id`` for stable diffs."""
    data = json.loads(rdf_graph.serialize(format="json-ld", context=jsonld_context(base),
                                          auto_compact=True))
    if isinstance(data.get("@graph"), list):
        data["@graph"].sort(key=lambda item: str(item.get("@id", "")))
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# ---- RDF -> corpus graph --------------------------------------------------------------------

def as_published(graph, base=DEFAULT_BASE):
    """``graph`` as it reads back from its own RDF: the form ``takeoff pull`` compares, so
    that formatting, comments and defaults written out do not count as differences."""
    return parse(serialize(graph, "nt", base), "nt", base)


def parse(text, fmt="turtle", base=DEFAULT_BASE):
    """A corpus graph from RDF text in the takeoff-graph vocabulary.

    Parameters
    ----------
    text : str
        Turtle, JSON-LD or N-Triples.
    fmt : {"turtle", "jsonld", "nt"}
    base : str
        The base node IRIs are under, used for nodes without ``dcterms:identifier``.

    Returns
    -------
    networkx.MultiDiGraph
        Corpus attributes, ready for :func:`graph.files.edit.import_graph`.

    Raises
    ------
    RDFError
        The text is not valid RDF of that format (the parser's message, with its line), a
        JSON-LD document refers to a remote context, or the RDF does not fit the vocabulary.

    Examples
    --------
    >>> from graph.files.edit import import_graph
    >>> import_graph("claims", parse(open("map.ttl").read(), "turtle"))   # doctest: +SKIP
    """
    check_base(base)
    return from_rdf(parse_rdf(text, fmt), base)


def parse_rdf(text, fmt="turtle"):
    """An rdflib graph (in-memory store) from RDF text.

    Large texts are read by Oxigraph's parser when the ``oxigraph`` extra is installed (several
    times faster than rdflib's). Syntax errors raise :class:`RDFError` with the line.
    """
    if fmt not in RDF_FORMATS:
        raise TakeoffError(f"unknown RDF format {quote(fmt)} (one of {', '.join(RDF_FORMATS)})")
    if fmt == "jsonld":
        _refuse_remote_contexts(text)
    else:
        try:
            check_turtle(text)
        except InputError as exc:
            raise RDFError(str(exc)) from None
    memory_name, oxigraph_name = RDF_FORMATS[fmt]
    # About 100 bytes of text a triple.
    fast = pick_store("auto", len(text) // 100) == "oxigraph"
    rdf_graph = new_graph(DEFAULT_BASE, "memory")
    try:
        rdf_graph.parse(data=text, format=oxigraph_name if fast else memory_name)
    except Exception as exc:  # rdflib's parsers raise many types; all mean "bad input"
        raise RDFError(_syntax_message(exc, text, fmt)) from None
    return rdf_graph


def _syntax_message(exc, text, fmt):
    """The parser's message with its line, as ``line N: why``."""
    from rdflib.plugins.parsers.notation3 import BadSyntax

    name = {"turtle": "Turtle", "jsonld": "JSON-LD", "nt": "N-Triples"}[fmt]
    if isinstance(exc, BadSyntax):
        return f"line {exc.lines + 1}: not valid {name}: {exc._why}"
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}: not valid {name}: {exc.msg}"
    message = str(exc).strip() or type(exc).__name__
    match = re.match(r"Parser error (?:at|between) line (\d+)", message)
    if match:  # Oxigraph's parsers
        return f"line {match.group(1)}: not valid {name}: {message}"
    match = re.match(r"Invalid line: (.*)", message, re.S)
    if match:  # rdflib's N-Triples parser gives the rest of the bad line, not its number
        bad = match.group(1).strip()
        number = next((i for i, line in enumerate(text.splitlines(), 1)
                       if line.strip().endswith(bad)), None)
        if number:
            return f"line {number}: not valid {name}: {message}"
    return f"not valid {name}: {message}"


def _refuse_remote_contexts(text):
    """Refuse a JSON-LD document whose ``@context`` (or ``@import``) names a remote document.

    rdflib would fetch it; takeoff never touches the network at run time.
    """
    try:
        data = load_json(text)
    except InputError as exc:
        raise RDFError(str(exc).replace("valid JSON", "valid JSON-LD")) from None

    def remote(value):
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return next((r for r in map(remote, value) if r), None)
        if isinstance(value, dict):
            if isinstance(value.get("@import"), str):
                return value["@import"]
            return next((r for r in map(walk, value.values()) if r), None)
        return None

    def walk(value):
        if isinstance(value, dict):
            if "@context" in value and remote(value["@context"]):
                return remote(value["@context"])
            return next((r for r in map(walk, value.values()) if r), None)
        if isinstance(value, list):
            return next((r for r in map(walk, value) if r), None)
        return None

    url = walk(data)
    if url:
        raise RDFError(f"the JSON-LD refers to the remote context {quote(url)}, which is not fetched "
                       "(takeoff works offline): put the context inline")


class _Reader:
    """Reads corpus nodes and edges out of an rdflib graph, collecting every misfit."""

    def __init__(self, rdf_graph, base):
        from rdflib.namespace import RDF

        self.g = rdf_graph
        self.base = base
        self.ns = _ns()
        self.rdf = RDF
        self.problems = []

    def name(self, term):
        """A term as the user can find it in their file: a prefixed name or ``<iri>``."""
        try:
            return self.g.namespace_manager.normalizeUri(term)
        except Exception:  # blank nodes and odd IRIs: fall back to N-Triples form
            return term.n3()

    def problem(self, subject, message):
        self.problems.append(f"{self.name(subject)}: {message}")

    def one(self, subject, predicate, required=False):
        """The single object of ``subject predicate``; several (or none, if required) is a misfit."""
        values = list(self.g.objects(subject, predicate))
        if len(values) > 1:
            self.problem(subject, f"{len(values)} values of {self.name(predicate)} (one allowed)")
        elif required and not values:
            self.problem(subject, f"no {self.name(predicate)}")
        return values[0] if values else None

    def text(self, subject, predicate, required=False):
        from rdflib import Literal

        value = self.one(subject, predicate, required)
        if value is None:
            return None
        if not isinstance(value, Literal):
            self.problem(subject, f"{self.name(predicate)} must be a literal, not {self.name(value)}")
            return None
        return str(value)

    def number(self, subject, predicate, default):
        from rdflib import Literal

        value = self.one(subject, predicate)
        if value is None:
            return default
        if isinstance(value, Literal) and isinstance(value.value, (int, float, Decimal)) \
                and not isinstance(value.value, bool):
            return float(value.value)
        self.problem(subject, f"{self.name(predicate)} {value.n3()} is not a number")
        return default

    def distribution(self, subject, what):
        """``{what}_dist`` from tg:{what}Spread or tg:{what}Low / tg:{what}High, if given."""
        tg = self.ns["tg"]
        parts = {part: self.number(subject, tg[f"{what}{part.title()}"], None)
                 for part in DISTRIBUTION_PARTS[1:]}
        parts = {k: v for k, v in parts.items() if v is not None}
        if not parts:
            return {}
        if "spread" in parts:
            parts["mean"] = self.number(subject, tg[what], None)

        try:
            return {f"{what}_dist": parse_distribution(parts)[1]}
        except UncertaintyError as exc:
            self.problem(subject, f"tg:{what}: {exc}")
            return {}

    def date(self, subject, predicate):
        value = self.one(subject, predicate)
        if value is None:
            return None
        # rdflib gives xsd:gYearMonth no Python value; its text ("2025-05") parses below.
        parsed = value.value if isinstance(getattr(value, "value", None), dt.date) else None
        if isinstance(parsed, dt.datetime) or parsed is None:
            parsed = parse_date(str(value))
        if parsed is None:
            self.problem(subject, f"{self.name(predicate)} {value.n3()} is not an xsd:date or xsd:gYearMonth")
        return parsed

    def node_id(self, subject):
        from rdflib import URIRef

        identifier = self.text(subject, self.ns["dcterms"].identifier)
        if identifier is None and isinstance(subject, URIRef) and str(subject).startswith(self.base):
            identifier = str(subject)[len(self.base):]
        if identifier is None:
            self.problem(subject, f"no dcterms:identifier and the IRI is not under the base "
                                  f"<{self.base}> (pass --base)")
        elif id_problem(identifier):
            self.problem(subject, id_problem(identifier))
            identifier = None
        return identifier

    def tags(self, subject):
        from rdflib import Literal
        from rdflib.collection import Collection

        head = self.one(subject, self.ns["tg"].tags)
        if head is None:
            return []
        if head != self.rdf.nil and self.g.value(head, self.rdf.first) is None:
            self.problem(subject, "tg:tags must be an rdf:List of strings")
            return []
        items = list(Collection(self.g, head))
        if not all(isinstance(item, Literal) for item in items):
            self.problem(subject, "tg:tags must be an rdf:List of strings")
            return []
        return [str(item) for item in items]

    def sources(self, subject):
        from rdflib import Literal

        dcterms, schema, tg = self.ns["dcterms"], self.ns["schema"], self.ns["tg"]
        found = []
        for entity in self.g.objects(subject, self.ns["prov"].wasDerivedFrom):
            url = self.one(entity, schema.url)
            source = {"url": None if url is None else str(url)}
            for key, predicate in (("title", dcterms.title), ("quote", tg.quote)):
                value = self.text(entity, predicate)
                if value is not None:
                    source[key] = value
            if url is None and source.get("title") is None:
                self.problem(entity, f"no {self.name(schema.url)} and no {self.name(dcterms.title)} "
                                     "(a source needs a url or, without one, a title)")
                continue
            source["date"] = self.date(entity, dcterms.date)
            position = self.one(entity, schema.position)
            order = position.value if isinstance(position, Literal) and isinstance(position.value, int) else None
            found.append((order is None, order or 0, source["url"] or "", source))
        return [source for *_, source in sorted(found, key=lambda item: item[:3])]

    def evidence_kind(self, subject, kind):
        """``{"evidence_kind": ...}`` from tg:evidenceKind (empty if none)."""
        value = self.one(subject, self.ns["tg"].evidenceKind)
        if value is None:
            return {}
        by_term = {VOCAB + term: name for name, term in EVIDENCE_KIND_TERM.items()}
        if kind != "evidence" or str(value) not in by_term:
            self.problem(subject, f"tg:evidenceKind {self.name(value)} must be one of "
                                  f"{', '.join('tg:' + t for t in EVIDENCE_KIND_TERM.values())}, "
                                  "on a tg:Evidence")
            return {}
        return {"evidence_kind": by_term[str(value)]}

    def provenance(self, edge):
        """``{"from", "quote"}`` of an edge resource: the dcterms:identifier of its
        prov:wasAttributedTo agent (or the agent's IRI after ``base + "sources/"``) and its
        tg:quote."""
        from rdflib import URIRef

        out = {}
        agent = self.one(edge, self.ns["prov"].wasAttributedTo)
        if agent is not None:
            identifier = self.text(agent, self.ns["dcterms"].identifier)
            prefix = self.base + SOURCE_PATH
            if identifier is None and isinstance(agent, URIRef) and str(agent).startswith(prefix):
                identifier = str(agent)[len(prefix):]
            if identifier is None:
                self.problem(edge, f"prov:wasAttributedTo {self.name(agent)} has no source id "
                                   "(dcterms:identifier)")
            elif id_problem(identifier, "source id"):
                self.problem(edge, f"prov:wasAttributedTo: {id_problem(identifier, 'source id')}")
            else:
                out["from"] = identifier
        words = self.text(edge, self.ns["tg"].quote)
        if words is not None:
            out["quote"] = words
        return out

    def declared_sources(self, graph):
        """The agents of edges, with their title, as ``graph.graph["sources"]``."""
        prov, dcterms = self.ns["prov"], self.ns["dcterms"]
        sources = {}
        for agent in set(self.g.objects(None, prov.wasAttributedTo)) | set(
                self.g.subjects(self.rdf.type, prov.Agent)):
            identifier = self.text(agent, dcterms.identifier)
            title = self.text(agent, dcterms.title)
            if identifier is None or identifier == EDITOR or title is None:
                continue
            url = self.one(agent, self.ns["schema"].url)
            fields = {"title": title, "url": None if url is None else str(url),
                      "author": self.text(agent, self.ns["schema"].author),
                      "date": self.date(agent, dcterms.date)}
            sources[identifier] = fields
        if sources:
            graph.graph["sources"] = sources

    def unknown_terms(self, subject):
        for predicate in set(self.g.predicates(subject)):
            if str(predicate).startswith(VOCAB) and str(predicate)[len(VOCAB):] not in NODE_TERMS:
                term = str(predicate)[len(VOCAB):]
                hint = did_you_mean(term, NODE_TERMS, show=lambda c: f"tg:{c}")
                hint = f" ({hint})" if hint else ""
                self.problem(subject, f"tg:{term} is not a node property of the vocabulary{hint}")


def from_rdf(rdf_graph, base=DEFAULT_BASE):
    """A corpus graph from an rdflib graph in the takeoff-graph vocabulary.

    Every ``tg:Model``, ``tg:Claim`` and ``tg:Evidence`` becomes a node, every
    ``tg:Support`` / ``tg:Undermining`` resource and every direct ``tg:supports`` /
    ``tg:undermines`` triple an edge (weight 1 where none is given). Strengths are derived
    data and are ignored; triples about other resources are ignored.

    Parameters
    ----------
    rdf_graph : rdflib.Graph
    base : str
        For nodes without ``dcterms:identifier``, the id is the IRI after this base.

    Returns
    -------
    networkx.MultiDiGraph

    Raises
    ------
    RDFError
        Listing every place where the RDF does not fit the vocabulary.
    """
    check_base(base)
    reader = _Reader(rdf_graph, base)
    ns, RDF = reader.ns, reader.rdf
    tg, dcterms = ns["tg"], ns["dcterms"]
    graph = nx.MultiDiGraph()
    ids = {}
    for kind in KINDS:
        for subject in rdf_graph.subjects(RDF.type, tg[KIND_CLASS[kind]]):
            if subject in ids:
                reader.problem(subject, "has more than one of the types tg:Model, tg:Claim, tg:Evidence")
                continue
            node_id = reader.node_id(subject)
            if node_id is None:
                ids[subject] = None
                continue
            if node_id in graph:
                reader.problem(subject, f"id {quote(node_id)} is used by another node too")
            ids[subject] = node_id
            reader.unknown_terms(subject)
            graph.add_node(
                node_id, kind=kind,
                title=reader.text(subject, dcterms.title, required=True) or "",
                credence=reader.number(subject, tg.credence, DEFAULT_CREDENCE),
                **reader.distribution(subject, "credence"),
                date=reader.date(subject, dcterms.date),
                tags=reader.tags(subject),
                sources=reader.sources(subject),
                body=reader.text(subject, tg.body) or "",
                **reader.evidence_kind(subject, kind),
                **({"label": label} if (label := reader.text(subject, tg.label)) else {}),
            )
    if not ids:
        raise RDFError("no tg:Model, tg:Claim or tg:Evidence in the RDF: is it takeoff-graph "
                       f"RDF (vocabulary <{VOCAB}>)?")
    _read_edges(reader, graph, ids)
    reader.declared_sources(graph)
    if reader.problems:
        raise RDFError("the RDF does not fit the takeoff-graph vocabulary:\n"
                       + "\n".join(f"  {p}" for p in reader.problems))
    return graph


def _read_edges(reader, graph, ids):
    """Add the edges of the RDF to ``graph``: edge resources first, then bare direct triples."""
    g, tg = reader.g, reader.ns["tg"]

    def endpoint(edge, predicate):
        node = reader.one(edge, predicate, required=True)
        if node is not None and node not in ids:
            reader.problem(edge, f"{reader.name(predicate)} {reader.name(node)} is not a "
                                 "tg:Model, tg:Claim or tg:Evidence")
            return None
        return ids.get(node)

    for relation, cls in EDGE_CLASS.items():
        for edge in g.subjects(reader.rdf.type, tg[cls]):
            source, target = endpoint(edge, tg.source), endpoint(edge, tg.target)
            weight = reader.number(edge, tg.weight, DEFAULT_WEIGHT)
            note = reader.text(edge, tg.note) or ""
            if source and target:
                _add_edge(reader, graph, edge, source, target, relation, weight, note,
                          **reader.distribution(edge, "weight"), **reader.provenance(edge))
    for relation in EDGE_CLASS:
        for subject, obj in g.subject_objects(tg[relation]):
            source, target = ids.get(subject), ids.get(obj)
            if subject not in ids or obj not in ids:
                bad = subject if subject not in ids else obj
                reader.problem(subject, f"tg:{relation} links {reader.name(bad)}, which is not a "
                                        "tg:Model, tg:Claim or tg:Evidence")
            elif source and target and not graph.has_edge(source, target, key=relation):
                graph.add_edge(source, target, key=relation, relation=relation,
                               weight=DEFAULT_WEIGHT, note="")


def _add_edge(reader, graph, edge, source, target, relation, weight, note, **extra):
    if graph.has_edge(source, target, key=relation):
        reader.problem(edge, f"a second {relation} edge from {quote(source)} to {quote(target)}")
        return
    graph.add_edge(source, target, key=relation, relation=relation, weight=weight, note=note,
                   **extra)


# ---- SPARQL ---------------------------------------------------------------------------------

QUERY_DIR = "queries"


def named_queries():
    """The SPARQL queries shipped in ``graph/formats/queries``: ``{name: (description, text)}``.

    The description is the query file's first comment line.
    """
    found = {}
    for entry in sorted(resources.files("graph.formats").joinpath(QUERY_DIR).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".rq"):
            text = entry.read_text(encoding="utf-8")
            first = next((line for line in text.splitlines() if line.startswith("#")), "#")
            found[entry.name[:-3]] = (first.lstrip("# ").strip(), text)
    return found


def resolve_query(query):
    """The SPARQL text of a ``takeoff sparql`` argument: a named query, ``@file.rq``, or text."""
    if query.startswith("@"):
        path = Path(query[1:])
        try:  # the guarded read (size, FIFO, UTF-8); a link may point anywhere: it is your file
            return read_text(path, os.sep)
        except UnsafeFileError as exc:
            raise TakeoffError(f"QUERY: {exc}") from None
    named = named_queries()
    if query in named:
        return named[query][1]
    if is_id(query.strip()):
        hint = did_you_mean(query, named)
        hint = f" ({hint})" if hint else ""
        raise TakeoffError(f"QUERY: no named query {quote(query)}{hint}; `takeoff sparql --list` "
                           "lists them")
    return query


# A query stops after this many seconds unless --timeout says otherwise.
DEFAULT_TIMEOUT = 30.0
# The longest timeout taken: a day. More (or inf, nan) would overflow deep in the socket and
# process layers; a query or a server that needs longer is better run another way.
MAX_TIMEOUT = 86_400.0


def check_timeout(seconds):
    """``seconds`` as a float if it is a usable timeout (finite, above 0, at most
    :data:`MAX_TIMEOUT`); else a :class:`TakeoffError` saying what is taken.

    >>> check_timeout("2.5")
    2.5
    """
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        raise TakeoffError(f"{quote(seconds)} is not a number of seconds") from None
    if not 0 < value <= MAX_TIMEOUT:  # false for nan too
        raise TakeoffError(f"{quote(seconds)}: give a number of seconds above 0 and at most "
                           f"{MAX_TIMEOUT:g} (a day)")
    return value


class QueryTimeout(TakeoffError):
    """A query that ran out of time."""


class QueryResult:
    """The answer of a SPARQL query: ``kind`` is SELECT, ASK, CONSTRUCT or DESCRIBE.

    SELECT: ``variables`` and ``rows`` (lists of rdflib terms or None); ASK: ``answer``;
    CONSTRUCT / DESCRIBE: ``graph``.
    """

    def __init__(self, kind, variables=(), rows=(), answer=None, graph=None):
        self.kind = kind
        self.variables = list(variables)
        self.rows = list(rows)
        self.answer = answer
        self.graph = graph

    def to_json(self):
        """SELECT: a list of ``{variable: value}`` (IRIs and literals as text, unbound left
        out); ASK: ``{"answer": bool}``; CONSTRUCT: a list of ``[s, p, o]``, sorted."""
        if self.kind == "SELECT":
            return [{v: _json_value(t) for v, t in zip(self.variables, row) if t is not None}
                    for row in self.rows]
        if self.kind == "ASK":
            return {"answer": self.answer}
        return sorted(([_json_value(t) for t in triple] for triple in self.graph),
                      key=lambda values: [str(v) for v in values])


def _json_value(term):
    from rdflib import BNode, Literal

    if isinstance(term, Literal):
        value = term.toPython()
        # A literal rdflib has no Python type for (xsd:gYearMonth) comes back as itself, a str
        # subclass that compares unequal to its text: give the text.
        if isinstance(value, (bool, int, str)) and not isinstance(value, Literal):
            return value
        if isinstance(value, (float, Decimal)):
            return float(value)
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def query_namespaces(base=DEFAULT_BASE):
    """The prefixes every query may use without PREFIX lines: the vocabulary's and ``node``."""
    return {**PREFIXES, BASE_PREFIX: base}


def prepare_query(text, namespaces, allow_service=()):
    """Parse SPARQL ``text`` into rdflib's algebra and apply the query policy.

    Parameters
    ----------
    text : str
        A SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, DESCRIBE, short forms included).
    namespaces : dict
        Prefixes bound without PREFIX lines (:func:`query_namespaces`).
    allow_service : iterable of str
        Endpoint IRIs a ``SERVICE`` clause may name. Any other ``SERVICE`` (and every
        ``SERVICE ?variable``) is refused: it would send corpus values to that host.

    Returns
    -------
    rdflib.plugins.sparql.sparql.Query
        Ready for rdflib's evaluator; the short forms rdflib mishandles are completed.

    Raises
    ------
    TakeoffError
        A malformed query (the parser's message, line and column), an update, or a
        ``SERVICE`` that ``allow_service`` does not name.
    """
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    try:
        tree = parseQuery(text)
    except Exception as exc:  # pyparsing errors mean a bad query
        try:
            parseUpdate(text)
        except Exception:
            raise TakeoffError(f"bad SPARQL query: {_query_message(exc, text)}") from None
        raise TakeoffError("this is a SPARQL update (INSERT, DELETE, LOAD, CLEAR...): takeoff "
                           "sparql runs queries only; change the corpus with the takeoff "
                           "commands") from None
    query = _translate(tree, text, namespaces)
    _refuse_service(query.algebra, set(allow_service))
    return query


def _translate(tree, text, namespaces):
    """rdflib's algebra of a parse tree, with two of its gaps filled: ``DESCRIBE *`` (no
    variable list) and ``CONSTRUCT WHERE`` with solution modifiers (no template)."""
    from rdflib import Variable
    from rdflib.plugins.sparql.algebra import translateQuery

    form = tree[1]
    if form.name == "DescribeQuery" and form.var is None:
        form.var = sorted(set(_walk_terms(form.where, Variable)))
    short_form = form.name == "ConstructQuery" and form.template is None and _short_form(text)
    try:
        query = translateQuery(tree, initNs=namespaces)
    except Exception as exc:  # unknown prefixes and other static errors
        raise TakeoffError(f"bad SPARQL query: {_query_message(exc, text)}") from None
    algebra = query.algebra
    if algebra.name == "ConstructQuery" and algebra.template is None:
        # The short form's template is its WHERE clause, a single basic graph pattern.
        part = algebra.p if short_form else None
        while part is not None and part.name != "BGP":
            part = part.get("p")
        algebra.template = part.triples if part is not None else []
    return query


def _short_form(text):
    """Whether a CONSTRUCT query without template triples is the short form ``CONSTRUCT
    WHERE { ... }`` rather than ``CONSTRUCT {} WHERE { ... }``: rdflib's parse tree is the same
    for both, so this looks at the keyword after CONSTRUCT (outside comments; the prologue
    before it holds only IRIs and prefix names)."""
    code = re.sub(r"(^|\s)#[^\n]*", " ", text)
    keyword = re.search(r"\bCONSTRUCT\s*(\{|WHERE\b|FROM\b)", code, re.I)
    return keyword is not None and keyword.group(1) != "{"


def _walk_terms(node, cls):
    """Every instance of ``cls`` inside a parse tree or algebra node."""
    from pyparsing import ParseResults

    if isinstance(node, cls):
        yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk_terms(value, cls)
    elif isinstance(node, (list, tuple, ParseResults)):
        for value in node:
            yield from _walk_terms(value, cls)


def _refuse_service(algebra, allowed):
    from rdflib import Variable
    from rdflib.plugins.sparql.parserutils import CompValue

    for node in _walk_terms(algebra, CompValue):
        if node.name != "ServiceGraphPattern":
            continue
        term = node.term
        if isinstance(term, Variable):
            raise TakeoffError(f"SERVICE {term.n3()}: a SERVICE with a variable endpoint could "
                               "send the corpus anywhere and is refused")
        if str(term) not in allowed:
            raise TakeoffError(f"SERVICE <{term}> would send corpus values to that endpoint: "
                               f"refused; pass --allow-service {term} to allow it")


def run_query(rdf_graph, text, *, timeout=DEFAULT_TIMEOUT, allow_service=()):
    """Run SPARQL ``text`` on an rdflib graph with the vocabulary prefixes bound.

    Parameters
    ----------
    rdf_graph : rdflib.Graph
        E.g. from :func:`to_rdf` (either store).
    text : str
        A SPARQL 1.1 query. The prefixes ``tg aif schema dcterms prov xsd rdfs rdf`` and
        ``node`` (the base) need no PREFIX lines. ``FROM`` and ``FROM NAMED`` are refused: the
        corpus is one graph (they name graphs on a server: ``sparql --endpoint``).
    timeout : float
        Seconds the query may run. Either evaluator (rdflib's pure Python, whose regular
        expressions cannot be interrupted, or Oxigraph's native code) runs in a forked child
        process that is killed when the time is up.
    allow_service : iterable of str
        Endpoints a ``SERVICE`` clause may name (see :func:`prepare_query`).

    Returns
    -------
    QueryResult

    Raises
    ------
    TakeoffError
        A malformed or refused query, with the parser's message (and line and column).
    QueryTimeout
        The query ran longer than ``timeout``.
    """
    timeout = check_timeout(timeout)
    namespaces = {prefix: str(iri) for prefix, iri in rdf_graph.namespaces() if prefix}
    query = prepare_query(text, namespaces, allow_service)
    _refuse_dataset(query.algebra)
    if type(rdf_graph.store).__name__ == "OxigraphStore":
        result = _oxigraph_query(rdf_graph.store._inner, text, namespaces, timeout)
    elif query.algebra.name == "ConstructQuery" and not query.algebra.template:
        return QueryResult("CONSTRUCT", graph=new_graph(store="memory"))
    else:
        result = _rdflib_query(rdf_graph, query, timeout)
    result.kind = result_kind(query)
    return result


def _refuse_dataset(algebra):
    clauses = algebra.get("datasetClause") or []
    if clauses:
        first = clauses[0]
        which = "FROM NAMED" if first.get("named") is not None else "FROM"
        iri = first.get("named") if first.get("named") is not None else first.get("default")
        raise TakeoffError(f"{which} <{iri}>: the local corpus is one graph, so FROM and FROM "
                           "NAMED are refused; they choose graphs on a server (takeoff sparql "
                           "--endpoint URL)")


def result_kind(query):
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the form of a prepared query."""
    return query.algebra.name[:-len("Query")].upper()


def _rdflib_query(rdf_graph, query, timeout):
    """Run a prepared query with rdflib's evaluator in a forked child that is killed after
    ``timeout`` s (a thread cannot be stopped inside a regular expression); the child hands
    the rows back pickled (it is this process's own fork, the only writer of the pipe) and a
    graph as N-Triples."""
    import pickle

    def work():
        result = rdf_graph.query(query)
        if result.type == "SELECT":
            rows = [str(v) for v in result.vars], [list(r) for r in result]
            return _PICKLED, pickle.dumps(rows)
        if result.type == "ASK":
            return _PICKLED, pickle.dumps(bool(result.askAnswer))
        return RESULTS_GRAPH, result.graph.serialize(format="nt", encoding="utf-8")

    media_type, data = _in_child(work, timeout)
    if media_type != _PICKLED:
        return parse_results(data, media_type)
    answer = pickle.loads(data)
    if isinstance(answer, bool):
        return QueryResult("ASK", answer=answer)
    return QueryResult("SELECT", *answer)


_PICKLED = "application/x-takeoff-pickle"  # rows from this process's own forked child


def _timeout_message(timeout):
    return (f"the query did not finish within {timeout:g} s and was stopped; pass --timeout "
            "with more seconds, or narrow the query")


def _oxigraph_query(store, text, namespaces, timeout):
    """Run ``text`` on a pyoxigraph store in a forked child that is killed after ``timeout``
    s; the child hands the answer back as SPARQL JSON results or N-Triples."""
    import pyoxigraph as ox

    def work():
        result = store.query(text, prefixes=namespaces)
        if isinstance(result, ox.QueryTriples):
            return RESULTS_GRAPH, ox.serialize(result, format=ox.RdfFormat.N_TRIPLES)
        return RESULTS_JSON, result.serialize(format=ox.QueryResultsFormat.JSON)

    media_type, data = _in_child(work, timeout)
    return parse_results(data, media_type)


def _in_child(work, timeout):
    """``work() -> (kind, bytes)`` in a forked child process, killed after ``timeout`` s."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, then leave without any cleanup
        os.close(read_end)
        try:
            kind, data = work()
            payload = kind.encode() + b"\n" + data
        except BaseException as exc:  # every failure goes back to the parent as a message
            payload = b"error\n" + " ".join(str(exc).split()).encode("utf-8", "replace")
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write_end)
    deadline = time.monotonic() + timeout
    chunks, done = [], False
    try:
        while not done:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_end], [], [], left)[0]:
                raise QueryTimeout(_timeout_message(timeout))
            chunk = os.read(read_end, 1 << 20)
            chunks.append(chunk)
            done = not chunk
    finally:  # also on Ctrl-C: never leave the child running
        if not done:
            os.kill(pid, signal.SIGKILL)
        os.close(read_end)
        os.waitpid(pid, 0)
    kind, _, data = b"".join(chunks).partition(b"\n")
    if kind == b"error" or not kind:
        raise TakeoffError(f"the query failed: {data.decode('utf-8', 'replace') or 'no answer'}")
    return kind.decode(), data


# Media types of query answers: SELECT and ASK as SPARQL JSON results, graphs as N-Triples.
RESULTS_JSON = "application/sparql-results+json"
RESULTS_GRAPH = "application/n-triples"


def parse_results(data, media_type):
    """A :class:`QueryResult` from an answer in SPARQL JSON results (SELECT, ASK) or an RDF
    graph (CONSTRUCT, DESCRIBE) in N-Triples or Turtle. Literals typed ``xsd:string`` become
    plain literals, as rdflib's own store gives them.

    Raises
    ------
    ValueError
        ``data`` is not in that format.
    """
    from rdflib import Literal, XSD
    from rdflib.query import Result

    def plain(term):
        if isinstance(term, Literal) and term.datatype == XSD.string:
            return Literal(str(term))
        return term

    if media_type == RESULTS_JSON:
        result = Result.parse(io.BytesIO(data), format="json")
        if result.type == "ASK":
            return QueryResult("ASK", answer=bool(result.askAnswer))
        variables = [str(v) for v in result.vars]
        rows = [[plain(row.get(v)) for v in result.vars] for row in result.bindings]
        return QueryResult("SELECT", variables, rows)
    fmt = {RESULTS_GRAPH: "nt", "text/turtle": "turtle"}.get(media_type)
    if fmt is None:
        raise ValueError(f"not a SPARQL answer: {media_type}")
    parsed = new_graph(store="memory")
    parsed.parse(data=data.decode("utf-8"), format=fmt)
    graph = new_graph(store="memory")
    graph.addN((s, p, plain(o), graph) for s, p, o in parsed)
    return QueryResult("CONSTRUCT", graph=graph)


def _query_message(exc, text):
    """The parser's message, with the line, column and the text found there.

    pyparsing (rdflib) says ``(line:1, col:26)``; Oxigraph says ``error at 1:26: expected one
    of ...`` followed by character classes, which are dropped as noise.
    """
    message = " ".join(str(exc).split()) or type(exc).__name__
    line, col = getattr(exc, "lineno", None), getattr(exc, "col", None)
    oxigraph = re.match(r"error at (\d+):(\d+): (.*)", message)
    if oxigraph:
        line, col = int(oxigraph.group(1)), int(oxigraph.group(2))
        message = re.sub(r"\[[^\]]*\]", "", oxigraph.group(3))
        message = re.sub(r"(?:,\s*){2,}", ", ", message).strip(" ,")
    elif line is not None:
        message = re.sub(r",?\s*\(line:\d+, col:\d+\)", "", message)
    if line is None or col is None:
        return message
    lines = text.splitlines() or [""]
    found = lines[line - 1][col - 1:col + 19].strip() if 0 < line <= len(lines) else ""
    near = f" near {quote(found)}" if found else " at the end"
    return f"line {line}, column {col}{near}: {message}"


# ---- SHACL ----------------------------------------------------------------------------------

class Violation:
    """One SHACL result: the node it is about, the property path, the message, the severity."""

    def __init__(self, focus, path, message, severity, value=None):
        self.focus, self.path, self.message = focus, path, message
        self.severity, self.value = severity, value

    def __str__(self):
        where = f"{self.focus} {self.path}" if self.path else self.focus
        value = f" (value: {self.value})" if self.value is not None else ""
        return f"{where}: {self.message}{value}"

    def to_json(self):
        return {"focus": self.focus, "path": self.path, "message": self.message,
                "severity": self.severity, "value": self.value}


def shapes_text():
    """The SHACL shapes of the vocabulary (``graph/formats/shapes.ttl``)."""
    return resources.files("graph.formats").joinpath("shapes.ttl").read_text(encoding="utf-8")


def vocabulary_text():
    """The vocabulary in Turtle (``graph/formats/vocab.ttl``)."""
    return resources.files("graph.formats").joinpath("vocab.ttl").read_text(encoding="utf-8")


def validate_shacl(rdf_graph):
    """Validate RDF against the vocabulary's SHACL shapes with pySHACL.

    Parameters
    ----------
    rdf_graph : rdflib.Graph
        E.g. :func:`to_rdf` of a corpus, or RDF about to be imported.

    Returns
    -------
    list of Violation
        Empty if the graph conforms.
    """
    try:
        from pyshacl import validate
    except ImportError:
        raise TakeoffError("--shacl needs pySHACL: pip install 'takeoff-graph[shacl]'") from None
    from rdflib import Graph, URIRef
    from rdflib.namespace import SH

    shapes = Graph().parse(data=shapes_text(), format="turtle")
    data = Graph()
    for prefix, iri in rdf_graph.namespaces():
        data.bind(prefix, iri, override=True, replace=True)
    data += rdf_graph  # pySHACL needs rdflib's own store; a copy also serves Oxigraph graphs
    try:
        conforms, report, _ = validate(data, shacl_graph=shapes,
                                       inference="none", advanced=True, allow_warnings=True)
    except Exception as exc:  # pySHACL reports broken shapes or data by exception
        raise TakeoffError(f"SHACL validation failed: {exc}") from None
    if conforms:
        return []
    namespaces = sorted(data.namespaces(), key=lambda item: -len(str(item[1])))

    def show(term):
        """A term as ``prefix:name`` / ``"text"^^xsd:type`` (None stays None)."""
        if isinstance(term, URIRef):
            return shorten(str(term))  # also node:a/supports/b, which n3() leaves whole
        return None if term is None else term.n3(data.namespace_manager)

    def shorten(message):
        for prefix, iri in namespaces:
            message = message.replace(str(iri), f"{prefix}:")
        return message

    found = []
    for result in report.subjects(SH.resultSeverity, None):
        focus, value = report.value(result, SH.focusNode), report.value(result, SH.value)
        message = report.value(result, SH.resultMessage)
        component = report.value(result, SH.sourceConstraintComponent)
        found.append(Violation(
            show(focus), show(report.value(result, SH.resultPath)),
            shorten(str(message)) if message else f"violates {show(component)}",
            show(report.value(result, SH.resultSeverity)),
            None if value == focus else show(value),
        ))
    return sorted(found, key=lambda v: (v.focus or "", v.path or "", v.message))
