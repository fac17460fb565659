"""Dates with their precision (YYYY-MM-DD or YYYY-MM), and sources named without a URL.

A month-precision date counts from the last day of its month (docs/bundled-corpus.md, "Dates"):
these tests hold parsing, validation, editing, every export that carries dates, --as-of,
history and the HTML page's timeline to that rule.
"""
import copy
import datetime as dt
import json
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import snapshot, write_node
from graph.files.edit import init_corpus
from graph.files.corpus import Corpus
from graph.core.model import MonthDate, date_precision, parse_date
from graph.solving.timeline import as_of_graph, dated_nodes

D = dt.date


@pytest.mark.parametrize("text, expected, precision", [
    ("2025-05-14", D(2025, 5, 14), "day"),
    ("2025-05", D(2025, 5, 31), "month"),
    ("2024-02", D(2024, 2, 29), "month"),   # leap year: the month's real last day
    ("2025-02", D(2025, 2, 28), "month"),
    (" 2025-12 ", D(2025, 12, 31), "month"),
])
def test_parse_date_keeps_the_precision(text, expected, precision):
    value = parse_date(text)
    assert value == expected and date_precision(value) == precision
    assert value.isoformat() == text.strip()


@pytest.mark.parametrize("text", ["2025-13", "2025-00", "2025-5", "25-05", "2025-05-32",
                                  "May 2025", "2025", "2025-05-1", ""])
def test_parse_date_refuses(text):
    assert parse_date(text) is None


# (9998 at most: the test adds a day to the last day of the month, and 9999-12-31 is the last date)
@given(st.integers(1, 9998), st.integers(1, 12))
def test_a_month_round_trips_as_text_and_sorts_as_its_last_day(year, month):
    value = MonthDate(year, month)
    assert parse_date(value.isoformat()).isoformat() == value.isoformat()
    assert value.as_day() == value and value.as_day().month == month
    assert (value + dt.timedelta(days=1)).day == 1  # arithmetic gives plain dates
    assert type(value + dt.timedelta(days=1)) is dt.date
    for copied in (pickle.loads(pickle.dumps(value)), copy.deepcopy(value)):
        assert copied.isoformat() == value.isoformat()


@pytest.fixture
def month_corpus(tmp_path):
    """m <- c <- e (month precision, May 2025), d (2025-05-20, day precision)."""
    root = tmp_path / "claims"
    write_node(root, "m", "---\nkind: model\ntitle: A path\n---\n")
    write_node(root, "c", "---\nkind: claim\ntitle: C\ndate: 2025-05\nsupports:\n  - target: m\n---\n")
    write_node(root, "e", """
        ---
        kind: evidence
        title: A study known to the month
        date: 2025-05
        sources:
          - url: https://example.org/study
            date: 2025-05
          - title: A livestream, reported (no URL)
            date: 2025-05-02
        supports:
          - target: c
            note: the study (c)
        ---
        Body.
        """)
    write_node(root, "d", "---\nkind: evidence\ntitle: D\ndate: 2025-05-20\nsources:\n"
                          "  - url: https://example.org/d\nsupports:\n  - target: m\n---\n")
    return root


def test_a_month_dated_item_counts_from_the_end_of_its_month(month_corpus):
    graph = Corpus.load(month_corpus).require_valid().graph
    assert sorted(as_of_graph(graph, D(2025, 5, 30))) == ["d", "m"]
    assert sorted(as_of_graph(graph, D(2025, 5, 31))) == ["c", "d", "e", "m"]
    # Sorted by the day it counts from: the day-precision item of the 20th comes first.
    assert [n for _, n in dated_nodes(graph)] == ["d", "c", "e"]


def test_as_of_accepts_a_month_meaning_its_last_day(month_corpus, run):
    result = run(month_corpus, "score", "--as-of", "2025-05", "--json")
    assert result.exit_code == 0, result.output
    assert "2 node(s) dated later" not in result.output
    earlier = run(month_corpus, "score", "--as-of", "2025-04", "--json")
    assert earlier.exit_code == 0 and "3 node(s) dated later left out" in earlier.output
    bad = run(month_corpus, "score", "--as-of", "2025-13")
    assert bad.exit_code == 2 and "YYYY-MM for a month" in bad.output


def test_history_and_show_print_the_precision(month_corpus, run):
    shown = run(month_corpus, "show", "e")
    assert shown.exit_code == 0 and "date 2025-05" in shown.output
    assert "(no url)" in shown.output and "<https://example.org/study>" in shown.output
    data = json.loads(run(month_corpus, "history", "--from", "2025-04-01", "--to", "2025-06-30",
                          "--json").stdout)
    assert data["dates"] == ["2025-04-30", "2025-05-31", "2025-06-30"]
    assert {e["id"]: e["date"] for e in data["evidence"]} == {"d": "2025-05-20", "e": "2025-05"}
    # c and e join at the end of May, d on the 20th: the May step sees all of them.
    assert data["strengths"]["m"][0] == pytest.approx(0.5)
    table = run(month_corpus, "history", "--from", "2025-04-01", "--to", "2025-06-30")
    assert table.exit_code == 0, table.output


@pytest.mark.parametrize("fmt", ["node-link", "turtle", "jsonld", "nt"])
def test_month_dates_and_url_less_sources_round_trip_through_exports(month_corpus, run, tmp_path, fmt):
    out = tmp_path / f"export.{fmt}"
    assert run(month_corpus, "export", "--format", fmt, "-o", out).exit_code == 0
    text = out.read_text()
    if fmt in ("turtle", "nt"):
        assert "gYearMonth" in text
    target = tmp_path / "copy"
    init_corpus(target)
    result = run(target, "import", "--format", fmt, out)
    assert result.exit_code == 0, result.output
    copied = Corpus.load(target).require_valid().graph
    original = Corpus.load(month_corpus).graph
    for node in original:
        a, b = original.nodes[node], copied.nodes[node]
        assert (a["date"] and a["date"].isoformat()) == (b["date"] and b["date"].isoformat()), node
        assert [(s["url"], s.get("title"), s["date"] and s["date"].isoformat()) for s in a["sources"]] == \
               [(s["url"], s.get("title"), s["date"] and s["date"].isoformat()) for s in b["sources"]]


def test_month_dates_conform_to_the_shacl_shapes(month_corpus, run):
    pytest.importorskip("pyshacl", reason="pyshacl is the independent SHACL judge")
    result = run(month_corpus, "check", "--shacl")
    assert result.exit_code == 0, result.output
    assert "conforms to the SHACL shapes" in result.output


def test_set_and_add_write_a_month_as_text(month_corpus, run):
    assert run(month_corpus, "set", "c", "date", "2025-06").exit_code == 0
    assert "date: 2025-06\n" in (month_corpus / "c.md").read_text()
    assert parse_date("2025-06") == Corpus.load(month_corpus).graph.nodes["c"]["date"]
    result = run(month_corpus, "add", "evidence", "f", "--title", "F", "--date", "2024-12",
                 "--source", "https://example.org/f", "--supports", "c")
    assert result.exit_code == 0, result.output
    assert "date: 2024-12\n" in next(month_corpus.rglob("f.md")).read_text()
    before = snapshot(month_corpus)
    bad = run(month_corpus, "set", "c", "date", "2025-13")
    assert bad.exit_code == 1 and "YYYY-MM for a month" in bad.output
    assert snapshot(month_corpus) == before


@pytest.mark.parametrize("front, message", [
    ("date: 2025-13", "date '2025-13' is not an ISO date (YYYY-MM-DD, or YYYY-MM for a month)"),
    ("sources:\n  - quote: a line", "source has no url"),
    ("sources:\n  - title: ''", "source has no url"),
])
def test_bad_dates_and_unnamed_sources_are_errors(tmp_path, front, message):
    root = tmp_path / "claims"
    write_node(root, "x", f"---\nkind: claim\ntitle: x\n{front}\n---\n")
    problems = [str(p) for p in Corpus.load(root).errors]
    assert any(message in p for p in problems), problems


def test_a_source_named_by_title_alone_is_valid(month_corpus):
    corpus = Corpus.load(month_corpus)
    assert corpus.errors == []
    sources = corpus.graph.nodes["e"]["sources"]
    assert sources[1] == {"url": None, "title": "A livestream, reported (no URL)",
                          "date": D(2025, 5, 2)}


def test_the_html_page_carries_month_dates(month_corpus, run, tmp_path):
    out = tmp_path / "page.html"
    result = run(month_corpus, "html", "-o", out)
    assert result.exit_code == 0, result.output
    assert '"2025-05"' in out.read_text()
