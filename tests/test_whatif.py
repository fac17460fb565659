"""The what-if of the HTML map, in a real headless Chromium: the page's solver against
graph.solving.propagation, the sliders, perspectives, the date slider, the link and the downloaded
perspective, legibility, keyboard use and injection through the new controls."""
import datetime
import json
import random
import shutil
import urllib.parse

import networkx as nx
import pytest

from graph.page.html import DEFAULT_TITLE, LABEL_MIN_PX, write_html
from graph.files.corpus import Corpus
from graph.explaining.perspective import apply_perspective
from graph.files.perspectives import load_perspective, perspective_names
from graph.solving.propagation import build_system, score_graph, solve

from helpers import (
    BUNDLED, INJECTED, INJECTIONS, Page, bundled_page_path, cli_score, injection_graph, layered_graph,
    page_strengths, write_node)

SEMANTICS = ("qe", "dfquad", "eb")
EXACT = 1e-9


def bundled_corpus(tmp_path):
    root = tmp_path / "claims"
    shutil.copytree(BUNDLED, root)
    return root


@pytest.fixture(scope="module")
def bundled(browser, tmp_path_factory):
    path, corpus = bundled_page_path(tmp_path_factory.mktemp("whatif"))
    page = Page(browser, path, viewport=(1280, 720))
    yield page, corpus
    page.close()


@pytest.fixture
def clean(bundled):
    """The bundled page with no what-if in force and the panel closed."""
    page, corpus = bundled
    page.js("""() => { takeoff.setPerspective(null); takeoff.setSemantics('qe'); takeoff.resetAll();
                       takeoff.closePanel(); if (takeoff.state.asOf !== null) takeoff.setAsOf(1e9); }""")
    return page, corpus


def scored(graph, semantics="qe"):
    return score_graph(graph, semantics).strengths


def assert_close(shown, expected, tol=EXACT):
    assert set(shown) == set(expected)
    worst = max(abs(shown[k] - expected[k]) for k in expected)
    assert worst <= tol, worst


# ---------------------------------------------------------------- the solver

@pytest.mark.parametrize("semantics", SEMANTICS)
def test_page_solver_equals_takeoff_score_on_the_bundled_corpus(bundled, run, semantics):
    page, _ = bundled
    expected = cli_score(run, BUNDLED, "--semantics", semantics)
    shown = page.js("s => takeoff.score({semantics: s}).strengths", semantics)
    assert_close(shown, expected)


def random_graph(rnd, n, m, cyclic):
    graph = nx.MultiDiGraph()
    for i in range(n):
        graph.add_node(f"n{i}", credence=rnd.choice([0.0, 1.0, round(rnd.random(), 3), rnd.random()]))
    while graph.number_of_edges() < m:
        a, b = rnd.randrange(n), rnd.randrange(n)
        if not cyclic and a >= b:
            a, b = min(a, b), max(a, b)
            if a == b:
                continue
        relation = rnd.choice(["supports", "undermines"])
        if graph.has_edge(f"n{a}", f"n{b}", key=relation):
            continue
        weight = rnd.choice([1.0, rnd.random()])
        graph.add_edge(f"n{a}", f"n{b}", key=relation, relation=relation, weight=weight)
    return graph


def test_page_solver_equals_python_on_random_graphs(bundled):
    """Acyclic and cyclic, weighted, every semantics: the same strengths to 1e-9 and the same
    method per cyclic stage (certified, ode+ball, ode)."""
    page, _ = bundled
    rnd = random.Random(14)
    methods = set()
    cases = []
    for trial in range(36):
        cyclic = trial % 3 != 0
        n = rnd.randrange(3, 40)
        graph = random_graph(rnd, n, rnd.randrange(n, 3 * n), cyclic)
        system = build_system(graph)
        for semantics in SEMANTICS:
            s, info = solve(system, semantics)
            methods.update(info.methods)
            cases.append({"n": system.n_nodes, "src": system.src.tolist(), "dst": system.dst.tolist(),
                          "rel": system.relation.tolist(), "weight": system.weight.tolist(),
                          "base": system.base.tolist(), "semantics": semantics,
                          "expected": s.tolist(), "methods": info.methods, "converged": info.converged})
    got = page.js("""cases => cases.map(c => {
        const plan = takeoffSolver.build(c.n, Int32Array.from(c.src), Int32Array.from(c.dst), Uint8Array.from(c.rel));
        const r = takeoffSolver.solve(plan, c.semantics, Float64Array.from(c.base), Float64Array.from(c.weight));
        return {s: Array.from(r.s), methods: r.methods, converged: r.converged}; })""", cases)
    for case, result in zip(cases, got):
        assert max(abs(a - b) for a, b in zip(result["s"], case["expected"])) <= EXACT, case
        assert result["methods"] == case["methods"] and result["converged"] == case["converged"]
    assert {"certified", "ode+ball"} <= methods  # both ways of solving a cycle were exercised


def test_window_api_applies_overrides_as_a_perspective_does(bundled):
    page, corpus = bundled
    graph = corpus.graph
    evidence = sorted(n for n, k in graph.nodes(data="kind") if k == "evidence")[:3]
    source, target = sorted(graph.edges())[5]
    spec = {"credences": {n: 0.05 for n in evidence}, "weights": [{"source": source, "target": target, "weight": 0.0}],
            "semantics": "dfquad"}
    shown = page.js("spec => takeoff.score(spec)", spec)
    from graph.files.perspectives import Perspective

    changed = apply_perspective(graph, Perspective("x", credences=spec["credences"], weights={(source, target): 0.0}))
    assert_close(shown["strengths"], scored(changed, "dfquad"))
    assert shown["converged"] is True and shown["semantics"] == "dfquad"
    error = page.js("() => { try { takeoff.score({credences: {'no-such-node': 0.5}}); } catch (e) { return e.message; } }")
    assert "no-such-node" in error
    error = page.js("id => { try { takeoff.score({credences: {[id]: 2}}); } catch (e) { return e.message; } }", evidence[0])
    assert "[0, 1]" in error


# ---------------------------------------------------------------- sliders, by mouse

def ranking_changer(graph):
    """A node whose credence at 0 or 1 reorders the takeoff paths, and that value."""
    models = [n for n, k in graph.nodes(data="kind") if k == "model"]
    before = sorted(models, key=lambda m: -scored(graph)[m])
    for node in sorted(graph):
        if graph.nodes[node]["kind"] == "model":
            continue
        for value in (0.0, 1.0):
            changed = graph.copy()
            changed.nodes[node]["credence"] = value
            s = scored(changed)
            if sorted(models, key=lambda m: -s[m]) != before:
                return node, value
    pytest.skip("no single credence reorders the takeoff paths of this corpus")


def ranked(page):
    return page.js("""() => Array.from(document.querySelectorAll('#ranking .rank'))
                         .map(b => [b.dataset.id, b.querySelector('.rank-value').textContent])""")


def test_dragging_a_credence_slider_reranks_as_takeoff_set_and_score_do(clean, run, tmp_path):
    page, corpus = clean
    node, value = ranking_changer(corpus.graph)
    page.js("id => takeoff.goTo(id)", node)
    slider = page.page.locator("#credence-slider")
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    start = box["x"] + box["width"] * corpus.graph.nodes[node]["credence"]
    page.page.mouse.move(start, y)
    page.page.mouse.down()
    end = box["x"] + (box["width"] + 40 if value else -40)  # past the end: the slider stops at it
    page.page.mouse.move(end, y, steps=8)
    page.page.mouse.up()
    dragged = float(slider.input_value())
    assert dragged == value
    root = bundled_corpus(tmp_path)
    result = run(root, "set", node, "credence", str(dragged))
    assert result.exit_code == 0, result.output
    result = run(root, "score", "--json")
    expected = json.loads(result.stdout)
    assert [row[0] for row in ranked(page)] == expected["models"]
    for model, shown in ranked(page):
        assert shown == f"{expected['nodes'][model]['strength']:.2f}"
    # The map draws the new strengths: node sizes (the DataSet and what vis-network draws).
    from graph.page.html import _node_size

    for model in expected["models"]:
        size = _node_size("model", expected["nodes"][model]["strength"])
        assert page.js("id => [nodes.get(id).size, network.body.nodes[id].options.size]", model) == [size, size]
        assert f"strength {expected['nodes'][model]['strength']:.2f}" in page.js("id => network.body.nodes[id].options.title", model)
    # The change is listed, with the ranking's deltas from the corpus as written, and undone.
    assert page.page.locator("#whatif-changes .change").count() == 1
    assert page.page.locator("#ranking .rank-delta.up, #ranking .rank-delta.down").count() >= 1
    page.page.locator("#whatif-changes .undo").click()
    assert page.page.locator("#whatif-changes .change").count() == 0
    assert_close(page_strengths(page), scored(corpus.graph))
    page.assert_clean()


def test_weight_slider_by_keyboard_changes_the_edge_and_its_target(clean):
    page, corpus = clean
    graph = corpus.graph
    source, target = next((u, v) for u, v in sorted(graph.edges()) if graph.nodes[v]["kind"] == "model")
    page.js("id => takeoff.goTo(id)", target)
    slider = page.page.locator(f'#panel .weight-slider[data-source="{source}"]').first
    assert slider.get_attribute("aria-label").startswith("Weight of ")
    slider.focus()
    page.page.keyboard.press("Home")  # weight 0: the edge is switched off
    assert slider.input_value() == "0"
    assert slider.get_attribute("aria-valuetext") == "0.00"
    changed = graph.copy()
    for attrs in changed[source][target].values():
        attrs["weight"] = 0.0
    assert_close(page_strengths(page), scored(changed))
    width = page.js("([s, t]) => edges.get().filter(e => e.from === s && e.to === t)[0].width", [source, target])
    assert width == 1
    page.page.locator("#whatif-reset").click()
    assert_close(page_strengths(page), scored(graph))


# ---------------------------------------------------------------- perspectives and dates

def test_perspectives_are_selectable_and_score_as_the_command_does(clean, run):
    page, corpus = clean
    names = perspective_names(BUNDLED)
    assert names, "the bundled corpus has perspectives"
    options = page.js("() => Array.from(document.querySelectorAll('#perspective option')).map(o => o.value)")
    assert options == [""] + names
    for name in names:
        page.page.locator("#perspective").select_option(name)
        assert page.page.locator("#perspective-description").inner_text() == load_perspective(corpus, name).description
        assert_close(page_strengths(page), cli_score(run, BUNDLED, "--perspective", name))
    page.page.locator("#perspective").select_option("")
    assert_close(page_strengths(page), scored(corpus.graph))


def test_date_slider_and_what_if_compose(clean, run):
    page, corpus = clean
    name = perspective_names(BUNDLED)[0]
    page.js("n => takeoff.setPerspective(n)", name)
    page.js("() => takeoff.setSemantics('eb')")
    dates = page.js("() => takeoff.page.timeline.dates")
    i = len(dates) // 2
    page.page.locator("#timeline").fill(str(i))
    shown = {k: v for k, v in page_strengths(page).items() if v is not None}
    expected = cli_score(run, BUNDLED, "--perspective", name, "--as-of", dates[i], "--semantics", "eb")
    assert_close(shown, expected)


# ---------------------------------------------------------------- keeping a what-if

def make_what_if(page, graph):
    """A perspective, another semantics and two changes (a credence and a weight)."""
    page.js("n => takeoff.setPerspective(n)", perspective_names(BUNDLED)[-1])
    page.js("() => takeoff.setSemantics('dfquad')")
    claim = sorted(n for n, k in graph.nodes(data="kind") if k == "claim")[0]
    source, target = sorted(graph.edges())[3]
    page.js("c => takeoff.setChange(c)", {"kind": "credence", "id": claim, "value": 0.13})
    page.js("c => takeoff.setChange(c)", {"kind": "weight", "source": source, "target": target, "value": 0.27})


def test_the_link_reopens_the_same_what_if(clean, browser):
    page, corpus = clean
    make_what_if(page, corpus.graph)
    url = page.js("() => location.href")
    state = json.loads(urllib.parse.unquote(url.split("#whatif=", 1)[1]))
    assert state["semantics"] == "dfquad" and len(state["credences"]) == 1 and len(state["weights"]) == 1
    strengths = page_strengths(page)
    again = Page(browser, url.split("#")[0] + "#" + url.split("#", 1)[1], viewport=(1280, 720))
    try:
        assert page_strengths(again) == strengths
        assert again.page.locator("#whatif-changes .change").count() == 2
        assert again.page.locator("#semantics").input_value() == "dfquad"
        again.assert_clean()
    finally:
        again.close()
    # A link naming nothing of this map is ignored, not obeyed.
    bad = url.split("#")[0] + "#whatif=" + urllib.parse.quote(json.dumps(
        {"semantics": "<b>", "credences": {"nope": 0.5, "x": "<script>"}, "weights": [[1, 2, 3]], "perspective": "../x"}))
    odd = Page(browser, bad, viewport=(1280, 720))
    try:
        assert odd.js("() => takeoff.whatif.changes.size") == 0
        assert_close(page_strengths(odd), scored(corpus.graph))
        odd.assert_clean()
    finally:
        odd.close()


def test_downloaded_perspective_scores_as_the_page_does(clean, run, tmp_path):
    page, corpus = clean
    make_what_if(page, corpus.graph)
    shown = page_strengths(page)
    with page.page.expect_download() as info:
        page.page.locator("#whatif-download").click()
    download = info.value
    assert download.suggested_filename == "what-if.yaml"
    root = bundled_corpus(tmp_path)
    download.save_as(root / "perspectives" / "what-if.yaml")
    assert run(root, "check").exit_code == 0
    assert_close(shown, cli_score(run, root, "--perspective", "what-if", "--semantics", "dfquad"))
    result = run(root, "perspective", "show", "what-if")
    assert result.exit_code == 0, result.output
    page.assert_clean()


def test_html_command_embeds_the_perspectives_and_opens_with_one(run, browser, tmp_path):
    root = bundled_corpus(tmp_path)
    name = perspective_names(root)[0]
    out = tmp_path / "p.html"
    result = run(root, "html", "-o", out, "--perspective", name)
    assert result.exit_code == 0, result.output
    page = Page(browser, out, viewport=(1280, 720))
    try:
        assert page.page.locator("#perspective").input_value() == name
        assert_close(page_strengths(page), cli_score(run, root, "--perspective", name))
        page.assert_clean()
    finally:
        page.close()
    (root / "perspectives" / "broken.yaml").write_text("credences: [1, 2]\n", encoding="utf-8")
    result = run(root, "html", "-o", out)
    assert result.exit_code == 0 and "broken" in result.stderr
    assert run(root, "html", "-o", out, "--perspective", "broken").exit_code == 1
    assert run(root, "html", "-o", out, "--perspective", "nope").exit_code == 1


# ---------------------------------------------------------------- reading and keyboard

def test_laptop_screen_labels_title_and_ranking(clean):
    page, corpus = clean
    assert page.js("() => document.title") == DEFAULT_TITLE == "Argument map"
    # Takeoff paths are labelled in the first view, at a legible size (vis-network skips a
    # label drawn smaller than the threshold); tests/test_html.py checks every label.
    page.js("() => takeoff.fit()")  # the whole map in view, as the page opens
    page.page.wait_for_function("() => nodes.get().filter(n => n.group === 'model').every(n => n.label)")
    scale = page.js("() => network.getScale()")
    sizes = page.js("() => nodes.get().filter(n => n.group === 'model').map(n => n.label ? n.font.size : 0)")
    assert sizes and all(size * scale >= LABEL_MIN_PX for size in sizes)
    assert page.js("() => network.nodesHandler.options.scaling.label.drawThreshold") == LABEL_MIN_PX
    first = page.page.locator("#ranking .rank").first
    model = first.get_attribute("data-id")
    assert first.locator(".rank-id").inner_text() == model
    assert first.get_attribute("title") == corpus.graph.nodes[model]["title"] + "\n" + model


def test_keyboard_reaches_the_ranking_and_the_panel_and_escape_closes_it(clean):
    page, corpus = clean
    page.page.locator("#search").focus()
    for _ in range(20):
        page.page.keyboard.press("Tab")
        if page.js("() => document.activeElement.classList.contains('rank')"):
            break
    model = page.js("() => document.activeElement.dataset.id")
    assert model in corpus.graph
    page.page.keyboard.press("Enter")
    assert page.js("() => takeoff.state.selected") == model
    assert page.js("() => document.getElementById('panel').contains(document.activeElement)")
    page.page.keyboard.press("Tab")
    page.page.keyboard.press("Escape")
    assert page.page.locator("#panel").is_hidden()
    assert page.js("() => document.activeElement.dataset.id") == model  # back where it was


def test_tooltip_clears_when_the_view_moves(clean):
    page, corpus = clean
    node = next(n for n, k in corpus.graph.nodes(data="kind") if k == "claim")
    tip = page.hover_node(node)
    page.page.mouse.wheel(0, 300)
    tip.wait_for(state="hidden", timeout=2000)


# ---------------------------------------------------------------- safety of the new controls

def test_injection_through_perspectives_and_what_if_controls_runs_nothing(browser, tmp_path):
    from graph.files.perspectives import Perspective

    graph, bad_id = injection_graph()
    evil = Perspective("evil", description=" ".join(INJECTIONS),
                       credences={bad_id: 0.3, "claim-0": 0.9}, weights={(bad_id, "target-model"): 0.5})
    path = tmp_path / "evil.html"
    write_html(path, graph, perspectives=[evil], perspective="evil",
               title="</title><script>window.__pwned='title'</script>")
    page = Page(browser, path)
    try:
        assert page.page.locator("#perspective-description").inner_text() == " ".join(INJECTIONS)
        for node in graph:
            page.js("id => takeoff.goTo(id)", node)
            page.js("id => takeoff.setChange({kind: 'credence', id: id, value: 0.42})", node)
        page.page.locator("#panel .weight-slider").first.focus()
        page.page.keyboard.press("End")
        text = page.page.locator("#whatif-changes").inner_text()
        assert INJECTIONS[1] in text
        yaml_text = page.js("() => takeoff.perspectiveYaml()")
        from ruamel.yaml import YAML

        data = YAML(typ="safe").load(yaml_text)
        assert data["credences"][bad_id] == 0.42
        page.page.locator("#whatif-download").click()
        page.page.mouse.move(5, 5)
        page.page.wait_for_timeout(200)
        assert page.js(INJECTED) == {"pwned": None, "handlers": 0, "embeds": 0, "scripts": 8, "jsLinks": 0}
        page.assert_clean()
    finally:
        page.close()


def test_undated_graph_and_no_perspectives_hide_what_is_not_there(browser, tmp_path):
    graph = layered_graph(n_claims=4, n_evidence=4, n_edges=10)
    for node in graph:
        graph.nodes[node]["date"] = None
    path = tmp_path / "plain.html"
    write_html(path, graph)
    page = Page(browser, path)
    try:
        assert page.page.locator("#perspective-row").is_hidden()
        assert page.page.locator("#timeline-card").is_hidden()
        assert page.page.locator("#whatif-reset").is_disabled()
        assert_close(page_strengths(page), scored(graph))
        page.assert_clean()
    finally:
        page.close()


def test_the_page_counts_a_month_date_from_the_months_last_day_as_python_does(browser, run,
                                                                            tmp_path):
    """A node dated 2025-05 (month precision) is left out as of 2025-05-15 and counts as of
    2025-05-31, in takeoff.score as in `takeoff score --as-of`."""

    root = tmp_path / "claims"
    write_node(root, "m", "---\nkind: model\ntitle: A path\n---\n")
    for node, date in (("may", "2025-05"), ("feb", "2024-02"), ("day", "2025-05-10")):
        write_node(root, node, f"---\nkind: evidence\ntitle: {node}\ncredence: 0.9\n"
                               f"date: {date}\nsupports:\n  - target: m\n---\n")
    graph = Corpus.load(root).require_valid().graph
    path = tmp_path / "dates.html"
    write_html(path, graph)
    page = Page(browser, path)
    try:
        for day, left_out in (("2025-05-15", {"may"}), ("2025-05-31", set()),
                              ("2024-02-28", {"may", "day", "feb"}), ("2024-02-29", {"may", "day"})):
            shown = page.js("d => takeoff.score({asOf: d}).strengths", day)
            assert {k for k, v in shown.items() if v is None} == left_out, day
            assert_close({k: v for k, v in shown.items() if v is not None},
                         cli_score(run, root, "--as-of", day))
    finally:
        page.close()


@pytest.fixture
def month_page(browser, tmp_path):
    """A page with a timeline over nodes dated to the month (2025-05, 2024-02) and the day."""
    from helpers import write_node

    root = tmp_path / "claims"
    write_node(root, "m", "---\nkind: model\ntitle: A path\n---\n")
    for node, date in (("may", "2025-05"), ("feb", "2024-02"), ("day", "2025-05-10")):
        write_node(root, node, f"---\nkind: evidence\ntitle: {node}\ncredence: 0.9\n"
                               f"date: {date}\nsupports:\n  - target: m\n---\n")
    graph = Corpus.load(root).require_valid().graph
    path = tmp_path / "dates.html"
    write_html(path, graph, sections=True, as_of=datetime.date(2025, 6, 30))
    page = Page(browser, path)
    yield page, root
    page.close()


def test_the_date_slider_leaves_a_month_dated_node_out_as_as_of_does(month_page, run):
    """Every step of the date slider shows what `--as-of` of that step's date scores: the node
    dated 2025-05 is out on 2025-04-30 and in on 2025-05-31."""
    page, root = month_page
    dates = page.js("() => takeoff.page.timeline.dates")
    assert "2025-04-30" in dates and "2025-05-31" in dates
    for i, day in enumerate(dates[:-1]):
        page.page.locator("#timeline").fill(str(i))
        assert page.js("() => takeoff.state.asOfDay") == day
        shown = page_strengths(page)
        expected = cli_score(run, root, "--as-of", day)
        assert {k for k, v in shown.items() if v is None} == set(shown) - set(expected), day
        assert_close({k: v for k, v in shown.items() if v is not None}, expected)
        assert ("may" in expected) == (day >= "2025-05-31"), day


def test_takeoff_score_reads_as_of_as_the_command_line_does(month_page, run):
    """`asOf: "2025-05"` means the month's last day, as `--as-of 2025-05`; it was compared as text,
    so the node dated 2025-05-10 was left out. A date `--as-of` refuses throws, naming it."""
    page, root = month_page
    shown = page.js("() => takeoff.score({asOf: '2025-05'}).strengths")
    expected = cli_score(run, root, "--as-of", "2025-05")
    assert {k for k, v in shown.items() if v is None} == set(shown) - set(expected) == set()
    assert_close(shown, expected)
    for bad in ("2025-5-15", "May 2025", "2025-02-30", "2025-13", ""):
        assert run(root, "score", "--as-of", bad).exit_code != 0
        error = page.js("d => { try { takeoff.score({asOf: d}); return null; } catch (e) { return e.message; } }", bad)
        assert error and "is not an ISO date" in error, (bad, error)
