"""What the tests share, in one module: paths, corpus files written for a test, graphs built
in memory (for round trips and for the page), and a page opened in the real headless Chromium.
Fixtures live in conftest.py (which uses these); a test module imports its helpers from here,
never from another test module."""
import datetime as dt
import json
import random
import textwrap
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import strategies as st

from graph.page.html import write_html
from graph.core.model import KINDS
from graph.files.corpus import Corpus
from graph.files.perspectives import load_perspective, perspective_names

REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "claims"


# ---- corpus files ----------------------------------------------------------------------------

def write_node(folder, node_id, text):
    """Write ``folder/node_id.md`` from dedented text; returns its path."""
    path = Path(folder) / f"{node_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def snapshot(folder):
    """Every file below ``folder`` with its bytes (to prove that nothing was written); the load
    cache (``.takeoff/``) is not part of the corpus."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()
            and p.name != ".takeoff.lock" and ".takeoff" not in p.relative_to(folder).parts}


SOURCES = """
[sources.essay]
title = "What is recursive self-improvement?"
url = "https://example.org/essay"
author = "A. Writer"
date = "2025-06-01"

[sources.notes]
title = "Research notes"
"""


def make_sourced(folder):
    """Evidence e1 (an observation) and e2 (a forecast) support claim c1; c1 supports model m1
    (the essay's edge), c2 undermines m1 (the editor's), and m2 is supported by e2 (notes).
    Returns the corpus folder (``folder/claims``)."""
    root = folder / "claims"
    root.mkdir()
    (root / "takeoff.toml").write_text('title = "t"\n' + SOURCES, encoding="utf-8")
    write_node(root, "m1", "---\nkind: model\ntitle: Path one\n---\n")
    write_node(root, "m2", "---\nkind: model\ntitle: Path two\n---\n")
    write_node(root, "c1", """
        ---
        kind: claim
        title: A claim
        supports:
          - target: m1
            weight: 0.8
            note: because
            from: essay
            quote: "the words of the essay"
        ---
        """)
    write_node(root, "c2", """
        ---
        kind: claim
        title: Another claim
        undermines:
          - target: m1
            from: editor
        ---
        """)
    write_node(root, "e1", """
        ---
        kind: evidence
        evidence_kind: observation
        title: A measurement
        credence: 0.9
        date: 2025-05-14
        supports:
          - target: c1
            weight: 0.5
            from: notes
        ---
        """)
    write_node(root, "e2", """
        ---
        kind: evidence
        evidence_kind: forecast
        title: A model's output
        credence: 0.8
        date: 2025-07-01
        supports:
          - target: c1
            weight: 0.4
            from: essay
          - target: m2
            weight: 0.6
            from: notes
        ---
        """)
    return root


# ---- corpus graphs, as the loader builds them (round trips) --------------------------------

def node(G, node_id, kind="claim", title=None, credence=0.5, date=None, tags=(), sources=(), body=""):
    G.add_node(node_id, kind=kind, title=title or node_id.title(), credence=credence, date=date,
               tags=list(tags), sources=list(sources), body=body)


def edge(G, source, target, relation="supports", weight=1.0, note=""):
    G.add_edge(source, target, key=relation, relation=relation, weight=weight, note=note)


def full_graph():
    """Every optional field, Unicode, quotes and multi-line text."""
    G = nx.MultiDiGraph()
    node(G, "fast-takeoff", "model", 'Fast takeoff: "FOOM" — über-schnell', 0.3,
         tags=["rsi", "speed", "rsi"], body='A model.\n\nWith "quotes" and ünïcode 🚀\n')
    node(G, "alpha-evolve", "evidence", "AlphaEvolve recovers 0.7% of Google's compute", 0.9,
         date=dt.date(2025, 5, 14),
         sources=[{"url": "https://deepmind.google/x?a=1&b=2#frag", "title": "Blog «post»",
                   "quote": 'we "recovered"\nsecond line', "date": dt.date(2025, 5, 14)},
                  {"url": "https://example.org/second", "date": None}])
    node(G, "loops", "claim", "Loops closed", 1e-20, date=dt.date(1999, 12, 31))
    node(G, "naive", "claim", "Naive RLVR", 1.0)
    edge(G, "alpha-evolve", "loops", "supports", 0.8, "why\nit matters")
    edge(G, "loops", "fast-takeoff", "supports", 1.0)
    edge(G, "naive", "fast-takeoff", "undermines", 2.5e-7, 'a "note"')
    return G


def argument_graph():
    """Two premises support an argument that supports its conclusion; a statement undercuts
    the argument; a sketched con argument undermines the conclusion."""
    G = nx.MultiDiGraph()
    node(G, "p1", "evidence", "Task length doubles every 7 months", 0.8, date=dt.date(2025, 3, 1))
    node(G, "p2", "claim", "Research is mostly coding", 0.6)
    node(G, "inference", "argument", "Scaling inference", 0.7, tags=["pcs"])
    node(G, "c", "model", "AI research automates itself by 2030", 0.3)
    node(G, "doubt", "claim", "Past trends may not extrapolate", 0.5)
    node(G, "con", "argument", "The compute objection", 0.5)
    edge(G, "p1", "inference", "supports", 1.0)
    edge(G, "p2", "inference", "supports", 0.5, "only partly")
    edge(G, "inference", "c", "supports", 1.0, "Modus ponens")
    edge(G, "doubt", "inference", "undermines", 1.0)
    edge(G, "con", "c", "undermines", 0.8)
    return G


def attrs_of(G):
    return {n: {k: v for k, v in d.items() if k != "path"} for n, d in G.nodes(data=True)}


def assert_same_graph(G, H):
    assert attrs_of(G) == attrs_of(H)
    assert sorted(G.edges(keys=True, data=True)) == sorted(H.edges(keys=True, data=True))

# Hypothesis: corpora with every optional field, Unicode (no control characters or surrogates),
# quotes and multi-line text.
TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\r"),
               max_size=30)
LINES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00",
                              whitelist_characters="\n"), max_size=60)
TITLE = TEXT.filter(lambda t: t.strip())
SLUG = st.from_regex(r"[a-z0-9]{1,6}(-[a-z0-9]{1,4}){0,2}", fullmatch=True)
UNIT = st.floats(0, 1, allow_nan=False)
WEIGHT = st.floats(0, 1, exclude_min=True, allow_nan=False)
DATE = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(2999, 12, 31))
SOURCE = st.fixed_dictionaries(
    {"url": st.from_regex(r"https://[a-z]{1,8}\.org/[a-zA-Z0-9_~%/.-]{0,12}(\?q=[a-z&=]{0,5})?",
                          fullmatch=True),
     "date": st.none() | DATE},
    optional={"title": TEXT, "quote": LINES})


@st.composite
def corpora(draw, text=TEXT, lines=LINES, title=TITLE, unit=UNIT, weight=WEIGHT, max_nodes=6):
    ids = draw(st.lists(SLUG, min_size=1, max_size=max_nodes, unique=True))
    G = nx.MultiDiGraph()
    for node_id in ids:
        kind = draw(st.sampled_from(KINDS))
        date = draw(DATE) if kind == "evidence" else draw(st.none() | DATE)
        node(G, node_id, kind, draw(title), draw(unit), date,
             draw(st.lists(text.filter(lambda t: t.strip()), max_size=3)),
             draw(st.lists(SOURCE, max_size=2)), draw(lines))
    pairs = [(a, b) for a in ids for b in ids if a != b]
    for source, target in draw(st.lists(st.sampled_from(pairs), unique=True, max_size=8)) if pairs else []:
        edge(G, source, target, draw(st.sampled_from(["supports", "undermines"])), draw(weight),
             draw(st.sampled_from(["", "because"]) | lines))
    return G


# ---- graphs for the page ---------------------------------------------------------------------

def add_node(graph, node_id, kind="claim", title=None, **attrs):
    """A node with every attribute the page reads (``path`` too), defaults for those not given."""
    data = {"kind": kind, "title": title or f"Title of {node_id}", "credence": 0.5, "date": None,
            "tags": [], "sources": [], "body": "", "path": None}
    data.update(attrs)
    graph.add_node(node_id, **data)


def add_edge(graph, source, target, relation="supports", weight=1.0, note=""):
    graph.add_edge(source, target, key=relation, relation=relation, weight=weight, note=note)


def layered_graph(n_models=3, n_claims=20, n_evidence=30, n_edges=90, seed=7):
    """A random argument graph: evidence -> claims -> models, plus claim -> claim edges."""
    rnd = random.Random(seed)
    graph = nx.MultiDiGraph()
    ids = {kind: [f"{kind}-{i}" for i in range(n)] for kind, n in
           (("model", n_models), ("claim", n_claims), ("evidence", n_evidence))}
    for kind, names in ids.items():
        for name in names:
            add_node(graph, name, kind, credence=round(rnd.random(), 2),
                     tags=[rnd.choice(["compute", "rl", "hardware"])],
                     date=dt.date(2024, 1 + rnd.randrange(12), 1) if kind == "evidence" else None)
    count = 0  # (graph.number_of_edges() walks every node: 5,000 nodes would take minutes)
    while count < n_edges:
        roll = rnd.random()
        pool = (("evidence", "claim") if roll < 0.5 else ("claim", "model") if roll < 0.8
                else ("claim", "claim"))
        source, target = rnd.choice(ids[pool[0]]), rnd.choice(ids[pool[1]])
        if source != target and not graph.has_edge(source, target):
            add_edge(graph, source, target, rnd.choice(["supports", "undermines"]),
                     round(rnd.uniform(0.1, 1), 2))
            count += 1
    return graph


INJECTIONS = [
    "<script>window.__pwned = 'script'</script>",
    '<img src=x onerror="window.__pwned=\'img\'">',
    '"><svg onload="window.__pwned=\'svg\'">',
    "</script><script>window.__pwned='close'</script>",
    "<!--<script>window.__pwned='comment'</script>",
    '<a href="javascript:window.__pwned=\'href\'">href</a>',
    "\u2028\u2029 line separators </SCRIPT >",
    "{{ 7*7 }} {% raw %}",
]


def injection_graph():
    """Every string a corpus could hold is a payload; ids too (an imported graph is not slugged)."""
    graph = nx.MultiDiGraph()
    bad_id = '"><img src=x onerror="window.__pwned=\'id\'">'
    add_node(graph, "target-model", "model", title="href: " + INJECTIONS[5], tags=INJECTIONS[:2],
             body="\n\n".join(INJECTIONS) + "\n\n[click](javascript:window.__pwned='md')"
                  "\n\n<javascript:window.__pwned='auto'>\n\n![x](javascript:window.__pwned='img2')")
    add_node(graph, bad_id, "evidence", title=INJECTIONS[1], date=dt.date(2025, 1, 1),
             tags=INJECTIONS[2:4],
             sources=[{"url": "javascript:window.__pwned='src'", "title": INJECTIONS[0],
                       "quote": INJECTIONS[1], "date": None},
                      {"url": "https://example.org/ok", "title": "href=" + INJECTIONS[3],
                       "quote": INJECTIONS[4], "date": dt.date(2025, 1, 2)}])
    for i, text in enumerate(INJECTIONS):
        add_node(graph, f"claim-{i}", "claim", title=text, tags=[text], body=text)
        add_edge(graph, f"claim-{i}", "target-model", "supports" if i % 2 else "undermines", 0.5, note=text)
    add_edge(graph, bad_id, "target-model", "supports", 1.0, note=INJECTIONS[0])
    return graph, bad_id


# ---- the page in a real headless Chromium ------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def chromium_or_skip():
    """playwright's ``sync_playwright``, or a skip naming what is missing (a failure under CI=true)."""
    if not CHROMIUM.exists():
        pytest.skip("no browser: Debian's chromium is not installed at /usr/bin/chromium "
                    "(apt-get install chromium; .ci/run does it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("no browser driver: the playwright package is missing (pip install playwright)")
    return sync_playwright


class Page:
    """A page opened from file:// that records console errors, dialogs and outside requests."""

    def __init__(self, browser, path, viewport=(1400, 900)):
        self.errors, self.dialogs, self.requests = [], [], []
        self.context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        self.page = page = self.context.new_page()
        page.on("console", lambda m: m.type in ("error", "warning") and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", self._dialog)
        page.route("**/*", self._route)
        page.goto(path if str(path).startswith("file:") else Path(path).absolute().as_uri())
        page.wait_for_function("() => window.takeoffFirstDraw !== undefined", timeout=60_000)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route):
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()

    def js(self, expression, arg=None):
        return self.page.evaluate(expression, arg)

    def node_point(self, node_id, wait=150):
        """The node brought into view, and where on the screen the canvas draws it."""
        self.js("id => network.focus(id, {scale: 1.6, animation: false})", node_id)
        self.page.wait_for_timeout(wait)
        return self.js("""id => { const p = network.getPositions([id])[id]; const d = network.canvasToDOM(p);
                              const r = document.getElementById('network').getBoundingClientRect();
                              return [r.left + d.x, r.top + d.y]; }""", node_id)

    def click_node(self, node_id):
        """A real mouse click on the node where the canvas draws it."""
        self.page.mouse.click(*self.node_point(node_id))

    def hover_node(self, node_id):
        """The mouse moved onto the node; returns its tooltip, once visible."""
        x, y = self.node_point(node_id, wait=100)
        self.page.mouse.move(x - 3, y - 3)
        self.page.mouse.move(x, y)
        tip = self.page.locator("div.vis-tooltip")
        tip.wait_for(state="visible")
        return tip

    def visible_nodes(self):
        return set(self.js("() => nodes.get().filter(n => !n.hidden).map(n => n.id)"))

    def visible_edges(self):
        return self.js("() => edges.get().filter(e => !e.hidden).map(e => [e.from, e.to])")

    def close(self):
        self.context.close()

    def assert_clean(self):
        assert self.errors == [], self.errors
        assert self.requests == [], self.requests
        assert self.dialogs == [], self.dialogs


# What an injected payload would leave in the page: each count must stay 0 (scripts: the page's own).
INJECTED = """() => ({
    pwned: window.__pwned === undefined ? null : String(window.__pwned),
    handlers: document.querySelectorAll('[onerror],[onload],[onclick],[onmouseover],[onfocus]').length,
    embeds: document.querySelectorAll('img,iframe,object,embed,frame,base,form,meta[http-equiv=refresh]').length,
    scripts: document.querySelectorAll('script').length,
    jsLinks: Array.from(document.querySelectorAll('a[href]')).filter(a => !/^(https?:|mailto:)/i.test(a.getAttribute('href'))).length,
})"""


def bundled_page_path(tmp_path):
    """The bundled corpus's page with its perspectives, written in ``tmp_path``; (path, corpus)."""
    corpus = Corpus.load(BUNDLED).require_valid()
    path = tmp_path / "map.html"
    perspectives = [load_perspective(corpus, name) for name in perspective_names(BUNDLED)]
    write_html(path, corpus.graph, perspectives=perspectives)
    return path, corpus


def page_strengths(page):
    """Every node's strength as the page's own solver computes it."""
    return page.js("() => Object.fromEntries(Object.keys(takeoff.page.details).map(id => [id, takeoff.strengthOf(id)]))")


def cli_score(run, root, *args):
    """Every node's strength as ``takeoff score --all --json`` prints it."""
    result = run(root, "score", "--all", "--json", *args)
    assert result.exit_code == 0, result.output
    return {k: v["strength"] for k, v in json.loads(result.stdout)["nodes"].items()}
