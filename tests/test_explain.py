"""Explanations: tree, paths, strongest chains, removal impacts and gradients (`why`), cruxes,
lint, and their CLI commands, on hand-checked graphs, random graphs against the plain way,
and the bundled corpus."""
import json
import random

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import REPO, snapshot
from graph.files.edit import import_graph
from graph.explaining.explain import (CONTESTED_THRESHOLD, cruxes, lint, paths, removal_impacts,
                           removal_impacts_reference, strongest_chains, tree, why)
from graph.files.corpus import Corpus
from graph.core.model import TakeoffError
from graph.solving.propagation import SEMANTICS, score_graph

ALL = list(SEMANTICS)
BUNDLED = REPO / "claims"


def corpus_graph(nodes, edges):
    """A corpus graph from {id: (kind, credence)} and (source, relation, target, weight)."""
    G = nx.MultiDiGraph()
    for node, (kind, credence) in nodes.items():
        G.add_node(node, kind=kind, title=f"The {kind} {node}", credence=credence,
                   date=None, tags=[], sources=[], body="")
    for source, relation, target, weight in edges:
        G.add_edge(source, target, key=relation, relation=relation, weight=weight,
                   note=f"{source} {relation} {target}")
    return G


def hand_graph():
    """e1 (1.0) supports c (0.5) with weight 1, e2 (0.5) undermines c with weight 0.5,
    c supports m (0.5) with weight 0.8."""
    return corpus_graph(
        {"e1": ("evidence", 1.0), "e2": ("evidence", 0.5), "c": ("claim", 0.5),
         "m": ("model", 0.5)},
        [("e1", "supports", "c", 1.0), ("e2", "undermines", "c", 0.5),
         ("c", "supports", "m", 0.8)])


def random_graph(n, m, seed, *, cyclic=False):
    rng = random.Random(seed)
    G = corpus_graph({f"n{i}": ("claim", round(rng.random(), 3)) for i in range(n)}, [])
    for _ in range(m):
        a, b = rng.sample(range(n), 2)
        if not cyclic and a > b:
            a, b = b, a
        if not G.has_edge(f"n{a}", f"n{b}"):
            relation = rng.choice(["supports", "undermines"])
            G.add_edge(f"n{a}", f"n{b}", key=relation, relation=relation,
                       weight=round(rng.uniform(0.1, 1), 2), note="")
    return G


def most_reached(G):
    """The node that the most nodes reach (ties: the smallest id)."""
    return min(G, key=lambda v: (-len(nx.ancestors(G, v)), v))


def by_id(rows):
    return {row["id"]: row for row in rows}


# ---------------------------------------------------------------- why: hand-checked values

# Quadratic energy, h(x) = x^2 / (1 + x^2), h'(x) = 2x / (1 + x^2)^2:
#   E_c = 1 * 1.0 - 0.5 * 0.5 = 0.75, h(0.75) = 0.36,       s_c = 0.5 + 0.5 * 0.36 = 0.68
#   E_m = 0.8 * 0.68 = 0.544, h(0.544) = 0.2283569559,      s_m = 0.6141784779
# Removal impacts on m:
#   without c:  s_m = 0.5                                    impact 0.1141784779
#   without e1: E_c = -0.25, s_c = 0.5 - 0.5 h(0.25) = 0.4705882353,
#               E_m = 0.3764705882, s_m = 0.5620681295       impact 0.0521103485
#   without e2: E_c = 1, s_c = 0.75, E_m = 0.6, s_m = 0.6323529412   impact -0.0181744632
# Gradients: d s_m / d s_c = 0.5 * h'(0.544) * 0.8 = 0.2591324362
#   d s_m / d w_c  = (1 - h(0.75)) * 0.2591324362 = 0.64 * ... = 0.1658447591
#   d s_m / d w_e1 = 0.5 * h'(0.75) * 1.0 * 0.2591324362 = 0.3072 * ... = 0.0796054844
#   d s_m / d w_e2 = 0.5 * h'(0.75) * (-0.5) * 0.2591324362 = -0.0398027422
HAND = {"c": (0.1141784779, 0.1658447591), "e1": (0.0521103485, 0.0796054844),
        "e2": (-0.0181744632, -0.0398027422)}


def test_why_equals_hand_computed_values():
    rows = why(hand_graph(), "m")
    assert [r["id"] for r in rows] == ["c", "e1", "e2"]  # by the larger of |impact|, |gradient|
    for row in rows:
        impact, gradient = HAND[row["id"]]
        assert row["impact"] == pytest.approx(impact, abs=1e-9)
        assert row["gradient"] == pytest.approx(gradient, abs=1e-9)
        assert row["without"] == pytest.approx(0.6141784779 - impact, abs=1e-9)
        assert row["converged"] is True
    rows = by_id(rows)
    assert rows["e1"]["chain"] == {"nodes": ["e1", "c", "m"], "relations": ["supports", "supports"],
                                   "weights": [1.0, 0.8], "weight": 0.8, "sign": "supports",
                                   "length": 2}
    assert rows["e2"]["chain"]["sign"] == "undermines"
    assert rows["e2"]["chain"]["weight"] == pytest.approx(0.4)
    assert rows["e2"]["kind"] == "evidence" and rows["e2"]["strength"] == 0.5


def test_why_dfquad_on_the_rago_example():
    # DF-QuAD, Rago et al. (KR 2016): A1 has supporters P1 (0.7) and P2; P2 (0.5) is attacked by
    # C2 (0.2), C3 (0.6), C4 (0.5): v_a = 1 - 0.8*0.4*0.5 = 0.84, s_P2 = 0.5 - 0.5*0.84 = 0.08.
    # s_A1 = 0.5 + 0.5 * (1 - 0.3 * 0.92) = 0.862.
    # Without P2: s_A1 = 0.5 + 0.5 * 0.7 = 0.85, impact 0.012.
    # Without P1: s_A1 = 0.5 + 0.5 * 0.08 = 0.54, impact 0.322.
    # Without C2: v_a = 1 - 0.4*0.5 = 0.8, s_P2 = 0.1, s_A1 = 0.5 + 0.5*(1 - 0.3*0.9) = 0.865,
    #             impact -0.003.
    G = corpus_graph({"A1": ("model", .5), "P1": ("claim", .7), "P2": ("claim", .5),
                      "C2": ("claim", .2), "C3": ("claim", .6), "C4": ("claim", .5)},
                     [("P1", "supports", "A1", 1.0), ("P2", "supports", "A1", 1.0),
                      ("C2", "undermines", "P2", 1.0), ("C3", "undermines", "P2", 1.0),
                      ("C4", "undermines", "P2", 1.0)])
    rows = by_id(why(G, "A1", "dfquad"))
    assert rows["P1"]["impact"] == pytest.approx(0.322, abs=1e-12)
    assert rows["P2"]["impact"] == pytest.approx(0.012, abs=1e-12)
    assert rows["C2"]["impact"] == pytest.approx(-0.003, abs=1e-12)
    # d s_A1 / d w_P1 = 0.5 * (1 - v_s(P2 alone)) = 0.5 * 0.92 = 0.46 (support wins).
    assert rows["P1"]["gradient"] == pytest.approx(0.46, abs=1e-12)
    assert rows["C2"]["chain"]["sign"] == "undermines"


def test_why_top_and_the_node_without_ancestors():
    assert len(why(hand_graph(), "m", top=2)) == 2
    assert why(hand_graph(), "e1") == []
    with pytest.raises(TakeoffError, match="at least 1"):
        why(hand_graph(), "m", top=0)


def test_why_unknown_id_suggests_close_ids():
    with pytest.raises(TakeoffError, match=r"unknown id 'e3' \(did you mean 'e2', 'e1'"):
        why(hand_graph(), "e3")


def test_why_refuses_scores_of_another_semantics():
    G = hand_graph()
    with pytest.raises(TakeoffError, match="dfquad scores, not qe"):
        why(G, "m", "qe", result=score_graph(G, "dfquad"))


# ---------------------------------------------------------------- why: against the plain way

@st.composite
def small_graphs(draw, cyclic):
    n = draw(st.integers(2, 7))
    G = corpus_graph({f"n{i}": ("claim", draw(st.floats(0, 1))) for i in range(n)}, [])
    pairs = [(a, b) for a in range(n) for b in range(n) if a != b and (cyclic or a < b)]
    for a, b in draw(st.lists(st.sampled_from(pairs), max_size=12, unique=True)):
        relation = draw(st.sampled_from(["supports", "undermines"]))
        G.add_edge(f"n{a}", f"n{b}", key=relation, relation=relation,
                   weight=draw(st.floats(0.05, 1)), note="")
    return G


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_graphs(cyclic=False), st.sampled_from(ALL))
def test_removal_impacts_equal_the_plain_way_on_acyclic_graphs(G, semantics):
    target = f"n{len(G) - 1}"
    fast = removal_impacts(G, target, semantics)
    plain = removal_impacts_reference(G, target, semantics)
    assert fast.keys() == plain.keys() == nx.ancestors(G, target)
    for node in fast:
        assert fast[node][0] == pytest.approx(plain[node][0], abs=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_graphs(cyclic=True), st.sampled_from(ALL))
def test_removal_impacts_equal_the_plain_way_on_cyclic_graphs(G, semantics):
    fast = removal_impacts(G, "n0", semantics)
    plain = removal_impacts_reference(G, "n0", semantics)
    assert fast.keys() == plain.keys()
    for node in fast:
        if plain[node][2]:
            assert fast[node][2]
            assert fast[node][0] == pytest.approx(plain[node][0], abs=1e-7)


@pytest.mark.parametrize("semantics", ALL)
def test_removal_impacts_on_larger_cyclic_graphs(semantics):
    for seed in range(3):
        G = random_graph(30, 80, seed, cyclic=True)
        assert not nx.is_directed_acyclic_graph(G)
        fast = removal_impacts(G, "n0", semantics)
        plain = removal_impacts_reference(G, "n0", semantics)
        assert fast.keys() == plain.keys() and len(fast) > 10
        for node in fast:
            assert fast[node][0] == pytest.approx(plain[node][0], abs=1e-7)


def test_unsettled_cyclic_variants_fall_back_to_the_solver(monkeypatch):
    # With no plain iteration after the ODE, no batched column reaches the tolerance, so every
    # one is re-solved by graph.solving.propagation.solve; the answers must not change.
    import graph.solving.batch as batch

    monkeypatch.setattr(batch, "PICARD_PATIENCE", 0)
    G = random_graph(20, 50, 4, cyclic=True)
    calls = []
    original = batch.Engine._single
    monkeypatch.setattr(batch.Engine, "_single",
                        lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    fast = removal_impacts(G, "n0", "dfquad")
    plain = removal_impacts_reference(G, "n0", "dfquad")
    assert calls
    for node in fast:
        assert fast[node][2]
        assert fast[node][0] == pytest.approx(plain[node][0], abs=1e-7)


def test_removal_impacts_in_several_batches(monkeypatch):
    import graph.solving.batch as batch

    monkeypatch.setattr(batch, "BATCH_FLOATS", 50)  # a few columns per batch
    G = random_graph(40, 100, 7)
    fast = removal_impacts(G, "n39", "qe")
    plain = removal_impacts_reference(G, "n39", "qe")
    assert len(fast) > 20
    for node in fast:
        assert fast[node][0] == pytest.approx(plain[node][0], abs=1e-12)


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize("semantics", ALL)
@pytest.mark.parametrize("cyclic", [False, True])
def test_gradient_matches_a_finite_difference(semantics, cyclic):
    G = random_graph(25, 60, 3, cyclic=cyclic)
    target = most_reached(G)
    rows = why(G, target, semantics)
    assert len(rows) > 8
    step = 1e-6
    for row in rows[:8]:
        c = row["credence"]
        lo, hi = max(c - step, 0.0), min(c + step, 1.0)
        up = score_graph(G, semantics, credences={row["id"]: hi}, tolerance=1e-12).strengths[target]
        down = score_graph(G, semantics, credences={row["id"]: lo}, tolerance=1e-12).strengths[target]
        assert row["gradient"] == pytest.approx((up - down) / (hi - lo), abs=1e-5)


# ---------------------------------------------------------------- cruxes

def two_models():
    """e (0.6) supports m1, f (0.5) supports m2, both with weight 1; m1 and m2 start at 0.5.
    Under qe, s = 0.5 + 0.5 h(credence): m1 ranks higher exactly while w_e > w_f, so the
    ranking flips when e drops below 0.5 or f rises above 0.6."""
    return corpus_graph({"e": ("evidence", 0.6), "f": ("evidence", 0.5), "m1": ("model", 0.5),
                         "m2": ("model", 0.5)},
                        [("e", "supports", "m1", 1.0), ("f", "supports", "m2", 1.0)])


def test_cruxes_hand_checked():
    rows = by_id(cruxes(two_models(), "m1", "m2"))
    # d gap / d w_e = 0.5 h'(0.6) = 0.5 * 1.2 / 1.36^2 = 0.3243944637; d gap / d w_f = -0.5 h'(0.5)
    # = -0.5 * 1 / 1.5625 = -0.32.
    assert rows["e"]["gradient"] == pytest.approx(0.3243944637, abs=1e-9)
    assert rows["f"]["gradient"] == pytest.approx(-0.32, abs=1e-12)
    # The nearest flipping credences, rounded to 3 decimals on the flipping side.
    assert rows["e"]["flip"] == 0.499
    assert rows["f"]["flip"] == 0.601
    # gap with w_e = 0: 0.5 - (0.5 + 0.5 h(0.5)) = -0.1; with w_e = 1: 0.5 h(1) - 0.5 h(0.5) = 0.15.
    assert rows["e"]["gap_at_0"] == pytest.approx(-0.1, abs=1e-12)
    assert rows["e"]["gap_at_1"] == pytest.approx(0.15, abs=1e-12)
    assert rows["e"]["gap_range"] == pytest.approx([-0.1, 0.15], abs=1e-12)


def flips(G, a, b, semantics, row):
    before = score_graph(G, semantics).strengths
    after = score_graph(G, semantics, credences={row["id"]: row["flip"]}).strengths
    gap, new = before[a] - before[b], after[a] - after[b]
    return new < 0 if gap >= 0 else new > 0


@pytest.mark.parametrize("semantics", ALL)
@pytest.mark.parametrize("cyclic", [False, True])
def test_crux_flip_credence_flips_the_ranking(semantics, cyclic):
    found = 0
    for seed in range(6):
        G = random_graph(30, 70, seed, cyclic=cyclic)
        # Of the six most reached nodes, the two closest in strength: rankings that can flip.
        reached = sorted(G, key=lambda v: (-len(nx.ancestors(G, v)), v))[:6]
        strengths = score_graph(G, semantics).strengths
        a, b = min(((x, y) for x in reached for y in reached if x < y),
                   key=lambda p: abs(strengths[p[0]] - strengths[p[1]]))
        for row in cruxes(G, a, b, semantics, top=5):
            for credence, key in ((0.0, "gap_at_0"), (1.0, "gap_at_1")):
                s = score_graph(G, semantics, credences={row["id"]: credence}).strengths
                assert row[key] == pytest.approx(s[a] - s[b], abs=1e-8)
            if row["flip"] is not None:
                found += 1
                assert 0.0 <= row["flip"] <= 1.0
                assert flips(G, a, b, semantics, row), row
    assert found  # the property was exercised


def test_cruxes_report_none_when_nothing_flips():
    # e supports m1 and undermines m2: every credence of e keeps m1 ahead (0.5 + ... >= 0.5 - ...).
    G = corpus_graph({"e": ("evidence", 0.5), "m1": ("model", 0.5), "m2": ("model", 0.5)},
                     [("e", "supports", "m1", 1.0), ("e", "undermines", "m2", 1.0)])
    (row,) = cruxes(G, "m1", "m2")
    assert row["flip"] is None and row["gap_range"][0] >= 0


def test_cruxes_bad_input():
    with pytest.raises(TakeoffError, match="the same"):
        cruxes(two_models(), "m1", "m1")
    with pytest.raises(TakeoffError, match="did you mean 'm2', 'm1'"):
        cruxes(two_models(), "m3", "m1")
    assert cruxes(corpus_graph({"a": ("model", .5), "b": ("model", .5)}, []), "a", "b") == []


# ---------------------------------------------------------------- tree, paths, chains

def test_tree_in_and_out():
    root = tree(hand_graph(), "m", strengths={"m": 0.61, "c": 0.68, "e1": 1.0, "e2": 0.5})
    assert (root["id"], root["relation"], root["strength"]) == ("m", None, 0.61)
    (c,) = root["children"]
    assert (c["id"], c["relation"], c["weight"], c["note"]) == ("c", "supports", 0.8, "c supports m")
    # supports first, then undermines
    assert [(k["id"], k["relation"]) for k in c["children"]] == [("e1", "supports"), ("e2", "undermines")]
    assert tree(hand_graph(), "m", depth=1)["children"][0]["children"] == []
    out = tree(hand_graph(), "e2", direction="out")
    assert [k["id"] for k in out["children"]] == ["c"]
    assert [k["id"] for k in out["children"][0]["children"]] == ["m"]


def test_tree_marks_cycles_and_repeats():
    G = corpus_graph({"a": ("claim", .5), "b": ("claim", .5), "c": ("claim", .5), "m": ("model", .5)},
                     [("a", "supports", "b", 1.0), ("b", "supports", "a", 1.0),
                      ("b", "supports", "m", 0.9), ("c", "supports", "m", 0.5),
                      ("b", "supports", "c", 1.0)])
    root = tree(G, "m")
    b, c = root["children"]
    assert b["id"] == "b" and not b["repeat"]
    (a,) = b["children"]
    (b_again,) = a["children"]
    assert b_again["cycle"] and b_again["children"] == []
    (b_repeat,) = c["children"]
    assert b_repeat["repeat"] and not b_repeat["cycle"] and b_repeat["children"] == []


def test_tree_bad_input():
    with pytest.raises(TakeoffError, match="depth must be at least 1"):
        tree(hand_graph(), "m", depth=0)
    with pytest.raises(TakeoffError, match="direction"):
        tree(hand_graph(), "m", direction="up")
    with pytest.raises(TakeoffError, match="did you mean 'm'"):
        tree(hand_graph(), "mm")


def test_paths_signs_products_and_order():
    G = corpus_graph({x: ("claim", .5) for x in "abcd"},
                     [("a", "undermines", "b", 0.5), ("b", "undermines", "d", 0.8),
                      ("a", "supports", "c", 0.9), ("c", "undermines", "d", 0.9),
                      ("a", "supports", "d", 0.3)])
    found = paths(G, "a", "d")
    assert [(p["nodes"], p["sign"]) for p in found] == [
        (["a", "c", "d"], "undermines"),   # 0.9 * 0.9 = 0.81, one undermines edge
        (["a", "b", "d"], "supports"),     # 0.5 * 0.8 = 0.40, two undermines edges
        (["a", "d"], "supports")]          # 0.3
    assert [p["weight"] for p in found] == pytest.approx([0.81, 0.4, 0.3])
    assert [p["nodes"] for p in paths(G, "a", "d", max_length=1)] == [["a", "d"]]
    assert len(paths(G, "a", "d", top=2)) == 2
    assert paths(G, "d", "a") == []


def test_paths_bad_input():
    G = hand_graph()
    with pytest.raises(TakeoffError, match="same node"):
        paths(G, "m", "m")
    with pytest.raises(TakeoffError, match="at least 1"):
        paths(G, "e1", "m", max_length=0)
    with pytest.raises(TakeoffError, match="unknown id"):
        paths(G, "e9", "m")
    dense = nx.complete_graph(9, create_using=nx.MultiDiGraph)
    for u, v, k in list(dense.edges(keys=True)):
        dense.remove_edge(u, v, k)
        dense.add_edge(u, v, key="supports", relation="supports", weight=1.0)
    with pytest.raises(TakeoffError, match="give a smaller maximum length"):
        paths(dense, 0, 8, max_length=8, limit=1000)


def test_strongest_chains_prefer_the_heavier_then_the_shorter_chain():
    G = corpus_graph({x: ("claim", .5) for x in "abcdt"},
                     [("a", "supports", "b", 0.5), ("b", "supports", "t", 0.8),
                      ("a", "undermines", "t", 0.4),    # same product 0.4, one edge: wins
                      ("c", "supports", "d", 0.9), ("d", "supports", "t", 0.9),
                      ("c", "supports", "t", 0.5)])     # 0.81 beats 0.5
    chains = strongest_chains(G, "t")
    assert chains["a"]["nodes"] == ["a", "t"] and chains["a"]["sign"] == "undermines"
    assert chains["c"]["nodes"] == ["c", "d", "t"] and chains["c"]["weight"] == pytest.approx(0.81)
    assert set(chains) == {"a", "b", "c", "d"}


def test_an_edge_switched_off_still_gives_a_chain_of_weight_0():
    # A perspective may set a weight to 0: the node still reaches the target, with no effect.
    G = corpus_graph({x: ("claim", .5) for x in "abt"},
                     [("a", "supports", "b", 0.0), ("b", "supports", "t", 0.5)])
    rows = by_id(why(G, "t"))
    assert rows["a"]["chain"]["weight"] == 0.0 and rows["a"]["chain"]["nodes"] == ["a", "b", "t"]
    assert rows["a"]["impact"] == 0.0 and rows["a"]["gradient"] == 0.0


# ---------------------------------------------------------------- lint

def test_lint_finds_each_problem():
    G = corpus_graph(
        {"lonely": ("claim", .5), "bare-claim": ("claim", .5), "stray": ("evidence", .9),
         "sink": ("claim", .5), "m": ("model", .5), "m2": ("model", .5),
         "e": ("evidence", 1.0), "x": ("claim", .5), "y": ("claim", .5), "hot": ("claim", .5),
         "pro": ("evidence", 1.0), "con": ("evidence", 1.0)},
        [("stray", "supports", "sink", 1.0), ("bare-claim", "supports", "m", 1.0),
         ("e", "supports", "x", 1.0), ("x", "supports", "y", 1.0), ("y", "supports", "x", 1.0),
         ("y", "supports", "m", 1.0), ("x", "undermines", "m2", 0.1),
         ("pro", "supports", "hot", 0.5), ("con", "undermines", "hot", 0.5),
         ("hot", "supports", "m", 1.0), ("m2", "supports", "sink", 1.0),
         ("bare-claim", "supports", "orphan-model", 1.0)])
    G.add_node("orphan-model", kind="model", title="t", credence=.5)  # only bare-claim reaches it
    strengths = score_graph(G).strengths
    provenance = ("edge-without-source", "evidence-without-kind")   # tested in test_provenance
    found = [(w["check"], w["nodes"]) for w in lint(G, strengths) if w["check"] not in provenance]
    assert found == [
        ("isolated", ["lonely"]),
        ("unsupported-claim", ["bare-claim"]),
        ("evidence-reaches-no-model", ["stray"]),
        ("model-without-evidence", ["orphan-model"]),
        ("contested", ["hot"]),   # support 0.5 * 1.0, undermining 0.5 * 1.0: both at the threshold
        ("cycle", ["x", "y"]),
    ]
    assert "x -> y -> x" in [w for w in lint(G, strengths) if w["check"] == "cycle"][0]["message"]


def test_lint_double_counting_reports_both_routes():
    # e supports m directly and through c; d undermines c and undermines m directly: the chain
    # d -| c -> m has sign -, the direct edge too. f undermines m but supports it through c:
    # opposite signs, a tension rather than a repetition.
    G = corpus_graph(
        {"e": ("evidence", .9), "d": ("evidence", .9), "f": ("evidence", .9),
         "c": ("claim", .5), "m": ("model", .5)},
        [("e", "supports", "c", 1.0), ("c", "supports", "m", 1.0), ("e", "supports", "m", 1.0),
         ("d", "undermines", "c", 1.0), ("d", "undermines", "m", 1.0),
         ("f", "supports", "c", 1.0), ("f", "undermines", "m", 1.0)])
    found = [w for w in lint(G, score_graph(G).strengths) if w["check"] == "double-counting"]
    assert [(w["direct"], w["route"]) for w in found] == [
        (["d", "m"], ["d", "c", "m"]), (["e", "m"], ["e", "c", "m"])]
    assert "directly (supports) and through e -> c -> m" in found[1]["message"]
    # Marked intended in the note: no longer reported.
    G.edges["e", "m", "supports"]["note"] = "a separate finding, independent of c"
    found = [w["direct"] for w in lint(G, score_graph(G).strengths) if w["check"] == "double-counting"]
    assert found == [["d", "m"]]


def test_lint_double_counting_needs_a_chain_of_other_nodes():
    # A longer chain counts; a chain through the target itself or back through the source does not.
    G = corpus_graph({n: ("claim", .5) for n in "sabt"},
                     [("s", "supports", "a", 1.0), ("a", "undermines", "b", 1.0),
                      ("b", "undermines", "t", 1.0), ("s", "supports", "t", 1.0)])
    routes = [w["route"] for w in lint(G, score_graph(G).strengths) if w["check"] == "double-counting"]
    assert routes == [["s", "a", "b", "t"]]
    G.remove_edge("a", "b")
    assert not [w for w in lint(G, score_graph(G).strengths) if w["check"] == "double-counting"]


@pytest.mark.parametrize("note, cites", [
    ("", False),
    ("Weighted low because it is one trial.", False),
    ("The trial (metr-rct) shows it.", True),            # a node id
    ('The essay: "the loop runs itself".', True),        # a quotation
    ("Its 'let it rip' idea.", True),                    # a single-quoted phrase
    ("The essay's and Amdahl's point.", False),          # apostrophes quote nothing
    ("See https://example.org/a.", True),
    ("As measured (arXiv 2507.09089).", True),
    ("A report on epoch.ai says so.", True),
    ("Reported (Forethought, 2025-07-18).", True),
])
def test_lint_uncited_note(note, cites):
    G = corpus_graph({"metr-rct": ("evidence", .9), "c": ("claim", .5)},
                     [("metr-rct", "supports", "c", 1.0)])
    G.edges["metr-rct", "c", "supports"]["note"] = note
    G.add_edge("c", "metr-rct", key="supports", relation="supports", weight=1.0, note="c metr-rct")
    found = [w["nodes"] for w in lint(G, score_graph(G).strengths) if w["check"] == "uncited-note"]
    assert found == ([] if cites else [["metr-rct", "c"]])


def test_lint_undated_claim_fed_by_dated_nodes():
    import datetime as dt

    G = corpus_graph({"e": ("evidence", .9), "e2": ("evidence", .9), "c": ("claim", .5),
                      "m": ("model", .5), "k": ("claim", .5)},
                     [("e", "supports", "c", 1.0), ("e2", "undermines", "c", 1.0),
                      ("c", "supports", "m", 1.0), ("k", "supports", "m", 1.0)])
    G.nodes["e"]["date"], G.nodes["e2"]["date"] = dt.date(2025, 5, 14), dt.date(2024, 3, 12)
    found = [w for w in lint(G, score_graph(G).strengths) if w["check"] == "undated-claim"]
    assert [(w["nodes"], w["fed_by"]) for w in found] == [(["c"], ["e2", "e"])]
    assert "from 2024-03-12 (e2)" in found[0]["message"]
    G.nodes["c"]["date"] = dt.date(2024, 3, 12)   # dated: fine; models are never reported
    assert not [w for w in lint(G, score_graph(G).strengths) if w["check"] == "undated-claim"]


def test_lint_contested_threshold():
    G = corpus_graph({"p": ("evidence", 1.0), "q": ("evidence", 0.99), "c": ("claim", .5)},
                     [("p", "supports", "c", CONTESTED_THRESHOLD), ("q", "undermines", "c", CONTESTED_THRESHOLD)])
    checks = [w["check"] for w in lint(G, score_graph(G).strengths)]
    assert "contested" not in checks  # undermining 0.495 < 0.5
    assert lint(corpus_graph({}, []), {}) == []


# ---------------------------------------------------------------- CLI

@pytest.fixture
def corpus(tmp_path):
    G = hand_graph()
    G.add_node("m2", kind="model", title="Another path", credence=0.5, date=None, tags=[],
               sources=[], body="")
    G.add_edge("e2", "m2", key="supports", relation="supports", weight=1.0, note="e2 supports m2")
    for node in ("e1", "e2", "c"):  # c is fed by e1 and e2, so it is dated too
        G.nodes[node]["date"] = __import__("datetime").date(2025, 1, 1)
    for node in ("e1", "e2"):  # whose edges and what evidence (docs/evidence.md): lint is quiet
        G.nodes[node]["evidence_kind"] = "observation"
    for _, _, attrs in G.edges(data=True):
        attrs["from"] = "editor"
    import_graph(tmp_path, G)
    return tmp_path


def test_cli_why_json_and_table(corpus, run):
    result = run(corpus, "why", "m", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["id"] == "m" and data["semantics"] == "qe"
    assert data["strength"] == pytest.approx(0.6141784779, abs=1e-9)
    assert [r["id"] for r in data["nodes"]] == ["c", "e1", "e2"]
    assert data["nodes"][0]["impact"] == pytest.approx(HAND["c"][0], abs=1e-9)
    table = run(corpus, "why", "m", "--top", "1")
    assert table.exit_code == 0
    # piped: the rows as tab-separated text on stdout, the heading on stderr
    assert "strength 0.614" in table.stderr and "e1" not in table.output
    assert table.stdout.splitlines()[1].split("\t")[:3] == ["c", "claim", "+0.114"]
    assert "nothing reaches" in run(corpus, "why", "e1").stderr


def test_cli_cruxes(corpus, run):
    result = run(corpus, "cruxes", "m", "m2", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["gap"] == pytest.approx(data["strengths"]["m"] - data["strengths"]["m2"])
    assert {r["id"] for r in data["cruxes"]} == {"c", "e1", "e2"}
    table = run(corpus, "cruxes", "m", "m2", "--semantics", "dfquad")
    assert table.exit_code == 0 and "ranks higher by" in table.stderr
    assert table.stdout.splitlines()[0].split("\t")[:2] == ["node", "kind"]


def test_cli_tree_paths_lint(corpus, run):
    tree_out = run(corpus, "tree", "m", "--depth", "2")
    assert tree_out.exit_code == 0
    assert "supports 0.8" in tree_out.stdout and "undermines 0.5" in tree_out.stdout
    data = json.loads(run(corpus, "tree", "e2", "--direction", "out", "--json").stdout)
    assert [c["id"] for c in data["tree"]["children"]] == ["m2", "c"]
    chains = json.loads(run(corpus, "paths", "e2", "m", "--json").stdout)
    assert chains[0]["nodes"] == ["e2", "c", "m"] and chains[0]["sign"] == "undermines"
    assert "-undermines 0.5->" in run(corpus, "paths", "e2", "m").stdout
    assert "no chain" in run(corpus, "paths", "m", "e2").stderr
    clean = run(corpus, "lint", "--strict")
    assert clean.exit_code == 0 and clean.stdout == "" and "0 warning(s)" in clean.stderr
    import_graph(corpus, corpus_graph({"c3": ("claim", 0.5)}, []))
    lint_out = run(corpus, "lint")
    assert lint_out.exit_code == 0
    assert lint_out.stdout == "warning: [isolated] c3: no edges in or out\n"
    assert run(corpus, "lint", "--strict").exit_code == 1
    assert json.loads(run(corpus, "lint", "--json").stdout) == [
        {"check": "isolated", "nodes": ["c3"], "message": "c3: no edges in or out"}]


@pytest.mark.parametrize("args, code, message", [
    (["why", "mm"], 1, "unknown id 'mm' (did you mean 'm', 'm2'"),
    (["tree", "c1"], 1, "unknown id 'c1' (did you mean 'c'"),
    (["cruxes", "m", "m"], 2, "the same node"),
    (["cruxes", "m", "m3"], 1, "unknown id 'm3'"),
    (["tree", "m", "--depth", "0"], 2, "0 is not in the range x>=1"),
    (["tree", "m", "--direction", "up"], 2, "'up' is not one of 'in', 'out'"),
    (["why", "m", "--top", "0"], 2, "--top"),
    (["why", "m", "--semantics", "pagerank"], 2, "'pagerank' is not one of qe, dfquad, eb"),
    (["paths", "e1", "m", "--max-length", "0"], 2, "--max-length"),
    (["paths", "m", "m"], 1, "same node"),
])
def test_cli_bad_input(corpus, run, args, code, message):
    before = snapshot(corpus)
    result = run(corpus, *args)
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(corpus) == before


def test_cli_invalid_corpus(tmp_path, run):
    (tmp_path / "bad.md").write_text("---\nkind: nonsense\n---\n")
    result = run(tmp_path, "why", "bad")
    assert result.exit_code == 1 and "bad.md" in result.stderr


# ---------------------------------------------------------------- the bundled corpus

@pytest.fixture(scope="module")
def bundled():
    corpus = Corpus.load(BUNDLED).require_valid()
    return corpus.graph


def test_bundled_why_bottlenecks(bundled, run):
    rows = why(bundled, "bottlenecks")
    assert {r["id"] for r in rows} == nx.ancestors(bundled, "bottlenecks")
    plain = removal_impacts_reference(bundled, "bottlenecks")
    for row in rows:
        assert row["impact"] == pytest.approx(plain[row["id"]][0], abs=1e-9)
        assert row["chain"]["nodes"][0] == row["id"] and row["chain"]["nodes"][-1] == "bottlenecks"
    result = run(BUNDLED, "why", "bottlenecks", "--top", "5")
    assert result.exit_code == 0 and "bottlenecks: strength" in result.stderr
    assert len(result.stdout.splitlines()) == 1 + 5


def test_bundled_cruxes(bundled, run):
    models = [v for v, k in bundled.nodes(data="kind") if k == "model"]
    for a, b in [("naive-rlvr", "bottlenecks")] + list(zip(models, models[1:])):
        for row in cruxes(bundled, a, b, top=3):
            if row["flip"] is not None:
                assert flips(bundled, a, b, "qe", row)
    result = run(BUNDLED, "cruxes", "naive-rlvr", "bottlenecks", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["cruxes"]


def test_bundled_tree_and_lint(run):
    assert run(BUNDLED, "tree", "bottlenecks").exit_code == 0
    assert run(BUNDLED, "lint").exit_code == 0


def test_cli_why_shows_the_top_rows_and_says_how_many_are_left_out(corpus, run, monkeypatch):
    from graph.commands import explaining

    monkeypatch.setattr(explaining, "WHY_TOP", 2)
    table = run(corpus, "why", "m")
    assert table.exit_code == 0, table.output
    assert "1 more node reach m (of 3); --top N or --all shows them" in table.output
    everything = run(corpus, "why", "m", "--all")
    assert "e2" in everything.stdout and "more node" not in everything.output
    both = run(corpus, "why", "m", "--all", "--top", "1")
    assert both.exit_code == 2 and "not both" in both.output


def test_cli_why_json_streams_what_why_returns(corpus, run):
    from graph.files.corpus import Corpus

    data = json.loads(run(corpus, "why", "m", "--json").stdout)
    assert data["nodes"] == json.loads(json.dumps(why(Corpus.load(corpus).graph, "m")))
    top = json.loads(run(corpus, "why", "m", "--json", "--top", "1").stdout)
    assert [r["id"] for r in top["nodes"]] == ["c"]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10 ** 6))
def test_gradients_on_the_part_equal_the_whole_adjoint(seed):
    """The adjoint factorised on the nodes that reach the target only equals the one of the
    whole graph."""
    import random

    from graph.solving.propagation import Sensitivity, score_graph

    rng = random.Random(seed)
    nodes = {f"v{i}": ("claim", round(rng.random(), 2)) for i in range(8)}
    edges = [(f"v{a}", rng.choice(["supports", "undermines"]), f"v{b}", round(rng.uniform(.1, 1), 2))
             for a in range(8) for b in range(8) if a != b and rng.random() < 0.2]
    G = corpus_graph(nodes, edges)
    result = score_graph(G, "qe")
    whole = Sensitivity(result.system, "qe", result.vector, result.base)
    for target in G:
        rows = {r["id"]: r["gradient"] for r in why(G, target, "qe", result=result)}
        expected = whole.credence_gradient(result.system.index[target])
        for node, gradient in rows.items():
            assert gradient == pytest.approx(expected[result.system.index[node]], abs=1e-12)
