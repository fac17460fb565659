"""A load of unchanged files from the load cache's columns (graph/files/columns.py) gives what
the load through the graph gives: the same problems, kinds, counts, solver system and strengths,
without building the graph; the graph, built when a command asks for it, is the same too."""
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graph.files.cache
from graph.files.corpus import Corpus
from graph.solving.propagation import build_system

KINDS = ("model", "claim", "evidence", "argument")


def write_corpus(root, seed, errors):
    """A random corpus of up to 25 nodes in two folders: cycles, month and day dates, default
    and given credences and weights, edges from declared sources, annotation links, arguments
    without a conclusion; with ``errors``, also the problems only the whole corpus shows
    (unknown targets and sources, self-loops, both relations to one node, a duplicate id)."""
    rng = random.Random(seed)
    n = rng.randint(1, 25)
    (root / "takeoff.toml").write_text('[sources.essay]\ntitle = "An essay"\n', encoding="utf-8")
    for i in range(n):
        kind = rng.choice(KINDS)
        lines = ["---", f"kind: {kind}", f"title: Node {i}"]
        if rng.random() < 0.7:
            lines.append(f"credence: {rng.randint(0, 100) / 100}")
        if kind == "evidence":
            lines.append(rng.choice(["date: 2024-05", "date: 2023-11-02"]))
        targets = rng.sample(range(n), rng.randint(0, min(3, n)))
        edges = {"supports": [], "undermines": []}
        for t in targets:
            if t != i or (errors and rng.random() < 0.3):
                edges[rng.choice(list(edges))].append(f"n{t}")
        if errors and rng.random() < 0.2:
            edges["supports"].append("nowhere")
        if errors and rng.random() < 0.1 and edges["supports"]:
            edges["undermines"].append(edges["supports"][0])
        for relation, names in edges.items():
            if names:
                lines.append(f"{relation}:")
            for name in names:
                lines.append(f"  - target: {name}")
                if rng.random() < 0.6:
                    lines.append(f"    weight: {rng.randint(1, 100) / 100}")
                if rng.random() < 0.3:
                    source = rng.choice(["editor", "essay"] + (["nobody"] if errors else []))
                    lines.append(f"    from: {source}")
        body = " ".join(rng.choice(["text", f"[[n{rng.randrange(n + 3)}]]"]) for _ in range(3))
        folder = root / ("a" if i % 2 else "b")
        folder.mkdir(exist_ok=True)
        (folder / f"n{i}.md").write_text("\n".join(lines + ["---", body, ""]), encoding="utf-8")
    if errors and rng.random() < 0.3:
        (root / "c").mkdir()
        (root / "c" / "n0.md").write_text("---\nkind: claim\ntitle: Again\n---\n", encoding="utf-8")


def graph_of(corpus):
    g = corpus.graph
    return (list(g.nodes(data=True)), list(g.edges(keys=True, data=True)), dict(g.graph))


@pytest.fixture
def trusted_now(monkeypatch):
    """The cache's clock a minute ahead: files just written count as older than its racy
    window, so that the first load caches them and the second is served from its columns."""
    real = time.time_ns
    monkeypatch.setattr(graph.files.cache.time, "time_ns", lambda: real() + 60 * 10 ** 9)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10 ** 6), errors=st.booleans())
def test_a_load_from_columns_equals_the_load_through_the_graph(tmp_path_factory, monkeypatch,
                                                               trusted_now, seed, errors):
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root, seed, errors)
    Corpus.load(root)                       # reads every file, writes the cache
    loaded = Corpus.load(root)              # every file unchanged
    with monkeypatch.context() as m:
        m.setenv("TAKEOFF_NO_CACHE", "1")
        plain = Corpus.load(root)
    assert plain.columns is None
    assert [str(p) for p in loaded.problems] == [str(p) for p in plain.problems]
    assert list(loaded.kinds.items()) == list(plain.kinds.items())
    assert loaded.n_edges == plain.n_edges
    if plain.errors:
        assert loaded.columns is None    # an error across files is worded by the graph path
    else:
        assert loaded.columns is not None
        system, expected = loaded.columns.system(), build_system(plain.graph)
        assert system.ids == expected.ids and system.edges == expected.edges
        for name in ("base", "src", "dst", "relation", "weight"):
            assert np.array_equal(getattr(system, name), getattr(expected, name)), name
        for semantics in ("qe", "dfquad", "eb"):
            got, want = loaded.score(semantics), plain.score(semantics)
            assert list(got.strengths.items()) == list(want.strengths.items())
            assert (got.iterations, got.residual) == (want.iterations, want.residual)
        assert "graph" not in vars(loaded)  # counted and scored without building it
    assert graph_of(loaded) == graph_of(plain)


def test_a_load_from_columns_whose_text_cannot_be_trusted_reads_the_files_for_the_graph(
        tmp_path, trusted_now, monkeypatch):
    """The titles, bodies and notes are checked when the graph is built from them: a text
    section that fails its checks (here: cut short and signed again with the user's own key)
    leaves the columns' count and score, and the graph comes from the files read again."""
    write_corpus(tmp_path, 7, errors=False)
    Corpus.load(tmp_path)
    path = tmp_path / ".takeoff" / "cache"
    head, body = path.read_bytes().split(b"\n", 1)
    head = json.loads(head)
    cut = head["sections"][-1][1] // 2
    head["sections"][-1][1] -= cut
    body = body[:-cut]
    head["mac"] = graph.files.cache._mac(graph.files.cache.user_key(), head["fingerprint"], body)
    path.write_bytes(json.dumps(head).encode() + b"\n" + body)
    loaded = Corpus.load(tmp_path)
    assert loaded.columns is not None
    built = graph_of(loaded)
    monkeypatch.setenv("TAKEOFF_NO_CACHE", "1")
    assert built == graph_of(Corpus.load(tmp_path))


def test_check_and_score_print_the_same_from_columns(tmp_path, run, trusted_now, monkeypatch):
    write_corpus(tmp_path, 11, errors=False)
    (tmp_path / "a" / "n1.md").write_text(  # an argument without conclusion: a warning
        "---\nkind: argument\ntitle: Lone\n---\nSee [[n404]].\n", encoding="utf-8")
    Corpus.load(tmp_path)
    assert Corpus.load(tmp_path).columns is not None
    commands = (["check"], ["check", "--json"], ["score", "--all"], ["score", "--json"])
    cached = [run(tmp_path, *args) for args in commands]
    monkeypatch.setenv("TAKEOFF_NO_CACHE", "1")
    for args, result in zip(commands, cached):
        plain = run(tmp_path, *args)
        assert (result.exit_code, result.output) == (plain.exit_code, plain.output), args
    assert "no conclusion" in cached[0].output and "n404" in cached[0].output


def test_check_and_score_from_columns_import_no_networkx(tmp_path, trusted_now):
    """The point of the columns: a command that only counts or scores builds no graph, so
    never imports networkx (whose import alone costs more than such a load)."""
    write_corpus(tmp_path, 3, errors=False)
    Corpus.load(tmp_path)
    script = ("import sys\nfrom cli import cli\n"
              "for args in (['check'], ['score', '--all']):\n"
              "    cli.main(['--corpus', sys.argv[1], *args], standalone_mode=False)\n"
              "print('networkx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
                         check=True)
    assert out.stdout.splitlines()[-1] == "False", out.stdout + out.stderr


def test_an_lstat_too_large_to_keep_leaves_its_file_untrusted(tmp_path, trusted_now):
    """Inode numbers and times are kept as 64-bit integers; a file whose ``lstat`` does not
    fit is kept untrusted (read again on every load, its verdict reused by digest) rather than
    making the cache unwritable."""
    write_corpus(tmp_path, 5, errors=False)
    Corpus.load(tmp_path)
    head, body = (tmp_path / ".takeoff" / "cache").read_bytes().split(b"\n", 1)
    sections = graph.files.cache._split(body, json.loads(head)["sections"])
    columns = graph.files.cache._full(graph.files.cache._fast_columns(sections), sections)
    columns["stat"][0] = (1, 2 ** 64 - 1, 3, 4, 5)
    lengths, body = graph.files.cache._encode(columns)
    again = graph.files.cache._fast_columns(graph.files.cache._split(body, lengths))
    assert again["trusted"].tolist() == [False] + [key is not None for key in columns["stat"][1:]]
    assert again["stat"][0].tolist() == [0] * 5
