"""The HTML map: safety of what goes into the page, the layout, the command, and the page itself
in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright)."""
import base64
import hashlib
import html
import json
import re

import networkx as nx
import pytest
from hypothesis import given, strategies as st

from graph.page.html import (
    DEFAULT_TITLE, LABEL_MIN_PX, LARGE_GRAPH, WHY_LIMIT, WHY_TOP, escape_json_text, layered_positions,
    page_sections, render_html, safe_url, script_json, write_html)
from graph.files.corpus import Corpus
from graph.solving.propagation import score_graph

from helpers import (
    BUNDLED, INJECTED, INJECTIONS, Page, add_edge, add_node, injection_graph, layered_graph, snapshot,
    write_node)

# ---------------------------------------------------------------- helpers building graphs

def graph_state(graph):
    return (sorted((n, repr(d)) for n, d in graph.nodes(data=True)),
            sorted((u, v, k, repr(d)) for u, v, k, d in graph.edges(keys=True, data=True)))


def page_json(page, element_id):
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


# ---------------------------------------------------------------- what may enter the page

@pytest.mark.parametrize("url", [
    "https://example.org/a?b=c#d", "http://localhost:8000/x", "mailto:someone@example.org",
    "  https://example.org/padded  ",
])
def test_safe_url_accepts_http_and_mailto(url):
    assert safe_url(url) == url.strip()


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "java\nscript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
    "file:///etc/passwd", "//evil.example/x", "/relative/path", "relative.html", "https://",
    "http:///no-host", "mailto:", "https://exa mple.org", "https://example.org/\x00", "", None, 42,
    "https://[::1", "\u2028javascript:alert(1)",
])
def test_safe_url_refuses_everything_else(url):
    assert safe_url(url) is None


@given(st.text())
def test_safe_url_only_ever_returns_http_or_mailto(text):
    result = safe_url(text)
    assert result is None or re.match(r"(?i)(https?://[^/?#\s]|mailto:\S)", result)


@given(st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                    max_leaves=12))
def test_script_json_round_trips_and_cannot_end_the_script(value):
    text = str(script_json(value))
    assert json.loads(text) == value
    assert not re.search("[<>&\u2028\u2029]", text)


def test_script_json_writes_what_json_parse_reads():
    """Non-finite numbers become null (JSON has no Infinity or NaN: a browser's JSON.parse
    refuses them), numpy numbers numbers, dates and other objects their str, an integer
    beyond 64 bits stays exact."""
    import datetime
    import numpy as np

    def strict(text):
        return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))

    value = {"inf": float("inf"), "nan": float("nan"), "numpy": [np.float64(0.25), np.int64(3)],
             "day": datetime.date(2024, 2, 29), 7: "int key"}
    assert strict(str(script_json(value))) == {"inf": None, "nan": None, "numpy": [0.25, 3],
                                               "day": "2024-02-29", "7": "int key"}
    assert strict(str(script_json([2 ** 70, "<"]))) == [2 ** 70, "<"]


def test_escape_json_text_of_options_string():
    assert str(escape_json_text('{"a": "</script><!--"}')) == '{"a": "\\u003c/script\\u003e\\u003c!--"}'


# ---------------------------------------------------------------- layout

def test_layered_positions_point_every_edge_upwards():
    graph = layered_graph()
    pos = layered_positions(graph)
    assert set(pos) == set(graph)
    assert len(set(pos.values())) == len(pos)  # no two nodes on one spot
    condensation = nx.condensation(graph)
    component = condensation.graph["mapping"]
    for source, target in graph.edges():
        if component[source] != component[target]:
            assert pos[source][1] > pos[target][1], (source, target)
    top = min(y for _, y in pos.values())
    assert {n for n, (_, y) in pos.items() if y == top} <= {n for n in graph if n.startswith("model")}


def test_layered_positions_handle_cycles_and_isolated_nodes():
    graph = nx.MultiDiGraph()
    for node, kind in (("m", "model"), ("a", "claim"), ("b", "claim"), ("lonely", "evidence")):
        add_node(graph, node, kind)
    add_edge(graph, "a", "b")
    add_edge(graph, "b", "a", "undermines")
    add_edge(graph, "a", "m")
    pos = layered_positions(graph)
    assert pos["a"][1] == pos["b"][1] > pos["m"][1]
    assert pos["lonely"][1] > pos["m"][1]  # only takeoff paths sit on the top layer
    assert layered_positions(nx.MultiDiGraph()) == {}


def test_barycentre_ordering_puts_each_argument_under_what_it_bears_on():
    """Layers start by kind then id; the sweeps move claims under their models and evidence
    under its claims (a self-loop and a parallel edge count once). Pinned to the positions of
    the first, per-node implementation, which the array one reproduces exactly."""
    graph = nx.MultiDiGraph()
    for node, kind in (("m1", "model"), ("m2", "model"), ("c1", "claim"), ("c2", "claim"),
                       ("c3", "claim"), ("c4", "claim"), ("e1", "evidence"), ("e2", "evidence"),
                       ("e3", "evidence")):
        add_node(graph, node, kind)
    for source, target in (("c1", "m2"), ("c2", "m1"), ("c3", "m2"), ("c4", "m1"), ("e1", "c4"),
                           ("e2", "c1"), ("e3", "c2"), ("e3", "c3"), ("c2", "c2")):
        add_edge(graph, source, target)
    add_edge(graph, "e3", "c3", "undermines")
    assert layered_positions(graph) == {
        "m1": (-160.0, 0.0), "m2": (160.0, 0.0),
        "c4": (-240.0, 240.0), "c2": (-80.0, 240.0), "c3": (80.0, 240.0), "c1": (240.0, 240.0),
        "e1": (-240.0, 480.0), "e3": (0.0, 480.0), "e2": (240.0, 480.0)}


def test_wide_layers_are_staggered_not_stretched():
    graph = nx.MultiDiGraph()
    add_node(graph, "m", "model")
    for i in range(100):
        add_node(graph, f"e{i}", "evidence")
        add_edge(graph, f"e{i}", "m")
    pos = layered_positions(graph, max_row=25)
    rows = {y for node, (_, y) in pos.items() if node != "m"}
    xs = [x for node, (x, _) in pos.items() if node != "m"]
    assert len(rows) == 4
    assert max(xs) - min(xs) <= 25 * 160


# ---------------------------------------------------------------- the page as text

def scored(graph):
    return score_graph(graph, "qe")


def test_page_is_self_contained_and_allows_only_its_own_scripts():
    graph = layered_graph()
    page = render_html(graph, scored(graph))
    assert page.startswith("<!DOCTYPE html>")
    # Nothing is loaded from anywhere: no src/href attributes on scripts, links, images, frames.
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b[^>]*\b(src|href)=", page, re.I)
    for host in ("cdnjs.cloudflare.com", "cdn.jsdelivr.net", "bootstrap"):  # pyvis's template
        assert host not in page
    csp = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1))
    assert "default-src 'none'" in csp
    inline = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(inline) == 4  # vis-network, markdown-it, the solver and the page script
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "sourceMappingURL" not in page


def test_page_carries_every_node_and_edge_with_their_data():
    graph = layered_graph()
    result = scored(graph)
    page = render_html(graph, result)
    nodes = page_json(page, "takeoff-nodes")
    edges = page_json(page, "takeoff-edges")
    data = page_json(page, "takeoff-page")
    assert sorted(n["id"] for n in nodes) == sorted(graph)
    assert sorted((e["from"], e["to"], e["relation"]) for e in edges) == sorted(graph.edges(keys=True))
    assert {e["relation"]: e["color"] for e in edges} == {"supports": "#2a9d56", "undermines": "#d64541"}
    for node in graph:
        assert data["details"][node]["strength"] == pytest.approx(result.strengths[node], abs=1e-4)
    sizes = {n["id"]: n["size"] for n in nodes}
    strongest = max((n for n in graph if n.startswith("claim")), key=result.strengths.get)
    weakest = min((n for n in graph if n.startswith("claim")), key=result.strengths.get)
    assert sizes[strongest] > sizes[weakest]


def test_render_does_not_touch_the_graph():
    graph = layered_graph()
    before = graph_state(graph)
    render_html(graph, scored(graph))
    assert graph_state(graph) == before


def test_title_is_text_not_markup():
    graph = layered_graph(n_claims=2, n_evidence=2, n_edges=3)
    page = render_html(graph, scored(graph), title='<img src=x onerror=alert(1)> & "q"')
    assert "<img src=x" not in page
    assert "<title>&lt;img src=x onerror=alert(1)&gt; &amp; &#34;q&#34;</title>" in page


def test_extra_must_be_a_mapping():
    graph = layered_graph(n_claims=2, n_evidence=2, n_edges=3)
    with pytest.raises(TypeError):
        render_html(graph, scored(graph), extra=["timeline"])


def test_write_html_adds_the_timeline_of_a_dated_corpus(tmp_path):
    graph = layered_graph()
    info = write_html(tmp_path / "sub" / "map.html", graph)
    page = (tmp_path / "sub" / "map.html").read_text(encoding="utf-8")
    timeline = page_json(page, "takeoff-page")["timeline"]
    assert info["sections"] == ["timeline", "why"] and info["nodes"] == graph.number_of_nodes()
    assert set(timeline["strengths"]) == {n for n in graph if n.startswith("model")}
    assert all(len(v) == len(timeline["dates"]) for v in timeline["strengths"].values())


def test_write_html_without_dates_has_no_timeline(tmp_path):
    graph = layered_graph()
    for node in graph:
        graph.nodes[node]["date"] = None
    assert write_html(tmp_path / "map.html", graph)["sections"] == ["why"]


def test_why_section_lists_the_top_removal_impacts():
    from graph.explaining.explain import why

    graph = layered_graph()
    result = scored(graph)
    section = page_sections(graph, result)["why"]
    for node in ("model-0", "claim-3"):
        rows = why(graph, node, "qe", top=WHY_TOP, result=result)
        assert [e["node"] for e in section[node]] == [r["id"] for r in sorted(rows, key=lambda r: -abs(r["impact"]))]
        assert section[node][0]["impact"] == pytest.approx(max((r["impact"] for r in rows), key=abs), abs=1e-4)
    assert not any(node.startswith("evidence") for node in section)  # nothing reaches evidence


def test_why_section_is_left_out_of_large_graphs():
    graph = layered_graph(n_models=5, n_claims=120, n_evidence=WHY_LIMIT, n_edges=600)
    assert "why" not in page_sections(graph, scored(graph))


# ---------------------------------------------------------------- the command

def test_html_command_writes_the_page_and_prints_its_path(run, small_corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(small_corpus, "html")
    assert result.exit_code == 0, result.output
    written = tmp_path / "map.html"
    assert result.stdout.strip() == str(written)
    page = written.read_text(encoding="utf-8")
    assert sorted(n["id"] for n in page_json(page, "takeoff-nodes")) == ["c1", "c2", "e1", "m1"]
    assert f"<h1 id=\"heading\">{DEFAULT_TITLE}</h1>" in page


def test_html_command_json_title_and_semantics(run, small_corpus, tmp_path):
    out = tmp_path / "out.html"
    result = run(small_corpus, "html", "-o", out, "--json", "--title", "My <map>", "--semantics", "dfquad")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["path"] == str(out) and info["nodes"] == 4 and info["edges"] == 3
    assert info["semantics"] == "dfquad" and info["bytes"] == out.stat().st_size
    page = out.read_text(encoding="utf-8")
    assert "<title>My &lt;map&gt;</title>" in page
    assert page_json(page, "takeoff-page")["semantics"] == "dfquad"


def test_html_command_open_launches_the_browser(run, small_corpus, tmp_path, monkeypatch):
    launched = []
    monkeypatch.setattr("click.launch", lambda url, **kw: launched.append(url))
    result = run(small_corpus, "html", "-o", tmp_path / "m.html", "--open")
    assert result.exit_code == 0, result.output
    assert launched == [str(tmp_path / "m.html")]


def test_html_command_as_of_leaves_later_nodes_out(run, small_corpus, tmp_path):
    result = run(small_corpus, "html", "-o", tmp_path / "m.html", "--as-of", "2025-01-01", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["nodes"] == 3  # e1 is dated 2025-05-14


def test_html_command_timeline_ends_on_the_as_of_day(run, tmp_path):
    result = run(BUNDLED, "html", "-o", tmp_path / "m.html", "--as-of", "2025-06-30")
    assert result.exit_code == 0, result.output
    timeline = page_json((tmp_path / "m.html").read_text(encoding="utf-8"), "takeoff-page")["timeline"]
    assert timeline["dates"][-1] == "2025-06-30" and timeline["step"] == "month"


def test_html_command_unknown_semantics_is_a_usage_error(run, small_corpus, tmp_path):
    result = run(small_corpus, "html", "-o", tmp_path / "m.html", "--semantics", "nope")
    assert result.exit_code == 2 and "nope" in result.stderr
    assert not (tmp_path / "m.html").exists()


def test_html_command_invalid_corpus_writes_nothing(run, small_corpus, tmp_path):
    write_node(small_corpus, "broken", """
        ---
        kind: claim
        title: Points nowhere
        supports:
          - target: no-such-node
        ---
        """)
    result = run(small_corpus, "html", "-o", tmp_path / "m.html")
    assert result.exit_code == 1
    assert "broken.md" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "m.html").exists()


def test_html_command_output_is_a_folder(run, small_corpus, tmp_path):
    before = snapshot(tmp_path)
    result = run(small_corpus, "html", "-o", tmp_path)
    assert result.exit_code == 2 and "directory" in result.stderr.lower()
    assert snapshot(tmp_path) == before


def test_html_command_missing_corpus(run, tmp_path):
    result = run(tmp_path / "nowhere", "html", "-o", tmp_path / "m.html")
    assert result.exit_code == 1 and "nowhere" in result.stderr


# ---------------------------------------------------------------- in the browser

@pytest.fixture(scope="module")
def bundled_page(browser, tmp_path_factory):
    corpus = Corpus.load(BUNDLED).require_valid()
    path = tmp_path_factory.mktemp("bundled") / "map.html"
    write_html(path, corpus.graph)
    page = Page(browser, path)
    yield page, corpus.graph
    page.close()


@pytest.fixture
def fresh(bundled_page):
    """The bundled page with the panel closed and filters and focus cleared."""
    page, graph = bundled_page
    page.js("() => { takeoff.clearFilters(); takeoff.closePanel(); document.getElementById('search').value = ''; }")
    return page, graph


def test_page_draws_every_node_and_edge_offline_without_errors(bundled_page):
    page, graph = bundled_page
    counts = page.js("""() => [Object.keys(network.getPositions()).length, network.body.data.nodes.length,
                              network.body.data.edges.length, Object.keys(network.body.edges).length]""")
    assert counts == [graph.number_of_nodes()] * 2 + [graph.number_of_edges()] * 2
    assert page.js("() => document.getElementById('heading').textContent") == DEFAULT_TITLE
    page.assert_clean()


def test_ranking_lists_the_models_by_strength(bundled_page):
    page, graph = bundled_page
    models = [n for n, k in graph.nodes(data="kind") if k == "model"]
    result = score_graph(graph, "qe")
    shown = page.js("() => Array.from(document.querySelectorAll('#ranking .rank')).map(b => b.dataset.id)")
    assert shown == sorted(models, key=lambda n: -result.strengths[n])


def test_ranking_of_many_models_shows_the_top_first(browser, tmp_path):
    graph = layered_graph(n_models=20, n_claims=30, n_evidence=30, n_edges=150)
    path = tmp_path / "many.html"
    write_html(path, graph, sections=False)
    page = Page(browser, path)
    try:
        ranked = lambda: page.js("() => Array.from(document.querySelectorAll('#ranking .rank')).map(b => b.dataset.id)")  # noqa: E731
        strengths = scored(graph).strengths
        order = sorted((n for n in graph if n.startswith("model")), key=lambda n: (-round(strengths[n], 12), n))
        assert ranked() == order[:12]
        page.page.locator("#ranking-more").click()
        assert ranked() == order
        page.assert_clean()
    finally:
        page.close()


def test_clicking_a_node_opens_its_panel_with_sources_and_edges(fresh):
    page, graph = fresh
    node = "alphaevolve-borg-scheduling"
    page.click_node(node)
    panel = page.page.locator("#panel")
    panel.wait_for(state="visible")
    assert panel.locator(".panel-title").inner_text() == graph.nodes[node]["title"]
    assert page.js("() => network.getSelectedNodes()") == [node]
    links = panel.locator(".sources a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == \
        [s["url"] for s in graph.nodes[node]["sources"]]
    assert all(s["title"] in panel.inner_text() for s in graph.nodes[node]["sources"])
    targets = sorted(graph.successors(node))
    shown = panel.locator(".edges-out .node-link")
    assert sorted(shown.nth(i).get_attribute("data-id") for i in range(shown.count())) == targets
    # Following an edge moves the panel and the selection to the node at its other end.
    clicked = shown.first.get_attribute("data-id")
    shown.first.click()
    moved_to = page.js("() => takeoff.state.selected")
    assert moved_to == clicked
    assert panel.locator(".panel-title").inner_text() == graph.nodes[moved_to]["title"]
    assert page.js("() => network.getSelectedNodes()") == [moved_to]
    page.assert_clean()


def test_panel_shows_why_a_model_is_as_strong_as_it_is(fresh):
    from graph.explaining.explain import why

    page, graph = fresh
    node = "software-explosion"
    page.js("id => takeoff.goTo(id)", node)
    shown = page.js("() => Array.from(document.querySelectorAll('#panel .why .node-link')).map(b => b.dataset.id)")
    assert set(shown) == {r["id"] for r in why(graph, node, "qe", top=WHY_TOP)}
    page.page.locator("#panel .why .node-link").first.click()
    assert page.js("() => takeoff.state.selected") == shown[0]


def test_selecting_a_node_fades_all_but_its_neighbours(fresh):
    page, graph = fresh
    node = "naive-rlvr"
    page.js("id => takeoff.goTo(id)", node)
    near = {node} | set(graph.to_undirected(as_view=True).neighbors(node))
    clear = set(page.js("() => nodes.get().filter(n => (n.opacity ?? 1) === 1).map(n => n.id)"))
    assert clear == near
    page.page.locator("#panel-close").click()
    assert page.js("() => nodes.get().filter(n => (n.opacity ?? 1) < 1).length") == 0


def test_annotation_is_rendered_markdown(fresh):
    page, graph = fresh
    node = next(n for n, b in graph.nodes(data="body") if "**" in b)
    page.js("id => takeoff.goTo(id)", node)
    assert page.page.locator("#panel .annotation strong").count() >= 1


def test_markdown_is_rendered_without_raw_html_images_or_unsafe_links(fresh):
    page, _ = fresh
    render = lambda text: page.js("t => takeoff.renderMarkdown(t)", text)  # noqa: E731
    html = render('<script>alert(1)</script> <img src=x onerror="alert(2)"> **bold** `code`')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "<strong>bold</strong>" in html and "<code>code</code>" in html
    html = render("[ok](https://example.org) [mail](mailto:a@b.org) [bad](javascript:alert(1)) "
                  "[data](data:text/html,x) [rel](/etc/passwd) <javascript:alert(1)> [sp](java\tscript:x)")
    assert re.findall(r'href="([^"]*)"', html) == ["https://example.org", "mailto:a@b.org"]
    assert "[bad](javascript:alert(1))" in html  # left as plain text
    assert html.count('rel="noopener noreferrer nofollow"') == 2
    # An image would be fetched from the network when the panel opens: it stays a link.
    html = render("![chart](https://example.org/chart.png)")
    assert "<img" not in html and 'href="https://example.org/chart.png"' in html


def test_search_finds_and_focuses_a_node(fresh):
    page, graph = fresh
    box = page.page.locator("#search")
    box.fill("AlphaEvolve")
    options = page.page.locator("#search-results li[role=option]")
    ids = [options.nth(i).get_attribute("data-id") for i in range(options.count())]
    expected = {n for n, t in graph.nodes(data="title") if "alphaevolve" in (n + " " + t).lower()}
    assert set(ids) == expected and ids
    box.press("Enter")
    chosen = ids[0]
    assert page.js("() => network.getSelectedNodes()") == [chosen]
    assert page.page.locator("#panel .panel-title").inner_text() == graph.nodes[chosen]["title"]
    # The camera glides to the node and stops with it in the middle of the canvas.
    page.page.wait_for_function("""id => { const c = network.getViewPosition(), p = network.getPositions([id])[id];
                                        return Math.abs(c.x - p.x) < 2 && Math.abs(c.y - p.y) < 2; }""",
                                arg=chosen, timeout=10_000)
    box.fill("no node is called this")
    assert page.page.locator("#search-results li.none").count() == 1
    page.assert_clean()


def test_kind_filter_hides_that_kind_and_its_edges(fresh):
    page, graph = fresh
    page.js("() => { document.getElementById('filter-card').open = true; }")  # folded at first
    page.page.locator("#kind-filters input[data-kind=evidence]").uncheck()
    visible = page.visible_nodes()
    assert visible == {n for n, k in graph.nodes(data="kind") if k != "evidence"}
    assert sorted(map(tuple, page.visible_edges())) == sorted(
        (u, v) for u, v in graph.edges() if u in visible and v in visible)
    evidence = next(n for n, k in graph.nodes(data="kind") if k == "evidence")
    assert page.js("id => network.body.nodes[id].options.hidden", evidence) is True  # as drawn
    page.page.locator("#kind-filters input[data-kind=evidence]").check()
    assert page.visible_nodes() == set(graph)


def test_tag_filter_shows_only_tagged_nodes(fresh):
    page, graph = fresh
    page.js("() => { document.getElementById('filter-card').open = true; }")
    page.page.locator('#tag-filters .tag[data-tag="robotics"]').click()
    assert page.visible_nodes() == {n for n, t in graph.nodes(data="tags") if "robotics" in t}
    page.page.locator("#clear-filters").click()
    assert page.visible_nodes() == set(graph)


def test_focus_mode_shows_a_neighbourhood(fresh):
    page, graph = fresh
    node = "software-explosion"
    page.js("id => takeoff.goTo(id)", node)
    page.page.locator("#focus-button").click()
    undirected = graph.to_undirected(as_view=True)
    assert page.visible_nodes() == {node} | set(undirected.neighbors(node))
    page.page.locator("#focus-depth").select_option("2")
    assert page.visible_nodes() == set(nx.single_source_shortest_path_length(undirected, node, cutoff=2))
    page.page.locator("#focus-exit").click()
    assert page.visible_nodes() == set(graph)
    page.assert_clean()


def test_timeline_replays_the_model_strengths(fresh):
    page, graph = fresh
    from graph.solving.timeline import history

    data = history(graph, step="month")
    slider = page.page.locator("#timeline")
    slider.fill("0")
    shown = page.js("""() => Object.fromEntries(Array.from(document.querySelectorAll('#ranking .rank'))
                         .map(b => [b.dataset.id, b.querySelector('.rank-value').textContent]))""")
    for model, series in data["strengths"].items():
        assert shown[model] == ("—" if series[0] is None else f"{series[0]:.2f}")
    later = {n for n, d in graph.nodes(data="date") if d is not None and d.isoformat() > data["dates"][0]}
    faded = set(page.js("() => nodes.get().filter(n => n.opacity < 1).map(n => n.id)"))
    assert faded == later
    page.page.locator("#timeline-reset").click()
    assert page.js("() => nodes.get().filter(n => n.opacity < 1).length") == 0


def test_tooltip_is_plain_text(fresh):
    page, graph = fresh
    node = "metr-developer-rct"
    tip = page.hover_node(node)
    assert graph.nodes[node]["title"] in tip.inner_text()
    # vis-network sets the title with innerText: line breaks become <br>, nothing else is markup.
    tags = page.js("() => Array.from(document.querySelector('div.vis-tooltip').children).map(c => c.tagName)")
    assert set(tags) <= {"BR"}


def test_injection_payloads_in_the_graph_run_no_script(browser, tmp_path):
    graph, bad_id = injection_graph()
    path = tmp_path / "evil.html"
    write_html(path, graph, title="</title><script>window.__pwned='title'</script><b onclick=x>")
    page = Page(browser, path)
    try:
        assert page.js("() => document.getElementById('heading').textContent").startswith("</title><script>")
        for node in graph:
            page.js("id => takeoff.goTo(id)", node)
            page.js("id => takeoff.setFocus(id)", node)
        page.js("() => takeoff.setFocus(null)")
        for tag in page.js("() => takeoff.page.tags.map(t => t[0])"):
            page.js("t => takeoff.toggleTag(t)", tag)
        page.page.locator("#search").fill("script")
        page.click_node("target-model")
        page.page.mouse.move(5, 5)
        page.page.wait_for_timeout(300)
        found = page.js(INJECTED)
        assert found == {"pwned": None, "handlers": 0, "embeds": 0, "scripts": 8, "jsLinks": 0}
        # The payloads are shown, as text.
        page.js("id => takeoff.goTo(id)", bad_id)
        panel = page.page.locator("#panel").inner_text()
        assert INJECTIONS[1] in panel and INJECTIONS[0] in panel
        assert page.page.locator("#panel .sources a").count() == 1  # the javascript: source is text
        page.assert_clean()
    finally:
        page.close()


def test_injection_through_corpus_files_and_the_command(browser, run, tmp_path):
    root = tmp_path / "claims"
    write_node(root, "m", """
        ---
        kind: model
        title: "<img src=x onerror=\\"window.__pwned='title'\\"> href"
        tags: ["<script>window.__pwned='tag'</script>"]
        sources:
          - url: https://example.org/"><script>window.__pwned='url'</script>
            title: "<svg onload=\\"window.__pwned='src'\\">"
            quote: "</script><script>window.__pwned='quote'</script>"
        ---
        [x](javascript:window.__pwned='md') <iframe src="javascript:window.__pwned='iframe'"></iframe>
        """)
    write_node(root, "e", """
        ---
        kind: evidence
        title: "</script><script>window.__pwned='close'</script>"
        date: 2025-01-01
        supports:
          - target: m
            note: "<img src=x onerror=\\"window.__pwned='note'\\">"
        ---
        """)
    out = tmp_path / "map.html"
    result = run(root, "html", "-o", out, "--title", "<h1 onclick=alert(1)>Evil</h1>")
    assert result.exit_code == 0, result.output
    page = Page(browser, out)
    try:
        for node in ("m", "e"):
            page.click_node(node)
        found = page.js(INJECTED)
        assert found == {"pwned": None, "handlers": 0, "embeds": 0, "scripts": 8, "jsLinks": 0}
        assert page.js("() => document.title") == "<h1 onclick=alert(1)>Evil</h1>"
        page.assert_clean()
    finally:
        page.close()


def test_large_graph_draws_everything_with_layout_precomputed(browser, tmp_path):
    graph = layered_graph(n_models=8, n_claims=150, n_evidence=250, n_edges=900)
    assert graph.number_of_nodes() > LARGE_GRAPH
    path = tmp_path / "large.html"
    write_html(path, graph, sections=False)
    page = Page(browser, path)
    try:
        assert page.js("() => Object.keys(network.getPositions()).length") == graph.number_of_nodes()
        assert page.js("() => network.body.data.edges.length") == graph.number_of_edges()
        assert page.js("() => network.physics.options.enabled") is False
        # The first view labels what fits, takeoff paths first, and says so under the map.
        page.page.wait_for_function("() => document.getElementById('label-rule').textContent !== ''")
        labelled = set(page.js("() => nodes.get().filter(n => n.label).map(n => n.id)"))
        assert labelled & {n for n in graph if n.startswith("model")}
        assert 0 < len(labelled) < graph.number_of_nodes()
        assert page.page.locator("#label-rule").inner_text().startswith(f"Labels: {len(labelled)} of ")
        assert page.js("() => network.edgesHandler.options.arrows.to.enabled") is False
        page.js("id => takeoff.goTo(id)", "claim-3")  # jumps (no glide on a large map) to scale 1
        assert page.js("() => network.getScale()") == pytest.approx(1)
        # Zoomed in, the nodes in view get their labels (the selected one first) and the edges
        # their arrowheads.
        page.page.wait_for_function("() => network.edgesHandler.options.arrows.to.enabled")
        assert page.js("() => nodes.get('claim-3').label") is not None
        labelled = page.js("() => nodes.get().filter(n => n.label).length")
        in_view = int(re.search(r"(\d+) nodes in view", page.page.locator("#label-rule").inner_text())[1])
        assert labelled >= in_view / 2 and labelled >= 5
        page.assert_clean()
    finally:
        page.close()


# ---------------------------------------------------------------- readable at first sight

FIRST_VIEW_SIZES = [(1280, 720), (1600, 1000)]


def first_view_maps(tmp_path):
    """The three maps of issue 21: 13 nodes, the bundled corpus (with its perspectives, so the
    perspective menu is there), and 500 nodes."""
    from graph.files.perspectives import load_perspective, perspective_names

    small = layered_graph(n_models=3, n_claims=5, n_evidence=5, n_edges=20, seed=3)
    bundled = Corpus.load(BUNDLED).require_valid()
    large = layered_graph(n_models=10, n_claims=190, n_evidence=300, n_edges=1000, seed=5)
    pages = {}
    for name, graph, perspectives in (
            ("13", small, ()),
            ("bundled", bundled.graph,
             [load_perspective(bundled, p) for p in perspective_names(bundled.root)]),
            ("500", large, ())):
        pages[name] = (tmp_path / f"{name}.html", graph)
        write_html(pages[name][0], graph, perspectives=perspectives)
    return pages


LABEL_BOXES = """() => {
  const scale = network.getScale(), box = document.getElementById('network').getBoundingClientRect();
  return nodes.get().filter(n => n.label).map(n => {
    // The box vis-network measured (canvas units), moved by the label's vertical adjustment
    // (which it applies when drawing the text).
    const s = network.body.nodes[n.id].labelModule.size, v = (n.font && n.font.vadjust) || 0;
    const a = network.canvasToDOM({x: s.left, y: s.top + v}), b = network.canvasToDOM({x: s.left + s.width, y: s.top + v + s.height});
    return {id: n.id, px: n.font.size * scale, x: a.x, y: a.y, w: b.x - a.x, h: b.y - a.y,
            inside: a.x >= -1 && a.y >= -1 && b.x <= box.width + 1 && b.y <= box.height + 1};
  });
}"""


def _disjoint(a, b):
    return a["x"] + a["w"] <= b["x"] + 1 or b["x"] + b["w"] <= a["x"] + 1 \
        or a["y"] + a["h"] <= b["y"] + 1 or b["y"] + b["h"] <= a["y"] + 1


@pytest.fixture(scope="module")
def first_view_pages(tmp_path_factory):
    return first_view_maps(tmp_path_factory.mktemp("first-view"))


@pytest.mark.parametrize("size", FIRST_VIEW_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", ["13", "bundled", "500"])
def test_first_view_labels_are_legible_apart_and_follow_the_rule_shown(browser, first_view_pages,
                                                                      name, size):
    path, graph = first_view_pages[name]
    page = Page(browser, path, viewport=size)
    try:
        page.page.wait_for_function("() => document.getElementById('label-rule').textContent !== ''")
        page.page.wait_for_timeout(300)  # the label placement after the first draw
        boxes = page.js(LABEL_BOXES)
        labelled = {b["id"] for b in boxes}
        assert all(b["px"] >= LABEL_MIN_PX - 0.01 for b in boxes), boxes
        assert all(b["inside"] for b in boxes), [b for b in boxes if not b["inside"]]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert _disjoint(a, b), (a, b)
        rule = page.page.locator("#label-rule")
        assert rule.is_visible()
        models = {n for n, k in graph.nodes(data="kind") if k == "model"}
        if name == "13":  # a small map: every label, every node
            assert labelled == set(graph) and rule.inner_text() == "Labels: all 13 nodes in view."
        else:  # the rule shown under the map, and the takeoff paths first
            assert rule.inner_text().startswith(f"Labels: {len(labelled)} of {len(graph)} nodes in view")
            assert "takeoff paths, then the strongest" in rule.inner_text()
            if name == "bundled":
                assert models <= labelled and len(labelled) >= 12
            else:
                assert labelled & models and len(labelled) >= 6
        page.assert_clean()
    finally:
        page.close()


CONTROLS = ["#search", "#ranking .rank", "#semantics", "#whatif-reset", "#whatif-download",
            "#filter-card > summary", "#legend", "#label-rule", "#timeline", "#timeline-reset"]


@pytest.mark.parametrize("size", FIRST_VIEW_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", ["13", "bundled", "500"])
def test_every_control_is_in_view_without_scrolling_and_no_menu_is_cut(browser, first_view_pages,
                                                                       name, size):
    path, graph = first_view_pages[name]
    page = Page(browser, path, viewport=size)
    try:
        controls = CONTROLS + (["#perspective"] if name == "bundled" else [])
        for selector in controls:
            box = page.page.locator(selector).first.bounding_box()
            assert box is not None, selector
            assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
            assert box["x"] + box["width"] <= size[0] + 0.5, (selector, box)
            assert box["y"] + box["height"] <= size[1] + 0.5, (selector, box)
        assert page.js("() => { const s = document.querySelector('.sidebar'); "
                       "return s.scrollHeight <= s.clientHeight + 1; }"), "the sidebar scrolls"
        # Every option of every menu fits the menu's width (text plus the arrow's room).
        cut = page.js("""() => {
          const ctx = document.createElement('canvas').getContext('2d'), cut = [];
          [...document.querySelectorAll('.sidebar select')].filter(s => s.offsetParent).forEach(select => {
            ctx.font = getComputedStyle(select).font;
            [...select.options].forEach(o => {
              if (ctx.measureText(o.text).width + 28 > select.clientWidth) cut.push(o.text);
            });
          });
          return cut; }""")
        assert cut == []
        page.assert_clean()
    finally:
        page.close()


def test_each_number_of_the_panel_sits_beside_its_own_name(browser, first_view_pages):
    path, graph = first_view_pages["bundled"]
    page = Page(browser, path, viewport=(1280, 720))
    try:
        node = next(n for n, d in graph.nodes(data=True) if d["kind"] == "evidence" and d["date"])
        page.js("id => takeoff.openPanel(id)", node)
        rows = page.js("""() => [...document.querySelectorAll('#panel .metric')].map(row => {
          const label = row.querySelector('.metric-label'), value = row.querySelector('.metric-value');
          const a = label.getBoundingClientRect(), b = value.getBoundingClientRect();
          return [label.textContent, value.dataset.metric, value.textContent, Math.abs(a.top - b.top),
                  b.left > a.right]; })""")
        names = [r[0] for r in rows]
        assert names == ["credence", "strength", "strength as written", "date"]
        assert [r[1] for r in rows] == ["credence", "strength", "written", "date"]
        assert all(r[3] < 4 and r[4] for r in rows), rows  # on its name's line, to its right
        written = page.js("id => takeoff.score({}).strengths[id]", node)
        assert rows[2][2] == f"{written:.2f}" and rows[3][2] == str(graph.nodes[node]["date"])
        page.assert_clean()
    finally:
        page.close()


# ---------------------------------------------------------------- responsive at 5,000 nodes

# Best of five (ms), each to the next paint: the whole map redrawn in full view, moved a pixel
# so that nothing drawn before is reused; and a what-if change, from the slider's value to the
# map and the ranking redrawn.
FULL_VIEW_TIMES = """async id => {
  const painted = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  const best = { redraw: Infinity, whatif: Infinity };
  for (let i = 0; i < 5; i++) {
    await painted();
    const at = network.getViewPosition(), start = performance.now();
    network.moveTo({ position: { x: at.x + (i % 2 ? 1 : -1) / network.getScale(), y: at.y }, animation: false });
    network.redraw();
    await painted();
    best.redraw = Math.min(best.redraw, performance.now() - start);
    const change = performance.now();
    takeoff.setChange({ kind: 'credence', id: id, value: i % 2 ? 0.9 : 0.05 });
    await painted();
    best.whatif = Math.min(best.whatif, performance.now() - change);
  }
  return best;
}"""


@pytest.fixture(scope="module")
def map_5000(tmp_path_factory):
    graph = layered_graph(n_models=100, n_claims=1900, n_evidence=3000, n_edges=10000, seed=11)
    path = tmp_path_factory.mktemp("5000") / "map.html"
    write_html(path, graph, sections=False)
    return path, graph


def test_a_5000_node_map_redraws_and_rescores_in_full_view_within_300_ms(browser, map_5000):
    """The page's speed at 5,000 nodes (issue 26): bench/bench_page.py measures it against the
    target of 100 ms; here a generous bound, for loaded machines, that the old drawing (about
    half a second a frame) did not meet."""
    path, graph = map_5000
    page = Page(browser, path, viewport=(1280, 720))
    try:
        models = {n for n, k in graph.nodes(data="kind") if k == "model"}
        # The model ranked first, from its claim with the most edges: its credence moves it.
        top = page.js("() => document.querySelector('#ranking .rank').dataset.id")
        claim = max((c for c, _ in graph.in_edges(top)), key=lambda c: (graph.degree(c), c))
        times = page.js(FULL_VIEW_TIMES, claim)
        assert times["redraw"] < 300 and times["whatif"] < 300, times
        # The ranking shown is the re-scored one, strongest first.
        shown = page.js("() => [...document.querySelectorAll('#ranking .rank')].map(b => b.dataset.id)")
        strengths = page.js("ids => ids.map(id => takeoff.strengthOf(id))", shown)
        assert set(shown) <= models and len(shown) == 12
        assert strengths == sorted(strengths, reverse=True)
        assert page.js("() => takeoff.whatif.changes.size") == 1
        assert page.js("() => network.getScale()") < 0.1  # still the whole map in view
        page.assert_clean()
    finally:
        page.close()
