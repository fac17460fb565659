"""Evidence over time: --as-of, takeoff history, the history plot."""
import datetime as dt
import json
import xml.etree.ElementTree as ET

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import REPO, snapshot, write_node
from graph.files.corpus import Corpus
from graph.core.model import TakeoffError
from graph.solving.propagation import score_graph
from graph.solving.timeline import (
    as_of_graph, default_range, history, history_reference, later_nodes, new_evidence,
    period_end, runs, step_dates,
)

BUNDLED = REPO / "claims"
D = dt.date


@pytest.fixture
def dated_corpus(tmp_path):
    """m (undated model) <- c (undated claim) <- e1 (2024-09-12) ; e2 (2025-04-22) undermines c;
    m2 is a model dated 2025-01-01 that e1 supports."""
    root = tmp_path / "claims"
    write_node(root, "m", "---\nkind: model\ntitle: A path\n---\n")
    write_node(root, "m2", "---\nkind: model\ntitle: A later path\ndate: 2025-01-01\n---\n")
    write_node(root, "c", """
        ---
        kind: claim
        title: A claim
        supports:
          - target: m
            weight: 0.8
        ---
        """)
    write_node(root, "e1", """
        ---
        kind: evidence
        title: Early evidence
        credence: 0.9
        date: 2024-09-12
        supports:
          - target: c
            weight: 0.7
          - target: m2
        ---
        """)
    write_node(root, "e2", """
        ---
        kind: evidence
        title: Later evidence
        credence: 0.9
        date: 2025-04-22
        undermines:
          - target: c
            weight: 0.9
        ---
        """)
    return root


# ---------------------------------------------------------------- the as-of rule

def test_as_of_leaves_out_exactly_the_later_nodes_and_their_edges(dated_corpus):
    graph = Corpus.load(dated_corpus).require_valid().graph
    before = as_of_graph(graph, D(2024, 12, 31))
    assert sorted(before) == ["c", "e1", "m"]
    assert sorted(before.edges(keys=True)) == [("c", "m", "supports"), ("e1", "c", "supports")]
    assert later_nodes(graph, D(2024, 12, 31)) == ["m2", "e2"]
    # A node dated on the day counts; undated nodes always count.
    assert sorted(as_of_graph(graph, D(2024, 9, 12))) == ["c", "e1", "m"]
    assert sorted(as_of_graph(graph, D(2024, 9, 11))) == ["c", "m"]
    assert sorted(as_of_graph(graph, D(2030, 1, 1))) == sorted(graph)
    assert as_of_graph(graph, None) is graph


@st.composite
def dated_graphs(draw):
    n = draw(st.integers(1, 9))
    graph = nx.MultiDiGraph()
    days = st.one_of(st.none(), st.dates(D(2024, 1, 1), D(2025, 12, 31)))
    for i in range(n):
        graph.add_node(f"n{i}", kind=draw(st.sampled_from(["model", "claim", "evidence"])),
                       title=f"node {i}", credence=draw(st.floats(0, 1)), date=draw(days))
    for _ in range(draw(st.integers(0, 2 * n))):
        u, v = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        if u != v and not graph.has_edge(f"n{u}", f"n{v}"):
            relation = draw(st.sampled_from(["supports", "undermines"]))
            graph.add_edge(f"n{u}", f"n{v}", key=relation, relation=relation,
                           weight=draw(st.floats(0.05, 1)), note="")
    return graph


@settings(max_examples=150, deadline=None)
@given(dated_graphs(), st.dates(D(2023, 6, 1), D(2026, 6, 1)))
def test_as_of_graph_property(graph, day):
    kept = as_of_graph(graph, day)
    expected = {n for n, d in graph.nodes(data="date") if d is None or d <= day}
    assert set(kept) == expected
    assert set(kept.edges(keys=True)) == {(u, v, k) for u, v, k in graph.edges(keys=True)
                                          if u in expected and v in expected}
    for n in kept:
        assert kept.nodes[n] == graph.nodes[n]
    for n in kept:  # attributes are copies: changing them leaves the corpus graph alone
        kept.nodes[n]["credence"] = 2.0
    assert all(0 <= c <= 1 for _, c in graph.nodes(data="credence"))


# ---------------------------------------------------------------- steps

def test_period_ends():
    assert period_end(D(2025, 2, 3), "day") == D(2025, 2, 3)
    assert period_end(D(2025, 2, 3), "week") == D(2025, 2, 9)  # a Sunday
    assert period_end(D(2025, 2, 9), "week") == D(2025, 2, 9)
    assert period_end(D(2024, 2, 3), "month") == D(2024, 2, 29)
    assert period_end(D(2025, 11, 3), "quarter") == D(2025, 12, 31)


def test_step_dates_end_each_period_and_stop_at_the_end():
    assert step_dates(D(2024, 11, 15), D(2025, 1, 10)) == [D(2024, 11, 30), D(2024, 12, 31),
                                                           D(2025, 1, 10)]
    assert step_dates(D(2025, 1, 1), D(2025, 1, 5), "day") == [D(2025, 1, d) for d in range(1, 6)]
    assert step_dates(D(2025, 1, 1), D(2025, 12, 31), "quarter") == [
        D(2025, 3, 31), D(2025, 6, 30), D(2025, 9, 30), D(2025, 12, 31)]
    assert step_dates(D(2025, 1, 1), D(2025, 1, 1)) == [D(2025, 1, 1)]
    with pytest.raises(TakeoffError, match="after"):
        step_dates(D(2025, 2, 1), D(2025, 1, 1))


@given(st.dates(D(2020, 1, 1), D(2030, 1, 1)), st.integers(0, 800),
       st.sampled_from(["day", "week", "month", "quarter"]))
def test_step_dates_property(start, days, step):
    end = start + dt.timedelta(days=days)
    dates = step_dates(start, end, step)
    assert dates[-1] == end and dates == sorted(set(dates)) and dates[0] >= start
    assert all(period_end(d, step) == d for d in dates[:-1])
    # every period between start and end has exactly one step
    assert len(dates) == len({period_end(start + dt.timedelta(days=i), step) for i in range(days + 1)})


def test_default_range(dated_corpus):
    graph = Corpus.load(dated_corpus).graph
    assert default_range(graph, today=D(2026, 1, 1)) == (D(2024, 9, 12), D(2026, 1, 1))
    assert default_range(graph, today=D(2025, 1, 1)) == (D(2024, 9, 12), D(2025, 4, 22))
    assert default_range(nx.MultiDiGraph(), today=D(2026, 1, 1)) is None


# ---------------------------------------------------------------- history = score --as-of

def test_history_equals_score_as_of_each_step(dated_corpus):
    graph = Corpus.load(dated_corpus).require_valid().graph
    data = history(graph, start=D(2024, 8, 1), end=D(2025, 6, 1), step="month")
    assert data["dates"][0] == "2024-08-31" and data["dates"][-1] == "2025-06-01"
    for i, day in enumerate(data["dates"]):
        expected = score_graph(as_of_graph(graph, D.fromisoformat(day))).strengths
        for node in ("m", "m2"):
            if node in expected:
                assert data["strengths"][node][i] == pytest.approx(expected[node], abs=1e-9)
            else:
                assert data["strengths"][node][i] is None
    # The dated model is absent before its date; the undated one rises then falls.
    assert data["strengths"]["m2"][:4] == [None] * 4 and data["strengths"]["m2"][5] is not None
    m = data["strengths"]["m"]
    assert m[0] < m[1] and m[-1] < m[1]
    assert data["solves"] == 4  # nothing / +e1 / +m2 / +e2: one solve per distinct graph


def test_bundled_history_matches_reference_at_every_step():
    graph = Corpus.load(BUNDLED).require_valid().graph
    fast = history(graph, step="week", semantics="dfquad", today=D(2026, 6, 1))
    slow = history_reference(graph, step="week", semantics="dfquad", today=D(2026, 6, 1))
    assert fast["dates"] == slow["dates"] and len(fast["dates"]) > 100
    for node, values in slow["strengths"].items():
        assert fast["strengths"][node] == pytest.approx(values, abs=1e-9)
    assert fast["solves"] < len(fast["dates"]) / 5


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dated_graphs(), st.sampled_from(["qe", "dfquad", "eb"]))
def test_history_matches_reference_on_any_graph(graph, semantics):
    if not any(d for _, d in graph.nodes(data="date")):
        return
    fast = history(graph, step="quarter", semantics=semantics, nodes=list(graph), today=D(2026, 1, 1))
    slow = history_reference(graph, step="quarter", semantics=semantics, nodes=list(graph),
                             today=D(2026, 1, 1))
    for node, values in slow["strengths"].items():
        got = fast["strengths"][node]
        assert [v is None for v in got] == [v is None for v in values]
        assert [v for v in got if v is not None] == pytest.approx(
            [v for v in values if v is not None], abs=1e-6)


def test_history_cli_equals_score_as_of_cli(run):
    """What a user sees: every step of `takeoff history` is `takeoff score --as-of` that day."""
    result = run(BUNDLED, "history", "--step", "quarter", "--from", "2024-07-01", "--to",
                 "2025-09-30", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["dates"]) == 5
    for i, day in enumerate(data["dates"]):
        scored = run(BUNDLED, "score", "--as-of", day, "--json")
        assert scored.exit_code == 0, scored.output
        nodes = json.loads(scored.stdout)["nodes"]
        for model, values in data["strengths"].items():
            assert values[i] == pytest.approx(nodes[model]["strength"], abs=1e-9)


def test_score_as_of_leaves_out_the_later_nodes(run):
    scored = json.loads(run(BUNDLED, "score", "--as-of", "2024-12-31", "--json").stdout)
    graph = Corpus.load(BUNDLED).graph
    expected = {n for n, d in graph.nodes(data="date") if d is None or d <= D(2024, 12, 31)}
    assert set(scored["nodes"]) == expected
    assert "o3-released-arc-agi" not in scored["nodes"] and "o1-rl-scaling" in scored["nodes"]


def test_export_as_of_leaves_out_the_later_nodes(run):
    result = run(BUNDLED, "export", "--as-of", "2024-12-31")
    assert result.exit_code == 0, result.output
    ids = {n["id"] for n in json.loads(result.stdout)["nodes"]}
    graph = Corpus.load(BUNDLED).graph
    assert ids == set(as_of_graph(graph, D(2024, 12, 31)))
    assert "as of 2024-12-31" in result.stderr


def test_naive_rlvr_rises_then_falls_on_the_bundled_corpus():
    """The essay's story, as the bundled corpus's dated evidence tells it (not tuned to it)."""
    data = history(Corpus.load(BUNDLED).graph, step="month", today=D(2026, 11, 25))
    values = data["strengths"]["naive-rlvr"]
    before_o1 = values[data["dates"].index("2024-08-31")]
    peak = max(values)
    peak_day = data["dates"][values.index(peak)]
    assert before_o1 < peak and values[-1] < peak
    assert "2024-09-30" <= peak_day <= "2025-04-30"


# ---------------------------------------------------------------- the command

def test_history_table_and_json(dated_corpus, run):
    result = run(dated_corpus, "history", "--from", "2024-09-01", "--to", "2024-12-31")
    assert result.exit_code == 0, result.output
    assert "2024-09-30" in result.stdout and "e1" in result.stdout and "m2" in result.stdout
    data = json.loads(run(dated_corpus, "history", "--from", "2024-09-01", "--to", "2024-12-31",
                          "--step", "month", "--json").stdout)
    assert data["dates"] == ["2024-09-30", "2024-10-31", "2024-11-30", "2024-12-31"]
    assert set(data["strengths"]) == {"m", "m2"}
    assert data["strengths"]["m2"] == [None] * 4
    assert [e["id"] for e in data["evidence"]] == ["e1"]
    assert new_evidence(data) == [["e1"], [], [], []]
    assert data["perspective"] == "base" and data["semantics"] == "qe"


def test_history_follows_chosen_nodes(dated_corpus, run):
    data = json.loads(run(dated_corpus, "history", "--node", "c", "--from", "2024-01-01",
                          "--to", "2025-12-31", "--step", "quarter", "--json").stdout)
    assert list(data["strengths"]) == ["c"]


def test_history_default_range_starts_at_the_earliest_dated_node(dated_corpus, run):
    data = json.loads(run(dated_corpus, "history", "--json").stdout)
    assert data["from"] == "2024-09-12" and data["dates"][0] == "2024-09-30"
    assert data["to"] == max(dt.date.today(), D(2025, 4, 22)).isoformat()


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_history_plot_is_a_valid_image(dated_corpus, run, tmp_path, suffix):
    out = tmp_path / f"history.{suffix}"
    result = run(dated_corpus, "history", "--plot", out, "--to", "2025-12-31")
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    if suffix == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and b"IEND" in data[-12:]
    else:
        root = ET.fromstring(data)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        text = data.decode()
        assert "e1" in text and "e2" in text  # the evidence is marked by its id
    assert not list(tmp_path.glob(".*.tmp"))


def test_bundled_history_plot(tmp_path, run):
    out = tmp_path / "h.svg"
    assert run(BUNDLED, "history", "--plot", out).exit_code == 0
    text = out.read_text()
    ET.fromstring(text)
    assert "naive-rlvr" in text and "o3-preview-arc-agi" in text


BAD_ARGS = [
    (["--from", "2024-13-01"], 2, "not an ISO date"),
    (["--to", "yesterday"], 2, "not an ISO date"),
    (["--from", "2025-02-01", "--to", "2025-01-01"], 1, "is after --to"),
    (["--step", "year"], 2, "year"),
    (["--node", "mm"], 1, "unknown id 'mm'"),
    (["--plot", "out.gif"], 2, "must end in .png or .svg"),
    (["--perspective", "nobody"], 1, "no perspective 'nobody'"),
    (["--semantics", "xx"], 2, "xx"),
]


@pytest.mark.parametrize("args, code, message", BAD_ARGS)
def test_history_bad_arguments(dated_corpus, run, args, code, message):
    before = snapshot(dated_corpus.parent)
    result = run(dated_corpus, "history", *args)
    assert result.exit_code == code
    assert message in result.output and "Traceback" not in result.output
    assert snapshot(dated_corpus.parent) == before


def test_history_of_an_undated_corpus_needs_a_range(tmp_path, run):
    write_node(tmp_path, "m", "---\nkind: model\ntitle: A path\n---\n")
    result = run(tmp_path, "history")
    assert result.exit_code == 1 and "give both --from and --to" in result.stderr
    data = json.loads(run(tmp_path, "history", "--from", "2025-01-01", "--to", "2025-03-01",
                          "--json").stdout)
    assert data["strengths"]["m"] == [0.5, 0.5, 0.5]


def test_as_of_bad_date_is_a_usage_error(run):
    result = run(BUNDLED, "score", "--as-of", "2024-02-30")
    assert result.exit_code == 2 and "not an ISO date" in result.output


def test_plot_write_failure_is_an_error_not_a_traceback(dated_corpus, run, tmp_path):
    (tmp_path / "a-file").write_text("")
    result = run(dated_corpus, "history", "--plot", tmp_path / "a-file" / "h.png")
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_plot_creates_missing_folders(dated_corpus, run, tmp_path):
    out = tmp_path / "docs" / "h.png"
    assert run(dated_corpus, "history", "--plot", out).exit_code == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dated_graphs(), st.sampled_from(["qe", "dfquad", "eb"]))
def test_history_on_one_system_equals_a_fresh_solve_per_date(graph, semantics):
    """The batched solve of one system gives what solving that system from scratch with each
    date's presence mask gives (to 1e-7: both stop at a residual below 1e-9)."""
    import numpy as np

    from graph.solving.propagation import build_system, solve

    if not any(d for _, d in graph.nodes(data="date")):
        return
    data = history(graph, step="quarter", semantics=semantics, nodes=list(graph),
                   today=D(2026, 1, 1))
    system = build_system(graph)
    for i, day in enumerate(data["dates"]):
        present = np.array([graph.nodes[n]["date"] is None
                            or graph.nodes[n]["date"].isoformat() <= day for n in system.ids])
        mask = present[system.src] & present[system.dst]
        s, info = solve(system, semantics, weights=np.where(mask, system.weight, 0.0))
        for node in graph:
            got = data["strengths"][node][i]
            j = system.index[node]
            assert (got is None) == (not present[j])
            if got is not None:
                assert abs(got - s[j]) <= 1e-7
        assert data["converged"][i] == info.converged


# ---------------------------------------------------------------- the ends of the calendar

@pytest.fixture
def calendar_ends(dated_corpus):
    """The dated corpus with evidence dated on the first and the last day of the calendar."""
    for node, day in (("e0", "0001-01-01"), ("e9", "9999-12-31")):
        write_node(dated_corpus, node, f"""
            ---
            kind: evidence
            title: Evidence at an end of the calendar
            credence: 0.8
            date: {day}
            supports:
              - target: c
            ---
            """)
    return dated_corpus


@pytest.mark.parametrize("step", ["day", "week", "month"])
def test_a_range_of_too_many_steps_is_refused_with_a_message(calendar_ends, run, step):
    import time

    start = time.process_time()
    result = run(calendar_ends, "history", "--step", step)
    assert time.process_time() - start < 10
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"--step {step} from 0001-01-01 to 9999-12-31 makes" in result.output
    assert "more than 50,000" in result.output


def test_every_quarter_of_the_calendar_is_within_bounds(calendar_ends, run):
    result = run(calendar_ends, "history", "--step", "quarter")
    assert result.exit_code == 0, result.output
    # One row per run: after e2 (2025-04-22) nothing changes until e9 on the last day.
    assert "0001-03-31 to 2024-06-30" in result.stdout
    assert "2025-06-30 to 9999-09-30" in result.stdout and "\n9999-12-31" in result.stdout


@pytest.mark.parametrize("step", ["day", "week", "month", "quarter"])
@pytest.mark.parametrize("bounds", [("--from", "9999-06-01"), ("--to", "0001-06-30")])
def test_history_and_its_plot_at_the_ends_of_the_calendar(calendar_ends, run, tmp_path, step,
                                                          bounds):
    out = tmp_path / f"h-{step}.png"
    result = run(calendar_ends, "history", "--step", step, *bounds, "--json", "--plot", out)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{"):])
    assert data["dates"][-1] == ("9999-12-31" if bounds[0] == "--from" else "0001-06-30")
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_runs_of_identical_rows_are_one_row_of_the_table(dated_corpus, run):
    result = run(dated_corpus, "history", "--from", "2025-05-01", "--to", "2025-12-31")
    assert result.exit_code == 0, result.output
    # Nothing arrives after 2025-04-22: one row from the first step to the last.
    assert "2025-05-31 to 2025-12-31" in result.stdout
    assert "2025-06-30" not in result.stdout
    data = json.loads(run(dated_corpus, "history", "--from", "2025-05-01", "--to", "2025-12-31",
                          "--json").stdout)
    assert len(data["dates"]) == 8   # the JSON keeps every step
    assert runs(data) == [(0, 7)]
    data = history(Corpus.load(dated_corpus).graph, start=D(2024, 8, 1), end=D(2025, 6, 1))
    # August; e1 arrives in September (to December); m2 in January; e2 in April.
    assert runs(data) == [(0, 0), (1, 4), (5, 7), (8, 10)]
