"""Uncertain credences and weights, the batched solve, and `takeoff robustness`."""
import json

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from graph.solving.batch import solve_columns
from graph.files.edit import init_corpus
from graph.files.corpus import Corpus
from graph.solving.propagation import SEMANTICS, build_system, score_graph, solve
from graph.solving.robustness import first_order_indices, robustness, uncertain_inputs
from graph.core.uncertainty import UncertaintyError, beta_parameters, parse_distribution, sample

from helpers import REPO, Page, snapshot, write_node


# ---------------------------------------------------------------- the batched solve

def random_graph(rng, n, m, cyclic):
    G = nx.MultiDiGraph()
    for i in range(n):
        G.add_node(f"n{i}", credence=float(rng.random()))
    for _ in range(m):
        a, b = (int(v) for v in rng.integers(n, size=2))
        if a == b or (not cyclic and a > b):
            continue
        relation = "supports" if rng.random() < 0.6 else "undermines"
        if not any(G.has_edge(f"n{a}", f"n{b}", key=r) for r in ("supports", "undermines")):
            G.add_edge(f"n{a}", f"n{b}", key=relation, relation=relation,
                       weight=float(rng.uniform(0.05, 1)))
    return G


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cyclic=st.booleans(), semantics=st.sampled_from(list(SEMANTICS)))
def test_batched_solve_equals_one_solve_per_column(seed, cyclic, semantics):
    rng = np.random.default_rng(seed)
    system = build_system(random_graph(rng, 12, 30, cyclic))
    m = 8
    base = rng.random((system.n_nodes, m))
    weights = rng.uniform(0, 1, (system.n_edges, m))
    S, ok = solve_columns(system, semantics, base=base, weights=weights, tolerance=1e-13)
    assert ok.all()
    for c in range(m):
        s, info = solve(system, semantics, base=base[:, c], weights=weights[:, c], tolerance=1e-13)
        assert info.converged
        np.testing.assert_allclose(S[:, c], s, rtol=0, atol=1e-12)


def test_batched_solve_refuses_values_outside_the_unit_interval():
    G = random_graph(np.random.default_rng(0), 4, 6, False)
    system = build_system(G)
    with pytest.raises(ValueError, match="credence must be a number in"):
        solve_columns(system, base=np.full((system.n_nodes, 2), 1.5))


# ---------------------------------------------------------------- distributions

def test_mean_and_spread_give_a_beta_with_those_moments():
    from scipy.stats import beta

    a, b = beta_parameters({"mean": 0.7, "spread": 0.15})
    assert beta.mean(a, b) == pytest.approx(0.7) and beta.std(a, b) == pytest.approx(0.15)


def test_low_and_high_are_the_5_and_95_percent_quantiles():
    from scipy.stats import beta

    params = beta_parameters({"low": 0.5, "high": 0.9})
    assert beta.ppf([0.05, 0.95], *params) == pytest.approx([0.5, 0.9], abs=1e-6)
    point, _ = parse_distribution({"low": 0.5, "high": 0.9})
    assert point == pytest.approx(beta.mean(*params))


@pytest.mark.parametrize("value, message", [
    ({"mean": 0.95, "spread": 0.3}, "no Beta distribution has mean 0.95"),
    ({"mean": 1.0, "spread": 0.1}, "no distribution on [0, 1] has mean 1"),
    ({"low": 0.9, "high": 0.5}, "low 0.9 is above high 0.5"),
    ({"mean": 0.5}, "a distribution is {mean: M, spread: S}"),
    ({"mean": 0.5, "sd": 0.1}, "not {mean, sd}"),
    ({"mean": "high", "spread": 0.1}, "mean must be a number"),
    ({"low": -0.1, "high": 0.5}, "low -0.1 must be in [0, 1]"),
])
def test_impossible_distributions_are_refused_with_the_reason(value, message):
    with pytest.raises(UncertaintyError, match=__import__("re").escape(message)):
        parse_distribution(value)


def test_samples_follow_the_distribution():
    from scipy.stats import beta

    u = (np.arange(20000) + 0.5) / 20000
    for dist in ({"mean": 0.7, "spread": 0.15}, {"low": 0.05, "high": 0.4}):
        exact = beta.ppf(u, *beta_parameters(dist))
        assert np.max(np.abs(sample(dist, u) - exact)) < 1e-4
    assert (sample({"mean": 0.3, "spread": 0.0}, u) == 0.3).all()



def test_many_distributions_at_once_give_what_each_gives_alone():
    """The batched sampler is the one-distribution formula, number for number: Betas by moments
    and by interval, one touching 0, points, repeated distributions, uniforms at the ends."""
    from graph.core.uncertainty import Sampler

    rng = np.random.default_rng(1)
    dists = [{"mean": float(m), "spread": 0.1} for m in np.round(rng.uniform(0.05, 0.95, 20), 2)]
    dists += [{"low": 0.2, "high": 0.7}, {"low": 0.0, "high": 0.3}, {"mean": 0.3, "spread": 0.0},
              {"low": 0.5, "high": 0.5}, {"mean": 0.5, "spread": 0.4}, dists[0]]
    u = rng.random((len(dists), 500))
    u[0, :3] = [0.0, 1.0 - 1e-17, 1e-300]
    rows = rng.permutation(len(dists))
    together = Sampler(dists)(rows, u[rows])
    for i, j in enumerate(rows):
        np.testing.assert_array_equal(together[i], sample(dists[j], u[j]))
        assert together[i].min() >= 0.0 and together[i].max() <= 1.0
    assert (together[list(rows).index(len(dists) - 4)] == 0.3).all()


@pytest.mark.parametrize("dims, counts, seed", [(1, [7], 0), (5, [40, 13], 3), (300, [64], 11)])
def test_the_latin_hypercube_draws_scipys_numbers(dims, counts, seed):
    """The sampler without scipy.stats draws what scipy.stats.qmc.LatinHypercube draws from the
    same seed, chunk after chunk, and its strata are the ranks of the samples."""
    from scipy.stats import qmc

    from graph.solving.robustness import LatinHypercube

    theirs = qmc.LatinHypercube(d=dims, seed=np.random.default_rng(seed))
    ours = LatinHypercube(dims, seed)
    for count in counts:
        expected = theirs.random(count)
        cube = ours.random(count)
        np.testing.assert_array_equal(cube.uniforms(0, dims).T, expected)
        np.testing.assert_array_equal(cube.strata, np.argsort(np.argsort(expected, axis=0),
                                                              axis=0).T)


def test_the_examples_in_the_docstrings_hold():
    import doctest

    import graph.solving.batch
    import graph.solving.robustness
    import graph.core.uncertainty

    for module in (graph.solving.robustness, graph.solving.batch, graph.core.uncertainty):
        assert doctest.testmod(module).failed == 0, module.__name__

def test_the_indices_from_a_latin_hypercubes_strata_are_those_from_its_samples():
    from graph.solving.robustness import LatinHypercube, indices_from_ranks

    cube = LatinHypercube(60, 2).random(400)
    x = cube.uniforms(0, 60).T
    y = np.sin(6 * x[:, 3]) + x[:, 7] ** 2 + 0.1 * x[:, 50]
    labels = [f"x{j}" for j in range(60)]
    assert indices_from_ranks(cube.strata, y, labels, top=5) == \
        first_order_indices(x, y, labels, top=5)
    assert [r["input"] for r in indices_from_ranks(cube.strata, y, labels, top=2)] == \
        ["x3", "x7"]

UNCERTAIN = {
    "m": "---\nkind: model\ntitle: A path\ncredence: 0.5\n---\n",
    "c": ("---\nkind: claim\ntitle: A claim\ncredence: {mean: 0.6, spread: 0.15}\nsupports:\n"
          "  - target: m\n    weight: {low: 0.4, high: 0.9}\n    note: why\n---\nBody.\n"),
    "e": ("---\nkind: evidence\ntitle: Seen\ncredence: 0.8\ndate: 2025-01-02\nundermines:\n"
          "  - target: c\n    weight: 0.5\n---\n"),
}


@pytest.fixture
def uncertain(tmp_path):
    root = tmp_path / "claims"
    for node_id, text in UNCERTAIN.items():
        write_node(root, node_id, text)
    return root


def test_a_distribution_scores_as_its_mean(uncertain):
    corpus = Corpus.load(uncertain).require_valid()
    c = corpus.graph.nodes["c"]
    assert c["credence"] == 0.6 and c["credence_dist"] == {"mean": 0.6, "spread": 0.15}
    edge = corpus.graph.edges["c", "m", "supports"]
    assert edge["weight"] == pytest.approx(parse_distribution({"low": 0.4, "high": 0.9})[0])
    plain = corpus.graph.copy()
    for _, attrs in plain.nodes(data=True):
        attrs.pop("credence_dist", None)
    assert corpus.score().strengths == score_graph(plain).strengths


def test_check_reports_an_impossible_distribution_with_file_and_line(uncertain, run):
    path = uncertain / "c.md"
    path.write_text(path.read_text().replace("spread: 0.15", "spread: 0.6"))
    before = snapshot(uncertain)
    result = run(uncertain, "check")
    assert result.exit_code == 1
    assert "c.md:4: credence: no Beta distribution has mean 0.6 and spread" in result.output
    assert run(uncertain, "score").exit_code == 1
    assert snapshot(uncertain) == before


def test_set_writes_a_distribution_and_refuses_an_impossible_one(uncertain, run):
    result = run(uncertain, "set", "e", "credence", "{low: 0.6, high: 0.95}")
    assert result.exit_code == 0, result.output
    assert "credence: {low: 0.6, high: 0.95}\n" in (uncertain / "e.md").read_text()
    before = snapshot(uncertain)
    bad = run(uncertain, "set", "e", "credence", "{mean: 0.99, spread: 0.4}")
    assert bad.exit_code == 1 and "no Beta distribution has mean 0.99" in bad.output
    assert snapshot(uncertain) == before


@pytest.mark.parametrize("fmt", ["node-link", "turtle", "jsonld", "nt"])
def test_distributions_survive_export_and_import(uncertain, tmp_path, run, fmt):
    exported = run(uncertain, "export", "--format", fmt)
    assert exported.exit_code == 0, exported.output
    (tmp_path / "out").write_text(exported.output)
    copy = tmp_path / "copy"
    init_corpus(copy)
    result = run(copy, "import", tmp_path / "out", "--format", fmt)
    assert result.exit_code == 0, result.output
    for node_id in UNCERTAIN:
        assert (next(copy.rglob(f"{node_id}.md"))).read_text() == UNCERTAIN[node_id]


def test_shacl_accepts_the_distribution_terms(uncertain, run):
    pytest.importorskip("pyshacl")
    result = run(uncertain, "check", "--shacl")
    assert result.exit_code == 0 and "conforms" in result.output, result.output


def test_a_perspective_override_is_a_point(uncertain):
    from graph.files.perspectives import Perspective
    from graph.explaining.perspective import apply_perspective

    graph = Corpus.load(uncertain).graph
    view = apply_perspective(graph, Perspective("p", "", {"c": 0.2}, {("c", "m"): 0.3}))
    assert "credence_dist" not in view.nodes["c"] and "weight_dist" not in view.edges["c", "m", "supports"]
    assert "credence_dist" in graph.nodes["c"]


# ---------------------------------------------------------------- robustness

def points_only(graph):
    """The graph with every distribution dropped: plain numbers everywhere."""
    graph = graph.copy()
    for _, attrs in graph.nodes(data=True):
        attrs.pop("credence_dist", None)
    for _, _, attrs in graph.edges(data=True):
        attrs.pop("weight_dist", None)
    return graph


def test_zero_spread_gives_the_point_score():
    graph = points_only(Corpus.load(REPO / "claims").graph)
    out = robustness(graph, samples=50)
    point = score_graph(graph).strengths
    assert out["inputs"] == 0
    for row in out["models"]:
        assert row["mean"] == pytest.approx(point[row["id"]], abs=1e-12)
        assert row["low"] == pytest.approx(row["high"], abs=1e-12)
    leader = max((r for r in out["models"]), key=lambda r: r["point"])
    assert leader["p_first"] == 1.0


def test_the_same_seed_gives_the_same_numbers_and_another_seed_others(uncertain):
    graph = Corpus.load(uncertain).graph
    first = robustness(graph, samples=200, seed=3, spread=0.1)
    assert robustness(graph, samples=200, seed=3, spread=0.1) == first
    assert robustness(graph, samples=200, seed=4, spread=0.1)["models"] != first["models"]


def test_probabilities_add_up():
    graph = Corpus.load(REPO / "claims").graph
    out = robustness(graph, samples=300, spread=0.1, weight_spread=0.1)
    assert sum(r["p_first"] for r in out["models"]) == pytest.approx(1.0)
    for row in out["models"]:
        assert sum(row["ranks"]) == pytest.approx(1.0)
        assert row["low"] <= row["mean"] <= row["high"]
    assert [r["mean"] for r in out["models"]] == sorted((r["mean"] for r in out["models"]), reverse=True)


def test_sobol_estimator_matches_a_brute_force_computation(uncertain):
    """First-order indices of the model's strength, against Var(E[Y | x_j]) computed directly:
    for each of 200 values of x_j, E[Y | x_j] by 2,000 samples of the other inputs."""
    graph = Corpus.load(uncertain).graph
    system = build_system(graph)
    inputs = uncertain_inputs(graph, system, spread=0.1)
    d, model = len(inputs), system.index["m"]

    def strengths(u):
        base = np.repeat(system.base[:, None], len(u), axis=1)
        weights = np.repeat(system.weight[:, None], len(u), axis=1)
        for j, item in enumerate(inputs):
            (base if item["kind"] == "credence" else weights)[item["index"]] = sample(item["dist"], u[:, j])
        return solve_columns(system, "qe", base=base, weights=weights)[0][model]

    rng = np.random.default_rng(7)
    out = robustness(graph, samples=20000, spread=0.1, top_inputs=d)
    estimated = {s["input"]: s for s in out["sensitivity"]}
    total = np.var(strengths(rng.random((200_000, d))))
    for j, item in enumerate(inputs):
        u = rng.random((200 * 2000, d))
        u[:, j] = np.repeat((np.arange(200) + 0.5) / 200, 2000)
        conditional = strengths(u).reshape(200, 2000).mean(axis=1)
        exact = np.var(conditional) / total
        got = estimated[item["label"]]
        assert abs(got["index"] - exact) < 0.02 + 3 * got["error"], (item["label"], got, exact)


def test_the_estimator_finds_the_one_input_that_matters():
    rng = np.random.default_rng(0)
    x = rng.random((5000, 3))
    y = x[:, 1] ** 2 + 0.01 * rng.random(5000)
    result = first_order_indices(x, y, ["a", "b", "c"], top=3)
    assert result[0]["input"] == "b" and result[0]["index"] > 0.95
    assert all(r["index"] < 0.02 for r in result[1:])


def test_all_semantics_is_one_more_input():
    graph = points_only(Corpus.load(REPO / "claims").graph)
    out = robustness(graph, samples=300, semantics=tuple(SEMANTICS))
    assert out["semantics"] == list(SEMANTICS)
    assert [s["input"] for s in out["sensitivity"]] == ["semantics"]


# ---------------------------------------------------------------- the command

def test_robustness_command_prints_the_table_and_the_inputs(uncertain, run):
    result = run(uncertain, "robustness", "--samples", "400", "--spread", "0.1")
    assert result.exit_code == 0, result.output
    assert "90% interval" in result.output and "P(first)" in result.output
    assert "what moves m" in result.output and "credence c" in result.output


def test_robustness_json_and_plot(uncertain, run, tmp_path):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "r.png"
    result = run(uncertain, "robustness", "--samples", "100", "--json", "--plot", plot)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["inputs"] == 2 and data["models"][0]["id"] == "m"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, message", [
    (["--samples", "5"], "--samples"), (["--seed", "-1"], "--seed"),
    (["--spread", "0.9"], "--spread"), (["--plot", "x.txt"], "--plot"),
    (["--semantics", "nope"], "--semantics"),
])
def test_robustness_bad_arguments_are_usage_errors(uncertain, run, args, message):
    result = run(uncertain, "robustness", *args)
    assert result.exit_code == 2 and message in result.output


def test_tied_paths_share_the_ranks_they_span():
    from graph.solving.robustness import rank_shares

    strengths = np.array([[1.0, 0.2, 0.5], [1.0, 0.9, 0.5], [0.3, 0.1, 0.5]])
    shares = rank_shares(strengths)
    np.testing.assert_allclose(shares, [[(0.5 + 0 + 1 / 3) / 3, (0.5 + 1 + 1 / 3) / 3, 1 / 9],
                                        [(0.5 + 1 + 1 / 3) / 3, (0.5 + 0 + 1 / 3) / 3, 1 / 9],
                                        [1 / 9, 1 / 9, (1 + 1 + 1 / 3) / 3]])
    np.testing.assert_allclose(shares.sum(axis=0), 1.0)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)


def test_no_rank_share_is_negative():
    # Ties of a third: the difference array's running sums came back to -1.6e-17, which the
    # table printed as -0.00.
    from graph.solving.robustness import rank_shares

    strengths = np.random.default_rng(0).random((30, 7)).round(1)
    shares = rank_shares(strengths)
    assert shares.min() == 0.0
    np.testing.assert_allclose(shares.sum(axis=0), 1.0)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)


def test_the_page_shows_intervals_and_p_first(uncertain, tmp_path, run, browser):
    out = tmp_path / "map.html"
    result = run(uncertain, "html", "-o", out, "--robustness", "200", "--spread", "0.1")
    assert result.exit_code == 0, result.output
    data = robustness(Corpus.load(uncertain).graph, samples=200, spread=0.1)
    expected = data["models"][0]
    page = Page(browser, out)
    try:
        text = page.js("() => document.querySelector('.rank-robustness').textContent")
        assert text == (f"90% {expected['low']:.2f}–{expected['high']:.2f} · "
                        f"P(first) {expected['p_first']:.2f}")
        page.js("() => takeoff.openPanel('c')")
        assert "0.6 ± 0.15" in page.js("() => document.querySelector('.metrics').textContent")
        page.assert_clean()
    finally:
        page.close()


def test_takeoff_toml_sets_the_default_spreads(uncertain, run):
    plain = json.loads(run(uncertain, "robustness", "--samples", "50", "--json").stdout)
    (uncertain / "takeoff.toml").write_text('title = "U"\nspread = 0.1\nweight_spread = 0.05\n')
    spread = json.loads(run(uncertain, "robustness", "--samples", "50", "--json").stdout)
    assert (plain["inputs"], spread["inputs"]) == (2, 5)  # + the 2 plain credences, 1 plain weight
    assert (spread["spread"], spread["weight_spread"]) == (0.1, 0.05)
    given = json.loads(run(uncertain, "robustness", "--samples", "50", "--spread", "0", "--json").stdout)
    assert given["spread"] == 0 and given["inputs"] == 3
    (uncertain / "takeoff.toml").write_text("spread = 0.9\n")
    bad = run(uncertain, "robustness", "--samples", "50")
    assert bad.exit_code == 1 and "takeoff.toml:1: spread must be a number in [0, 0.5]" in bad.output


# ---------------------------------------------------------------- bounded memory

def test_samples_are_drawn_and_solved_in_chunks_of_bounded_memory(monkeypatch):
    import tracemalloc

    import graph.solving.robustness as rob

    graph = Corpus.load(REPO / "claims").graph
    system = build_system(graph)
    samples = 12_000
    whole = robustness(graph, samples=samples, spread=0.1, weight_spread=0.1)
    monkeypatch.setattr(rob, "CHUNK_FLOATS", 400_000)  # chunks of about 900 samples
    monkeypatch.setattr(rob, "MIN_CHUNK", 1)
    tracemalloc.start()
    chunked = robustness(graph, samples=samples, spread=0.1, weight_spread=0.1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # All the sampled inputs at once would take (nodes + edges + inputs) floats per sample.
    inputs = (system.n_nodes + system.n_edges + chunked["inputs"]) * samples * 8
    assert peak < inputs / 4, (peak, inputs)
    assert chunked["sensitivity_samples"] < samples == whole["sensitivity_samples"]
    for a, b in zip(whole["models"], chunked["models"]):
        assert a["id"] == b["id"] and abs(a["mean"] - b["mean"]) < 0.01


def test_too_many_samples_are_refused_with_a_message(monkeypatch):
    import graph.solving.robustness as rob
    from graph.core.model import TakeoffError

    graph = Corpus.load(REPO / "claims").graph
    with pytest.raises(TakeoffError, match="samples must be a whole number from 1 to 1,000,000"):
        robustness(graph, samples=1_000_001)
    monkeypatch.setattr(rob, "MAX_STRENGTHS", 1000)
    with pytest.raises(TakeoffError, match=r"from 1 to \d+ \(with \d+ models\)"):
        robustness(graph, samples=5000)


@pytest.mark.parametrize("point", [5e-324, 2.2250738585072014e-308, 1e-13, 1 - 1e-13])
def test_a_default_spread_leaves_a_credence_at_the_edge_fixed(point):
    # A Beta around a subnormal mean has NaN quantiles: such a number is not sampled.
    from graph.core.uncertainty import default_distribution

    assert default_distribution(point, 0.1) is None
    G = nx.MultiDiGraph()
    G.add_node("m", kind="model", credence=0.5)
    G.add_node("e", kind="evidence", credence=point)
    G.add_edge("e", "m", key="supports", relation="supports", weight=1.0)
    out = robustness(G, samples=20, spread=0.1)
    assert out["converged"] and out["inputs"] == 1
