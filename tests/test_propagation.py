"""Propagation: published examples, properties, the fast solver against the plain-Python
reference, convergence (and its failure), exact derivatives, and `takeoff score`."""
import json
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import graph.solving.propagation as prop
from graph.solving.propagation import (SEMANTICS, PropagationError, Sensitivity, build_system,
                               edge_contributions, evaluate, gradient, jacobian, score_graph,
                               score_system, solve)

ALL = list(SEMANTICS)


def qbaf(credences, supports=(), attacks=(), multi=False):
    """A graph from {id: credence} and (source, target[, weight]) tuples."""
    G = nx.MultiDiGraph() if multi else nx.DiGraph()
    for node, credence in credences.items():
        G.add_node(node, credence=credence, kind="claim")
    for relation, edges in (("supports", supports), ("undermines", attacks)):
        for edge in edges:
            source, target, weight = (*edge, 1.0)[:3]
            G.add_edge(source, target, relation=relation, weight=weight)
    return G


def rago_example():
    """Rago et al. (KR 2016) e-democracy example, acyclic."""
    return qbaf({"A1": .5, "A2": .5, "P1": .7, "P2": .5, "P3": .9, "C1": .2, "C2": .2, "C3": .6,
                 "C4": .5},
                supports=[("P1", "A1"), ("P2", "A1"), ("P3", "A2")],
                attacks=[("C1", "A2"), ("C2", "P2"), ("C3", "P2"), ("C4", "P2")])


def stock_example():
    """Potyka's stock example: Buy and Sell attack each other."""
    return qbaf({"Buy": .5, "Sell": .5, "1": .8, "2": .7, "3": .3, "4": .9, "5": .9},
                supports=[("1", "Sell"), ("2", "Buy"), ("4", "2"), ("5", "Buy")],
                attacks=[("Buy", "Sell"), ("Sell", "Buy"), ("2", "1"), ("3", "2"), ("4", "3"),
                         ("5", "1")])


STOCK = {
    "qe": {"Buy": 0.8216464429, "Sell": 0.3621696942, "1": 0.2047442606, "2": 0.8050845827,
           "3": 0.1657458564, "4": 0.9, "5": 0.9},
    # DF-QuAD's values here are exact decimals: the cycle is linear once the signs are known.
    "dfquad": {"Buy": 0.99636, "Sell": 0.00338, "1": 0.00312, "2": 0.961, "3": 0.03, "4": 0.9,
               "5": 0.9},
    "eb": {"Buy": 0.7171409027, "Sell": 0.4948894202, "1": 0.6863174705, "2": 0.7897186477,
           "3": 0.1889272692, "4": 0.9, "5": 0.9},
}


def mutual_attack_clique(k=4):
    """k nodes of credence 1 all attacking each other: s <- f(s) flips between two states."""
    return qbaf({i: 1.0 for i in range(k)},
                attacks=[(i, j) for i in range(k) for j in range(k) if i != j])


def attack_ring(groups=5, size=10):
    """Groups in a ring, each attacking all of the next: a negative feedback loop with gain
    above the limit, so ds/dt = f(s) - s settles on a limit cycle, not a fixed point."""
    rng = np.random.default_rng(1)
    nodes = {f"g{g}n{i}": float(rng.uniform(0.8, 1.0)) for g in range(groups) for i in range(size)}
    attacks = [(f"g{g}n{i}", f"g{(g + 1) % groups}n{j}")
               for g in range(groups) for i in range(size) for j in range(size)]
    return qbaf(nodes, attacks=attacks)


# ---- published examples --------------------------------------------------------------------

@pytest.mark.parametrize("solver", ["fast", "reference"])
def test_rago_e_democracy_example(solver):
    G = rago_example()
    strengths = (score_graph(G, "dfquad").strengths if solver == "fast"
                 else prop._score_python(G, "dfquad")[0])
    expected = {"A1": 0.862, "A2": 0.85, "P2": 0.08}
    for node, credence in G.nodes(data="credence"):
        assert strengths[node] == pytest.approx(expected.get(node, credence), abs=1e-8)


@pytest.mark.parametrize("solver", ["fast", "reference"])
@pytest.mark.parametrize("semantics", ALL)
def test_potyka_stock_example(semantics, solver):
    G = stock_example()
    if solver == "fast":
        result = score_graph(G, semantics, tolerance=1e-13)
        assert result.converged and result.residual < 1e-13
        strengths = result.strengths
    else:
        strengths, converged, _, _ = prop._score_python(G, semantics, tolerance=1e-13)
        assert converged
    for node, value in STOCK[semantics].items():
        assert strengths[node] == pytest.approx(value, abs=1e-8), node


# ---- properties ----------------------------------------------------------------------------

@st.composite
def graphs(draw, acyclic=False, max_nodes=8, self_loops=False, min_weight=0.05, density=3,
           ring=False):
    """Random QBAFs: credences in [0, 1], weights in [min_weight, 1], either relation; with
    ``ring``, edges i -> i+1 (mod n) come first, so every node lies on a cycle."""
    n = draw(st.integers(2 if ring else 1, max_nodes))
    credences = {i: draw(st.floats(0, 1)) for i in range(n)}
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
    edge = st.tuples(pairs, st.booleans(), st.floats(min_weight, 1))
    raw = [((i, (i + 1) % n), *draw(edge)[1:]) for i in range(n)] if ring else []
    raw += draw(st.lists(edge, max_size=density * n))
    G = nx.DiGraph()
    G.add_nodes_from((i, {"credence": c}) for i, c in credences.items())
    for (a, b), support, weight in raw:
        if a == b and not self_loops:
            continue
        if acyclic and a >= b:
            continue
        G.add_edge(a, b, relation="supports" if support else "undermines", weight=weight)
    return G


@settings(max_examples=60, deadline=None)
@given(G=graphs(self_loops=True), semantics=st.sampled_from(ALL))
def test_strengths_stay_in_unit_interval(G, semantics):
    result = score_graph(G, semantics)
    values = np.array(list(result.strengths.values()))
    assert np.all(np.isfinite(values)) and np.all((values >= 0) & (values <= 1))


@settings(max_examples=30, deadline=None)
@given(credences=st.lists(st.floats(0, 1), min_size=1, max_size=10),
       semantics=st.sampled_from(ALL))
def test_without_edges_strength_is_credence(credences, semantics):
    G = nx.DiGraph()
    G.add_nodes_from((i, {"credence": c}) for i, c in enumerate(credences))
    result = score_graph(G, semantics)
    assert result.strengths == dict(enumerate(credences))
    assert result.converged and result.residual == 0.0


@settings(max_examples=80, deadline=None)
@given(G=graphs(acyclic=True), semantics=st.sampled_from(ALL), data=st.data())
def test_a_new_supporter_never_lowers_and_a_new_attacker_never_raises(G, semantics, data):
    target = data.draw(st.sampled_from(sorted(G.nodes)))
    relation = data.draw(st.sampled_from(["supports", "undermines"]))
    before = score_graph(G, semantics).strengths[target]
    H = G.copy()
    H.add_node("new", credence=data.draw(st.floats(0, 1)))
    H.add_edge("new", target, relation=relation, weight=data.draw(st.floats(0.05, 1)))
    after = score_graph(H, semantics).strengths[target]
    if relation == "supports":
        assert after >= before - 1e-12
    else:
        assert after <= before + 1e-12


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(G=graphs(ring=True), semantics=st.sampled_from(ALL))
def test_fast_solver_matches_reference_on_cyclic_graphs(G, semantics):
    ref, ref_converged, _, _ = prop._score_python(G, semantics, tolerance=1e-12,
                                                  max_steps=200_000)
    result = score_graph(G, semantics, tolerance=1e-12)
    assume(ref_converged and result.converged)   # (a limit cycle has no limit to compare)
    event(f"cyclic stages solved by: {', '.join(sorted(set(result.methods))) or 'none'}")
    for node in G:
        assert result.strengths[node] == pytest.approx(ref[node], abs=1e-9)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(G=graphs(max_nodes=10, min_weight=0.6, density=4, ring=True),
       semantics=st.sampled_from(ALL))
def test_fast_solver_matches_reference_on_strongly_coupled_graphs(G, semantics):
    # Heavy weights and many edges: the graphs the interval certificate cannot settle, where
    # the solver follows the ODE.
    ref, ref_converged, _, _ = prop._score_python(G, semantics, tolerance=1e-12,
                                                  max_steps=200_000)
    result = score_graph(G, semantics, tolerance=1e-12)
    assume(ref_converged and result.converged)
    event(f"cyclic stages solved by: {', '.join(sorted(set(result.methods))) or 'none'}")
    for node in G:
        assert result.strengths[node] == pytest.approx(ref[node], abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(G=graphs(acyclic=True, max_nodes=12), semantics=st.sampled_from(ALL))
def test_fast_solver_matches_reference_on_acyclic_graphs(G, semantics):
    ref, converged, steps, _ = prop._score_python(G, semantics)
    result = score_graph(G, semantics)
    assert converged and steps == 0 and result.converged
    for node in G:
        assert result.strengths[node] == pytest.approx(ref[node], abs=1e-12)


def test_reference_agreement_on_a_larger_random_cyclic_graph():
    rng = np.random.default_rng(7)
    n = 60
    G = nx.DiGraph()
    G.add_nodes_from((i, {"credence": float(rng.random())}) for i in range(n))
    for _ in range(4 * n):
        a, b = rng.integers(0, n, 2)
        if a != b:
            G.add_edge(int(a), int(b), relation=rng.choice(["supports", "undermines"]),
                       weight=float(rng.uniform(0.05, 1)))
    for semantics in ALL:
        ref, converged, _, _ = prop._score_python(G, semantics, tolerance=1e-12)
        result = score_graph(G, semantics, tolerance=1e-12)
        assert converged and result.converged
        assert max(abs(result.strengths[v] - ref[v]) for v in G) < 1e-9


def unit_random_graph(n, seed):
    """n nodes, 5n edges of weight 1: too tightly coupled for the interval certificate."""
    rng = np.random.default_rng(seed)
    G = nx.DiGraph()
    G.add_nodes_from((i, {"credence": float(rng.random())}) for i in range(n))
    while G.number_of_edges() < 5 * n:
        a, b = rng.integers(0, n, 2)
        if a != b:
            G.add_edge(int(a), int(b), relation=str(rng.choice(["supports", "undermines"])),
                       weight=1.0)
    return G


@pytest.mark.parametrize("seed, semantics, method", [
    (0, "qe", "ode"), (1, "qe", "ode+ball"), (1, "dfquad", "ode+ball"), (2, "dfquad", "ode+ball")])
def test_ode_path_matches_reference(seed, semantics, method):
    G = unit_random_graph(30, seed)
    result = score_graph(G, semantics, tolerance=1e-12)
    assert result.converged and result.methods == [method]
    ref, converged, _, _ = prop._score_python(G, semantics, tolerance=1e-12)
    assert converged
    assert max(abs(result.strengths[v] - ref[v]) for v in G) < 1e-9


@settings(max_examples=40, deadline=None)
@given(G=graphs(max_nodes=10, ring=True), semantics=st.sampled_from(ALL))
def test_certified_iteration_and_ode_land_on_the_same_limit(G, semantics, monkeypatch_ode):
    certified = score_graph(G, semantics, tolerance=1e-12)
    with monkeypatch_ode():
        ode = score_graph(G, semantics, tolerance=1e-12)
    assume(certified.converged and ode.converged)
    for node in G:
        assert certified.strengths[node] == pytest.approx(ode.strengths[node], abs=1e-9)


@pytest.fixture(scope="module")
def monkeypatch_ode():
    """A context that makes the solver skip the certified iteration (ODE only)."""
    import contextlib

    @contextlib.contextmanager
    def ode_only():
        saved = prop.MAX_BOX_STEPS, prop._certify_ball
        prop.MAX_BOX_STEPS = 0
        prop._certify_ball = lambda stage, x, r, d, iterations: (None, d)
        try:
            yield
        finally:
            prop.MAX_BOX_STEPS, prop._certify_ball = saved

    return ode_only


# ---- convergence ---------------------------------------------------------------------------

@pytest.mark.parametrize("semantics", ["qe", "dfquad"])
def test_graph_where_plain_iteration_oscillates_converges(semantics):
    G = mutual_attack_clique()
    system = build_system(G)
    s = system.base.copy()
    states = []
    for _ in range(400):
        s = evaluate(system, semantics, s)
        states.append(s.copy())
    # s <- f(s) ends in a 2-cycle far from any fixed point ...
    assert np.allclose(states[-1], states[-3]) and np.max(np.abs(states[-1] - states[-2])) > 0.5
    # ... while the solver reaches the fixed point the ODE converges to.
    result = score_graph(G, semantics)
    assert result.converged and result.residual < 1e-9
    ref, converged, _, _ = prop._score_python(G, semantics, tolerance=1e-12)
    assert converged
    for node in G:
        assert result.strengths[node] == pytest.approx(ref[node], abs=1e-8)
    # The symmetric fixed point: s = 1 - h(3s) for qe, i.e. s = 1 / (1 + 9 s^2).
    if semantics == "qe":
        x = result.strengths[0]
        assert x == pytest.approx(1 / (1 + 9 * x * x), abs=1e-9)


@pytest.mark.parametrize("semantics", ["qe", "dfquad"])
def test_limit_cycle_is_reported_as_not_converged(semantics):
    result = score_graph(attack_ring(), semantics, max_steps=2000)
    assert not result.converged
    assert result.residual >= result.tolerance
    assert result.iterations >= 1900
    values = np.array(list(result.strengths.values()))
    assert np.all(np.isfinite(values)) and np.all((values >= 0) & (values <= 1))
    assert "did not converge" in result.message
    assert result.to_json(attack_ring())["converged"] is False


def test_a_tiny_step_budget_is_reported():
    result = score_graph(stock_example(), "qe", max_steps=2)
    assert not result.converged and result.residual > 1e-9
    assert all(0 <= v <= 1 for v in result.strengths.values())
    ok = score_graph(stock_example(), "qe")
    assert ok.converged and ok.message is None


def test_acyclic_graph_is_solved_in_one_pass_per_generation():
    result = score_graph(rago_example(), "dfquad")
    assert result.converged and result.residual == 0.0
    assert result.iterations == 3   # three generations: C*, P2 and P1/P3, A1/A2


def test_self_loop_is_a_cycle():
    G = qbaf({"a": 0.5}, supports=[("a", "a", 0.8)])
    for semantics in ALL:
        result = score_graph(G, semantics, tolerance=1e-12)
        ref = prop._score_python(G, semantics, tolerance=1e-12)[0]
        assert result.converged and result.strengths["a"] > 0.5
        assert result.strengths["a"] == pytest.approx(ref["a"], abs=1e-9)


def test_empty_graph():
    result = score_graph(nx.DiGraph())
    assert result.strengths == {} and result.converged and result.iterations == 0


# ---- semantics details ---------------------------------------------------------------------

def test_weight_scales_the_source_strength():
    one = score_graph(qbaf({"a": 0.8, "b": 0.5}, supports=[("a", "b", 0.5)]), "qe")
    two = score_graph(qbaf({"a": 0.4, "b": 0.5}, supports=[("a", "b", 1.0)]), "qe")
    assert one.strengths["b"] == pytest.approx(two.strengths["b"], abs=1e-15)
    e = 0.4
    assert one.strengths["b"] == pytest.approx(0.5 + 0.5 * e * e / (1 + e * e), abs=1e-15)


def test_parallel_edges_are_separate_parents():
    G = qbaf({"a": 0.6, "b": 0.5}, supports=[("a", "b"), ("a", "b")], multi=True)
    result = score_graph(G, "dfquad")
    assert result.strengths["b"] == pytest.approx(0.5 + 0.5 * (1 - 0.4 * 0.4), abs=1e-15)
    E = 1.2
    assert score_graph(G, "qe").strengths["b"] == pytest.approx(0.5 + 0.5 * E * E / (1 + E * E))


def test_dfquad_factor_of_exactly_zero():
    # u * s = 1: v = 1 exactly, no log(0), finite derivatives.
    G = qbaf({"a": 1.0, "b": 0.5, "c": 0.5}, supports=[("a", "b"), ("c", "b")],
             attacks=[("b", "c"), ("c", "c", 1.0)])
    result = score_graph(G, "dfquad", tolerance=1e-12)
    assert result.strengths["b"] == 1.0
    grad = gradient(result.system, "dfquad", result.vector, result.system.index["b"])
    assert np.all(np.isfinite(grad))


def test_euler_based_bounds():
    G = qbaf({"z": 0.0, "w": 0.6, "x": 1.0}, attacks=[("x", "z"), ("x", "w")],
             supports=[("w", "z")])
    s = score_graph(G, "eb").strengths
    assert s["z"] == 0.0
    assert s["w"] >= 0.6 ** 2 - 1e-15
    assert s["w"] == pytest.approx(1 - (1 - 0.36) / (1 + 0.6 * math.exp(-1)), abs=1e-15)


def test_semantics_registry_pairs_aggregation_and_influence():
    assert [SEMANTICS[n].aggregation.name for n in ALL] == ["sum", "product", "sum"]
    assert [SEMANTICS[n].influence.name for n in ALL] == ["quadratic maximum", "linear",
                                                          "exponential"]


# ---- re-solving, overrides -----------------------------------------------------------------

def test_resolving_with_other_credences_and_weights():
    G = stock_example()
    system = build_system(G)
    base = system.base.copy()
    base[system.index["5"]] = 0.2
    weight = system.weight.copy()
    weight[system.edge_positions("Sell", "Buy", "undermines")] = 0.3
    s, info = solve(system, "qe", base=base, weights=weight, tolerance=1e-12)
    H = G.copy()
    H.nodes["5"]["credence"] = 0.2
    H.edges["Sell", "Buy"]["weight"] = 0.3
    expected = prop._score_python(H, "qe", tolerance=1e-12)[0]
    assert info.converged
    assert max(abs(s[system.index[v]] - expected[v]) for v in G) < 1e-9
    via_dicts = score_graph(G, "qe", tolerance=1e-12, credences={"5": 0.2},
                            weights={("Sell", "Buy", "undermines"): 0.3})
    assert via_dicts.strengths == pytest.approx(expected, abs=1e-9)
    assert via_dicts.credences["5"] == 0.2
    assert score_system(system, "qe").strengths == score_graph(G, "qe").strengths


@pytest.mark.parametrize("kwargs, message", [
    ({"credences": {"nope": 0.5}}, "unknown node 'nope'"),
    ({"credences": {"Buy": 1.5}}, "credence of node 'Buy' is 1.5"),
    ({"weights": {("Buy", "1", "supports"): 0.5}}, "unknown edge Buy -supports-> 1"),
    ({"weights": {("Sell", "Buy", "undermines"): -0.1}}, "weight of edge"),
    ({"tolerance": 0}, "tolerance must be"),
    ({"tolerance": 1.0}, "tolerance must be"),
    ({"max_steps": 0}, "max_steps must be"),
])
def test_bad_overrides_and_options(kwargs, message):
    with pytest.raises(PropagationError, match=message.replace("(", r"\(")):
        score_graph(stock_example(), "qe", **kwargs)


def test_bad_graphs_and_semantics():
    with pytest.raises(PropagationError, match="unknown semantics 'xx'"):
        score_graph(stock_example(), "xx")
    G = qbaf({"a": 0.5, "b": float("nan")})
    with pytest.raises(PropagationError, match="credence of node 'b' is nan"):
        build_system(G)
    G = qbaf({"a": 0.5, "b": 0.5})
    G.add_edge("a", "b", relation="attacks")
    with pytest.raises(PropagationError, match="relation 'attacks'"):
        build_system(G)
    G = qbaf({"a": 0.5, "b": 0.5}, supports=[("a", "b", 2.0)])
    with pytest.raises(PropagationError, match="weight of edge 'a' -> 'b'"):
        build_system(G)


def test_defaults_for_missing_attributes():
    G = nx.DiGraph()
    G.add_edge("a", "b", relation="supports")
    result = score_graph(G, "dfquad")
    assert result.credences == {"a": 0.5, "b": 0.5}
    assert result.strengths["b"] == pytest.approx(0.75)


def test_to_json_shape():
    G = stock_example()
    for node in ("Buy", "Sell"):
        G.nodes[node]["kind"] = "model"
    data = score_graph(G, "eb").to_json(G)
    assert set(data) == {"semantics", "converged", "iterations", "residual", "nodes", "models"}
    assert data["models"] == ["Buy", "Sell"]
    assert data["nodes"]["Buy"] == {"kind": "model", "credence": 0.5,
                                    "strength": pytest.approx(STOCK["eb"]["Buy"], abs=1e-8)}
    json.dumps(data)


# ---- derivatives and contributions ---------------------------------------------------------

def _finite_difference(G, semantics, node=None, edge=None, target=None, h=1e-6):
    def at(delta):
        H = G.copy()
        if node is not None:
            H.nodes[node]["credence"] += delta
        else:
            H.edges[edge]["weight"] += delta
        return score_graph(H, semantics, tolerance=1e-14).strengths[target]
    return (at(h) - at(-h)) / (2 * h)


@pytest.mark.parametrize("semantics", ALL)
@pytest.mark.parametrize("example", [stock_example, rago_example])
def test_gradient_matches_finite_differences(semantics, example):
    G = example()
    # Keep credences and weights off the boundary so that both sides of the difference exist.
    for node in G:
        G.nodes[node]["credence"] = min(max(G.nodes[node]["credence"], 0.05), 0.95)
    for source, target in G.edges:
        G.edges[source, target]["weight"] = 0.9
    result = score_graph(G, semantics, tolerance=1e-14)
    system = result.system
    sens = Sensitivity(system, semantics, result.vector)
    for target in [v for v in ("A1", "A2", "P2", "Buy", "Sell", "1") if v in G]:
        t = system.index[target]
        by_credence = sens.credence_gradient(t)
        assert np.allclose(by_credence, gradient(system, semantics, result.vector, t))
        for node in G:
            fd = _finite_difference(G, semantics, node=node, target=target)
            assert by_credence[system.index[node]] == pytest.approx(fd, abs=2e-6), (target, node)
        by_weight = sens.weight_gradient(t)
        for e, (source, dest, _) in enumerate(system.edges):
            fd = _finite_difference(G, semantics, edge=(source, dest), target=target)
            assert by_weight[e] == pytest.approx(fd, abs=2e-6), (target, source, dest)


def test_jacobian_vector_product_matches_finite_differences():
    G = stock_example()
    system = build_system(G)
    s, _ = solve(system, "qe")
    J = jacobian(system, "qe", s)
    v = np.random.default_rng(0).normal(size=system.n_nodes)
    h = 1e-6
    fd = (evaluate(system, "qe", s + h * v) - evaluate(system, "qe", s - h * v)) / (2 * h)
    assert np.allclose(J @ v, fd, atol=1e-7)


def test_gradient_rejects_a_node_id():
    result = score_graph(stock_example())
    with pytest.raises(PropagationError, match="node index"):
        gradient(result.system, "qe", result.vector, "Buy")


@pytest.mark.parametrize("semantics", ALL)
def test_edge_contributions_are_removal_differences(semantics):
    for G, target in ((rago_example(), "A1"), (rago_example(), "A2"), (stock_example(), "Buy")):
        result = score_graph(G, semantics, tolerance=1e-13)
        rows = edge_contributions(result, target)
        assert len(rows) == G.in_degree(target)
        for row in rows:
            H = G.copy()
            H.remove_edge(row["source"], target)
            without = score_graph(H, semantics, tolerance=1e-13).strengths[target]
            assert row["contribution"] == pytest.approx(result.strengths[target] - without,
                                                        abs=1e-9)
            assert (row["contribution"] >= -1e-12) == (row["relation"] == "supports")


@settings(max_examples=60, deadline=None)
@given(graphs(min_weight=0.0), st.sampled_from(ALL))
def test_ranking_contributions_equal_edge_contributions(G, semantics):
    """ranking's vectorised contributions (targets on no cycle) are edge_contributions'."""
    from graph.solving.propagation import _acyclic_contributions

    result = score_graph(G, semantics)
    targets = [v for v in G if not result.system.cyclic[result.system.index[v]]]
    fast = _acyclic_contributions(result, targets)
    for target in targets:
        slow = edge_contributions(result, target)
        assert [(r["source"], r["relation"]) for r in fast[target]] == \
            [(r["source"], r["relation"]) for r in slow]
        for a, b in zip(fast[target], slow):
            assert a["contribution"] == pytest.approx(b["contribution"], abs=1e-12)
            if abs(b["contribution"]) > 1e-12:   # the same edge pushes up (or down)
                assert (a["contribution"] > 0) == (b["contribution"] > 0)


# ---- takeoff score -------------------------------------------------------------------------

def _write_ring(root, groups=5, size=4):
    """The attack ring as a corpus: every node of a group undermines every node of the next.
    One node is a model: the ranking solves the system again per model, and each solve of a
    ring that never converges runs the whole step budget."""
    from helpers import write_node

    rng = np.random.default_rng(1)
    for g in range(groups):
        for i in range(size):
            targets = "".join(f"\n  - target: g{(g + 1) % groups}n{j}" for j in range(size))
            write_node(root, f"g{g}n{i}", f"---\nkind: {'model' if g == i == 0 else 'claim'}\n"
                       f"title: node {g}.{i}\ncredence: {rng.uniform(0.8, 1):.3f}\n"
                       f"undermines:{targets}\n---\n")
    return root


def test_score_table_ranks_the_models(small_corpus, run):
    from graph.files.corpus import Corpus

    result = run(small_corpus, "score")
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.stdout.splitlines()]  # piped: tab-separated
    assert lines[0] == ["#", "model", "credence", "strength", "shift", "pushed up by",
                        "pushed down by"]
    expected = score_graph(Corpus.load(small_corpus).graph, "qe").strengths["m1"]
    assert len(lines) == 2 and lines[1][:2] == ["1", "m1"]
    assert lines[1][3:5] == [f"{expected:.3f}", f"{expected - 0.5:+.3f}"]
    assert lines[1][5].endswith(" c1") and lines[1][6].endswith(" c2")  # up by c1, down by c2
    assert "e1" not in result.stdout            # only the models without --all
    assert "converged" in result.stderr


def test_score_json(small_corpus, run):
    from graph.files.corpus import Corpus

    result = run(small_corpus, "score", "--semantics", "dfquad", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"semantics", "converged", "iterations", "residual", "nodes", "models"} <= set(data)
    assert data["semantics"] == "dfquad" and data["converged"] is True
    assert data["models"] == ["m1"]
    assert set(data["nodes"]) == {"m1", "c1", "c2", "e1"}
    # DF-QuAD by hand: c1 = 0.6 + 0.4 * 0.5 * 0.9; m1 = 0.5 + 0.5 * (0.8 * c1 - 0.5).
    c1 = 0.6 + 0.4 * 0.45
    assert data["nodes"]["c1"] == {"kind": "claim", "credence": 0.6,
                                   "strength": pytest.approx(c1, abs=1e-12)}
    assert data["nodes"]["m1"]["strength"] == pytest.approx(0.5 + 0.5 * (0.8 * c1 - 0.5),
                                                            abs=1e-12)
    top = data["ranking"][0]
    assert top["id"] == "m1" and top["up"]["source"] == "c1" and top["down"]["source"] == "c2"
    assert top["down"]["contribution"] < 0 < top["up"]["contribution"]
    graph = Corpus.load(small_corpus).graph
    assert data["nodes"]["m1"]["strength"] == score_graph(graph, "dfquad").strengths["m1"]


def test_score_all_lists_every_node(small_corpus, run):
    result = run(small_corpus, "score", "--all", "--semantics", "eb")
    assert result.exit_code == 0, result.output
    for node in ("m1", "c1", "c2", "e1"):
        assert node in result.stdout
    assert "kind" in result.stdout.splitlines()[0] and "pushed down by" in result.stdout


@pytest.mark.parametrize("args, name", [
    (["--tolerance", "0"], "--tolerance"),
    (["--tolerance", "1"], "--tolerance"),
    (["--tolerance", "-1e-3"], "--tolerance"),
    (["--tolerance", "tiny"], "--tolerance"),
    (["--semantics", "hits"], "--semantics"),
])
def test_score_bad_arguments_are_usage_errors(small_corpus, run, args, name):
    result = run(small_corpus, "score", *args)
    assert result.exit_code == 2
    assert name in result.stderr and "Traceback" not in result.output


def test_score_on_an_invalid_corpus(small_corpus, run):
    path = small_corpus / "c2.md"
    path.write_text(path.read_text().replace("kind: claim", "kind: claim\ncredence: 7"))
    result = run(small_corpus, "score")
    assert result.exit_code == 1
    assert "c2.md" in result.stderr and "credence" in result.stderr
    assert "Traceback" not in result.output


def test_score_that_does_not_converge_warns_and_exits_0(tmp_path, run):
    root = _write_ring(tmp_path / "claims")
    result = run(root, "score", "--json")
    assert result.exit_code == 0, result.output
    assert "warning: the qe strengths did not converge" in result.stderr
    data = json.loads(result.stdout)
    assert data["converged"] is False and data["residual"] >= 1e-9
    assert all(0 <= node["strength"] <= 1 for node in data["nodes"].values())
    table = run(root, "score")
    assert table.exit_code == 0 and "NOT converged" in table.stderr


def test_show_gains_the_strength(small_corpus, run):
    from graph.files.corpus import Corpus

    expected = score_graph(Corpus.load(small_corpus).graph, "qe").strengths["m1"]
    result = run(small_corpus, "show", "m1")
    assert result.exit_code == 0, result.output
    assert f"strength {expected:.3f} (qe)" in result.stdout
    data = json.loads(run(small_corpus, "show", "m1", "--json").stdout)
    assert data["strength"] == expected


def test_cli_semantics_are_checked_against_the_registry(small_corpus, run):
    result = run(small_corpus, "score", "--semantics", "hcat")
    assert result.exit_code == 2 and "--semantics" in result.stderr
    assert ", ".join(SEMANTICS) in result.stderr


def test_score_shows_the_top_rows_and_says_how_many_are_left_out(run):
    from helpers import REPO

    table = run(REPO / "claims", "score", "--top", "2")
    assert table.exit_code == 0, table.output
    assert "more not shown (of" in table.output
    data = json.loads(run(REPO / "claims", "score", "--json", "--top", "2").stdout)
    assert len(data["ranking"]) == 2 and len(data["models"]) == 6


# ---- the engine against the reference, for every command that solves ---------------------
# Each command's numbers come from graph.solving.batch.Engine (score: graph.solving.propagation.solve); here
# each is recomputed from graph.solving.propagation._score_python, the plain-Python reference, on the
# graph the command's variant stands for (a node removed, a credence set, the graph as of a
# date, a perspective applied, a sample of the inputs).

REFERENCE_EXAMPLES = 12
AGREE = 1e-6   # both stop at a residual below 1e-9 (the reference at 1e-12)


@st.composite
def corpus_graphs(draw, max_nodes=7):
    """Small corpus graphs, acyclic or not: two models last, claims and dated or undated
    evidence, one relation per pair of nodes, weights in [0.05, 1]."""
    import datetime as dt

    acyclic = draw(st.booleans())
    n = draw(st.integers(3, max_nodes))
    G = nx.MultiDiGraph()
    for i in range(n):
        kind = "model" if i >= n - 2 else draw(st.sampled_from(["claim", "evidence"]))
        date = draw(st.one_of(st.none(), st.dates(dt.date(2024, 1, 1), dt.date(2025, 12, 31)))) \
            if kind == "evidence" else None
        G.add_node(f"n{i}", kind=kind, title=f"node {i}", credence=draw(st.floats(0, 1)),
                   date=date)
    edge = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.booleans(),
                     st.floats(0.05, 1))
    for a, b, support, weight in draw(st.lists(edge, max_size=3 * n)):
        if a == b or (acyclic and a >= b) or G.has_edge(f"n{a}", f"n{b}"):
            continue
        relation = "supports" if support else "undermines"
        G.add_edge(f"n{a}", f"n{b}", key=relation, relation=relation, weight=weight, note="")
    return G


def reference(G, semantics):
    """The reference strengths of G (the example is dropped if they do not converge)."""
    strengths, converged, _, _ = prop._score_python(G, semantics, tolerance=1e-12,
                                                    max_steps=100_000)
    assume(converged)
    return strengths


def with_credence(G, node, value):
    H = G.copy()
    H.nodes[node]["credence"] = value
    return H


reference_settings = settings(max_examples=REFERENCE_EXAMPLES, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow,
                                                     HealthCheck.filter_too_much])


@reference_settings
@given(G=corpus_graphs(), semantics=st.sampled_from(ALL), data=st.data())
def test_engine_columns_equal_the_reference(G, semantics, data):
    """Columns of credences, weights, edge masks and presence masks, each one the reference
    on the graph it stands for."""
    from graph.solving.batch import solve_columns

    system = build_system(G)
    k = 3
    draw = lambda strategy, size: np.array(data.draw(st.lists(strategy, min_size=size,  # noqa
                                                              max_size=size)))
    base = draw(st.floats(0, 1), system.n_nodes * k).reshape(system.n_nodes, k)
    weights = draw(st.floats(0, 1), system.n_edges * k).reshape(system.n_edges, k)
    mask = draw(st.booleans(), system.n_edges * k).reshape(system.n_edges, k).astype(bool)
    present = draw(st.booleans(), system.n_nodes * k).reshape(system.n_nodes, k).astype(bool)
    S, ok = solve_columns(system, semantics, base=base, weights=weights, edge_mask=mask,
                          present=present)
    for c in range(k):
        H = nx.MultiDiGraph()
        for i, node in enumerate(system.ids):
            if present[i, c]:
                H.add_node(node, credence=float(base[i, c]))
        for e, (u, v, relation) in enumerate(system.edges):
            if mask[e, c] and u in H and v in H:
                H.add_edge(u, v, key=relation, relation=relation, weight=float(weights[e, c]))
        expected = reference(H, semantics)
        assert ok[c]
        for i, node in enumerate(system.ids):
            assert S[i, c] == pytest.approx(expected.get(node, 0.0), abs=AGREE)


@reference_settings
@given(G=corpus_graphs(), semantics=st.sampled_from(ALL))
def test_score_equals_the_reference(G, semantics):
    expected = reference(G, semantics)
    result = score_graph(G, semantics)
    assert result.converged
    for node in G:
        assert result.strengths[node] == pytest.approx(expected[node], abs=AGREE)


@reference_settings
@given(G=corpus_graphs(), semantics=st.sampled_from(ALL))
def test_why_equals_the_reference(G, semantics):
    from graph.explaining.explain import why

    target = f"n{len(G) - 1}"
    present = reference(G, semantics)[target]
    for row in why(G, target, semantics):
        smaller = G.copy()
        smaller.remove_node(row["id"])
        without = reference(smaller, semantics)[target]
        assert row["converged"]
        assert row["without"] == pytest.approx(without, abs=AGREE)
        assert row["impact"] == pytest.approx(present - without, abs=AGREE)


@reference_settings
@given(G=corpus_graphs(), semantics=st.sampled_from(ALL))
def test_cruxes_equal_the_reference(G, semantics):
    from graph.explaining.explain import cruxes

    a, b = f"n{len(G) - 2}", f"n{len(G) - 1}"
    for row in cruxes(G, a, b, semantics, top=3):
        for value, key in ((0.0, "gap_at_0"), (1.0, "gap_at_1")):
            s = reference(with_credence(G, row["id"], value), semantics)
            assert row[key] == pytest.approx(s[a] - s[b], abs=AGREE)
        if row["flip"] is not None:   # the credence found does rank the pair the other way
            s = reference(with_credence(G, row["id"], row["flip"]), semantics)
            now = reference(G, semantics)
            assert (s[a] - s[b] < 0) == (now[a] - now[b] >= 0) or \
                abs(s[a] - s[b]) < AGREE
        assert row["converged"]


@reference_settings
@given(G=corpus_graphs(), semantics=st.sampled_from(ALL))
def test_history_equals_the_reference(G, semantics):
    import datetime as dt

    from graph.solving.timeline import as_of_graph, history

    data = history(G, start=dt.date(2023, 12, 1), end=dt.date(2026, 1, 1), step="quarter",
                   semantics=semantics, nodes=list(G))
    for i, day in enumerate(data["dates"]):
        expected = reference(as_of_graph(G, dt.date.fromisoformat(day)), semantics)
        assert data["converged"][i]
        for node in G:
            got = data["strengths"][node][i]
            assert (got is None) == (node not in expected)
            if got is not None:
                assert got == pytest.approx(expected[node], abs=AGREE)


@reference_settings
@given(G=corpus_graphs(), semantics=st.sampled_from(ALL), data=st.data())
def test_compare_equals_the_reference(G, semantics, data):
    from pathlib import Path

    from graph.files.corpus import Corpus
    from graph.files.perspectives import Perspective
    from graph.explaining.perspective import apply_perspective, compare, shapley_reference

    nodes, edges = sorted(G), sorted({(u, v) for u, v in G.edges()})
    value = st.floats(0, 1)
    views = []
    for name in ("p", "q"):
        credences = {n: data.draw(value) for n in data.draw(st.sets(st.sampled_from(nodes),
                                                                    max_size=2))}
        weights = {e: data.draw(value) for e in (data.draw(st.sets(st.sampled_from(edges),
                                                                   max_size=1)) if edges else ())}
        views.append(Perspective(name, credences=credences, weights=weights))
    p, q = views
    out = compare(Corpus(Path("."), G), p, q, semantics=semantics)
    models = [row["id"] for row in out["models"]]
    first, second = (reference(apply_perspective(G, v), semantics) for v in (p, q))
    assert out["converged"]
    for row in out["models"]:
        assert row["strength"]["p"] == pytest.approx(first[row["id"]], abs=AGREE)
        assert row["strength"]["q"] == pytest.approx(second[row["id"]], abs=AGREE)
    # The attribution: the textbook Shapley sum over orders, each coalition scored by the
    # reference on the graph with those overrides switched to q's values.
    items = [tuple(o["override"] for o in out["overrides"])]
    switched = {o["override"]: o for o in out["overrides"]}

    def game(coalition):
        credences, weights = dict(p.credences), dict(p.weights)
        for label in coalition:
            o = switched[label]
            if o["kind"] == "credence":
                credences[o["node"]] = o["values"]["q"]
            else:
                weights[(o["source"], o["target"])] = o["values"]["q"]
        s = reference(apply_perspective(G, Perspective("x", credences=credences,
                                                       weights=weights)), semantics)
        return np.array([s[m] for m in models])

    expected = shapley_reference(game, items[0])
    for label, o in switched.items():
        for j, m in enumerate(models):
            assert o["contributions"][m] == pytest.approx(expected[label][j], abs=AGREE)


@reference_settings
@given(G=corpus_graphs(), semantics=st.sampled_from(ALL))
def test_robustness_equals_the_reference(G, semantics):
    """Every sample of the inputs scored by the reference: the same mean and P(first)."""
    from scipy.stats import qmc

    from graph.solving.robustness import rank_shares, robustness, uncertain_inputs
    from graph.core.uncertainty import sample

    samples, spread = 6, 0.1
    out = robustness(G, samples=samples, semantics=(semantics,), spread=spread,
                     weight_spread=spread)
    system = build_system(G)
    inputs = uncertain_inputs(G, system, spread=spread, weight_spread=spread)
    u = qmc.LatinHypercube(d=len(inputs), seed=np.random.default_rng(0)).random(samples)
    models = [n for n in system.ids if G.nodes[n]["kind"] == "model"]
    strengths = np.empty((len(models), samples))
    for c in range(samples):
        H = G.copy()
        for j, item in enumerate(inputs):
            x = float(sample(item["dist"], u[c:c + 1, j])[0])
            if item["kind"] == "credence":
                H.nodes[system.ids[item["index"]]]["credence"] = x
            else:
                source, target, relation = system.edges[item["index"]]
                H.edges[source, target, relation]["weight"] = x
        s = reference(H, semantics)
        strengths[:, c] = [s[m] for m in models]
    assert out["converged"]
    shares = rank_shares(strengths)
    for row in out["models"]:
        i = models.index(row["id"])
        assert row["mean"] == pytest.approx(strengths[i].mean(), abs=AGREE)
        assert row["p_first"] == pytest.approx(shares[i, 0], abs=1e-12) or \
            np.min(np.abs(np.diff(np.sort(strengths[:, :], axis=0), axis=0))) < 1e-6
