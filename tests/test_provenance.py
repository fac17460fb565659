"""Whose argument each edge is (``from:``, ``quote:``, takeoff.toml's [sources]) and what each
evidence item is (``evidence_kind:``): validation, lint, writing, the filter, every format."""
import json

import pytest

from helpers import SOURCES, snapshot, write_node
from graph.explaining.explain import lint
from graph.files.corpus import Corpus
from graph.files.provenance import filter_graph, known_sources

def errors(root):
    return [str(p) for p in Corpus.load(root).errors]


def test_fields_become_edge_and_node_attributes(sourced):
    graph = Corpus.load(sourced).require_valid().graph
    edge = graph.edges["c1", "m1", "supports"]
    assert edge["from"] == "essay" and edge["quote"] == "the words of the essay"
    assert graph.edges["c2", "m1", "undermines"]["from"] == "editor"
    assert graph.nodes["e1"]["evidence_kind"] == "observation"
    assert "evidence_kind" not in graph.nodes["c1"]
    sources = known_sources(graph)
    assert list(sources) == ["editor", "essay", "notes"]
    assert sources["essay"]["author"] == "A. Writer" and sources["essay"]["date"].isoformat() == "2025-06-01"


@pytest.mark.parametrize("line, expected", [
    ("    from: esay", "c1.md:8: edge to 'm1' is from unknown source 'esay' (did you mean 'essay'?"),
    ("    from: Essay", "c1.md:8: from of the edge to 'm1': 'Essay' is not a valid source id: "
                      "use lower-case letters, digits and single '-'"),
    ("    from: [essay]", "c1.md:8: from of the edge to 'm1': ['essay'] is not a valid source id"),
    ("    quote: 3", "c1.md:8: quote of the edge to 'm1' must be non-empty text"),
])
def test_bad_provenance_is_an_error_with_file_and_line(sourced, line, expected):
    path = sourced / "c1.md"
    text = path.read_text().replace('    from: essay\n    quote: "the words of the essay"', line)
    path.write_text(text)
    found = errors(sourced)
    assert len(found) == 1 and expected in found[0], found


@pytest.mark.parametrize("front, expected", [
    ("kind: evidence\nevidence_kind: forcast", "e1.md:3: unknown evidence_kind 'forcast' "
                                               "(one of observation, forecast, testimony; did you mean 'forecast'?)"),
    ("kind: evidence\nevidence_kind: [observation]", "e1.md:3: unknown evidence_kind"),
    ("kind: claim\nevidence_kind: observation", "e1.md:3: evidence_kind is for evidence only, and this node is a 'claim'"),
])
def test_bad_evidence_kind_is_an_error_with_file_and_line(sourced, front, expected):
    path = sourced / "e1.md"
    path.write_text(path.read_text().replace("kind: evidence\nevidence_kind: observation", front))
    found = errors(sourced)
    assert len(found) == 1 and expected in found[0], found


@pytest.mark.parametrize("toml, expected", [
    ('[sources.essay]\nurl = "https://x.org"\n', "takeoff.toml:2: [sources.essay] needs a title"),
    ('\n[sources.Essay]\ntitle = "x"\n', "takeoff.toml:3: [sources]: 'Essay' is not a valid source id"),
    ('[sources.editor]\ntitle = "x"\n', "takeoff.toml:2: source 'editor' is always known"),
    ('[sources.essay]\ntitle = 3\n', "takeoff.toml:2: [sources.essay]: title must be non-empty text"),
    ('[sources.essay]\ntitle = "x"\ndate = "soon"\n', "[sources.essay]: date must be an ISO date"),
    ('sources = 3\n', "takeoff.toml:2: sources must be a table"),
])
def test_bad_source_declarations_are_errors_with_line(sourced, toml, expected):
    (sourced / "takeoff.toml").write_text('title = "t"\n' + toml)
    found = errors(sourced)
    assert any(expected in f for f in found), found


def test_unknown_source_field_is_a_warning(sourced):
    (sourced / "takeoff.toml").write_text(SOURCES.replace('author = "A. Writer"', 'autor = "A. Writer"'))
    corpus = Corpus.load(sourced)
    assert not corpus.errors
    assert any("unknown field 'autor' (did you mean 'author'?)" in str(w) for w in corpus.warnings)


def test_check_refuses_and_changes_nothing(sourced, run):
    path = sourced / "c2.md"
    path.write_text(path.read_text().replace("from: editor", "from: nobody"))
    before = snapshot(sourced)
    result = run(sourced, "score")
    assert result.exit_code == 1 and "c2.md:6: edge to 'm1' is from unknown source 'nobody'" in result.output
    assert "Traceback" not in result.output
    assert snapshot(sourced) == before


def test_lint_warns_on_edge_without_source_and_evidence_without_kind(sourced, run):
    graph = Corpus.load(sourced).require_valid().graph
    assert not [w for w in lint(graph, {n: 0.5 for n in graph})
                if w["check"] in ("edge-without-source", "evidence-without-kind")]
    for node, old, new in (("c2", "    from: editor\n", ""), ("e1", "evidence_kind: observation\n", "")):
        path = sourced / f"{node}.md"
        path.write_text(path.read_text().replace(old, new))
    result = run(sourced, "lint", "--json")
    found = {(w["check"], tuple(w["nodes"])) for w in json.loads(result.output)}
    assert ("edge-without-source", ("c2", "m1")) in found
    assert ("evidence-without-kind", ("e1",)) in found


def test_set_and_import_write_the_fields(sourced, run, tmp_path):
    assert run(sourced, "set", "e1", "evidence_kind", "testimony").exit_code == 0
    assert "evidence_kind: testimony\ntitle:" in (sourced / "e1.md").read_text()
    bad = run(sourced, "set", "e1", "evidence_kind", "rumour")
    assert bad.exit_code == 1 and "unknown evidence_kind 'rumour'" in bad.output
    exported = run(sourced, "export", "--format", "node-link")
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.output)
    target = tmp_path / "other"
    target.mkdir()
    (target / "takeoff.toml").write_text(SOURCES)
    source = tmp_path / "g.json"
    source.write_text(json.dumps(data))
    result = run(target, "import", source)
    assert result.exit_code == 0, result.output
    graph = Corpus.load(target).require_valid().graph
    assert graph.edges["c1", "m1", "supports"]["quote"] == "the words of the essay"
    assert graph.nodes["e2"]["evidence_kind"] == "forecast"


def test_filter_keeps_edges_from_the_named_sources(sourced):
    graph = Corpus.load(sourced).require_valid().graph
    essay = filter_graph(graph, edges_from=["essay"])
    assert sorted(essay.edges()) == [("c1", "m1"), ("e2", "c1")]
    assert set(essay) == set(graph) and graph.number_of_edges() == 5
    observed = filter_graph(graph, evidence_kinds=["observation"])
    assert "e2" not in observed and "e1" in observed and "m2" in observed
    assert filter_graph(graph) is graph


# ---- every format carries the fields ---------------------------------------------------------

def provenance_of(graph):
    edges = {(s, t, k): (e.get("from"), e.get("quote")) for s, t, k, e in graph.edges(keys=True, data=True)}
    kinds = {n: a.get("evidence_kind") for n, a in graph.nodes(data=True)}
    return edges, kinds


def read_back(text, fmt):
    """The graph a format's text gives back: takeoff's importer, or for GraphML (export only)
    networkx's reader, with the empty strings GraphML needs for absent values dropped."""
    from graph.formats.interchange import parse_graph

    if fmt != "graphml":
        return parse_graph(text, fmt)
    import io

    import networkx as nx

    from graph.core.model import parse_date

    read = nx.read_graphml(io.BytesIO(text.encode()), force_multigraph=True)
    graph = nx.MultiDiGraph()
    for node, attrs in read.nodes(data=True):
        graph.add_node(node, **({"evidence_kind": attrs["evidence_kind"]} if attrs.get("evidence_kind") else {}))
    for s, t, attrs in read.edges(data=True):
        graph.add_edge(s, t, key=attrs["relation"], **{k: attrs[k] for k in ("from", "quote") if attrs.get(k)})
    if "sources" in read.graph:
        graph.graph["sources"] = {k: {**v, "date": parse_date(v["date"])} for k, v in
                                  json.loads(read.graph["sources"]).items()}
    return graph


@pytest.mark.parametrize("fmt", ["node-link", "turtle", "jsonld", "nt", "aif", "argdown", "graphml"])
def test_every_format_round_trips_provenance(sourced, fmt):
    from graph.formats.interchange import export_graph

    graph = Corpus.load(sourced).require_valid().graph
    back = read_back(export_graph(graph, fmt), fmt)
    assert provenance_of(back) == provenance_of(graph)


@pytest.mark.parametrize("fmt", ["turtle", "jsonld", "graphml", "node-link"])
def test_the_declared_sources_travel_with_the_graph(sourced, fmt):
    from graph.formats.interchange import export_graph

    graph = Corpus.load(sourced).require_valid().graph
    back = read_back(export_graph(graph, fmt), fmt)
    assert back.graph["sources"] == graph.graph["sources"]


def test_rdf_uses_prov_o_and_passes_shacl(sourced):
    from graph.formats.rdf import serialize, to_rdf, validate_shacl

    graph = Corpus.load(sourced).require_valid().graph
    text = serialize(graph, "turtle")
    assert "prov:wasAttributedTo" in text and "prov:wasQuotedFrom" in text
    assert "tg:evidenceKind tg:Observation" in text
    assert validate_shacl(to_rdf(graph)) == []


def test_shacl_and_the_reader_refuse_bad_provenance(sourced):
    from graph.formats.rdf import RDFError, from_rdf, parse_rdf, serialize, validate_shacl

    graph = Corpus.load(sourced).require_valid().graph
    text = serialize(graph, "turtle")
    bad = text.replace("tg:evidenceKind tg:Observation", "tg:evidenceKind tg:Rumour")
    assert bad != text
    messages = [v.message for v in validate_shacl(parse_rdf(bad))]
    assert any("tg:evidenceKind is one of" in m for m in messages)
    with pytest.raises(RDFError, match="tg:evidenceKind tg:Rumour must be one of"):
        from_rdf(parse_rdf(bad))
    twice = text.replace("prov:wasAttributedTo <https://w3id.org/takeoff-graph/node/sources/essay>",
                         "prov:wasAttributedTo <https://w3id.org/takeoff-graph/node/sources/essay>, "
                         "<https://w3id.org/takeoff-graph/node/sources/notes>", 1)
    assert twice != text
    assert any("at most one source" in v.message for v in validate_shacl(parse_rdf(twice)))


def test_link_sets_whose_argument_an_edge_is(sourced, run):
    result = run(sourced, "link", "c2", "m2", "--supports", "--from", "essay", "--quote", "its words")
    assert result.exit_code == 0, result.output
    assert "added c2 -> m2: supports weight 1 from essay quote \"its words\"" in result.stderr
    edge = Corpus.load(sourced).require_valid().graph.edges["c2", "m2", "supports"]
    assert (edge["from"], edge["quote"]) == ("essay", "its words")
    before = snapshot(sourced)
    bad = run(sourced, "link", "c2", "m2", "--supports", "--from", "esay")
    assert bad.exit_code == 1 and "from unknown source 'esay' (did you mean 'essay'?" in bad.output
    assert snapshot(sourced) == before
    changed = run(sourced, "link", "c2", "m2", "--supports", "--from", "notes")
    assert "-> supports weight 1 from notes quote \"its words\"" in changed.stderr


@pytest.mark.parametrize("fmt", ["node-link", "aif"])
def test_import_declares_the_sources_its_edges_name(sourced, run, tmp_path, fmt):
    exported = run(sourced, "export", "--format", fmt)
    assert exported.exit_code == 0, exported.output
    source = tmp_path / "g.json"
    source.write_text(exported.stdout)
    target = tmp_path / "other"
    assert run(target, "init", target).exit_code == 0
    result = run(target, "import", "--format", fmt, source)
    assert result.exit_code == 0, result.output
    corpus = Corpus.load(target).require_valid()
    declared = corpus.graph.graph["sources"]
    assert set(declared) == {"essay", "notes"}
    # node-link carries takeoff.toml's [sources]; AIF only names them, so the id stands in
    assert declared["notes"]["title"] == ("Research notes" if fmt == "node-link" else "notes")


def test_a_refused_import_leaves_takeoff_toml_as_it_was(sourced, run, tmp_path):
    source = tmp_path / "g.json"
    source.write_text(run(sourced, "export", "--format", "node-link").stdout)
    target = tmp_path / "other"
    assert run(target, "init", target).exit_code == 0
    write_node(target, "m1", "---\nkind: model\ntitle: Already here\n---\n")
    before = snapshot(target)
    result = run(target, "import", source)  # refused after the sources were declared
    assert result.exit_code == 1 and "ids already in the corpus: m1" in result.output
    assert snapshot(target) == before
