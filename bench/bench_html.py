"""Benchmark: the HTML map of a generated corpus (default 5,000 nodes and 10,000 edges).

Run: python bench/bench_html.py [--nodes 5000] [--edges 10000] [--runs 3] [--no-browser]
                                [--no-command] [--changes 20] [--json]
     python bench/bench_html.py --whatif-only     (only item 5 below, on the 5,000-node page)
     (the docs' pictures of the map: python docs/screenshots.py; how quickly the page answers
     a click, a slider or a move of the view: python bench/bench_page.py)

What is timed (best of --runs, except the browser: median, each run a fresh page):

1. generation in Python on the loaded graph, phase by phase: ``score_graph``,
   ``page_sections`` (the timeline replay; "why" is not computed above 300 nodes),
   ``render_html``, and ``write_html`` as a whole (all of these plus the atomic write: what
   ``takeoff html`` does once the corpus is loaded);
2. the peer: pyvis used the way its documentation shows, ``Network.add_node``/``add_edge`` for
   every node and edge (same labels, tooltips, colours), then ``generate_html``;
3. the whole command ``takeoff --corpus DIR html -o FILE`` in a fresh process: start-up,
   imports, reading and validating the node files, scoring, the page (and, for reference,
   ``Corpus.load`` of those files on its own);
4. the first draw in headless Chromium (Debian's /usr/bin/chromium driven by playwright): the
   page's own milestones, in ms since navigation start, read from ``window.takeoffTimings``
   (script start, data parsed, vis-network built, first ``afterDrawing``);
5. the what-if in Chromium: with the side panel open on a claim (the view zoomed to it, as a
   click on a node leaves it), --changes moves of its credence slider, each timed from the
   slider's ``input`` event to the end of the redraw it causes (the next ``afterDrawing``):
   the page's solver re-scores the whole graph, the changed nodes and edges are updated in the
   vis DataSets, and the ranking, panel and link follow. Median and worst; also the re-score
   alone (solve + DataSet updates + side panel, before the frame is drawn).

The generated corpus is layered like the bundled one: 2% models, 38% claims, 60% evidence
(dated 2019-2025, each with a source), evidence -> claims -> models plus claim -> claim edges,
30% of them undermines, and a Markdown annotation of about 300 characters on every node.
"""
import argparse
import datetime
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph.page.html import page_sections, render_html, write_html  # noqa: E402
from graph.solving.propagation import score_graph  # noqa: E402
from timing import best_of  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
TAGS = ["compute", "automation", "hardware", "algorithms", "economics", "policy", "rl",
        "agents", "benchmarks", "forecasting", "robotics", "generalisation"]
BODY = ("Observation {i}: a **{tag}** result that bears on how fast AI research could speed "
        "itself up. The [write-up](https://example.org/{i}) reports the numbers; the caveats in "
        "its appendix matter, since *preview* results often overstate what ships.\n\n"
        "A second paragraph with context, a `code span` and a list:\n\n- first point\n- second point\n")


def generated_graph(n_nodes=5000, n_edges=10000, seed=1):
    """A layered argument graph with the corpus attributes (see the module docstring)."""
    rng = random.Random(seed)
    n_models = max(3, n_nodes // 50)
    n_claims = n_nodes * 38 // 100
    kinds = {"model": n_models, "claim": n_claims, "evidence": n_nodes - n_models - n_claims}
    ids = {kind: [f"{kind}-{i}" for i in range(n)] for kind, n in kinds.items()}
    graph = nx.MultiDiGraph()
    start = datetime.date(2019, 1, 1)
    for kind, names in ids.items():
        for i, name in enumerate(names):
            tag = rng.choice(TAGS)
            date = start + datetime.timedelta(days=rng.randrange(7 * 365)) if kind == "evidence" else None
            graph.add_node(name, kind=kind, title=f"{kind.title()} {i}: {tag} and the pace of AI progress",
                           credence=round(rng.uniform(0.2, 0.95), 2), date=date,
                           tags=sorted({tag, rng.choice(TAGS)}),
                           sources=[{"url": f"https://example.org/{name}", "title": f"Report {i}",
                                     "quote": "a short quote from the source", "date": date}]
                           if kind == "evidence" else [],
                           body=BODY.format(i=i, tag=tag), path=None)
    claims = ids["claim"]
    count = 0  # graph.number_of_edges() walks every node: counting here keeps this linear
    while count < n_edges:
        roll = rng.random()
        if roll < 0.5:
            source, target = rng.choice(ids["evidence"]), rng.choice(claims)
        elif roll < 0.8:
            source, target = rng.choice(claims), rng.choice(ids["model"])
        else:  # mostly towards later claims, so the claim layer has depth and a few cycles
            a, b = sorted(rng.sample(range(len(claims)), 2))
            if rng.random() < 0.03:  # a few backward edges close cycles
                a, b = b, a
            source, target = claims[a], claims[b]
        if source == target or graph.has_edge(source, target):
            continue
        relation = "supports" if rng.random() < 0.7 else "undermines"
        graph.add_edge(source, target, key=relation, relation=relation,
                       weight=round(rng.uniform(0.1, 1.0), 2), note=f"why {source} bears on {target}")
        count += 1
    return graph


def pyvis_peer(graph, result):
    """pyvis as documented: add_node/add_edge one by one (each checks duplicates in a list)."""
    from pyvis.network import Network

    net = Network(directed=True, cdn_resources="in_line")
    for node, data in graph.nodes(data=True):
        net.add_node(node, label=data["title"][:56], title=data["title"], group=data["kind"],
                     size=8 + 22 * result.strengths[node])
    for source, target, data in graph.edges(data=True):
        net.add_edge(source, target, title=data["note"], width=1 + 4 * data["weight"],
                     color="#2a9d56" if data["relation"] == "supports" else "#d64541")
    return net.generate_html()


def write_corpus(graph, folder):
    """The graph as node files (front matter in the tool's key order, written with PyYAML:
    graph.files.edit's round-trip writer would take minutes for 5,000 files)."""
    import yaml

    class Dumper(yaml.CSafeDumper):
        def ignore_aliases(self, data):  # a date shared with a source is written twice, not as
            return True                  # a YAML anchor and alias, which the corpus refuses

    for node, attrs in graph.nodes(data=True):
        front = {"kind": attrs["kind"], "title": attrs["title"], "credence": attrs["credence"]}
        if attrs["date"]:
            front["date"] = attrs["date"]
        front["tags"] = attrs["tags"]
        if attrs["sources"]:
            front["sources"] = [{k: v for k, v in s.items() if v is not None} for s in attrs["sources"]]
        for relation in ("supports", "undermines"):
            edges = [{"target": t, "weight": e["weight"], "note": e["note"]}
                     for _, t, e in graph.out_edges(node, data=True) if e["relation"] == relation]
            if edges:
                front[relation] = edges
        sub = Path(folder) / f"{attrs['kind']}s"
        sub.mkdir(parents=True, exist_ok=True)
        text = "---\n" + yaml.dump(front, Dumper=Dumper, sort_keys=False, allow_unicode=True) + "---\n" + attrs["body"]
        (sub / f"{node}.md").write_text(text, encoding="utf-8")


def command_time(corpus, out, runs):
    def once():
        subprocess.run([sys.executable, "-c", "import cli; cli.main()", "--corpus", str(corpus),
                        "html", "-o", str(out)], check=True, cwd=ROOT, capture_output=True)
    return best_of(once, runs)[0]


def first_draw(path, runs):
    from playwright.sync_api import sync_playwright

    timings = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            offsite = []
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                       else (offsite.append(r.request.url), r.abort()))
            page.goto(Path(path).as_uri())
            page.wait_for_function("() => window.takeoffTimings && window.takeoffTimings.firstDraw",
                                   timeout=120_000)
            timing = page.evaluate("() => window.takeoffTimings")
            timing["drawn"] = page.evaluate("() => Object.keys(network.getPositions()).length")
            timing["offsite_requests"] = len(offsite)
            timings.append(timing)
            page.close()
        browser.close()
    return timings


WHATIF_CHANGES = """async n => {
    const slider = document.getElementById('credence-slider');
    const out = [];
    for (let i = 0; i < n; i++) {
        const drawn = new Promise(resolve => network.once('afterDrawing', resolve));
        const start = performance.now();
        slider.value = String(Math.round((0.05 + 0.9 * ((i * 7) % n) / n) * 100) / 100);
        slider.dispatchEvent(new Event('input'));
        const scored = performance.now() - start;
        await Promise.race([drawn, new Promise(resolve => setTimeout(resolve, 5000))]);
        out.push({scored: scored, drawn: performance.now() - start, nodes: takeoffTimings.rescore.nodes});
        await new Promise(resolve => setTimeout(resolve, 30));
    }
    return out;
}"""


def whatif_timing(path, changes):
    """Item 5 of the module docstring: [{scored, drawn (ms), nodes (updated)}] per change."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(Path(path).as_uri())
        page.wait_for_function("() => window.takeoffFirstDraw !== undefined", timeout=120_000)
        # The claim with the most edges: its change reaches the most nodes.
        node = page.evaluate("""() => takeoff.page.details && Object.keys(takeoff.page.details)
            .filter(id => takeoff.page.details[id].kind === 'claim')
            .map(id => [id, edges.get({filter: e => e.from === id || e.to === id}).length])
            .sort((a, b) => b[1] - a[1])[0][0]""")
        page.evaluate("id => takeoff.goTo(id)", node)
        page.wait_for_timeout(1000)
        runs = page.evaluate(WHATIF_CHANGES, changes)
        browser.close()
    return node, runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--edges", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true", help="Skip the Chromium first draw.")
    parser.add_argument("--no-command", action="store_true", help="Skip the end-to-end command.")
    parser.add_argument("--changes", type=int, default=20, help="Slider moves timed in the what-if.")
    parser.add_argument("--whatif-only", action="store_true", help="Only time the what-if (item 5).")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = parser.parse_args()

    graph = generated_graph(args.nodes, args.edges)
    figures = {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()}
    if args.whatif_only:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "map.html"
            write_html(out, graph)
            print_whatif(figures, *whatif_timing(out, args.changes), as_json=args.json)
        return
    figures["score_s"], result = best_of(lambda: score_graph(graph, "qe"), args.runs)
    figures["sections_s"], sections = best_of(lambda: page_sections(graph, result), args.runs)
    figures["render_s"], page = best_of(lambda: render_html(graph, result, extra=sections), args.runs)
    figures["page_mb"] = round(len(page.encode("utf-8")) / 1e6, 2)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "map.html"
        figures["write_html_s"], _ = best_of(lambda: write_html(out, graph), args.runs)
        figures["pyvis_add_node_s"], _ = best_of(lambda: pyvis_peer(graph, result), 1)
        if not args.no_command:
            from graph.files.corpus import Corpus

            corpus = Path(tmp) / "claims"
            write_corpus(graph, corpus)
            figures["load_s"], _ = best_of(lambda: Corpus.load(corpus).require_valid(), args.runs)
            figures["command_s"] = command_time(corpus, Path(tmp) / "cmd.html", args.runs)
        if not args.no_browser:
            runs = first_draw(out, args.runs)
            figures["first_draw_ms"] = statistics.median(t["firstDraw"] for t in runs)
            figures["browser_runs"] = runs
            node, changes = whatif_timing(out, args.changes)
    if not args.no_browser:
        whatif_figures(figures, node, changes)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{figures['nodes']} nodes, {figures['edges']} edges; page {figures['page_mb']} MB")
    for key, label in (("score_s", "score_graph (qe)"), ("sections_s", "page_sections (timeline)"),
                       ("render_s", "render_html"), ("write_html_s", "write_html (all of it)"),
                       ("pyvis_add_node_s", "peer: pyvis add_node/add_edge + generate_html"),
                       ("load_s", "Corpus.load of the 5,000 files (for reference)"),
                       ("command_s", "takeoff html, fresh process, from the files")):
        if key in figures:
            print(f"  {label:48s} {figures[key]:6.2f} s")
    if "first_draw_ms" in figures:
        print(f"  {'first draw in Chromium (median)':48s} {figures['first_draw_ms'] / 1000:6.2f} s")
        for t in figures["browser_runs"]:
            print("    " + ", ".join(f"{k} {v:.0f}" for k, v in t.items()))
    if "whatif_median_ms" in figures:
        print_whatif(figures)


def whatif_figures(figures, node, changes):
    figures["whatif_node"] = node
    figures["whatif_median_ms"] = round(statistics.median(c["drawn"] for c in changes), 1)
    figures["whatif_max_ms"] = round(max(c["drawn"] for c in changes), 1)
    figures["whatif_rescore_median_ms"] = round(statistics.median(c["scored"] for c in changes), 1)
    figures["whatif_nodes_updated_median"] = statistics.median(c["nodes"] for c in changes)
    figures["whatif_changes"] = len(changes)


def print_whatif(figures, node=None, changes=None, as_json=False):
    if changes is not None:
        whatif_figures(figures, node, changes)
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    print(f"what-if on {figures['nodes']} nodes / {figures['edges']} edges, {figures['whatif_changes']} "
          f"moves of the credence slider of {figures['whatif_node']}:")
    print(f"  {'slider input to redrawn (median / worst)':48s} {figures['whatif_median_ms']:6.1f} / "
          f"{figures['whatif_max_ms']:.1f} ms")
    print(f"  {'re-score + DataSet updates alone (median)':48s} {figures['whatif_rescore_median_ms']:6.1f} ms "
          f"({figures['whatif_nodes_updated_median']:g} nodes updated)")


if __name__ == "__main__":
    main()
