"""Kialo's text export both ways (a discussion round-trips; cross-links, several theses, the
thesis kind the user picks, bad outlines refused with the line) and ICCMA's TGF and APX
exports of the attack graph (what a weighted graph loses, counted)."""
import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.formats.common import FormatError
from graph.formats.kialo import export_kialo, parse_kialo
from graph.formats.tgf import export_apx, export_tgf
from graph.files.edit import init_corpus
from graph.files.corpus import Corpus
from helpers import REPO, argument_graph, snapshot

DISCUSSION = """Discussion Title: Will AI takeoff be fast?

1. AI takeoff will be fast.
1.1. Pro: AI research is mostly coding \\(see [METR](https://metr.org/a_b)\\).
1.1.1. Con: Experiments need compute.
1.1.2. Pro: Agents finish hour-long tasks.
1.2. Con: -> See 1.1.1.
1.3. Con: Returns diminish
as the easy ideas run out.
1.3.1. Pro: -> See 1.1.2.
"""


def test_a_kialo_discussion_imports_as_claims_pros_and_cons():
    G = parse_kialo(DISCUSSION, thesis="model")
    assert G.graph["summary"] == "read 5 claim(s), 2 cross-link(s); thesis as model"
    kinds = nx.get_node_attributes(G, "kind")
    assert kinds.pop("ai-takeoff-will-be-fast") == "model" and set(kinds.values()) == {"claim"}
    coding = "ai-research-is-mostly-coding-see-metr-https-metr-org-a-b"
    assert G.nodes[coding]["title"] == "AI research is mostly coding (see [METR](https://metr.org/a_b))."
    assert G.nodes["returns-diminish-as-the-easy-ideas-run-out"]["title"] == \
        "Returns diminish\nas the easy ideas run out."
    assert sorted(G.edges(keys=True)) == sorted([
        (coding, "ai-takeoff-will-be-fast", "supports"),
        ("experiments-need-compute", coding, "undermines"),
        ("agents-finish-hour-long-tasks", coding, "supports"),
        ("experiments-need-compute", "ai-takeoff-will-be-fast", "undermines"),  # the cross-link
        ("returns-diminish-as-the-easy-ideas-run-out", "ai-takeoff-will-be-fast", "undermines"),
        ("agents-finish-hour-long-tasks", "returns-diminish-as-the-easy-ideas-run-out", "supports"),
    ])
    assert parse_kialo(DISCUSSION).nodes["ai-takeoff-will-be-fast"]["kind"] == "claim"


def test_a_kialo_discussion_round_trips():
    G = parse_kialo(DISCUSSION, thesis="model")
    text = export_kialo(G)
    assert text.losses == []  # nothing Kialo cannot hold
    H = parse_kialo(text, thesis="model")
    assert nx.utils.graphs_equal(G, H)
    assert export_kialo(H) == text  # stable
    assert "-> See 1.1.2." in text and text.startswith("Discussion Title: AI takeoff will be fast.\n\n1. ")


def test_several_theses_and_the_losses_of_a_corpus():
    G = argument_graph()
    G.add_node("slow", kind="model", title="Takeoff is slow", credence=0.5, date=None, tags=[],
               sources=[], body="")
    text = export_kialo(G, title="Scaling")
    assert text.startswith("Discussion Title: Scaling\n\n1. Scaling\n1.1. Thesis: ")
    assert text.losses == ["3 kind", "4 credence", "1 date", "1 tags", "2 weight", "2 note"]
    H = parse_kialo(text)
    assert H.graph["warnings"] == ["the question (1.) above the theses has no counterpart: each "
                                   "thesis is a node of its own"]
    titles = {G.nodes[n]["title"]: n for n in G}
    back = {(titles[H.nodes[s]["title"]], titles[H.nodes[t]["title"]], k) for s, t, k in H.edges(keys=True)}
    assert back == set(G.edges(keys=True))


def test_the_bundled_corpus_writes_every_node_and_edge_once():
    G = Corpus.load(REPO / "claims").require_valid().graph
    H = parse_kialo(export_kialo(G))
    assert (H.number_of_nodes(), H.number_of_edges()) == (G.number_of_nodes(), G.number_of_edges())


@pytest.mark.parametrize("text, message", [
    ("1. A\n1.2.1. Pro: B\n", r"line 2: 1.2.1. has no parent 1.2"),
    ("1. A\n1.1. B\n", r"line 2: 1.1. needs Pro: or Con:"),
    ("1. A\n1.1. Pro: B\n1.1.1. Thesis: C\n", r"line 3: 1.1.1. needs Pro: or Con:"),
    ("1. A\n1.1. Pro: -> See 1.\n1.1.1. Con: C\n", r"line 3: 1.1.1. is below a cross-link"),
    ("1. -> See 1.1.\n1.1. Pro: B\n", r"line 1: the thesis cannot be a cross-link"),
    ("1. A\n1.1. Pro: -> See 1.9.\n", r"line 2: -> See 1.9. names no claim"),
    ("1. A\n1.1. Pro: B\n1.1. Con: C\n", r"line 3: 1.1. is numbered twice"),
    ("Some notes\n1. A\n", r"line 1: expected a numbered claim"),
    ("Discussion Title: Empty\n\n", r"line 1: no claims"),
    ("1. A\n1.1. Pro: B\n1.2. Con: -> See 1.1.\n", r"line 3: 'b' both supports and undermines 'a'"),
])
def test_bad_kialo_is_refused_with_the_line(text, message):
    with pytest.raises(FormatError, match=message):
        parse_kialo(text)


def test_a_number_too_long_to_be_a_claim_number_is_refused():
    with pytest.raises(FormatError, match=r"line 1: expected a numbered claim"):
        parse_kialo("1." + "9" * 5000 + ". A\n")


KIALO_TOKENS = ["1. ", "1.1. ", "1.2. ", "1.1.1. ", "2. ", "Pro: ", "Con: ", "Thesis: ", "-> See ",
                "1.1.", "1.", "x", "Same", "\\(", "\n", "\n\n", "Discussion Title: ", " "]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(KIALO_TOKENS), max_size=25), st.sampled_from(["claim", "model"]))
def test_any_kialo_text_is_read_and_round_trips_or_is_refused(tokens, thesis):
    try:
        G = parse_kialo("".join(tokens), thesis=thesis)
    except FormatError:
        return
    H = parse_kialo(export_kialo(G), thesis=thesis)
    titles = nx.get_node_attributes(G, "title")
    assert sorted(titles.values()) == sorted(nx.get_node_attributes(H, "title").values())
    assert H.number_of_edges() == G.number_of_edges()


def test_cli_imports_a_kialo_txt_by_its_content_with_the_thesis_kind(run, tmp_path):
    path = tmp_path / "will-ai-takeoff-be-fast.txt"
    path.write_text(DISCUSSION, encoding="utf-8")
    corpus = tmp_path / "claims"
    init_corpus(corpus)
    result = run(corpus, "import", path, "--thesis", "model")
    assert result.exit_code == 0, result.output
    assert "(read 5 claim(s), 2 cross-link(s); thesis as model)" in result.stderr
    assert Corpus.load(corpus).require_valid().graph.nodes["ai-takeoff-will-be-fast"]["kind"] == "model"
    out = tmp_path / "back.kialo"
    result = run(corpus, "export", "-o", out)
    assert result.exit_code == 0 and "warning" not in result.stderr, result.output
    assert parse_kialo(out.read_text(encoding="utf-8"), thesis="model").number_of_edges() == 6


def test_cli_bad_kialo_writes_nothing(run, small_corpus, tmp_path):
    path = tmp_path / "d.kialo"
    path.write_text("1. A\n1.3.1. Pro: B\n", encoding="utf-8")
    before = snapshot(small_corpus)
    result = run(small_corpus, "import", path)
    assert result.exit_code == 1 and "line 2: 1.3.1. has no parent 1.3" in result.stderr
    assert snapshot(small_corpus) == before


# ---- ICCMA TGF and APX ----------------------------------------------------------------------

def test_tgf_and_apx_are_the_attack_graph_and_count_what_they_lose():
    G = argument_graph()
    tgf = export_tgf(G)
    assert tgf == "c\ncon\ndoubt\ninference\np1\np2\n#\ncon c\ndoubt inference\n"
    apx = export_apx(G)
    assert apx.splitlines()[:2] == ["arg(c).", "arg(con)."]
    assert "att(doubt,inference)." in apx and "att(con,c)." in apx and "supports" not in apx
    assert tgf.losses == apx.losses == ["3 supports edge(s)", "1 attack weight(s) other than 1",
                                        "4 credence(s) other than 0.5"]
    G.add_node("a-b", kind="claim", title="x", credence=0.5)
    assert "arg(a_b)." in export_apx(G)


def test_tgf_is_read_by_networkx_as_the_same_attacks(tmp_path):
    G = Corpus.load(REPO / "claims").require_valid().graph
    nodes, _, attacks = export_tgf(G).partition("#\n")
    assert nodes.split() == sorted(G)
    assert sorted(tuple(line.split()) for line in attacks.splitlines()) == sorted(
        (s, t) for s, t, k in G.edges(keys=True) if k == "undermines")


def test_cli_export_says_what_the_attack_graph_leaves_out(run, small_corpus, tmp_path):
    result = run(small_corpus, "export", "-o", tmp_path / "af.tgf")
    assert result.exit_code == 0, result.output
    assert "warning: tgf has no place for 2 supports edge(s)" in result.stderr
    assert (tmp_path / "af.tgf").read_text(encoding="utf-8").count("\n") == 6  # 4 nodes, #, 1 attack
