"""Interchange with argument-mapping tools: AIF JSON and Argdown both ways (round trips, files
written from the formats' documentation, bad input), GraphML, Mermaid and DOT exports."""
import datetime as dt
import json
import re
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings

from graph.files.edit import init_corpus
from graph.formats.aif import export_aif, export_xaif, parse_aif, to_aif
from graph.formats.argdown_read import parse_argdown
from graph.formats.argdown_write import export_argdown
from graph.formats.common import FormatError
from graph.formats.drawings import export_dot, export_graphml, export_mermaid
from graph.files.corpus import Corpus
from graph.core.model import ID_PATTERN
from helpers import REPO, argument_graph, assert_same_graph, corpora, edge, full_graph, node, snapshot

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def bundled():
    return Corpus.load(REPO / "claims").require_valid()


# ---- round trips ----------------------------------------------------------------------------

ROUND_TRIPS = {"aif": (export_aif, parse_aif),
               "argdown": (export_argdown, parse_argdown)}


@pytest.mark.parametrize("name", ROUND_TRIPS)
def test_round_trip_keeps_every_field(name):
    export, parse = ROUND_TRIPS[name]
    for G in (full_graph(), argument_graph()):
        H = parse(export(G))
        assert_same_graph(G, H)
        assert H.graph["warnings"] == []


@pytest.mark.parametrize("name", ROUND_TRIPS)
def test_round_trip_of_the_bundled_corpus(bundled, name):
    export, parse = ROUND_TRIPS[name]
    assert_same_graph(bundled.graph, parse(export(bundled.graph)))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora())
def test_round_trip_of_generated_corpora(G):
    for export, parse in ROUND_TRIPS.values():
        assert_same_graph(G, parse(export(G)))


@pytest.mark.parametrize("name", ROUND_TRIPS)
def test_cli_round_trip_through_files(run, small_corpus, tmp_path, name):
    out = tmp_path / f"map.{name}"
    assert run(small_corpus, "export", "--format", name, "-o", out).exit_code == 0
    target = tmp_path / "copy"
    init_corpus(target)
    result = run(target, "import", out, "--format", name)
    assert result.exit_code == 0, result.output
    assert_same_graph(Corpus.load(small_corpus).graph, Corpus.load(target).graph)


# ---- AIF ------------------------------------------------------------------------------------

def test_aif_export_is_aifdb_nodes_and_edges():
    data = to_aif(full_graph())
    by_id = {n["nodeID"]: n for n in data["nodes"]}
    assert data["locutions"] == []
    inodes = {n["takeoff"]["id"]: n for n in data["nodes"] if n["type"] == "I"}
    assert set(inodes) == set(full_graph())
    assert inodes["loops"]["text"] == "Loops closed"
    schemes = [n for n in data["nodes"] if n["type"] in ("RA", "CA")]
    # The scheme text is the edge's note when it is one line, else the default.
    assert sorted((n["type"], n["text"]) for n in schemes) == [
        ("CA", 'a "note"'), ("RA", "Default Inference"), ("RA", "Default Inference")]
    links = {(e["fromID"], e["toID"]) for e in data["edges"]}
    for scheme in schemes:
        into = [by_id[f]["takeoff"]["id"] for f, t in links if t == scheme["nodeID"]]
        out = [by_id[t]["takeoff"]["id"] for f, t in links if f == scheme["nodeID"]]
        assert len(into) == 1 and len(out) == 1
        relation = "supports" if scheme["type"] == "RA" else "undermines"
        assert full_graph().has_edge(into[0], out[0], key=relation)
    assert all(isinstance(n["nodeID"], str) and n["nodeID"].isdigit() for n in data["nodes"])


def test_aif_import_of_an_aifdb_nodeset():
    """RA 906 links two premises and CA 908 undercuts it: it becomes an argument node."""
    G = parse_aif((DATA / "aifdb-nodeset.json").read_text(encoding="utf-8"))
    goal = "ai-systems-will-soon-automate-most-ai-research"
    argument = "default-inference-ai-systems-will-soon-automate-most-ai"
    assert sorted(G) == sorted([
        goal, argument, "benchmarks-overstate-real-world-usefulness",
        "coding-agents-already-complete-hour-long-software-tasks",
        "research-needs-experiments-and-experiments-need-compute",
        "task-length-doubles-about-every-seven-months"])
    assert G.nodes[argument]["kind"] == "argument"
    assert G.nodes[argument]["title"] == f"Default Inference: {G.nodes[goal]['title']}"
    assert sorted(G.edges(keys=True)) == sorted([
        ("coding-agents-already-complete-hour-long-software-tasks", argument, "supports"),
        ("task-length-doubles-about-every-seven-months", argument, "supports"),
        (argument, goal, "supports"),
        ("benchmarks-overstate-real-world-usefulness", argument, "undermines"),  # the undercut
        ("research-needs-experiments-and-experiments-need-compute", goal, "undermines")])
    assert all(d["weight"] == 1.0 and d["note"] == "" for _, _, d in G.edges(data=True))
    assert all(G.nodes[n]["credence"] == 0.5 for n in G)
    assert G.graph["warnings"] == ["skipped 2 L, 1 TA, 1 YA node(s): dialogue, rephrase and "
                                   "preference nodes have no counterpart in a takeoff-graph corpus"]


def test_aif_two_ra_nodes_between_the_same_nodes_become_two_arguments():
    nodes = [{"nodeID": "1", "text": "Premise", "type": "I"},
             {"nodeID": "2", "text": "Conclusion", "type": "I"},
             {"nodeID": "3", "text": "Argument from Expert Opinion", "type": "RA"},
             {"nodeID": "4", "text": "Argument from Analogy", "type": "RA"}]
    edges = [{"fromID": "1", "toID": "3"}, {"fromID": "3", "toID": "2"},
             {"fromID": "1", "toID": "4"}, {"fromID": "4", "toID": "2"}]
    G = parse_aif(json.dumps({"nodes": nodes, "edges": edges}))
    assert sorted(G.edges(keys=True)) == [
        ("argument-from-analogy-conclusion", "conclusion", "supports"),
        ("premise", "argument-from-analogy-conclusion", "supports"),
        ("premise", "conclusion", "supports")]
    assert G.graph["warnings"] == ["1 RA-node(s) link the same premise and conclusion as "
                                   "another: each became an argument, so none is merged"]


def test_aif_maps_arguments_to_ra_nodes_and_undercuts_to_ca_nodes():
    data = to_aif(argument_graph())
    node = {n["takeoff"]["id"]: n for n in data["nodes"] if "id" in n.get("takeoff", {})}
    # An argument's RA-node names its scheme (the note of its edge to its conclusion); the
    # title rides in the takeoff object.
    assert node["inference"]["type"] == "RA" and node["inference"]["text"] == "Modus ponens"
    assert node["inference"]["takeoff"]["title"] == "Scaling inference"
    assert {node[k]["type"] for k in ("p1", "p2", "c", "doubt")} == {"I"}
    direct = {(e["fromID"], e["toID"]) for e in data["edges"] if "takeoff" in e}
    assert direct == {(node["p1"]["nodeID"], node["inference"]["nodeID"]),
                      (node["p2"]["nodeID"], node["inference"]["nodeID"]),
                      (node["inference"]["nodeID"], node["c"]["nodeID"])}
    links = {(e["fromID"], e["toID"]) for e in data["edges"]}
    undercut = [n for n in data["nodes"] if n["type"] == "CA"
                and (node["doubt"]["nodeID"], n["nodeID"]) in links]
    assert len(undercut) == 1 and (undercut[0]["nodeID"], node["inference"]["nodeID"]) in links


def test_aif_import_reads_xaif_and_numeric_ids():
    xaif = {"AIF": {"nodes": [{"nodeID": 1, "text": "Premise", "type": "I"},
                              {"nodeID": 2, "text": "Conclusion", "type": "I"},
                              {"nodeID": 3, "text": "Default Inference", "type": "RA"}],
                    "edges": [{"edgeID": 0, "fromID": 1, "toID": 3},
                              {"edgeID": 1, "fromID": 3, "toID": 2}],
                    "locutions": [], "participants": []}, "text": "", "OVA": {}}
    G = parse_aif(json.dumps(xaif))
    assert list(G.edges(keys=True)) == [("premise", "conclusion", "supports")]


def test_cli_import_of_the_aifdb_file_writes_nodes_and_warns(run, tmp_path):
    corpus = tmp_path / "claims"
    init_corpus(corpus)
    result = run(corpus, "import", DATA / "aifdb-nodeset.json", "--format", "aif")
    assert result.exit_code == 0, result.output
    assert "skipped 2 L, 1 TA, 1 YA node(s)" in result.stderr
    assert Corpus.load(corpus).require_valid().graph.number_of_edges() == 5


@pytest.mark.parametrize("text, message", [
    ('{"nodes": [\n  {"nodeID": "1",, }\n]}', r"line 2: not valid JSON"),
    ('{"edges": []}', r'expected an object with "nodes" and "edges"'),
    ('{"nodes": [{"text": "x", "type": "I"}], "edges": []}', r"nodes\[0\]: a node needs a nodeID"),
    ('{"nodes": [{"nodeID": "1", "text": "x", "type": "I"}], "edges": [{"fromID": "1", "toID": "9"}]}',
     r"edges\[0\]: no node with nodeID 9"),
    ('{"nodes": [{"nodeID": "1", "text": "x", "type": "I"}, {"nodeID": "1", "text": "y", "type": "I"}],'
     ' "edges": []}', r"nodes\[1\]: nodeID 1 is used twice, by different nodes"),
    ('{"nodes": [{"nodeID": "1", "text": " ", "type": "I"}], "edges": []}', r"I-node 1 has no text"),
    ('{"nodes": [{"nodeID": "1", "text": "x", "type": "I", "takeoff": {"credence": 7}}], "edges": []}',
     r"credence 7 must be a number in \[0, 1\]"),
])
def test_bad_aif_is_refused_with_where(text, message):
    with pytest.raises(FormatError, match=message):
        parse_aif(text)


def test_cli_bad_aif_exits_1_and_writes_nothing(run, small_corpus, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"nodes": [}', encoding="utf-8")
    before = snapshot(small_corpus)
    result = run(small_corpus, "import", path, "--format", "aif")
    assert result.exit_code == 1 and "line 1: not valid JSON" in result.stderr
    assert "Traceback" not in result.output and snapshot(small_corpus) == before


# ---- Argdown --------------------------------------------------------------------------------

def test_argdown_import_of_a_document_written_from_the_syntax_guide():
    G = parse_argdown((DATA / "takeoff-debate.argdown").read_text(encoding="utf-8"))
    assert sorted(G) == ["coding-automated", "compute-bottleneck", "diminishing-returns",
                         "fixed-hardware", "returns-above-one", "software-explosion",
                         "unbounded-software"]
    assert G.nodes["software-explosion"]["title"] == (
        "Once AI systems can do AI research, software progress will accelerate without more hardware.")
    # Hashtags, then the heading the statement is defined under.
    assert G.nodes["software-explosion"]["tags"] == ["takeoff", "central claim", "The central claim"]
    assert {n for n in G if G.nodes[n]["kind"] == "argument"} == {
        "returns-above-one", "compute-bottleneck", "diminishing-returns"}
    assert G.nodes["returns-above-one"]["title"].startswith("Each doubling of research input more")
    coding = G.nodes["coding-automated"]
    assert (coding["credence"], coding["date"]) == (0.7, dt.date(2025, 5, 1))
    hardware = G.nodes["fixed-hardware"]
    assert hardware["title"] == "With hardware held fixed, progress converges."
    assert hardware["credence"] == 0.4
    assert hardware["sources"] == [{"url": "https://example.org/fixed-hardware",
                                    "title": "A model of fixed-hardware progress", "date": None}]
    assert sorted(G.edges(keys=True)) == sorted([
        ("returns-above-one", "software-explosion", "supports"),    # +  (nested)
        ("compute-bottleneck", "returns-above-one", "undermines"),  # -  (nested deeper)
        ("fixed-hardware", "software-explosion", "undermines"),     # -  reference
        ("coding-automated", "software-explosion", "supports"),     # <+
        ("diminishing-returns", "software-explosion", "undermines"),  # <-
        ("coding-automated", "returns-above-one", "supports"),      # +>
        ("fixed-hardware", "unbounded-software", "undermines"),     # >< both ways
        ("unbounded-software", "fixed-hardware", "undermines"),
        ("diminishing-returns", "unbounded-software", "undermines"),  # ->
    ])
    assert all(d["weight"] == 1.0 for _, _, d in G.edges(data=True))


def test_argdown_export_is_statements_with_data_and_outgoing_relations():
    text = export_argdown(full_graph())
    assert "// model nodes\n\n[fast-takeoff]: " in text
    assert "[alpha-evolve]: AlphaEvolve recovers 0.7% of Google's compute\n" in text
    assert "    +> [loops]" in text and "    -> [fast-takeoff]" in text
    data = json.loads(re.search(r"\[loops\]: Loops closed\n  (\{.*\})", text).group(1))
    assert data["kind"] == "claim" and data["date"] == "1999-12-31"


def test_argdown_titles_and_ids_of_foreign_maps():
    text = "[Über Claim]: text one\n\n[Über Claim]: another formulation\n\n<Über Claim>: an argument\n    +> [Über Claim]\n\nJust a sentence.\n    - [Über Claim]\n"
    G = parse_argdown(text)
    assert sorted(G) == ["just-a-sentence", "uber-claim", "uber-claim-2"]
    assert G.nodes["uber-claim"]["title"] == "text one"
    assert G.nodes["uber-claim"]["body"] == "another formulation\n"
    assert set(G.edges(keys=True)) == {("uber-claim-2", "uber-claim", "supports"),
                                       ("uber-claim", "just-a-sentence", "undermines")}
    assert all(ID_PATTERN.match(n) for n in G)


@pytest.mark.parametrize("text, message", [
    ("<a>\n\n(1) s1\n(2) s2\n(3) s3\n", r"line 3: the premise-conclusion structure of <a> needs"),
    ("<a>\n\n(1) s1\n----\n(2) s2\n----\n", r"line 3: the premise-conclusion structure of <a> needs"),
    ("<a>\n(1) s1\n----\n(2) s2\n\n<a>\n(1) s3\n----\n(2) s4\n", r"line 7: argument <a> has a second"),
    ("<a>\n(1) s1\n-- {uses: [2]} --\n(2) s2\n", r"line 3: 'uses' must list"),
    ("[a]: A\n    _ [b]\n", r"line 2: an undercut \(_\) attacks an inference"),
    ("[a]: A\n\n    + [b]\n", r"line 3: relation '\+' has no statement or argument above it"),
    ("===\nparser:\n  syntax: argdown+\n===\n\n[a]: A\n", r"line 3: Argdown\+ syntax is not supported"),
    ("[a]: A\n\n@include(other.argdown)\n", r"line 3: @include is not supported"),
    ("[a]: A {kind: argument}\n", r"line 1: kind 'argument' does not fit a statement"),
    ("[a]: A\n    + [b]: B\n        - [a]\n    + [b]\n    - [b]\n", r"line 5: 'b' both supports and undermines 'a'"),
    ("[a]: A {credence: [1,}\n", r"line 1: bad YAML data"),
    ("[a]: A {credence: 2}\n", r"line 1: credence 2 must be a number"),
    ("[a]: A {kind: model\n", r"line 1: the YAML data '\{' is never closed"),
    ("===\ntitle: x\n\n[a]: A\n", r"line 1: the front matter \(===\) is never closed"),
    ("[a]: A\n    + [a]\n", r"line 2: 'a' cannot support itself"),
])
def test_bad_argdown_is_refused_with_its_line(text, message):
    with pytest.raises(FormatError, match=message):
        parse_argdown(text)


def test_cli_bad_argdown_exits_1_and_writes_nothing(run, small_corpus, tmp_path):
    path = tmp_path / "bad.argdown"
    path.write_text("[ok]: fine\n\n<a>\n\n(1) premise\n(2) conclusion\n", encoding="utf-8")
    before = snapshot(small_corpus)
    result = run(small_corpus, "import", path, "--format", "argdown")
    assert result.exit_code == 1 and "line 5: the premise-conclusion structure" in result.stderr
    assert snapshot(small_corpus) == before


def test_argdown_evidence_without_a_date_is_refused_by_the_corpus(run, small_corpus, tmp_path):
    path = tmp_path / "e.argdown"
    path.write_text("[new-evidence]: Seen once {kind: evidence}\n", encoding="utf-8")
    before = snapshot(small_corpus)
    result = run(small_corpus, "import", path, "--format", "argdown")
    assert result.exit_code == 1 and "evidence needs a date" in result.stderr
    assert snapshot(small_corpus) == before


# ---- GraphML, Mermaid, DOT ------------------------------------------------------------------

def test_graphml_reads_back_with_plain_attribute_types(tmp_path):
    path = tmp_path / "g.graphml"
    path.write_text(export_graphml(full_graph()), encoding="utf-8")
    H = nx.read_graphml(path, force_multigraph=True)
    G = full_graph()
    assert set(H) == set(G)
    e = H.nodes["alpha-evolve"]
    assert (e["kind"], e["credence"], e["date"]) == ("evidence", 0.9, "2025-05-14")
    assert e["label"] == e["title"] == G.nodes["alpha-evolve"]["title"]
    assert json.loads(e["sources"])[0]["quote"] == 'we "recovered"\nsecond line'
    assert json.loads(H.nodes["fast-takeoff"]["tags"]) == ["rsi", "speed", "rsi"]
    assert H.nodes["fast-takeoff"]["body"] == G.nodes["fast-takeoff"]["body"]
    assert sorted((s, t, d["relation"], d["weight"], d["note"]) for s, t, d in H.edges(data=True)) == \
        sorted((s, t, d["relation"], d["weight"], d["note"]) for s, t, d in G.edges(data=True))


def test_graphml_edge_ids_are_unique_xml_ids():
    from xml.etree import ElementTree

    root = ElementTree.fromstring(export_graphml(argument_graph()))
    ids = [e.get("id") for e in root.iter("{http://graphml.graphdrawing.org/xmlns}edge")]
    assert len(ids) == argument_graph().number_of_edges() == len(set(ids))
    assert "p1.supports.inference" in ids
    assert all(re.fullmatch(r"[\w.:-]+", i) for i in ids)  # NMTOKENs, as graphml.xsd says


def test_cli_graphml_with_strengths(run, small_corpus, tmp_path):
    result = run(small_corpus, "export", "--format", "graphml", "--with-strengths")
    assert result.exit_code == 0, result.output
    path = tmp_path / "g.graphml"
    path.write_text(result.stdout, encoding="utf-8")
    H = nx.read_graphml(path)
    strengths = Corpus.load(small_corpus).score("qe").strengths
    assert {n: H.nodes[n]["strength"] for n in H} == pytest.approx(strengths)


def tricky_graph():
    G = nx.MultiDiGraph()
    node(G, "end", "model", 'Say "end" #1 <b>&</b> `code`\nsecond line')
    node(G, "x-ray", "evidence", "Back\\slash", date=dt.date(2024, 1, 1))
    edge(G, "x-ray", "end", "undermines", 0.25, 'note with "quotes"\nand lines')
    return G


def test_mermaid_escapes_labels_and_uses_safe_ids():
    text = export_mermaid(tricky_graph())
    lines = text.splitlines()
    assert lines[0] == "flowchart BT"
    assert '  n_end["Say #34;end#34; #35;1 #60;b#62;#38;#60;/b#62; #96;code#96; second line"]:::model' in lines
    assert '  n_x_ray -.->|"−0.25"| n_end' in lines
    assert "  linkStyle 0 stroke:#b91c1c" in lines
    # Every label is one quoted string with no raw quote inside.
    for line in lines:
        for label in re.findall(r'\["(.*?)"\]', line):
            assert '"' not in label and "\n" not in label


def test_dot_is_quoted_and_escaped():
    text = export_dot(tricky_graph())
    assert text.startswith("digraph takeoff {\n") and text.endswith("}\n")
    assert r'"end" [label="Say \"end\" #1 <b>&</b> `code` second line"' in text
    assert r'"x-ray" [label="Back\\slash"' in text
    assert r'"x-ray" -> "end" [label="−0.25", color="#b91c1c", style=dashed, tooltip="note with \"quotes\"\nand lines"];' in text
    # Outside escapes, every statement line has balanced quotes.
    for line in text.splitlines()[1:-1]:
        assert line.replace('\\\\', "").replace('\\"', "").count('"') % 2 == 0, line


def test_cli_exports_every_format(run, small_corpus):
    for fmt in ("aif", "argdown", "graphml", "mermaid", "dot"):
        result = run(small_corpus, "export", "--format", fmt)
        assert result.exit_code == 0 and result.stdout.strip(), fmt
    result = run(small_corpus, "import", "-", "--format", "mermaid", input="flowchart BT\n")
    assert result.exit_code == 2 and "mermaid" in result.stderr


# ---- AIF and xAIF as other tools write and read them (issue 25) -----------------------------

def _aif(nodes, edges, **more):
    return json.dumps({"nodes": [{"nodeID": n, "text": t, "type": k} for n, t, k in nodes],
                       "edges": [{"edgeID": str(i), "fromID": f, "toID": t}
                                 for i, (f, t) in enumerate(edges)], **more})


def test_aif_scheme_names_are_kept_and_written_back():
    text = _aif([("1", "Experts say takeoff is fast", "I"), ("2", "Takeoff is fast", "I"),
                 ("3", "Argument From Expert Opinion", "RA"), ("4", "Chips are scarce", "I"),
                 ("5", "Compute is fixed", "I"), ("6", "Practical Reasoning", "RA"),
                 ("7", "Default Conflict", "CA")],
                [("1", "3"), ("3", "2"), ("4", "6"), ("5", "6"), ("6", "2"), ("4", "7"), ("7", "1")])
    G = parse_aif(text)
    assert G.edges["experts-say-takeoff-is-fast", "takeoff-is-fast", "supports"]["note"] == \
        "Argument From Expert Opinion"  # on the edge
    argument = "practical-reasoning-takeoff-is-fast"  # two premises: an argument
    assert G.edges[argument, "takeoff-is-fast", "supports"]["note"] == "Practical Reasoning"
    assert G.edges["chips-are-scarce", "experts-say-takeoff-is-fast", "undermines"]["note"] == ""
    schemes = sorted((n["type"], n["text"]) for n in to_aif(G)["nodes"] if n["type"] != "I")
    assert schemes == [("CA", "Default Conflict"), ("RA", "Argument From Expert Opinion"),
                       ("RA", "Practical Reasoning")]
    assert_same_graph(G, parse_aif(export_aif(G)))


def test_aif_corpus_merge_with_exact_duplicates_imports_with_counts():
    nodes = [("1", "Premise", "I"), ("2", "Conclusion", "I"), ("3", "Default Inference", "RA")]
    edges = [("1", "3"), ("3", "2")]
    G = parse_aif(_aif(nodes + nodes[:2], edges + edges))
    assert list(G.edges(keys=True)) == [("premise", "conclusion", "supports")]
    assert G.graph["warnings"] == [
        "merged 2 node(s) repeated exactly (same nodeID, same content), as AIFdb corpus merges make them",
        "merged 2 edge(s) repeating another's fromID and toID"]


def test_aif_dangling_conflict_is_skipped_with_a_warning():
    text = _aif([("1", "Premise", "I"), ("2", "Conclusion", "I"), ("3", "Default Inference", "RA"),
                 ("4", "Default Conflict", "CA"), ("5", "Default Conflict", "CA")],
                [("1", "3"), ("3", "2"), ("4", "2"), ("2", "5")])
    G = parse_aif(text)
    assert list(G.edges(keys=True)) == [("premise", "conclusion", "supports")]
    assert G.graph["warnings"] == ["skipped 2 scheme node(s) without a premise or a conclusion "
                                   "(CA 4, CA 5): they relate nothing"]


def test_aif_with_an_aif_metadata_object_is_still_aif():
    text = _aif([("1", "A claim", "I")], [], AIF={"version": "1.0", "analyst": "someone"})
    assert list(parse_aif(text)) == ["a-claim"]


def test_xaif_input_keeps_node_text_and_counts_what_has_no_place():
    xaif = {"AIF": {"nodes": [{"nodeID": 1, "text": "Premise   broken\nover lines", "type": "I"},
                              {"nodeID": 2, "text": "Conclusion", "type": "I"},
                              {"nodeID": 3, "text": "Default Inference", "type": "RA"},
                              {"nodeID": 4, "text": "Alice: premise", "type": "L"}],
                    "edges": [{"edgeID": 0, "fromID": 1, "toID": 3}, {"edgeID": 1, "fromID": 3, "toID": 2}],
                    "locutions": [{"nodeID": 4, "personID": 1}],
                    "participants": [{"participantID": 1, "firstname": "Alice", "surname": "A"}]},
            "text": {"txt": "<span>Alice: premise, so conclusion</span>"}, "dialog": True}
    G = parse_aif(json.dumps(xaif))
    assert G.nodes["premise-broken-over-lines"]["title"] == "Premise broken over lines"
    assert G.graph["warnings"][0] == (
        "left out what xAIF holds beside the graph: the source text (42 characters), 1 "
        "participants, 1 locutions (a takeoff-graph corpus has no place for the dialogue; the "
        "I-nodes keep their text)")


def test_xaif_export_is_what_arg_techs_xaif_package_loads():
    xaif = pytest.importorskip("xaif", reason="the xaif judge is not installed (pip install xaif pandas)")
    G = argument_graph()
    data = json.loads(export_xaif(G))
    aif = xaif.AIF(data)
    assert aif.is_valid_json_aif() and not aif.is_json_aif_dialog()
    rows = aif.get_csv("argument-relation")
    found = {(a, b, r) for a, b, r in zip(rows["proposition1_text"], rows["proposition2_text"],
                                          rows["relation"]) if r != "None"}
    title = nx.get_node_attributes(G, "title")
    # premises to the conclusion through the argument's RA-node, named by its scheme
    assert found == {(title["p1"], title["c"], "Modus ponens"), (title["p2"], title["c"], "Modus ponens")}
    assert_same_graph(G, parse_aif(json.dumps(data)))


def test_xaif_export_of_the_bundled_corpus_loads_in_xaif(bundled):
    xaif = pytest.importorskip("xaif", reason="the xaif judge is not installed (pip install xaif pandas)")
    G = bundled.graph
    rows = xaif.AIF(json.loads(export_xaif(G))).get_csv("argument-relation")
    pairs = {(a, b) for a, b, r in zip(rows["proposition1_text"], rows["proposition2_text"],
                                       rows["relation"]) if r != "None"}
    title = nx.get_node_attributes(G, "title")
    statements = [n for n, k in G.nodes(data="kind") if k != "argument"]
    expected = {(title[s], title[t]) for s, t in G.edges() if s in statements and t in statements}
    assert pairs == expected


@pytest.mark.parametrize("name, body", [
    ("map.json", _aif([("1", "Premise", "I"), ("2", "Conclusion", "I"), ("3", "Default Inference", "RA")],
                      [("1", "3"), ("3", "2")])),
    ("map.json", json.dumps({"AIF": json.loads(_aif([("1", "Premise", "I"), ("2", "Conclusion", "I"),
                                                     ("3", "Default Inference", "RA")],
                                                    [("1", "3"), ("3", "2")])), "text": ""})),
    ("-", _aif([("1", "Premise", "I"), ("2", "Conclusion", "I"), ("3", "Default Inference", "RA")],
               [("1", "3"), ("3", "2")])),
])
def test_cli_recognises_aif_from_its_content(run, tmp_path, name, body):
    corpus = tmp_path / "claims"
    init_corpus(corpus)
    if name == "-":
        result = run(corpus, "import", "-", input=body)
    else:
        (tmp_path / name).write_text(body, encoding="utf-8")
        result = run(corpus, "import", tmp_path / name)
    assert result.exit_code == 0, result.output
    assert list(Corpus.load(corpus).graph.edges()) == [("premise", "conclusion")]
