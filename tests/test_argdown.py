"""Arguments as people write them: the argument kind (scoring, add/link, check, tree/why, HTML,
RDF/SHACL), Argdown debates with premise-conclusion structures and undercuts (import, counts,
round trip, the official Argdown parser as judge) and the defects found with real files."""
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.formats.aif import parse_aif
from graph.formats.argdown_read import parse_argdown
from graph.formats.argdown_write import export_argdown
from graph.formats.common import FormatError, slugify
from graph.formats.drawings import export_dot, export_mermaid
from graph.formats.kialo import export_kialo
from graph.formats.nodelink import import_node_link
from graph.files.edit import init_corpus
from graph.files.corpus import Corpus
from graph.solving.propagation import score_graph
from helpers import REPO, argument_graph, assert_same_graph, snapshot

DATA = Path(__file__).parent / "data"
DEBATE = DATA / "debate-software-explosion.argdown"
ARGDOWN_CLI = REPO / ".argdown-cli" / "node_modules" / ".bin" / "argdown"


def debate():
    return parse_argdown(DEBATE.read_text(encoding="utf-8"))


# ---- importing a debate ---------------------------------------------------------------------

def test_debate_imports_statements_arguments_and_relations():
    G = debate()
    # Counted as the official parser counts (13 statements, 4 arguments, 9 relations: the
    # relation of <Returns above one> to its own conclusion is none); the intermediate
    # conclusion (3) of <Returns above one> adds the step <Returns above one - 1>.
    assert G.graph["summary"] == (
        "read 13 statement(s), 4 argument(s) (3 with premise-conclusion structures, 1 "
        "intermediate inference(s) as arguments of their own), 9 relation(s)")
    kinds = nx.get_node_attributes(G, "kind")
    assert sorted(n for n, k in kinds.items() if k == "argument") == [
        "automation-of-coding", "compute-bottleneck", "returns-above-one", "returns-above-one-1",
        "substitution"]
    assert sum(k == "claim" for k in kinds.values()) == 13
    assert sorted(G.edges(keys=True)) == sorted([
        # <Returns above one>: (1), (2) -- Generalization -- (3); (3), (4) ---- (5)
        ("returns-estimate", "returns-above-one-1", "supports"),
        ("returns-persist", "returns-above-one-1", "supports"),
        ("returns-above-one-1", "compounding", "supports"),
        ("compounding", "returns-above-one", "supports"),
        ("automation", "returns-above-one", "supports"),
        ("returns-above-one", "explosion", "supports"),
        # <Automation of coding> and <Compute bottleneck>
        ("task-length", "automation-of-coding", "supports"),
        ("coding-share", "automation-of-coding", "supports"),
        ("automation-of-coding", "automation", "supports"),
        ("experiments-need-compute", "compute-bottleneck", "supports"),
        ("fixed-compute", "compute-bottleneck", "supports"),
        ("compute-bottleneck", "stagnation", "supports"),
        # Relations of reconstructed arguments are their conclusions' (as in Argdown):
        # `+ <Automation of coding>` under [Explosion] is [Automation] supporting it,
        # `- <Compute bottleneck>` is [Stagnation] undermining it (and >< says so again).
        ("automation", "explosion", "supports"),
        ("stagnation", "explosion", "undermines"),
        ("explosion", "stagnation", "undermines"),
        ("metr", "task-length", "supports"),  # nested below a premise, after a comment
        # Undercuts and attacks on arguments undermine the argument node, not its conclusion.
        ("substitution", "compute-bottleneck", "undermines"),
        ("benchmarks-overstate", "automation-of-coding", "undermines"),
        ("diminishing-returns", "returns-above-one", "undermines"),
        ("task-length", "benchmarks-overstate", "undermines"),  # `- [Task length]`: incoming
        ("returns-estimate", "diminishing-returns", "undermines"),  # nested two deep
    ])
    assert G.edges["returns-above-one-1", "compounding", "supports"]["note"] == "Generalization"
    assert G.edges["automation-of-coding", "automation", "supports"]["note"] == \
        "Inference to the best explanation"
    # Data on a statement, data on an inference (the argument's), hashtags, headings as tags.
    assert G.nodes["returns-estimate"]["credence"] == 0.6
    assert G.nodes["automation-of-coding"]["credence"] == 0.7
    assert G.nodes["explosion"]["tags"] == ["thesis", "The thesis"]
    assert G.nodes["metr"]["tags"] == ["evidence", "Arguments for"]
    assert G.nodes["returns-above-one"]["title"].startswith("Each doubling of cumulative")
    assert G.nodes["returns-above-one-1"]["title"] == "Returns above one - 1"


def test_debate_round_trip_is_lossless_and_stable():
    G = debate()
    text = export_argdown(G)
    H = parse_argdown(text)
    assert_same_graph(G, H)
    assert export_argdown(H) == text
    # The step is written back inside <Returns above one>, not as an argument of its own;
    # the statement titles of the file are the nodes' labels, and the export writes them back.
    assert "<returns-above-one-1>" not in text and "<Returns above one>: " in text
    assert '(3) [Compounding]\n(4) [Automation]\n----\n(5) [Explosion]' in text
    assert G.nodes["compounding"]["label"] == "Compounding"


def test_export_writes_premise_conclusion_structures_and_undercuts():
    text = export_argdown(argument_graph())
    assert "<inference>: Scaling inference #pcs\n" in text
    assert "(1) [p1]\n(2) [p2]\n-- Modus ponens --\n(3) [c]\n" in text
    assert "[doubt]: Past trends may not extrapolate\n" in text
    assert "    _> <inference>" in text  # an undercut: the argument has a structure
    assert "    -> [c]" in text  # the sketched con argument undermines its conclusion
    assert "+> <inference>" not in text  # premises are written once, in the structure


def test_uses_names_the_premises_of_an_inference_when_not_the_default():
    text = ("<A>: a\n\n(1) [p]: P\n(2) [q]: Q\n-- {uses: [1]} --\n(3) [r]: R\n----\n(4) [s]: S\n")
    G = parse_argdown(text)
    assert sorted(G.in_edges("a-1")) == [("p", "a-1")]
    assert sorted(G.in_edges("a")) == [("r", "a")]  # since the previous conclusion
    assert ("q", "a") not in G.edges  # (2) is used by no inference: a statement, unlinked
    assert_same_graph(G, parse_argdown(export_argdown(G)))


def test_untitled_pcs_and_a_pcs_right_below_its_argument():
    G = parse_argdown("(1) Premise one.\n----\n(2) Conclusion one.\n\n"
                              "<B>: described\n(1) [x]: X\n----\n(2) [y]: Y\n\n"
                              "(1) [y]\n----\n(2) [z]: Z\n")
    assert G.nodes["untitled-1"]["kind"] == G.nodes["untitled-2"]["kind"] == "argument"
    assert sorted(G.edges()) == [("b", "y"), ("premise-one", "untitled-1"),
                                 ("untitled-1", "conclusion-one"), ("untitled-2", "z"),
                                 ("x", "b"), ("y", "untitled-2")]


# Fragments Argdown documents are made of: whatever they add up to is refused with a
# FormatError or imports, and what imports survives export and import unchanged.
FRAGMENTS = ["[A]", "[B]: b", "<X>", "<Y>: y", "(1) ", "(2) [A]", "----", "-- r --",
             "-- {uses: [1]} --", "+ ", "- ", "_ ", "<+ ", "<- ", "<_ ", "+> ", "-> ", "_> ", ">< ",
             "\n", "\n\n", "    ", "  ", "#t", "# H", "{credence: 0.3}", "{", "}", "//c", "/*", "*/",
             "<!--", "-->", "===", "text", ":", "@include(x)", "* ", "1. "]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30))
def test_any_argdown_is_refused_or_round_trips(parts):
    try:
        G = parse_argdown("".join(parts))
    except FormatError:
        return
    assert_same_graph(G, parse_argdown(export_argdown(G)))


# ---- the defects found with real files ------------------------------------------------------

@pytest.mark.parametrize("comment", ["<!-- why -->", "// why", "/* why */"])
def test_a_comment_line_between_a_statement_and_its_relation(comment):
    G = parse_argdown(f"[A]: Claim A\n    {comment}\n    - [B]: Claim B\n")
    assert sorted(G) == ["a", "b"]
    assert list(G.edges(keys=True)) == [("b", "a", "undermines")]


def test_export_escapes_include():
    G = nx.MultiDiGraph()
    G.add_node("x", kind="claim", title="See @include(secrets.argdown) here", credence=0.5,
               date=None, tags=[], sources=[], body="@include(b.argdown)\n")
    text = export_argdown(G)
    assert re.search(r"(?<!\\)@include", text) is None
    assert_same_graph(G, parse_argdown(text))


def test_messages_say_an_argdown_and_an_aif():
    with pytest.raises(FormatError, match="^not an Argdown file"):
        parse_argdown("[a]: A\n    + [a]\n")
    with pytest.raises(FormatError, match="^not an AIF JSON file"):
        parse_aif('{"nodes": [{"nodeID": "1", "text": " ", "type": "I"}], "edges": []}')


def test_unknown_data_keys_are_reported():
    G = parse_argdown("[a]: A {color: red, isInMap: false, credence: 0.2}\n")
    assert G.nodes["a"]["credence"] == 0.2
    assert G.graph["warnings"] == ["line 1: YAML data color, isInMap ignored (no meaning in a "
                                   "takeoff-graph corpus)"]


# ---- scoring --------------------------------------------------------------------------------

def _h(x):
    return x * x / (1 + x * x)


def _premises_and_argument(w, s1, s2):
    G = nx.MultiDiGraph()
    for node, credence, kind in (("p1", s1, "claim"), ("p2", s2, "claim"), ("arg", w, "argument"),
                                 ("c", 0.5, "claim")):
        G.add_node(node, kind=kind, title=node, credence=credence)
    for premise in ("p1", "p2"):
        G.add_edge(premise, "arg", key="supports", relation="supports", weight=1.0, note="")
    G.add_edge("arg", "c", key="supports", relation="supports", weight=1.0, note="")
    return G


@pytest.mark.parametrize("semantics, expected", [
    # The argument's credence w is its base score; its premises aggregate like any supporters.
    ("qe", lambda w, a, b: w + (1 - w) * _h(a + b)),
    ("dfquad", lambda w, a, b: w + (1 - w) * (1 - (1 - a) * (1 - b))),
    ("eb", lambda w, a, b: 1 - (1 - w * w) / (1 + w * math.exp(a + b))),
])
def test_an_arguments_strength_follows_from_its_premises(semantics, expected):
    for w, s1, s2 in ((0.5, 0.8, 0.6), (0.7, 0.0, 0.0), (0.2, 1.0, 0.3)):
        result = score_graph(_premises_and_argument(w, s1, s2), semantics)
        assert result.strengths["arg"] == pytest.approx(expected(w, s1, s2), abs=1e-9)
        # and the conclusion is supported by the argument's strength, like by any node
        c = score_graph(nx.MultiDiGraph(_premises_and_argument(w, s1, s2)), semantics).strengths["c"]
        alone = nx.MultiDiGraph()
        alone.add_node("arg", kind="argument", title="a", credence=result.strengths["arg"])
        alone.add_node("c", kind="claim", title="c", credence=0.5)
        alone.add_edge("arg", "c", key="supports", relation="supports", weight=1.0, note="")
        assert c == pytest.approx(score_graph(alone, semantics).strengths["c"], abs=1e-9)


@pytest.mark.parametrize("semantics", ["qe", "dfquad", "eb"])
def test_an_undercut_weakens_the_argument_and_so_its_conclusion(semantics):
    G = argument_graph()
    before = score_graph(G, semantics).strengths
    G.nodes["doubt"]["credence"] = 0.9
    after = score_graph(G, semantics).strengths
    assert after["inference"] < before["inference"] and after["c"] < before["c"]
    assert after["p1"] == before["p1"]  # the premises are untouched


# ---- the argument kind in the corpus and the CLI --------------------------------------------

@pytest.fixture
def debate_corpus(run, tmp_path):
    corpus = tmp_path / "claims"
    init_corpus(corpus)
    result = run(corpus, "import", DEBATE, "--format", "argdown")
    assert result.exit_code == 0, result.output
    assert ("imported 18 nodes and 21 edges (argdown) into" in result.stderr
            and "(read 13 statement(s), 4 argument(s)" in result.stderr)
    return corpus


def test_debate_corpus_checks_scores_and_explains(run, debate_corpus):
    result = run(debate_corpus, "check")
    assert result.exit_code == 0, result.output
    scores = json.loads(run(debate_corpus, "score", "--all", "--json").stdout)
    text = json.dumps(scores)
    assert "returns-above-one" in text and "explosion" in text
    tree = json.loads(run(debate_corpus, "tree", "explosion", "--json").stdout)["tree"]
    children = {c["id"]: c for c in tree["children"]}
    assert children["returns-above-one"]["kind"] == "argument"
    assert {g["id"] for g in children["returns-above-one"]["children"]} == {
        "compounding", "automation", "diminishing-returns"}
    why = run(debate_corpus, "why", "explosion", "--json")
    assert why.exit_code == 0 and "substitution" in why.stdout


def test_debate_corpus_draws_arguments_with_their_own_shape(run, debate_corpus, tmp_path):
    out = tmp_path / "map.html"
    result = run(debate_corpus, "html", "-o", out)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert '"argument": {"shape": "hexagon"' in page or '"shape": "hexagon"' in page
    assert "Argument (inference)" in page


def test_add_and_link_an_argument(run, small_corpus):
    ids = sorted(Corpus.load(small_corpus).graph)
    result = run(small_corpus, "add", "argument", "my-argument", "--title", "From trend to takeoff",
                 "--credence", "0.6", "--supports", ids[0])
    assert result.exit_code == 0, result.output
    result = run(small_corpus, "link", ids[1], "my-argument", "--supports", "--note", "premise")
    assert result.exit_code == 0, result.output
    G = Corpus.load(small_corpus).require_valid().graph
    assert G.nodes["my-argument"]["kind"] == "argument"
    assert G.has_edge(ids[1], "my-argument", key="supports")
    assert G.has_edge("my-argument", ids[0], key="supports")


def test_an_argument_without_a_conclusion_is_a_warning(run, small_corpus):
    result = run(small_corpus, "add", "argument", "loose-end", "--title", "Goes nowhere")
    assert result.exit_code == 0, result.output
    result = run(small_corpus, "check")
    assert "argument 'loose-end' has no conclusion" in result.output


def test_mermaid_and_dot_draw_arguments_as_hexagons():
    assert '  n_inference{{"Scaling inference"}}:::argument' in export_mermaid(argument_graph())
    assert '"inference" [label="Scaling inference", shape=hexagon' in export_dot(argument_graph())


# ---- RDF and SHACL --------------------------------------------------------------------------

def test_pyshacl_command_line_needs_only_the_shapes(tmp_path, run, debate_corpus):
    pyshacl = shutil.which("pyshacl")
    if pyshacl is None:
        pytest.skip("the pyshacl command is not installed (pip install pyshacl)")
    export = tmp_path / "export.ttl"
    assert run(debate_corpus, "export", "--format", "turtle", "-o", export).exit_code == 0
    result = subprocess.run([pyshacl, "-s", str(REPO / "graph" / "formats" / "shapes.ttl"), str(export)],
                            capture_output=True, text=True, timeout=300)
    assert "Conforms: True" in result.stdout, result.stdout[-2000:]
    assert "tg:Argument" in export.read_text(encoding="utf-8")


# ---- the official Argdown parser as judge ---------------------------------------------------

def official_counts(path, tmp_path):
    """(statements, arguments, relations) as the official Argdown CLI counts them."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not ARGDOWN_CLI.exists():
        pytest.skip("the official Argdown CLI is not installed: "
                    "npm install --prefix .argdown-cli @argdown/cli@1.7.5")
    out = tmp_path / "json"
    result = subprocess.run([str(ARGDOWN_CLI), "json", str(path), str(out)],
                            capture_output=True, text=True, timeout=120)
    files = list(out.glob("*.json"))
    assert result.returncode == 0 and files, result.stdout + result.stderr
    assert "error" not in (result.stdout + result.stderr).lower(), result.stdout + result.stderr
    data = json.loads(files[0].read_text(encoding="utf-8"))
    return len(data["statements"]), len(data["arguments"]), len(data["relations"])


def test_official_parser_counts_the_debate_as_we_do(tmp_path):
    assert official_counts(DEBATE, tmp_path) == (13, 4, 9)


def test_official_parser_reads_our_export_of_the_debate(tmp_path):
    path = tmp_path / "export.argdown"
    path.write_text(export_argdown(debate()), encoding="utf-8")
    # Same statements and arguments. One relation fewer: `- <Compute bottleneck>` (its
    # conclusion [Stagnation] attacks [Explosion]) and `>< [Stagnation]` are the same two
    # undermines edges here, written back as one contradiction.
    assert official_counts(path, tmp_path) == (13, 4, 8)


def test_official_parser_reads_our_export_of_the_bundled_corpus(tmp_path):
    graph = Corpus.load(REPO / "claims").require_valid().graph
    path = tmp_path / "export.argdown"
    path.write_text(export_argdown(graph), encoding="utf-8")
    statements, arguments, relations = official_counts(path, tmp_path)
    kinds = nx.get_node_attributes(graph, "kind")
    assert statements == sum(k != "argument" for k in kinds.values())
    assert arguments == sum(k == "argument" for k in kinds.values())
    mutual = sum(1 for s, t, k in graph.edges(keys=True)
                 if k == "undermines" and graph.has_edge(t, s, key="undermines"))
    assert relations == graph.number_of_edges() - mutual // 2


def test_cli_import_of_a_bad_argdown_writes_nothing(run, small_corpus, tmp_path):
    path = tmp_path / "plus.argdown"
    path.write_text("===\nparser:\n  syntax: argdown+\n===\n\n[a]: A\n", encoding="utf-8")
    before = snapshot(small_corpus)
    result = run(small_corpus, "import", path, "--format", "argdown")
    assert result.exit_code == 1 and "line 3: Argdown+ syntax is not supported" in result.stderr
    assert snapshot(small_corpus) == before


# ---- Argdown as the official parser reads it (issue 25) -------------------------------------

def official_batch(files, tmp_path):
    """``{name: (statements, arguments, relations, data)}`` for every ``{name: text}``, read by
    one run of the official Argdown CLI (each file must parse without an error)."""
    if shutil.which("node") is None or not ARGDOWN_CLI.exists():
        official_counts(DEBATE, tmp_path)  # skips with the reason
    folder = tmp_path / "batch"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / f"{name}.argdown").write_text(text, encoding="utf-8")
    result = subprocess.run([str(ARGDOWN_CLI), "json", str(folder / "*.argdown"), str(folder / "out")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "error" not in (result.stdout + result.stderr).lower(), \
        result.stdout + result.stderr
    found = {}
    for name in files:
        data = json.loads((folder / "out" / f"{name}.json").read_text(encoding="utf-8"))
        found[name] = (len(data["statements"]), len(data["arguments"]), len(data["relations"]), data)
    return found


def our_counts(G):
    """(statements, arguments, relations) from the import summary, counted as the official
    parser counts them."""
    numbers = [int(n) for n in re.findall(r"(\d+) (?:statement|argument|relation)\(s\)",
                                          G.graph["summary"])]
    return tuple(numbers)


# Each case: the Argdown text and the relations the official parser finds in our export of it
# (fewer where a corpus holds less: a self-attack is left out, a contrary or an attack and a
# contradiction between the same statements are one mutual pair, written as one ><).
OFFICIAL_CASES = {
    "multi_line_inference": ("""# The primer

<Argument with multi-line inference>: Some text.

(1) [Premise A]: First premise,
    which runs over two lines.
(2) Second premise.
--
Modus ponens, Generalization
{uses: [1, 2]}
--
(3) [Conclusion]: The conclusion.
    + [Support]: Something else.
(4) Another premise.
-- Modus tollens --
(5) Final conclusion.
""", 1),
    "indented_pcs": ("""[Thesis]: The thesis
over two lines.
    + <Indented>
    - [Contra]: A contra
      over two lines.

<Indented>: An argument.

    (1) First premise
    (2) [Second]: Second premise
    ----
    (3) [Thesis]
""", 1),
    "strict_sources_self_attack": ("""===
title: Strict
model:
    mode: strict
===

[A]: A statement.
    - [B]: Another statement.
    + [C]: A third one. {sources: ["Cleanthes", "https://example.org/x"]}
    >< [D]: A fourth.

<Self>: Attacks itself.
    - <Self>
    + [A]
""", 4),
    "escapes": ("[Tiny p]: p \\< 0.0001 in a \\[site\\](https://example.org/a_b), C\\#, 50\\/50.\n"
                "    - [Slash]: a \\/\\/ b \\/\\* c \\*d\\* \\_e\\_ \\{f\\} \\@include\\(x) \\\\ end\n", 1),
    # the relation of <R> is its conclusion's, the same as the one written below (2): one
    "relation_twice": ("[Fast]: Fast takeoff.\n  + <R>\n\n<R>\n\n(1) [P]: A premise.\n----\n"
                       "(2) [C]: The conclusion.\n  +> [Fast]\n", 1),
    "markdown_in_text": ("[A]: Text with *bold*, #hashtag and a [link](https://x.org/a_b)\n"
                         "    + [B]: with @[A] mentioned\n", 1),
}


def test_official_parser_and_we_count_the_same_and_read_our_export(tmp_path):
    originals = official_batch({name: text for name, (text, _) in OFFICIAL_CASES.items()}, tmp_path / "a")
    graphs = {name: parse_argdown(text) for name, (text, _) in OFFICIAL_CASES.items()}
    exports = official_batch({name: export_argdown(G) for name, G in graphs.items()},
                             tmp_path / "b")
    for name, (_, relations) in OFFICIAL_CASES.items():
        assert our_counts(graphs[name]) == originals[name][:3], name
        statements, arguments, _ = our_counts(graphs[name])
        assert exports[name][:3] == (statements, arguments, relations), name
    # The text every Argdown tool shows is the user's text: escapes read as the character.
    texts = {t: next(m["text"].strip() for m in s["members"] if m.get("text"))
             for t, s in exports["escapes"][3]["statements"].items()}
    assert texts["Tiny p"] == graphs["escapes"].nodes["tiny-p"]["title"] == \
        "p < 0.0001 in a [site](https://example.org/a_b), C#, 50/50."
    assert texts["Slash"] == "a // b /* c *d* _e_ {f} @include(x) \\ end"
    # Statement titles are kept as labels and written back as the titles Argdown shows.
    assert set(exports["strict_sources_self_attack"][3]["statements"]) == {"A", "B", "C", "D"}


def test_multi_line_inference_with_rules_and_uses():
    G = parse_argdown(OFFICIAL_CASES["multi_line_inference"][0])
    step = "argument-with-multi-line-inference-1"
    assert sorted(G.in_edges(step)) == [("premise-a", step), ("second-premise", step)]
    assert G.edges[step, "conclusion", "supports"]["note"] == "Modus ponens, Generalization"
    assert G.nodes["premise-a"]["title"] == "First premise, which runs over two lines."
    assert G.edges["argument-with-multi-line-inference", "final-conclusion", "supports"]["note"] \
        == "Modus tollens"
    assert ("support", "conclusion", "supports") in G.edges(keys=True)  # below a PCS statement


def test_indented_structure_and_statements_over_lines():
    G = parse_argdown(OFFICIAL_CASES["indented_pcs"][0])
    assert G.nodes["thesis"]["title"] == "The thesis over two lines."
    assert G.nodes["contra"]["title"] == "A contra over two lines."
    assert sorted(G.edges(keys=True)) == [
        ("contra", "thesis", "undermines"), ("first-premise", "indented", "supports"),
        ("indented", "thesis", "supports"), ("second", "indented", "supports")]


def test_strict_mode_sources_as_strings_and_self_attacks():
    G = parse_argdown(OFFICIAL_CASES["strict_sources_self_attack"][0])
    # strict: `-` between statements is a contrary, symmetric; `+` entails
    assert {("a", "b"), ("b", "a"), ("a", "d"), ("d", "a")} <= set(G.edges())
    assert ("c", "a", "supports") in G.edges(keys=True)
    assert G.nodes["c"]["sources"] == [{"url": None, "title": "Cleanthes", "date": None},
                                      {"url": "https://example.org/x", "date": None}]
    assert "in strict mode" in G.graph["summary"]
    assert G.graph["warnings"] == ["left out 1 self-attack(s) (line 13): a node of a "
                                   "takeoff-graph corpus cannot undermine itself"]
    loose = parse_argdown(OFFICIAL_CASES["strict_sources_self_attack"][0]
                                  .replace("mode: strict", "mode: loose"))
    assert ("b", "a") in loose.edges() and ("a", "b") not in loose.edges()


@pytest.mark.parametrize("text, message", [
    ("+\n", r"line 1: relation '\+' names no statement or argument"),
    ("[a]: A\n\n    +\n", r"line 3: relation '\+' names no statement or argument"),
    ("+ [b]: B\n", r"line 1: relation '\+' has no statement or argument above it"),
    ("<a>\n\n(1) p\n--\nrule\n(2) q\n", r"line 4: the inference is never closed"),
])
def test_orphan_and_empty_relations_are_refused_with_the_line(text, message):
    with pytest.raises(FormatError, match=message):
        parse_argdown(text)


TRICKY_TITLES = ["p < 0.0001", "50/50", "C#", "See [the paper](https://example.org/a_(b)_c)",
                 "a // not a comment", "/* not one */ either", "<!-- nor -->", "*bold* and _it_",
                 "{not: data}", "@mention and @include(x)", "ends with a backslash \\",
                 "+ starts like a relation", "(1) starts like a premise", "1. like a list",
                 "#(not a tag)", "[x]: not a statement", "<x>: nor an argument", "-- nor a rule --",
                 "Ünïcödé – “quotes” ‘and’ …", "tab\tand  spaces"]


@pytest.mark.parametrize("title", TRICKY_TITLES)
def test_export_escapes_what_argdown_would_read_as_syntax(title):
    G = nx.MultiDiGraph()
    G.add_node("x", kind="claim", title=title, credence=0.5, date=None, tags=[], sources=[], body="")
    text = export_argdown(G)
    assert_same_graph(G, parse_argdown(text))
    # The title is shown, escaped, on the statement's line (not only kept in the data).
    shown = text.split("[x]: ", 1)[1].split("\n", 1)[0]
    assert re.sub(r"\\(.)", r"\1", shown) == " ".join(title.split())


def test_argdown_blocks_are_read_out_of_markdown(run, tmp_path):
    page = ("# Notes\n\nSome prose with [A] in it.\n\n```argdown\n[A]: Takeoff is fast.\n"
            "    - [B]: Compute is fixed.\n```\n\n```python\n[C]: not argdown\n```\n\n"
            "~~~argdown\n[B]\n    + [D]: Chips are scarce.\n~~~\n")
    G = parse_argdown(page)
    assert sorted(G) == ["a", "b", "d"]
    assert sorted(G.edges(keys=True)) == [("b", "a", "undermines"), ("d", "b", "supports")]
    assert G.graph["summary"].endswith("from ```argdown blocks")
    path = tmp_path / "notes.md"
    path.write_text(page, encoding="utf-8")
    corpus = tmp_path / "claims"
    init_corpus(corpus)
    result = run(corpus, "import", path)
    assert result.exit_code == 0, result.output
    assert sorted(Corpus.load(corpus).graph) == ["a", "b", "d"]


# ---- the Argdown traceback found by fuzzing (issue 27) --------------------------------------

@pytest.mark.parametrize("data", ["{credence: !!int 1.5}", "{credence: !!float x}", "{tags: !!bool x}",
                                  "{date: !!timestamp x}", "{credence: !!int ''}", "{credence: !!int 0b2}"])
def test_a_yaml_tag_with_a_value_it_cannot_take_is_bad_yaml_data(data):
    with pytest.raises(FormatError, match=r"line 1: bad YAML data: .* is not a valid !!"):
        parse_argdown(f"[a]: A {data}\n")


YAML_TOKENS = ["!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!str ", "!!binary ", "!!null ",
               "1.5", "0b2", "0x", "1:x", "x", "[", "]", "{", "}", ",", ": ", "'", '"', "&a ", "*a",
               "credence", "date", "tags", "sources", "uses", "\n", " "]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(YAML_TOKENS), max_size=12),
       st.sampled_from(["[a]: A {%s}\n", "<a>: A\n\n(1) p\n-- {%s} --\n(2) q\n", "===\n%s\n===\n[a]\n"]))
def test_any_yaml_data_in_argdown_is_read_or_refused(tokens, template):
    """The fuzzing that found `int('1.5')`: YAML data, inference data and front matter made of
    tags and values in any order are read, or refused with a FormatError, never a traceback."""
    try:
        parse_argdown(template % "".join(tokens))
    except FormatError as exc:
        assert "line " in str(exc)


def test_many_statements_with_one_text_get_the_ids_a_plain_set_gives():
    """Issue 28's file: 100,000 relations to untitled statements with one text. The ids are
    made in linear time (graph.formats.common.Taken; bench/bench_formats.py measures) and are
    the ones the rule gives."""
    G = parse_argdown("[root]: The root.\n" + "    + A claim made again\n" * 2000)
    taken = set()
    expected = [slugify("A claim made again", taken) for _ in range(2000)]
    assert sorted(G) == sorted(expected + ["root"])
    assert G.in_degree("root") == 2000


# ---- statement titles as the node field `label` ---------------------------------------------

def labelled_graph():
    G = argument_graph()
    G.nodes["p1"]["label"] = "ITER Fails"
    G.nodes["inference"]["label"] = "Scaling [inference] #1"
    G.nodes["c"]["label"] = "c"  # the same as its id
    G.nodes["doubt"]["label"] = "Shared"
    G.nodes["con"]["label"] = "Shared"  # two nodes, one label: both kept
    return G


@pytest.mark.parametrize("fmt", ["node-link", "aif", "xaif", "argdown", "turtle", "jsonld", "nt"])
def test_labels_survive_every_format_that_can_hold_them(fmt):
    from graph.formats.interchange import export_graph, parse_graph

    G = labelled_graph()
    assert_same_graph(G, parse_graph(export_graph(G, fmt), fmt))


def test_argdown_names_statements_by_their_labels():
    text = export_argdown(labelled_graph())
    assert '[ITER Fails]: Task length doubles every 7 months\n  {"id": "p1", ' in text
    assert "<Scaling \\[inference\\] \\#1>: " in text and "(1) [ITER Fails]" in text
    # Two nodes with one label would be one statement in Argdown: both are named by id.
    assert "Shared]" not in text and "[doubt]: " in text and "<con>: " in text
    assert text.count('"label": "Shared"') == 2


def test_a_bad_label_is_refused_in_a_node_file_and_an_import(run, small_corpus, tmp_path):
    (small_corpus / "x.md").write_text("---\nkind: claim\ntitle: X\nlabel: \"two\\nlines\"\n---\n",
                                       encoding="utf-8")
    result = run(small_corpus, "check")
    assert result.exit_code == 1 and "x.md:4: label 'two\\nlines' must be one line of text" in result.output
    (small_corpus / "x.md").write_text("---\nkind: claim\ntitle: X\nlabel: ITER Fails\n---\n",
                                       encoding="utf-8")
    assert run(small_corpus, "check").exit_code == 0
    with pytest.raises(FormatError, match=r"nodes\[0\]: label 7 must be one line"):
        import_node_link('{"nodes": [{"id": "a", "title": "A", "label": 7}], "edges": []}')


def test_kialo_counts_the_labels_it_cannot_hold():
    assert "5 label" in export_kialo(labelled_graph()).losses
