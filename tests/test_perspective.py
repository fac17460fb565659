"""Perspectives: overlays of credences and weights, takeoff compare, and their files."""
import itertools
import json
import multiprocessing
import textwrap

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import REPO, snapshot, write_node
from graph.files.corpus import Corpus
from graph.files.perspectives import (
    BASE, Perspective, PerspectiveError, load_perspective, perspective_names,
)
from graph.explaining.perspective import (
    apply_perspective, compare, scope, shapley, shapley_reference,
)
from graph.files.perspective_edit import new_perspective, set_override
from graph.solving.propagation import score_graph

BUNDLED = REPO / "claims"
SHIPPED = ["bottlenecks-sceptic", "essay-author", "rlvr-optimist"]


@pytest.fixture
def corpus_root(tmp_path):
    """e -> c -> m (supports), d -| m (undermines), x -> y unrelated to m."""
    root = tmp_path / "claims"
    write_node(root, "m", "---\nkind: model\ntitle: A path\n---\n")
    write_node(root, "m2", "---\nkind: model\ntitle: Another path\n---\n")
    write_node(root, "c", "---\nkind: claim\ntitle: C\nsupports:\n  - target: m\n    weight: 0.8\n---\n")
    write_node(root, "d", "---\nkind: claim\ntitle: D\ncredence: 0.4\nundermines:\n  - target: m\n    weight: 0.5\n---\n")
    write_node(root, "e", "---\nkind: evidence\ntitle: E\ncredence: 0.9\ndate: 2025-01-01\nsupports:\n  - target: c\n---\n")
    write_node(root, "x", "---\nkind: claim\ntitle: X\nsupports:\n  - target: m2\n    weight: 0.6\n---\n")
    return root


def write_perspective(root, name, text):
    path = root / "perspectives" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


MINE = """
    # my view
    description: Mine
    credences:
      c: 0.9   # I believe c
      d: 0.1
    weights:
      - source: c
        target: m
        weight: 1.0
        note: c bears fully on m
"""


# ---------------------------------------------------------------- the shipped perspectives

@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_perspectives_are_valid_and_override_real_nodes(name):
    corpus = Corpus.load(BUNDLED).require_valid()
    perspective = load_perspective(corpus, name)
    assert perspective.description and (perspective.credences or perspective.weights)
    for node in perspective.credences:
        assert node in corpus.graph
    for source, target in perspective.weights:
        assert corpus.graph.has_edge(source, target)
    assert perspective_names(BUNDLED) == SHIPPED


def test_shipped_perspectives_part_over_naive_rlvr():
    corpus = Corpus.load(BUNDLED).require_valid()
    data = compare(corpus, "rlvr-optimist", "bottlenecks-sceptic")
    rows = {r["id"]: r for r in data["models"]}
    assert rows["naive-rlvr"]["difference"] < -0.1
    assert rows["naive-rlvr"]["rank"]["rlvr-optimist"] < rows["naive-rlvr"]["rank"]["bottlenecks-sceptic"]
    assert rows["bottlenecks"]["difference"] > 0


# ---------------------------------------------------------------- applying

def test_perspective_changes_only_what_it_overrides(corpus_root):
    write_perspective(corpus_root, "mine", MINE)
    corpus = Corpus.load(corpus_root).require_valid()
    perspective = load_perspective(corpus, "mine")
    base, seen = corpus.graph, scope(corpus, perspective="mine").graph
    for node in base:
        expected = perspective.credences.get(node, base.nodes[node]["credence"])
        assert seen.nodes[node]["credence"] == expected
        assert {k: v for k, v in seen.nodes[node].items() if k != "credence"} == \
               {k: v for k, v in base.nodes[node].items() if k != "credence"}
    for u, v, key, attrs in base.edges(keys=True, data=True):
        expected = perspective.weights.get((u, v), attrs["weight"])
        assert seen.edges[u, v, key]["weight"] == expected
    assert base.nodes["c"]["credence"] == 0.5  # the corpus graph is untouched
    before, after = score_graph(base).strengths, score_graph(seen).strengths
    touched = {"c", "d", "m"}  # overridden nodes and edge targets, and what they reach
    for node in base:
        if node not in touched:
            assert after[node] == before[node]
    assert after["m"] != before["m"]


@st.composite
def graphs_and_overrides(draw):
    n = draw(st.integers(2, 8))
    graph = nx.MultiDiGraph()
    for i in range(n):
        graph.add_node(f"n{i}", kind="claim", credence=draw(st.floats(0, 1)), date=None, title="t")
    for u, v in itertools.permutations(range(n), 2):
        if u < v and draw(st.booleans()):
            relation = draw(st.sampled_from(["supports", "undermines"]))
            graph.add_edge(f"n{u}", f"n{v}", key=relation, relation=relation,
                           weight=draw(st.floats(0.1, 1)), note="")
    nodes = draw(st.sets(st.sampled_from(sorted(graph)), max_size=3))
    edges = draw(st.sets(st.sampled_from(sorted((u, v) for u, v, _ in graph.edges(keys=True))),
                         max_size=3)) if graph.number_of_edges() else set()
    values = st.floats(0, 1)
    return graph, Perspective("p", credences={n: draw(values) for n in nodes},
                              weights={e: draw(values) for e in edges})


@settings(max_examples=100, deadline=None)
@given(graphs_and_overrides())
def test_overrides_reach_only_their_descendants(case):
    graph, perspective = case
    before = score_graph(graph).strengths
    after = score_graph(apply_perspective(graph, perspective)).strengths
    starts = set(perspective.credences) | {t for _, t in perspective.weights}
    reached = set(starts).union(*(nx.descendants(graph, n) for n in starts))
    for node in graph:
        if node not in reached:
            assert after[node] == before[node]


def test_base_is_the_corpus_as_written(corpus_root):
    corpus = Corpus.load(corpus_root)
    assert scope(corpus, perspective=BASE).graph is corpus.graph
    assert load_perspective(corpus, BASE).overrides() == {}


# ---------------------------------------------------------------- compare

def test_compare_with_itself_shows_no_difference(run):
    for name in SHIPPED + ["base"]:
        result = run(BUNDLED, "compare", name, name, "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["overrides"] == [] and data["method"] == "none"
        assert data["rank_agreement"] == {"kendall_tau": 1.0, "changed": 0}
        for row in data["models"]:
            assert row["difference"] == 0 and row["drivers"] == []
            assert row["rank"][name] == row["rank"][name]


def test_compare_matches_score_with_the_perspective(corpus_root):
    write_perspective(corpus_root, "mine", MINE)
    write_perspective(corpus_root, "other", "credences:\n  d: 0.9\n")
    corpus = Corpus.load(corpus_root).require_valid()
    data = compare(corpus, "mine", "other")
    for name in ("mine", "other"):
        expected = score_graph(scope(corpus, perspective=name).graph).strengths
        for row in data["models"]:
            assert row["strength"][name] == pytest.approx(expected[row["id"]], abs=1e-12)


def test_compare_attribution_adds_up_and_names_the_drivers(corpus_root):
    write_perspective(corpus_root, "mine", MINE)
    corpus = Corpus.load(corpus_root).require_valid()
    data = compare(corpus, "base", "mine")
    assert data["method"] == "exact"
    assert {r["override"] for r in data["overrides"]} == {
        "credence c", "credence d", "weight c -> m"}
    rows = {r["id"]: r for r in data["models"]}
    for row in data["models"]:
        total = sum(o["contributions"][row["id"]] for o in data["overrides"])
        assert total == pytest.approx(row["difference"], abs=1e-9)
    assert rows["m2"]["difference"] == 0 and rows["m2"]["drivers"] == []
    assert rows["m"]["difference"] > 0 and len(rows["m"]["drivers"]) == 3
    # the other way round, every number changes sign
    back = {r["id"]: r for r in compare(corpus, "mine", "base")["models"]}
    assert back["m"]["difference"] == pytest.approx(-rows["m"]["difference"], abs=1e-12)


def test_compare_only_counts_overrides_that_differ(corpus_root):
    write_perspective(corpus_root, "a", "credences:\n  c: 0.9\n  d: 0.4\n")   # d: the corpus value
    write_perspective(corpus_root, "b", "credences:\n  c: 0.9\n")
    corpus = Corpus.load(corpus_root).require_valid()
    data = compare(corpus, "a", "b")
    assert data["overrides"] == [] and all(r["difference"] == 0 for r in data["models"])


def test_compare_sampled_attribution_is_close_to_exact():
    corpus = Corpus.load(BUNDLED).require_valid()
    exact = compare(corpus, "rlvr-optimist", "base", exact_limit=20)
    sampled = compare(corpus, "rlvr-optimist", "base", exact_limit=0, samples=400, seed=3)
    assert exact["method"] == "exact" and sampled["method"] == "sampled"
    assert sampled["standard_error"] < 0.01
    by_label = {o["override"]: o for o in sampled["overrides"]}
    for row in exact["overrides"]:
        for model, value in row["contributions"].items():
            assert by_label[row["override"]]["contributions"][model] == pytest.approx(value, abs=0.01)
    for a, b in zip(exact["models"], sampled["models"]):
        assert a["difference"] == pytest.approx(b["difference"], abs=1e-12)


def test_compare_as_of_uses_the_corpus_of_that_day(run):
    data = json.loads(run(BUNDLED, "compare", "rlvr-optimist", "base", "--as-of", "2024-09-30",
                          "--json").stdout)
    assert data["as_of"] == "2024-09-30"
    history = json.loads(run(BUNDLED, "history", "--perspective", "rlvr-optimist", "--from",
                             "2024-09-01", "--to", "2024-09-30", "--json").stdout)
    rows = {r["id"]: r for r in data["models"]}
    for model, values in history["strengths"].items():
        assert values[-1] == pytest.approx(rows[model]["strength"]["rlvr-optimist"], abs=1e-9)


def test_compare_table(run):
    result = run(BUNDLED, "compare", "rlvr-optimist", "bottlenecks-sceptic")
    assert result.exit_code == 0, result.output
    for text in ("naive-rlvr", "rank", "Shapley", "differing override"):
        assert text in result.stdout


# ---------------------------------------------------------------- Shapley values

@settings(max_examples=50, deadline=None)
@given(st.integers(1, 5), st.integers(0, 2 ** 31))
def test_shapley_matches_the_textbook_sum_over_orders(n, seed):
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(2 ** n, 2))  # an arbitrary game with two outputs

    def value(coalition):
        return table[sum(1 << p for p in coalition)]

    fast, error, method = shapley(value, range(n))
    slow = shapley_reference(value, range(n))
    assert method == "exact" and error is None
    for p in range(n):
        assert fast[p] == pytest.approx(slow[p], abs=1e-9)
    assert sum(fast.values()) == pytest.approx(value(frozenset(range(n))) - value(frozenset()))


def test_sampled_shapley_is_exact_for_an_additive_game():
    weights = {p: (p + 1) * 0.1 for p in range(15)}
    values, error, method = shapley(lambda c: np.array([sum(weights[p] for p in c)]), range(15),
                                    exact_limit=10, samples=20)
    assert method == "sampled"
    for p, w in weights.items():
        assert values[p] == pytest.approx(w) and error[p] == pytest.approx(0, abs=1e-12)


# ---------------------------------------------------------------- bad perspective files

BAD = {
    "unknown-node": ("credences:\n  naive-rvlr: 0.5\n", 2, "unknown id 'naive-rvlr' (did you mean 'naive-rlvr'?)"),
    "credence-range": ("credences:\n  naive-rlvr: 1.5\n", 2, "credence 1.5 of 'naive-rlvr' must be a number in [0, 1]"),
    "credence-text": ("credences:\n  naive-rlvr: high\n", 2, "must be a number in [0, 1]"),
    "weight-range": ("weights:\n  - source: rl-returns-large\n    target: naive-rlvr\n    weight: -0.1\n", 4,
                     "weight -0.1 of rl-returns-large -> naive-rlvr must be a number in [0, 1]"),
    "unknown-edge": ("weights:\n  - source: rl-returns-large\n    target: bottlenecks\n    weight: 0.5\n", 3,
                     "the corpus has no edge rl-returns-large -> bottlenecks"),
    "unknown-source": ("weights:\n  - source: rl-returns-lage\n    target: naive-rlvr\n    weight: 0.5\n", 2,
                       "source: unknown id 'rl-returns-lage' (did you mean 'rl-returns-large'"),
    "missing-weight": ("weights:\n  - source: rl-returns-large\n    target: naive-rlvr\n", 2, "weights entry has no weight"),
    "entry-key": ("weights:\n  - source: rl-returns-large\n    target: naive-rlvr\n    weigth: 0.5\n", 4,
                  "unknown key 'weigth' (did you mean 'weight'?)"),
    "top-key": ("description: x\ncredence:\n  naive-rlvr: 0.5\n", 2, "unknown key 'credence' (did you mean 'credences'?)"),
    "twice": ("weights:\n  - source: rl-returns-large\n    target: naive-rlvr\n    weight: 0.5\n"
              "  - source: rl-returns-large\n    target: naive-rlvr\n    weight: 0.6\n", 5, "listed twice (first on line 2)"),
    "duplicate-key": ("credences:\n  naive-rlvr: 0.5\n  naive-rlvr: 0.6\n", 3, "bad YAML"),
    "bad-yaml": ("credences: [unclosed\n", 2, "bad YAML"),
    "not-a-mapping": ("- a\n- b\n", 1, "must be a YAML mapping"),
    "credences-list": ("credences:\n  - naive-rlvr\n", 2, "credences must be a mapping"),
    "weights-map": ("weights:\n  a: 1\n", 2, "weights must be a list"),
    "description-list": ("description: [a, b]\n", 1, "description must be text"),
}


@pytest.fixture
def bundled_copy(tmp_path):
    import shutil

    root = tmp_path / "claims"
    shutil.copytree(BUNDLED, root)
    return root


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("command", [["history", "--perspective", "bad"], ["compare", "bad", "base"],
                                     ["perspective", "show", "bad"],
                                     ["score", "--perspective", "bad"]])
def test_bad_perspective_file_names_file_and_line(bundled_copy, run, case, command):
    text, line, message = BAD[case]
    write_perspective(bundled_copy, "bad", text)
    before = snapshot(bundled_copy)
    result = run(bundled_copy, *command)
    assert result.exit_code == 1, result.output
    assert f"perspectives/bad.yaml:{line}: " in result.stderr
    assert message in result.stderr and "Traceback" not in result.output
    assert snapshot(bundled_copy) == before


def test_list_reports_broken_perspectives(bundled_copy, run):
    write_perspective(bundled_copy, "bad", BAD["credence-range"][0])
    result = run(bundled_copy, "perspective", "list", "--json")
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert set(rows) == set(SHIPPED) | {"bad"}
    assert rows["bad"]["problems"] and not rows["rlvr-optimist"]["problems"]


def test_unknown_perspective_suggests_names(run):
    result = run(BUNDLED, "compare", "rlvr-optimst", "base")
    assert result.exit_code == 1 and "did you mean 'rlvr-optimist'" in result.stderr


# ---------------------------------------------------------------- writing perspectives

def test_new_set_unset_keep_comments(corpus_root, run):
    assert run(corpus_root, "perspective", "new", "mine", "--description", "My: view").exit_code == 0
    path = corpus_root / "perspectives" / "mine.yaml"
    assert load_perspective(Corpus.load(corpus_root), "mine").description == "My: view"
    text = path.read_text().replace("description:", "# a comment of mine\ndescription:")
    path.write_text(text)
    for args in (["c", "credence", "0.9"], ["d", "credence", "0.2"], ["c", "m", "weight", "0.3"],
                 ["c", "credence", "0.8"], ["d", "m", "weight", "0"]):
        result = run(corpus_root, "perspective", "set", "mine", *args)
        assert result.exit_code == 0, result.output
    perspective = load_perspective(Corpus.load(corpus_root), "mine")
    assert perspective.credences == {"c": 0.8, "d": 0.2}
    assert perspective.weights == {("c", "m"): 0.3, ("d", "m"): 0.0}
    assert "# a comment of mine" in path.read_text()
    assert run(corpus_root, "perspective", "unset", "mine", "d", "credence").exit_code == 0
    assert run(corpus_root, "perspective", "unset", "mine", "c", "m", "weight").exit_code == 0
    perspective = load_perspective(Corpus.load(corpus_root), "mine")
    assert perspective.credences == {"c": 0.8} and perspective.weights == {("d", "m"): 0.0}
    assert "# a comment of mine" in path.read_text()
    assert not list(path.parent.glob(".*.tmp"))
    shown = json.loads(run(corpus_root, "perspective", "show", "mine", "--json").stdout)
    assert {(o["override"], o["base"], o["value"]) for o in shown["overrides"]} == {
        ("credence c", 0.5, 0.8), ("weight d -> m", 0.5, 0.0)}


def test_set_keeps_a_hand_written_file_intact(corpus_root, run):
    path = write_perspective(corpus_root, "mine", MINE)
    assert run(corpus_root, "perspective", "set", "mine", "d", "credence", "0.3").exit_code == 0
    assert path.read_text() == textwrap.dedent(MINE).lstrip("\n").replace("d: 0.1", "d: 0.3")


BAD_SETS = [
    (["perspective", "set", "mine", "cc", "credence", "0.5"], 1, "unknown id 'cc'"),
    (["perspective", "set", "mine", "c", "credence", "1.5"], 1, "must be a number in [0, 1]"),
    (["perspective", "set", "mine", "c", "credence", "lots"], 2, "'lots' is not a number"),
    (["perspective", "set", "mine", "c", "d", "weight", "0.5"], 1, "no edge c -> d"),
    (["perspective", "set", "mine", "c", "m", "weight", "-1"], 2, "weight '-1' must be a number in [0, 1]"),
    (["perspective", "set", "mine", "c", "colour", "0.5"], 2, "expected ID credence X"),
    (["perspective", "set", "nobody", "c", "credence", "0.5"], 1, "no perspective 'nobody'"),
    (["perspective", "unset", "mine", "m", "credence"], 1, "does not set credence m"),
    (["perspective", "unset", "mine", "d", "m", "weight"], 1, "does not set weight d -> m"),
    (["perspective", "new", "mine"], 1, "exists already"),
    (["perspective", "new", "base"], 1, "the corpus as written"),
    (["perspective", "new", "My View"], 1, "not a valid perspective name"),
    (["perspective", "set", "../x", "c", "credence", "0.5"], 1, "not a valid perspective name"),
]


@pytest.mark.parametrize("args, code, message", BAD_SETS)
def test_bad_writes_change_nothing(corpus_root, run, args, code, message):
    write_perspective(corpus_root, "mine", MINE)
    before = snapshot(corpus_root.parent)
    result = run(corpus_root, *args)
    assert result.exit_code == code, result.output
    assert message in result.output and "Traceback" not in result.output
    assert snapshot(corpus_root.parent) == before


def test_set_refuses_to_break_a_file_and_allows_mending(corpus_root, run):
    path = write_perspective(corpus_root, "mine", "credences:\n  gone: 0.5\n  c: 0.2\n")
    # the file already has an error (a node since removed); other edits still go through
    assert run(corpus_root, "perspective", "set", "mine", "c", "credence", "0.3").exit_code == 0
    assert "c: 0.3" in path.read_text()
    result = run(corpus_root, "perspective", "unset", "mine", "gone", "credence")
    assert result.exit_code == 0, result.output
    assert load_perspective(Corpus.load(corpus_root), "mine").credences == {"c": 0.3}


def _set_one(args):
    root, node, value = args
    set_override(root, "mine", ("credence", node), value)


def test_concurrent_sets_lose_nothing(tmp_path):
    root = tmp_path / "claims"
    for i in range(12):
        write_node(root, f"n{i}", f"---\nkind: claim\ntitle: N{i}\n---\n")
    new_perspective(root, "mine")
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.map(_set_one, [(root, f"n{i}", i / 20) for i in range(12)])
    perspective = load_perspective(Corpus.load(root), "mine")
    assert perspective.credences == {f"n{i}": i / 20 for i in range(12)}


def test_perspective_error_lists_every_problem(bundled_copy):
    write_perspective(bundled_copy, "bad", "credences:\n  naive-rlvr: 2\n  nowhere: 0.5\n")
    with pytest.raises(PerspectiveError) as info:
        load_perspective(Corpus.load(bundled_copy), "bad")
    assert [p.line for p in info.value.problems] == [2, 3]


def test_set_on_a_file_with_bad_yaml_is_refused_with_the_line(corpus_root, run):
    path = write_perspective(corpus_root, "mine", "description: x\ncredences: [unclosed\n")
    before = snapshot(corpus_root.parent)
    result = run(corpus_root, "perspective", "set", "mine", "c", "credence", "0.5")
    assert result.exit_code == 1
    assert f"{path.name}:3: bad YAML" in result.stderr and "nothing was written" in result.stderr
    assert snapshot(corpus_root.parent) == before


def test_check_perspectives_reports_every_file(bundled_copy):
    from graph.files.perspectives import check_perspectives

    assert check_perspectives(Corpus.load(BUNDLED)) == []
    write_perspective(bundled_copy, "bad", BAD["unknown-edge"][0])
    problems = check_perspectives(Corpus.load(bundled_copy))
    assert [(p.path.endswith("bad.yaml"), p.line) for p in problems] == [(True, 3)]


@pytest.mark.parametrize("args", [("rm", "m", "--force"), ("unlink", "c", "m", "--force")])
def test_force_past_a_weight_entry_naming_a_list_is_a_message(corpus_root, run, args):
    write_perspective(corpus_root, "p", "weights:\n  - source: []\n    target: m\n    weight: 0.5\n")
    before = snapshot(corpus_root)
    result = run(corpus_root, *args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    if result.exit_code != 0:
        assert "perspectives/p.yaml:3" in result.output
        assert snapshot(corpus_root) == before


def test_a_perspective_is_read_by_the_front_matters_loader(corpus_root, run):
    """Issue 22: a perspective was parsed by PyYAML, then again by ruamel.yaml, which reads a
    date-like text as a date: a description or note that a node file takes as text was
    refused as "must be text". One loader now: the same text reads the same everywhere."""
    write_perspective(corpus_root, "mine", """
        description: 2025-05-01
        credences:
          c: 0.9
        weights:
          - source: c
            target: m
            weight: 1.0
            note: 2024-09
    """)
    result = run(corpus_root, "perspective", "show", "mine", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["description"] == "2025-05-01"
    assert [r["note"] for r in shown["overrides"] if r["kind"] == "weight"] == ["2024-09"]


def test_reading_a_perspective_loads_no_round_trip_yaml(corpus_root):
    """ruamel.yaml is for rewriting a file (graph.files.rewrite), not for reading one."""
    import subprocess
    import sys

    write_perspective(corpus_root, "mine", MINE)
    probe = ("import sys\nfrom graph.files.corpus import Corpus\n"
             "from graph.files.perspectives import load_perspective, list_perspectives\n"
             f"corpus = Corpus.load({str(corpus_root)!r})\n"
             "print(load_perspective(corpus, 'mine').credences, len(list_perspectives(corpus)))\n"
             "print('ruamel' in ' '.join(sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, cwd=REPO, env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["{'c': 0.9, 'd': 0.1} 1", "False"]


def test_a_merge_key_in_a_perspective_keeps_the_lines_of_the_other_keys(corpus_root):
    """Lines come from the loader's node tree: a ``<<`` merge (which reorders the parsed
    mapping) still reports each other key on its own line."""
    write_perspective(corpus_root, "bad", "credences:\n  <<: {c: 0.4}\n  nowhere: 0.5\n")
    with pytest.raises(PerspectiveError) as info:
        load_perspective(Corpus.load(corpus_root), "bad")
    assert [(p.line, p.message) for p in info.value.problems] == [(3, "credences: unknown id 'nowhere'")]


def test_mv_never_reads_a_perspective_the_limits_refuse_with_ruamel(corpus_root, run):
    """`takeoff mv` read every perspective with ruamel.yaml alone, expanding what the one
    loader refuses (anchors, aliases) and rewriting the file; it is now left as it is (and
    reported by `check`)."""
    text = ("a0: &a0 [x, x]\na1: &a1 [*a0, *a0]\ncredences:\n  c: 0.5\nweights: *a1\n")
    path = write_perspective(corpus_root, "bad", text)
    result = run(corpus_root, "mv", "c", "c2")
    assert result.exit_code == 0, result.output
    assert path.read_text() == text
    checked = run(corpus_root, "check")
    assert checked.exit_code == 1 and "bad.yaml:1: bad YAML: YAML anchors" in checked.output + checked.stderr
