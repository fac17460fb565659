"""Every strength split into its parts (graph/solving/shares.py), `takeoff evidence`, and the filter
(--edges-from, --evidence-kinds) in every command that scores."""
import datetime as dt
import json

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.files.corpus import Corpus
from graph.solving.propagation import score_graph
from graph.files.provenance import filter_graph
from graph.solving.shares import (
    EVIDENCE, EVIDENCE_GROUPS, GROUPS, evidence_effects, shapley_reference, share_history,
    strength_shares,
)

from helpers import REPO, Page, make_sourced

SEMANTICS = ("qe", "dfquad", "eb")
KIND_CHOICES = [("model", None), ("claim", None), ("argument", None), ("evidence", None),
                ("evidence", "observation"), ("evidence", "forecast"), ("evidence", "testimony")]
TIGHT = 1e-12
BUNDLED = REPO / "claims"


@st.composite
def corpus_graphs(draw, acyclic, max_nodes=7):
    """Random corpus graphs: every kind of node and evidence, either relation, weights in
    [0.05, 1]; ``acyclic`` keeps edges from lower to higher index only."""
    n = draw(st.integers(1, max_nodes))
    G = nx.MultiDiGraph()
    for i in range(n):
        kind, evidence_kind = draw(st.sampled_from(KIND_CHOICES))
        G.add_node(i, kind=kind, credence=draw(st.floats(0, 1)),
                   **({"evidence_kind": evidence_kind} if evidence_kind else {}))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                    st.booleans(), st.floats(0.05, 1)), max_size=3 * n))
    for a, b, support, weight in pairs:
        if a == b or (acyclic and a > b) or G.has_edge(a, b):
            continue
        relation = "supports" if support else "undermines"
        G.add_edge(a, b, key=relation, relation=relation, weight=weight)
    return G


def part_sum(row):
    return row["base"] + sum(row[g] for g in GROUPS)


@settings(max_examples=40, deadline=None)
@given(G=st.booleans().flatmap(lambda acyclic: corpus_graphs(acyclic)),
       semantics=st.sampled_from(SEMANTICS))
def test_parts_add_up_to_the_strength(G, semantics):
    """base + reasoning + each kind of evidence = the strength `score` gives, within 1e-9,
    on random cyclic and acyclic graphs under every semantics."""
    result = score_graph(G, semantics, tolerance=TIGHT)
    if not result.converged:
        return
    shares = strength_shares(G, semantics, tolerance=TIGHT)
    for node in G:
        row = shares.row(node)
        assert abs(part_sum(row) - result.strengths[node]) < 1e-9
        assert row["base"] == G.nodes[node]["credence"]
        assert row[EVIDENCE] == pytest.approx(sum(row[g] for g in EVIDENCE_GROUPS), abs=1e-15)


@settings(max_examples=25, deadline=None)
@given(G=st.booleans().flatmap(lambda acyclic: corpus_graphs(acyclic, max_nodes=5)),
       semantics=st.sampled_from(SEMANTICS))
def test_parts_match_brute_force_shapley(G, semantics):
    """The batched parts equal the Shapley formula over permutations of the groups, each
    coalition scored on a graph without the switched-off groups' outgoing edges."""
    if not score_graph(G, semantics, tolerance=TIGHT).converged:
        return
    shares = strength_shares(G, semantics, tolerance=TIGHT)
    for node in G:
        reference = shapley_reference(G, node, semantics)
        row = shares.row(node)
        for part in ("base", *GROUPS):
            assert abs(row[part] - reference[part]) < 1e-9, (node, part)


def test_a_group_without_edges_adds_nothing_and_the_bundled_parts_add_up():
    graph = Corpus.load(BUNDLED).require_valid().graph
    for semantics in SEMANTICS:
        shares = strength_shares(graph, semantics)
        strengths = score_graph(graph, semantics).strengths
        for node in graph:
            assert abs(part_sum(shares.row(node)) - strengths[node]) < 1e-9


def test_worked_example_by_hand():
    """One observation (credence 1, weight 1) supports a model of credence 0.5 under qe:
    aggregate 1, strength 0.5 + 0.5 * 1 / (1 + 1) = 0.75; the observation adds all of 0.25."""
    G = nx.MultiDiGraph()
    G.add_node("m", kind="model", credence=0.5)
    G.add_node("c", kind="claim", credence=0.0)
    G.add_node("e", kind="evidence", evidence_kind="observation", credence=1.0)
    G.add_edge("e", "m", key="supports", relation="supports", weight=1.0)
    G.add_edge("c", "m", key="undermines", relation="undermines", weight=1.0)
    row = strength_shares(G).row("m")
    assert row == {"base": 0.5, "reasoning": 0.0, "observation": 0.25, "forecast": 0.0,
                   "testimony": 0.0, "unkinded": 0.0, EVIDENCE: 0.25, "strength": 0.75}


def test_share_history_matches_shares_as_of_each_day(sourced):
    graph = Corpus.load(sourced).require_valid().graph
    days = [dt.date(2025, 6, 1), dt.date(2025, 8, 1)]
    history = share_history(graph, days, "qe", nodes=["m1", "m2"])
    from graph.solving.timeline import as_of_graph

    for j, day in enumerate(days):
        expected = strength_shares(as_of_graph(graph, day)).row("m1")
        for part in ("base", *GROUPS, EVIDENCE):
            assert history["m1"][part][j] == pytest.approx(expected[part], abs=1e-12)
    assert history["m2"]["forecast"] == pytest.approx([0.0, strength_shares(graph).row("m2")["forecast"]], abs=1e-12)


# ---- takeoff evidence -----------------------------------------------------------------------

def without_item(graph, item):
    G = graph.copy()
    G.remove_edges_from(list(G.out_edges(item, keys=True)))
    return G


@pytest.mark.parametrize("semantics", SEMANTICS)
def test_leave_one_out_is_the_strength_without_the_item(semantics):
    graph = Corpus.load(BUNDLED).require_valid().graph
    data = evidence_effects(graph, semantics)
    assert data["method"] == "leave-one-out"
    full = score_graph(graph, semantics).strengths
    top, second = data["top"]
    assert full[top] >= full[second] >= max(full[m["id"]] for m in data["models"][2:])
    models = [m["id"] for m in data["models"]]
    for item in data["items"][:5] + data["items"][-3:]:
        without = score_graph(without_item(graph, item["id"]), semantics).strengths
        for model in models:   # a model the item does not reach is not listed: it moves it by 0
            value = item["contributions"].get(model, 0.0)
            assert value == pytest.approx(full[model] - without[model], abs=1e-9)
        assert set(item["contributions"]) == {m for m in models if nx.has_path(graph, item["id"], m)}
        assert item["gap"] == pytest.approx(item["contributions"].get(top, 0.0)
                                            - item["contributions"].get(second, 0.0))


def test_since_is_exact_shapley_that_adds_up(sourced):
    graph = Corpus.load(sourced).require_valid().graph
    data = evidence_effects(graph, "qe", since=dt.date(2025, 1, 1))
    assert data["method"] == "shapley" and {i["id"] for i in data["items"]} == {"e1", "e2"}
    for model, together in data["together"]["contributions"].items():
        assert sum(i["contributions"].get(model, 0.0) for i in data["items"]) == pytest.approx(together, abs=1e-12)
    bare = score_graph(without_item(without_item(graph, "e1"), "e2")).strengths
    full = score_graph(graph).strengths
    assert data["together"]["contributions"]["m1"] == pytest.approx(full["m1"] - bare["m1"])
    later = evidence_effects(graph, "qe", since=dt.date(2025, 6, 1))
    assert [i["id"] for i in later["items"]] == ["e2"]


def test_evidence_command(sourced, run):
    result = run(sourced, "evidence", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["method"] == "shapley" and data["top"] == ["m1", "m2"] or data["top"] == ["m2", "m1"]
    table = run(sourced, "--plain", "evidence", "--since", "2025-06-01")
    assert table.exit_code == 0 and "e2\tforecast\t2025-07-01" in table.output
    assert "(together)" in table.output and "e1\t" not in table.output
    bundled = run(BUNDLED, "--plain", "evidence", "--top", "3")
    assert bundled.exit_code == 0 and "\t-\t" in bundled.stdout   # a model an item cannot reach
    bad = run(sourced, "evidence", "--since", "June")
    assert bad.exit_code == 2 and "'June' is not an ISO date" in bad.output


# ---- the filter in every command that scores ------------------------------------------------

def strength_of_m1(command, data):
    """m1's strength as each command's JSON gives it."""
    if command == "score":
        return data["nodes"]["m1"]["strength"]
    if command in ("why", "cruxes"):
        return data["strength"] if command == "why" else data["strengths"]["m1"]
    if command == "history":
        return data["strengths"]["m1"][-1]
    if command == "compare":
        return next(m["strength"]["base"] for m in data["models"] if m["id"] == "m1")
    if command in ("robustness", "evidence"):
        return next(m["point" if command == "robustness" else "strength"]
                    for m in data["models"] if m["id"] == "m1")
    raise AssertionError(command)


COMMANDS = {"score": ["score"], "why": ["why", "m1"], "cruxes": ["cruxes", "m1", "m2"],
            "history": ["history", "--to", "2025-12-31"], "compare": ["compare", "base", "base"],
            "robustness": ["robustness", "--samples", "10"], "evidence": ["evidence"]}
FILTERS = [(("--edges-from", "essay"), {"edges_from": ["essay"]}),
           (("--edges-from", "essay,notes"), {"edges_from": ["essay", "notes"]}),
           (("--evidence-kinds", "observation"), {"evidence_kinds": ["observation"]}),
           (("--edges-from", "editor,notes", "--evidence-kinds", "forecast"),
            {"edges_from": ["editor", "notes"], "evidence_kinds": ["forecast"]})]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("options, kwargs", FILTERS)
def test_every_scoring_command_takes_the_filter(sourced, run, command, options, kwargs):
    graph = Corpus.load(sourced).require_valid().graph
    expected = score_graph(filter_graph(graph, **kwargs)).strengths["m1"]
    result = run(sourced, *COMMANDS[command], *options, "--json")
    assert result.exit_code == 0, result.output
    assert strength_of_m1(command, json.loads(result.stdout)) == pytest.approx(expected, abs=1e-9)


def test_the_filter_changes_the_score(sourced, run):
    """On this corpus the essay's edges alone and observations only give other strengths."""
    graph = Corpus.load(sourced).require_valid().graph
    whole = score_graph(graph).strengths["m1"]
    assert score_graph(filter_graph(graph, edges_from=["essay"])).strengths["m1"] != whole
    assert score_graph(filter_graph(graph, evidence_kinds=["observation"])).strengths["m1"] != whole


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("options, message", [
    (("--edges-from", "esay"), "--edges-from: unknown source 'esay' (did you mean 'essay'?)"),
    (("--edges-from", ","), "--edges-from: name at least one source id"),
    (("--evidence-kinds", "observations"), "--evidence-kinds: unknown evidence kind 'observations' "
                                           "(did you mean 'observation'?)"),
])
def test_a_bad_filter_is_refused_by_every_command(sourced, run, command, options, message):
    result = run(sourced, *COMMANDS[command], *options)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_parts_in_score_why_history_and_robustness(sourced, run):
    graph = Corpus.load(sourced).require_valid().graph
    shares = strength_shares(filter_graph(graph, edges_from=["essay", "notes"]))
    data = json.loads(run(sourced, "score", "--by", "group", "--edges-from", "essay,notes",
                          "--json").stdout)
    m1 = next(r for r in data["ranking"] if r["id"] == "m1")
    assert m1["parts"] == pytest.approx(shares.row("m1"))
    assert data["filter"] == {"edges_from": ["essay", "notes"], "evidence_kinds": None}
    why = json.loads(run(sourced, "why", "m1", "--by", "group", "--json").stdout)
    assert why["parts"] == pytest.approx(strength_shares(graph).row("m1"))
    table = run(sourced, "--plain", "score", "--by", "group")
    assert table.output.splitlines()[0].split("\t") == [
        "#", "model", "base", "reasoning", "evidence", "observation", "forecast", "strength"]
    history = json.loads(run(sourced, "history", "--by", "group", "--from", "2025-06-01",
                             "--to", "2025-07-31", "--json").stdout)
    assert history["parts"]["m1"]["observation"][0] > 0 and abs(history["parts"]["m1"]["forecast"][0]) < 1e-12
    assert history["parts"]["m1"]["forecast"][-1] > 0
    robust = json.loads(run(sourced, "robustness", "--by", "group", "--samples", "20",
                            "--spread", "0.1", "--json").stdout)
    interval = robust["shares"]["m1"]["observation"]
    assert interval["low"] <= shares.row("m1")["observation"] + 0.05 and interval["low"] <= interval["high"]
    assert set(robust["shares"]["m1"]) == {"base", "reasoning", "observation", "forecast", "evidence"}


# ---- the page: a bar of parts per path, the filter, whose argument each edge is (Chromium) ----

@pytest.fixture(scope="module")
def sourced_pages(browser, tmp_path_factory):
    """The `sourced` corpus drawn by `takeoff html`, whole and with --edges-from essay,notes
    --evidence-kinds observation."""
    from click.testing import CliRunner

    from cli import cli

    folder = tmp_path_factory.mktemp("sourced")
    root = make_sourced(folder)
    pages = {}
    for name, options in (("whole", []), ("filtered", ["--edges-from", "essay,notes",
                                                        "--evidence-kinds", "observation"])):
        path = folder / f"{name}.html"
        result = CliRunner().invoke(cli, ["--corpus", str(root), "html", "-o", str(path), *options])
        assert result.exit_code == 0, result.output
        pages[name] = Page(browser, path)
    yield root, pages
    for page in pages.values():
        page.close()


def bars(page):
    """{model: {part: value}} as the ranking's bars draw them."""
    return page.js("""() => Object.fromEntries(Array.from(document.querySelectorAll('#ranking .rank')).map(b =>
        [b.dataset.id, Object.fromEntries(Array.from(b.querySelectorAll('.part')).map(s =>
            [s.dataset.part, Number(s.dataset.value)]))]))""")


def test_the_page_draws_the_parts_of_each_path(sourced_pages, browser):
    root, pages = sourced_pages
    page = pages["whole"]
    graph = Corpus.load(root).require_valid().graph
    shares = strength_shares(graph)
    drawn = bars(page)
    assert set(drawn) == {"m1", "m2"}
    for model, parts in drawn.items():
        row = shares.row(model)
        assert parts["base"] == pytest.approx(row["base"], abs=1e-9)
        for part, value in parts.items():
            assert value == pytest.approx(row[part], abs=1e-9)
        assert {p for p in ("reasoning", "observation", "forecast") if abs(row[p]) >= 0.0005} <= set(parts)
    text = page.js("() => document.querySelector('#ranking .rank[data-id=m1] .parts-text').textContent")
    assert text.startswith("base 0.50 · reasoning ") and "observations +" in text
    # A what-if re-splits the strength: the bars follow the in-page solver.
    page.js("() => takeoff.setChange({kind: 'credence', id: 'c2', value: 0.9})")
    changed = strength_shares(graph_with_credence(graph, "c2", 0.9)).row("m1")
    assert bars(page)["m1"]["reasoning"] == pytest.approx(changed["reasoning"], abs=1e-9)
    live = page.js("() => takeoff.strengthParts(['m1']).m1")
    for part in ("base", *GROUPS, EVIDENCE, "strength"):
        assert live[part] == pytest.approx(changed[part], abs=1e-9)
    page.js("() => takeoff.resetAll()")
    page.assert_clean()


def graph_with_credence(graph, node, value):
    G = graph.copy()
    G.nodes[node]["credence"] = value
    return G


def test_the_page_honours_the_filter(sourced_pages):
    root, pages = sourced_pages
    page = pages["filtered"]
    graph = filter_graph(Corpus.load(root).require_valid().graph, edges_from=["essay", "notes"],
                         evidence_kinds=["observation"])
    assert page.js("() => edges.get().length") == graph.number_of_edges()
    assert page.js("() => takeoff.strengthOf('m1')") == pytest.approx(score_graph(graph).strengths["m1"], abs=1e-6)
    assert "forecast" not in bars(page)["m1"]
    note = page.js("() => document.getElementById('ranking-filter').textContent")
    assert note == "Scored with edges from essay, notes only; evidence: observation only"
    assert page.js("() => document.getElementById('ranking-filter')") is not None
    assert pages["whole"].js("() => document.getElementById('ranking-filter')") is None
    page.assert_clean()


def test_the_page_says_whose_argument_an_edge_is(sourced_pages):
    _, pages = sourced_pages
    page = pages["whole"]
    tip = page.js("() => edges.get().find(e => e.from === 'c1' && e.to === 'm1').title")
    assert tip.endswith("from What is recursive self-improvement? (essay): “the words of the essay”")
    page.js("() => takeoff.goTo('m1')")
    panel = page.js("() => Array.from(document.querySelectorAll('#panel .edge-source')).map(p => p.textContent)")
    assert "from the corpus editor's own reasoning (editor)" in panel
    page.js("() => takeoff.closePanel()")
    page.assert_clean()


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), semantics=st.sampled_from(SEMANTICS))
def test_leave_one_out_on_cyclic_graphs_matches_removing_the_item(seed, semantics):
    """More than 8 items (so leave-one-out, solved on each group's descendants with the other
    parents collapsed), cycles among the claims, every semantics: each contribution is the
    strength minus the strength with the item's edges removed, computed plainly."""
    import random

    rng = random.Random(seed)
    G = nx.MultiDiGraph()
    kinds = ["evidence"] * 12 + ["claim"] * 14 + ["model"] * 4
    for i, kind in enumerate(kinds):
        G.add_node(f"n{i}", kind=kind, credence=rng.random())
    for i, kind in enumerate(kinds):
        if kind == "model":
            continue
        for _ in range(rng.choice((1, 2, 3))):
            j = rng.randrange(12 if kind == "evidence" else 0, len(kinds))
            if j != i and not G.has_edge(f"n{i}", f"n{j}") and kinds[j] != "evidence":
                relation = rng.choice(("supports", "supports", "undermines"))
                G.add_edge(f"n{i}", f"n{j}", key=relation, relation=relation,
                           weight=rng.uniform(0.05, 1))
    full = score_graph(G, semantics, tolerance=TIGHT)
    if not full.converged:
        return
    data = evidence_effects(G, semantics, tolerance=TIGHT)
    assert data["method"] == "leave-one-out"
    for item in data["items"]:
        without = score_graph(without_item(G, item["id"]), semantics, tolerance=TIGHT).strengths
        for model in (m["id"] for m in data["models"]):
            expected = full.strengths[model] - without[model]
            assert item["contributions"].get(model, 0.0) == pytest.approx(expected, abs=1e-9)
